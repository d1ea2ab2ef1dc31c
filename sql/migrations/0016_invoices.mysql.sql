-- Migration 0016_invoices (MariaDB/MySQL): invoices that cannot collide, drafts, discounts, tax,
-- void and credit notes (issue 9, items 5 and 9).
--
-- invoice_counters: one row per calendar year; the issuing transaction locks the year's row
-- (SELECT .. FOR UPDATE), takes last_number + 1 and writes it back, so two issuers can never get
-- the same INV-YYYY-NNNNNN (app/services/invoicing.py). invoices gain discount_amount, tax_rate,
-- tax_inclusive, branch_id, issued_at, voided_at, void_reason, credit_note_for (the invoice a
-- credit note corrects) and created_by; the status ENUM widens to draft/sent/partial/paid/overdue/
-- void (a superset of the original's). invoice_number stays NOT NULL UNIQUE: a draft carries the
-- placeholder DRAFT-<id> until it is issued. invoice_items gain kind, credits, discount, the
-- waiver (waived_at, waived_by, waive_reason) and the lesson a fee line came from (schedule_id).
-- Additive only: every new column is nullable or defaulted. Re-runnable: IF NOT EXISTS forms and
-- a MODIFY that states the whole column definition. Each index is created before the foreign key
-- it serves, so InnoDB adds no index of its own.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS invoice_counters (
    year        INT UNSIGNED NOT NULL PRIMARY KEY,
    last_number INT UNSIGNED NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE invoices MODIFY status ENUM('draft','sent','partial','paid','overdue','void') DEFAULT 'sent';
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS discount_amount DECIMAL(10,2) NOT NULL DEFAULT 0.00;
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS tax_rate DECIMAL(5,2) NOT NULL DEFAULT 10.00;
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS tax_inclusive TINYINT(1) NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS branch_id INT UNSIGNED NULL;
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS issued_at DATETIME NULL;
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS voided_at DATETIME NULL;
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS void_reason VARCHAR(255) NULL;
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS credit_note_for INT UNSIGNED NULL;
ALTER TABLE invoices ADD COLUMN IF NOT EXISTS created_by INT UNSIGNED NULL;
CREATE INDEX IF NOT EXISTS idx_invoices_branch_status ON invoices(branch_id, status, issue_date);
CREATE INDEX IF NOT EXISTS idx_invoices_credit_note_for ON invoices(credit_note_for);
CREATE INDEX IF NOT EXISTS idx_invoices_created_by ON invoices(created_by);
ALTER TABLE invoices ADD CONSTRAINT fk_invoice_branch FOREIGN KEY IF NOT EXISTS (branch_id) REFERENCES branches(id) ON DELETE SET NULL;
ALTER TABLE invoices ADD CONSTRAINT fk_invoice_credit_note_for FOREIGN KEY IF NOT EXISTS (credit_note_for) REFERENCES invoices(id) ON DELETE SET NULL;
ALTER TABLE invoices ADD CONSTRAINT fk_invoice_created_by FOREIGN KEY IF NOT EXISTS (created_by) REFERENCES users(id) ON DELETE SET NULL;

ALTER TABLE invoice_items ADD COLUMN IF NOT EXISTS kind VARCHAR(20) NOT NULL DEFAULT 'course' CHECK (kind IN ('course','lesson','package','fee_late_cancel','fee_no_show','credit','other'));
ALTER TABLE invoice_items ADD COLUMN IF NOT EXISTS credits INT UNSIGNED NOT NULL DEFAULT 0;
ALTER TABLE invoice_items ADD COLUMN IF NOT EXISTS discount DECIMAL(10,2) NOT NULL DEFAULT 0.00;
ALTER TABLE invoice_items ADD COLUMN IF NOT EXISTS waived_at DATETIME NULL;
ALTER TABLE invoice_items ADD COLUMN IF NOT EXISTS waived_by INT UNSIGNED NULL;
ALTER TABLE invoice_items ADD COLUMN IF NOT EXISTS waive_reason VARCHAR(255) NULL;
ALTER TABLE invoice_items ADD COLUMN IF NOT EXISTS schedule_id INT UNSIGNED NULL;
CREATE INDEX IF NOT EXISTS idx_invoice_items_waived_by ON invoice_items(waived_by);
CREATE INDEX IF NOT EXISTS idx_invoice_items_schedule ON invoice_items(schedule_id);
ALTER TABLE invoice_items ADD CONSTRAINT fk_invoice_item_waived_by FOREIGN KEY IF NOT EXISTS (waived_by) REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE invoice_items ADD CONSTRAINT fk_invoice_item_schedule FOREIGN KEY IF NOT EXISTS (schedule_id) REFERENCES schedules(id) ON DELETE SET NULL;
