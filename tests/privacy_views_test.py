"""The privacy pages (blueprints/privacy.py) on SQLite (the SQL is PrivacyDAO's, tested on both databases in
tests/privacy_test.py): a student finds "Your data" in the navigation, downloads their own data as a JSON
attachment (no-store, audited) and opens a printable copy; other roles get 403 and visitors the sign-in
page. The office anonymises a former student from the profile: the confirm page names the rules that
refuse an active one (and the POST is a 409 that writes nothing), a missing reason is a 422, success is a
303 to the profile with a flash and the file deleted, a second request is a 409; another branch's staff get
404 and students 403."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
from datetime import date
from pathlib import Path

import pytest

from app.core import clock, passwords
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

PDF = b"%PDF-1.4\n% privacy views\n"


@pytest.fixture
def backend():
    return "sqlite"


@pytest.fixture
def world(app):
    upload_dir = Path(app.config["UPLOAD_DIR"])
    upload_dir.mkdir(parents=True, exist_ok=True)
    hashed = passwords.hash_password(DEMO_PASSWORD)
    with app.app_context():
        db = get_db()
        branch, other_branch = f.make_branch(db, name="Zzbranch"), f.make_branch(db, name="Otherbranch")
        users = {}
        for role, email, at in (("student", "jack@x.com", branch), ("staff", "staff@x.com", branch),
                                ("instructor", "raj@x.com", branch), ("admin", "admin@x.com", None),
                                ("foreign", "far@x.com", other_branch)):
            users[role] = f.make_user(db, role="staff" if role == "foreign" else role, branch_id=at, email=email,
                                      first_name="Pat", last_name=role.capitalize(), password_hash=hashed)
        jack = f.make_student(db, user_id=users["student"], branch_id=branch, license_number="LICJACK1",
                              address_line="9 Jack Lane")
        enrolment = f.make_enrollment(db, student_id=jack)
        f.make_schedule(db, enrollment_id=enrolment, instructor_id=f.make_instructor(db, branch_id=branch),
                        branch_id=branch, scheduled_date=date(2026, 1, 5), status="completed", lesson_topic="Zztopic")
        invoice = f.make_invoice(db, enrollment_id=enrolment, invoice_number="INV-JACK")
        f.make_payment(db, invoice, "968.00")
        former_user = f.make_user(db, role="student", branch_id=branch, status="archived", first_name="Zzformer",
                                  last_name="Person", email="former@x.com", phone="0400 555 666")
        former = f.make_student(db, user_id=former_user, branch_id=branch, license_number="LICFORMER")
        stored = "f" * 32 + ".pdf"
        (upload_dir / stored).write_bytes(PDF)
        db.insert("documents", {"user_id": former_user, "file_name": "licence.pdf", "file_path": stored,
                                "mime_type": "application/pdf", "file_size": len(PDF), "category": "licence",
                                "created_at": clock.now()})
        other = f.make_student(db, user_id=f.make_user(db, role="student", branch_id=branch, email="mia@x.com",
                                                        first_name="Zzmia"), branch_id=branch)
    return {"jack": jack, "former": former, "former_user": former_user, "other": other, "file": upload_dir / stored,
            "users": users}


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    return client


def _audits(app, action):
    with app.app_context():
        return get_db().fetch_value("SELECT COUNT(*) FROM audit_trail WHERE action = :a", {"a": action})


def test_a_student_downloads_their_own_data_as_json_and_a_printable_copy(app, world):
    client = _client(app, "jack@x.com")
    nav = client.get("/dashboard/").get_data(as_text=True)
    assert 'href="/my/data"' in nav and "Your data" in nav
    page = client.get("/my/data")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'href="/my/data.json"' in html and 'href="/my/data.html"' in html
    assert "<strong>1</strong> lesson" in html and "What is not in it" in html
    assert _audits(app, "personal_data_exported") == 0  # the page itself is not a download

    response = client.get("/my/data.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="my-data-')
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["email"] == "jack@x.com" and data["profile"]["license_number"] == "LICJACK1"
    assert [i["invoice_number"] for i in data["invoices"]] == ["INV-JACK"]
    assert [l["lesson_topic"] for l in data["lessons"]] == ["Zztopic"]
    assert "Zzmia" not in response.get_data(as_text=True) and "Zzformer" not in response.get_data(as_text=True)

    copy = client.get("/my/data.html")
    text = copy.get_data(as_text=True)
    assert copy.status_code == 200 and "no-store" in copy.headers["Cache-Control"]
    assert "9 Jack Lane" in text and "INV-JACK" in text and "Zztopic" in text and "data-print" in text
    assert "Zzmia" not in text
    assert _audits(app, "personal_data_exported") == 2
    assert client.get("/my/data.json?student_id=%d" % world["other"]).get_data(as_text=True).count("Zzmia") == 0


@pytest.mark.parametrize("email", ["staff@x.com", "raj@x.com", "admin@x.com"])
def test_the_download_is_for_students_only(app, world, email):
    client = _client(app, email)
    for path in ("/my/data", "/my/data.json", "/my/data.html"):
        assert client.get(path).status_code == 403, path
    anonymous = app.test_client().get("/my/data.json")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]


def test_the_office_anonymises_a_former_student_from_the_profile(app, world):
    client = _client(app, "staff@x.com")
    former = world["former"]
    profile = client.get(f"/students/{former}").get_data(as_text=True)
    assert f'href="/students/{former}/anonymise"' in profile
    page = client.get(f"/students/{former}/anonymise").get_data(as_text=True)
    assert 'id="anonymise-form"' in page and "Kept (without the name)" in page
    token = csrf_token(client, f"/students/{former}/anonymise")

    missing = client.post(f"/students/{former}/anonymise", data={"csrf_token": token, "reason": "  "})
    assert missing.status_code == 422 and "Give the reason" in missing.get_data(as_text=True)
    no_token = client.post(f"/students/{former}/anonymise", data={"reason": "Asked"})
    assert no_token.status_code in (400, 403)
    assert _audits(app, "student_anonymised") == 0 and world["file"].exists()

    done = client.post(f"/students/{former}/anonymise", data={"csrf_token": token, "reason": "E-mail of 1 Dec"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/students/{former}")
    profile = client.get(f"/students/{former}").get_data(as_text=True)
    assert "The student was anonymised" in profile and "1 document file deleted" in profile
    assert "Former student" in profile and "Zzformer" not in profile and "former@x.com" not in profile
    assert 'data-status="anonymised"' in profile and f"/students/{former}/restore" not in profile
    assert f'href="/students/{former}/anonymise"' not in profile
    assert not world["file"].exists() and _audits(app, "student_anonymised") == 1

    again = client.post(f"/students/{former}/anonymise", data={"csrf_token": token, "reason": "Again"})
    assert again.status_code == 409 and "already anonymised" in again.get_data(as_text=True)
    assert _audits(app, "student_anonymised") == 1

    # The record stays for the books, but it is no longer anybody's account: no restore, no edit.
    restore = client.post(f"/students/{former}/restore", data={"csrf_token": token})
    assert restore.status_code == 409 and "anonymised on request" in restore.get_data(as_text=True)
    edit = client.post(f"/students/{former}/edit", data={"csrf_token": token, "first_name": "Zzformer",
                                                          "last_name": "Back", "phone": "0400 000 000"})
    assert edit.status_code == 409 and "Zzformer" not in client.get(f"/students/{former}").get_data(as_text=True)


def test_an_active_student_is_refused_with_the_rule_and_nothing_is_written(app, world):
    client = _client(app, "staff@x.com")
    jack = world["jack"]
    page = client.get(f"/students/{jack}/anonymise")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "cannot be anonymised yet" in html and 'id="anonymise-form"' not in html
    assert "this account is active. Archive it first." in html
    assert f'href="/students/{jack}/anonymise"' not in client.get(f"/students/{jack}").get_data(as_text=True)
    token = csrf_token(client, f"/students/{jack}/anonymise")
    refused = client.post(f"/students/{jack}/anonymise", data={"csrf_token": token, "reason": "Asked"})
    assert refused.status_code == 409 and "Only a former student can be anonymised" in refused.get_data(as_text=True)
    assert _audits(app, "student_anonymised") == 0
    with app.app_context():
        assert get_db().fetch_value("SELECT email FROM users WHERE id = :u", {"u": world["users"]["student"]}) == \
            "jack@x.com"


def test_anonymise_is_the_offices_in_its_own_branch(app, world):
    former = world["former"]
    foreign = _client(app, "far@x.com")
    token = csrf_token(foreign, "/dashboard/")
    assert foreign.get(f"/students/{former}/anonymise").status_code == 404
    assert foreign.post(f"/students/{former}/anonymise", data={"csrf_token": token, "reason": "x"}).status_code == 404
    for email in ("jack@x.com", "raj@x.com"):
        client = _client(app, email)
        assert client.get(f"/students/{former}/anonymise").status_code == 403, email
    assert _audits(app, "student_anonymised") == 0 and world["file"].exists()
    admin = _client(app, "admin@x.com")
    assert admin.get(f"/students/{former}/anonymise").status_code == 200
