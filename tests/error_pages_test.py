"""Error pages keep the shell (navigation, user menu with Sign out) for a known signed-in user, run no
query of their own, and offer a next step; an invalid activation link has its own page."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
from datetime import timedelta

import pytest

from app.core import clock
from app.core.database import count_queries
from app.core.flask_db import get_db
from app.dao.account_token import AccountTokenDAO
from app.services.auth import hash_token
from tests import factories as f
from tests.conftest import app_overrides, csrf_token, login

STAFF = "operations@origin.com"
SIGN_OUT_FORM = re.compile(r'<form method="post" action="/auth/logout">\s*<input type="hidden" name="csrf_token"')


def assert_full_shell(response, status: int) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[:500]
    assert f"Error {status}" in body
    assert response.headers["X-Request-ID"] in body
    assert 'id="mainNav"' in body and 'href="/students/"' in body  # the staff navigation
    assert "Operations" in body or "operations@origin.com" in body  # the user menu
    assert SIGN_OUT_FORM.search(body), "no sign-out form"
    assert 'href="/dashboard/"' in body and "Back to the dashboard" in body
    assert "error-header" not in body  # not the minimal header
    return body


def test_signed_in_404_keeps_navigation_and_sign_out(seeded, client):
    login(client, STAFF)
    assert_full_shell(client.get("/no/such/page"), 404)
    body = assert_full_shell(client.get("/students/999999"), 404)  # a record outside scope / missing
    assert "<title>Page not found" in body


def test_signed_in_404_runs_only_the_session_lookup(seeded, client):
    login(client, STAFF)
    with count_queries() as counter:
        response = client.get("/no/such/page")
    assert response.status_code == 404
    assert counter.statements and all("user_sessions" in sql for sql in counter.statements), counter.statements


def test_signed_in_403_keeps_navigation_and_sign_out(seeded, client):
    login(client, STAFF)
    body = assert_full_shell(client.get("/audit/"), 403)  # administrators only
    assert "You do not have access to this page." in body
    assert 'href="/audit/"' not in body  # the navigation is the staff member's, not the admin's


def test_csrf_403_and_413_pages_keep_the_shell(seeded, client):
    login(client, STAFF)
    body = assert_full_shell(client.post("/students/new", data={}), 403)
    assert "security token" in body
    limit = seeded.config["MAX_CONTENT_LENGTH"]
    assert_full_shell(client.post("/auth/login", data={"email": "x@origin.com", "password": "p" * (limit + 1)}), 413)


def test_go_back_offered_only_for_a_page_of_this_site(seeded, client):
    login(client, STAFF)
    back = client.get("/students/999999", headers={"Referer": "http://localhost/students/?q=ann"})
    assert 'href="/students/?q=ann"' in back.get_data(as_text=True) and "Go back" in back.get_data(as_text=True)
    away = client.get("/students/999999", headers={"Referer": "https://elsewhere.example/students/"})
    assert "Go back" not in away.get_data(as_text=True)


def test_anonymous_404_offers_sign_in_in_a_minimal_shell(seeded, client):
    response = client.get("/no/such/page")
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert re.search(r'<a class="btn btn-primary" href="/auth/login">', body) and "Sign in" in body
    assert "error-header" in body and 'action="/auth/logout"' not in body and 'id="mainNav"' not in body
    assert response.headers["X-Request-ID"] in body


def test_maintenance_page_is_minimal_and_runs_only_the_session_lookup(db_url, tmp_path):
    from app.bootstrap import create_app
    from app.services.seed import seed_demo

    app = create_app(app_overrides(db_url, tmp_path))
    with app.app_context():
        seed_demo(get_db(), clock.now(), clock.today())
    client = app.test_client()
    login(client, STAFF)
    app.config["MAINTENANCE_MODE"] = True
    with count_queries() as counter:
        response = client.get("/dashboard/")
    body = response.get_data(as_text=True)
    assert response.status_code == 503 and "down for maintenance" in body
    # one query: the gate looks up the signed-in user (administrators get through); the page runs none
    assert counter.count == 1 and "FROM user_sessions" in counter.statements[0], counter.statements
    assert "error-header" in body and 'id="mainNav"' not in body and "Try again" in body


# --------------------------------------------------------------------------- activation links

def _token(db, *, expires_in=timedelta(hours=24), used=False, status="active") -> str:
    user = f.make_user(db, role="staff", first_name="Nina", status=status)
    token = f"tok-{user}-abcdefghijklmnop"
    now = clock.now()
    token_id = AccountTokenDAO(db).create(user, "activation", hash_token(token), now + expires_in, None, now)
    if used:
        AccountTokenDAO(db).consume(token_id, now)
    return token


def assert_link_no_longer_works(response):
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<title>Activation link no longer works" in body and "Page not found" not in body
    assert "expired or was already used" in body
    assert "works once, for 24 hours" in body and "Ask the office" in body
    assert re.search(r'<a class="btn btn-primary w-100" href="/auth/login">Sign in</a>', body)
    assert 'class="auth-panel"' in body  # the sign-in page's look


@pytest.mark.parametrize("kind", ["expired", "used", "unknown", "archived"])
def test_unusable_activation_link_has_its_own_page(app, client, kind):
    with app.app_context():
        db = get_db()
        token = {
            "expired": lambda: _token(db, expires_in=timedelta(minutes=-1)),
            "used": lambda: _token(db, used=True),
            "unknown": lambda: "no-such-token-0123456789",
            "archived": lambda: _token(db, status="archived"),
        }[kind]()
    assert_link_no_longer_works(client.get(f"/auth/activate/{token}"))
    assert_link_no_longer_works(client.post(f"/auth/activate/{token}", data={
        "csrf_token": csrf_token(client), "password": "a-long-enough-password", "confirm_password": "a-long-enough-password"}))


def test_valid_activation_link_works_once_then_shows_the_page(app, client):
    with app.app_context():
        token = _token(get_db())
    page = client.get(f"/auth/activate/{token}")
    assert page.status_code == 200 and "Welcome, Nina" in page.get_data(as_text=True)
    password = "a-long-enough-password"
    done = client.post(f"/auth/activate/{token}", data={
        "csrf_token": csrf_token(client, f"/auth/activate/{token}"), "password": password, "confirm_password": password})
    assert done.status_code == 303 and done.headers["Location"].endswith("/auth/login")
    assert_link_no_longer_works(client.get(f"/auth/activate/{token}"))
