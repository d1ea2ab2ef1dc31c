-- Migration 0014_reschedule_proposals (SQLite): reschedule proposals (issue 8, item 4); see the
-- MariaDB twin. The indexes InnoDB creates for the foreign keys without one of their own are
-- created explicitly under the constraints' names.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS reschedule_proposals (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule_id   INTEGER NOT NULL,
    proposed_by   INTEGER NULL,
    proposed_date DATE NOT NULL,
    start_time    TIME NOT NULL,
    end_time      TIME NOT NULL,
    instructor_id INTEGER NULL,
    vehicle_id    INTEGER NULL,
    message       VARCHAR(500) NULL,
    status        VARCHAR(10) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','accepted','declined','expired','withdrawn')),
    expires_at    DATETIME NOT NULL,
    created_at    DATETIME NOT NULL,
    answered_at   DATETIME NULL,
    answered_by   INTEGER NULL,
    CONSTRAINT fk_proposal_schedule FOREIGN KEY (schedule_id) REFERENCES schedules(id) ON DELETE CASCADE,
    CONSTRAINT fk_proposal_proposed_by FOREIGN KEY (proposed_by) REFERENCES users(id) ON DELETE SET NULL,
    CONSTRAINT fk_proposal_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    CONSTRAINT fk_proposal_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE CASCADE,
    CONSTRAINT fk_proposal_answered_by FOREIGN KEY (answered_by) REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS idx_proposal_schedule_status ON reschedule_proposals(schedule_id, status);
CREATE INDEX IF NOT EXISTS idx_proposal_status_expiry ON reschedule_proposals(status, expires_at);
CREATE INDEX IF NOT EXISTS fk_proposal_proposed_by ON reschedule_proposals(proposed_by);
CREATE INDEX IF NOT EXISTS fk_proposal_instructor ON reschedule_proposals(instructor_id);
CREATE INDEX IF NOT EXISTS fk_proposal_vehicle ON reschedule_proposals(vehicle_id);
CREATE INDEX IF NOT EXISTS fk_proposal_answered_by ON reschedule_proposals(answered_by);
