-- Migration 0001_original_schema (MariaDB/MySQL): the PHP system's 22 tables.
--
-- Exactly the original CREATE TABLE statements, with IF NOT EXISTS, so applying
-- it to a database created by the PHP system is a no-op, and applying it to an empty
-- database recreates the original schema. It starts with the schema_migrations ledger
-- (the runner creates it too, hence IF NOT EXISTS).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

-- -------------------------------------------------------------------------------------------------
-- Migration ledger
-- -------------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS schema_migrations (
    version    VARCHAR(40) NOT NULL PRIMARY KEY,
    name       VARCHAR(160) NOT NULL,
    applied_at DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- -------------------------------------------------------------------------------------------------
-- Original tables (order satisfies foreign keys)
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
    updated_at    DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS users (
    id            INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    role          ENUM('admin','staff','instructor','student') NOT NULL,
    first_name    VARCHAR(80) NOT NULL,
    last_name     VARCHAR(80) NOT NULL,
    email         VARCHAR(160) NOT NULL UNIQUE,
    phone         VARCHAR(32) NULL,
    password_hash VARCHAR(255) NOT NULL,
    status        ENUM('active','archived') NOT NULL DEFAULT 'active',
    branch_id     INT UNSIGNED NULL,
    created_at    DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at    DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
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
    status               ENUM('scheduled','completed','cancelled','not_completed') DEFAULT 'scheduled',
    student_rating       TINYINT UNSIGNED NULL,
    student_feedback     TEXT NULL,
    completion_marked_by INT UNSIGNED NULL,
    completion_marked_at DATETIME NULL,
    lesson_topic         VARCHAR(160) NULL,
    notes                TEXT NULL,
    reminder_sent        TINYINT(1) DEFAULT 0,
    created_at           DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at           DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    CONSTRAINT fk_schedule_enrollment FOREIGN KEY (enrollment_id) REFERENCES enrollments(id) ON DELETE CASCADE,
    CONSTRAINT fk_schedule_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    CONSTRAINT fk_schedule_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE SET NULL,
    CONSTRAINT fk_schedule_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL,
    CONSTRAINT fk_schedule_completed_by FOREIGN KEY (completion_marked_by) REFERENCES users(id) ON DELETE SET NULL,
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
    id         INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    user_id    INT UNSIGNED NOT NULL,
    file_name  VARCHAR(160) NOT NULL,
    file_path  VARCHAR(160) NOT NULL,
    mime_type  VARCHAR(80) NULL,
    file_size  INT UNSIGNED NULL,
    category   VARCHAR(80) NULL,
    notes      VARCHAR(160) NULL,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_document_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
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
    CONSTRAINT fk_audit_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
