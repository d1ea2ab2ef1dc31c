-- Migration 0037_instructor_slot_index (SQLite): idx_schedule_instructor_date covers the lesson's slot
-- (issue 13): (instructor_id, scheduled_date) becomes (instructor_id, scheduled_date, status,
-- start_time, end_time), so an instructor's lessons over some days are read from the index alone (see
-- the MariaDB file).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

DROP INDEX IF EXISTS idx_schedule_instructor_date;
CREATE INDEX IF NOT EXISTS idx_schedule_instructor_date ON schedules(instructor_id, scheduled_date, status, start_time, end_time);
