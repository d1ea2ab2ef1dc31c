-- Migration 0013_schedule_series (SQLite): recurring series of lessons (issue 8, item 5).
--
-- schedule_series holds what a series was booked as ("every Tuesday 17:00, every N weeks, 10
-- times or until a date"), in wall-clock values of the branch's zone; clashes_json keeps the
-- occurrences that were not booked when the series was created, with their reasons, so staff can
-- place them by hand (app/services/series.py). schedules.series_id (nullable) ties each booked
-- occurrence to its series; a lesson booked on its own has NULL. Additive only.
-- SQLite has no ADD COLUMN IF NOT EXISTS: the runner applies each migration once. SQLite cannot
-- add a named constraint to an existing table, so schedules.series_id carries an unnamed
-- column-level REFERENCES (sql/database.sqlite.sql declares it the same way). The indexes InnoDB
-- creates for foreign keys are created under the MariaDB constraint names, as elsewhere.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS schedule_series (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    branch_id      INTEGER NULL,
    instructor_id  INTEGER NOT NULL,
    student_id     INTEGER NOT NULL,
    vehicle_id     INTEGER NULL,
    event_type     VARCHAR(10) NOT NULL DEFAULT 'lesson' CHECK (event_type IN ('lesson','exam','assessment')),
    weekday        INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_time     TIME NOT NULL,
    end_time       TIME NOT NULL,
    interval_weeks INTEGER NOT NULL DEFAULT 1 CHECK (interval_weeks BETWEEN 1 AND 4),
    first_date     DATE NOT NULL,
    until_date     DATE NULL,
    occurrences    INTEGER NOT NULL CHECK (occurrences BETWEEN 1 AND 52),
    clashes_json   TEXT NULL,
    created_by     INTEGER NULL,
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NULL,
    cancelled_at   DATETIME NULL,
    CONSTRAINT fk_series_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL,
    CONSTRAINT fk_series_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    CONSTRAINT fk_series_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    CONSTRAINT fk_series_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE SET NULL,
    CONSTRAINT fk_series_created_by FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX IF NOT EXISTS idx_series_branch ON schedule_series(branch_id, first_date);
CREATE INDEX IF NOT EXISTS idx_series_instructor ON schedule_series(instructor_id);
CREATE INDEX IF NOT EXISTS idx_series_student ON schedule_series(student_id);
CREATE INDEX IF NOT EXISTS fk_series_vehicle ON schedule_series(vehicle_id);
CREATE INDEX IF NOT EXISTS fk_series_created_by ON schedule_series(created_by);

ALTER TABLE schedules ADD COLUMN series_id INTEGER NULL REFERENCES schedule_series(id) ON DELETE SET NULL;
CREATE INDEX IF NOT EXISTS idx_schedule_series ON schedules(series_id, scheduled_date);
