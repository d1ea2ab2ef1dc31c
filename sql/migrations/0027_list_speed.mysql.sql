-- Migration 0027_list_speed (MariaDB/MySQL): the indexes the office lists read through at national-chain
-- size (issue 13; app/dao/student.py). The students list searched across the whole school matches the
-- start of a last name (idx_users_name), first name, e-mail (its unique index) or phone: each term is a
-- union of index ranges instead of a contains-search over every student.
-- stat_invoice_totals / stat_payment_totals (summaries "invoice_totals" and "payment_totals", refreshed by
-- flask refresh-stats; app/dao/stats.py): invoices per scope branch (the invoice's, else its student's;
-- 0 = none) and status with their total and paid amounts, and payments per scope branch, method and kind
-- with their amount. The invoice and payment lists show the whole chain's totals from them ("as of").
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE INDEX IF NOT EXISTS idx_users_first_name ON users(first_name);
CREATE INDEX IF NOT EXISTS idx_users_phone ON users(phone);
CREATE TABLE IF NOT EXISTS stat_invoice_totals (
    branch_id INT UNSIGNED NOT NULL DEFAULT 0,
    status    VARCHAR(20) NOT NULL,
    invoices  INT NOT NULL DEFAULT 0,
    total     DECIMAL(14,2) NOT NULL DEFAULT 0,
    paid      DECIMAL(14,2) NOT NULL DEFAULT 0,
    PRIMARY KEY (branch_id, status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS stat_payment_totals (
    branch_id INT UNSIGNED NOT NULL DEFAULT 0,
    method    VARCHAR(40) NOT NULL DEFAULT '',
    kind      VARCHAR(10) NOT NULL DEFAULT 'payment',
    entries   INT NOT NULL DEFAULT 0,
    amount    DECIMAL(14,2) NOT NULL DEFAULT 0,
    PRIMARY KEY (branch_id, method, kind)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
