"""Kept figures (services/figure_cache.py): the office dashboard and the conflicts panel's counts are
computed once and reused while the data version (the last audited data change, the last summary refresh)
is the same and they are younger than FIGURE_CACHE_SECONDS; an audited change, a refresh or the age limit
counts afresh; a sign-in does not. On both databases (the version is read from each)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, time, timedelta

import pytest

from app.core.database import count_queries
from app.services import audit, dashboard, stats
from app.services.figure_cache import FigureCache, max_age
from app.services.scope import Actor
from tests import factories as f

TODAY = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 0, 0)
ON = {"FIGURE_CACHE_SECONDS": 60}


class Ticks:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_kept_while_the_stamp_is_the_same_and_younger_than_the_limit():
    ticks, calls = Ticks(), []
    cache = FigureCache(max_entries=2, clock=ticks)

    def compute(n):
        def run():
            calls.append(n)
            return {"n": n}
        return run

    assert cache.get("a", 1, 60, compute(1)) == ({"n": 1}, False)
    assert cache.get("a", 1, 60, compute(2)) == ({"n": 1}, True)       # same stamp, young: reused
    assert cache.get("a", 2, 60, compute(3)) == ({"n": 3}, False)      # the data changed
    ticks.t += 60
    assert cache.get("a", 2, 60, compute(4)) == ({"n": 4}, False)      # as old as the limit
    got, _ = cache.get("a", 2, 60, compute(5))
    got["n"] = "changed by a caller"
    assert cache.get("a", 2, 60, compute(6))[0] == {"n": 4}             # callers get a copy
    cache.get("b", 2, 60, compute(7))
    cache.get("c", 2, 60, compute(8))                                   # at most 2 kept: "a" goes
    assert cache.get("a", 2, 60, compute(9)) == ({"n": 9}, False)
    assert cache.get("x", 2, 0, compute(10)) == ({"n": 10}, False)     # 0: off, nothing kept
    assert cache.get("x", 2, 0, compute(11)) == ({"n": 11}, False)
    assert calls == [1, 3, 4, 7, 8, 9, 10, 11]
    assert max_age({"FIGURE_CACHE_SECONDS": "30"}) == 30 and max_age({}) == 0 and max_age(None) == 0
    assert max_age({"FIGURE_CACHE_SECONDS": "soon"}) == 0 and max_age({"FIGURE_CACHE_SECONDS": -5}) == 0


@pytest.fixture
def office(db):
    dashboard.OFFICE_FIGURES.clear()
    branch = f.make_branch(db)
    student = f.make_student(db, branch_id=branch)
    enrolment = f.make_enrollment(db, student_id=student)
    f.make_schedule(db, enrollment_id=enrolment, branch_id=branch, scheduled_date=TODAY)
    stats.refresh(db, NOW, today=TODAY)
    yield {"branch": branch, "enrolment": enrolment, "staff": Actor(user_id=0, role="staff", branch_id=branch)}
    dashboard.OFFICE_FIGURES.clear()


def test_the_dashboard_reuses_its_figures_until_an_audited_change_or_a_refresh(db, office):
    staff = office["staff"]
    first = dashboard.for_actor(db, staff, TODAY, NOW, ON)
    assert first["lessons_today"] == 1 and first["figures_at"] == NOW
    # a lesson written past the application (no audit row): the kept figures stand, at one small read
    f.make_schedule(db, enrollment_id=office["enrolment"], branch_id=office["branch"], scheduled_date=TODAY)
    with count_queries() as seen:
        again = dashboard.for_actor(db, staff, TODAY, NOW + timedelta(seconds=5), ON)
    assert again["lessons_today"] == 1 and again["figures_at"] == NOW and seen.count == 1
    audit.record(db, None, "login", "user", 1, now=NOW)                # a sign-in changes no figure
    assert dashboard.for_actor(db, staff, TODAY, NOW, ON)["lessons_today"] == 1
    audit.record(db, None, "schedule_created", "schedule", 1, now=NOW)  # an audited change: counted afresh
    moved = dashboard.for_actor(db, staff, TODAY, NOW + timedelta(seconds=6), ON)
    assert moved["lessons_today"] == 2 and moved["figures_at"] == NOW + timedelta(seconds=6)
    # every scope keeps its own figures: the admin's are the school's
    assert dashboard.for_actor(db, Actor(user_id=0, role="admin"), TODAY, NOW, ON)["lessons_today"] >= 2
    f.make_schedule(db, enrollment_id=office["enrolment"], branch_id=office["branch"], scheduled_date=TODAY)
    stats.refresh(db, NOW + timedelta(minutes=15), today=TODAY)        # a summary refresh: afresh too
    assert dashboard.for_actor(db, staff, TODAY, NOW, ON)["lessons_today"] == 3
    # off (the suite's setting): every view counts
    f.make_schedule(db, enrollment_id=office["enrolment"], branch_id=office["branch"], scheduled_date=TODAY)
    assert dashboard.for_actor(db, staff, TODAY, NOW, {"FIGURE_CACHE_SECONDS": 0})["lessons_today"] == 4


def test_the_dashboard_counts_afresh_once_its_figures_are_older_than_the_limit(db, office, monkeypatch):
    ticks = Ticks()
    monkeypatch.setattr(dashboard, "OFFICE_FIGURES", FigureCache(clock=ticks))
    staff = office["staff"]
    assert dashboard.for_actor(db, staff, TODAY, NOW, ON)["lessons_today"] == 1
    f.make_schedule(db, enrollment_id=office["enrolment"], branch_id=office["branch"], scheduled_date=TODAY)
    ticks.t += 59
    assert dashboard.for_actor(db, staff, TODAY, NOW, ON)["lessons_today"] == 1
    ticks.t += 1
    assert dashboard.for_actor(db, staff, TODAY, NOW, ON)["lessons_today"] == 2


def test_the_conflicts_panel_keeps_its_counts_until_an_audited_change(db):
    """The aggregate row is kept (its spans decide which rows the page reads); the rows are read live."""
    from app.services import disruptions
    from tests.disruptions_test import NOW as PANEL_NOW, SETTINGS, World, q

    disruptions.COUNTS.clear()
    w, on = World(db), {**SETTINGS, **ON}
    away = w.instructor()
    f.make_unavailability(db, away, datetime(2026, 3, 12, 8, 0), datetime(2026, 3, 12, 12, 0), reason="Course")
    first = w.lesson(away)
    assert disruptions.panel(db, w.staff, q(), PANEL_NOW, on).counts["unavailability"] == 1
    second = w.lesson(away, start=time(10, 0), end=time(11, 0))            # past the audit trail
    kept = disruptions.panel(db, w.staff, q(), PANEL_NOW, on)
    assert kept.counts["unavailability"] == 1 and [r["id"] for r in kept.page.items] == [first]
    assert disruptions.panel(db, w.staff, q(), PANEL_NOW, SETTINGS).counts["unavailability"] == 2  # off: live
    audit.record(db, None, "unavailability_recorded", "instructor", away, now=PANEL_NOW)
    fresh = disruptions.panel(db, w.staff, q(), PANEL_NOW, on)
    assert fresh.counts["unavailability"] == 2 and {r["id"] for r in fresh.page.items} == {first, second}
    disruptions.COUNTS.clear()
