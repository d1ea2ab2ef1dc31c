-- Migration 0014_reschedule_proposals (MariaDB/MySQL): reschedule proposals (issue 8, item 4).
--
-- The office or the lesson's instructor proposes a new time for a booked lesson; the student accepts
-- or declines it in the portal (app/services/proposals.py). At most one pending proposal per lesson:
-- a new one withdraws the previous one in the same transaction. expires_at is naive UTC; an
-- unanswered proposal past it is expired and the lesson stays where it was. instructor_id and
-- vehicle_id are NULL when the proposal keeps the lesson's own. Re-runnable: CREATE TABLE IF NOT EXISTS.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS reschedule_proposals (
    id            INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    schedule_id   INT UNSIGNED NOT NULL,
    proposed_by   INT UNSIGNED NULL,
    proposed_date DATE NOT NULL,
    start_time    TIME NOT NULL,
    end_time      TIME NOT NULL,
    instructor_id INT UNSIGNED NULL,
    vehicle_id    INT UNSIGNED NULL,
    message       VARCHAR(500) NULL,
    status        VARCHAR(10) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','accepted','declined','expired','withdrawn')),
    expires_at    DATETIME NOT NULL,
    created_at    DATETIME NOT NULL,
    answered_at   DATETIME NULL,
    answered_by   INT UNSIGNED NULL,
    CONSTRAINT fk_proposal_schedule FOREIGN KEY (schedule_id) REFERENCES schedules(id) ON DELETE CASCADE,
    CONSTRAINT fk_proposal_proposed_by FOREIGN KEY (proposed_by) REFERENCES users(id) ON DELETE SET NULL,
    CONSTRAINT fk_proposal_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    CONSTRAINT fk_proposal_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE CASCADE,
    CONSTRAINT fk_proposal_answered_by FOREIGN KEY (answered_by) REFERENCES users(id) ON DELETE SET NULL,
    INDEX idx_proposal_schedule_status (schedule_id, status),
    INDEX idx_proposal_status_expiry (status, expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
