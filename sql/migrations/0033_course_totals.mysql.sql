-- Migration 0033_course_totals (MariaDB/MySQL): the course list's "active students" per course (issue 13):
-- enrolments active or in progress, counted by flask refresh-stats instead of on every page view (25,000
-- enrolments per course at scale L). One row per course that has any.
-- No foreign keys: the rows are derived and replaced whole at each refresh (flask refresh-stats).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS stat_course_totals (
    course_id          INT NOT NULL PRIMARY KEY,
    active_enrolments  INT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
