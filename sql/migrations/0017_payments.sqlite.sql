-- Migration 0017_payments (SQLite): payments as a ledger and the account credit (issue 9, items 6 and 8;
-- app/services/payments.py, docs/finance.md "Payments").
--
-- payments gains: kind (payment or refund; a refund is a negative row, never an edit of the payment),
-- refund_of (the payment a refund returns), reason (why it was refunded), idempotency_key (UNIQUE, NULL
-- allowed: the same key twice records one payment, also under a race), gateway and gateway_reference (the
-- provider and its charge id for an online payment). The method (cash, card, bank_transfer, gateway,
-- account_credit) is checked by the service; the column stays the original VARCHAR(40).
-- account_credits is an append-only ledger per student: + overpayment kept as credit, - applied to an
-- invoice, - refunded. The balance is SUM(amount), never a stored counter.
-- SQLite has no ADD COLUMN IF NOT EXISTS: the runner applies each migration once. payments.refund_of
-- carries an unnamed column-level REFERENCES (SQLite cannot add a named constraint to an existing table).
-- The indexes InnoDB creates for foreign keys are created under the MariaDB constraint names.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

ALTER TABLE payments ADD COLUMN kind VARCHAR(10) NOT NULL DEFAULT 'payment' CHECK (kind IN ('payment','refund'));
ALTER TABLE payments ADD COLUMN refund_of INTEGER NULL REFERENCES payments(id) ON DELETE SET NULL;
ALTER TABLE payments ADD COLUMN reason VARCHAR(255) NULL;
ALTER TABLE payments ADD COLUMN idempotency_key VARCHAR(64) NULL;
ALTER TABLE payments ADD COLUMN gateway VARCHAR(20) NULL;
ALTER TABLE payments ADD COLUMN gateway_reference VARCHAR(80) NULL;
CREATE UNIQUE INDEX IF NOT EXISTS uq_payment_idempotency ON payments(idempotency_key);
CREATE INDEX IF NOT EXISTS idx_payment_refund_of ON payments(refund_of);

CREATE TABLE IF NOT EXISTS account_credits (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    student_id INTEGER NOT NULL,
    amount     DECIMAL(10,2) NOT NULL,
    source     VARCHAR(12) NOT NULL CHECK (source IN ('overpayment','applied','refund')),
    invoice_id INTEGER NULL,
    payment_id INTEGER NULL,
    notes      VARCHAR(255) NULL,
    created_by INTEGER NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT fk_account_credit_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    CONSTRAINT fk_account_credit_invoice FOREIGN KEY (invoice_id) REFERENCES invoices(id) ON DELETE SET NULL,
    CONSTRAINT fk_account_credit_payment FOREIGN KEY (payment_id) REFERENCES payments(id) ON DELETE SET NULL,
    CONSTRAINT fk_account_credit_created_by FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS idx_account_credit_student ON account_credits(student_id, id);
CREATE INDEX IF NOT EXISTS fk_account_credit_invoice ON account_credits(invoice_id);
CREATE INDEX IF NOT EXISTS fk_account_credit_payment ON account_credits(payment_id);
CREATE INDEX IF NOT EXISTS fk_account_credit_created_by ON account_credits(created_by);
