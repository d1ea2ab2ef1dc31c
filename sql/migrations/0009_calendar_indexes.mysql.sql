-- Migration 0009_calendar_indexes (MariaDB/MySQL): the index the chain-scale scheduling
-- benchmark asked for (issue 7, bench/scheduling.py, bench/README.md).
--
-- idx_schedule_branch_date: a branch's events by date and time, with the status, for the
-- branch's calendar feed (GET /api/schedules?branch_id=&start=&end=, the day view's data
-- through the API) and the branch's upcoming-lesson count (BranchDAO.counts). At 4,000,000
-- lessons the feed of one branch-day was an index_merge of idx_schedule_date and
-- fk_schedule_branch (22 ms of SQL) and the count read 220,000 rows through
-- fk_schedule_branch (200 ms); with this index the feed reads the day's 237 rows in order
-- and the count reads the index alone (about 25 ms).
-- It leads with branch_id, so InnoDB drops its generated FK index fk_schedule_branch. A
-- database restored from a dump has that as an explicit key, which InnoDB keeps: drop it
-- so every upgraded database ends up like one initialised from sql/database.sql (as 0003
-- and 0008 do for theirs).
-- Re-runnable: CREATE INDEX IF NOT EXISTS, DROP INDEX IF EXISTS.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE INDEX IF NOT EXISTS idx_schedule_branch_date ON schedules(branch_id, scheduled_date, start_time, status);
DROP INDEX IF EXISTS fk_schedule_branch ON schedules;
