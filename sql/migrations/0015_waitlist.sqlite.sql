-- Migration 0015_waitlist (SQLite): the gap filler / waitlist (issue 8, item 8).
--
-- waitlist_preferences: one row per student who has opened "Earlier slots" (student_id is the key);
-- active = 1 means "offer me earlier slots". weekdays is a 7-character mask, Monday first
-- ('1111100' = Monday to Friday); earliest_time/latest_time bound the lesson (wall-clock, branch zone).
-- opted_in_at orders the offers (earliest opted-in first).
-- gap_offers: one offer of a cancelled lesson's slot to one student (unique per slot and student).
-- expires_at is naive UTC: the slot's start minus the branch's minimum notice (wall-clock).
-- The fk_* indexes are the ones InnoDB creates for the foreign keys (named after the constraint).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS waitlist_preferences (
    student_id    INTEGER NOT NULL PRIMARY KEY CHECK (student_id >= 0),
    active        INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    weekdays      CHAR(7) NOT NULL DEFAULT '1111100',
    earliest_time TIME NOT NULL DEFAULT '08:00:00',
    latest_time   TIME NOT NULL DEFAULT '18:00:00',
    opted_in_at   DATETIME NULL,
    updated_at    DATETIME NULL,
    CONSTRAINT fk_waitlist_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS idx_waitlist_active ON waitlist_preferences(active, opted_in_at);

CREATE TABLE IF NOT EXISTS gap_offers (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id        INTEGER NOT NULL,
    student_id         INTEGER NOT NULL,
    branch_id          INTEGER NULL,
    instructor_id      INTEGER NOT NULL,
    vehicle_id         INTEGER NULL,
    slot_date          DATE NOT NULL,
    start_time         TIME NOT NULL,
    end_time           TIME NOT NULL,
    status             VARCHAR(8) NOT NULL DEFAULT 'offered' CHECK (status IN ('offered','accepted','taken','expired')),
    expires_at         DATETIME NOT NULL,
    created_at         DATETIME NOT NULL,
    answered_at        DATETIME NULL,
    booked_schedule_id INTEGER NULL,
    CONSTRAINT fk_gap_offer_schedule FOREIGN KEY (schedule_id) REFERENCES schedules(id) ON DELETE CASCADE,
    CONSTRAINT fk_gap_offer_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    CONSTRAINT fk_gap_offer_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL,
    CONSTRAINT fk_gap_offer_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    CONSTRAINT fk_gap_offer_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE SET NULL,
    CONSTRAINT fk_gap_offer_booked FOREIGN KEY (booked_schedule_id) REFERENCES schedules(id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_gap_offer_slot_student ON gap_offers(schedule_id, student_id);
CREATE INDEX IF NOT EXISTS idx_gap_offer_student_status ON gap_offers(student_id, status);
CREATE INDEX IF NOT EXISTS fk_gap_offer_branch ON gap_offers(branch_id);
CREATE INDEX IF NOT EXISTS fk_gap_offer_instructor ON gap_offers(instructor_id);
CREATE INDEX IF NOT EXISTS fk_gap_offer_vehicle ON gap_offers(vehicle_id);
CREATE INDEX IF NOT EXISTS fk_gap_offer_booked ON gap_offers(booked_schedule_id);
