"""The invoice and statement PDFs (fpdf2): pypdf extracts the invoice number, the lines, the tax, the
total and the balance; the school's ABN and the branch are on it. No network at render time."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import io
from datetime import date, datetime
from decimal import Decimal

from pypdf import PdfReader

from app.services import invoicing
from app.services.scope import Actor
from tests import factories as f

NOW = datetime(2026, 3, 10, 1, 0, 0)
SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne", "APP_NAME": "Origin Driving School", "SCHOOL_ABN": "12 345 678 901"}


def _text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_invoice_pdf_holds_number_lines_tax_total_and_balance(db):
    actor = Actor(user_id=f.make_user(db, role="admin"), role="admin")
    branch = f.make_branch(db, name="Bayside Training Hub")
    enrolment = f.make_enrollment(db, student_id=f.make_student(db, branch_id=branch))
    invoice_id = invoicing.create_invoice(db, actor, enrollment_id=enrolment, now=NOW, settings=SETTINGS, lines=[
        {"description": "Learner Essentials Package Fee", "quantity": 1, "unit_price": "880.00", "kind": "course"},
        {"description": "Extra lesson — highway", "quantity": 2, "unit_price": "75.50", "kind": "lesson"}])
    f.make_payment(db, invoice_id, Decimal("400.00"))
    invoicing.recompute(db, invoice_id, now=NOW, settings=SETTINGS)
    invoice = invoicing.get(db, actor, invoice_id)
    text = _text(invoicing.render_invoice_pdf(invoice, SETTINGS))
    for expected in ("INV-2026-000001", "Learner Essentials Package Fee", "Extra lesson - highway", "75.50",
                     "1,031.00", "103.10", "1,134.10", "400.00", "734.10", "ABN: 12 345 678 901",
                     "Bayside Training Hub", "GST 10%"):
        assert expected in text, expected


def test_statement_pdf_has_opening_and_closing_balance(db):
    actor = Actor(user_id=f.make_user(db, role="admin"), role="admin")
    student = f.make_student(db)
    enrolment = f.make_enrollment(db, student_id=student)
    invoicing.create_invoice(db, actor, enrollment_id=enrolment, now=NOW, settings=SETTINGS,
                             lines=[{"description": "Course", "quantity": 1, "unit_price": "100.00"}])
    data = invoicing.statement(db, actor, student, date(2026, 1, 1), date(2026, 12, 31))
    assert data["opening"] == Decimal("0.00") and data["closing"] == Decimal("110.00")
    text = _text(invoicing.render_statement_pdf(data, SETTINGS))
    assert "Opening balance" in text and "Closing balance" in text and "INV-2026-000001" in text and "110.00" in text
