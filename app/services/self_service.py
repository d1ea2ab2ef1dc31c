"""Students' own bookings (issue 8, item 3): find a slot, book, reschedule and cancel inside the branch
policy. No Flask here; ``db``, ``actor``, ``now`` and ``settings`` come in as arguments.

There is no second rule set. A student's booking is the office's booking (scheduling.plan_booking,
scheduling.conflicts_for, scheduling.insert_booking: the one conflict engine, under the same booking
locks, in one transaction) with the branch policy on top (services/policy.py, in the branch's
wall-clock time):
- the instructor must be one the student may book: of the student's branch, and assigned to them
  (those of their lessons and of their active courses' allocations) or, when the policy allows it,
  any instructor of the branch;
- minimum notice and booking horizon; at most ``max_lessons_per_week`` lessons in the lesson's
  Monday-to-Sunday week (counted under the student's row lock, so two tabs can't both take the last one);
- the lesson length is 30 to 180 minutes on the branch's grid, and the start is on the grid;
- warnings count as blocks (a student can't "book anyway" outside working hours), except "not
  allocated to the course" when the policy lets students pick any instructor of the branch;
- the time must be one of the availability engine's free slots (which adds the branch's buffer between
  lessons); the engine is stricter than the conflict check, never looser;
- package credits: ``credits.booking_reasons`` (finance plugs in there; today it refuses nothing).
Every refusal is ``Refused`` (409) listing each reason in words; bad fields are ``ValidationFailed``
(422) naming them; another student's lesson is ``NotFound`` (404).

Cancelling and rescheduling are allowed up to the cut-off (the same local clock time
``cancel_cutoff_minutes`` earlier, across daylight-saving changes too); after it the refusal says whom
to call (the branch's name and phone). A cancellation is scheduling.cancel_event (the office's one
cancellation: reminders withdrawn, the slot offered to waiting students, one audit row); a reschedule is
one transaction that re-checks the new time and re-plans the reminder.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping

from app.core import localtime
from app.core.database import Database
from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.core.params import parse_date, parse_id
from app.dao.availability import AvailabilityDAO
from app.dao.booking import BookingDAO
from app.dao.proposal import ProposalDAO
from app.services import audit, availability, credits, policy as policy_service, scheduling
from app.services.conflicts import BLOCK, Conflict
from app.services.scheduling import Booked, BookingConflict, Plan
from app.services.scope import Actor

PICKUP_MAX = scheduling.PICKUP_MAX
REASON_MAX = scheduling.REASON_MAX
DEFAULT_CANCEL_REASON = "Cancelled by the student online"
NEXT_DAYS = 14          # how far "the next free slots" look
NEXT_LIMIT = 200        # and how many they list (a page of small forms)
DURATIONS = (30, 45, 60, 90, 120)  # the choices the pages offer (the API takes any grid multiple in range)
# the engine's reasons that would tell a student about someone else's lesson or leave: said plainly instead
_PRIVATE_KINDS = {"instructor", "vehicle", "instructor_unavailable", "accreditation_expired",
                  "vehicle_unavailable"}


class Refused(BookingConflict):
    """A student's booking, reschedule or cancellation refused: ``reasons`` lists each one in words."""

    def __init__(self, found: list[Conflict], message: str | None = None):
        super().__init__(found, message or _sentence(found))
        self.reasons = self.conflicts


@dataclass(frozen=True)
class SelfPlan:
    """A validated student request: the office's booking plan plus what the policy needs."""

    plan: Plan
    policy: policy_service.Policy
    duration: int
    instructor_name: str
    ignore_schedule_id: int | None = None


# ------------------------------------------------------------------------------------------ reads

def allowed_instructors(db: Database, actor: Actor) -> list[dict]:
    """The instructors this student may book: ``{id, first_name, last_name, branch_id, name}``."""
    student_id = _require_student(actor)
    dao = AvailabilityDAO(db)
    branch = dao.student_branch(student_id)
    pol = policy_service.for_branch(db, branch)
    # a lesson belongs to the student's branch (the engine refuses another's), so only its instructors
    rows = dao.bookable_instructors(student_id, branch if branch is not None and pol.students_any_instructor else None,
                                    within_branch=branch)
    return [{**r, "name": _name(r)} for r in rows]


def next_slots(db: Database, actor: Actor, *, duration_minutes: Any, now: datetime, settings: Mapping[str, Any],
               instructor_id: Any = None, days: int = NEXT_DAYS, limit: int = NEXT_LIMIT,
               ignore_schedule_id: int | None = None, allowed: list[dict] | None = None) -> list[dict]:
    """The next free slots (from now, ``days`` days ahead) of the student's instructors, or of the one
    ``instructor_id`` names, earliest first, at most ``limit``: the availability engine's answer, each
    with the instructor's name and the local date and times. Weeks that already hold the branch's weekly
    limit of lessons are left out (``book`` would refuse them); ``ignore_schedule_id`` (a reschedule's own
    lesson) neither holds its time nor counts towards its week. ``allowed``: allowed_instructors's answer
    when the caller has it already (the page lists them too)."""
    duration = _duration(duration_minutes)
    instructors = allowed_instructors(db, actor) if allowed is None else list(allowed)
    if instructor_id not in (None, ""):
        wanted = _id(instructor_id)
        instructors = [i for i in instructors if i["id"] == wanted]
        if not instructors:
            raise ValidationFailed("Choose one of your instructors.", field="instructor_id")
    first = now.date() - timedelta(days=1)  # the engine starts at the branch's local today (any zone)
    last = first + timedelta(days=days)
    names = {i["id"]: i["name"] for i in instructors}
    cap = policy_service.for_branch(db, instructors[0]["branch_id"]).max_lessons_per_week if instructors else 0
    monday = first - timedelta(days=first.weekday())
    taken: dict[date, int] = {}
    out: list[dict] = []
    days_found = availability.student_slot_days(db, actor, instructor_ids=list(names), date_from=first,
                                                date_to=last, duration_minutes=duration, now=now, settings=settings,
                                                ignore_schedule_id=ignore_schedule_id)
    if instructors:
        for day in BookingDAO(db).student_lesson_dates(actor.student_id, monday, last, ignore_schedule_id):
            week = day - timedelta(days=day.weekday())
            taken[week] = taken.get(week, 0) + 1
    for day_slots in days_found:  # one local day at a time, in time order: stop once the page is full
        if not day_slots:
            continue
        # every slot of the day is on the same local date and in its week ("YYYY-MM-DDTHH:MM:SS+hh:mm")
        if taken.get(_monday(day_slots[0]["start"][:10]), 0) >= cap:
            continue  # a week already at the branch's limit is left out
        for slot in day_slots:
            start, end = slot["start"], slot["end"]
            out.append({**slot, "instructor_name": names[slot["instructor_id"]], "date": start[:10],
                        "start_time": start[11:16], "end_time": end[11:16], "duration_minutes": duration})
        if len(out) >= limit:
            break
    out.sort(key=lambda s: (datetime.fromisoformat(s["start"]), s["instructor_name"]))
    return out[:limit]


def _monday(iso_day: str) -> date:
    day = date.fromisoformat(iso_day)
    return day - timedelta(days=day.weekday())


def can_change(db: Database, event: Mapping[str, Any], now: datetime, settings: Mapping[str, Any]) -> bool:
    """Whether the student may still cancel or move this (scheduled) lesson online: before the cut-off."""
    if event.get("status") != "scheduled" or (event.get("event_type") or "lesson") != "lesson":
        return False
    pol = policy_service.for_branch(db, event.get("branch_id"))
    zone = localtime.zone_for(event.get("branch_timezone"), settings.get("APP_TIMEZONE") or "Australia/Melbourne")
    return policy_service.cancel_allowed(pol, _start_utc(event, zone), now, zone)


def cutoff_message(db: Database, branch_id: int | None, pol: policy_service.Policy | None = None) -> str:
    """The words a student reads after the cut-off: the rule, then whom to call."""
    pol = pol or policy_service.for_branch(db, branch_id)
    contact = BookingDAO(db).branch_contact(branch_id)
    return (f"Lessons can't be cancelled or moved online within {_duration_words(pol.cancel_cutoff_minutes)}"
            f" of the start. {_call(contact)}")


# ------------------------------------------------------------------------------------------ writes

def plan(db: Database, actor: Actor, data: Mapping[str, Any], settings: Mapping[str, Any], *,
         ignore_schedule_id: int | None = None, current: Mapping[str, Any] | None = None) -> SelfPlan:
    """Validate a student's request (422 naming each bad field); nothing is read under lock yet."""
    student_id = _require_student(actor)
    if not isinstance(data, Mapping):
        raise ValidationFailed("Send the booking as an object of fields.", field="body")
    errors: dict[str, list[str]] = {}
    raw_instructor = data.get("instructor_id")
    if raw_instructor in (None, "") and current is not None:
        raw_instructor = current["instructor_id"]
    instructor_id = _id(raw_instructor)
    allowed = {i["id"]: i for i in allowed_instructors(db, actor)}
    if instructor_id is None:
        errors["instructor_id"] = ["Choose an instructor."]
    elif instructor_id not in allowed:
        errors["instructor_id"] = ["Choose one of your instructors."]
    day = parse_date(data.get("date")) if isinstance(data.get("date"), str) else None
    if day is None:
        errors["date"] = ["Give the date as YYYY-MM-DD."]
    start = _hhmm(data.get("start_time"))
    if start is None:
        errors["start_time"] = ["Give the start as HH:MM."]
    raw_duration = data.get("duration_minutes")
    if raw_duration in (None, "") and current is not None:
        raw_duration = _length(current)
    try:
        duration = _duration(raw_duration)
    except ValidationFailed as exc:
        errors["duration_minutes"] = [exc.message]
        duration = 0
    vehicle_id = None
    if data.get("vehicle_id") not in (None, ""):
        vehicle_id = _id(data.get("vehicle_id"))
        if vehicle_id is None:
            errors["vehicle_id"] = ["Must be an id."]
    pickup = data.get("pickup_location")
    if pickup is None and current is not None:
        pickup = current.get("pickup_location")
    if pickup is not None and not isinstance(pickup, str):
        errors["pickup_location"] = ["Must be text."]
    elif isinstance(pickup, str) and len(pickup.strip()) > PICKUP_MAX:
        errors["pickup_location"] = [f"At most {PICKUP_MAX} characters."]
    if errors:
        raise _invalid(errors)

    instructor = allowed[instructor_id]
    pol = policy_service.for_branch(db, instructor["branch_id"])
    minutes = start.hour * 60 + start.minute
    if duration % pol.slot_grid_minutes:
        errors["duration_minutes"] = [f"The length must be a multiple of {pol.slot_grid_minutes} minutes."]
    if minutes % pol.slot_grid_minutes:
        errors["start_time"] = [f"Lessons start every {pol.slot_grid_minutes} minutes (e.g. 09:00, "
                                f"09:{pol.slot_grid_minutes:02d})."]
    if minutes + duration >= 24 * 60:
        errors["start_time"] = ["The lesson must end the same day."]
    if errors:
        raise _invalid(errors)
    end_minutes = minutes + duration
    booking = {
        "student_id": student_id, "instructor_id": instructor_id, "vehicle_id": vehicle_id,
        "branch_id": instructor["branch_id"], "event_type": "lesson", "date": day.isoformat(),
        "start_time": start.strftime("%H:%M"), "end_time": f"{end_minutes // 60:02d}:{end_minutes % 60:02d}",
        "pickup_location": pickup.strip() if isinstance(pickup, str) and pickup.strip() else None,
    }
    if current is not None:
        booking.update(enrollment_id=current["enrollment_id"], topic=current.get("lesson_topic"),
                       notes=current.get("notes"))
    # The ids were checked against what this student may book just above; the office plan re-checks
    # them exist and finds the branch, zone and enrolment (with the branch-wide view it needs).
    office = Actor(user_id=actor.user_id, role="admin", ip=actor.ip)
    try:
        booking_plan = scheduling.plan_booking(db, office, booking, settings, ignore_schedule_id=ignore_schedule_id)
    except ValidationFailed as exc:
        if exc.field == "vehicle_id":
            raise ValidationFailed("No such car.", field="vehicle_id") from None
        raise
    if vehicle_id is not None and not _vehicle_of_branch(db, vehicle_id, instructor["branch_id"]):
        raise ValidationFailed("No such car.", field="vehicle_id")
    return SelfPlan(booking_plan, pol, duration, instructor["name"], ignore_schedule_id)


def book(db: Database, actor: Actor, data: Mapping[str, Any], *, now: datetime,
         settings: Mapping[str, Any]) -> Booked:
    """Book a lesson for the signed-in student: 201-worthy ``Booked``, or Refused (409) with every
    reason, ValidationFailed (422), PermissionDenied (403 for anyone but a student)."""
    request = plan(db, actor, data, settings)
    return scheduling.with_retries(lambda: _in_transaction(db, lambda: book_locked(db, actor, request, now=now,
                                                                                    settings=settings)))


def book_locked(db: Database, actor: Actor, request: SelfPlan, *, now: datetime, settings: Mapping[str, Any],
                details: str = "booked by the student") -> Booked:
    """The booking itself; MUST run inside ``db.transaction()`` (the waitlist's accept runs it inside
    its own locked transaction). Takes the booking locks, checks every rule, writes the lesson, its
    reminder and the audit row, or raises Refused."""
    slot = request.plan.slot
    BookingDAO(db).lock_parties(slot.instructor_id, slot.vehicle_id, slot.student_id)
    found = reasons(db, actor, request, now=now, settings=settings)
    if found:
        raise Refused(found)
    schedule_id = scheduling.insert_booking(db, actor, request.plan, now=now, details=details)
    return Booked(schedule_id, [])


def reasons(db: Database, actor: Actor, request: SelfPlan, *, now: datetime,
            settings: Mapping[str, Any]) -> list[Conflict]:
    """Every reason the student may not have this slot right now (empty: bookable)."""
    slot, pol, zone = request.plan.slot, request.policy, request.plan.zone
    begins = localtime.to_utc_naive(localtime.localize(slot.day, slot.start, zone))
    found: list[Conflict] = []
    if not policy_service.notice_ok(pol, begins, now, zone):
        found.append(Conflict("notice", f"Lessons must be booked at least {_duration_words(pol.min_notice_minutes)}"
                                        " ahead.", BLOCK))
    if not policy_service.within_horizon(pol, begins, now, zone):
        last = policy_service.horizon_end(pol, now, zone)
        found.append(Conflict("horizon", f"Lessons can be booked up to {_weeks(pol.horizon_days)} ahead"
                                         f" (until {_day(last)}).", BLOCK))
    monday = slot.day - timedelta(days=slot.day.weekday())
    taken = BookingDAO(db).student_lessons_between(slot.student_id, monday, monday + timedelta(days=6),
                                                   request.ignore_schedule_id)
    if taken >= pol.max_lessons_per_week:
        found.append(Conflict("weekly_limit", f"You already have {taken} lesson{'s' if taken != 1 else ''} in the"
                                              f" week of {_day(monday)}; the branch allows"
                                              f" {pol.max_lessons_per_week} a week.", BLOCK))
    found += credits.booking_reasons(db, slot.student_id, request.plan)
    for conflict in scheduling.conflicts_for(db, request.plan, now):
        if conflict.kind == "instructor_not_allocated" and pol.students_any_instructor:
            continue  # the branch lets its students pick any of its instructors
        found.append(Conflict(conflict.kind, _for_student(conflict, request), BLOCK))
    if not found and not _offered(db, actor, request, now, settings):
        buffer = f" (the branch keeps {pol.buffer_minutes} minutes between lessons)" if pol.buffer_minutes else ""
        found.append(Conflict("not_offered", f"That time is not one of {request.instructor_name}'s free"
                                             f" slots{buffer}.", BLOCK))
    return _unique(found)


def cancel(db: Database, actor: Actor, schedule_id: Any, reason: Any = None, *, now: datetime,
           settings: Mapping[str, Any]) -> None:
    """Cancel the student's own scheduled lesson before the cut-off (checked again under the lock);
    after it, Refused saying whom to call."""
    current = own_lesson(db, actor, schedule_id)
    text = _reason(reason)
    _require_changeable(current)
    guard = _cutoff_guard(db, current, now, settings)
    guard()
    scheduling.cancel_event(db, actor, current, text, now=now, guard=guard, details="cancelled by the student")


def reschedule(db: Database, actor: Actor, schedule_id: Any, data: Mapping[str, Any], *, now: datetime,
               settings: Mapping[str, Any]) -> Booked:
    """Move the student's own lesson to another free slot before the cut-off: the old time's cut-off and
    the new time's every rule, checked under the booking locks, in one transaction; the reminder is
    re-planned."""
    current = own_lesson(db, actor, schedule_id)
    _require_changeable(current)
    guard = _cutoff_guard(db, current, now, settings)
    guard()
    request = plan(db, actor, data, settings, ignore_schedule_id=current["id"], current=current)
    dao = BookingDAO(db)

    def attempt() -> Booked:
        with db.transaction():
            slot = request.plan.slot
            dao.lock_parties(slot.instructor_id, slot.vehicle_id, slot.student_id)
            locked = dao.lock_schedule(current["id"])
            if locked is None:
                raise NotFound("Not found")
            guard()
            found = reasons(db, actor, request, now=now, settings=settings)
            if found:
                raise Refused(found)
            after = {"instructor_id": slot.instructor_id, "vehicle_id": slot.vehicle_id,
                     "scheduled_date": slot.day, "start_time": slot.start, "end_time": slot.end,
                     "notes": request.plan.notes}
            if not dao.move_schedule(current["id"], after, now):
                raise ValidationFailed("Only scheduled lessons can be moved.", field="status")
            scheduling.replan_reminder(dao, current["id"], request.plan, now)
            ProposalDAO(db).withdraw_pending(current["id"], actor.user_id or None, now)
            audit.record(db, actor, "schedule_moved", "schedule", current["id"], now=now,
                         before={k: current[k] for k in after}, after=after, details="rescheduled by the student")
        return Booked(current["id"], [])

    return scheduling.with_retries(attempt)


def own_lesson(db: Database, actor: Actor, schedule_id: Any) -> dict:
    """The student's own event (any status), else NotFound (another student's id looks like no id)."""
    student_id = _require_student(actor)
    if parse_id(schedule_id) is None:
        raise NotFound("Not found")
    row = BookingDAO(db).find_schedule(parse_id(schedule_id))
    if row is None or row["student_id"] != student_id:
        raise NotFound("Not found")
    return row


# ------------------------------------------------------------------------------------------ helpers

def _in_transaction(db: Database, work):
    with db.transaction():
        return work()


def _require_student(actor: Actor) -> int:
    if actor.role != "student":
        raise PermissionDenied("Only students book their own lessons here.")
    if not actor.student_id:
        raise NotFound("Not found")
    return actor.student_id


def _require_changeable(current: Mapping[str, Any]) -> None:
    if current["status"] != "scheduled":
        raise ValidationFailed(f"Only scheduled lessons can be changed; this one is {current['status']}.",
                               field="status")
    if (current["event_type"] or "lesson") != "lesson":
        raise Refused([Conflict("office_only", "Exams and assessments are changed by the office. "
                                + _call({"name": current.get("branch_name"), "phone": current.get("branch_phone")}), BLOCK)])


def _cutoff_guard(db: Database, current: Mapping[str, Any], now: datetime, settings: Mapping[str, Any]):
    pol = policy_service.for_branch(db, current["branch_id"])
    zone = localtime.zone_for(current.get("branch_timezone"), settings.get("APP_TIMEZONE") or "Australia/Melbourne")

    def guard() -> None:
        row = BookingDAO(db).find_schedule(current["id"]) or current  # the time as it stands now
        if not policy_service.cancel_allowed(pol, _start_utc(row, zone), now, zone):
            raise Refused([Conflict("cutoff", cutoff_message(db, current["branch_id"], pol), BLOCK)])

    return guard


def _offered(db: Database, actor: Actor, request: SelfPlan, now: datetime, settings: Mapping[str, Any]) -> bool:
    slot = request.plan.slot
    free = availability.slots(db, actor, instructor_id=slot.instructor_id, date_from=slot.day, date_to=slot.day,
                              duration_minutes=request.duration, vehicle_id=slot.vehicle_id, now=now,
                              settings=settings, ignore_schedule_id=request.ignore_schedule_id)
    wanted = localtime.localize(slot.day, slot.start, request.plan.zone).isoformat()
    return any(s["start"] == wanted for s in free)


def _for_student(conflict: Conflict, request: SelfPlan) -> str:
    if conflict.kind not in _PRIVATE_KINDS:
        return conflict.message
    if conflict.kind in ("instructor", "instructor_unavailable"):
        return f"{request.instructor_name} is not free at that time."
    if conflict.kind == "accreditation_expired":
        return f"{request.instructor_name} can't teach on that day."
    return "The car is not free at that time."


def _unique(found: list[Conflict]) -> list[Conflict]:
    seen, out = set(), []
    for c in found:
        if (c.kind, c.message) not in seen:
            seen.add((c.kind, c.message))
            out.append(c)
    return out


def _sentence(found: list[Conflict]) -> str:
    if not found:
        return "This lesson cannot be booked."
    return found[0].message if len(found) == 1 else f"This lesson cannot be booked: {len(found)} reasons."


def _start_utc(event: Mapping[str, Any], zone) -> datetime:
    start = event["start_time"]
    if isinstance(start, timedelta):
        start = (datetime.min + start).time()
    try:
        aware = localtime.localize(event["scheduled_date"], start, zone)
    except ValidationFailed:  # legacy time in a spring-forward gap: read with the offset before
        aware = datetime.combine(event["scheduled_date"], start).replace(tzinfo=zone, fold=0)
    return localtime.to_utc_naive(aware)


def _length(event: Mapping[str, Any]) -> int:
    def minutes(value: Any) -> int:
        if isinstance(value, timedelta):
            return int(value.total_seconds() // 60)
        return value.hour * 60 + value.minute
    return minutes(event["end_time"]) - minutes(event["start_time"])


def _duration(value: Any) -> int:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) <= 4:
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not (
            availability.MIN_DURATION <= value <= availability.MAX_DURATION):
        raise ValidationFailed(f"The length must be {availability.MIN_DURATION} to {availability.MAX_DURATION}"
                               " minutes.", field="duration_minutes")
    return value


def _id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    return parse_id(value) if isinstance(value, str) else None


def _hhmm(value: Any) -> time | None:
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return None
    hh, mm = value[:2], value[3:]
    if not (hh.isascii() and mm.isascii() and hh.isdigit() and mm.isdigit()):
        return None
    if int(hh) > 23 or int(mm) > 59:
        return None
    return time(int(hh), int(mm))


def _reason(value: Any) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_CANCEL_REASON
    if not isinstance(value, str):
        raise ValidationFailed("Must be text.", field="cancel_reason")
    if len(value.strip()) > REASON_MAX:
        raise ValidationFailed(f"At most {REASON_MAX} characters.", field="cancel_reason")
    return value.strip()


def _vehicle_of_branch(db: Database, vehicle_id: int, branch_id: int | None) -> bool:
    row = AvailabilityDAO(db).parties(0, vehicle_id)
    return row.get("vehicle_id") is not None and row.get("vehicle_branch_id") == branch_id


def _invalid(errors: dict[str, list[str]]) -> ValidationFailed:
    name, messages = next(iter(errors.items()))
    failure = ValidationFailed(messages[0], errors=errors)
    failure.field = name
    return failure


def _call(contact: Mapping[str, Any] | None) -> str:
    name = (contact or {}).get("name")
    phone = (contact or {}).get("phone")
    if name and phone:
        return f"Please call {name} on {phone}."
    if name:
        return f"Please call the {name} office."
    return "Please call the office."


def _name(row: Mapping[str, Any]) -> str:
    return f"{row.get('first_name') or ''} {row.get('last_name') or ''}".strip() or f"Instructor #{row['id']}"


def _duration_words(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"


def _weeks(days: int) -> str:
    if days % 7 == 0:
        weeks = days // 7
        return f"{weeks} week{'s' if weeks != 1 else ''}"
    return f"{days} days"


def _day(value: date) -> str:
    return f"{value:%a} {value.day} {value:%b %Y}"
