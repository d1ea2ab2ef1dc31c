-- Migration 0029_report_summaries (SQLite): the maintained summaries the Reports module reads
-- (issue 13; app/dao/stats.py says what every column means, docs/reports.md how the reports use them).
-- stat_enrolment_progress: one row per enrolment (retention and progress); stat_invoice_owing: one
-- row per invoice owing something on the refresh day (ageing); stat_licence_pass: one row per student
-- with a passed drive test, its first pass and the completed lessons before it (lessons to licence).
-- stat_instructor_branch_month: stat_instructor_month summed per month and instructor branch, with
-- the number of instructors (the instructor reports' totals, by branch and by month).
-- stat_enrolment_month: stat_enrolment_progress counted per start month, branch, status and progress
-- band (the whole months of a retention range; its first and last partial months read the rows above).
-- No foreign keys: the rows are derived and replaced whole at each refresh (flask refresh-stats).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS stat_enrolment_progress (
    enrollment_id     INTEGER NOT NULL PRIMARY KEY,
    branch_id         INTEGER NOT NULL DEFAULT 0,
    start_date        DATE NULL,
    status            VARCHAR(20) NOT NULL,
    lesson_count      INTEGER NULL,
    completed_lessons INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS idx_stat_enrolment_start ON stat_enrolment_progress(start_date, status, completed_lessons, lesson_count, branch_id);
CREATE INDEX IF NOT EXISTS idx_stat_enrolment_branch ON stat_enrolment_progress(branch_id, start_date, status, completed_lessons, lesson_count);

CREATE TABLE IF NOT EXISTS stat_invoice_owing (
    invoice_id    INTEGER NOT NULL PRIMARY KEY,
    branch_id     INTEGER NOT NULL DEFAULT 0,
    invoice_number VARCHAR(40) NOT NULL,
    enrollment_id INTEGER NULL,
    issue_date    DATE NOT NULL,
    due_date      DATE NOT NULL,
    total         DECIMAL(12,2) NOT NULL DEFAULT 0,
    owing         DECIMAL(12,2) NOT NULL DEFAULT 0,
    as_of         DATE NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_stat_owing_buckets ON stat_invoice_owing(due_date, issue_date, branch_id, owing);
CREATE INDEX IF NOT EXISTS idx_stat_owing_due ON stat_invoice_owing(due_date);
CREATE INDEX IF NOT EXISTS idx_stat_owing_owing ON stat_invoice_owing(owing);
CREATE INDEX IF NOT EXISTS idx_stat_owing_branch ON stat_invoice_owing(branch_id, due_date, issue_date, owing);
CREATE INDEX IF NOT EXISTS idx_stat_owing_branch_owing ON stat_invoice_owing(branch_id, owing);
CREATE INDEX IF NOT EXISTS idx_stat_owing_number ON stat_invoice_owing(invoice_number);
CREATE INDEX IF NOT EXISTS idx_stat_owing_branch_number ON stat_invoice_owing(branch_id, invoice_number);

CREATE TABLE IF NOT EXISTS stat_licence_pass (
    student_id  INTEGER NOT NULL PRIMARY KEY,
    branch_id   INTEGER NOT NULL DEFAULT 0,
    schedule_id INTEGER NOT NULL,
    pass_date   DATE NOT NULL,
    lessons     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS idx_stat_licence_date ON stat_licence_pass(pass_date, branch_id, lessons);
CREATE INDEX IF NOT EXISTS idx_stat_licence_branch ON stat_licence_pass(branch_id, pass_date, lessons);

CREATE TABLE IF NOT EXISTS stat_instructor_branch_month (
    month_start     DATE NOT NULL,
    branch_id       INTEGER NOT NULL DEFAULT 0,
    events          INTEGER NOT NULL DEFAULT 0,
    lessons         INTEGER NOT NULL DEFAULT 0,
    completed       INTEGER NOT NULL DEFAULT 0,
    cancelled       INTEGER NOT NULL DEFAULT 0,
    no_show         INTEGER NOT NULL DEFAULT 0,
    not_completed   INTEGER NOT NULL DEFAULT 0,
    scheduled       INTEGER NOT NULL DEFAULT 0,
    booked_minutes  INTEGER NOT NULL DEFAULT 0,
    working_minutes INTEGER NOT NULL DEFAULT 0,
    instructors     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month_start, branch_id)
);

CREATE TABLE IF NOT EXISTS stat_enrolment_month (
    month_start DATE NOT NULL,
    branch_id   INTEGER NOT NULL DEFAULT 0,
    status      VARCHAR(20) NOT NULL,
    band        INTEGER NOT NULL,
    enrolments  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month_start, branch_id, status, band)
);
