-- Migration 0021_dispatcher (MariaDB/MySQL): the reminder dispatcher, the delivery log, contact
-- preferences, dispatcher runs and segmented broadcasts (issue 10, docs/reminders.md).
--
-- reminders: related_type gains communication, enrollment_request, instructor (the daily agenda)
-- and gap_offer (a freed slot offered by SMS); status gains processing, failed, dead, unknown (flagged for review) and skipped (supersets of the original's ENUMs, so a
-- PHP-era row stays valid); claim, attempt, backoff and outcome columns are appended after send_at,
-- every one nullable or defaulted. idempotency_key is unique (NULL for PHP-era rows: many NULLs are
-- allowed). idx_reminder_lease finds expired claims (only claimed rows have a lease, so an in-app
-- delivery, which never takes one, does not touch it). message_deliveries is the delivery log (one row per channel attempt, unique per
-- reminder, attempt and channel). notifications gain the reminder behind them (unique: an in-app
-- reminder is delivered once) and the record they are about. contact_preferences holds the
-- per-channel opt-outs (no row: every channel allowed). dispatcher_runs records every
-- process-reminders run (the dashboard's health line). communications gain their segment.
-- Re-runnable: MODIFY states the whole column, ADD COLUMN IF NOT EXISTS, CREATE TABLE IF NOT
-- EXISTS, CREATE INDEX IF NOT EXISTS, FOREIGN KEY IF NOT EXISTS.
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

ALTER TABLE reminders MODIFY related_type ENUM('invoice','schedule','communication','enrollment_request','instructor','gap_offer') NOT NULL;
ALTER TABLE reminders MODIFY status ENUM('pending','sent','cancelled','processing','failed','dead','unknown','skipped') DEFAULT 'pending';
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS idempotency_key VARCHAR(160) NULL;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS transactional TINYINT(1) NOT NULL DEFAULT 0;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS attempts SMALLINT UNSIGNED NOT NULL DEFAULT 0;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS max_attempts SMALLINT UNSIGNED NULL;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS next_attempt_at DATETIME NULL;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS claim_token CHAR(32) NULL;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS claimed_at DATETIME NULL;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS lease_until DATETIME NULL;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS last_error VARCHAR(255) NULL;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS sent_at DATETIME NULL;
ALTER TABLE reminders ADD COLUMN IF NOT EXISTS delivery_channel VARCHAR(6) NULL;
CREATE UNIQUE INDEX IF NOT EXISTS uq_reminder_idempotency ON reminders(idempotency_key);
CREATE INDEX IF NOT EXISTS idx_reminder_lease ON reminders(lease_until);

CREATE TABLE IF NOT EXISTS message_deliveries (
    id                  INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    reminder_id         INT UNSIGNED NOT NULL,
    attempt             SMALLINT UNSIGNED NOT NULL,
    channel             ENUM('email','sms','in-app') NOT NULL,
    backend             VARCHAR(20) NOT NULL,
    address             VARCHAR(160) NULL,
    state               ENUM('queued','sent','failed','bounced','unknown') NOT NULL,
    provider_message_id VARCHAR(160) NULL,
    error               VARCHAR(255) NULL,
    created_at          DATETIME NOT NULL,
    finished_at         DATETIME NULL,
    UNIQUE KEY uq_delivery_attempt (reminder_id, attempt, channel),
    INDEX idx_delivery_provider (provider_message_id),
    CONSTRAINT fk_delivery_reminder FOREIGN KEY (reminder_id) REFERENCES reminders(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE notifications ADD COLUMN IF NOT EXISTS reminder_id INT UNSIGNED NULL;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS related_type VARCHAR(30) NULL;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS related_id INT UNSIGNED NULL;
ALTER TABLE notifications ADD COLUMN IF NOT EXISTS kind VARCHAR(16) NULL;
CREATE UNIQUE INDEX IF NOT EXISTS uq_notification_reminder ON notifications(reminder_id);

CREATE TABLE IF NOT EXISTS contact_preferences (
    user_id        INT UNSIGNED NOT NULL PRIMARY KEY,
    email_opt_out  TINYINT(1) NOT NULL DEFAULT 0,
    sms_opt_out    TINYINT(1) NOT NULL DEFAULT 0,
    in_app_opt_out TINYINT(1) NOT NULL DEFAULT 0,
    updated_at     DATETIME NOT NULL,
    CONSTRAINT fk_contact_pref_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS dispatcher_runs (
    id          INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
    host        VARCHAR(120) NOT NULL,
    pid         INT UNSIGNED NOT NULL,
    dry_run     TINYINT(1) NOT NULL DEFAULT 0,
    started_at  DATETIME NOT NULL,
    finished_at DATETIME NULL,
    status      ENUM('running','ok','failed') NOT NULL DEFAULT 'running',
    claimed     INT UNSIGNED NOT NULL DEFAULT 0,
    sent        INT UNSIGNED NOT NULL DEFAULT 0,
    failed      INT UNSIGNED NOT NULL DEFAULT 0,
    skipped     INT UNSIGNED NOT NULL DEFAULT 0,
    flagged     INT UNSIGNED NOT NULL DEFAULT 0,
    held        INT UNSIGNED NOT NULL DEFAULT 0,
    error       VARCHAR(255) NULL,
    INDEX idx_dispatcher_runs_started (started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

ALTER TABLE communications ADD COLUMN IF NOT EXISTS branch_id INT UNSIGNED NULL;
ALTER TABLE communications ADD COLUMN IF NOT EXISTS segment VARCHAR(20) NULL;
ALTER TABLE communications ADD COLUMN IF NOT EXISTS segment_value VARCHAR(80) NULL;
ALTER TABLE communications ADD COLUMN IF NOT EXISTS recipient_count INT UNSIGNED NOT NULL DEFAULT 0;
ALTER TABLE communications ADD CONSTRAINT fk_comm_branch FOREIGN KEY IF NOT EXISTS (branch_id) REFERENCES branches(id) ON DELETE SET NULL;
