"""The booking service: book, move and cancel lessons, exams and assessments (no Flask here).

Every write runs the one conflict engine (services/conflicts.py) inside ONE transaction that first
takes the booking locks, always in the same order (instructor row, vehicle row, student row, then the
event's own row for a move or cancel): a locking read (FOR UPDATE) on MariaDB, ``BEGIN IMMEDIATE`` on
SQLite. Two bookings touching the same instructor, car or student therefore run one after the other,
and the second sees the first's row. A deadlock or lock-wait error is retried (``RETRIES`` times), then
answered 409 ``BookingBusy``; never a 500.

Rules: admin books anywhere; staff only with the instructor, student, vehicle and branch of their own
branch (an id outside that is a 422 naming the field, like an unknown id); instructors and students may
not book, move, cancel or revive here (403; instructors record outcomes through services/outcomes.py).
Blocks refuse (409 ``BookingConflict`` carrying every reason); warnings refuse too unless
``accept_warnings`` is true, and the accepted ones are returned and audited.

Times are wall-clock values in the branch's zone (``branches.timezone``, else ``APP_TIMEZONE``); a time in
the spring-forward gap is refused, a repeated time means its first occurrence (core/localtime.py).
The lesson reminder is queued in the same transaction, in the original's shape (original-system §4.2):
channel ``sms``, reminder_type ``Upcoming Lesson``, related_type ``schedule``, the student's account, the
message "Upcoming lesson: lesson booked for 11 Mar 2026 at 09:00" (the event type's word for exams and
assessments, then the pick-up point when there is one); ``send_at`` is exactly 24 hours before the start
instant (naive UTC), never earlier than the booking itself, and ``send_on`` is its local date. A move
re-plans the pending reminder, a cancellation withdraws it, and reviving a cancelled event queues a new
one when the event is still ahead.
"""
from __future__ import annotations

import re
import time as _time
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Mapping, TypeVar
from zoneinfo import ZoneInfo

from app.core import localtime
from app.core.database import Database
from app.core.errors import AppError, Conflict as DbConflict, DatabaseUnavailable, NotFound, PermissionDenied, \
    ValidationFailed
from app.core.params import parse_date, parse_id
from app.dao.booking import BookingDAO
from app.dao.proposal import ProposalDAO
from app.services import audit, conflicts, credits, reminders
from app.services.conflicts import Conflict, Slot
from app.services.scope import Actor

EVENT_TYPES = ("lesson", "exam", "assessment")
MAX_LESSON = timedelta(hours=8)
REMINDER_LEAD = timedelta(hours=24)
REMINDER_CHANNEL = "sms"              # the original's rule for lesson reminders (original-system §4.2)
REMINDER_TYPE = "Upcoming Lesson"
RETRIES = 3
MAX_RANGE_DAYS = 62
MAX_EVENTS = 2000  # one feed answer at most; a wider question gets truncated=True (narrow it by instructor/branch)
TOPIC_MAX = 160
PICKUP_MAX = 255
NOTES_MAX = 2000
REASON_MAX = 255
MOVE_FIELDS = ("date", "start_time", "end_time", "instructor_id", "vehicle_id", "notes", "accept_warnings")
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])", re.ASCII)

T = TypeVar("T")


class BookingConflict(AppError):
    """The slot is refused: ``conflicts`` holds every reason (blocks, and the warnings not accepted)."""

    status = 409

    def __init__(self, found: list[Conflict], message: str = "This slot cannot be booked."):
        super().__init__(message)
        self.conflicts = [c.to_dict() for c in found]


class BookingBusy(AppError):
    """The booking locks stayed contended through every retry."""

    status = 409


@dataclass(frozen=True)
class Booked:
    id: int
    warnings: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    """A validated, in-scope booking request."""

    slot: Slot
    event_type: str
    topic: str | None
    notes: str | None
    pickup_location: str | None
    accept_warnings: bool
    zone: ZoneInfo
    branch_name: str | None
    student_user_id: int
    extra: tuple[Conflict, ...] = ()  # reasons found before the engine runs (no active enrolment)


# ------------------------------------------------------------------------------------------ public API

def book(db: Database, actor: Actor, data: Mapping[str, Any], *, now: datetime,
         settings: Mapping[str, Any]) -> Booked:
    """Book one event. Raises ValidationFailed (422), PermissionDenied (403), BookingConflict or
    BookingBusy (409). Writes the schedules row, its reminder and the audit row, or nothing."""
    _require_office(actor)
    plan = plan_booking(db, actor, data, settings)
    dao = BookingDAO(db)

    def attempt() -> Booked:
        with db.transaction():
            dao.lock_parties(plan.slot.instructor_id, plan.slot.vehicle_id, plan.slot.student_id)
            found = conflicts_for(db, plan, now) + credits.office_reasons(db, plan, now)  # credits: a warning
            accepted = refuse_or_accept(found, plan.accept_warnings)
            schedule_id = insert_booking(db, actor, plan, now=now, details=accepted_details(accepted))
        return Booked(schedule_id, [w.to_dict() for w in accepted])

    return with_retries(attempt)


def insert_booking(db: Database, actor: Actor, plan: Plan, *, now: datetime, details: str | None = None,
                   extra: Mapping[str, Any] | None = None) -> int:
    """Write one checked booking (the caller holds the booking locks and ran the conflict engine): the
    schedules row (``extra`` adds columns such as series_id), its reminder and the ``schedule_created``
    audit row. Returns the new id."""
    dao = BookingDAO(db)
    slot = plan.slot
    row = {
        "enrollment_id": slot.enrollment_id, "instructor_id": slot.instructor_id,
        "vehicle_id": slot.vehicle_id, "branch_id": slot.branch_id, "event_type": plan.event_type,
        "scheduled_date": slot.day, "start_time": slot.start, "end_time": slot.end,
        "status": "scheduled", "lesson_topic": plan.topic, "notes": plan.notes,
        "pickup_location": plan.pickup_location, "reminder_sent": 0, "created_at": now, "updated_at": now,
        **(extra or {}),
    }
    schedule_id = dao.insert_schedule(row)
    reminder = reminder_plan(plan.event_type, slot.day, slot.start, plan.zone, now, plan.pickup_location)
    if reminder is not None:
        dao.insert_reminder(reminder_row(schedule_id, plan.student_user_id, reminder, now))
    audit.record(db, actor, "schedule_created", "schedule", schedule_id, now=now, after=row, details=details)
    return schedule_id


def preview(db: Database, actor: Actor, data: Mapping[str, Any], *, now: datetime,
            settings: Mapping[str, Any]) -> list[Conflict]:
    """Every conflict the booking ``data`` would meet right now (the conflicts endpoint); reads only."""
    _require_office(actor)
    plan = plan_booking(db, actor, data, settings)
    return conflicts_for(db, plan, now) + credits.office_reasons(db, plan, now)


def move(db: Database, actor: Actor, schedule_id: int, changes: Mapping[str, Any], *, now: datetime,
         settings: Mapping[str, Any]) -> Booked:
    """Move (reschedule) a scheduled event: date, times, instructor, vehicle (and notes), re-checked like a
    booking with the event itself ignored; its pending reminder is re-planned in the same transaction."""
    _require_office(actor)
    current = get_schedule(db, actor, schedule_id)
    unknown = sorted(set(changes) - set(MOVE_FIELDS))
    if unknown:
        raise _invalid({name: ["This field cannot be changed here."] for name in unknown})
    if not any(k in changes for k in MOVE_FIELDS if k not in ("accept_warnings", "notes")) and "notes" not in changes:
        raise ValidationFailed("Nothing to change.", field="date")
    if current["status"] != "scheduled":
        raise ValidationFailed(f"Only scheduled events can be moved; this one is {current['status']}.",
                               field="status")
    data = {**booking_data(current), **changes}
    plan = plan_booking(db, actor, data, settings, ignore_schedule_id=schedule_id)
    dao = BookingDAO(db)

    def attempt() -> Booked:
        with db.transaction():
            dao.lock_parties(plan.slot.instructor_id, plan.slot.vehicle_id, plan.slot.student_id)
            locked = dao.lock_schedule(schedule_id)
            if locked is None:
                raise NotFound("Not found")
            if locked["status"] != "scheduled":
                raise ValidationFailed(f"Only scheduled events can be moved; this one is {locked['status']}.",
                                       field="status")
            accepted = refuse_or_accept(conflicts_for(db, plan, now), plan.accept_warnings)
            slot = plan.slot
            after = {"instructor_id": slot.instructor_id, "vehicle_id": slot.vehicle_id,
                     "scheduled_date": slot.day, "start_time": slot.start, "end_time": slot.end,
                     "notes": plan.notes}
            dao.move_schedule(schedule_id, after, now)
            replan_reminder(dao, schedule_id, plan, now)
            if (slot.day, slot.start) != (current["scheduled_date"], localtime.as_time(current["start_time"])):
                dao.withdraw_notices(schedule_id, now)  # an earlier "moved" notice not yet sent is out of date
                moved_notice(db, schedule_id, plan, now)
            ProposalDAO(db).withdraw_pending(schedule_id, actor.user_id or None, now)  # it answered the old time
            before = {k: current[k] for k in after}
            audit.record(db, actor, "schedule_moved", "schedule", schedule_id, now=now, before=before,
                         after=after, details=accepted_details(accepted))
        return Booked(schedule_id, [w.to_dict() for w in accepted])

    return with_retries(attempt)


def cancel(db: Database, actor: Actor, schedule_id: int, reason: Any, *, now: datetime) -> None:
    """Cancel a scheduled event with a reason (who and when are recorded) and withdraw its pending
    reminder, audited, in one transaction."""
    _require_office(actor)
    current = get_schedule(db, actor, schedule_id)
    text = _text(reason, "cancel_reason", REASON_MAX, {})
    if not text:
        raise ValidationFailed("Give a reason for the cancellation.", field="cancel_reason")
    cancel_event(db, actor, current, text, now=now)


def cancel_event(db: Database, actor: Actor, current: Mapping[str, Any], text: str, *, now: datetime,
                 guard: Callable[[], None] | None = None, details: str | None = None) -> None:
    """The one cancellation of an event the caller has found and scoped (``current``: a find_schedule
    row): under the booking locks, ``guard`` (a rule re-checked inside the transaction, e.g. a student's
    cut-off) runs first, then the row turns cancelled, its pending reminders are withdrawn, the freed
    slot is offered to waiting students, and one audit row is written; retried like a booking."""
    if current["status"] != "scheduled":
        raise ValidationFailed(f"Only scheduled events can be cancelled; this one is {current['status']}.",
                               field="status")
    schedule_id = current["id"]
    dao = BookingDAO(db)

    def attempt() -> None:
        with db.transaction():
            dao.lock_parties(current["instructor_id"], current["vehicle_id"], current["student_id"])
            locked = dao.lock_schedule(schedule_id)
            if locked is None:
                raise NotFound("Not found")
            if guard is not None:
                guard()
            if not dao.cancel_schedule(schedule_id, actor.user_id or None, now, text):
                raise ValidationFailed(f"Only scheduled events can be cancelled; this one is {locked['status']}.",
                                       field="status")
            withdrawn = dao.withdraw_reminders(schedule_id, now)
            ProposalDAO(db).withdraw_pending(schedule_id, actor.user_id or None, now)
            audit.record(db, actor, "schedule_cancelled", "schedule", schedule_id, now=now,
                         before={"status": current["status"]},
                         after={"status": "cancelled", "cancel_reason": text, "cancelled_at": now},
                         details="; ".join(filter(None, [f"reminders withdrawn: {withdrawn}", details]))[:255])
            from app.services import waitlist  # the freed slot goes to waiting students, in this transaction
            waitlist.slot_freed(db, current, now=now)
            if actor.is_office:  # inside the branch's cut-off: its late-cancellation fee (services/packages.py)
                from app.services import packages
                packages.on_cancel(db, actor, current, inside_cutoff=packages.inside_cutoff(db, current, now), now=now)

    with_retries(attempt)


def revive(db: Database, actor: Actor, schedule_id: int, *, now: datetime, settings: Mapping[str, Any],
           accept_warnings: bool = False) -> Booked:
    """Make a cancelled event scheduled again (office only, in scope). It is re-checked by the conflict
    engine exactly like a move (its own row ignored), under the booking locks, in one transaction,
    retried like a booking: another lesson that took the slot meanwhile refuses it (409 with every
    reason), warnings refuse unless ``accept_warnings``. Who cancelled it, when and why are cleared (the
    ``schedule_revived`` audit row keeps them in ``before``), and a pending reminder is queued again when
    the event is still ahead."""
    _require_office(actor)
    current = get_schedule(db, actor, schedule_id)
    if not isinstance(accept_warnings, bool):
        raise ValidationFailed("Must be true or false.", field="accept_warnings")
    if current["status"] != "cancelled":
        raise ValidationFailed(f"Only cancelled events can be revived; this one is {current['status']}.",
                               field="status")
    data = {**booking_data(current), "accept_warnings": accept_warnings}
    plan = plan_booking(db, actor, data, settings, ignore_schedule_id=schedule_id)
    dao = BookingDAO(db)

    def attempt() -> Booked:
        with db.transaction():
            dao.lock_parties(plan.slot.instructor_id, plan.slot.vehicle_id, plan.slot.student_id)
            locked = dao.lock_schedule(schedule_id)
            if locked is None:
                raise NotFound("Not found")
            if locked["status"] != "cancelled":
                raise ValidationFailed(f"Only cancelled events can be revived; this one is {locked['status']}.",
                                       field="status")
            accepted = refuse_or_accept(conflicts_for(db, plan, now), plan.accept_warnings)
            if not dao.revive_schedule(schedule_id, now):
                raise NotFound("Not found")
            reminder = replan_reminder(dao, schedule_id, plan, now)
            before = {k: current[k] for k in ("status", "cancelled_at", "cancelled_by", "cancel_reason")}
            queued = "reminder queued" if reminder is not None else "no reminder (the event has started)"
            details = "; ".join(filter(None, [queued, accepted_details(accepted)]))
            audit.record(db, actor, "schedule_revived", "schedule", schedule_id, now=now, before=before,
                         after={"status": "scheduled", "cancelled_at": None, "cancelled_by": None,
                                "cancel_reason": None}, details=details[:255])
        return Booked(schedule_id, [w.to_dict() for w in accepted])

    return with_retries(attempt)


def get_schedule(db: Database, actor: Actor, schedule_id: Any) -> dict:
    """The event when ``actor`` may change it (admin: any; staff: their branch), else NotFound."""
    if parse_id(schedule_id) is None or not isinstance(schedule_id, int):
        raise NotFound("Not found")
    row = BookingDAO(db).find_schedule(schedule_id)
    if row is None or not actor.is_office:
        raise NotFound("Not found")
    allowed = actor.branch_filter()
    branch = row["branch_id"] if row["branch_id"] is not None else row["student_branch_id"]
    if allowed is not None and branch != allowed:
        raise NotFound("Not found")
    return row


def list_events(db: Database, actor: Actor, args: Mapping[str, Any], *, settings: Mapping[str, Any]) -> dict:
    """The calendar feed: events dated ``start``..``end`` (both inclusive, at most MAX_RANGE_DAYS days),
    optionally filtered by instructor, student, vehicle and branch, within the actor's scope (admin all,
    staff their branch, an instructor their own lessons, a student their own). A bad or missing parameter
    is an AppError (400) naming it. ``start``/``end`` come back as ISO 8601 with the branch's offset.
    Returns ``{"events": [...], "truncated": bool}``: at most MAX_EVENTS events, in date and time order."""
    start = parse_date(args.get("start")) if isinstance(args.get("start"), str) else None
    end = parse_date(args.get("end")) if isinstance(args.get("end"), str) else None
    if start is None:
        raise AppError("start must be a date (YYYY-MM-DD).", field="start")
    if end is None:
        raise AppError("end must be a date (YYYY-MM-DD).", field="end")
    if end < start:
        raise AppError("end must not be before start.", field="end")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise AppError(f"The range may cover at most {MAX_RANGE_DAYS} days.", field="end")
    filters: dict[str, int | None] = {}
    for name in ("instructor_id", "student_id", "vehicle_id", "branch_id"):
        raw = args.get(name)
        if raw is None or raw == "":
            filters[name] = None
            continue
        value = parse_id(raw)
        if value is None:
            raise AppError(f"{name} must be an id.", field=name)
        filters[name] = value
    nothing = -1  # matches no row
    if actor.role == "staff":
        own = actor.branch_filter()
        if filters["branch_id"] not in (None, own):
            return {"events": [], "truncated": False}
        filters["branch_id"] = own
    elif actor.role == "instructor":
        if filters["instructor_id"] not in (None, actor.instructor_id):
            return {"events": [], "truncated": False}
        filters["instructor_id"] = actor.instructor_id or nothing
    elif actor.role == "student":
        if filters["student_id"] not in (None, actor.student_id):
            return {"events": [], "truncated": False}
        filters["student_id"] = actor.student_id or nothing
    elif not actor.is_admin:
        return {"events": [], "truncated": False}
    default_zone = settings.get("APP_TIMEZONE") or "Australia/Melbourne"
    zones: dict[str | None, ZoneInfo] = {}
    out = []
    rows = BookingDAO(db).events(start, end, limit=MAX_EVENTS + 1, **filters)
    for row in rows[:MAX_EVENTS]:
        zone = zones.get(row["branch_timezone"])
        if zone is None:
            zone = zones[row["branch_timezone"]] = localtime.zone_for(row["branch_timezone"], default_zone)
        out.append({
            "id": row["id"], "title": _title(row), "start": _iso(row["scheduled_date"], row["start_time"], zone),
            "end": _iso(row["scheduled_date"], row["end_time"], zone), "status": row["status"],
            "event_type": row["event_type"] or "lesson", "instructor_id": row["instructor_id"],
            "student_id": row["student_id"], "vehicle_id": row["vehicle_id"], "branch_id": row["branch_id"],
        })
    return {"events": out, "truncated": len(rows) > MAX_EVENTS}


def _title(row: Mapping[str, Any]) -> str:
    student = f"{row['student_first_name'] or ''} {row['student_last_name'] or ''}".strip()
    label = f"{(row['event_type'] or 'lesson').capitalize()}: {student}"
    return f"{label} ({row['lesson_topic']})" if row.get("lesson_topic") else label


def _iso(day: date, moment: Any, zone: ZoneInfo) -> str:
    """ISO 8601 with the offset; a stored time in the spring-forward gap (legacy data) is read with the
    offset before the change and shown as the instant it names, after the change (02:30 on the October
    day in Melbourne becomes 03:30+11:00), instead of failing the whole feed."""
    if not isinstance(moment, time):
        moment = (datetime.min + moment).time() if isinstance(moment, timedelta) else time(0, 0)
    try:
        return localtime.iso_with_offset(day, moment, zone)
    except ValidationFailed:
        instant = datetime.combine(day, moment).replace(tzinfo=zone, fold=0)  # read with the offset before
        return instant.astimezone(timezone.utc).astimezone(zone).isoformat()


def reminder_plan(event_type: str, day: date, start: time, zone: ZoneInfo, now: datetime,
                  pickup: str | None = None) -> dict | None:
    """``send_at`` (naive UTC: 24 h before the start instant, not before ``now``), ``send_on`` (its local
    date in ``zone``) and the message; None when the event starts before ``now`` (nothing to remind)."""
    start_utc = localtime.to_utc_naive(localtime.localize(day, start, zone))
    if start_utc <= now:
        return None
    send_at = max(start_utc - REMINDER_LEAD, now)
    send_on = send_at.replace(tzinfo=timezone.utc).astimezone(zone).date()
    where = f", pick-up at {pickup}" if pickup else ""
    kind = event_type if event_type in EVENT_TYPES else "lesson"
    message = f"Upcoming {kind}: {kind} booked for {_day(day)} at {_hm(start)}{where}"
    return {"send_at": send_at, "send_on": send_on, "message": message, "start_at": start_utc}


def reminder_row(schedule_id: int, recipient_user_id: int, reminder: Mapping[str, Any], now: datetime) -> dict:
    """The reminders row of an event, in the original's shape (channel sms, ``Upcoming Lesson``, related
    to the schedule), pending, from a ``reminder_plan`` answer."""
    return {
        "related_type": "schedule", "related_id": schedule_id, "recipient_user_id": recipient_user_id,
        "channel": REMINDER_CHANNEL, "reminder_type": REMINDER_TYPE, "message": reminder["message"],
        "send_on": reminder["send_on"], "send_at": reminder["send_at"], "status": "pending",
        "idempotency_key": reminders.lesson_key(schedule_id, reminder["start_at"]),
        "created_at": now, "updated_at": now,
    }


# ------------------------------------------------------------------------------------------ steps

def booking_data(current: Mapping[str, Any]) -> dict:
    """A stored event as booking fields (the starting point of a move or a revival)."""
    return {
        "student_id": current["student_id"], "enrollment_id": current["enrollment_id"],
        "branch_id": current["branch_id"], "event_type": current["event_type"] or "lesson",
        "instructor_id": current["instructor_id"], "vehicle_id": current["vehicle_id"],
        "date": current["scheduled_date"].isoformat(), "start_time": _hm(current["start_time"]),
        "end_time": _hm(current["end_time"]), "topic": current["lesson_topic"], "notes": current["notes"],
        "pickup_location": current["pickup_location"],
    }


def replan_reminder(dao: BookingDAO, schedule_id: int, plan: Plan, now: datetime) -> dict | None:
    """Point the event's reminder at its (new) time: re-plan the pending one, or queue one when none is
    pending (it was sent, or withdrawn by a cancellation); withdraw it when the event has started."""
    slot = plan.slot
    reminder = reminder_plan(plan.event_type, slot.day, slot.start, plan.zone, now, plan.pickup_location)
    if reminder is None:
        dao.withdraw_reminders(schedule_id, now)
        return None
    key = reminders.lesson_key(schedule_id, reminder["start_at"])
    try:
        with dao.db.transaction():
            replanned = dao.replan_reminders(schedule_id, now=now, key=key, send_at=reminder["send_at"],
                                             send_on=reminder["send_on"], message=reminder["message"])
    except DbConflict:  # back at a time it was already reminded of (or withdrawn from): that row decides
        dao.withdraw_reminders(schedule_id, now)
        replanned = 0
    if not replanned:
        reminders.queue(dao.db, related_type="schedule", related_id=schedule_id,
                        recipient_user_id=plan.student_user_id, channel=REMINDER_CHANNEL, reminder_type=REMINDER_TYPE,
                        message=reminder["message"], send_at=reminder["send_at"], now=now, key=key, zone=plan.zone)
    return reminder


def moved_notice(db: Database, schedule_id: int, plan: Plan, now: datetime) -> int | None:
    """The office moved a lesson: a transactional SMS to the student (it falls back to e-mail, and
    reaches them in-app even when every other channel is off), due at once, keyed by the new time."""
    slot = plan.slot
    start_utc = localtime.to_utc_naive(localtime.localize(slot.day, slot.start, plan.zone))
    if start_utc <= now:
        return None
    kind = plan.event_type if plan.event_type in EVENT_TYPES else "lesson"
    where = f", pick-up at {plan.pickup_location}" if plan.pickup_location else ""
    return reminders.queue(db, related_type="schedule", related_id=schedule_id,
                           recipient_user_id=plan.student_user_id, channel=REMINDER_CHANNEL,
                           reminder_type=f"{kind.capitalize()} moved", transactional=True, send_at=now, now=now,
                           zone=plan.zone, key=f"schedule:{schedule_id}:moved:{start_utc:%Y%m%dT%H%M}",
                           message=f"Your {kind} is now on {_day(slot.day)} at {_hm(slot.start)}{where}.")


def _require_office(actor: Actor) -> None:
    if not actor.is_office:
        raise PermissionDenied("Only the office can book, move, cancel or revive events.")


def plan_booking(db: Database, actor: Actor, data: Mapping[str, Any], settings: Mapping[str, Any], *,
          ignore_schedule_id: int | None = None) -> Plan:
    """Validate ``data`` and check every id against the actor's scope; raises ValidationFailed (422)."""
    if not isinstance(data, Mapping):
        raise ValidationFailed("Send the booking as an object of fields.", field="body")
    errors: dict[str, list[str]] = {}
    ids = {name: _id(data, name, errors, required=name in ("student_id", "instructor_id"))
           for name in ("student_id", "instructor_id", "vehicle_id", "branch_id", "enrollment_id")}
    event_type = data.get("event_type", "lesson")
    if event_type is None or event_type == "":
        event_type = "lesson"
    if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
        errors["event_type"] = ["Choose lesson, exam or assessment."]
    day = _date(data.get("date"), errors)
    start = _hhmm(data.get("start_time"), "start_time", errors)
    end = _hhmm(data.get("end_time"), "end_time", errors)
    if start is not None and end is not None:
        length = datetime.combine(date.min, end) - datetime.combine(date.min, start)
        if length <= timedelta(0):
            errors["end_time"] = ["The end must be after the start."]
        elif length > MAX_LESSON:
            errors["end_time"] = ["An event can be at most 8 hours long."]
    topic = _text(data.get("topic"), "topic", TOPIC_MAX, errors)
    notes = _text(data.get("notes"), "notes", NOTES_MAX, errors)
    pickup = _text(data.get("pickup_location"), "pickup_location", PICKUP_MAX, errors)
    accept = data.get("accept_warnings", False)
    if accept is None:
        accept = False
    if not isinstance(accept, bool):
        errors["accept_warnings"] = ["Must be true or false."]
    if errors:
        raise _invalid(errors)

    row = BookingDAO(db).parties(ids["instructor_id"], ids["student_id"], ids["vehicle_id"], ids["branch_id"],
                                 ids["enrollment_id"])
    mine = _in_scope(actor)
    suffix = "" if actor.is_admin else " in your branch"
    if row.get("instructor_id") is None or not mine(row["instructor_branch_id"]):
        errors["instructor_id"] = [f"No such instructor{suffix}."]
    if row.get("student_id") is None or not mine(row["student_branch_id"]):
        errors["student_id"] = [f"No such student{suffix}."]
    if ids["vehicle_id"] is not None and (row.get("vehicle_id") is None or not mine(row["vehicle_branch_id"])):
        errors["vehicle_id"] = [f"No such vehicle{suffix}."]
    if ids["branch_id"] is not None and (row.get("given_branch_id") is None or not mine(row["given_branch_id"])):
        errors["branch_id"] = ["No such branch." if actor.is_admin else "Choose your own branch."]
    if ids["enrollment_id"] is not None and (row.get("enrollment_id") is None
                                             or not mine(row["enrollment_branch_id"])):
        errors["enrollment_id"] = [f"No such enrolment{suffix}."]
    if errors:
        raise _invalid(errors)

    branch_id = row["branch_id"]
    if branch_id is None and not actor.is_admin:
        branch_id = actor.branch_id
    if not actor.is_admin and branch_id != actor.branch_id:
        raise _invalid({"branch_id": ["Choose your own branch."]})
    zone = localtime.zone_for(row.get("branch_timezone"), settings.get("APP_TIMEZONE") or "Australia/Melbourne")
    localtime.localize(day, start, zone, field="start_time")  # a time in the spring-forward gap: 422
    localtime.localize(day, end, zone, field="end_time")

    enrollment_id = ids["enrollment_id"] or row["active_enrollment_id"]
    extra: tuple[Conflict, ...] = ()
    if enrollment_id is None:
        student = f"{row['student_first_name'] or ''} {row['student_last_name'] or ''}".strip()
        extra = (Conflict("enrollment", f"{student} has no active enrolment.", conflicts.BLOCK),)
    slot = Slot(instructor_id=ids["instructor_id"], student_id=ids["student_id"], vehicle_id=ids["vehicle_id"],
                branch_id=branch_id, enrollment_id=enrollment_id, day=day, start=start, end=end,
                ignore_schedule_id=ignore_schedule_id)
    return Plan(slot=slot, event_type=event_type, topic=topic, notes=notes, pickup_location=pickup,
                accept_warnings=accept, zone=zone, branch_name=row.get("branch_name"),
                student_user_id=row["student_user_id"], extra=extra)


def conflicts_for(db: Database, plan: Plan, now: datetime) -> list[Conflict]:
    today = now.replace(tzinfo=timezone.utc).astimezone(plan.zone).date()
    found = list(plan.extra) + conflicts.check(db, plan.slot, today=today)
    order = {kind: i for i, kind in enumerate(conflicts.KINDS)}
    return sorted(found, key=lambda c: order.get(c.kind, len(order)))


def refuse_or_accept(found: list[Conflict], accept_warnings: bool) -> list[Conflict]:
    """Raise BookingConflict on any block (or on warnings not accepted); else the accepted warnings."""
    if conflicts.blocks(found):
        raise BookingConflict(found)
    warned = conflicts.warnings(found)
    if warned and not accept_warnings:
        raise BookingConflict(found, "This slot has warnings; book anyway with accept_warnings.")
    return warned


def with_retries(attempt: Callable[[], T]) -> T:
    """Run ``attempt`` (one whole transaction); a deadlock or lock wait is retried RETRIES times, then
    answered ``BookingBusy`` (409). Shared by every scheduling write (services/outcomes.py too)."""
    for n in range(RETRIES + 1):
        try:
            return attempt()
        except DbConflict as exc:
            if exc.constraint is not None:  # a real duplicate key: not a lock problem
                raise
        except DatabaseUnavailable as exc:
            if "busy" not in (exc.message or ""):  # the server is gone: 503, not "try again"
                raise
        if n < RETRIES:
            _time.sleep(0.02 * (n + 1))
    raise BookingBusy("The schedule is busy right now; please try again.")


# ------------------------------------------------------------------------------------------ parsing

def _in_scope(actor: Actor) -> Callable[[int | None], bool]:
    allowed = actor.branch_filter()
    return (lambda branch: True) if allowed is None else (lambda branch: branch is not None and branch == allowed)


def _id(data: Mapping[str, Any], name: str, errors: dict, *, required: bool) -> int | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            errors[name] = ["Choose one."]
        return None
    if isinstance(value, float) or not isinstance(value, (int, str)):
        errors[name] = ["Not a valid id."]
        return None
    parsed = parse_id(value)
    if parsed is None:
        errors[name] = ["Not a valid id."]
    return parsed


def _date(value: Any, errors: dict) -> date | None:
    if value is None or value == "":
        errors["date"] = ["Enter the date."]
        return None
    parsed = parse_date(value) if isinstance(value, str) else None
    if parsed is None:
        errors["date"] = ["Enter a real date as YYYY-MM-DD."]
    return parsed


def _hhmm(value: Any, name: str, errors: dict) -> time | None:
    if value is None or value == "":
        errors[name] = ["Enter the time."]
        return None
    match = _HHMM.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        errors[name] = ["Enter a time as HH:MM (00:00 to 23:59)."]
        return None
    return time(int(match.group(1)), int(match.group(2)))


def _text(value: Any, name: str, limit: int, errors: dict) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors[name] = ["Must be text."]
        return None
    text = value.strip()
    if any(ord(ch) < 32 and ch not in "\t\n\r" or ord(ch) == 127 for ch in text):
        errors[name] = ["Contains control characters."]
        return None
    if len(text) > limit:
        errors[name] = [f"At most {limit} characters."]
        return None
    return text or None


def _invalid(errors: dict[str, list[str]]) -> ValidationFailed:
    name, messages = next(iter(errors.items()))
    failure = ValidationFailed(messages[0], errors=errors)
    failure.field = name
    return failure


def accepted_details(accepted: list[Conflict]) -> str | None:
    if not accepted:
        return None
    return ("accepted warnings: " + "; ".join(f"{c.kind}: {c.message}" for c in accepted))[:255]


def _hm(value: Any) -> str:
    return value.strftime("%H:%M") if hasattr(value, "strftime") else str(value)[:5]


def _day(value: date) -> str:
    return f"{value.day} {value.strftime('%b %Y')}"
