-- Migration 0011_booking_policy (SQLite): each branch's booking policy (issue 8, item 2);
-- see the MariaDB twin. The index InnoDB creates for fk_booking_policy_updated_by is created
-- explicitly under the constraint's name (branch_id is the primary key).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS branch_booking_policies (
    branch_id               INTEGER NOT NULL PRIMARY KEY CHECK (branch_id >= 0),
    min_notice_minutes      INTEGER NOT NULL DEFAULT 720 CHECK (min_notice_minutes >= 0),
    horizon_days            INTEGER NOT NULL DEFAULT 56 CHECK (horizon_days BETWEEN 0 AND 65535),
    max_lessons_per_week    INTEGER NOT NULL DEFAULT 3 CHECK (max_lessons_per_week BETWEEN 0 AND 255),
    cancel_cutoff_minutes   INTEGER NOT NULL DEFAULT 1440 CHECK (cancel_cutoff_minutes >= 0),
    students_any_instructor INTEGER NOT NULL DEFAULT 0 CHECK (students_any_instructor IN (0, 1)),
    slot_grid_minutes       INTEGER NOT NULL DEFAULT 15 CHECK (slot_grid_minutes BETWEEN 0 AND 255),
    buffer_minutes          INTEGER NOT NULL DEFAULT 0 CHECK (buffer_minutes BETWEEN 0 AND 65535),
    updated_at              DATETIME NULL,
    updated_by              INTEGER NULL,
    CONSTRAINT fk_booking_policy_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE CASCADE,
    CONSTRAINT fk_booking_policy_updated_by FOREIGN KEY (updated_by) REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS fk_booking_policy_updated_by ON branch_booking_policies(updated_by);
