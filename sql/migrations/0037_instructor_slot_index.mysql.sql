-- Migration 0037_instructor_slot_index (MariaDB/MySQL): idx_schedule_instructor_date covers the
-- lesson's slot (issue 13). It was (instructor_id, scheduled_date); every read of an instructor's
-- lessons over some days (the calendars, free slots, the conflicts panel's free instructors, the
-- booking engine's overlap check) also needs status, start_time and end_time, so each lesson in the
-- range cost a primary-key lookup: 13,000 of them for a branch's month at scale L. With the three
-- columns appended the index alone answers (InnoDB keeps the id in every index entry), and every query
-- that used the two leading columns still can. Rebuilt in one statement (an online rebuild); a second
-- run rebuilds it again.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

ALTER TABLE schedules DROP INDEX IF EXISTS idx_schedule_instructor_date, ADD INDEX idx_schedule_instructor_date (instructor_id, scheduled_date, status, start_time, end_time);
