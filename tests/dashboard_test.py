"""Dashboards: what each role sees, scoped to them, at a bounded number of queries."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, timedelta
from decimal import Decimal

import re

import pytest

from app.core.database import count_queries
from app.services import dashboard, stats
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
        f.make_invoice(db, enrollment_id=enrolment, due_date=date(2026, 5, 1), status="overdue", branch_id=branch)
    now = datetime(2026, 6, 1, 0, 0)
    stats.refresh(db, now, names=["branch_totals"])
    staff_view = dashboard.for_actor(db, Actor(user_id=0, role="staff", branch_id=home), today, now)
    admin_view = dashboard.for_actor(db, Actor(user_id=0, role="admin", branch_id=home), today, now)
    assert staff_view["people"]["students"] == 1 and admin_view["people"]["students"] == 2
    assert staff_view["lessons_week"] == 1 and admin_view["lessons_week"] == 2
    assert staff_view["overdue"] == {"count": 1, "owing": Decimal("968.00")}
    assert admin_view["overdue"]["count"] == 2
    assert "dispatcher" in admin_view and "dispatcher" not in staff_view
    assert [d["lessons"] for d in staff_view["days"]] == [0, 1, 0, 0, 0, 0, 0]


def test_instructor_sees_only_their_own(db):
    today = date(2026, 6, 1)
    branch = f.make_branch(db)
    ann, bob = f.make_instructor(db, branch_id=branch), f.make_instructor(db, branch_id=branch)
    for instructor in (ann, bob, bob):
        f.make_schedule(db, instructor_id=instructor, branch_id=branch, scheduled_date=today)
    view = dashboard.for_actor(db, Actor(user_id=0, role="instructor", instructor_id=ann), today,
                               datetime(2026, 5, 31, 22, 0))
    assert len(view["run_sheet"]) == 1 and view["students_total"] == 1 and view["lessons_week"] == 1
    assert dashboard.for_actor(db, Actor(user_id=0, role="instructor"), today) == {
        "kind": "instructor", "missing_profile": True}


def test_population_counts_come_from_the_summary_with_its_time_and_nothing_is_kept_in_memory(db):
    """Students and the pipeline are read from stat_branch_totals (the same figures on every host): a
    student added after a refresh counts from the next refresh, whose time the page shows; lessons
    and overdue invoices are counted live."""
    branch = f.make_branch(db)
    f.make_student(db, branch_id=branch)
    admin, today, now = Actor(user_id=0, role="admin"), date(2026, 6, 1), datetime(2026, 6, 1, 0, 0)
    staff = Actor(user_id=0, role="staff", branch_id=branch)
    never = dashboard.for_actor(db, admin, today, now)
    stats.refresh(db, now, names=["branch_totals"])
    first = dashboard.for_actor(db, admin, today, now)
    student = f.make_student(db, branch_id=branch)
    f.make_invoice(db, enrollment_id=f.make_enrollment(db, student_id=student), due_date=date(2026, 5, 1),
                   status="overdue", branch_id=branch)
    unrefreshed = dashboard.for_actor(db, staff, today, now + timedelta(minutes=4))
    stats.refresh(db, now + timedelta(minutes=15), names=["branch_totals"])
    later = dashboard.for_actor(db, staff, today, now + timedelta(minutes=16))
    assert never["people"]["students"] == 0 and never["freshness"]["branch_totals"] is None
    assert first["people"]["students"] == 1 and first["freshness"]["branch_totals"] == now
    assert unrefreshed["people"]["students"] == 1 and unrefreshed["overdue"]["count"] == 1   # overdue is live
    assert later["people"] == {"students": 2, "learning": 1, "completed": 0, "pending": 0, "approved": 0}
    assert later["freshness"]["branch_totals"] == now + timedelta(minutes=15)


def test_students_list_enrolment_filter_matches_the_pipeline(seeded, client):
    """The pipeline links to /students/?enrolment=active|completed: the list filters on it."""
    from app.core.flask_db import get_db

    with seeded.app_context():
        db = get_db()
        learning = db.fetch_value("SELECT COUNT(*) FROM students s JOIN users u ON u.id = s.user_id"
                                  " WHERE u.status = 'active' AND EXISTS (SELECT 1 FROM enrollments e"
                                  " WHERE e.student_id = s.id AND e.status IN ('active', 'in_progress'))")
        student = f.make_student(db, branch_id=None)
        f.make_enrollment(db, student_id=student, status="completed")
    login(client, "admin@origin.com")
    active = client.get("/students/?enrolment=active").get_data(as_text=True)
    done = client.get("/students/?enrolment=completed").get_data(as_text=True)
    assert f"of {learning}</p>" in active or (learning == 0 and "No results" in active)
    assert "of 1</p>" in done
    assert "was ignored" in client.get("/students/?enrolment=bogus").get_data(as_text=True)


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
        view = dashboard.for_actor(db, Actor(user_id=0, role="staff", branch_id=None), today,
                                   datetime(2026, 6, 1, 0, 0))
    assert view["no_branch"] is True
    assert "people" not in view and "overdue" not in view and "days" not in view
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
# Office: lessons of the week, people, overdue, utilisation, revenue, freshness, branch zones, awaiting,
# fleet, coming up (10). Instructor: run sheet, week, students (2), zones, awaiting count and rows (7). Student: next
# lessons, balance, packages, notifications (2) (5). One more for the session.
@pytest.mark.parametrize("email,limit", [("admin@origin.com", 1 + 10 + 4 + 3), ("operations@origin.com", 1 + 10 + 4),
                                         ("amelia.ward@origin.com", 1 + 7 + 2),
                                         ("jack.mason@student.com", 1 + 5 + 3)])
def test_dashboard_query_count_is_bounded(seeded, client, email, limit):
    login(client, email)
    with count_queries() as counter:
        assert client.get("/dashboard/").status_code == 200
    assert counter.count <= limit, counter.statements


def test_a_big_request_queue_shows_99_plus_in_the_pill_and_the_number_in_its_label(seeded, client, monkeypatch):
    """A national chain's 10,000 pending requests: the pill says "99+" (as the broken-lessons badge), the
    screen-reader label the number."""
    from app.dao.enrollment_request import EnrollmentRequestDAO

    monkeypatch.setattr(EnrollmentRequestDAO, "pending_count", lambda self, scope: 10_000)
    login(client, "admin@origin.com")
    html = client.get("/dashboard/").get_data(as_text=True)
    assert re.search(r'title="10,000 pending requests" aria-hidden="true">99\+</span>', html), html[:200]
    assert "(10,000 pending requests)" in html


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
