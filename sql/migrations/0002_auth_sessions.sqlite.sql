-- Migration 0002_auth_sessions (SQLite): sessions and login throttling.
--
-- Login bookkeeping columns on users, server-side sessions (user_sessions: logout,
-- disabling a user or changing a password deletes rows) and the login_attempts log
-- used for brute-force throttling.
-- SQLite has no ADD COLUMN IF NOT EXISTS: the runner applies each migration once.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

-- -------------------------------------------------------------------------------------------------
-- users: two new nullable columns, appended after updated_at
-- -------------------------------------------------------------------------------------------------

ALTER TABLE users ADD COLUMN last_login_at DATETIME NULL;
ALTER TABLE users ADD COLUMN password_changed_at DATETIME NULL;

-- -------------------------------------------------------------------------------------------------
-- New tables
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
