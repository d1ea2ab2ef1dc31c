if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

"""Dashboards: what each role sees, scoped to them, at a bounded number of queries."""
from datetime import date

import pytest

from app.core.database import count_queries
from app.services import dashboard
from tests import factories as f
from tests.conftest import login


def test_staff_dashboard_is_scoped_to_their_branch(db):
    today = date(2026, 6, 1)
    home, other = f.make_branch(db), f.make_branch(db)
    mine = f.make_student(db, branch_id=home)
    theirs = f.make_student(db, branch_id=other)
    for student, branch in ((mine, home), (theirs, other)):
        enrolment = f.make_enrollment(db, student_id=student)
        f.make_schedule(db, enrollment_id=enrolment, branch_id=branch, scheduled_date=date(2026, 6, 2))
        f.make_invoice(db, enrollment_id=enrolment, due_date=date(2026, 5, 1), status="sent")
    staff_view = dashboard.for_user(db, "staff", 0, home, today)
    admin_view = dashboard.for_user(db, "admin", 0, home, today)
    assert staff_view["summary"]["students"] == 1 and admin_view["summary"]["students"] == 2
    assert len(staff_view["upcoming"]) == 1 and len(admin_view["upcoming"]) == 2
    assert len(staff_view["invoices"]) == 1
    assert staff_view["invoices"][0]["is_overdue"] is True


def test_paid_invoice_is_never_flagged_overdue(db):
    enrolment = f.make_enrollment(db)
    f.make_invoice(db, enrollment_id=enrolment, due_date=date(2026, 1, 1), status="paid")
    view = dashboard.for_user(db, "admin", 0, None, date(2026, 6, 1))
    assert view["invoices"][0]["is_overdue"] is False


@pytest.mark.parametrize("email,limit", [("admin@origin.com", 4), ("amelia.ward@origin.com", 4),
                                         ("jack.mason@student.com", 5)])
def test_dashboard_query_count_is_bounded(seeded, client, email, limit):
    login(client, email)
    with count_queries() as counter:
        assert client.get("/dashboard/").status_code == 200
    assert counter.count <= limit, counter.statements
