-- Migration 0025_dashboard_indexes (SQLite): the index the role dashboards read through (issue 13;
-- app/dao/dashboard.py): a branch's lessons still scheduled by date and end time, so that the
-- "awaiting an outcome" count of one branch reads that branch's past scheduled lessons only, not its
-- whole history (idx_schedule_branch_date leads with the date). The same name on both databases.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE INDEX IF NOT EXISTS idx_schedule_branch_status_date ON schedules(branch_id, status, scheduled_date, end_time);
