-- Migration 0011_booking_policy (MariaDB/MySQL): each branch's booking policy (issue 8, item 2).
-- One row per branch (branch_id is the key); a branch without a row has the defaults below
-- (app/services/policy.py). Minutes and days are local wall-clock quantities in the branch's zone.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS branch_booking_policies (
    branch_id               INT UNSIGNED NOT NULL PRIMARY KEY,
    min_notice_minutes      INT UNSIGNED NOT NULL DEFAULT 720,
    horizon_days            SMALLINT UNSIGNED NOT NULL DEFAULT 56,
    max_lessons_per_week    TINYINT UNSIGNED NOT NULL DEFAULT 3,
    cancel_cutoff_minutes   INT UNSIGNED NOT NULL DEFAULT 1440,
    students_any_instructor TINYINT(1) NOT NULL DEFAULT 0,
    slot_grid_minutes       TINYINT UNSIGNED NOT NULL DEFAULT 15,
    buffer_minutes          SMALLINT UNSIGNED NOT NULL DEFAULT 0,
    updated_at              DATETIME NULL,
    updated_by              INT UNSIGNED NULL,
    CONSTRAINT fk_booking_policy_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE CASCADE,
    CONSTRAINT fk_booking_policy_updated_by FOREIGN KEY (updated_by) REFERENCES users(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
