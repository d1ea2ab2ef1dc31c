-- Migration 0003_query_indexes (SQLite): indexes the original lacked for the
-- queries actually run (spec 8.3.9): overdue invoices, conflict and upcoming-lesson
-- scans, unread notifications, polymorphic reminders/notes lookups, audit browsing
-- and monthly revenue. Re-runnable (IF NOT EXISTS).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE INDEX IF NOT EXISTS idx_invoices_status_due     ON invoices(status, due_date);
CREATE INDEX IF NOT EXISTS idx_schedule_vehicle_date   ON schedules(vehicle_id, scheduled_date);
CREATE INDEX IF NOT EXISTS idx_schedule_date_start     ON schedules(scheduled_date, start_time);
CREATE INDEX IF NOT EXISTS idx_notifications_user_read ON notifications(user_id, is_read, created_at);
CREATE INDEX IF NOT EXISTS idx_reminder_related        ON reminders(related_type, related_id);
CREATE INDEX IF NOT EXISTS idx_notes_related           ON notes(related_type, related_id);
CREATE INDEX IF NOT EXISTS idx_audit_created           ON audit_trail(created_at);
CREATE INDEX IF NOT EXISTS idx_audit_entity            ON audit_trail(entity_type, entity_id);
CREATE INDEX IF NOT EXISTS idx_payments_date           ON payments(payment_date);

-- InnoDB drops its generated FK indexes fk_schedule_vehicle and fk_notification_user
-- once the composite indexes above lead with the FK column, so drop our copies too.
DROP INDEX IF EXISTS fk_schedule_vehicle;
DROP INDEX IF EXISTS fk_notification_user;
