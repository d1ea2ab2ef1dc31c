-- Migration 0018_packages (SQLite): lesson packages as a credit ledger and the branch fees
-- (issue 9, items 4 and 7); see the MariaDB twin. The indexes InnoDB creates for the foreign keys
-- are created explicitly under the constraints' names.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS package_ledger (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    enrollment_id INTEGER NOT NULL,
    entry         VARCHAR(8) NOT NULL CHECK (entry IN ('purchase','consume','reverse','adjust','expire','refund')),
    credits       INTEGER NOT NULL,
    schedule_id   INTEGER NULL,
    source        VARCHAR(20) NOT NULL,
    source_id     INTEGER NULL,
    reason        VARCHAR(255) NULL,
    expires_on    DATE NULL,
    created_by    INTEGER NULL,
    created_at    DATETIME NOT NULL,
    CONSTRAINT fk_package_ledger_enrollment FOREIGN KEY (enrollment_id) REFERENCES enrollments(id) ON DELETE CASCADE,
    CONSTRAINT fk_package_ledger_schedule FOREIGN KEY (schedule_id) REFERENCES schedules(id) ON DELETE SET NULL,
    CONSTRAINT fk_package_ledger_created_by FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS idx_package_ledger_enrollment ON package_ledger(enrollment_id, id);
CREATE INDEX IF NOT EXISTS fk_package_ledger_schedule ON package_ledger(schedule_id);
CREATE INDEX IF NOT EXISTS fk_package_ledger_created_by ON package_ledger(created_by);

ALTER TABLE branch_booking_policies ADD COLUMN late_cancel_fee DECIMAL(10,2) NULL;
ALTER TABLE branch_booking_policies ADD COLUMN no_show_fee DECIMAL(10,2) NULL;
ALTER TABLE branch_booking_policies ADD COLUMN no_show_consumes INTEGER NOT NULL DEFAULT 1 CHECK (no_show_consumes IN (0, 1));
