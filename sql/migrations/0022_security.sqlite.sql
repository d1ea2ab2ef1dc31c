-- Migration 0022_security (SQLite): second factor, recovery codes, re-authentication and privacy
-- (issue 11, docs/security.md). The same content as 0022_security.mysql.sql (read its header).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

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
