-- Origin migration 0005: indexes for the dashboards at chain scale.
-- Upcoming lessons are counted and listed by status, date and time (and branch): a covering index.
CREATE INDEX IF NOT EXISTS idx_schedule_status_date ON schedules(status, scheduled_date, start_time, branch_id);
-- Recent invoices are listed newest first.
CREATE INDEX IF NOT EXISTS idx_invoices_issue_date ON invoices(issue_date);
-- Students are listed by name (last, first).
CREATE INDEX IF NOT EXISTS idx_users_name ON users(last_name, first_name);
-- Sign-in throttling per client address (credential stuffing across many accounts).
CREATE INDEX IF NOT EXISTS idx_login_attempts_ip_time ON login_attempts(ip_address, attempted_at);
