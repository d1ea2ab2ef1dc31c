-- 0028 queue speed (issue 13 follow-up): the conflicts panel and badge start from the windows not ended yet
CREATE INDEX IF NOT EXISTS idx_unavailability_end ON instructor_unavailability (end_datetime, start_datetime, instructor_id);
CREATE INDEX IF NOT EXISTS idx_downtime_end ON vehicle_downtime (end_datetime, start_datetime, vehicle_id);
-- the reminder queue (app/dao/reminder_queue.py): capped counts per status (admin: status, channel, type;
-- staff: the branch's recipients), the type choices (a loose index scan), the due order served by indexes
CREATE INDEX IF NOT EXISTS idx_reminder_status_channel_type ON reminders (status, channel, reminder_type);
CREATE INDEX IF NOT EXISTS idx_reminder_recipient_queue ON reminders (recipient_user_id, status, channel, reminder_type, send_at, send_on);
DROP INDEX IF EXISTS fk_reminder_user ON reminders;
CREATE INDEX IF NOT EXISTS idx_reminder_type ON reminders (reminder_type);
CREATE INDEX IF NOT EXISTS idx_reminder_send_at ON reminders (send_at);
CREATE INDEX IF NOT EXISTS idx_reminder_send_at_on ON reminders (send_at, send_on);
