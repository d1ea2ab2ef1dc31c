"""Office lists at national-chain size (issue 13, helper lists2), on both backends: capped counts
("10,000+") and totals that are exact or absent (invoices, payments), the students list's school-wide
prefix search (branch search still matches anywhere), and the course pages' allocated instructors
(a count, a few names on the list, a paginated, branch-scoped, searchable list on the course page).
The caps are lowered with monkeypatch so a handful of rows crosses them."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import datetime
from decimal import Decimal

import pytest

from app.core import passwords
from app.core.database import count_queries
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, login

ADMIN, STAFF = "admin.lists@origin.com", "staff.lists@origin.com"


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    return client


@pytest.fixture
def world(app):
    """Two branches; North: staff, 3 students with an invoice and a payment each; South: 2 students."""
    with app.app_context():
        db = get_db()
        north, south = f.make_branch(db, name="North"), f.make_branch(db, name="South")
        pw = passwords.hash_password(DEMO_PASSWORD)
        f.make_user(db, role="admin", email=ADMIN, password_hash=pw)
        f.make_user(db, role="staff", branch_id=north, email=STAFF, password_hash=pw)
        people = [("Ava", "Brown", north), ("Ben", "Smithers", north), ("Cleo", "Osmith", north),
                  ("Dan", "Smith", south), ("Eve", "Jones", south)]
        students = []
        for first, last, branch in people:
            user = f.make_user(db, role="student", branch_id=branch, first_name=first, last_name=last,
                               email=f"{first.lower()}.{last.lower()}@example.com")
            student = f.make_student(db, user_id=user, branch_id=branch)
            invoice = f.make_invoice(db, enrollment_id=f.make_enrollment(db, student_id=student),
                                     subtotal=Decimal("100.00"), status="partial", branch_id=branch)
            f.make_payment(db, invoice, Decimal("40.00"))
            students.append(student)
    return {"north": north, "south": south, "students": students}


# ---------------------------------------------------------------------------------------------- invoices

def test_invoice_list_count_is_capped_and_totals_are_exact_or_absent(app, world, monkeypatch):
    import app.dao.invoice as invoice_dao
    from app.dao.invoice import InvoiceDAO

    with app.app_context():
        dao = InvoiceDAO(get_db())
        exact = dao.page(ListQuery(sort="issued", direction="desc"))
        assert exact.total == 5 and not exact.capped
        assert exact.totals == {"total": Decimal("550.00"), "paid": Decimal("200.00"), "balance": Decimal("350.00")}
        monkeypatch.setattr(invoice_dao, "COUNT_CAP", 3)
        with count_queries() as counter:
            capped = dao.page(ListQuery(sort="issued", direction="desc", per_page=2))
        # the capped count, the page and one read of the summary (never refreshed here: no totals);
        # never a sum over every matching invoice
        assert counter.count == 3 and not any("SUM(CASE WHEN i.status" in sql for sql in counter.statements)
        assert capped.capped and capped.total == 4 and capped.total_label == "3+" and capped.totals is None
        assert capped.pages == 2 and len(capped.items) == 2
        # a branch narrows the list under the cap: the totals are exact again
        north = dao.page(ListQuery(sort="issued", filters={"branch": str(world["north"])}))
        assert north.total == 3 and not north.capped and north.totals["balance"] == Decimal("210.00")
    admin = _client(app, ADMIN)
    html = admin.get("/invoices/").get_data(as_text=True)
    assert 'id="invoice-sums-capped"' in html and "3+ invoices" in html and "of 3+" in html
    html = admin.get(f"/invoices/?branch={world['north']}").get_data(as_text=True)
    assert "3 invoices · invoiced 330.00 · paid 120.00 · owing 210.00" in html
    staff = _client(app, STAFF)
    html = staff.get("/invoices/").get_data(as_text=True)
    assert "invoice-sums-capped" not in html and "3 invoices · invoiced 330.00" in html
    # a huge page number lands on the last page the cap offers, never a 500
    assert admin.get("/invoices/?page=999999").status_code == 200


# ---------------------------------------------------------------------------------------------- payments

def test_payment_ledger_count_is_capped_and_totals_are_exact_or_absent(app, world, monkeypatch):
    import app.dao.payment as payment_dao

    admin = _client(app, ADMIN)
    html = admin.get("/payments/").get_data(as_text=True)
    assert 'data-total="received">$200.00' in html and "5 entries" in html
    monkeypatch.setattr(payment_dao, "COUNT_CAP", 4)
    response = admin.get("/payments/")
    html = response.get_data(as_text=True)
    assert 'id="payments-totals-capped"' in html and 'data-total="received"' not in html and "4+ entries" in html
    html = admin.get(f"/payments/?branch={world['south']}").get_data(as_text=True)
    assert 'data-total="received">$80.00' in html and "2 entries" in html
    staff = _client(app, STAFF)
    assert 'data-total="received">$120.00' in staff.get("/payments/").get_data(as_text=True)


# ---------------------------------------------------------------------------------------------- students

def test_students_count_is_capped_and_the_school_wide_search_matches_prefixes(app, world, monkeypatch):
    import app.dao.student as student_dao

    admin = _client(app, ADMIN)
    html = admin.get("/students/?q=smith").get_data(as_text=True)
    # the whole school: the start of a name (Smith, Smithers), not the middle (Osmith)
    assert "Dan Smith" in html and "Ben Smithers" in html and "Cleo Osmith" not in html
    assert 'id="students-prefix"' in html
    assert "Dan Smith" in admin.get("/students/?q=dan.sm").get_data(as_text=True)  # e-mail prefix
    # one branch: anywhere in the name again
    html = admin.get(f"/students/?q=smith&branch={world['north']}").get_data(as_text=True)
    assert "Cleo Osmith" in html and "Ben Smithers" in html and "Dan Smith" not in html
    assert 'id="students-prefix"' not in html
    staff = _client(app, STAFF)
    html = staff.get("/students/?q=smith").get_data(as_text=True)
    assert "Cleo Osmith" in html and "Dan Smith" not in html and 'id="students-prefix"' not in html
    monkeypatch.setattr(student_dao, "COUNT_CAP", 3)
    html = admin.get("/students/").get_data(as_text=True)
    assert "3+ students" in html and 'id="students-capped"' in html
    assert "3 students" in staff.get("/students/").get_data(as_text=True)


def test_the_chains_learners_list_takes_far_over_the_cap_from_the_summary(app, world, monkeypatch):
    """/students/ and /students/?enrolment=active for the whole chain (the list as it opens, the
    dashboard's pipeline link): once stat_branch_totals counts far more active students or learners than
    the cap, the list says "cap+" without its count statement; near or under the cap, never refreshed,
    or narrowed, it counts as before."""
    import app.dao.student as student_dao
    from app.core.database import count_queries
    from app.services import stats

    admin = _client(app, ADMIN)
    monkeypatch.setattr(student_dao, "COUNT_CAP", 3)
    counted = "SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM students"

    def listed(url):
        with count_queries() as counter:
            html = admin.get(url).get_data(as_text=True)
        return html, any(sql.lstrip().startswith(counted) for sql in counter.statements)

    html, did_count = listed("/students/?enrolment=active")          # never refreshed: counted
    assert "3+ students" in html and did_count
    with app.app_context():
        stats.refresh(get_db(), datetime(2026, 3, 10, 12, 0), names=["branch_totals"])
    html, did_count = listed("/students/?enrolment=active")           # 5 learners > 3 x 1.1: no count
    assert "3+ students" in html and 'id="students-capped"' in html and not did_count
    assert "Ava Brown" in html
    html, did_count = listed("/students/")                           # the list as it opens: active students
    assert "3+ students" in html and not did_count
    html, did_count = listed("/students/?enrolment=completed")        # not what the summary bounds: counted
    assert did_count
    html, did_count = listed("/students/?enrolment=active&status=active")
    assert "3+ students" in html and not did_count
    html, did_count = listed(f"/students/?enrolment=active&branch={world['north']}")  # narrowed: counted
    assert "3 students" in html and did_count
    monkeypatch.setattr(student_dao, "COUNT_CAP", 10)                 # 5 learners, cap 10: counted, exact
    html, did_count = listed("/students/?enrolment=active")
    assert "5 students" in html and did_count


# ---------------------------------------------------------------------------------------------- courses

@pytest.fixture
def allocated(app, world):
    """A course with 30 instructors at North (Zed 00..29) and 2 at South."""
    with app.app_context():
        db = get_db()
        course = f.make_course(db, title="Chain Course")
        north = [f.make_instructor(db, branch_id=world["north"], user_id=f.make_user(
            db, role="instructor", branch_id=world["north"], first_name="Zed", last_name=f"North{n:02d}"))
            for n in range(30)]
        south = [f.make_instructor(db, branch_id=world["south"], user_id=f.make_user(
            db, role="instructor", branch_id=world["south"], first_name="Yan", last_name=f"South{n}"))
            for n in range(2)]
        for instructor in north + south:
            f.allocate(db, course, instructor)
    return {"course": course, "north": north, "south": south}


def test_course_list_counts_allocations_and_names_a_few(app, world, allocated):
    from app.dao.course import CourseDAO

    with app.app_context():
        summary = CourseDAO(get_db()).instructor_summary([allocated["course"]], branch_id=world["south"])
    entry = summary[allocated["course"]]
    assert entry["count"] == 32 and entry["branch_count"] == 2
    assert [i["id"] for i in entry["preview"]] == allocated["south"] + allocated["north"][:1]  # branch first
    admin = _client(app, ADMIN)
    html = admin.get("/courses/").get_data(as_text=True)
    row = html[html.index("Chain Course</a>"):]
    row = row[:row.index("</tr>")]
    assert "and 29 more" in row and row.count("/instructors/") == 3
    staff = _client(app, STAFF)
    html = staff.get("/courses/").get_data(as_text=True)
    row = html[html.index("Chain Course</a>"):]
    assert "30 of 32 at your branch" in row[:row.index("</tr>")]


def test_course_page_lists_allocations_paginated_by_branch_with_search(app, world, allocated):
    course = allocated["course"]
    admin = _client(app, ADMIN)
    html = admin.get(f"/courses/{course}").get_data(as_text=True)
    assert "32 allocated" in html and "1 / 2" in html and "North00" in html and "South1" not in html
    assert "South1" in admin.get(f"/courses/{course}?page=2").get_data(as_text=True)
    html = admin.get(f"/courses/{course}?branch={world['south']}").get_data(as_text=True)
    assert "2 at this branch" in html and "South0" in html and "North00" not in html
    html = admin.get(f"/courses/{course}?q=north07").get_data(as_text=True)
    assert "North07" in html and "North08" not in html
    staff = _client(app, STAFF)
    html = staff.get(f"/courses/{course}").get_data(as_text=True)
    assert "30 at your branch" in html and "South0" not in html and "North24" in html and "North25" not in html
    # staff cannot widen the list to another branch
    assert "South0" not in staff.get(f"/courses/{course}?branch={world['south']}").get_data(as_text=True)
    assert admin.get(f"/courses/{course}?page=999999").status_code == 200
    # the staff edit form changes its branch's part and counts the others' (kept as they are)
    assert "Also allocated at other branches (unchanged): 2 instructors" in \
        staff.get(f"/courses/{course}/edit").get_data(as_text=True)


# ---------------------------------------------------------------------------------------------- summaries

def test_over_the_cap_the_whole_chain_totals_come_from_the_summary_as_of_its_refresh(app, world, monkeypatch):
    import app.dao.invoice as invoice_dao
    import app.dao.payment as payment_dao
    from app.core import clock
    from app.dao.invoice import InvoiceDAO
    from app.dao.payment import PaymentDAO
    from app.services import stats

    with app.app_context():
        db = get_db()
        # a refund and a void invoice: the summary keeps the live list's rules (void counted, not summed)
        refunded = db.fetch_value("SELECT MIN(id) AS n FROM payments")
        f.make_payment(db, db.fetch_value("SELECT invoice_id FROM payments WHERE id = :id", {"id": refunded}),
                       Decimal("-15.00"), kind="refund", refund_of=refunded)
        f.make_invoice(db, enrollment_id=f.make_enrollment(db, student_id=world["students"][3]),
                       subtotal=Decimal("500.00"), status="void")
        live = {}
        for branch in (None, world["north"], world["south"]):
            for status in (None, "partial", "void"):
                filters = {k: v for k, v in (("branch", branch and str(branch)), ("status", status)) if v}
                live[(branch, status)] = InvoiceDAO(db).page(ListQuery(sort="issued", filters=filters))
            filters = {"branch": str(branch)} if branch else {}
            for kind in (None, "refund"):
                query = ListQuery(sort="date", filters={**filters, **({"kind": kind} if kind else {})})
                live[(branch, "ledger", kind)] = PaymentDAO(db).ledger_totals(query, None)
        assert InvoiceDAO(db).summary_totals(None, None) is None  # never refreshed: no figures
        stats.refresh(db, clock.now(), names=["invoice_totals", "payment_totals"])
        for (branch, status, *kind), page in live.items():
            if status == "ledger":
                query = ListQuery(sort="date", filters={**({"branch": str(branch)} if branch else {}),
                                                        **({"kind": kind[0]} if kind[0] else {})})
                summary = PaymentDAO(db).summary_totals(query, None)
                assert {k: summary[k] for k in ("count", "received", "refunded", "net")} == page, (branch, kind)
                continue
            summary = InvoiceDAO(db).summary_totals(branch, status)
            assert summary["count"] == page.total, (branch, status)
            assert {k: summary[k] for k in ("total", "paid", "balance")} == page.totals, (branch, status)
        # a search or a date range is never answered from the summary
        assert PaymentDAO(db).summary_totals(ListQuery(sort="date", q="ava"), None) is None
        assert PaymentDAO(db).summary_totals(ListQuery(sort="date", filters={"date_from": "2026-01-01"}), None) is None
    monkeypatch.setattr(invoice_dao, "COUNT_CAP", 3)
    monkeypatch.setattr(payment_dao, "COUNT_CAP", 3)
    admin = _client(app, ADMIN)
    html = admin.get("/invoices/").get_data(as_text=True)
    assert 'id="invoice-sums-summary"' in html and "6 invoices · invoiced 550.00 · paid 185.00 · owing 365.00" in html
    assert "Totals as of " in html and "today" in html
    html = admin.get("/invoices/?q=a").get_data(as_text=True)
    assert 'id="invoice-sums-capped"' in html  # a search: exact or nothing
    html = admin.get("/payments/").get_data(as_text=True)
    assert 'id="payments-totals-as-of"' in html and 'data-total="net">$185.00' in html
    assert 'data-total="refunded">$15.00' in html
