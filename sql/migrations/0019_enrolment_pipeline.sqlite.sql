-- Migration 0019_enrolment_pipeline (SQLite): public applications and the request decision (issue 9,
-- items 1 and 2).
--
-- students.date_of_birth: asked on the public application form (nullable: existing rows have none).
-- enrollment_requests.enrollment_id: the enrolment an approval created (NULL while pending or declined);
-- the decline reason is kept in admin_notes, which the applicant sees (as in the original).
-- application_attempts: one row per public application attempt that passed the form's own checks,
-- per client address, for the per-address rate limit (app/services/applications.py).
-- Additive only. SQLite has no ADD COLUMN IF NOT EXISTS: the runner applies each migration once.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

ALTER TABLE students ADD COLUMN date_of_birth DATE NULL;
ALTER TABLE enrollment_requests ADD COLUMN enrollment_id INTEGER NULL;

CREATE TABLE IF NOT EXISTS application_attempts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    ip_address   VARCHAR(45) NOT NULL,
    attempted_at DATETIME NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_application_attempts_ip ON application_attempts(ip_address, attempted_at);
