"""Reads for one event's pages (no Flask): the booking form's prefill and option lists, and the event page.

Every read is scoped to the actor: the booking form lists only the people and cars of a branch the
office actor may book in (admin: the chosen branch; staff: their own), and a prefill value from the
query string that names anything else is simply not used (never an error: it came from a link). The
event page opens for admin (any event), staff (their branch's), the event's own instructor and its own
student; anything else is NotFound (404). Writes go through services/scheduling.py (book, preview, move,
cancel), the one booking service with the one conflict engine.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping

from app.core import localtime
from app.core.database import Database
from app.core.errors import NotFound, ValidationFailed
from app.core.params import clean_text, parse_date, parse_id
from app.dao.branch import BranchDAO
from app.dao.event import EventDAO
from app.services import figure_cache, outcomes
from app.services.scheduling import EVENT_TYPES
from app.services.scope import Actor

# The student choice is a search (the form's "Find a student"): one page of matches, like every picker
# (services/pickers.py PER_PAGE), so the form stays small whatever the size of the branch.
STUDENT_OPTIONS_MAX = 25
# A branch's first STUDENT_OPTIONS_MAX students by name (the form before anything is typed) sorts every
# student of the branch with an active enrolment: 5,000 at scale L, 16 ms. It is kept per branch while
# the data version has not moved (figure_cache: any audited change, such as a new student or enrolment,
# computes it again) and for at most FIGURE_CACHE_SECONDS; a search is always read afresh.
DEFAULT_STUDENTS = figure_cache.FigureCache(max_entries=256)
DEFAULT_LENGTH = timedelta(minutes=60)
# The original's UI labels: an exam is a VicRoads driving test.
EVENT_LABELS = {"lesson": "Lesson", "exam": "VicRoads Exam", "assessment": "Assessment"}
HEADINGS = {"lesson": "Lesson", "exam": "Exam", "assessment": "Assessment"}
PREFILL_IDS = ("instructor_id", "student_id", "vehicle_id", "branch_id")
VEHICLE_STATUS = {"maintenance": "in maintenance", "in_service": "away for servicing"}
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])", re.ASCII)


# ------------------------------------------------------------------------------------------ booking form

def booking_options(db: Database, actor: Actor, *, branch_id: Any = None, student_q: Any = "",
                    student_id: Any = None, instructor_id: Any = None,
                    settings: Mapping[str, Any] | None = None) -> dict:
    """The booking form's lists for one branch: ``branch`` (id, name; an admin who has not chosen one gets
    the first branch) or None (a staff member without a branch, a school without branches), ``branches`` (admin: all, to choose from), the
    branch's ``students`` with an active enrolment (at most STUDENT_OPTIONS_MAX, narrowed by
    ``student_q``; ``students_more`` when more match; ``student_id`` stays listed when it is one of
    them), its active ``instructors`` and its ``vehicles``. Staff always get their own branch. With
    ``settings`` (FIGURE_CACHE_SECONDS) the list before a search is kept (DEFAULT_STUDENTS)."""
    if not actor.is_office:
        raise NotFound("Not found")
    branches = BranchDAO(db).options(actor.branch_filter())
    wanted = parse_id(branch_id) if actor.is_admin else actor.branch_id
    branch = next((b for b in branches if b["id"] == wanted), None)
    if branch is None and actor.is_admin and branches:
        branch = branches[0]  # an admin starts in the first branch and may switch (as on the calendar)
    query = clean_text(student_q)
    out = {"branch": branch, "branches": branches if actor.is_admin else [], "student_q": query,
           "students": [], "students_more": False, "instructors": [], "vehicles": []}
    if branch is None:
        return out
    dao = EventDAO(db)
    include_id = parse_id(student_id)
    if query:
        rows = dao.student_options(branch["id"], query, include_id=include_id, limit=STUDENT_OPTIONS_MAX + 1)
    else:
        kept, _ = DEFAULT_STUDENTS.get(
            branch["id"], lambda: figure_cache.data_version(db),
            lambda: {"rows": dao.student_options(branch["id"], "", limit=STUDENT_OPTIONS_MAX + 1)},
            unchanged_seconds=figure_cache.max_age(settings))
        rows = list(kept["rows"])
        if include_id is not None:  # the chosen student first, so the limit below never drops them
            chosen = [r for r in rows if r["id"] == include_id] or dao.student_options(
                branch["id"], "", include_id=include_id, limit=1, only_include=True)
            rows = chosen + [r for r in rows if r["id"] != include_id]
    out["students_more"] = len(rows) > STUDENT_OPTIONS_MAX
    rows = sorted(rows[:STUDENT_OPTIONS_MAX], key=lambda r: (r["last_name"].lower(), r["first_name"].lower(), r["id"]))
    out["students"] = [{"id": r["id"], "label": f"{r['last_name']}, {r['first_name']} ({r['email']})"} for r in rows]
    out["instructors"] = _instructor_choices(dao.instructor_options(branch["id"], include_id=parse_id(instructor_id)))
    out["vehicles"] = _vehicle_choices(dao.vehicle_options(branch["id"]))
    return out


def prefill(db: Database, actor: Actor, args: Mapping[str, Any], settings: Mapping[str, Any] | None = None) -> dict:
    """The booking form opened from a calendar slot: ``values`` (instructor_id, student_id, vehicle_id,
    branch_id, event_type, date, start_time, end_time; the end defaults to an hour after the start) and
    the option lists (booking_options). A value that is malformed, unknown or outside the actor's scope
    is left out. An admin's branch is the given one, else the branch of the given instructor, student
    or vehicle."""
    if not actor.is_office:
        raise NotFound("Not found")
    ids = {name: parse_id(_one(args, name)) for name in PREFILL_IDS}
    branch_id = ids["branch_id"]
    if actor.is_admin and branch_id is None and any(ids[n] for n in ("instructor_id", "student_id", "vehicle_id")):
        found = EventDAO(db).party_branches(ids["instructor_id"], ids["student_id"], ids["vehicle_id"])
        branch_id = (found.get("instructor_branch_id") or found.get("student_branch_id")
                     or found.get("vehicle_branch_id"))
    options = booking_options(db, actor, branch_id=branch_id, student_q=_one(args, "student_q") or "",
                              student_id=ids["student_id"], instructor_id=ids["instructor_id"], settings=settings)
    listed = {name: {o["id"] for o in options[key]}
              for name, key in (("student_id", "students"), ("instructor_id", "instructors"),
                                ("vehicle_id", "vehicles"))}
    values: dict[str, Any] = {name: (ids[name] if ids[name] in listed[name] else None) for name in listed}
    values["branch_id"] = options["branch"]["id"] if options["branch"] else None
    event_type = _one(args, "event_type")
    values["event_type"] = event_type if event_type in EVENT_TYPES else "lesson"
    day = parse_date(_one(args, "date"))
    values["date"] = day.isoformat() if day else None
    start, end = _hhmm(_one(args, "start_time")), _hhmm(_one(args, "end_time"))
    if start is not None and (end is None or end <= start):
        later = datetime.combine(date.min, start) + DEFAULT_LENGTH
        end = later.time() if later.date() == date.min else None
    values["start_time"] = start.strftime("%H:%M") if start else None
    values["end_time"] = end.strftime("%H:%M") if end else None
    return {"values": values, **options}


def label(event_type: Any) -> str:
    """'Lesson', 'VicRoads Exam' or 'Assessment' (a lesson when unknown)."""
    return EVENT_LABELS.get(event_type, "Lesson") if isinstance(event_type, str) else "Lesson"


def noun(event_type: Any) -> str:
    """'Lesson', 'Exam' or 'Assessment' (as in "Exam with Jack Mason"; a lesson when unknown)."""
    return HEADINGS.get(event_type, "Lesson") if isinstance(event_type, str) else "Lesson"


def when(day: Any, start: Any, end: Any) -> str:
    """'Tue 13 Mar 2030, 09:00–10:00' (for flash messages); '' without a real date."""
    parsed = parse_date(day)
    return f"{_day(parsed)}, {_hm(start)}–{_hm(end)}" if parsed else ""


# ------------------------------------------------------------------------------------------ event page

def get_event(db: Database, actor: Actor, schedule_id: Any) -> dict:
    """The event with every name joined in, when ``actor`` may see it: admin any, staff their branch's
    (the event's branch, else its student's), an instructor their own lessons, a student their own;
    NotFound otherwise."""
    if parse_id(schedule_id) is None or not isinstance(schedule_id, int):
        raise NotFound("Not found")
    row = EventDAO(db).event(schedule_id)
    if row is None or not _may_see(actor, row):
        raise NotFound("Not found")
    return row


def event_page(db: Database, actor: Actor, schedule_id: Any, *, now: datetime,
               settings: Mapping[str, Any]) -> dict:
    """Everything the event page shows: ``event`` (the row plus ``label``, ``noun``, ``heading``, ``zone``,
    ``zone_label`` and the people's display names), ``outcome_event`` (the outcome panel's keys),
    ``can_record``, ``can_change`` (office: move and cancel a scheduled event), ``reminders`` (office: the
    event's reminder rows, ``due_local`` in the branch's zone) and the move form's
    ``instructors`` and ``vehicles`` of the event's branch. A fixed number of queries."""
    event = get_event(db, actor, schedule_id)
    default_zone = settings.get("APP_TIMEZONE") or "Australia/Melbourne"
    zone = localtime.zone_for(event["branch_timezone"], default_zone)
    event_type = event["event_type"] or "lesson"
    event.update(
        event_type=event_type, label=label(event_type), noun=noun(event_type).lower(),
        student_name=_name(event, "student"), instructor_name=_name(event, "instructor"),
        vehicle_label=_vehicle_label(event["vehicle_name"], event["vehicle_plate"]),
        cancelled_by_name=_name(event, "cancelled_by"), marked_by_name=_name(event, "marked_by"),
        branch_ref=event["branch_id"] if event["branch_id"] is not None else event["student_branch_id"],
        zone=zone.key, zone_label=_zone_label(event["scheduled_date"], event["start_time"], zone),
    )
    event["heading"] = f"{noun(event_type)} with {event['student_name'] or 'a student'}"
    can_change = actor.is_office and event["status"] == "scheduled"
    instructors: list[dict] = []
    vehicles: list[dict] = []
    reminders = EventDAO(db).reminders(event["id"]) if actor.is_office else []
    for reminder in reminders:  # send_at is naive UTC: shown in the branch's zone
        due = reminder["send_at"]
        reminder["due_local"] = localtime.from_utc_naive(due, zone).replace(tzinfo=None) if due else None
    if can_change and event["branch_ref"] is not None:
        dao = EventDAO(db)
        instructors = _instructor_choices(dao.instructor_options(event["branch_ref"],
                                                                 include_id=event["instructor_id"]))
        vehicles = _vehicle_choices(dao.vehicle_options(event["branch_ref"]))
    return {
        "event": event,
        "outcome_event": {
            "id": event["id"], "status": event["status"], "event_type": event_type,
            "scheduled_date": event["scheduled_date"], "start_time": event["start_time"],
            "end_time": event["end_time"], "student_rating": event["student_rating"],
            "student_feedback": event["student_feedback"], "notes": event["notes"],
            "completion_marked_at": event["completion_marked_at"],
            "completion_marked_by_name": event["marked_by_name"] or None,
            "branch_id": event["branch_id"], "student_branch_id": event["student_branch_id"],
            "instructor_id": event["instructor_id"], "branch_timezone": event["branch_timezone"],
        },
        # the outcome service's rule: the office in scope or the lesson's own instructor, not cancelled, started
        "can_record": outcomes.can_record(actor, event, now, default_zone),
        "can_change": can_change,
        "reminders": reminders,
        "instructors": instructors,
        "vehicles": vehicles,
    }


# ------------------------------------------------------------------------------------------ helpers

def _may_see(actor: Actor, row: Mapping[str, Any]) -> bool:
    if actor.is_admin:
        return True
    if actor.role == "staff":
        branch = row["branch_id"] if row["branch_id"] is not None else row["student_branch_id"]
        return branch is not None and branch == actor.branch_filter()
    if actor.role == "instructor":
        return actor.instructor_id is not None and row["instructor_id"] == actor.instructor_id
    if actor.role == "student":
        return actor.student_id is not None and row["student_id"] == actor.student_id
    return False


def _instructor_choices(rows: list[dict]) -> list[dict]:
    return [{"id": r["id"], "label": f"{r['first_name']} {r['last_name']}"
             + (" (archived)" if r.get("status") == "archived" else "")} for r in rows]


def _vehicle_choices(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        text = _vehicle_label(r["name"], r["plate_number"])
        if r["status"] in VEHICLE_STATUS:
            text += f" – {VEHICLE_STATUS[r['status']]}"
        out.append({"id": r["id"], "label": text})
    return out


def _vehicle_label(name: str | None, plate: str | None) -> str:
    if not name:
        return ""
    return f"{name} ({plate})" if plate else name


def _name(row: Mapping[str, Any], who: str) -> str:
    return f"{row.get(f'{who}_first_name') or ''} {row.get(f'{who}_last_name') or ''}".strip()


def _one(args: Mapping[str, Any], name: str) -> Any:
    value = args.get(name)
    return value if isinstance(value, str) else None


def _hhmm(value: Any) -> time | None:
    match = _HHMM.fullmatch(value.strip()) if isinstance(value, str) else None
    return time(int(match.group(1)), int(match.group(2))) if match else None


def _zone_label(day: date, start: time, zone) -> str:
    """'AEDT' (the zone's abbreviation at the event's start), else the zone's name."""
    try:
        return localtime.localize(day, start, zone).tzname() or zone.key
    except ValidationFailed:
        return zone.key


def _day(value: date) -> str:
    return f"{value.strftime('%a')} {value.day} {value.strftime('%b %Y')}"


def _hm(value: Any) -> str:
    if hasattr(value, "strftime"):
        return value.strftime("%H:%M")
    return str(value or "")[:5]
