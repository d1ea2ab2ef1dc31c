"""InvoiceDAO.recent on both backends: balance due as exact money, filters, order, limit, one query."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, timedelta
from decimal import Decimal

from app.core.database import count_queries
from app.dao.invoice import InvoiceDAO
from tests.factories import (
    make_branch, make_course, make_enrollment, make_invoice, make_payment, make_student, make_user,
)

TODAY = date(2026, 3, 10)
DAY = timedelta(days=1)


def _by_number(rows) -> dict:
    return {r["invoice_number"]: r for r in rows}


def _assert_money(value, expected: str):
    assert isinstance(value, Decimal), type(value)
    assert value == Decimal(expected)
    assert value.as_tuple().exponent == -2, value  # exactly two decimal places, e.g. 568.00 not 568


def test_balance_due_is_total_minus_all_payments(db):
    invoice = make_invoice(db, invoice_number="INV-A", subtotal=Decimal("880.00"))  # total 968.00
    make_payment(db, invoice, Decimal("400.00"))
    make_payment(db, invoice, Decimal("100.10"))
    make_payment(db, invoice, Decimal("0.20"))
    row = _by_number(InvoiceDAO(db).recent())["INV-A"]
    _assert_money(row["total"], "968.00")
    _assert_money(row["paid"], "500.30")
    _assert_money(row["balance_due"], "467.70")


def test_cents_that_do_not_add_up_in_binary_floats_stay_exact(db):
    # SQLite stores DECIMAL as REAL and SUM returns a float: 0.10 + 0.20 is 0.30000000000000004 there
    invoice = make_invoice(db, invoice_number="INV-F", subtotal=Decimal("12.55"), tax_amount=Decimal("0.25"))
    for amount in ("0.10", "0.20", "12.50"):
        make_payment(db, invoice, Decimal(amount))
    row = _by_number(InvoiceDAO(db).recent())["INV-F"]
    _assert_money(row["total"], "12.80")
    _assert_money(row["paid"], "12.80")
    _assert_money(row["balance_due"], "0.00")


def test_invoice_without_payments_owes_its_total(db):
    make_invoice(db, invoice_number="INV-Z", subtotal=Decimal("320.00"))
    row = _by_number(InvoiceDAO(db).recent())["INV-Z"]
    _assert_money(row["paid"], "0.00")
    _assert_money(row["balance_due"], "352.00")


def test_payments_of_one_invoice_do_not_leak_into_another(db):
    enrollment = make_enrollment(db)
    first = make_invoice(db, enrollment, invoice_number="INV-1", subtotal=Decimal("100.00"))
    make_invoice(db, enrollment, invoice_number="INV-2", subtotal=Decimal("200.00"))
    make_payment(db, first, Decimal("110.00"))
    rows = _by_number(InvoiceDAO(db).recent())
    _assert_money(rows["INV-1"]["balance_due"], "0.00")
    _assert_money(rows["INV-2"]["balance_due"], "220.00")


def test_overpayment_gives_a_negative_balance(db):
    invoice = make_invoice(db, invoice_number="INV-O", subtotal=Decimal("100.00"))
    make_payment(db, invoice, Decimal("150.00"))
    _assert_money(_by_number(InvoiceDAO(db).recent())["INV-O"]["balance_due"], "-40.00")


def test_rows_carry_course_and_student_names(db):
    user = make_user(db, first_name="Jack", last_name="Mason")
    student = make_student(db, user_id=user)
    enrollment = make_enrollment(db, student, make_course(db, title="Learner Essentials Package"))
    invoice = make_invoice(db, enrollment, invoice_number="INV-20260301-0001", issue_date=TODAY,
                           due_date=TODAY + 7 * DAY, status="partial")
    (row,) = InvoiceDAO(db).recent()
    assert row["id"] == invoice
    assert row["issue_date"] == TODAY and row["due_date"] == TODAY + 7 * DAY
    assert row["status"] == "partial"
    assert row["course_title"] == "Learner Essentials Package"
    assert (row["student_first_name"], row["student_last_name"]) == ("Jack", "Mason")


def test_newest_issue_date_first_then_newest_id_and_limit(db):
    enrollment = make_enrollment(db)
    make_invoice(db, enrollment, invoice_number="old", issue_date=TODAY - 30 * DAY)
    make_invoice(db, enrollment, invoice_number="newest", issue_date=TODAY)
    make_invoice(db, enrollment, invoice_number="mid-first", issue_date=TODAY - 5 * DAY)
    make_invoice(db, enrollment, invoice_number="mid-second", issue_date=TODAY - 5 * DAY)
    make_invoice(db, enrollment, invoice_number="older", issue_date=TODAY - 20 * DAY)
    make_invoice(db, enrollment, invoice_number="middle", issue_date=TODAY - 10 * DAY)
    dao = InvoiceDAO(db)
    numbers = [r["invoice_number"] for r in dao.recent(limit=10)]
    assert numbers == ["newest", "mid-second", "mid-first", "middle", "older", "old"]
    assert [r["invoice_number"] for r in dao.recent()] == numbers[:5]  # default limit 5
    assert [r["invoice_number"] for r in dao.recent(limit=2)] == ["newest", "mid-second"]


def test_filters_by_student_and_by_the_students_branch(db):
    north, south = make_branch(db), make_branch(db)
    jack, mia, zoe = (make_student(db, branch_id=north), make_student(db, branch_id=north),
                      make_student(db, branch_id=south))
    make_invoice(db, make_enrollment(db, jack), invoice_number="jack-1", issue_date=TODAY - 3 * DAY)
    make_invoice(db, make_enrollment(db, jack), invoice_number="jack-2", issue_date=TODAY - 1 * DAY)
    make_invoice(db, make_enrollment(db, mia), invoice_number="mia-1", issue_date=TODAY - 2 * DAY)
    make_invoice(db, make_enrollment(db, zoe), invoice_number="zoe-1", issue_date=TODAY)
    dao = InvoiceDAO(db)
    assert [r["invoice_number"] for r in dao.recent(student_id=jack)] == ["jack-2", "jack-1"]
    assert [r["invoice_number"] for r in dao.recent(branch_id=north)] == ["jack-2", "mia-1", "jack-1"]
    assert [r["invoice_number"] for r in dao.recent(branch_id=south)] == ["zoe-1"]
    assert dao.recent(student_id=zoe, branch_id=north) == []
    assert dao.recent(student_id=max(jack, mia, zoe) + 1000) == []


def test_one_query_however_many_invoices_and_payments(db):
    for n in range(7):
        invoice = make_invoice(db, make_enrollment(db), issue_date=TODAY - n * DAY)
        for _ in range(n):
            make_payment(db, invoice, Decimal("1.00"))
    dao = InvoiceDAO(db)
    with count_queries() as counter:
        rows = dao.recent(limit=10)
    assert counter.count == 1
    assert len(rows) == 7
    assert [r["paid"] for r in rows] == [Decimal(f"{n}.00") for n in range(7)]
