-- Migration 0021_dispatcher (SQLite): the reminder dispatcher, the delivery log, contact
-- preferences, dispatcher runs and segmented broadcasts (issue 10, docs/reminders.md).
-- The same content as 0021_dispatcher.mysql.sql (read its header).
-- SQLite has no ADD COLUMN IF NOT EXISTS: the runner applies each migration once, in one
-- transaction with its ledger row (so no PRAGMA here).
--
-- reminders is rebuilt (a CHECK list can only change with a new table, as 0008 did for
-- schedules): reminders_new has the full definition of sql/database.sqlite.sql, every row is
-- copied with its id, the AUTOINCREMENT counter is carried over, the old table dropped and the new
-- one renamed, its indexes recreated. No table had a foreign key to reminders before this one
-- (message_deliveries is created after the rebuild).
-- Loader rules: every statement ends with a semicolon at the end of a line, no
-- semicolon inside a statement, comments only as whole "--" lines, no triggers.

CREATE TABLE reminders_new (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    related_type      VARCHAR(18) NOT NULL CHECK (related_type IN ('invoice','schedule','communication','enrollment_request','instructor','gap_offer')),
    related_id        INTEGER NOT NULL CHECK (related_id >= 0),
    recipient_user_id INTEGER NOT NULL,
    channel           VARCHAR(6) DEFAULT 'sms' CHECK (channel IN ('email','sms','in-app')),
    reminder_type     VARCHAR(80) NOT NULL,
    message           TEXT NOT NULL,
    send_on           DATE NOT NULL,
    status            VARCHAR(10) DEFAULT 'pending' CHECK (status IN ('pending','sent','cancelled','processing','failed','dead','unknown','skipped')),
    created_at        DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at        DATETIME DEFAULT CURRENT_TIMESTAMP,
    send_at           DATETIME NULL,
    idempotency_key   VARCHAR(160) NULL,
    transactional     INTEGER NOT NULL DEFAULT 0 CHECK (transactional IN (0,1)),
    attempts          INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts      INTEGER NULL CHECK (max_attempts >= 0),
    next_attempt_at   DATETIME NULL,
    claim_token       CHAR(32) NULL,
    claimed_at        DATETIME NULL,
    lease_until       DATETIME NULL,
    last_error        VARCHAR(255) NULL,
    sent_at           DATETIME NULL,
    delivery_channel  VARCHAR(6) NULL,
    CONSTRAINT fk_reminder_user FOREIGN KEY (recipient_user_id) REFERENCES users(id) ON DELETE CASCADE
);

INSERT INTO reminders_new (id, related_type, related_id, recipient_user_id, channel, reminder_type, message, send_on, status, created_at, updated_at, send_at)
SELECT id, related_type, related_id, recipient_user_id, channel, reminder_type, message, send_on, status, created_at, updated_at, send_at
FROM reminders ORDER BY id;

-- The copy set reminders_new's counter to its highest id, carry the old (possibly higher) one over.
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT s.seq FROM sqlite_sequence AS s WHERE s.name = 'reminders'), 0)) WHERE name = 'reminders_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'reminders_new', s.seq FROM sqlite_sequence AS s WHERE s.name = 'reminders' AND NOT EXISTS (SELECT 1 FROM sqlite_sequence AS n WHERE n.name = 'reminders_new');

DROP TABLE reminders;
ALTER TABLE reminders_new RENAME TO reminders;

CREATE INDEX IF NOT EXISTS idx_reminder_status_send ON reminders(status, send_on);
CREATE INDEX IF NOT EXISTS fk_reminder_user ON reminders(recipient_user_id);
CREATE INDEX IF NOT EXISTS idx_reminder_related ON reminders(related_type, related_id);
CREATE INDEX IF NOT EXISTS idx_reminder_status_send_at ON reminders(status, send_at);
CREATE UNIQUE INDEX IF NOT EXISTS uq_reminder_idempotency ON reminders(idempotency_key);
CREATE INDEX IF NOT EXISTS idx_reminder_lease ON reminders(lease_until);

CREATE TABLE IF NOT EXISTS message_deliveries (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    reminder_id         INTEGER NOT NULL,
    attempt             INTEGER NOT NULL CHECK (attempt >= 0),
    channel             VARCHAR(6) NOT NULL CHECK (channel IN ('email','sms','in-app')),
    backend             VARCHAR(20) NOT NULL,
    address             VARCHAR(160) NULL,
    state               VARCHAR(7) NOT NULL CHECK (state IN ('queued','sent','failed','bounced','unknown')),
    provider_message_id VARCHAR(160) NULL,
    error               VARCHAR(255) NULL,
    created_at          DATETIME NOT NULL,
    finished_at         DATETIME NULL,
    CONSTRAINT fk_delivery_reminder FOREIGN KEY (reminder_id) REFERENCES reminders(id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX IF NOT EXISTS uq_delivery_attempt ON message_deliveries(reminder_id, attempt, channel);
CREATE INDEX IF NOT EXISTS idx_delivery_provider ON message_deliveries(provider_message_id);

ALTER TABLE notifications ADD COLUMN reminder_id INTEGER NULL;
ALTER TABLE notifications ADD COLUMN related_type VARCHAR(30) NULL;
ALTER TABLE notifications ADD COLUMN related_id INTEGER NULL;
ALTER TABLE notifications ADD COLUMN kind VARCHAR(16) NULL;
CREATE UNIQUE INDEX IF NOT EXISTS uq_notification_reminder ON notifications(reminder_id);

CREATE TABLE IF NOT EXISTS contact_preferences (
    user_id        INTEGER NOT NULL PRIMARY KEY,
    email_opt_out  INTEGER NOT NULL DEFAULT 0 CHECK (email_opt_out IN (0,1)),
    sms_opt_out    INTEGER NOT NULL DEFAULT 0 CHECK (sms_opt_out IN (0,1)),
    in_app_opt_out INTEGER NOT NULL DEFAULT 0 CHECK (in_app_opt_out IN (0,1)),
    updated_at     DATETIME NOT NULL,
    CONSTRAINT fk_contact_pref_user FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS dispatcher_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    host        VARCHAR(120) NOT NULL,
    pid         INTEGER NOT NULL,
    dry_run     INTEGER NOT NULL DEFAULT 0 CHECK (dry_run IN (0,1)),
    started_at  DATETIME NOT NULL,
    finished_at DATETIME NULL,
    status      VARCHAR(7) NOT NULL DEFAULT 'running' CHECK (status IN ('running','ok','failed')),
    claimed     INTEGER NOT NULL DEFAULT 0,
    sent        INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0,
    flagged     INTEGER NOT NULL DEFAULT 0,
    held        INTEGER NOT NULL DEFAULT 0,
    error       VARCHAR(255) NULL
);
CREATE INDEX IF NOT EXISTS idx_dispatcher_runs_started ON dispatcher_runs(started_at);

ALTER TABLE communications ADD COLUMN branch_id INTEGER NULL REFERENCES branches(id) ON DELETE SET NULL;
ALTER TABLE communications ADD COLUMN segment VARCHAR(20) NULL;
ALTER TABLE communications ADD COLUMN segment_value VARCHAR(80) NULL;
ALTER TABLE communications ADD COLUMN recipient_count INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS fk_comm_branch ON communications(branch_id);
