"""What each role's dashboard shows, in a bounded number of queries per role (no Flask here; the
blueprint turns the figures into links to the lists they count).

- admin and staff: active students, today's and this week's lessons (with a chart of the week),
  lessons awaiting an outcome, overdue invoices and what is owing on them, fleet availability,
  instructor utilisation this month (stat_instructor_month), the enrolment pipeline (pending and
  approved requests, students learning, students who completed), revenue for the last 12 months
  (stat_revenue_month, "figures as of" its refresh) and, for the admin, the dispatcher's health line;
- instructor: today's run sheet, the week (lessons per day), their students (count and the first
  few), lessons awaiting an outcome (count and the latest few);
- student: next lessons, what they owe, their lesson packages (used and remaining), notifications.

Scope comes from the Actor alone (``actor.branch_filter()``): admin sees the whole school, staff their
branch, and a staff account without a branch sees nothing of any branch (``no_branch``) at no query.

Nothing is counted over the whole history: lessons (today, the week, awaiting an outcome) and overdue
invoices by index ranges, revenue, utilisation and the population counts (students, enrolments,
requests: ``stat_branch_totals``) from the maintained summaries, each shown with its "as of". The
office figures are kept per worker process for ``FIGURE_CACHE_SECONDS`` (30 s) whatever changed, and up
to ten times that while no audited change and no summary refresh has happened (services/figure_cache.py;
``figures_at`` says when they were computed, and the page shows it); 0 computes them on every view.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Mapping

from app.core import clock, localtime
from app.core.database import Database
from app.core.errors import NotFound, ValidationFailed
from app.core.pagination import ListQuery, Page
from app.dao.dashboard import BOOKED, LESSON_STATUSES, DashboardDAO
from app.dao.outcome import OutcomeDAO
from app.services import figure_cache, packages, reminders
from app.services.scope import Actor

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
REVENUE_MONTHS = 12
RUN_SHEET_LIMIT = 40
STUDENTS_SHOWN = 8
AWAITING_SHOWN = 5
AWAITING_CAP = 1000  # the office's awaiting-an-outcome figure stops counting here ("1,000+")
NEXT_LESSONS = 5
UPCOMING_SHOWN = 8
NOTIFICATIONS_SHOWN = 5
MAX_RANGE_DAYS = 366
OFFICE_FIGURES = figure_cache.FigureCache()
QUIET_FACTOR = 10  # the office figures: reused for FIGURE_CACHE_SECONDS whatever changed, ten times that if nothing did

# The lessons list's filters (app/blueprints/dashboard.py): ``status`` "booked" = every status but
# cancelled (what the lesson figures count).
LESSON_FILTERS = {"date_from": "date", "date_to": "date", "status": ("booked", *LESSON_STATUSES),
                  "branch": "id", "instructor": "id"}
LESSON_FILTER_LABELS = {"date_from": "from date", "date_to": "to date"}
LESSON_ROLES = ("admin", "staff", "instructor")

def week_of(day: date) -> tuple[date, date]:
    start = day - timedelta(days=day.weekday())
    return start, start + timedelta(days=6)


def month_starts(today: date, n: int = REVENUE_MONTHS) -> list[date]:
    """The first days of the ``n`` months ending with today's, oldest first."""
    year, month = today.year, today.month
    out = []
    for _ in range(n):
        out.append(date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out[::-1]


def cutoffs(db: Database, now: datetime) -> list[tuple[str | None, date, time]]:
    """One (zone, local date, local time) per stored branch zone and the default: "past" for the
    awaiting-an-outcome rule (services/outcomes.py uses the same)."""
    default = clock.timezone_name()
    zones = [None, *OutcomeDAO(db).branch_zones()]
    out = []
    for name in zones:
        local = localtime.from_utc_naive(now, localtime.zone_for(name, default))
        out.append((name, local.date(), local.time().replace(microsecond=0, tzinfo=None)))
    return out


def _percent(part: int, whole: int) -> Decimal | None:
    if whole <= 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("1"))


def _days(counts: Mapping[date, Mapping[str, int]], start: date) -> list[dict]:
    out = []
    for offset in range(7):
        day = start + timedelta(days=offset)
        by_status = counts.get(day, {})
        out.append({"date": day, "label": f"{WEEKDAYS[day.weekday()]} {day.day}",
                    "lessons": sum(by_status.values()), "completed": by_status.get("completed", 0),
                    "scheduled": by_status.get("scheduled", 0)})
    return out


# ------------------------------------------------------------------------------------------ roles

def for_actor(db: Database, actor: Actor, today: date, now: datetime | None = None,
              settings: Mapping[str, Any] | None = None) -> dict:
    """The dashboard's data; an administrator's also carries the reminder dispatcher's health line
    (``dispatcher``: services/reminders.health)."""
    now = now or clock.now()
    if actor.is_office:
        age = figure_cache.max_age(settings) if not actor.lacks_branch else 0
        data, _ = OFFICE_FIGURES.get(("office", actor.branch_filter(), today), lambda: figure_cache.data_version(db),
                                     lambda: _office(db, actor, today, now), any_change_seconds=age,
                                     unchanged_seconds=age * QUIET_FACTOR)
        if actor.is_admin:
            data["dispatcher"] = reminders.health(db, now, settings)
        return data
    if actor.role == "instructor":
        if actor.instructor_id is None:
            return {"kind": "instructor", "missing_profile": True}
        return _instructor(db, actor.instructor_id, today, now)
    if actor.role == "student" and actor.student_id is not None:
        return _student(db, actor, today, now)
    return {"kind": "student", "missing_profile": True}


def _office(db: Database, actor: Actor, today: date, now: datetime) -> dict:
    start, end = week_of(today)
    months = month_starts(today)
    if actor.lacks_branch:
        return {"kind": "office", "no_branch": True, "today": today, "week_start": start, "week_end": end}
    dao = DashboardDAO(db)
    branch = actor.branch_filter()
    days = _days(dao.lesson_days(start, end, branch_id=branch), start)
    use = dao.utilisation(months[-1], branch_id=branch)
    revenue = dao.revenue_months(months[0], months[-1], branch_id=branch)
    fresh = dao.freshness(("revenue_month", "instructor_month", "branch_totals"))
    awaiting = dao.awaiting_count(cutoffs(db, now), branch_id=branch, cap=AWAITING_CAP)
    return {
        "kind": "office",
        "branch_id": branch,
        "today": today, "week_start": start, "week_end": end, "month_start": months[-1],
        "lessons_today": next(d["lessons"] for d in days if d["date"] == today),
        "lessons_week": sum(d["lessons"] for d in days),
        "days": days,
        "awaiting": awaiting,
        "awaiting_label": f"{AWAITING_CAP:,}+" if awaiting > AWAITING_CAP else f"{awaiting:,}",
        "overdue": dao.overdue(branch),
        "fleet": dao.fleet(branch),
        "upcoming": dao.upcoming(today, _school_time(now, today), UPCOMING_SHOWN, branch_id=branch),
        "people": dao.population(branch),
        "utilisation": {**use, "percent": _percent(use["booked"], use["working"])},
        "revenue": [{"month": m, "amount": revenue.get(m, Decimal("0.00"))} for m in months],
        "revenue_total": sum((revenue.get(m, Decimal(0)) for m in months), Decimal("0.00")),
        "freshness": fresh,
        "figures_at": now,
    }


def _instructor(db: Database, instructor_id: int, today: date, now: datetime) -> dict:
    dao = DashboardDAO(db)
    start, end = week_of(today)
    edges = cutoffs(db, now)
    total_students, students = dao.instructor_students(instructor_id, STUDENTS_SHOWN)
    sheet = dao.run_sheet(instructor_id, today, RUN_SHEET_LIMIT)
    local_now = next((c for c in edges if c[0] is None))
    for row in sheet:
        row["awaiting"] = row["status"] == "scheduled" and _ended(row, local_now)
    days = _days(dao.lesson_days(start, end, instructor_id=instructor_id), start)
    return {
        "kind": "instructor",
        "instructor_id": instructor_id,
        "today": today, "week_start": start, "week_end": end,
        "run_sheet": sheet,
        "run_sheet_booked": sum(1 for r in sheet if r["status"] != "cancelled"),
        "days": days,
        "lessons_week": sum(d["lessons"] for d in days),
        "students_total": total_students,
        "students": students,
        "awaiting": dao.awaiting_count(edges, instructor_id=instructor_id),
        "awaiting_rows": dao.awaiting_rows(edges, instructor_id=instructor_id, limit=AWAITING_SHOWN),
    }


def _ended(row: Mapping[str, Any], local_now: tuple[str | None, date, time]) -> bool:
    """Whether a run-sheet event of today has ended by the school's local time (its outcome is due)."""
    _, day, moment = local_now
    end = row["end_time"]
    if isinstance(end, timedelta):  # PyMySQL returns TIME as a timedelta
        end = (datetime.min + end).time()
    elif isinstance(end, str):
        end = time.fromisoformat(end)
    return row["scheduled_date"] < day or (row["scheduled_date"] == day and end <= moment)


def _school_time(now: datetime, today: date) -> time:
    """The school's wall-clock time now when ``today`` is its local date (else midnight: the whole day)."""
    local = localtime.from_utc_naive(now, localtime.zone_for(None, clock.timezone_name()))
    return local.time().replace(microsecond=0, tzinfo=None) if local.date() == today else time(0, 0)


def _student(db: Database, actor: Actor, today: date, now: datetime) -> dict:
    dao = DashboardDAO(db)
    moment = _school_time(now, today)
    unread, latest = dao.notifications(actor.user_id, NOTIFICATIONS_SHOWN)
    own = packages.own_packages(db, actor, today=today)
    on_package = [p for p in own if p["summary"].on_package]
    return {
        "kind": "student",
        "today": today,
        "next_lessons": dao.next_lessons(actor.student_id, today, NEXT_LESSONS, moment),
        "balance": dao.student_balance(actor.student_id),
        "packages": own,
        "package_used": sum(p["summary"].used for p in on_package),
        "package_remaining": sum(p["summary"].remaining for p in on_package),
        "package_purchased": sum(p["summary"].purchased for p in on_package),
        "unread": unread,
        "notifications": latest,
    }


# ------------------------------------------------------------------------------------------ lessons list

def lessons(db: Database, actor: Actor, query: ListQuery, today: date) -> dict:
    """The list a lesson figure links to: events dated ``date_from``..``date_to`` (default today) with
    ``status`` (default and "booked": every status but cancelled), in scope (admin: the school or
    ``branch``; staff: their branch; an instructor: their own), narrowed by ``instructor`` for the
    office. A reversed range gives an empty page with a note; a range longer than MAX_RANGE_DAYS is a
    422 naming the field."""
    if actor.role not in LESSON_ROLES:
        raise NotFound("Not found")
    start = query.filter_date("date_from") or today
    end = query.filter_date("date_to") or start
    status = query.filter("status") or "booked"
    statuses = BOOKED if status == "booked" else (status,)
    notes = []
    if end < start:
        notes.append("The from date is after the to date, so no lesson can match.")
    elif (end - start).days >= MAX_RANGE_DAYS:
        raise ValidationFailed(f"Choose a range of at most {MAX_RANGE_DAYS} days.", field="date_to")
    branch_id = query.filter_int("branch")
    instructor_id = query.filter_int("instructor") if actor.is_office else None
    if actor.role == "staff":
        branch_id = actor.branch_filter()
    elif actor.role == "instructor":
        branch_id, instructor_id = None, actor.instructor_id or -1
    if end < start:
        page = Page(items=[], total=0, query=query)
    else:
        page = DashboardDAO(db).lessons_page(query, start=start, end=end, statuses=statuses,
                                             branch_id=branch_id, instructor_id=instructor_id)
    return {"page": page, "start": start, "end": end, "status": status, "notes": notes,
            "no_branch": actor.lacks_branch}
