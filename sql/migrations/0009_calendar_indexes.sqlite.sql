-- Migration 0009_calendar_indexes (SQLite): the index the chain-scale scheduling benchmark
-- asked for (issue 7, bench/scheduling.py, bench/README.md).
--
-- idx_schedule_branch_date: a branch's events by date and time, with the status, for the
-- branch's calendar feed (GET /api/schedules?branch_id=&start=&end=) and the branch's
-- upcoming-lesson count (BranchDAO.counts). fk_schedule_branch is dropped as InnoDB drops
-- its generated FK index once an index leads with branch_id, so both databases keep the
-- same index names (tests/schema_test.py); the new index serves the foreign key instead.
-- The runner applies this once, in one transaction with its ledger row.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE INDEX IF NOT EXISTS idx_schedule_branch_date ON schedules(branch_id, scheduled_date, start_time, status);
DROP INDEX IF EXISTS fk_schedule_branch;
