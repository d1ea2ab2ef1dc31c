-- Migration 0012_calendar_feeds (SQLite): secret iCalendar feed URLs (issue 8, item 6).
--
-- One row per issued feed token of an instructor or a student; only the SHA-256 of the secret is
-- stored. At most one live (revoked_at IS NULL) token per owner: (re)generating revokes the
-- previous one in the same transaction (app/services/feeds.py).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

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
