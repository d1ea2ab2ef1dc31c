"""The gap filler / waitlist (issue 8, item 8): a cancelled lesson's slot is offered to the students
waiting for an earlier one, and the first to accept gets it. No Flask here.

**Preferences.** A student opts in to "offer me earlier slots" with the weekdays and the window
(earliest start, latest end, on the quarter hour) they can do (``waitlist_preferences``). Opting out
keeps the days and times for next time.

**A freed slot.** :func:`slot_freed` is called by the one cancellation (scheduling.cancel_event, used by
the office and by students) *inside its transaction*, after the lesson turned cancelled: the offers are
written with the cancellation or not at all. One set-based query (WaitlistDAO.matching_students) finds
the students to offer it to: of the lesson's branch, opted in, the weekday and window containing the
slot, with an active enrolment, the instructor one they may book (availability._may_see's rule for
students: an instructor of their lessons or of their active courses, or any instructor of the branch
when the policy has ``students_any_instructor``), under the weekly limit in the slot's week, without a
live event of their own at that time, and not the cancelled lesson's own student; the earliest opted-in
first, at most :data:`MAX_OFFERS`. The slot must still be the instructor's to give: the conflict engine
(conflicts.check) finds no unavailability, working-hours, accreditation, branch-hours or double-booking
reason on the instructor's side (a lesson cancelled because the instructor is away frees nothing); when
only the car is not free, the lesson is offered without it. Each gets a ``gap_offers`` row and one in-app
notification
(services/notifications.py). Nothing is offered for exams and assessments, for a slot the booking
rules could not give a student anyway (off the branch grid, longer than 3 hours, beyond the horizon),
or once the slot is inside the branch's minimum notice. An offer expires (``expires_at``, naive UTC) at
the slot's start minus the minimum notice, in the branch's wall-clock time like every policy rule.

E-mail and SMS: the reminders/communications module does not exist yet. When it lands, it queues the
outbound message for each offer at the marked place in :func:`slot_freed` (same transaction, one row
per offer in ``reminders``, channel from the student's preference); nothing is sent today.

**Accepting.** :func:`accept` runs ONE transaction (retried on a deadlock like every booking): it locks
every offer of the slot in index order (so parallel accepts queue on the same rows), refuses an offer
that is not the student's (404), already answered (``taken`` or ``accepted``: 409) or expired (409), and
books through ``self_service.book_locked``: the booking locks, the branch policy, the weekly limit and
the full conflict engine, inside this same locked transaction. Then this offer is ``accepted`` (with the
booked lesson) and every other offer of the slot ``taken``. A refusal writes nothing.

On the student's list an open offer reads ``expired`` past its expiry and ``taken`` when the
instructor has a live event overlapping the slot again (booked by the office, or the lesson revived).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Mapping

from app.core import localtime
from app.core.database import Database
from app.core.errors import AppError, NotFound, PermissionDenied, ValidationFailed
from app.core.pagination import ListQuery, Page
from app.core.params import parse_id
from app.dao.waitlist import WaitlistDAO
from app.services import audit, availability, conflicts, notifications, policy as policy_service, reminders, \
    scheduling
from app.services.scheduling import Booked
from app.services.scope import Actor

MAX_OFFERS = 20          # students offered one freed slot at most
QUARTER = 15             # the preference window's times lie on the quarter hour
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DEFAULT_WEEKDAYS = "1111100"
DEFAULT_EARLIEST, DEFAULT_LATEST = time(8, 0), time(18, 0)
DEFAULT_ZONE = "Australia/Melbourne"
SORT_KEYS = ("slot",)
DEFAULT_SORT = "slot"
# conflicts.check kinds that mean the freed slot is not the instructor's to give / not the car's
_INSTRUCTOR_KINDS = {"instructor", "instructor_unavailable", "outside_working_hours", "accreditation_expired",
                     "branch_closed"}
_VEHICLE_KINDS = {"vehicle", "vehicle_unavailable"}
_TRUE = ("1", "y", "yes", "on", "true")
_FALSE = ("", "0", "n", "no", "off", "false")


class OfferClosed(AppError):
    """The offer can no longer be accepted: ``reason`` is ``expired``, ``taken``, ``accepted`` or
    ``unavailable``; the message says which, in words."""

    status = 409

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


# ------------------------------------------------------------------------------------------ preferences

def preferences(db: Database, actor: Actor) -> dict:
    """The student's waitlist preferences (the defaults, not opted in, when they never saved any):
    ``{"active", "weekdays" (list of 0..6, Monday = 0), "earliest_time", "latest_time" ("HH:MM"),
    "saved", "opted_in_at"}``."""
    student_id = _require_student(actor)
    row = WaitlistDAO(db).preferences(student_id)
    if row is None:
        return {"active": False, "weekdays": _days(DEFAULT_WEEKDAYS), "earliest_time": _hm(DEFAULT_EARLIEST),
                "latest_time": _hm(DEFAULT_LATEST), "saved": False, "opted_in_at": None}
    return {"active": bool(row["active"]), "weekdays": _days(row["weekdays"]),
            "earliest_time": _hm(localtime.as_time(row["earliest_time"])), "latest_time": _hm(localtime.as_time(row["latest_time"])),
            "saved": True, "opted_in_at": row["opted_in_at"]}


def save_preferences(db: Database, actor: Actor, data: Mapping[str, Any], *, now: datetime) -> dict:
    """Opt in or out and set the days and window (student only: others 403). ``data``: ``active``
    (true/false, "y"/"on"...), ``weekdays`` (a list of 0..6 as ints or digit strings), ``earliest_time``
    and ``latest_time`` ("HH:MM" on the quarter hour, earliest before latest). Each bad value is a 422
    naming its field and nothing is written. Saved and audited in one transaction."""
    student_id = _require_student(actor)
    if not isinstance(data, Mapping):
        raise ValidationFailed("Send the preferences as an object of fields.", field="body")
    clean = validate(data)
    dao = WaitlistDAO(db)
    with db.transaction():
        current = dao.lock_preferences(student_id)
        was_active = bool(current and current["active"])
        if clean["active"]:
            opted_in_at = current["opted_in_at"] if was_active and current["opted_in_at"] else now
        else:
            opted_in_at = None
        row = {"active": 1 if clean["active"] else 0, "weekdays": clean["weekdays"],
               "earliest_time": clean["earliest_time"], "latest_time": clean["latest_time"],
               "opted_in_at": opted_in_at, "updated_at": now}
        dao.save_preferences(student_id, row, exists=current is not None)
        audit.record(db, actor, "waitlist_preferences_saved", "student", student_id, now=now,
                     before={"active": was_active} if current is not None else None,
                     after={k: v for k, v in row.items() if k != "updated_at"},
                     details="opted in to earlier slots" if clean["active"] else "not waiting for earlier slots")
    return preferences(db, actor)


def validate(data: Mapping[str, Any]) -> dict:
    """The stored form of the preference fields; ValidationFailed (422) naming every bad field."""
    errors: dict[str, list[str]] = {}
    active = _flag(data.get("active"))
    if active is None:
        errors["active"] = ["Must be on or off."]
    raw_days = data.get("weekdays")
    if raw_days is None:
        raw_days = []
    elif isinstance(raw_days, (str, int)):
        raw_days = [raw_days]
    chosen: set[int] = set()
    if not isinstance(raw_days, (list, tuple)):
        errors["weekdays"] = ["Choose days of the week."]
    else:
        for value in raw_days:
            day = _weekday(value)
            if day is None:
                errors["weekdays"] = ["Choose days of the week (Monday to Sunday)."]
                break
            chosen.add(day)
    if active and not chosen and "weekdays" not in errors:
        errors["weekdays"] = ["Choose at least one day you can take a lesson."]
    earliest = _quarter(data.get("earliest_time"), "earliest_time", errors)
    latest = _quarter(data.get("latest_time"), "latest_time", errors)
    if earliest is not None and latest is not None and not earliest < latest:
        errors["latest_time"] = ["The latest time must be after the earliest time."]
    if errors:
        name, messages = next(iter(errors.items()))
        failure = ValidationFailed(messages[0], errors=errors)
        failure.field = name
        raise failure
    mask = "".join("1" if d in chosen else "0" for d in range(7))
    return {"active": active, "weekdays": mask, "earliest_time": earliest, "latest_time": latest}


# ------------------------------------------------------------------------------------------ a freed slot

def slot_freed(db: Database, cancelled: Mapping[str, Any], *, now: datetime, default_zone: str = DEFAULT_ZONE) -> int:
    """Offer a just-cancelled lesson's slot to the matching waiting students; returns how many offers
    were made. MUST run inside the cancellation's transaction (``cancelled``: the BookingDAO.find_schedule
    row of the lesson, as it was before it turned cancelled)."""
    if (cancelled.get("event_type") or "lesson") != "lesson":
        return 0
    branch_id = cancelled.get("branch_id") or cancelled.get("student_branch_id")
    if branch_id is None:
        return 0
    dao = WaitlistDAO(db)
    context = dao.slot_context(cancelled["instructor_id"], branch_id)
    if context.get("instructor_id") is None or context.get("instructor_status") != "active":
        return 0
    pol = policy_service.for_branch(db, branch_id)
    zone = localtime.zone_for(context.get("branch_timezone") or cancelled.get("branch_timezone"), default_zone)
    day = cancelled["scheduled_date"]
    start, end = localtime.as_time(cancelled["start_time"]), localtime.as_time(cancelled["end_time"])
    length = _minutes(end) - _minutes(start)
    grid = pol.slot_grid_minutes
    if not (availability.MIN_DURATION <= length <= availability.MAX_DURATION) or length % grid \
            or _minutes(start) % grid:
        return 0  # a student could not book this shape of slot
    try:
        start_utc = localtime.to_utc_naive(localtime.localize(day, start, zone))
    except ValidationFailed:  # legacy time in a spring-forward gap
        return 0
    expires_at = expiry(pol, day, start, zone, start_utc)
    if now >= expires_at or not policy_service.within_horizon(pol, start_utc, now, zone):
        return 0
    vehicle_id = cancelled.get("vehicle_id")
    found = {c.kind for c in conflicts.check(db, conflicts.Slot(
        instructor_id=cancelled["instructor_id"], student_id=cancelled["student_id"], vehicle_id=vehicle_id,
        branch_id=branch_id, day=day, start=start, end=end), today=policy_service.local_wall(now, zone).date())}
    if found & _INSTRUCTOR_KINDS:
        return 0  # the instructor is not free then after all (unavailable, outside hours, ...): nothing to give
    if found & _VEHICLE_KINDS:
        vehicle_id = None  # the car is not free: offer the lesson without it (the office adds one)
    monday = day - timedelta(days=day.weekday())
    students = dao.matching_students(
        schedule_id=cancelled["id"], branch_id=branch_id, own_student_id=cancelled.get("student_id"),
        weekday=day.weekday(), slot_date=day, start=start, end=end, instructor_id=cancelled["instructor_id"],
        any_instructor=bool(pol.students_any_instructor and context.get("instructor_branch_id") == branch_id),
        week_first=monday, week_last=monday + timedelta(days=6), weekly_limit=pol.max_lessons_per_week,
        limit=MAX_OFFERS)
    if not students:
        return 0
    instructor = f"{context.get('first_name') or ''} {context.get('last_name') or ''}".strip() or "your instructor"
    expires_local = policy_service.local_wall(expires_at, zone)
    title = "An earlier lesson is free"
    message = (f"A lesson with {instructor} on {_day(day)}, {_hm(start)}–{_hm(end)} has come free. "
               f"Open “Earlier slots” to take it: the first student to accept gets it. "
               f"The offer ends {_day(expires_local.date())} at {_hm(expires_local.time())}.")
    texts: list[dict] = []
    for student in students:
        offer_id = dao.insert_offer({
            "schedule_id": cancelled["id"], "student_id": student["student_id"], "branch_id": branch_id,
            "instructor_id": cancelled["instructor_id"], "vehicle_id": vehicle_id,
            "slot_date": day, "start_time": start, "end_time": end, "status": "offered",
            "expires_at": expires_at, "created_at": now,
        })
        notifications.notify(db, student["user_id"], title, message, "info", now=now, related_type="gap_offer",
                             related_id=offer_id, kind="transactional")
        texts.append({"related_type": "gap_offer", "related_id": offer_id, "recipient_user_id": student["user_id"],
                      "channel": "sms", "reminder_type": title, "message": message, "send_at": now,
                      "key": f"gap_offer:{offer_id}:sms", "zone": zone})
    # and by SMS (e-mail when SMS is off), sent by the dispatcher, written in this same transaction: a
    # cancellation that rolls back sends nothing (docs/waitlist.md, "E-mail and SMS")
    reminders.queue_many(db, texts, now)
    audit.record(db, None, "waitlist_offered", "schedule", cancelled["id"], now=now,
                 after={"student_ids": [s["student_id"] for s in students], "expires_at": expires_at},
                 details=f"freed slot offered to {len(students)} waiting student{'s' if len(students) != 1 else ''}")
    return len(students)


def expiry(pol: policy_service.Policy, day: date, start: time, zone, start_utc: datetime) -> datetime:
    """When an offer of a slot starting at wall-clock ``day`` ``start`` ends (naive UTC): the same local
    clock time ``min_notice_minutes`` earlier, like policy.notice_ok (a wall time in a spring-forward gap
    falls back to elapsed minutes)."""
    wall = datetime.combine(day, start) - timedelta(minutes=pol.min_notice_minutes)
    try:
        return localtime.to_utc_naive(localtime.localize(wall.date(), wall.time(), zone))
    except ValidationFailed:
        return start_utc - timedelta(minutes=pol.min_notice_minutes)


# ------------------------------------------------------------------------------------------ offers

def offers(db: Database, actor: Actor, query: ListQuery, *, now: datetime,
           default_zone: str = DEFAULT_ZONE) -> Page:
    """The student's offers, newest slot first, each with ``shown_status`` (offered, accepted, taken,
    expired), ``can_accept`` and ``expires_local`` (the expiry as the branch's wall-clock time)."""
    student_id = _require_student(actor)
    page = WaitlistDAO(db).offers_page(student_id, query, now)
    for row in page.items:
        zone = localtime.zone_for(row.get("branch_timezone"), default_zone)
        row["expires_local"] = policy_service.local_wall(row["expires_at"], zone)
        row["can_accept"] = row["shown_status"] == "offered"
        row["instructor_name"] = f"{row['instructor_first_name'] or ''} {row['instructor_last_name'] or ''}".strip()
    return page


def open_offers(db: Database, actor: Actor, *, now: datetime) -> int:
    """How many offers the student could accept right now (0 for anyone else)."""
    if actor.role != "student" or not actor.student_id:
        return 0
    return WaitlistDAO(db).open_offer_count(actor.student_id, now)


def badge(db: Database, actor: Actor, now: datetime, settings: Mapping[str, Any] | None = None):
    """The navigation badge (app/core/navigation.py BADGES): the student's open offers, or None at 0."""
    n = open_offers(db, actor, now=now)
    if not n:
        return None
    return n, f"{n} earlier slot{'s' if n != 1 else ''} offered to you"


def accept(db: Database, actor: Actor, offer_id: Any, *, now: datetime, settings: Mapping[str, Any]) -> Booked:
    """Take the offered slot: the lesson is booked for the student through the students' booking rules
    and the conflict engine, in one locked transaction; this offer turns ``accepted`` and the slot's
    other offers ``taken``. NotFound (404) for another student's or a missing offer; OfferClosed (409)
    for an expired, taken or already accepted one; self_service.Refused (409) with every reason when the
    booking rules refuse the slot now. A refusal writes nothing."""
    from app.services import self_service  # the students' booking path (it imports scheduling, as we do)

    student_id = _require_student(actor)
    wanted = parse_id(offer_id) if isinstance(offer_id, (int, str)) and not isinstance(offer_id, bool) else None
    dao = WaitlistDAO(db)
    offer = dao.find_offer(wanted) if wanted is not None else None
    if offer is None or offer["student_id"] != student_id:
        raise NotFound("Not found")
    _require_open(offer, now)
    start, end = localtime.as_time(offer["start_time"]), localtime.as_time(offer["end_time"])
    data = {"instructor_id": offer["instructor_id"], "date": offer["slot_date"].isoformat(),
            "start_time": _hm(start), "duration_minutes": _minutes(end) - _minutes(start),
            "vehicle_id": offer["vehicle_id"]}
    try:
        request = self_service.plan(db, actor, data, settings)
    except ValidationFailed as exc:
        raise OfferClosed("unavailable", f"This slot can no longer be booked online: {exc.message}") from None

    def attempt() -> Booked:
        with db.transaction():
            locked = {row["id"]: row for row in dao.lock_slot_offers(offer["schedule_id"])}
            mine = locked.get(offer["id"])
            if mine is None:
                raise NotFound("Not found")
            _require_open(mine, now)
            booked = self_service.book_locked(db, actor, request, now=now, settings=settings,
                                              details=f"taken from the waitlist (offer {offer['id']})")
            dao.mark_accepted(offer["id"], booked.id, now)
            dao.mark_taken(offer["schedule_id"], offer["id"], now)
        return booked

    return scheduling.with_retries(attempt)


def _require_open(offer: Mapping[str, Any], now: datetime) -> None:
    status = offer["status"]
    if status == "accepted":
        raise OfferClosed("accepted", "You have already accepted this offer: the lesson is booked.")
    if status == "taken":
        raise OfferClosed("taken", "This slot has been taken: another student accepted it first.")
    if status == "expired" or offer["expires_at"] <= now:
        raise OfferClosed("expired", "This offer has expired: the lesson now starts too soon to book online"
                                     " (the branch's minimum notice).")


# ------------------------------------------------------------------------------------------ helpers

def _require_student(actor: Actor) -> int:
    if actor.role != "student":
        raise PermissionDenied("Only students wait for earlier slots.")
    if not actor.student_id:
        raise NotFound("Not found")
    return actor.student_id


def _flag(value: Any) -> bool | None:
    """An on/off value (a checkbox posts "y"; absent is off), or None when it is neither."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if type(value) is int and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    return None


def _weekday(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= 6 else None
    if isinstance(value, str) and len(value.strip()) == 1 and value.strip() in "0123456":
        return int(value.strip())
    return None


def _quarter(value: Any, name: str, errors: dict) -> time | None:
    if value is None or value == "":
        errors[name] = ["Enter a time as HH:MM."]
        return None
    text = value.strip() if isinstance(value, str) else None
    if text is not None and len(text) == 8 and text.endswith(":00"):  # a browser may send seconds
        text = text[:5]
    if not text or len(text) != 5 or text[2] != ":" or not (text[:2] + text[3:]).isascii() \
            or not (text[:2] + text[3:]).isdigit() or int(text[:2]) > 23 or int(text[3:]) > 59:
        errors[name] = ["Enter a time as HH:MM (00:00 to 23:45)."]
        return None
    moment = time(int(text[:2]), int(text[3:]))
    if moment.minute % QUARTER:
        errors[name] = ["Use a quarter hour (for example 09:00, 09:15, 09:30 or 09:45)."]
        return None
    return moment


def _days(mask: Any) -> list[int]:
    text = str(mask or "")
    return [i for i in range(7) if i < len(text) and text[i] == "1"]



def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _hm(value: time) -> str:
    return value.strftime("%H:%M")


def _day(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b %Y}"
