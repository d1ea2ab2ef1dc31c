"""The one conflict engine: every reason a slot cannot (or should not) be booked.

Every booking path (staff pages, the JSON API, later the student portal and series) calls
:func:`check` with a :class:`Slot` and acts on the result; none of them checks overlaps on its own.
``check`` only reads: it returns **every** reason, each a :class:`Conflict` with a kind, a plain-English
message and a severity (``block`` refuses the booking, ``warn`` is shown and staff may book anyway).
Bad input (end not after start, a lesson over 8 hours, unknown ids) raises ``ValidationFailed`` naming
the field (``end_time``, ``instructor_id``, ...), so the caller answers 422 before any conflict.

The reads are a fixed handful of queries whatever the data (``ScheduleDAO.conflict_parties``,
``live_overlaps``, ``unavailability_overlapping``, ``downtime_overlapping`` when a vehicle is given,
``working_hours_on`` and ``BranchDAO.opening_hours`` when the instructor or the branch has such
hours at all). Dates and times are wall-clock values in the branch's zone, compared as stored (a
nonexistent local time is refused by the caller with ``app.core.localtime.localize``). Race safety
is the caller's: run ``check`` and the insert in one transaction under the booking locks (see
docs/architecture.md, "Scheduling: the conflict engine").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Callable

from app.core.database import Database
from app.core.errors import ValidationFailed
from app.dao.branch import BranchDAO
from app.dao.schedule import ScheduleDAO

BLOCK = "block"
WARN = "warn"
MAX_LESSON = timedelta(hours=8)
# Events that hold their slot (ScheduleDAO.live_overlaps): a no-show still took the instructor's and the
# car's time; cancelled and not_completed events never block.
LIVE_STATUSES = ("scheduled", "completed", "no_show")
ACTIVE_ENROLMENT = ("active", "in_progress")
UNAVAILABLE_VEHICLE = {"maintenance": "in maintenance", "in_service": "away for servicing"}

# The order reasons are reported in: the clashes first, then the people, the car, the place, the paperwork.
KINDS = (
    "instructor", "vehicle", "student",
    "instructor_unavailable", "outside_working_hours", "accreditation_expired",
    "vehicle_unavailable", "branch_closed", "enrollment", "instructor_not_allocated",
)
SEVERITY = {
    "instructor": BLOCK, "vehicle": BLOCK, "student": BLOCK, "instructor_unavailable": BLOCK,
    "outside_working_hours": WARN, "accreditation_expired": BLOCK, "vehicle_unavailable": BLOCK,
    "branch_closed": BLOCK, "enrollment": BLOCK, "instructor_not_allocated": WARN,
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, kw_only=True)
class Slot:
    """A proposed event, built by keyword. ``ignore_schedule_id`` is the event being moved (it never
    clashes with itself). ``day``, ``start`` and ``end`` are wall-clock values in the branch's zone."""

    instructor_id: int
    student_id: int
    vehicle_id: int | None = None
    branch_id: int | None = None
    enrollment_id: int | None = None
    course_id: int | None = None
    day: date
    start: time
    end: time
    ignore_schedule_id: int | None = None


@dataclass(frozen=True)
class Conflict:
    kind: str
    message: str
    severity: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message, "severity": self.severity}


def branch_closed(slot: Slot, branch: dict | None) -> list[Conflict]:
    """The ``branch_closed`` rule: the slot must lie inside one of the branch's opening periods for
    its weekday (wall-clock, in the branch's zone; touching the open or close time is inside).

    ``branch`` is what ``check`` passes (``None`` without a branch): ``id``, ``name``, ``timezone`` and
    ``opening_hours``, the periods of the slot's weekday (``open_time``, ``close_time``), or ``None``
    when the branch has no structured hours at all, which means no rule (the free-text
    ``branches.opening_hours`` label is never parsed). A weekday without a period is closed all day.
    """
    if not branch or branch.get("opening_hours") is None:
        return []
    hours = branch["opening_hours"]
    if any(h["open_time"] <= slot.start and slot.end <= h["close_time"] for h in hours):
        return []
    weekday = WEEKDAYS[slot.day.weekday()]
    if not hours:
        message = f"{branch['name']} is closed all day on {weekday}."
    else:
        listed = ", ".join(f"{_hm(h['open_time'])}–{_hm(h['close_time'])}" for h in hours)
        partly = any(h["open_time"] < slot.end and slot.start < h["close_time"] for h in hours)
        message = (f"{branch['name']} is closed {'for part of ' if partly else ''}{_hm(slot.start)}–"
                   f"{_hm(slot.end)} on {weekday} (open {listed}).")
    return [Conflict("branch_closed", message, SEVERITY["branch_closed"])]


def check(db: Database, slot: Slot, *, today: date,
          closed_rule: Callable[[Slot, dict | None], list[Conflict]] = branch_closed) -> list[Conflict]:
    """Every conflict of ``slot``, blocks and warnings, in the order of ``KINDS`` (within a kind, by time).

    ``today`` is the business date of the booking; no rule here depends on it yet (a lesson's date,
    not today, decides accreditation and servicing), it is taken so that booking-path rules such as
    a notice period attach without changing callers. ``closed_rule`` replaces the branch-hours seam.
    """
    _check_input(slot)
    dao = ScheduleDAO(db)
    row = dao.conflict_parties(slot.instructor_id, slot.student_id, slot.vehicle_id, slot.enrollment_id,
                               slot.course_id, slot.branch_id)
    _check_ids(slot, row)

    start_at, end_at = datetime.combine(slot.day, slot.start), datetime.combine(slot.day, slot.end)
    instructor = _name(row, "instructor")
    student = _name(row, "student")
    vehicle = _vehicle_name(row)
    found: list[Conflict] = []

    def add(kind: str, message: str) -> None:
        found.append(Conflict(kind, message, SEVERITY[kind]))

    for event in dao.live_overlaps(slot.day, slot.start, slot.end, slot.instructor_id, slot.student_id,
                                   slot.vehicle_id, slot.ignore_schedule_id):
        when = f"{_hm(event['start_time'])}–{_hm(event['end_time'])}"
        label = f"{event['event_type'] or 'lesson'} #{event['id']}"
        if event["kind"] == "instructor":
            add("instructor", f"{instructor} already teaches {when} ({label}).")
        elif event["kind"] == "vehicle":
            add("vehicle", f"{vehicle} is already booked {when} ({label}).")
        else:
            add("student", f"{student} is already booked {when} ({label}).")

    for window in dao.unavailability_overlapping(slot.instructor_id, start_at, end_at):
        add("instructor_unavailable",
            f"{instructor} is unavailable {_span(window['start_datetime'], window['end_datetime'])}"
            f"{_reason(window['reason'])}.")

    if int(row["hours_rows"] or 0) > 0:
        hours = dao.working_hours_on(slot.instructor_id, slot.day.weekday())
        if not any(h["start_time"] <= slot.start and slot.end <= h["end_time"] for h in hours):
            weekday = WEEKDAYS[slot.day.weekday()]
            if hours:
                listed = ", ".join(f"{_hm(h['start_time'])}–{_hm(h['end_time'])}" for h in hours)
                add("outside_working_hours", f"{_hm(slot.start)}–{_hm(slot.end)} is outside {instructor}'s"
                                             f" working hours on {weekday} ({listed}).")
            else:
                add("outside_working_hours", f"{instructor} does not work on {weekday}s.")

    expiry = row["accreditation_expiry"]
    if expiry is not None and expiry < slot.day:
        add("accreditation_expired", f"{instructor}'s accreditation expired on {_date(expiry)}.")

    if slot.vehicle_id is not None:
        status = row["vehicle_status"]
        if status in UNAVAILABLE_VEHICLE:
            add("vehicle_unavailable", f"{vehicle} is {UNAVAILABLE_VEHICLE[status]}.")
        for window in dao.downtime_overlapping(slot.vehicle_id, start_at, end_at):
            add("vehicle_unavailable",
                f"{vehicle} is off the road {_span(window['start_datetime'], window['end_datetime'])}"
                f"{_reason(window['reason'])}.")
        due = row["next_service_due"]
        if due is not None and due < slot.day:
            add("vehicle_unavailable", f"{vehicle}'s service was due on {_date(due)}.")

    branch = _branch(row)
    if branch is not None and int(row.get("opening_rows") or 0) > 0:
        branch["opening_hours"] = BranchDAO(db).opening_hours(branch["id"], slot.day.weekday())
    for reason in closed_rule(slot, branch):
        found.append(reason)

    for message in _enrolment_reasons(slot, row, student):
        add("enrollment", message)

    if row["course_id"] is not None and not int(row["allocated"] or 0):
        add("instructor_not_allocated", f"{instructor} is not allocated to {row['course_title']}.")

    order = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(found, key=lambda c: order.get(c.kind, len(KINDS)))  # stable: keeps time order within a kind


def blocks(conflicts: list[Conflict]) -> list[Conflict]:
    """The reasons that refuse a booking."""
    return [c for c in conflicts if c.severity == BLOCK]


def warnings(conflicts: list[Conflict]) -> list[Conflict]:
    """The reasons staff may accept."""
    return [c for c in conflicts if c.severity == WARN]


# ------------------------------------------------------------------------------------------ helpers

def _check_input(slot: Slot) -> None:
    errors: dict[str, list[str]] = {}
    if not isinstance(slot.day, date) or isinstance(slot.day, datetime):
        errors["date"] = ["Enter a valid date."]
    for field, value in (("start_time", slot.start), ("end_time", slot.end)):
        if not isinstance(value, time):
            errors[field] = ["Enter a valid time (HH:MM)."]
    for field in ("instructor_id", "student_id"):
        if not _is_id(getattr(slot, field)):
            errors[field] = ["Choose one."]
    for field in ("vehicle_id", "branch_id", "enrollment_id", "course_id", "ignore_schedule_id"):
        value = getattr(slot, field)
        if value is not None and not _is_id(value):
            errors[field] = ["Not a valid choice."]
    if "start_time" not in errors and "end_time" not in errors:
        if slot.end <= slot.start:
            errors["end_time"] = ["The end must be after the start."]
        elif _minutes(slot.end) - _minutes(slot.start) > MAX_LESSON.total_seconds() / 60:
            errors["end_time"] = ["A lesson can be at most 8 hours long."]
    if errors:
        raise _invalid(errors)


def _check_ids(slot: Slot, row: dict) -> None:
    """Ids that name nothing are input errors (422), not conflicts."""
    errors: dict[str, list[str]] = {}
    if row.get("instructor_id") is None:
        errors["instructor_id"] = ["No such instructor."]
    if row.get("student_id") is None:
        errors["student_id"] = ["No such student."]
    if slot.vehicle_id is not None and row.get("vehicle_id") is None:
        errors["vehicle_id"] = ["No such vehicle."]
    if slot.enrollment_id is not None and row.get("enrollment_id") is None:
        errors["enrollment_id"] = ["No such enrolment."]
    if slot.course_id is not None and row.get("course_id") is None:
        errors["course_id"] = ["No such course."]
    if slot.branch_id is not None and row.get("branch_id") is None:
        errors["branch_id"] = ["No such branch."]
    if errors:
        raise _invalid(errors)


def _enrolment_reasons(slot: Slot, row: dict, student: str) -> list[str]:
    reasons = []
    course = row["course_title"]
    if slot.enrollment_id is not None:
        label = f"Enrolment #{slot.enrollment_id}"
        if row["enrollment_student_id"] != slot.student_id:
            reasons.append(f"{label} is not {student}'s.")
        elif slot.course_id is not None and row["enrollment_course_id"] != slot.course_id:
            reasons.append(f"{label} is not for {course}.")
        elif row["enrollment_status"] not in ACTIVE_ENROLMENT:
            reasons.append(f"{label} ({course}) is {row['enrollment_status'] or 'not active'}, not active.")
    elif slot.course_id is not None and row["active_enrollment_id"] is None:
        reasons.append(f"{student} has no active enrolment in {course}.")
    if (slot.branch_id is not None and row["student_branch_id"] is not None
            and row["student_branch_id"] != slot.branch_id):
        reasons.append(f"{student}'s enrolment belongs to {row['student_branch_name']}, not {row['branch_name']}.")
    return reasons


def _branch(row: dict) -> dict | None:
    """The slot's branch for the closed rule; ``opening_hours`` None = no structured hours (check fills
    in the weekday's periods when the branch has any)."""
    if row.get("branch_id") is None:
        return None
    return {"id": row["branch_id"], "name": row["branch_name"], "timezone": row.get("branch_timezone"),
            "opening_hours": None}


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _invalid(errors: dict[str, list[str]]) -> ValidationFailed:
    """One ValidationFailed carrying every field's message; its message and field are the first one's."""
    field, messages = next(iter(errors.items()))
    failure = ValidationFailed(messages[0], errors=errors)
    failure.field = field
    return failure


def _minutes(value: time) -> float:
    return value.hour * 60 + value.minute + value.second / 60


def _name(row: dict, who: str) -> str:
    return f"{row[f'{who}_first_name']} {row[f'{who}_last_name']}".strip()


def _vehicle_name(row: dict) -> str:
    if row.get("vehicle_id") is None:
        return ""
    return f"{row['vehicle_name']} ({row['vehicle_plate']})" if row["vehicle_plate"] else row["vehicle_name"]


def _hm(value: Any) -> str:
    return value.strftime("%H:%M") if hasattr(value, "strftime") else str(value)[:5]


def _date(value: date) -> str:
    """27 Sep 2027, as the pages show dates."""
    return f"{value.day} {value.strftime('%b %Y')}"


def _span(start: datetime, end: datetime) -> str:
    """from 10 Mar 2026, 08:00 to 10 Mar 2026, 17:00 (same day: 10 Mar 2026, 08:00–17:00)."""
    if start.date() == end.date():
        return f"on {_date(start.date())}, {_hm(start)}–{_hm(end)}"
    return f"from {_date(start.date())}, {_hm(start)} to {_date(end.date())}, {_hm(end)}"


def _reason(reason: str | None) -> str:
    return f" ({reason})" if reason else ""
