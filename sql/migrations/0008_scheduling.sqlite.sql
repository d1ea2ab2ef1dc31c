-- Migration 0008_scheduling (SQLite): the scheduling engine's schema (issue 7).
--
-- branches.timezone (an IANA zone name, NULL = APP_TIMEZONE); branch_opening_hours, the
-- structured per-weekday opening hours (weekday 0 = Monday .. 6 = Sunday) behind the
-- branch_closed rule (the free-text branches.opening_hours stays as a display label);
-- schedules: status gains no_show, a cancellation records when, by whom and why, and a
-- pick-up location; reminders.send_at (naive UTC, when the reminder is due; send_on
-- stays and keeps being filled); indexes for the per-instructor, per-vehicle and
-- per-enrolment calendar and conflict scans, and for due reminders.
-- SQLite has no ADD COLUMN IF NOT EXISTS: the runner applies each migration once, in one
-- transaction with its ledger row (so no PRAGMA here).
--
-- schedules is rebuilt: a CHECK constraint (the status list) can only change by creating
-- the table anew. schedules_new has the full new definition (identical to
-- sql/database.sqlite.sql), every row is copied with its id, the AUTOINCREMENT counter is
-- carried over (ids of deleted lessons are never reused), the old table is dropped (with
-- its indexes), the new one renamed and its indexes recreated. No table has a foreign key
-- to schedules, so this is safe with foreign_keys ON (reminders point at lessons through
-- related_type/related_id, not a foreign key). fk_schedule_enrollment is not recreated:
-- InnoDB drops it once idx_schedule_enrollment_date leads with enrollment_id.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

-- -------------------------------------------------------------------------------------------------
-- branches: the branch's time zone, appended after updated_at
-- -------------------------------------------------------------------------------------------------

ALTER TABLE branches ADD COLUMN timezone VARCHAR(64) NULL;

-- -------------------------------------------------------------------------------------------------
-- schedules: rebuilt with no_show, cancellation details and pick-up location
-- -------------------------------------------------------------------------------------------------

CREATE TABLE schedules_new (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    enrollment_id        INTEGER NOT NULL,
    instructor_id        INTEGER NOT NULL,
    vehicle_id           INTEGER NULL,
    branch_id            INTEGER NULL,
    event_type           VARCHAR(10) DEFAULT 'lesson' CHECK (event_type IN ('lesson','exam','assessment')),
    scheduled_date       DATE NOT NULL,
    start_time           TIME NOT NULL,
    end_time             TIME NOT NULL,
    status               VARCHAR(13) DEFAULT 'scheduled' CHECK (status IN ('scheduled','completed','cancelled','not_completed','no_show')),
    student_rating       INTEGER NULL CHECK (student_rating BETWEEN 0 AND 255),
    student_feedback     TEXT NULL,
    completion_marked_by INTEGER NULL,
    completion_marked_at DATETIME NULL,
    lesson_topic         VARCHAR(160) NULL,
    notes                TEXT NULL,
    reminder_sent        INTEGER DEFAULT 0 CHECK (reminder_sent IN (0,1)),
    created_at           DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at           DATETIME DEFAULT CURRENT_TIMESTAMP,
    cancelled_at         DATETIME NULL,
    cancelled_by         INTEGER NULL,
    cancel_reason        VARCHAR(255) NULL,
    pickup_location      VARCHAR(255) NULL,
    CONSTRAINT fk_schedule_enrollment FOREIGN KEY (enrollment_id) REFERENCES enrollments(id) ON DELETE CASCADE,
    CONSTRAINT fk_schedule_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    CONSTRAINT fk_schedule_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE SET NULL,
    CONSTRAINT fk_schedule_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL,
    CONSTRAINT fk_schedule_completed_by FOREIGN KEY (completion_marked_by) REFERENCES users(id) ON DELETE SET NULL,
    CONSTRAINT fk_schedule_cancelled_by FOREIGN KEY (cancelled_by) REFERENCES users(id) ON DELETE SET NULL
);

INSERT INTO schedules_new (
    id, enrollment_id, instructor_id, vehicle_id, branch_id, event_type, scheduled_date, start_time, end_time,
    status, student_rating, student_feedback, completion_marked_by, completion_marked_at, lesson_topic, notes,
    reminder_sent, created_at, updated_at
)
SELECT
    id, enrollment_id, instructor_id, vehicle_id, branch_id, event_type, scheduled_date, start_time, end_time,
    status, student_rating, student_feedback, completion_marked_by, completion_marked_at, lesson_topic, notes,
    reminder_sent, created_at, updated_at
FROM schedules ORDER BY id;

-- The copy set schedules_new's counter to its highest id, carry the old (possibly higher) one over.
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT s.seq FROM sqlite_sequence AS s WHERE s.name = 'schedules'), 0)) WHERE name = 'schedules_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'schedules_new', s.seq FROM sqlite_sequence AS s WHERE s.name = 'schedules' AND NOT EXISTS (SELECT 1 FROM sqlite_sequence AS n WHERE n.name = 'schedules_new');

DROP TABLE schedules;
ALTER TABLE schedules_new RENAME TO schedules;

CREATE INDEX IF NOT EXISTS idx_schedule_date ON schedules(scheduled_date);
CREATE INDEX IF NOT EXISTS idx_schedule_instructor ON schedules(instructor_id);
CREATE INDEX IF NOT EXISTS fk_schedule_branch ON schedules(branch_id);
CREATE INDEX IF NOT EXISTS fk_schedule_completed_by ON schedules(completion_marked_by);
CREATE INDEX IF NOT EXISTS fk_schedule_cancelled_by ON schedules(cancelled_by);
CREATE INDEX IF NOT EXISTS idx_schedule_vehicle_date ON schedules(vehicle_id, scheduled_date);
CREATE INDEX IF NOT EXISTS idx_schedule_date_start ON schedules(scheduled_date, start_time);
CREATE INDEX IF NOT EXISTS idx_schedule_status_date ON schedules(status, scheduled_date, start_time, branch_id);
CREATE INDEX IF NOT EXISTS idx_schedule_instructor_date ON schedules(instructor_id, scheduled_date);
CREATE INDEX IF NOT EXISTS idx_schedule_enrollment_date ON schedules(enrollment_id, scheduled_date);

-- -------------------------------------------------------------------------------------------------
-- reminders: when the reminder is due (naive UTC), appended after updated_at
-- -------------------------------------------------------------------------------------------------

ALTER TABLE reminders ADD COLUMN send_at DATETIME NULL;
CREATE INDEX IF NOT EXISTS idx_reminder_status_send_at ON reminders(status, send_at);

-- -------------------------------------------------------------------------------------------------
-- branch_opening_hours: one row per opening period (a weekday may have several, a weekday
-- without a row is closed)
-- -------------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS branch_opening_hours (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    branch_id  INTEGER NOT NULL,
    weekday    INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    open_time  TIME NOT NULL,
    close_time TIME NOT NULL,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_opening_hours_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE CASCADE,
    CONSTRAINT chk_opening_hours_order CHECK (close_time > open_time)
);
CREATE INDEX IF NOT EXISTS idx_branch_opening_hours ON branch_opening_hours(branch_id, weekday);
