"""ReminderService: queueing reminders and dispatching the due ones (issue 10; docs/reminders.md).

The original delivered reminders inside a dashboard page view and marked every row "sent" whether or
not anything was delivered (original-system §4.2, §4.3). Here cron runs ``flask process-reminders``
every 15 minutes (several hosts may run it at once) and this module keeps these promises
(security-reliability §3):

- **Claiming** is one short transaction per batch: the due ids are locked with FOR UPDATE SKIP LOCKED
  (BEGIN IMMEDIATE on SQLite); in that transaction whatever needs no network is settled (skips, SMS held
  for quiet hours, in-app deliveries) and the e-mail and SMS rows move to ``processing`` with this run's
  claim token and a lease, committed before anything is sent. Two runs never hold the same row. The
  lease of every row a run holds is pushed on before each send, so a slow batch keeps its rows.
- **In-app: exactly once.** The notification insert (unique per reminder) and the status change commit
  together, under the row locks.
- **E-mail and SMS: at most once.** The attempt is written to the delivery log as ``queued`` and
  committed *before* the provider is called, and its outcome after. A row whose lease ran out while an
  attempt was still ``queued`` (the dispatcher was killed mid-send) is flagged ``unknown`` for staff
  review and never resent automatically; one with nothing in flight goes back to the queue.
- **Retries**: a transient failure (timeout, 5xx, refused connection) is tried again after
  min(cap, base x 2^(attempt-1)) with jitter; after the row's max attempts the next channel is used,
  and when no channel is left the row is ``dead``. A permanent failure (invalid address, refused
  recipient, disabled channel) moves to the next channel at once; with none left the row is
  ``failed``. Fallback order: SMS, then e-mail, then an in-app warning.
- **Skips** are recorded with their reason: the lesson was cancelled, deleted or has started; the
  invoice is paid, void or gone; the account is archived or gone; every channel is opted out of
  (transactional messages still go in-app).
- **Quiet hours**: an SMS due between SMS_QUIET_HOURS (default 21:00-08:00, in the recipient's branch
  zone) waits, pending, until the next allowed minute.
- **Old rows**: a PHP-era row (send_on only, no send_at) is due from the start of its day in the
  school's zone (APP_TIMEZONE): each run first fills send_at for such rows.
- **Idempotency**: each reminder has a key per (entity, reminder type, offset); queueing the same key
  twice writes one row.

No Flask here: the command, "run now" and the tests call these functions with db, now and settings.
"""
from __future__ import annotations

import logging
import os
import random
import secrets
import socket
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo

from app.core import clock, localtime
from app.core.database import Database
from app.core.errors import Conflict, DatabaseUnavailable, NotFound, ValidationFailed
from app.dao.reminder import ReminderDAO
from app.services.outbound import Outcome, OutboundMessageService

log = logging.getLogger("origin.reminders")

CHANNELS = ("email", "sms", "in-app")
RELATED_TYPES = ("invoice", "schedule", "communication", "enrollment_request", "instructor", "gap_offer")
FALLBACK = {"sms": ("sms", "email", "in-app"), "email": ("email", "in-app"), "in-app": ("in-app",)}
STATUS_LABELS = {"pending": "Pending", "processing": "Sending", "sent": "Sent", "cancelled": "Cancelled",
                 "failed": "Failed", "dead": "Gave up", "unknown": "Needs review", "skipped": "Skipped"}
CHANNEL_LABELS = {"email": "E-mail", "sms": "SMS", "in-app": "In-app"}
CONSENT_COLUMN = {"email": "email_opt_out", "sms": "sms_opt_out", "in-app": "in_app_opt_out"}
FINISHED_LESSON = ("completed", "not_completed", "no_show")
STALE_AFTER = timedelta(minutes=30)
BUSY_RETRIES = 5  # a batch that hits a deadlock or a lock wait is rolled back whole and taken again


def _pause(seconds: float) -> None:
    import time as _time

    _time.sleep(seconds)


class LostClaim(Exception):
    """Another run took over rows this run had claimed (its lease ran out): this batch's writes roll back."""


@dataclass
class RunResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    flagged: int = 0
    held: int = 0
    retrying: int = 0
    returned: int = 0
    run_id: int | None = None
    by_channel: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {"claimed": self.claimed, "sent": self.sent, "failed": self.failed, "skipped": self.skipped,
                "flagged": self.flagged, "held": self.held}

    def summary(self) -> str:
        return (f"claimed {self.claimed}, sent {self.sent}, failed {self.failed}, skipped {self.skipped},"
                f" flagged {self.flagged} (held {self.held}, retrying {self.retrying},"
                f" returned to the queue {self.returned})")

    def add(self, other: "RunResult") -> None:
        for name in ("claimed", "sent", "failed", "skipped", "flagged", "held", "retrying", "returned"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for channel, n in other.by_channel.items():
            self.by_channel[channel] = self.by_channel.get(channel, 0) + n


# ============================================================================================ queueing

def _send_on(send_at: datetime, zone: ZoneInfo) -> date:
    return send_at.replace(tzinfo=timezone.utc).astimezone(zone).date()


def reminder_row(*, related_type: str, related_id: int, recipient_user_id: int, channel: str, reminder_type: str,
                 message: str, send_at: datetime, now: datetime, key: str | None, transactional: bool = False,
                 zone: ZoneInfo | None = None) -> dict:
    """A pending reminders row (send_on, the original's column, is send_at's local date in ``zone``, by
    default the school's)."""
    if related_type not in RELATED_TYPES:
        raise ValidationFailed(f"related_type must be one of {', '.join(RELATED_TYPES)}", field="related_type")
    if channel not in CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(CHANNELS)}", field="channel")
    if not (message or "").strip():
        raise ValidationFailed("A message is needed.", field="message")
    zone = zone or ZoneInfo(clock.timezone_name())  # the school's zone (APP_TIMEZONE)
    return {"related_type": related_type, "related_id": int(related_id), "recipient_user_id": int(recipient_user_id),
            "channel": channel, "reminder_type": reminder_type[:80], "message": message,
            "send_on": _send_on(send_at, zone), "send_at": send_at, "status": "pending",
            "idempotency_key": key[:160] if key else None, "transactional": 1 if transactional else 0,
            "created_at": now, "updated_at": now}


def queue(db: Database, *, related_type: str, related_id: int, recipient_user_id: int, channel: str,
          reminder_type: str, message: str, send_at: datetime, now: datetime, key: str | None,
          transactional: bool = False, zone: ZoneInfo | None = None) -> int | None:
    """Queue one reminder; returns its id. With a ``key`` already queued nothing new is written: a
    withdrawn (cancelled) row with that key is made pending again (and its id returned); a row in any
    other state stays as it is and None is returned (the same reminder is never queued twice).
    Runs inside the caller's transaction when there is one."""
    row = reminder_row(related_type=related_type, related_id=related_id, recipient_user_id=recipient_user_id,
                       channel=channel, reminder_type=reminder_type, message=message, send_at=send_at, now=now,
                       key=key, transactional=transactional, zone=zone)
    dao = ReminderDAO(db)
    if key:
        existing = dao.by_key(row["idempotency_key"])
        if existing is not None:
            return _requeue(dao, existing, row, now)
    try:
        with db.transaction():
            return dao.insert(row)
    except Conflict:  # the same key, written a moment ago by someone else
        existing = dao.by_key(row["idempotency_key"]) if key else None
        if existing is None:
            raise
        return _requeue(dao, existing, row, now)


def _requeue(dao: ReminderDAO, existing: Mapping[str, Any], row: Mapping[str, Any], now: datetime) -> int | None:
    if existing["status"] == "cancelled" and dao.revive_cancelled(
            existing["id"], send_at=row["send_at"], send_on=row["send_on"], message=row["message"], now=now):
        return int(existing["id"])
    return None


def queue_many(db: Database, rows: list[Mapping[str, Any]], now: datetime) -> int:
    """Queue many reminders at once (a broadcast): each dict holds queue()'s keyword arguments (without
    db and now); keys must be new. One INSERT per 500 rows; returns how many were written."""
    built = [reminder_row(now=now, **{k: v for k, v in r.items() if k != "now"}) for r in rows]
    return ReminderDAO(db).insert_many(built)


def queue_agendas(db: Database, now: datetime, settings: Mapping[str, Any], day: date | None = None) -> int:
    """Each instructor's agenda for ``day`` (default: tomorrow in APP_TIMEZONE): one e-mail reminder
    (falling back in-app, consent honoured) per instructor with lessons that day, due now. Keyed per
    instructor and day, so running it twice queues nothing more. Returns how many were queued."""
    zone = localtime.zone_for(None, str(settings.get("APP_TIMEZONE") or "Australia/Melbourne"))
    day = day or (now.replace(tzinfo=timezone.utc).astimezone(zone).date() + timedelta(days=1))
    dao = ReminderDAO(db)
    found = dao.agendas(day)
    keys = {row["instructor_id"]: f"instructor:{row['instructor_id']}:agenda:{day.isoformat()}" for row in found}
    with db.transaction():
        taken = dao.existing_keys(list(keys.values()))
        rows = []
        for row in found:
            if keys[row["instructor_id"]] in taken:
                continue
            n = int(row["events"])
            first, last = localtime.as_time(row["first_start"]), localtime.as_time(row["last_end"])
            span = f" from {first:%H:%M} to {last:%H:%M}" if isinstance(first, time) and isinstance(last, time) else ""
            rows.append({"related_type": "instructor", "related_id": row["instructor_id"],
                         "recipient_user_id": row["user_id"], "channel": "email", "reminder_type": "Tomorrow's lessons",
                         "message": f"You have {n} lesson{'s' if n != 1 else ''} on {day:%a} {day.day} {day:%b}{span}."
                                    " The calendar's day view has the students and pick-up points.",
                         "send_at": now, "key": keys[row["instructor_id"]], "zone": zone})
        return queue_many(db, rows, now)


def lesson_key(schedule_id: int, start_utc: datetime, lead: str = "24h") -> str:
    """The idempotency key of a lesson reminder: the lesson, the reminder, the lead time and the start
    it is about (a lesson moved after its reminder went out gets a reminder for the new time)."""
    return f"schedule:{schedule_id}:upcoming:{lead}:{start_utc:%Y%m%dT%H%M}"


# ============================================================================================ dispatching

def _settings_int(settings: Mapping[str, Any], key: str, default: int) -> int:
    try:
        return int(settings.get(key, default))
    except (TypeError, ValueError):
        return default


def backoff(attempt: int, settings: Mapping[str, Any], rng: random.Random | None = None) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1, 2, ...): min(cap, base x 2^(attempt-1)),
    times a jitter of 1.0 to 1.25 (so runs on several hosts spread out), capped again."""
    base = max(1, _settings_int(settings, "REMINDER_BACKOFF_SECONDS", 60))
    cap = max(base, _settings_int(settings, "REMINDER_BACKOFF_CAP_SECONDS", 3600))
    seconds = min(cap, base * 2 ** max(0, attempt - 1))
    jitter = (rng or random).uniform(1.0, 1.25)
    return timedelta(seconds=min(cap, seconds * jitter))


def quiet_window(settings: Mapping[str, Any]) -> tuple[time, time] | None:
    raw = str(settings.get("SMS_QUIET_HOURS") or "").strip()
    if not raw:
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in raw.split("-", 1))
    except ValueError:
        return None
    return (start, end) if start != end else None


def quiet_until(now: datetime, zone: ZoneInfo, settings: Mapping[str, Any]) -> datetime | None:
    """When an SMS may go, as naive UTC, if ``now`` is inside the quiet hours in ``zone``; else None."""
    window = quiet_window(settings)
    if window is None:
        return None
    start, end = window
    local = now.replace(tzinfo=timezone.utc).astimezone(zone)
    wall = local.time().replace(tzinfo=None)
    inside = (start <= wall or wall < end) if start > end else (start <= wall < end)
    if not inside:
        return None
    day = local.date() if wall < end else local.date() + timedelta(days=1)
    allowed = datetime.combine(day, end).replace(tzinfo=zone, fold=0)
    # a wall time skipped by a daylight-saving change is read with the offset before it
    return allowed.astimezone(timezone.utc).replace(tzinfo=None)


def _zone(row: Mapping[str, Any], settings: Mapping[str, Any]) -> ZoneInfo:
    default = str(settings.get("APP_TIMEZONE") or "Australia/Melbourne")
    return localtime.zone_for(row.get("user_zone") or row.get("schedule_zone"), default)


def skip_reason(row: Mapping[str, Any], now: datetime, settings: Mapping[str, Any]) -> str | None:
    """Why a claimed reminder has nothing to deliver (None: it should go)."""
    if row.get("user_id") is None:
        return "the recipient's account no longer exists"
    if row.get("user_status") == "archived":
        return "the recipient's account is archived"
    kind = row["related_type"]
    if kind == "schedule":
        if row.get("schedule_id") is None:
            return "the lesson no longer exists"
        if row["transactional"]:
            return None
        if row["schedule_status"] == "cancelled":
            return "the lesson was cancelled"
        if row["schedule_status"] in FINISHED_LESSON:
            return "the lesson has already taken place"
        zone = localtime.zone_for(row.get("schedule_zone"), str(settings.get("APP_TIMEZONE") or "Australia/Melbourne"))
        start = localtime.as_time(row["start_time"])
        if start is not None and isinstance(row["scheduled_date"], date):
            begins = localtime.to_utc_naive(datetime.combine(row["scheduled_date"], start).replace(tzinfo=zone))
            if begins <= now:
                return "the lesson has already started"
            key = row.get("idempotency_key") or ""
            if key.startswith(f"schedule:{row['related_id']}:upcoming:") and \
                    not key.endswith(f":{begins:%Y%m%dT%H%M}"):
                return "the lesson has moved since this reminder was queued"
    elif kind == "invoice":
        if row.get("invoice_id") is None:
            return "the invoice no longer exists"
        if not row["transactional"] and row["invoice_status"] in ("paid", "void"):
            return f"the invoice is {row['invoice_status']}"
    elif kind == "communication":
        if row.get("communication_id") is None:
            return "the broadcast no longer exists"
    elif kind == "enrollment_request":
        if row.get("request_id") is None:
            return "the enrolment request no longer exists"
    elif kind == "instructor":
        if row.get("instructor_profile_id") is None:
            return "the instructor profile no longer exists"
    elif kind == "gap_offer":
        if row.get("offer_id") is None:
            return "the offer no longer exists"
        if row["offer_status"] != "offered":
            return f"the offer was {row['offer_status']} before it could be sent"
        expires = row.get("offer_expires_at")
        if isinstance(expires, datetime) and expires <= now:
            return "the offer has expired"
    return None


def allowed(row: Mapping[str, Any], channel: str) -> bool:
    """Consent: transactional messages may always go in-app."""
    if channel == "in-app" and row["transactional"]:
        return True
    return not row.get(CONSENT_COLUMN[channel])


def _title_and_body(row: Mapping[str, Any]) -> tuple[str, str]:
    message = str(row["message"] or "")
    if row["related_type"] == "communication":
        subject, _sep, body = message.partition("\n\n")
        return (subject.strip() or "A message from the school")[:160], (body.strip() or subject.strip())
    if row["transactional"]:
        return str(row["reminder_type"])[:160], message
    return f"Reminder: {row['reminder_type']}"[:160], message


def _kind(row: Mapping[str, Any]) -> str:
    if row["related_type"] == "communication":
        return "broadcast"
    return "transactional" if row["transactional"] else "reminder"


def _consent_failure(row: Mapping[str, Any], channel: str, now: datetime) -> dict:
    return _delivery(row, channel, "consent", None, "failed", now,
                     error=f"the recipient opted out of {CHANNEL_LABELS[channel]}", finished=True)


def _delivery(row: Mapping[str, Any], channel: str, backend: str, address: str | None, state: str, now: datetime,
              *, error: str | None = None, provider_message_id: str | None = None, finished: bool = False) -> dict:
    return {"reminder_id": row["id"], "attempt": int(row["attempts"]), "channel": channel, "backend": backend,
            "address": (address or None) and str(address)[:160], "state": state,
            "provider_message_id": provider_message_id, "error": (error or None) and error[:255],
            "created_at": now, "finished_at": now if finished else None}


def _notification(row: Mapping[str, Any], now: datetime, level: str) -> dict:
    title, body = _title_and_body(row)
    if level == "warning":
        body = f"{body}\n\n(We could not reach you by {CHANNEL_LABELS.get(row['channel'] or 'in-app', 'message')}.)"
    related_type = row["related_type"]
    return {"user_id": row["recipient_user_id"], "title": title, "message": body[:2000] or title, "level": level,
            "created_at": now, "reminder_id": row["id"], "related_type": related_type,
            "related_id": row["related_id"], "kind": _kind(row)}


class Dispatcher:
    """One run's work (a ``process_due`` or ``process_one`` call)."""

    def __init__(self, db: Database, settings: Mapping[str, Any], clock: Callable[[], datetime],
                 outbound: OutboundMessageService | None = None, rng: random.Random | None = None):
        self.db, self.settings, self.clock = db, settings, clock
        self.dao = ReminderDAO(db)
        self.outbound = outbound or OutboundMessageService(settings)
        self.rng = rng or random.Random()
        self.token = secrets.token_hex(16)
        self.holding: set[int] = set()  # e-mail/SMS rows this run has claimed and not yet settled
        self.lease = timedelta(seconds=max(5, _settings_int(settings, "REMINDER_LEASE_SECONDS", 900)))
        self.max_attempts = max(1, _settings_int(settings, "REMINDER_MAX_ATTEMPTS", 5))
        self.app_name = str(settings.get("APP_NAME") or "Origin Driving School")

    # -- housekeeping before claiming ---------------------------------------------------------------
    def fill_legacy(self) -> int:
        """PHP-era rows (send_on, no send_at) are due from the start of their day in the school's zone."""
        zone = localtime.zone_for(None, str(self.settings.get("APP_TIMEZONE") or "Australia/Melbourne"))
        filled = 0
        for day in self.dao.legacy_due_dates():
            if not isinstance(day, date):
                continue
            start = localtime.to_utc_naive(datetime.combine(day, time(0, 0)).replace(tzinfo=zone))
            with self.db.transaction():
                filled += self.dao.fill_send_at(day, start)
        return filled

    def recover_expired(self, result: RunResult) -> None:
        """Claims whose lease ran out: flagged ``unknown`` when an e-mail or SMS was in flight (it may
        have gone: never resent blindly), else back to the queue (nothing left the building)."""
        while True:
            now = self.clock()
            with self.db.transaction():
                ids = self.dao.expired_claims(now)
                if not ids:
                    return
                open_ = self.dao.open_deliveries(ids)
                for reminder_id in ids:
                    in_flight = open_.get(reminder_id)
                    if in_flight:
                        self.dao.mark_deliveries_unknown([d["id"] for d in in_flight], now)
                        channels = ", ".join(sorted({CHANNEL_LABELS[d["channel"]] for d in in_flight}))
                        stamp = min(d["created_at"] for d in in_flight)
                        reason = (f"the dispatcher stopped while sending by {channels} (attempt started"
                                  f" {stamp:%Y-%m-%d %H:%M} UTC): check with the recipient before resending")
                        result.flagged += self.dao.release_expired(reminder_id, status="unknown", reason=reason,
                                                                   now=now)
                    else:
                        result.returned += self.dao.release_expired(
                            reminder_id, status="pending", now=now,
                            reason="returned to the queue: the dispatcher stopped before sending anything")

    # -- one batch: claim, and settle what needs no network, in one transaction ---------------------
    def run_batch(self, limit: int, result: RunResult, only: int | None = None) -> int:
        """Lock up to ``limit`` due rows (or the one pending row ``only``: "send now") FOR UPDATE SKIP
        LOCKED and, in the same short transaction, settle everything that needs no network: skips, SMS
        held for quiet hours, and in-app deliveries (notification and status commit together: exactly
        once). E-mail and SMS rows are claimed (``processing``, this run's token, a lease) in that
        transaction and sent after it commits. Returns how many rows were taken."""
        for n in range(BUSY_RETRIES + 1):
            delta = RunResult()
            try:
                taken, external = self._take(limit, only, delta)
                break
            except Conflict as exc:  # a deadlock or lock wait: the batch rolled back whole; take it again
                if exc.constraint is not None or n == BUSY_RETRIES:
                    raise
                _pause(0.02 * (n + 1) + self.rng.uniform(0, 0.03))
        if not taken:
            return 0
        result.add(delta)
        result.claimed += taken
        for row, chain, passed in external:
            self._send_external(row, chain, passed, result)
        return taken

    def _take(self, limit: int, only: int | None, delta: RunResult) -> tuple[int, list]:
        now = self.clock()
        with self.db.transaction():
            if only is None:
                ids = self.dao.due_ids(now, limit)
            else:
                found = self.dao.pending_id(only)
                ids = [found] if found is not None else []
            if not ids:
                return 0, []
            rows = self.dao.context(ids)
            for row in rows:
                row["attempts"] = int(row["attempts"]) + 1  # this attempt (the UPDATEs add it too)
            skipped, held, in_app, external = self._classify(rows, now)
            self._settle_batch(skipped, held, in_app, now, delta)
            if external:
                self.dao.claim([row["id"] for row, _c, _p in external], self.token, now, now + self.lease)
        self.holding.update(row["id"] for row, _c, _p in external)
        return len(ids), external

    def _classify(self, rows: list[dict], now: datetime):
        skipped: list[tuple[dict, str, list[dict]]] = []
        held: list[tuple[dict, datetime]] = []
        in_app: list[tuple[dict, list[dict], str]] = []
        external: list[tuple[dict, tuple[str, ...], list[dict]]] = []
        for row in rows:
            reason = skip_reason(row, now, self.settings)
            if reason:
                skipped.append((row, reason, []))
                continue
            requested = row["channel"] if row["channel"] in FALLBACK else "in-app"
            chain = FALLBACK[row["delivery_channel"] if row["delivery_channel"] in FALLBACK else requested]
            if row["related_type"] == "gap_offer":  # the offer is in the inbox already: no in-app copy
                chain = tuple(c for c in chain if c != "in-app")
            passed: list[dict] = []
            first = None
            for index, channel in enumerate(chain):
                if allowed(row, channel):
                    first = index
                    break
                passed.append(_consent_failure(row, channel, now))
            if first is None:
                skipped.append((row, "the recipient opted out of every channel" if row["related_type"] != "gap_offer"
                                else "the recipient takes no SMS or e-mail (the offer is in their notifications)",
                                passed))
                continue
            channel = chain[first]
            if channel == "sms":
                until = quiet_until(now, _zone(row, self.settings), self.settings)
                if until is not None:
                    held.append((row, until))
                    continue
            if channel == "in-app":
                in_app.append((row, passed, "info" if requested == "in-app" else "warning"))
            else:
                external.append((row, chain[first:], passed))
        return skipped, held, in_app, external

    def _settle_batch(self, skipped, held, in_app, now: datetime, result: RunResult) -> None:
        """Skips, holds and in-app deliveries of a batch of rows locked (still pending) by run_batch's
        transaction."""
        deliveries: list[dict] = []
        for row, reason, passed in skipped:
            deliveries.extend(passed)
            result.skipped += self.dao.settle_pending(row["id"], status="skipped", reason=reason, now=now)
        for row, until in held:
            local = until.replace(tzinfo=timezone.utc).astimezone(_zone(row, self.settings))
            result.held += self.dao.hold(row["id"], until=until, now=now,
                                         reason=f"held for SMS quiet hours until {local:%H:%M} local time")
        if in_app:
            ids = [row["id"] for row, _passed, _level in in_app]
            for _row, passed, _level in in_app:
                deliveries.extend(passed)
            self.dao.insert_deliveries(deliveries)  # the channels passed over first, in the log's order
            deliveries = []
            self.dao.insert_in_app_deliveries(ids, now)
            plain = [row["id"] for row, _passed, level in in_app
                     if level == "info" and not row["transactional"] and row["related_type"] != "communication"]
            self.dao.insert_plain_notifications(plain, now)
            chosen = set(plain)
            self.dao.insert_notifications([_notification(row, now, level) for row, _passed, level in in_app
                                           if row["id"] not in chosen])
            if self.dao.settle_sent_in_app(ids, now) != len(ids):
                raise LostClaim(f"{len(ids)} in-app reminders changed under the lock")
            result.sent += len(ids)
            result.by_channel["in-app"] = result.by_channel.get("in-app", 0) + len(ids)
        self.dao.insert_deliveries(deliveries)

    def _retry(self, work: Callable[[], Any]) -> Any:
        """One transaction of a claimed row's work, taken again after a deadlock or lock wait (it rolled
        back whole). A row whose outcome could never be written stays ``processing`` with its delivery
        ``queued``, and is flagged for review after its lease: never resent."""
        for n in range(BUSY_RETRIES + 1):
            try:
                with self.db.transaction():
                    return work()
            except Conflict as exc:
                if exc.constraint is not None or n == BUSY_RETRIES:
                    raise
                _pause(0.02 * (n + 1) + self.rng.uniform(0, 0.03))
        return None  # pragma: no cover - the loop returns or raises

    def _send_external(self, row: dict, chain: tuple[str, ...], passed: list[dict], result: RunResult) -> None:
        """One e-mail or SMS reminder, down its fallback chain; see the module docstring."""
        try:
            self._deliver_external(row, chain, passed, result)
        finally:
            self.holding.discard(row["id"])

    def _deliver_external(self, row: dict, chain: tuple[str, ...], passed: list[dict], result: RunResult) -> None:
        max_attempts = int(row["max_attempts"] or self.max_attempts)
        reasons: list[str] = []
        exhausted = False
        for channel in chain:
            now = self.clock()
            if channel == "in-app":
                if not allowed(row, "in-app"):
                    passed.append(_consent_failure(row, "in-app", now))
                    reasons.append("opted out of in-app")
                    break

                def fall_back_in_app() -> None:
                    self.dao.insert_notifications([_notification(row, now, "warning")])
                    self.dao.insert_deliveries(passed + [_delivery(row, "in-app", "in-app", None, "sent", now,
                                                                   finished=True)])
                    if not self.dao.settle(row["id"], self.token, status="sent", now=now, channel="in-app",
                                           reason="; ".join(reasons) or None):
                        raise LostClaim(f"reminder {row['id']}: the claim was lost")

                self._retry(fall_back_in_app)
                result.sent += 1
                result.by_channel["in-app"] = result.by_channel.get("in-app", 0) + 1
                return
            if not allowed(row, channel):
                passed.append(_consent_failure(row, channel, now))
                reasons.append(f"opted out of {CHANNEL_LABELS[channel]}")
                continue
            address = self.outbound.email_address(row["email"]) if channel == "email" else \
                self.outbound.phone_number(row["phone"])
            raw = row["email"] if channel == "email" else row["phone"]
            backend = self.outbound.backend_for(channel)
            if address is None or backend == "disabled":
                what = "e-mail address" if channel == "email" else "phone number"
                error = (f"invalid {what}" if raw else f"no {what}") if address is None else \
                    f"{CHANNEL_LABELS[channel]} sending is disabled"
                passed.append(_delivery(row, channel, "validation" if address is None else backend, raw or None,
                                        "failed", now, error=error, finished=True))
                reasons.append(f"{CHANNEL_LABELS[channel]}: {error}")
                continue

            def intent() -> int:
                """Committed before the provider is called, with every held lease pushed on."""
                self.dao.extend_lease(sorted(self.holding), self.token, now + self.lease)
                self.dao.insert_deliveries(passed)
                delivery = self.dao.insert_delivery(_delivery(row, channel, backend, address, "queued", now))
                if not self.dao.set_channel(row["id"], self.token, channel, now):
                    raise LostClaim(f"reminder {row['id']}: the claim was lost")
                return delivery

            delivery_id = self._retry(intent)
            passed = []
            outcome = self._call(channel, row, address)
            now = self.clock()
            retry_now = not outcome.sent and not outcome.permanent and int(row["attempts"]) < max_attempts
            wait = backoff(int(row["attempts"]), self.settings, self.rng) if retry_now else None

            def record() -> int:
                self.dao.finish_delivery(delivery_id, state=outcome.state, now=now,
                                         provider_message_id=outcome.provider_message_id, error=outcome.error)
                if outcome.sent:
                    return self.dao.settle(row["id"], self.token, status="sent", now=now, channel=channel,
                                           reason="; ".join(reasons) or None)
                if wait is not None:
                    return self.dao.settle(
                        row["id"], self.token, status="pending", now=now, channel=channel, next_attempt_at=now + wait,
                        reason=f"attempt {row['attempts']} of {max_attempts} failed: {outcome.error};"
                               f" next try in {int(wait.total_seconds())} s")
                return 0

            settled = self._retry(record)
            if outcome.sent:
                if settled:
                    result.sent += 1
                    result.by_channel[channel] = result.by_channel.get(channel, 0) + 1
                return
            if wait is not None:
                result.retrying += settled
                return
            reasons.append(f"{CHANNEL_LABELS[channel]}: {outcome.error}")
            exhausted = exhausted or not outcome.permanent
        now = self.clock()
        status = "dead" if exhausted else "failed"
        prefix = f"gave up after {row['attempts']} attempts: " if exhausted else "undeliverable: "

        def give_up() -> int:
            self.dao.insert_deliveries(passed)
            return self.dao.settle(row["id"], self.token, status=status, now=now, reason=prefix + "; ".join(reasons))

        result.failed += self._retry(give_up)

    def _call(self, channel: str, row: Mapping[str, Any], address: str) -> Outcome:
        key = f"reminder-{row['id']}-{channel}"  # the same on every retry: an idempotent gateway sends it once
        title, body = _title_and_body(row)
        try:
            if channel == "email":
                text = f"Hello {row['first_name'] or ''},\n\n{body}\n\n{self.app_name}".replace("Hello ,", "Hello,")
                return self.outbound.send_email(address, title, text, key=key)
            text = f"{self.app_name}: {title} - {body}" if row["related_type"] == "communication" \
                else f"{self.app_name}: {body}"
            return self.outbound.send_sms(address, text, key=key)
        except Exception as exc:  # noqa: BLE001 - a backend bug must fail the message, not the run
            log.exception("outbound %s for reminder %s failed unexpectedly", channel, row["id"])
            return Outcome(False, self.outbound.backend_for(channel), address, error=f"{type(exc).__name__}: {exc}"[:255])


def process_due(db: Database, now: datetime, settings: Mapping[str, Any], *, limit: int | None = None,
                clock: Callable[[], datetime] | None = None, outbound: OutboundMessageService | None = None,
                record_run: bool = True) -> RunResult:
    """Work through every due reminder (or at most ``limit``) in batches of REMINDER_BATCH_SIZE; see the
    module docstring. ``clock`` gives the time of each step (the command passes the real clock; tests
    pass a fixed ``now``). The run is recorded in dispatcher_runs; an error marks it failed and is raised
    again (the command exits non-zero)."""
    clock = clock or (lambda: now)
    dispatcher = Dispatcher(db, settings, clock, outbound)
    result = RunResult()
    dao = dispatcher.dao
    if record_run:
        with db.transaction():
            result.run_id = dao.start_run(socket.gethostname(), os.getpid(), now)
    batch = max(1, _settings_int(settings, "REMINDER_BATCH_SIZE", 200))
    try:
        dispatcher.fill_legacy()
        dispatcher.recover_expired(result)
        while limit is None or result.claimed < limit:
            size = batch if limit is None else min(batch, limit - result.claimed)
            if not dispatcher.run_batch(size, result):
                break
    except BaseException as exc:
        if record_run and result.run_id and not isinstance(exc, DatabaseUnavailable):
            try:
                with db.transaction():
                    dao.finish_run(result.run_id, status="failed", counts=result.counts(),
                                   error=f"{type(exc).__name__}: {exc}", now=clock())
            except Exception:  # noqa: BLE001 - the connection itself may be gone; the original error matters
                log.warning("could not record the failed run %s", result.run_id)
        raise
    if record_run:
        with db.transaction():
            dao.finish_run(result.run_id, status="ok", counts=result.counts(), error=None, now=clock())
    return result


def process_one(db: Database, reminder_id: Any, now: datetime, settings: Mapping[str, Any], *,
                outbound: OutboundMessageService | None = None) -> RunResult:
    """"Run now" (the reminder queue page): dispatch this pending reminder whatever its due time.
    NotFound when there is no such reminder; Conflict (409) when it is not pending."""
    dispatcher = Dispatcher(db, settings, lambda: now, outbound)
    result = RunResult()
    try:
        wanted = int(reminder_id)
    except (TypeError, ValueError):
        raise NotFound("Not found") from None
    if not dispatcher.run_batch(1, result, only=wanted):
        status = dispatcher.dao.status_of(wanted)
        if status is None:
            raise NotFound("Not found")
        raise Conflict(f"Only a pending reminder can be sent now (this one is {STATUS_LABELS.get(status, status).lower()}).",
                       field="status")
    return result


def dry_run(db: Database, now: datetime, today: date) -> dict:
    """What a run would do now, without claiming anything: {due: {channel: n}, expired: n}."""
    dao = ReminderDAO(db)
    return {"due": dao.due_counts(now, today), "expired": dao.expired_count(now)}


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip().replace("T", " ")[:19])
        except ValueError:
            return None
    return None


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def health(db: Database, now: datetime, settings: Mapping[str, Any] | None = None) -> dict:
    """The dashboard's health line: the last run, the oldest reminder still waiting although due, and a
    warning when no run has started for 30 minutes (cron is every 15) or the last one failed."""
    settings = settings or {}
    dao = ReminderDAO(db)
    last = dao.last_run()
    zone = localtime.zone_for(None, str(settings.get("APP_TIMEZONE") or "Australia/Melbourne"))
    today = now.replace(tzinfo=timezone.utc).astimezone(zone).date()
    at, legacy = dao.oldest_due(now, today)
    at = _as_datetime(at)
    legacy_day = _as_date(legacy)
    if legacy_day is not None:
        start = localtime.to_utc_naive(datetime.combine(legacy_day, time(0, 0)).replace(tzinfo=zone))
        at = start if at is None or start < at else at
    started = _as_datetime(last["started_at"]) if last else None
    stale = started is None or now - started > STALE_AFTER
    warning = None
    if last is None:
        warning = "The reminder dispatcher has never run: is the cron job installed?"
    elif stale:
        minutes = int((now - started).total_seconds() // 60)
        warning = f"The reminder dispatcher has not run for {minutes} minutes (cron runs it every 15)."
    elif last["status"] == "failed":
        warning = f"The last dispatcher run failed: {last['error'] or 'see the log'}"
    elif last["status"] == "running" and now - started > timedelta(seconds=_settings_int(
            settings, "REMINDER_LEASE_SECONDS", 900)):
        warning = "The last dispatcher run never finished (it may have been killed)."
    return {"last_run": last, "oldest_due": at, "stale": stale, "warning": warning}
