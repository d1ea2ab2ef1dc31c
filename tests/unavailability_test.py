"""Instructor unavailability windows on both databases: written, listed and deleted the way the instructors
service does it (audited, scoped); bad windows refused naming the field with nothing written (end before
start, zero length, 30 February, outside 1900-2100, through the service and the form); and their effect in
the conflict engine and the booking service: an overlap is an ``instructor_unavailable`` block whose message
carries the window's reason, touching is free, a window over several days blocks its middle day, another
instructor's window is nothing, and windows are wall-clock times in the branch's zone (clock changes
included)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
from datetime import date, datetime, time

import pytest

from app.core import passwords
from app.core.errors import NotFound, ValidationFailed
from app.dao.instructor import InstructorDAO
from app.services import conflicts, instructors, scheduling
from app.services.conflicts import Conflict, Slot
from app.services.scheduling import BookingConflict
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, login, post_form

NOW = datetime(2026, 3, 1, 0, 0)      # naive UTC, 11:00 in Melbourne
TODAY = date(2026, 3, 1)
DAY = date(2026, 3, 11)               # a Wednesday
APRIL_CHANGE = date(2026, 4, 5)       # Melbourne: 03:00 AEDT -> 02:00 AEST, 02:00-03:00 happens twice
OCTOBER_CHANGE = date(2026, 10, 4)    # Melbourne: 02:00 AEST -> 03:00 AEDT, 02:00-03:00 never happens
SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne"}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))


class World:
    """Amelia Ward (Bayside) teaches Jack Mason; Raj Patel is another Bayside instructor; Priya is Bayside
    staff and Noor is staff of Northside."""

    def __init__(self, db, timezone=None):
        self.db = db
        self.branch = f.make_branch(db, name="Bayside", timezone=timezone)
        self.other_branch = f.make_branch(db, name="Northside")
        self.instructor_user = f.make_user(db, role="instructor", first_name="Amelia", last_name="Ward",
                                           branch_id=self.branch)
        self.instructor = f.make_instructor(db, user_id=self.instructor_user, branch_id=self.branch)
        self.raj = f.make_instructor(db, user_id=f.make_user(db, role="instructor", first_name="Raj",
                                                             last_name="Patel", branch_id=self.branch),
                                     branch_id=self.branch)
        self.student = f.make_student(db, user_id=f.make_user(db, first_name="Jack", last_name="Mason",
                                                              branch_id=self.branch), branch_id=self.branch)
        self.course = f.make_course(db, title="Learner Essentials")
        self.enrollment = f.make_enrollment(db, self.student, self.course)
        for instructor in (self.instructor, self.raj):
            f.allocate(db, self.course, instructor)
        self.staff = Actor(user_id=f.make_user(db, role="staff", branch_id=self.branch), role="staff",
                           branch_id=self.branch)
        self.outsider = Actor(user_id=f.make_user(db, role="staff", branch_id=self.other_branch), role="staff",
                              branch_id=self.other_branch)
        self.amelia = Actor(user_id=self.instructor_user, role="instructor", branch_id=self.branch,
                            instructor_id=self.instructor)

    def window(self, start, end, reason=None, instructor=None, actor=None) -> int:
        """A window written as the instructors page writes it (service, audited)."""
        return instructors.add_unavailability(self.db, actor or self.staff, instructor or self.instructor,
                                              start, end, reason, NOW)

    def slot(self, day=DAY, start=time(9, 0), end=time(10, 0), **kw) -> Slot:
        fields = dict(instructor_id=self.instructor, student_id=self.student, branch_id=self.branch,
                      enrollment_id=self.enrollment, day=day, start=start, end=end)
        fields.update(kw)
        return Slot(**fields)

    def check(self, day=DAY, start=time(9, 0), end=time(10, 0), **kw):
        return conflicts.check(self.db, self.slot(day, start, end, **kw), today=TODAY)

    def book(self, day=DAY, start="09:00", end="10:00", settings=SETTINGS, **kw):
        data = {"student_id": self.student, "instructor_id": self.instructor, "event_type": "lesson",
                "date": day.isoformat(), "start_time": start, "end_time": end}
        data.update(kw)
        return scheduling.book(self.db, self.staff, data, now=NOW, settings=settings)

    def counts(self):
        return tuple(self.db.fetch_value(f"SELECT COUNT(*) AS n FROM {t}")
                     for t in ("instructor_unavailability", "audit_trail", "schedules"))

    def audit(self, action):
        return self.db.fetch_all("SELECT entity_type, entity_id, user_id FROM audit_trail WHERE action = :a"
                                 " ORDER BY id", {"a": action})


@pytest.fixture
def world(db):
    return World(db)


def kinds(found):
    return [(c.kind, c.severity) for c in found]


# ------------------------------------------------------------------------------------------ write, list, delete

def test_windows_are_added_listed_and_deleted_through_the_instructors_service(world):
    dao = InstructorDAO(world.db)
    past = world.window(at(date(2026, 2, 20), 8), at(date(2026, 2, 20), 17), "Training day")
    later = world.window(at(DAY, 13), at(DAY, 17), "  Dentist  ")
    earlier = world.window(at(DAY, 8), at(DAY, 9, 30), "   ")
    theirs = world.window(at(DAY, 8), at(DAY, 18), "Leave", instructor=world.raj)
    rows = dao.unavailability(world.instructor)
    assert [r["id"] for r in rows] == [past, earlier, later]   # by start, only Amelia's
    assert [(r["start_datetime"], r["end_datetime"], r["reason"]) for r in rows[1:]] == [
        (at(DAY, 8), at(DAY, 9, 30), None),                        # a blank reason is stored as NULL
        (at(DAY, 13), at(DAY, 17), "Dentist"),                     # trimmed
    ]
    assert [r["id"] for r in dao.unavailability(world.instructor, ending_after=at(date(2026, 3, 1), 0))] == [
        earlier, later]                                            # windows already over are hidden
    assert [a["entity_id"] for a in world.audit("instructor_unavailability_added")] == [past, later, earlier, theirs]
    assert {a["entity_type"] for a in world.audit("instructor_unavailability_added")} == {"instructor_unavailability"}

    instructors.delete_unavailability(world.db, world.staff, world.instructor, later, NOW)
    assert [r["id"] for r in dao.unavailability(world.instructor)] == [past, earlier]
    assert [a["entity_id"] for a in world.audit("instructor_unavailability_deleted")] == [later]
    with pytest.raises(NotFound):  # Raj's window addressed through Amelia
        instructors.delete_unavailability(world.db, world.staff, world.instructor, theirs, NOW)
    with pytest.raises(NotFound):  # already gone
        instructors.delete_unavailability(world.db, world.staff, world.instructor, later, NOW)
    assert dao.find_unavailability(world.raj, theirs) is not None


def test_the_instructor_manages_their_own_windows_and_nobody_elses(world):
    mine = world.window(at(DAY, 8), at(DAY, 9), actor=world.amelia)
    assert world.audit("instructor_unavailability_added") == [
        {"entity_type": "instructor_unavailability", "entity_id": mine, "user_id": world.instructor_user}]
    before = world.counts()
    with pytest.raises(NotFound):
        world.window(at(DAY, 8), at(DAY, 9), instructor=world.raj, actor=world.amelia)
    with pytest.raises(NotFound):  # staff of another branch
        world.window(at(DAY, 8), at(DAY, 9), actor=world.outsider)
    with pytest.raises(NotFound):
        instructors.delete_unavailability(world.db, world.outsider, world.instructor, mine, NOW)
    assert world.counts() == before


@pytest.mark.parametrize("start, end, field, message", [
    (at(DAY, 10), at(DAY, 9), "end_datetime", "The end must be after the start."),
    (at(DAY, 10), at(DAY, 10), "end_datetime", "The end must be after the start."),
    (at(DAY, 10), at(date(2026, 3, 10), 11), "end_datetime", "The end must be after the start."),
    (None, at(DAY, 10), "start_datetime", "Enter the start and the end."),
    (at(DAY, 10), None, "end_datetime", "Enter the start and the end."),
])
def test_a_bad_window_is_refused_naming_the_field_and_nothing_is_written(world, start, end, field, message):
    before = world.counts()
    with pytest.raises(ValidationFailed) as caught:
        world.window(start, end, "Dentist")
    assert (caught.value.status, caught.value.field, caught.value.message) == (422, field, message)
    assert world.counts() == before


def test_a_reason_over_160_characters_is_refused(world):
    before = world.counts()
    with pytest.raises(ValidationFailed) as caught:
        world.window(at(DAY, 8), at(DAY, 9), "r" * 161)
    assert caught.value.field == "reason"
    assert world.counts() == before
    assert world.window(at(DAY, 8), at(DAY, 9), "r" * 160)


@pytest.mark.parametrize("year", [1850, 2101, 9999])
def test_a_window_outside_1900_to_2100_is_refused_by_the_service_too(world, year):
    before = world.counts()
    with pytest.raises(ValidationFailed) as caught:
        world.window(datetime(year, 3, 11, 8, 0), datetime(year, 3, 11, 9, 0))
    assert caught.value.field in ("start_datetime", "end_datetime")
    assert world.counts() == before


# ------------------------------------------------------------------------------------------ through the form

FEEDBACK = r'id="{}-feedback">([^<]*)<'


@pytest.mark.parametrize("start, end, field", [
    ("2026-02-30T09:00", "2026-03-02T10:00", "start_datetime"),   # no 30 February
    ("2026-03-02T09:00", "2026-02-30T10:00", "end_datetime"),
    ("1899-12-31T09:00", "1900-01-01T10:00", "start_datetime"),   # before 1900
    ("2100-12-31T09:00", "2101-01-01T10:00", "end_datetime"),     # after 2100
    ("2026-03-11T10:00", "2026-03-11T09:00", "end_datetime"),     # end before start
    ("2026-03-11T10:00", "2026-03-11T10:00", "end_datetime"),     # zero length
    ("2026-03-11T25:00", "2026-03-11T26:00", "start_datetime"),
])
def test_the_form_refuses_bad_windows_with_422_and_writes_nothing(app, client, db, start, end, field):
    branch = f.make_branch(db)
    f.make_user(db, role="admin", email="admin@x.com", password_hash=passwords.hash_password(DEMO_PASSWORD))
    instructor = f.make_instructor(db, branch_id=branch)
    assert login(client, "admin@x.com").status_code in (302, 303)
    before = db.fetch_value("SELECT COUNT(*) AS n FROM instructor_unavailability")
    audit_before = db.fetch_value("SELECT COUNT(*) AS n FROM audit_trail")
    response = post_form(client, f"/instructors/{instructor}/unavailability",
                         {"start_datetime": start, "end_datetime": end, "reason": "Dentist"})
    assert response.status_code == 422
    match = re.search(FEEDBACK.format(field), response.get_data(as_text=True))
    assert match and match.group(1).strip(), f"no message on {field}"
    assert db.fetch_value("SELECT COUNT(*) AS n FROM instructor_unavailability") == before
    assert db.fetch_value("SELECT COUNT(*) AS n FROM audit_trail") == audit_before
    good = post_form(client, f"/instructors/{instructor}/unavailability",
                     {"start_datetime": "2026-03-11T09:00", "end_datetime": "2026-03-11T10:00", "reason": "Dentist"})
    assert good.status_code == 303
    assert db.fetch_one("SELECT start_datetime, end_datetime, reason FROM instructor_unavailability") == {
        "start_datetime": at(DAY, 9), "end_datetime": at(DAY, 10), "reason": "Dentist"}


# ------------------------------------------------------------------------------------------ the conflict engine

@pytest.mark.parametrize("start, end", [
    (at(DAY, 8), at(DAY, 9, 1)),        # covers the start by a minute
    (at(DAY, 9, 59), at(DAY, 11)),      # covers the end by a minute
    (at(DAY, 9, 15), at(DAY, 9, 45)),   # inside the lesson
    (at(DAY, 0), at(DAY, 23, 59)),      # the whole day
])
def test_an_overlapping_window_blocks_with_its_reason_in_the_message(world, start, end):
    world.window(start, end, "Medical appointment")
    span = f"{start:%H:%M}–{end:%H:%M}"
    assert world.check() == [Conflict(
        "instructor_unavailable", f"Amelia Ward is unavailable on 11 Mar 2026, {span} (Medical appointment).",
        "block")]


def test_a_window_without_a_reason_says_so_plainly(world):
    world.window(at(DAY, 9), at(DAY, 10))
    assert [c.message for c in world.check()] == ["Amelia Ward is unavailable on 11 Mar 2026, 09:00–10:00."]


def test_touching_windows_do_not_block(world):
    world.window(at(DAY, 7), at(DAY, 9), "School run")
    world.window(at(DAY, 10), at(DAY, 12), "Lunch")
    world.window(at(date(2026, 3, 10), 9), at(DAY, 9), "Overnight")   # ends exactly at the lesson's start
    assert world.check() == []
    assert kinds(world.check(start=time(8, 59), end=time(10, 0))) == [("instructor_unavailable", "block")] * 2
    assert kinds(world.check(start=time(9, 0), end=time(10, 1))) == [("instructor_unavailable", "block")]


def test_a_window_over_several_days_blocks_the_middle_day_and_not_the_days_after(world):
    world.window(at(date(2026, 3, 9), 12), at(date(2026, 3, 13), 12), "Annual leave")
    found = world.check()  # 11 Mar, the middle day, 09:00-10:00
    assert found == [Conflict(
        "instructor_unavailable",
        "Amelia Ward is unavailable from 9 Mar 2026, 12:00 to 13 Mar 2026, 12:00 (Annual leave).", "block")]
    assert kinds(world.check(day=date(2026, 3, 9), start=time(11, 0), end=time(12, 30))) == [
        ("instructor_unavailable", "block")]
    assert world.check(day=date(2026, 3, 9), start=time(11, 0), end=time(12, 0)) == []   # before it starts
    assert world.check(day=date(2026, 3, 13), start=time(12, 0), end=time(13, 0)) == []  # after it ends
    assert world.check(day=date(2026, 3, 16)) == []


def test_another_instructors_window_changes_nothing(world):
    world.window(at(DAY, 0), at(DAY, 23, 59), "Leave", instructor=world.raj)
    assert world.check() == []
    assert kinds(world.check(instructor_id=world.raj)) == [("instructor_unavailable", "block")]


def test_every_overlapping_window_is_reported_in_time_order(world):
    world.window(at(DAY, 9, 30), at(DAY, 11), "Second")
    world.window(at(DAY, 8), at(DAY, 9, 15), "First")
    assert [c.message for c in world.check()] == [
        "Amelia Ward is unavailable on 11 Mar 2026, 08:00–09:15 (First).",
        "Amelia Ward is unavailable on 11 Mar 2026, 09:30–11:00 (Second).",
    ]


def test_a_booking_is_refused_by_a_window_and_allowed_once_it_is_deleted(world):
    window = world.window(at(DAY, 9, 30), at(DAY, 12), "Car service pick-up")
    schedules = world.counts()[2]
    with pytest.raises(BookingConflict) as caught:
        world.book()
    assert caught.value.conflicts == [{
        "kind": "instructor_unavailable", "severity": "block",
        "message": "Amelia Ward is unavailable on 11 Mar 2026, 09:30–12:00 (Car service pick-up)."}]
    assert world.counts()[2] == schedules
    assert world.book(start="08:00", end="09:30").id                    # touching the window: booked
    assert scheduling.preview(world.db, world.staff, {
        "student_id": world.student, "instructor_id": world.instructor, "date": DAY.isoformat(),
        "start_time": "11:00", "end_time": "11:30"}, now=NOW, settings=SETTINGS)[0].kind == "instructor_unavailable"
    instructors.delete_unavailability(world.db, world.staff, world.instructor, window, NOW)
    assert world.book(start="10:00", end="11:00").id


# ------------------------------------------------------------------------------------------ wall-clock, branch zone

@pytest.mark.parametrize("zone, app_zone", [("Australia/Perth", "Australia/Melbourne"), (None, "Australia/Perth")])
def test_windows_are_wall_clock_times_in_the_branch_zone(db, zone, app_zone):
    """A Perth window 09:00-10:00 blocks the Perth lesson at 09:00 local, whatever APP_TIMEZONE says, and never
    a lesson at the same instant written in another zone's clock (09:00 Perth = 12:00 Melbourne in March)."""
    world = World(db, timezone=zone)
    world.window(at(DAY, 9), at(DAY, 10), "Dentist")
    settings = {"APP_TIMEZONE": app_zone}
    with pytest.raises(BookingConflict) as caught:
        world.book(start="09:00", end="10:00", settings=settings)
    assert [c["kind"] for c in caught.value.conflicts] == ["instructor_unavailable"]
    assert world.book(start="12:00", end="13:00", settings=settings).id
    assert world.book(start="06:00", end="07:00", settings=settings).id


def test_a_window_on_the_april_change_day_is_compared_by_wall_clock(db):
    world = World(db, timezone="Australia/Melbourne")
    world.window(at(APRIL_CHANGE, 2), at(APRIL_CHANGE, 3), "Repeated hour")   # 02:00-03:00 (both runs of it)
    assert kinds(world.check(day=APRIL_CHANGE, start=time(2, 30), end=time(3, 30))) == [
        ("instructor_unavailable", "block")]
    assert kinds(world.check(day=APRIL_CHANGE, start=time(1, 0), end=time(2, 1))) == [
        ("instructor_unavailable", "block")]
    assert world.check(day=APRIL_CHANGE, start=time(3, 0), end=time(4, 0)) == []   # touches its end
    assert world.check(day=APRIL_CHANGE, start=time(1, 0), end=time(2, 0)) == []   # touches its start
    with pytest.raises(BookingConflict):
        world.book(day=APRIL_CHANGE, start="02:30", end="03:30")
    assert world.book(day=APRIL_CHANGE, start="03:00", end="04:00").id


def test_a_window_across_the_october_gap_blocks_by_wall_clock(db):
    world = World(db, timezone="Australia/Melbourne")
    world.window(at(OCTOBER_CHANGE, 1), at(OCTOBER_CHANGE, 3), "Night shift")   # 01:00-03:00, really one hour
    assert kinds(world.check(day=OCTOBER_CHANGE, start=time(1, 30), end=time(3, 30))) == [
        ("instructor_unavailable", "block")]
    assert world.check(day=OCTOBER_CHANGE, start=time(3, 0), end=time(4, 0)) == []
    with pytest.raises(BookingConflict):
        world.book(day=OCTOBER_CHANGE, start="00:30", end="01:30")
    assert world.book(day=OCTOBER_CHANGE, start="03:00", end="04:00").id


def test_the_profile_hides_a_window_only_once_it_is_over_in_the_branch_zone(app, client, db, frozen):
    branch = f.make_branch(db, name="Perth", timezone="Australia/Perth")
    f.make_user(db, role="admin", email="admin@x.com", password_hash=passwords.hash_password(DEMO_PASSWORD))
    instructor = f.make_instructor(db, branch_id=branch)
    f.make_unavailability(db, instructor, at(DAY, 9), at(DAY, 10), reason="Perth dentist")
    frozen(datetime(2026, 3, 11, 1, 30))  # 09:30 in Perth (+08:00), 12:30 in Melbourne: the window is on
    assert login(client, "admin@x.com").status_code in (302, 303)
    assert "Perth dentist" in client.get(f"/instructors/{instructor}").get_data(as_text=True)
