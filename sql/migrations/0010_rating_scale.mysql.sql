-- Migration 0010_rating_scale (MariaDB/MySQL): lesson ratings move from the PHP system's 0-10 to
-- Origin's 1-5 (issue 7: the outcome service takes a whole number from 1 to 5).
-- A PHP-era rating r becomes GREATEST(1, (r + 1) DIV 2): 0-2 -> 1, 3-4 -> 2, 5-6 -> 3, 7-8 -> 4,
-- 9-10 -> 5, so "7/10" reads "4 / 5"; anything above 10 (the PHP API clamped to 10) becomes 5.
-- NULL stays NULL. It runs once (the migration ledger), before any 1-5 rating can exist: a
-- database initialised from sql/database.sql is stamped with it and never converted.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

UPDATE schedules SET student_rating = LEAST(5, GREATEST(1, (student_rating + 1) DIV 2)) WHERE student_rating IS NOT NULL;
