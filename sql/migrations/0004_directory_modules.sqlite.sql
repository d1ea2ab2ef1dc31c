-- Migration 0004_directory_modules (SQLite): audit hash chain, fleet records,
-- instructor working hours and account tokens.
--
-- New nullable columns on audit_trail (actor role, client IP, before/after JSON and a
-- SHA-256 hash chain), vehicles (odometer) and documents (expiry, checksum, uploader),
-- and four new tables: instructor_working_hours (weekday 0 = Monday .. 6 = Sunday),
-- vehicle_service_logs, vehicle_downtime and account_tokens (activation and password
-- reset tokens, stored as SHA-256 hashes). Additive only: every new column on an
-- existing table is nullable, so rows written with the original columns stay valid.
-- SQLite has no ADD COLUMN IF NOT EXISTS: the runner applies each migration once.
-- SQLite cannot add a named constraint to an existing table, so documents.uploaded_by
-- carries an unnamed column-level REFERENCES (sql/database.sqlite.sql declares it the
-- same way). Its index is created under the MariaDB constraint name, as elsewhere.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

-- -------------------------------------------------------------------------------------------------
-- audit_trail: six new nullable columns, appended after created_at
-- -------------------------------------------------------------------------------------------------

ALTER TABLE audit_trail ADD COLUMN actor_role VARCHAR(20) NULL;
ALTER TABLE audit_trail ADD COLUMN ip_address VARCHAR(45) NULL;
ALTER TABLE audit_trail ADD COLUMN before_json TEXT NULL;
ALTER TABLE audit_trail ADD COLUMN after_json TEXT NULL;
ALTER TABLE audit_trail ADD COLUMN prev_hash CHAR(64) NULL;
ALTER TABLE audit_trail ADD COLUMN row_hash CHAR(64) NULL;

-- -------------------------------------------------------------------------------------------------
-- vehicles: odometer reading, appended after updated_at
-- -------------------------------------------------------------------------------------------------

ALTER TABLE vehicles ADD COLUMN odometer_km INTEGER NULL CHECK (odometer_km >= 0);

-- -------------------------------------------------------------------------------------------------
-- documents: three new nullable columns, appended after created_at
-- -------------------------------------------------------------------------------------------------

ALTER TABLE documents ADD COLUMN expiry_date DATE NULL;
ALTER TABLE documents ADD COLUMN sha256 CHAR(64) NULL;
ALTER TABLE documents ADD COLUMN uploaded_by INTEGER NULL REFERENCES users(id) ON DELETE SET NULL;
-- index InnoDB creates implicitly for the foreign key (named after the MariaDB constraint)
CREATE INDEX IF NOT EXISTS fk_document_uploader ON documents(uploaded_by);

-- -------------------------------------------------------------------------------------------------
-- New tables. A foreign key whose column leads a declared index gets no fk_* index
-- (InnoDB creates none for it), the others get one as elsewhere.
-- -------------------------------------------------------------------------------------------------

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

-- -------------------------------------------------------------------------------------------------
-- New index on an existing table
-- -------------------------------------------------------------------------------------------------

CREATE INDEX IF NOT EXISTS idx_audit_action            ON audit_trail(action, created_at);

-- Hash-chain head for the append-only audit trail: one row (id = 1), locked while a row is appended
CREATE TABLE IF NOT EXISTS audit_chain (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last_id    INTEGER NULL,
    last_hash  CHAR(64) NULL,
    updated_at DATETIME NULL
);
