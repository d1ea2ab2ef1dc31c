"""Ten students accept one gap offer at the same moment, on a real MariaDB (MariaDB only: it needs row
locks between separate connections). A cancelled lesson's slot is offered to ten waiting students; ten
threads, each with its own connection, call waitlist.accept for their own offer behind a Barrier. Exactly
one lesson is booked (with one reminder), its offer is ``accepted`` and the nine others ``taken``; the
nine other students get a 409 (``taken``), nobody deadlocks or gets a 500, and nothing else is written."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import threading
from datetime import date, datetime, time

import pytest

from app.core.database import Database
from app.services import scheduling, waitlist
from app.services.scheduling import Booked
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import _empty_mysql

SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne"}
NOW = datetime(2026, 3, 1, 0, 0)   # 11:00 Sun 1 Mar in Melbourne
DAY = date(2026, 3, 11)            # a Wednesday
STUDENTS = 10


@pytest.mark.mysql_only
def test_ten_simultaneous_accepts_of_one_slot_book_exactly_one_lesson(mysql_schema):
    _empty_mysql(mysql_schema)
    db = Database.from_url(mysql_schema)
    try:
        db.execute("INSERT INTO audit_chain (id, last_id, last_hash) VALUES (1, NULL, NULL)")
        branch = f.make_branch(db, name="Race branch")
        instructor = f.make_instructor(db, branch_id=branch)
        for weekday in range(7):
            f.make_working_hours(db, instructor, weekday, time(8, 0), time(18, 0))
        course = f.make_course(db)
        f.allocate(db, course, instructor)
        owner = f.make_student(db, branch_id=branch)
        lesson = f.make_schedule(db, enrollment_id=f.make_enrollment(db, owner, course), instructor_id=instructor,
                                 branch_id=branch, scheduled_date=DAY, start_time=time(9, 0), end_time=time(10, 0))
        actors = []
        for _ in range(STUDENTS):
            sid = f.make_student(db, branch_id=branch)
            f.make_enrollment(db, sid, course)
            f.make_waitlist_preferences(db, sid)
            uid = db.fetch_value("SELECT user_id FROM students WHERE id = :id", {"id": sid})
            actors.append(Actor(user_id=uid, role="student", student_id=sid, branch_id=branch))
        admin = Actor(user_id=f.make_user(db, role="admin"), role="admin")
        scheduling.cancel(db, admin, lesson, "Sick", now=NOW)
        offers = {r["student_id"]: r["id"] for r in db.fetch_all("SELECT id, student_id FROM gap_offers")}
        assert len(offers) == STUDENTS
        schedules_before = db.fetch_value("SELECT COUNT(*) FROM schedules")
        notifications_before = db.fetch_value("SELECT COUNT(*) FROM notifications")
    finally:
        db.close()

    start = threading.Barrier(STUDENTS)
    results: list = [None] * STUDENTS

    def run(i):
        conn = Database.from_url(mysql_schema)
        try:
            start.wait(timeout=10)
            results[i] = waitlist.accept(conn, actors[i], offers[actors[i].student_id], now=NOW, settings=SETTINGS)
        except Exception as exc:  # judged below
            results[i] = exc
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(STUDENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(r is not None for r in results), "a thread did not finish"
    booked = [r for r in results if isinstance(r, Booked)]
    refused = [r for r in results if not isinstance(r, Booked)]
    assert len(booked) == 1, results
    assert all(isinstance(r, waitlist.OfferClosed) and r.status == 409 and r.reason == "taken" for r in refused), refused

    check = Database.from_url(mysql_schema)
    try:
        assert check.fetch_value("SELECT COUNT(*) FROM schedules") == schedules_before + 1
        assert check.fetch_value("SELECT COUNT(*) FROM schedules WHERE status = 'scheduled' AND scheduled_date = :d",
                                 {"d": DAY}) == 1
        assert check.fetch_value("SELECT COUNT(*) FROM reminders WHERE related_type = 'schedule' AND related_id = :id AND status = 'pending'",
                                 {"id": booked[0].id}) == 1
        statuses = sorted(r["status"] for r in check.fetch_all("SELECT status FROM gap_offers"))
        assert statuses == ["accepted"] + ["taken"] * (STUDENTS - 1)
        assert check.fetch_value("SELECT booked_schedule_id FROM gap_offers WHERE status = 'accepted'") == booked[0].id
        assert check.fetch_value("SELECT COUNT(*) FROM notifications") == notifications_before
    finally:
        check.close()
