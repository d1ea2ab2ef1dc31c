"""Two staff reassign the same broken lesson at once, on a real MariaDB (MariaDB only: it needs row locks
between separate connections; without a server it fails under REQUIRE_MYSQL=1). Two threads, each with
its own connection, call disruptions.reassign for one lesson with the fingerprint the panel showed them,
after both have read it (a barrier in front of the booking locks): exactly one reassignment happens, the
other is 409 AlreadyChanged, and the audit trail holds one move and one panel row. The same holds for a
reassignment racing a cancel-and-notify (one result: moved or cancelled, never both). Bounded: 2 threads,
10 s barriers, 20 s joins."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import threading
from datetime import date, datetime, time

import pytest

from app.core.database import Database
from app.core.pagination import ListQuery
from app.dao.booking import BookingDAO
from app.services import disruptions
from app.services.disruptions import AlreadyChanged
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import _empty_mysql

SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne"}
NOW = datetime(2026, 3, 10, 2, 30)
DAY = date(2026, 3, 12)


def _world(url):
    _empty_mysql(url)
    db = Database.from_url(url)
    try:
        branch = f.make_branch(db, name="Race branch", timezone="Australia/Melbourne")
        course = f.make_course(db)
        instructors = []
        for n in range(3):
            instructor = f.make_instructor(db, branch_id=branch,
                                           accreditation_expiry=date(2026, 3, 1) if n == 0 else None)
            f.allocate(db, course, instructor)
            for weekday in range(7):
                f.make_working_hours(db, instructor, weekday, time(7, 0), time(19, 0))
            instructors.append(instructor)
        student = f.make_student(db, branch_id=branch)
        lesson = f.make_schedule(db, f.make_enrollment(db, student, course), instructors[0], branch_id=branch,
                                 scheduled_date=DAY, start_time=time(9, 0), end_time=time(10, 0))
        actors = [Actor(user_id=f.make_user(db, role="staff", branch_id=branch), role="staff", branch_id=branch)
                  for _ in range(2)]
        query = ListQuery.from_args({}, disruptions.SORT_KEYS, disruptions.DEFAULT_SORT, filters=disruptions.FILTERS)
        row = disruptions.panel(db, actors[0], query, NOW, SETTINGS).page.items[0]
        assert row["id"] == lesson
    finally:
        db.close()
    return lesson, instructors, actors, row["fingerprint"]


def _race(url, calls, monkeypatch):
    """Run ``calls`` (each f(db)) in parallel threads, all past their unlocked reads before any takes a lock."""
    everyone_read = threading.Barrier(len(calls))
    seen = threading.local()
    real = BookingDAO.lock_parties

    def after_everyone_read(self, *args, **kwargs):
        if not getattr(seen, "waited", False):  # the panel's own lock call; move/cancel re-lock inside it
            seen.waited = True
            everyone_read.wait(timeout=10)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(BookingDAO, "lock_parties", after_everyone_read)
    results: list = [None] * len(calls)

    def run(i):
        conn = Database.from_url(url)
        try:
            results[i] = calls[i](conn)
        except Exception as exc:  # judged by the caller
            results[i] = exc
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert all(r is not None for r in results), "a writer did not finish"
    return results


def _audit(url, lesson):
    check = Database.from_url(url)
    try:
        actions = [r["action"] for r in check.fetch_all("SELECT action FROM audit_trail WHERE entity_id = :id"
                                                        " ORDER BY id", {"id": lesson})]
        row = check.fetch_one("SELECT status, instructor_id FROM schedules WHERE id = :id", {"id": lesson})
        notes = check.fetch_value("SELECT COUNT(*) AS n FROM notifications")
        assert disruptions.audit.verify(check).ok
    finally:
        check.close()
    return actions, row, notes


@pytest.mark.mysql_only
def test_two_staff_reassigning_one_lesson_at_once_give_one_result(mysql_schema, monkeypatch):
    lesson, instructors, actors, shown = _world(mysql_schema)
    calls = [lambda db, i=i: disruptions.reassign(db, actors[i], lesson, instructor_id=instructors[1 + i],
                                                  expected=shown, now=NOW, settings=SETTINGS) for i in range(2)]
    results = _race(mysql_schema, calls, monkeypatch)
    winners = [i for i, r in enumerate(results) if isinstance(r, disruptions.scheduling.Booked)]
    losers = [r for r in results if not isinstance(r, disruptions.scheduling.Booked)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert isinstance(losers[0], AlreadyChanged) and losers[0].status == 409
    actions, row, _ = _audit(mysql_schema, lesson)
    assert actions == ["schedule_moved", "conflict_reassigned"]
    assert row == {"status": "scheduled", "instructor_id": instructors[1 + winners[0]]}


@pytest.mark.mysql_only
def test_a_reassignment_racing_a_cancellation_gives_one_result(mysql_schema, monkeypatch):
    lesson, instructors, actors, shown = _world(mysql_schema)
    calls = [lambda db: disruptions.reassign(db, actors[0], lesson, instructor_id=instructors[1], expected=shown,
                                             now=NOW, settings=SETTINGS),
             lambda db: disruptions.cancel_and_notify(db, actors[1], lesson, "Instructor away", NOW, expected=shown)]
    results = _race(mysql_schema, calls, monkeypatch)
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(failed) == 1 and isinstance(failed[0], AlreadyChanged), results
    actions, row, notes = _audit(mysql_schema, lesson)
    if isinstance(results[0], Exception):  # the cancellation won
        assert actions == ["schedule_cancelled", "conflict_cancelled"] and row["status"] == "cancelled" and notes == 2
    else:
        assert actions == ["schedule_moved", "conflict_reassigned"] and row["status"] == "scheduled" and notes == 0
