-- Migration 0017_payments (MariaDB/MySQL): payments as a ledger and the account credit (issue 9, items 6 and 8;
-- app/services/payments.py, docs/finance.md "Payments").
--
-- payments gains: kind (payment or refund; a refund is a negative row, never an edit of the payment),
-- refund_of (the payment a refund returns), reason (why it was refunded), idempotency_key (UNIQUE, NULL
-- allowed: the same key twice records one payment, also under a race), gateway and gateway_reference (the
-- provider and its charge id for an online payment). The method (cash, card, bank_transfer, gateway,
-- account_credit) is checked by the service; the column stays the original VARCHAR(40).
-- account_credits is an append-only ledger per student: + overpayment kept as credit, - applied to an
-- invoice, - refunded. The balance is SUM(amount), never a stored counter.
-- Re-runnable: CREATE TABLE IF NOT EXISTS, ADD COLUMN / INDEX / FOREIGN KEY IF NOT EXISTS.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

ALTER TABLE payments ADD COLUMN IF NOT EXISTS kind VARCHAR(10) NOT NULL DEFAULT 'payment';
ALTER TABLE payments ADD COLUMN IF NOT EXISTS refund_of INT UNSIGNED NULL;
ALTER TABLE payments ADD COLUMN IF NOT EXISTS reason VARCHAR(255) NULL;
ALTER TABLE payments ADD COLUMN IF NOT EXISTS idempotency_key VARCHAR(64) NULL;
ALTER TABLE payments ADD COLUMN IF NOT EXISTS gateway VARCHAR(20) NULL;
ALTER TABLE payments ADD COLUMN IF NOT EXISTS gateway_reference VARCHAR(80) NULL;
CREATE UNIQUE INDEX IF NOT EXISTS uq_payment_idempotency ON payments(idempotency_key);
CREATE INDEX IF NOT EXISTS idx_payment_refund_of ON payments(refund_of);
ALTER TABLE payments ADD CONSTRAINT fk_payment_refund_of FOREIGN KEY IF NOT EXISTS (refund_of) REFERENCES payments(id) ON DELETE SET NULL;

CREATE TABLE IF NOT EXISTS account_credits (
    id         INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    student_id INT UNSIGNED NOT NULL,
    amount     DECIMAL(10,2) NOT NULL,
    source     VARCHAR(12) NOT NULL,
    invoice_id INT UNSIGNED NULL,
    payment_id INT UNSIGNED NULL,
    notes      VARCHAR(255) NULL,
    created_by INT UNSIGNED NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT fk_account_credit_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    CONSTRAINT fk_account_credit_invoice FOREIGN KEY (invoice_id) REFERENCES invoices(id) ON DELETE SET NULL,
    CONSTRAINT fk_account_credit_payment FOREIGN KEY (payment_id) REFERENCES payments(id) ON DELETE SET NULL,
    CONSTRAINT fk_account_credit_created_by FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL,
    INDEX idx_account_credit_student (student_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
