-- Migration 0023_statistics (MariaDB/MySQL): maintained aggregates (issue 13, "Speed work").
--
-- Summary rows refreshed by `flask refresh-stats` (every 15 minutes; app/services/stats.py), so that
-- lists, dashboards and reports never count over every lesson on a page view. Each table is rebuilt
-- whole in one transaction by set-based INSERT ... SELECT ... GROUP BY; stat_freshness says when.
-- What each column means: app/dao/stats.py (the refresh SQL) and docs/operations.md
-- ("Maintained aggregates").
-- stat_instructor_month: one row per instructor per calendar month that has events or working hours;
-- branch_id is the instructor's branch (0 = none).
-- stat_revenue_month: payments (net of refunds) by payment month, the student's branch (0 = none)
-- and the enrolment's course.
-- stat_instructor_totals / stat_vehicle_totals: lifetime counts for the instructors and fleet lists.
-- stat_freshness: one row per summary: when it was last refreshed, how long it took, how many rows.
-- No foreign keys: the rows are derived and replaced whole at each refresh.
-- Re-runnable: CREATE TABLE IF NOT EXISTS.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS stat_instructor_month (
    month_start     DATE NOT NULL,
    instructor_id   INT UNSIGNED NOT NULL,
    branch_id       INT UNSIGNED NOT NULL DEFAULT 0,
    events          INT NOT NULL DEFAULT 0,
    lessons         INT NOT NULL DEFAULT 0,
    completed       INT NOT NULL DEFAULT 0,
    cancelled       INT NOT NULL DEFAULT 0,
    no_show         INT NOT NULL DEFAULT 0,
    not_completed   INT NOT NULL DEFAULT 0,
    scheduled       INT NOT NULL DEFAULT 0,
    booked_minutes  INT NOT NULL DEFAULT 0,
    working_minutes INT NOT NULL DEFAULT 0,
    PRIMARY KEY (month_start, instructor_id),
    INDEX idx_stat_instructor_month_branch (branch_id, month_start)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS stat_revenue_month (
    month_start DATE NOT NULL,
    branch_id   INT UNSIGNED NOT NULL DEFAULT 0,
    course_id   INT UNSIGNED NOT NULL,
    amount      DECIMAL(12,2) NOT NULL DEFAULT 0,
    payments    INT NOT NULL DEFAULT 0,
    PRIMARY KEY (month_start, branch_id, course_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS stat_instructor_totals (
    instructor_id     INT UNSIGNED NOT NULL PRIMARY KEY,
    lessons           INT NOT NULL DEFAULT 0,
    completed_lessons INT NOT NULL DEFAULT 0,
    upcoming_lessons  INT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS stat_vehicle_totals (
    vehicle_id       INT UNSIGNED NOT NULL PRIMARY KEY,
    lessons          INT NOT NULL DEFAULT 0,
    upcoming_lessons INT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS stat_freshness (
    name         VARCHAR(40) NOT NULL PRIMARY KEY,
    refreshed_at DATETIME NOT NULL,
    duration_ms  INT NULL,
    row_count    INT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
