-- Migration 0030_branch_totals (MariaDB/MySQL): the dashboard's school and branch population counts
-- (issue 13; app/dao/stats.py says what every column means). One row per student branch (0 = none):
-- active student accounts, those of them with an active or in-progress enrolment (learning) and with a
-- completed one, and the enrolment requests pending and approved (by the requesting student's branch).
-- The admin dashboard sums the rows, a staff member's reads their branch's row.
-- No foreign keys: the rows are derived and replaced whole at each refresh (flask refresh-stats).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS stat_branch_totals (
    branch_id          INT NOT NULL PRIMARY KEY,
    active_students    INT NOT NULL DEFAULT 0,
    learning_students  INT NOT NULL DEFAULT 0,
    completed_students INT NOT NULL DEFAULT 0,
    pending_requests   INT NOT NULL DEFAULT 0,
    approved_requests  INT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
