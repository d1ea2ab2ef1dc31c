-- Migration 0023_statistics (SQLite): maintained aggregates (issue 13, "Speed work"). The same
-- content as 0023_statistics.mysql.sql (read its header).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS stat_instructor_month (
    month_start     DATE NOT NULL,
    instructor_id   INTEGER NOT NULL,
    branch_id       INTEGER NOT NULL DEFAULT 0,
    events          INT NOT NULL DEFAULT 0,
    lessons         INT NOT NULL DEFAULT 0,
    completed       INT NOT NULL DEFAULT 0,
    cancelled       INT NOT NULL DEFAULT 0,
    no_show         INT NOT NULL DEFAULT 0,
    not_completed   INT NOT NULL DEFAULT 0,
    scheduled       INT NOT NULL DEFAULT 0,
    booked_minutes  INT NOT NULL DEFAULT 0,
    working_minutes INT NOT NULL DEFAULT 0,
    PRIMARY KEY (month_start, instructor_id)
);
CREATE INDEX IF NOT EXISTS idx_stat_instructor_month_branch ON stat_instructor_month(branch_id, month_start);

CREATE TABLE IF NOT EXISTS stat_revenue_month (
    month_start DATE NOT NULL,
    branch_id   INTEGER NOT NULL DEFAULT 0,
    course_id   INTEGER NOT NULL,
    amount      DECIMAL(12,2) NOT NULL DEFAULT 0,
    payments    INT NOT NULL DEFAULT 0,
    PRIMARY KEY (month_start, branch_id, course_id)
);

CREATE TABLE IF NOT EXISTS stat_instructor_totals (
    instructor_id     INTEGER NOT NULL PRIMARY KEY,
    lessons           INT NOT NULL DEFAULT 0,
    completed_lessons INT NOT NULL DEFAULT 0,
    upcoming_lessons  INT NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS stat_vehicle_totals (
    vehicle_id       INTEGER NOT NULL PRIMARY KEY,
    lessons          INT NOT NULL DEFAULT 0,
    upcoming_lessons INT NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS stat_freshness (
    name         VARCHAR(40) NOT NULL PRIMARY KEY,
    refreshed_at DATETIME NOT NULL,
    duration_ms  INT NULL,
    row_count    INT NULL
);
