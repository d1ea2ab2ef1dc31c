-- Migration 0004_directory_modules (MariaDB/MySQL): audit hash chain, fleet records,
-- instructor working hours and account tokens.
--
-- New nullable columns on audit_trail (actor role, client IP, before/after JSON and a
-- SHA-256 hash chain), vehicles (odometer) and documents (expiry, checksum, uploader),
-- and four new tables: instructor_working_hours (weekday 0 = Monday .. 6 = Sunday),
-- vehicle_service_logs, vehicle_downtime and account_tokens (activation and password
-- reset tokens, stored as SHA-256 hashes). Additive only: every new column on an
-- existing table is nullable, so rows written with the original columns stay valid.
-- Re-runnable: ADD COLUMN IF NOT EXISTS, FOREIGN KEY IF NOT EXISTS, CREATE TABLE IF NOT
-- EXISTS and CREATE INDEX IF NOT EXISTS (MariaDB syntax, verified on MariaDB 10.11).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

-- -------------------------------------------------------------------------------------------------
-- audit_trail: six new nullable columns, appended after created_at
-- -------------------------------------------------------------------------------------------------

ALTER TABLE audit_trail ADD COLUMN IF NOT EXISTS actor_role VARCHAR(20) NULL;
ALTER TABLE audit_trail ADD COLUMN IF NOT EXISTS ip_address VARCHAR(45) NULL;
ALTER TABLE audit_trail ADD COLUMN IF NOT EXISTS before_json TEXT NULL;
ALTER TABLE audit_trail ADD COLUMN IF NOT EXISTS after_json TEXT NULL;
ALTER TABLE audit_trail ADD COLUMN IF NOT EXISTS prev_hash CHAR(64) NULL;
ALTER TABLE audit_trail ADD COLUMN IF NOT EXISTS row_hash CHAR(64) NULL;

-- -------------------------------------------------------------------------------------------------
-- vehicles: odometer reading, appended after updated_at
-- -------------------------------------------------------------------------------------------------

ALTER TABLE vehicles ADD COLUMN IF NOT EXISTS odometer_km INT UNSIGNED NULL;

-- -------------------------------------------------------------------------------------------------
-- documents: three new nullable columns, appended after created_at
-- -------------------------------------------------------------------------------------------------

ALTER TABLE documents ADD COLUMN IF NOT EXISTS expiry_date DATE NULL;
ALTER TABLE documents ADD COLUMN IF NOT EXISTS sha256 CHAR(64) NULL;
ALTER TABLE documents ADD COLUMN IF NOT EXISTS uploaded_by INT UNSIGNED NULL;
-- InnoDB creates the backing index under the constraint's name (fk_document_uploader).
-- On a re-run IF NOT EXISTS finds it and the statement only leaves a note.
ALTER TABLE documents ADD CONSTRAINT fk_document_uploader FOREIGN KEY IF NOT EXISTS (uploaded_by) REFERENCES users(id) ON DELETE SET NULL;

-- -------------------------------------------------------------------------------------------------
-- New tables. Each foreign key whose column leads a declared index is backed by that
-- index, so InnoDB creates no extra fk_* index for it.
-- -------------------------------------------------------------------------------------------------

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

-- -------------------------------------------------------------------------------------------------
-- New index on an existing table
-- -------------------------------------------------------------------------------------------------

CREATE INDEX IF NOT EXISTS idx_audit_action            ON audit_trail(action, created_at);

-- Hash-chain head for the append-only audit trail: one row (id = 1), locked while a row is appended
CREATE TABLE IF NOT EXISTS audit_chain (
    id         TINYINT UNSIGNED NOT NULL PRIMARY KEY,
    last_id    INT UNSIGNED NULL,
    last_hash  CHAR(64) NULL,
    updated_at DATETIME NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
