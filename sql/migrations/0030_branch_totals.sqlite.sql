-- Migration 0030_branch_totals (SQLite): the dashboard's school and branch population counts
-- (issue 13; app/dao/stats.py says what every column means). One row per student branch (0 = none):
-- active student accounts, those of them learning (active or in-progress enrolment) and completed,
-- and the enrolment requests pending and approved (by the requesting student's branch).
-- No foreign keys: the rows are derived and replaced whole at each refresh (flask refresh-stats).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS stat_branch_totals (
    branch_id          INTEGER NOT NULL PRIMARY KEY,
    active_students    INTEGER NOT NULL DEFAULT 0,
    learning_students  INTEGER NOT NULL DEFAULT 0,
    completed_students INTEGER NOT NULL DEFAULT 0,
    pending_requests   INTEGER NOT NULL DEFAULT 0,
    approved_requests  INTEGER NOT NULL DEFAULT 0
);
