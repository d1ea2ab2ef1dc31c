"""The conflict engine (services/conflicts.py) on both databases: one fixture per conflict kind with its
exact kind, severity and message; touching slots, cancelled events and a moved event never clash; every
reason is reported together, in a stable order; the query count does not grow with the data; bad input
is a ValidationFailed naming the field."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, time, timedelta

import pytest

from app.core.database import count_queries
from app.core.errors import ValidationFailed
from app.services import conflicts
from app.services.conflicts import Conflict, Slot, check
from tests.factories import (
    allocate, make_branch, make_course, make_downtime, make_enrollment, make_instructor, make_schedule,
    make_student, make_unavailability, make_user, make_vehicle, make_working_hours,
)

TODAY = date(2026, 3, 10)          # a Tuesday
DAY = date(2026, 3, 11)            # the lesson's day, a Wednesday (weekday 2)
WEDNESDAY = 2


class World:
    """Amelia Ward teaches Jack Mason (active enrolment in Learner Essentials, allocated) in the Corolla."""

    def __init__(self, db):
        self.db = db
        self.branch = make_branch(db, name="Bayside")
        self.other_branch = make_branch(db, name="Northside")
        self.instructor = make_instructor(db, user_id=make_user(
            db, role="instructor", first_name="Amelia", last_name="Ward", branch_id=self.branch),
            branch_id=self.branch)
        self.student = make_student(db, user_id=make_user(
            db, first_name="Jack", last_name="Mason", branch_id=self.branch), branch_id=self.branch)
        self.course = make_course(db, title="Learner Essentials")
        self.enrollment = make_enrollment(db, self.student, self.course)
        self.vehicle = make_vehicle(db, name="Toyota Corolla", plate_number="ABC-123", branch_id=self.branch)
        allocate(db, self.course, self.instructor)

    def slot(self, start=time(9, 0), end=time(10, 0), **overrides) -> Slot:
        fields = dict(instructor_id=self.instructor, student_id=self.student, vehicle_id=self.vehicle,
                      branch_id=self.branch, enrollment_id=self.enrollment, course_id=self.course,
                      day=DAY, start=start, end=end)
        fields.update(overrides)
        return Slot(**fields)

    def check(self, slot=None, **kw):
        return check(self.db, slot or self.slot(), today=TODAY, **kw)

    def other_enrollment(self) -> int:
        """Another student in another course, so a clash is only the instructor's or the vehicle's."""
        return make_enrollment(self.db, make_student(self.db, branch_id=self.branch), make_course(self.db))

    def lesson(self, start=time(9, 0), end=time(10, 0), enrollment=None, instructor=None, **kw) -> int:
        return make_schedule(self.db, enrollment or self.other_enrollment(), instructor or make_instructor(self.db),
                             scheduled_date=DAY, start_time=start, end_time=end, **kw)


@pytest.fixture
def world(db) -> World:
    return World(db)


def kinds(found):
    return [(c.kind, c.severity) for c in found]


# ------------------------------------------------------------------------------- a clean slot

def test_a_clean_slot_has_no_conflicts(world):
    assert world.check() == []
    assert world.check(world.slot(vehicle_id=None, branch_id=None, enrollment_id=None, course_id=None)) == []


def test_conflict_to_dict_has_exactly_the_api_keys():
    assert Conflict("vehicle", "Car is booked.", "block").to_dict() == {
        "kind": "vehicle", "message": "Car is booked.", "severity": "block"}


# ------------------------------------------------------------------------------- overlaps

def test_instructor_overlap_blocks_and_names_the_lesson(world):
    lesson = world.lesson(time(9, 30), time(10, 30), instructor=world.instructor)
    assert world.check() == [Conflict(
        "instructor", f"Amelia Ward already teaches 09:30–10:30 (lesson #{lesson}).", "block")]


def test_vehicle_overlap_blocks(world):
    exam = world.lesson(time(8, 30), time(9, 15), vehicle_id=world.vehicle, event_type="exam")
    assert world.check() == [Conflict(
        "vehicle", f"Toyota Corolla (ABC-123) is already booked 08:30–09:15 (exam #{exam}).", "block")]
    assert world.check(world.slot(vehicle_id=None)) == []


def test_student_overlap_blocks_through_any_of_their_enrolments(world):
    other_course = make_enrollment(world.db, world.student, make_course(world.db))
    lesson = world.lesson(time(9, 0), time(11, 0), enrollment=other_course)
    assert world.check() == [Conflict(
        "student", f"Jack Mason is already booked 09:00–11:00 (lesson #{lesson}).", "block")]


def test_one_event_sharing_instructor_vehicle_and_student_gives_three_reasons(world):
    lesson = world.lesson(enrollment=world.enrollment, instructor=world.instructor, vehicle_id=world.vehicle)
    found = world.check()
    assert kinds(found) == [("instructor", "block"), ("vehicle", "block"), ("student", "block")]
    assert all(f"#{lesson}" in c.message for c in found)


def test_touching_end_to_start_is_allowed(world):
    for start, end in ((time(8, 0), time(9, 0)), (time(10, 0), time(11, 0))):
        world.lesson(start, end, enrollment=world.enrollment, instructor=world.instructor, vehicle_id=world.vehicle)
    assert world.check() == []
    # one minute more on either side does clash
    assert kinds(world.check(world.slot(time(8, 59), time(10, 0)))) == [
        ("instructor", "block"), ("vehicle", "block"), ("student", "block")]
    assert kinds(world.check(world.slot(time(9, 0), time(10, 1)))) == [
        ("instructor", "block"), ("vehicle", "block"), ("student", "block")]


def test_other_days_never_clash(world):
    make_schedule(world.db, world.enrollment, world.instructor, vehicle_id=world.vehicle,
                  scheduled_date=DAY + timedelta(days=1), start_time=time(9, 0), end_time=time(10, 0))
    assert world.check() == []


@pytest.mark.parametrize("status", ["cancelled", "not_completed"])
def test_cancelled_and_not_completed_events_never_block(world, status):
    world.lesson(enrollment=world.enrollment, instructor=world.instructor, vehicle_id=world.vehicle, status=status)
    assert world.check() == []


@pytest.mark.parametrize("status", ["completed", "no_show"])
def test_a_completed_or_no_show_event_still_occupies_its_slot(world, status):
    world.lesson(instructor=world.instructor, status=status)
    assert kinds(world.check()) == [("instructor", "block")]


def test_a_move_ignores_the_event_being_moved_but_not_the_others(world):
    moving = world.lesson(enrollment=world.enrollment, instructor=world.instructor, vehicle_id=world.vehicle)
    assert world.check(world.slot(time(9, 30), time(10, 30), ignore_schedule_id=moving)) == []
    other = world.lesson(time(10, 0), time(11, 0), instructor=world.instructor)
    assert world.check(world.slot(time(9, 30), time(10, 30), ignore_schedule_id=moving)) == [Conflict(
        "instructor", f"Amelia Ward already teaches 10:00–11:00 (lesson #{other}).", "block")]


def test_overlaps_are_reported_in_time_order_within_a_kind(world):
    late = world.lesson(time(9, 45), time(10, 45), instructor=world.instructor)
    early = world.lesson(time(8, 15), time(9, 15), instructor=world.instructor)
    found = world.check()
    assert [c.message for c in found] == [
        f"Amelia Ward already teaches 08:15–09:15 (lesson #{early}).",
        f"Amelia Ward already teaches 09:45–10:45 (lesson #{late}).",
    ]


# ------------------------------------------------------------------------------- the instructor

def test_unavailability_window_blocks(world):
    make_unavailability(world.db, world.instructor, datetime(2026, 3, 11, 8, 0), datetime(2026, 3, 11, 9, 30),
                        reason="Medical appointment")
    assert world.check() == [Conflict(
        "instructor_unavailable",
        "Amelia Ward is unavailable on 11 Mar 2026, 08:00–09:30 (Medical appointment).", "block")]


def test_a_multi_day_unavailability_window_blocks_the_days_inside_it(world):
    make_unavailability(world.db, world.instructor, datetime(2026, 3, 9, 0, 0), datetime(2026, 3, 14, 0, 0))
    assert world.check() == [Conflict(
        "instructor_unavailable", "Amelia Ward is unavailable from 9 Mar 2026, 00:00 to 14 Mar 2026, 00:00.",
        "block")]


def test_touching_or_foreign_unavailability_does_not_block(world):
    make_unavailability(world.db, world.instructor, datetime(2026, 3, 11, 7, 0), datetime(2026, 3, 11, 9, 0))
    make_unavailability(world.db, world.instructor, datetime(2026, 3, 11, 10, 0), datetime(2026, 3, 11, 12, 0))
    make_unavailability(world.db, make_instructor(world.db), datetime(2026, 3, 11, 8, 0),
                        datetime(2026, 3, 11, 18, 0))
    assert world.check() == []


def test_no_working_hours_at_all_means_no_warning(world):
    assert world.check(world.slot(time(5, 0), time(6, 0))) == []


def test_outside_working_hours_warns(world):
    make_working_hours(world.db, world.instructor, WEDNESDAY, time(8, 0), time(12, 0))
    make_working_hours(world.db, world.instructor, WEDNESDAY, time(13, 0), time(17, 0))
    assert world.check(world.slot(time(8, 0), time(12, 0))) == []       # exactly inside a row
    assert world.check(world.slot(time(11, 30), time(13, 30))) == [Conflict(
        "outside_working_hours",
        "11:30–13:30 is outside Amelia Ward's working hours on Wednesday (08:00–12:00, 13:00–17:00).", "warn")]


def test_a_day_without_working_hours_warns(world):
    make_working_hours(world.db, world.instructor, 0, time(8, 0), time(17, 0))  # Mondays only
    assert world.check() == [Conflict("outside_working_hours", "Amelia Ward does not work on Wednesdays.", "warn")]


def test_accreditation_expired_before_the_lesson_blocks(world):
    world.db.execute("UPDATE instructors SET accreditation_expiry = :d WHERE id = :id",
                     {"d": DAY - timedelta(days=1), "id": world.instructor})
    assert world.check() == [Conflict(
        "accreditation_expired", "Amelia Ward's accreditation expired on 10 Mar 2026.", "block")]


@pytest.mark.parametrize("expiry", [DAY, None])
def test_accreditation_valid_on_the_day_or_unrecorded_does_not_block(world, expiry):
    world.db.execute("UPDATE instructors SET accreditation_expiry = :d WHERE id = :id",
                     {"d": expiry, "id": world.instructor})
    assert world.check() == []


def test_instructor_not_allocated_to_the_course_warns(world):
    course = make_course(world.db, title="Highway Confidence")
    enrollment = make_enrollment(world.db, world.student, course)
    assert world.check(world.slot(course_id=course, enrollment_id=enrollment)) == [Conflict(
        "instructor_not_allocated", "Amelia Ward is not allocated to Highway Confidence.", "warn")]
    # the course also comes from the enrolment alone
    assert kinds(world.check(world.slot(course_id=None, enrollment_id=enrollment))) == [
        ("instructor_not_allocated", "warn")]


# ------------------------------------------------------------------------------- the vehicle

@pytest.mark.parametrize("status, words", [("maintenance", "in maintenance"), ("in_service", "away for servicing")])
def test_vehicle_out_of_action_blocks(world, status, words):
    world.db.execute("UPDATE vehicles SET status = :s WHERE id = :id", {"s": status, "id": world.vehicle})
    assert world.check() == [Conflict("vehicle_unavailable", f"Toyota Corolla (ABC-123) is {words}.", "block")]


def test_vehicle_downtime_window_blocks_unless_it_only_touches(world):
    make_downtime(world.db, world.vehicle, datetime(2026, 3, 11, 6, 0), datetime(2026, 3, 11, 9, 0))
    assert world.check() == []
    make_downtime(world.db, world.vehicle, datetime(2026, 3, 11, 9, 59), datetime(2026, 3, 11, 15, 0),
                  reason="Windscreen")
    assert world.check() == [Conflict(
        "vehicle_unavailable", "Toyota Corolla (ABC-123) is off the road on 11 Mar 2026, 09:59–15:00 (Windscreen).",
        "block")]


def test_vehicle_service_overdue_on_the_lesson_date_blocks(world):
    world.db.execute("UPDATE vehicles SET next_service_due = :d WHERE id = :id", {"d": DAY, "id": world.vehicle})
    assert world.check() == []                                             # due that day: still fine
    world.db.execute("UPDATE vehicles SET next_service_due = :d WHERE id = :id",
                     {"d": date(2026, 3, 1), "id": world.vehicle})
    assert world.check() == [Conflict(
        "vehicle_unavailable", "Toyota Corolla (ABC-123)'s service was due on 1 Mar 2026.", "block")]


def test_every_vehicle_reason_is_reported(world):
    world.db.execute("UPDATE vehicles SET status = 'maintenance', next_service_due = :d WHERE id = :id",
                     {"d": date(2026, 3, 1), "id": world.vehicle})
    make_downtime(world.db, world.vehicle, datetime(2026, 3, 11, 0, 0), datetime(2026, 3, 12, 0, 0))
    found = world.check()
    assert kinds(found) == [("vehicle_unavailable", "block")] * 3
    assert ["in maintenance" in found[0].message, "off the road" in found[1].message,
            "service was due" in found[2].message] == [True, True, True]


# ------------------------------------------------------------------------------- enrolment and branch

def test_no_active_enrolment_for_the_course_blocks(world):
    world.db.execute("UPDATE enrollments SET status = 'completed' WHERE id = :id", {"id": world.enrollment})
    assert world.check(world.slot(enrollment_id=None)) == [Conflict(
        "enrollment", "Jack Mason has no active enrolment in Learner Essentials.", "block")]
    assert world.check(world.slot()) == [Conflict(
        "enrollment", f"Enrolment #{world.enrollment} (Learner Essentials) is completed, not active.", "block")]


def test_an_in_progress_enrolment_counts_as_active(world):
    world.db.execute("UPDATE enrollments SET status = 'in_progress' WHERE id = :id", {"id": world.enrollment})
    assert world.check() == []
    assert world.check(world.slot(enrollment_id=None)) == []


def test_someone_elses_enrolment_blocks(world):
    theirs = make_enrollment(world.db, make_student(world.db, branch_id=world.branch), world.course)
    assert world.check(world.slot(enrollment_id=theirs)) == [Conflict(
        "enrollment", f"Enrolment #{theirs} is not Jack Mason's.", "block")]


def test_an_enrolment_for_another_course_blocks(world):
    other = make_enrollment(world.db, world.student, make_course(world.db))
    assert world.check(world.slot(enrollment_id=other)) == [Conflict(
        "enrollment", f"Enrolment #{other} is not for Learner Essentials.", "block")]


def test_an_enrolment_of_another_branch_blocks(world):
    assert world.check(world.slot(branch_id=world.other_branch)) == [Conflict(
        "enrollment", "Jack Mason's enrolment belongs to Bayside, not Northside.", "block")]


def test_branch_closed_rule_can_be_replaced_and_gets_the_branch(world):
    assert conflicts.branch_closed(world.slot(), {"id": world.branch, "name": "Bayside"}) == []
    seen = []

    def closed(slot, branch):
        seen.append((slot.day, branch))
        return [Conflict("branch_closed", "Bayside is closed on Wednesdays.", "block")]

    world.lesson(instructor=world.instructor)
    found = world.check(closed_rule=closed)
    assert seen == [(DAY, {"id": world.branch, "name": "Bayside", "timezone": None, "opening_hours": None})]
    assert kinds(found) == [("instructor", "block"), ("branch_closed", "block")]


# ------------------------------------------------------------------------------- every reason together

def test_several_kinds_are_reported_together_in_a_stable_order(world):
    course = make_course(world.db, title="Highway Confidence")   # not allocated, no enrolment
    world.lesson(instructor=world.instructor)
    world.lesson(vehicle_id=world.vehicle)
    world.lesson(enrollment=make_enrollment(world.db, world.student, make_course(world.db)))
    make_unavailability(world.db, world.instructor, datetime(2026, 3, 11, 9, 0), datetime(2026, 3, 11, 9, 30))
    make_working_hours(world.db, world.instructor, WEDNESDAY, time(12, 0), time(17, 0))
    world.db.execute("UPDATE instructors SET accreditation_expiry = :d WHERE id = :id",
                     {"d": date(2026, 1, 1), "id": world.instructor})
    world.db.execute("UPDATE vehicles SET status = 'maintenance' WHERE id = :id", {"id": world.vehicle})
    found = world.check(world.slot(course_id=course, enrollment_id=None, branch_id=world.other_branch))
    assert kinds(found) == [
        ("instructor", "block"), ("vehicle", "block"), ("student", "block"),
        ("instructor_unavailable", "block"), ("outside_working_hours", "warn"), ("accreditation_expired", "block"),
        ("vehicle_unavailable", "block"), ("enrollment", "block"), ("enrollment", "block"),
        ("instructor_not_allocated", "warn"),
    ]
    assert [c.to_dict() for c in conflicts.warnings(found)] == [
        {"kind": "outside_working_hours", "severity": "warn",
         "message": "09:00–10:00 is outside Amelia Ward's working hours on Wednesday (12:00–17:00)."},
        {"kind": "instructor_not_allocated", "severity": "warn",
         "message": "Amelia Ward is not allocated to Highway Confidence."},
    ]
    assert len(conflicts.blocks(found)) == 8
    assert world.check(world.slot(course_id=course, enrollment_id=None, branch_id=world.other_branch)) == found


# ------------------------------------------------------------------------------- query count

@pytest.mark.parametrize("vehicle", [True, False])
def test_query_count_does_not_grow_with_the_data(world, vehicle):
    def counted():
        with count_queries() as counter:
            found = world.check(world.slot(vehicle_id=world.vehicle if vehicle else None))
        return counter.count, found

    make_working_hours(world.db, world.instructor, WEDNESDAY, time(12, 0), time(17, 0))
    world.lesson(instructor=world.instructor, vehicle_id=world.vehicle)
    make_unavailability(world.db, world.instructor, datetime(2026, 3, 11, 9, 0), datetime(2026, 3, 11, 9, 5))
    make_downtime(world.db, world.vehicle, datetime(2026, 3, 11, 9, 0), datetime(2026, 3, 11, 9, 5))
    one, found_one = counted()
    for minute in range(19):
        start = time(9, minute * 3)
        world.lesson(start, time(9, minute * 3 + 2), instructor=world.instructor, vehicle_id=world.vehicle,
                     enrollment=make_enrollment(world.db, world.student, make_course(world.db)))
        make_unavailability(world.db, world.instructor, datetime.combine(DAY, start),
                            datetime(2026, 3, 11, 9, minute * 3 + 1))
        make_downtime(world.db, world.vehicle, datetime.combine(DAY, start), datetime(2026, 3, 11, 9, minute * 3 + 1))
    twenty, found_twenty = counted()
    assert one == twenty == (5 if vehicle else 4)
    count = lambda found, kind: sum(c.kind == kind for c in found)  # noqa: E731
    assert count(found_one, "instructor") == 1 and count(found_twenty, "instructor") == 20
    assert count(found_twenty, "student") == 19
    assert count(found_twenty, "instructor_unavailable") == 20
    assert count(found_twenty, "vehicle") == (20 if vehicle else 0)


# ------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("start, end, message", [
    (time(10, 0), time(10, 0), "The end must be after the start."),
    (time(10, 0), time(9, 0), "The end must be after the start."),
    (time(8, 0), time(16, 1), "A lesson can be at most 8 hours long."),
    (time(7, 0), time(19, 0), "A lesson can be at most 8 hours long."),
])
def test_bad_times_are_refused_before_any_query(world, start, end, message):
    with count_queries() as counter, pytest.raises(ValidationFailed) as failure:
        world.check(world.slot(start, end))
    assert failure.value.status == 422
    assert failure.value.field == "end_time"
    assert failure.value.errors == {"end_time": [message]}
    assert counter.count == 0


def test_an_eight_hour_lesson_is_allowed(world):
    assert world.check(world.slot(time(8, 0), time(16, 0))) == []


@pytest.mark.parametrize("field, message", [
    ("instructor_id", "No such instructor."), ("student_id", "No such student."),
    ("vehicle_id", "No such vehicle."), ("enrollment_id", "No such enrolment."),
    ("course_id", "No such course."), ("branch_id", "No such branch."),
])
def test_unknown_ids_are_refused_with_the_field_named(world, field, message):
    with pytest.raises(ValidationFailed) as failure:
        world.check(world.slot(**{field: 999_999}))
    assert failure.value.status == 422
    assert (failure.value.field, failure.value.errors) == (field, {field: [message]})


def test_every_unknown_id_is_named_at_once(world):
    with pytest.raises(ValidationFailed) as failure:
        world.check(world.slot(instructor_id=999_998, student_id=999_999, vehicle_id=999_997))
    assert set(failure.value.errors) == {"instructor_id", "student_id", "vehicle_id"}


@pytest.mark.parametrize("overrides, field", [
    ({"start": "09:00"}, "start_time"), ({"end": None}, "end_time"), ({"day": "2026-02-30"}, "date"),
    ({"instructor_id": None}, "instructor_id"), ({"student_id": 0}, "student_id"),
    ({"vehicle_id": True}, "vehicle_id"), ({"enrollment_id": -3}, "enrollment_id"),
])
def test_malformed_values_are_refused_with_the_field_named(world, overrides, field):
    with pytest.raises(ValidationFailed) as failure:
        world.check(world.slot(**overrides))
    assert field in failure.value.errors



# ------------------------------------------------------------------------------- branch_closed (opening hours)

MON_FRI_8_TO_6_SAT_8_TO_1 = [{"weekday": d, "open_time": time(8, 0), "close_time": time(18, 0)} for d in range(5)] + [
    {"weekday": 5, "open_time": time(8, 0), "close_time": time(13, 0)}]


def open_hours(world, rows=MON_FRI_8_TO_6_SAT_8_TO_1):
    from app.dao.branch import BranchDAO

    BranchDAO(world.db).replace_opening_hours(world.branch, rows, datetime(2026, 3, 1, 0, 0))


def test_a_branch_without_structured_hours_is_never_closed(world):
    world.db.execute("UPDATE branches SET opening_hours = 'Closed Sundays' WHERE id = :id", {"id": world.branch})
    sunday = DAY + timedelta(days=4)
    assert world.check(world.slot(day=sunday, start=time(5, 0), end=time(6, 0))) == []


def test_a_slot_inside_the_opening_hours_is_fine_touching_both_ends(world):
    open_hours(world)
    assert world.check(world.slot(start=time(8, 0), end=time(9, 0))) == []
    assert world.check(world.slot(start=time(17, 0), end=time(18, 0))) == []
    saturday = DAY + timedelta(days=3)
    assert world.check(world.slot(day=saturday, start=time(12, 0), end=time(13, 0))) == []


def test_a_slot_after_closing_blocks(world):
    open_hours(world)
    assert world.check(world.slot(start=time(18, 0), end=time(19, 0))) == [Conflict(
        "branch_closed", "Bayside is closed 18:00–19:00 on Wednesday (open 08:00–18:00).", "block")]


def test_a_slot_running_past_closing_blocks(world):
    open_hours(world)
    saturday = DAY + timedelta(days=3)
    assert world.check(world.slot(day=saturday, start=time(12, 30), end=time(13, 30))) == [Conflict(
        "branch_closed", "Bayside is closed for part of 12:30–13:30 on Saturday (open 08:00–13:00).", "block")]
    assert kinds(world.check(world.slot(start=time(7, 30), end=time(8, 30)))) == [("branch_closed", "block")]


def test_a_weekday_without_hours_is_closed_all_day(world):
    open_hours(world)
    sunday = DAY + timedelta(days=4)
    assert world.check(world.slot(day=sunday)) == [Conflict(
        "branch_closed", "Bayside is closed all day on Sunday.", "block")]


def test_a_lunch_break_splits_the_day(world):
    open_hours(world, [{"weekday": WEDNESDAY, "open_time": time(8, 0), "close_time": time(12, 0)},
                       {"weekday": WEDNESDAY, "open_time": time(13, 0), "close_time": time(17, 0)}])
    assert world.check(world.slot(start=time(11, 0), end=time(12, 0))) == []
    assert world.check(world.slot(start=time(13, 0), end=time(14, 0))) == []
    # spanning the break fits neither period, although each end is inside one
    assert world.check(world.slot(start=time(11, 30), end=time(13, 30))) == [Conflict(
        "branch_closed",
        "Bayside is closed for part of 11:30–13:30 on Wednesday (open 08:00–12:00, 13:00–17:00).", "block")]


def test_only_the_slots_branch_hours_count(world):
    from app.dao.branch import BranchDAO

    BranchDAO(world.db).replace_opening_hours(world.other_branch, [], datetime(2026, 3, 1))
    open_hours(world, [{"weekday": WEDNESDAY, "open_time": time(12, 0), "close_time": time(13, 0)}])
    assert kinds(world.check()) == [("branch_closed", "block")]
    assert world.check(world.slot(branch_id=None)) == []  # no branch: no opening hours apply


def test_branch_closed_is_reported_with_the_other_reasons(world):
    open_hours(world)
    make_working_hours(world.db, world.instructor, WEDNESDAY, time(8, 0), time(17, 0))
    lesson = world.lesson(time(18, 30), time(19, 30), instructor=world.instructor)
    found = world.check(world.slot(start=time(18, 0), end=time(19, 0)))
    assert kinds(found) == [("instructor", "block"), ("outside_working_hours", "warn"), ("branch_closed", "block")]
    assert f"#{lesson}" in found[0].message


def test_query_count_with_opening_hours_is_one_more_and_fixed(world):
    def counted(slot):
        with count_queries() as counter:
            world.check(slot)
        return counter.count

    without = counted(world.slot(vehicle_id=None))
    open_hours(world)
    with_hours = counted(world.slot(vehicle_id=None))
    open_hours(world, MON_FRI_8_TO_6_SAT_8_TO_1 + [
        {"weekday": WEDNESDAY, "open_time": time(19, 0), "close_time": time(20, 0)}])
    assert with_hours == without + 1 == counted(world.slot(vehicle_id=None))
    assert counted(world.slot(vehicle_id=None, branch_id=None)) == without


def test_branch_closed_rule_alone_is_pure(world):
    branch = {"id": 1, "name": "Bayside", "timezone": None,
              "opening_hours": [{"open_time": time(9, 0), "close_time": time(17, 0)}]}
    assert conflicts.branch_closed(world.slot(start=time(9, 0), end=time(17, 0)), branch) == []
    assert conflicts.branch_closed(world.slot(start=time(8, 59), end=time(9, 30)), branch)[0].kind == "branch_closed"
    assert conflicts.branch_closed(world.slot(), None) == []
    assert conflicts.branch_closed(world.slot(), {**branch, "opening_hours": None}) == []
