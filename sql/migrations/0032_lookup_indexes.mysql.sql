-- 0032 lookup indexes (issue 13): the enrolment-request page's possible duplicates and the application's
-- "licence already in use" check find students by licence number (without it, every student is read:
-- 200,000 at scale L)
CREATE INDEX IF NOT EXISTS idx_students_license_number ON students (license_number);
