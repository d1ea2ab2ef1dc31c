"""Sign-in, throttling, the server-side session registry, legacy hashes and CSRF (both backends)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
from datetime import datetime, timedelta

import bcrypt
import pytest

from app.core import clock, passwords
from app.core.flask_db import get_db
from app.dao.user import UserDAO
from app.services import auth as auth_service
from tests.conftest import DEMO_PASSWORD, csrf_token, login, post_form

ADMIN = "admin@origin.com"
STUDENT = "jack.mason@student.com"


def count(app, sql, params=None):
    with app.app_context():
        return get_db().fetch_value(sql, params or {}, cast=int)


def test_login_page_renders_labelled_fields(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert 'for="email"' in html and 'for="password"' in html
    assert '<meta name="csrf-token"' in html


@pytest.mark.parametrize("email", ["admin@origin.com", "operations@origin.com",
                                   "amelia.ward@origin.com", "jack.mason@student.com"])
def test_each_demo_account_reaches_its_dashboard(seeded, client, email):
    response = login(client, email)
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard/")
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert "Good to see you" in page.get_data(as_text=True)


def test_email_is_case_and_space_insensitive(seeded, client):
    assert login(client, "  Admin@Origin.COM ").status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_generic_401(seeded, client):
    wrong = login(client, ADMIN, "not-the-password")
    unknown = login(client, "nobody@origin.com", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert auth_service.GENERIC_FAILURE in wrong.get_data(as_text=True)
    assert auth_service.GENERIC_FAILURE in unknown.get_data(as_text=True)
    assert count(seeded, "SELECT COUNT(*) FROM user_sessions") == 0
    assert count(seeded, "SELECT COUNT(*) FROM login_attempts WHERE succeeded = 0") == 2


def test_archived_user_cannot_sign_in(seeded, client):
    with seeded.app_context():
        user = UserDAO(get_db()).find_by_email(STUDENT)
        UserDAO(get_db()).set_status(user["id"], "archived", clock.now())
    response = login(client, STUDENT)
    assert response.status_code == 401
    assert auth_service.GENERIC_FAILURE in response.get_data(as_text=True)


def test_missing_fields_are_422_with_field_errors_and_keep_the_email(seeded, client):
    token = csrf_token(client)
    response = client.post("/auth/login", data={"email": "admin@origin.com", "password": "", "csrf_token": token})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Enter your password." in html and 'value="admin@origin.com"' in html


def test_missing_csrf_token_is_refused_with_403_and_writes_nothing(seeded, client):
    response = client.post("/auth/login", data={"email": ADMIN, "password": DEMO_PASSWORD})
    assert response.status_code == 403
    assert "security token" in response.get_data(as_text=True)
    assert count(seeded, "SELECT COUNT(*) FROM login_attempts") == 0
    assert count(seeded, "SELECT COUNT(*) FROM user_sessions") == 0


def test_over_https_a_form_without_its_referer_is_refused_saying_so(seeded, client):
    """Flask-WTF's strict HTTPS check: a right token but no Referer (a script) gets a 403 that names the
    Referer, not the misleading "token expired"; with the page's address as Referer it goes through."""
    html = client.get("/auth/login", base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|value="([^"]+)" name="csrf_token"', html)
    assert token
    data = {"email": ADMIN, "password": DEMO_PASSWORD, "csrf_token": token.group(1) or token.group(2)}
    refused = client.post("/auth/login", data=data, base_url="https://localhost")
    assert refused.status_code == 403
    text = refused.get_data(as_text=True)
    assert "Referer header is missing" in text and "expired" not in text
    assert count(seeded, "SELECT COUNT(*) FROM user_sessions") == 0
    passed = client.post("/auth/login", data=data, base_url="https://localhost",
                         headers={"Referer": "https://localhost/auth/login"})
    assert passed.status_code in (302, 303), passed.get_data(as_text=True)[:300]


def test_ten_failures_lock_the_account_with_429_then_unlock(seeded, client, frozen):
    start = datetime(2026, 11, 26, 10, 0, 0)
    for i in range(10):
        frozen(start + timedelta(seconds=i))
        assert login(client, ADMIN, "wrong").status_code == 401
    frozen(start + timedelta(seconds=30))
    locked = login(client, ADMIN, DEMO_PASSWORD)  # even the right password is refused while locked
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "Too many failed sign-in attempts" in locked.get_data(as_text=True)
    # another account is unaffected
    assert login(seeded.test_client(), STUDENT).status_code == 302
    # refused attempts are not counted; after the lock window the right password works
    frozen(start + timedelta(minutes=16))
    assert login(client, ADMIN).status_code == 302


def test_failures_spread_over_more_than_the_window_do_not_lock(seeded, client, frozen):
    start = datetime(2026, 11, 26, 10, 0, 0)
    for i in range(12):
        frozen(start + timedelta(minutes=2 * i))  # 12 failures over 24 minutes
        assert login(client, ADMIN, "wrong").status_code == 401
    assert login(client, ADMIN).status_code == 302


def test_success_resets_the_failure_count(seeded, client, frozen):
    start = datetime(2026, 11, 26, 10, 0, 0)
    for i in range(9):
        frozen(start + timedelta(seconds=i))
        login(client, ADMIN, "wrong")
    frozen(start + timedelta(seconds=20))
    assert login(client, ADMIN).status_code == 302
    other = seeded.test_client()
    for i in range(9):
        frozen(start + timedelta(seconds=30 + i))
        assert login(other, ADMIN, "wrong").status_code == 401
    assert login(other, ADMIN).status_code == 302


def test_login_issues_a_fresh_session_cookie(seeded, client):
    client.get("/auth/login")
    before = client.get_cookie("origin_session").value
    login(client, ADMIN)
    after = client.get_cookie("origin_session").value
    assert before != after


def test_replayed_cookie_after_logout_is_refused(seeded, client):
    login(client, ADMIN)
    stolen = client.get_cookie("origin_session").value
    assert post_form(client, "/auth/logout").status_code == 302
    attacker = seeded.test_client()
    attacker.set_cookie("origin_session", stolen)
    response = attacker.get("/dashboard/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_logout_requires_post_and_csrf(seeded, client):
    login(client, ADMIN)
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 403  # no token
    assert client.get("/dashboard/").status_code == 200  # still signed in


def test_a_session_of_an_archived_user_ends_at_its_next_request(seeded, client):
    # accounts.archive_user deletes the sessions itself (staff/students views tests); this is the
    # second line: a session row that outlives the archiving is refused and removed when used.
    login(client, STUDENT)
    assert client.get("/dashboard/").status_code == 200
    with seeded.app_context():
        user = UserDAO(get_db()).find_by_email(STUDENT)
        UserDAO(get_db()).set_status(user["id"], "archived", clock.now())
    assert count(seeded, "SELECT COUNT(*) FROM user_sessions WHERE user_id = :u", {"u": user["id"]}) == 1
    assert client.get("/dashboard/").status_code == 302
    assert count(seeded, "SELECT COUNT(*) FROM user_sessions WHERE user_id = :u", {"u": user["id"]}) == 0


def test_changing_password_ends_every_session(seeded, client):
    login(client, STUDENT)
    other_device = seeded.test_client()
    login(other_device, STUDENT)
    response = post_form(client, "/account/password", {
        "current_password": DEMO_PASSWORD, "new_password": "a much longer passphrase",
        "confirm_password": "a much longer passphrase"}, token_from="/account/password")
    assert response.status_code == 302
    assert other_device.get("/dashboard/").status_code == 302
    assert client.get("/dashboard/").status_code == 302
    assert login(seeded.test_client(), STUDENT).status_code == 401
    assert login(seeded.test_client(), STUDENT, "a much longer passphrase").status_code == 302


def test_change_password_rejects_wrong_current_and_short_new(seeded, client):
    login(client, STUDENT)
    wrong = post_form(client, "/account/password", {
        "current_password": "nope", "new_password": "long enough pass", "confirm_password": "long enough pass"},
        token_from="/account/password")
    assert wrong.status_code == 422 and "current password is incorrect" in wrong.get_data(as_text=True)
    short = post_form(client, "/account/password", {
        "current_password": DEMO_PASSWORD, "new_password": "short", "confirm_password": "short"},
        token_from="/account/password")
    assert short.status_code == 422 and "at least 8 characters" in short.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 200  # nothing changed, still signed in


def test_guessing_the_current_password_on_the_change_form_is_throttled_like_sign_in(seeded, client, frozen):
    """A stolen, freshly confirmed session cannot brute-force the password through /account/password:
    wrong current passwords count toward the account lock, and the locked form checks nothing."""
    from app.core import passwords

    frozen(datetime(2026, 11, 26, 9, 0, 0))
    login(client, STUDENT)
    form = {"new_password": "a calm blue lake at dawn", "confirm_password": "a calm blue lake at dawn"}
    for attempt in range(10):
        frozen(datetime(2026, 11, 26, 9, 0, 1 + attempt))  # after the sign-in's success
        response = post_form(client, "/account/password", {**form, "current_password": f"guess {attempt}"},
                             token_from="/account/password")
        assert response.status_code == 422
    checked = []
    original = passwords.verify_password
    passwords.verify_password = lambda stored, given: checked.append(given) or original(stored, given)
    try:
        locked = post_form(client, "/account/password", {**form, "current_password": DEMO_PASSWORD},
                           token_from="/account/password")
    finally:
        passwords.verify_password = original
    assert locked.status_code == 429 and checked == [], (locked.status_code, locked.headers.get("Location"))
    assert "Too many failed" in locked.get_data(as_text=True)


def test_idle_timeout_and_absolute_lifetime(seeded, client, frozen):
    start = datetime(2026, 11, 26, 8, 0, 0)
    frozen(start)
    login(client, ADMIN)
    frozen(start + timedelta(minutes=29))
    assert client.get("/dashboard/").status_code == 200
    frozen(start + timedelta(minutes=29 + 31))  # idle for 31 minutes
    assert client.get("/dashboard/").status_code == 302

    frozen(start)
    login(client, ADMIN)
    for minutes in range(20, 12 * 60, 20):  # active every 20 minutes ...
        frozen(start + timedelta(minutes=minutes))
        assert client.get("/dashboard/").status_code == 200
    frozen(start + timedelta(hours=12, minutes=1))  # ... but never past 12 hours
    assert client.get("/dashboard/").status_code == 302


def test_legacy_bcrypt_hash_verifies_and_is_rehashed_on_login(seeded, client):
    legacy = bcrypt.hashpw(DEMO_PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode().replace("$2b$", "$2y$", 1)
    with seeded.app_context():
        db = get_db()
        user = UserDAO(db).find_by_email(STUDENT)
        UserDAO(db).replace_hash(user["id"], legacy, clock.now())
    assert login(seeded.test_client(), STUDENT, "wrong password").status_code == 401
    with seeded.app_context():
        assert UserDAO(get_db()).password_hash(user["id"]) == legacy  # a failure never rewrites the hash
    assert login(client, STUDENT).status_code == 302
    with seeded.app_context():
        stored = UserDAO(get_db()).password_hash(user["id"])
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, DEMO_PASSWORD)


def test_php_seed_hash_verifies_password123():
    php_hash = "$2y$10$G6NCBslVaYRbfCoWPNWGz.f3HcXEKDjaWjGdPBU4rwr0c1TH1WW2i"
    assert passwords.verify_password(php_hash, "Password123!")
    assert not passwords.verify_password(php_hash, "Password123")
    assert passwords.needs_rehash(php_hash)


def test_new_hashes_are_argon2id_with_production_strength():
    passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})
    stored = passwords.hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$") and "m=65536,t=3" in stored
    assert passwords.verify_password(stored, "correct horse battery staple")
    assert not passwords.verify_password(stored, "correct horse battery stapl")
    assert not passwords.verify_password("garbage", "x")


def test_next_parameter_only_allows_local_paths(seeded, client):
    token = csrf_token(client)
    ok = client.post("/auth/login?next=/account/password",
                     data={"email": ADMIN, "password": DEMO_PASSWORD, "csrf_token": token})
    assert ok.headers["Location"].endswith("/account/password")
    evil = seeded.test_client()
    token = csrf_token(evil)
    response = evil.post("/auth/login?next=//evil.example/x",
                         data={"email": ADMIN, "password": DEMO_PASSWORD, "csrf_token": token})
    assert response.headers["Location"].endswith("/dashboard/")


def test_many_failures_from_one_address_across_accounts_are_throttled(seeded, client, frozen):
    start = datetime(2026, 11, 26, 10, 0, 0)
    limit = seeded.config["LOGIN_MAX_FAILURES_PER_IP"]
    for i in range(limit):
        frozen(start + timedelta(seconds=i))
        assert login(client, f"nobody{i}@origin.com", "wrong").status_code == 401
    frozen(start + timedelta(seconds=limit + 1))
    throttled = login(client, STUDENT)  # a real account, right password, same address
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    frozen(start + timedelta(minutes=16))
    assert login(client, STUDENT).status_code == 302


def test_ip_throttle_can_be_switched_off(db):
    from app.services.auth import ip_lock_status

    assert ip_lock_status(db, "203.0.113.9", datetime(2026, 11, 26), {"LOGIN_MAX_FAILURES_PER_IP": 0,
                                                                      "LOGIN_WINDOW_MINUTES": 15}) == 0
