-- Migration 0008_scheduling (MariaDB/MySQL): the scheduling engine's schema (issue 7).
--
-- branches.timezone (an IANA zone name, NULL = APP_TIMEZONE); branch_opening_hours, the
-- structured per-weekday opening hours (weekday 0 = Monday .. 6 = Sunday) behind the
-- branch_closed rule (the free-text branches.opening_hours stays as a display label);
-- schedules: status gains no_show, a cancellation records when, by whom and why, and a
-- pick-up location; reminders.send_at (naive UTC, when the reminder is due; send_on
-- stays and keeps being filled); indexes for the per-instructor, per-vehicle and
-- per-enrolment calendar and conflict scans, and for due reminders.
-- Additive only: every new column on an existing table is nullable, and the status
-- ENUM is a superset of the original's, so rows written with the original columns
-- stay valid.
-- Re-runnable: ADD COLUMN IF NOT EXISTS, FOREIGN KEY IF NOT EXISTS, CREATE TABLE IF NOT
-- EXISTS, CREATE INDEX IF NOT EXISTS, DROP INDEX IF EXISTS, and a MODIFY that states
-- the column's whole definition (verified on MariaDB 10.11).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

-- -------------------------------------------------------------------------------------------------
-- branches: the branch's time zone, appended after updated_at
-- -------------------------------------------------------------------------------------------------

ALTER TABLE branches ADD COLUMN IF NOT EXISTS timezone VARCHAR(64) NULL;

-- -------------------------------------------------------------------------------------------------
-- schedules: no_show, cancellation details and pick-up location (appended after updated_at)
-- -------------------------------------------------------------------------------------------------

ALTER TABLE schedules MODIFY status ENUM('scheduled','completed','cancelled','not_completed','no_show') DEFAULT 'scheduled';
ALTER TABLE schedules ADD COLUMN IF NOT EXISTS cancelled_at DATETIME NULL;
ALTER TABLE schedules ADD COLUMN IF NOT EXISTS cancelled_by INT UNSIGNED NULL;
ALTER TABLE schedules ADD COLUMN IF NOT EXISTS cancel_reason VARCHAR(255) NULL;
ALTER TABLE schedules ADD COLUMN IF NOT EXISTS pickup_location VARCHAR(255) NULL;
-- InnoDB creates the backing index under the constraint's name (fk_schedule_cancelled_by).
ALTER TABLE schedules ADD CONSTRAINT fk_schedule_cancelled_by FOREIGN KEY IF NOT EXISTS (cancelled_by) REFERENCES users(id) ON DELETE SET NULL;

-- idx_schedule_vehicle_date already exists since 0003 (kept here so the set is complete).
CREATE INDEX IF NOT EXISTS idx_schedule_instructor_date ON schedules(instructor_id, scheduled_date);
CREATE INDEX IF NOT EXISTS idx_schedule_vehicle_date ON schedules(vehicle_id, scheduled_date);
CREATE INDEX IF NOT EXISTS idx_schedule_enrollment_date ON schedules(enrollment_id, scheduled_date);
-- idx_schedule_enrollment_date leads with enrollment_id: on a database created by the PHP
-- script InnoDB has just dropped its generated FK index fk_schedule_enrollment. A database
-- restored from a dump has it as an explicit key, which InnoDB keeps: drop it so every
-- upgraded database ends up like one initialised from sql/database.sql (as 0003 does).
DROP INDEX IF EXISTS fk_schedule_enrollment ON schedules;

-- -------------------------------------------------------------------------------------------------
-- reminders: when the reminder is due (naive UTC), appended after updated_at
-- -------------------------------------------------------------------------------------------------

ALTER TABLE reminders ADD COLUMN IF NOT EXISTS send_at DATETIME NULL;
CREATE INDEX IF NOT EXISTS idx_reminder_status_send_at ON reminders(status, send_at);

-- -------------------------------------------------------------------------------------------------
-- branch_opening_hours: one row per opening period (a weekday may have several, a weekday
-- without a row is closed). The foreign key is backed by idx_branch_opening_hours.
-- -------------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS branch_opening_hours (
    id         INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    branch_id  INT UNSIGNED NOT NULL,
    weekday    TINYINT UNSIGNED NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    open_time  TIME NOT NULL,
    close_time TIME NOT NULL,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    CONSTRAINT fk_opening_hours_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE CASCADE,
    CONSTRAINT chk_opening_hours_order CHECK (close_time > open_time),
    INDEX idx_branch_opening_hours (branch_id, weekday)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
