-- Origin: full current schema for SQLite, twin of sql/database.sql. Used by `flask init-db`.
--
-- Same tables, column names and order, constraint names and index names as the
-- MariaDB file (one exception: documents.uploaded_by, added by 0004, has an unnamed
-- column-level REFERENCES, because SQLite cannot add a named constraint to an existing
-- table and init-db and db-upgrade must agree). Translation: INT UNSIGNED AUTO_INCREMENT PRIMARY KEY becomes
-- INTEGER PRIMARY KEY AUTOINCREMENT, other integer types become INTEGER (with CHECKs
-- for UNSIGNED ranges and TINYINT(1) booleans), ENUM becomes VARCHAR(n) with a CHECK
-- (n = longest value), ON UPDATE / ENGINE / CHARSET are dropped (DAOs set updated_at).
-- DATE, DATETIME, TIME and DECIMAL are kept as declared type names because the app
-- registers sqlite3 converters for them. Inline UNIQUE columns become named unique
-- indexes (MariaDB names them after the column), and every index InnoDB creates
-- implicitly for a foreign key is created explicitly under the constraint's name.
-- Run with PRAGMA foreign_keys = ON.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

-- -------------------------------------------------------------------------------------------------
-- Migration ledger (see app/core/schema.py)
-- -------------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS schema_migrations (
    version    VARCHAR(40) NOT NULL PRIMARY KEY,
    name       VARCHAR(160) NOT NULL,
    applied_at DATETIME NOT NULL
);

-- -------------------------------------------------------------------------------------------------
-- The 22 tables of the original PHP schema (users gains two 0002 columns at the end,
-- audit_trail, vehicles and documents gain 0004 columns at the end, branches, schedules
-- and reminders 0008 columns at the end)
-- -------------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS branches (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
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
    updated_at    DATETIME DEFAULT CURRENT_TIMESTAMP,
    timezone      VARCHAR(64) NULL
);

CREATE TABLE IF NOT EXISTS users (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    role                VARCHAR(10) NOT NULL CHECK (role IN ('admin','staff','instructor','student')),
    first_name          VARCHAR(80) NOT NULL,
    last_name           VARCHAR(80) NOT NULL,
    email               VARCHAR(160) NOT NULL,
    phone               VARCHAR(32) NULL,
    password_hash       VARCHAR(255) NOT NULL,
    status              VARCHAR(8) NOT NULL DEFAULT 'active' CHECK (status IN ('active','archived')),
    branch_id           INTEGER NULL,
    created_at          DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at          DATETIME DEFAULT CURRENT_TIMESTAMP,
    last_login_at       DATETIME NULL,
    password_changed_at DATETIME NULL,
    CONSTRAINT fk_users_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS email ON users(email);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_users_branch ON users(branch_id);

CREATE TABLE IF NOT EXISTS students (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id                 INTEGER NOT NULL,
    branch_id               INTEGER NULL,
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
    updated_at              DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_students_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    CONSTRAINT fk_students_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL
);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_students_user ON students(user_id);
CREATE INDEX IF NOT EXISTS fk_students_branch ON students(branch_id);

CREATE TABLE IF NOT EXISTS instructors (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id              INTEGER NOT NULL,
    branch_id            INTEGER NULL,
    certification_number VARCHAR(80) NULL,
    accreditation_expiry DATE NULL,
    experience_years     INTEGER DEFAULT 0 CHECK (experience_years >= 0),
    availability_notes   TEXT NULL,
    bio                  TEXT NULL,
    rating               DECIMAL(3,2) NULL,
    created_at           DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at           DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_instructors_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    CONSTRAINT fk_instructors_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL
);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_instructors_user ON instructors(user_id);
CREATE INDEX IF NOT EXISTS fk_instructors_branch ON instructors(branch_id);

CREATE TABLE IF NOT EXISTS staff_profiles (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         INTEGER NOT NULL,
    branch_id       INTEGER NULL,
    position_title  VARCHAR(100) NULL,
    employment_type VARCHAR(40) NULL,
    start_date      DATE NULL,
    notes           TEXT NULL,
    created_at      DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at      DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_staff_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    CONSTRAINT fk_staff_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL
);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_staff_user ON staff_profiles(user_id);
CREATE INDEX IF NOT EXISTS fk_staff_branch ON staff_profiles(branch_id);

CREATE TABLE IF NOT EXISTS courses (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    title        VARCHAR(160) NOT NULL,
    description  TEXT NULL,
    price        DECIMAL(10,2) NOT NULL,
    lesson_count INTEGER NOT NULL CHECK (lesson_count >= 0),
    category     VARCHAR(80) NULL,
    status       VARCHAR(8) DEFAULT 'active' CHECK (status IN ('active','inactive')),
    created_at   DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at   DATETIME DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE IF NOT EXISTS course_instructor (
    course_id     INTEGER NOT NULL,
    instructor_id INTEGER NOT NULL,
    PRIMARY KEY (course_id, instructor_id),
    CONSTRAINT fk_ci_course FOREIGN KEY (course_id) REFERENCES courses(id) ON DELETE CASCADE,
    CONSTRAINT fk_ci_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE
);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_ci_instructor ON course_instructor(instructor_id);

CREATE TABLE IF NOT EXISTS vehicles (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              VARCHAR(120) NOT NULL,
    type              VARCHAR(80) NULL,
    transmission      VARCHAR(20) NULL,
    plate_number      VARCHAR(20),
    vin               VARCHAR(50) NULL,
    branch_id         INTEGER NULL,
    status            VARCHAR(11) DEFAULT 'available' CHECK (status IN ('available','in_service','maintenance')),
    last_service_date DATE NULL,
    next_service_due  DATE NULL,
    notes             TEXT NULL,
    created_at        DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at        DATETIME DEFAULT CURRENT_TIMESTAMP,
    odometer_km       INTEGER NULL CHECK (odometer_km >= 0),
    CONSTRAINT fk_vehicles_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS plate_number ON vehicles(plate_number);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_vehicles_branch ON vehicles(branch_id);

CREATE TABLE IF NOT EXISTS enrollments (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    student_id          INTEGER NOT NULL,
    course_id           INTEGER NOT NULL,
    start_date          DATE NOT NULL,
    status              VARCHAR(11) DEFAULT 'active' CHECK (status IN ('active','in_progress','completed','cancelled')),
    progress_percentage INTEGER DEFAULT 0 CHECK (progress_percentage >= 0),
    notes               TEXT NULL,
    created_at          DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at          DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_enroll_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    CONSTRAINT fk_enroll_course FOREIGN KEY (course_id) REFERENCES courses(id) ON DELETE CASCADE
);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_enroll_student ON enrollments(student_id);
CREATE INDEX IF NOT EXISTS fk_enroll_course ON enrollments(course_id);

CREATE TABLE IF NOT EXISTS enrollment_requests (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    student_id     INTEGER NOT NULL,
    course_id      INTEGER NOT NULL,
    preferred_date DATE NULL,
    preferred_time TIME NULL,
    status         VARCHAR(8) DEFAULT 'pending' CHECK (status IN ('pending','approved','declined')),
    instructor_id  INTEGER NULL,
    student_notes  TEXT NULL,
    admin_notes    TEXT NULL,
    decision_by    INTEGER NULL,
    decision_at    DATETIME NULL,
    created_at     DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at     DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_request_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    CONSTRAINT fk_request_course FOREIGN KEY (course_id) REFERENCES courses(id) ON DELETE CASCADE,
    CONSTRAINT fk_request_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE SET NULL,
    CONSTRAINT fk_request_decision_user FOREIGN KEY (decision_by) REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS idx_request_status ON enrollment_requests(status);
CREATE INDEX IF NOT EXISTS idx_request_instructor ON enrollment_requests(instructor_id);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_request_student ON enrollment_requests(student_id);
CREATE INDEX IF NOT EXISTS fk_request_course ON enrollment_requests(course_id);
CREATE INDEX IF NOT EXISTS fk_request_decision_user ON enrollment_requests(decision_by);

CREATE TABLE IF NOT EXISTS schedules (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    enrollment_id        INTEGER NOT NULL,
    instructor_id        INTEGER NOT NULL,
    vehicle_id           INTEGER NULL,
    branch_id            INTEGER NULL,
    event_type           VARCHAR(10) DEFAULT 'lesson' CHECK (event_type IN ('lesson','exam','assessment')),
    scheduled_date       DATE NOT NULL,
    start_time           TIME NOT NULL,
    end_time             TIME NOT NULL,
    status               VARCHAR(13) DEFAULT 'scheduled' CHECK (status IN ('scheduled','completed','cancelled','not_completed','no_show')),
    student_rating       INTEGER NULL CHECK (student_rating BETWEEN 0 AND 255),
    student_feedback     TEXT NULL,
    completion_marked_by INTEGER NULL,
    completion_marked_at DATETIME NULL,
    lesson_topic         VARCHAR(160) NULL,
    notes                TEXT NULL,
    reminder_sent        INTEGER DEFAULT 0 CHECK (reminder_sent IN (0,1)),
    created_at           DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at           DATETIME DEFAULT CURRENT_TIMESTAMP,
    cancelled_at         DATETIME NULL,
    cancelled_by         INTEGER NULL,
    cancel_reason        VARCHAR(255) NULL,
    pickup_location      VARCHAR(255) NULL,
    CONSTRAINT fk_schedule_enrollment FOREIGN KEY (enrollment_id) REFERENCES enrollments(id) ON DELETE CASCADE,
    CONSTRAINT fk_schedule_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    CONSTRAINT fk_schedule_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE SET NULL,
    CONSTRAINT fk_schedule_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL,
    CONSTRAINT fk_schedule_completed_by FOREIGN KEY (completion_marked_by) REFERENCES users(id) ON DELETE SET NULL,
    CONSTRAINT fk_schedule_cancelled_by FOREIGN KEY (cancelled_by) REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS idx_schedule_date ON schedules(scheduled_date);
CREATE INDEX IF NOT EXISTS idx_schedule_instructor ON schedules(instructor_id);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_schedule_completed_by ON schedules(completion_marked_by);
CREATE INDEX IF NOT EXISTS fk_schedule_cancelled_by ON schedules(cancelled_by);
-- no fk_schedule_vehicle: InnoDB drops it once 0003's index on (vehicle_id, ...) exists (see the end)
-- no fk_schedule_enrollment: InnoDB drops it once 0008's index on (enrollment_id, ...) exists
-- no fk_schedule_branch: InnoDB drops it once 0009's index on (branch_id, ...) exists

CREATE TABLE IF NOT EXISTS instructor_unavailability (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    instructor_id  INTEGER NOT NULL,
    start_datetime DATETIME NOT NULL,
    end_datetime   DATETIME NOT NULL,
    reason         VARCHAR(160) NULL,
    created_at     DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at     DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_unavailability_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS idx_unavailability_instructor ON instructor_unavailability(instructor_id);
CREATE INDEX IF NOT EXISTS idx_unavailability_window ON instructor_unavailability(start_datetime, end_datetime);

CREATE TABLE IF NOT EXISTS invoices (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    enrollment_id  INTEGER NOT NULL,
    invoice_number VARCHAR(40) NOT NULL,
    issue_date     DATE NOT NULL,
    due_date       DATE NOT NULL,
    subtotal       DECIMAL(10,2) NOT NULL,
    tax_amount     DECIMAL(10,2) NOT NULL,
    total          DECIMAL(10,2) NOT NULL,
    status         VARCHAR(7) DEFAULT 'sent' CHECK (status IN ('sent','partial','paid','overdue')),
    notes          TEXT NULL,
    created_at     DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at     DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_invoice_enrollment FOREIGN KEY (enrollment_id) REFERENCES enrollments(id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX IF NOT EXISTS invoice_number ON invoices(invoice_number);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_invoice_enrollment ON invoices(enrollment_id);

CREATE TABLE IF NOT EXISTS invoice_items (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    invoice_id  INTEGER NOT NULL,
    description VARCHAR(255) NOT NULL,
    quantity    INTEGER NOT NULL CHECK (quantity >= 0),
    unit_price  DECIMAL(10,2) NOT NULL,
    total       DECIMAL(10,2) NOT NULL,
    CONSTRAINT fk_item_invoice FOREIGN KEY (invoice_id) REFERENCES invoices(id) ON DELETE CASCADE
);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_item_invoice ON invoice_items(invoice_id);

CREATE TABLE IF NOT EXISTS payments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    invoice_id   INTEGER NOT NULL,
    amount       DECIMAL(10,2) NOT NULL,
    payment_date DATE NOT NULL,
    method       VARCHAR(40) NULL,
    reference    VARCHAR(80) NULL,
    notes        TEXT NULL,
    recorded_by  INTEGER NULL,
    created_at   DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at   DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_payment_invoice FOREIGN KEY (invoice_id) REFERENCES invoices(id) ON DELETE CASCADE,
    CONSTRAINT fk_payment_user FOREIGN KEY (recorded_by) REFERENCES users(id) ON DELETE SET NULL
);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_payment_invoice ON payments(invoice_id);
CREATE INDEX IF NOT EXISTS fk_payment_user ON payments(recorded_by);

CREATE TABLE IF NOT EXISTS reminders (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    related_type      VARCHAR(18) NOT NULL CHECK (related_type IN ('invoice','schedule','communication','enrollment_request','instructor','gap_offer')),
    related_id        INTEGER NOT NULL CHECK (related_id >= 0),
    recipient_user_id INTEGER NOT NULL,
    channel           VARCHAR(6) DEFAULT 'sms' CHECK (channel IN ('email','sms','in-app')),
    reminder_type     VARCHAR(80) NOT NULL,
    message           TEXT NOT NULL,
    send_on           DATE NOT NULL,
    status            VARCHAR(10) DEFAULT 'pending' CHECK (status IN ('pending','sent','cancelled','processing','failed','dead','unknown','skipped')),
    created_at        DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at        DATETIME DEFAULT CURRENT_TIMESTAMP,
    send_at           DATETIME NULL,
    idempotency_key   VARCHAR(160) NULL,
    transactional     INTEGER NOT NULL DEFAULT 0 CHECK (transactional IN (0,1)),
    attempts          INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts      INTEGER NULL CHECK (max_attempts >= 0),
    next_attempt_at   DATETIME NULL,
    claim_token       CHAR(32) NULL,
    claimed_at        DATETIME NULL,
    lease_until       DATETIME NULL,
    last_error        VARCHAR(255) NULL,
    sent_at           DATETIME NULL,
    delivery_channel  VARCHAR(6) NULL,
    CONSTRAINT fk_reminder_user FOREIGN KEY (recipient_user_id) REFERENCES users(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS idx_reminder_status_send ON reminders(status, send_on);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_reminder_user ON reminders(recipient_user_id);

CREATE TABLE IF NOT EXISTS notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL,
    title      VARCHAR(160) NOT NULL,
    message    TEXT NOT NULL,
    level      VARCHAR(7) DEFAULT 'info' CHECK (level IN ('info','success','warning','danger')),
    is_read    INTEGER DEFAULT 0 CHECK (is_read IN (0,1)),
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_notification_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
);
-- no fk_notification_user: InnoDB drops it once 0003's index on (user_id, ...) exists (see the end)

CREATE TABLE IF NOT EXISTS communications (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_user_id INTEGER NULL,
    audience_scope VARCHAR(40) NOT NULL,
    channel        VARCHAR(6) NOT NULL CHECK (channel IN ('email','sms','in-app')),
    subject        VARCHAR(160) NULL,
    message        TEXT NOT NULL,
    created_at     DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_comm_sender FOREIGN KEY (sender_user_id) REFERENCES users(id) ON DELETE SET NULL
);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_comm_sender ON communications(sender_user_id);

CREATE TABLE IF NOT EXISTS communication_recipients (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    communication_id INTEGER NOT NULL,
    user_id          INTEGER NOT NULL,
    CONSTRAINT fk_cr_comm FOREIGN KEY (communication_id) REFERENCES communications(id) ON DELETE CASCADE,
    CONSTRAINT fk_cr_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_cr_comm ON communication_recipients(communication_id);
CREATE INDEX IF NOT EXISTS fk_cr_user ON communication_recipients(user_id);

CREATE TABLE IF NOT EXISTS documents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL,
    file_name   VARCHAR(160) NOT NULL,
    file_path   VARCHAR(160) NOT NULL,
    mime_type   VARCHAR(80) NULL,
    file_size   INTEGER NULL CHECK (file_size >= 0),
    category    VARCHAR(80) NULL,
    notes       VARCHAR(160) NULL,
    created_at  DATETIME DEFAULT CURRENT_TIMESTAMP,
    expiry_date DATE NULL,
    sha256      CHAR(64) NULL,
    uploaded_by INTEGER NULL REFERENCES users(id) ON DELETE SET NULL,
    CONSTRAINT fk_document_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_document_user ON documents(user_id);
CREATE INDEX IF NOT EXISTS fk_document_uploader ON documents(uploaded_by);

CREATE TABLE IF NOT EXISTS notes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    related_type   VARCHAR(10) NOT NULL CHECK (related_type IN ('student','instructor','staff')),
    related_id     INTEGER NOT NULL CHECK (related_id >= 0),
    author_user_id INTEGER NULL,
    content        TEXT NOT NULL,
    created_at     DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_note_author FOREIGN KEY (author_user_id) REFERENCES users(id) ON DELETE SET NULL
);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_note_author ON notes(author_user_id);

CREATE TABLE IF NOT EXISTS audit_trail (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NULL,
    action      VARCHAR(80) NOT NULL,
    entity_type VARCHAR(80) NULL,
    entity_id   INTEGER NULL CHECK (entity_id >= 0),
    details     TEXT NULL,
    created_at  DATETIME DEFAULT CURRENT_TIMESTAMP,
    actor_role  VARCHAR(20) NULL,
    ip_address  VARCHAR(45) NULL,
    before_json TEXT NULL,
    after_json  TEXT NULL,
    prev_hash   CHAR(64) NULL,
    row_hash    CHAR(64) NULL,
    CONSTRAINT fk_audit_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE SET NULL
);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_audit_user ON audit_trail(user_id);

-- -------------------------------------------------------------------------------------------------
-- 0002_auth_sessions: server-side sessions and login throttling
-- -------------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS user_sessions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id          INTEGER NOT NULL,
    token_hash       CHAR(64) NOT NULL,
    created_at       DATETIME NOT NULL,
    last_seen_at     DATETIME NOT NULL,
    ip_address       VARCHAR(45) NULL,
    user_agent       VARCHAR(255) NULL,
    second_factor_at DATETIME NULL,
    CONSTRAINT fk_user_sessions_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_user_sessions_token ON user_sessions(token_hash);
CREATE INDEX IF NOT EXISTS idx_user_sessions_user ON user_sessions(user_id);

CREATE TABLE IF NOT EXISTS login_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    email        VARCHAR(160) NOT NULL,
    user_id      INTEGER NULL,
    ip_address   VARCHAR(45) NULL,
    succeeded    INTEGER NOT NULL DEFAULT 0 CHECK (succeeded IN (0,1)),
    attempted_at DATETIME NOT NULL,
    CONSTRAINT fk_login_attempts_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS idx_login_attempts_email_time ON login_attempts(email, attempted_at);
CREATE INDEX IF NOT EXISTS idx_login_attempts_user ON login_attempts(user_id);

-- -------------------------------------------------------------------------------------------------
-- 0003_query_indexes: indexes the original lacked (spec 8.3.9)
-- -------------------------------------------------------------------------------------------------

-- Same statements as the migration. fk_schedule_vehicle and fk_notification_user are
-- not created above: InnoDB drops those generated FK indexes once
-- idx_schedule_vehicle_date and idx_notifications_user_read lead with the FK column,
-- and migration 0003 drops them in SQLite too.
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

-- The new columns of audit_trail, vehicles and documents are declared in their tables
-- above, at the end as the migration appends them (documents.uploaded_by with the same
-- column-level REFERENCES as the migration's ALTER TABLE). A foreign key whose column
-- leads a declared index gets no fk_* index (InnoDB creates none for it).
CREATE TABLE IF NOT EXISTS instructor_working_hours (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    instructor_id INTEGER NOT NULL,
    weekday       INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_time    TIME NOT NULL,
    end_time      TIME NOT NULL,
    created_at    DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at    DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_working_hours_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS idx_working_hours_instructor ON instructor_working_hours(instructor_id, weekday);

CREATE TABLE IF NOT EXISTS vehicle_service_logs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    vehicle_id   INTEGER NOT NULL,
    service_date DATE NOT NULL,
    odometer_km  INTEGER NULL CHECK (odometer_km >= 0),
    cost         DECIMAL(10,2) NULL,
    notes        TEXT NULL,
    recorded_by  INTEGER NULL,
    created_at   DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_service_log_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE CASCADE,
    CONSTRAINT fk_service_log_user FOREIGN KEY (recorded_by) REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS idx_service_log_vehicle_date ON vehicle_service_logs(vehicle_id, service_date);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_service_log_user ON vehicle_service_logs(recorded_by);

CREATE TABLE IF NOT EXISTS vehicle_downtime (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    vehicle_id     INTEGER NOT NULL,
    start_datetime DATETIME NOT NULL,
    end_datetime   DATETIME NOT NULL,
    reason         VARCHAR(160) NULL,
    created_at     DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at     DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_downtime_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS idx_downtime_vehicle_window ON vehicle_downtime(vehicle_id, start_datetime, end_datetime);

CREATE TABLE IF NOT EXISTS account_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL,
    purpose    VARCHAR(10) NOT NULL CHECK (purpose IN ('activation','reset')),
    token_hash CHAR(64) NOT NULL,
    expires_at DATETIME NOT NULL,
    used_at    DATETIME NULL,
    created_by INTEGER NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT fk_account_tokens_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    CONSTRAINT fk_account_tokens_creator FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_account_tokens_hash ON account_tokens(token_hash);
CREATE INDEX IF NOT EXISTS idx_account_tokens_user ON account_tokens(user_id, purpose);
-- indexes InnoDB creates implicitly for foreign keys (named after the constraint)
CREATE INDEX IF NOT EXISTS fk_account_tokens_creator ON account_tokens(created_by);

CREATE INDEX IF NOT EXISTS idx_audit_action            ON audit_trail(action, created_at);

-- Hash-chain head for the append-only audit trail: one row (id = 1), locked while a row is appended
CREATE TABLE IF NOT EXISTS audit_chain (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last_id    INTEGER NULL,
    last_hash  CHAR(64) NULL,
    updated_at DATETIME NULL,
    -- 0036: the last audit row that changed data (not a sign-in, a refusal or an export): the version
    -- a kept report CSV is valid for
    last_data_id INTEGER NULL
);

-- 0005: dashboards at chain scale (upcoming lessons by status/date/time; newest invoices)
CREATE INDEX IF NOT EXISTS idx_schedule_status_date ON schedules(status, scheduled_date, start_time, branch_id);
CREATE INDEX IF NOT EXISTS idx_invoices_issue_date ON invoices(issue_date);
CREATE INDEX IF NOT EXISTS idx_users_name ON users(last_name, first_name);
CREATE INDEX IF NOT EXISTS idx_login_attempts_ip_time ON login_attempts(ip_address, attempted_at);

-- 0006: one-time values shown on the next page (activation links), never in the session cookie
CREATE TABLE IF NOT EXISTS page_handoffs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    key_hash   CHAR(64) NOT NULL,
    user_id    INTEGER NOT NULL,
    kind       VARCHAR(40) NOT NULL,
    payload    TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    CONSTRAINT fk_page_handoffs_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_page_handoffs_key ON page_handoffs(key_hash);
CREATE INDEX IF NOT EXISTS idx_page_handoffs_user ON page_handoffs(user_id);
CREATE INDEX IF NOT EXISTS idx_page_handoffs_expires ON page_handoffs(expires_at);

-- 0007: the audit chain head row (locked by every audit append; never created by racing writers)
INSERT OR IGNORE INTO audit_chain (id, last_id, last_hash) VALUES (1, NULL, NULL);

-- 0008: scheduling. The new columns of branches, schedules (with fk_schedule_cancelled_by and
-- the no_show status) and reminders are declared in their tables above (0008 rebuilds
-- schedules with exactly that definition).
-- (0037: the index covers the slot: status, start_time and end_time appended.)
CREATE INDEX IF NOT EXISTS idx_schedule_instructor_date ON schedules(instructor_id, scheduled_date, status, start_time, end_time);
CREATE INDEX IF NOT EXISTS idx_schedule_enrollment_date ON schedules(enrollment_id, scheduled_date);
CREATE INDEX IF NOT EXISTS idx_reminder_status_send_at ON reminders(status, send_at);

-- Structured opening hours per weekday (0 = Monday .. 6 = Sunday), behind the branch_closed rule
CREATE TABLE IF NOT EXISTS branch_opening_hours (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    branch_id  INTEGER NOT NULL,
    weekday    INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    open_time  TIME NOT NULL,
    close_time TIME NOT NULL,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_opening_hours_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE CASCADE,
    CONSTRAINT chk_opening_hours_order CHECK (close_time > open_time)
);
CREATE INDEX IF NOT EXISTS idx_branch_opening_hours ON branch_opening_hours(branch_id, weekday);

-- 0009: a branch's events by date and time (the calendar feed per branch, upcoming counts);
-- it serves the branch foreign key too (no fk_schedule_branch, see the schedules table).
CREATE INDEX IF NOT EXISTS idx_schedule_branch_date ON schedules(branch_id, scheduled_date, start_time, status);

-- 0011: each branch's booking policy (a branch without a row has the defaults)
CREATE TABLE IF NOT EXISTS branch_booking_policies (
    branch_id               INTEGER NOT NULL PRIMARY KEY CHECK (branch_id >= 0),
    min_notice_minutes      INTEGER NOT NULL DEFAULT 720 CHECK (min_notice_minutes >= 0),
    horizon_days            INTEGER NOT NULL DEFAULT 56 CHECK (horizon_days BETWEEN 0 AND 65535),
    max_lessons_per_week    INTEGER NOT NULL DEFAULT 3 CHECK (max_lessons_per_week BETWEEN 0 AND 255),
    cancel_cutoff_minutes   INTEGER NOT NULL DEFAULT 1440 CHECK (cancel_cutoff_minutes >= 0),
    students_any_instructor INTEGER NOT NULL DEFAULT 0 CHECK (students_any_instructor IN (0, 1)),
    slot_grid_minutes       INTEGER NOT NULL DEFAULT 15 CHECK (slot_grid_minutes BETWEEN 0 AND 255),
    buffer_minutes          INTEGER NOT NULL DEFAULT 0 CHECK (buffer_minutes BETWEEN 0 AND 65535),
    updated_at              DATETIME NULL,
    updated_by              INTEGER NULL,
    CONSTRAINT fk_booking_policy_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE CASCADE,
    CONSTRAINT fk_booking_policy_updated_by FOREIGN KEY (updated_by) REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS fk_booking_policy_updated_by ON branch_booking_policies(updated_by);

-- 0012: secret iCalendar feed URLs (only the SHA-256 of the secret; one live token per owner)
CREATE TABLE IF NOT EXISTS calendar_feed_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_type VARCHAR(10) NOT NULL CHECK (owner_type IN ('instructor','student')),
    owner_id   INTEGER NOT NULL,
    token_hash CHAR(64) NOT NULL,
    created_at DATETIME NOT NULL,
    created_by INTEGER NULL,
    revoked_at DATETIME NULL,
    CONSTRAINT fk_calendar_feed_created_by FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_calendar_feed_token ON calendar_feed_tokens(token_hash);
CREATE INDEX IF NOT EXISTS idx_calendar_feed_owner ON calendar_feed_tokens(owner_type, owner_id, revoked_at);
CREATE INDEX IF NOT EXISTS fk_calendar_feed_created_by ON calendar_feed_tokens(created_by);

-- 0014: reschedule proposals (one pending per lesson; expires_at naive UTC; NULL instructor/vehicle = the lesson's own)
CREATE TABLE IF NOT EXISTS reschedule_proposals (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id   INTEGER NOT NULL,
    proposed_by   INTEGER NULL,
    proposed_date DATE NOT NULL,
    start_time    TIME NOT NULL,
    end_time      TIME NOT NULL,
    instructor_id INTEGER NULL,
    vehicle_id    INTEGER NULL,
    message       VARCHAR(500) NULL,
    status        VARCHAR(10) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','accepted','declined','expired','withdrawn')),
    expires_at    DATETIME NOT NULL,
    created_at    DATETIME NOT NULL,
    answered_at   DATETIME NULL,
    answered_by   INTEGER NULL,
    CONSTRAINT fk_proposal_schedule FOREIGN KEY (schedule_id) REFERENCES schedules(id) ON DELETE CASCADE,
    CONSTRAINT fk_proposal_proposed_by FOREIGN KEY (proposed_by) REFERENCES users(id) ON DELETE SET NULL,
    CONSTRAINT fk_proposal_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    CONSTRAINT fk_proposal_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE CASCADE,
    CONSTRAINT fk_proposal_answered_by FOREIGN KEY (answered_by) REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS idx_proposal_schedule_status ON reschedule_proposals(schedule_id, status);
CREATE INDEX IF NOT EXISTS idx_proposal_status_expiry ON reschedule_proposals(status, expires_at);
CREATE INDEX IF NOT EXISTS fk_proposal_proposed_by ON reschedule_proposals(proposed_by);
CREATE INDEX IF NOT EXISTS fk_proposal_instructor ON reschedule_proposals(instructor_id);
CREATE INDEX IF NOT EXISTS fk_proposal_vehicle ON reschedule_proposals(vehicle_id);
CREATE INDEX IF NOT EXISTS fk_proposal_answered_by ON reschedule_proposals(answered_by);

-- 0013: recurring series (schedule_series; schedules.series_id ties each booked occurrence to its
-- series, appended to schedules as the migration does)
CREATE TABLE IF NOT EXISTS schedule_series (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    branch_id      INTEGER NULL,
    instructor_id  INTEGER NOT NULL,
    student_id     INTEGER NOT NULL,
    vehicle_id     INTEGER NULL,
    event_type     VARCHAR(10) NOT NULL DEFAULT 'lesson' CHECK (event_type IN ('lesson','exam','assessment')),
    weekday        INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_time     TIME NOT NULL,
    end_time       TIME NOT NULL,
    interval_weeks INTEGER NOT NULL DEFAULT 1 CHECK (interval_weeks BETWEEN 1 AND 4),
    first_date     DATE NOT NULL,
    until_date     DATE NULL,
    occurrences    INTEGER NOT NULL CHECK (occurrences BETWEEN 1 AND 52),
    clashes_json   TEXT NULL,
    created_by     INTEGER NULL,
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NULL,
    cancelled_at   DATETIME NULL,
    CONSTRAINT fk_series_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL,
    CONSTRAINT fk_series_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    CONSTRAINT fk_series_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    CONSTRAINT fk_series_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE SET NULL,
    CONSTRAINT fk_series_created_by FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS idx_series_branch ON schedule_series(branch_id, first_date);
CREATE INDEX IF NOT EXISTS idx_series_instructor ON schedule_series(instructor_id);
CREATE INDEX IF NOT EXISTS idx_series_student ON schedule_series(student_id);
CREATE INDEX IF NOT EXISTS fk_series_vehicle ON schedule_series(vehicle_id);
CREATE INDEX IF NOT EXISTS fk_series_created_by ON schedule_series(created_by);

ALTER TABLE schedules ADD COLUMN series_id INTEGER NULL REFERENCES schedule_series(id) ON DELETE SET NULL;
CREATE INDEX IF NOT EXISTS idx_schedule_series ON schedules(series_id, scheduled_date);

-- 0015: the gap filler / waitlist (students opted in to earlier slots; offers of a cancelled lesson's slot)
CREATE TABLE IF NOT EXISTS waitlist_preferences (
    student_id    INTEGER NOT NULL PRIMARY KEY CHECK (student_id >= 0),
    active        INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    weekdays      CHAR(7) NOT NULL DEFAULT '1111100',
    earliest_time TIME NOT NULL DEFAULT '08:00:00',
    latest_time   TIME NOT NULL DEFAULT '18:00:00',
    opted_in_at   DATETIME NULL,
    updated_at    DATETIME NULL,
    CONSTRAINT fk_waitlist_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS idx_waitlist_active ON waitlist_preferences(active, opted_in_at);

CREATE TABLE IF NOT EXISTS gap_offers (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id        INTEGER NOT NULL,
    student_id         INTEGER NOT NULL,
    branch_id          INTEGER NULL,
    instructor_id      INTEGER NOT NULL,
    vehicle_id         INTEGER NULL,
    slot_date          DATE NOT NULL,
    start_time         TIME NOT NULL,
    end_time           TIME NOT NULL,
    status             VARCHAR(8) NOT NULL DEFAULT 'offered' CHECK (status IN ('offered','accepted','taken','expired')),
    expires_at         DATETIME NOT NULL,
    created_at         DATETIME NOT NULL,
    answered_at        DATETIME NULL,
    booked_schedule_id INTEGER NULL,
    CONSTRAINT fk_gap_offer_schedule FOREIGN KEY (schedule_id) REFERENCES schedules(id) ON DELETE CASCADE,
    CONSTRAINT fk_gap_offer_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    CONSTRAINT fk_gap_offer_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL,
    CONSTRAINT fk_gap_offer_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    CONSTRAINT fk_gap_offer_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE SET NULL,
    CONSTRAINT fk_gap_offer_booked FOREIGN KEY (booked_schedule_id) REFERENCES schedules(id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_gap_offer_slot_student ON gap_offers(schedule_id, student_id);
CREATE INDEX IF NOT EXISTS idx_gap_offer_student_status ON gap_offers(student_id, status);
CREATE INDEX IF NOT EXISTS fk_gap_offer_branch ON gap_offers(branch_id);
CREATE INDEX IF NOT EXISTS fk_gap_offer_instructor ON gap_offers(instructor_id);
CREATE INDEX IF NOT EXISTS fk_gap_offer_vehicle ON gap_offers(vehicle_id);
CREATE INDEX IF NOT EXISTS fk_gap_offer_booked ON gap_offers(booked_schedule_id);

-- 0018: lesson packages as an append-only credit ledger (balance = SUM(credits)); the branch fees
-- (late_cancel_fee, no_show_fee: NULL = none; no_show_consumes) on branch_booking_policies
CREATE TABLE IF NOT EXISTS package_ledger (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    enrollment_id INTEGER NOT NULL,
    entry         VARCHAR(8) NOT NULL CHECK (entry IN ('purchase','consume','reverse','adjust','expire','refund')),
    credits       INTEGER NOT NULL,
    schedule_id   INTEGER NULL,
    source        VARCHAR(20) NOT NULL,
    source_id     INTEGER NULL,
    reason        VARCHAR(255) NULL,
    expires_on    DATE NULL,
    created_by    INTEGER NULL,
    created_at    DATETIME NOT NULL,
    CONSTRAINT fk_package_ledger_enrollment FOREIGN KEY (enrollment_id) REFERENCES enrollments(id) ON DELETE CASCADE,
    CONSTRAINT fk_package_ledger_schedule FOREIGN KEY (schedule_id) REFERENCES schedules(id) ON DELETE SET NULL,
    CONSTRAINT fk_package_ledger_created_by FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS idx_package_ledger_enrollment ON package_ledger(enrollment_id, id);
CREATE INDEX IF NOT EXISTS fk_package_ledger_schedule ON package_ledger(schedule_id);
CREATE INDEX IF NOT EXISTS fk_package_ledger_created_by ON package_ledger(created_by);

ALTER TABLE branch_booking_policies ADD COLUMN late_cancel_fee DECIMAL(10,2) NULL;
ALTER TABLE branch_booking_policies ADD COLUMN no_show_fee DECIMAL(10,2) NULL;
ALTER TABLE branch_booking_policies ADD COLUMN no_show_consumes INTEGER NOT NULL DEFAULT 1 CHECK (no_show_consumes IN (0, 1));

-- 0017: payments ledger (kind, refund_of, reason, idempotency_key, gateway, gateway_reference) and account_credits
ALTER TABLE payments ADD COLUMN kind VARCHAR(10) NOT NULL DEFAULT 'payment' CHECK (kind IN ('payment','refund'));
ALTER TABLE payments ADD COLUMN refund_of INTEGER NULL REFERENCES payments(id) ON DELETE SET NULL;
ALTER TABLE payments ADD COLUMN reason VARCHAR(255) NULL;
ALTER TABLE payments ADD COLUMN idempotency_key VARCHAR(64) NULL;
ALTER TABLE payments ADD COLUMN gateway VARCHAR(20) NULL;
ALTER TABLE payments ADD COLUMN gateway_reference VARCHAR(80) NULL;
CREATE UNIQUE INDEX IF NOT EXISTS uq_payment_idempotency ON payments(idempotency_key);
CREATE INDEX IF NOT EXISTS idx_payment_refund_of ON payments(refund_of);

CREATE TABLE IF NOT EXISTS account_credits (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    student_id INTEGER NOT NULL,
    amount     DECIMAL(10,2) NOT NULL,
    source     VARCHAR(12) NOT NULL CHECK (source IN ('overpayment','applied','refund')),
    invoice_id INTEGER NULL,
    payment_id INTEGER NULL,
    notes      VARCHAR(255) NULL,
    created_by INTEGER NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT fk_account_credit_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    CONSTRAINT fk_account_credit_invoice FOREIGN KEY (invoice_id) REFERENCES invoices(id) ON DELETE SET NULL,
    CONSTRAINT fk_account_credit_payment FOREIGN KEY (payment_id) REFERENCES payments(id) ON DELETE SET NULL,
    CONSTRAINT fk_account_credit_created_by FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS idx_account_credit_student ON account_credits(student_id, id);
CREATE INDEX IF NOT EXISTS fk_account_credit_invoice ON account_credits(invoice_id);
CREATE INDEX IF NOT EXISTS fk_account_credit_payment ON account_credits(payment_id);
CREATE INDEX IF NOT EXISTS fk_account_credit_created_by ON account_credits(created_by);

-- 0016: invoices that cannot collide (invoice_counters, one row per year, locked by the issuer),
-- drafts (invoice_number DRAFT-<id> until issued), discount, tax rate and mode, void and credit
-- notes on invoices (rebuilt here exactly as migration 0016 rebuilds it); kind, credits, discount,
-- waiver and the source lesson on invoice_items
CREATE TABLE IF NOT EXISTS invoice_counters (
    year        INTEGER NOT NULL PRIMARY KEY,
    last_number INTEGER NOT NULL DEFAULT 0 CHECK (last_number >= 0)
);

CREATE TABLE invoices_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    enrollment_id   INTEGER NOT NULL,
    invoice_number  VARCHAR(40) NOT NULL,
    issue_date      DATE NOT NULL,
    due_date        DATE NOT NULL,
    subtotal        DECIMAL(10,2) NOT NULL,
    tax_amount      DECIMAL(10,2) NOT NULL,
    total           DECIMAL(10,2) NOT NULL,
    status          VARCHAR(7) DEFAULT 'sent' CHECK (status IN ('draft','sent','partial','paid','overdue','void')),
    notes           TEXT NULL,
    created_at      DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at      DATETIME DEFAULT CURRENT_TIMESTAMP,
    discount_amount DECIMAL(10,2) NOT NULL DEFAULT 0.00,
    tax_rate        DECIMAL(5,2) NOT NULL DEFAULT 10.00,
    tax_inclusive   INTEGER NOT NULL DEFAULT 0 CHECK (tax_inclusive IN (0,1)),
    branch_id       INTEGER NULL,
    issued_at       DATETIME NULL,
    voided_at       DATETIME NULL,
    void_reason     VARCHAR(255) NULL,
    credit_note_for INTEGER NULL,
    created_by      INTEGER NULL,
    CONSTRAINT fk_invoice_enrollment FOREIGN KEY (enrollment_id) REFERENCES enrollments(id) ON DELETE CASCADE,
    CONSTRAINT fk_invoice_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL,
    CONSTRAINT fk_invoice_credit_note_for FOREIGN KEY (credit_note_for) REFERENCES invoices(id) ON DELETE SET NULL,
    CONSTRAINT fk_invoice_created_by FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL
);

INSERT INTO invoices_new (
    id, enrollment_id, invoice_number, issue_date, due_date, subtotal, tax_amount, total, status, notes,
    created_at, updated_at
)
SELECT id, enrollment_id, invoice_number, issue_date, due_date, subtotal, tax_amount, total, status, notes,
    created_at, updated_at
FROM invoices ORDER BY id;

UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT s.seq FROM sqlite_sequence AS s WHERE s.name = 'invoices'), 0)) WHERE name = 'invoices_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'invoices_new', s.seq FROM sqlite_sequence AS s WHERE s.name = 'invoices' AND NOT EXISTS (SELECT 1 FROM sqlite_sequence AS n WHERE n.name = 'invoices_new');

CREATE TABLE m0016_invoice_items AS SELECT id, invoice_id, description, quantity, unit_price, total FROM invoice_items;
CREATE TABLE m0016_payments AS SELECT id, invoice_id, amount, payment_date, method, reference, notes, recorded_by, created_at, updated_at FROM payments;

DROP TABLE invoices;
ALTER TABLE invoices_new RENAME TO invoices;

INSERT INTO invoice_items (id, invoice_id, description, quantity, unit_price, total)
SELECT id, invoice_id, description, quantity, unit_price, total FROM m0016_invoice_items ORDER BY id;
INSERT INTO payments (id, invoice_id, amount, payment_date, method, reference, notes, recorded_by, created_at, updated_at)
SELECT id, invoice_id, amount, payment_date, method, reference, notes, recorded_by, created_at, updated_at FROM m0016_payments ORDER BY id;
DROP TABLE m0016_invoice_items;
DROP TABLE m0016_payments;

CREATE UNIQUE INDEX IF NOT EXISTS invoice_number ON invoices(invoice_number);
CREATE INDEX IF NOT EXISTS fk_invoice_enrollment ON invoices(enrollment_id);
CREATE INDEX IF NOT EXISTS idx_invoices_status_due ON invoices(status, due_date);
CREATE INDEX IF NOT EXISTS idx_invoices_issue_date ON invoices(issue_date);
CREATE INDEX IF NOT EXISTS idx_invoices_branch_status ON invoices(branch_id, status, issue_date);
CREATE INDEX IF NOT EXISTS idx_invoices_credit_note_for ON invoices(credit_note_for);
CREATE INDEX IF NOT EXISTS idx_invoices_created_by ON invoices(created_by);

ALTER TABLE invoice_items ADD COLUMN kind VARCHAR(20) NOT NULL DEFAULT 'course' CHECK (kind IN ('course','lesson','package','fee_late_cancel','fee_no_show','credit','other'));
ALTER TABLE invoice_items ADD COLUMN credits INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0);
ALTER TABLE invoice_items ADD COLUMN discount DECIMAL(10,2) NOT NULL DEFAULT 0.00;
ALTER TABLE invoice_items ADD COLUMN waived_at DATETIME NULL;
ALTER TABLE invoice_items ADD COLUMN waived_by INTEGER NULL REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE invoice_items ADD COLUMN waive_reason VARCHAR(255) NULL;
ALTER TABLE invoice_items ADD COLUMN schedule_id INTEGER NULL REFERENCES schedules(id) ON DELETE SET NULL;
CREATE INDEX IF NOT EXISTS idx_invoice_items_waived_by ON invoice_items(waived_by);
CREATE INDEX IF NOT EXISTS idx_invoice_items_schedule ON invoice_items(schedule_id);

-- 0019: the enrolment pipeline (students.date_of_birth from the public application; the enrolment an
-- approval created; application_attempts for the per-address rate limit of /apply)
ALTER TABLE students ADD COLUMN date_of_birth DATE NULL;
ALTER TABLE enrollment_requests ADD COLUMN enrollment_id INTEGER NULL;

CREATE TABLE IF NOT EXISTS application_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    ip_address   VARCHAR(45) NOT NULL,
    attempted_at DATETIME NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_application_attempts_ip ON application_attempts(ip_address, attempted_at);

-- 0020: finance indexes (issue 9 bench): an invoice's payments with date, amount and kind (covering; replaces
-- fk_payment_invoice, as InnoDB drops its generated one)
CREATE INDEX IF NOT EXISTS idx_payments_invoice_cover ON payments(invoice_id, payment_date, amount, kind);
DROP INDEX IF EXISTS fk_payment_invoice;

-- 0021: the reminder dispatcher (issue 10): reminders are declared in their table above (0021 rebuilds
-- it); the delivery log, notification links, contact preferences, dispatcher runs, broadcast segments
CREATE UNIQUE INDEX IF NOT EXISTS uq_reminder_idempotency ON reminders(idempotency_key);
CREATE INDEX IF NOT EXISTS idx_reminder_lease ON reminders(lease_until);

CREATE TABLE IF NOT EXISTS message_deliveries (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    reminder_id         INTEGER NOT NULL,
    attempt             INTEGER NOT NULL CHECK (attempt >= 0),
    channel             VARCHAR(6) NOT NULL CHECK (channel IN ('email','sms','in-app')),
    backend             VARCHAR(20) NOT NULL,
    address             VARCHAR(160) NULL,
    state               VARCHAR(7) NOT NULL CHECK (state IN ('queued','sent','failed','bounced','unknown')),
    provider_message_id VARCHAR(160) NULL,
    error               VARCHAR(255) NULL,
    created_at          DATETIME NOT NULL,
    finished_at         DATETIME NULL,
    CONSTRAINT fk_delivery_reminder FOREIGN KEY (reminder_id) REFERENCES reminders(id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_delivery_attempt ON message_deliveries(reminder_id, attempt, channel);
CREATE INDEX IF NOT EXISTS idx_delivery_provider ON message_deliveries(provider_message_id);

ALTER TABLE notifications ADD COLUMN reminder_id INTEGER NULL;
ALTER TABLE notifications ADD COLUMN related_type VARCHAR(30) NULL;
ALTER TABLE notifications ADD COLUMN related_id INTEGER NULL;
ALTER TABLE notifications ADD COLUMN kind VARCHAR(16) NULL;
CREATE UNIQUE INDEX IF NOT EXISTS uq_notification_reminder ON notifications(reminder_id);

CREATE TABLE IF NOT EXISTS contact_preferences (
    user_id        INTEGER NOT NULL PRIMARY KEY,
    email_opt_out  INTEGER NOT NULL DEFAULT 0 CHECK (email_opt_out IN (0,1)),
    sms_opt_out    INTEGER NOT NULL DEFAULT 0 CHECK (sms_opt_out IN (0,1)),
    in_app_opt_out INTEGER NOT NULL DEFAULT 0 CHECK (in_app_opt_out IN (0,1)),
    updated_at     DATETIME NOT NULL,
    CONSTRAINT fk_contact_pref_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS dispatcher_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    host        VARCHAR(120) NOT NULL,
    pid         INTEGER NOT NULL,
    dry_run     INTEGER NOT NULL DEFAULT 0 CHECK (dry_run IN (0,1)),
    started_at  DATETIME NOT NULL,
    finished_at DATETIME NULL,
    status      VARCHAR(7) NOT NULL DEFAULT 'running' CHECK (status IN ('running','ok','failed')),
    claimed     INTEGER NOT NULL DEFAULT 0,
    sent        INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0,
    flagged     INTEGER NOT NULL DEFAULT 0,
    held        INTEGER NOT NULL DEFAULT 0,
    error       VARCHAR(255) NULL
);
CREATE INDEX IF NOT EXISTS idx_dispatcher_runs_started ON dispatcher_runs(started_at);

ALTER TABLE communications ADD COLUMN branch_id INTEGER NULL REFERENCES branches(id) ON DELETE SET NULL;
ALTER TABLE communications ADD COLUMN segment VARCHAR(20) NULL;
ALTER TABLE communications ADD COLUMN segment_value VARCHAR(80) NULL;
ALTER TABLE communications ADD COLUMN recipient_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS fk_comm_branch ON communications(branch_id);

-- 0022: security (issue 11): the TOTP second factor, recovery codes, the re-authentication time of a
-- session and the anonymisation time of a former student
CREATE TABLE IF NOT EXISTS user_second_factors (
    user_id        INTEGER NOT NULL PRIMARY KEY,
    secret         VARCHAR(255) NOT NULL,
    enabled_at     DATETIME NULL,
    last_used_step BIGINT NULL,
    created_at     DATETIME NOT NULL,
    CONSTRAINT fk_second_factor_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS recovery_codes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL,
    code_hash  CHAR(64) NOT NULL,
    used_at    DATETIME NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT fk_recovery_codes_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_recovery_codes_user_hash ON recovery_codes(user_id, code_hash);

ALTER TABLE user_sessions ADD COLUMN reauthenticated_at DATETIME NULL;
ALTER TABLE users ADD COLUMN anonymised_at DATETIME NULL;

-- ---- 0023_statistics (helper stats): begin ------------------------------------------------------
-- Maintained aggregates (issue 13): summary rows refreshed by `flask refresh-stats`
-- (app/services/stats.py), read by the lists, dashboards and reports; stat_freshness says when.
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
-- ---- 0023_statistics (helper stats): end --------------------------------------------------------

-- ---- 0026_report_indexes (helper reports): begin ------------------------------------------------
-- The Reports module's indexes (issue 13): events by type, outcome, enrolment and date (lessons to
-- licence, the progress breakdown), enrolments by start date (retention), users by role and status, invoices for ageing.
CREATE INDEX IF NOT EXISTS idx_schedule_type_status_enrolment ON schedules(event_type, status, enrollment_id, scheduled_date, start_time);
CREATE INDEX IF NOT EXISTS idx_enrollments_start ON enrollments(start_date, status);
CREATE INDEX IF NOT EXISTS idx_users_role_status ON users(role, status);
CREATE INDEX IF NOT EXISTS idx_invoices_ageing ON invoices(status, due_date, issue_date, credit_note_for, branch_id, enrollment_id, total);
-- ---- 0026_report_indexes (helper reports): end --------------------------------------------------

-- ---- 0024_scale_indexes (helper pagespeed): begin -------------------------------------------------
-- Page speed at national-chain size (issue 13): an instructor's lessons with their enrolment (their
-- students), pending requests with their student (navigation badge), an instructor's unavailability
-- by end and start (conflicts badge), active enrolments per course and per student as index ranges;
-- each replaces the one-column index it extends.
CREATE INDEX IF NOT EXISTS idx_schedule_instructor_enrolment ON schedules(instructor_id, enrollment_id);
DROP INDEX IF EXISTS idx_schedule_instructor;
CREATE INDEX IF NOT EXISTS idx_request_status_student ON enrollment_requests(status, student_id);
DROP INDEX IF EXISTS idx_request_status;
CREATE INDEX IF NOT EXISTS idx_unavailability_instructor_window ON instructor_unavailability(instructor_id, end_datetime, start_datetime);
DROP INDEX IF EXISTS idx_unavailability_instructor;
CREATE INDEX IF NOT EXISTS idx_enrollments_course_status ON enrollments(course_id, status);
DROP INDEX IF EXISTS fk_enroll_course;
CREATE INDEX IF NOT EXISTS idx_enrollments_student_status ON enrollments(student_id, status);
DROP INDEX IF EXISTS fk_enroll_student;
-- ---- 0024_scale_indexes (helper pagespeed): end ---------------------------------------------------

-- ---- 0025_dashboard_indexes (helper dashboards): begin --------------------------------------------
-- The role dashboards (issue 13): a branch's lessons still scheduled by date and end time (the
-- branch's "awaiting an outcome" count).
CREATE INDEX IF NOT EXISTS idx_schedule_branch_status_date ON schedules(branch_id, status, scheduled_date, end_time);
-- ---- 0025_dashboard_indexes (helper dashboards): end ----------------------------------------------

-- ---- 0029_report_summaries (helper reports2): begin ---------------------------------------------
-- (issue 13; app/dao/stats.py says what every column means, docs/reports.md how the reports use them).
-- stat_enrolment_progress: one row per enrolment (retention and progress); stat_invoice_owing: one
-- row per invoice owing something on the refresh day (ageing); stat_licence_pass: one row per student
-- with a passed drive test, its first pass and the completed lessons before it (lessons to licence).
-- No foreign keys: the rows are derived and replaced whole at each refresh (flask refresh-stats).

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
    branch_id INTEGER NOT NULL DEFAULT 0,
    status    VARCHAR(20) NOT NULL,
    invoices  INTEGER NOT NULL DEFAULT 0,
    total     DECIMAL(14,2) NOT NULL DEFAULT 0,
    paid      DECIMAL(14,2) NOT NULL DEFAULT 0,
    PRIMARY KEY (branch_id, status)
);
CREATE TABLE IF NOT EXISTS stat_payment_totals (
    branch_id INTEGER NOT NULL DEFAULT 0,
    method    VARCHAR(40) NOT NULL DEFAULT '',
    kind      VARCHAR(10) NOT NULL DEFAULT 'payment',
    entries   INTEGER NOT NULL DEFAULT 0,
    amount    DECIMAL(14,2) NOT NULL DEFAULT 0,
    PRIMARY KEY (branch_id, method, kind)
);
-- ---- 0027_list_speed (helper lists2): end --------------------------------------------------------

-- ---- 0030_branch_totals (helper branchstats): begin ----------------------------------------
-- stat_branch_totals: the dashboard's school and branch population counts
-- (issue 13; app/dao/stats.py says what every column means). One row per student branch (0 = none):
-- active student accounts, those of them learning (active or in-progress enrolment) and completed,
-- and the enrolment requests pending and approved (by the requesting student's branch).
-- No foreign keys: the rows are derived and replaced whole at each refresh (flask refresh-stats).

CREATE TABLE IF NOT EXISTS stat_branch_totals (
    branch_id          INTEGER NOT NULL PRIMARY KEY,
    active_students    INTEGER NOT NULL DEFAULT 0,
    learning_students  INTEGER NOT NULL DEFAULT 0,
    completed_students INTEGER NOT NULL DEFAULT 0,
    pending_requests   INTEGER NOT NULL DEFAULT 0,
    approved_requests  INTEGER NOT NULL DEFAULT 0
);
-- ---- 0030_branch_totals (helper branchstats): end ------------------------------------------
-- ---- 0033_course_totals (lead): begin ----------------------------------------------------------
-- stat_course_totals: the course list's active students per course (enrolments active or in progress),
-- counted by flask refresh-stats, not on every page view. Derived rows, replaced whole at each refresh.
CREATE TABLE IF NOT EXISTS stat_course_totals (
    course_id          INTEGER NOT NULL PRIMARY KEY,
    active_enrolments  INTEGER NOT NULL DEFAULT 0
);
-- ---- 0033_course_totals (lead): end ------------------------------------------------------------
-- ---- 0032_lookup_indexes (lead): begin ----------------------------------------------------------
-- Students by licence number: the enrolment-request page's possible duplicates, the application's check.
CREATE INDEX IF NOT EXISTS idx_students_license_number ON students (license_number);
-- ---- 0032_lookup_indexes (lead): end ------------------------------------------------------------
-- ---- 0031_audit_checkpoints (helper auditcheck): begin --------------------------------------
-- audit_verifications: the results of the full audit chain checks (flask verify-audit, nightly), one
-- row per run, ok or not, with the last audit_trail row verified (id and row_hash) and, on failure,
-- the first bad row and why. /audit/verify checks only the entries after the newest ok row.
-- No foreign keys: a record of a check outlives any change.

CREATE TABLE IF NOT EXISTS audit_verifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    verified_at  DATETIME NOT NULL,
    checked      INTEGER NOT NULL DEFAULT 0 CHECK (checked >= 0),
    last_id      INTEGER NULL CHECK (last_id >= 0),
    last_hash    CHAR(64) NULL,
    ok           INTEGER NOT NULL DEFAULT 0 CHECK (ok IN (0,1)),
    first_bad_id INTEGER NULL CHECK (first_bad_id >= 0),
    reason       VARCHAR(255) NULL
);
-- ---- 0031_audit_checkpoints (helper auditcheck): end ----------------------------------------
-- ---- 0028_queue_speed (helper queues2): begin ------------------------------------------------
-- The queues at national-chain size (issue 13): the conflicts panel and badge start from the windows not
-- ended yet; the reminder queue's capped counts per status (admin; staff through the branch's
-- recipients; it replaces fk_reminder_user, as InnoDB drops its generated one), its type choices (a loose index scan) and its due order served by indexes.
CREATE INDEX IF NOT EXISTS idx_unavailability_end ON instructor_unavailability (end_datetime, start_datetime, instructor_id);
CREATE INDEX IF NOT EXISTS idx_downtime_end ON vehicle_downtime (end_datetime, start_datetime, vehicle_id);
CREATE INDEX IF NOT EXISTS idx_reminder_status_channel_type ON reminders (status, channel, reminder_type);
CREATE INDEX IF NOT EXISTS idx_reminder_recipient_queue ON reminders (recipient_user_id, status, channel, reminder_type, send_at, send_on);
DROP INDEX IF EXISTS fk_reminder_user;
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
DROP INDEX IF EXISTS idx_invoices_branch_status;
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
    instructor_id   INTEGER NOT NULL,
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
    PRIMARY KEY (m_from, m_to, instructor_id, branch_id)
);
CREATE INDEX IF NOT EXISTS idx_stat_instructor_range_branch ON stat_instructor_range (branch_id, m_from, m_to);
-- ---- 0035_instructor_range (lead): end -----------------------------------------------------
