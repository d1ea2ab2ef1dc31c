-- Migration 0012_calendar_feeds (MariaDB/MySQL): secret iCalendar feed URLs (issue 8, item 6).
--
-- One row per issued feed token of an instructor or a student; only the SHA-256 of the secret is
-- stored. At most one live (revoked_at IS NULL) token per owner: (re)generating revokes the
-- previous one in the same transaction (app/services/feeds.py). Re-runnable: CREATE TABLE IF NOT EXISTS.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

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
