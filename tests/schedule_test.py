"""ScheduleDAO.upcoming on both backends: which lessons, in which order, with which names, in one query."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, time, timedelta

from app.core.database import count_queries
from app.dao.schedule import ScheduleDAO
from tests.factories import (
    make_branch, make_course, make_enrollment, make_instructor, make_schedule, make_student, make_user,
    make_vehicle,
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
