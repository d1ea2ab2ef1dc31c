"""Hostile input sweep: every POST route and every list page, for every role that may use them.

Forms are discovered from the pages each role can open (tests/fuzz_support.FormParser), after the
world has been put in the states that make every form appear (an archived and a never-activated
student, instructor and staff member; unavailability and downtime windows; documents; an activation
link). Each form gets a valid baseline, which must be accepted, then ONE field at a time is replaced
by a hostile value (one of each value class of fuzz_support.HOSTILE for the field's kind, the class's
values taken in turn, so every value is sent and every field meets every class; plus hypothesis-generated
ones), so each mutation reaches the service layer with every other field valid. A success that changes
state that matters (an archive, a deleted window, a used activation link, a changed password) is undone
before the next post.

Asserted: no response is a 500, anywhere; the role's session survives every route (GET /dashboard/
is still 200); the POST endpoints covered are exactly those registered (per role: those its declared
roles allow), less EXCLUDED. List pages get q, sort, dir, page, per_page, every declared filter and an
unknown parameter, one at a time. The sweep runs on SQLite (one shared seeded app for the module);
a small bounded pass on MariaDB repeats the values where MariaDB differs.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702


import io
import re
import shutil
import secrets
from dataclasses import dataclass, field
from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from app.core import clock, passwords
from app.core.flask_db import get_db
from app.services import accounts
from app.services.scope import SYSTEM
from tests import factories as f
from tests import fuzz_support as fz
from tests.conftest import DEMO_PASSWORD, _empty_mysql, app_overrides, csrf_token, login

ROLES = ("student", "instructor", "staff", "admin")  # admin last: its edits could move others' records
DEMO = {"admin": "admin@origin.com", "staff": "operations@origin.com", "instructor": "amelia.ward@origin.com",
        "student": "jack.mason@student.com"}
EXCLUDED = {
    # Its only field is the CSRF token and ending the session is its purpose, so "the session survives"
    # cannot hold; tests/auth_test.py::test_logout_requires_post_and_csrf covers its refusals.
    "auth.logout",
    # JSON, not forms: tests/api_schedules_test.py and tests/portal_views_test.py send them the hostile
    # bodies and values.
    "api_schedules.create", "api_portal.create", "api_portal.cancel", "api_portal.reschedule",
    # Issue 11 (second factor): the challenge and the set-up's confirmation take a live time-based code (no
    # fixed baseline can pass); their code field gets the hostile and hypothesis values in
    # tests/second_factor_views_test.py::test_the_code_fields_survive_hostile_and_generated_values. Cancel,
    # new recovery codes and switch off are CSRF-only buttons of states the sweep's sessions are not in
    # (a set-up waiting for its code, a factor switched on); tests/second_factor_views_test.py walks them.
    "second_factor.challenge", "second_factor.confirm", "second_factor.cancel", "second_factor.codes",
    "second_factor.disable",
}
WORLD: dict = {}  # ids _make_state made that _after_success puts back
EXTRA = "zz_unknown_field"
# A Wednesday 15-21 days ahead: past the demo fortnight, before any demo accreditation runs out (25 days).
_AHEAD = clock.today() + timedelta(days=15)
EVENT_DAY = _AHEAD + timedelta(days=(2 - _AHEAD.weekday()) % 7)
BOOKING_DAY = EVENT_DAY + timedelta(days=1)
# Examples per field: admin (and the anonymous visitor, instructor and student) one hostile value of every
# class of the field's kind (fz.Rotation; every value comes round across the sweep) plus generated ones;
# staff, whose forms are the admin's run with a narrower scope, one of every class of the short list (the
# values most likely to break a parser).
GENERATED = {"admin": 1, "staff": 0, "instructor": 1, "student": 1, "anonymous": 2}
SHORT_ROLES = ("staff",)  # the admin's forms again, in a narrower scope: fewer values per field


def _lookup(db, sql, **params):
    value = db.fetch_value(sql, params)
    assert value is not None, (sql, params)
    return value


@dataclass
class School:
    app: object
    ids: dict  # role -> list of id sets (param name -> id) used to open pages
    upload_dir: Path
    problems: list = field(default_factory=list)
    covered: dict = field(default_factory=dict)  # role -> set of endpoints
    posts: int = 0
    counter: int = 0

    def next(self) -> int:
        self.counter += 1
        return self.counter

    def db_do(self, fn):
        with self.app.app_context():
            return fn(get_db())


def _make_state(db, upload_dir: Path) -> dict:
    """Rows that make every form appear, for each role; returns the id sets to open pages with."""
    now = clock.now()
    cbd = _lookup(db, "SELECT id FROM branches WHERE email = :e", e="cbd@origin.com.au")
    unusable = accounts.unusable_password_hash()

    def student(status):
        user = f.make_user(db, role="student", branch_id=cbd, status=status, password_hash=unusable)
        return f.make_student(db, user_id=user, branch_id=cbd)

    def instructor(status):
        user = f.make_user(db, role="instructor", branch_id=cbd, status=status, password_hash=unusable)
        return f.make_instructor(db, user_id=user, branch_id=cbd)

    def staff(status):
        user = f.make_user(db, role="staff", branch_id=cbd, status=status, password_hash=unusable)
        return db.insert("staff_profiles", {"user_id": user, "branch_id": cbd, "position_title": "Fuzz"})

    def by_email(table, email):
        return _lookup(db, f"SELECT t.id FROM {table} t JOIN users u ON u.id = t.user_id WHERE u.email = :e", e=email)

    mia, jack = by_email("students", "mia.chen@student.com"), by_email("students", "jack.mason@student.com")
    raj, amelia = by_email("instructors", "raj.patel@origin.com"), by_email("instructors", "amelia.ward@origin.com")
    operations = by_email("staff_profiles", "operations@origin.com")
    vehicle = _lookup(db, "SELECT MIN(id) FROM vehicles WHERE branch_id = :b", b=cbd)
    course = _lookup(db, "SELECT MIN(id) FROM courses")
    for who in (raj, amelia):
        _window(db, "instructor", who)
    _window(db, "vehicle", vehicle)
    for owner in (mia, jack):
        _document(db, upload_dir, owner, now)
    # Events: a coming lesson (move and cancel forms), a cancelled one (revive) and a past one still
    # scheduled (the outcome form); far enough ahead that the demo fortnight never meets them.
    enrolment = {who: _lookup(db, "SELECT MIN(id) FROM enrollments WHERE student_id = :s", s=who) for who in (mia, jack)}
    coming = f.make_schedule(db, enrollment_id=enrolment[mia], instructor_id=raj, branch_id=cbd,
                             scheduled_date=EVENT_DAY, start_time=time(10, 0), end_time=time(11, 0))
    cancelled = f.make_schedule(db, enrollment_id=enrolment[mia], instructor_id=raj, branch_id=cbd,
                                scheduled_date=EVENT_DAY, start_time=time(14, 0), end_time=time(15, 0),
                                status="cancelled", cancelled_at=now, cancel_reason="Fuzz")
    jack_branch = _lookup(db, "SELECT branch_id FROM students WHERE id = :s", s=jack)
    past = f.make_schedule(db, enrollment_id=enrolment[jack], instructor_id=amelia, branch_id=jack_branch,
                           scheduled_date=clock.today() - timedelta(days=40), start_time=time(10, 0),
                           end_time=time(11, 0))
    # Issue 8: Jack's coming lesson with Amelia (the portal's cancel and reschedule forms; a proposal to
    # answer), a proposal on Mia's coming lesson (withdraw), a series holding Mia's lesson, and a gap offer
    # of a freed Friday slot for Jack. Amelia works Tue-Sat 08:00-13:00.
    jack_coming = f.make_schedule(db, enrollment_id=enrolment[jack], instructor_id=amelia, branch_id=jack_branch,
                                  scheduled_date=EVENT_DAY, start_time=time(9, 0), end_time=time(10, 0))
    amelia_user = _lookup(db, "SELECT user_id FROM instructors WHERE id = :i", i=amelia)
    proposals = [f.make_proposal(db, jack_coming, proposed_by=amelia_user, proposed_date=EVENT_DAY + timedelta(days=1),
                                 start_time=time(9, 0), end_time=time(10, 0), expires_at=now + timedelta(hours=48),
                                 created_at=now),
                 f.make_proposal(db, coming, proposed_by=None, proposed_date=EVENT_DAY, start_time=time(12, 0),
                                 end_time=time(13, 0), expires_at=now + timedelta(hours=48), created_at=now)]
    series = f.make_series(db, mia, raj, (coming,), branch_id=cbd, first_date=EVENT_DAY, start_time=time(10, 0),
                           end_time=time(11, 0), occurrences=1)
    gap_day = EVENT_DAY + timedelta(days=2)
    freed = f.make_schedule(db, enrollment_id=enrolment[mia], instructor_id=amelia, branch_id=jack_branch,
                            scheduled_date=gap_day, start_time=time(11, 0), end_time=time(12, 0), status="cancelled",
                            cancelled_at=now, cancel_reason="Fuzz")
    offer = f.make_gap_offer(db, freed, jack, amelia, branch_id=jack_branch, slot_date=gap_day, start_time=time(11, 0),
                             end_time=time(12, 0), expires_at=now + timedelta(days=14))
    # A CBD lesson its car's downtime breaks, with another free car (the conflicts panel's two forms).
    broken_day = EVENT_DAY + timedelta(days=7)
    broken = f.make_schedule(db, enrollment_id=enrolment[mia], instructor_id=raj, branch_id=cbd, vehicle_id=vehicle,
                             scheduled_date=broken_day, start_time=time(14, 0), end_time=time(15, 0))
    db.insert("vehicle_downtime", {"vehicle_id": vehicle, "start_datetime": f.NOW.replace(
        year=broken_day.year, month=broken_day.month, day=broken_day.day, hour=13, minute=0),
        "end_datetime": f.NOW.replace(year=broken_day.year, month=broken_day.month, day=broken_day.day, hour=16,
                                      minute=0)})
    f.make_vehicle(db, branch_id=cbd, status="available", next_service_due=None)
    WORLD.update(series=series, offer=offer, coming=coming, jack_coming=jack_coming,
                 broken=broken, vehicle=vehicle, raj=raj, marker=db.fetch_value("SELECT MAX(id) FROM schedules"))
    # Issue 9 (payments): an invoice of Mia's (CBD) with a payment to refund and account credit to apply,
    # and one of Jack's to pay online; _after_success takes every new payment and credit row away again.
    pay_invoices = {who: f.make_invoice(db, enrolment[who], subtotal=Decimal("40000.00")) for who in (mia, jack)}
    refundable = f.make_payment(db, pay_invoices[mia], "500.00", method="cash")
    db.insert("account_credits", {"student_id": mia, "amount": Decimal("25.00"), "source": "overpayment",
                                  "created_at": now})
    WORLD.update(pay_invoices=pay_invoices, payment_marker=refundable,
                 credit_marker=db.fetch_value("SELECT MAX(id) FROM account_credits"))
    # Issue 9 (enrolment pipeline): a pending request of a new CBD student assigned to Raj (the office's
    # decision and assignment forms), one in Jack's branch assigned to Amelia (her decision form), each for a
    # course its instructor teaches; a course listed first for the direct enrolment form. _after_success
    # reopens a decided request, cancels what an approval or an enrolment created, moves a transferred
    # student back and puts a changed enrolment status back.
    def taught_by(who):
        return db.fetch_value("SELECT MIN(course_id) FROM course_instructor WHERE instructor_id = :i", {"i": who}) or course

    def applicant(branch):
        return f.make_student(db, user_id=f.make_user(db, role="student", branch_id=branch), branch_id=branch)

    office_request = f.make_enrollment_request(db, applicant(cbd), taught_by(raj), instructor_id=raj)
    amelia_request = f.make_enrollment_request(db, applicant(jack_branch), taught_by(amelia), instructor_id=amelia)
    enrol_course = f.make_course(db, title="0 Fuzz direct enrolment course", lesson_count=2)
    OVERRIDES["enrollments.enrol"] = {"course_id": str(enrol_course)}
    WORLD.update(enrol_course=enrol_course, cbd=cbd, mia_status=db.fetch_value(
        "SELECT status FROM enrollments WHERE id = :e", {"e": enrolment[mia]}))
    active = {"branch_id": cbd, "student_id": mia, "instructor_id": raj, "vehicle_id": vehicle, "course_id": course,
              "staff_id": operations, "schedule_id": coming, "series_id": series}
    fresh = {"student_id": student("active"), "instructor_id": instructor("active"), "staff_id": staff("active")}
    archived = {"student_id": student("archived"), "instructor_id": instructor("archived"),
                "staff_id": staff("archived")}
    # Issue 9 (invoices): a draft of Mia's with a fee line (issue, void, waive); _after_success turns it
    # back into the same draft. Her enrolment (above) opens the new-invoice form.
    draft = f.make_invoice(db, enrolment[mia], status="draft", subtotal=Decimal("50.00"), tax_amount=Decimal("5.00"))
    db.execute("UPDATE invoices SET invoice_number = :n WHERE id = :i", {"n": f"DRAFT-{draft:06d}", "i": draft})
    draft_item = db.insert("invoice_items", {"invoice_id": draft, "description": "Late cancellation fee",
                                             "quantity": 1, "unit_price": Decimal("50.00"), "total": Decimal("50.00"),
                                             "kind": "fee_late_cancel"})
    WORLD.update(draft_invoice=draft, draft_item=draft_item)
    # Issue 10 (the reminder queue): a failed reminder of Mia's (retry, cancel) and a pending in-app one (run
    # now, cancel), about an invoice of hers no other form touches (a lesson's reminders go when it is moved
    # or cancelled); _after_success puts both back as they were made.
    mia_user = _lookup(db, "SELECT user_id FROM students WHERE id = :s", s=mia)
    reminded = f.make_invoice(db, enrolment[mia], subtotal=Decimal("10.00"))
    queue = {status: db.insert("reminders", {
        "related_type": "invoice", "related_id": reminded, "recipient_user_id": mia_user, "channel": "in-app",
        "reminder_type": "invoice_due", "message": "Fuzz reminder", "send_on": clock.today(), "send_at": now,
        "status": status, "created_at": now, "updated_at": now}) for status in ("failed", "pending")}
    WORLD.update(reminders=queue)
    # Issue 11 (re-authentication and sessions): each demo account has one more session, so the sessions
    # page shows a per-session sign-out form; _after_success puts it back (same id) once ended, and puts
    # a changed e-mail address or role back as well.
    WORLD.update(demo_users={email: _lookup(db, "SELECT id FROM users WHERE email = :e", e=email)
                             for email in DEMO.values()})
    WORLD.update(extra_sessions={email: _extra_session(db, user, now) for email, user in WORLD["demo_users"].items()})
    # Issue 11 (second factor): the fresh staff member has one switched on, so the admin's view of them shows
    # the reset form (its hidden ``next`` is fuzzed); _after_success switches it on again after a reset.
    from flask import current_app

    from app.services import second_factor
    second_factor.enrol_for_demo(db, _lookup(db, "SELECT user_id FROM staff_profiles WHERE id = :i",
                                             i=fresh["staff_id"]), now, current_app.config)
    office = [active, fresh, archived, {"schedule_id": cancelled},
              {"invoice_id": pay_invoices[mia], "payment_id": refundable},
              {"request_id": office_request, "enrollment_id": enrolment[mia]},
              {"invoice_id": draft}, {"reminder_id": queue["failed"]}, {"reminder_id": queue["pending"]}]
    return {"admin": office, "staff": office,
            "instructor": [{"instructor_id": amelia, "student_id": jack, "schedule_id": past},
                           {"schedule_id": jack_coming}, {"request_id": amelia_request}],
            "student": [{"student_id": jack, "schedule_id": past}, {"schedule_id": jack_coming},
                        {"invoice_id": pay_invoices[jack]}]}


def _extra_session(db, user_id, now, session_id=None) -> int:
    """A session "seen" an hour ahead: the sessions page lists it first after the current one, so its
    sign-out form is the one the sweep finds (not that of an earlier sweep's client)."""
    row = {"user_id": user_id, "token_hash": secrets.token_hex(32), "created_at": now,
           "last_seen_at": now + timedelta(hours=1),
           "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"}
    return db.insert("user_sessions", {**row, "id": session_id} if session_id else row)


def _window(db, kind, owner) -> int:
    start = f.NOW.replace(year=2032, month=1, day=1 + f._next() % 27, hour=9)
    if kind == "instructor":
        return db.insert("instructor_unavailability", {"instructor_id": owner, "start_datetime": start,
                                                       "end_datetime": start.replace(hour=17)})
    return db.insert("vehicle_downtime", {"vehicle_id": owner, "start_datetime": start,
                                          "end_datetime": start.replace(hour=17)})


def _document(db, upload_dir: Path, student_id, now) -> int:
    stored = f"{secrets.token_hex(16)}.pdf"
    (upload_dir / stored).write_bytes(fz.PDF)
    user = _lookup(db, "SELECT user_id FROM students WHERE id = :s", s=student_id)
    return db.insert("documents", {"user_id": user, "file_name": "fuzz.pdf", "file_path": stored,
                                   "mime_type": "application/pdf", "file_size": len(fz.PDF), "category": "licence",
                                   "created_at": now})


def _activation_link(school: School) -> str:
    def make(db):
        user = f.make_user(db, role="student", password_hash=accounts.unusable_password_hash())
        return accounts.reissue_activation(db, SYSTEM, user, clock.now()).token
    return f"/auth/activate/{school.db_do(make)}"


def _reset_link(school: School) -> str:
    """A live password reset link of a fresh student (issue 11)."""
    from app.services import password_reset

    def make(db):
        user = f.make_user(db, role="student")
        email = db.fetch_value("SELECT email FROM users WHERE id = :u", {"u": user})
        return password_reset.request_reset(db, email, ip=None, now=clock.now(), settings=school.app.config).token
    return f"/auth/reset/{school.db_do(make)}"


def _build(db_url: str, tmp: Path) -> School:
    from app.bootstrap import create_app
    from app.services.seed import seed_demo

    # REAUTH_MINUTES: a role's sweep may outlast the 10 minutes its sign-in counts as a re-authentication
    app = create_app(app_overrides(db_url, tmp, LOGIN_MAX_FAILURES=10**6, LOGIN_MAX_FAILURES_PER_IP=10**6,
                                          APPLICATIONS_PER_IP_PER_HOUR=10**6, REAUTH_MINUTES=10**6))
    upload_dir = Path(app.config["UPLOAD_DIR"])
    upload_dir.mkdir(parents=True, exist_ok=True)
    with app.app_context():
        db = get_db()
        seed_demo(db, clock.now(), clock.today())
        ids = _make_state(db, upload_dir)
    return School(app, ids, upload_dir)


def _restore_hashing():
    passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


@pytest.fixture(scope="module")
def school(sqlite_template, ram_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    target = ram_dir / "fuzz.sqlite3"  # some 5000 posts, most of them commits
    shutil.copyfile(sqlite_template, target)
    yield _build(f"sqlite:///{target}", tmp)
    _restore_hashing()


@pytest.fixture(scope="module")
def mariadb_school(mysql_schema, tmp_path_factory):
    """The same school on MariaDB (TEST_DATABASE_URL; skipped without a server unless REQUIRE_MYSQL=1)."""
    _empty_mysql(mysql_schema)
    yield _build(mysql_schema, tmp_path_factory.mktemp("fuzz_mariadb"))
    _restore_hashing()


# --------------------------------------------------------------------------- sessions

class Session:
    def __init__(self, school: School, role: str):
        self.school, self.role, self.email = school, role, DEMO.get(role)
        self.client = school.app.test_client()
        if self.email:
            self.sign_in()

    def sign_in(self):
        self.client = self.school.app.test_client()
        assert login(self.client, self.email).status_code in (302, 303), self.role
        self.token = csrf_token(self.client, "/dashboard/")

    def alive(self) -> bool:
        return self.client.get("/dashboard/").status_code == 200


def _url(rule, ids: dict) -> str | None:
    names = set(rule.arguments)
    if not names <= set(ids):
        return None
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(ids[m.group(1)]), rule.rule)


def _discover(school: School, session: Session) -> dict[str, tuple[str, dict]]:
    """endpoint -> (page, form) for every POST form on the pages this role can open."""
    app = school.app
    adapter = app.url_map.bind("localhost")
    found: dict[str, tuple[str, dict]] = {}
    pages = []
    for ids in school.ids.get(session.role, []):
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or "static" in rule.endpoint or rule.endpoint in ("audit.export",
                                                                                           "documents.download"):
                continue
            url = _url(rule, ids)
            if url and url not in pages:
                pages.append(url)
    if session.role == "anonymous":
        pages = ["/auth/login", _activation_link(school), "/apply/", "/auth/forgot", _reset_link(school)]
    else:  # the broadcast composer shows its message form once an audience is previewed
        pages.append("/communications/new?segment=everyone")
    for page in pages:
        response = session.client.get(page)
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        for form in fz.parse_forms(response.get_data(as_text=True)):
            if form["method"] != "post":
                continue
            action = form["action"] or page
            try:
                endpoint, _ = adapter.match(action.split("?")[0].split("#")[0], method="POST")
            except Exception:  # an action that is not a POST route of this app would be a template bug
                school.problems.append(("form action is not a POST route", session.role, page, action))
                continue
            found.setdefault(endpoint, (page, {**form, "action": action}))
    return found


# --------------------------------------------------------------------------- posting

def _payload(data: dict, multipart: bool) -> dict:
    """Werkzeug test-client data: files as fresh streams (a str value in a file field is its file name)."""
    out = {}
    for name, value in data.items():
        if isinstance(value, bytes):
            out[name] = (io.BytesIO(value), "fuzz.pdf")
        elif isinstance(value, tuple):
            out[name] = (io.BytesIO(value[0]), value[1])
        else:
            out[name] = value
    return out


OVERRIDES = {
    "auth.login": {"email": "noah.williams@student.com", "password": DEMO_PASSWORD},  # a demo account no role uses
    "account.password": {"current_password": DEMO_PASSWORD},
    "auth.confirm": {"password": DEMO_PASSWORD},
    "staff.role": {"role": "admin"},  # the page preselects the current role (staff), which changes nothing
    "documents.upload": {"category": "licence"},
    # A free slot on an open weekday beyond the demo fortnight; warnings (working hours, allocation) accepted.
    "events.new": {"date": BOOKING_DAY.isoformat(), "start_time": "12:00", "end_time": "13:00", "accept_warnings": "y"},
    "events.move": {"accept_warnings": "y", "vehicle_id": ""},
    "series.new": {"first_date": (BOOKING_DAY + timedelta(days=7)).isoformat(), "start_time": "12:00",
                   "end_time": "13:00", "ends": "count", "count": "2", "accept_warnings": "y"},
    "series.change": {"accept_warnings": "y", "vehicle_id": "", "start_time": "13:00", "end_time": "14:00"},
    # a free time with no warning (a proposal may not have one): Raj works weekday afternoons, Amelia
    # Tue-Sat mornings
    ("proposals.propose", "admin"): {"date": BOOKING_DAY.isoformat(), "start_time": "15:00", "end_time": "16:00",
                                     "vehicle_id": "", "instructor_id": ""},
    ("proposals.propose", "staff"): {"date": BOOKING_DAY.isoformat(), "start_time": "16:00", "end_time": "17:00",
                                     "vehicle_id": "", "instructor_id": ""},
    ("proposals.propose", "instructor"): {"date": BOOKING_DAY.isoformat(), "start_time": "11:00",
                                          "end_time": "12:00"},
    "series.change_occurrence": {"accept_warnings": "y", "vehicle_id": "", "start_time": "13:00",
                                 "end_time": "14:00"},
    # an applicant of 26 with no licence yet and no preferred date (the generic past date is refused)
    "apply.form": {"date_of_birth": "2000-05-01", "preferred_date": "", "license_number": ""},
    # issue 9 (invoices): one line, the other rows blank; a credit note of 1.00
    "invoices.new": {"lines-0-unit_price": "10.00", "due_date": "", "discount": "",
                     **{f"lines-{n}-{k}": "" for n in range(1, 6) for k in ("description", "quantity", "unit_price",
                                                                           "credits")}},
    "invoices.credit_note": {"amount": "1.00"},
    "invoices.add_line": {"unit_price": "5.00"},
    "payments.invoice": {"amount": "1.00", "method": "cash"},
    "payments.refund": {"amount": "1.00", "reason": "Fuzz"},
    "payments.apply_credit": {"amount": "1.00"},
    "student_payments.pay": {"amount": "1.00", "name_on_card": "Jack Mason", "card_number": "4111111111111111",
                             "card_expiry": "12/39", "card_cvv": "123"},
}


def _after_success(school: School, session: Session, endpoint: str, action: str) -> str:
    """Undo a success that changed state that matters; returns the action URL for the next post."""
    ids = [int(x) for x in re.findall(r"/(\d+)", action)]

    def do(fn):
        return school.db_do(fn)

    if endpoint == "account.password":
        do(lambda db: db.execute("UPDATE users SET password_hash = :h WHERE email = :e",
                                 {"h": passwords.hash_password(DEMO_PASSWORD), "e": session.email}))
        session.sign_in()
    elif endpoint == "activation.activate":
        return _activation_link(school)
    elif endpoint == "account.email":
        do(lambda db: db.execute("UPDATE users SET email = :e WHERE id = :i",
                                 {"e": session.email, "i": WORLD["demo_users"][session.email]}))
    elif endpoint in ("account.end_session", "account.end_other_sessions"):
        extra = ids[0] if endpoint == "account.end_session" else WORLD["extra_sessions"][session.email]
        if not do(lambda db: db.fetch_value("SELECT id FROM user_sessions WHERE id = :i", {"i": extra})):
            do(lambda db: _extra_session(db, WORLD["demo_users"][session.email], clock.now(), extra))
    elif endpoint == "staff.role":
        do(lambda db: db.execute("UPDATE users SET role = 'staff' WHERE id = (SELECT user_id FROM staff_profiles"
                                 " WHERE id = :i)", {"i": ids[0]}))
    elif endpoint == "password_reset.reset":
        return _reset_link(school)
    elif endpoint == "second_factor.reset":
        from app.services import second_factor
        do(lambda db: second_factor.enrol_for_demo(db, ids[0], clock.now(), school.app.config))
    elif endpoint == "enrollmentrequests.decide":  # pending again; what the approval created is cancelled
        do(lambda db: db.execute("UPDATE enrollments SET status = 'cancelled' WHERE id = (SELECT enrollment_id"
                                 " FROM enrollment_requests WHERE id = :r)", {"r": ids[0]}))
        do(lambda db: db.execute("UPDATE enrollment_requests SET status = 'pending', decision_at = NULL,"
                                 " enrollment_id = NULL WHERE id = :r", {"r": ids[0]}))
    elif endpoint == "enrollments.enrol":
        do(lambda db: db.execute("UPDATE enrollments SET status = 'cancelled' WHERE course_id = :c",
                                 {"c": WORLD["enrol_course"]}))
    elif endpoint == "enrollments.transfer":
        do(lambda db: db.execute("UPDATE students SET branch_id = :b WHERE id = :s", {"b": WORLD["cbd"], "s": ids[0]}))
        do(lambda db: db.execute("UPDATE users SET branch_id = :b WHERE id = (SELECT user_id FROM students"
                                 " WHERE id = :s)", {"b": WORLD["cbd"], "s": ids[0]}))
    elif endpoint == "enrollments.change_status":
        do(lambda db: db.execute("UPDATE enrollments SET status = :st WHERE id = :e",
                                 {"st": WORLD["mia_status"], "e": ids[0]}))
    elif endpoint == "privacy.anonymise":  # the archived student may be anonymised again (the next role's baseline)
        do(lambda db: db.execute("UPDATE users SET anonymised_at = NULL WHERE id = (SELECT user_id FROM students"
                                 " WHERE id = :s)", {"s": ids[0]}))
    elif endpoint.endswith(".archive") or endpoint.endswith(".restore"):
        status = "active" if endpoint.endswith(".archive") else "archived"
        table = {"students": "students", "instructors": "instructors", "staff": "staff_profiles"}[endpoint.split(".")[0]]
        do(lambda db: db.execute(f"UPDATE users SET status = :s WHERE id = (SELECT user_id FROM {table} WHERE id = :i)",
                                 {"s": status, "i": ids[0]}))
    elif endpoint == "events.new":  # free the slot again for the next post
        do(lambda db: db.execute("UPDATE schedules SET status = 'cancelled' WHERE scheduled_date = :d"
                                 " AND status = 'scheduled'", {"d": BOOKING_DAY}))
    elif endpoint in ("portal.book", "series.new"):  # cancel what it booked: the next post books again
        do(lambda db: db.execute("UPDATE schedules SET status = 'cancelled' WHERE id > :m AND status = 'scheduled'",
                                 {"m": WORLD["marker"]}))
    elif endpoint == "waitlist.accept":
        do(lambda db: db.execute("UPDATE schedules SET status = 'cancelled' WHERE id = (SELECT booked_schedule_id"
                                 " FROM gap_offers WHERE id = :o)", {"o": WORLD["offer"]}))
        do(lambda db: db.execute("UPDATE gap_offers SET status = 'offered', answered_at = NULL,"
                                 " booked_schedule_id = NULL WHERE schedule_id = (SELECT schedule_id FROM gap_offers"
                                 " WHERE id = :o)", {"o": WORLD["offer"]}))
    if endpoint.split(".")[0] in ("events", "portal", "proposals", "series", "outcomes", "waitlist", "disruptions"):
        # a move, cancellation or answer closes the world's proposals and may cancel its lessons: reopen them
        for lesson, start in ((WORLD["coming"], time(10, 0)), (WORLD["jack_coming"], time(9, 0))):
            do(lambda db, i=lesson, t=start: db.execute(
                "UPDATE schedules SET status = 'scheduled', cancelled_at = NULL, cancel_reason = NULL, scheduled_date = :d,"
                " start_time = :s, end_time = :e WHERE id = :i",
                {"i": i, "d": EVENT_DAY, "s": t, "e": time(t.hour + 1, 0)}))
        do(lambda db: db.execute(  # the world's and the demo's (each on a lesson of its own)
            "UPDATE reschedule_proposals SET status = 'pending', answered_at = NULL, answered_by = NULL"))
        do(lambda db: db.execute("UPDATE schedule_series SET cancelled_at = NULL, start_time = :a, end_time = :b"
                                 " WHERE id = :s", {"s": WORLD["series"], "a": time(10, 0), "b": time(11, 0)}))
    if endpoint in ("disruptions.reassign", "disruptions.cancel"):  # broken again, as the form showed it
        do(lambda db: db.execute("UPDATE schedules SET status = 'scheduled', cancelled_at = NULL, vehicle_id = :v,"
                                 " instructor_id = :r WHERE id = :i",
                                 {"v": WORLD["vehicle"], "r": WORLD["raj"], "i": WORLD["broken"]}))
    if endpoint == "invoices.credit_note":  # the credit notes go again (test only: the app never deletes one)
        do(lambda db: db.execute("DELETE FROM invoices WHERE credit_note_for IS NOT NULL"))
        for invoice in WORLD["pay_invoices"].values():
            do(lambda db, i=invoice: db.execute("UPDATE invoices SET status = 'sent' WHERE id = :i", {"i": i}))
    if endpoint in ("invoices.issue", "invoices.void", "invoices.waive", "invoices.add_line"):  # the world's draft
        draft = WORLD["draft_invoice"]
        do(lambda db: db.execute("DELETE FROM invoice_items WHERE invoice_id = :i AND id <> :k",
                                 {"i": draft, "k": WORLD["draft_item"]}))
        do(lambda db: db.execute("UPDATE invoices SET status = 'draft', invoice_number = :n, voided_at = NULL,"
                                 " void_reason = NULL, issued_at = NULL WHERE id = :i",
                                 {"i": draft, "n": f"DRAFT-{draft:06d}"}))
        do(lambda db: db.execute("UPDATE invoice_items SET waived_at = NULL, waived_by = NULL, waive_reason = NULL,"
                                 " total = unit_price * quantity WHERE invoice_id = :i", {"i": draft}))
        do(lambda db: db.execute("UPDATE reminders SET status = 'cancelled' WHERE related_type = 'invoice'"
                                 " AND related_id = :i", {"i": draft}))
    if endpoint.split(".")[0] in ("payments", "student_payments") or endpoint == "invoices.void":
        # the payments world as it was made (a void form may have been found on its invoice first)
        do(lambda db: db.execute("DELETE FROM account_credits WHERE id > :m", {"m": WORLD["credit_marker"]}))
        do(lambda db: db.execute("DELETE FROM payments WHERE id > :m", {"m": WORLD["payment_marker"]}))
        for invoice in WORLD["pay_invoices"].values():
            do(lambda db, i=invoice: db.execute("UPDATE invoices SET status = 'sent', voided_at = NULL,"
                                                " void_reason = NULL WHERE id = :i", {"i": i}))
    if endpoint.split(".")[0] == "reminders":  # the queue's two reminders as they were made
        for status, reminder in WORLD["reminders"].items():
            for table in ("notifications", "message_deliveries"):
                do(lambda db, t=table, i=reminder: db.execute(f"DELETE FROM {t} WHERE reminder_id = :i", {"i": i}))
            do(lambda db, s=status, i=reminder: db.execute(
                "UPDATE reminders SET status = :s, attempts = 0, max_attempts = NULL, next_attempt_at = NULL,"
                " claim_token = NULL, claimed_at = NULL, lease_until = NULL, sent_at = NULL, delivery_channel = NULL"
                " WHERE id = :i", {"s": s, "i": i}))
    if endpoint in ("events.cancel", "outcomes.revive"):
        status = "scheduled" if endpoint == "events.cancel" else "cancelled"
        do(lambda db: db.execute("UPDATE schedules SET status = :s WHERE id = :i", {"s": status, "i": ids[0]}))
    elif endpoint == "instructors.delete_unavailability":
        return f"/instructors/{ids[0]}/unavailability/{do(lambda db: _window(db, 'instructor', ids[0]))}/delete"
    elif endpoint == "fleet.delete_downtime":
        return f"/fleet/{ids[0]}/downtime/{do(lambda db: _window(db, 'vehicle', ids[0]))}/delete"
    elif endpoint == "documents.delete":
        def again(db):
            student = _lookup(db, "SELECT s.id FROM students s JOIN users u ON u.id = s.user_id WHERE u.email = :e",
                              e="mia.chen@student.com")
            return _document(db, school.upload_dir, student, clock.now())
        return f"/documents/{do(again)}/delete"
    return action


def _fuzz_form(school: School, session: Session, endpoint: str, page: str, form: dict, generated: int,
               values_for=fz.values_for) -> None:
    """Baseline, then each field alone replaced by its hostile values (``values_for(name, field)``) and
    ``generated`` hypothesis ones, then an unknown extra field; finally the session must still be alive."""
    anonymous = session.role == "anonymous"
    n = school.next()
    overrides = OVERRIDES.get((endpoint, session.role), OVERRIDES.get(endpoint))
    base = fz.baseline(form, n, overrides)
    keep = tuple(overrides or ())
    state = {"action": form["action"]}

    def post(data: dict, label: str, value) -> int:
        client = session.client
        data = dict(data)
        if anonymous:  # a fresh visitor each time (a successful sign-in would end the sweep of this form)
            session.client = client = school.app.test_client()
            source = state["action"] if endpoint == "activation.activate" else "/auth/login"
            token = csrf_token(client, source)
        else:
            token = session.token
        if "csrf_token" in data and label != "csrf_token":
            data["csrf_token"] = token
        response = client.post(state["action"], data=_payload(data, form["multipart"]),
                               content_type="multipart/form-data" if form["multipart"] else None)
        response.close()
        school.posts += 1
        if response.status_code >= 500:
            school.problems.append((response.status_code, session.role, endpoint, state["action"], label,
                                    repr(value)[:60]))
        elif response.status_code < 400:
            state["action"] = _after_success(school, session, endpoint, state["action"])
        return response.status_code

    status = post(fz.fresh_unique(base, school.next(), form, keep), "baseline", None)
    if status >= 400:
        school.problems.append(("baseline refused", status, session.role, endpoint, page, base))
        return
    school.covered.setdefault(session.role, set()).add(endpoint)
    for name, spec in form["fields"].items():
        if spec["type"] in ("submit", "button"):
            continue
        if name == "csrf_token":
            values = ["", "x" * 200, "\x00"]
        else:
            values = values_for(name, spec, short=session.role in SHORT_ROLES)

        def check(value, name=name, spec=spec):
            data = fz.fresh_unique(base, school.next(), form, keep)
            if spec["type"] == "file":
                post({**data, name: (fz.PDF, value or "fuzz.pdf")}, f"{name} (file name)", value)
                data[name] = (value.encode("utf-8", "surrogatepass")[:6000], "fuzz.pdf")
            else:
                data[name] = [value] if isinstance(data.get(name), list) else value
            post(data, name, value)

        fz.sweep(check, values, generated if name != "csrf_token" else 0)
    post({**fz.fresh_unique(base, school.next(), form, keep), EXTRA: "²\x00" + fz.LONG}, EXTRA, "extra field")
    if not anonymous and not session.alive():
        school.problems.append(("session lost", session.role, endpoint))
        session.sign_in()


def _post_endpoints(app, role: str) -> set[str]:
    out = set()
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in EXCLUDED:
            continue
        view = app.view_functions[rule.endpoint]
        if role == "anonymous" and getattr(view, "_access_public", False):
            out.add(rule.endpoint)
        elif role in getattr(view, "_access_roles", ()):
            out.add(rule.endpoint)
    return out


def _report(school: School) -> str:
    return "\n".join(str(p)[:400] for p in school.problems[:60])


# --------------------------------------------------------------------------- list pages

def _declared_filters() -> dict[str, list[str]]:
    from app.blueprints import audit, fleet, instructors
    from app.services import courses, staff, students

    def names(filters):
        return list(filters)
    return {"students.index": names(students.LIST_FILTERS), "instructors.index": names(instructors.LIST_FILTERS),
            "fleet.index": names(fleet.LIST_FILTERS), "courses.index": names(courses.LIST_FILTERS),
            "staff.index": names(staff.LIST_FILTERS), "audit.index": names(audit.FILTERS),
            "audit.export": names(audit.FILTERS)}


def _list_rules(app):
    return [r for r in app.url_map.iter_rules()
            if not r.arguments and "GET" in r.methods and (r.endpoint.endswith(".index") or r.endpoint == "audit.export")]


def _sweep_queries(school: School, session: Session, generated: int, only: set[str] | None = None,
                   short: bool = False, values_for=fz.values_for) -> set[str]:
    declared = _declared_filters()
    swept = set()
    for rule in _list_rules(school.app):
        view = school.app.view_functions[rule.endpoint]
        if session.role not in getattr(view, "_access_roles", ()):
            continue
        first = session.client.get(rule.rule)
        first.close()
        assert first.status_code == 200, (session.role, rule.rule, first.status_code)
        on_page = []
        if "text/html" in first.content_type:
            for form in fz.parse_forms(first.get_data(as_text=True)):
                if form["method"] == "get":
                    on_page += list(form["fields"])
        params = list(dict.fromkeys(["q", "sort", "dir", "page", "per_page", *declared.get(rule.endpoint, []),
                                     *on_page, "zz_unknown"]))
        if only is not None:
            params = [p for p in params if p in only or p in declared.get(rule.endpoint, [])]
        for param in params:
            def check(value, param=param, path=rule.rule):
                response = session.client.get(path, query_string={param: value})
                response.close()
                school.posts += 1
                if response.status_code >= 500:
                    school.problems.append((response.status_code, session.role, path, param, repr(value)[:60]))
            fz.sweep(check, values_for(param, short=short), generated)
        swept.add(rule.endpoint)
        if not session.alive():
            school.problems.append(("session lost", session.role, rule.rule))
            session.sign_in()
    return swept


def _sweep_url_ids(school: School, session: Session) -> int:
    """Every route with an id in its path, with ids no row can have (beyond INT and BIGINT): 404 (403 for
    2**31 on a route that is not for this role: the role check answers before any id is looked up)."""
    token, checked = session.token, 0
    for rule in school.app.url_map.iter_rules():
        names = [n for n in rule.arguments if n.endswith("_id")]
        if not names:
            continue
        for huge in (2**31, 2**63, 2**64, 10**30):
            url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", str(huge), rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = session.client.open(url, method=method, data={"csrf_token": token} if method in ("POST", "PATCH") else None)
                response.close()
                checked += 1
                # no route matches an id beyond INT UNSIGNED (404); within it, a role the route is not for
                # meets the role check (403) before any id is looked up
                allowed = session.role in getattr(school.app.view_functions[rule.endpoint], "_access_roles", ())
                if response.status_code != (404 if allowed or huge > 4294967295 else 403):
                    school.problems.append((response.status_code, session.role, method, url))
    return checked


def test_ids_beyond_the_integer_range_in_urls_are_404(school):
    school.problems.clear()
    session = Session(school, "admin")
    assert _sweep_url_ids(school, session) > 100
    assert session.alive()
    assert not school.problems, f"{len(school.problems)} problems:\n{_report(school)}"


def test_every_list_page_survives_hostile_query_strings(school):
    """Each parameter gets one value of every class in its kind's short list (fz.Rotation, the class's
    values in turn across parameters; every value of those lists is sent, asserted below)."""
    school.problems.clear()
    swept: dict[str, set] = {}
    rotation = fz.Rotation(rotate_short=True)
    for role in ROLES:
        session = Session(school, role)
        # admin: every page with the short list's classes and a generated value; the others the classes
        swept[role] = _sweep_queries(school, session, 1 if role == "admin" else 0, short=True, values_for=rotation)
    assert rotation.offered <= rotation.used, sorted(rotation.offered - rotation.used)
    lists = {r.endpoint for r in _list_rules(school.app)}
    assert set().union(*swept.values()) == lists
    for role in ROLES:  # each role swept every list page it may open
        expected = {r.endpoint for r in _list_rules(school.app)
                    if role in getattr(school.app.view_functions[r.endpoint], "_access_roles", ())}
        assert swept[role] == expected, role
    assert not school.problems, f"{len(school.problems)} problems:\n{_report(school)}"


def test_every_post_route_survives_hostile_input_one_field_at_a_time(school):
    """Every field of every form gets one value of each hostile class of its kind (fz.Rotation: the
    class's values taken in turn across the fields of that kind; staff: the classes of the short list),
    plus the generated ones; across the sweep every value of fz.HOSTILE and of the short lists is posted
    (asserted below)."""
    school.problems.clear()
    rotation = fz.Rotation(rotate_short=True)
    for role in ("anonymous", *ROLES):
        session = Session(school, role)
        forms = _discover(school, session)
        for endpoint in sorted(set(forms) - EXCLUDED):
            page, form = forms[endpoint]
            _fuzz_form(school, session, endpoint, page, form, GENERATED[role], values_for=rotation)
        missing = _post_endpoints(school.app, role) - school.covered.get(role, set())
        assert not missing, f"{role}: no accepted form found for {sorted(missing)}\n{_report(school)}"
    print(f"fuzz: {school.posts} posts")
    registered = {r.endpoint for r in school.app.url_map.iter_rules() if "POST" in r.methods}
    covered = set().union(*school.covered.values())
    assert covered == registered - EXCLUDED, sorted(covered ^ (registered - EXCLUDED))
    assert school.posts > 1000
    assert set(fz.HOSTILE) <= rotation.used and rotation.offered <= rotation.used, sorted(
        (set(fz.HOSTILE) | rotation.offered) - rotation.used)
    assert not school.problems, f"{len(school.problems)} problems in {school.posts} posts:\n{_report(school)}"


# --------------------------------------------------------------------------- MariaDB

MARIADB_FORMS = ("students.edit", "instructors.edit", "fleet.edit", "fleet.add_service", "branches.edit", "staff.edit",
                 "courses.edit", "instructors.add_unavailability", "students.add_note", "documents.upload")


def test_mariadb_refuses_what_sqlite_would_store_without_a_500(mariadb_school):
    """Over-long text, out-of-range integers and dates MariaDB rejects, on one form per area, the list
    pages' parameters and ids in URLs (bounded: admin only, fixed values, no generated ones)."""
    school = mariadb_school
    school.problems.clear()
    session = Session(school, "admin")
    forms = _discover(school, session)
    for endpoint in MARIADB_FORMS:
        assert endpoint in forms, endpoint
        page, form = forms[endpoint]
        _fuzz_form(school, session, endpoint, page, form, 0, values_for=fz.mariadb_values_for)
    _sweep_queries(school, session, 0, values_for=fz.mariadb_values_for)
    _sweep_url_ids(school, session)
    assert not school.problems, f"{len(school.problems)} problems:\n{_report(school)}"
