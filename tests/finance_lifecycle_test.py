"""Issue 9's "done when", end to end through the web pages (Flask test client), on both databases:

application (``/apply``) → approval with an instructor (``/enrolment-requests/<id>``) → the issued invoice
(INV-YYYY-NNNNNN, the course's price plus GST) and the package (the course's lessons) → a lesson booked by the
office and recorded completed (one credit consumed, the package page says so) → a partial payment (Partly
paid) → past the due date ``flask mark-overdue-invoices`` (Overdue) → a late cancellation by the office inside
the cut-off (the branch's late-cancellation fee, set by the admin on the policy page, lands on a draft) → the
balance paid (Paid) → a credit note against it.

Every step checks what the page shows (status badge, amounts) and the rows behind it. Refused steps on the
way (an unknown instructor or course; approving the decided request; zero, negative, non-numeric and
three-decimal amounts; a line added to the issued invoice; a waiver without a reason; paying the paid
invoice; a credit note above what is left to credit) answer a 4xx naming the problem and write nothing. No
response of the whole walk is a 500. The late-cancellation fee goes to a new draft (the issued invoice is
never edited), which the office then issues: its own number from the same sequence.
The clock is frozen and moved (the ``frozen`` fixture); each move signs everyone in again (the 30-minute idle
time-out would sign them out)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import html as html_lib
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from flask.testing import FlaskClient

from app.core import passwords
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

ADMIN, STAFF = "admin.life@origin.com", "staff.life@origin.com"
APPLICANT = "ruby.lifecycle@example.com"
# Melbourne is UTC+10 in June: 23:00 UTC on Sunday 2 June is 09:00 on Monday 3 June 2030.
MONDAY_9AM = datetime(2030, 6, 2, 23, 0)
ISSUED = date(2030, 6, 3)


class RecordingClient(FlaskClient):
    """A test client that remembers every status it was answered with (no 500 anywhere)."""
    statuses: list = []

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        path = args[0] if args and isinstance(args[0], str) else kwargs.get("path", "?")
        RecordingClient.statuses.append((response.status_code, path))
        return response


def _text(response) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def _badge(response) -> str:
    """The status badge of the page header (the h1)."""
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", response.get_data(as_text=True), re.S)
    assert h1, "no page header"
    badge = re.search(r'<span class="badge[^"]*"[^>]*>([^<]+)</span>', h1.group(1))
    return badge.group(1).strip() if badge else ""


def _post(client, path, data, token_from="/dashboard/"):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from)})


def _signed_in(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303), email
    return client


def _q(app, sql, params=None):
    with app.app_context():
        return get_db().fetch_all(sql, params or {})


def _v(app, sql, params=None):
    with app.app_context():
        return get_db().fetch_value(sql, params or {})


def _counts(app) -> dict:
    tables = ("enrollments", "invoices", "invoice_items", "payments", "package_ledger", "audit_trail")
    return {t: _v(app, f"SELECT COUNT(*) FROM {t}") for t in tables}


def _world(app):
    with app.app_context():
        db = get_db()
        branch = f.make_branch(db, name="Lifecycle Hub", phone="(03) 9555 0100", email="life@origin.com.au")
        course = f.make_course(db, title="Learner Ten", price=Decimal("880.00"), lesson_count=10)
        pw = passwords.hash_password(DEMO_PASSWORD)
        f.make_user(db, role="admin", email=ADMIN, password_hash=pw, first_name="Ada", last_name="Admin")
        f.make_user(db, role="staff", branch_id=branch, email=STAFF, password_hash=pw, first_name="Stacy",
                    last_name="Office")
        teacher_user = f.make_user(db, role="instructor", branch_id=branch, email="ira.life@origin.com",
                                   password_hash=pw, first_name="Ira", last_name="Teacher")
        teacher = f.make_instructor(db, user_id=teacher_user, branch_id=branch)
        f.allocate(db, course, teacher)
        vehicle = f.make_vehicle(db, branch_id=branch, name="Life car")
    return {"branch": branch, "course": course, "teacher": teacher, "vehicle": vehicle}


def _invoice_page(client, invoice_id):
    page = client.get(f"/invoices/{invoice_id}")
    assert page.status_code == 200
    return page


def _invoice_row(app, invoice_id):
    with app.app_context():
        return get_db().fetch_one("SELECT invoice_number, status, total, due_date, issue_date FROM invoices"
                                  " WHERE id = :id", {"id": invoice_id})


def _pay(client, invoice_id, amount, **extra):
    url = f"/invoices/{invoice_id}/payments"
    page = client.get(url).get_data(as_text=True)
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', page)
    data = {"amount": amount, "method": "cash", "payment_date": "", "reference": "", "notes": "",
            "idempotency_key": key.group(1) if key else ""}
    data.update(extra)
    return _post(client, url, data, token_from=url)


def test_application_to_credit_note_through_the_pages(app, frozen):
    app.test_client_class = RecordingClient
    RecordingClient.statuses = []
    frozen(MONDAY_9AM)
    w = _world(app)
    admin = _signed_in(app, ADMIN)

    # The admin sets the branch's late-cancellation fee (the policy page; a 24 h cut-off by default).
    policy_url = f"/branches/{w['branch']}/policy"
    policy_page = admin.get(policy_url).get_data(as_text=True)
    fields = dict(re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', policy_page))
    fields.pop("csrf_token", None)
    grid = re.search(r'<select[^>]*name="slot_grid_minutes".*?<option selected value="([^"]*)"', policy_page, re.S)
    saved = _post(admin, policy_url, {**fields, "slot_grid_minutes": grid.group(1) if grid else "15",
                                      "late_cancel_fee": "45.00", "no_show_consumes": "1"}, token_from=policy_url)
    assert saved.status_code == 303, _text(saved)
    assert "$45.00" in _text(admin.get(f"/branches/{w['branch']}"))

    # 1. The public application (no sign-in), linked from the sign-in page.
    public = app.test_client()
    assert re.search(r'href="/apply/?"', public.get("/auth/login").get_data(as_text=True))
    form = {"first_name": "Ruby", "last_name": "Lifecycle", "email": APPLICANT, "phone": "0400 123 456",
            "date_of_birth": "2006-02-14", "license_number": "L9900111", "branch_id": str(w["branch"]),
            "course_id": str(w["course"]), "preferred_date": "2030-06-04", "preferred_time": "10:00",
            "notes": "Weekday mornings"}
    applied = _post(public, "/apply", form, token_from="/apply")
    assert applied.status_code == 303 and applied.headers["Location"].endswith("/apply/thanks")
    assert public.get("/apply/thanks").status_code == 200
    student_id = _v(app, "SELECT s.id FROM students s JOIN users u ON u.id = s.user_id WHERE u.email = :e",
                    {"e": APPLICANT})
    request_id = _v(app, "SELECT id FROM enrollment_requests WHERE student_id = :s", {"s": student_id})
    assert student_id and request_id

    # 2. The branch's staff approve it with an instructor.
    staff = _signed_in(app, STAFF)
    queue = staff.get("/enrolment-requests/")
    assert queue.status_code == 200 and "Ruby Lifecycle" in _text(queue)
    request_url = f"/enrolment-requests/{request_id}"
    assert "Record the decision" in _text(staff.get(request_url))
    before = _counts(app)
    for bad in ({"instructor_id": "999999"}, {"instructor_id": str(w["teacher"]), "course_id": "999999"}):
        unknown = _post(staff, f"{request_url}/decide", {"decision": "approve", **bad}, token_from=request_url)
        assert unknown.status_code == 422 and "999999" in _text(unknown), bad
    assert _counts(app) == before  # an unknown instructor or course writes nothing
    approved = _post(staff, f"{request_url}/decide", {"decision": "approve", "instructor_id": str(w["teacher"]),
                                                      "course_id": str(w["course"])}, token_from=request_url)
    assert approved.status_code == 303, _text(approved)
    decided = staff.get(request_url)
    assert "Approved" in _text(decided) and "Enrolment #" in _text(decided)
    before = _counts(app)
    again = _post(staff, f"{request_url}/decide", {"decision": "approve", "instructor_id": str(w["teacher"])},
                  token_from=request_url)
    assert again.status_code == 409 and "already approved" in _text(again)
    assert _counts(app) == before  # the refused decision wrote nothing

    # 3. The issued invoice and the package.
    enrollment_id = _v(app, "SELECT id FROM enrollments WHERE student_id = :s", {"s": student_id})
    invoices = _q(app, "SELECT id FROM invoices WHERE enrollment_id = :e", {"e": enrollment_id})
    assert len(invoices) == 1
    invoice_id = invoices[0]["id"]
    row = _invoice_row(app, invoice_id)
    number = row["invoice_number"]
    assert re.fullmatch(r"INV-2030-\d{6}", number), number
    assert row["status"] == "sent" and row["total"] == Decimal("968.00") and row["issue_date"] == ISSUED
    assert row["due_date"] == ISSUED + timedelta(days=7)
    page = _invoice_page(staff, invoice_id)
    assert _badge(page) == "Sent"
    text = _text(page)
    assert number in text and "880.00" in text and "GST 10 % 88.00" in text and "Balance due 968.00" in text
    assert number in _text(staff.get(f"/invoices/?q={number}"))
    package_url = f"/students/{student_id}/package?enrollment={enrollment_id}"
    package = _text(staff.get(package_url))
    assert "Purchased 10" in package and "Used 0" in package and "Remaining 10" in package

    # 4. The office books a lesson for tomorrow and, after it, records it completed: one credit consumed.
    booking = {"student_id": str(student_id), "instructor_id": str(w["teacher"]), "vehicle_id": str(w["vehicle"]),
               "event_type": "lesson", "date": "2030-06-04", "start_time": "10:00", "end_time": "11:00",
               "topic": "First drive", "pickup_location": "", "notes": "", "accept_warnings": "y"}
    booked = _post(staff, "/schedules/new", booking, token_from="/schedules/new")
    assert booked.status_code == 303, _text(booked)
    lesson = int(re.search(r"/schedules/(\d+)$", booked.headers["Location"]).group(1))
    frozen(datetime(2030, 6, 4, 2, 0))  # Tuesday 12:00 in Melbourne: the lesson is over
    staff = _signed_in(app, STAFF)
    outcome = _post(staff, f"/schedules/{lesson}/outcome", {"status": "completed", "seen_status": "scheduled",
                                                           "student_feedback": "Good start"},
                    token_from=f"/schedules/{lesson}/outcome")
    assert outcome.status_code == 303, _text(outcome)
    assert _v(app, "SELECT status FROM schedules WHERE id = :id", {"id": lesson}) == "completed"
    ledger = _q(app, "SELECT entry, credits FROM package_ledger WHERE enrollment_id = :e ORDER BY id",
                {"e": enrollment_id})
    assert [(r["entry"], r["credits"]) for r in ledger] == [("purchase", 10), ("consume", -1)]
    package = _text(staff.get(package_url))
    assert "Purchased 10" in package and "Used 1" in package and "Remaining 9" in package

    # 5. A partial payment; a three-decimal amount first is refused and writes nothing.
    before = _counts(app)
    bad = _pay(staff, invoice_id, "100.005")
    assert bad.status_code == 422 and "two decimals" in _text(bad)
    assert 'value="100.005"' in bad.get_data(as_text=True)  # the typed value kept
    for amount, message in (("0", "more than zero"), ("-5", "more than zero"), ("abc", "dollars and cents")):
        refused = _pay(staff, invoice_id, amount)
        assert refused.status_code == 422 and message in _text(refused), amount
    edited = _post(staff, f"/invoices/{invoice_id}/lines", {"description": "Extra", "quantity": "1",
                                                            "unit_price": "5.00"}, token_from=f"/invoices/{invoice_id}")
    assert edited.status_code == 409 and "cannot be edited" in _text(edited)
    assert _counts(app) == before
    part = _pay(staff, invoice_id, "300.00", reference="Counter receipt 17")
    assert part.status_code == 303, _text(part)
    assert _invoice_row(app, invoice_id)["status"] == "partial"
    page = _invoice_page(staff, invoice_id)
    assert _badge(page) == "Partly paid"
    assert "Paid 300.00" in _text(page) and "Balance due 668.00" in _text(page)

    # 6. Past the due date the nightly command marks it overdue.
    frozen(datetime(2030, 6, 10, 23, 0))  # Tuesday 11 June, 09:00: the due date (10 June) has passed
    result = app.test_cli_runner().invoke(args=["mark-overdue-invoices"])
    assert result.exit_code == 0 and "marked 1 invoices overdue" in result.output, result.output
    assert _invoice_row(app, invoice_id)["status"] == "overdue"
    staff = _signed_in(app, STAFF)
    page = _invoice_page(staff, invoice_id)
    assert _badge(page) == "Overdue" and "Balance due 668.00" in _text(page)
    assert number in _text(staff.get("/invoices/?status=overdue"))

    # 7. A lesson this afternoon, cancelled by the office inside the 24 h cut-off: the late-cancellation fee.
    late = _post(staff, "/schedules/new", {**booking, "date": "2030-06-11", "start_time": "15:00",
                                            "end_time": "16:00", "topic": "Second drive"},
                 token_from="/schedules/new")
    assert late.status_code == 303, _text(late)
    late_id = int(re.search(r"/schedules/(\d+)$", late.headers["Location"]).group(1))
    cancelled = _post(staff, f"/schedules/{late_id}/cancel", {"cancel_reason": "Student rang in sick"},
                      token_from=f"/schedules/{late_id}")
    assert cancelled.status_code == 303, _text(cancelled)
    fees = _q(app, "SELECT ii.invoice_id, ii.total, ii.schedule_id, i.status FROM invoice_items ii"
                   " JOIN invoices i ON i.id = ii.invoice_id WHERE ii.kind = 'fee_late_cancel'")
    assert len(fees) == 1 and fees[0]["total"] == Decimal("45.00") and fees[0]["schedule_id"] == late_id
    fee_invoice = fees[0]["invoice_id"]
    assert fees[0]["status"] == "draft" and fee_invoice != invoice_id  # the issued invoice is never edited
    fee_page = _invoice_page(staff, fee_invoice)
    assert _badge(fee_page) == "Draft" and "Late cancellation fee: lesson on" in _text(fee_page)
    assert "45.00" in _text(fee_page)
    assert "Late cancellation" in _text(staff.get(f"/students/{student_id}"))  # the package panel's fees
    # the cancelled lesson drew no credit
    assert "Remaining 9" in _text(staff.get(package_url))
    fee_item = _v(app, "SELECT id FROM invoice_items WHERE kind = 'fee_late_cancel'")
    before = _counts(app)
    unwaived = _post(staff, f"/invoices/{fee_invoice}/waive", {"item_id": str(fee_item), "reason": ""},
                     token_from=f"/invoices/{fee_invoice}")
    assert unwaived.status_code == 422 and "reason" in _text(unwaived).lower()
    assert _counts(app) == before and _v(app, "SELECT total FROM invoice_items WHERE id = :i",
                                         {"i": fee_item}) == Decimal("45.00")
    issued_fee = _post(staff, f"/invoices/{fee_invoice}/issue", {}, token_from=f"/invoices/{fee_invoice}")
    assert issued_fee.status_code == 303, _text(issued_fee)
    fee_row = _invoice_row(app, fee_invoice)
    assert re.fullmatch(r"INV-2030-\d{6}", fee_row["invoice_number"]) and fee_row["invoice_number"] != number
    assert fee_row["status"] == "sent" and fee_row["total"] == Decimal("49.50")  # 45.00 + 10 % GST

    # 8. The balance is paid: Paid; paying it again is refused and writes nothing.
    rest = _pay(staff, invoice_id, "668.00", method="card", reference="EFTPOS 2211")
    assert rest.status_code == 303, _text(rest)
    assert _invoice_row(app, invoice_id)["status"] == "paid"
    page = _invoice_page(staff, invoice_id)
    assert _badge(page) == "Paid" and "Paid 968.00" in _text(page) and "Balance due 0.00" in _text(page)
    before = _counts(app)
    twice = _pay(staff, invoice_id, "10.00")
    assert twice.status_code == 409 and "already paid" in _text(twice)
    assert _counts(app) == before
    ledger_page = _text(staff.get(f"/payments/?q={number}"))
    assert "300.00" in ledger_page and "668.00" in ledger_page and "Counter receipt 17" in ledger_page

    # 9. A credit note against it; more than is left to credit is refused first.
    before = _counts(app)
    too_much = _post(staff, f"/invoices/{invoice_id}/credit-note", {"amount": "968.01", "reason": "Goodwill"},
                     token_from=f"/invoices/{invoice_id}")
    assert too_much.status_code == 422 and "at most" in _text(too_much)
    assert _counts(app) == before
    credited = _post(staff, f"/invoices/{invoice_id}/credit-note", {"amount": "50.00", "reason": "Goodwill"},
                     token_from=f"/invoices/{invoice_id}")
    assert credited.status_code == 303, _text(credited)
    credit_id = int(re.search(r"/invoices/(\d+)", credited.headers["Location"]).group(1))
    credit = _invoice_row(app, credit_id)
    assert credit_id not in (invoice_id, fee_invoice) and credit["total"] == Decimal("-50.00")
    assert re.fullmatch(r"INV-2030-\d{6}", credit["invoice_number"])
    credit_page = staff.get(f"/invoices/{credit_id}")
    assert credit_page.status_code == 200 and f"Credit note {credit['invoice_number']}" in _text(credit_page)
    assert f"Credit for {number}: Goodwill" in _text(credit_page) and "-50.00" in _text(credit_page)
    page = _invoice_page(staff, invoice_id)
    assert _badge(page) == "Paid" and "Credited 50.00" in _text(page)
    assert credit["invoice_number"] in _text(page)  # listed under "Credit notes"
    numbers = [r["invoice_number"] for r in _q(app, "SELECT invoice_number FROM invoices ORDER BY id")]
    assert len(set(numbers)) == 3 and numbers == sorted(numbers)  # unique and sequential
    statement = _text(staff.get(f"/students/{student_id}/statement?start=2030-01-01&end=2030-12-31"))
    assert number in statement and credit["invoice_number"] in statement

    # The audit trail has each step, and no response of the walk was a server error.
    actions = {r["action"] for r in _q(app, "SELECT DISTINCT action FROM audit_trail")}
    assert {"enrollment_request_created", "enrollment_request_approved", "invoice_issued", "payment_recorded",
            "invoice_status_changed", "invoice_fee_added", "invoice_credited", "schedule_cancelled"} <= actions
    errors = [(status, path) for status, path in RecordingClient.statuses if status >= 500]
    assert errors == [] and len(RecordingClient.statuses) > 40
