-- Migration 0015_waitlist (MariaDB/MySQL): the gap filler / waitlist (issue 8, item 8).
--
-- waitlist_preferences: one row per student who has opened "Earlier slots" (student_id is the key);
-- active = 1 means "offer me earlier slots". weekdays is a 7-character mask, Monday first
-- ('1111100' = Monday to Friday); earliest_time/latest_time bound the lesson (wall-clock, branch zone).
-- opted_in_at orders the offers (earliest opted-in first).
-- gap_offers: one offer of a cancelled lesson's slot to one student (unique per slot and student).
-- expires_at is naive UTC: the slot's start minus the branch's minimum notice (wall-clock).
-- Re-runnable: CREATE TABLE IF NOT EXISTS (app/services/waitlist.py, docs/waitlist.md).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS waitlist_preferences (
    student_id    INT UNSIGNED NOT NULL PRIMARY KEY,
    active        TINYINT(1) NOT NULL DEFAULT 0,
    weekdays      CHAR(7) NOT NULL DEFAULT '1111100',
    earliest_time TIME NOT NULL DEFAULT '08:00:00',
    latest_time   TIME NOT NULL DEFAULT '18:00:00',
    opted_in_at   DATETIME NULL,
    updated_at    DATETIME NULL,
    CONSTRAINT fk_waitlist_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    INDEX idx_waitlist_active (active, opted_in_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS gap_offers (
    id                 INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    schedule_id        INT UNSIGNED NOT NULL,
    student_id         INT UNSIGNED NOT NULL,
    branch_id          INT UNSIGNED NULL,
    instructor_id      INT UNSIGNED NOT NULL,
    vehicle_id         INT UNSIGNED NULL,
    slot_date          DATE NOT NULL,
    start_time         TIME NOT NULL,
    end_time           TIME NOT NULL,
    status             ENUM('offered','accepted','taken','expired') NOT NULL DEFAULT 'offered',
    expires_at         DATETIME NOT NULL,
    created_at         DATETIME NOT NULL,
    answered_at        DATETIME NULL,
    booked_schedule_id INT UNSIGNED NULL,
    CONSTRAINT fk_gap_offer_schedule FOREIGN KEY (schedule_id) REFERENCES schedules(id) ON DELETE CASCADE,
    CONSTRAINT fk_gap_offer_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    CONSTRAINT fk_gap_offer_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL,
    CONSTRAINT fk_gap_offer_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    CONSTRAINT fk_gap_offer_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE SET NULL,
    CONSTRAINT fk_gap_offer_booked FOREIGN KEY (booked_schedule_id) REFERENCES schedules(id) ON DELETE SET NULL,
    UNIQUE INDEX uq_gap_offer_slot_student (schedule_id, student_id),
    INDEX idx_gap_offer_student_status (student_id, status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
