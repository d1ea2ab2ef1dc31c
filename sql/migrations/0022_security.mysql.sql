-- Migration 0022_security (MariaDB/MySQL): second factor, recovery codes, re-authentication and
-- privacy (issue 11, docs/security.md).
--
-- user_second_factors: one TOTP factor per user. secret holds the encrypted TOTP seed (never the
-- plain seed); enabled_at stays NULL while enrolment waits for its first code; last_used_step is
-- the 30-second step of the last accepted code (a code of that step or earlier is a replay).
-- recovery_codes: ten single-use codes per enrolment, only their SHA-256 is stored.
-- user_sessions.reauthenticated_at: when the session last confirmed the password (and second
-- factor), for the 10-minute re-authentication window. users.anonymised_at: when a former
-- student's personal fields were replaced on request (the row stays for financial and audit records).
-- Re-runnable: ADD COLUMN IF NOT EXISTS, CREATE TABLE IF NOT EXISTS.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

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
