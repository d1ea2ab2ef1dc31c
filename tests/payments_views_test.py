"""The payment pages (blueprints/payments.py, blueprints/student_payments.py) on both databases: the ledger
lists the branch's payments with totals and filters (a foreign branch's rows never show), the CSV export
quotes cells that a spreadsheet would run as formulas; the record form keeps what was typed and shows the
error in view (422, nothing written), a good payment answers 303; a refund needs a reason; instructors get
403; a student pays their own invoice with the mock gateway (303 to their receipt), a declined card is 422
and writes nothing, and a double submit of the same form charges once; another student's invoice is 404."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import csv
import io
import re
from datetime import datetime
from decimal import Decimal

import pytest

from app.core import passwords
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

NOW = datetime(2026, 3, 10, 2, 30)
CARD = {"name_on_card": "Jack Mason", "card_number": "4111111111111111", "card_expiry": "12/29", "card_cvv": "123"}


def _user(db, role, branch, email, first="Pat", last="Lee"):
    return f.make_user(db, role=role, branch_id=branch, email=email, first_name=first, last_name=last,
                       password_hash=passwords.hash_password(DEMO_PASSWORD))


@pytest.fixture
def world(app, frozen):
    frozen(NOW)
    with app.app_context():
        db = get_db()
        branch, other = f.make_branch(db, name="Bayside"), f.make_branch(db, name="Northside")
        jack = f.make_student(db, user_id=_user(db, "student", branch, "jack@x.com", "Jack", "Mason"), branch_id=branch)
        mia = f.make_student(db, user_id=_user(db, "student", branch, "mia@x.com", "Mia", "Chen"), branch_id=branch)
        zed = f.make_student(db, user_id=_user(db, "student", other, "zed@x.com", "Zzforeign", "Student"),
                             branch_id=other)
        invoice = f.make_invoice(db, f.make_enrollment(db, jack), invoice_number="INV-2026-000001")
        mia_invoice = f.make_invoice(db, f.make_enrollment(db, mia), invoice_number="INV-2026-000002")
        foreign = f.make_invoice(db, f.make_enrollment(db, zed), invoice_number="ZZINV-FOREIGN")
        f.make_payment(db, foreign, "55.00", reference="ZZREF-FOREIGN", method="cash")
        _user(db, "staff", branch, "staff@x.com")
        _user(db, "admin", None, "admin@x.com")
        _user(db, "instructor", branch, "raj@x.com")
    return {"invoice": invoice, "mia_invoice": mia_invoice, "foreign": foreign, "branch": branch, "other": other}


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    return client


def _payments(app, invoice):
    with app.app_context():
        return get_db().fetch_all("SELECT id, amount, kind, method, reference FROM payments WHERE invoice_id = :i"
                                  " ORDER BY id", {"i": invoice})


def _form_value(html, name):
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(rf'value="([^"]*)"[^>]*name="{name}"', html)
    return match.group(1) if match else None


def test_record_form_keeps_typed_values_shows_the_error_then_records(app, world):
    staff = _client(app, "staff@x.com")
    page = staff.get(f"/invoices/{world['invoice']}/payments")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    key = _form_value(html, "idempotency_key")
    assert key and 'id="record-payment-form"' in html
    token = csrf_token(staff, f"/invoices/{world['invoice']}/payments")
    bad = staff.post(f"/invoices/{world['invoice']}/payments", data={
        "csrf_token": token, "amount": "12.345", "method": "cash", "payment_date": "2026-03-09",
        "reference": "Typed ref", "idempotency_key": key})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "at most two decimals" in html and 'value="12.345"' in html and 'value="Typed ref"' in html
    assert "The payment was not recorded" in html
    over = staff.post(f"/invoices/{world['invoice']}/payments", data={
        "csrf_token": token, "amount": "2000", "method": "cash", "idempotency_key": key})
    assert over.status_code == 422 and "account credit" in over.get_data(as_text=True)
    assert _payments(app, world["invoice"]) == []
    good = {"csrf_token": token, "amount": "400.00", "method": "bank_transfer", "payment_date": "2026-03-09",
            "reference": "EFT 1", "idempotency_key": key}
    response = staff.post(f"/invoices/{world['invoice']}/payments", data=good)
    assert response.status_code == 303
    again = staff.post(f"/invoices/{world['invoice']}/payments", data=good)  # double submit
    assert again.status_code == 303
    rows = _payments(app, world["invoice"])
    assert len(rows) == 1 and Decimal(str(rows[0]["amount"])) == Decimal("400.00")
    html = staff.get(f"/invoices/{world['invoice']}/payments").get_data(as_text=True)
    assert "$400.00" in html and "$568.00" in html


def test_refund_needs_a_reason_then_is_a_negative_entry(app, world):
    with app.app_context():
        payment = f.make_payment(get_db(), world["invoice"], "100.00", method="card")
    staff = _client(app, "staff@x.com")
    assert staff.get(f"/payments/{payment}").status_code == 200
    token = csrf_token(staff, f"/payments/{payment}")
    response = staff.post(f"/payments/{payment}/refund", data={"csrf_token": token, "amount": "30", "reason": ""})
    assert response.status_code == 422 and "Say why" in response.get_data(as_text=True)
    response = staff.post(f"/payments/{payment}/refund", data={"csrf_token": token, "amount": "30", "reason": "Sick"})
    assert response.status_code == 303
    rows = _payments(app, world["invoice"])
    assert [(r["kind"], Decimal(str(r["amount"]))) for r in rows] == [("payment", Decimal("100.00")),
                                                                       ("refund", Decimal("-30.00"))]


def test_ledger_shows_the_branch_with_totals_and_filters(app, world):
    with app.app_context():
        db = get_db()
        f.make_payment(db, world["invoice"], "100.00", method="card", reference="=cmd|' /C calc'!A0")
        f.make_payment(db, world["mia_invoice"], "50.00", method="cash", reference="@SUM(1)")
    staff = _client(app, "staff@x.com")
    html = staff.get("/payments/").get_data(as_text=True)
    assert "INV-2026-000001" in html and "INV-2026-000002" in html
    assert "ZZINV-FOREIGN" not in html and "Zzforeign" not in html
    assert 'data-total="received">$150.00' in html
    assert 'id="filter-branch"' not in html
    for query in (f"?branch={world['other']}", "?q=Zz", "?method=cash&q=ZZREF"):
        assert "ZZINV-FOREIGN" not in staff.get("/payments/" + query).get_data(as_text=True)
    cash = staff.get("/payments/?method=cash").get_data(as_text=True)
    assert "INV-2026-000002" in cash and "INV-2026-000001" not in cash
    bad = staff.get("/payments/?date_from=2026-13-01&page=x")
    assert bad.status_code == 200 and "was ignored" in bad.get_data(as_text=True)
    admin = _client(app, "admin@x.com").get("/payments/").get_data(as_text=True)
    assert "ZZINV-FOREIGN" in admin and 'id="filter-branch"' in admin

    export = staff.get("/payments/export.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert rows[0][0] == "id" and len(rows) == 3
    cells = [c for row in rows[1:] for c in row]
    assert "'=cmd|' /C calc'!A0" in cells and "'@SUM(1)" in cells
    assert not any(c[:1] in ("=", "+", "-", "@", "\t", "\r") for c in cells)
    assert "ZZ" not in export.get_data(as_text=True)


def test_instructors_and_students_are_refused_the_office_pages(app, world):
    raj = _client(app, "raj@x.com")
    for path in ("/payments/", "/payments/export.csv", f"/invoices/{world['invoice']}/payments"):
        assert raj.get(path).status_code == 403, path
    jack = _client(app, "jack@x.com")
    assert jack.get("/payments/").status_code == 403
    staff = _client(app, "staff@x.com")
    assert staff.get(f"/invoices/{world['foreign']}/payments").status_code == 404
    assert staff.get(f"/my/invoices/{world['invoice']}/pay").status_code == 403


def test_student_pays_with_the_mock_gateway_double_submit_charges_once(app, world):
    jack = _client(app, "jack@x.com")
    page = jack.get(f"/my/invoices/{world['invoice']}/pay")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    key = _form_value(html, "idempotency_key")
    assert key and _form_value(html, "amount") == "968.00"
    token = csrf_token(jack, f"/my/invoices/{world['invoice']}/pay")
    declined = jack.post(f"/my/invoices/{world['invoice']}/pay", data={
        "csrf_token": token, "idempotency_key": key, "amount": "100.00", **CARD, "card_number": "4000000000000002"})
    assert declined.status_code == 422 and "declined" in declined.get_data(as_text=True)
    assert "4000000000000002" not in declined.get_data(as_text=True)
    assert _payments(app, world["invoice"]) == []
    fresh = _form_value(declined.get_data(as_text=True), "idempotency_key")
    assert fresh and fresh != key
    data = {"csrf_token": token, "idempotency_key": fresh, "amount": "100.00", **CARD}
    first = jack.post(f"/my/invoices/{world['invoice']}/pay", data=data)
    second = jack.post(f"/my/invoices/{world['invoice']}/pay", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    rows = _payments(app, world["invoice"])
    assert len(rows) == 1 and rows[0]["method"] == "gateway" and rows[0]["reference"].startswith("MOCK-")
    receipt = jack.get(first.headers["Location"])
    assert receipt.status_code == 200 and "$100.00" in receipt.get_data(as_text=True)
    # another student's invoice and receipt are not found
    mia = _client(app, "mia@x.com")
    assert mia.get(f"/my/invoices/{world['invoice']}/pay").status_code == 404
    assert mia.get(first.headers["Location"]).status_code == 404
    token = csrf_token(mia, f"/my/invoices/{world['mia_invoice']}/pay")
    response = mia.post(f"/my/invoices/{world['invoice']}/pay", data={**data, "csrf_token": token,
                                                                        "idempotency_key": "x" * 30})
    assert response.status_code == 404
    assert len(_payments(app, world["invoice"])) == 1


def test_the_invoice_page_includes_the_payments_panel(app, world):
    with app.app_context():
        f.make_payment(get_db(), world["invoice"], "120.00", method="card", reference="PANEL-REF")
    html = _client(app, "staff@x.com").get(f"/invoices/{world['invoice']}").get_data(as_text=True)
    assert 'id="payments"' in html and "PANEL-REF" in html and 'id="record-payment-form"' in html


def test_my_invoices_shows_my_package_credit_and_receipts_only(app, world):
    from app.dao.payment import PaymentDAO
    from app.services import packages

    with app.app_context():
        db = get_db()
        enrolment = db.fetch_value("SELECT enrollment_id FROM invoices WHERE id = :id", {"id": world["invoice"]})
        jack = db.fetch_value("SELECT student_id FROM enrollments WHERE id = :id", {"id": enrolment})
        packages.purchase(db, None, enrolment, 10, now=NOW, source="enrolment")
        f.make_payment(db, world["invoice"], "120.00", reference="JACKREF", method="card")
        PaymentDAO(db).add_credit({"student_id": jack, "amount": "15.00", "source": "overpayment", "invoice_id": None,
                                   "payment_id": None, "notes": None, "created_by": None, "created_at": NOW})
    html = _client(app, "jack@x.com").get("/my/invoices").get_data(as_text=True)
    assert "My lesson package" in html and "Remaining" in html
    assert "120.00" in html and "Account credit 15.00" in html
    assert "55.00" not in html and "ZZINV-FOREIGN" not in html  # another student's payment is not theirs
