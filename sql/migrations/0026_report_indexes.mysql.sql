-- Migration 0026_report_indexes (MariaDB/MySQL): the indexes the Reports module reads through
-- (issue 13; app/dao/report.py, docs/reports.md).
--
-- idx_schedule_type_status_enrolment: events of one type and outcome per enrolment, by date. Lessons
-- to licence finds the passed drive tests (exam, completed) of a date range from it, then for each
-- student counts the completed lessons before the test and looks for an earlier pass with two short
-- index-only range reads; the progress breakdown counts an enrolment's completed lessons the same way.
-- idx_enrollments_start: enrolments started in a date range, with their status (retention overview).
-- idx_users_role_status: the active students of the whole school counted from the index alone.
-- idx_invoices_ageing: the unpaid invoices past their due date with what invoice ageing needs (issue
-- date, credit note, branch, enrolment, total), read from the index alone.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE INDEX IF NOT EXISTS idx_schedule_type_status_enrolment ON schedules(event_type, status, enrollment_id, scheduled_date, start_time);
CREATE INDEX IF NOT EXISTS idx_enrollments_start ON enrollments(start_date, status);
CREATE INDEX IF NOT EXISTS idx_users_role_status ON users(role, status);
CREATE INDEX IF NOT EXISTS idx_invoices_ageing ON invoices(status, due_date, issue_date, credit_note_for, branch_id, enrollment_id, total);
