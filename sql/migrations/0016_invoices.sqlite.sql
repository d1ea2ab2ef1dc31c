-- Migration 0016_invoices (SQLite): invoices that cannot collide, drafts, discounts, tax, void and
-- credit notes (issue 9, items 5 and 9); see the MariaDB twin for the columns' meaning.
-- SQLite has no ADD COLUMN IF NOT EXISTS: the runner applies each migration once, in one
-- transaction with its ledger row (so no PRAGMA here).
--
-- invoices is rebuilt (the status CHECK can only widen by creating the table anew, as 0008 did
-- for schedules), with the new columns appended after updated_at in the MariaDB order. Unlike
-- schedules, invoices has children (invoice_items, payments, ON DELETE CASCADE) and foreign_keys
-- is ON inside the migration's transaction: DROP TABLE invoices would delete their rows. So the
-- children's rows are first copied aside, the old table dropped (emptying them), the new one
-- renamed into place (the children's REFERENCES invoices now resolve to it) and the rows copied
-- back with their ids. Every invoice keeps its id; the AUTOINCREMENT counters are carried over.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS invoice_counters (
    year        INTEGER NOT NULL PRIMARY KEY,
    last_number INTEGER NOT NULL DEFAULT 0 CHECK (last_number >= 0)
);

CREATE TABLE invoices_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    enrollment_id   INTEGER NOT NULL,
    invoice_number  VARCHAR(40) NOT NULL,
    issue_date      DATE NOT NULL,
    due_date        DATE NOT NULL,
    subtotal        DECIMAL(10,2) NOT NULL,
    tax_amount      DECIMAL(10,2) NOT NULL,
    total           DECIMAL(10,2) NOT NULL,
    status          VARCHAR(7) DEFAULT 'sent' CHECK (status IN ('draft','sent','partial','paid','overdue','void')),
    notes           TEXT NULL,
    created_at      DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at      DATETIME DEFAULT CURRENT_TIMESTAMP,
    discount_amount DECIMAL(10,2) NOT NULL DEFAULT 0.00,
    tax_rate        DECIMAL(5,2) NOT NULL DEFAULT 10.00,
    tax_inclusive   INTEGER NOT NULL DEFAULT 0 CHECK (tax_inclusive IN (0,1)),
    branch_id       INTEGER NULL,
    issued_at       DATETIME NULL,
    voided_at       DATETIME NULL,
    void_reason     VARCHAR(255) NULL,
    credit_note_for INTEGER NULL,
    created_by      INTEGER NULL,
    CONSTRAINT fk_invoice_enrollment FOREIGN KEY (enrollment_id) REFERENCES enrollments(id) ON DELETE CASCADE,
    CONSTRAINT fk_invoice_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL,
    CONSTRAINT fk_invoice_credit_note_for FOREIGN KEY (credit_note_for) REFERENCES invoices(id) ON DELETE SET NULL,
    CONSTRAINT fk_invoice_created_by FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL
);

INSERT INTO invoices_new (
    id, enrollment_id, invoice_number, issue_date, due_date, subtotal, tax_amount, total, status, notes,
    created_at, updated_at
)
SELECT id, enrollment_id, invoice_number, issue_date, due_date, subtotal, tax_amount, total, status, notes,
    created_at, updated_at
FROM invoices ORDER BY id;

UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT s.seq FROM sqlite_sequence AS s WHERE s.name = 'invoices'), 0)) WHERE name = 'invoices_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'invoices_new', s.seq FROM sqlite_sequence AS s WHERE s.name = 'invoices' AND NOT EXISTS (SELECT 1 FROM sqlite_sequence AS n WHERE n.name = 'invoices_new');

CREATE TABLE m0016_invoice_items AS SELECT id, invoice_id, description, quantity, unit_price, total FROM invoice_items;
CREATE TABLE m0016_payments AS SELECT id, invoice_id, amount, payment_date, method, reference, notes, recorded_by, created_at, updated_at FROM payments;

DROP TABLE invoices;
ALTER TABLE invoices_new RENAME TO invoices;

INSERT INTO invoice_items (id, invoice_id, description, quantity, unit_price, total)
SELECT id, invoice_id, description, quantity, unit_price, total FROM m0016_invoice_items ORDER BY id;
INSERT INTO payments (id, invoice_id, amount, payment_date, method, reference, notes, recorded_by, created_at, updated_at)
SELECT id, invoice_id, amount, payment_date, method, reference, notes, recorded_by, created_at, updated_at FROM m0016_payments ORDER BY id;
DROP TABLE m0016_invoice_items;
DROP TABLE m0016_payments;

CREATE UNIQUE INDEX IF NOT EXISTS invoice_number ON invoices(invoice_number);
CREATE INDEX IF NOT EXISTS fk_invoice_enrollment ON invoices(enrollment_id);
CREATE INDEX IF NOT EXISTS idx_invoices_status_due ON invoices(status, due_date);
CREATE INDEX IF NOT EXISTS idx_invoices_issue_date ON invoices(issue_date);
CREATE INDEX IF NOT EXISTS idx_invoices_branch_status ON invoices(branch_id, status, issue_date);
CREATE INDEX IF NOT EXISTS idx_invoices_credit_note_for ON invoices(credit_note_for);
CREATE INDEX IF NOT EXISTS idx_invoices_created_by ON invoices(created_by);

ALTER TABLE invoice_items ADD COLUMN kind VARCHAR(20) NOT NULL DEFAULT 'course' CHECK (kind IN ('course','lesson','package','fee_late_cancel','fee_no_show','credit','other'));
ALTER TABLE invoice_items ADD COLUMN credits INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0);
ALTER TABLE invoice_items ADD COLUMN discount DECIMAL(10,2) NOT NULL DEFAULT 0.00;
ALTER TABLE invoice_items ADD COLUMN waived_at DATETIME NULL;
ALTER TABLE invoice_items ADD COLUMN waived_by INTEGER NULL REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE invoice_items ADD COLUMN waive_reason VARCHAR(255) NULL;
ALTER TABLE invoice_items ADD COLUMN schedule_id INTEGER NULL REFERENCES schedules(id) ON DELETE SET NULL;
CREATE INDEX IF NOT EXISTS idx_invoice_items_waived_by ON invoice_items(waived_by);
CREATE INDEX IF NOT EXISTS idx_invoice_items_schedule ON invoice_items(schedule_id);
