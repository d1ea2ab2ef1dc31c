-- Migration 0006_page_handoffs (SQLite): one-time values shown on the next page.
--
-- A POST that produces a secret the office must see once (an activation link) stores it here,
-- keyed by the SHA-256 of a random key carried in the redirect URL, readable only by the user who
-- made it, deleted when shown and expired after 15 minutes (never in the signed session cookie).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS page_handoffs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    key_hash   CHAR(64) NOT NULL,
    user_id    INTEGER NOT NULL,
    kind       VARCHAR(40) NOT NULL,
    payload    TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    CONSTRAINT fk_page_handoffs_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_page_handoffs_key ON page_handoffs(key_hash);
CREATE INDEX IF NOT EXISTS idx_page_handoffs_user ON page_handoffs(user_id);
CREATE INDEX IF NOT EXISTS idx_page_handoffs_expires ON page_handoffs(expires_at);
