"""The reminder queue as the office sees it (issue 10 item 9). No Flask here.

- ``queue``: reminders in scope, newest due first, 25 a page, filtered by status, requested channel and
  type, with the count per status (one aggregate query) and one page query.
- ``get``: one reminder, its delivery log (message_deliveries) and the in-app notification it wrote.
- ``retry`` (failed, dead, unknown, skipped -> pending, due now, a fresh budget of attempts, claim
  cleared, last_error "retried by <name>"; the attempt counter itself keeps counting, because the
  delivery log numbers its rows by attempt and a second "attempt 1" would collide with the first), ``cancel`` (pending, failed, dead, unknown -> cancelled) and ``run_now`` (a
  pending row is dispatched at once by services.reminders.process_one). Anything else is a 409 naming
  the rule. Each is audited (reminder_retried, reminder_cancelled, reminder_run).

Retry and cancel run in one transaction that locks the reminder first and changes it only while its
status is still the one that was checked (the UPDATE's WHERE names it), so a dispatcher claiming the row
at the same moment wins cleanly and the office gets a 409 instead of a lost update. "Run now" hands the
row to the dispatcher, which claims it itself (its claim is the atomic step; a row claimed meanwhile by
a cron run is refused with a 409) and commits before any network call.

Scope: admin every reminder; staff those whose recipient's account belongs to their branch (404 for
any other, like a missing id); instructors and students 403.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from app.core.database import Database
from app.core.errors import Conflict, NotFound, PermissionDenied
from app.core.pagination import ListQuery
from app.dao.reminder_queue import ReminderQueueDAO
from app.dao.reminder import ReminderDAO
from app.dao.user import UserDAO
from app.services import audit, reminders as dispatcher
from app.services.scope import Actor

STATUS_LABELS = dispatcher.STATUS_LABELS  # pending "Pending", processing "Sending", ..., unknown "Needs review"
CHANNEL_LABELS = dispatcher.CHANNEL_LABELS
RELATED_LABELS = {"schedule": "Lesson", "invoice": "Invoice", "communication": "Broadcast",
                  "enrollment_request": "Enrolment request", "instructor": "Agenda", "gap_offer": "Earlier slot"}
RETRYABLE = ("failed", "dead", "unknown", "skipped")
CANCELLABLE = ("pending", "failed", "dead", "unknown")
RUNNABLE = ("pending",)
DEFAULT_MAX_ATTEMPTS = 5  # REMINDER_MAX_ATTEMPTS when the settings do not say
FILTERS = {"status": tuple(STATUS_LABELS), "channel": tuple(CHANNEL_LABELS), "type": "text"}
FILTER_LABELS = {"status": "status", "channel": "channel", "type": "type"}
COUNT_CAP = 10_000  # each status is counted up to here ("10,000+"); the list pages through that many
SORT_KEYS = ("due",)
DEFAULT_SORT = "due"

RULES = {
    "retry": "Only a failed, given-up, flagged or skipped reminder can be retried",
    "cancel": "Only a pending, failed, given-up or flagged reminder can be cancelled",
    "run": "Only a pending reminder can be sent now",
}


def dispatch_status(db: Database, reminder_id: int) -> str | None:
    return ReminderDAO(db).status_of(reminder_id)


def _require_office(actor: Actor) -> None:
    if not actor.is_office:
        raise PermissionDenied("Only the office manages the reminder queue.")


def _in_scope(actor: Actor, branch_id: int | None) -> None:
    allowed = actor.branch_filter()
    if allowed is not None and branch_id != allowed:
        raise NotFound("No such reminder.")


def _refused(action: str, status: str | None) -> Conflict:
    label = STATUS_LABELS.get(status or "", status or "unknown")
    return Conflict(f"{RULES[action]}; this one is {label.lower()}.")


def _actor_name(db: Database, actor: Actor) -> str:
    user = UserDAO(db).find_by_id(actor.user_id) if actor.user_id else None
    if not user:
        return "the system"
    return f"{user['first_name']} {user['last_name']}".strip()


# --------------------------------------------------------------------------- reading

def queue(db: Database, actor: Actor, query: ListQuery) -> dict:
    """{page, counts: {status: n} (within the channel and type filters, at most COUNT_CAP each), capped:
    [statuses with more than COUNT_CAP], total_capped, all_total, types: [type, ...]}."""
    _require_office(actor)
    dao = ReminderQueueDAO(db)
    branch = actor.branch_filter()
    channel, rtype, status = query.filter("channel"), query.filter("type"), query.filter("status")
    counts, types = dao.counts(branch, STATUS_LABELS, channel=channel, reminder_type=rtype, cap=COUNT_CAP)
    capped = sorted(s for s, n in counts.items() if n > COUNT_CAP)
    shown = {s: min(n, COUNT_CAP) for s, n in counts.items()}
    total = shown.get(status, 0) if status else sum(shown.values())
    filters = {"status": status, "channel": channel, "reminder_type": rtype}
    page = dao.page(branch, filters, query, total)
    over = bool(capped) and (not status or status in capped)
    return {"page": page, "counts": shown, "capped": capped, "total_capped": over,
            "all_total": sum(shown.values()), "types": types, "count_cap": COUNT_CAP}


def get(db: Database, actor: Actor, reminder_id: int) -> dict:
    """{reminder, deliveries, notification} for one reminder in scope (404 otherwise)."""
    _require_office(actor)
    dao = ReminderQueueDAO(db)
    row = dao.find(reminder_id)
    if row is None:
        raise NotFound("No such reminder.")
    _in_scope(actor, row["recipient_branch_id"])
    return {"reminder": row, "deliveries": dao.deliveries(reminder_id), "notification": dao.notification(reminder_id),
            "may_retry": row["status"] in RETRYABLE, "may_cancel": row["status"] in CANCELLABLE,
            "may_run": row["status"] in RUNNABLE}


# --------------------------------------------------------------------------- changing

def _change(db: Database, actor: Actor, reminder_id: int, action: str, allowed: tuple[str, ...], now: datetime,
            write) -> dict:
    _require_office(actor)
    dao = ReminderQueueDAO(db)
    with db.transaction():
        row = dao.lock(reminder_id)
        if row is None:
            raise NotFound("No such reminder.")
        _in_scope(actor, row["recipient_branch_id"])
        if row["status"] not in allowed:
            raise _refused(action, row["status"])
        note = f"{'retried' if action == 'retry' else 'cancelled'} by {_actor_name(db, actor)}"
        if write(dao, note) != 1:  # the dispatcher moved it on between the lock and the write (SQLite)
            raise _refused(action, dispatch_status(db, reminder_id))
        after = {"status": "pending" if action == "retry" else "cancelled", "last_error": note}
        audit.record(db, actor, "reminder_retried" if action == "retry" else "reminder_cancelled", "reminder",
                     reminder_id, now=now, before={"status": row["status"], "attempts": row["attempts"],
                                                   "max_attempts": row["max_attempts"],
                                                   "last_error": row["last_error"]},
                     after=after, details=f"{row['reminder_type']} ({row['channel']}): {note}")
    return after


def retry(db: Database, actor: Actor, reminder_id: int, *, now: datetime,
          settings: Mapping[str, Any] | None = None) -> dict:
    """Failed, given up, flagged for review or skipped -> pending, due now, claim cleared, and a fresh
    budget of REMINDER_MAX_ATTEMPTS attempts (max_attempts = attempts so far + that)."""
    budget = max(1, int((settings or {}).get("REMINDER_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS))
    return _change(db, actor, reminder_id, "retry", RETRYABLE, now,
                   lambda dao, note: dao.retry(reminder_id, RETRYABLE, note=note, now=now, budget=budget))


def cancel(db: Database, actor: Actor, reminder_id: int, *, now: datetime) -> dict:
    """Pending, failed, given up or flagged -> cancelled (withdrawn; never sent)."""
    return _change(db, actor, reminder_id, "cancel", CANCELLABLE, now,
                   lambda dao, note: dao.cancel(reminder_id, CANCELLABLE, note=note, now=now))


def run_now(db: Database, actor: Actor, reminder_id: int, *, now: datetime, settings: Mapping[str, Any]) -> Any:
    """Dispatch one pending reminder now, whatever its send_at (services.reminders.process_one claims it
    and commits the claim before any network call). Returns {"status": the outcome, "result": process_one's
    RunResult}. Audited after the
    dispatch (its own transaction: the claim, the delivery and the outcome commit on their own)."""
    _require_office(actor)
    dao = ReminderQueueDAO(db)
    exists, branch = dao.recipient_branch(reminder_id)
    if not exists:
        raise NotFound("No such reminder.")
    _in_scope(actor, branch)
    status = dispatch_status(db, reminder_id)
    if status not in RUNNABLE:
        raise _refused("run", status)
    try:
        result = dispatcher.process_one(db, reminder_id, now, settings)
    except Conflict:  # a cron run claimed it first, or it moved on meanwhile
        raise _refused("run", dispatch_status(db, reminder_id)) from None
    outcome = dispatch_status(db, reminder_id)
    with db.transaction():
        audit.record(db, actor, "reminder_run", "reminder", reminder_id, now=now,
                     before={"status": status}, after={"status": outcome},
                     details=f"sent now by {_actor_name(db, actor)}: {STATUS_LABELS.get(outcome or '', outcome)}")
    return {"status": outcome, "result": result}


def outcome_message(status: str | None) -> str:
    """The flash after "run now", in words."""
    return {
        "sent": "The reminder was sent.",
        "pending": "The reminder could not go yet and is waiting for its next attempt (see the delivery log).",
        "failed": "The reminder could not be delivered on any channel (see the delivery log).",
        "dead": "The reminder gave up after its last attempt (see the delivery log).",
        "skipped": "The reminder was skipped: there was nothing left to remind about (see the reason).",
        "unknown": "The outcome is uncertain; the reminder is flagged for review.",
        "cancelled": "The reminder was cancelled.",
    }.get(status or "", "The reminder was processed.")
