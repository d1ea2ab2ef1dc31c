"""Password reset by an e-mailed single-use link (services/password_reset.py, blueprints/password_reset.py).

The web tests run on SQLite (one small seeded app each, e-mail through the log backend into
LOG_DIR/outbound.log); the token rules that touch SQL (hash stored, single use, issued_since) also run on
MariaDB through the ``db`` fixture.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
import re
import shutil
import statistics
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from app.blueprints.password_reset import wait_for_deferred
from app.core import clock
from app.core.flask_db import get_db
from app.dao.account_token import AccountTokenDAO
from app.services import auth as auth_service, password_reset
from app.services.auth import hash_token
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, app_overrides, csrf_token, login

JACK = "jack.mason@student.com"
NEW = "kettle on the windowsill"
CSRF = re.compile(r'(name="csrf_token"[^>]*value="|<meta name="csrf-token" content=")[^"]+')


@pytest.fixture
def make_app(sqlite_template, tmp_path):
    """A seeded app on a fresh SQLite copy with e-mail through the log backend; extra settings per test."""
    from app.bootstrap import create_app
    from app.core import passwords
    from app.services.seed import seed_demo

    def build(**extra):
        target = tmp_path / "reset.sqlite3"
        shutil.copyfile(sqlite_template, target)
        app = create_app(app_overrides(f"sqlite:///{target}", tmp_path, MAIL_ENABLED=True, EMAIL_BACKEND="log",
                                       **extra))
        with app.app_context():
            seed_demo(get_db(), clock.now(), clock.today(), lived_in=False)
        return app
    yield build
    passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


@pytest.fixture
def app(make_app):
    return make_app()


def mails(app) -> list[dict]:
    path = Path(app.config["LOG_DIR"]) / "outbound.log"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line.split("] ", 1)[1]) for line in lines]


def link_path(mail: dict) -> str:
    return re.search(r"https?://[^/\s]+(/auth/reset/[A-Za-z0-9_-]+)", mail["message"]).group(1)


def ask(client, email: str, close: bool = True, **kwargs):
    response = client.post("/auth/forgot", data={"csrf_token": csrf_token(client, "/auth/forgot"), "email": email},
                           **kwargs)
    if close:
        response.close()  # the server closes the response once it is sent: the deferred work starts now
        wait_for_deferred()
    return response


def reset(client, path: str, password: str = NEW, confirm: str | None = None):
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "password": password,
                                       "confirm_password": password if confirm is None else confirm})
    response.get_data()
    response.close()  # as the server would: the deferred notice starts now
    return response


def rows(app, sql: str, **params):
    with app.app_context():
        return get_db().fetch_all(sql, params)


def client_from(app, ip: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def jack_id(app) -> int:
    return rows(app, "SELECT id FROM users WHERE email = :e", e=JACK)[0]["id"]


# --------------------------------------------------------------------------- the answer never tells

def test_known_unknown_and_archived_addresses_get_the_same_answer_and_only_the_known_one_mail(app):
    with app.app_context():
        archived = f.make_user(get_db(), email="gone@student.com", status="archived")
    answers = {}
    for email in (JACK, "nobody@nowhere.example", "gone@student.com"):
        client = app.test_client()
        response = ask(client, email)
        sent = client.get(response.headers["Location"])
        answers[email] = (response.status_code, response.headers["Location"], response.get_data(as_text=True),
                          sent.status_code, CSRF.sub("", sent.get_data(as_text=True)))
    assert answers[JACK][0] == 303 and answers[JACK][1] == "/auth/forgot/sent"
    assert answers[JACK] == answers["nobody@nowhere.example"] == answers["gone@student.com"]
    assert "If an account exists for that address, we have sent a link" in answers[JACK][4]
    assert [m["to"] for m in mails(app)] == [JACK]
    assert rows(app, "SELECT user_id FROM account_tokens WHERE purpose = 'reset'") == [{"user_id": jack_id(app)}]
    assert not rows(app, "SELECT id FROM account_tokens WHERE user_id = :u", u=archived)


def test_the_lookup_token_and_mail_happen_after_the_response_is_sent(app):
    client = app.test_client()
    response = ask(client, JACK, close=False)
    assert response.status_code == 303
    assert mails(app) == [] and not rows(app, "SELECT id FROM account_tokens WHERE purpose = 'reset'")
    response.close()
    wait_for_deferred()
    assert len(mails(app)) == 1 and len(rows(app, "SELECT id FROM account_tokens WHERE purpose = 'reset'")) == 1


def test_the_work_still_happens_when_the_server_never_closes_the_response(app, monkeypatch):
    """The development server skips close() when the browser drops the connection first."""
    from app.blueprints import password_reset as blueprint

    monkeypatch.setattr(blueprint, "FALLBACK_SECONDS", 0.05)
    response = ask(app.test_client(), JACK, close=False)
    assert response.status_code == 303
    wait_for_deferred(unclosed=True)
    assert [m["to"] for m in mails(app)] == [JACK]


def test_timing_does_not_depend_on_whether_the_account_exists(app):
    """Median of 15 answers each, interleaved; the bound is loose (the deferred work is not in either)."""
    client = app.test_client()
    token = csrf_token(client, "/auth/forgot")
    durations = {JACK: [], "nobody@nowhere.example": []}
    for _ in range(15):
        for email in durations:
            started = time.perf_counter()
            response = client.post("/auth/forgot", data={"csrf_token": token, "email": email})
            durations[email].append(time.perf_counter() - started)
            assert response.status_code == 303
            response.close()
    wait_for_deferred()
    known, unknown = (statistics.median(durations[e]) for e in durations)
    assert abs(known - unknown) < max(0.02, 0.5 * min(known, unknown)), (known, unknown)


def test_the_link_is_built_on_server_name_not_on_the_host_the_request_named(make_app):
    app = make_app(SERVER_NAME="origin.test")
    client = app.test_client()
    form = client.get("/auth/forgot", headers={"Host": "evil.example"}).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    client.post("/auth/forgot", data={"csrf_token": token, "email": JACK}, headers={"Host": "evil.example"}).close()
    wait_for_deferred()
    assert re.search(r"http://origin\.test/auth/reset/", mails(app)[0]["message"])


# --------------------------------------------------------------------------- the link

def test_reset_sets_the_password_ends_every_session_and_the_link_works_once(app):
    signed_in = app.test_client()
    assert login(signed_in, JACK).status_code == 302
    ask(app.test_client(), JACK)
    [mail] = mails(app)
    path = link_path(mail)
    token = path.rsplit("/", 1)[1]
    [row] = rows(app, "SELECT token_hash, expires_at FROM account_tokens WHERE purpose = 'reset'")
    assert row["token_hash"] == hash_token(token) and token not in json.dumps(row, default=str)
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 200 and "Choose a new password" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    done = reset(client, path)
    assert done.status_code == 303 and done.headers["Location"] == "/auth/login"
    wait_for_deferred()
    notice = mails(app)[-1]  # the owner is told (ASVS 2.2.3), without a link
    assert notice["to"] == JACK and "password was reset" in notice["subject"] and "/auth/reset/" not in notice["message"]
    assert "Your password has been reset" in client.get("/auth/login").get_data(as_text=True)
    assert signed_in.get("/dashboard/").status_code == 302  # the other session ended
    assert rows(app, "SELECT COUNT(*) AS n FROM user_sessions WHERE user_id = :u", u=jack_id(app))[0]["n"] == 0
    assert login(app.test_client(), JACK, DEMO_PASSWORD).status_code == 401
    assert login(app.test_client(), JACK, NEW).status_code == 302
    again = app.test_client()
    assert again.get(path).status_code == 404
    reused = again.post(path, data={"csrf_token": csrf_token(again, "/auth/forgot"), "password": "another good one",
                                    "confirm_password": "another good one"})
    assert reused.status_code == 404 and "This reset link no longer works" in reused.get_data(as_text=True)
    audit = rows(app, "SELECT action, user_id FROM audit_trail WHERE action LIKE 'password_reset%' ORDER BY id")
    assert [(a["action"], a["user_id"]) for a in audit] == [("password_reset_requested", jack_id(app)),
                                                           ("password_reset", jack_id(app))]


def test_a_100_character_password_set_by_reset_signs_in_and_its_99_character_prefix_does_not(app):
    ask(app.test_client(), JACK)
    password = ("The quick brown quokka jumps over 27 lazy wombats by the bay " * 2)[:100]
    assert reset(app.test_client(), link_path(mails(app)[0]), password).status_code == 303
    assert login(app.test_client(), JACK, password[:99]).status_code == 401
    assert login(app.test_client(), JACK, password).status_code == 302


def test_a_link_expires_after_30_minutes(app, frozen):
    start = datetime(2027, 3, 1, 9, 0, 0)
    frozen(start)
    ask(app.test_client(), JACK)
    path = link_path(mails(app)[0])
    frozen(start + timedelta(minutes=29, seconds=59))
    assert app.test_client().get(path).status_code == 200
    frozen(start + timedelta(minutes=30))
    client = app.test_client()
    expired = client.get(path)
    assert expired.status_code == 404 and "works once, for 30 minutes" in expired.get_data(as_text=True)


def test_a_new_link_retires_the_older_one(app):
    ask(app.test_client(), JACK)
    ask(app.test_client(), JACK)
    first, second = (link_path(m) for m in mails(app))
    assert app.test_client().get(first).status_code == 404
    assert app.test_client().get(second).status_code == 200


def test_a_policy_breaking_or_mismatched_password_is_named_and_nothing_is_written(app):
    ask(app.test_client(), JACK)
    path = link_path(mails(app)[0])
    before = rows(app, "SELECT password_hash FROM users WHERE email = :e", e=JACK)
    client = app.test_client()
    for password, confirm, message in (
            ("short", None, "at least 8 characters"),
            ("iloveyou1", None, "on the list of common passwords"),
            ("jackjackjack", None, "your name \u201cJack\u201d"),
            ("jack.mason-2027", None, "your e-mail address \u201cjack.mason\u201d"),
            (NEW, "something else", "The passwords do not match.")):
        response = reset(client, path, password, confirm)
        assert response.status_code == 422 and message in response.get_data(as_text=True), password
    assert rows(app, "SELECT password_hash FROM users WHERE email = :e", e=JACK) == before
    assert client.get(path).status_code == 200  # the link still works


# --------------------------------------------------------------------------- throttling

def test_bad_links_count_toward_the_address_throttle_and_then_429(make_app):
    app = make_app(LOGIN_MAX_FAILURES_PER_IP=3)
    ask(client_from(app, "10.0.0.9"), JACK)  # asked from elsewhere
    good = link_path(mails(app)[0])
    prober = app.test_client()
    for n in range(2):  # the forgot request above came from another address; these are the first failures here
        assert prober.get(f"/auth/reset/guess{n}").status_code == 404
    assert prober.post("/auth/reset/guess", data={"csrf_token": csrf_token(prober, "/auth/forgot")}).status_code == 404
    refused = prober.get(good)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert prober.get("/auth/reset/guess3").status_code == 429
    with app.app_context():  # not counted against Jack's account: he can still sign in
        assert auth_service.lock_status(get_db(), JACK, clock.now(), app.config) == 0
    other = client_from(app, "10.0.0.7")
    assert other.get(good).status_code == 200


def test_forgot_requests_are_throttled_per_address(make_app):
    app = make_app(LOGIN_MAX_FAILURES_PER_IP=3)
    client = app.test_client()
    for n in range(3):
        assert ask(client, f"someone{n}@example.com").status_code == 303
    refused = ask(client, JACK)
    assert refused.status_code == 429 and "Too many attempts" in refused.get_data(as_text=True)
    assert refused.headers["Retry-After"] and mails(app) == []


def test_at_most_three_mails_an_hour_per_account_with_the_same_answer(make_app, frozen):
    start = datetime(2027, 3, 1, 9, 0, 0)
    frozen(start)
    app = make_app()
    for n in range(5):
        frozen(start + timedelta(minutes=n))
        assert ask(app.test_client(), JACK).status_code == 303
    assert len(mails(app)) == password_reset.MAILS_PER_HOUR == 3
    frozen(start + timedelta(minutes=61))
    ask(app.test_client(), JACK)
    assert len(mails(app)) == 4


# --------------------------------------------------------------------------- both databases

def test_tokens_are_stored_hashed_used_once_and_counted(db):
    now = datetime(2027, 3, 1, 9, 0, 0)
    user = f.make_user(db, status="active")
    settings = {"PASSWORD_RESET_MINUTES": 30, "APP_NAME": "Origin Driving School", "PASSWORD_MIN_LENGTH": 8}
    email = db.fetch_value("SELECT email FROM users WHERE id = :u", {"u": user})
    mail = password_reset.request_reset(db, email.upper(), ip="10.1.1.1", now=now, settings=settings)
    assert mail is not None and mail.expires_at == now + timedelta(minutes=30)
    stored = db.fetch_all("SELECT token_hash FROM account_tokens WHERE user_id = :u", {"u": user})
    assert stored == [{"token_hash": hash_token(mail.token)}]
    tokens = AccountTokenDAO(db)
    assert tokens.issued_since(user, "reset", now) == 1 and tokens.issued_since(user, "reset", now + timedelta(seconds=1)) == 0
    assert password_reset.request_reset(db, "nobody@nowhere.example", ip=None, now=now, settings=settings) is None
    from app.core import passwords
    passwords.configure({"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1})
    try:
        assert password_reset.reset_password(db, mail.token, NEW, NEW, ip="10.1.1.1", now=now,
                                             settings=settings) == user
        assert not tokens.consume(mail.token_id, now)  # already used: a racing second request loses
        with pytest.raises(Exception) as again:
            password_reset.reset_password(db, mail.token, NEW, NEW, ip=None, now=now, settings=settings)
        assert getattr(again.value, "status", None) == 404
    finally:
        passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


# --------------------------------------------------------------------------- in Chromium

def test_in_chromium_the_whole_reset_with_the_live_strength_hint_and_no_csp_violation(make_app, monkeypatch):
    """Sign-in page -> "Forgot your password?" -> the e-mailed link -> the hint while typing -> signed out
    everywhere, new password works. Served by werkzeug's own server (which may skip close(): the fallback)."""
    import os
    import threading

    chromium = Path("/usr/bin/chromium")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError as exc:  # pragma: no cover - depends on the machine
        reason = f"playwright not importable: {exc}"
    else:
        reason = None if chromium.exists() else f"Chromium not found at {chromium}"
    if reason:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from werkzeug.serving import make_server

    from app.blueprints import password_reset as blueprint

    monkeypatch.setattr(blueprint, "FALLBACK_SECONDS", 0.5)
    app = make_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    problems = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(base + "/auth/login")
            page.get_by_role("link", name="Forgot your password?").click()
            page.locator("#email").fill(JACK)
            page.get_by_role("button", name="Send me a reset link").click()
            expect(page.get_by_text("If an account exists for that address, we have sent a link")).to_be_visible()
            wait_for_deferred(unclosed=True)
            page.goto(base + link_path(mails(app)[0]))
            field = page.locator("#password")
            field.press_sequentially("abc")
            hint = page.locator("#password-strength")
            expect(hint).to_have_attribute("aria-live", "polite")
            expect(hint).to_have_text("3 characters: 5 more needed (at least 8).")
            assert "password-strength" in (field.get_attribute("aria-describedby") or "")
            field.fill("")
            field.press_sequentially("kettle 🚗 on the windowsill")
            expect(hint).to_contain_text("26 characters. Estimated strength:")
            page.locator("#confirm_password").fill("kettle 🚗 on the windowsill")
            page.get_by_role("button", name="Set new password").click()
            expect(page.get_by_text("Your password has been reset")).to_be_visible()
            browser.close()
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
    assert problems == []
    assert login(app.test_client(), JACK, "kettle 🚗 on the windowsill").status_code == 302
