-- Migration 0006_page_handoffs (MariaDB/MySQL): one-time values shown on the next page.
--
-- A POST that produces a secret the office must see once (an activation link) stores it here,
-- keyed by the SHA-256 of a random key carried in the redirect URL, readable only by the user who
-- made it, deleted when shown and expired after 15 minutes (never in the signed session cookie).
-- Re-runnable: CREATE TABLE IF NOT EXISTS.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

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
