"""The broadcast pages (blueprints/communications.py), on SQLite: the preview GET shows the audience's
count and first names, the send answers 303 to the detail page and writes the rows (nothing dispatched in
the request), bad input is 422 naming the field with the typed message kept, an audience of nobody is 422,
another branch's staff get 404, instructors and students 403, and the POST needs its CSRF token."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re

import pytest

from app.core import passwords
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login


@pytest.fixture
def backend():
    """These pages' SQL is the DAO's (tests/communication_test.py runs it on both databases)."""
    return "sqlite"


def _user(db, role, branch, email, first="Pat", last="Lee"):
    return f.make_user(db, role=role, branch_id=branch, email=email, first_name=first, last_name=last,
                       password_hash=passwords.hash_password(DEMO_PASSWORD))


@pytest.fixture
def world(app):
    with app.app_context():
        db = get_db()
        branch, other = f.make_branch(db, name="Bayside"), f.make_branch(db, name="Northside")
        jack = _user(db, "student", branch, "jack@x.com", "Jack", "Mason")
        f.make_student(db, user_id=jack, branch_id=branch)
        f.make_student(db, user_id=_user(db, "student", branch, "mia@x.com", "Mia", "Chen"), branch_id=branch)
        f.make_student(db, user_id=_user(db, "student", other, "zed@x.com", "Zzforeign", "Student"), branch_id=other)
        staff = _user(db, "staff", branch, "staff@x.com", "Sam", "Desk")
        db.insert("staff_profiles", {"user_id": staff, "branch_id": branch, "position_title": "Desk"})
        _user(db, "staff", other, "other.staff@x.com")
        _user(db, "admin", None, "admin@x.com")
        _user(db, "instructor", branch, "raj@x.com")
    return {"branch": branch, "other": other, "jack": jack}


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    return client


def _count(app, table):
    with app.app_context():
        return get_db().fetch_value(f"SELECT COUNT(*) FROM {table}")


def _send(client, **data):
    token = csrf_token(client, "/communications/new")
    payload = {"segment": "role", "segment_value": "student", "channel": "sms", "subject": "", "message": "Hello there",
               **data, "csrf_token": token}
    return client.post("/communications/new", data=payload)


def test_preview_shows_the_count_and_first_names_then_send_queues_and_lists_it(app, world):
    client = _client(app, "staff@x.com")
    html = client.get("/communications/new?segment=role&segment_value=student&channel=sms").get_data(as_text=True)
    assert 'data-preview-count="2"' in html and "Jack Mason" in html and "Mia Chen" in html
    assert "Zzforeign" not in html  # another branch's student
    assert re.search(r'<input[^>]*name="segment_value"[^>]*type="hidden"[^>]*value="student"', html)
    assert 'data-preview-count="2"' in client.get("/communications/new?audience=role:student").get_data(as_text=True)
    bare = client.get("/communications/new").get_data(as_text=True)  # nothing asked yet: nobody is counted
    assert "data-preview-count" not in bare and "Choose an audience that reaches someone and preview it" in bare
    assert 'data-preview-count="' in client.get("/communications/new?segment=everyone").get_data(as_text=True)

    response = _send(client, subject="Road closure", message="The Bayside office is closed on Friday.")
    assert response.status_code == 303
    location = response.headers["Location"]
    cid = int(re.search(r"/communications/(\d+)$", location).group(1))
    assert _count(app, "communication_recipients") == 2
    with app.app_context():
        rows = get_db().fetch_all("SELECT status, channel FROM reminders WHERE related_id = :c", {"c": cid})
    assert [(r["status"], r["channel"]) for r in rows] == [("pending", "sms")] * 2  # queued, not dispatched

    detail = client.get(location).get_data(as_text=True)
    assert "The Bayside office is closed on Friday." in detail and "Jack Mason" in detail
    assert 'data-delivery="pending"' in detail
    history = client.get("/communications/").get_data(as_text=True)
    assert "Road closure" in history and 'data-recipients="2"' in history and "Sam Desk" in history


@pytest.mark.parametrize("change, field", [
    ({"message": "Hi"}, "message"), ({"channel": "fax"}, "channel"), ({"segment": "planet"}, "segment"),
    ({"segment_value": "owner"}, "segment_value"),
])
def test_bad_input_is_422_naming_the_field_and_keeps_the_message(app, world, change, field):
    client = _client(app, "staff@x.com")
    data = {"message": "Keep this text", **change}
    response = _send(client, **data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert data["message"] in html  # what was typed is still there
    assert {"message": "at least 5", "channel": "channel", "segment": "who the message goes to",
            "segment_value": "role from the list"}[field] in html
    assert _count(app, "communications") == 0


def test_an_audience_of_nobody_is_422_and_a_bad_preview_names_the_problem(app, world):
    client = _client(app, "staff@x.com")
    for query, text in (("segment=course&segment_value=abc", "Choose a course from the list"),
                        ("audience=role:student&channel=fax", "Choose the channel")):
        response = client.get(f"/communications/new?{query}")
        assert response.status_code == 422 and text in response.get_data(as_text=True), query
    assert "Nobody is in this audience" in client.get("/communications/new?audience=role:admin").get_data(as_text=True)
    response = _send(client, segment="role", segment_value="admin", message="To nobody at all")
    assert response.status_code == 422 and "reaches nobody" in response.get_data(as_text=True)
    assert _count(app, "communications") == 0


def test_scope_roles_and_csrf(app, world):
    admin = _client(app, "admin@x.com")
    response = _send(admin, segment="branch", segment_value=str(world["other"]), message="Northside only")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert admin.get(location).status_code == 200
    assert _client(app, "staff@x.com").get(location).status_code == 404  # another branch's broadcast
    assert "Northside only" not in _client(app, "staff@x.com").get("/communications/").get_data(as_text=True)
    assert _client(app, "other.staff@x.com").get(location).status_code == 200
    for email in ("raj@x.com", "jack@x.com"):
        client = _client(app, email)
        for path in ("/communications/", "/communications/new", location):
            assert client.get(path).status_code == 403, (email, path)
    staff = _client(app, "staff@x.com")
    before = _count(app, "communications")
    response = staff.post("/communications/new", data={"segment": "everyone", "channel": "in-app",
                                                       "message": "No token here"})
    assert response.status_code in (400, 403) and _count(app, "communications") == before
