-- Migration 0035_instructor_range (MariaDB/MySQL): the instructor reports' default ranges (issue 13).
-- stat_instructor_range: the instructor reports' default ranges (the last 12 and the last 3 months, as
-- of the refresh day) summed per instructor and branch from stat_instructor_month by flask refresh-stats,
-- so the default report page reads 2,000 rows at scale L instead of grouping 24,000 monthly rows on every
-- view. Any other range is still summed from stat_instructor_month. Derived rows, replaced whole.
-- No foreign keys: the rows are derived and replaced whole at each refresh (flask refresh-stats).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS stat_instructor_range (
    m_from          DATE NOT NULL,
    m_to            DATE NOT NULL,
    instructor_id   INT NOT NULL,
    branch_id       INT NOT NULL DEFAULT 0,
    events          INT NOT NULL DEFAULT 0,
    lessons         INT NOT NULL DEFAULT 0,
    completed       INT NOT NULL DEFAULT 0,
    cancelled       INT NOT NULL DEFAULT 0,
    no_show         INT NOT NULL DEFAULT 0,
    not_completed   INT NOT NULL DEFAULT 0,
    scheduled       INT NOT NULL DEFAULT 0,
    booked_minutes  INT NOT NULL DEFAULT 0,
    working_minutes INT NOT NULL DEFAULT 0,
    PRIMARY KEY (m_from, m_to, instructor_id, branch_id),
    INDEX idx_stat_instructor_range_branch (branch_id, m_from, m_to)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
