-- Migration 0002_auth_sessions (MariaDB/MySQL): sessions and login throttling.
--
-- Login bookkeeping columns on users, server-side sessions (user_sessions: logout,
-- disabling a user or changing a password deletes rows) and the login_attempts log
-- used for brute-force throttling.
-- Re-runnable: ADD COLUMN IF NOT EXISTS and CREATE TABLE IF NOT EXISTS (MariaDB syntax).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

-- -------------------------------------------------------------------------------------------------
-- users: two new nullable columns, appended after updated_at
-- -------------------------------------------------------------------------------------------------

ALTER TABLE users ADD COLUMN IF NOT EXISTS last_login_at DATETIME NULL;
ALTER TABLE users ADD COLUMN IF NOT EXISTS password_changed_at DATETIME NULL;

-- -------------------------------------------------------------------------------------------------
-- New tables
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
