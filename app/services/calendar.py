"""The calendar pages' data: a week per instructor, student or vehicle, a branch's day with one lane per
instructor, a month overview and an instructor's printable day sheet (no Flask here; reads only).

Scope mirrors ``services/scheduling.list_events``: admin sees everything; staff their branch (an
instructor, student, vehicle or branch of another branch is NotFound, 404); an instructor only their own
calendar and day sheet; a student only their own week and month (read-only). An event of another branch
that turns up in a visible calendar (an instructor of this branch teaching elsewhere) is shown as "Busy",
without names or a link, so the slot still reads as taken.

Parameters arrive as text (the query string). A malformed id is an ``AppError`` (400) naming it; a date
or month that is not a real one is ignored and named in ``notes`` (the page shows today instead).

Layout: a column (one day of a week, or one instructor's lane of a day) is a CSS grid of 15-minute rows
from ``Grid.start`` (06:00, earlier when an event starts earlier) to ``Grid.end`` (21:00, or later). Each
event, shading (outside working hours, unavailable, closed, downtime, the hour a clock change skips)
and bookable slot carries ``row`` (1-based start row) and ``span`` (rows), which the templates turn into
``cal-from-N`` / ``cal-span-N`` classes (static/css/calendar.css): no inline styles under the CSP.
Times are the stored wall-clock values in the branch's zone; a lesson across a clock change is shown
with the times it was booked at.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo
from urllib.parse import urlencode

from app.core import localtime
from app.core.database import Database
from app.core.errors import AppError, NotFound, ValidationFailed
from app.core.pagination import ListQuery, Page
from app.core.params import MAX_DATE, MIN_DATE, clean_text, parse_date, parse_id, parse_int
from app.dao.branch import BranchDAO
from app.dao.calendar import MAX_EVENTS, CalendarDAO
from app.services.conflicts import LIVE_STATUSES
from app.services.scope import Actor

STEP = 15                      # minutes per grid row
DAY_START, DAY_END = 6 * 60, 21 * 60
SLOT_LENGTH = 60               # a slot link books start .. start + 60 minutes
MIN_SLOT = 30                  # shorter free gaps get no link
MAX_COLUMNS = 4                # overlapping events side by side in one column, at most
LANES_PER_PAGE = 25  # a day page of a big branch: 25 instructors (50 made 330 KB at scale L)
PICKER_LIMIT = 500
MONTH_FIRSTS = 3               # events listed per month cell
STATUSES = ("scheduled", "completed", "cancelled", "not_completed", "no_show")
STATUS_LABELS = {"scheduled": "Scheduled", "completed": "Completed", "cancelled": "Cancelled",
                 "not_completed": "Not completed", "no_show": "No-show"}
TYPE_LABELS = {"lesson": "Lesson", "exam": "Exam", "assessment": "Assessment"}
SUBJECTS = ("instructor", "student", "vehicle")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})", re.ASCII)


# ------------------------------------------------------------------------------------------ shapes

@dataclass(frozen=True)
class Grid:
    """The time range of a page's columns, in minutes after midnight (whole hours)."""

    start: int = DAY_START
    end: int = DAY_END

    @property
    def rows(self) -> int:
        return (self.end - self.start) // STEP

    def row(self, minute: int) -> int:
        """The 1-based row where ``minute`` starts (clamped into the grid)."""
        return max(0, min(self.rows - 1, (minute - self.start) // STEP)) + 1

    def span(self, start: int, end: int) -> int:
        """How many rows [start, end) covers (at least one)."""
        first, last = max(start, self.start), min(end, self.end)
        return max(1, -(-(last - first) // STEP))

    @property
    def hours(self) -> list[dict]:
        return [{"label": f"{m // 60:02d}:00", "row": self.row(m)} for m in range(self.start, self.end, 60)]


@dataclass
class Column:
    """One day of a week, or one lane (instructor) of a day."""

    day: date
    is_today: bool = False
    lane: dict | None = None
    events: list[dict] = field(default_factory=list)
    shades: list[dict] = field(default_factory=list)
    slots: list[dict] = field(default_factory=list)
    columns: int = 1
    closed_all_day: bool = False


# ------------------------------------------------------------------------------------------ pages

def week(db: Database, actor: Actor, args: Mapping[str, Any], *, now: datetime,
         settings: Mapping[str, Any]) -> dict:
    """A Monday-first week of one instructor, student or vehicle (``instructor_id`` / ``student_id`` /
    ``vehicle_id``; for the office without one: the first instructor of ``branch_id`` or their branch)."""
    dao = CalendarDAO(db)
    notes: list[str] = []
    page = _subject_page(db, actor, args, "week", _default_zone(settings))
    if page.get("empty"):
        return page
    kind, subject = page["kind"], page["subject"]
    zone = page["zone_info"]
    today = localtime.from_utc_naive(now, zone).date()
    anchor = _date_arg(args, "date", today, notes)
    start = anchor - timedelta(days=anchor.weekday())
    end = start + timedelta(days=6)
    events = dao.events(start, end, **_subject_filter(kind, subject["id"]))
    grid = _grid_for(events)
    hours, windows, opening = _shading_sources(
        db, [subject["id"]] if kind == "instructor" else [], subject["id"] if kind == "vehicle" else None,
        subject.get("branch_id") if actor.role != "student" else None, start, end)  # a student does not book
    now_local = localtime.from_utc_naive(now, zone).replace(tzinfo=None)
    can_book = actor.is_office
    columns = []
    for offset in range(7):
        current = start + timedelta(days=offset)
        columns.append(_column(
            current, [e for e in events if e["scheduled_date"] == current], grid, actor, zone, now_local, today,
            hours=hours.get(subject["id"]) if kind == "instructor" else None,
            windows=windows.get(subject["id"], []) if kind == "instructor" else windows.get("vehicle", []),
            window_kind="unavailable" if kind == "instructor" else "downtime",
            opening=opening, counterpart="instructor" if kind == "student" else "student",
            prefill=_prefill(kind, subject) if can_book else None))
    page.update(
        view="week", today=today, date=anchor, start=start, end=end, prev=anchor - timedelta(days=7),
        next=anchor + timedelta(days=7), grid=grid, columns=columns, notes=notes, can_book=can_book,
        truncated=len(events) >= MAX_EVENTS,
        picker=(dao.lanes(subject["branch_id"], limit=PICKER_LIMIT)
                if actor.is_office and subject.get("branch_id") is not None else []),
    )
    return page


def day(db: Database, actor: Actor, args: Mapping[str, Any], *, now: datetime,
        settings: Mapping[str, Any]) -> dict:
    """A branch's day, one lane per active instructor (``branch_id``; default: the staff member's branch,
    the first branch for admin), LANES_PER_PAGE lanes a page; or one instructor's day (``instructor_id``;
    an instructor sees only their own)."""
    dao = CalendarDAO(db)
    notes: list[str] = []
    default_zone = _default_zone(settings)
    instructor_id = _id_arg(args, "instructor_id")
    branch_id = _id_arg(args, "branch_id")
    if instructor_id is not None and branch_id is not None:
        raise AppError("Choose a branch or an instructor, not both.", field="branch_id")
    if actor.role == "instructor":
        if branch_id is not None or instructor_id not in (None, actor.instructor_id):
            raise NotFound("Not found")
        instructor_id = actor.instructor_id
        if instructor_id is None:
            return _notice("day", "Your account has no instructor profile yet. Ask the office to complete it.")
    elif not actor.is_office:
        raise NotFound("Not found")

    if instructor_id is not None:
        row = _visible_subject(db, actor, "instructor", instructor_id)
        branch = dao.branch(row["branch_id"]) if row["branch_id"] is not None else None
        lanes = [{"id": row["id"], "first_name": row["first_name"], "last_name": row["last_name"],
                  "phone": row["phone"]}]
        lane_page = None
        title, kind, subject = _name(row), "instructor", row
    else:
        if actor.lacks_branch:
            return _notice("day", None, no_branch=True)
        branch_id = _office_branch(db, actor, branch_id)
        if branch_id is None:
            return _notice("day", "There are no branches yet.")
        branch = dao.branch(branch_id)
        if branch is None:
            raise NotFound("Not found")
        page_number = _page_arg(args, notes)
        total = dao.lane_count(branch_id)
        pages = max(1, -(-total // LANES_PER_PAGE))
        page_number = min(page_number, pages)
        query = ListQuery(sort="name", page=page_number, per_page=LANES_PER_PAGE)
        lanes = dao.lanes(branch_id, limit=LANES_PER_PAGE, offset=query.offset)
        lane_page = Page(items=lanes, total=total, query=query)
        title, kind, subject = branch["name"], "branch", branch
    zone = localtime.zone_for(branch["branch_timezone"] if branch else None, default_zone)
    today = localtime.from_utc_naive(now, zone).date()
    the_day = _date_arg(args, "date", today, notes)
    lane_ids = [lane["id"] for lane in lanes]
    events = dao.events(the_day, the_day, instructor_ids=lane_ids)
    grid = _grid_for(events)
    hours, windows, opening = _shading_sources(db, lane_ids, None, branch["id"] if branch else None,
                                               the_day, the_day)
    now_local = localtime.from_utc_naive(now, zone).replace(tzinfo=None)
    can_book = actor.is_office
    columns = []
    for lane in lanes:
        prefill = None
        if can_book:
            prefill = {"instructor_id": lane["id"]}
            if branch is not None:
                prefill["branch_id"] = branch["id"]
        column = _column(the_day, [e for e in events if e["instructor_id"] == lane["id"]], grid, actor, zone,
                         now_local, today, hours=hours.get(lane["id"]), windows=windows.get(lane["id"], []),
                         window_kind="unavailable", opening=opening, counterpart="student", prefill=prefill)
        column.lane = {**lane, "name": _name(lane)}
        columns.append(column)
    return {
        "view": "day", "kind": kind, "subject": subject, "title": title, "branch": branch,
        "branch_id": branch["id"] if branch else None,
        "zone": zone.key, "today": today, "date": the_day, "start": the_day, "end": the_day,
        "prev": the_day - timedelta(days=1), "next": the_day + timedelta(days=1), "grid": grid,
        "columns": columns, "lane_page": lane_page, "notes": notes, "can_book": can_book,
        "truncated": len(events) >= MAX_EVENTS, "notice": None, "no_branch": False,
        "closed_all_day": bool(opening is not None and not _periods(opening, the_day.weekday())),
        "branches": BranchDAO(db).options() if actor.is_admin else [],
    }


def month(db: Database, actor: Actor, args: Mapping[str, Any], *, now: datetime,
          settings: Mapping[str, Any]) -> dict:
    """A Monday-first month (``month=YYYY-MM``) of one instructor, student, vehicle or branch (the events of
    its instructors): per day the number of live events (an aggregate) and the first MONTH_FIRSTS."""
    dao = CalendarDAO(db)
    notes: list[str] = []
    default_zone = _default_zone(settings)
    ids = {kind: _id_arg(args, f"{kind}_id") for kind in (*SUBJECTS, "branch")}
    given = [kind for kind, value in ids.items() if value is not None]
    if len(given) > 1:
        raise AppError("Choose one of instructor_id, student_id, vehicle_id or branch_id.", field=f"{given[1]}_id")
    kind = given[0] if given else None
    subject_id = ids[kind] if kind else None
    if actor.role == "instructor":
        if kind not in (None, "instructor") or subject_id not in (None, actor.instructor_id):
            raise NotFound("Not found")
        kind, subject_id = "instructor", actor.instructor_id
        if subject_id is None:
            return _notice("month", "Your account has no instructor profile yet. Ask the office to complete it.")
    elif actor.role == "student":
        if kind not in (None, "student") or subject_id not in (None, actor.student_id):
            raise NotFound("Not found")
        kind, subject_id = "student", actor.student_id
        if subject_id is None:
            return _notice("month", "Your account has no student profile yet. Ask the office to complete it.")
    elif not actor.is_office:
        raise NotFound("Not found")
    elif kind in (None, "branch"):
        if actor.lacks_branch:
            return _notice("month", None, no_branch=True)
        subject_id = _office_branch(db, actor, subject_id)
        if subject_id is None:
            return _notice("month", "There are no branches yet.")
        kind = "branch"

    if kind == "branch":
        subject = dao.branch(subject_id)
        if subject is None:
            raise NotFound("Not found")
        title, branch_row = subject["name"], subject
    else:
        subject = _visible_subject(db, actor, kind, subject_id)
        title = _subject_title(kind, subject)
        branch_row = subject
    zone = localtime.zone_for(branch_row.get("branch_timezone"), default_zone)
    today = localtime.from_utc_naive(now, zone).date()
    first = _month_arg(args, today, notes)
    last = _month_end(first)
    start = first - timedelta(days=first.weekday())
    end = last + timedelta(days=6 - last.weekday())
    filters: dict[str, Any] = ({"instructor_ids": dao.branch_instructor_ids(subject_id)} if kind == "branch"
                               else _subject_filter(kind, subject_id))
    rows = dao.month_days(start, end, LIVE_STATUSES, per_day=MONTH_FIRSTS, **filters)
    counterpart = "instructor" if kind == "student" else "student"
    by_day: dict[date, list[dict]] = {}
    counts: dict[date, int] = {}
    for row in rows:
        by_day.setdefault(row["scheduled_date"], []).append(_present(row, actor, counterpart))
        counts[row["scheduled_date"]] = int(row["day_count"] or 0)
    weeks = []
    for n in range((end - start).days // 7 + 1):
        days = []
        for offset in range(7):
            current = start + timedelta(days=7 * n + offset)
            shown = by_day.get(current, [])
            count = counts.get(current, 0)
            days.append({"day": current, "in_month": current.month == first.month, "is_today": current == today,
                         "count": count, "events": shown, "more": max(0, count - len(shown))})
        weeks.append(days)
    previous = _month_start(first - timedelta(days=1))
    return {
        "view": "month", "kind": kind, "subject": subject, "title": title,
        "branch_id": subject_id if kind == "branch" else subject.get("branch_id"),
        "zone": zone.key, "today": today, "date": first if not (first <= today <= last) else today,
        "month": first, "month_label": f"{first.strftime('%B')} {first.year}", "start": start, "end": end, "prev": previous, "next": last + timedelta(days=1),
        "weeks": weeks, "notes": notes, "can_book": actor.is_office, "notice": None, "no_branch": False,
        "total": sum(counts.values()),
        "branches": BranchDAO(db).options() if actor.is_admin and kind == "branch" else [],
    }


def sheet(db: Database, actor: Actor, args: Mapping[str, Any], *, now: datetime,
          settings: Mapping[str, Any]) -> dict:
    """An instructor's printable day sheet (``instructor_id``, ``date``): every event of the day that is
    not cancelled, in time order, with the student's phone, the pick-up point, the car, course, topic and
    notes. Instructors get their own; the office an instructor in scope (default: the branch's first)."""
    dao = CalendarDAO(db)
    notes: list[str] = []
    if _id_arg(args, "student_id") is not None or _id_arg(args, "vehicle_id") is not None:
        raise AppError("The day sheet is an instructor's: give instructor_id.", field="instructor_id")
    page = _subject_page(db, actor, {k: v for k, v in args.items() if k in ("instructor_id", "branch_id")},
                         "sheet", _default_zone(settings))
    if page.get("empty"):
        return page
    subject = page["subject"]
    zone = page["zone_info"]
    today = localtime.from_utc_naive(now, zone).date()
    the_day = _date_arg(args, "date", today, notes)
    rows = dao.events(the_day, the_day, instructor_ids=[subject["id"]])
    events = [_present(r, actor, "student") for r in rows if r["status"] != "cancelled"]
    page.update(view="sheet", today=today, date=the_day, start=the_day, end=the_day,
                prev=the_day - timedelta(days=1), next=the_day + timedelta(days=1), events=events,
                cancelled=sum(1 for r in rows if r["status"] == "cancelled"), notes=notes)
    return page


def default_view(actor: Actor) -> str:
    """The calendar a role opens on: the branch's day for the office, the own week otherwise."""
    return "day" if actor.is_office else "week"


def legend(view: str | None = None) -> dict:
    """The colour key: every status (the month lists live events only), the marked types."""
    statuses = LIVE_STATUSES if view == "month" else STATUSES
    return {"statuses": [(s, STATUS_LABELS[s]) for s in STATUSES if s in statuses],
            "types": [(t, TYPE_LABELS[t]) for t in TYPE_LABELS]}


# ------------------------------------------------------------------------------------------ subjects and scope

def _subject_page(db: Database, actor: Actor, args: Mapping[str, Any], view: str, default_zone: str) -> dict:
    """Resolve the week's / sheet's subject within scope; a page dict (``notice`` set when there is none)."""
    ids = {kind: _id_arg(args, f"{kind}_id") for kind in SUBJECTS}
    branch_id = _id_arg(args, "branch_id")
    given = [kind for kind, value in ids.items() if value is not None]
    if len(given) > 1:
        raise AppError("Choose one of instructor_id, student_id or vehicle_id.", field=f"{given[1]}_id")
    kind = given[0] if given else None
    subject_id = ids[kind] if kind else None
    if kind is not None and branch_id is not None:
        raise AppError("Choose a branch or a person or a vehicle, not both.", field="branch_id")
    if actor.role == "instructor":
        if branch_id is not None or kind not in (None, "instructor") or subject_id not in (None, actor.instructor_id):
            raise NotFound("Not found")
        kind, subject_id = "instructor", actor.instructor_id
        if subject_id is None:
            return _notice(view, "Your account has no instructor profile yet. Ask the office to complete it.")
    elif actor.role == "student":
        if branch_id is not None or kind not in (None, "student") or subject_id not in (None, actor.student_id):
            raise NotFound("Not found")
        kind, subject_id = "student", actor.student_id
        if subject_id is None:
            return _notice(view, "Your account has no student profile yet. Ask the office to complete it.")
    elif not actor.is_office:
        raise NotFound("Not found")
    elif kind is None:
        if actor.lacks_branch:
            return _notice(view, None, no_branch=True)
        branch_id = _office_branch(db, actor, branch_id)
        first = CalendarDAO(db).lanes(branch_id, limit=1) if branch_id is not None else []
        if not first:
            return _notice(view, "This branch has no active instructors yet.", branch_id=branch_id)
        kind, subject_id = "instructor", first[0]["id"]
    subject = _visible_subject(db, actor, kind, subject_id)
    zone = localtime.zone_for(subject.get("branch_timezone"), default_zone)
    return {"kind": kind, "subject": subject, "title": _subject_title(kind, subject), "zone_info": zone,
            "zone": zone.key, "branch_id": subject.get("branch_id"), "notice": None, "no_branch": False}


def _visible_subject(db: Database, actor: Actor, kind: str, subject_id: int) -> dict:
    """The instructor, student or vehicle when ``actor`` may see its calendar, else NotFound."""
    dao = CalendarDAO(db)
    row = {"instructor": dao.instructor, "student": dao.student, "vehicle": dao.vehicle}[kind](subject_id)
    if row is None:
        raise NotFound("Not found")
    if actor.is_admin:
        return row
    if actor.role == "staff":
        if actor.branch_id is None or row["branch_id"] != actor.branch_id:
            raise NotFound("Not found")
        return row
    if actor.role == "instructor" and kind == "instructor" and row["id"] == actor.instructor_id:
        return row
    if actor.role == "student" and kind == "student" and row["id"] == actor.student_id:
        return row
    raise NotFound("Not found")


def _office_branch(db: Database, actor: Actor, branch_id: int | None) -> int | None:
    """The branch an office calendar shows: staff their own (another is NotFound), admin the given one or
    the first by name."""
    if actor.is_admin:
        if branch_id is None:
            return CalendarDAO(db).first_branch_id()
        if CalendarDAO(db).branch(branch_id) is None:
            raise NotFound("Not found")
        return branch_id
    if branch_id is not None and branch_id != actor.branch_id:
        raise NotFound("Not found")
    return actor.branch_id


def _event_visible(row: Mapping[str, Any], actor: Actor) -> bool:
    """May ``actor`` see this event's names and open it? (The rule of scheduling.get_schedule and
    list_events: staff the events of their branch, the booking's branch or else the student's.)"""
    if actor.is_admin:
        return True
    if actor.role == "staff":
        branch = row["branch_id"] if row["branch_id"] is not None else row["student_branch_id"]
        return actor.branch_id is not None and branch == actor.branch_id
    if actor.role == "instructor":
        return row["instructor_id"] == actor.instructor_id
    if actor.role == "student":
        return row["student_id"] == actor.student_id
    return False


def _subject_filter(kind: str, subject_id: int) -> dict:
    if kind == "instructor":
        return {"instructor_ids": [subject_id]}
    return {f"{kind}_id": subject_id}


def _prefill(kind: str, subject: Mapping[str, Any]) -> dict:
    prefill = {f"{kind}_id": subject["id"]}
    if subject.get("branch_id") is not None:
        prefill["branch_id"] = subject["branch_id"]
    return prefill


def _subject_title(kind: str, subject: Mapping[str, Any]) -> str:
    if kind == "vehicle":
        return " · ".join(x for x in (subject.get("name"), subject.get("plate_number")) if x)
    if kind == "branch":
        return subject["name"]
    return _name(subject)


def _name(row: Mapping[str, Any], prefix: str = "") -> str:
    return f"{row.get(prefix + 'first_name') or ''} {row.get(prefix + 'last_name') or ''}".strip()


def _notice(view: str, message: str | None, *, no_branch: bool = False, branch_id: int | None = None) -> dict:
    return {"view": view, "empty": True, "notice": message, "no_branch": no_branch, "kind": None, "subject": None,
            "title": None, "branch_id": branch_id, "notes": [], "columns": [], "weeks": [], "events": []}


# ------------------------------------------------------------------------------------------ columns

def _column(the_day: date, events: Sequence[Mapping[str, Any]], grid: Grid, actor: Actor, zone: ZoneInfo,
            now_local: datetime, today: date, *, hours: list[dict] | None, windows: Iterable[Mapping[str, Any]],
            window_kind: str, opening: list[dict] | None, counterpart: str, prefill: dict | None) -> Column:
    """Lay out one column: events packed side by side where they overlap, shading and bookable slots."""
    column = Column(day=the_day, is_today=the_day == today)
    presented = [_present(e, actor, counterpart) for e in events]
    column.columns = _pack(presented)
    for event in presented:
        event["row"] = grid.row(event["start_minute"])
        event["span"] = grid.span(event["start_minute"], event["end_minute"])
    column.events = presented

    blocked: list[tuple[int, int]] = []  # where a slot link would certainly be refused
    weekday = the_day.weekday()
    closed: list[tuple[int, int]] = []
    if opening is not None:
        periods = _periods(opening, weekday)
        column.closed_all_day = not periods
        closed = _complement(periods, grid.start, grid.end)
    # One shading per stretch of time, the strongest reason first: closed, then unavailable (or the car's
    # downtime), then outside working hours (a warning only: its slots stay bookable).
    for a, b in closed:
        column.shades.append(_shade("closed", a, b, grid, "Branch closed"))
        blocked.append((a, b))
    day_start = datetime.combine(the_day, time(0, 0))
    taken = list(closed)
    for window in windows:
        a = max(0, _minutes_between(day_start, window["start_datetime"]))
        b = min(24 * 60, _minutes_between(day_start, window["end_datetime"]))
        if b <= a:
            continue
        blocked.append((a, b))
        label = ("Unavailable" if window_kind == "unavailable" else "Vehicle off the road") + (
            f": {window['reason']}" if window.get("reason") else "")
        for x, y in _subtract([(max(a, grid.start), min(b, grid.end))], _merge(taken)):
            column.shades.append(_shade(window_kind, x, y, grid, label))
        taken.append((a, b))
    if hours is not None:  # None: no working hours set up at all (no rule, no shading)
        off = _complement(_periods(hours, weekday, "start_time", "end_time"), grid.start, grid.end)
        for a, b in _subtract(off, _merge(taken)):
            column.shades.append(_shade("off", a, b, grid, "Outside working hours"))
    for a, b in _clock_gap(the_day, zone, grid):
        column.shades.append(_shade("gap", a, b, grid, "Clocks go forward: this hour does not exist"))
        blocked.append((a, b))
    for event in presented:
        if event["status"] in LIVE_STATUSES:
            blocked.append((event["start_minute"], event["end_minute"]))
    if the_day < now_local.date():
        blocked.append((0, 24 * 60))
    elif the_day == now_local.date():
        blocked.append((0, now_local.hour * 60 + now_local.minute))
    if prefill is not None:
        column.slots = _slots(the_day, grid, blocked, zone, prefill)
    return column


def _present(row: Mapping[str, Any], actor: Actor, counterpart: str) -> dict:
    """An event as the templates show it; another branch's event keeps only its time ("Busy")."""
    start, end = _minutes(row["start_time"]), _minutes(row["end_time"])
    status = row["status"] or "scheduled"
    event_type = row["event_type"] or "lesson"
    event = {
        "id": row["id"], "day": row["scheduled_date"], "start": _clock(start), "end": _clock(end),
        "start_minute": start, "end_minute": end if end > start else start + STEP,
        "status": status, "status_label": STATUS_LABELS.get(status, status.replace("_", " ").capitalize()),
        "type": event_type, "type_label": TYPE_LABELS.get(event_type, event_type.capitalize()),
        "masked": not _event_visible(row, actor), "row": 1, "span": 1, "col": None,
    }
    if event["masked"]:
        event.update(title="Busy (another branch)")
        return event
    student = _name(row, "student_")
    instructor = _name(row, "instructor_")
    address = ", ".join(x for x in (row.get("student_address"), row.get("student_city")) if x)
    event.update(
        student_id=row["student_id"], student_name=student, student_phone=row.get("student_phone"),
        instructor_id=row["instructor_id"], instructor_name=instructor,
        vehicle_id=row["vehicle_id"], vehicle_name=row.get("vehicle_name"), vehicle_plate=row.get("vehicle_plate"),
        branch_id=row["branch_id"] if row["branch_id"] is not None else row["student_branch_id"],
        course_id=row.get("course_id"), course_title=row.get("course_title"), topic=row.get("lesson_topic"),
        notes=row.get("notes"), pickup=row.get("pickup_location"), home_address=address or None,
        title=instructor if counterpart == "instructor" else student, counterpart=counterpart,
    )
    return event


def _pack(events: list[dict]) -> int:
    """Give overlapping events side-by-side columns (``col`` 1..MAX_COLUMNS; None = the full width);
    returns how many columns the day needs."""
    widest = 1
    cluster: list[dict] = []
    cluster_end = -1

    def close(group: list[dict]) -> int:
        if len(group) == 1:
            group[0]["col"] = None
            return 1
        ends: list[int] = []
        for event in group:
            for n, last in enumerate(ends):
                if last <= event["start_minute"]:
                    ends[n] = event["end_minute"]
                    event["col"] = min(n + 1, MAX_COLUMNS)
                    break
            else:
                ends.append(event["end_minute"])
                event["col"] = min(len(ends), MAX_COLUMNS)
        return min(len(ends), MAX_COLUMNS)

    for event in sorted(events, key=lambda e: (e["start_minute"], e["end_minute"], e["id"])):
        if cluster and event["start_minute"] >= cluster_end:
            widest = max(widest, close(cluster))
            cluster = []
        cluster.append(event)
        cluster_end = max(cluster_end, event["end_minute"]) if len(cluster) > 1 else event["end_minute"]
    if cluster:
        widest = max(widest, close(cluster))
    return widest


def _slots(the_day: date, grid: Grid, blocked: list[tuple[int, int]], zone: ZoneInfo, prefill: dict) -> list[dict]:
    """Bookable pieces of the free time: cut at whole hours, each booking start .. start + 60 minutes
    (less when the gap is shorter, never under MIN_SLOT); times a clock change skips are left out."""
    slots = []
    steady = localtime.steady_day(the_day, zone)  # no clock change that day: every time exists
    day_text = the_day.isoformat()
    # the booking form's query string, built once per column (a 50-lane day has hundreds of slot links:
    # Jinja's urlencode filter on each cost 10 ms a page); the times are HH:MM (":" is %3A)
    prefix = urlencode({**prefill, "date": day_text})
    for a, b in _complement(_merge(blocked), grid.start, grid.end):
        a, b = -(-a // STEP) * STEP, b // STEP * STEP
        start = a
        while start < b:
            piece_end = min((start // 60 + 1) * 60, b)
            booking_end = min(start + SLOT_LENGTH, b, 24 * 60 - 1)
            if booking_end - start >= MIN_SLOT and (steady or _exists(the_day, start, booking_end, zone)):
                begin, finish = _clock(start), _clock(booking_end)
                slots.append({
                    "start": begin, "end": finish, "row": grid.row(start), "span": grid.span(start, piece_end),
                    "prefill": {**prefill, "date": day_text, "start_time": begin, "end_time": finish},
                    "query": f"{prefix}&start_time={begin.replace(':', '%3A')}&end_time={finish.replace(':', '%3A')}",
                })
            start = piece_end
    return slots


def _shade(kind: str, a: int, b: int, grid: Grid, label: str) -> dict:
    return {"kind": kind, "row": grid.row(a), "span": grid.span(a, b), "label": label,
            "start": _clock(a), "end": _clock(min(b, 24 * 60 - 1)) if b < 24 * 60 else "24:00"}


def _grid_for(events: Iterable[Mapping[str, Any]]) -> Grid:
    start, end = DAY_START, DAY_END
    for event in events:
        first, last = _minutes(event["start_time"]), _minutes(event["end_time"])
        start = min(start, first // 60 * 60)
        end = max(end, min(24 * 60, -(-max(last, first + STEP) // 60) * 60))
    return Grid(start, end)


def _shading_sources(db: Database, instructor_ids: list[int], vehicle_id: int | None, branch_id: int | None,
                     start: date, end: date) -> tuple[dict, dict, list[dict] | None]:
    """Working hours by instructor (only those with any rows), unavailability by instructor (or the
    vehicle's downtime under "vehicle") overlapping start..end, and the branch's opening periods (None:
    no structured hours, so no rule): one query each."""
    dao = CalendarDAO(db)
    window_start = datetime.combine(start, time(0, 0))
    window_end = datetime.combine(end + timedelta(days=1), time(0, 0))
    hours: dict[int, list[dict]] = {}
    windows: dict[Any, list[dict]] = {}
    if instructor_ids:
        for row in dao.working_hours(instructor_ids):
            hours.setdefault(row["instructor_id"], []).append(row)
        for row in dao.unavailability(instructor_ids, window_start, window_end):
            windows.setdefault(row["instructor_id"], []).append(row)
    if vehicle_id is not None:
        windows["vehicle"] = dao.downtime(vehicle_id, window_start, window_end)
    opening = BranchDAO(db).opening_hours(branch_id) if branch_id is not None else []
    return hours, windows, (opening or None)


# ------------------------------------------------------------------------------------------ time helpers

def _minutes(value: Any) -> int:
    """A stored TIME (time, or a timedelta from MariaDB) as minutes after midnight (0..1440)."""
    if isinstance(value, time):
        return value.hour * 60 + value.minute
    if isinstance(value, timedelta):
        return max(0, min(24 * 60, int(value.total_seconds() // 60)))
    text = str(value or "00:00")
    try:
        hours, minutes = text.split(":")[:2]
        return max(0, min(24 * 60, int(hours) * 60 + int(minutes)))
    except ValueError:
        return 0


def _clock(minute: int) -> str:
    minute = max(0, min(minute, 24 * 60))
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _minutes_between(day_start: datetime, moment: Any) -> int:
    if not isinstance(moment, datetime):
        return 0
    return int((moment - day_start).total_seconds() // 60)


def _periods(rows: Iterable[Mapping[str, Any]], weekday: int, start_key: str = "open_time",
             end_key: str = "close_time") -> list[tuple[int, int]]:
    return _merge([(_minutes(r[start_key]), _minutes(r[end_key])) for r in rows if r["weekday"] == weekday])


def _merge(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for a, b in sorted(i for i in intervals if i[1] > i[0]):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _subtract(intervals: Sequence[tuple[int, int]], removed: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """``intervals`` without the parts ``removed`` covers (both merged and sorted)."""
    out: list[tuple[int, int]] = []
    for a, b in intervals:
        out.extend(_complement(removed, a, b))
    return out


def _complement(intervals: Sequence[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """The parts of [start, end) that ``intervals`` (merged, sorted) leave free."""
    free, cursor = [], start
    for a, b in intervals:
        if a > cursor:
            free.append((cursor, min(a, end)))
        cursor = max(cursor, b)
        if cursor >= end:
            break
    if cursor < end:
        free.append((cursor, end))
    return [(a, b) for a, b in free if b > a]


def _exists(the_day: date, start: int, end: int, zone: ZoneInfo) -> bool:
    """Both wall-clock times exist on the day (not in a spring-forward gap)."""
    try:
        localtime.localize(the_day, time(start // 60, start % 60), zone)
        localtime.localize(the_day, time(min(end, 24 * 60 - 1) // 60, min(end, 24 * 60 - 1) % 60), zone)
    except ValidationFailed:
        return False
    return True


def _clock_gap(the_day: date, zone: ZoneInfo, grid: Grid) -> list[tuple[int, int]]:
    """The wall-clock minutes of ``the_day`` that do not exist (the spring-forward hour), within the grid."""
    first = datetime.combine(the_day, time(0, 0)).replace(tzinfo=zone).utcoffset()
    last = datetime.combine(the_day, time(23, 59)).replace(tzinfo=zone).utcoffset()
    if first == last:  # no clock change that day (the usual case: two offsets, no loop)
        return []
    gap: list[tuple[int, int]] = []
    for minute in range(grid.start, grid.end, STEP):
        if not _exists(the_day, minute, minute, zone):
            gap.append((minute, minute + STEP))
    return _merge(gap)


# ------------------------------------------------------------------------------------------ parameters

def _id_arg(args: Mapping[str, Any], name: str) -> int | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    value = parse_id(raw)
    if value is None:
        raise AppError(f"{name} must be a record number.", field=name)
    return value


def _date_arg(args: Mapping[str, Any], name: str, today: date, notes: list[str]) -> date:
    raw = args.get(name)
    if raw is None or raw == "":
        return today
    value = parse_date(raw)
    if value is None:
        notes.append(f"The date “{clean_text(raw, 40)}” was ignored: it is not a real date (YYYY-MM-DD). "
                     "Today is shown instead.")
        return today
    return value


def _month_arg(args: Mapping[str, Any], today: date, notes: list[str]) -> date:
    raw = args.get("month")
    if raw is None or raw == "":
        return today.replace(day=1)
    match = _MONTH.fullmatch(str(raw).strip())
    if match:
        year, number = int(match.group(1)), int(match.group(2))
        if 1 <= number <= 12 and MIN_DATE.year <= year <= MAX_DATE.year:
            return date(year, number, 1)
    notes.append(f"The month “{clean_text(raw, 40)}” was ignored: it is not a month (YYYY-MM). "
                 "This month is shown instead.")
    return today.replace(day=1)


def _page_arg(args: Mapping[str, Any], notes: list[str]) -> int:
    raw = args.get("page")
    if raw is None or raw == "":
        return 1
    value = parse_int(raw, 1, 10**6)
    if value is None:
        notes.append(f"The page “{clean_text(raw, 20)}” is not a positive whole number; 1 was used.")
        return 1
    return value


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _month_end(first: date) -> date:
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _default_zone(settings: Mapping[str, Any]) -> str:
    return settings.get("APP_TIMEZONE") or "Australia/Melbourne"
