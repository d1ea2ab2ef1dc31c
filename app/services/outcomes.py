"""Lesson outcomes: record or correct what happened at an event, and the "awaiting an outcome" list
(no Flask here; the SQL is in dao/outcome.py).

Rules (docs/architecture.md, "Scheduling: outcomes and revival"):

- **Statuses**: completed, not_completed, no_show, with optional ``notes``, ``student_rating`` and
  ``student_feedback``; ``completion_marked_by``/``completion_marked_at`` record who and when.
- **Who**: admin any event; staff the events of their branch (the event's branch, else the student's);
  an instructor only their own lessons (anyone else's is 404, like an event outside the scope); students
  and unknown roles 403.
- **When**: only once the event has started, compared in the branch's zone (``branches.timezone``, else
  APP_TIMEZONE); a future event is 422 on ``status``. A cancelled event is 422 on ``status`` ("revive it
  first").
- **Input** (422 naming the field): ``status`` one of the three; ``student_rating`` an **int** 1 to 5 and
  nothing else (``True``, ``2.5`` and the string ``"3"`` are refused: a JSON client sends a number; the
  web form turns its radio value into an int itself before calling); ``student_feedback`` text of at most
  600 characters; ``notes`` at most 2,000; ``correction_reason`` at most 255; no other key. A key that is
  absent leaves the stored value as it is; ``null`` (or blank text) clears it.
- **Correction**: recording over an existing outcome (a status, rating, feedback or notes change on an
  event that already has one) needs ``correction_reason`` (422 naming it) and is audited as
  ``schedule_outcome_corrected`` with before and after; a first outcome is ``schedule_outcome_recorded``.
  A correction that changes nothing is 422.
- **Two people at once**: the event's row is locked (FOR UPDATE on MariaDB, the transaction's BEGIN
  IMMEDIATE on SQLite) and its outcome re-read inside the transaction; if it changed since this call
  read it (or since the page the caller saw, ``seen_status``), the answer is 409 ``OutcomeChanged``
  naming ``status`` and nothing is written. Lock waits and deadlocks are retried like bookings.
- **Reminders**: the event's pending reminders are withdrawn in the same transaction.
- **Finance hook**: :func:`_after_outcome` runs inside that transaction, after the write and the audit
  row. It is the single place where the package ledger, late fees and credits attach when finance
  arrives: services/packages.py draws the lesson from the package ledger (or gives it back on a
  correction) and adds the branch's no-show fee (docs/packages.md).

A correction that turns a not_completed event back into completed or no_show does not re-run the
conflict engine: the event is in the past and the record describes what happened.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from app.core import clock, localtime
from app.core.database import Database
from app.core.errors import AppError, NotFound, PermissionDenied, ValidationFailed
from app.core.pagination import ListQuery, Page
from app.core.params import parse_id, valid_id
from app.dao.booking import BookingDAO
from app.dao.outcome import AWAITING_SORTS, OutcomeDAO
from app.services import audit
from app.services.scheduling import with_retries
from app.services.scope import NO_BRANCH, Actor

OUTCOME_STATUSES = ("completed", "not_completed", "no_show")
STATUS_LABELS = {"completed": "Completed", "not_completed": "Not completed", "no_show": "No-show"}
RECORDERS = ("admin", "staff", "instructor")
RATING_MIN, RATING_MAX = 1, 5
FEEDBACK_MAX = 600
NOTES_MAX = 2000
REASON_MAX = 255
FIELDS = ("status", "student_rating", "student_feedback", "notes", "correction_reason")
OUTCOME_COLUMNS = ("status", "student_rating", "student_feedback", "notes")

AWAITING_FILTERS = {"instructor": "id", "branch": "id"}
AWAITING_DEFAULT_SORT = "date"
AWAITING_DEFAULT_DIRECTION = "desc"  # the lessons that just ended first
AWAITING_SORT_KEYS = tuple(AWAITING_SORTS)


class OutcomeChanged(AppError):
    """The event's outcome changed between reading it and writing (someone else recorded it first)."""

    status = 409


@dataclass(frozen=True)
class Outcome:
    schedule_id: int
    status: str
    student_rating: int | None
    student_feedback: str | None
    notes: str | None
    completion_marked_by: int | None
    completion_marked_at: datetime
    corrected: bool
    reminders_withdrawn: int = 0


# ------------------------------------------------------------------------------------------ reading

def get_event(db: Database, actor: Actor, schedule_id: Any) -> dict:
    """The event (names joined) when ``actor`` may record its outcome: admin any, staff their branch's,
    an instructor their own; NotFound (404) otherwise, PermissionDenied (403) for other roles.
    ``completion_marked_by_name`` is added."""
    if actor.role not in RECORDERS:
        raise PermissionDenied("Only the office and the lesson's instructor record outcomes.")
    if not valid_id(schedule_id):
        raise NotFound("Not found")
    event = OutcomeDAO(db).find_event(schedule_id)
    if event is None or not in_scope(actor, event):
        raise NotFound("Not found")
    marker = " ".join(filter(None, (event.get("marked_by_first_name"), event.get("marked_by_last_name"))))
    event["completion_marked_by_name"] = marker or None
    return event


def in_scope(actor: Actor, event: Mapping[str, Any]) -> bool:
    """May ``actor`` record this event's outcome (ignoring its status and time)?"""
    if actor.is_admin:
        return True
    if actor.role == "staff":
        branch = event.get("branch_id")
        if branch is None:
            branch = event.get("student_branch_id")
        return actor.branch_id is not None and branch is not None and branch == actor.branch_id
    if actor.role == "instructor":
        return actor.instructor_id is not None and event.get("instructor_id") == actor.instructor_id
    return False


def has_outcome(event: Mapping[str, Any]) -> bool:
    return event.get("status") in OUTCOME_STATUSES


def started(event: Mapping[str, Any], now: datetime, default_zone: str | None = None) -> bool:
    """Has the event started by ``now`` (naive UTC), in its branch's zone?"""
    start = start_instant(event, default_zone)
    return start is not None and start <= now


def can_record(actor: Actor, event: Mapping[str, Any], now: datetime, default_zone: str | None = None) -> bool:
    """Whether the event page offers the outcome form: ``actor`` may record this event (scope), it is
    not cancelled and it has started. ``event`` needs id, status, instructor_id, branch_id (or
    student_branch_id), scheduled_date, start_time and branch_timezone (missing: APP_TIMEZONE)."""
    if actor.role not in RECORDERS or not in_scope(actor, event):
        return False
    if event.get("status") == "cancelled":
        return False
    return started(event, now, default_zone)


def can_revive(actor: Actor, event: Mapping[str, Any]) -> bool:
    """Whether the event page offers "Revive": a cancelled event, the office, in scope (the conflict
    engine still decides when it is tried)."""
    return actor.is_office and event.get("status") == "cancelled" and in_scope(actor, event)


def start_instant(event: Mapping[str, Any], default_zone: str | None = None) -> datetime | None:
    """The event's start as naive UTC (None when the row lacks a date or time). A stored time in a
    spring-forward gap (legacy data) is read with the offset after the change instead of failing."""
    day, moment = event.get("scheduled_date"), localtime.as_time(event.get("start_time"))
    if not isinstance(day, date) or moment is None:
        return None
    zone = _zone(event, default_zone)
    try:
        return localtime.to_utc_naive(localtime.localize(day, moment, zone))
    except ValidationFailed:
        aware = datetime.combine(day, moment).replace(tzinfo=zone, fold=1)
        return aware.astimezone(timezone.utc).replace(tzinfo=None)


def awaiting(db: Database, actor: Actor, query: ListQuery, now: datetime) -> Page:
    """Past events (ended by ``now`` in their branch's zone) still ``scheduled``, one page, in scope:
    an instructor their own lessons, staff their branch (staff without a branch: nothing), admin all;
    the ``instructor`` and ``branch`` filters narrow it further. Three queries whatever the rows (the
    stored zones, the COUNT and the page), names joined in."""
    if actor.role not in RECORDERS:
        raise PermissionDenied("Only the office and instructors see lessons awaiting an outcome.")
    scope_instructor = scope_branch = None
    if actor.role == "instructor":
        scope_instructor = actor.instructor_id or NO_BRANCH  # no profile: matches nothing
    elif actor.role == "staff":
        scope_branch = actor.branch_filter()  # NO_BRANCH for staff without a branch
    dao = OutcomeDAO(db)
    default = clock.timezone_name()
    cutoffs = [(None, *_local(now, localtime.zone_for(None, default)))]
    cutoffs += [(name, *_local(now, localtime.zone_for(name, default))) for name in dao.branch_zones()]
    return dao.awaiting_page(query, cutoffs, instructor_id=query.filter_int("instructor"),
                             branch_id=query.filter_int("branch"), scope_instructor_id=scope_instructor,
                             scope_branch_id=scope_branch)


def instructor_options(db: Database, actor: Actor, branch_id: Any = None) -> list[dict]:
    """The instructors the awaiting list may be filtered by (office only; an instructor sees only their
    own lessons anyway): staff their branch's; admin those of the branch chosen in the list's branch filter,
    none before one is chosen (a national chain's every instructor would not fit one control)."""
    if not actor.is_office or actor.lacks_branch:
        return []
    branch = actor.branch_filter() if not actor.is_admin else parse_id(branch_id)
    if branch is None:
        return []
    return OutcomeDAO(db).instructor_options(branch)


# ------------------------------------------------------------------------------------------ writing

def record(db: Database, actor: Actor, schedule_id: Any, data: Mapping[str, Any], *, now: datetime,
           seen_status: str | None = None) -> Outcome:
    """Record (or correct) the outcome of one event; see the module's rules. Raises PermissionDenied
    (403), NotFound (404), ValidationFailed (422), OutcomeChanged (409) or BookingBusy (409). Writes the
    schedules row, withdraws its pending reminders and appends the audit row, or writes nothing."""
    event = get_event(db, actor, schedule_id)
    changes = _validate(data)
    current = event["status"]
    if current == "cancelled":
        raise ValidationFailed("This event was cancelled; revive it first, then record its outcome.",
                               field="status")
    if current not in OUTCOME_STATUSES and current != "scheduled":
        raise ValidationFailed(f"An event that is {current} has no outcome to record.", field="status")
    if not started(event, now):
        raise ValidationFailed(f"This {event.get('event_type') or 'lesson'} has not started yet; record its "
                               "outcome once it has begun.", field="status")
    if seen_status is not None and seen_status != current:
        raise _changed()
    corrected = current in OUTCOME_STATUSES
    before = {name: event[name] for name in OUTCOME_COLUMNS}
    after = {name: changes.get(name, before[name]) for name in OUTCOME_COLUMNS}
    if not corrected:
        if "status" not in changes:
            raise ValidationFailed("Choose completed, not completed or no-show.", field="status")
    else:
        if not changes.get("correction_reason"):
            raise ValidationFailed("This event already has an outcome: give a reason for the correction.",
                                   field="correction_reason")
        if after == before:
            raise ValidationFailed("The outcome already reads like this; change something to correct it.",
                                   field="status")
    reason = changes.get("correction_reason") if corrected else None
    by_user = actor.user_id or None
    dao, booking = OutcomeDAO(db), BookingDAO(db)
    seen = _fingerprint(event)

    def attempt() -> Outcome:
        with db.transaction():
            locked = dao.lock_event(event["id"])
            if locked is None:
                raise NotFound("Not found")
            if _fingerprint(locked) != seen:
                raise _changed()
            if not dao.set_outcome(event["id"], expected_status=current, status=after["status"],
                                   rating=after["student_rating"], feedback=after["student_feedback"],
                                   notes=after["notes"], by_user_id=by_user, now=now):
                raise _changed()
            withdrawn = booking.withdraw_reminders(event["id"], now)
            outcome = Outcome(schedule_id=event["id"], status=after["status"],
                              student_rating=after["student_rating"], student_feedback=after["student_feedback"],
                              notes=after["notes"], completion_marked_by=by_user, completion_marked_at=now,
                              corrected=corrected, reminders_withdrawn=withdrawn)
            written = {**after, "completion_marked_by": by_user, "completion_marked_at": now}
            if corrected:
                audit.record(db, actor, "schedule_outcome_corrected", "schedule", event["id"], now=now,
                             before={**before, "completion_marked_by": event["completion_marked_by"],
                                     "completion_marked_at": event["completion_marked_at"]},
                             after={**written, "correction_reason": reason},
                             details=f"correction: {reason}"[:255])
            else:
                audit.record(db, actor, "schedule_outcome_recorded", "schedule", event["id"], now=now,
                             before=before, after=written, details=f"reminders withdrawn: {withdrawn}")
            _after_outcome(db, actor, event, outcome, now)
        return outcome

    return with_retries(attempt)


def _after_outcome(db: Database, actor: Actor, event: Mapping[str, Any], outcome: Outcome, now: datetime) -> None:
    """THE finance hook: called once per recorded or corrected outcome, inside its transaction, after the
    schedules row and the audit row are written (``event`` is the row as it was before, ``outcome`` what
    it is now; ``outcome.corrected`` tells a correction). Finance attaches here: drawing a lesson from the
    student's package ledger (completed, no_show), a late-cancellation or no-show fee, a credit when a
    correction undoes one. Anything raised here rolls the whole outcome back: services/packages.py."""
    from app.services import packages
    packages.on_outcome(db, actor, event, outcome.status, event.get("status"), now=now)


# ------------------------------------------------------------------------------------------ steps

def _changed() -> OutcomeChanged:
    return OutcomeChanged("Someone else recorded this outcome a moment ago; reload the event and try again.",
                          field="status")


def _fingerprint(row: Mapping[str, Any]) -> tuple:
    """What must not have changed between reading the event and writing its outcome."""
    return (row["status"], row["student_rating"], row["student_feedback"], row["completion_marked_at"])


def _validate(data: Any) -> dict[str, Any]:
    """The outcome fields that are present, checked; ValidationFailed (422) naming every bad field."""
    if not isinstance(data, Mapping):
        raise ValidationFailed("Send the outcome as an object of fields.", field="body")
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for name in sorted(set(data) - set(FIELDS)):
        errors[str(name)] = ["This field cannot be changed with an outcome."]
    if "status" in data:
        status = data["status"]
        if not isinstance(status, str) or status not in OUTCOME_STATUSES:
            errors["status"] = ["Choose completed, not completed or no-show."]
        else:
            out["status"] = status
    if "student_rating" in data:
        rating = data["student_rating"]
        if rating is None:
            out["student_rating"] = None
        elif isinstance(rating, bool) or not isinstance(rating, int) or not RATING_MIN <= rating <= RATING_MAX:
            errors["student_rating"] = [f"Give a whole number from {RATING_MIN} to {RATING_MAX}."]
        else:
            out["student_rating"] = rating
    for name, limit in (("student_feedback", FEEDBACK_MAX), ("notes", NOTES_MAX),
                        ("correction_reason", REASON_MAX)):
        if name in data:
            text, problem = _text(data[name], limit)
            if problem:
                errors[name] = [problem]
            else:
                out[name] = text
    if errors:
        name, messages = next(iter(errors.items()))
        failure = ValidationFailed(messages[0], errors=errors)
        failure.field = name
        raise failure
    return out


def _text(value: Any, limit: int) -> tuple[str | None, str | None]:
    """(text or None, problem or None): trimmed, blank is None, control characters refused."""
    if value is None:
        return None, None
    if not isinstance(value, str):
        return None, "Must be text."
    text = value.strip()
    if any((ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 127 for ch in text):
        return None, "Contains control characters."
    if len(text) > limit:
        return None, f"At most {limit:,} characters."
    return text or None, None


def _zone(event: Mapping[str, Any], default_zone: str | None = None) -> ZoneInfo:
    return localtime.zone_for(event.get("branch_timezone"), default_zone or clock.timezone_name())


def _local(now: datetime, zone: ZoneInfo) -> tuple[date, time]:
    local = localtime.from_utc_naive(now, zone)
    return local.date(), local.time().replace(microsecond=0, tzinfo=None)

