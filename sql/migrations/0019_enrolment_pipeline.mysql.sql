-- Migration 0019_enrolment_pipeline (MariaDB/MySQL): public applications and the request decision (issue 9,
-- items 1 and 2).
--
-- students.date_of_birth: asked on the public application form (nullable: existing rows have none).
-- enrollment_requests.enrollment_id: the enrolment an approval created (NULL while pending or declined);
-- the decline reason is kept in admin_notes, which the applicant sees (as in the original).
-- application_attempts: one row per public application attempt that passed the form's own checks,
-- per client address, for the per-address rate limit (app/services/applications.py).
-- Additive only. Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

ALTER TABLE students ADD COLUMN IF NOT EXISTS date_of_birth DATE NULL;
ALTER TABLE enrollment_requests ADD COLUMN IF NOT EXISTS enrollment_id INT UNSIGNED NULL;

CREATE TABLE IF NOT EXISTS application_attempts (
    id           INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    ip_address   VARCHAR(45) NOT NULL,
    attempted_at DATETIME NOT NULL,
    INDEX idx_application_attempts_ip (ip_address, attempted_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
