"""Attacks on sign-in and sessions (ASVS 4.0.3 V2.2.1, V3.3.1, V3.3.2; figures 4 and 6 of
shared/docs/security-reliability.md §7), SQLite, the demo school (small), one app for the module.

- Throttling: 150 wrong passwords to one account within a simulated hour (frozen clock, one every 24 s)
  lead to at most 40 password verifications (app.core.passwords.verify_password counted); the refused
  ones are 429 with Retry-After; the lock expires (the right password then works); another account
  signs in meanwhile and has no failure counted.
- An unknown e-mail and a wrong password get the same status and the same body (apart from the
  echoed e-mail and the per-request CSRF token), and both cost one hash verification.
- Replay: a session cookie copied before sign-out fails 20 of 20 times afterwards (GETs of ten pages
  and ten state-changing POSTs carrying the stolen session's own CSRF token), and writes nothing.

Covered elsewhere (not repeated here): an archived user's open session ends at its next request
(tests/auth_test.py::test_a_session_of_an_archived_user_ends_at_its_next_request; archiving deletes
the sessions, tests/students_views_test.py); 31 idle minutes and 12 h 1 min of activity need a new
sign-in (tests/auth_test.py::test_idle_timeout_and_absolute_lifetime); the second factor's own
throttle (tests/security/totp_attacks_test.py).
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
from datetime import datetime, timedelta

import pytest

import security_support as sec
from app.core import clock, passwords
from app.core.flask_db import get_db
from tests.conftest import DEMO_PASSWORD, csrf_token, login

VICTIM = "mia.chen@student.com"
BYSTANDER = "noah.williams@student.com"
START = datetime(2026, 11, 26, 10, 0, 0)


@pytest.fixture(scope="module")
def school(sqlite_template, tmp_path_factory):
    from app.services.seed import seed_demo

    app = sec.build_app(tmp_path_factory.mktemp("auth_attacks"), sqlite_template)
    with app.app_context():
        seed_demo(get_db(), clock.now(), clock.today(), lived_in=False)
    yield app
    sec.restore_hashing()


@pytest.fixture
def verifications(monkeypatch):
    calls = []
    real = passwords.verify_password

    def counting(stored_hash, password):
        calls.append(password)
        return real(stored_hash, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    return calls


def _value(app, sql, params=None):
    with app.app_context():
        return get_db().fetch_value(sql, params or {})


def test_150_wrong_passwords_in_an_hour_get_at_most_40_verifications(school, frozen, verifications):
    client = school.test_client()
    statuses = []
    for i in range(150):
        frozen(START + timedelta(seconds=24 * i))  # 150 attempts in 3600 s
        statuses.append(login(client, VICTIM, f"wrong-{i}").status_code)
    verified = len(verifications)
    print(f"throttle: 150 wrong passwords in 1 h -> {verified} verified, {statuses.count(429)} refused (429)")
    assert verified <= 40, verified
    assert set(statuses) <= {401, 429} and statuses[:10] == [401] * 10 and statuses[10] == 429
    assert statuses.count(401) == verified
    # while locked, even the right password is refused unverified
    verifications.clear()
    locked = login(client, VICTIM, DEMO_PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0 and verifications == []
    # another account (same address) is unaffected, and nothing was counted against it
    assert login(school.test_client(), BYSTANDER).status_code == 302
    assert _value(school, "SELECT COUNT(*) FROM login_attempts WHERE email = :e AND succeeded = 0",
                  {"e": BYSTANDER}) == 0
    # the lock expires
    frozen(START + timedelta(seconds=24 * 149) + timedelta(minutes=int(school.config["LOGIN_LOCK_MINUTES"]) + 1))
    assert login(school.test_client(), VICTIM).status_code == 302


def _normalised(html: str, email: str) -> str:
    html = html.replace(email, "EMAIL")
    html = re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1TOKEN", html)
    html = re.sub(r'(<meta name="csrf-token" content=")[^"]+', r"\1TOKEN", html)
    return re.sub(r"[0-9a-f]{16,32}", "ID", html)  # request ids


def test_unknown_user_and_wrong_password_are_indistinguishable(school, verifications):
    known, unknown = "lucas.rossi@student.com", "lucas.rossi@student.net"
    assert _value(school, "SELECT COUNT(*) FROM users WHERE email = :e", {"e": known}) == 1
    wrong = login(school.test_client(), known, "not-the-password")
    assert len(verifications) == 1
    missing = login(school.test_client(), unknown, "not-the-password")
    assert len(verifications) == 2  # an unknown e-mail still costs one hash verification
    assert wrong.status_code == missing.status_code == 401
    assert _normalised(wrong.get_data(as_text=True), known) == _normalised(missing.get_data(as_text=True), unknown)
    assert {k: v for k, v in wrong.headers if k not in ("X-Request-ID", "Content-Length", "Set-Cookie")} == \
        {k: v for k, v in missing.headers if k not in ("X-Request-ID", "Content-Length", "Set-Cookie")}


REPLAY_GETS = ["/dashboard/", "/account/", "/account/password", "/students/", "/instructors/", "/fleet/",
               "/staff/", "/audit/", "/schedules/", "/invoices/"]
REPLAY_POSTS = ["/account/", "/students/new", "/instructors/new", "/fleet/new", "/branches/new", "/staff/new",
                "/courses/new", "/account/password", "/account/sessions/others", "/auth/logout"]


def test_a_cookie_replayed_after_sign_out_fails_20_of_20_times(school):
    victim = school.test_client()
    assert login(victim, "admin@origin.com").status_code == 302
    name = school.config["SESSION_COOKIE_NAME"]
    token = csrf_token(victim, "/dashboard/")  # valid for the stolen session (its CSRF secret is in the cookie)
    stolen = victim.get_cookie(name).value
    for path in REPLAY_GETS:  # each page opens for the live session: the refusals below are the replay's
        assert victim.get(path).status_code == 200, path
    assert victim.post("/auth/logout", data={"csrf_token": token}).status_code in (302, 303)
    before = sec.snapshot(school)
    successes, answers = 0, []
    for path in REPLAY_GETS + REPLAY_POSTS:
        attacker = school.test_client()
        attacker.set_cookie(name, stolen)
        method = "GET" if len(answers) < len(REPLAY_GETS) else "POST"
        response = attacker.open(path, method=method, data={"csrf_token": token, "first_name": "Mallory",
                                                            "name": "Mallory"} if method == "POST" else None)
        location = response.headers.get("Location", "")
        refused = response.status_code in (302, 303) and "/auth/login" in location or response.status_code == 401
        successes += not refused
        answers.append((method, path, response.status_code, location))
    assert len(answers) == 20
    print(f"replay after sign-out: {successes}/20 succeeded")
    assert successes == 0, [a for a in answers if "/auth/login" not in a[3]]
    assert sec.changed_tables(before, sec.snapshot(school)) == []


def test_an_archived_users_open_sessions_fail_at_once(school):
    """Archived through the office's page while signed in on two devices: 0 of 20 later requests succeed."""
    email = "lucas.rossi@student.com"
    pages = ["/dashboard/", "/account/", "/my/lessons", "/my/invoices", "/schedules/"]
    devices = [school.test_client(), school.test_client()]
    for device in devices:
        assert login(device, email).status_code == 302
        for path in pages:  # each page opens while the account is active
            assert device.get(path).status_code == 200, path
    student_id = _value(school, "SELECT s.id FROM students s JOIN users u ON u.id = s.user_id WHERE u.email = :e",
                        {"e": email})
    office = school.test_client()
    assert login(office, "operations@origin.com").status_code == 302
    archived = office.post(f"/students/{student_id}/archive", data={"csrf_token": csrf_token(office, "/dashboard/")})
    assert archived.status_code in (302, 303)
    assert _value(school, "SELECT COUNT(*) FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE u.email = :e",
                  {"e": email}) == 0
    answers = [devices[i % 2].get(path) for i, path in enumerate(pages * 4)]
    succeeded = [r.request.path for r in answers if not (r.status_code in (302, 303) and "/auth/login" in
                                                          r.headers.get("Location", ""))]
    print(f"archived user: {len(answers) - len(succeeded)}/{len(answers)} requests refused")
    assert len(answers) == 20 and succeeded == []
