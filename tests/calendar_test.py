"""CalendarDAO and the calendar service (services/calendar.py) on SQLite and MariaDB: the events of a week,
a day's lanes, a month's aggregate counts, working hours and windows; the layout (rows, spans, side-by-side
overlaps, shading, bookable slots and their prefill), scope per role, bad parameters, another branch's
event shown as busy, the October clock change in Melbourne, and a constant number of queries."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, time, timedelta

import pytest

from app.core.database import count_queries
from app.core.errors import AppError, NotFound
from app.dao.calendar import CalendarDAO
from app.services import calendar
from app.services.scope import Actor
from tests import factories as f

TODAY = date(2026, 3, 10)                 # a Tuesday; its week runs Mon 9 .. Sun 15 Mar 2026
NOW = datetime(2026, 3, 9, 22, 0)         # 09:00 on Tue 10 Mar in Melbourne (UTC+11), naive UTC
MONDAY, SUNDAY = date(2026, 3, 9), date(2026, 3, 15)
SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne"}


class World:
    """Branch A (Alpha) with an instructor, a student, a course and a car; branch B (Beta) with its own."""

    def __init__(self, db):
        self.db = db
        self.a = f.make_branch(db, name="Alpha", timezone="Australia/Melbourne")
        self.b = f.make_branch(db, name="Beta")
        self.instructor = self.make_instructor("Amelia", "Ward", self.a)
        self.other_instructor = self.make_instructor("Raj", "Patel", self.b)
        self.course = f.make_course(db, title="Learner Essentials")
        self.student_user = f.make_user(db, role="student", branch_id=self.a, first_name="Jack", last_name="Mason",
                                        phone="0401 555 777")
        self.student = f.make_student(db, user_id=self.student_user, branch_id=self.a, address_line="12 Marine Pde",
                                      city="St Kilda")
        self.enrolment = f.make_enrollment(db, student_id=self.student, course_id=self.course)
        self.foreign_student = f.make_student(db, user_id=f.make_user(db, role="student", branch_id=self.b,
                                                                      first_name="Zara", last_name="Ahmed"),
                                              branch_id=self.b)
        self.foreign_enrolment = f.make_enrollment(db, student_id=self.foreign_student, course_id=self.course)
        self.vehicle = f.make_vehicle(db, branch_id=self.a, name="Corolla", plate_number="ORI-123")
        self.foreign_vehicle = f.make_vehicle(db, branch_id=self.b, name="Yaris")

    def make_instructor(self, first, last, branch, status="active"):
        user = f.make_user(self.db, role="instructor", branch_id=branch, first_name=first, last_name=last,
                           status=status)
        return f.make_instructor(self.db, user_id=user, branch_id=branch)

    def lesson(self, day=TODAY, start=time(10, 0), end=time(11, 0), **kw):
        row = {"enrollment_id": self.enrolment, "instructor_id": self.instructor, "branch_id": self.a,
               "scheduled_date": day, "start_time": start, "end_time": end}
        row.update(kw)
        return f.make_schedule(self.db, **row)

    # actors
    def admin(self):
        return Actor(user_id=1, role="admin")

    def staff(self, branch=None):
        return Actor(user_id=2, role="staff", branch_id=branch or self.a)

    def as_instructor(self, instructor=None):
        return Actor(user_id=3, role="instructor", branch_id=self.a, instructor_id=instructor or self.instructor)

    def as_student(self):
        return Actor(user_id=self.student_user, role="student", branch_id=self.a, student_id=self.student)


@pytest.fixture
def w(db):
    return World(db)


def week(db, actor, now=NOW, **args):
    return calendar.week(db, actor, {k: str(v) for k, v in args.items()}, now=now, settings=SETTINGS)


def day(db, actor, now=NOW, **args):
    return calendar.day(db, actor, {k: str(v) for k, v in args.items()}, now=now, settings=SETTINGS)


def month(db, actor, now=NOW, **args):
    return calendar.month(db, actor, {k: str(v) for k, v in args.items()}, now=now, settings=SETTINGS)


def column(page, when):
    return next(c for c in page["columns"] if c.day == when)


# --------------------------------------------------------------------------- DAO

def test_events_of_an_instructor_week_with_names_every_status_and_inclusive_bounds(db, w):
    before = w.lesson(day=MONDAY - timedelta(days=1))
    first = w.lesson(day=MONDAY, start=time(16, 0), end=time(17, 0), status="completed", vehicle_id=w.vehicle,
                     lesson_topic="Hill starts", pickup_location="Station")
    early = w.lesson(day=MONDAY, start=time(9, 0), end=time(10, 0), status="cancelled")
    last = w.lesson(day=SUNDAY, status="no_show", event_type="exam")
    after = w.lesson(day=SUNDAY + timedelta(days=1))
    w.lesson(day=MONDAY, instructor_id=w.other_instructor, branch_id=w.b)
    rows = CalendarDAO(db).events(MONDAY, SUNDAY, instructor_ids=[w.instructor])
    assert [r["id"] for r in rows] == [early, first, last]
    assert before not in [r["id"] for r in rows] and after not in [r["id"] for r in rows]
    row = rows[1]
    assert (row["student_first_name"], row["student_last_name"], row["student_phone"]) == ("Jack", "Mason",
                                                                                           "0401 555 777")
    assert (row["instructor_first_name"], row["vehicle_name"], row["vehicle_plate"]) == ("Amelia", "Corolla", "ORI-123")
    assert (row["course_title"], row["lesson_topic"], row["pickup_location"]) == ("Learner Essentials", "Hill starts",
                                                                                  "Station")
    assert row["student_id"] == w.student and row["student_branch_id"] == w.a
    assert row["start_time"] == time(16, 0) and row["scheduled_date"] == MONDAY


def test_events_by_student_vehicle_and_lanes(db, w):
    second = f.make_enrollment(db, student_id=w.student, course_id=f.make_course(db))
    one = w.lesson(day=MONDAY, vehicle_id=w.vehicle)
    two = w.lesson(enrollment_id=second, instructor_id=w.other_instructor, branch_id=w.b, start=time(14, 0),
                   end=time(15, 0))
    three = w.lesson(enrollment_id=w.foreign_enrolment, instructor_id=w.other_instructor, branch_id=w.b,
                     vehicle_id=w.vehicle, day=SUNDAY)
    dao = CalendarDAO(db)
    assert [r["id"] for r in dao.events(MONDAY, SUNDAY, student_id=w.student)] == [one, two]
    assert [r["id"] for r in dao.events(MONDAY, SUNDAY, vehicle_id=w.vehicle)] == [one, three]
    assert [r["id"] for r in dao.events(MONDAY, SUNDAY, instructor_ids=[w.instructor, w.other_instructor])] == [
        one, two, three]
    with count_queries() as counter:
        assert dao.events(MONDAY, SUNDAY, instructor_ids=[]) == []
        assert dao.working_hours([]) == [] and dao.unavailability([], NOW, NOW) == []
    assert counter.count == 0
    with pytest.raises(ValueError):
        dao.events(MONDAY, SUNDAY, student_id=w.student, vehicle_id=w.vehicle)


def test_lanes_are_the_branchs_active_instructors_by_name_paged(db, w):
    zed = w.make_instructor("Zoe", "Zed", w.a)
    adams = w.make_instructor("Al", "Adams", w.a)
    w.make_instructor("Gone", "Away", w.a, status="archived")
    dao = CalendarDAO(db)
    assert [r["id"] for r in dao.lanes(w.a, limit=50)] == [adams, w.instructor, zed]
    assert [r["id"] for r in dao.lanes(w.a, limit=2, offset=2)] == [zed]
    assert dao.lane_count(w.a) == 3 and dao.lane_count(w.b) == 1
    assert dao.lanes(w.a, limit=1)[0]["last_name"] == "Adams"


def test_month_days_counts_are_aggregates_and_the_firsts_are_limited(db, w):
    busy = date(2026, 3, 12)
    ids = [w.lesson(day=busy, start=time(8 + n, 0), end=time(9 + n, 0)) for n in range(5)]
    w.lesson(day=busy, start=time(7, 0), end=time(8, 0), status="cancelled")
    w.lesson(day=busy, start=time(6, 0), end=time(7, 0), status="not_completed")
    quiet = w.lesson(day=date(2026, 3, 20), status="completed")
    w.lesson(day=date(2026, 3, 21), enrollment_id=w.foreign_enrolment, instructor_id=w.other_instructor,
             branch_id=w.b)
    dao = CalendarDAO(db)
    statuses = ("scheduled", "completed", "no_show")
    rows = dao.month_days(date(2026, 3, 1), date(2026, 3, 31), statuses, per_day=3, instructor_ids=[w.instructor])
    assert [r["id"] for r in rows] == ids[:3] + [quiet]
    assert [int(r["day_count"]) for r in rows] == [5, 5, 5, 1]
    assert rows[0]["student_first_name"] == "Jack"
    archived = w.make_instructor("Gone", "Away", w.a, status="archived")
    assert dao.branch_instructor_ids(w.a) == [w.instructor, archived]
    by_branch = dao.month_days(date(2026, 3, 1), date(2026, 3, 31), statuses, per_day=3,
                               instructor_ids=dao.branch_instructor_ids(w.a))
    assert [r["id"] for r in by_branch] == [r["id"] for r in rows]
    assert len(dao.month_days(date(2026, 3, 1), date(2026, 3, 31), statuses, per_day=3,
                              instructor_ids=dao.branch_instructor_ids(w.b))) == 1
    assert dao.month_days(date(2026, 3, 1), date(2026, 3, 31), statuses, per_day=3, instructor_ids=[]) == []
    by_student = dao.month_days(date(2026, 3, 1), date(2026, 3, 31), ("cancelled",), per_day=3, student_id=w.student)
    assert len(by_student) == 1 and int(by_student[0]["day_count"]) == 1


def test_working_hours_unavailability_and_downtime_overlapping_the_range(db, w):
    f.make_working_hours(db, w.instructor, 1, time(8, 0), time(12, 0))
    f.make_working_hours(db, w.instructor, 1, time(13, 0), time(17, 0))
    f.make_working_hours(db, w.other_instructor, 0, time(9, 0), time(17, 0))
    start, end = datetime(2026, 3, 9), datetime(2026, 3, 16)
    inside = f.make_unavailability(db, w.instructor, datetime(2026, 3, 11, 12), datetime(2026, 3, 11, 14))
    f.make_unavailability(db, w.instructor, datetime(2026, 3, 2, 12), datetime(2026, 3, 9, 0))  # ends as it starts
    across = f.make_unavailability(db, w.instructor, datetime(2026, 3, 15, 20), datetime(2026, 3, 17, 8))
    down = f.make_downtime(db, w.vehicle, datetime(2026, 3, 12, 7), datetime(2026, 3, 12, 12), reason="Tyres")
    f.make_downtime(db, w.vehicle, datetime(2026, 3, 20, 7), datetime(2026, 3, 20, 12))
    dao = CalendarDAO(db)
    hours = dao.working_hours([w.instructor, w.other_instructor])
    assert [(r["instructor_id"], r["weekday"], r["start_time"]) for r in hours] == [
        (w.instructor, 1, time(8, 0)), (w.instructor, 1, time(13, 0)), (w.other_instructor, 0, time(9, 0))]
    assert [r["id"] for r in dao.unavailability([w.instructor], start, end)] == [inside, across]
    assert [(r["id"], r["reason"]) for r in dao.downtime(w.vehicle, start, end)] == [(down, "Tyres")]


# --------------------------------------------------------------------------- layout

def test_week_rows_spans_shading_and_slots_with_their_prefill(db, w):
    f.make_working_hours(db, w.instructor, 1, time(8, 0), time(16, 0))  # Tuesdays only
    booked = w.lesson(start=time(10, 0), end=time(11, 0))
    page = week(db, w.staff(), instructor_id=w.instructor, date="2026-03-12")
    assert (page["start"], page["end"], page["today"]) == (MONDAY, SUNDAY, TODAY)
    assert [c.day for c in page["columns"]] == [MONDAY + timedelta(days=n) for n in range(7)]
    assert [c.is_today for c in page["columns"]] == [False, True] + [False] * 5
    grid = page["grid"]
    assert (grid.start, grid.end, grid.rows) == (6 * 60, 21 * 60, 60)
    tuesday = column(page, TODAY)
    (event,) = tuesday.events
    assert (event["id"], event["row"], event["span"], event["col"]) == (booked, 17, 4, None)
    assert (event["start"], event["end"], event["title"], event["status"], event["type"]) == (
        "10:00", "11:00", "Jack Mason", "scheduled", "lesson")
    assert [(s["kind"], s["start"], s["end"]) for s in tuesday.shades] == [("off", "06:00", "08:00"),
                                                                           ("off", "16:00", "21:00")]
    assert [s["kind"] for s in column(page, MONDAY).shades] == ["off"]  # no hours on Mondays: off all day
    slots = [(s["start"], s["end"]) for s in tuesday.slots]
    assert slots[0] == ("09:00", "10:00")  # it is 09:00 now: nothing earlier today
    assert ("10:00", "11:00") not in slots and ("11:00", "12:00") in slots and slots[-1] == ("20:00", "21:00")
    assert column(page, MONDAY).slots == []  # yesterday
    first = tuesday.slots[0]
    assert first["prefill"] == {"instructor_id": w.instructor, "branch_id": w.a, "date": "2026-03-10",
                                "start_time": "09:00", "end_time": "10:00"}
    assert (first["row"], first["span"]) == (13, 4)
    assert page["can_book"] and [lane["id"] for lane in page["picker"]] == [w.instructor]


def test_slots_skip_closed_hours_unavailability_and_live_events_but_not_cancelled_ones(db, w):
    wednesday = date(2026, 3, 11)
    db.insert("branch_opening_hours", {"branch_id": w.a, "weekday": 2, "open_time": time(8, 0),
                                       "close_time": time(18, 0)})
    f.make_unavailability(db, w.instructor, datetime(2026, 3, 11, 12), datetime(2026, 3, 11, 14), reason="Dentist")
    w.lesson(day=wednesday, start=time(9, 0), end=time(10, 0), status="cancelled")
    w.lesson(day=wednesday, start=time(15, 0), end=time(16, 30))
    w.lesson(day=wednesday, start=time(16, 30), end=time(17, 0), status="no_show")
    page = week(db, w.staff(), instructor_id=w.instructor)
    col = column(page, wednesday)
    starts = {s["start"]: s["end"] for s in col.slots}
    assert starts == {"08:00": "09:00", "09:00": "10:00", "10:00": "11:00", "11:00": "12:00", "14:00": "15:00",
                      "17:00": "18:00"}
    kinds = [(s["kind"], s["start"], s["end"]) for s in col.shades]
    assert ("closed", "06:00", "08:00") in kinds and ("closed", "18:00", "21:00") in kinds
    assert ("unavailable", "12:00", "14:00") in kinds
    assert any(s["label"] == "Unavailable: Dentist" for s in col.shades)
    assert column(page, SUNDAY).closed_all_day  # structured hours without a Sunday period
    assert column(page, SUNDAY).slots == []


def test_each_stretch_of_time_has_one_shading_the_strongest_reason(db, w):
    saturday = date(2026, 3, 14)
    db.insert("branch_opening_hours", {"branch_id": w.a, "weekday": 5, "open_time": time(8, 0),
                                       "close_time": time(13, 0)})
    f.make_working_hours(db, w.instructor, 5, time(9, 0), time(12, 0))
    f.make_unavailability(db, w.instructor, datetime(2026, 3, 14, 8), datetime(2026, 3, 14, 18), reason="Course")
    page = week(db, w.staff(), instructor_id=w.instructor)
    shades = [(s["kind"], s["start"], s["end"]) for s in column(page, saturday).shades]
    assert shades == [("closed", "06:00", "08:00"), ("closed", "13:00", "21:00"), ("unavailable", "08:00", "13:00")]
    assert column(page, saturday).slots == []


def test_overlapping_events_sit_side_by_side(db, w):
    cancelled = w.lesson(start=time(17, 0), end=time(18, 0), status="cancelled")
    rebooked = w.lesson(start=time(17, 0), end=time(18, 0))
    alone = w.lesson(start=time(12, 0), end=time(13, 0))
    page = week(db, w.admin(), instructor_id=w.instructor)
    col = column(page, TODAY)
    assert col.columns == 2
    cols = {e["id"]: e["col"] for e in col.events}
    assert cols == {alone: None, cancelled: 1, rebooked: 2}


def test_the_grid_widens_to_fit_early_and_late_events(db, w):
    w.lesson(start=time(5, 15), end=time(6, 15))
    w.lesson(day=date(2026, 3, 13), start=time(21, 0), end=time(22, 30))
    page = week(db, w.admin(), instructor_id=w.instructor)
    assert (page["grid"].start, page["grid"].end) == (5 * 60, 23 * 60)
    assert column(page, TODAY).events[0]["row"] == 2  # 05:15 is the second quarter after 05:00
    assert page["grid"].hours[0] == {"label": "05:00", "row": 1}


def test_student_and_vehicle_weeks(db, w):
    f.make_downtime(db, w.vehicle, datetime(2026, 3, 12, 7), datetime(2026, 3, 12, 12), reason="Tyres")
    mine = w.lesson(vehicle_id=w.vehicle)
    page = week(db, w.as_student())
    assert page["kind"] == "student" and page["title"] == "Jack Mason"
    (event,) = column(page, TODAY).events
    assert (event["id"], event["title"], event["counterpart"]) == (mine, "Amelia Ward", "instructor")
    assert not page["can_book"] and page["picker"] == [] and all(not c.slots for c in page["columns"])
    car = week(db, w.staff(), vehicle_id=w.vehicle)
    assert car["title"] == "Corolla · ORI-123"
    thursday = column(car, date(2026, 3, 12))
    assert [(s["kind"], s["start"], s["end"]) for s in thursday.shades] == [("downtime", "07:00", "12:00")]
    assert "12:00" in {s["start"] for s in thursday.slots} and "08:00" not in {s["start"] for s in thursday.slots}
    assert thursday.slots[0]["prefill"]["vehicle_id"] == w.vehicle


# --------------------------------------------------------------------------- scope and parameters

def test_scope_mirrors_the_event_feed(db, w):
    # admin: anything; staff: their branch only
    assert week(db, w.admin(), instructor_id=w.other_instructor)["subject"]["id"] == w.other_instructor
    for args in ({"instructor_id": w.other_instructor}, {"student_id": w.foreign_student},
                 {"vehicle_id": w.foreign_vehicle}, {"branch_id": w.b}):
        with pytest.raises(NotFound):
            week(db, w.staff(), **args)
        with pytest.raises(NotFound):
            month(db, w.staff(), **args)
    with pytest.raises(NotFound):
        day(db, w.staff(), branch_id=w.b)
    with pytest.raises(NotFound):
        day(db, w.staff(), instructor_id=w.other_instructor)
    with pytest.raises(NotFound):
        calendar.sheet(db, w.staff(), {"instructor_id": str(w.other_instructor)}, now=NOW, settings=SETTINGS)
    # an instructor: their own calendar only
    me = w.as_instructor()
    assert week(db, me)["subject"]["id"] == w.instructor
    assert day(db, me)["subject"]["id"] == w.instructor
    for args in ({"instructor_id": w.other_instructor}, {"student_id": w.student}, {"vehicle_id": w.vehicle},
                 {"branch_id": w.a}):
        with pytest.raises(NotFound):
            week(db, me, **args)
        with pytest.raises(NotFound):
            day(db, me, **args) if "student_id" not in args and "vehicle_id" not in args else week(db, me, **args)
    # a student: their own week and month
    student = w.as_student()
    assert month(db, student)["subject"]["id"] == w.student
    for args in ({"student_id": w.foreign_student}, {"instructor_id": w.instructor}, {"vehicle_id": w.vehicle}):
        with pytest.raises(NotFound):
            week(db, student, **args)
        with pytest.raises(NotFound):
            month(db, student, **args)
    with pytest.raises(NotFound):
        day(db, student)
    # staff without a branch: the notice, no rows
    lost = Actor(user_id=9, role="staff", branch_id=None)
    for page in (week(db, lost), day(db, lost), month(db, lost)):
        assert page["no_branch"] and page["columns"] == [] and page["weeks"] == []
    with pytest.raises(NotFound):
        week(db, lost, instructor_id=w.instructor)


def test_the_office_defaults(db, w):
    second = w.make_instructor("Al", "Adams", w.a)
    assert week(db, w.staff())["subject"]["id"] == second  # the branch's first instructor by name
    admin_day = day(db, w.admin())
    assert admin_day["kind"] == "branch" and admin_day["subject"]["id"] == w.a  # Alpha before Beta
    assert [c.lane["id"] for c in admin_day["columns"]] == [second, w.instructor]
    assert day(db, w.admin(), branch_id=w.b)["subject"]["name"] == "Beta"
    assert month(db, w.staff())["kind"] == "branch"
    empty = f.make_branch(db, name="Aardvark")
    assert day(db, w.admin(), branch_id=empty)["columns"] == []
    assert week(db, w.admin(), branch_id=empty)["notice"] == "This branch has no active instructors yet."
    assert calendar.default_view(w.staff()) == "day" and calendar.default_view(w.as_student()) == "week"
    for call in (week, day, month):
        with pytest.raises(NotFound):
            call(db, w.admin(), branch_id=987654)
    with pytest.raises(NotFound):
        week(db, w.admin(), instructor_id=987654)


@pytest.mark.parametrize("name,value", [("instructor_id", "abc"), ("instructor_id", "1" * 20), ("student_id", "-3"),
                                        ("vehicle_id", "1.5"), ("branch_id", "²")])
def test_a_malformed_id_is_a_400_naming_it(db, w, name, value):
    for call in (week, month):
        with pytest.raises(AppError) as caught:
            call(db, w.admin(), **{name: value})
        assert caught.value.status == 400 and caught.value.field == name and name in caught.value.message


def test_bad_dates_and_months_are_ignored_with_a_note(db, w):
    page = week(db, w.admin(), instructor_id=w.instructor, date="2026-02-30")
    assert page["date"] == TODAY and "2026-02-30" in page["notes"][0]
    assert day(db, w.admin(), date="banana")["date"] == TODAY
    bad = month(db, w.admin(), month="2026-13")
    assert bad["month"] == date(2026, 3, 1) and "2026-13" in bad["notes"][0]
    assert month(db, w.admin(), month="2026-02")["month"] == date(2026, 2, 1)
    assert day(db, w.admin(), page="x")["notes"]
    with pytest.raises(AppError) as caught:
        week(db, w.admin(), instructor_id=w.instructor, student_id=w.student)
    assert caught.value.status == 400 and caught.value.field == "student_id"


def test_another_branchs_event_shows_as_busy_without_names(db, w):
    foreign = w.lesson(enrollment_id=w.foreign_enrolment, branch_id=w.b, start=time(14, 0), end=time(15, 0))
    f.make_working_hours(db, w.instructor, 1, time(8, 0), time(20, 0))
    page = week(db, w.staff(), instructor_id=w.instructor)
    (event,) = column(page, TODAY).events
    assert event["masked"] and event["title"] == "Busy (another branch)" and "student_name" not in event
    assert "14:00" not in {s["start"] for s in column(page, TODAY).slots}  # still taken
    seen = week(db, w.admin(), instructor_id=w.instructor)
    assert column(seen, TODAY).events[0]["student_name"] == "Zara Ahmed" and column(seen, TODAY).events[0]["id"] == foreign


# --------------------------------------------------------------------------- time zones

def test_the_october_clock_change_keeps_wall_clock_times(db, w):
    change = date(2026, 10, 4)  # Melbourne: 02:00 jumps to 03:00
    lesson = w.lesson(day=change, start=time(1, 30), end=time(3, 30))
    now = datetime(2026, 10, 2, 0, 0)
    page = day(db, w.staff(), now=now, branch_id=w.a, date=change.isoformat())
    (event,) = page["columns"][0].events
    assert (event["id"], event["start"], event["end"]) == (lesson, "01:30", "03:30")
    assert page["grid"].start == 60 and (event["row"], event["span"]) == (3, 8)
    col = page["columns"][0]
    assert [(s["kind"], s["start"], s["end"]) for s in col.shades if s["kind"] == "gap"] == [("gap", "02:00", "03:00")]
    week_page = week(db, w.staff(), now=now, instructor_id=w.instructor, date=change.isoformat())
    gap_slots = [s for s in column(week_page, change).slots if "02:00" <= s["start"] < "03:00"]
    assert gap_slots == [] and column(week_page, change).events[0]["start"] == "01:30"
    assert "02:00" not in {s["start"] for s in column(week_page, change).slots}
    assert all(s["kind"] != "gap" for s in column(week_page, change - timedelta(days=1)).shades)


def test_today_is_the_branchs_date(db, w):
    perth = f.make_branch(db, name="Perth", timezone="Australia/Perth")
    instructor = w.make_instructor("West", "Coast", perth)
    late = datetime(2026, 3, 10, 14, 30)  # 01:30 on Wed 11 Mar in Melbourne, 22:30 on Tue 10 Mar in Perth
    assert week(db, w.admin(), now=late, instructor_id=instructor)["today"] == TODAY
    assert week(db, w.admin(), now=late, instructor_id=w.instructor)["today"] == date(2026, 3, 11)
    assert week(db, w.admin(), now=late, instructor_id=instructor)["zone"] == "Australia/Perth"


# --------------------------------------------------------------------------- month and sheet

def test_month_counts_firsts_and_more(db, w):
    busy = date(2026, 3, 12)
    for n in range(5):
        w.lesson(day=busy, start=time(8 + n, 0), end=time(9 + n, 0))
    w.lesson(day=busy, start=time(18, 0), end=time(19, 0), status="cancelled")
    page = month(db, w.as_instructor(), month="2026-03")
    assert (page["start"], page["end"]) == (date(2026, 2, 23), date(2026, 4, 5))
    cells = {d["day"]: d for wk in page["weeks"] for d in wk}
    assert len(page["weeks"]) == 6 and all(len(wk) == 7 for wk in page["weeks"])
    cell = cells[busy]
    assert (cell["count"], len(cell["events"]), cell["more"]) == (5, 3, 2)
    assert [e["start"] for e in cell["events"]] == ["08:00", "09:00", "10:00"]
    assert cells[TODAY]["is_today"] and not cells[busy]["is_today"]
    assert not cells[date(2026, 2, 23)]["in_month"] and cells[date(2026, 3, 1)]["in_month"]
    assert page["total"] == 5 and page["month_label"] == "March 2026"
    assert (page["prev"], page["next"]) == (date(2026, 2, 1), date(2026, 4, 1))


def test_sheet_lists_the_day_without_cancelled_lessons(db, w):
    kept = w.lesson(start=time(9, 0), end=time(10, 0), vehicle_id=w.vehicle, pickup_location="Flinders St",
                    notes="Bring the logbook.")
    home = w.lesson(start=time(11, 0), end=time(12, 0))
    w.lesson(start=time(13, 0), end=time(14, 0), status="cancelled")
    page = calendar.sheet(db, w.as_instructor(), {}, now=NOW, settings=SETTINGS)
    assert [e["id"] for e in page["events"]] == [kept, home] and page["cancelled"] == 1
    first, second = page["events"]
    assert (first["student_phone"], first["pickup"], first["vehicle_plate"], first["notes"]) == (
        "0401 555 777", "Flinders St", "ORI-123", "Bring the logbook.")
    assert second["pickup"] is None and second["home_address"] == "12 Marine Pde, St Kilda"
    assert page["title"] == "Amelia Ward" and page["date"] == TODAY
    with pytest.raises(AppError):
        calendar.sheet(db, w.admin(), {"student_id": str(w.student)}, now=NOW, settings=SETTINGS)


# --------------------------------------------------------------------------- queries

def _queries(call):
    with count_queries() as counter:
        call()
    return counter.count


def test_week_and_day_cost_the_same_queries_with_3_or_30_events_and_lanes(db, w):
    f.make_working_hours(db, w.instructor, 1, time(8, 0), time(18, 0))
    db.insert("branch_opening_hours", {"branch_id": w.a, "weekday": 1, "open_time": time(7, 0),
                                       "close_time": time(20, 0)})

    def counts():
        return (_queries(lambda: week(db, w.staff(), instructor_id=w.instructor)),
                _queries(lambda: day(db, w.staff())),
                _queries(lambda: month(db, w.staff())))

    for n in range(3):
        w.lesson(day=MONDAY + timedelta(days=n), start=time(9, 0), end=time(10, 0))
    small = counts()
    for n in range(27):
        lane = w.make_instructor("Lane", f"L{n:02d}", w.a)
        f.make_working_hours(db, lane, 1, time(8, 0), time(16, 0))
        f.make_unavailability(db, lane, datetime(2026, 3, 10, 12), datetime(2026, 3, 10, 13))
        w.lesson(instructor_id=lane, start=time(8 + n % 10, 0), end=time(9 + n % 10, 0))
        w.lesson(day=MONDAY + timedelta(days=n % 7), start=time(8 + n % 10, 0), end=time(9 + n % 10, 30))
    large = counts()
    assert small == large, (small, large)
    assert large[0] <= 6 and large[1] <= 8
