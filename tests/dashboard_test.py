"""Dashboards: what each role sees, scoped to them, at a bounded number of queries."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date

import pytest

from app.core.database import count_queries
from app.services import dashboard
from tests import factories as f
from app.services.scope import Actor
from tests.conftest import DEMO_PASSWORD, login


def test_staff_dashboard_is_scoped_to_their_branch(db):
    today = date(2026, 6, 1)
    home, other = f.make_branch(db), f.make_branch(db)
    mine = f.make_student(db, branch_id=home)
    theirs = f.make_student(db, branch_id=other)
    for student, branch in ((mine, home), (theirs, other)):
        enrolment = f.make_enrollment(db, student_id=student)
        f.make_schedule(db, enrollment_id=enrolment, branch_id=branch, scheduled_date=date(2026, 6, 2))
        f.make_invoice(db, enrollment_id=enrolment, due_date=date(2026, 5, 1), status="sent")
    staff_view = dashboard.for_actor(db, Actor(user_id=0, role="staff", branch_id=home), today)
    admin_view = dashboard.for_actor(db, Actor(user_id=0, role="admin", branch_id=home), today)
    assert staff_view["summary"]["students"] == 1 and admin_view["summary"]["students"] == 2
    assert len(staff_view["upcoming"]) == 1 and len(admin_view["upcoming"]) == 2
    assert len(staff_view["invoices"]) == 1
    assert staff_view["invoices"][0]["is_overdue"] is True


def test_paid_invoice_is_never_flagged_overdue(db):
    enrolment = f.make_enrollment(db)
    f.make_invoice(db, enrollment_id=enrolment, due_date=date(2026, 1, 1), status="paid")
    view = dashboard.for_actor(db, Actor(user_id=0, role="admin"), date(2026, 6, 1))
    assert view["invoices"][0]["is_overdue"] is False


def test_staff_without_a_branch_sees_nothing_of_any_branch(db):
    """A branchless staff account is not an administrator: no KPI, lesson or invoice of any branch."""
    today = date(2026, 6, 1)
    branch = f.make_branch(db)
    student = f.make_student(db, branch_id=branch)
    enrolment = f.make_enrollment(db, student_id=student)
    f.make_schedule(db, enrollment_id=enrolment, branch_id=branch, scheduled_date=date(2026, 6, 2))
    f.make_invoice(db, enrollment_id=enrolment, due_date=date(2026, 5, 1), status="sent")
    f.make_vehicle(db, branch_id=branch)
    with count_queries() as counter:
        view = dashboard.for_actor(db, Actor(user_id=0, role="staff", branch_id=None), today)
    assert view["no_branch"] is True
    assert set(view["summary"].values()) == {0}
    assert view["upcoming"] == [] and view["invoices"] == []
    assert counter.count == 0


def test_branchless_staff_dashboard_page_shows_the_notice_and_no_names(seeded, client):
    from app.core import passwords
    from app.core.flask_db import get_db

    with seeded.app_context():
        db = get_db()
        f.make_user(db, role="staff", branch_id=None, email="nobranch@origin.com",
                    password_hash=passwords.hash_password(DEMO_PASSWORD))
        names = [r["last_name"] for r in db.fetch_all(
            "SELECT u.last_name FROM students s JOIN users u ON u.id = s.user_id")]
    assert login(client, "nobranch@origin.com").status_code == 302
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "No branch is assigned to your account" in html
    assert names and not any(f">{name}<" in html or f" {name}</" in html for name in names)


# The dashboard's own statements, plus the navigation's count badges (one aggregate each, two for the
# conflicts panel's): admin Conflicts 2 + Enrolment requests 1 + Notifications 1; instructor Enrolment
# requests 1 + Notifications 1; student Proposed times, Earlier slots and Notifications 1 each. The
# admin's dispatcher line adds 3: the last run, the oldest due reminder and the oldest PHP-era one.
@pytest.mark.parametrize("email,limit", [("admin@origin.com", 4 + 4 + 3), ("amelia.ward@origin.com", 4 + 2),
                                         ("jack.mason@student.com", 5 + 3)])
def test_dashboard_query_count_is_bounded(seeded, client, email, limit):
    login(client, email)
    with count_queries() as counter:
        assert client.get("/dashboard/").status_code == 200
    assert counter.count <= limit, counter.statements


@pytest.mark.parametrize("email,label", [("admin@origin.com", "(2 pending requests)"),
                                         ("amelia.ward@origin.com", "(1 pending request)"),
                                         ("operations@origin.com", None)])
def test_enrolment_requests_badge_counts_the_pending_requests_the_queue_shows(seeded, client, email, label):
    """The demo has two pending requests: Jack's (Bayside, assigned to Amelia) and Zara's (Northern,
    unassigned). The admin sees both, Amelia the one assigned to her, CBD staff none (no badge)."""
    login(client, email)
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "Enrolment requests" in html
    if label is None:
        assert "pending request" not in html
    else:
        assert label in html
