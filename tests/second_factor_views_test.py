"""Second-factor pages (SQLite; the DAO runs on both backends in second_factor_test.py): a required role
is sent to enrolment right after the password and can open nothing else until done; set-up shows a local
QR code and the key, asks for one code, shows ten recovery codes once; the sign-in challenge accepts a
code or a recovery code, refuses wrong, replayed and expired codes with a message naming why (counted,
nothing else written) and answers a lock with 429 and Retry-After; instructors and students may switch
it on and off, admin and staff may not switch it off; an administrator's reset is audited, notifies the
user in-app and by e-mail and ends their sessions."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
import re
import shutil
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest

from app.core.flask_db import get_db
from app.services import second_factor as sf
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, app_overrides, csrf_token, login

T0 = datetime(2026, 12, 1, 9, 0, 0)
ADMIN, STAFF = "admin@test.origin", "staff@test.origin"
INSTRUCTOR, STUDENT = "instructor@test.origin", "student@test.origin"
CODES = re.compile(r"<code class=\"fs-6\">((?:[A-Z2-7]{4}-){5}[A-Z2-7]{4})</code>")


@pytest.fixture
def app(sqlite_template, tmp_path):
    from app.bootstrap import create_app
    from app.core import passwords

    target = tmp_path / "sf.sqlite3"
    shutil.copyfile(sqlite_template, target)
    application = create_app(app_overrides(f"sqlite:///{target}", tmp_path, SECOND_FACTOR_ROLES="admin,staff"))
    yield application
    passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


@pytest.fixture
def world(app, frozen):
    from app.core import passwords

    frozen(T0)
    with app.app_context():
        db = get_db()
        hashed = passwords.hash_password(DEMO_PASSWORD)
        branch = f.make_branch(db, name="Home")

        def staffer(role, email, first):
            user = f.make_user(db, role=role, email=email, branch_id=branch, password_hash=hashed, first_name=first)
            profile = db.insert("staff_profiles", {"user_id": user, "branch_id": branch, "position_title": role,
                                                   "employment_type": "Full-time", "start_date": date(2022, 1, 10)})
            return user, profile

        admin, admin_profile = staffer("admin", ADMIN, "Laura")
        staff, staff_profile = staffer("staff", STAFF, "Oliver")
        instructor = f.make_user(db, role="instructor", email=INSTRUCTOR, branch_id=branch, password_hash=hashed)
        instructor_profile = f.make_instructor(db, user_id=instructor, branch_id=branch)
        student = f.make_user(db, role="student", email=STUDENT, branch_id=branch, password_hash=hashed)
        student_profile = f.make_student(db, user_id=student, branch_id=branch)
    return SimpleNamespace(admin=admin, staff=staff, instructor=instructor, student=student,
                           staff_profile=staff_profile, instructor_profile=instructor_profile,
                           student_profile=student_profile, frozen=frozen)


def enrol(app, user_id, role, at=T0):
    """Switch a factor on through the service; (secret, recovery codes)."""
    with app.app_context():
        db, actor = get_db(), Actor(user_id=user_id, role=role)
        secret, _uri = sf.begin_enrolment(db, actor, at, app.config)
        codes = sf.confirm_enrolment(db, actor, sf.code_at(secret, at), at, app.config)
    return secret, codes


def scalar(app, sql, **params):
    with app.app_context():
        return get_db().fetch_value(sql, params)


def rows(app, sql, **params):
    with app.app_context():
        return get_db().fetch_all(sql, params)


def failures(app, email):
    """Failures that count toward the lock (since the last success), as services.auth.lock_status sees them."""
    from app.dao.login_attempt import LoginAttemptDAO

    with app.app_context():
        return LoginAttemptDAO(get_db()).failures_since(email, T0 - timedelta(hours=1))["failures"]


def post(client, path, data=None, token_from="/account/second-factor", **kwargs):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, token_from)}, **kwargs)


def answer(client, code, next_url=None):
    path = "/auth/second-factor" + (f"?next={next_url}" if next_url else "")
    return post(client, path, {"code": code}, token_from="/auth/second-factor")


def test_required_role_is_sent_to_enrolment_and_can_open_nothing_else_until_done(app, world):
    client = app.test_client()
    assert login(client, ADMIN).status_code == 302
    for path in ("/dashboard/", "/students/", "/account/", "/auth/second-factor"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/account/second-factor"), path
    assert client.get("/api/schedules", headers={"Accept": "application/json"}).status_code == 401
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert "Set up your second factor" in page and "Set up an authenticator app" in page
    assert 'id="mainNav"' not in page  # no navigation to pages that would refuse

    assert post(client, "/account/second-factor/enrol").status_code == 303
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # the QR code is made here, no network
    with app.app_context():
        secret, uri = sf.pending_enrolment(get_db(), world.admin, app.config)
    assert uri.startswith("otpauth://totp/") and "issuer=" in uri
    assert " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) in page  # the key as text too
    stored = scalar(app, "SELECT secret FROM user_second_factors WHERE user_id = :u", u=world.admin)
    assert secret not in stored and stored.startswith("v1:")  # encrypted at rest

    wrong = post(client, "/account/second-factor/confirm", {"code": "000000" if sf.code_at(secret, T0) != "000000" else "111111"})
    assert wrong.status_code == 422 and "That code is not right" in wrong.get_data(as_text=True)
    assert scalar(app, "SELECT enabled_at FROM user_second_factors WHERE user_id = :u", u=world.admin) is None
    assert client.get("/dashboard/").status_code == 302  # still gated

    done = post(client, "/account/second-factor/confirm", {"code": sf.code_at(secret, T0)})
    assert done.status_code == 303 and "handoff=" in done.headers["Location"]
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    codes = CODES.findall(shown)
    assert len(codes) == 10 and len(set(codes)) == 10 and "shown only this once" in shown
    hashes = {r["code_hash"] for r in rows(app, "SELECT code_hash FROM recovery_codes WHERE user_id = :u",
                                            u=world.admin)}
    assert hashes == {sf.hash_recovery_code(c) for c in codes}  # only SHA-256 stored
    again = client.get(done.headers["Location"]).get_data(as_text=True)
    assert not CODES.findall(again) and "already shown" in again  # never again
    assert client.get("/dashboard/").status_code == 200  # the confirming session passed the step
    assert failures(app, ADMIN) == 0  # the wrong try was cleared by the passing code


def test_challenge_accepts_a_code_and_refuses_wrong_replayed_and_expired_ones(app, world):
    secret, _ = enrol(app, world.staff, "staff", T0 - timedelta(minutes=5))
    client = app.test_client()
    assert login(client, STAFF).status_code == 302
    gated = client.get("/students/?q=a")
    assert gated.status_code == 302 and "/auth/second-factor?next=" in gated.headers["Location"]
    assert client.get("/account/second-factor").status_code == 302  # enrolled: the challenge only
    page = client.get("/auth/second-factor").get_data(as_text=True)
    assert "Enter your code" in page and 'autocomplete="one-time-code"' in page

    before = scalar(app, "SELECT last_used_step FROM user_second_factors WHERE user_id = :u", u=world.staff)
    current = sf.code_at(secret, T0)
    wrong = answer(client, "123456" if current != "123456" else "654321")
    assert wrong.status_code == 422 and "That code is not right" in wrong.get_data(as_text=True)
    expired = answer(client, sf.code_at(secret, T0 - timedelta(minutes=2)))
    assert expired.status_code == 422 and "That code has expired" in expired.get_data(as_text=True)
    assert failures(app, STAFF) == 3  # the password step and the two refused codes
    assert scalar(app, "SELECT last_used_step FROM user_second_factors WHERE user_id = :u", u=world.staff) == before
    assert scalar(app, "SELECT second_factor_at FROM user_sessions WHERE user_id = :u", u=world.staff) is None

    ok = answer(client, current, next_url="/students/")
    assert ok.status_code == 303 and ok.headers["Location"].endswith("/students/")
    assert client.get("/students/").status_code == 200
    assert failures(app, STAFF) == 0

    other = app.test_client()  # the same code in another session, within its window
    login(other, STAFF)
    replay = answer(other, current)
    assert replay.status_code == 422 and "already used" in replay.get_data(as_text=True)
    world.frozen(T0 + timedelta(seconds=30))
    assert answer(other, sf.code_at(secret, T0 + timedelta(seconds=30))).status_code == 303
    actions = [r["action"] for r in rows(app, "SELECT action FROM audit_trail WHERE user_id = :u ORDER BY id",
                                          u=world.staff)]
    assert actions.count("second_factor_failed") == 3 and actions.count("second_factor_passed") == 2


def test_a_recovery_code_works_once(app, world):
    _, codes = enrol(app, world.admin, "admin", T0 - timedelta(minutes=5))
    client = app.test_client()
    login(client, ADMIN)
    used = answer(client, codes[3].lower().replace("-", " "))  # case and spacing do not matter
    assert used.status_code == 303
    assert "9 recovery codes left" in client.get("/dashboard/").get_data(as_text=True)
    other = app.test_client()
    login(other, ADMIN)
    again = answer(other, codes[3])
    assert again.status_code == 422 and "already used" in again.get_data(as_text=True)


def test_a_locked_account_gets_429_with_retry_after_and_nothing_is_checked(app, world):
    secret, _ = enrol(app, world.staff, "staff", T0 - timedelta(minutes=5))
    client = app.test_client()
    login(client, STAFF)
    wrong = "123456" if sf.code_at(secret, T0) != "123456" else "654321"
    for _ in range(9):  # the password step counts too: 10 failures
        assert answer(client, wrong).status_code == 422
    locked = answer(client, sf.code_at(secret, T0))
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Too many failed attempts" in locked.get_data(as_text=True)
    assert failures(app, STAFF) == 10  # the refused try was not counted
    assert scalar(app, "SELECT last_used_step FROM user_second_factors WHERE user_id = :u", u=world.staff) \
        < sf.step_at(T0)  # the right code was not checked
    assert login(app.test_client(), STAFF).status_code == 429  # and the password is locked too


def test_students_and_instructors_may_switch_it_on_and_off(app, world):
    client = app.test_client()
    assert login(client, STUDENT).status_code == 302
    assert client.get("/dashboard/").status_code == 200  # optional: no step without a factor
    assert "Second factor (authenticator app)" in client.get("/account/").get_data(as_text=True)
    post(client, "/account/second-factor/enrol")
    with app.app_context():
        secret, _ = sf.pending_enrolment(get_db(), world.student, app.config)
    assert post(client, "/account/second-factor/confirm", {"code": sf.code_at(secret, T0)}).status_code == 303
    assert client.get("/dashboard/").status_code == 200  # this session passed by confirming
    fresh = app.test_client()
    login(fresh, STUDENT)
    assert fresh.get("/dashboard/").status_code == 302  # enrolled: the step is now due
    off = post(client, "/account/second-factor/disable")
    assert off.status_code == 303
    assert scalar(app, "SELECT COUNT(*) FROM user_second_factors WHERE user_id = :u", u=world.student) == 0
    assert scalar(app, "SELECT COUNT(*) FROM recovery_codes WHERE user_id = :u", u=world.student) == 0


def test_admin_and_staff_cannot_switch_it_off_but_can_make_new_codes(app, world):
    secret, old_codes = enrol(app, world.staff, "staff", T0 - timedelta(minutes=5))
    client = app.test_client()
    login(client, STAFF)
    answer(client, sf.code_at(secret, T0))
    page = client.get("/account/second-factor").get_data(as_text=True)
    assert "Make new recovery codes" in page and "Switch off" not in page
    refused = post(client, "/account/second-factor/disable")
    assert refused.status_code == 409 and "cannot be switched off" in refused.get_data(as_text=True)
    assert scalar(app, "SELECT COUNT(*) FROM user_second_factors WHERE user_id = :u", u=world.staff) == 1
    fresh = post(client, "/account/second-factor/codes")
    assert fresh.status_code == 303
    new_codes = CODES.findall(client.get(fresh.headers["Location"]).get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert scalar(app, "SELECT COUNT(*) FROM recovery_codes WHERE user_id = :u AND code_hash = :h", u=world.staff,
                  h=sf.hash_recovery_code(old_codes[0])) == 0


def test_an_admin_resets_another_users_factor(app, world, tmp_path):
    admin_secret, _ = enrol(app, world.admin, "admin", T0 - timedelta(minutes=5))
    enrol(app, world.instructor, "instructor", T0 - timedelta(minutes=5))
    victim = app.test_client()
    login(victim, INSTRUCTOR)
    admin = app.test_client()
    login(admin, ADMIN)
    answer(admin, sf.code_at(admin_secret, T0))
    page = admin.get(f"/instructors/{world.instructor_profile}").get_data(as_text=True)
    assert "Reset second factor" in page
    assert "Reset second factor" not in admin.get(f"/students/{world.student_profile}").get_data(as_text=True)

    response = post(admin, f"/account/second-factor/reset/{world.instructor}",
                    {"next": f"/instructors/{world.instructor_profile}"}, token_from="/dashboard/")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/instructors/{world.instructor_profile}")
    assert scalar(app, "SELECT COUNT(*) FROM user_second_factors WHERE user_id = :u", u=world.instructor) == 0
    assert scalar(app, "SELECT COUNT(*) FROM recovery_codes WHERE user_id = :u", u=world.instructor) == 0
    assert scalar(app, "SELECT COUNT(*) FROM user_sessions WHERE user_id = :u", u=world.instructor) == 0
    assert victim.get("/dashboard/").status_code == 302  # signed out
    assert scalar(app, "SELECT COUNT(*) FROM notifications WHERE user_id = :u AND title = :t", u=world.instructor,
                  t="Your second factor was reset") == 1
    assert scalar(app, "SELECT COUNT(*) FROM audit_trail WHERE action = 'second_factor_reset' AND entity_id = :u"
                  " AND user_id = :a", u=world.instructor, a=world.admin) == 1
    mails = [json.loads(line.split("] ", 1)[1]) for line in (tmp_path / "logs" / "outbound.log").read_text().splitlines()]
    assert any(m["to"] == INSTRUCTOR and "second factor was reset" in m["subject"] for m in mails)

    again = post(admin, f"/account/second-factor/reset/{world.instructor}", token_from="/dashboard/")
    assert again.status_code == 409  # nothing left to reset
    own = post(admin, f"/account/second-factor/reset/{world.admin}", token_from="/dashboard/")
    assert own.status_code == 409
    staff = app.test_client()
    enrol(app, world.staff, "staff", T0 - timedelta(minutes=5))
    login(staff, STAFF)
    answer(staff, sf.code_at(_secret_of(app, world.staff), T0))
    assert post(staff, f"/account/second-factor/reset/{world.admin}", token_from="/dashboard/").status_code == 403
    assert scalar(app, "SELECT COUNT(*) FROM user_second_factors WHERE user_id = :u", u=world.admin) == 1


def _secret_of(app, user_id):
    with app.app_context():
        row = get_db().fetch_one("SELECT secret FROM user_second_factors WHERE user_id = :u", {"u": user_id})
        return sf.decrypt_secret(row["secret"], user_id, app.config)


def test_the_seed_does_not_decrypt_with_another_key_or_for_another_user(app):
    sealed = sf.encrypt_secret("JBSWY3DPEHPK3PXP", 7, app.config)
    assert sf.decrypt_secret(sealed, 7, app.config) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(ValueError):
        sf.decrypt_secret(sealed, 8, app.config)
    with pytest.raises(ValueError):
        sf.decrypt_secret(sealed, 7, {"SECRET_KEY": "another-secret-key-that-is-long-enough"})


def test_the_demo_seed_enrols_admin_and_staff_and_demo_code_prints_a_working_code(app, frozen, tmp_path):
    from app.bootstrap import create_app
    from app.services import seed

    frozen(T0)
    with app.app_context():
        db = get_db()
        seed.seed_demo(db, T0, T0.date(), lived_in=False)
        assert seed.enrol_demo_second_factors(db, T0, app.config) == list(seed.DEMO_SECOND_FACTOR_EMAILS)
        assert seed.enrol_demo_second_factors(db, T0, app.config) == []  # once
    runner = app.test_cli_runner()
    logins = runner.invoke(args=["demo-logins"]).output
    assert "flask demo-code EMAIL" in logins
    code = runner.invoke(args=["demo-code", "admin@origin.com"])
    assert code.exit_code == 0 and re.fullmatch(r"\d{6}\n", code.output), code.output
    refused = runner.invoke(args=["demo-code", "jack.mason@student.com"])
    assert refused.exit_code == 1 and "not a demo account" in refused.output
    client = app.test_client()
    login(client, "admin@origin.com")
    assert answer(client, code.output.strip()).status_code == 303
    assert client.get("/dashboard/").status_code == 200

    staging = create_app(app_overrides(app.config["DATABASE_URL"], tmp_path, APP_ENV="staging"))
    elsewhere = staging.test_cli_runner().invoke(args=["demo-code", "admin@origin.com"])
    assert elsewhere.exit_code == 1 and "APP_ENV=local" in elsewhere.output


def test_the_operator_resets_a_factor_from_the_shell_when_no_administrator_can(app, world):
    """Break glass: every administrator lost their device (or SECRET_KEY changed). The operator's command
    removes the factor, audits it with the reason and no actor, ends the sessions and tells the user."""
    enrol(app, world.admin, "admin")
    client = app.test_client()
    login(client, ADMIN)
    runner = app.test_cli_runner()
    no_reason = runner.invoke(args=["reset-second-factor", ADMIN, "--reason", "  "])
    assert no_reason.exit_code == 1 and "Give the reason" in no_reason.output
    assert scalar(app, "SELECT COUNT(*) FROM user_second_factors WHERE user_id = :u", u=world.admin) == 1
    done = runner.invoke(args=["reset-second-factor", ADMIN.upper(), "--reason", "ticket 42: phone lost"])
    assert done.exit_code == 0 and "removed" in done.output, done.output
    assert scalar(app, "SELECT COUNT(*) FROM user_second_factors WHERE user_id = :u", u=world.admin) == 0
    assert scalar(app, "SELECT COUNT(*) FROM user_sessions WHERE user_id = :u", u=world.admin) == 0
    row = rows(app, "SELECT user_id, details FROM audit_trail WHERE action = 'second_factor_reset'")[-1]
    assert row["user_id"] is None and "ticket 42: phone lost" in row["details"]
    assert scalar(app, "SELECT COUNT(*) FROM notifications WHERE user_id = :u AND title LIKE '%second factor%'",
                  u=world.admin) == 1
    again = runner.invoke(args=["reset-second-factor", ADMIN, "--reason", "again"])
    assert again.exit_code == 1 and "no second factor" in again.output
    unknown = runner.invoke(args=["reset-second-factor", "nobody@x.com", "--reason", "x"])
    assert unknown.exit_code == 1 and "No account" in unknown.output


def test_codes_are_read_forgivingly_but_never_across_kinds():
    assert sf.normalise_code(" 123 456 ") == "123456"
    # 0/1/8 read as O/I/B in a recovery code
    assert sf.normalise_code("abcd-efgh-i0o1-8bcd-efgh-ijkl") == "ABCDEFGHIOOIBBCDEFGHIJKL"
    assert sf.normalise_code("101010") == "101010"  # never in a TOTP code
    assert sf.hash_recovery_code("ABCD-EFGH-IOOI-BBCD-EFGH-IJKL") == sf.hash_recovery_code("abcd efgh i0o1 8bcd efgh ijkl")


def test_recovery_codes_carry_at_least_112_bits():
    """ASVS 4.0.3 V2.6.2: an unsalted hash is only acceptable for look-up secrets of 112 bits or more."""
    import math

    codes = sf._new_recovery_codes()
    assert len(codes) == 10 and len(set(codes)) == 10
    for code in codes:
        raw = code.replace("-", "")
        assert re.fullmatch(r"[A-Z2-7]{24}", raw) and code.count("-") == 5
    assert sf.RECOVERY_CODE_LENGTH * math.log2(32) >= 112


@pytest.mark.parametrize("code", ["٣٣٣٣٣٣", "𝟙𝟚𝟛𝟜𝟝𝟞", "\x00" * 6, "12345", "1234567", "'; DROP TABLE users; --",
                                  "ÀÉÎÕÜ-ÀÉÎÕ-ÜÀÉÎ", "<script>alert(1)</script>", "x" * 32])
def test_hostile_codes_are_a_clear_422_counted_and_never_a_500(app, world, code):
    secret, _ = enrol(app, world.staff, "staff", T0 - timedelta(minutes=5))
    client = app.test_client()
    login(client, STAFF)
    response = answer(client, code)
    assert response.status_code == 422, response.status_code
    assert "That code is not right" in response.get_data(as_text=True) or "A code is 6 digits" in response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


def test_the_code_fields_survive_hostile_and_generated_values(app, world):
    """The fuzz sweep's values (tests/fuzz_support.py: hostile and hypothesis-generated) in the code field of
    the challenge and of the set-up's confirmation: always a 4xx with the form, never a 500, never a pass."""
    import fuzz_support as fz

    app.config.update(LOGIN_MAX_FAILURES=10**6, LOGIN_MAX_FAILURES_PER_IP=0)  # throttle tested above: check every value
    enrol(app, world.staff, "staff", T0 - timedelta(minutes=5))
    challenged = app.test_client()
    login(challenged, STAFF)
    setting_up = app.test_client()
    login(setting_up, STUDENT)
    post(setting_up, "/account/second-factor/enrol")
    seen: list = []

    def check(value):
        for client, path, source in ((challenged, "/auth/second-factor", "/auth/second-factor"),
                                     (setting_up, "/account/second-factor/confirm", "/account/second-factor")):
            response = client.post(path, data={"code": value, "csrf_token": csrf_token(client, source)})
            seen.append((path, response.status_code, repr(value)[:40]))

    fz.sweep(check, fz.values_for("code", {"type": "text"}), 25)
    assert seen and all(status in (422,) for _, status, _ in seen), [s for s in seen if s[1] != 422][:5]
    assert challenged.get("/dashboard/").status_code == 302  # still not through
    assert scalar(app, "SELECT enabled_at FROM user_second_factors WHERE user_id = :u", u=world.student) is None


def test_a_stale_enrolment_session_confirms_the_password_first_and_the_gate_lets_it(app, world):
    client = app.test_client()
    login(client, ADMIN)
    world.frozen(T0 + timedelta(minutes=11))  # the sign-in no longer counts as a re-authentication
    refused = post(client, "/account/second-factor/enrol")
    assert refused.status_code == 303 and "/auth/confirm" in refused.headers["Location"]
    assert scalar(app, "SELECT COUNT(*) FROM user_second_factors WHERE user_id = :u", u=world.admin) == 0
    assert client.get(refused.headers["Location"]).status_code == 200  # open before the second step
    confirmed = post(client, refused.headers["Location"], {"password": DEMO_PASSWORD}, token_from=refused.headers["Location"])
    assert confirmed.status_code in (302, 303) and confirmed.headers["Location"].endswith("/account/second-factor")
    assert post(client, "/account/second-factor/enrol").status_code == 303
    assert scalar(app, "SELECT COUNT(*) FROM user_second_factors WHERE user_id = :u", u=world.admin) == 1


def test_passing_the_second_step_issues_a_new_session_token(app, world):
    """The cookie of the password-only step (captured, say, on a shared machine) does not become a full
    session when the code passes: the session gets a new token and the old cookie signs nobody in."""
    secret, _ = enrol(app, world.staff, "staff", T0 - timedelta(minutes=5))
    client = app.test_client()
    login(client, STAFF)
    half_way = client.get_cookie("origin_session").value
    token_before = scalar(app, "SELECT token_hash FROM user_sessions WHERE user_id = :u", u=world.staff)
    assert answer(client, sf.code_at(secret, T0)).status_code == 303
    assert client.get("/students/").status_code == 200
    assert scalar(app, "SELECT token_hash FROM user_sessions WHERE user_id = :u", u=world.staff) != token_before
    attacker = app.test_client()
    attacker.set_cookie("origin_session", half_way)
    refused = attacker.get("/students/")
    assert refused.status_code == 302 and "/auth/login" in refused.headers["Location"]
