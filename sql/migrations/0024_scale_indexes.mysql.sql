-- Migration 0024_scale_indexes (MariaDB/MySQL): the indexes the page-speed work at national-chain size
-- asked for (issue 13, part 4; tests/explain_test.py checks the plans).
--
-- idx_schedule_instructor_enrolment: an instructor's lessons with their enrolment, so an instructor's
-- students (the students list and every student page an instructor opens) come from the index alone
-- (replaces idx_schedule_instructor, its prefix; it serves the foreign key).
-- idx_request_status_student: the pending requests with their student, so the navigation badge on
-- every office page counts them from the index alone (replaces idx_request_status, its prefix).
-- idx_unavailability_instructor_window: an instructor's windows by end and start, so the conflicts
-- badge and panel test each window's times in the index instead of reading every window's row
-- (replaces idx_unavailability_instructor, its prefix; it serves the foreign key).
-- idx_enrollments_course_status / idx_enrollments_student_status: the active enrolments of a course
-- (course page and list) and of a student (students list, branch page) counted as index ranges; they
-- lead with the foreign-key columns, so the one-column fk_enroll_course / fk_enroll_student indexes
-- are dropped (InnoDB drops its generated ones itself; SQLite drops them to keep the names equal).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE INDEX IF NOT EXISTS idx_schedule_instructor_enrolment ON schedules(instructor_id, enrollment_id);
DROP INDEX IF EXISTS idx_schedule_instructor ON schedules;
CREATE INDEX IF NOT EXISTS idx_request_status_student ON enrollment_requests(status, student_id);
DROP INDEX IF EXISTS idx_request_status ON enrollment_requests;
CREATE INDEX IF NOT EXISTS idx_unavailability_instructor_window ON instructor_unavailability(instructor_id, end_datetime, start_datetime);
DROP INDEX IF EXISTS idx_unavailability_instructor ON instructor_unavailability;
CREATE INDEX IF NOT EXISTS idx_enrollments_course_status ON enrollments(course_id, status);
DROP INDEX IF EXISTS fk_enroll_course ON enrollments;
CREATE INDEX IF NOT EXISTS idx_enrollments_student_status ON enrollments(student_id, status);
DROP INDEX IF EXISTS fk_enroll_student ON enrollments;
