-- Migration 0029_report_summaries (MariaDB/MySQL): the maintained summaries the Reports module reads
-- (issue 13; app/dao/stats.py says what every column means, docs/reports.md how the reports use them).
-- stat_enrolment_progress: one row per enrolment: the student's branch (0 = none), start date, status,
-- the course's lesson count and the enrolment's completed lessons (retention and progress).
-- stat_invoice_owing: one row per invoice owing something on the refresh day (as_of): its scope
-- branch (the invoice's, else its student's; 0 = none), dates, total and the amount owing (ageing).
-- stat_licence_pass: one row per student with a passed drive test: the first pass and the completed
-- lessons of all the student's enrolments before it (lessons to licence).
-- stat_instructor_branch_month: stat_instructor_month summed per month and instructor branch, with
-- the number of instructors (the instructor reports' totals, by branch and by month).
-- stat_enrolment_month: stat_enrolment_progress counted per start month, branch, status and progress
-- band (the whole months of a retention range; its first and last partial months read the rows above).
-- No foreign keys: the rows are derived and replaced whole at each refresh (flask refresh-stats).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS stat_enrolment_progress (
    enrollment_id     INT NOT NULL PRIMARY KEY,
    branch_id         INT NOT NULL DEFAULT 0,
    start_date        DATE NULL,
    status            VARCHAR(20) NOT NULL,
    lesson_count      INT NULL,
    completed_lessons INT NOT NULL DEFAULT 0,
    INDEX idx_stat_enrolment_start (start_date, status, completed_lessons, lesson_count, branch_id),
    INDEX idx_stat_enrolment_branch (branch_id, start_date, status, completed_lessons, lesson_count)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS stat_invoice_owing (
    invoice_id    INT NOT NULL PRIMARY KEY,
    branch_id     INT NOT NULL DEFAULT 0,
    invoice_number VARCHAR(40) NOT NULL,
    enrollment_id INT NULL,
    issue_date    DATE NOT NULL,
    due_date      DATE NOT NULL,
    total         DECIMAL(12,2) NOT NULL DEFAULT 0,
    owing         DECIMAL(12,2) NOT NULL DEFAULT 0,
    as_of         DATE NOT NULL,
    INDEX idx_stat_owing_buckets (due_date, issue_date, branch_id, owing),
    INDEX idx_stat_owing_due (due_date),
    INDEX idx_stat_owing_owing (owing),
    INDEX idx_stat_owing_branch (branch_id, due_date, issue_date, owing),
    INDEX idx_stat_owing_branch_owing (branch_id, owing),
    INDEX idx_stat_owing_number (invoice_number),
    INDEX idx_stat_owing_branch_number (branch_id, invoice_number)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS stat_licence_pass (
    student_id  INT NOT NULL PRIMARY KEY,
    branch_id   INT NOT NULL DEFAULT 0,
    schedule_id INT NOT NULL,
    pass_date   DATE NOT NULL,
    lessons     INT NOT NULL DEFAULT 0,
    INDEX idx_stat_licence_date (pass_date, branch_id, lessons),
    INDEX idx_stat_licence_branch (branch_id, pass_date, lessons)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS stat_instructor_branch_month (
    month_start     DATE NOT NULL,
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
    instructors     INT NOT NULL DEFAULT 0,
    PRIMARY KEY (month_start, branch_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS stat_enrolment_month (
    month_start DATE NOT NULL,
    branch_id   INT NOT NULL DEFAULT 0,
    status      VARCHAR(20) NOT NULL,
    band        INT NOT NULL,
    enrolments  INT NOT NULL DEFAULT 0,
    PRIMARY KEY (month_start, branch_id, status, band)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
