"""The access matrix, generated from app.url_map: every route x role x own/foreign object.

World: two branches (A, B), in each a staff member, an instructor, a student taught by that
instructor (an upcoming lesson and an invoice), a vehicle, a document whose file really exists in
UPLOAD_DIR, a note, availability windows and a signed-in session of the student; plus an administrator, a course with B's instructor
allocated, and a staff member with no branch. Every name a side's rows show carries a marker
(``ZzstudentB``, ``ZzcarB``, ...) so a page that leaks a foreign row is caught by its text.

- Signed in as A's staff, instructor or student, every route naming a B object answers 404 (403
  when the role is not declared for the route), on GET and on POST; the branchless staff member
  gets the same for A's and B's objects.
- For each role, the GET routes on its own objects that answer 200 are exactly the ones its
  declared roles (``view._access_roles``) and the scope rules allow; every other one is 403/404.
- Routes without an id that take ids in the form or the query string: registering a student,
  instructor or vehicle in a foreign branch is refused and writes nothing; list pages filtered by a
  foreign ``?branch=`` show no foreign rows; course allocation of another branch's instructor is
  refused; the dashboards show no foreign names (and the branchless one none at all, with a notice).
- A route with an id parameter this test does not know fails the test, so a new route cannot slip
  past it.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from app.core import clock, passwords
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

PARAMS = ("branch_id", "student_id", "instructor_id", "vehicle_id", "staff_id", "document_id", "note_id",
          "window_id", "log_id", "user_id", "course_id", "audit_id", "schedule_id", "proposal_id",
          "series_id", "offer_id", "invoice_id", "payment_id", "request_id", "enrollment_id", "communication_id",
          "reminder_id", "session_id")
NOT_OBJECT_SCOPED = {"course_id", "audit_id"}  # school-wide catalogue; admin-only audit (tested below / elsewhere)
NOT_IDS = {("activation.activate", "token"), ("feeds.feed", "token"), ("static", "filename"),
           ("bootstrap.static", "filename"), ("password_reset.reset", "token")}
ROLES = ("admin", "staff", "instructor", "student")

# Which id parameters name an object the role may see when the object is its own (scope rules of
# app/services/scope.py, students.scope_for, instructors._require_view_scope, documents.get_document).
VISIBLE_OWN = {
    "admin": set(PARAMS),
    "staff": {"branch_id", "student_id", "instructor_id", "vehicle_id", "document_id", "note_id", "window_id",
              "log_id", "schedule_id", "series_id", "invoice_id", "payment_id", "request_id", "enrollment_id",
              "communication_id", "reminder_id"},
    "instructor": {"instructor_id", "student_id", "document_id", "window_id", "schedule_id", "request_id"},
    "student": {"student_id", "document_id", "schedule_id", "proposal_id", "offer_id", "invoice_id", "payment_id"},
}
NO_BRANCH_NOTICE = "No branch is assigned to your account"
PDF = b"%PDF-1.4\n% access matrix fixture\n"
REDIRECT = (302, 303)


def _user(db, role, branch, email, last_name):
    return f.make_user(db, role=role, branch_id=branch, email=email, first_name="Pat", last_name=last_name,
                       password_hash=passwords.hash_password(DEMO_PASSWORD))


def _side(db, tag, now, upload_dir: Path):
    t = tag.upper()
    branch = f.make_branch(db, name=f"Zzbranch{t}", email=f"branch.{tag}@origin.com.au")
    staff_user = _user(db, "staff", branch, f"staff.{tag}@origin.com", f"Zzstaff{t}")
    staff_id = db.insert("staff_profiles", {"user_id": staff_user, "branch_id": branch, "position_title": "Desk"})
    instructor_user = _user(db, "instructor", branch, f"instructor.{tag}@origin.com", f"Zzinstructor{t}")
    instructor = f.make_instructor(db, user_id=instructor_user, branch_id=branch)
    student_user = _user(db, "student", branch, f"student.{tag}@origin.com", f"Zzstudent{t}")
    student = f.make_student(db, user_id=student_user, branch_id=branch)
    enrolment = f.make_enrollment(db, student_id=student)
    schedule = f.make_schedule(db, enrollment_id=enrolment, instructor_id=instructor, branch_id=branch,
                               scheduled_date=date.today() + timedelta(days=3))
    series = f.make_series(db, student, instructor, (schedule,), branch_id=branch)
    invoice = f.make_invoice(db, enrollment_id=enrolment, invoice_number=f"ZZINV-{t}")
    payment = f.make_payment(db, invoice, "100.00", method="cash")
    vehicle = f.make_vehicle(db, branch_id=branch, name=f"Zzcar{t}", plate_number=f"ZZ-{t}-01")
    stored = f"{secrets.token_hex(16)}.pdf"  # the stored name documents.file_path points to (see services.documents)
    (upload_dir / stored).write_bytes(PDF)
    document = db.insert("documents", {"user_id": student_user, "file_name": f"Zzdoc{t}.pdf",
                                       "file_path": stored, "mime_type": "application/pdf",
                                       "file_size": len(PDF), "category": "licence", "created_at": now})
    note = db.insert("notes", {"related_type": "student", "related_id": student, "author_user_id": staff_user,
                               "content": f"Zznote{t}", "created_at": now})
    window = db.insert("instructor_unavailability", {
        "instructor_id": instructor, "start_datetime": datetime(2030, 1, 1, 9), "end_datetime": datetime(2030, 1, 1, 17)})
    downtime = db.insert("vehicle_downtime", {
        "vehicle_id": vehicle, "start_datetime": datetime(2030, 1, 2, 9), "end_datetime": datetime(2030, 1, 2, 17)})
    log = db.insert("vehicle_service_logs", {"vehicle_id": vehicle, "service_date": date(2029, 12, 1)})
    communication = db.insert("communications", {  # a broadcast the branch's staff sent to the branch
        "sender_user_id": staff_user, "audience_scope": "everyone", "channel": "in-app", "subject": f"Zzmsg{t}",
        "message": f"Zzmsg{t} body", "created_at": now, "branch_id": branch, "segment": "everyone",
        "recipient_count": 1})
    db.insert("communication_recipients", {"communication_id": communication, "user_id": student_user})
    reminder = db.insert("reminders", {  # a failed reminder to the branch's student (the queue's pages)
        "related_type": "schedule", "related_id": schedule, "recipient_user_id": student_user, "channel": "sms",
        "reminder_type": "lesson_24h", "message": f"Zzmsg{t} reminder", "send_on": now.date(), "send_at": now,
        "status": "failed", "created_at": now, "updated_at": now})
    # a signed-in session of the side's student (/account/sessions/<id>/end: only its owner may end it)
    session = db.insert("user_sessions", {"user_id": student_user, "token_hash": secrets.token_hex(32),
                                          "created_at": now, "last_seen_at": now})
    return {"branch_id": branch, "staff_id": staff_id, "session_id": session,
            "instructor_id": instructor, "student_id": student,
            "vehicle_id": vehicle, "document_id": document, "note_id": note, "log_id": log,
            "window_id": {"instructor": window, "vehicle": downtime},
            "user_id": student_user, "course_id": f.make_course(db), "audit_id": 1, "schedule_id": schedule,
            "series_id": series, "invoice_id": invoice, "payment_id": payment,
            "request_id": f.make_enrollment_request(db, student, instructor_id=instructor), "enrollment_id": enrolment,
            "communication_id": communication, "reminder_id": reminder,
            "proposal_id": f.make_proposal(db, schedule, proposed_by=staff_user, expires_at=now + timedelta(hours=48)),
            "offer_id": f.make_gap_offer(db, schedule, student, instructor, branch_id=branch,
                                         slot_date=date.today() + timedelta(days=4), expires_at=now + timedelta(days=3)),
            "emails": {"staff": f"staff.{tag}@origin.com", "instructor": f"instructor.{tag}@origin.com",
                       "student": f"student.{tag}@origin.com"},
            # Text that only this side's rows show (names, plate, file, note, invoice number, e-mails).
            "markers": [f"Zzbranch{t}", f"Zzstaff{t}", f"Zzinstructor{t}", f"Zzstudent{t}", f"Zzcar{t}",
                        f"ZZ-{t}-01", f"Zzdoc{t}", f"Zznote{t}", f"ZZINV-{t}", f"student.{tag}@origin.com",
                        f"instructor.{tag}@origin.com", f"Zzmsg{t}"]}


@pytest.fixture
def world(app):
    return populate_world(app)


def populate_world(app) -> dict:
    """Two branches (sides a and b, each with its people and records), an admin, a staff member with no
    branch and a course shared across branches; tests/security/ builds the same world through this."""
    upload_dir = Path(app.config["UPLOAD_DIR"])
    upload_dir.mkdir(parents=True, exist_ok=True)
    with app.app_context():
        db = get_db()
        now = clock.now()
        a, b = _side(db, "a", now, upload_dir), _side(db, "b", now, upload_dir)
        _user(db, "admin", None, "admin.matrix@origin.com", "Admin")
        nobranch_user = _user(db, "staff", None, "staff.nobranch@origin.com", "Nobranch")
        db.insert("staff_profiles", {"user_id": nobranch_user, "branch_id": None, "position_title": "Floating"})
        shared_course = f.make_course(db, title="Shared course")
        db.insert("course_instructor", {"course_id": shared_course, "instructor_id": b["instructor_id"]})
    a["emails"]["admin"] = "admin.matrix@origin.com"
    return {"a": a, "b": b, "nobranch": "staff.nobranch@origin.com", "shared_course": shared_course}


def _signed_in(app, email):
    client = app.test_client()
    assert login(client, email).status_code in REDIRECT, email
    return client


def _email(world, role):
    return world["nobranch"] if role == "nobranch" else world["a"]["emails"][role]


def _url(rule, ids) -> str | None:
    def value(match):
        name = match.group(2)
        if name not in PARAMS:
            raise AssertionError(f"access matrix does not know URL parameter <{name}> in {rule.rule}; add it")
        chosen = ids[name]
        if isinstance(chosen, dict):
            chosen = chosen["vehicle" if "fleet" in rule.rule else "instructor"]
        return str(chosen)

    return re.sub(r"<(?:([^:>]+):)?([^>]+)>", value, rule.rule)


def _object_rules(app):
    for rule in app.url_map.iter_rules():
        names = set(rule.arguments)
        if not names or {(rule.endpoint, n) for n in names} <= NOT_IDS:
            continue
        if names <= NOT_OBJECT_SCOPED:
            continue
        yield rule


def _roles(app, rule) -> frozenset:
    return getattr(app.view_functions[rule.endpoint], "_access_roles", frozenset())


def _refusal(app, rule, role) -> int:
    """A role outside the declaration is 403; inside it, an object out of scope is 404."""
    return 404 if ("staff" if role == "nobranch" else role) in _roles(app, rule) else 403


def _leaks(html: str, markers) -> list[str]:
    return [m for m in markers if m in html]


def test_every_url_parameter_is_known(app):
    for rule in app.url_map.iter_rules():
        for name in rule.arguments:
            assert name in PARAMS or (rule.endpoint, name) in NOT_IDS, (
                f"access matrix does not know URL parameter <{name}> in {rule.rule}; add it")


@pytest.mark.parametrize("role", ["staff", "instructor", "student", "nobranch"])
def test_foreign_objects_are_404_or_403_on_every_route(app, world, role):
    client = _signed_in(app, _email(world, role))
    token = csrf_token(client, "/dashboard/")
    sides = [world["b"], world["a"]] if role == "nobranch" else [world["b"]]
    checked = 0
    for rule in _object_rules(app):
        for ids in sides:
            url = _url(rule, ids)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                data = {"csrf_token": token} if method != "GET" else None
                response = client.open(url, method=method, data=data)
                response.close()
                assert response.status_code == _refusal(app, rule, role), (role, method, url, response.status_code)
                checked += 1
    assert checked >= 30
    assert client.get("/dashboard/").status_code == 200  # nothing locked or broken


def _expected_own(app, role) -> set[str]:
    expected = set()
    for rule in _object_rules(app):
        if "GET" in rule.methods and role in _roles(app, rule) and set(rule.arguments) <= VISIBLE_OWN[role]:
            expected.add(rule.endpoint)
    return expected


@pytest.mark.parametrize("role", ROLES)
def test_own_objects_open_exactly_where_roles_and_scope_allow(app, world, role):
    client = _signed_in(app, world["a"]["emails"][role])
    expected = _expected_own(app, role)
    opened, refused = set(), {}
    for rule in _object_rules(app):
        if "GET" not in rule.methods:
            continue
        response = client.get(_url(rule, world["a"]))
        response.close()  # downloads stream a file
        if response.status_code == 200:
            opened.add(rule.endpoint)
        else:
            refused[rule.endpoint] = response.status_code
    assert opened == expected, (role, sorted(opened ^ expected))
    for endpoint, status in refused.items():
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        assert status == _refusal(app, rule, role), (role, endpoint, status)
    # The derivation is not empty: each role opens its own student profile and its own documents.
    assert {"students.view", "documents.download"} <= expected


def test_document_download_is_the_owners_and_not_a_foreigners(app, world):
    """The files exist, so the 404 for a foreigner is the scope check, not a missing file."""
    doc = world["a"]["document_id"]
    for role in ROLES:  # owner, their instructor, their branch's staff, admin
        response = _signed_in(app, world["a"]["emails"][role]).get(f"/documents/{doc}/download")
        assert response.status_code == 200, role
        assert response.data == PDF
        response.close()
    for email in [*world["b"]["emails"].values(), world["nobranch"]]:
        assert _signed_in(app, email).get(f"/documents/{doc}/download").status_code == 404, email


NEW_FORMS = {
    "/students/new": ("students", lambda n, branch: {
        "first_name": "New", "last_name": f"Student{n}", "email": f"new.student{n}@example.com",
        "phone": "0400 000 000", "branch_id": branch, "license_status": "Learner"}),
    "/instructors/new": ("instructors", lambda n, branch: {
        "first_name": "New", "last_name": f"Instructor{n}", "email": f"new.instructor{n}@example.com",
        "branch_id": branch}),
    "/fleet/new": ("vehicles", lambda n, branch: {
        "name": f"New car {n}", "plate_number": f"NEW-{n:03d}", "branch_id": branch, "status": "available",
        "transmission": ""}),
}


def _count(app, table):
    with app.app_context():
        return get_db().fetch_value(f"SELECT COUNT(*) FROM {table}")


@pytest.mark.parametrize("role", ["staff", "nobranch"])
def test_new_records_in_a_foreign_branch_are_refused_and_write_nothing(app, world, role):
    client = _signed_in(app, _email(world, role))
    token = csrf_token(client, "/dashboard/")
    foreign = [world["b"]["branch_id"]] + ([world["a"]["branch_id"]] if role == "nobranch" else [])
    for n, (path, (table, payload)) in enumerate(NEW_FORMS.items()):
        for branch in foreign:
            before = _count(app, table)
            response = client.post(path, data={**payload(n, branch), "csrf_token": token})
            assert 400 <= response.status_code < 500, (role, path, branch, response.status_code)
            assert _count(app, table) == before, (role, path, "a row was written")
        if role == "staff":  # control: the same payload in the own branch is accepted
            before = _count(app, table)
            response = client.post(path, data={**payload(n + 10, world["a"]["branch_id"]), "csrf_token": token})
            assert response.status_code in REDIRECT, (path, response.status_code)
            assert _count(app, table) == before + 1


def _index_rules(app):
    return [r for r in app.url_map.iter_rules()
            if not r.arguments and "GET" in r.methods and r.endpoint.endswith(".index")
            and r.endpoint != "dashboard.index"]


@pytest.mark.parametrize("role", ["staff", "instructor", "student", "nobranch"])
def test_list_pages_never_show_foreign_rows_even_when_filtered_by_a_foreign_branch(app, world, role):
    client = _signed_in(app, _email(world, role))
    foreign = world["b"]["markers"] + (world["a"]["markers"] if role == "nobranch" else [])
    branches = [world["b"]["branch_id"], world["a"]["branch_id"]]
    declared_role = "staff" if role == "nobranch" else role
    checked = 0
    for rule in _index_rules(app):
        for query in ["", *(f"?branch={b}" for b in branches), f"?branch={branches[0]}&status=&q=Zz"]:
            response = client.get(rule.rule + query)
            if declared_role not in _roles(app, rule):
                assert response.status_code == 403, (role, rule.rule)
                continue
            assert response.status_code == 200, (role, rule.rule + query, response.status_code)
            html = response.get_data(as_text=True)
            markers = foreign
            if rule.endpoint == "courses.index":  # school-wide catalogue: allocated instructors are listed by design
                markers = [m for m in foreign if "instructor" not in m.lower()]
            assert not _leaks(html, markers), (role, rule.rule + query, _leaks(html, markers))
            checked += 1
    if declared_role in ("staff", "instructor"):
        assert checked > 0


def test_own_rows_are_listed_for_staff(app, world):
    """The list checks above are not passing on empty pages: A's staff sees A's rows."""
    client = _signed_in(app, world["a"]["emails"]["staff"])
    for path, marker in (("/students/", "ZzstudentA"), ("/instructors/", "ZzinstructorA"), ("/fleet/", "ZzcarA"),
                         ("/branches/", "ZzbranchA")):
        html = client.get(f"{path}?branch={world['a']['branch_id']}").get_data(as_text=True)
        assert marker in html, path


def _allocations(app, course_id):
    with app.app_context():
        rows = get_db().fetch_all("SELECT instructor_id FROM course_instructor WHERE course_id = :c", {"c": course_id})
    return {r["instructor_id"] for r in rows}


COURSE = {"title": "Shared course", "price": "880.00", "lesson_count": "10", "status": "active"}


@pytest.mark.parametrize("role", ["staff", "nobranch"])
def test_courses_are_shared_but_foreign_instructors_cannot_be_allocated(app, world, role):
    client = _signed_in(app, _email(world, role))
    token = csrf_token(client, "/dashboard/")
    course = world["shared_course"]
    own, foreign = world["a"]["instructor_id"], world["b"]["instructor_id"]
    for path in ("/courses/", f"/courses/{course}", f"/courses/{course}/edit", "/courses/new"):
        response = client.get(path)
        assert response.status_code == 200, path  # the catalogue is school-wide
        html = response.get_data(as_text=True)
        assert not _leaks(html, [m for m in world["b"]["markers"] + world["a"]["markers"]
                                 if "student" in m.lower() or "car" in m.lower()]), path
    refused = [foreign] + ([own] if role == "nobranch" else [])
    for instructor in refused:
        response = client.post(f"/courses/{course}/edit",
                               data={**COURSE, "instructor_ids": [instructor], "csrf_token": token})
        assert response.status_code == 422, (role, instructor, response.status_code)
        assert _allocations(app, course) == {foreign}
        before = _count(app, "courses")
        response = client.post("/courses/new", data={**COURSE, "title": "Sneaky", "instructor_ids": [instructor],
                                                     "csrf_token": token})
        assert response.status_code == 422, (role, instructor, response.status_code)
        assert _count(app, "courses") == before
    if role == "staff":  # own instructor allowed; B's allocation is left as it was
        response = client.post(f"/courses/{course}/edit",
                               data={**COURSE, "instructor_ids": [own], "csrf_token": token})
        assert response.status_code in REDIRECT, response.status_code
        assert _allocations(app, course) == {own, foreign}
        response = client.post(f"/courses/{course}/edit", data={**COURSE, "csrf_token": token})  # untick own
        assert response.status_code in REDIRECT
        assert _allocations(app, course) == {foreign}


@pytest.mark.parametrize("role", ["instructor", "student"])
def test_course_routes_are_refused_outside_the_office(app, world, role):
    client = _signed_in(app, world["a"]["emails"][role])
    token = csrf_token(client, "/dashboard/")
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("courses."):
            continue
        url = _url(rule, {**world["a"], "course_id": world["shared_course"]})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"csrf_token": token} if method != "GET" else None)
            assert response.status_code == 403, (role, method, url, response.status_code)


@pytest.mark.parametrize("role", ["staff", "instructor", "student"])
def test_dashboard_shows_no_foreign_names(app, world, role):
    response = _signed_in(app, world["a"]["emails"][role]).get("/dashboard/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert not _leaks(html, world["b"]["markers"]), (role, _leaks(html, world["b"]["markers"]))
    assert "ZzstudentA" in html or role == "student"  # own data is shown (the upcoming lesson)
    assert NO_BRANCH_NOTICE not in html


def test_branchless_staff_dashboard_shows_no_branch_data_and_says_why(app, world):
    response = _signed_in(app, world["nobranch"]).get("/dashboard/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    everything = world["a"]["markers"] + world["b"]["markers"]
    assert not _leaks(html, everything), _leaks(html, everything)
    kpis = [v.strip() for v in re.findall(r'class="kpi-value">([^<]*)<', html)]
    assert all(re.fullmatch(r"0( / 0)?", v) for v in kpis), kpis  # no counts of any branch
    assert NO_BRANCH_NOTICE in html
