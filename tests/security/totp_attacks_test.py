"""TOTP attacks (issue 11 verification suite): a replayed code and an old code are refused with a message
naming why; brute force through the sign-in challenge gets at most LOGIN_MAX_FAILURES code checks per lock
window (150 wrong codes at once: at most 10; 150 spread over an hour: at most 40), also when the attacker
knows the password and signs in again between guesses; the account is then locked (429, nothing checked)
and another account is unaffected. On MariaDB, two real connections submitting one valid code at the same
moment: exactly one passes (the factor row is locked FOR UPDATE), and parallel wrong codes get at most
LOGIN_MAX_FAILURES checks."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import shutil
import threading
from datetime import datetime, timedelta

import pytest

from app.core.database import Database
from app.core.errors import TooManyAttempts, ValidationFailed
from app.core.flask_db import get_db
from app.dao.audit import AuditDAO
from app.services import second_factor as sf
from app.services.scope import Actor
from conftest import DEMO_PASSWORD, _empty_mysql, app_overrides, csrf_token, login
from factories import make_user

T0 = datetime(2026, 12, 1, 9, 0, 0)
SETTINGS = {"LOGIN_MAX_FAILURES": 10, "LOGIN_WINDOW_MINUTES": 15, "LOGIN_LOCK_MINUTES": 15,
            "LOGIN_MAX_FAILURES_PER_IP": 0, "SECRET_KEY": "totp-attack-secret-key-long-enough-1234",
            "APP_NAME": "Origin Driving School", "SECOND_FACTOR_ROLES": "admin,staff"}
TARGET, BYSTANDER = "target@test.origin", "bystander@test.origin"


class Counted:
    """Counts calls of services.second_factor._check_totp: one per TOTP code actually checked."""

    def __init__(self, real):
        self.real, self.calls, self.lock = real, 0, threading.Lock()

    def __call__(self, *args, **kwargs):
        with self.lock:
            self.calls += 1
        return self.real(*args, **kwargs)


@pytest.fixture
def checks(monkeypatch):
    counter = Counted(sf._check_totp)
    monkeypatch.setattr(sf, "_check_totp", counter)
    return counter


@pytest.fixture
def app(sqlite_template, tmp_path):
    from app.bootstrap import create_app
    from app.core import passwords

    target = tmp_path / "attack.sqlite3"
    shutil.copyfile(sqlite_template, target)
    application = create_app(app_overrides(f"sqlite:///{target}", tmp_path, SECOND_FACTOR_ROLES="admin,staff",
                                           LOGIN_MAX_FAILURES_PER_IP=0))
    yield application
    passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


@pytest.fixture
def accounts(app, frozen):
    """Two enrolled staff accounts; their secrets."""
    from app.core import passwords

    frozen(T0)
    secrets = {}
    with app.app_context():
        db = get_db()
        hashed = passwords.hash_password(DEMO_PASSWORD)
        for email in (TARGET, BYSTANDER):
            user = make_user(db, role="staff", email=email, password_hash=hashed)
            actor = Actor(user_id=user, role="staff")
            start = T0 - timedelta(minutes=10)
            secret, _ = sf.begin_enrolment(db, actor, start, app.config)
            sf.confirm_enrolment(db, actor, sf.code_at(secret, start), start, app.config)
            secrets[email] = secret
    return secrets


def _wrong(secret, at, n=0):
    """A 6-digit code that is not valid at ``at`` (nor just before or after), varied by ``n``."""
    valid = {sf.code_at(secret, at + timedelta(seconds=s)) for s in range(-330, 60, 30)}
    candidate = n
    while f"{candidate % 1_000_000:06d}" in valid:
        candidate += 1
    return f"{candidate % 1_000_000:06d}"


def _answer(client, code):
    token = csrf_token(client, "/auth/second-factor")
    return client.post("/auth/second-factor", data={"code": code, "csrf_token": token})


def test_a_replayed_code_is_refused_even_inside_its_window(app, accounts, checks):
    secret = accounts[TARGET]
    first, second = app.test_client(), app.test_client()
    login(first, TARGET)
    login(second, TARGET)
    code = sf.code_at(secret, T0)
    assert _answer(first, code).status_code == 303
    replay = _answer(second, code)
    assert replay.status_code == 422 and "already used" in replay.get_data(as_text=True)
    # the previous step's code is inside the window but older than the used one: also a replay
    earlier = _answer(second, sf.code_at(secret, T0 - timedelta(seconds=30)))
    assert earlier.status_code == 422 and "already used" in earlier.get_data(as_text=True)
    assert second.get("/dashboard/").status_code == 302  # still not through


def test_a_code_older_than_the_window_is_refused_as_expired(app, accounts):
    client = app.test_client()
    login(client, TARGET)
    old = _answer(client, sf.code_at(accounts[TARGET], T0 - timedelta(seconds=90)))
    assert old.status_code == 422 and "expired" in old.get_data(as_text=True)
    just_inside = _answer(client, sf.code_at(accounts[TARGET], T0 - timedelta(seconds=30)))
    assert just_inside.status_code == 303  # one step back is within valid_window 1


def test_150_wrong_codes_at_once_get_at_most_ten_checks_then_a_lock_and_the_other_account_is_unaffected(
        app, accounts, checks):
    client = app.test_client()
    login(client, TARGET)
    statuses = [_answer(client, _wrong(accounts[TARGET], T0, n)).status_code for n in range(150)]
    assert checks.calls <= SETTINGS["LOGIN_MAX_FAILURES"]
    assert statuses.count(422) == checks.calls and statuses.count(429) == 150 - checks.calls
    locked = _answer(client, sf.code_at(accounts[TARGET], T0))  # even the right code: not checked
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert checks.calls <= SETTINGS["LOGIN_MAX_FAILURES"]
    assert login(app.test_client(), TARGET).status_code == 429  # the password is locked with it

    bystander = app.test_client()
    assert login(bystander, BYSTANDER).status_code == 302
    assert _answer(bystander, sf.code_at(accounts[BYSTANDER], T0)).status_code == 303
    assert bystander.get("/dashboard/").status_code == 200


def test_150_wrong_codes_spread_over_an_hour_get_at_most_forty_checks(app, accounts, checks, frozen):
    client = app.test_client()
    login(client, TARGET)
    for n in range(150):
        at = T0 + timedelta(seconds=24 * n)  # 150 guesses in 60 minutes
        frozen(at)
        if client.get("/auth/second-factor").status_code != 200:  # the session idled out: sign in again
            login(client, TARGET)
        _answer(client, _wrong(accounts[TARGET], at, n))
    assert checks.calls <= 40


def test_knowing_the_password_does_not_reset_the_count_of_guessed_codes(app, accounts, checks):
    """Signing in again between guesses records a (pending) failure instead of a success."""
    guesses = 0
    for _ in range(30):
        client = app.test_client()
        if login(client, TARGET).status_code == 429:
            continue
        for _ in range(5):
            _answer(client, _wrong(accounts[TARGET], T0, guesses))
            guesses += 1
    assert guesses >= 5 and checks.calls <= SETTINGS["LOGIN_MAX_FAILURES"]


# --------------------------------------------------------------------------- MariaDB, real parallel connections

def _enrolled_user(url, email):
    db = Database.from_url(url)
    try:
        with db.transaction():
            AuditDAO(db).lock_head()  # the chain head exists before the race (see throttle_concurrency_test)
        user = make_user(db, role="staff", email=email)
        actor = Actor(user_id=user, role="staff")
        start = T0 - timedelta(minutes=10)
        secret, _ = sf.begin_enrolment(db, actor, start, SETTINGS)
        sf.confirm_enrolment(db, actor, sf.code_at(secret, start), start, SETTINGS)
        return user, secret
    finally:
        db.close()


def _race(url, user, codes, at=T0):
    """Each code submitted on its own connection, all released at once; outcomes in order."""
    barrier = threading.Barrier(len(codes))
    outcomes: list = [None] * len(codes)

    def submit(i):
        db = Database.from_url(url)
        try:
            db.ping()
            barrier.wait(timeout=10)
            outcomes[i] = sf.verify(db, user, codes[i], now=at, settings=SETTINGS, ip=f"198.51.100.{i + 1}")
        except (ValidationFailed, TooManyAttempts) as exc:
            outcomes[i] = type(exc).__name__ + ": " + exc.message
        except Exception as exc:  # anything else is a defect, shown by the assertion
            outcomes[i] = f"error {type(exc).__name__}: {exc}"
        finally:
            db.close()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(codes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not any(t.is_alive() for t in threads), "verify threads hung"
    return outcomes


@pytest.mark.mysql_only
def test_one_code_sent_twice_at_the_same_moment_passes_once(mysql_schema):
    _empty_mysql(mysql_schema)
    user, secret = _enrolled_user(mysql_schema, "race@test.origin")
    for round_ in range(5):  # five steps, one race each
        at = T0 + timedelta(seconds=30 * round_)
        code = sf.code_at(secret, at)
        outcomes = _race(mysql_schema, user, [code, code], at)
        assert sorted(outcomes) == sorted(["totp", "ValidationFailed: " + sf.ALREADY_USED]), outcomes
    db = Database.from_url(mysql_schema)
    try:
        assert db.fetch_value("SELECT last_used_step FROM user_second_factors WHERE user_id = :u", {"u": user},
                              cast=int) == sf.step_at(T0 + timedelta(seconds=120))
    finally:
        db.close()


@pytest.mark.mysql_only
def test_thirty_parallel_wrong_codes_get_at_most_ten_checks(mysql_schema, checks):
    _empty_mysql(mysql_schema)
    user, secret = _enrolled_user(mysql_schema, "guess@test.origin")
    checks.calls = 0  # the enrolment's own code is not a guess
    outcomes = _race(mysql_schema, user, [_wrong(secret, T0, n) for n in range(30)])
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    assert checks.calls == SETTINGS["LOGIN_MAX_FAILURES"]
    assert sum(o.startswith("TooManyAttempts") for o in outcomes) == 30 - checks.calls
