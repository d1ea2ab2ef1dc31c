"""A student's balance due comes from an aggregate over every invoice, never from the displayed page.

The profile lists the 50 newest invoices; the balance used to be summed over that page only, so a
student with 55 unpaid invoices showed 50 of them as owing. Both databases.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import timedelta
from decimal import Decimal

from app.core.database import count_queries
from app.core.flask_db import get_db
from app.dao.student import StudentDAO
from tests import factories as f
from tests.conftest import login


def _student_with_invoices(db, count: int, subtotal: str = "10.00") -> int:
    student = f.make_student(db)
    enrolment = f.make_enrollment(db, student_id=student)
    for n in range(count):
        f.make_invoice(db, enrollment_id=enrolment, subtotal=Decimal(subtotal), tax_amount=Decimal("0.00"),
                       issue_date=f.TODAY - timedelta(days=n))
    return student


def test_invoice_totals_cover_every_invoice_in_one_query(db):
    student = _student_with_invoices(db, 55)
    paid_off = f.make_invoice(db, enrollment_id=f.make_enrollment(db, student_id=student),
                              subtotal=Decimal("100.00"), tax_amount=Decimal("0.00"))
    f.make_payment(db, paid_off, "100.00")
    overpaid = f.make_invoice(db, enrollment_id=f.make_enrollment(db, student_id=student),
                              subtotal=Decimal("20.00"), tax_amount=Decimal("0.00"))
    f.make_payment(db, overpaid, "25.00")  # a credit on one invoice does not reduce what another owes
    half = f.make_invoice(db, enrollment_id=f.make_enrollment(db, student_id=student),
                          subtotal=Decimal("0.30"), tax_amount=Decimal("0.00"))
    f.make_payment(db, half, "0.10")
    f.make_invoice(db, subtotal=Decimal("999.00"))  # another student's
    with count_queries() as counter:
        totals = StudentDAO(db).invoice_totals(student)
    assert counter.count == 1
    assert totals == {"invoices": 58, "balance_due": Decimal("550.20")}
    assert isinstance(totals["balance_due"], Decimal)
    assert StudentDAO(db).invoice_totals(f.make_student(db)) == {"invoices": 0, "balance_due": Decimal("0.00")}


def test_profile_balance_counts_invoices_beyond_the_displayed_page(seeded):
    client = seeded.test_client()
    with seeded.app_context():
        student = _student_with_invoices(get_db(), 55)
        get_db().execute("UPDATE students SET branch_id = NULL WHERE id = :id", {"id": student})
    login(client, "admin@origin.com")
    html = client.get(f"/students/{student}").get_data(as_text=True)
    assert 'data-testid="balance-due">$550.00<' in html
    assert "Showing the 50 newest of 55 invoices" in html
