"""ReportDAO on both backends: the dashboard KPIs over a small school built for the edge cases."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from app.core.database import count_queries
from app.dao.report import ReportDAO
from tests.factories import (
    make_branch, make_course, make_enrollment, make_instructor, make_invoice, make_schedule, make_student,
    make_user, make_vehicle,
)

TODAY = date(2026, 3, 10)
DAY = timedelta(days=1)


@dataclass
class School:
    north: int
    south: int
    amelia: int
    raj: int
    jack: int
    mia: int
    zoe: int


@pytest.fixture
def school(db) -> School:
    """Two branches. Counts per branch are listed next to each row (N = north, S = south)."""
    north, south = make_branch(db, name="North"), make_branch(db, name="South")
    make_branch(db, name="Empty")
    amelia = make_instructor(db, branch_id=north)
    raj = make_instructor(db, branch_id=south)

    jack = make_student(db, branch_id=north)                                   # N student
    mia = make_student(db, branch_id=north)                                    # N student
    zoe = make_student(db, branch_id=south)                                    # S student
    archived_user = make_user(db, role="student", status="archived", branch_id=north)
    ghost = make_student(db, user_id=archived_user, branch_id=north)           # archived: not counted
    course = make_course(db)

    e_jack = make_enrollment(db, jack, course)
    e_jack2 = make_enrollment(db, jack, make_course(db), status="completed")
    e_mia = make_enrollment(db, mia, course)
    e_zoe = make_enrollment(db, zoe, course)
    e_ghost = make_enrollment(db, ghost, course)

    def lesson(enrollment, instructor, day, status="scheduled", branch=north, **kw):
        return make_schedule(db, enrollment, instructor, scheduled_date=day, status=status, branch_id=branch, **kw)

    lesson(e_jack, amelia, TODAY)                                              # N upcoming (today counts)
    lesson(e_jack, amelia, TODAY + 7 * DAY)                                    # N upcoming
    lesson(e_jack2, amelia, TODAY + 2 * DAY)                                   # N upcoming (other enrolment)
    lesson(e_mia, amelia, TODAY + 3 * DAY, status="cancelled")                 # not upcoming
    lesson(e_mia, amelia, TODAY + 4 * DAY, status="completed")                 # not upcoming (completed early)
    lesson(e_mia, amelia, TODAY - DAY, status="completed")                     # past
    lesson(e_mia, amelia, TODAY - 5 * DAY)                                     # past, never marked: not upcoming
    lesson(e_jack, amelia, TODAY - 3 * DAY, status="not_completed")            # past
    lesson(e_zoe, raj, TODAY + DAY, branch=south)                              # S upcoming
    lesson(e_zoe, raj, TODAY - 2 * DAY, status="completed", branch=south)      # past
    lesson(e_ghost, raj, TODAY + DAY, branch=north)                            # N upcoming (taught by raj)

    make_invoice(db, e_jack, due_date=TODAY - DAY, status="sent")              # N overdue
    make_invoice(db, e_jack2, due_date=TODAY - 30 * DAY, status="partial")     # N overdue
    make_invoice(db, e_mia, due_date=TODAY - 10 * DAY, status="paid")          # paid: not overdue
    make_invoice(db, e_mia, due_date=TODAY, status="sent")                     # due today: not yet overdue
    make_invoice(db, e_zoe, due_date=TODAY - 2 * DAY, status="overdue")        # S overdue
    make_invoice(db, e_zoe, due_date=TODAY + 5 * DAY, status="sent")           # not due

    make_vehicle(db, branch_id=north, status="available")
    make_vehicle(db, branch_id=north, status="available")
    make_vehicle(db, branch_id=north, status="maintenance")
    make_vehicle(db, branch_id=south, status="in_service")
    make_vehicle(db, branch_id=south, status="available")
    make_vehicle(db, branch_id=None, status="available")                      # no branch: school-wide only
    return School(north, south, amelia, raj, jack, mia, zoe)


def test_dashboard_summary_for_the_whole_school(db, school):
    assert ReportDAO(db).dashboard_summary(TODAY) == {
        "students": 3,
        "upcoming_lessons": 5,
        "overdue_invoices": 3,
        "fleet_available": 4,
        "fleet_total": 6,
    }


def test_dashboard_summary_for_one_branch(db, school):
    reports = ReportDAO(db)
    assert reports.dashboard_summary(TODAY, branch_id=school.north) == {
        "students": 2, "upcoming_lessons": 4, "overdue_invoices": 2, "fleet_available": 2, "fleet_total": 3,
    }
    assert reports.dashboard_summary(TODAY, branch_id=school.south) == {
        "students": 1, "upcoming_lessons": 1, "overdue_invoices": 1, "fleet_available": 1, "fleet_total": 2,
    }


def test_dashboard_summary_moves_with_the_given_day(db, school):
    # a week later: only the lesson on TODAY + 7 is still ahead; the invoice due TODAY and the one due
    # TODAY + 5 are now overdue too
    later = ReportDAO(db).dashboard_summary(TODAY + 7 * DAY)
    assert later["upcoming_lessons"] == 1
    assert later["overdue_invoices"] == 5


def test_dashboard_summary_of_an_empty_school_is_all_zero(db):
    assert ReportDAO(db).dashboard_summary(TODAY) == {
        "students": 0, "upcoming_lessons": 0, "overdue_invoices": 0, "fleet_available": 0, "fleet_total": 0,
    }


def test_instructor_summary(db, school):
    reports = ReportDAO(db)
    # amelia: jack (2 enrolments) and mia -> 2 distinct students; 3 scheduled from today; 2 completed
    assert reports.instructor_summary(school.amelia, TODAY) == {
        "students": 2, "upcoming_lessons": 3, "completed_lessons": 2,
    }
    assert reports.instructor_summary(school.raj, TODAY) == {
        "students": 2, "upcoming_lessons": 2, "completed_lessons": 1,
    }
    assert reports.instructor_summary(make_instructor(db), TODAY) == {
        "students": 0, "upcoming_lessons": 0, "completed_lessons": 0,
    }


def test_student_summary(db, school):
    reports = ReportDAO(db)
    assert reports.student_summary(school.jack, TODAY) == {
        "enrollments": 2, "upcoming_lessons": 3, "overdue_invoices": 2,
    }
    assert reports.student_summary(school.mia, TODAY) == {
        "enrollments": 1, "upcoming_lessons": 0, "overdue_invoices": 0,
    }
    assert reports.student_summary(school.zoe, TODAY) == {
        "enrollments": 1, "upcoming_lessons": 1, "overdue_invoices": 1,
    }


def test_each_summary_is_one_query_returning_ints(db, school):
    reports = ReportDAO(db)
    for call in (
        lambda: reports.dashboard_summary(TODAY),
        lambda: reports.dashboard_summary(TODAY, branch_id=school.north),
        lambda: reports.instructor_summary(school.amelia, TODAY),
        lambda: reports.student_summary(school.jack, TODAY),
    ):
        with count_queries() as counter:
            summary = call()
        assert counter.count == 1
        assert all(type(v) is int for v in summary.values())
