"""Kept figures (services/figure_cache.py): the office dashboard's figures are reused for
FIGURE_CACHE_SECONDS whatever changed and ten times that while the data version (the last audited data
change, the last summary refresh) is the same; the conflicts panel's counts only while it is the same.
A sign-in does not move the version. On both databases (the version is read from each)."""

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
ON = {"FIGURE_CACHE_SECONDS": 30}


class Ticks:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_kept_while_young_whatever_changed_or_while_the_stamp_is_the_same():
    ticks, calls = Ticks(), []
    cache = FigureCache(max_entries=2, clock=ticks)

    def compute(n):
        def run():
            calls.append(n)
            return {"n": n}
        return run

    def get(key, stamp, n, fresh=30, unchanged=300):
        return cache.get(key, stamp, compute(n), any_change_seconds=fresh, unchanged_seconds=unchanged)

    assert get("a", 1, 1) == ({"n": 1}, False)
    assert get("a", 1, 2) == ({"n": 1}, True)            # young: reused
    assert get("a", 2, 3) == ({"n": 1}, True)            # young: reused even though the data changed
    ticks.t += 30
    assert get("a", 2, 4) == ({"n": 4}, False)           # 30 s old and the data changed: afresh
    ticks.t += 100
    assert get("a", 2, 5) == ({"n": 4}, True)            # older, but nothing changed
    ticks.t += 200
    assert get("a", 2, 6) == ({"n": 6}, False)           # 300 s: afresh even though nothing changed
    assert get("a", 3, 7, fresh=0, unchanged=60) == ({"n": 7}, False)   # the panel's rule: the stamp only
    assert get("a", 4, 8, fresh=0, unchanged=60) == ({"n": 8}, False)
    got, _ = get("a", 4, 9, fresh=0, unchanged=60)
    got["n"] = "changed by a caller"
    assert get("a", 4, 10, fresh=0, unchanged=60)[0] == {"n": 8}          # callers get a copy
    get("b", 4, 11)
    get("c", 4, 12)                                                        # at most 2 kept: "a" goes
    assert get("a", 4, 13) == ({"n": 13}, False)
    assert get("x", 4, 14, fresh=0, unchanged=0) == ({"n": 14}, False)    # both 0: off, nothing kept
    assert get("x", 4, 15, fresh=0, unchanged=0) == ({"n": 15}, False)
    assert calls == [1, 4, 6, 7, 8, 11, 12, 13, 14, 15]
    read = []
    assert cache.get("y", lambda: read.append("stamp") or 5, compute(16)) == ({"n": 16}, False)  # off: never read
    assert read == []
    assert cache.get("y", lambda: read.append("stamp") or 5, compute(17), unchanged_seconds=60) == ({"n": 17}, False)
    assert cache.get("y", lambda: read.append("stamp") or 5, compute(18), unchanged_seconds=60) == ({"n": 17}, True)
    assert read == ["stamp", "stamp"]                                     # a callable stamp, read when used
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


def test_the_dashboard_keeps_its_figures_half_a_minute_and_longer_while_nothing_changes(db, office, monkeypatch):
    ticks = Ticks()
    monkeypatch.setattr(dashboard, "OFFICE_FIGURES", FigureCache(clock=ticks))
    staff = office["staff"]

    def lesson():
        f.make_schedule(db, enrollment_id=office["enrolment"], branch_id=office["branch"], scheduled_date=TODAY)

    first = dashboard.for_actor(db, staff, TODAY, NOW, ON)
    assert first["lessons_today"] == 1 and first["figures_at"] == NOW
    lesson()                                                             # past the audit trail
    audit.record(db, None, "schedule_created", "schedule", 1, now=NOW)   # and an audited change
    with count_queries() as seen:
        again = dashboard.for_actor(db, staff, TODAY, NOW + timedelta(seconds=5), ON)
    assert again["lessons_today"] == 1 and again["figures_at"] == NOW and seen.count == 1  # the stamp only
    ticks.t += 30                                                        # half a minute, data changed: afresh
    moved = dashboard.for_actor(db, staff, TODAY, NOW + timedelta(seconds=30), ON)
    assert moved["lessons_today"] == 2 and moved["figures_at"] == NOW + timedelta(seconds=30)
    lesson()                                                             # unaudited: nothing says it changed
    audit.record(db, None, "login", "user", 1, now=NOW)                  # a sign-in changes no figure
    ticks.t += 200
    assert dashboard.for_actor(db, staff, TODAY, NOW, ON)["lessons_today"] == 2
    ticks.t += 100                                                       # ten times the limit: afresh anyway
    assert dashboard.for_actor(db, staff, TODAY, NOW, ON)["lessons_today"] == 3
    lesson()
    ticks.t += 31
    stats.refresh(db, NOW + timedelta(minutes=15), today=TODAY)          # a summary refresh moves the stamp
    assert dashboard.for_actor(db, staff, TODAY, NOW, ON)["lessons_today"] == 4
    # every scope keeps its own figures: the admin's are the school's
    assert dashboard.for_actor(db, Actor(user_id=0, role="admin"), TODAY, NOW, ON)["lessons_today"] >= 4
    lesson()                                                             # off (the suite's setting): every view
    assert dashboard.for_actor(db, staff, TODAY, NOW, {"FIGURE_CACHE_SECONDS": 0})["lessons_today"] == 5


def test_the_conflicts_panel_keeps_its_counts_until_an_audited_change(db):
    """The aggregate row and the page of rows (with their free alternatives) are kept together."""
    from app.services import disruptions
    from tests.disruptions_test import NOW as PANEL_NOW, SETTINGS, World, q

    disruptions.COUNTS.clear()
    w, on = World(db), {**SETTINGS, **ON}
    away = w.instructor()
    f.make_unavailability(db, away, datetime(2026, 3, 12, 8, 0), datetime(2026, 3, 12, 12, 0), reason="Course")
    first = w.lesson(away)
    assert disruptions.panel(db, w.staff, q(), PANEL_NOW, on).counts["unavailability"] == 1
    second = w.lesson(away, start=time(10, 0), end=time(11, 0))            # past the audit trail
    with count_queries() as seen:
        kept = disruptions.panel(db, w.staff, q(), PANEL_NOW, on)
    assert kept.counts["unavailability"] == 1 and [r["id"] for r in kept.page.items] == [first]
    assert seen.count == 2 and kept.page.items[0]["fingerprint"]          # the zones and the stamp: rows kept
    odd = disruptions.panel(db, w.staff, q(page="x"), PANEL_NOW, on)     # its own page: its own ignored note
    assert odd.page.query.ignored and not disruptions.panel(db, w.staff, q(), PANEL_NOW, on).page.query.ignored
    assert disruptions.panel(db, w.staff, q(), PANEL_NOW, SETTINGS).counts["unavailability"] == 2  # off: live
    audit.record(db, None, "unavailability_recorded", "instructor", away, now=PANEL_NOW)
    fresh = disruptions.panel(db, w.staff, q(), PANEL_NOW, on)
    assert fresh.counts["unavailability"] == 2 and {r["id"] for r in fresh.page.items} == {first, second}
    disruptions.COUNTS.clear()


def test_the_booking_forms_first_students_are_kept_until_an_audited_change(db):
    """The booking form's list before a search (a branch's first 25 students by name) is kept while the
    data version holds; a chosen student outside it still comes first, a search is always read afresh,
    and an audited change (a new enrolment) shows at once."""
    from app.services import event_pages

    event_pages.DEFAULT_STUDENTS.clear()
    branch = f.make_branch(db)
    staff = Actor(user_id=0, role="staff", branch_id=branch)
    course = f.make_course(db)

    def student(last):
        sid = f.make_student(db, user_id=f.make_user(db, role="student", branch_id=branch, last_name=last),
                             branch_id=branch)
        f.make_enrollment(db, student_id=sid, course_id=course, status="active")
        return sid

    ids = [student(f"M{n:02d}") for n in range(30)]
    audit.record(db, None, "student_created", "student", ids[-1], now=NOW)

    def listed(settings=ON, **kw):
        return [o["id"] for o in event_pages.booking_options(db, staff, settings=settings, **kw)["students"]]

    assert listed() == ids[:25]
    early = student("A00")                                               # past the audit trail: kept list
    with count_queries() as seen:
        assert listed() == ids[:25]
    assert not any("FROM students" in sql for sql in seen.statements)     # the stamp, instructors, vehicles
    assert listed(student_id=ids[29]) == ids[:24] + [ids[29]]            # the chosen one kept (a key lookup)
    assert listed(student_id=ids[25]) == ids[:24] + [ids[25]]            # the kept 26th: kept as well
    assert listed(student_q="A00") == [early]                            # a search: live
    assert listed(settings={"FIGURE_CACHE_SECONDS": 0})[0] == early      # off: live
    audit.record(db, None, "enrolment_created", "enrollment", early, now=NOW)
    assert listed()[:2] == [early, ids[0]]                               # the audited change: afresh
    event_pages.DEFAULT_STUDENTS.clear()
