-- Migration 0013_schedule_series (MariaDB/MySQL): recurring series of lessons (issue 8, item 5).
--
-- schedule_series holds what a series was booked as ("every Tuesday 17:00, every N weeks, 10
-- times or until a date"), in wall-clock values of the branch's zone; clashes_json keeps the
-- occurrences that were not booked when the series was created, with their reasons, so staff can
-- place them by hand (app/services/series.py). schedules.series_id (nullable) ties each booked
-- occurrence to its series; a lesson booked on its own has NULL. Additive only.
-- Re-runnable: IF NOT EXISTS forms throughout.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE IF NOT EXISTS schedule_series (
    id             INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    branch_id      INT UNSIGNED NULL,
    instructor_id  INT UNSIGNED NOT NULL,
    student_id     INT UNSIGNED NOT NULL,
    vehicle_id     INT UNSIGNED NULL,
    event_type     VARCHAR(10) NOT NULL DEFAULT 'lesson' CHECK (event_type IN ('lesson','exam','assessment')),
    weekday        TINYINT UNSIGNED NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_time     TIME NOT NULL,
    end_time       TIME NOT NULL,
    interval_weeks TINYINT UNSIGNED NOT NULL DEFAULT 1 CHECK (interval_weeks BETWEEN 1 AND 4),
    first_date     DATE NOT NULL,
    until_date     DATE NULL,
    occurrences    TINYINT UNSIGNED NOT NULL CHECK (occurrences BETWEEN 1 AND 52),
    clashes_json   TEXT NULL,
    created_by     INT UNSIGNED NULL,
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NULL,
    cancelled_at   DATETIME NULL,
    CONSTRAINT fk_series_branch FOREIGN KEY (branch_id) REFERENCES branches(id) ON DELETE SET NULL,
    CONSTRAINT fk_series_instructor FOREIGN KEY (instructor_id) REFERENCES instructors(id) ON DELETE CASCADE,
    CONSTRAINT fk_series_student FOREIGN KEY (student_id) REFERENCES students(id) ON DELETE CASCADE,
    CONSTRAINT fk_series_vehicle FOREIGN KEY (vehicle_id) REFERENCES vehicles(id) ON DELETE SET NULL,
    CONSTRAINT fk_series_created_by FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL,
    INDEX idx_series_branch (branch_id, first_date),
    INDEX idx_series_instructor (instructor_id),
    INDEX idx_series_student (student_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE schedules ADD COLUMN IF NOT EXISTS series_id INT UNSIGNED NULL;
CREATE INDEX IF NOT EXISTS idx_schedule_series ON schedules(series_id, scheduled_date);
ALTER TABLE schedules ADD CONSTRAINT fk_schedule_series FOREIGN KEY IF NOT EXISTS (series_id) REFERENCES schedule_series(id) ON DELETE SET NULL;
