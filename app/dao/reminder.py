"""ReminderDAO (PHP ReminderModel): the reminder queue as the dispatcher sees it (issue 10).

Claiming is one short transaction: the due ids are selected with FOR UPDATE SKIP LOCKED on MariaDB
(under BEGIN IMMEDIATE on SQLite) and moved to ``processing`` with the run's claim token and a lease
before anything is sent. Every later write about a claimed row names the token and the status it
expects, so a run that lost its claim changes nothing. The delivery log is message_deliveries; the
runs are dispatcher_runs. Times are naive UTC.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable, Mapping

from app.dao.base import BaseDAO

QUEUE_COLUMNS = ("related_type", "related_id", "recipient_user_id", "channel", "reminder_type", "message",
                 "send_on", "send_at", "status", "idempotency_key", "transactional", "created_at", "updated_at")


class ReminderDAO(BaseDAO):
    # -- queueing ---------------------------------------------------------------------------------
    def insert(self, row: Mapping[str, Any]) -> int:
        return self.db.insert("reminders", row)

    def insert_many(self, rows: list[Mapping[str, Any]]) -> int:
        return self.db.insert_many("reminders", rows)

    def by_key(self, key: str) -> dict | None:
        return self.db.fetch_one("SELECT id, status FROM reminders WHERE idempotency_key = :key", {"key": key})

    def revive_cancelled(self, reminder_id: int, *, send_at: datetime, send_on: date, message: str,
                         now: datetime) -> int:
        """A withdrawn reminder asked for again (the lesson came back at the same time): pending again.
        Its attempts are kept: the delivery log numbers attempts, and a number is never reused."""
        return self.db.execute(
            "UPDATE reminders SET status = 'pending', send_at = :send_at, send_on = :send_on, message = :message,"
            " next_attempt_at = NULL, last_error = NULL, delivery_channel = NULL, updated_at = :now"
            " WHERE id = :id AND status = 'cancelled'",
            {"id": reminder_id, "send_at": send_at, "send_on": send_on, "message": message, "now": now}).rowcount

    def agendas(self, day: date) -> list[dict]:
        """Per active instructor with scheduled events on ``day``: their account, how many, the first
        start and the last end (one aggregate)."""
        return self.db.fetch_all(
            "SELECT i.id AS instructor_id, i.user_id, COUNT(*) AS events, MIN(s.start_time) AS first_start,"
            " MAX(s.end_time) AS last_end FROM schedules s JOIN instructors i ON i.id = s.instructor_id"
            " JOIN users u ON u.id = i.user_id AND u.status = 'active'"
            " WHERE s.scheduled_date = :day AND s.status = 'scheduled' GROUP BY i.id, i.user_id ORDER BY i.id",
            {"day": day})

    def existing_keys(self, keys: list[str]) -> set[str]:
        if not keys:
            return set()
        fragment, params = self.db.in_params("k", keys)
        return {r["idempotency_key"] for r in self.db.fetch_all(
            f"SELECT idempotency_key FROM reminders WHERE idempotency_key IN ({fragment})", params)}  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter

    # -- rows written with the original's columns only ----------------------------------------------
    def legacy_due_dates(self) -> list[date]:
        """The send_on dates of pending rows without send_at (PHP-era rows)."""
        rows = self.db.fetch_all(
            "SELECT DISTINCT send_on FROM reminders WHERE status = 'pending' AND send_at IS NULL ORDER BY send_on")
        return [r["send_on"] for r in rows]

    def fill_send_at(self, send_on: date, send_at: datetime) -> int:
        return self.db.execute(
            "UPDATE reminders SET send_at = :send_at WHERE status = 'pending' AND send_at IS NULL AND send_on = :d",
            {"send_at": send_at, "d": send_on}).rowcount

    # -- claiming -----------------------------------------------------------------------------------
    def due_ids(self, now: datetime, limit: int) -> list[int]:
        """Up to ``limit`` due pending ids, oldest first, locked and skipping rows another run holds
        (call inside a transaction)."""
        rows = self.db.fetch_all(
            "SELECT id FROM reminders WHERE status = 'pending' AND send_at <= :now"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            " AND (next_attempt_at IS NULL OR next_attempt_at <= :now)"
            f" ORDER BY send_at, id LIMIT :limit{self.db.skip_locked}", {"now": now, "limit": int(limit)})
        return [r["id"] for r in rows]

    def pending_id(self, reminder_id: int) -> int | None:
        """The row, locked, when it is pending (whatever its due time): "run now"."""
        return self.db.fetch_value(
            f"SELECT id FROM reminders WHERE id = :id AND status = 'pending'{self.db.for_update}", {"id": reminder_id})  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter

    def status_of(self, reminder_id: int) -> str | None:
        return self.db.fetch_value("SELECT status FROM reminders WHERE id = :id", {"id": reminder_id})

    def claim(self, ids: list[int], token: str, now: datetime, lease_until: datetime) -> int:
        if not ids:
            return 0
        fragment, params = self.db.in_params("rid", ids)
        return self.db.execute(
            "UPDATE reminders SET status = 'processing', claim_token = :token, claimed_at = :now,"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            " lease_until = :lease, attempts = attempts + 1, updated_at = :now"
            f" WHERE id IN ({fragment}) AND status = 'pending'",
            {**params, "token": token, "now": now, "lease": lease_until}).rowcount

    def expired_claims(self, now: datetime, limit: int = 500) -> list[int]:
        rows = self.db.fetch_all(
            "SELECT id FROM reminders WHERE lease_until < :now AND status = 'processing'"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            f" ORDER BY lease_until, id LIMIT :limit{self.db.skip_locked}", {"now": now, "limit": int(limit)})
        return [r["id"] for r in rows]

    def open_deliveries(self, ids: list[int]) -> dict[int, list[dict]]:
        """{reminder id: its deliveries still ``queued``} (an e-mail or SMS whose outcome was never written)."""
        if not ids:
            return {}
        fragment, params = self.db.in_params("rid", ids)
        found: dict[int, list[dict]] = {}
        for row in self.db.fetch_all(
                "SELECT id, reminder_id, channel, created_at FROM message_deliveries"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
                f" WHERE reminder_id IN ({fragment}) AND state = 'queued' ORDER BY id", params):
            found.setdefault(row["reminder_id"], []).append(row)
        return found

    def mark_deliveries_unknown(self, delivery_ids: list[int], now: datetime) -> int:
        if not delivery_ids:
            return 0
        fragment, params = self.db.in_params("did", delivery_ids)
        return self.db.execute(
            "UPDATE message_deliveries SET state = 'unknown', finished_at = :now,"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            " error = 'the dispatcher stopped before the outcome was known'"
            f" WHERE id IN ({fragment}) AND state = 'queued'", {**params, "now": now}).rowcount

    def release_expired(self, reminder_id: int, *, status: str, reason: str, now: datetime) -> int:
        """An expired claim ends: back to ``pending`` (nothing left the building) or ``unknown`` (flagged)."""
        return self.db.execute(
            "UPDATE reminders SET status = :status, last_error = :reason, claim_token = NULL, lease_until = NULL,"
            " next_attempt_at = CASE WHEN :status = 'pending' THEN :now ELSE next_attempt_at END, updated_at = :now"
            " WHERE id = :id AND status = 'processing'",
            {"id": reminder_id, "status": status, "reason": reason[:255], "now": now}).rowcount

    # -- what a batch needs (one query) ---------------------------------------------------------------
    def context(self, ids: list[int]) -> list[dict]:
        """The claimed rows with their recipient, consent, zones and the state of what they are about."""
        if not ids:
            return []
        fragment, params = self.db.in_params("rid", ids)
        return self.db.fetch_all(
            "SELECT r.id, r.related_type, r.related_id, r.recipient_user_id, r.channel, r.reminder_type, r.message,"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            " r.transactional, r.attempts, r.max_attempts, r.delivery_channel, r.send_at, r.idempotency_key,"
            " r.claim_token,"
            " u.id AS user_id, u.status AS user_status, u.email, u.phone, u.first_name,"
            " ub.timezone AS user_zone, cp.email_opt_out, cp.sms_opt_out, cp.in_app_opt_out,"
            " s.id AS schedule_id, s.status AS schedule_status, s.scheduled_date, s.start_time,"
            " sb.timezone AS schedule_zone, i.id AS invoice_id, i.status AS invoice_status,"
            " c.id AS communication_id, er.id AS request_id, ins.id AS instructor_profile_id,"
            " go.id AS offer_id, go.status AS offer_status, go.expires_at AS offer_expires_at"
            " FROM reminders r"
            " LEFT JOIN users u ON u.id = r.recipient_user_id"
            " LEFT JOIN branches ub ON ub.id = u.branch_id"
            " LEFT JOIN contact_preferences cp ON cp.user_id = r.recipient_user_id"
            " LEFT JOIN schedules s ON r.related_type = 'schedule' AND s.id = r.related_id"
            " LEFT JOIN branches sb ON sb.id = s.branch_id"
            " LEFT JOIN invoices i ON r.related_type = 'invoice' AND i.id = r.related_id"
            " LEFT JOIN communications c ON r.related_type = 'communication' AND c.id = r.related_id"
            " LEFT JOIN enrollment_requests er ON r.related_type = 'enrollment_request' AND er.id = r.related_id"
            " LEFT JOIN instructors ins ON r.related_type = 'instructor' AND ins.id = r.related_id"
            " LEFT JOIN gap_offers go ON r.related_type = 'gap_offer' AND go.id = r.related_id"
            f" WHERE r.id IN ({fragment}) ORDER BY r.id", params)

    # -- outcomes -------------------------------------------------------------------------------------
    def settle(self, reminder_id: int, token: str, *, status: str, now: datetime, reason: str | None = None,
               channel: str | None = None, next_attempt_at: datetime | None = None) -> int:
        """End a claim with ``status`` (sent, pending for a retry or a hold, skipped, failed, dead); only
        while this run still holds it. Returns 1, or 0 when the claim was lost."""
        return self.db.execute(
            "UPDATE reminders SET status = :status, last_error = :reason, claim_token = NULL, lease_until = NULL,"
            " next_attempt_at = :next_at, delivery_channel = COALESCE(:channel, delivery_channel),"
            " sent_at = CASE WHEN :status = 'sent' THEN :now ELSE sent_at END, updated_at = :now"
            " WHERE id = :id AND claim_token = :token AND status = 'processing'",
            {"id": reminder_id, "token": token, "status": status, "reason": reason[:255] if reason else None,
             "channel": channel, "next_at": next_attempt_at, "now": now}).rowcount

    def settle_pending(self, reminder_id: int, *, status: str, reason: str | None, now: datetime) -> int:
        """A pending row this transaction has locked ends without a send (skipped): one attempt counted."""
        return self.db.execute(
            "UPDATE reminders SET status = :status, last_error = :reason, attempts = attempts + 1,"
            " next_attempt_at = NULL, updated_at = :now WHERE id = :id AND status = 'pending'",
            {"id": reminder_id, "status": status, "reason": reason[:255] if reason else None, "now": now}).rowcount

    def hold(self, reminder_id: int, *, until: datetime, reason: str, now: datetime) -> int:
        """A locked pending SMS waits for the end of quiet hours (no attempt counted)."""
        return self.db.execute(
            "UPDATE reminders SET next_attempt_at = :until, delivery_channel = 'sms', last_error = :reason,"
            " updated_at = :now WHERE id = :id AND status = 'pending'",
            {"id": reminder_id, "until": until, "reason": reason[:255], "now": now}).rowcount

    def settle_sent_in_app(self, ids: list[int], now: datetime) -> int:
        """Many locked pending rows delivered in-app (one statement; the caller checks the count)."""
        if not ids:
            return 0
        fragment, params = self.db.in_params("rid", ids)
        return self.db.execute(
            "UPDATE reminders SET status = 'sent', sent_at = :now, delivery_channel = 'in-app', last_error = NULL,"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            " attempts = attempts + 1, next_attempt_at = NULL, updated_at = :now"
            f" WHERE id IN ({fragment}) AND status = 'pending'", {**params, "now": now}).rowcount

    def extend_lease(self, ids: list[int], token: str, lease_until: datetime) -> int:
        """Push the lease of the rows this run still holds (before each e-mail or SMS: a slow batch never
        outlives its lease while it is still working). By primary key: no scan, no lock on other rows."""
        if not ids:
            return 0
        fragment, params = self.db.in_params("rid", ids)
        return self.db.execute(
            f"UPDATE reminders SET lease_until = :lease WHERE id IN ({fragment}) AND claim_token = :token"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            " AND status = 'processing'", {**params, "token": token, "lease": lease_until}).rowcount

    def set_channel(self, reminder_id: int, token: str, channel: str, now: datetime) -> int:
        return self.db.execute(
            "UPDATE reminders SET delivery_channel = :channel, updated_at = :now"
            " WHERE id = :id AND claim_token = :token AND status = 'processing'",
            {"id": reminder_id, "token": token, "channel": channel, "now": now}).rowcount

    def insert_plain_notifications(self, ids: list[int], now: datetime) -> int:
        """The in-app notification of each plain reminder (asked for in-app, not transactional, not a
        broadcast) built from its row by the database: title "Reminder: <type>", the message (its title
        when empty). The dispatcher's hot path: the text never travels to Python and back."""
        if not ids:
            return 0
        fragment, params = self.db.in_params("rid", ids)
        if self.db.backend == "mysql":
            title = "LEFT(CONCAT('Reminder: ', reminder_type), 160)"
            body = f"COALESCE(NULLIF(LEFT(message, 2000), ''), {title})"
        else:
            title = "substr('Reminder: ' || reminder_type, 1, 160)"
            body = f"COALESCE(NULLIF(substr(message, 1, 2000), ''), {title})"
        return self.db.execute(
            "INSERT INTO notifications (user_id, title, message, level, is_read, created_at, reminder_id, related_type,"  # nosec B608 # interpolates only IN-list placeholders of db.in_params, fragments this code builds from constants; every value is a bound :parameter
            f" related_id, kind) SELECT recipient_user_id, {title}, {body}, 'info', 0, :now, id, related_type,"
            f" related_id, 'reminder' FROM reminders WHERE id IN ({fragment}) ORDER BY id", {**params, "now": now}
        ).rowcount

    def insert_in_app_deliveries(self, ids: list[int], now: datetime) -> int:
        """The delivery-log row of each in-app delivery (attempt = the row's attempts + 1: call before
        settle_sent_in_app adds it)."""
        if not ids:
            return 0
        fragment, params = self.db.in_params("rid", ids)
        return self.db.execute(
            "INSERT INTO message_deliveries (reminder_id, attempt, channel, backend, state, created_at, finished_at)"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            " SELECT id, attempts + 1, 'in-app', 'in-app', 'sent', :now, :now FROM reminders"
            f" WHERE id IN ({fragment}) ORDER BY id", {**params, "now": now}).rowcount

    def insert_notifications(self, rows: list[Mapping[str, Any]]) -> int:
        return self.db.insert_many("notifications", rows)

    # -- the delivery log -----------------------------------------------------------------------------
    def insert_deliveries(self, rows: Iterable[Mapping[str, Any]]) -> int:
        return self.db.insert_many("message_deliveries", list(rows))

    def insert_delivery(self, row: Mapping[str, Any]) -> int:
        return self.db.insert("message_deliveries", row)

    def finish_delivery(self, delivery_id: int, *, state: str, now: datetime, provider_message_id: str | None,
                        error: str | None) -> int:
        return self.db.execute(
            "UPDATE message_deliveries SET state = :state, provider_message_id = :pid, error = :error,"
            " finished_at = :now WHERE id = :id AND state = 'queued'",
            {"id": delivery_id, "state": state, "pid": provider_message_id, "error": (error or None) and error[:255],
             "now": now}).rowcount

    def deliveries(self, reminder_id: int) -> list[dict]:
        return self.db.fetch_all(
            "SELECT id, attempt, channel, backend, address, state, provider_message_id, error, created_at, finished_at"
            " FROM message_deliveries WHERE reminder_id = :id ORDER BY id", {"id": reminder_id})

    # -- runs and health ------------------------------------------------------------------------------
    def start_run(self, host: str, pid: int, now: datetime) -> int:
        return self.db.insert("dispatcher_runs", {"host": host[:120], "pid": pid, "dry_run": 0, "started_at": now,
                                                  "status": "running"})

    def finish_run(self, run_id: int, *, status: str, counts: Mapping[str, int], error: str | None,
                   now: datetime) -> int:
        return self.db.execute(
            "UPDATE dispatcher_runs SET status = :status, finished_at = :now, claimed = :claimed, sent = :sent,"
            " failed = :failed, skipped = :skipped, flagged = :flagged, held = :held, error = :error WHERE id = :id",
            {"id": run_id, "status": status, "now": now, "error": (error or None) and error[:255],
             **{k: int(counts.get(k, 0)) for k in ("claimed", "sent", "failed", "skipped", "flagged", "held")}}
        ).rowcount

    def last_run(self) -> dict | None:
        return self.db.fetch_one(
            "SELECT id, host, pid, started_at, finished_at, status, claimed, sent, failed, skipped, flagged, held,"
            " error FROM dispatcher_runs WHERE dry_run = 0 ORDER BY started_at DESC, id DESC LIMIT 1")

    def oldest_due(self, now: datetime, today: date) -> tuple[datetime | None, date | None]:
        """(the earliest send_at of the reminders that are due and still waiting, the earliest send_on of
        waiting PHP-era rows without send_at that are due by ``today``)."""
        # the first row in idx_reminder_status_send_at order that passes (MIN would read every due row
        # to test next_attempt_at: 10,000 when the dispatcher is behind)
        at = self.db.fetch_value(
            "SELECT send_at FROM reminders WHERE status = 'pending' AND send_at <= :now"
            " AND (next_attempt_at IS NULL OR next_attempt_at <= :now) ORDER BY send_at LIMIT 1", {"now": now})
        legacy = self.db.fetch_value(
            "SELECT MIN(send_on) FROM reminders WHERE status = 'pending' AND send_at IS NULL AND send_on <= :today",
            {"today": today})
        return at, legacy

    def due_counts(self, now: datetime, today: date) -> dict[str, int]:
        """{channel: rows due now} (the dry run's report), PHP-era rows included."""
        counts: dict[str, int] = {}
        for row in self.db.fetch_all(
                "SELECT COALESCE(channel, 'in-app') AS channel, COUNT(*) AS n FROM reminders"
                " WHERE status = 'pending' AND ((send_at <= :now AND (next_attempt_at IS NULL OR next_attempt_at <= :now))"
                " OR (send_at IS NULL AND send_on <= :today)) GROUP BY COALESCE(channel, 'in-app')",
                {"now": now, "today": today}):
            counts[row["channel"]] = int(row["n"])
        return counts

    def expired_count(self, now: datetime) -> int:
        return int(self.db.fetch_value(
            "SELECT COUNT(*) FROM reminders WHERE status = 'processing' AND lease_until < :now", {"now": now}) or 0)

