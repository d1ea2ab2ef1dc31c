"""The invoice pages: list (scope, filters, totals), new (errors keep typed values), view with issue /
void / credit note buttons, the student's list and another student's invoice (404), the statement."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from decimal import Decimal

from app.core import passwords
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, login, post_form


def _world(app):
    with app.app_context():
        db = get_db()
        north, south = f.make_branch(db, name="North"), f.make_branch(db, name="South")
        pw = passwords.hash_password(DEMO_PASSWORD)
        f.make_user(db, role="admin", email="admin.inv@origin.com", password_hash=pw)
        f.make_user(db, role="staff", branch_id=north, email="staff.north@origin.com", password_hash=pw)
        f.make_user(db, role="staff", branch_id=south, email="staff.south@origin.com", password_hash=pw)
        jack_user = f.make_user(db, role="student", branch_id=north, email="jack@origin.com", password_hash=pw,
                                first_name="Jack", last_name="Mason")
        mia_user = f.make_user(db, role="student", branch_id=north, email="mia@origin.com", password_hash=pw)
        jack = f.make_student(db, user_id=jack_user, branch_id=north)
        mia = f.make_student(db, user_id=mia_user, branch_id=north)
        enrolment = f.make_enrollment(db, student_id=jack, course_id=f.make_course(db, title="Learner Package",
                                                                                   price=Decimal("880.00")))
        mia_invoice = f.make_invoice(db, enrollment_id=f.make_enrollment(db, student_id=mia),
                                     invoice_number="INV-MIA-1")
    return {"enrolment": enrolment, "jack": jack, "mia_invoice": mia_invoice}


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    return client


def test_new_invoice_keeps_typed_values_on_error_then_issues(app):
    w = _world(app)
    client = _client(app, "staff.north@origin.com")
    page = client.get(f"/invoices/new?enrollment_id={w['enrolment']}")
    assert page.status_code == 200 and "Learner Package Fee" in page.get_data(as_text=True)
    bad = post_form(client, f"/invoices/new?enrollment_id={w['enrolment']}",
                    {"lines-0-description": "Learner Package Fee", "lines-0-quantity": "1",
                     "lines-0-unit_price": "12.345", "lines-0-kind": "course", "issue": "1"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "12.345" in html and "two decimals (cents)" in html
    good = post_form(client, f"/invoices/new?enrollment_id={w['enrolment']}",
                     {"lines-0-description": "Learner Package Fee", "lines-0-quantity": "1",
                      "lines-0-unit_price": "880.00", "lines-0-kind": "course", "issue": "1"})
    assert good.status_code == 303
    view = client.get(good.headers["Location"]).get_data(as_text=True)
    assert "INV-" in view and "968.00" in view and "Void invoice" in view
    listing = client.get("/invoices/?q=Mason").get_data(as_text=True)
    assert "968.00" in listing and "INV-MIA-1" not in listing
    assert "INV-MIA-1" in client.get("/invoices/").get_data(as_text=True)  # same branch


def test_void_without_a_reason_is_refused_in_view_then_voids(app):
    w = _world(app)
    client = _client(app, "admin.inv@origin.com")
    url = f"/invoices/{w['mia_invoice']}"
    refused = post_form(client, url + "/void", {"reason": ""}, token_from=url)
    assert refused.status_code == 422 and "reason" in refused.get_data(as_text=True).lower()
    done = post_form(client, url + "/void", {"reason": "Duplicate"}, token_from=url)
    assert done.status_code == 303
    assert "Duplicate" in client.get(url).get_data(as_text=True)


def test_credit_note_button_issues_a_negative_invoice(app):
    w = _world(app)
    client = _client(app, "admin.inv@origin.com")
    url = f"/invoices/{w['mia_invoice']}"
    done = post_form(client, url + "/credit-note", {"amount": "100.00", "reason": "Goodwill"}, token_from=url)
    assert done.status_code == 303 and done.headers["Location"] != url
    assert "-100.00" in client.get(done.headers["Location"]).get_data(as_text=True)


def test_staff_of_another_branch_get_404(app):
    w = _world(app)
    client = _client(app, "staff.south@origin.com")
    assert client.get(f"/invoices/{w['mia_invoice']}").status_code == 404
    assert client.get(f"/invoices/{w['mia_invoice']}.pdf").status_code == 404
    assert client.get(f"/students/{w['jack']}/statement").status_code == 404
    assert "INV-MIA-1" not in client.get("/invoices/").get_data(as_text=True)


def test_student_sees_own_invoices_and_not_anothers(app):
    w = _world(app)
    client = _client(app, "mia@origin.com")
    mine = client.get("/my/invoices").get_data(as_text=True)
    assert "INV-MIA-1" in mine and "Download PDF" in mine
    assert client.get(f"/my/invoices/{w['mia_invoice']}").status_code == 200
    pdf = client.get(f"/my/invoices/{w['mia_invoice']}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    jack = _client(app, "jack@origin.com")
    assert jack.get(f"/my/invoices/{w['mia_invoice']}").status_code == 404
    assert jack.get(f"/my/invoices/{w['mia_invoice']}.pdf").status_code == 404
    assert jack.get(f"/students/{w['jack']}/statement").status_code == 200


def test_statement_page_and_pdf(app):
    w = _world(app)
    client = _client(app, "staff.north@origin.com")
    page = client.get(f"/students/{w['jack']}/statement?start=2020-01-01&end=2030-12-31")
    assert page.status_code == 200 and "Opening balance" in page.get_data(as_text=True)
    pdf = client.get(f"/students/{w['jack']}/statement.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"


def test_a_draft_takes_lines_and_an_issued_invoice_refuses_them_naming_the_rule(app):
    w = _world(app)
    client = _client(app, "admin.inv@origin.com")
    created = post_form(client, f"/enrolments/{w['enrolment']}/invoices/new",
                        {"lines-0-description": "Fee", "lines-0-quantity": "1", "lines-0-unit_price": "100.00",
                         "lines-0-kind": "course"}, token_from=f"/enrolments/{w['enrolment']}/invoices/new")
    url = created.headers["Location"]
    assert "Draft" in client.get(url).get_data(as_text=True)
    added = post_form(client, url + "/lines", {"description": "Extra lesson", "quantity": "2", "unit_price": "70.00",
                                               "kind": "lesson", "credits": "2"}, token_from=url)
    assert added.status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert "Extra lesson" in page and "264.00" in page  # (100 + 140) + 10 % GST
    assert post_form(client, url + "/issue", {}, token_from=url).status_code == 303
    refused = post_form(client, url + "/lines", {"description": "Late", "quantity": "1", "unit_price": "5.00"},
                        token_from=url)
    assert refused.status_code == 409 and "credit note" in refused.get_data(as_text=True)
    assert "Late" not in client.get(url).get_data(as_text=True)
