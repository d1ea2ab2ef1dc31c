-- Migration 0010_rating_scale (SQLite): lesson ratings move from the PHP system's 0-10 to
-- Origin's 1-5 (issue 7); see the MariaDB twin for the mapping. Integer division in SQLite.
UPDATE schedules SET student_rating = MIN(5, MAX(1, (student_rating + 1) / 2)) WHERE student_rating IS NOT NULL;
