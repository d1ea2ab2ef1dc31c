-- Migration 0026_report_indexes (SQLite): the indexes the Reports module reads through (issue 13;
-- app/dao/report.py, docs/reports.md): events by type, outcome, enrolment and date (lessons to
-- licence, the progress breakdown), enrolments by start date (retention), users by role and status
-- (active students), unpaid invoices by due date with their amounts (invoice ageing). The same names as on MariaDB (tests/schema_test.py).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE INDEX IF NOT EXISTS idx_schedule_type_status_enrolment ON schedules(event_type, status, enrollment_id, scheduled_date, start_time);
CREATE INDEX IF NOT EXISTS idx_enrollments_start ON enrollments(start_date, status);
CREATE INDEX IF NOT EXISTS idx_users_role_status ON users(role, status);
CREATE INDEX IF NOT EXISTS idx_invoices_ageing ON invoices(status, due_date, issue_date, credit_note_for, branch_id, enrollment_id, total);
