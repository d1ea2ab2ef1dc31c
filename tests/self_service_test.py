"""Students' own bookings (services/self_service.py) on both databases: a listed slot books; each policy
rule refuses at its boundary minute and not a minute earlier (notice, horizon, weekly limit, cut-off),
across both Melbourne daylight-saving changes too; refusals list their reasons in words (the cut-off
says whom to call); warnings are blocks for students; the buffer and the grid hold; reschedule and
cancel work on the student's own lessons only (another's is 404, staff get 403); nothing is written
by a refusal."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, time, timedelta

import pytest

from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.services import policy, self_service
from app.services.scope import Actor
from tests import factories as f

SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne"}
NOW = datetime(2026, 3, 1, 0, 0)     # 11:00 Sun 1 Mar in Melbourne (+11)
DAY = date(2026, 3, 11)              # a Wednesday


class World:
    def __init__(self, db, weekdays=range(7), hours=(time(8, 0), time(18, 0))):
        self.db = db
        self.branch = f.make_branch(db, name="Bayside", phone="03 9555 0101")
        self.instructor = f.make_instructor(db, branch_id=self.branch)
        for weekday in weekdays:
            f.make_working_hours(db, self.instructor, weekday, *hours)
        self.course = f.make_course(db)
        f.allocate(db, self.course, self.instructor)
        self.student_id, self.student = self.make_student()
        self.admin = Actor(user_id=f.make_user(db, role="admin"), role="admin")

    def make_student(self):
        sid = f.make_student(self.db, branch_id=self.branch)
        f.make_enrollment(self.db, sid, self.course)
        uid = self.db.fetch_value("SELECT user_id FROM students WHERE id = :id", {"id": sid})
        return sid, Actor(user_id=uid, role="student", student_id=sid)

    def book(self, day=DAY, start="09:00", duration=60, now=NOW, actor=None, **extra):
        data = {"instructor_id": self.instructor, "date": day.isoformat(), "start_time": start,
                "duration_minutes": duration, **extra}
        return self_service.book(self.db, actor or self.student, data, now=now, settings=SETTINGS)

    def lessons(self):
        return self.db.fetch_value("SELECT COUNT(*) FROM schedules WHERE status = 'scheduled'")


def kinds(caught):
    return [r["kind"] for r in caught.value.reasons]


def test_a_listed_slot_books_with_its_reminder_and_audit(db):
    w = World(db)
    slots = self_service.next_slots(db, w.student, duration_minutes=60, now=NOW, settings=SETTINGS)
    assert slots and slots[0]["instructor_id"] == w.instructor and slots[0]["instructor_name"]
    first = slots[0]
    booked = w.book(day=date.fromisoformat(first["date"]), start=first["start_time"])
    row = db.fetch_one("SELECT status, start_time, branch_id FROM schedules WHERE id = :id", {"id": booked.id})
    assert row["status"] == "scheduled" and row["branch_id"] == w.branch
    assert db.fetch_value("SELECT COUNT(*) FROM reminders WHERE related_type = 'schedule' AND related_id = :id", {"id": booked.id}) == 1
    assert db.fetch_value("SELECT details FROM audit_trail WHERE action = 'schedule_created'"
                          " AND entity_id = :id", {"id": booked.id}) == "booked by the student"
    later = self_service.next_slots(db, w.student, duration_minutes=60, now=NOW, settings=SETTINGS)
    assert first["start"] not in [s["start"] for s in later]


def test_minimum_notice_at_its_boundary_minute(db):
    w = World(db)
    start = datetime(2026, 3, 11, 9, 0)            # local; notice 12 h: the last moment is 21:00 the day before
    last_ok = datetime(2026, 3, 10, 10, 0)          # 21:00 local (+11) in UTC
    with pytest.raises(self_service.Refused) as caught:
        w.book(now=last_ok + timedelta(minutes=1))
    assert kinds(caught) == ["notice"] and "12 hours" in caught.value.reasons[0]["message"]
    assert w.lessons() == 0
    assert w.book(now=last_ok).id
    assert start.hour == 9


def test_notice_keeps_wall_clock_across_the_april_change(db):
    # Sun 5 Apr 2026 03:00 AEDT -> 02:00 AEST. A Sun 09:00 (+10) lesson with 12 h notice: 21:00 Sat local (+11).
    w = World(db)
    day = date(2026, 4, 5)
    last_ok = datetime(2026, 4, 4, 10, 0)           # 21:00 Sat local at +11
    with pytest.raises(self_service.Refused):
        w.book(day=day, now=last_ok + timedelta(minutes=1))
    assert w.book(day=day, now=last_ok).id


def test_horizon_at_its_boundary(db):
    w = World(db)
    policy.update(db, w.admin, w.branch, {"horizon_days": 14}, now=NOW)
    last = date(2026, 3, 15)                        # today (1 Mar local) + 14 days
    assert w.book(day=last).id
    with pytest.raises(self_service.Refused) as caught:
        w.book(day=last + timedelta(days=1))
    assert kinds(caught) == ["horizon"] and "Mon 16 Mar 2026" not in caught.value.reasons[0]["message"]
    assert "Sun 15 Mar 2026" in caught.value.reasons[0]["message"]


def test_weekly_limit_counts_the_monday_to_sunday_week(db):
    w = World(db)
    policy.update(db, w.admin, w.branch, {"max_lessons_per_week": 2}, now=NOW)
    monday, sunday = date(2026, 3, 9), date(2026, 3, 15)
    w.book(day=monday)
    w.book(day=sunday, start="17:00")
    with pytest.raises(self_service.Refused) as caught:
        w.book(day=DAY, start="12:00")
    assert kinds(caught) == ["weekly_limit"]
    assert "2 lessons in the week of Mon 9 Mar 2026" in caught.value.reasons[0]["message"]
    assert w.book(day=sunday + timedelta(days=1)).id   # next Monday: a new week
    assert w.lessons() == 3


def test_warnings_are_blocks_and_the_buffer_holds(db):
    w = World(db, weekdays=[2], hours=(time(9, 0), time(12, 0)))
    with pytest.raises(self_service.Refused) as caught:
        w.book(start="13:00")
    assert "outside_working_hours" in kinds(caught)
    policy.update(db, w.admin, w.branch, {"buffer_minutes": 15}, now=NOW)
    w.book(start="09:00")
    other_id, other = w.make_student()
    with pytest.raises(self_service.Refused) as caught:
        w.book(start="10:00", actor=other)     # touches the first lesson: free for the engine, not the buffer
    assert kinds(caught) == ["not_offered"] and "15 minutes between lessons" in caught.value.reasons[0]["message"]
    with pytest.raises(self_service.Refused) as caught:
        w.book(start="09:30", actor=other)
    assert kinds(caught) == ["instructor"]
    assert caught.value.reasons[0]["message"].endswith("is not free at that time.")  # no other lesson's details
    assert w.book(start="10:15", actor=other).id


def test_bad_fields_are_named_and_nothing_is_written(db):
    w = World(db)
    for extra, field in (({"duration_minutes": 20}, "duration_minutes"), ({"duration_minutes": 200}, "duration_minutes"),
                         ({"duration_minutes": 50}, "duration_minutes"), ({"start_time": "09:10"}, "start_time"),
                         ({"start_time": "9am"}, "start_time"), ({"date": "2026-02-30"}, "date"),
                         ({"instructor_id": f.make_instructor(db)}, "instructor_id"),
                         ({"vehicle_id": f.make_vehicle(db)}, "vehicle_id")):
        data = {"instructor_id": w.instructor, "date": DAY.isoformat(), "start_time": "09:00",
                "duration_minutes": 60, **extra}
        with pytest.raises(ValidationFailed) as caught:
            self_service.book(db, w.student, data, now=NOW, settings=SETTINGS)
        assert caught.value.field == field, extra
    with pytest.raises(ValidationFailed) as caught:
        self_service.book(db, w.student, ["x"], now=NOW, settings=SETTINGS)
    assert caught.value.field == "body"
    assert w.lessons() == 0


def test_only_students_and_only_their_own(db):
    w = World(db)
    staff = Actor(user_id=f.make_user(db, role="staff", branch_id=w.branch), role="staff", branch_id=w.branch)
    with pytest.raises(PermissionDenied):
        w.book(actor=staff)
    booked = w.book()
    _, other = w.make_student()
    with pytest.raises(NotFound):
        self_service.cancel(db, other, booked.id, now=NOW, settings=SETTINGS)
    with pytest.raises(NotFound):
        self_service.reschedule(db, other, booked.id, {"date": DAY.isoformat(), "start_time": "11:00"},
                                now=NOW, settings=SETTINGS)
    with pytest.raises(NotFound):
        self_service.cancel(db, w.student, "99999999", now=NOW, settings=SETTINGS)


def test_cancel_at_the_cutoff_minute_says_whom_to_call(db):
    w = World(db)
    booked = w.book()                                 # Wed 11 Mar 09:00 local = 22:00 UTC Tue
    last_ok = datetime(2026, 3, 9, 22, 0)             # Tue 10 Mar 09:00 local: exactly 24 h before
    with pytest.raises(self_service.Refused) as caught:
        self_service.cancel(db, w.student, booked.id, now=last_ok + timedelta(minutes=1), settings=SETTINGS)
    message = caught.value.reasons[0]["message"]
    assert kinds(caught) == ["cutoff"] and "within 24 hours" in message and "call Bayside on 03 9555 0101" in message
    assert db.fetch_value("SELECT status FROM schedules WHERE id = :id", {"id": booked.id}) == "scheduled"
    self_service.cancel(db, w.student, booked.id, now=last_ok, settings=SETTINGS)
    row = db.fetch_one("SELECT status, cancel_reason FROM schedules WHERE id = :id", {"id": booked.id})
    assert row["status"] == "cancelled" and row["cancel_reason"] == self_service.DEFAULT_CANCEL_REASON
    assert db.fetch_value("SELECT status FROM reminders WHERE related_type = 'schedule' AND related_id = :id", {"id": booked.id}) == "cancelled"


@pytest.mark.parametrize("day, last_ok_utc", [
    (date(2026, 4, 5), datetime(2026, 4, 3, 22, 0)),   # April change: Sat 09:00 +11 -> lesson Sun 09:00 +10
    (date(2026, 10, 4), datetime(2026, 10, 2, 23, 0)),  # October change: Sat 09:00 +10 -> lesson Sun 09:00 +11
])
def test_cutoff_keeps_the_local_clock_across_both_changes(db, day, last_ok_utc):
    w = World(db)
    booked = w.book(day=day, now=datetime(2026, 3, 20, 0, 0) if day.month == 4 else datetime(2026, 9, 20, 0, 0))
    with pytest.raises(self_service.Refused):
        self_service.cancel(db, w.student, booked.id, now=last_ok_utc + timedelta(minutes=1), settings=SETTINGS)
    self_service.cancel(db, w.student, booked.id, now=last_ok_utc, settings=SETTINGS)


def test_reschedule_moves_and_replans_inside_the_policy(db):
    w = World(db)
    booked = w.book()
    moved = self_service.reschedule(db, w.student, booked.id, {"date": "2026-03-12", "start_time": "14:00"},
                                    now=NOW, settings=SETTINGS)
    assert moved.id == booked.id
    row = db.fetch_one("SELECT scheduled_date, start_time, end_time FROM schedules WHERE id = :id", {"id": booked.id})
    assert row["scheduled_date"] == date(2026, 3, 12) and str(row["end_time"]).startswith(("15:00", "0 days 15"))
    send_at = db.fetch_value("SELECT send_at FROM reminders WHERE related_type = 'schedule' AND related_id = :id AND status = 'pending'",
                             {"id": booked.id})
    assert send_at == datetime(2026, 3, 11, 3, 0)     # 24 h before 14:00 +11
    # its own old time does not hold it (an overlapping move of itself is fine)
    self_service.reschedule(db, w.student, booked.id, {"date": "2026-03-12", "start_time": "14:30"},
                            now=NOW, settings=SETTINGS)
    # the weekly limit doesn't count the lesson being moved
    policy.update(db, w.admin, w.branch, {"max_lessons_per_week": 1}, now=NOW)
    self_service.reschedule(db, w.student, booked.id, {"date": "2026-03-13", "start_time": "10:00"},
                            now=NOW, settings=SETTINGS)
    with pytest.raises(self_service.Refused) as caught:   # inside the cut-off: refused, not moved
        self_service.reschedule(db, w.student, booked.id, {"date": "2026-03-20", "start_time": "10:00"},
                                now=datetime(2026, 3, 12, 12, 0), settings=SETTINGS)
    assert kinds(caught) == ["cutoff"]
    assert db.fetch_value("SELECT scheduled_date FROM schedules WHERE id = :id", {"id": booked.id}) == date(2026, 3, 13)


def test_any_instructor_of_the_branch_when_the_policy_allows(db):
    w = World(db)
    other = f.make_instructor(db, branch_id=w.branch)
    f.make_working_hours(db, other, DAY.weekday(), time(9, 0), time(12, 0))
    assert [i["id"] for i in self_service.allowed_instructors(db, w.student)] == [w.instructor]
    with pytest.raises(ValidationFailed):
        w.book(instructor_id=other)
    policy.update(db, w.admin, w.branch, {"students_any_instructor": True}, now=NOW)
    assert {i["id"] for i in self_service.allowed_instructors(db, w.student)} == {w.instructor, other}
    assert w.book(instructor_id=other).id
