"""Issue 9's browser journey in headless Chromium (Playwright), against a live demo server.

Ruby applies from the sign-in page's link (signed out); Priya, Bayside's office, approves the request with
an instructor, books Ruby's first lesson and records it completed (a credit of the ten is consumed, the
package page says 9 left) and hands Ruby a one-time activation link from her student page. Ruby sets her
password, signs in on her phone, finds her invoice under "My invoices", downloads its PDF (application/pdf,
with the invoice number in its text, read back with pypdf) and pays the balance through the mock gateway.
Priya then sees the invoice paid and the payment in the payments ledger. Every page on the way is checked
clean (no request leaves 127.0.0.1, no console error or CSP violation) and fits the screen; pictures at 1366
and 390 px land in test-artifacts/browser/finance-*.png.

The world is the demo school plus one instructor of Bayside with no lessons (Finn Ledger, allocated to the
Learner Essentials Package, working 07:00-19:00 every day), added before the server starts, so the lesson
(10:00 on the last day before today that Bayside is open: a lesson that is over, so its outcome can be
recorded without moving the clock) never clashes with the demo fortnight. Uses the browser and session
fixtures of tests/browser_test.py (skipped the same way without Chromium or playwright, unless
REQUIRE_BROWSER=1)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import io
import re
import shutil
import threading
from datetime import time, timedelta

import pytest

from browser_test import DESKTOP, PHONE, _closing, browser, session  # noqa: F401  (fixtures)
from conftest import app_overrides

pytestmark = pytest.mark.browser

from playwright.sync_api import expect  # noqa: E402  (importable: browser_test skipped the module otherwise)

STAFF = "priya.raman@origin.com"   # Bayside's office
APPLICANT = "ruby.ledger@example.com"
PASSWORD = "pays-her-lessons-online-2026"  # never her name: the policy refuses it
INSTRUCTOR = "Finn Ledger"
COURSE = "Learner Essentials Package"
CARD = "4242 4242 4242 4242"


@pytest.fixture(scope="module")
def live_server(sqlite_template, tmp_path_factory):
    """The seeded demo on SQLite with one more Bayside instructor (no lessons), on 127.0.0.1."""
    from werkzeug.serving import make_server

    from app.bootstrap import create_app
    from app.core import clock, passwords
    from app.core.flask_db import get_db
    from app.services.seed import seed_demo

    tmp_path = tmp_path_factory.mktemp("browser_finance")
    target = tmp_path / "browser.sqlite3"
    shutil.copyfile(sqlite_template, target)
    application = create_app(app_overrides(f"sqlite:///{target}", tmp_path))
    with application.app_context():
        db = get_db()
        seed_demo(db, clock.now(), clock.today())
        now = clock.now()
        bayside = db.fetch_value("SELECT id FROM branches WHERE email = :e", {"e": "bayside@origin.com.au"})
        course = db.fetch_value("SELECT id FROM courses WHERE title = :t", {"t": COURSE})
        user = db.insert("users", {"role": "instructor", "first_name": "Finn", "last_name": "Ledger",
                                   "email": "finn.ledger@origin.com", "password_hash": "not-a-real-hash",
                                   "status": "active", "branch_id": bayside, "created_at": now, "updated_at": now})
        finn = db.insert("instructors", {"user_id": user, "branch_id": bayside, "experience_years": 4,
                                         "accreditation_expiry": clock.today() + timedelta(days=365),
                                         "created_at": now, "updated_at": now})
        db.insert("course_instructor", {"course_id": course, "instructor_id": finn})
        for weekday in range(7):
            db.insert("instructor_working_hours", {"instructor_id": finn, "weekday": weekday,
                                                   "start_time": time(7, 0), "end_time": time(19, 0)})

    server = make_server("127.0.0.1", 0, _closing(application), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-finance", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


def _lesson_day():
    """The last day before today that Bayside is open (Monday to Saturday): the lesson is over by now."""
    from app.core import clock

    day = clock.today() - timedelta(days=1)
    while day.weekday() == 6:
        day -= timedelta(days=1)
    return day


def _fits(s) -> None:
    assert s.horizontal_overflow() == 0, f"{s.page.url} scrolls sideways"


def test_apply_approve_complete_a_lesson_then_the_student_downloads_the_pdf_and_pays(session):
    from pypdf import PdfReader

    # Ruby applies, signed out, from the sign-in page's link (pictured on a phone too).
    a = session(DESKTOP)
    page = a.page
    page.goto("/auth/login")
    page.get_by_role("link", name="Apply to learn with us").click()
    expect(page).to_have_url(re.compile(r"/apply/?$"))
    expect(page.locator("main h1")).to_have_text("Apply to learn with us")
    page.get_by_label("First name").fill("Ruby")
    page.get_by_label("Last name").fill("Ledger")
    page.get_by_label("E-mail address").fill(APPLICANT)
    page.get_by_label("Phone").fill("0400 765 432")
    page.get_by_label("Date of birth").fill("2006-02-14")
    page.get_by_label(re.compile(r"^Licence number")).fill("L4242001")
    page.get_by_label("Branch").select_option(label="Bayside Training Hub")
    course = page.locator("#course_id")
    course.select_option(course.locator("option", has_text=COURSE).first.get_attribute("value"))
    page.get_by_label("Anything we should know?").fill("Weekday mornings suit me.")
    _fits(a)
    a.shot("finance-apply-1366")
    page.get_by_role("button", name="Send my application").click()
    expect(page).to_have_url(re.compile(r"/apply/thanks$"))
    expect(page.locator("main")).to_contain_text("we have your application")
    a.check_clean()
    p = session(PHONE)
    p.page.goto("/apply")
    _fits(p)
    p.shot("finance-apply-390")
    p.check_clean()

    # Priya approves it with Finn: the enrolment, its ten-lesson package and the invoice.
    s = session(DESKTOP)
    page = s.page
    s.login(STAFF)
    expect(page).to_have_url(re.compile(r"/dashboard/"))
    page.goto("/enrolment-requests/")
    page.get_by_role("link", name=re.compile("Ruby Ledger")).first.click()
    expect(page).to_have_url(re.compile(r"/enrolment-requests/\d+$"))
    page.locator('label[for="decision-approve"]').click()
    # the instructor picker (a searchable listbox: the branch may have thousands of instructors)
    picker = page.get_by_role("group", name=re.compile(r"^Instructor"))
    picker.get_by_role("combobox").fill(INSTRUCTOR.split()[0])
    picker.get_by_role("option", name=re.compile(INSTRUCTOR)).click()
    expect(picker.get_by_role("checkbox", name=re.compile(INSTRUCTOR)).or_(
        picker.get_by_role("radio", name=re.compile(INSTRUCTOR)))).to_be_checked()
    expect(page.get_by_role("group", name=re.compile(r"^Assign to"))).to_have_count(1)  # the page's ids are unique
    _fits(s)
    s.shot("finance-request-1366")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator(".flash-stack")).to_contain_text("Approved")
    expect(page.locator("main")).to_contain_text("Enrolment #")

    page.goto("/invoices/?q=Ledger")
    page.locator("main table tbody a", has_text=re.compile(r"^INV-\d{4}-\d{6}$")).first.click()
    expect(page).to_have_url(re.compile(r"/invoices/\d+$"))
    invoice_url = page.url
    number = re.search(r"INV-\d{4}-\d{6}", page.locator("main h1").inner_text()).group(0)
    expect(page.locator("main h1 .badge")).to_have_text("Sent")
    expect(page.locator("main")).to_contain_text("968.00")  # 880.00 + 10 % GST
    student_link = page.locator("main .invoice-meta a[href^='/students/']").first
    student_path = student_link.get_attribute("href")
    student_id = re.search(r"/students/(\d+)", student_path).group(1)

    # Priya books Ruby's first lesson (over by now) and records it completed: one credit is consumed.
    day = _lesson_day()
    page.goto("/schedules/new")
    student = page.locator("#student_id")
    value = student.locator("option", has_text=APPLICANT).first.get_attribute("value")
    student.select_option(value)
    page.locator("#instructor_id").select_option(label=INSTRUCTOR)
    page.locator("#date").fill(day.isoformat())
    page.locator("#start_time").fill("10:00")
    page.locator("#end_time").fill("11:00")
    page.get_by_label("Topic").fill("First drive")
    accept = page.locator("#accept-warnings-wrap input[type=checkbox]")
    if accept.is_visible():
        accept.check()
    page.get_by_role("button", name="Book", exact=True).click()
    expect(page).to_have_url(re.compile(r"/schedules/\d+$"))
    lesson_id = re.search(r"/schedules/(\d+)$", page.url).group(1)
    page.goto(f"/schedules/{lesson_id}/outcome")
    page.locator('label[for="status-completed"]').click()
    page.get_by_label("Feedback for the student").fill("Confident start; mirrors before every turn.")
    page.get_by_role("button", name=re.compile("Save")).click()
    expect(page.locator(".flash-stack")).to_contain_text(re.compile("recorded", re.I))
    page.goto(f"/students/{student_id}/package")
    figures = page.locator(".package-figures")
    expect(figures).to_contain_text(re.compile(r"Purchased\s*10"))
    expect(figures).to_contain_text(re.compile(r"Used\s*1"))
    expect(page.get_by_test_id("package-remaining")).to_have_text("9")
    _fits(s)
    s.shot("finance-package-1366")

    # Ruby has no password yet: Priya hands her a one-time activation link from the student page.
    page.goto(student_path)
    page.get_by_role("button", name="New activation link").click()
    link = page.locator("#handoff-link").input_value()
    assert "/auth/activate/" in link
    s.check_clean()

    # Ruby, on her phone: sets her password, signs in, opens her invoice and downloads its PDF.
    r = session(PHONE)
    phone = r.page
    phone.goto(link)
    phone.get_by_label("Choose a password").fill(PASSWORD)
    phone.get_by_label("Repeat the password").fill(PASSWORD)
    phone.get_by_role("button", name=re.compile(r"password|Activate", re.I)).click()
    expect(phone).to_have_url(re.compile(r"/auth/login"))
    r.login(APPLICANT, PASSWORD)
    expect(phone).to_have_url(re.compile(r"/dashboard/"))
    phone.goto("/my/invoices")
    row = phone.locator("main table tbody tr", has_text=number)
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text("Sent")
    _fits(r)
    r.shot("finance-my-invoices-390")
    pdf_href = row.get_by_role("link", name=re.compile("Download PDF")).get_attribute("href")
    pdf = r.context.request.get(pdf_href)  # the context's cookies: Ruby's session
    assert pdf.status == 200 and pdf.headers["content-type"].startswith("application/pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert number in text and "968.00" in text

    # She pays the balance by card through the mock gateway: her receipt, and the invoice paid.
    row.get_by_role("link", name=number, exact=True).click()
    expect(phone).to_have_url(re.compile(r"/my/invoices/\d+$"))
    phone.get_by_role("link", name="Pay now").click()
    expect(phone).to_have_url(re.compile(r"/my/invoices/\d+/pay$"))
    expect(phone.locator("#amount")).to_have_value("968.00")
    phone.get_by_label("Name on card").fill("Ruby Ledger")
    phone.get_by_label("Card number").fill(CARD)
    phone.get_by_label("Expiry (MM/YY)").fill("12/30")
    phone.get_by_label("Security code").fill("123")
    _fits(r)
    r.shot("finance-pay-390")
    phone.get_by_role("button", name="Pay now").click()
    expect(phone).to_have_url(re.compile(r"/my/payments/\d+$"))
    expect(phone.locator(".flash-stack")).to_contain_text("your payment was received")
    expect(phone.locator("main h1 .badge")).to_have_text("Paid")
    receipt = phone.locator("main").inner_text()
    assert "968.00" in receipt and "MOCK-" in receipt and CARD.replace(" ", "") not in receipt.replace(" ", "")
    _fits(r)
    r.shot("finance-receipt-390")
    phone.goto("/my/invoices")
    expect(phone.locator("main table tbody tr", has_text=number).locator(".badge")).to_have_text("Paid")
    r.check_clean()

    # Priya sees the invoice paid and the online payment in the payments ledger.
    page.goto(invoice_url)
    expect(page.locator("main h1 .badge")).to_have_text("Paid")
    expect(page.locator("#payments")).to_contain_text("Online")
    expect(page.locator("#payments")).to_contain_text("MOCK-")
    _fits(s)
    s.shot("finance-invoice-paid-1366")
    page.goto("/payments/?q=Ledger")
    ledger = page.locator("main table tbody tr", has_text=number)
    expect(ledger).to_have_count(1)
    expect(ledger).to_contain_text("968.00")
    expect(ledger).to_contain_text("MOCK-")
    expect(ledger).to_contain_text("Ruby Ledger")
    _fits(s)
    s.shot("finance-ledger-1366")
    s.check_clean()
