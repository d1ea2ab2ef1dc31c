"""Maintained aggregates (issue 13, "Speed work"): summary rows refreshed by ``flask refresh-stats``
(cron, every 15 minutes), so that the lists, dashboards and reports never count over every lesson on a page
view. No Flask here; the SQL is in app/dao/stats.py, which also says what every column means.

- ``refresh(db, now)`` rebuilds each summary whole, ONE transaction per summary (the old rows go, one
  set-based insert-from-a-grouped-query writes the new ones, then its ``stat_freshness`` row), in a fixed order:
  ``instructor_month`` first, because ``instructor_totals`` is derived from it. Readers never see a
  half-built table: MariaDB readers keep their snapshot until the commit; SQLite readers wait for it.
  On MariaDB the refresh reads in READ COMMITTED, so it takes no locks on the lessons it counts and
  bookings go on while it runs.
- "Upcoming" means scheduled on or after the refresh day (``now`` in APP_TIMEZONE).
- ``freshness(db)`` says when each summary was last refreshed (None: never); pages print it
  ("Lesson counts as of 10:15 today") with :func:`as_of`.
"""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from app.core import clock
from app.core.database import Database
from app.core.errors import ValidationFailed
from app.dao.stats import SUMMARY_TABLES, StatsDAO

NAMES = ("instructor_month", "instructor_range", "instructor_totals", "instructor_branch_month", "vehicle_totals", "revenue_month", "enrolment_progress",
         "enrolment_month", "invoice_owing", "licence_pass", "branch_totals", "invoice_totals", "payment_totals",
         "course_totals")
_NEEDS = {"instructor_range": ("instructor_month",), "instructor_totals": ("instructor_month",), "instructor_branch_month": ("instructor_month",),
          "enrolment_month": ("enrolment_progress",)}


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _chosen(names) -> list[str]:
    if names is None:
        return list(NAMES)
    wanted = set()
    for name in names:
        if name not in SUMMARY_TABLES:
            raise ValidationFailed(f"Unknown summary {name!r} (known: {', '.join(NAMES)}).",
                                   errors={"names": [f"Unknown summary {name!r}."]})
        wanted.add(name)
        wanted.update(_NEEDS.get(name, ()))
    if "instructor_month" in wanted:  # the default ranges are its sums: never older than the months they add
        wanted.add("instructor_range")
    return [n for n in NAMES if n in wanted]


def refresh(db: Database, now: datetime, *, names=None, today: date | None = None) -> dict:
    """Rebuild the summaries (all, or ``names`` plus what they derive from). Returns
    {name: {"rows": n, "ms": milliseconds}} in refresh order. ``now`` is naive UTC (stat_freshness);
    ``today`` defaults to its date in APP_TIMEZONE."""
    today = today or clock.to_local(now).date()
    dao = StatsDAO(db)
    done: dict[str, dict] = {}
    for name in _chosen(names):
        started = time.monotonic()
        dao.prepare_refresh()
        with db.transaction():
            dao.lock(name)
            dao.clear(name)
            if name == "instructor_month":
                first, last = dao.schedule_span()
                first = min(first or today, today)
                last = max(last or today, today)
                rows = dao.insert_instructor_month(_month_start(first), _next_month(last) - timedelta(days=1))
            elif name == "instructor_range":  # the instructor reports' default ranges, as of ``today``
                from app.services.reports import instructor_default_ranges

                rows = dao.insert_instructor_range(instructor_default_ranges(today))
            elif name == "instructor_totals":
                rows = dao.insert_instructor_totals(today, _month_start(today), _next_month(today))
            elif name == "instructor_branch_month":
                rows = dao.insert_instructor_branch_month()
            elif name == "vehicle_totals":
                rows = dao.insert_vehicle_totals(today)
            elif name == "revenue_month":
                rows = dao.insert_revenue_month()
            elif name == "enrolment_progress":
                rows = dao.insert_enrolment_progress()
            elif name == "enrolment_month":
                rows = dao.insert_enrolment_month()
            elif name == "invoice_owing":  # owing on the refresh day (APP_TIMEZONE), for the ageing report
                rows = dao.insert_invoice_owing(today)
            elif name == "licence_pass":
                rows = dao.insert_licence_pass()
            elif name == "invoice_totals":  # the invoice list's whole-chain totals (helper lists2)
                rows = dao.insert_invoice_totals()
            elif name == "payment_totals":  # the payments ledger's whole-chain totals (helper lists2)
                rows = dao.insert_payment_totals()
            elif name == "course_totals":  # the course list's active students
                rows = dao.insert_course_totals()
            else:
                rows = dao.insert_branch_totals()
            ms = int((time.monotonic() - started) * 1000)
            dao.mark_fresh(name, now, ms, rows)
        done[name] = {"rows": rows, "ms": int((time.monotonic() - started) * 1000)}
    return done


def freshness(db: Database) -> dict[str, datetime | None]:
    """{name: when it was last refreshed (naive UTC), or None when never} for every summary."""
    known = StatsDAO(db).freshness()
    return {name: (known[name]["refreshed_at"] if name in known else None) for name in NAMES}


def refreshed_at(db: Database, name: str) -> datetime | None:
    """One summary's last refresh (naive UTC) or None: one primary-key read, for a list page."""
    return StatsDAO(db).refreshed_at(name)


def as_of(refreshed: datetime | None, now: datetime) -> str | None:
    """How a page says when figures were counted, in APP_TIMEZONE: "10:15 today", "16:45 yesterday",
    "3 Nov 2026, 10:15"; None when never refreshed (the page says "not yet counted")."""
    if refreshed is None:
        return None
    local, today = clock.to_local(refreshed), clock.to_local(now).date()
    hm = local.strftime("%H:%M")
    if local.date() == today:
        return f"{hm} today"
    if local.date() == today - timedelta(days=1):
        return f"{hm} yesterday"
    return f"{local.day} {local.strftime('%b %Y')}, {hm}"
