"""Enrolments on both databases (services/enrollments.py, app/dao/enrollment.py): the lifecycle (allowed and
refused changes, a cancellation needs a reason, each change audited), progress derived from completed
lessons over the course's lesson count, the office enrolling an existing student directly (with the
lesson package, refusing an open duplicate, an unknown course named), branch transfers (audited with
both branches, staff limited to their branch's students). The original's DAO script (spec 5): the
student's enrolments."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
from datetime import date, datetime, timedelta

import pytest

from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.dao.enrollment import EnrollmentDAO
from app.dao.student import StudentDAO
from app.services import enrollments
from app.services.scope import Actor
from tests import factories as f

NOW = datetime(2026, 3, 10, 2, 30)


class World:
    def __init__(self, db):
        self.db = db
        self.branch = f.make_branch(db, name="Bayside")
        self.other = f.make_branch(db, name="Northside")
        self.course = f.make_course(db, lesson_count=8)
        self.user = f.make_user(db, role="student", branch_id=self.branch)
        self.student = f.make_student(db, user_id=self.user, branch_id=self.branch)
        self.enrollment = f.make_enrollment(db, self.student, self.course)
        self.staff = Actor(user_id=f.make_user(db, role="staff", branch_id=self.branch), role="staff",
                           branch_id=self.branch)
        self.foreign = Actor(user_id=f.make_user(db, role="staff", branch_id=self.other), role="staff",
                             branch_id=self.other)
        self.admin = Actor(user_id=f.make_user(db, role="admin"), role="admin")
        self.instructor = f.make_instructor(db, branch_id=self.branch)

    def lessons(self, n, status="completed", **overrides):
        for i in range(n):
            f.make_schedule(self.db, self.enrollment, self.instructor, status=status,
                            scheduled_date=date(2026, 2, 1) + timedelta(days=i), **overrides)

    def audits(self, action):
        return self.db.fetch_all("SELECT entity_id, before_json, after_json, details FROM audit_trail"
                                 " WHERE action = :a ORDER BY id", {"a": action})


@pytest.fixture
def w(db):
    return World(db)


def test_progress_counts_completed_lessons_over_the_lesson_count(w):
    w.lessons(3)
    w.lessons(2, status="cancelled")
    w.lessons(1, status="no_show")
    w.lessons(1, event_type="exam")  # an exam is not a lesson of the course
    row = enrollments.get_enrollment(w.db, w.staff, w.enrollment)
    assert row["completed_lessons"] == 3 and row["progress"] == 37  # 3 of 8, whole per cent down
    assert enrollments.progress_for(w.db, [w.enrollment]) == {w.enrollment: 37}
    assert enrollments.progress(12, 8) == 100 and enrollments.progress(1, 0) == 0


def test_lifecycle_allowed_changes_are_audited(w):
    enrollments.change_status(w.db, w.staff, w.enrollment, "in_progress", None, now=NOW)
    enrollments.change_status(w.db, w.staff, w.enrollment, "completed", None, now=NOW)
    row = EnrollmentDAO(w.db).find(w.enrollment)
    assert row["status"] == "completed" and row["progress_percentage"] == 100
    enrollments.change_status(w.db, w.admin, w.enrollment, "in_progress", "Needs more practice", now=NOW)
    changes = w.audits("enrollment_status_changed")
    assert [json.loads(c["after_json"])["status"] for c in changes] == ["in_progress", "completed", "in_progress"]
    assert json.loads(changes[0]["before_json"]) == {"status": "active"}
    assert all(f"(student {w.student})" in c["details"] for c in changes)


def test_refused_changes_write_nothing(w):
    with pytest.raises(ValidationFailed) as caught:
        enrollments.change_status(w.db, w.staff, w.enrollment, "cancelled", "  ", now=NOW)
    assert "reason" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        enrollments.change_status(w.db, w.staff, w.enrollment, "graduated", None, now=NOW)
    assert "status" in caught.value.errors
    enrollments.change_status(w.db, w.staff, w.enrollment, "cancelled", "Moved interstate", now=NOW)
    with pytest.raises(ValidationFailed) as caught:  # cancelled -> only reinstated (active)
        enrollments.change_status(w.db, w.staff, w.enrollment, "completed", None, now=NOW)
    assert "cannot become completed" in caught.value.errors["status"][0]
    assert len(w.audits("enrollment_status_changed")) == 1
    enrollments.change_status(w.db, w.staff, w.enrollment, "active", None, now=NOW)


def test_scope_foreign_staff_404_and_others_403(w):
    with pytest.raises(NotFound):
        enrollments.get_enrollment(w.db, w.foreign, w.enrollment)
    with pytest.raises(NotFound):
        enrollments.change_status(w.db, w.foreign, w.enrollment, "in_progress", None, now=NOW)
    with pytest.raises(PermissionDenied):
        enrollments.get_enrollment(w.db, Actor(user_id=w.user, role="student", student_id=w.student), w.enrollment)
    assert EnrollmentDAO(w.db).find(w.enrollment)["status"] == "active"


def test_office_enrols_an_existing_student_with_the_package(w):
    other_course = f.make_course(w.db, lesson_count=5)
    enrollment_id = enrollments.enrol(w.db, w.staff, w.student, {"course_id": other_course, "start_date": None},
                                      now=NOW)
    row = EnrollmentDAO(w.db).find(enrollment_id)
    assert row["status"] == "active" and row["course_id"] == other_course and row["start_date"] == date(2026, 3, 10)
    assert w.db.fetch_value("SELECT SUM(credits) FROM package_ledger WHERE enrollment_id = :e",
                            {"e": enrollment_id}) == 5
    assert w.audits("enrollment_created")[0]["entity_id"] == enrollment_id
    with pytest.raises(ValidationFailed) as caught:  # an open enrolment in the same course
        enrollments.enrol(w.db, w.staff, w.student, {"course_id": other_course}, now=NOW)
    assert "course_id" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        enrollments.enrol(w.db, w.staff, w.student, {"course_id": 999999}, now=NOW)
    assert "999999" in caught.value.errors["course_id"][0]
    with pytest.raises(NotFound):
        enrollments.enrol(w.db, w.foreign, w.student, {"course_id": other_course}, now=NOW)
    assert len(w.audits("enrollment_created")) == 1


def test_transfer_moves_profile_and_account_and_is_audited(w):
    moved = enrollments.transfer(w.db, w.staff, w.student, w.other, "Moved house", now=NOW)
    assert moved["to"] == w.other
    assert w.db.fetch_value("SELECT branch_id FROM students WHERE id = :id", {"id": w.student}) == w.other
    assert w.db.fetch_value("SELECT branch_id FROM users WHERE id = :id", {"id": w.user}) == w.other
    entry = w.audits("student_transferred")[0]
    assert json.loads(entry["before_json"]) == {"branch_id": w.branch}
    assert json.loads(entry["after_json"]) == {"branch_id": w.other} and "Moved house" in entry["details"]
    with pytest.raises(NotFound):  # the student has left the staff member's branch
        enrollments.transfer(w.db, w.staff, w.student, w.branch, None, now=NOW)
    with pytest.raises(ValidationFailed) as caught:
        enrollments.transfer(w.db, w.foreign, w.student, w.other, None, now=NOW)
    assert "already in this branch" in caught.value.errors["branch_id"][0]
    with pytest.raises(ValidationFailed) as caught:
        enrollments.transfer(w.db, w.admin, w.student, 999999, None, now=NOW)
    assert "branch_id" in caught.value.errors


def test_original_dao_script_student_has_enrolments(w):
    assert [e["id"] for e in StudentDAO(w.db).enrollments(w.student)] == [w.enrollment]
    dao = EnrollmentDAO(w.db)
    assert dao.open_for(w.student, w.course) == w.enrollment
    assert dao.completed_counts([w.enrollment, 999999]) == {w.enrollment: {"completed": 0, "lesson_count": 8}}
    assert dao.completed_counts([]) == {}
    assert dao.find(999999) is None and dao.lock(0) is None
