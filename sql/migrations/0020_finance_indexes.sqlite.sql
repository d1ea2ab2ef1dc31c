-- Migration 0020_finance_indexes (SQLite): the index the chain-scale finance benchmark asked for
-- (issue 9, bench/finance.py, bench/README.md).
--
-- idx_payments_invoice_cover: an invoice's payments with their date, amount and kind (the amount paid
-- per invoice, the branch ledger's count, page pick and totals from the index alone).
-- fk_payment_invoice is dropped as InnoDB drops its generated FK index once an index leads with
-- invoice_id, so both databases keep the same index names (tests/schema_test.py).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE INDEX IF NOT EXISTS idx_payments_invoice_cover ON payments(invoice_id, payment_date, amount, kind);
DROP INDEX IF EXISTS fk_payment_invoice;
