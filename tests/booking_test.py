"""The booking service (services/scheduling.py) and BookingDAO on both databases: a booking writes the
event, its reminder (send_at 24 h before the start instant in Australia/Melbourne, across both DST
changes) in the original's row shape (sms, "Upcoming Lesson") and the audit row; every refusal writes
nothing; a move re-plans the reminder; a cancellation withdraws it; reviving a cancelled event re-checks
it like a move, clears the cancellation (the audit row keeps it) and queues a reminder again; deadlocks
are retried, then answered 409."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
from datetime import date, datetime, time

import pytest

from app.core.errors import Conflict as DbConflict, NotFound, PermissionDenied, ValidationFailed
from app.dao.booking import BookingDAO
from app.services import scheduling
from app.services.scheduling import BookingBusy, BookingConflict
from app.services.scope import Actor
from tests import factories as f

SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne"}
NOW = datetime(2026, 3, 1, 0, 0)        # 11:00 in Melbourne (AEDT, +11)
DAY = "2026-03-11"


class World:
    def __init__(self, db):
        self.db = db
        self.branch = f.make_branch(db, name="Bayside")
        self.other = f.make_branch(db, name="Northside")
        self.instructor = f.make_instructor(db, branch_id=self.branch)
        self.student_user = f.make_user(db, first_name="Jack", last_name="Mason", branch_id=self.branch)
        self.student = f.make_student(db, user_id=self.student_user, branch_id=self.branch)
        self.course = f.make_course(db, title="Learner Essentials")
        self.enrollment = f.make_enrollment(db, self.student, self.course)
        f.allocate(db, self.course, self.instructor)
        self.vehicle = f.make_vehicle(db, branch_id=self.branch)
        self.staff_user = f.make_user(db, role="staff", branch_id=self.branch)
        self.staff = Actor(user_id=self.staff_user, role="staff", branch_id=self.branch)
        self.admin = Actor(user_id=f.make_user(db, role="admin"), role="admin")

    def new_instructor(self):
        instructor = f.make_instructor(self.db, branch_id=self.branch)
        f.allocate(self.db, self.course, instructor)
        return instructor

    def new_student(self):
        student = f.make_student(self.db, branch_id=self.branch)
        f.make_enrollment(self.db, student, self.course)
        return student

    def data(self, **overrides):
        row = {"student_id": self.student, "instructor_id": self.instructor, "vehicle_id": self.vehicle,
               "event_type": "lesson", "date": DAY, "start_time": "09:00", "end_time": "10:00"}
        row.update(overrides)
        return row

    def book(self, actor=None, now=NOW, **overrides):
        return scheduling.book(self.db, actor or self.staff, self.data(**overrides), now=now, settings=SETTINGS)

    def counts(self):
        return tuple(self.db.fetch_value(f"SELECT COUNT(*) AS n FROM {t}") for t in ("schedules", "reminders",
                                                                                      "audit_trail"))

    def reminders(self, schedule_id):
        return self.db.fetch_all("SELECT status, send_at, send_on, message, recipient_user_id, channel,"
                                 " reminder_type FROM reminders WHERE related_type = 'schedule'"
                                 " AND related_id = :id ORDER BY id", {"id": schedule_id})


@pytest.fixture
def world(db):
    return World(db)


def test_a_booking_writes_the_event_its_reminder_and_the_audit_row(world):
    booked = world.book(topic="Roundabouts", pickup_location="12 Bay St")
    assert booked.warnings == []
    row = world.db.fetch_one("SELECT enrollment_id, instructor_id, vehicle_id, branch_id, scheduled_date, start_time,"
                             " end_time, status, lesson_topic, pickup_location FROM schedules WHERE id = :id",
                             {"id": booked.id})
    assert row == {"enrollment_id": world.enrollment, "instructor_id": world.instructor, "vehicle_id": world.vehicle,
                   "branch_id": world.branch, "scheduled_date": date(2026, 3, 11), "start_time": time(9, 0),
                   "end_time": time(10, 0), "status": "scheduled", "lesson_topic": "Roundabouts",
                   "pickup_location": "12 Bay St"}
    [reminder] = world.reminders(booked.id)
    # 09:00 AEDT (+11) on 11 Mar = 22:00 UTC on 10 Mar; 24 h earlier = 22:00 UTC on 9 Mar = 10 Mar locally
    assert reminder["send_at"] == datetime(2026, 3, 9, 22, 0)
    assert reminder["send_on"] == date(2026, 3, 10)
    # the original's row shape (original-system §4.2): sms, "Upcoming Lesson", related to the schedule
    assert (reminder["status"], reminder["recipient_user_id"], reminder["channel"], reminder["reminder_type"]) == (
        "pending", world.student_user, "sms", "Upcoming Lesson")
    assert reminder["message"] == "Upcoming lesson: lesson booked for 11 Mar 2026 at 09:00, pick-up at 12 Bay St"
    related = world.db.fetch_one("SELECT related_type, related_id FROM reminders")
    assert related == {"related_type": "schedule", "related_id": booked.id}
    audit = world.db.fetch_one("SELECT action, entity_type, entity_id, user_id FROM audit_trail"
                               " WHERE action = 'schedule_created'")
    assert audit == {"action": "schedule_created", "entity_type": "schedule", "entity_id": booked.id,
                     "user_id": world.staff_user}


@pytest.mark.parametrize("day, start, send_at, send_on", [
    # April change (5 Apr 2026, 03:00 AEDT -> 02:00 AEST): 10:00 AEST = 00:00 UTC; 24 h before = 11:00 AEDT on 4 Apr
    ("2026-04-05", "10:00", datetime(2026, 4, 4, 0, 0), date(2026, 4, 4)),
    # October change (4 Oct 2026, 02:00 AEST -> 03:00 AEDT): 10:00 AEDT = 23:00 UTC 3 Oct; 24 h before = 09:00 AEST
    ("2026-10-04", "10:00", datetime(2026, 10, 2, 23, 0), date(2026, 10, 3)),
    # the repeated hour means its first occurrence: 02:30 AEDT (+11) = 15:30 UTC on 4 Apr
    ("2026-04-05", "02:30", datetime(2026, 4, 3, 15, 30), date(2026, 4, 4)),
])
def test_the_reminder_is_24_hours_before_the_start_across_daylight_saving(world, day, start, send_at, send_on):
    end = "11:00" if start == "10:00" else "03:00"
    booked = world.book(date=day, start_time=start, end_time=end)
    [reminder] = world.reminders(booked.id)
    assert (reminder["send_at"], reminder["send_on"]) == (send_at, send_on)


def test_the_branch_time_zone_decides_the_reminder(world):
    world.db.execute("UPDATE branches SET timezone = 'Australia/Perth' WHERE id = :id", {"id": world.branch})
    booked = world.book()  # 09:00 AWST (+8) = 01:00 UTC on 11 Mar
    [reminder] = world.reminders(booked.id)
    assert reminder["send_at"] == datetime(2026, 3, 10, 1, 0)


def test_a_booking_less_than_a_day_ahead_is_reminded_at_once(world):
    now = datetime(2026, 3, 10, 20, 0)  # 07:00 on 11 Mar in Melbourne
    [reminder] = world.reminders(world.book(now=now).id)
    assert reminder["send_at"] == now and reminder["send_on"] == date(2026, 3, 11)


@pytest.mark.parametrize("overrides, field", [
    ({"end_time": "08:00"}, "end_time"),
    ({"end_time": "09:00"}, "end_time"),
    ({"start_time": "08:00", "end_time": "20:00"}, "end_time"),
    ({"date": "2026-02-30"}, "date"),
    ({"date": "2026-10-04", "start_time": "02:30", "end_time": "03:30"}, "start_time"),
    ({"start_time": "9am"}, "start_time"),
    ({"event_type": "party"}, "event_type"),
    ({"instructor_id": 999999}, "instructor_id"),
    ({"instructor_id": True}, "instructor_id"),
    ({"student_id": "abc"}, "student_id"),
    ({"vehicle_id": 2 ** 40}, "vehicle_id"),
    ({"branch_id": 999999}, "branch_id"),
    ({"enrollment_id": 999999}, "enrollment_id"),
    ({"accept_warnings": "yes"}, "accept_warnings"),
    ({"topic": "x" * 161}, "topic"),
])
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(world, overrides, field):
    before = world.counts()
    with pytest.raises(ValidationFailed) as caught:
        world.book(**overrides)
    assert field in caught.value.errors
    assert world.counts() == before


def test_staff_cannot_book_with_another_branchs_people_or_car(world):
    before = world.counts()
    foreign = {"instructor_id": f.make_instructor(world.db, branch_id=world.other),
               "student_id": f.make_student(world.db, branch_id=world.other),
               "vehicle_id": f.make_vehicle(world.db, branch_id=world.other), "branch_id": world.other}
    for field, value in foreign.items():
        with pytest.raises(ValidationFailed) as caught:
            world.book(**{field: value})
        assert field in caught.value.errors
    assert world.counts() == before
    booked = world.book(world.admin, vehicle_id=foreign["vehicle_id"])  # admin may use any branch's car
    assert booked.id


@pytest.mark.parametrize("role", ["instructor", "student"])
def test_instructors_and_students_may_not_book(world, role):
    with pytest.raises(PermissionDenied):
        world.book(Actor(user_id=world.student_user, role=role, branch_id=world.branch))


def test_a_clash_is_refused_with_every_reason_and_writes_nothing(world):
    world.book()
    before = world.counts()
    with pytest.raises(BookingConflict) as caught:
        world.book(start_time="09:30", end_time="10:30")
    assert {c["kind"] for c in caught.value.conflicts} == {"instructor", "vehicle", "student"}
    assert all(c["severity"] == "block" for c in caught.value.conflicts)
    assert world.counts() == before


def test_warnings_refuse_until_accepted_and_the_accepted_ones_are_audited(world):
    f.make_working_hours(world.db, world.instructor, 2, time(12, 0), time(17, 0))  # Wednesdays from 12:00
    before = world.counts()
    with pytest.raises(BookingConflict) as caught:
        world.book()
    assert [c["kind"] for c in caught.value.conflicts] == ["outside_working_hours"]
    assert world.counts() == before
    booked = world.book(accept_warnings=True)
    assert [w["kind"] for w in booked.warnings] == ["outside_working_hours"]
    details = world.db.fetch_value("SELECT details FROM audit_trail WHERE action = 'schedule_created'")
    assert "outside_working_hours" in details


def test_a_student_without_an_active_enrolment_is_refused(world):
    world.db.execute("UPDATE enrollments SET status = 'completed' WHERE id = :id", {"id": world.enrollment})
    before = world.counts()
    with pytest.raises(BookingConflict) as caught:
        world.book()
    assert [c["kind"] for c in caught.value.conflicts] == ["enrollment"]
    assert world.counts() == before


def test_a_move_is_rechecked_and_replans_the_reminder(world):
    booked = world.book()
    other = world.book(student_id=world.new_student(), vehicle_id=None, instructor_id=world.new_instructor(),
                       start_time="11:00", end_time="12:00")
    # moving onto the other lesson's student-free slot but with its instructor clashes
    other_instructor = world.db.fetch_value("SELECT instructor_id FROM schedules WHERE id = :id", {"id": other.id})
    before = world.counts()
    with pytest.raises(BookingConflict) as caught:
        scheduling.move(world.db, world.staff, booked.id, {"instructor_id": other_instructor, "start_time": "11:30",
                                                           "end_time": "12:30"}, now=NOW, settings=SETTINGS)
    assert [c["kind"] for c in caught.value.conflicts] == ["instructor"]
    assert world.counts() == before
    # moving within its own old slot never clashes with itself
    scheduling.move(world.db, world.staff, booked.id, {"date": "2026-04-05", "start_time": "09:30",
                                                       "end_time": "10:30"}, now=NOW, settings=SETTINGS)
    reminder, notice = world.reminders(booked.id)
    assert reminder["status"] == "pending"
    assert reminder["send_at"] == datetime(2026, 4, 3, 23, 30)  # 09:30 AEST 5 Apr = 23:30 UTC 4 Apr, minus 24 h
    assert "5 Apr 2026 at 09:30" in reminder["message"]
    # the student hears of the move at once: a transactional SMS (in-app when every channel is off)
    assert (notice["reminder_type"], notice["channel"], notice["send_at"], notice["status"]) == (
        "Lesson moved", "sms", NOW, "pending")
    assert notice["message"] == "Your lesson is now on 5 Apr 2026 at 09:30."
    assert world.db.fetch_value("SELECT COUNT(*) AS n FROM audit_trail WHERE action = 'schedule_moved'") == 1


def test_cancel_records_who_when_why_and_withdraws_the_reminder(world):
    booked = world.book()
    scheduling.cancel(world.db, world.staff, booked.id, "Student unwell", now=NOW)
    row = world.db.fetch_one("SELECT status, cancelled_at, cancelled_by, cancel_reason FROM schedules WHERE id = :id",
                             {"id": booked.id})
    assert row == {"status": "cancelled", "cancelled_at": NOW, "cancelled_by": world.staff_user,
                   "cancel_reason": "Student unwell"}
    assert [r["status"] for r in world.reminders(booked.id)] == ["cancelled"]
    assert world.db.fetch_value("SELECT COUNT(*) AS n FROM audit_trail WHERE action = 'schedule_cancelled'") == 1
    with pytest.raises(ValidationFailed):  # twice: nothing more to cancel
        scheduling.cancel(world.db, world.staff, booked.id, "again", now=NOW)
    world.book()  # the slot is free again: cancelled events never block


def test_cancel_needs_a_reason_and_scope(world):
    booked = world.book()
    with pytest.raises(ValidationFailed) as caught:
        scheduling.cancel(world.db, world.staff, booked.id, "  ", now=NOW)
    assert "cancel_reason" in caught.value.errors
    outsider = Actor(user_id=world.staff_user, role="staff", branch_id=world.other)
    with pytest.raises(NotFound):
        scheduling.cancel(world.db, outsider, booked.id, "no", now=NOW)
    assert world.db.fetch_value("SELECT status FROM schedules WHERE id = :id", {"id": booked.id}) == "scheduled"


def test_a_deadlock_is_retried_then_answered_busy(world, monkeypatch):
    calls = []
    real = BookingDAO.lock_parties

    def flaky(self, *args):
        calls.append(1)
        if len(calls) <= 2:
            raise DbConflict("The record is busy; please try again")
        return real(self, *args)

    monkeypatch.setattr(BookingDAO, "lock_parties", flaky)
    assert world.book().id and len(calls) == 3

    def always(self, *args):
        raise DbConflict("The record is busy; please try again")

    monkeypatch.setattr(BookingDAO, "lock_parties", always)
    before = world.counts()
    with pytest.raises(BookingBusy) as caught:
        world.book(start_time="12:00", end_time="13:00")
    assert caught.value.status == 409
    assert world.counts() == before


def test_the_event_feed_is_one_query_whatever_the_rows(world):
    from app.core.database import count_queries

    for hour in (9, 11, 13, 15):
        world.book(start_time=f"{hour:02d}:00", end_time=f"{hour + 1:02d}:00")
    with count_queries() as counter:
        feed = scheduling.list_events(world.db, world.admin, {"start": "2026-03-01", "end": "2026-03-31"},
                                      settings=SETTINGS)
    found = feed["events"]
    assert len(found) == 4 and counter.count == 1 and feed["truncated"] is False
    assert found[0]["start"] == "2026-03-11T09:00:00+11:00"


def test_the_event_feed_is_capped_and_says_so(world, monkeypatch):
    for hour in (9, 11, 13):
        world.book(start_time=f"{hour:02d}:00", end_time=f"{hour + 1:02d}:00")
    monkeypatch.setattr(scheduling, "MAX_EVENTS", 2)
    feed = scheduling.list_events(world.db, world.admin, {"start": "2026-03-01", "end": "2026-03-31"},
                                  settings=SETTINGS)
    assert [e["start"][11:16] for e in feed["events"]] == ["09:00", "11:00"] and feed["truncated"] is True


def test_the_reminder_message_names_the_event_type_and_the_day_without_a_leading_zero():
    from zoneinfo import ZoneInfo

    plan = scheduling.reminder_plan("exam", date(2026, 4, 5), time(8, 5), ZoneInfo("Australia/Melbourne"), NOW)
    assert plan["message"] == "Upcoming exam: exam booked for 5 Apr 2026 at 08:05"
    assert set(plan) == {"send_at", "send_on", "message", "start_at"}
    assert plan["start_at"] == datetime(2026, 4, 4, 22, 5)  # 08:05 AEST on 5 Apr, the key's time
    assert scheduling.reminder_plan("lesson", date(2026, 2, 1), time(9, 0), ZoneInfo("Australia/Melbourne"),
                                    NOW) is None  # already started: nothing to remind


def _revive(world, schedule_id, actor=None, now=NOW, **kwargs):
    return scheduling.revive(world.db, actor or world.staff, schedule_id, now=now, settings=SETTINGS, **kwargs)


def test_revive_puts_a_cancelled_event_back_and_queues_its_reminder_again(world):
    booked = world.book(pickup_location="12 Bay St")
    scheduling.cancel(world.db, world.staff, booked.id, "Student unwell", now=NOW)
    revived = _revive(world, booked.id, now=datetime(2026, 3, 2, 0, 0))
    assert revived.id == booked.id and revived.warnings == []
    row = world.db.fetch_one("SELECT status, cancelled_at, cancelled_by, cancel_reason FROM schedules WHERE id = :id",
                             {"id": booked.id})
    assert row == {"status": "scheduled", "cancelled_at": None, "cancelled_by": None, "cancel_reason": None}
    (new,) = world.reminders(booked.id)  # the withdrawn one, for the same time and key, is pending again
    assert (new["status"], new["channel"], new["reminder_type"], new["recipient_user_id"]) == (
        "pending", "sms", "Upcoming Lesson", world.student_user)
    assert new["send_at"] == datetime(2026, 3, 9, 22, 0)
    assert new["message"] == "Upcoming lesson: lesson booked for 11 Mar 2026 at 09:00, pick-up at 12 Bay St"
    audit = world.db.fetch_one("SELECT user_id, before_json, after_json FROM audit_trail"
                               " WHERE action = 'schedule_revived'")
    before = json.loads(audit["before_json"])
    assert before == {"status": "cancelled", "cancelled_at": "2026-03-01 00:00:00", "cancelled_by": world.staff_user,
                      "cancel_reason": "Student unwell"}
    assert json.loads(audit["after_json"])["status"] == "scheduled" and audit["user_id"] == world.staff_user
    with pytest.raises(ValidationFailed) as caught:  # only cancelled events revive
        _revive(world, booked.id)
    assert "status" in caught.value.errors


def test_revive_is_refused_when_another_lesson_took_the_slot_and_writes_nothing(world):
    booked = world.book()
    scheduling.cancel(world.db, world.staff, booked.id, "Student unwell", now=NOW)
    world.book(student_id=world.new_student(), vehicle_id=None, start_time="09:30", end_time="10:30")
    before = world.counts()
    with pytest.raises(BookingConflict) as caught:
        _revive(world, booked.id)
    assert [c["kind"] for c in caught.value.conflicts] == ["instructor"]
    assert world.counts() == before
    row = world.db.fetch_one("SELECT status, cancel_reason FROM schedules WHERE id = :id", {"id": booked.id})
    assert row == {"status": "cancelled", "cancel_reason": "Student unwell"}
    assert [r["status"] for r in world.reminders(booked.id)] == ["cancelled"]


def test_revive_warnings_refuse_until_accepted(world):
    booked = world.book()
    scheduling.cancel(world.db, world.staff, booked.id, "Rain", now=NOW)
    f.make_working_hours(world.db, world.instructor, 2, time(12, 0), time(17, 0))  # Wednesdays from 12:00
    with pytest.raises(BookingConflict) as caught:
        _revive(world, booked.id)
    assert [c["kind"] for c in caught.value.conflicts] == ["outside_working_hours"]
    assert world.db.fetch_value("SELECT status FROM schedules WHERE id = :id", {"id": booked.id}) == "cancelled"
    revived = _revive(world, booked.id, accept_warnings=True)
    assert [w["kind"] for w in revived.warnings] == ["outside_working_hours"]
    details = world.db.fetch_value("SELECT details FROM audit_trail WHERE action = 'schedule_revived'")
    assert "outside_working_hours" in details


def test_reviving_a_past_event_queues_no_reminder(world):
    booked = world.book()
    scheduling.cancel(world.db, world.staff, booked.id, "Rain", now=NOW)
    _revive(world, booked.id, now=datetime(2026, 3, 12, 0, 0))  # the lesson was the day before
    assert [r["status"] for r in world.reminders(booked.id)] == ["cancelled"]
    assert world.db.fetch_value("SELECT status FROM schedules WHERE id = :id", {"id": booked.id}) == "scheduled"


def test_revive_is_office_only_and_scoped(world):
    booked = world.book()
    scheduling.cancel(world.db, world.staff, booked.id, "Rain", now=NOW)
    for role in ("instructor", "student"):
        with pytest.raises(PermissionDenied):
            _revive(world, booked.id, Actor(user_id=world.student_user, role=role, branch_id=world.branch,
                                            instructor_id=world.instructor))
    with pytest.raises(NotFound):
        _revive(world, booked.id, Actor(user_id=world.staff_user, role="staff", branch_id=world.other))
    with pytest.raises(NotFound):
        _revive(world, 999999)
    with pytest.raises(ValidationFailed) as caught:
        _revive(world, booked.id, accept_warnings="yes")
    assert "accept_warnings" in caught.value.errors
    assert world.db.fetch_value("SELECT status FROM schedules WHERE id = :id", {"id": booked.id}) == "cancelled"


def test_revive_retries_a_deadlock(world, monkeypatch):
    booked = world.book()
    scheduling.cancel(world.db, world.staff, booked.id, "Rain", now=NOW)
    calls = []
    real = BookingDAO.lock_parties

    def flaky(self, *args):
        calls.append(1)
        if len(calls) == 1:
            raise DbConflict("The record is busy; please try again")
        return real(self, *args)

    monkeypatch.setattr(BookingDAO, "lock_parties", flaky)
    assert _revive(world, booked.id).id == booked.id and len(calls) == 2
