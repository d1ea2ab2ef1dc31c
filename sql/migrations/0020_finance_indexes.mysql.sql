-- Migration 0020_finance_indexes (MariaDB/MySQL): the index the chain-scale finance benchmark asked
-- for (issue 9, bench/finance.py, bench/README.md).
--
-- idx_payments_invoice_cover: an invoice's payments with their date, amount and kind, so the amount
-- paid per invoice (the invoice list's sums, every "paid" subquery), the branch ledger's count, page
-- pick and totals read the index alone instead of one table row per payment. It leads with
-- invoice_id, so InnoDB drops its generated fk_payment_invoice index (the migration drops an explicit
-- one from a restored dump, and SQLite drops it to keep the index names equal): the new index serves
-- the foreign key instead, and the table keeps the same number of indexes.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE INDEX IF NOT EXISTS idx_payments_invoice_cover ON payments(invoice_id, payment_date, amount, kind);
DROP INDEX IF EXISTS fk_payment_invoice ON payments;
