"""CalendarFeedDAO: one live token per owner (revoke, create, find by hash) and the feed's event query
(owner filter, date window, every status, the joined names and zone), on SQLite and MariaDB."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import time, timedelta

import pytest

from app.dao.feed import CalendarFeedDAO
from tests import factories as f


def test_tokens_live_revoke_and_find_by_hash(db):
    instructor = f.make_instructor(db)
    dao = CalendarFeedDAO(db)
    assert dao.live("instructor", instructor) is None
    first = dao.create("instructor", instructor, "a" * 64, None, f.NOW)
    assert dao.live("instructor", instructor)["id"] == first
    assert dao.find_live_by_hash("a" * 64)["owner_id"] == instructor
    assert dao.revoke_live("instructor", instructor, f.NOW) == 1
    assert dao.live("instructor", instructor) is None and dao.find_live_by_hash("a" * 64) is None
    dao.create("instructor", instructor, "b" * 64, None, f.NOW)
    found = dao.find_live_by_hash("b" * 64)
    assert found["owner_type"] == "instructor"
    assert found["first_name"] == db.fetch_value(
        "SELECT u.first_name FROM users u JOIN instructors i ON i.user_id = u.id WHERE i.id = :i", {"i": instructor})
    with pytest.raises(ValueError):
        dao.create("vehicle", 1, "c" * 64, None, f.NOW)


def test_the_hash_is_unique(db):
    dao = CalendarFeedDAO(db)
    dao.create("student", f.make_student(db), "d" * 64, None, f.NOW)
    with pytest.raises(Exception):
        with db.transaction():
            dao.create("student", f.make_student(db), "d" * 64, None, f.NOW)


def test_events_filter_by_owner_and_window_keeping_every_status(db):
    instructor = f.make_instructor(db)
    student = f.make_student(db)
    enrolment = f.make_enrollment(db, student_id=student)
    inside = f.make_schedule(db, enrolment, instructor, pickup_location="Gate 2")
    cancelled = f.make_schedule(db, enrolment, instructor, status="cancelled", start_time=time(11, 0),
                                end_time=time(12, 0))
    f.make_schedule(db, enrolment, instructor, scheduled_date=f.TODAY + timedelta(days=40))
    f.make_schedule(db, instructor_id=instructor)  # another student's lesson with this instructor
    dao = CalendarFeedDAO(db)
    rows = dao.events("student", student, f.TODAY, f.TODAY + timedelta(days=30), 100)
    assert [r["id"] for r in rows] == [inside, cancelled]
    assert rows[0]["pickup_location"] == "Gate 2" and rows[1]["status"] == "cancelled"
    assert rows[0]["instructor_first_name"] and rows[0]["student_first_name"]
    assert len(dao.events("instructor", instructor, f.TODAY, f.TODAY + timedelta(days=30), 100)) == 3
    assert len(dao.events("instructor", instructor, f.TODAY, f.TODAY + timedelta(days=30), 2)) == 2
