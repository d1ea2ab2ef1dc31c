-- Migration 0034_staff_list_speed (MariaDB/MySQL): the office's invoice list and payments ledger of one
-- branch and the whole school's request queue at national-chain size (issue 13; tests/explain_test.py).
--
-- idx_invoices_branch_cover: a branch's invoices (ref_or_null on branch_id: the original's rows without a
-- branch belong to their student's) with everything the list and the ledger read of them, so none of the
-- branch's invoice rows is read (7,000 of them at scale L): status, issue date (the list's page pick, in
-- its order), total (the list's sums) and enrolment (the branch rule's second half, the ledger's join).
-- It extends idx_invoices_branch_status (branch_id, status, issue_date), dropped here.
-- idx_request_status_created: the request queue of the whole school (admin) in its default order,
-- newest first within a status, without reading and sorting every pending request (10,000 at scale L).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE INDEX IF NOT EXISTS idx_invoices_branch_cover ON invoices (branch_id, status, issue_date, total, enrollment_id);
DROP INDEX IF EXISTS idx_invoices_branch_status ON invoices;
CREATE INDEX IF NOT EXISTS idx_request_status_created ON enrollment_requests (status, created_at);
