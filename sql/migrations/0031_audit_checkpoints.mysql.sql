-- Migration 0031_audit_checkpoints (MariaDB/MySQL): the results of the full audit chain checks
-- (flask verify-audit, nightly). One row per run, ok or not: when, how many hashed rows it checked,
-- the last audit_trail row it verified (id and row_hash: the chain up to there was intact) and, when
-- it failed, the first bad row and why. The admin page /audit/verify starts from the newest ok row
-- and checks only the entries after it (app/services/audit.py verify_recent).
-- No foreign keys: audit_trail rows are never deleted, and a record of a check outlives any change.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS audit_verifications (
    id           INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    verified_at  DATETIME NOT NULL,
    checked      INT UNSIGNED NOT NULL DEFAULT 0,
    last_id      INT UNSIGNED NULL,
    last_hash    CHAR(64) NULL,
    ok           TINYINT(1) NOT NULL DEFAULT 0,
    first_bad_id INT UNSIGNED NULL,
    reason       VARCHAR(255) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
