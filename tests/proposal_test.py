"""ProposalDAO (reschedule_proposals, migration 0014) on SQLite and MariaDB: insert and the joined read,
closing only a pending row, withdrawing a lesson's pending ones, the student's pending list and answered
page, and expiring overdue rows in a batch."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, time, timedelta

import pytest

from app.core.pagination import ListQuery
from app.dao.proposal import ANSWERED_SORTS, ProposalDAO
from tests import factories as f


def _proposal(db, schedule_id, **overrides):
    row = {"schedule_id": schedule_id, "proposed_by": None, "proposed_date": date(2026, 3, 12),
           "start_time": time(10, 0), "end_time": time(11, 0), "status": "pending",
           "expires_at": f.NOW + timedelta(hours=48), "created_at": f.NOW}
    row.update(overrides)
    return ProposalDAO(db).insert(row)


def test_insert_find_and_the_joined_names(db):
    branch = f.make_branch(db, timezone="Australia/Perth")
    user = f.make_user(db, role="staff", first_name="Olive", last_name="Office", branch_id=branch)
    instructor = f.make_instructor(db, branch_id=branch)
    other = f.make_instructor(db, user_id=f.make_user(db, role="instructor", first_name="Nina", last_name="New"))
    car = f.make_vehicle(db, name="Corolla", plate_number="NEW-001")
    lesson = f.make_schedule(db, instructor_id=instructor, branch_id=branch)
    pid = _proposal(db, lesson, proposed_by=user, instructor_id=other, vehicle_id=car, message="Earlier?")
    row = ProposalDAO(db).find(pid)
    assert (row["schedule_id"], row["status"], row["message"], row["branch_timezone"]) == (
        lesson, "pending", "Earlier?", "Australia/Perth")
    assert (row["proposer_first_name"], row["new_instructor_last_name"], row["new_vehicle_plate"]) == (
        "Olive", "New", "NEW-001")
    assert (row["lesson_date"], row["lesson_start"], row["lesson_instructor_id"]) == (
        f.TODAY + timedelta(days=1), time(9, 0), instructor)
    assert ProposalDAO(db).find(pid + 1000) is None
    with pytest.raises(ValueError):
        ProposalDAO(db).insert({"schedule_id": lesson, "colour": "red"})


def test_close_only_a_pending_row_and_withdraw_the_lessons_pending_ones(db):
    lesson = f.make_schedule(db)
    dao = ProposalDAO(db)
    first, second = _proposal(db, lesson), _proposal(db, lesson)
    assert dao.pending_ids(lesson) == [first, second]
    assert dao.close(first, "declined", None, f.NOW) == 1
    assert dao.close(first, "accepted", None, f.NOW) == 0
    assert dao.withdraw_pending(lesson, None, f.NOW) == 1
    assert dao.pending_for_schedule(lesson) is None
    assert dao.lock(second)["status"] == "withdrawn"
    with pytest.raises(ValueError):
        dao.close(second, "pending", None, f.NOW)


def test_the_students_lists(db):
    student = f.make_student(db)
    enrolment = f.make_enrollment(db, student)
    early = f.make_schedule(db, enrolment, scheduled_date=f.TODAY + timedelta(days=1))
    late = f.make_schedule(db, enrolment, scheduled_date=f.TODAY + timedelta(days=5))
    foreign = f.make_schedule(db)
    dao = ProposalDAO(db)
    later, sooner = _proposal(db, late), _proposal(db, early)
    _proposal(db, foreign)
    closed = _proposal(db, early, status="declined", answered_at=f.NOW)
    assert [r["id"] for r in dao.pending_for_student(student)] == [sooner, later]
    assert dao.pending_for_schedule(early)["id"] == sooner
    page = dao.answered_for_student(student, ListQuery(sort="answered", direction="desc"))
    assert page.total == 1 and [r["id"] for r in page.items] == [closed]
    assert set(ANSWERED_SORTS) == {"answered"}


def test_expire_due_in_batches(db):
    lesson = f.make_schedule(db)
    dao = ProposalDAO(db)
    due = [_proposal(db, lesson, expires_at=f.NOW - timedelta(minutes=n)) for n in range(3)]
    fresh = _proposal(db, lesson, expires_at=f.NOW + timedelta(minutes=1))
    assert dao.expire_due(f.NOW, limit=2) == due[:2]
    assert dao.expire_due(f.NOW) == due[2:]
    assert dao.expire_due(f.NOW) == []
    assert dao.lock(due[0])["status"] == "expired" and dao.lock(fresh)["status"] == "pending"
    assert db.fetch_value("SELECT answered_at FROM reschedule_proposals WHERE id = :id", {"id": due[1]}) == \
        f.NOW - timedelta(minutes=1)
