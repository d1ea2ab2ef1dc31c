"""Student pages through the web (both backends, demo data): each role's access and scope, the list
(search, filters, no foreign rows, bounded queries), registration, edits, archive/restore,
activation links, notes, and the profile page's sections and query count."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from app.core import clock
from app.core.database import count_queries
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import csrf_token, login, post_form, session_contents

ADMIN = "admin@origin.com"
STAFF_CBD = "operations@origin.com"       # CBD: Mia, Lucas
STAFF_BAYSIDE = "priya.raman@origin.com"  # Bayside: Jack, Noah
AMELIA = "amelia.ward@origin.com"         # teaches Jack (and has his pending request)
RAJ = "raj.patel@origin.com"              # teaches Mia
JACK = "jack.mason@student.com"
MIA = "mia.chen@student.com"


def _rows(app, sql, params=None):
    with app.app_context():
        return get_db().fetch_all(sql, params or {})


def _value(app, sql, params=None):
    with app.app_context():
        return get_db().fetch_value(sql, params or {})


def _student_ids(app) -> dict[str, int]:
    rows = _rows(app, "SELECT s.id, u.email FROM students s JOIN users u ON u.id = s.user_id")
    return {r["email"]: r["id"] for r in rows}


def _branch(app, name) -> int:
    return _value(app, "SELECT id FROM branches WHERE name = :n", {"n": name})


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _listed(html) -> set[int]:
    return {int(i) for i in re.findall(r'data-student-id="(\d+)"', html)}


def _count(app, table, where="1 = 1", params=None) -> int:
    return int(_value(app, f"SELECT COUNT(*) AS n FROM {table} WHERE {where}", params) or 0)


# --------------------------------------------------------------------------- list

def test_list_shows_each_role_only_its_students(seeded):
    ids = _student_ids(seeded)
    expected = {
        ADMIN: set(ids.values()),
        STAFF_CBD: {ids[MIA], ids["lucas.rossi@student.com"]},
        STAFF_BAYSIDE: {ids[JACK], ids["noah.williams@student.com"]},
        AMELIA: {ids[JACK], ids["noah.williams@student.com"]},  # Noah's mock test is hers (his own branch)
        RAJ: {ids[MIA]},
    }
    for email, wanted in expected.items():
        response = _client(seeded, email).get("/students/")
        assert response.status_code == 200, email
        html = response.get_data(as_text=True)
        assert _listed(html) == wanted, email
        foreign = set(ids.values()) - wanted
        for student_id in foreign:
            assert f"/students/{student_id}\"" not in html, (email, student_id)
    assert _client(seeded, JACK).get("/students/").status_code == 403


def test_list_search_filters_and_sort(seeded):
    ids = _student_ids(seeded)
    admin = _client(seeded, ADMIN)
    assert _listed(admin.get("/students/?q=mason").get_data(as_text=True)) == {ids[JACK]}
    # across every branch the search matches the start of a name, e-mail or phone (issue 13, lists2);
    # within a branch anywhere in those and in the licence number
    home = {email: _value(seeded, "SELECT s.branch_id FROM students s JOIN users u ON u.id = s.user_id"
                                  " WHERE u.email = :e", {"e": email}) for email in (MIA, "noah.williams@student.com")}
    assert _listed(admin.get(f"/students/?q=0401+222&branch={home[MIA]}").get_data(as_text=True)) == {ids[MIA]}
    assert _listed(admin.get("/students/?q=P1998877").get_data(as_text=True)) == set()
    assert _listed(admin.get(f"/students/?q=P1998877&branch={home['noah.williams@student.com']}").get_data(
        as_text=True)) == {ids["noah.williams@student.com"]}
    assert _listed(admin.get("/students/?q=zara.ahmed@").get_data(as_text=True)) == {ids["zara.ahmed@student.com"]}
    cbd = _branch(seeded, "CBD Headquarters")
    assert _listed(admin.get(f"/students/?branch={cbd}").get_data(as_text=True)) == {
        ids[MIA], ids["lucas.rossi@student.com"]}
    assert _listed(admin.get("/students/?license_status=Full").get_data(as_text=True)) == {
        ids["lucas.rossi@student.com"]}
    course = _value(seeded, "SELECT id FROM courses WHERE title = 'Test Day Intensive'")
    assert _listed(admin.get(f"/students/?course={course}").get_data(as_text=True)) == {
        ids["noah.williams@student.com"]}
    assert _listed(admin.get("/students/?status=archived").get_data(as_text=True)) == set()
    html = admin.get("/students/?sort=name&dir=desc").get_data(as_text=True)
    order = [int(i) for i in re.findall(r'data-student-id="(\d+)"', html)]
    assert order == [ids[e] for e in ("noah.williams@student.com", "lucas.rossi@student.com", JACK, MIA,
                                      "zara.ahmed@student.com")]
    for junk in ("?sort=evil;drop", "?page=-1", "?per_page=100000", "?branch=abc", "?course=1%20OR%201=1",
                 "?branch=" + "9" * 40, "?course=" + "9" * 40, "?page=" + "9" * 40,
                 "?q=" + "x" * 500, "?license_status=%27"):
        assert admin.get("/students/" + junk).status_code == 200, junk


def test_instructor_search_works(seeded):
    ids = _student_ids(seeded)
    response = _client(seeded, AMELIA).get("/students/?q=jack")
    assert response.status_code == 200 and _listed(response.get_data(as_text=True)) == {ids[JACK]}
    assert _listed(_client(seeded, AMELIA).get("/students/?q=mia").get_data(as_text=True)) == set()


def _make_students(app, n, branch):
    with app.app_context():
        db = get_db()
        course = f.make_course(db)
        for _ in range(n):
            student = f.make_student(db, branch_id=branch)
            f.make_enrollment(db, student_id=student, course_id=course)


def test_list_query_count_does_not_grow_with_rows(seeded):
    branch = _branch(seeded, "Northern Suburbs Centre")
    admin = _client(seeded, ADMIN)
    admin.get("/students/")  # warm up (session touch)
    _make_students(seeded, 3, branch)
    with count_queries() as few:
        assert admin.get("/students/?per_page=100").status_code == 200
    _make_students(seeded, 27, branch)
    with count_queries() as many:
        response = admin.get("/students/?per_page=100")
    assert response.status_code == 200 and len(_listed(response.get_data(as_text=True))) == 35
    assert many.count == few.count, (few.statements, many.statements)


# --------------------------------------------------------------------------- profile and scope

@pytest.mark.parametrize("viewer,target,status", [
    (ADMIN, JACK, 200), (ADMIN, MIA, 200),
    (STAFF_BAYSIDE, JACK, 200), (STAFF_CBD, JACK, 404),
    (AMELIA, JACK, 200), (AMELIA, MIA, 404), (RAJ, MIA, 200), (RAJ, JACK, 404),
    (JACK, JACK, 200), (JACK, MIA, 404),
])
def test_profile_scope(seeded, viewer, target, status):
    ids = _student_ids(seeded)
    assert _client(seeded, viewer).get(f"/students/{ids[target]}").status_code == status


def test_unknown_student_is_404_for_everyone(seeded):
    for email in (ADMIN, STAFF_CBD, AMELIA, JACK):
        client = _client(seeded, email)
        assert client.get("/students/999999").status_code == 404
        assert client.get("/students/0").status_code == 404
        assert client.get("/students/" + "9" * 30).status_code == 404  # beyond any id (and SQLite's integers)


def test_profile_sections_for_the_office(seeded):
    ids = _student_ids(seeded)
    html = _client(seeded, STAFF_BAYSIDE).get(f"/students/{ids[JACK]}").get_data(as_text=True)
    for text in ("L1234567", "Sarah Mason", "12 Marine Parade", "Enrolled and first lesson scheduled.",
                 "Learner Essentials Package", "Parking techniques", "Urban driving fundamentals", "4 / 5",
                 "$568.00", "strong mirror skills", "Learner_Permit.pdf", "Autumn Coaching Clinics",
                 "Student registered", 'id="timeline"', f"/students/{ids[JACK]}/edit", "Archive"):
        assert text in html, text
    assert 'enctype="multipart/form-data"' in html
    assert "New activation link" not in html  # Jack already has a password


def test_student_sees_own_profile_without_internal_notes(seeded):
    ids = _student_ids(seeded)
    client = _client(seeded, JACK)
    html = client.get(f"/students/{ids[JACK]}").get_data(as_text=True)
    assert "L1234567" in html and "$568.00" in html and "Learner_Permit.pdf" in html
    assert "strong mirror skills" not in html and 'id="notes"' not in html
    assert "/edit" not in html and "archive" not in html.lower().replace("archived", "")
    assert 'enctype="multipart/form-data"' in html  # students may upload their own documents
    assert "Student registered" not in html  # audit rows are for the office
    me = client.get("/students/me")
    assert me.status_code == 302 and me.headers["Location"].endswith(f"/students/{ids[JACK]}")


def test_instructor_sees_their_student_read_only_with_notes(seeded):
    ids = _student_ids(seeded)
    client = _client(seeded, AMELIA)
    html = client.get(f"/students/{ids[JACK]}").get_data(as_text=True)
    assert "strong mirror skills" in html and "Add note" in html
    assert "/edit" not in html and "$568.00" not in html and 'enctype="multipart/form-data"' not in html
    assert client.get(f"/students/{ids[JACK]}/edit").status_code == 403
    assert post_form(client, f"/students/{ids[JACK]}/archive").status_code == 403


def test_profile_query_count_does_not_grow_with_history(seeded):
    branch = _branch(seeded, "Northern Suburbs Centre")
    with seeded.app_context():
        db = get_db()
        user = f.make_user(db, role="student", branch_id=branch)
        student = f.make_student(db, user_id=user, branch_id=branch)
        staff_user = _value(seeded, "SELECT id FROM users WHERE email = :e", {"e": ADMIN})

    def add_history(n):
        with seeded.app_context():
            db = get_db()
            today = clock.today()
            for i in range(n):
                enrolment = f.make_enrollment(db, student_id=student)
                f.make_schedule(db, enrollment_id=enrolment, scheduled_date=today - timedelta(days=i + 1),
                                status="completed", student_rating=7)
                f.make_schedule(db, enrollment_id=enrolment, scheduled_date=today + timedelta(days=i + 1))
                invoice = f.make_invoice(db, enrollment_id=enrolment)
                f.make_payment(db, invoice, "10.00")
                db.insert("notes", {"related_type": "student", "related_id": student, "author_user_id": staff_user,
                                    "content": f"note {i}", "created_at": clock.now()})
                db.insert("documents", {"user_id": user, "file_name": f"d{i}.pdf", "file_path": f"x{i}.pdf",
                                        "file_size": 10, "category": "other", "uploaded_by": staff_user,
                                        "created_at": clock.now()})
                comm = db.insert("communications", {"sender_user_id": staff_user, "audience_scope": "selected",
                                                    "channel": "email", "message": "hi", "created_at": clock.now()})
                db.insert("communication_recipients", {"communication_id": comm, "user_id": user})
                db.insert("audit_trail", {"user_id": staff_user, "action": "student_updated",
                                          "entity_type": "student", "entity_id": student,
                                          "created_at": clock.now()})

    admin = _client(seeded, ADMIN)
    admin.get(f"/students/{student}")
    add_history(3)
    with count_queries() as few:
        assert admin.get(f"/students/{student}").status_code == 200
    add_history(27)
    with count_queries() as many:
        response = admin.get(f"/students/{student}")
    assert response.status_code == 200 and response.get_data(as_text=True).count("data-note-id=") == 30
    assert many.count == few.count, (few.statements, many.statements)
    assert many.count <= 16 + 4 + 1  # + the navigation's count badges (Conflicts 2, Enrolment requests 1,
    #                                  Notifications 1) + the admin's "Reset second factor" check (1)


# --------------------------------------------------------------------------- register

def _register_data(**overrides):
    data = {"first_name": "Ella", "last_name": "Stone", "email": "Ella.Stone@Example.com", "phone": "0400 123 456",
            "license_number": "L5550001", "license_status": "Learner", "license_expiry": "2027-04-30",
            "emergency_contact_name": "Tom Stone", "emergency_contact_phone": "0400 999 000",
            "address_line": "1 Main St", "city": "Preston", "postcode": "3072", "progress_summary": ""}
    data.update(overrides)
    return data


def test_admin_registers_a_student_with_an_activation_link(seeded):
    north = _branch(seeded, "Northern Suburbs Centre")
    admin = _client(seeded, ADMIN)
    assert admin.get("/students/new").status_code == 200
    response = post_form(admin, "/students/new", _register_data(branch_id=str(north)), follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "/auth/activate/" in html and "Ella Stone" in html
    user = _rows(seeded, "SELECT id, role, branch_id, password_hash, phone FROM users WHERE email = :e",
                 {"e": "ella.stone@example.com"})[0]
    assert user["role"] == "student" and user["branch_id"] == north and user["password_hash"].startswith("!unset!")
    student = _rows(seeded, "SELECT id, branch_id, license_number, license_expiry, progress_summary FROM students"
                            " WHERE user_id = :u", {"u": user["id"]})[0]
    assert student["branch_id"] == north and student["license_number"] == "L5550001"
    assert str(student["license_expiry"]) == "2027-04-30" and student["progress_summary"] == "Not started yet."
    assert _count(seeded, "audit_trail", "action = 'student_created' AND entity_id = :id", {"id": student["id"]}) == 1
    assert _count(seeded, "account_tokens", "user_id = :u AND purpose = 'activation'", {"u": user["id"]}) == 1
    token = re.search(r"/auth/activate/([A-Za-z0-9_-]+)", html).group(1)
    assert seeded.test_client().get(f"/auth/activate/{token}").status_code == 200
    # the link is shown once
    assert "/auth/activate/" not in admin.get(f"/students/{student['id']}").get_data(as_text=True)
    # and may be re-issued while the account is not activated
    again = post_form(admin, f"/students/{student['id']}/activation", follow_redirects=True)
    assert again.status_code == 200 and "/auth/activate/" in again.get_data(as_text=True)
    assert seeded.test_client().get(f"/auth/activate/{token}").status_code == 404  # the old link stopped working


def test_staff_registers_only_in_their_own_branch(seeded):
    cbd, north = _branch(seeded, "CBD Headquarters"), _branch(seeded, "Northern Suburbs Centre")
    staff = _client(seeded, STAFF_CBD)
    form = staff.get("/students/new").get_data(as_text=True)
    assert "CBD Headquarters" in form and "Northern Suburbs Centre" not in form
    before = _count(seeded, "users")
    refused = post_form(staff, "/students/new", _register_data(branch_id=str(north)))
    assert refused.status_code == 422 and "branch" in refused.get_data(as_text=True).lower()
    assert _count(seeded, "users") == before
    ok = post_form(staff, "/students/new", _register_data(branch_id=str(cbd)))
    assert ok.status_code == 303
    assert _value(seeded, "SELECT s.branch_id FROM students s JOIN users u ON u.id = s.user_id"
                          " WHERE u.email = 'ella.stone@example.com'") == cbd


@pytest.mark.parametrize("changes,field", [
    ({"first_name": ""}, "first_name"),
    ({"email": "not-an-email"}, "email"),
    ({"phone": ""}, "phone"),
    ({"phone": "<script>"}, "phone"),
    ({"branch_id": ""}, "branch_id"),
    ({"branch_id": "999999"}, "branch_id"),
    ({"license_status": "Pilot"}, "license_status"),
    ({"license_expiry": "2026-02-30"}, "license_expiry"),
    ({"license_expiry": "0001-01-01"}, "license_expiry"),
    ({"first_name": "x" * 81}, "first_name"),
    ({"postcode": "1" * 13}, "postcode"),
    ({"progress_summary": "p" * 256}, "progress_summary"),
])
def test_register_validation_is_422_and_writes_nothing(seeded, changes, field):
    north = _branch(seeded, "Northern Suburbs Centre")
    admin = _client(seeded, ADMIN)
    before = (_count(seeded, "users"), _count(seeded, "students"), _count(seeded, "account_tokens"))
    response = post_form(admin, "/students/new", _register_data(**{"branch_id": str(north), **changes}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-feedback"' in html, field
    assert 'value="Stone"' in html  # typed values are kept
    assert (_count(seeded, "users"), _count(seeded, "students"), _count(seeded, "account_tokens")) == before


def test_duplicate_email_is_409_naming_the_field(seeded):
    north = _branch(seeded, "Northern Suburbs Centre")
    admin = _client(seeded, ADMIN)
    before = _count(seeded, "users")
    response = post_form(admin, "/students/new", _register_data(branch_id=str(north), email=" JACK.Mason@student.com "))
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and 'id="email-feedback"' in html and "already in use" in html
    assert _count(seeded, "users") == before


def test_register_is_office_only(seeded):
    for email in (AMELIA, JACK):
        client = _client(seeded, email)
        assert client.get("/students/new").status_code == 403
        assert post_form(client, "/students/new", _register_data()).status_code == 403


# --------------------------------------------------------------------------- edit

def _edit_data(app, student_id, **overrides):
    row = _rows(app, "SELECT u.first_name, u.last_name, u.phone, s.branch_id, s.license_number, s.license_status,"
                     " s.license_expiry, s.emergency_contact_name, s.emergency_contact_phone, s.address_line,"
                     " s.city, s.postcode, s.progress_summary FROM students s JOIN users u ON u.id = s.user_id"
                     " WHERE s.id = :id", {"id": student_id})[0]
    data = {k: ("" if v is None else str(v)) for k, v in row.items()}
    data.update(overrides)
    return data


def test_staff_edits_their_students_with_audit_before_after(seeded):
    ids = _student_ids(seeded)
    staff = _client(seeded, STAFF_BAYSIDE)
    form = staff.get(f"/students/{ids[JACK]}/edit")
    assert form.status_code == 200 and 'value="L1234567"' in form.get_data(as_text=True)
    data = _edit_data(seeded, ids[JACK], first_name="Jackson", license_status="P1", city="Elwood", phone="0411 000 111")
    response = post_form(staff, f"/students/{ids[JACK]}/edit", data)
    assert response.status_code == 302
    row = _rows(seeded, "SELECT u.first_name, u.phone, s.license_status, s.city FROM students s"
                        " JOIN users u ON u.id = s.user_id WHERE s.id = :id", {"id": ids[JACK]})[0]
    assert row == {"first_name": "Jackson", "phone": "0411 000 111", "license_status": "P1", "city": "Elwood"}
    entry = _rows(seeded, "SELECT before_json, after_json FROM audit_trail WHERE action = 'student_updated'"
                          " AND entity_id = :id", {"id": ids[JACK]})[0]
    assert '"first_name":"Jack"' in entry["before_json"] and '"first_name":"Jackson"' in entry["after_json"]
    assert '"license_status":"Learner"' in entry["before_json"]


def test_edit_scope_and_cross_branch_move(seeded):
    ids = _student_ids(seeded)
    cbd = _branch(seeded, "CBD Headquarters")
    other_staff = _client(seeded, STAFF_CBD)
    assert other_staff.get(f"/students/{ids[JACK]}/edit").status_code == 404
    assert post_form(other_staff, f"/students/{ids[JACK]}/edit", _edit_data(seeded, ids[JACK])).status_code == 404
    staff = _client(seeded, STAFF_BAYSIDE)
    moved = post_form(staff, f"/students/{ids[JACK]}/edit", _edit_data(seeded, ids[JACK], branch_id=str(cbd)))
    assert moved.status_code == 422 and 'id="branch_id-feedback"' in moved.get_data(as_text=True)
    assert _value(seeded, "SELECT branch_id FROM students WHERE id = :id", {"id": ids[JACK]}) != cbd
    # the admin may move a student; the account's branch follows
    admin = _client(seeded, ADMIN)
    assert post_form(admin, f"/students/{ids[JACK]}/edit",
                     _edit_data(seeded, ids[JACK], branch_id=str(cbd))).status_code == 302
    assert _value(seeded, "SELECT u.branch_id FROM students s JOIN users u ON u.id = s.user_id WHERE s.id = :id",
                  {"id": ids[JACK]}) == cbd
    assert staff.get(f"/students/{ids[JACK]}").status_code == 404  # now outside Priya's branch


def test_edit_validation_keeps_values_and_writes_nothing(seeded):
    ids = _student_ids(seeded)
    admin = _client(seeded, ADMIN)
    response = post_form(admin, f"/students/{ids[JACK]}/edit",
                         _edit_data(seeded, ids[JACK], last_name="", city="Typed City", license_expiry="2027-13-01"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="last_name-feedback"' in html and 'id="license_expiry-feedback"' in html
    assert 'value="Typed City"' in html
    assert _value(seeded, "SELECT city FROM students WHERE id = :id", {"id": ids[JACK]}) == "St Kilda"
    assert _count(seeded, "audit_trail", "action = 'student_updated'") == 0


def test_mass_assignment_fields_are_ignored(seeded):
    ids = _student_ids(seeded)
    admin = _client(seeded, ADMIN)
    data = _edit_data(seeded, ids[JACK], role="admin", email="evil@example.com", user_id="1", status="archived")
    assert post_form(admin, f"/students/{ids[JACK]}/edit", data).status_code == 302
    row = _rows(seeded, "SELECT u.role, u.email, u.status FROM students s JOIN users u ON u.id = s.user_id"
                        " WHERE s.id = :id", {"id": ids[JACK]})[0]
    assert row == {"role": "student", "email": JACK, "status": "active"}


# --------------------------------------------------------------------------- archive, restore, activation

def test_archive_ends_the_students_sessions_and_restore(seeded):
    ids = _student_ids(seeded)
    jack = _client(seeded, JACK)
    assert jack.get("/dashboard/").status_code == 200
    staff = _client(seeded, STAFF_BAYSIDE)
    assert post_form(staff, f"/students/{ids[JACK]}/archive").status_code == 303
    assert _value(seeded, "SELECT status FROM users WHERE email = :e", {"e": JACK}) == "archived"
    assert jack.get("/dashboard/").status_code == 302  # signed out at once
    assert _count(seeded, "audit_trail", "action = 'user_archived'") == 1
    again = post_form(staff, f"/students/{ids[JACK]}/archive")
    assert again.status_code == 422 and "already archived" in again.get_data(as_text=True)
    html = staff.get(f"/students/{ids[JACK]}").get_data(as_text=True)
    assert "Account archived" in html and "Restore" in html  # timeline and button
    assert _listed(staff.get("/students/?status=archived").get_data(as_text=True)) == {ids[JACK]}
    assert post_form(staff, f"/students/{ids[JACK]}/restore").status_code == 303
    assert _value(seeded, "SELECT status FROM users WHERE email = :e", {"e": JACK}) == "active"
    assert login(seeded.test_client(), JACK).status_code == 302


def test_account_actions_are_scoped(seeded):
    ids = _student_ids(seeded)
    other_staff = _client(seeded, STAFF_CBD)
    for action in ("archive", "restore", "activation"):
        assert post_form(other_staff, f"/students/{ids[JACK]}/{action}").status_code == 404
    assert _value(seeded, "SELECT status FROM users WHERE email = :e", {"e": JACK}) == "active"


def test_activation_link_is_not_reissued_for_an_activated_account(seeded):
    ids = _student_ids(seeded)
    admin = _client(seeded, ADMIN)
    response = post_form(admin, f"/students/{ids[JACK]}/activation")
    assert response.status_code == 422 and "already activated" in response.get_data(as_text=True)
    assert _count(seeded, "account_tokens") == 0


def test_get_requests_change_nothing(seeded):
    ids = _student_ids(seeded)
    admin = _client(seeded, ADMIN)
    tables = ("users", "students", "notes", "documents", "account_tokens")
    before = [_count(seeded, t) for t in tables]
    for path in ("/students/", f"/students/{ids[JACK]}", f"/students/{ids[JACK]}/edit", "/students/new"):
        assert admin.get(path).status_code == 200
    for path in (f"/students/{ids[JACK]}/archive", f"/students/{ids[JACK]}/notes", f"/students/{ids[JACK]}/activation"):
        assert admin.get(path).status_code == 405
    assert [_count(seeded, t) for t in tables] == before


# --------------------------------------------------------------------------- notes

def test_notes_by_office_and_instructor_newest_first(seeded):
    ids = _student_ids(seeded)
    staff = _client(seeded, STAFF_BAYSIDE)
    response = post_form(staff, f"/students/{ids[JACK]}/notes", {"content": "  Booked a mock test.  "})
    assert response.status_code == 303
    amelia = _client(seeded, AMELIA)
    assert post_form(amelia, f"/students/{ids[JACK]}/notes", {"content": "Great roundabouts."}).status_code == 303
    rows = _rows(seeded, "SELECT content, author_user_id FROM notes WHERE related_type = 'student'"
                         " AND related_id = :id ORDER BY id", {"id": ids[JACK]})
    assert [r["content"] for r in rows][-2:] == ["Booked a mock test.", "Great roundabouts."]
    assert _count(seeded, "audit_trail", "action = 'student_note_added' AND entity_id = :id", {"id": ids[JACK]}) == 2
    html = staff.get(f"/students/{ids[JACK]}").get_data(as_text=True)
    assert html.index("Great roundabouts.") < html.index("Booked a mock test.") < html.index("strong mirror skills")
    assert "Amelia Ward" in html


@pytest.mark.parametrize("content", ["", "   ", "x" * 5001])
def test_note_validation_is_422_and_writes_nothing(seeded, content):
    ids = _student_ids(seeded)
    staff = _client(seeded, STAFF_BAYSIDE)
    before = _count(seeded, "notes")
    response = post_form(staff, f"/students/{ids[JACK]}/notes", {"content": content})
    assert response.status_code == 422 and 'id="content-feedback"' in response.get_data(as_text=True)
    assert _count(seeded, "notes") == before


def test_notes_scope(seeded):
    ids = _student_ids(seeded)
    before = _count(seeded, "notes")
    assert post_form(_client(seeded, AMELIA), f"/students/{ids[MIA]}/notes", {"content": "x"}).status_code == 404
    assert post_form(_client(seeded, STAFF_CBD), f"/students/{ids[JACK]}/notes", {"content": "x"}).status_code == 404
    assert post_form(_client(seeded, JACK), f"/students/{ids[JACK]}/notes", {"content": "x"}).status_code == 403
    assert post_form(_client(seeded, AMELIA), "/students/999999/notes", {"content": "x"}).status_code == 404
    assert _count(seeded, "notes") == before


def test_post_without_csrf_is_refused(seeded):
    ids = _student_ids(seeded)
    admin = _client(seeded, ADMIN)
    assert admin.post(f"/students/{ids[JACK]}/notes", data={"content": "x"}).status_code == 403
    token = csrf_token(admin, "/dashboard/")
    assert admin.post(f"/students/{ids[JACK]}/notes", data={"content": "x", "csrf_token": token}).status_code == 303


# --------------------------------------------------------------------------- one-time activation links

LINK = re.compile(r"https?://[^/\s\"]+/auth/activate/([A-Za-z0-9_-]+)")




def test_registration_link_is_shown_once_on_the_profile_and_never_travels_in_the_cookie(seeded):
    bayside = _branch(seeded, "Bayside Training Hub")
    admin = _client(seeded, ADMIN)
    posted = post_form(admin, "/students/new", _register_data(branch_id=str(bayside)))
    assert posted.status_code == 303
    location = posted.headers["Location"]
    student_id = _value(seeded, "SELECT s.id FROM students s JOIN users u ON u.id = s.user_id WHERE u.email = :e",
                        {"e": "ella.stone@example.com"})
    assert urlsplit(location).path == f"/students/{student_id}" and "handoff=" in urlsplit(location).query
    page = admin.get(location)
    html = page.get_data(as_text=True)
    token = LINK.search(html).group(1)
    assert html.count(token) == 1  # exactly once, in the one-time panel
    assert "It was not e-mailed" in html and "One-time activation link for Ella" in html
    assert seeded.test_client().get(f"/auth/activate/{token}").status_code == 200  # the link works
    contents = session_contents(seeded, admin, posted, page)
    assert "registered" in contents  # the flash is there (so the decoding works) ...
    assert token not in contents and "/auth/activate/" not in contents  # ... but the link is not
    assert _count(seeded, "page_handoffs") == 0  # deleted when shown
    again = admin.get(location).get_data(as_text=True)  # a reload sees nothing
    assert LINK.search(again) is None and "This link was shown once" in again


def test_reissued_link_is_for_its_issuer_only(seeded):
    bayside = _branch(seeded, "Bayside Training Hub")
    admin = _client(seeded, ADMIN)
    post_form(admin, "/students/new", _register_data(branch_id=str(bayside)))
    student_id = _value(seeded, "SELECT s.id FROM students s JOIN users u ON u.id = s.user_id WHERE u.email = :e",
                        {"e": "ella.stone@example.com"})
    admin.get(f"/students/{student_id}")
    reissued = post_form(admin, f"/students/{student_id}/activation")
    assert reissued.status_code == 303 and "handoff=" in reissued.headers["Location"]
    # another signed-in user (in scope for this student) opening the same address gets nothing
    other = _client(seeded, STAFF_BAYSIDE)
    foreign = other.get(reissued.headers["Location"]).get_data(as_text=True)
    assert LINK.search(foreign) is None and "This link was shown once" in foreign
    page = admin.get(reissued.headers["Location"])  # ... and did not use it up for the issuer
    token = LINK.search(page.get_data(as_text=True)).group(1)
    assert "New activation link issued." in page.get_data(as_text=True)
    contents = session_contents(seeded, admin, reissued, page)
    assert token not in contents and "/auth/activate/" not in contents


# --------------------------------------------------------------------------- forms inside the profile

def test_a_failed_note_names_the_problem_and_leaves_the_sections_get_address(seeded):
    ids = _student_ids(seeded)
    staff = _client(seeded, STAFF_BAYSIDE)
    profile = staff.get(f"/students/{ids[JACK]}").get_data(as_text=True)
    assert f'action="/students/{ids[JACK]}/notes#notes" id="note-form"' in profile  # the action carries the anchor
    assert "data-location=" not in profile  # a plain GET leaves the address alone
    typed = "Parallel parking " * 300  # over 5000 characters
    response = post_form(staff, f"/students/{ids[JACK]}/notes", {"content": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'data-location="/students/{ids[JACK]}#notes"' in html and 'data-focus-form="note-form"' in html
    alert = re.search(r'<div class="alert alert-danger page-alert"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert "The note was not added: A note can be at most 5000 characters." in alert and 'href="#notes"' in alert
    assert re.search(r'<textarea[^>]*aria-invalid="true"[^>]*id="content"', html)
    assert typed.strip() in html  # what was typed is kept
    empty = post_form(staff, f"/students/{ids[JACK]}/notes", {"content": "  "}).get_data(as_text=True)
    assert "The note was not added: Write the note." in empty
    added = post_form(staff, f"/students/{ids[JACK]}/notes", {"content": "Booked"})
    assert added.status_code == 303 and added.headers["Location"].endswith(f"/students/{ids[JACK]}#notes")


def test_a_refused_button_action_shows_why_with_its_real_status(seeded):
    ids = _student_ids(seeded)
    admin = _client(seeded, ADMIN)
    response = post_form(admin, f"/students/{ids[JACK]}/restore")  # not archived: a rule, 422
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'data-location="/students/{ids[JACK]}"' in html
    assert re.search(r'class="alert alert-danger page-alert"[^>]*>\s*[^<]*not archived', html)
