"""iCalendar feeds (services.feeds) on SQLite and MariaDB: the feed parsed back with icalendar
(VTIMEZONE, TZID-local times, stable UID, growing SEQUENCE, STATUS:CANCELLED), privacy of the
instructor's feed, a student's feed holds only their lessons, (re)generation revokes the old token
and is audited, bad tokens are 404, issuing is scoped, and the feed's query count is constant."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from app.core.database import count_queries
from app.core.errors import NotFound, PermissionDenied
from app.services import feeds
from app.services.scope import Actor
from tests import factories as f

ZONE = "Australia/Melbourne"
ADMIN = Actor(user_id=None, role="admin")


@pytest.fixture
def school(db):
    branch = f.make_branch(db, timezone=ZONE)
    admin_user = f.make_user(db, role="admin")
    instructor = f.make_instructor(db, branch_id=branch)
    student_user = f.make_user(db, role="student", branch_id=branch, first_name="Zoe", last_name="Quixotic",
                               phone="0499 123 456")
    student = f.make_student(db, user_id=student_user, branch_id=branch)
    enrolment = f.make_enrollment(db, student_id=student)
    lesson = f.make_schedule(db, enrolment, instructor, branch_id=branch, pickup_location="Flinders St Station",
                             notes="Nervous on hook turns", lesson_topic="Hook turns",
                             created_at=f.NOW, updated_at=f.NOW)
    return {"branch": branch, "instructor": instructor, "student": student, "enrolment": enrolment,
            "lesson": lesson, "admin": Actor(user_id=admin_user, role="admin")}


def fetch(db, token, now=f.NOW):
    return icalendar.Calendar.from_ical(feeds.render(db, token, now, f.TODAY, ZONE))


def events(cal):
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def test_instructor_feed_is_valid_with_vtimezone_local_times_and_privacy(db, school):
    token = feeds.issue(db, school["admin"], "instructor", school["instructor"], f.NOW)
    raw = feeds.render(db, token, f.NOW, f.TODAY, ZONE).decode()
    cal = icalendar.Calendar.from_ical(raw)
    assert str(cal["VERSION"]) == "2.0" and cal["PRODID"]
    assert str(cal["X-WR-CALNAME"]).startswith("Origin: ") and str(cal["X-WR-CALNAME"]).endswith("'s lessons")
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == [ZONE]
    event = events(cal)[f"schedule-{school['lesson']}@origin"]
    start = event.decoded("DTSTART")
    assert start == datetime.combine(f.TODAY + timedelta(days=1), time(9, 0), tzinfo=ZoneInfo(ZONE))
    assert "DTSTART;TZID=Australia/Melbourne:20260311T090000" in raw
    assert event.decoded("DTEND").time() == time(10, 0) and "DTSTAMP" in event
    assert str(event["STATUS"]) == "CONFIRMED" and str(event["LOCATION"]) == "Flinders St Station"
    assert "Zoe" in str(event["SUMMARY"])
    for secret in ("Quixotic", "0499", "Nervous", "Hook turns"):
        assert secret not in raw


def test_student_feed_shows_instructor_type_topic_and_only_their_lessons(db, school):
    f.make_schedule(db, instructor_id=school["instructor"], branch_id=school["branch"])  # someone else's
    token = feeds.issue(db, school["admin"], "student", school["student"], f.NOW)
    cal = fetch(db, token)
    assert list(events(cal)) == [f"schedule-{school['lesson']}@origin"]
    summary = str(next(iter(events(cal).values()))["SUMMARY"])
    last = db.fetch_value("SELECT u.last_name FROM users u JOIN instructors i ON i.user_id = u.id WHERE i.id = :i",
                          {"i": school["instructor"]})
    assert summary.startswith("Lesson with ") and last in summary and "Hook turns" in summary
    assert str(cal["X-WR-CALNAME"]) == "Origin: Zoe's lessons"


def test_uid_is_stable_and_sequence_grows_after_a_move_and_a_cancel(db, school):
    token = feeds.issue(db, school["admin"], "instructor", school["instructor"], f.NOW)
    uid = f"schedule-{school['lesson']}@origin"
    first, again = events(fetch(db, token))[uid], events(fetch(db, token))[uid]
    assert first["SEQUENCE"] == again["SEQUENCE"] == 0
    with db.transaction():
        db.execute("UPDATE schedules SET start_time = :s, end_time = :e, updated_at = :now WHERE id = :id",
                   {"s": time(14, 0), "e": time(15, 0), "now": f.NOW + timedelta(minutes=5), "id": school["lesson"]})
    moved = events(fetch(db, token))[uid]
    assert moved["SEQUENCE"] > first["SEQUENCE"] and moved.decoded("DTSTART").time() == time(14, 0)
    with db.transaction():
        db.execute("UPDATE schedules SET status = 'cancelled', updated_at = :now WHERE id = :id",
                   {"now": f.NOW + timedelta(hours=1), "id": school["lesson"]})
    cancelled = events(fetch(db, token))[uid]
    assert str(cancelled["STATUS"]) == "CANCELLED" and cancelled["SEQUENCE"] > moved["SEQUENCE"]


def test_window_is_60_days_back_to_180_ahead(db, school):
    for days in (-61, -60, 180, 181):
        f.make_schedule(db, school["enrolment"], school["instructor"], branch_id=school["branch"],
                        scheduled_date=f.TODAY + timedelta(days=days))
    cal = fetch(db, feeds.issue(db, school["admin"], "student", school["student"], f.NOW))
    dates = sorted(e.decoded("DTSTART").date() for e in cal.walk("VEVENT"))
    assert dates[0] == f.TODAY - timedelta(days=60) and dates[-1] == f.TODAY + timedelta(days=180)
    assert len(dates) == 3


def test_regenerating_revokes_the_old_token_and_is_audited(db, school):
    old = feeds.issue(db, school["admin"], "instructor", school["instructor"], f.NOW)
    new = feeds.issue(db, school["admin"], "instructor", school["instructor"], f.NOW + timedelta(minutes=1))
    assert old != new and fetch(db, new)
    with pytest.raises(NotFound) as revoked:
        feeds.render(db, old, f.NOW, f.TODAY, ZONE)
    with pytest.raises(NotFound) as unknown:
        feeds.render(db, "A" * 43, f.NOW, f.TODAY, ZONE)
    assert revoked.value.message == unknown.value.message
    live = db.fetch_value("SELECT COUNT(*) FROM calendar_feed_tokens WHERE owner_type = 'instructor'"
                          " AND owner_id = :o AND revoked_at IS NULL", {"o": school["instructor"]})
    assert live == 1
    rows = db.fetch_all("SELECT entity_type, entity_id, after_json FROM audit_trail WHERE action = 'calendar_feed_issued'"
                        " ORDER BY id")
    assert [(r["entity_type"], r["entity_id"]) for r in rows] == [("instructor", school["instructor"])] * 2
    assert new not in str(rows) and old not in str(rows)
    stored = db.fetch_all("SELECT token_hash FROM calendar_feed_tokens")
    assert all(new not in r["token_hash"] and len(r["token_hash"]) == 64 for r in stored)


@pytest.mark.parametrize("token", ["", "x", "A" * 300, "../etc/passwd", "ünïcødé-tøken-ünïcødé-tøken", None])
def test_bad_tokens_are_not_found(db, token):
    with pytest.raises(NotFound):
        feeds.render(db, token, f.NOW, f.TODAY, ZONE)


def test_issuing_is_scoped(db, school):
    other_branch = f.make_branch(db)
    own_user = db.fetch_value("SELECT user_id FROM instructors WHERE id = :i", {"i": school["instructor"]})
    me = Actor(user_id=own_user, role="instructor", branch_id=school["branch"], instructor_id=school["instructor"])
    assert feeds.issue(db, me, "instructor", school["instructor"], f.NOW)
    staff = Actor(user_id=f.make_user(db, role="staff", branch_id=school["branch"]), role="staff",
                  branch_id=school["branch"])
    assert feeds.issue(db, staff, "student", school["student"], f.NOW)
    foreign_staff = Actor(user_id=f.make_user(db, role="staff", branch_id=other_branch), role="staff",
                          branch_id=other_branch)
    other_instructor = f.make_instructor(db, branch_id=school["branch"])
    other_student = f.make_student(db, branch_id=school["branch"])
    student = Actor(user_id=f.make_user(db), role="student", branch_id=school["branch"], student_id=school["student"])
    before = db.fetch_value("SELECT COUNT(*) FROM calendar_feed_tokens")
    for actor, owner_type, owner_id, error in (
            (foreign_staff, "student", school["student"], NotFound),
            (me, "instructor", other_instructor, NotFound),
            (student, "student", other_student, NotFound),
            (ADMIN, "student", 999999, NotFound),
            (me, "student", school["student"], PermissionDenied),
            (student, "instructor", school["instructor"], PermissionDenied)):
        with pytest.raises(error):
            feeds.issue(db, actor, owner_type, owner_id, f.NOW)
    assert db.fetch_value("SELECT COUNT(*) FROM calendar_feed_tokens") == before


def test_the_feed_query_count_is_constant(db, school):
    token = feeds.issue(db, school["admin"], "instructor", school["instructor"], f.NOW)
    with count_queries() as few:
        fetch(db, token)
    for days in range(2, 30):
        f.make_schedule(db, school["enrolment"], school["instructor"], branch_id=school["branch"],
                        scheduled_date=f.TODAY + timedelta(days=days))
    with count_queries() as many:
        cal = fetch(db, token)
    assert len(cal.walk("VEVENT")) == 29
    assert many.count == few.count == 2, many.statements
