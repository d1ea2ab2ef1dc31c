"""ScheduleDAO and the scheduling engine on both backends.

ScheduleDAO.upcoming: which lessons, in which order, with which names, in one query. Then the original's
tests/schedule_test.php scenarios (a month's calendar holds a given day, a student's lessons, instructor 1 /
vehicle 1 at 09:15-10:15 on a day with a 09:00-10:00 lesson conflicts, "upcoming schedules" is not empty)
rebuilt so that they never depend on today's date: every fixture is placed relative to a fixed or computed
day and ``today`` is passed in (the original failed after 12 Mar 2025 because its seed lessons were past).
And the original's defects, proven fixed: cancelled lessons never block, touching end-to-start is allowed,
end <= start is refused, and every reason is reported rather than the first."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import calendar
from datetime import date, datetime, time, timedelta

import pytest

from app.core import clock
from app.core.database import count_queries
from app.core.errors import ValidationFailed
from app.dao.booking import BookingDAO
from app.dao.schedule import ScheduleDAO
from app.services import conflicts, scheduling
from app.services.conflicts import Slot
from app.services.scheduling import BookingConflict
from app.services.scope import Actor
from tests.factories import (
    allocate, make_branch, make_course, make_enrollment, make_instructor, make_schedule, make_student,
    make_unavailability, make_user, make_vehicle,
)

TODAY = date(2026, 3, 10)
DAY = timedelta(days=1)


def _topics(rows) -> list:
    return [r["lesson_topic"] for r in rows]


def _lesson(db, enrollment, instructor, day, start, topic, **kw):
    return make_schedule(db, enrollment, instructor, scheduled_date=day, start_time=start,
                         end_time=time(start.hour + 1, start.minute), lesson_topic=topic, **kw)


def test_orders_by_date_then_start_time_then_id(db):
    enrollment, instructor = make_enrollment(db), make_instructor(db)
    # inserted out of order; 9:00 vs 10:00 would sort wrongly as unpadded text ("10" < "9")
    _lesson(db, enrollment, instructor, TODAY + 2 * DAY, time(9, 0), "d2-0900")
    _lesson(db, enrollment, instructor, TODAY + DAY, time(14, 30), "d1-1430")
    _lesson(db, enrollment, instructor, TODAY + DAY, time(10, 0), "d1-1000")
    _lesson(db, enrollment, instructor, TODAY + DAY, time(9, 0), "d1-0900-a")
    _lesson(db, enrollment, instructor, TODAY + DAY, time(9, 0), "d1-0900-b")
    _lesson(db, enrollment, instructor, TODAY + 10 * DAY, time(8, 0), "d10-0800")
    assert _topics(ScheduleDAO(db).upcoming(TODAY)) == [
        "d1-0900-a", "d1-0900-b", "d1-1000", "d1-1430", "d2-0900", "d10-0800",
    ]


def test_only_scheduled_lessons_from_today_on(db):
    enrollment, instructor = make_enrollment(db), make_instructor(db)
    _lesson(db, enrollment, instructor, TODAY, time(7, 0), "today-early")  # already started today: still listed
    _lesson(db, enrollment, instructor, TODAY + DAY, time(9, 0), "tomorrow")
    _lesson(db, enrollment, instructor, TODAY - DAY, time(9, 0), "yesterday")
    _lesson(db, enrollment, instructor, TODAY + DAY, time(11, 0), "cancelled", status="cancelled")
    _lesson(db, enrollment, instructor, TODAY + DAY, time(12, 0), "completed", status="completed")
    _lesson(db, enrollment, instructor, TODAY + DAY, time(13, 0), "not-completed", status="not_completed")
    rows = ScheduleDAO(db).upcoming(TODAY)
    assert _topics(rows) == ["today-early", "tomorrow"]
    assert {r["status"] for r in rows} == {"scheduled"}
    assert _topics(ScheduleDAO(db).upcoming(TODAY + DAY)) == ["tomorrow"]


def test_rows_carry_the_joined_names_and_typed_values(db):
    branch = make_branch(db, name="Bayside Training Hub")
    student_user = make_user(db, first_name="Jack", last_name="Mason", branch_id=branch)
    instructor_user = make_user(db, role="instructor", first_name="Amelia", last_name="Ward", branch_id=branch)
    student = make_student(db, user_id=student_user, branch_id=branch)
    instructor = make_instructor(db, user_id=instructor_user, branch_id=branch)
    course = make_course(db, title="Learner Essentials Package")
    enrollment = make_enrollment(db, student, course)
    vehicle = make_vehicle(db, name="Toyota Corolla Hybrid", branch_id=branch)
    lesson_id = make_schedule(db, enrollment, instructor, vehicle_id=vehicle, branch_id=branch,
                              scheduled_date=TODAY + DAY, start_time=time(9, 0), end_time=time(10, 30),
                              event_type="exam", lesson_topic="Parking techniques")
    no_vehicle = make_schedule(db, enrollment, instructor, scheduled_date=TODAY + 2 * DAY)
    rows = ScheduleDAO(db).upcoming(TODAY)
    assert rows[0] == {
        "id": lesson_id, "scheduled_date": TODAY + DAY, "start_time": time(9, 0), "end_time": time(10, 30),
        "event_type": "exam", "status": "scheduled", "lesson_topic": "Parking techniques",
        "course_title": "Learner Essentials Package",
        "student_first_name": "Jack", "student_last_name": "Mason",
        "instructor_first_name": "Amelia", "instructor_last_name": "Ward",
        "vehicle_name": "Toyota Corolla Hybrid", "branch_name": "Bayside Training Hub",
        # the ids the page links with (issue 6), carried by the same query
        "instructor_id": instructor, "vehicle_id": vehicle, "branch_id": branch, "student_id": student,
        "course_id": course,
    }
    assert rows[1]["id"] == no_vehicle
    assert rows[1]["vehicle_name"] is None and rows[1]["branch_name"] is None  # left joins keep the row


def test_filters_by_instructor_student_and_branch(db):
    north, south = make_branch(db), make_branch(db)
    amelia, raj = make_instructor(db), make_instructor(db)
    jack, mia = make_student(db), make_student(db)
    course = make_course(db)
    e_jack, e_jack2, e_mia = (make_enrollment(db, jack, course), make_enrollment(db, jack, make_course(db)),
                              make_enrollment(db, mia, course))
    _lesson(db, e_jack, amelia, TODAY + DAY, time(9, 0), "jack-amelia-north", branch_id=north)
    _lesson(db, e_jack2, raj, TODAY + DAY, time(11, 0), "jack2-raj-south", branch_id=south)
    _lesson(db, e_mia, amelia, TODAY + 2 * DAY, time(9, 0), "mia-amelia-south", branch_id=south)
    _lesson(db, e_mia, raj, TODAY + 3 * DAY, time(9, 0), "mia-raj-nobranch")
    dao = ScheduleDAO(db)
    assert _topics(dao.upcoming(TODAY, instructor_id=amelia)) == ["jack-amelia-north", "mia-amelia-south"]
    assert _topics(dao.upcoming(TODAY, student_id=jack)) == ["jack-amelia-north", "jack2-raj-south"]
    assert _topics(dao.upcoming(TODAY, branch_id=south)) == ["jack2-raj-south", "mia-amelia-south"]
    assert _topics(dao.upcoming(TODAY, instructor_id=raj, student_id=mia)) == ["mia-raj-nobranch"]
    assert _topics(dao.upcoming(TODAY, instructor_id=amelia, branch_id=north)) == ["jack-amelia-north"]
    assert dao.upcoming(TODAY, student_id=mia, branch_id=north) == []
    assert len(dao.upcoming(TODAY)) == 4


def test_limit_keeps_the_earliest(db):
    enrollment, instructor = make_enrollment(db), make_instructor(db)
    for offset in (5, 3, 1, 4, 2):
        _lesson(db, enrollment, instructor, TODAY + offset * DAY, time(9, 0), f"day-{offset}")
    dao = ScheduleDAO(db)
    assert _topics(dao.upcoming(TODAY, limit=2)) == ["day-1", "day-2"]
    assert len(dao.upcoming(TODAY)) == 5  # default limit 20
    assert len(dao.upcoming(TODAY, limit="3")) == 3  # coerced to int before binding


def test_one_query_however_many_rows(db):
    branch = make_branch(db)
    for n in range(6):
        enrollment = make_enrollment(db, make_student(db, branch_id=branch))
        make_schedule(db, enrollment, make_instructor(db), vehicle_id=make_vehicle(db), branch_id=branch,
                      scheduled_date=TODAY + n * DAY)
    dao = ScheduleDAO(db)
    with count_queries() as counter:
        rows = dao.upcoming(TODAY, branch_id=branch)
    assert len(rows) == 6
    assert counter.count == 1


# ------------------------------------------------------------------------------------------------------------
# The original's tests/schedule_test.php, rebuilt so that no assertion depends on the day the suite runs.
# Each scenario runs around several anchor days: the original's seed day (5 Mar 2025), a leap day, the last
# day of a year, and a day computed from the real clock ("today"). Fixtures are placed relative to the anchor
# and ``today`` is always passed in, so "upcoming" can never run dry the way the original's did.

ORIGINAL_DAY = date(2025, 3, 5)  # the seed lesson the original's calendar(2025, 3) looked for
ANCHORS = ["2025-03-05", "2024-02-29", "2026-12-31", "today"]
SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne"}


def _anchor(name: str) -> date:
    return clock.today() if name == "today" else date.fromisoformat(name)


def _month(day: date) -> tuple[date, date]:
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


class Original:
    """The original's seed in miniature: instructor 1 (Amelia Ward) and vehicle 1 teach student 1 (Jack
    Mason) a 09:00-10:00 lesson on ``day``; Mia Chen is another student of the same branch and course."""

    def __init__(self, db, day: date):
        self.db, self.day = db, day
        self.branch = make_branch(db, name="CBD Headquarters")
        self.instructor = make_instructor(db, user_id=make_user(
            db, role="instructor", first_name="Amelia", last_name="Ward", branch_id=self.branch),
            branch_id=self.branch)
        self.vehicle = make_vehicle(db, name="Toyota Corolla", plate_number="ORI-001", branch_id=self.branch)
        self.course = make_course(db, title="Learner Essentials")
        allocate(db, self.course, self.instructor)
        self.student_user = make_user(db, first_name="Jack", last_name="Mason", branch_id=self.branch)
        self.student = make_student(db, user_id=self.student_user, branch_id=self.branch)
        self.enrollment = make_enrollment(db, self.student, self.course)
        self.other_student = make_student(db, user_id=make_user(
            db, first_name="Mia", last_name="Chen", branch_id=self.branch), branch_id=self.branch)
        self.other_enrollment = make_enrollment(db, self.other_student, self.course)
        self.lesson = self.add(day, time(9, 0), time(10, 0))
        self.admin = Actor(user_id=make_user(db, role="admin"), role="admin")
        self.now = datetime.combine(day - timedelta(days=30), time(0, 0))  # the booking's "now", a month before

    def add(self, day, start, end, enrollment=None, **kw) -> int:
        kw.setdefault("vehicle_id", self.vehicle)
        return make_schedule(self.db, enrollment or self.enrollment, kw.pop("instructor", self.instructor),
                             branch_id=self.branch, scheduled_date=day, start_time=start, end_time=end, **kw)

    def slot(self, start, end, **kw) -> Slot:
        fields = dict(instructor_id=self.instructor, student_id=self.other_student, vehicle_id=self.vehicle,
                      branch_id=self.branch, enrollment_id=self.other_enrollment, day=self.day, start=start, end=end)
        fields.update(kw)
        return Slot(**fields)

    def check(self, start, end, **kw):
        return conflicts.check(self.db, self.slot(start, end, **kw), today=self.day - timedelta(days=7))

    def book(self, start, end, **kw):
        data = {"student_id": self.student, "instructor_id": self.instructor, "vehicle_id": self.vehicle,
                "event_type": "lesson", "date": self.day.isoformat(), "start_time": start, "end_time": end}
        data.update(kw)
        return scheduling.book(self.db, self.admin, data, now=self.now, settings=SETTINGS)

    def counts(self):
        return tuple(self.db.fetch_value(f"SELECT COUNT(*) AS n FROM {t}")
                     for t in ("schedules", "reminders", "audit_trail"))


@pytest.mark.parametrize("anchor", ANCHORS)
def test_the_month_calendar_holds_the_day_and_nothing_outside_the_month(db, anchor):
    day = _anchor(anchor)
    world = Original(db, day)
    first, last = _month(day)
    on_first = world.add(first, time(7, 0), time(8, 0), vehicle_id=None)
    on_last = world.add(last, time(18, 0), time(19, 0), vehicle_id=None)
    cancelled = world.add(day, time(11, 0), time(12, 0), status="cancelled")
    world.add(first - timedelta(days=1), time(9, 0), time(10, 0))  # the previous month's last day
    world.add(last + timedelta(days=1), time(9, 0), time(10, 0))   # the next month's first day
    rows = BookingDAO(db).events(first, last)
    assert {r["id"] for r in rows} == {on_first, world.lesson, cancelled, on_last}  # every status is on the calendar
    assert [(r["scheduled_date"], r["start_time"]) for r in rows] == sorted(
        (r["scheduled_date"], r["start_time"]) for r in rows)
    assert world.day in {r["scheduled_date"] for r in rows}
    # the same month through the calendar feed, with the branch's offset on each event
    feed = scheduling.list_events(db, world.admin, {"start": first.isoformat(), "end": last.isoformat()},
                                  settings=SETTINGS)
    [lesson] = [e for e in feed["events"] if e["id"] == world.lesson]
    assert lesson["start"].startswith(f"{day.isoformat()}T09:00:00+1")  # +11:00 or +10:00, by season
    assert lesson["student_id"] == world.student and lesson["vehicle_id"] == world.vehicle
    assert {e["id"] for e in feed["events"]} == {on_first, world.lesson, cancelled, on_last}


def test_the_original_seed_month_holds_5_march_2025(db):
    """calendar(2025, 3) has 2025-03-05, literally."""
    Original(db, ORIGINAL_DAY)
    assert ORIGINAL_DAY in {r["scheduled_date"] for r in BookingDAO(db).events(date(2025, 3, 1), date(2025, 3, 31))}


@pytest.mark.parametrize("anchor", ANCHORS)
def test_a_students_lessons_are_theirs_through_every_enrolment(db, anchor):
    day = _anchor(anchor)
    world = Original(db, day)
    second_course = make_enrollment(db, world.student, make_course(db))
    later = world.add(day + timedelta(days=2), time(13, 0), time(14, 0), enrollment=second_course)
    world.add(day, time(11, 0), time(12, 0), enrollment=world.other_enrollment)  # Mia's, not Jack's
    found = BookingDAO(db).events(day, day + timedelta(days=2), student_id=world.student)
    assert [r["id"] for r in found] == [world.lesson, later]
    assert {r["student_id"] for r in found} == {world.student}
    upcoming = ScheduleDAO(db).upcoming(day, student_id=world.student)
    assert [r["id"] for r in upcoming] == [world.lesson, later]
    student = Actor(user_id=world.student_user, role="student", branch_id=world.branch, student_id=world.student)
    feed = scheduling.list_events(db, student, {"start": day.isoformat(), "end": (day + timedelta(days=2)).isoformat()},
                                  settings=SETTINGS)
    assert [e["id"] for e in feed["events"]] == [world.lesson, later]


@pytest.mark.parametrize("anchor", ANCHORS)
def test_instructor_1_and_vehicle_1_at_0915_conflict_with_the_0900_lesson(db, anchor):
    world = Original(db, _anchor(anchor))
    overlaps = ScheduleDAO(db).live_overlaps(world.day, time(9, 15), time(10, 15), world.instructor,
                                             world.other_student, world.vehicle)
    assert [(r["kind"], r["id"]) for r in overlaps] == [("instructor", world.lesson), ("vehicle", world.lesson)]
    found = world.check(time(9, 15), time(10, 15))
    assert [(c.kind, c.severity) for c in found] == [("instructor", "block"), ("vehicle", "block")]
    assert all(f"09:00–10:00 (lesson #{world.lesson})" in c.message for c in found)
    # the same times a day later, or with another instructor and car, are free
    assert world.check(time(9, 15), time(10, 15), day=world.day + timedelta(days=1)) == []
    raj = make_instructor(db, branch_id=world.branch)
    allocate(db, world.course, raj)
    assert world.check(time(9, 15), time(10, 15), instructor_id=raj, vehicle_id=None) == []


@pytest.mark.parametrize("anchor", ANCHORS)
def test_upcoming_schedules_are_never_empty_when_lessons_lie_ahead_of_today(db, anchor):
    today = _anchor(anchor)
    world = Original(db, today + timedelta(days=1))  # the seed lesson moves with "today"
    world.add(today - timedelta(days=1), time(9, 0), time(10, 0))  # yesterday's: not upcoming
    rows = ScheduleDAO(db).upcoming(today)
    assert [r["id"] for r in rows] == [world.lesson]
    assert rows[0]["scheduled_date"] > today


def test_upcoming_is_relative_to_the_today_passed_in_not_to_the_clock(db):
    """Why the original failed after 12 Mar 2025: its seed lessons (to 12 Mar) had become the past. Here
    the same rows are upcoming or not only according to ``today``, whatever the real date is."""
    world = Original(db, ORIGINAL_DAY)
    last_seed = world.add(date(2025, 3, 12), time(15, 0), time(16, 0))
    dao = ScheduleDAO(db)
    assert [r["id"] for r in dao.upcoming(date(2025, 3, 1))] == [world.lesson, last_seed]
    assert [r["id"] for r in dao.upcoming(date(2025, 3, 12))] == [last_seed]
    assert dao.upcoming(date(2025, 3, 13)) == []


# ------------------------------------------------------------------------------------------------------------
# The original's defects, proven fixed (its ScheduleModel: cancelled lessons blocked, end <= start was
# inserted, and a single generic "schedule conflict" hid which party clashed).

@pytest.mark.parametrize("status, blocks", [
    ("scheduled", True), ("completed", True), ("no_show", True), ("cancelled", False), ("not_completed", False),
])
def test_only_live_events_hold_their_slot(db, status, blocks):
    world = Original(db, date(2026, 3, 11))
    db.execute("UPDATE schedules SET status = :s WHERE id = :id", {"s": status, "id": world.lesson})
    overlaps = ScheduleDAO(db).live_overlaps(world.day, time(9, 15), time(10, 15), world.instructor,
                                             world.student, world.vehicle)
    assert bool(overlaps) is blocks
    assert bool(world.check(time(9, 15), time(10, 15), student_id=world.student,
                            enrollment_id=world.enrollment)) is blocks


def test_a_cancelled_lesson_frees_its_slot_for_a_new_booking(db):
    world = Original(db, date(2026, 3, 11))
    before = world.counts()
    with pytest.raises(BookingConflict):
        world.book("09:15", "10:15")
    assert world.counts() == before
    scheduling.cancel(db, world.admin, world.lesson, "Student unwell", now=world.now)
    booked = world.book("09:15", "10:15")  # the same instructor, car and student
    assert booked.id != world.lesson
    assert db.fetch_value("SELECT status FROM schedules WHERE id = :id", {"id": booked.id}) == "scheduled"


def test_touching_end_to_start_is_allowed_on_every_side(db):
    world = Original(db, date(2026, 3, 11))
    dao = ScheduleDAO(db)
    for start, end in ((time(8, 0), time(9, 0)), (time(10, 0), time(11, 0))):
        assert dao.live_overlaps(world.day, start, end, world.instructor, world.student, world.vehicle) == []
    before = world.book("08:00", "09:00")
    after = world.book("10:00", "11:00")
    assert before.id and after.id
    rows = db.fetch_all("SELECT start_time, end_time FROM schedules WHERE scheduled_date = :d ORDER BY start_time",
                        {"d": world.day})
    assert [(r["start_time"], r["end_time"]) for r in rows] == [
        (time(8, 0), time(9, 0)), (time(9, 0), time(10, 0)), (time(10, 0), time(11, 0))]


@pytest.mark.parametrize("start, end", [("10:00", "09:00"), ("10:00", "10:00"), ("23:59", "00:00")])
def test_end_not_after_start_is_refused_and_nothing_is_written(db, start, end):
    world = Original(db, date(2026, 3, 11))
    before = world.counts()
    with pytest.raises(ValidationFailed) as caught:
        world.book(start, end)
    assert caught.value.field == "end_time" and caught.value.errors["end_time"] == ["The end must be after the start."]
    assert world.counts() == before
    with pytest.raises(ValidationFailed) as engine:
        world.check(time.fromisoformat(start), time.fromisoformat(end))
    assert engine.value.field == "end_time"


def test_every_reason_is_reported_not_only_the_first(db):
    world = Original(db, date(2026, 3, 11))
    make_unavailability(db, world.instructor, datetime(2026, 3, 11, 9, 0), datetime(2026, 3, 11, 9, 30),
                        reason="Dentist")
    before = world.counts()
    with pytest.raises(BookingConflict) as caught:
        world.book("09:15", "10:15")
    assert [(c["kind"], c["severity"]) for c in caught.value.conflicts] == [
        ("instructor", "block"), ("vehicle", "block"), ("student", "block"), ("instructor_unavailable", "block")]
    messages = [c["message"] for c in caught.value.conflicts]
    assert messages[:3] == [
        f"Amelia Ward already teaches 09:00–10:00 (lesson #{world.lesson}).",
        f"Toyota Corolla (ORI-001) is already booked 09:00–10:00 (lesson #{world.lesson}).",
        f"Jack Mason is already booked 09:00–10:00 (lesson #{world.lesson}).",
    ]
    assert "Dentist" in messages[3]
    assert world.counts() == before
