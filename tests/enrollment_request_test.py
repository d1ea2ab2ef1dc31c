"""Enrolment requests on both databases (services/applications.py, services/enrollment_requests.py and
app/dao/enrollment_request.py): the public application writes the account, the student and the request in
one transaction and tells the branch's staff; duplicates on e-mail or licence get one message that names
nobody and write nothing; the per-address rate limit; approval is all or nothing (the invoice step made to
fail leaves no enrolment, package, notification or decision behind); a decline needs a reason that the
applicant receives; an instructor decides only the requests assigned to them; a second decision is 409;
an unknown course or instructor is a 422 naming it. The original's DAO script (spec 5): list, per
instructor, per student, insert and decide."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from app.core.errors import Conflict, NotFound, PermissionDenied, TooManyAttempts, ValidationFailed
from app.core.pagination import ListQuery
from app.dao.enrollment_request import ApplicationAttemptDAO, EnrollmentRequestDAO, RequestScope
from app.services import applications, enrollment_requests as requests
from app.services.scope import Actor
from tests import factories as f

NOW = datetime(2026, 3, 10, 2, 30)      # 13:30 in Melbourne
SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne", "APP_NAME": "Origin Driving School"}


class World:
    def __init__(self, db):
        self.db = db
        self.branch = f.make_branch(db, name="Bayside", phone="03 9000 1111")
        self.other = f.make_branch(db, name="Northside")
        self.course = f.make_course(db, title="Beginner", price=Decimal("880.00"), lesson_count=10)
        self.staff_user = f.make_user(db, role="staff", branch_id=self.branch)
        self.other_staff_user = f.make_user(db, role="staff", branch_id=self.other)
        self.staff = Actor(user_id=self.staff_user, role="staff", branch_id=self.branch)
        self.foreign_staff = Actor(user_id=self.other_staff_user, role="staff", branch_id=self.other)
        self.admin = Actor(user_id=f.make_user(db, role="admin"), role="admin")
        self.teacher_user = f.make_user(db, role="instructor", branch_id=self.branch)
        self.instructor = f.make_instructor(db, user_id=self.teacher_user, branch_id=self.branch)
        self.teacher = Actor(user_id=self.teacher_user, role="instructor", branch_id=self.branch,
                             instructor_id=self.instructor)
        other_user = f.make_user(db, role="instructor", branch_id=self.branch)
        self.other_instructor = f.make_instructor(db, user_id=other_user, branch_id=self.branch)
        self.other_teacher = Actor(user_id=other_user, role="instructor", instructor_id=self.other_instructor)

    def form(self, **overrides):
        data = {"first_name": "Mia", "last_name": "Nguyen", "email": "mia.nguyen@example.com", "phone": "0400 111 222",
                "date_of_birth": date(2005, 6, 1), "license_number": "L1234567", "branch_id": self.branch,
                "course_id": self.course, "preferred_date": date(2026, 3, 20), "preferred_time": time(9, 30),
                "notes": "Weekday mornings suit me."}
        data.update(overrides)
        return data

    def apply(self, ip="203.0.113.5", **overrides):
        return applications.apply(self.db, self.form(**overrides), ip=ip, now=NOW)

    def count(self, table, where="1 = 1", **params):
        return int(self.db.fetch_value(f"SELECT COUNT(*) FROM {table} WHERE {where}", params))


@pytest.fixture
def w(db):
    return World(db)


# --------------------------------------------------------------------------- public application

def test_application_creates_user_student_request_and_tells_the_branch_staff(w):
    applied = w.apply()
    user = w.db.fetch_one("SELECT role, status, branch_id, password_hash, email FROM users WHERE id = :id",
                          {"id": applied.user_id})
    assert user["role"] == "student" and user["branch_id"] == w.branch and user["email"] == "mia.nguyen@example.com"
    assert user["password_hash"].startswith("!unset!")  # no usable password until the link is used
    student = w.db.fetch_one("SELECT branch_id, license_number, date_of_birth FROM students WHERE id = :id",
                             {"id": applied.student_id})
    assert student == {"branch_id": w.branch, "license_number": "L1234567", "date_of_birth": date(2005, 6, 1)}
    request = EnrollmentRequestDAO(w.db).find_for_scope(applied.request_id, RequestScope(everything=True))
    assert request["status"] == "pending" and request["course_id"] == w.course
    assert request["preferred_date"] == date(2026, 3, 20) and request["preferred_time"] == time(9, 30)
    assert w.count("account_tokens", "user_id = :u AND purpose = 'activation'", u=applied.user_id) == 1
    # The branch's staff are told; the other branch's are not.
    assert w.count("notifications", "user_id = :u", u=w.staff_user) == 1
    assert w.count("notifications", "user_id = :u", u=w.other_staff_user) == 0
    assert w.count("audit_trail", "action = 'enrollment_request_created' AND entity_id = :id", id=applied.request_id) == 1


def test_optional_fields_are_null_not_empty(w):
    applied = w.apply(license_number=None, preferred_date=None, preferred_time=None, notes=None)
    row = w.db.fetch_one("SELECT preferred_date, preferred_time, student_notes FROM enrollment_requests WHERE id = :id",
                         {"id": applied.request_id})
    assert row == {"preferred_date": None, "preferred_time": None, "student_notes": None}


@pytest.mark.parametrize("field, value", [
    ("email", "not-an-address"), ("branch_id", 999999), ("course_id", 999999), ("preferred_date", date(2026, 3, 10)),
    ("date_of_birth", date(2020, 1, 1)), ("first_name", "  "),
])
def test_bad_fields_are_422_naming_the_field_and_write_nothing(w, field, value):
    with pytest.raises(ValidationFailed) as caught:
        w.apply(**{field: value})
    assert field in caught.value.errors
    assert w.count("enrollment_requests") == 0 and w.count("users", "role = 'student'") == 0
    assert w.count("application_attempts") == 0  # the form's own checks come before the attempt is counted


def test_an_inactive_course_cannot_be_applied_for(w):
    w.db.execute("UPDATE courses SET status = 'inactive' WHERE id = :id", {"id": w.course})
    with pytest.raises(ValidationFailed) as caught:
        w.apply()
    assert "course_id" in caught.value.errors


def test_duplicate_email_or_licence_gets_the_same_message_and_writes_nothing(w):
    w.apply()
    before = (w.count("users"), w.count("students"), w.count("enrollment_requests"), w.count("notifications"))
    with pytest.raises(Conflict) as by_email:
        w.apply(email="MIA.NGUYEN@example.com ", license_number="OTHER-1")
    with pytest.raises(Conflict) as by_licence:
        w.apply(email="someone.else@example.com", license_number="L1234567")
    assert by_email.value.message == by_licence.value.message == applications.DUPLICATE_MESSAGE
    assert "Mia" not in by_email.value.message and "@" not in by_email.value.message
    assert (w.count("users"), w.count("students"), w.count("enrollment_requests"), w.count("notifications")) == before


def test_rate_limit_per_address_counts_refused_attempts_too(w):
    for n in range(applications.LIMIT - 1):
        w.apply(email=f"person{n}@example.com", license_number=None)
    with pytest.raises(Conflict):  # a duplicate still counts as an attempt
        w.apply(email="person0@example.com", license_number=None)
    with pytest.raises(TooManyAttempts) as caught:
        w.apply(email="fresh@example.com", license_number=None)
    assert caught.value.status == 429 and caught.value.retry_after > 0 and "try again in" in caught.value.message
    assert w.count("users", "email = 'fresh@example.com'") == 0
    # Another address is not affected; an hour later the first one may apply again.
    w.apply(ip="198.51.100.7", email="other.address@example.com", license_number=None)
    later = applications.apply(w.db, w.form(email="later@example.com", license_number=None), ip="203.0.113.5",
                               now=NOW + applications.WINDOW + timedelta(seconds=1))
    assert later.request_id


def test_purge_forgets_old_attempts(w):
    dao = ApplicationAttemptDAO(w.db)
    dao.record("203.0.113.9", NOW - timedelta(days=3))
    dao.record("203.0.113.9", NOW)
    assert applications.purge(w.db, NOW) == 1
    assert dao.since("203.0.113.9", NOW - timedelta(days=7))["count"] == 1


# --------------------------------------------------------------------------- approval

def _pending(w, **overrides):
    return w.apply(**overrides).request_id


def test_approval_creates_enrolment_package_invoice_welcome_and_reminder_in_one_go(w):
    request_id = _pending(w)
    done = requests.decide(w.db, w.staff, request_id, {"decision": "approve", "instructor_id": w.instructor},
                           now=NOW, settings=SETTINGS)
    row = w.db.fetch_one("SELECT status, instructor_id, decision_by, enrollment_id FROM enrollment_requests WHERE id = :id",
                         {"id": request_id})
    assert row == {"status": "approved", "instructor_id": w.instructor, "decision_by": w.staff_user,
                   "enrollment_id": done["enrollment_id"]}
    enrolment = w.db.fetch_one("SELECT student_id, course_id, status, start_date FROM enrollments WHERE id = :id",
                               {"id": done["enrollment_id"]})
    assert enrolment["status"] == "active" and enrolment["course_id"] == w.course
    assert enrolment["start_date"] == date(2026, 3, 20)  # the preferred date
    assert w.count("package_ledger", "enrollment_id = :e AND entry = 'purchase' AND credits = 10",
                   e=done["enrollment_id"]) == 1
    invoice = w.db.fetch_one("SELECT id, status, subtotal, total, invoice_number, due_date FROM invoices"
                             " WHERE enrollment_id = :e", {"e": done["enrollment_id"]})
    assert invoice["id"] == done["invoice_id"] and invoice["status"] == "sent"
    assert invoice["subtotal"] == Decimal("880.00") and invoice["total"] == Decimal("968.00")
    assert invoice["invoice_number"].startswith("INV-2026-") and invoice["due_date"] == date(2026, 3, 17)
    assert w.count("reminders", "related_type = 'invoice' AND related_id = :i AND status = 'pending'",
                   i=invoice["id"]) >= 1
    student_user = w.db.fetch_value("SELECT user_id FROM students WHERE id = :s", {"s": enrolment["student_id"]})
    assert w.count("notifications", "user_id = :u AND title = 'Welcome to Origin Driving School'", u=student_user) == 1
    assert w.count("audit_trail", "action = 'enrollment_request_approved' AND entity_id = :id", id=request_id) == 1


def test_approval_is_all_or_nothing_when_the_invoice_step_fails(w, monkeypatch):
    request_id = _pending(w)
    before = {t: w.count(t) for t in ("enrollments", "package_ledger", "invoices", "reminders", "notifications",
                                       "audit_trail")}

    def broken(*args, **kwargs):
        raise RuntimeError("invoice numbering is down")

    monkeypatch.setattr(requests, "_invoice", broken)
    with pytest.raises(RuntimeError):
        requests.decide(w.db, w.staff, request_id, {"decision": "approve", "instructor_id": w.instructor},
                        now=NOW, settings=SETTINGS)
    assert {t: w.count(t) for t in before} == before
    assert w.db.fetch_value("SELECT status FROM enrollment_requests WHERE id = :id", {"id": request_id}) == "pending"
    monkeypatch.undo()
    done = requests.decide(w.db, w.staff, request_id, {"decision": "approve", "instructor_id": w.instructor},
                           now=NOW, settings=SETTINGS)  # and it still works afterwards
    assert done["status"] == "approved"


def test_approval_needs_an_instructor_and_names_unknown_ones(w):
    request_id = _pending(w)
    for data, field in (({}, "instructor_id"), ({"instructor_id": 999999}, "instructor_id"),
                        ({"instructor_id": w.instructor, "course_id": 999999}, "course_id")):
        with pytest.raises(ValidationFailed) as caught:
            requests.decide(w.db, w.staff, request_id, {"decision": "approve", **data}, now=NOW, settings=SETTINGS)
        assert field in caught.value.errors, data
    assert "999999" in str(caught.value.errors["course_id"])
    assert w.count("enrollments") == 0
    with pytest.raises(ValidationFailed) as caught:
        requests.decide(w.db, w.staff, request_id, {"decision": "maybe"}, now=NOW, settings=SETTINGS)
    assert "decision" in caught.value.errors


def test_an_instructor_who_does_not_teach_the_course_is_refused(w):
    f.allocate(w.db, w.course, w.other_instructor)
    request_id = _pending(w)
    with pytest.raises(ValidationFailed) as caught:
        requests.decide(w.db, w.staff, request_id, {"decision": "approve", "instructor_id": w.instructor},
                        now=NOW, settings=SETTINGS)
    assert "does not teach" in caught.value.errors["instructor_id"][0]


def test_a_second_decision_is_409_and_changes_nothing(w):
    request_id = _pending(w)
    requests.decide(w.db, w.staff, request_id, {"decision": "approve", "instructor_id": w.instructor},
                    now=NOW, settings=SETTINGS)
    for data in ({"decision": "approve", "instructor_id": w.instructor}, {"decision": "decline", "reason": "Oops"}):
        with pytest.raises(Conflict) as caught:
            requests.decide(w.db, w.admin, request_id, data, now=NOW + timedelta(minutes=5), settings=SETTINGS)
        assert caught.value.status == 409 and "already approved" in caught.value.message
    assert w.count("enrollments") == 1 and w.count("invoices") == 1
    assert w.db.fetch_value("SELECT status FROM enrollment_requests WHERE id = :id", {"id": request_id}) == "approved"


# --------------------------------------------------------------------------- decline, scope

def test_decline_needs_a_reason_which_the_applicant_receives(w):
    applied = w.apply()
    with pytest.raises(ValidationFailed) as caught:
        requests.decide(w.db, w.staff, applied.request_id, {"decision": "decline", "reason": "   "}, now=NOW,
                        settings=SETTINGS)
    assert "reason" in caught.value.errors
    requests.decide(w.db, w.staff, applied.request_id, {"decision": "decline", "reason": "The course is full until May."},
                    now=NOW, settings=SETTINGS)
    row = w.db.fetch_one("SELECT status, admin_notes FROM enrollment_requests WHERE id = :id", {"id": applied.request_id})
    assert row == {"status": "declined", "admin_notes": "The course is full until May."}
    message = w.db.fetch_value("SELECT message FROM notifications WHERE user_id = :u", {"u": applied.user_id})
    assert "The course is full until May." in message
    pupil = Actor(user_id=applied.user_id, role="student", student_id=applied.student_id)
    assert requests.student_requests(w.db, pupil)[0]["admin_notes"] == "The course is full until May."
    assert w.count("enrollments") == 0
    assert w.count("audit_trail", "action = 'enrollment_request_declined'") == 1


def test_instructor_decides_only_requests_assigned_to_them(w):
    request_id = _pending(w)
    for actor in (w.teacher, w.other_teacher):  # unassigned: no instructor sees it
        with pytest.raises(NotFound):
            requests.get_request(w.db, actor, request_id)
    requests.assign(w.db, w.staff, request_id, w.instructor, now=NOW)
    assert w.count("notifications", "user_id = :u", u=w.teacher_user) == 1
    with pytest.raises(NotFound):
        requests.decide(w.db, w.other_teacher, request_id, {"decision": "approve"}, now=NOW, settings=SETTINGS)
    with pytest.raises(PermissionDenied):
        requests.assign(w.db, w.teacher, request_id, w.other_instructor, now=NOW)
    done = requests.decide(w.db, w.teacher, request_id, {"decision": "approve", "instructor_id": w.other_instructor},
                           now=NOW, settings=SETTINGS)
    assert w.db.fetch_value("SELECT instructor_id FROM enrollment_requests WHERE id = :id",
                            {"id": request_id}) == w.instructor  # the deciding instructor stays the instructor
    assert done["enrollment_id"]


def test_staff_see_their_branch_only_and_admin_all(w):
    mine = _pending(w)
    theirs = _pending(w, email="north@example.com", license_number=None, branch_id=w.other)
    query = ListQuery(sort="submitted", direction="desc", filters={})
    page, counts = requests.list_requests(w.db, w.staff, query)
    assert [r["id"] for r in page.items] == [mine] and counts["pending"] == 1
    page, counts = requests.list_requests(w.db, w.admin, query)
    assert {r["id"] for r in page.items} == {mine, theirs} and counts == {"pending": 2, "approved": 0, "declined": 0}
    with pytest.raises(NotFound):
        requests.get_request(w.db, w.staff, theirs)
    with pytest.raises(NotFound):
        requests.decide(w.db, w.foreign_staff, mine, {"decision": "decline", "reason": "x"}, now=NOW, settings=SETTINGS)
    with pytest.raises(ValidationFailed):  # staff assign only their own branch's instructors
        requests.assign(w.db, w.foreign_staff, theirs, w.instructor, now=NOW)


def test_list_filters_and_counts_come_from_one_aggregate(w):
    first = _pending(w)
    second = _pending(w, email="b@example.com", license_number=None)
    requests.decide(w.db, w.admin, second, {"decision": "decline", "reason": "Duplicate"}, now=NOW, settings=SETTINGS)
    query = ListQuery(sort="submitted", direction="desc", filters={"status": "pending", "course": str(w.course)})
    page, counts = requests.list_requests(w.db, w.admin, query)
    assert [r["id"] for r in page.items] == [first]
    assert counts == {"pending": 1, "approved": 0, "declined": 1}
    page, _ = requests.list_requests(w.db, w.admin, ListQuery(sort="submitted", filters={"branch": str(w.other)}))
    assert page.items == []


def test_students_cannot_use_the_queue(w):
    applied = w.apply()
    pupil = Actor(user_id=applied.user_id, role="student", student_id=applied.student_id)
    with pytest.raises(PermissionDenied):
        requests.list_requests(w.db, pupil, ListQuery(sort="submitted"))


# --------------------------------------------------------------------------- the original's DAO script

def test_original_dao_script_list_per_instructor_per_student_insert_decide(w):
    student = f.make_student(w.db, branch_id=w.branch)
    dao = EnrollmentRequestDAO(w.db)
    first = dao.insert({"student_id": student, "course_id": w.course, "preferred_date": date(2026, 3, 17),
                        "preferred_time": time(9, 0), "instructor_id": w.instructor}, NOW)
    f.make_enrollment_request(w.db, student, w.course)
    query = ListQuery(sort="submitted", filters={})
    assert dao.list_page(query, RequestScope(everything=True)).total == 2
    assert dao.list_page(query, RequestScope(instructor_id=w.instructor)).total == 1
    assert len(dao.for_student(student)) == 2
    assert dao.decide(first, status="declined", instructor_id=w.instructor, course_id=w.course, admin_notes="No",
                      decision_by=w.admin.user_id, enrollment_id=None, now=NOW) == 1
    assert dao.decide(first, status="approved", instructor_id=w.instructor, course_id=w.course, admin_notes="",
                      decision_by=w.admin.user_id, enrollment_id=None, now=NOW) == 0  # decided stays decided
    found = dao.find_for_scope(first, RequestScope(everything=True))
    assert found["status"] == "declined" and found["preferred_time"] == time(9, 0)
