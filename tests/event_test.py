"""EventDAO on both databases: the event page's row (every name joined, the branch's zone falling back to
the student's branch), the booking form's option lists (a branch's students with an active account and
an active enrolment, narrowed by every search word, capped, the included student kept whatever the
query; active instructors plus an included archived one; every vehicle) and the parties' branches."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, time

from app.dao.event import EventDAO
from tests import factories as f


def _student(db, branch, first, last, *, enrolment="active", account="active"):
    user = f.make_user(db, role="student", branch_id=branch, first_name=first, last_name=last, status=account,
                       email=f"{first}.{last}@example.com".lower())
    student = f.make_student(db, user_id=user, branch_id=branch)
    if enrolment:
        f.make_enrollment(db, student, status=enrolment)
    return student


def test_event_row_carries_every_name_and_the_branch_zone(db):
    branch = f.make_branch(db, name="Bayside", timezone="Australia/Perth")
    student_user = f.make_user(db, first_name="Jack", last_name="Mason", phone="0400 111 222", branch_id=branch)
    student = f.make_student(db, user_id=student_user, branch_id=branch)
    course = f.make_course(db, title="Learner Essentials")
    enrolment = f.make_enrollment(db, student, course)
    instructor = f.make_instructor(db, user_id=f.make_user(db, role="instructor", first_name="Amelia",
                                                           last_name="Ward", branch_id=branch), branch_id=branch)
    vehicle = f.make_vehicle(db, name="Corolla", plate_number="ABC-123", branch_id=branch)
    canceller = f.make_user(db, role="staff", first_name="Oliver", last_name="Grant", branch_id=branch)
    staff_profile = db.insert("staff_profiles", {"user_id": canceller, "branch_id": branch})
    schedule = f.make_schedule(db, enrolment, instructor, vehicle_id=vehicle, branch_id=branch, status="cancelled",
                               cancelled_by=canceller, cancelled_at=datetime(2026, 3, 9, 1, 0),
                               cancel_reason="Student ill", lesson_topic="Roundabouts")
    row = EventDAO(db).event(schedule)
    assert (row["student_first_name"], row["student_last_name"], row["student_phone"]) == ("Jack", "Mason",
                                                                                           "0400 111 222")
    assert (row["instructor_first_name"], row["instructor_last_name"]) == ("Amelia", "Ward")
    assert (row["vehicle_name"], row["vehicle_plate"], row["course_title"]) == ("Corolla", "ABC-123",
                                                                                 "Learner Essentials")
    assert (row["branch_name"], row["branch_timezone"], row["student_id"]) == ("Bayside", "Australia/Perth", student)
    assert (row["cancelled_by_first_name"], row["cancel_reason"]) == ("Oliver", "Student ill")
    assert row["cancelled_by_staff_id"] == staff_profile and row["cancelled_by_instructor_id"] is None
    assert row["start_time"] == time(9, 0) and isinstance(row["scheduled_date"], date)
    assert EventDAO(db).event(schedule + 1000) is None

    # No branch on the event: the student's branch names the zone.
    loose = f.make_schedule(db, enrolment, instructor, branch_id=None)
    assert EventDAO(db).event(loose)["branch_timezone"] == "Australia/Perth"


def test_student_options_are_the_branchs_active_enrolled_students_by_name(db):
    branch, other = f.make_branch(db), f.make_branch(db)
    zoe = _student(db, branch, "Zoe", "Adams")
    ben = _student(db, branch, "Ben", "Young")
    amy = _student(db, branch, "Amy", "Young")
    _student(db, branch, "Finished", "Student", enrolment="completed")
    _student(db, branch, "Never", "Enrolled", enrolment=None)
    _student(db, branch, "Gone", "Archived", account="archived")
    _student(db, other, "Other", "Branch")
    dao = EventDAO(db)
    assert [r["id"] for r in dao.student_options(branch)] == [zoe, amy, ben]
    assert [r["id"] for r in dao.student_options(branch, "young")] == [amy, ben]
    assert [r["id"] for r in dao.student_options(branch, "you amy")] == [amy]         # every word must match
    assert [r["id"] for r in dao.student_options(branch, "zoe.adams@")] == [zoe]      # the e-mail too
    assert dao.student_options(branch, "100%") == []                                 # wildcards are literal
    assert [r["id"] for r in dao.student_options(branch, limit=2)] == [zoe, amy]
    # The included student stays, whatever the query and the limit (it comes first).
    assert [r["id"] for r in dao.student_options(branch, "young", include_id=zoe, limit=2)] == [zoe, amy]
    # ... but only when it is one of the branch's bookable students.
    foreign = _student(db, other, "Not", "Mine")
    assert foreign not in [r["id"] for r in dao.student_options(branch, include_id=foreign)]


def test_instructor_and_vehicle_options(db):
    branch, other = f.make_branch(db), f.make_branch(db)

    def instructor(first, last, status="active", where=branch):
        user = f.make_user(db, role="instructor", first_name=first, last_name=last, status=status, branch_id=where)
        return f.make_instructor(db, user_id=user, branch_id=where)

    raj, amelia = instructor("Raj", "Patel"), instructor("Amelia", "Ward")
    archived = instructor("Old", "Hand", status="archived")
    instructor("Far", "Away", where=other)
    dao = EventDAO(db)
    assert [r["id"] for r in dao.instructor_options(branch)] == [raj, amelia]
    assert [r["id"] for r in dao.instructor_options(branch, include_id=archived)] == [archived, raj, amelia]

    mazda = f.make_vehicle(db, name="Mazda", branch_id=branch, status="maintenance")
    corolla = f.make_vehicle(db, name="Corolla", branch_id=branch)
    f.make_vehicle(db, name="Elsewhere", branch_id=other)
    assert [(r["id"], r["status"]) for r in dao.vehicle_options(branch)] == [(corolla, "available"),
                                                                            (mazda, "maintenance")]


def test_party_branches(db):
    a, b = f.make_branch(db), f.make_branch(db)
    instructor = f.make_instructor(db, branch_id=a)
    student = f.make_student(db, branch_id=b)
    vehicle = f.make_vehicle(db, branch_id=a)
    dao = EventDAO(db)
    assert dao.party_branches(instructor, student, vehicle) == {
        "instructor_branch_id": a, "student_branch_id": b, "vehicle_branch_id": a}
    assert dao.party_branches(None, 999999, None) == {
        "instructor_branch_id": None, "student_branch_id": None, "vehicle_branch_id": None}
