-- Migration 0003_query_indexes (MariaDB/MySQL): indexes the original lacked for the
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

-- The composite indexes above lead with schedules.vehicle_id and notifications.user_id.
-- On a database created by the PHP script InnoDB has just dropped its generated FK
-- indexes fk_schedule_vehicle and fk_notification_user. A database restored from a
-- dump has them as explicit keys, which InnoDB keeps. Drop them so that every
-- upgraded database (and one initialised from sql/database.sql) ends up the same.
-- The foreign keys stay backed by the composite indexes.
DROP INDEX IF EXISTS fk_schedule_vehicle ON schedules;
DROP INDEX IF EXISTS fk_notification_user ON notifications;
