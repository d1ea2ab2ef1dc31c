"""The profile page (blueprints/account.py, GET/POST /account/), on SQLite: every role opens it from the user
menu and sees their name and e-mail with the three channels (all allowed until they say otherwise) and the
note that transactional messages still arrive in-app; saving answers 303 back with a flash and stores exactly
the ticked channels (for the signed-in account only, audited); the POST needs its CSRF token."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re

import pytest

from app.core import passwords
from app.core.flask_db import get_db
from app.services import contact
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

ROLES = {"student": "jack@x.com", "instructor": "raj@x.com", "staff": "staff@x.com", "admin": "admin@x.com"}


@pytest.fixture
def backend():
    """The preferences' SQL is ContactPreferenceDAO's (tested on both databases with services.contact)."""
    return "sqlite"


@pytest.fixture
def world(app):
    with app.app_context():
        db = get_db()
        branch = f.make_branch(db)
        ids = {role: f.make_user(db, role=role, branch_id=None if role == "admin" else branch, email=email,
                                 first_name="Zzfirst", last_name=role.capitalize(), phone="0400 111 222",
                                 password_hash=passwords.hash_password(DEMO_PASSWORD))
               for role, email in ROLES.items()}
    return ids


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    return client


def _checked(html, name):
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
    return "checked" in tag


def _prefs(app, user_id):
    with app.app_context():
        return contact.preferences(get_db(), user_id)


def test_every_role_sees_the_profile_with_every_channel_allowed(app, world):
    for role, email in ROLES.items():
        client = _client(app, email)
        menu = client.get("/dashboard/").get_data(as_text=True)
        assert 'href="/account/"' in menu and "My account" in menu, role
        html = client.get("/account/").get_data(as_text=True)
        assert f"Zzfirst {role.capitalize()}" in html and email in html, role
        assert "How we may contact you about reminders and broadcasts" in html
        assert "still reach you in-app" in html
        assert all(_checked(html, name) for name in ("email", "sms", "in_app")), role


def test_saving_stores_the_ticked_channels_for_the_own_account_only(app, world):
    client = _client(app, "jack@x.com")
    token = csrf_token(client, "/account/")
    response = client.post("/account/", data={"csrf_token": token, "email": "y"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/")
    html = client.get("/account/").get_data(as_text=True)
    assert "Your contact preferences were saved." in html
    assert _checked(html, "email") and not _checked(html, "sms") and not _checked(html, "in_app")
    assert _prefs(app, world["student"]) == {"email": True, "sms": False, "in_app": False}
    assert _prefs(app, world["staff"]) == {"email": True, "sms": True, "in_app": True}  # nobody else's
    with app.app_context():
        assert get_db().fetch_value("SELECT COUNT(*) FROM audit_trail WHERE action = 'contact_preferences_changed'"
                                    " AND entity_id = :u", {"u": world["student"]}) == 1
    assert client.post("/account/", data={"csrf_token": token, "sms": "y", "in_app": "y"}).status_code == 303
    assert _prefs(app, world["student"]) == {"email": False, "sms": True, "in_app": True}


def test_the_save_needs_its_csrf_token(app, world):
    client = _client(app, "raj@x.com")
    assert client.post("/account/", data={"email": "y"}).status_code in (400, 403)
    assert _prefs(app, world["instructor"]) == {"email": True, "sms": True, "in_app": True}
    assert app.test_client().get("/account/").status_code == 302  # signed out: to the sign-in page
