"""Where you are signed in (/account/sessions, services.account_security), on SQLite: the user's own
active sessions with a readable device, the address, when each signed in and was last seen and which is
this one; sign one out or every other one (audited, after a fresh password: a stale POST ends nothing);
another user's session is a 404 and stays. And
remember-me stays off: no sign-in ever sets a remember cookie, for any role."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
from datetime import datetime, timedelta

import pytest

from app.core import passwords
from app.core.flask_db import get_db
from app.services.account_security import device_label
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

T0 = datetime(2026, 11, 30, 22, 0, 0)
CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
                  " Chrome/131.0.0.0 Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
                 " Version/18.1 Mobile/15E148 Safari/604.1")
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
USERS = {"student": "learner@x.com", "instructor": "teach@x.com", "staff": "desk@x.com", "admin": "boss@x.com"}


@pytest.mark.parametrize("agent, label", [
    (CHROME_WINDOWS, "Chrome on Windows"),
    (SAFARI_IPHONE, "Safari on iPhone"),
    (FIREFOX_LINUX, "Firefox on Linux"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0"
     " Safari/537.36 Edg/131.0.2903.86", "Edge on Windows"),
    ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0"
     " Chrome/122.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile"
     " Safari/537.36", "Chrome on Android"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1"
     " Safari/605.1.15", "Safari on macOS"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0"
     " Safari/537.36 OPR/115.0.0.0", "Opera on Windows"),
    ("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148"
     " Safari/604.1", "Chrome on iPad"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.33"
     " Safari/537.36", "Chrome on Linux"),
    ("curl/8.5.0", "curl"),
    ("SomeApp (Windows NT 10.0)", "Windows device"),
    ("", "Unknown device"),
    (None, "Unknown device"),
    ("<script>alert(1)</script>", "Unknown device"),
])
def test_device_label_reads_browser_and_system(agent, label):
    assert device_label(agent) == label


@pytest.fixture
def backend():
    """The sessions' SQL is UserSessionDAO's (tests/user_session_test.py runs it on both databases)."""
    return "sqlite"


@pytest.fixture
def world(app, frozen):
    frozen(T0)
    with app.app_context():
        db = get_db()
        branch = f.make_branch(db)
        return {role: f.make_user(db, role=role, branch_id=branch, email=email, first_name="Pat",
                                  last_name=role.capitalize(), password_hash=passwords.hash_password(DEMO_PASSWORD))
                for role, email in USERS.items()}


def _device(app, email, agent, address):
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": agent, "REMOTE_ADDR": address})
    assert login(client, email).status_code == 302
    return client


def _session_ids(app, user_id):
    with app.app_context():
        return [r["id"] for r in get_db().fetch_all("SELECT id FROM user_sessions WHERE user_id = :u ORDER BY id",
                                                    {"u": user_id})]


def _audit(app, action):
    with app.app_context():
        return get_db().fetch_all("SELECT user_id, details FROM audit_trail WHERE action = :a", {"a": action})


def test_the_page_lists_only_ones_own_active_sessions(app, world, frozen):
    laptop = _device(app, USERS["staff"], CHROME_WINDOWS, "203.0.113.9")
    frozen(T0 + timedelta(minutes=40))  # the laptop went idle (30 minutes): its row is still there, not active
    phone = _device(app, USERS["staff"], SAFARI_IPHONE, "198.51.100.23")
    _device(app, USERS["admin"], FIREFOX_LINUX, "192.0.2.77")  # someone else's
    assert len(_session_ids(app, world["staff"])) == 2
    html = phone.get("/account/sessions").get_data(as_text=True)
    assert "Safari on iPhone" in html and "198.51.100.23" in html and "1 active session<" in html
    assert "Chrome on Windows" not in html and "203.0.113.9" not in html
    assert "Firefox on Linux" not in html and "192.0.2.77" not in html
    assert laptop.get("/dashboard/").status_code == 302


def test_each_session_shows_device_address_times_and_this_device(app, world, frozen):
    laptop = _device(app, USERS["student"], CHROME_WINDOWS, "203.0.113.9")
    frozen(T0 + timedelta(minutes=3))
    phone = _device(app, USERS["student"], SAFARI_IPHONE, "198.51.100.23")
    frozen(T0 + timedelta(minutes=4))
    laptop.get("/dashboard/")  # touched: last seen moves on (SESSION_TOUCH_SECONDS = 60)
    frozen(T0 + timedelta(minutes=6))
    response = phone.get("/account/sessions")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    items = re.findall(r'<li class="list-group-item py-3" id="session-(\d+)">(.*?)</li>', html, re.S)
    assert [int(i) for i, _ in items] == _session_ids(app, world["student"])[::-1]  # this one first
    this, other = items[0][1], items[1][1]
    assert "Safari on iPhone" in this and "This device" in this and "198.51.100.23" in this
    assert "/end" not in this  # this device signs out from the menu
    assert "Chrome on Windows" in other and "This device" not in other and "203.0.113.9" in other
    assert f'action="/account/sessions/{items[1][0]}/end"' in other
    assert "Sign out everywhere else" in html
    assert "2 active sessions" in html


def test_signing_out_one_other_session_ends_it_and_is_audited(app, world):
    laptop = _device(app, USERS["instructor"], CHROME_WINDOWS, "203.0.113.9")
    phone = _device(app, USERS["instructor"], SAFARI_IPHONE, "198.51.100.23")
    laptop_id, phone_id = _session_ids(app, world["instructor"])
    response = phone.post(f"/account/sessions/{laptop_id}/end",
                          data={"csrf_token": csrf_token(phone, "/account/sessions")})
    assert response.status_code == 303 and response.headers["Location"] == "/account/sessions"
    assert "That session is signed out." in phone.get("/account/sessions").get_data(as_text=True)
    assert laptop.get("/dashboard/").status_code == 302
    assert phone.get("/dashboard/").status_code == 200
    assert _session_ids(app, world["instructor"]) == [phone_id]
    assert _audit(app, "session_ended") == [{"user_id": world["instructor"], "details": f"session {laptop_id}"}]
    again = phone.post(f"/account/sessions/{laptop_id}/end",
                       data={"csrf_token": csrf_token(phone, "/account/sessions")})
    assert again.status_code == 404


def test_another_users_session_is_a_404_and_survives(app, world):
    mine = _device(app, USERS["staff"], CHROME_WINDOWS, "203.0.113.9")
    theirs = _device(app, USERS["admin"], FIREFOX_LINUX, "192.0.2.77")
    (their_id,) = _session_ids(app, world["admin"])
    response = mine.post(f"/account/sessions/{their_id}/end",
                         data={"csrf_token": csrf_token(mine, "/account/sessions")})
    assert response.status_code == 404
    assert theirs.get("/dashboard/").status_code == 200
    assert f"session-{their_id}" not in mine.get("/account/sessions").get_data(as_text=True)
    assert _audit(app, "session_ended") == []


def test_the_current_session_is_not_ended_from_the_list(app, world):
    client = _device(app, USERS["student"], CHROME_WINDOWS, "203.0.113.9")
    (own,) = _session_ids(app, world["student"])
    response = client.post(f"/account/sessions/{own}/end", data={"csrf_token": csrf_token(client, "/account/sessions")})
    assert response.status_code == 422 and "sign out from the menu" in response.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 200


def test_sign_out_everywhere_else_keeps_only_this_session(app, world):
    others = [_device(app, USERS["admin"], agent, f"192.0.2.{n}")
              for n, agent in enumerate((CHROME_WINDOWS, SAFARI_IPHONE, FIREFOX_LINUX), start=1)]
    here = _device(app, USERS["admin"], CHROME_WINDOWS, "203.0.113.9")
    someone_else = _device(app, USERS["staff"], CHROME_WINDOWS, "203.0.113.50")
    response = here.post("/account/sessions/others", data={"csrf_token": csrf_token(here, "/account/sessions")})
    assert response.status_code == 303 and response.headers["Location"] == "/account/sessions"
    html = here.get("/account/sessions").get_data(as_text=True)
    assert "signed out everywhere else" in html and "1 active session<" in html
    assert "Sign out everywhere else</span>" not in html  # no button left with nothing to sign out
    assert all(c.get("/dashboard/").status_code == 302 for c in others)
    assert here.get("/dashboard/").status_code == 200 and someone_else.get("/dashboard/").status_code == 200
    assert _audit(app, "other_sessions_ended") == [{"user_id": world["admin"], "details": "3 sessions signed out"}]


def test_the_profile_links_to_email_password_and_sessions(app, world):
    client = _device(app, USERS["student"], CHROME_WINDOWS, "203.0.113.9")
    html = client.get("/account/").get_data(as_text=True)
    for href in ('href="/account/email"', 'href="/account/password"', 'href="/account/sessions"'):
        assert href in html


def test_no_sign_in_ever_sets_a_remember_cookie(app, world):
    """Remember-me is off for everybody (REMEMBER_COOKIE_DURATION 0, no checkbox): signing in, even
    with a forged remember field, never sets Flask-Login's remember cookie, and the session cookie
    lasts only as long as the browser (no Expires / Max-Age)."""
    remember = app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    login_page = app.test_client().get("/auth/login").get_data(as_text=True)
    assert 'name="remember"' not in login_page and "Remember me" not in login_page
    for role, email in USERS.items():
        client = app.test_client()
        token = csrf_token(client)
        responses = [client.post("/auth/login", data={"email": email, "password": DEMO_PASSWORD, "remember": "y",
                                                      "csrf_token": token})]
        responses += [client.get(path) for path in ("/dashboard/", "/account/", "/account/sessions")]
        responses.append(client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/dashboard/")}))
        cookies = [h for r in responses for h in r.headers.getlist("Set-Cookie")]
        assert cookies, role
        assert not [c for c in cookies if c.startswith(remember + "=")], role
        session_cookies = [c for c in cookies if c.startswith(app.config["SESSION_COOKIE_NAME"] + "=")]
        assert session_cookies and not [c for c in session_cookies
                                        if "Max-Age=" in c and "Max-Age=0" not in c], role
        assert client.get_cookie(remember) is None, role


def test_signing_sessions_out_needs_a_fresh_password_and_a_stale_post_ends_nothing(app, world, frozen):
    """ASVS 3.3.4: a session taken over cannot sign its owner out without the password."""
    laptop = _device(app, USERS["staff"], CHROME_WINDOWS, "203.0.113.9")
    phone = _device(app, USERS["staff"], SAFARI_IPHONE, "198.51.100.23")
    laptop_id, _ = _session_ids(app, world["staff"])
    token = csrf_token(phone, "/account/sessions")
    frozen(T0 + timedelta(minutes=11))
    for path in ("/account/sessions/others", f"/account/sessions/{laptop_id}/end"):
        response = phone.post(path, data={"csrf_token": token})
        assert response.status_code == 303
        assert response.headers["Location"] == "/auth/confirm?next=/account/sessions", path
    assert laptop.get("/dashboard/").status_code == 200
    assert len(_session_ids(app, world["staff"])) == 2
    assert _audit(app, "other_sessions_ended") == [] and _audit(app, "session_ended") == []
    confirm = phone.post("/auth/confirm?next=/account/sessions",
                         data={"password": DEMO_PASSWORD, "csrf_token": token})
    assert confirm.headers["Location"] == "/account/sessions"
    assert phone.post("/account/sessions/others", data={"csrf_token": token}).status_code == 303
    assert laptop.get("/dashboard/").status_code == 302
