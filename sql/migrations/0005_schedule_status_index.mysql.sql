-- Origin migration 0005: upcoming-lesson counts and lists filter on status and date (and branch).
-- A covering index lets the dashboard count scheduled lessons from the index alone.
CREATE INDEX IF NOT EXISTS idx_schedule_status_date ON schedules(status, scheduled_date, branch_id);
