"""The student portal's reads (issue 8, item 3; no Flask here): the "find a slot" choices, the free slots
grouped by day, the student's upcoming and past lessons with their outcomes, and one lesson of theirs
for the cancel and reschedule pages. Writes (book, cancel, reschedule) are services/self_service.py's;
this module only decides what the pages show, with the same rule the service applies:

- a lesson can be cancelled or moved by its student while it is ``scheduled``, a lesson (exams and
  assessments are the office's) and the branch's cancellation cut-off has not passed
  (policy.cancel_allowed, wall-clock time in the branch's zone: self_service.can_change's rule, with the
  policy read once per branch instead of once per row); otherwise the page says so in words:
  "Inside the 24-hour cut-off: call Bayside on 03 9555 0101".
- every page is the signed-in student's own: another student's lesson is NotFound (404), and the office
  and instructors are PermissionDenied (403) here (the blueprint refuses them before that).

Queries: the lessons page costs a fixed number (the stored zones, a COUNT and a page for each list, one
aggregate for the totals, and the policy of each branch on the page: one for a student of one branch).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Mapping, Sequence

from app.core import clock, localtime
from app.core.database import Database
from app.core.errors import NotFound, PermissionDenied
from app.core.pagination import ListQuery, Page
from app.core.params import clean_text, parse_date, parse_id, parse_int, valid_id
from app.dao.portal import PortalDAO
from app.services import outcomes, policy as policy_service, self_service
from app.services.scope import Actor

DURATIONS = self_service.DURATIONS  # (30, 45, 60, 90, 120)
DEFAULT_DURATION = 60
LESSONS_PER_PAGE = 10
SLOT_LIMIT = self_service.NEXT_LIMIT  # free times a page lists, each a small form
NOTE_FALLBACK_BRANCH = "the office"
PICKUP_MAX = self_service.PICKUP_MAX


# ------------------------------------------------------------------------------------------ finding a slot

def bookable_instructors(db: Database, actor: Actor) -> list[dict]:
    """The instructors the student may book (self_service.allowed_instructors: their branch's)."""
    return self_service.allowed_instructors(db, actor)


def next_slots(db: Database, actor: Actor, *, duration_minutes: Any, now: datetime, settings: Mapping[str, Any],
               instructor_id: Any = None, limit: int = SLOT_LIMIT, ignore_schedule_id: int | None = None,
               allowed: list[dict] | None = None) -> list[dict]:
    """The free times the pages list: self_service.next_slots (the student's branch instructors, weeks
    already at the weekly limit left out, a reschedule's own lesson ignored; ``allowed``: the
    bookable_instructors the page has read already)."""
    return self_service.next_slots(db, actor, duration_minutes=duration_minutes, now=now, settings=settings,
                                   instructor_id=instructor_id, limit=limit, ignore_schedule_id=ignore_schedule_id,
                                   allowed=allowed)


def finder(args: Mapping[str, Any], allowed: Sequence[Mapping[str, Any]]) -> dict:
    """The "find a slot" choices from the query string: ``duration_minutes`` (one of DURATIONS, default
    60), ``instructor_id`` (one of ``allowed``, or None for all of them), ``pickup_location`` (free text
    the slot forms carry, at most 255 characters) and ``notes`` naming a value that was ignored (never an
    error: it came from a link or a hand-typed address)."""
    notes: list[str] = []
    raw = clean_text(args.get("duration_minutes"))
    duration = DEFAULT_DURATION
    if raw:
        value = parse_int(raw, 1, 10_000)
        if value in DURATIONS:
            duration = value
        else:
            notes.append(f"The duration “{raw[:20]}” was ignored: choose {_choices(DURATIONS)} minutes.")
    instructor_id = None
    raw = clean_text(args.get("instructor_id"))
    if raw:
        value = parse_id(raw)
        if value is not None and any(i["id"] == value for i in allowed):
            instructor_id = value
        else:
            notes.append("The instructor in the address was ignored: it is not one you can book with.")
    pickup = clean_text(args.get("pickup_location"), PICKUP_MAX) or None
    return {"duration_minutes": duration, "instructor_id": instructor_id, "pickup_location": pickup, "notes": notes}


def instructor_label(row: Mapping[str, Any]) -> str:
    return f"{row.get('first_name') or ''} {row.get('last_name') or ''}".strip() or "an instructor"


def slot_days(slots: Sequence[Mapping[str, Any]]) -> list[dict]:
    """The slots grouped by local day, in order: ``[{"date": date, "heading", "slots": [...]}]``; each slot
    gets ``day`` (a date), ``short_day`` ('Thu 12 Mar'), ``start_hm`` / ``end_hm`` (HH:MM) and ``value``
    (``instructor_id|date|start_time|vehicle_id``, what slot_fields reads back)."""
    days: list[dict] = []
    for slot in slots:
        day = slot.get("date")
        day = day if isinstance(day, date) else parse_date(str(day or "")[:10])
        if day is None:
            continue
        start, end = _hm(slot.get("start_time")), _hm(slot.get("end_time"))
        item = {**slot, "day": day, "start_hm": start, "end_hm": end, "short_day": short_day(day),
                "value": f"{slot.get('instructor_id')}|{day.isoformat()}|{start}|{slot.get('vehicle_id') or ''}"}
        if not days or days[-1]["date"] != day:
            days.append({"date": day, "heading": day_heading(day), "slots": []})
        days[-1]["slots"].append(item)
    return days


def day_heading(day: date) -> str:
    """'Thursday 12 March 2026' (a day's heading on the slot lists)."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def short_day(day: date) -> str:
    """'Thu 12 Mar' (in a Book button's accessible name)."""
    return f"{day:%a} {day.day} {day:%b}"


def duration_value(raw: Any) -> Any:
    """A posted lesson length as self_service takes it: ASCII digits become an int; blank stays None (a
    booking then names the missing length, a reschedule keeps the lesson's own); anything else becomes
    -1, which the service refuses by name (422 on duration_minutes)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, str):
        number = parse_int(raw.strip(), 0, 100_000)
        return number if number is not None else -1
    return raw


def slot_fields(value: Any) -> dict:
    """A Book button's value (``instructor_id|date|start_time|vehicle_id``) as booking fields; {} when it
    is not one (the service then names the missing fields)."""
    if not isinstance(value, str) or value.count("|") != 3 or len(value) > 80:
        return {}
    instructor_id, day, start, vehicle_id = value.split("|")
    return {"instructor_id": instructor_id, "date": day, "start_time": start, "vehicle_id": vehicle_id or None}


# ------------------------------------------------------------------------------------------ my lessons

def lessons(db: Database, actor: Actor, args: Mapping[str, Any], *, now: datetime,
            settings: Mapping[str, Any]) -> dict:
    """The student's lessons page: ``upcoming`` and ``past`` (Pages of LESSONS_PER_PAGE; ``upcoming_page``
    and ``page`` in the query string), each row with ``may_change`` and ``cutoff_note`` (upcoming
    scheduled lessons) and ``duration_minutes``; ``totals`` (one aggregate, with ``average_rating``)."""
    _require_student(actor)
    default_zone = _default_zone(settings)
    dao = PortalDAO(db)
    upcoming_query = _page_query({"page": args.get("upcoming_page")})
    past_query = _page_query({"page": args.get("page")})
    if not actor.student_id:  # a student account without a profile: nothing of anyone's
        empty = {"upcoming": 0, "completed": 0, "not_completed": 0, "no_show": 0, "cancelled": 0, "rated": 0,
                 "rating_sum": 0, "average_rating": None}
        return {"upcoming": Page([], 0, upcoming_query), "past": Page([], 0, past_query), "totals": empty,
                "ignored": upcoming_query.ignored + past_query.ignored}
    cutoffs = _cutoffs(dao, now, default_zone)
    upcoming = dao.lessons_page(actor.student_id, upcoming_query, cutoffs, upcoming=True)
    past = dao.lessons_page(actor.student_id, past_query, cutoffs, upcoming=False)
    policies: dict[Any, policy_service.Policy] = {}
    for row in upcoming.items:
        _decorate(db, row, now, default_zone, policies)
    for row in past.items:
        row["duration_minutes"] = _minutes(row)
    totals = dao.totals(actor.student_id, cutoffs)
    totals["average_rating"] = round(totals["rating_sum"] / totals["rated"], 1) if totals["rated"] else None
    return {"upcoming": upcoming, "past": past, "totals": totals,
            "ignored": upcoming_query.ignored + past_query.ignored}


def own_lesson(db: Database, actor: Actor, schedule_id: Any, *, now: datetime,
               settings: Mapping[str, Any]) -> dict:
    """One lesson of the signed-in student for the cancel and reschedule pages, with ``may_change``,
    ``cutoff_note``, ``duration_minutes``, ``instructor_name`` and ``policy``; NotFound (404) for
    anyone else's or a missing one, PermissionDenied (403) for another role."""
    _require_student(actor)
    if not valid_id(schedule_id) or not actor.student_id:
        raise NotFound("Not found")
    row = PortalDAO(db).lesson(schedule_id)
    if row is None or row["student_id"] != actor.student_id:
        raise NotFound("Not found")
    _decorate(db, row, now, _default_zone(settings), {})
    return row


def change_state(policy: policy_service.Policy, row: Mapping[str, Any], now: datetime,
                 default_zone: str) -> tuple[bool, str | None]:
    """(may the student cancel or move it, the note shown instead when not). Only a scheduled lesson that
    has not started; the cut-off is the branch policy's (wall-clock, policy.cancel_allowed)."""
    if row.get("status") != "scheduled":
        return False, None
    if (row.get("event_type") or "lesson") != "lesson":  # self_service: exams and assessments are the office's
        return False, f"Exams and assessments are changed by the office: {_who(row)}."
    start = outcomes.start_instant(row, default_zone)
    if start is None or start <= now:
        return False, "This lesson has started."
    zone = localtime.zone_for(row.get("branch_timezone"), default_zone)
    if policy_service.cancel_allowed(policy, start, now, zone):
        return True, None
    return False, cutoff_note(policy, row)


def cutoff_note(policy: policy_service.Policy, row: Mapping[str, Any]) -> str:
    """'Inside the 24-hour cut-off: call Bayside on 03 9555 0101.' (the branch's name and phone)."""
    return f"Inside the {cutoff_words(policy.cancel_cutoff_minutes)} cut-off: {_who(row)} to change it."


def _who(row: Mapping[str, Any]) -> str:
    branch = row.get("branch_name") or NOTE_FALLBACK_BRANCH
    phone = (row.get("branch_phone") or "").strip()
    return f"call {branch} on {phone}" if phone else f"call {branch}"


def cutoff_words(minutes: int) -> str:
    """'24-hour', '90-minute', '2-day'."""
    if minutes and minutes % 1440 == 0 and minutes > 1440:
        return f"{minutes // 1440}-day"
    if minutes and minutes % 60 == 0:
        return f"{minutes // 60}-hour"
    return f"{minutes}-minute"


# ------------------------------------------------------------------------------------------ helpers

def _require_student(actor: Actor) -> None:
    if actor.role != "student":
        raise PermissionDenied("These pages are for students.")


def _decorate(db: Database, row: dict, now: datetime, default_zone: str,
              policies: dict[Any, policy_service.Policy]) -> None:
    branch = row.get("branch_id")
    if branch not in policies:
        policies[branch] = policy_service.for_branch(db, branch)
    policy = policies[branch]
    row["may_change"], row["cutoff_note"] = change_state(policy, row, now, default_zone)
    row["duration_minutes"] = _minutes(row)
    row["instructor_name"] = instructor_label({"first_name": row.get("instructor_first_name"),
                                               "last_name": row.get("instructor_last_name")})
    row["policy"] = policy


def _cutoffs(dao: PortalDAO, now: datetime, default_zone: str) -> list[tuple]:
    out = [(None, *_local(now, localtime.zone_for(None, default_zone)))]
    out += [(name, *_local(now, localtime.zone_for(name, default_zone))) for name in dao.branch_zones()]
    return out


def _local(now: datetime, zone) -> tuple[date, time]:
    wall = localtime.from_utc_naive(now, zone).replace(tzinfo=None)
    return wall.date(), wall.time().replace(microsecond=0)


def _page_query(args: Mapping[str, Any]) -> ListQuery:
    query = ListQuery.from_args({k: v for k, v in args.items() if v is not None}, ("date",), "date")
    return ListQuery(sort="date", page=query.page, per_page=LESSONS_PER_PAGE, ignored=query.ignored)


def _default_zone(settings: Mapping[str, Any]) -> str:
    return settings.get("APP_TIMEZONE") or clock.timezone_name()


def _as_minutes(value: Any) -> int | None:
    if isinstance(value, timedelta):
        return int(value.total_seconds() // 60)
    if isinstance(value, time):
        return value.hour * 60 + value.minute
    return None


def _minutes(row: Mapping[str, Any]) -> int | None:
    start, end = _as_minutes(row.get("start_time")), _as_minutes(row.get("end_time"))
    return end - start if start is not None and end is not None and end > start else None


def _hm(value: Any) -> str:
    if hasattr(value, "strftime"):
        return value.strftime("%H:%M")
    return str(value or "")[:5]


def _choices(values: Sequence[int]) -> str:
    return ", ".join(str(v) for v in values[:-1]) + f" or {values[-1]}"
