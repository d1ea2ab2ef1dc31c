-- Migration 0018_packages (MariaDB/MySQL): lesson packages as a credit ledger and the branch fees
-- (issue 9, items 4 and 7; app/services/packages.py, docs/packages.md).
--
-- package_ledger is append-only: one row per movement of an enrolment's lesson credits (purchase,
-- consume, reverse, adjust, expire, refund), credits signed (+ adds, - takes). The balance is
-- SUM(credits), never a stored counter. source/source_id say what caused the row (outcome, invoice_line,
-- enrolment, adjustment, expiry); schedule_id the lesson a consume/reverse belongs to.
-- branch_booking_policies gains the fee settings: late_cancel_fee and no_show_fee (NULL = no fee) and
-- no_show_consumes (1 = a no-show draws a credit like a completed lesson).
-- Re-runnable: CREATE TABLE IF NOT EXISTS, ADD COLUMN IF NOT EXISTS.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS package_ledger (
    id            INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    enrollment_id INT UNSIGNED NOT NULL,
    entry         ENUM('purchase','consume','reverse','adjust','expire','refund') NOT NULL,
    credits       INT NOT NULL,
    schedule_id   INT UNSIGNED NULL,
    source        VARCHAR(20) NOT NULL,
    source_id     INT UNSIGNED NULL,
    reason        VARCHAR(255) NULL,
    expires_on    DATE NULL,
    created_by    INT UNSIGNED NULL,
    created_at    DATETIME NOT NULL,
    CONSTRAINT fk_package_ledger_enrollment FOREIGN KEY (enrollment_id) REFERENCES enrollments(id) ON DELETE CASCADE,
    CONSTRAINT fk_package_ledger_schedule FOREIGN KEY (schedule_id) REFERENCES schedules(id) ON DELETE SET NULL,
    CONSTRAINT fk_package_ledger_created_by FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL,
    INDEX idx_package_ledger_enrollment (enrollment_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE branch_booking_policies ADD COLUMN IF NOT EXISTS late_cancel_fee DECIMAL(10,2) NULL;
ALTER TABLE branch_booking_policies ADD COLUMN IF NOT EXISTS no_show_fee DECIMAL(10,2) NULL;
ALTER TABLE branch_booking_policies ADD COLUMN IF NOT EXISTS no_show_consumes TINYINT(1) NOT NULL DEFAULT 1;
