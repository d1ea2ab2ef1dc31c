-- Migration 0031_audit_checkpoints (SQLite): the results of the full audit chain checks
-- (flask verify-audit, nightly). One row per run, ok or not: when, how many hashed rows it checked,
-- the last audit_trail row it verified (id and row_hash: the chain up to there was intact) and, when
-- it failed, the first bad row and why. The admin page /audit/verify starts from the newest ok row
-- and checks only the entries after it (app/services/audit.py verify_recent).
-- No foreign keys: audit_trail rows are never deleted, and a record of a check outlives any change.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS audit_verifications (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    verified_at  DATETIME NOT NULL,
    checked      INTEGER NOT NULL DEFAULT 0 CHECK (checked >= 0),
    last_id      INTEGER NULL CHECK (last_id >= 0),
    last_hash    CHAR(64) NULL,
    ok           INTEGER NOT NULL DEFAULT 0 CHECK (ok IN (0,1)),
    first_bad_id INTEGER NULL CHECK (first_bad_id >= 0),
    reason       VARCHAR(255) NULL
);
