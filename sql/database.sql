-- Origin: full current schema for MariaDB (10.11+) / MySQL. Used by `flask init-db`.
--
-- A superset of the PHP system's 22-table schema: every original table, column
-- (same name, type, nullability, default, ENUM values, order), constraint name and
-- index name is kept as is. Additions (all additive) come from the migrations in
-- sql/migrations/: 0002_auth_sessions (users.last_login_at, users.password_changed_at,
-- user_sessions, login_attempts), 0003_query_indexes (spec 8.3.9) and
-- 0004_directory_modules (nullable columns appended to audit_trail, vehicles and
-- documents, instructor_working_hours, vehicle_service_logs, vehicle_downtime,
-- account_tokens, idx_audit_action), 0005..0007 (indexes, page_handoffs, audit chain
-- head), 0008_scheduling (branches.timezone, schedules.status gains no_show and four
-- nullable columns, reminders.send_at, branch_opening_hours, calendar indexes) and
-- 0009_calendar_indexes (idx_schedule_branch_date) and 0010_rating_scale (PHP-era 0-10
-- lesson ratings become 1-5; nothing to do in a fresh schema) and 0011_booking_policy
-- (branch_booking_policies).
-- Initialising from this file and upgrading a PHP database with every migration give
-- the same schema.
-- schema_migrations is the migration ledger (init-db stamps it with every version).
-- SQLite twin: sql/database.sqlite.sql. Change both, and add a migration pair.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

-- -------------------------------------------------------------------------------------------------
-- Migration ledger (see app/core/schema.py)
-- -------------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS schema_migrations (
    version    VARCHAR(40) NOT NULL PRIMARY KEY,
    name       VARCHAR(160) NOT NULL,
    applied_at DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- -------------------------------------------------------------------------------------------------
-- The 22 tables of the original PHP schema (users gains two 0002 columns at the end,
-- audit_trail, vehicles and documents gain 0004 columns at the end, branches, schedules
-- and reminders 0008 columns at the end)
-- -------------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS branches (
    id            INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    name          VARCHAR(120) NOT NULL,
    address       VARCHAR(255) NULL,
    city          VARCHAR(80) NULL,
    state         VARCHAR(50) NULL,
    postcode      VARCHAR(12) NULL,
    phone         VARCHAR(32) NULL,
    email         VARCHAR(160) NULL,
    manager_name  VARCHAR(120) NULL,
    opening_hours VARCHAR(160) NULL,
    created_at    DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at    DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    timezone      VARCHAR(64) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS users (
    id                  INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    role                ENUM('admin','staff','instructor','student') NOT NULL,
    first_name          VARCHAR(80) NOT NULL,
    last_name           VARCHAR(80) NOT NULL,
    email               VARCHAR(160) NOT NULL UNIQUE,
    phone               VARCHAR(32) NULL,
    password_hash       VARCHAR(255) NOT NULL,
    status              ENUM('active','archived') NOT NULL DEFAULT 'active',
    branch_id           INT UNSIGNED NULL,
    created_at          DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at          DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    last_login_at       DATETIME NULL,
    password_changed_at DATETIME NULL,
    CONSTRAINT fk_users_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS students (
    id                      INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    user_id                 INT UNSIGNED NOT NULL,
    branch_id               INT UNSIGNED NULL,
    license_number          VARCHAR(45) NULL,
    license_status          VARCHAR(20) DEFAULT 'Learner',
    license_expiry          DATE NULL,
    emergency_contact_name  VARCHAR(120) NULL,
    emergency_contact_phone VARCHAR(32) NULL,
    address_line            VARCHAR(160) NULL,
    city                    VARCHAR(80) NULL,
    postcode                VARCHAR(12) NULL,
    progress_summary        VARCHAR(255) NULL,
    created_at              DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at              DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    CONSTRAINT fk_students_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    CONSTRAINT fk_students_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS instructors (
    id                   INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    user_id              INT UNSIGNED NOT NULL,
    branch_id            INT UNSIGNED NULL,
    certification_number VARCHAR(80) NULL,
    accreditation_expiry DATE NULL,
    experience_years     INT UNSIGNED DEFAULT 0,
    availability_notes   TEXT NULL,
    bio                  TEXT NULL,
    rating               DECIMAL(3,2) NULL,
    created_at           DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at           DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    CONSTRAINT fk_instructors_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    CONSTRAINT fk_instructors_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS staff_profiles (
    id              INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    user_id         INT UNSIGNED NOT NULL,
    branch_id       INT UNSIGNED NULL,
    position_title  VARCHAR(100) NULL,
    employment_type VARCHAR(40) NULL,
    start_date      DATE NULL,
    notes           TEXT NULL,
    created_at      DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at      DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    CONSTRAINT fk_staff_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    CONSTRAINT fk_staff_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS courses (
    id           INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    title        VARCHAR(160) NOT NULL,
    description  TEXT NULL,
    price        DECIMAL(10,2) NOT NULL,
    lesson_count INT UNSIGNED NOT NULL,
    category     VARCHAR(80) NULL,
    status       ENUM('active','inactive') DEFAULT 'active',
    created_at   DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at   DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS course_instructor (
    course_id     INT UNSIGNED NOT NULL,
    instructor_id INT UNSIGNED NOT NULL,
    PRIMARY KEY (course_id, instructor_id),
    CONSTRAINT fk_ci_course FOREIGN KEY (course_id) REFERENCES courses(id) ON DELETE CASCADE,
    CONSTRAINT fk_ci_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS vehicles (
    id                INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    name              VARCHAR(120) NOT NULL,
    type              VARCHAR(80) NULL,
    transmission      VARCHAR(20) NULL,
    plate_number      VARCHAR(20) UNIQUE,
    vin               VARCHAR(50) NULL,
    branch_id         INT UNSIGNED NULL,
    status            ENUM('available','in_service','maintenance') DEFAULT 'available',
    last_service_date DATE NULL,
    next_service_due  DATE NULL,
    notes             TEXT NULL,
    created_at        DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at        DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    odometer_km       INT UNSIGNED NULL,
    CONSTRAINT fk_vehicles_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS enrollments (
    id                  INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    student_id          INT UNSIGNED NOT NULL,
    course_id           INT UNSIGNED NOT NULL,
    start_date          DATE NOT NULL,
    status              ENUM('active','in_progress','completed','cancelled') DEFAULT 'active',
    progress_percentage INT UNSIGNED DEFAULT 0,
    notes               TEXT NULL,
    created_at          DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at          DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    CONSTRAINT fk_enroll_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    CONSTRAINT fk_enroll_course FOREIGN KEY (course_id) REFERENCES courses(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS enrollment_requests (
    id             INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    student_id     INT UNSIGNED NOT NULL,
    course_id      INT UNSIGNED NOT NULL,
    preferred_date DATE NULL,
    preferred_time TIME NULL,
    status         ENUM('pending','approved','declined') DEFAULT 'pending',
    instructor_id  INT UNSIGNED NULL,
    student_notes  TEXT NULL,
    admin_notes    TEXT NULL,
    decision_by    INT UNSIGNED NULL,
    decision_at    DATETIME NULL,
    created_at     DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at     DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    CONSTRAINT fk_request_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    CONSTRAINT fk_request_course FOREIGN KEY (course_id) REFERENCES courses(id) ON DELETE CASCADE,
    CONSTRAINT fk_request_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE SET NULL,
    CONSTRAINT fk_request_decision_user FOREIGN KEY (decision_by) REFERENCES users(id) ON DELETE SET NULL,
    INDEX idx_request_status (status),
    INDEX idx_request_instructor (instructor_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS schedules (
    id                   INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    enrollment_id        INT UNSIGNED NOT NULL,
    instructor_id        INT UNSIGNED NOT NULL,
    vehicle_id           INT UNSIGNED NULL,
    branch_id            INT UNSIGNED NULL,
    event_type           ENUM('lesson','exam','assessment') DEFAULT 'lesson',
    scheduled_date       DATE NOT NULL,
    start_time           TIME NOT NULL,
    end_time             TIME NOT NULL,
    status               ENUM('scheduled','completed','cancelled','not_completed','no_show') DEFAULT 'scheduled',
    student_rating       TINYINT UNSIGNED NULL,
    student_feedback     TEXT NULL,
    completion_marked_by INT UNSIGNED NULL,
    completion_marked_at DATETIME NULL,
    lesson_topic         VARCHAR(160) NULL,
    notes                TEXT NULL,
    reminder_sent        TINYINT(1) DEFAULT 0,
    created_at           DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at           DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    cancelled_at         DATETIME NULL,
    cancelled_by         INT UNSIGNED NULL,
    cancel_reason        VARCHAR(255) NULL,
    pickup_location      VARCHAR(255) NULL,
    CONSTRAINT fk_schedule_enrollment FOREIGN KEY (enrollment_id) REFERENCES enrollments(id) ON DELETE CASCADE,
    CONSTRAINT fk_schedule_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    CONSTRAINT fk_schedule_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE SET NULL,
    CONSTRAINT fk_schedule_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL,
    CONSTRAINT fk_schedule_completed_by FOREIGN KEY (completion_marked_by) REFERENCES users(id) ON DELETE SET NULL,
    CONSTRAINT fk_schedule_cancelled_by FOREIGN KEY (cancelled_by) REFERENCES users(id) ON DELETE SET NULL,
    INDEX idx_schedule_date (scheduled_date),
    INDEX idx_schedule_instructor (instructor_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS instructor_unavailability (
    id             INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    instructor_id  INT UNSIGNED NOT NULL,
    start_datetime DATETIME NOT NULL,
    end_datetime   DATETIME NOT NULL,
    reason         VARCHAR(160) NULL,
    created_at     DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at     DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    CONSTRAINT fk_unavailability_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    INDEX idx_unavailability_instructor (instructor_id),
    INDEX idx_unavailability_window (start_datetime, end_datetime)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS invoices (
    id             INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    enrollment_id  INT UNSIGNED NOT NULL,
    invoice_number VARCHAR(40) NOT NULL UNIQUE,
    issue_date     DATE NOT NULL,
    due_date       DATE NOT NULL,
    subtotal       DECIMAL(10,2) NOT NULL,
    tax_amount     DECIMAL(10,2) NOT NULL,
    total          DECIMAL(10,2) NOT NULL,
    status         ENUM('sent','partial','paid','overdue') DEFAULT 'sent',
    notes          TEXT NULL,
    created_at     DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at     DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    CONSTRAINT fk_invoice_enrollment FOREIGN KEY (enrollment_id) REFERENCES enrollments(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS invoice_items (
    id          INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    invoice_id  INT UNSIGNED NOT NULL,
    description VARCHAR(255) NOT NULL,
    quantity    INT UNSIGNED NOT NULL,
    unit_price  DECIMAL(10,2) NOT NULL,
    total       DECIMAL(10,2) NOT NULL,
    CONSTRAINT fk_item_invoice FOREIGN KEY (invoice_id) REFERENCES invoices(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS payments (
    id           INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    invoice_id   INT UNSIGNED NOT NULL,
    amount       DECIMAL(10,2) NOT NULL,
    payment_date DATE NOT NULL,
    method       VARCHAR(40) NULL,
    reference    VARCHAR(80) NULL,
    notes        TEXT NULL,
    recorded_by  INT UNSIGNED NULL,
    created_at   DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at   DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    CONSTRAINT fk_payment_invoice FOREIGN KEY (invoice_id) REFERENCES invoices(id) ON DELETE CASCADE,
    CONSTRAINT fk_payment_user FOREIGN KEY (recorded_by) REFERENCES users(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS reminders (
    id                INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    related_type      ENUM('invoice','schedule') NOT NULL,
    related_id        INT UNSIGNED NOT NULL,
    recipient_user_id INT UNSIGNED NOT NULL,
    channel           ENUM('email','sms','in-app') DEFAULT 'sms',
    reminder_type     VARCHAR(80) NOT NULL,
    message           TEXT NOT NULL,
    send_on           DATE NOT NULL,
    status            ENUM('pending','sent','cancelled') DEFAULT 'pending',
    created_at        DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at        DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    send_at           DATETIME NULL,
    CONSTRAINT fk_reminder_user FOREIGN KEY (recipient_user_id) REFERENCES users(id) ON DELETE CASCADE,
    INDEX idx_reminder_status_send (status, send_on)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS notifications (
    id         INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    user_id    INT UNSIGNED NOT NULL,
    title      VARCHAR(160) NOT NULL,
    message    TEXT NOT NULL,
    level      ENUM('info','success','warning','danger') DEFAULT 'info',
    is_read    TINYINT(1) DEFAULT 0,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_notification_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS communications (
    id             INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    sender_user_id INT UNSIGNED NULL,
    audience_scope VARCHAR(40) NOT NULL,
    channel        ENUM('email','sms','in-app') NOT NULL,
    subject        VARCHAR(160) NULL,
    message        TEXT NOT NULL,
    created_at     DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_comm_sender FOREIGN KEY (sender_user_id) REFERENCES users(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS communication_recipients (
    id               INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    communication_id INT UNSIGNED NOT NULL,
    user_id          INT UNSIGNED NOT NULL,
    CONSTRAINT fk_cr_comm FOREIGN KEY (communication_id) REFERENCES communications(id) ON DELETE CASCADE,
    CONSTRAINT fk_cr_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS documents (
    id          INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    user_id     INT UNSIGNED NOT NULL,
    file_name   VARCHAR(160) NOT NULL,
    file_path   VARCHAR(160) NOT NULL,
    mime_type   VARCHAR(80) NULL,
    file_size   INT UNSIGNED NULL,
    category    VARCHAR(80) NULL,
    notes       VARCHAR(160) NULL,
    created_at  DATETIME DEFAULT CURRENT_TIMESTAMP,
    expiry_date DATE NULL,
    sha256      CHAR(64) NULL,
    uploaded_by INT UNSIGNED NULL,
    CONSTRAINT fk_document_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    CONSTRAINT fk_document_uploader FOREIGN KEY (uploaded_by) REFERENCES users(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS notes (
    id             INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    related_type   ENUM('student','instructor','staff') NOT NULL,
    related_id     INT UNSIGNED NOT NULL,
    author_user_id INT UNSIGNED NULL,
    content        TEXT NOT NULL,
    created_at     DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_note_author FOREIGN KEY (author_user_id) REFERENCES users(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS audit_trail (
    id          INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    user_id     INT UNSIGNED NULL,
    action      VARCHAR(80) NOT NULL,
    entity_type VARCHAR(80) NULL,
    entity_id   INT UNSIGNED NULL,
    details     TEXT NULL,
    created_at  DATETIME DEFAULT CURRENT_TIMESTAMP,
    actor_role  VARCHAR(20) NULL,
    ip_address  VARCHAR(45) NULL,
    before_json TEXT NULL,
    after_json  TEXT NULL,
    prev_hash   CHAR(64) NULL,
    row_hash    CHAR(64) NULL,
    CONSTRAINT fk_audit_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- -------------------------------------------------------------------------------------------------
-- 0002_auth_sessions: server-side sessions and login throttling
-- -------------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS user_sessions (
    id               INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    user_id          INT UNSIGNED NOT NULL,
    token_hash       CHAR(64) NOT NULL,
    created_at       DATETIME NOT NULL,
    last_seen_at     DATETIME NOT NULL,
    ip_address       VARCHAR(45) NULL,
    user_agent       VARCHAR(255) NULL,
    second_factor_at DATETIME NULL,
    CONSTRAINT fk_user_sessions_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    UNIQUE INDEX uq_user_sessions_token (token_hash),
    INDEX idx_user_sessions_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS login_attempts (
    id           INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    email        VARCHAR(160) NOT NULL,
    user_id      INT UNSIGNED NULL,
    ip_address   VARCHAR(45) NULL,
    succeeded    TINYINT(1) NOT NULL DEFAULT 0,
    attempted_at DATETIME NOT NULL,
    CONSTRAINT fk_login_attempts_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE SET NULL,
    INDEX idx_login_attempts_email_time (email, attempted_at),
    INDEX idx_login_attempts_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- -------------------------------------------------------------------------------------------------
-- 0003_query_indexes: indexes the original lacked (spec 8.3.9)
-- -------------------------------------------------------------------------------------------------

-- Kept as separate statements after the tables, exactly as in the migration.
-- InnoDB drops its generated FK indexes fk_schedule_vehicle and fk_notification_user
-- here, because idx_schedule_vehicle_date and idx_notifications_user_read now lead
-- with those columns (verified on MariaDB 10.11).
CREATE INDEX IF NOT EXISTS idx_invoices_status_due     ON invoices(status, due_date);
CREATE INDEX IF NOT EXISTS idx_schedule_vehicle_date   ON schedules(vehicle_id, scheduled_date);
CREATE INDEX IF NOT EXISTS idx_schedule_date_start     ON schedules(scheduled_date, start_time);
CREATE INDEX IF NOT EXISTS idx_notifications_user_read ON notifications(user_id, is_read, created_at);
CREATE INDEX IF NOT EXISTS idx_reminder_related        ON reminders(related_type, related_id);
CREATE INDEX IF NOT EXISTS idx_notes_related           ON notes(related_type, related_id);
CREATE INDEX IF NOT EXISTS idx_audit_created           ON audit_trail(created_at);
CREATE INDEX IF NOT EXISTS idx_audit_entity            ON audit_trail(entity_type, entity_id);
CREATE INDEX IF NOT EXISTS idx_payments_date           ON payments(payment_date);

-- -------------------------------------------------------------------------------------------------
-- 0004_directory_modules: working hours, fleet records, account tokens, audit index
-- -------------------------------------------------------------------------------------------------

-- The new columns of audit_trail, vehicles and documents (including the foreign key
-- fk_document_uploader) are declared in their tables above, at the end as the
-- migration appends them. Each foreign key of the new tables whose column leads a
-- declared index is backed by that index, so InnoDB creates no extra fk_* index for it.
CREATE TABLE IF NOT EXISTS instructor_working_hours (
    id            INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    instructor_id INT UNSIGNED NOT NULL,
    weekday       TINYINT UNSIGNED NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_time    TIME NOT NULL,
    end_time      TIME NOT NULL,
    created_at    DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at    DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    CONSTRAINT fk_working_hours_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    INDEX idx_working_hours_instructor (instructor_id, weekday)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS vehicle_service_logs (
    id           INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    vehicle_id   INT UNSIGNED NOT NULL,
    service_date DATE NOT NULL,
    odometer_km  INT UNSIGNED NULL,
    cost         DECIMAL(10,2) NULL,
    notes        TEXT NULL,
    recorded_by  INT UNSIGNED NULL,
    created_at   DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_service_log_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE CASCADE,
    CONSTRAINT fk_service_log_user FOREIGN KEY (recorded_by) REFERENCES users(id) ON DELETE SET NULL,
    INDEX idx_service_log_vehicle_date (vehicle_id, service_date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS vehicle_downtime (
    id             INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    vehicle_id     INT UNSIGNED NOT NULL,
    start_datetime DATETIME NOT NULL,
    end_datetime   DATETIME NOT NULL,
    reason         VARCHAR(160) NULL,
    created_at     DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at     DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    CONSTRAINT fk_downtime_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE CASCADE,
    INDEX idx_downtime_vehicle_window (vehicle_id, start_datetime, end_datetime)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS account_tokens (
    id         INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    user_id    INT UNSIGNED NOT NULL,
    purpose    ENUM('activation','reset') NOT NULL,
    token_hash CHAR(64) NOT NULL,
    expires_at DATETIME NOT NULL,
    used_at    DATETIME NULL,
    created_by INT UNSIGNED NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT fk_account_tokens_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    CONSTRAINT fk_account_tokens_creator FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL,
    UNIQUE INDEX uq_account_tokens_hash (token_hash),
    INDEX idx_account_tokens_user (user_id, purpose)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE INDEX IF NOT EXISTS idx_audit_action            ON audit_trail(action, created_at);

-- Hash-chain head for the append-only audit trail: one row (id = 1), locked while a row is appended
CREATE TABLE IF NOT EXISTS audit_chain (
    id         TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    last_id    INT UNSIGNED NULL,
    last_hash  CHAR(64) NULL,
    updated_at DATETIME NULL,
    -- 0036: the last audit row that changed data (not a sign-in, a refusal or an export): the version
    -- a kept report CSV is valid for
    last_data_id INT UNSIGNED NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- 0005: dashboards at chain scale (upcoming lessons by status/date/time; newest invoices)
CREATE INDEX IF NOT EXISTS idx_schedule_status_date ON schedules(status, scheduled_date, start_time, branch_id);
CREATE INDEX IF NOT EXISTS idx_invoices_issue_date ON invoices(issue_date);
CREATE INDEX IF NOT EXISTS idx_users_name ON users(last_name, first_name);
CREATE INDEX IF NOT EXISTS idx_login_attempts_ip_time ON login_attempts(ip_address, attempted_at);

-- 0006: one-time values shown on the next page (activation links), never in the session cookie
CREATE TABLE IF NOT EXISTS page_handoffs (
    id         INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    key_hash   CHAR(64) NOT NULL,
    user_id    INT UNSIGNED NOT NULL,
    kind       VARCHAR(40) NOT NULL,
    payload    TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    CONSTRAINT fk_page_handoffs_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    UNIQUE INDEX uq_page_handoffs_key (key_hash),
    INDEX idx_page_handoffs_user (user_id),
    INDEX idx_page_handoffs_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- 0007: the audit chain head row (locked by every audit append; never created by racing writers)
INSERT IGNORE INTO audit_chain (id, last_id, last_hash) VALUES (1, NULL, NULL);

-- 0008: scheduling. The new columns of branches, schedules (with fk_schedule_cancelled_by and
-- the no_show status) and reminders are declared in their tables above, at the end as the
-- migration appends them. InnoDB drops its generated FK index fk_schedule_enrollment here,
-- because idx_schedule_enrollment_date now leads with enrollment_id.
-- (0037: the index covers the slot: status, start_time and end_time appended.)
CREATE INDEX IF NOT EXISTS idx_schedule_instructor_date ON schedules(instructor_id, scheduled_date, status, start_time, end_time);
CREATE INDEX IF NOT EXISTS idx_schedule_enrollment_date ON schedules(enrollment_id, scheduled_date);
CREATE INDEX IF NOT EXISTS idx_reminder_status_send_at ON reminders(status, send_at);

-- Structured opening hours per weekday (0 = Monday .. 6 = Sunday), behind the branch_closed rule
CREATE TABLE IF NOT EXISTS branch_opening_hours (
    id         INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    branch_id  INT UNSIGNED NOT NULL,
    weekday    TINYINT UNSIGNED NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    open_time  TIME NOT NULL,
    close_time TIME NOT NULL,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    CONSTRAINT fk_opening_hours_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE CASCADE,
    CONSTRAINT chk_opening_hours_order CHECK (close_time > open_time),
    INDEX idx_branch_opening_hours (branch_id, weekday)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- 0009: a branch's events by date and time (the calendar feed per branch, upcoming counts).
-- InnoDB drops its generated FK index fk_schedule_branch here, because
-- idx_schedule_branch_date now leads with branch_id.
CREATE INDEX IF NOT EXISTS idx_schedule_branch_date ON schedules(branch_id, scheduled_date, start_time, status);

-- 0011: each branch's booking policy (a branch without a row has the defaults)
CREATE TABLE IF NOT EXISTS branch_booking_policies (
    branch_id               INT UNSIGNED NOT NULL PRIMARY KEY,
    min_notice_minutes      INT UNSIGNED NOT NULL DEFAULT 720,
    horizon_days            SMALLINT UNSIGNED NOT NULL DEFAULT 56,
    max_lessons_per_week    TINYINT UNSIGNED NOT NULL DEFAULT 3,
    cancel_cutoff_minutes   INT UNSIGNED NOT NULL DEFAULT 1440,
    students_any_instructor TINYINT(1) NOT NULL DEFAULT 0,
    slot_grid_minutes       TINYINT UNSIGNED NOT NULL DEFAULT 15,
    buffer_minutes          SMALLINT UNSIGNED NOT NULL DEFAULT 0,
    updated_at              DATETIME NULL,
    updated_by              INT UNSIGNED NULL,
    CONSTRAINT fk_booking_policy_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE CASCADE,
    CONSTRAINT fk_booking_policy_updated_by FOREIGN KEY (updated_by) REFERENCES users(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- 0012: secret iCalendar feed URLs (only the SHA-256 of the secret; one live token per owner)
CREATE TABLE IF NOT EXISTS calendar_feed_tokens (
    id         INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    owner_type VARCHAR(10) NOT NULL CHECK (owner_type IN ('instructor','student')),
    owner_id   INT UNSIGNED NOT NULL,
    token_hash CHAR(64) NOT NULL,
    created_at DATETIME NOT NULL,
    created_by INT UNSIGNED NULL,
    revoked_at DATETIME NULL,
    CONSTRAINT fk_calendar_feed_created_by FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL,
    UNIQUE INDEX uq_calendar_feed_token (token_hash),
    INDEX idx_calendar_feed_owner (owner_type, owner_id, revoked_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- 0014: reschedule proposals (one pending per lesson; expires_at naive UTC; NULL instructor/vehicle = the lesson's own)
CREATE TABLE IF NOT EXISTS reschedule_proposals (
    id            INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    schedule_id   INT UNSIGNED NOT NULL,
    proposed_by   INT UNSIGNED NULL,
    proposed_date DATE NOT NULL,
    start_time    TIME NOT NULL,
    end_time      TIME NOT NULL,
    instructor_id INT UNSIGNED NULL,
    vehicle_id    INT UNSIGNED NULL,
    message       VARCHAR(500) NULL,
    status        VARCHAR(10) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','accepted','declined','expired','withdrawn')),
    expires_at    DATETIME NOT NULL,
    created_at    DATETIME NOT NULL,
    answered_at   DATETIME NULL,
    answered_by   INT UNSIGNED NULL,
    CONSTRAINT fk_proposal_schedule FOREIGN KEY (schedule_id) REFERENCES schedules(id) ON DELETE CASCADE,
    CONSTRAINT fk_proposal_proposed_by FOREIGN KEY (proposed_by) REFERENCES users(id) ON DELETE SET NULL,
    CONSTRAINT fk_proposal_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    CONSTRAINT fk_proposal_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE CASCADE,
    CONSTRAINT fk_proposal_answered_by FOREIGN KEY (answered_by) REFERENCES users(id) ON DELETE SET NULL,
    INDEX idx_proposal_schedule_status (schedule_id, status),
    INDEX idx_proposal_status_expiry (status, expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- 0013: recurring series (schedule_series; schedules.series_id ties each booked occurrence to its
-- series, appended to schedules as the migration does)
CREATE TABLE IF NOT EXISTS schedule_series (
    id             INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    branch_id      INT UNSIGNED NULL,
    instructor_id  INT UNSIGNED NOT NULL,
    student_id     INT UNSIGNED NOT NULL,
    vehicle_id     INT UNSIGNED NULL,
    event_type     VARCHAR(10) NOT NULL DEFAULT 'lesson' CHECK (event_type IN ('lesson','exam','assessment')),
    weekday        TINYINT UNSIGNED NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_time     TIME NOT NULL,
    end_time       TIME NOT NULL,
    interval_weeks TINYINT UNSIGNED NOT NULL DEFAULT 1 CHECK (interval_weeks BETWEEN 1 AND 4),
    first_date     DATE NOT NULL,
    until_date     DATE NULL,
    occurrences    TINYINT UNSIGNED NOT NULL CHECK (occurrences BETWEEN 1 AND 52),
    clashes_json   TEXT NULL,
    created_by     INT UNSIGNED NULL,
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NULL,
    cancelled_at   DATETIME NULL,
    CONSTRAINT fk_series_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL,
    CONSTRAINT fk_series_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    CONSTRAINT fk_series_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    CONSTRAINT fk_series_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE SET NULL,
    CONSTRAINT fk_series_created_by FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL,
    INDEX idx_series_branch (branch_id, first_date),
    INDEX idx_series_instructor (instructor_id),
    INDEX idx_series_student (student_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE schedules ADD COLUMN IF NOT EXISTS series_id INT UNSIGNED NULL;
CREATE INDEX IF NOT EXISTS idx_schedule_series ON schedules(series_id, scheduled_date);
ALTER TABLE schedules ADD CONSTRAINT fk_schedule_series FOREIGN KEY IF NOT EXISTS (series_id) REFERENCES schedule_series(id) ON DELETE SET NULL;

-- 0015: the gap filler / waitlist (students opted in to earlier slots; offers of a cancelled lesson's slot)
CREATE TABLE IF NOT EXISTS waitlist_preferences (
    student_id    INT UNSIGNED NOT NULL PRIMARY KEY,
    active        TINYINT(1) NOT NULL DEFAULT 0,
    weekdays      CHAR(7) NOT NULL DEFAULT '1111100',
    earliest_time TIME NOT NULL DEFAULT '08:00:00',
    latest_time   TIME NOT NULL DEFAULT '18:00:00',
    opted_in_at   DATETIME NULL,
    updated_at    DATETIME NULL,
    CONSTRAINT fk_waitlist_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    INDEX idx_waitlist_active (active, opted_in_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS gap_offers (
    id                 INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    schedule_id        INT UNSIGNED NOT NULL,
    student_id         INT UNSIGNED NOT NULL,
    branch_id          INT UNSIGNED NULL,
    instructor_id      INT UNSIGNED NOT NULL,
    vehicle_id         INT UNSIGNED NULL,
    slot_date          DATE NOT NULL,
    start_time         TIME NOT NULL,
    end_time           TIME NOT NULL,
    status             ENUM('offered','accepted','taken','expired') NOT NULL DEFAULT 'offered',
    expires_at         DATETIME NOT NULL,
    created_at         DATETIME NOT NULL,
    answered_at        DATETIME NULL,
    booked_schedule_id INT UNSIGNED NULL,
    CONSTRAINT fk_gap_offer_schedule FOREIGN KEY (schedule_id) REFERENCES schedules(id) ON DELETE CASCADE,
    CONSTRAINT fk_gap_offer_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    CONSTRAINT fk_gap_offer_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL,
    CONSTRAINT fk_gap_offer_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    CONSTRAINT fk_gap_offer_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE SET NULL,
    CONSTRAINT fk_gap_offer_booked FOREIGN KEY (booked_schedule_id) REFERENCES schedules(id) ON DELETE SET NULL,
    UNIQUE INDEX uq_gap_offer_slot_student (schedule_id, student_id),
    INDEX idx_gap_offer_student_status (student_id, status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- 0018: lesson packages as an append-only credit ledger (balance = SUM(credits)); the branch fees
-- (late_cancel_fee, no_show_fee: NULL = none; no_show_consumes) on branch_booking_policies
CREATE TABLE IF NOT EXISTS package_ledger (
    id            INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    enrollment_id INT UNSIGNED NOT NULL,
    entry         ENUM('purchase','consume','reverse','adjust','expire','refund') NOT NULL,
    credits       INT NOT NULL,
    schedule_id   INT UNSIGNED NULL,
    source        VARCHAR(20) NOT NULL,
    source_id     INT UNSIGNED NULL,
    reason        VARCHAR(255) NULL,
    expires_on    DATE NULL,
    created_by    INT UNSIGNED NULL,
    created_at    DATETIME NOT NULL,
    CONSTRAINT fk_package_ledger_enrollment FOREIGN KEY (enrollment_id) REFERENCES enrollments(id) ON DELETE CASCADE,
    CONSTRAINT fk_package_ledger_schedule FOREIGN KEY (schedule_id) REFERENCES schedules(id) ON DELETE SET NULL,
    CONSTRAINT fk_package_ledger_created_by FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL,
    INDEX idx_package_ledger_enrollment (enrollment_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE branch_booking_policies ADD COLUMN IF NOT EXISTS late_cancel_fee DECIMAL(10,2) NULL;
ALTER TABLE branch_booking_policies ADD COLUMN IF NOT EXISTS no_show_fee DECIMAL(10,2) NULL;
ALTER TABLE branch_booking_policies ADD COLUMN IF NOT EXISTS no_show_consumes TINYINT(1) NOT NULL DEFAULT 1;

-- 0017: payments ledger (kind, refund_of, reason, idempotency_key, gateway, gateway_reference) and account_credits
ALTER TABLE payments ADD COLUMN IF NOT EXISTS kind VARCHAR(10) NOT NULL DEFAULT 'payment';
ALTER TABLE payments ADD COLUMN IF NOT EXISTS refund_of INT UNSIGNED NULL;
ALTER TABLE payments ADD COLUMN IF NOT EXISTS reason VARCHAR(255) NULL;
ALTER TABLE payments ADD COLUMN IF NOT EXISTS idempotency_key VARCHAR(64) NULL;
ALTER TABLE payments ADD COLUMN IF NOT EXISTS gateway VARCHAR(20) NULL;
ALTER TABLE payments ADD COLUMN IF NOT EXISTS gateway_reference VARCHAR(80) NULL;
CREATE UNIQUE INDEX IF NOT EXISTS uq_payment_idempotency ON payments(idempotency_key);
CREATE INDEX IF NOT EXISTS idx_payment_refund_of ON payments(refund_of);
ALTER TABLE payments ADD CONSTRAINT fk_payment_refund_of FOREIGN KEY IF NOT EXISTS (refund_of) REFERENCES payments(id) ON DELETE SET NULL;

CREATE TABLE IF NOT EXISTS account_credits (
    id         INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    student_id INT UNSIGNED NOT NULL,
    amount     DECIMAL(10,2) NOT NULL,
    source     VARCHAR(12) NOT NULL,
    invoice_id INT UNSIGNED NULL,
    payment_id INT UNSIGNED NULL,
    notes      VARCHAR(255) NULL,
    created_by INT UNSIGNED NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT fk_account_credit_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    CONSTRAINT fk_account_credit_invoice FOREIGN KEY (invoice_id) REFERENCES invoices(id) ON DELETE SET NULL,
    CONSTRAINT fk_account_credit_payment FOREIGN KEY (payment_id) REFERENCES payments(id) ON DELETE SET NULL,
    CONSTRAINT fk_account_credit_created_by FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL,
    INDEX idx_account_credit_student (student_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- 0016: invoices that cannot collide (invoice_counters, one row per year, locked by the issuer),
-- drafts (invoice_number DRAFT-<id> until issued), discount, tax rate and mode, void and credit
-- notes on invoices; kind, credits, discount, waiver and the source lesson on invoice_items
CREATE TABLE IF NOT EXISTS invoice_counters (
    year        INT UNSIGNED NOT NULL PRIMARY KEY,
    last_number INT UNSIGNED NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE invoices MODIFY status ENUM('draft','sent','partial','paid','overdue','void') DEFAULT 'sent';
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS discount_amount DECIMAL(10,2) NOT NULL DEFAULT 0.00;
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS tax_rate DECIMAL(5,2) NOT NULL DEFAULT 10.00;
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS tax_inclusive TINYINT(1) NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS branch_id INT UNSIGNED NULL;
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS issued_at DATETIME NULL;
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS voided_at DATETIME NULL;
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS void_reason VARCHAR(255) NULL;
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS credit_note_for INT UNSIGNED NULL;
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS created_by INT UNSIGNED NULL;
CREATE INDEX IF NOT EXISTS idx_invoices_branch_status ON invoices(branch_id, status, issue_date);
CREATE INDEX IF NOT EXISTS idx_invoices_credit_note_for ON invoices(credit_note_for);
CREATE INDEX IF NOT EXISTS idx_invoices_created_by ON invoices(created_by);
ALTER TABLE invoices ADD CONSTRAINT fk_invoice_branch FOREIGN KEY IF NOT EXISTS (branch_id) REFERENCES branches(id) ON DELETE SET NULL;
ALTER TABLE invoices ADD CONSTRAINT fk_invoice_credit_note_for FOREIGN KEY IF NOT EXISTS (credit_note_for) REFERENCES invoices(id) ON DELETE SET NULL;
ALTER TABLE invoices ADD CONSTRAINT fk_invoice_created_by FOREIGN KEY IF NOT EXISTS (created_by) REFERENCES users(id) ON DELETE SET NULL;

ALTER TABLE invoice_items ADD COLUMN IF NOT EXISTS kind VARCHAR(20) NOT NULL DEFAULT 'course' CHECK (kind IN ('course','lesson','package','fee_late_cancel','fee_no_show','credit','other'));
ALTER TABLE invoice_items ADD COLUMN IF NOT EXISTS credits INT UNSIGNED NOT NULL DEFAULT 0;
ALTER TABLE invoice_items ADD COLUMN IF NOT EXISTS discount DECIMAL(10,2) NOT NULL DEFAULT 0.00;
ALTER TABLE invoice_items ADD COLUMN IF NOT EXISTS waived_at DATETIME NULL;
ALTER TABLE invoice_items ADD COLUMN IF NOT EXISTS waived_by INT UNSIGNED NULL;
ALTER TABLE invoice_items ADD COLUMN IF NOT EXISTS waive_reason VARCHAR(255) NULL;
ALTER TABLE invoice_items ADD COLUMN IF NOT EXISTS schedule_id INT UNSIGNED NULL;
CREATE INDEX IF NOT EXISTS idx_invoice_items_waived_by ON invoice_items(waived_by);
CREATE INDEX IF NOT EXISTS idx_invoice_items_schedule ON invoice_items(schedule_id);
ALTER TABLE invoice_items ADD CONSTRAINT fk_invoice_item_waived_by FOREIGN KEY IF NOT EXISTS (waived_by) REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE invoice_items ADD CONSTRAINT fk_invoice_item_schedule FOREIGN KEY IF NOT EXISTS (schedule_id) REFERENCES schedules(id) ON DELETE SET NULL;

-- 0019: the enrolment pipeline (students.date_of_birth from the public application; the enrolment an
-- approval created; application_attempts for the per-address rate limit of /apply)
ALTER TABLE students ADD COLUMN IF NOT EXISTS date_of_birth DATE NULL;
ALTER TABLE enrollment_requests ADD COLUMN IF NOT EXISTS enrollment_id INT UNSIGNED NULL;

CREATE TABLE IF NOT EXISTS application_attempts (
    id           INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    ip_address   VARCHAR(45) NOT NULL,
    attempted_at DATETIME NOT NULL,
    INDEX idx_application_attempts_ip (ip_address, attempted_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- 0020: finance indexes (issue 9 bench): an invoice's payments with date, amount and kind (covering; replaces
-- the generated fk_payment_invoice index)
CREATE INDEX IF NOT EXISTS idx_payments_invoice_cover ON payments(invoice_id, payment_date, amount, kind);
DROP INDEX IF EXISTS fk_payment_invoice ON payments;

-- 0021: the reminder dispatcher (issue 10): reminder claim/attempt/outcome columns and the wider
-- ENUMs, the delivery log, notification links, contact preferences, dispatcher runs, broadcast segments
ALTER TABLE reminders MODIFY related_type ENUM('invoice','schedule','communication','enrollment_request','instructor','gap_offer') NOT NULL;
ALTER TABLE reminders MODIFY status ENUM('pending','sent','cancelled','processing','failed','dead','unknown','skipped') DEFAULT 'pending';
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS idempotency_key VARCHAR(160) NULL;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS transactional TINYINT(1) NOT NULL DEFAULT 0;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS attempts SMALLINT UNSIGNED NOT NULL DEFAULT 0;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS max_attempts SMALLINT UNSIGNED NULL;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS next_attempt_at DATETIME NULL;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS claim_token CHAR(32) NULL;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS claimed_at DATETIME NULL;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS lease_until DATETIME NULL;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS last_error VARCHAR(255) NULL;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS sent_at DATETIME NULL;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS delivery_channel VARCHAR(6) NULL;
CREATE UNIQUE INDEX IF NOT EXISTS uq_reminder_idempotency ON reminders(idempotency_key);
CREATE INDEX IF NOT EXISTS idx_reminder_lease ON reminders(lease_until);

CREATE TABLE IF NOT EXISTS message_deliveries (
    id                  INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    reminder_id         INT UNSIGNED NOT NULL,
    attempt             SMALLINT UNSIGNED NOT NULL,
    channel             ENUM('email','sms','in-app') NOT NULL,
    backend             VARCHAR(20) NOT NULL,
    address             VARCHAR(160) NULL,
    state               ENUM('queued','sent','failed','bounced','unknown') NOT NULL,
    provider_message_id VARCHAR(160) NULL,
    error               VARCHAR(255) NULL,
    created_at          DATETIME NOT NULL,
    finished_at         DATETIME NULL,
    UNIQUE KEY uq_delivery_attempt (reminder_id, attempt, channel),
    INDEX idx_delivery_provider (provider_message_id),
    CONSTRAINT fk_delivery_reminder FOREIGN KEY (reminder_id) REFERENCES reminders(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE notifications ADD COLUMN IF NOT EXISTS reminder_id INT UNSIGNED NULL;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS related_type VARCHAR(30) NULL;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS related_id INT UNSIGNED NULL;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS kind VARCHAR(16) NULL;
CREATE UNIQUE INDEX IF NOT EXISTS uq_notification_reminder ON notifications(reminder_id);

CREATE TABLE IF NOT EXISTS contact_preferences (
    user_id        INT UNSIGNED NOT NULL PRIMARY KEY,
    email_opt_out  TINYINT(1) NOT NULL DEFAULT 0,
    sms_opt_out    TINYINT(1) NOT NULL DEFAULT 0,
    in_app_opt_out TINYINT(1) NOT NULL DEFAULT 0,
    updated_at     DATETIME NOT NULL,
    CONSTRAINT fk_contact_pref_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS dispatcher_runs (
    id          INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    host        VARCHAR(120) NOT NULL,
    pid         INT UNSIGNED NOT NULL,
    dry_run     TINYINT(1) NOT NULL DEFAULT 0,
    started_at  DATETIME NOT NULL,
    finished_at DATETIME NULL,
    status      ENUM('running','ok','failed') NOT NULL DEFAULT 'running',
    claimed     INT UNSIGNED NOT NULL DEFAULT 0,
    sent        INT UNSIGNED NOT NULL DEFAULT 0,
    failed      INT UNSIGNED NOT NULL DEFAULT 0,
    skipped     INT UNSIGNED NOT NULL DEFAULT 0,
    flagged     INT UNSIGNED NOT NULL DEFAULT 0,
    held        INT UNSIGNED NOT NULL DEFAULT 0,
    error       VARCHAR(255) NULL,
    INDEX idx_dispatcher_runs_started (started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE communications ADD COLUMN IF NOT EXISTS branch_id INT UNSIGNED NULL;
ALTER TABLE communications ADD COLUMN IF NOT EXISTS segment VARCHAR(20) NULL;
ALTER TABLE communications ADD COLUMN IF NOT EXISTS segment_value VARCHAR(80) NULL;
ALTER TABLE communications ADD COLUMN IF NOT EXISTS recipient_count INT UNSIGNED NOT NULL DEFAULT 0;
ALTER TABLE communications ADD CONSTRAINT fk_comm_branch FOREIGN KEY IF NOT EXISTS (branch_id) REFERENCES branches(id) ON DELETE SET NULL;

-- 0022: security (issue 11): the TOTP second factor, recovery codes, the re-authentication time of a
-- session and the anonymisation time of a former student
CREATE TABLE IF NOT EXISTS user_second_factors (
    user_id        INT UNSIGNED NOT NULL PRIMARY KEY,
    secret         VARCHAR(255) NOT NULL,
    enabled_at     DATETIME NULL,
    last_used_step BIGINT NULL,
    created_at     DATETIME NOT NULL,
    CONSTRAINT fk_second_factor_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS recovery_codes (
    id         INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    user_id    INT UNSIGNED NOT NULL,
    code_hash  CHAR(64) NOT NULL,
    used_at    DATETIME NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT fk_recovery_codes_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    UNIQUE INDEX uq_recovery_codes_user_hash (user_id, code_hash)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE user_sessions ADD COLUMN IF NOT EXISTS reauthenticated_at DATETIME NULL;
ALTER TABLE users ADD COLUMN IF NOT EXISTS anonymised_at DATETIME NULL;

-- ---- 0023_statistics (helper stats): begin ------------------------------------------------------
-- Maintained aggregates (issue 13): summary rows refreshed by `flask refresh-stats`
-- (app/services/stats.py), read by the lists, dashboards and reports; stat_freshness says when.
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
-- ---- 0023_statistics (helper stats): end --------------------------------------------------------

-- ---- 0026_report_indexes (helper reports): begin ------------------------------------------------
-- The Reports module's indexes (issue 13): events by type, outcome, enrolment and date (lessons to
-- licence, the progress breakdown), enrolments by start date (retention), users by role and status, invoices for ageing.
CREATE INDEX IF NOT EXISTS idx_schedule_type_status_enrolment ON schedules(event_type, status, enrollment_id, scheduled_date, start_time);
CREATE INDEX IF NOT EXISTS idx_enrollments_start ON enrollments(start_date, status);
CREATE INDEX IF NOT EXISTS idx_users_role_status ON users(role, status);
CREATE INDEX IF NOT EXISTS idx_invoices_ageing ON invoices(status, due_date, issue_date, credit_note_for, branch_id, enrollment_id, total);
-- ---- 0026_report_indexes (helper reports): end --------------------------------------------------
-- ---- 0032_lookup_indexes (lead): begin ----------------------------------------------------------
-- Students by licence number: the enrolment-request page's possible duplicates, the application's check.
CREATE INDEX IF NOT EXISTS idx_students_license_number ON students (license_number);
-- ---- 0032_lookup_indexes (lead): end ------------------------------------------------------------

-- ---- 0024_scale_indexes (helper pagespeed): begin -------------------------------------------------
-- Page speed at national-chain size (issue 13): an instructor's lessons with their enrolment (their
-- students), pending requests with their student (navigation badge), an instructor's unavailability
-- by end and start (conflicts badge), active enrolments per course and per student as index ranges;
-- each replaces the one-column index it extends.
CREATE INDEX IF NOT EXISTS idx_schedule_instructor_enrolment ON schedules(instructor_id, enrollment_id);
DROP INDEX IF EXISTS idx_schedule_instructor ON schedules;
CREATE INDEX IF NOT EXISTS idx_request_status_student ON enrollment_requests(status, student_id);
DROP INDEX IF EXISTS idx_request_status ON enrollment_requests;
CREATE INDEX IF NOT EXISTS idx_unavailability_instructor_window ON instructor_unavailability(instructor_id, end_datetime, start_datetime);
DROP INDEX IF EXISTS idx_unavailability_instructor ON instructor_unavailability;
CREATE INDEX IF NOT EXISTS idx_enrollments_course_status ON enrollments(course_id, status);
DROP INDEX IF EXISTS fk_enroll_course ON enrollments;
CREATE INDEX IF NOT EXISTS idx_enrollments_student_status ON enrollments(student_id, status);
DROP INDEX IF EXISTS fk_enroll_student ON enrollments;
-- ---- 0024_scale_indexes (helper pagespeed): end ---------------------------------------------------

-- ---- 0025_dashboard_indexes (helper dashboards): begin --------------------------------------------
-- The role dashboards (issue 13): a branch's lessons still scheduled by date and end time (the
-- branch's "awaiting an outcome" count).
CREATE INDEX IF NOT EXISTS idx_schedule_branch_status_date ON schedules(branch_id, status, scheduled_date, end_time);
-- ---- 0025_dashboard_indexes (helper dashboards): end ----------------------------------------------

-- ---- 0029_report_summaries (helper reports2): begin ---------------------------------------------
-- (issue 13; app/dao/stats.py says what every column means, docs/reports.md how the reports use them).
-- stat_enrolment_progress: one row per enrolment: the student's branch (0 = none), start date, status,
-- the course's lesson count and the enrolment's completed lessons (retention and progress).
-- stat_invoice_owing: one row per invoice owing something on the refresh day (as_of): its scope
-- branch (the invoice's, else its student's; 0 = none), dates, total and the amount owing (ageing).
-- stat_licence_pass: one row per student with a passed drive test: the first pass and the completed
-- lessons of all the student's enrolments before it (lessons to licence).
-- No foreign keys: the rows are derived and replaced whole at each refresh (flask refresh-stats).

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
-- ---- 0029_report_summaries (helper reports2): end -----------------------------------------------

-- ---- 0027_list_speed (helper lists2): begin ------------------------------------------------------
-- The office lists at national-chain size (issue 13): users by first name and by phone, so the
-- school-wide students search (the start of a name, e-mail or phone) reads index ranges.
CREATE INDEX IF NOT EXISTS idx_users_first_name ON users(first_name);
CREATE INDEX IF NOT EXISTS idx_users_phone ON users(phone);
-- stat_invoice_totals / stat_payment_totals (summaries "invoice_totals" and "payment_totals", refreshed by
-- flask refresh-stats; app/dao/stats.py): invoices per scope branch (the invoice's, else its student's;
-- 0 = none) and status with their total and paid amounts, and payments per scope branch, method and kind
-- with their amount. The invoice and payment lists show the whole chain's totals from them ("as of").
CREATE TABLE IF NOT EXISTS stat_invoice_totals (
    branch_id INT UNSIGNED NOT NULL DEFAULT 0,
    status    VARCHAR(20) NOT NULL,
    invoices  INT NOT NULL DEFAULT 0,
    total     DECIMAL(14,2) NOT NULL DEFAULT 0,
    paid      DECIMAL(14,2) NOT NULL DEFAULT 0,
    PRIMARY KEY (branch_id, status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS stat_payment_totals (
    branch_id INT UNSIGNED NOT NULL DEFAULT 0,
    method    VARCHAR(40) NOT NULL DEFAULT '',
    kind      VARCHAR(10) NOT NULL DEFAULT 'payment',
    entries   INT NOT NULL DEFAULT 0,
    amount    DECIMAL(14,2) NOT NULL DEFAULT 0,
    PRIMARY KEY (branch_id, method, kind)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
-- ---- 0027_list_speed (helper lists2): end --------------------------------------------------------

-- ---- 0030_branch_totals (helper branchstats): begin ----------------------------------------
-- stat_branch_totals: the dashboard's school and branch population counts
-- (issue 13; app/dao/stats.py says what every column means). One row per student branch (0 = none):
-- active student accounts, those of them with an active or in-progress enrolment (learning) and with a
-- completed one, and the enrolment requests pending and approved (by the requesting student's branch).
-- The admin dashboard sums the rows, a staff member's reads their branch's row.
-- No foreign keys: the rows are derived and replaced whole at each refresh (flask refresh-stats).

CREATE TABLE IF NOT EXISTS stat_branch_totals (
    branch_id          INT NOT NULL PRIMARY KEY,
    active_students    INT NOT NULL DEFAULT 0,
    learning_students  INT NOT NULL DEFAULT 0,
    completed_students INT NOT NULL DEFAULT 0,
    pending_requests   INT NOT NULL DEFAULT 0,
    approved_requests  INT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
-- ---- 0030_branch_totals (helper branchstats): end ------------------------------------------
-- ---- 0033_course_totals (lead): begin ----------------------------------------------------------
-- stat_course_totals: the course list's active students per course (enrolments active or in progress),
-- counted by flask refresh-stats, not on every page view. Derived rows, replaced whole at each refresh.
CREATE TABLE IF NOT EXISTS stat_course_totals (
    course_id          INT NOT NULL PRIMARY KEY,
    active_enrolments  INT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
-- ---- 0033_course_totals (lead): end ------------------------------------------------------------
-- ---- 0031_audit_checkpoints (helper auditcheck): begin --------------------------------------
-- audit_verifications: the results of the full audit chain checks (flask verify-audit, nightly), one
-- row per run, ok or not, with the last audit_trail row verified (id and row_hash) and, on failure,
-- the first bad row and why. /audit/verify checks only the entries after the newest ok row.
-- No foreign keys: a record of a check outlives any change.

CREATE TABLE IF NOT EXISTS audit_verifications (
    id           INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    verified_at  DATETIME NOT NULL,
    checked      INT UNSIGNED NOT NULL DEFAULT 0,
    last_id      INT UNSIGNED NULL,
    last_hash    CHAR(64) NULL,
    ok           TINYINT(1) NOT NULL DEFAULT 0,
    first_bad_id INT UNSIGNED NULL,
    reason       VARCHAR(255) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
-- ---- 0031_audit_checkpoints (helper auditcheck): end ----------------------------------------
-- ---- 0028_queue_speed (helper queues2): begin ------------------------------------------------
-- The queues at national-chain size (issue 13): the conflicts panel and badge start from the windows not
-- ended yet; the reminder queue's capped counts per status (admin; staff through the branch's
-- recipients; it replaces fk_reminder_user, as InnoDB drops its generated one), its type choices (a loose index scan) and its due order served by indexes.
CREATE INDEX IF NOT EXISTS idx_unavailability_end ON instructor_unavailability (end_datetime, start_datetime, instructor_id);
CREATE INDEX IF NOT EXISTS idx_downtime_end ON vehicle_downtime (end_datetime, start_datetime, vehicle_id);
CREATE INDEX IF NOT EXISTS idx_reminder_status_channel_type ON reminders (status, channel, reminder_type);
CREATE INDEX IF NOT EXISTS idx_reminder_recipient_queue ON reminders (recipient_user_id, status, channel, reminder_type, send_at, send_on);
DROP INDEX IF EXISTS fk_reminder_user ON reminders;
CREATE INDEX IF NOT EXISTS idx_reminder_type ON reminders (reminder_type);
CREATE INDEX IF NOT EXISTS idx_reminder_send_at ON reminders (send_at);
CREATE INDEX IF NOT EXISTS idx_reminder_send_at_on ON reminders (send_at, send_on);
-- ---- 0028_queue_speed (helper queues2): end --------------------------------------------------
-- ---- 0034_staff_list_speed (helper stafflists): begin ---------------------------------------------
-- A branch's invoices with what the invoice list and the payments ledger read of them (issue 13): the
-- page pick in issue-date order, the sums and the branch rule without reading the invoice rows; it
-- extends idx_invoices_branch_status, dropped. The whole school's request queue newest first within a
-- status.
CREATE INDEX IF NOT EXISTS idx_invoices_branch_cover ON invoices (branch_id, status, issue_date, total, enrollment_id);
DROP INDEX IF EXISTS idx_invoices_branch_status ON invoices;
CREATE INDEX IF NOT EXISTS idx_request_status_created ON enrollment_requests (status, created_at);
-- ---- 0034_staff_list_speed (helper stafflists): end -----------------------------------------------
-- ---- 0035_instructor_range (lead): begin ---------------------------------------------------
-- stat_instructor_range: the instructor reports' default ranges (the last 12 and the last 3 months, as
-- of the refresh day) summed per instructor and branch from stat_instructor_month by flask refresh-stats,
-- so the default report page reads 2,000 rows at scale L instead of grouping 24,000 monthly rows on every
-- view. Any other range is still summed from stat_instructor_month. Derived rows, replaced whole.
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
-- ---- 0035_instructor_range (lead): end -----------------------------------------------------
