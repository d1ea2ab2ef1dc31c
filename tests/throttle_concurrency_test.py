"""Sign-in throttling holds under parallel guesses (both backends): 30 wrong passwords sent at once
against one account get at most LOGIN_MAX_FAILURES password verifications, because the lock check
and the recorded attempt are one transaction and the attempt is recorded before the hash is checked.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import threading
import time
from datetime import datetime

import pytest

from app.core import passwords
from app.core.database import Database
from app.core.errors import AuthenticationFailed, TooManyAttempts
from app.dao.audit import AuditDAO
from app.services import auth as auth_service
from tests.conftest import DEMO_PASSWORD, FAST_HASH
from tests.factories import make_user

NOW = datetime(2026, 11, 26, 10, 0, 0)
SETTINGS = {"LOGIN_MAX_FAILURES": 10, "LOGIN_WINDOW_MINUTES": 15, "LOGIN_LOCK_MINUTES": 15,
            "LOGIN_MAX_FAILURES_PER_IP": 0}
THREADS = 30


class CountingVerify:
    """Thread-safe counter over passwords.verify_password (what services.auth calls)."""

    def __init__(self, real):
        self.real, self.calls, self.lock = real, 0, threading.Lock()

    def __call__(self, stored_hash, password):
        with self.lock:
            self.calls += 1
        time.sleep(0.02)  # a verification takes time: widen the window the race needs
        return self.real(stored_hash, password)


@pytest.fixture
def counted(monkeypatch):
    passwords.configure(FAST_HASH)
    counter = CountingVerify(passwords.verify_password)
    monkeypatch.setattr(passwords, "verify_password", counter)
    yield counter
    passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


def _attack(db_url: str, email: str, password: str, threads: int) -> dict:
    """``threads`` sign-ins at once, each on its own connection; outcome counts by kind."""
    # The audit chain's head row is created by the first audit write ever. Created here, so the race
    # measures the throttle, not first writers racing to create that row (a separate defect: on an
    # empty audit_chain, parallel first writes can deadlock on MariaDB).
    setup = Database.from_url(db_url)
    with setup.transaction():
        AuditDAO(setup).lock_head()
    setup.close()
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []
    outcome_lock = threading.Lock()

    def attempt(i: int) -> None:
        db = Database.from_url(db_url)
        try:
            db.ping()  # connect before the start line
            barrier.wait(timeout=10)
            try:
                auth_service.login(db, email, password, ip=f"198.51.100.{i + 1}", user_agent="race",
                                   now=NOW, settings=SETTINGS)
                kind = "ok"
            except AuthenticationFailed:
                kind = "failed"
            except TooManyAttempts:
                kind = "locked"
            except Exception as exc:  # anything else is a defect: reported by the assertion
                kind = f"error {type(exc).__name__}: {exc}"
        finally:
            db.close()
        with outcome_lock:
            outcomes.append(kind)

    workers = [threading.Thread(target=attempt, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=20)
    assert not any(worker.is_alive() for worker in workers), "sign-in threads hung"
    summary: dict = {}
    for kind in outcomes:
        summary[kind] = summary.get(kind, 0) + 1
    return summary


def test_parallel_wrong_passwords_get_at_most_the_limit_of_verifications(db, db_url, counted):
    email = "target@origin.com"
    make_user(db, email=email, password_hash=passwords.hash_password(DEMO_PASSWORD))
    started = time.monotonic()
    summary = _attack(db_url, email, "wrong-guess", THREADS)
    elapsed = time.monotonic() - started
    assert summary == {"failed": 10, "locked": 20}, summary
    assert counted.calls <= SETTINGS["LOGIN_MAX_FAILURES"]
    assert counted.calls == 10
    assert elapsed < 15, elapsed
    recorded = db.fetch_value("SELECT COUNT(*) FROM login_attempts WHERE email = :e AND succeeded = 0",
                              {"e": email}, cast=int)
    assert recorded == 10  # refused attempts are not counted
    # the right password is refused too while locked, and is not verified
    with pytest.raises(TooManyAttempts):
        auth_service.login(db, email, DEMO_PASSWORD, ip="198.51.100.99", user_agent=None, now=NOW,
                           settings=SETTINGS)
    assert counted.calls == 10


def test_parallel_right_passwords_all_succeed_and_leave_no_failures(db, db_url, counted):
    email = "busy@origin.com"
    make_user(db, email=email, password_hash=passwords.hash_password(DEMO_PASSWORD))
    # Fewer than the limit at once: each is recorded as a failure until its password checks out
    # (more than LOGIN_MAX_FAILURES simultaneous sign-ins to one account would be refused, by design).
    summary = _attack(db_url, email, DEMO_PASSWORD, 8)
    assert summary == {"ok": 8}, summary
    rows = db.fetch_all("SELECT succeeded FROM login_attempts WHERE email = :e", {"e": email})
    assert len(rows) == 8 and all(r["succeeded"] == 1 for r in rows)
    assert db.fetch_value("SELECT COUNT(*) FROM user_sessions", cast=int) == 8
    assert auth_service.lock_status(db, email, NOW, SETTINGS) == 0


def test_unknown_email_is_recorded_and_costs_one_hash(db, counted):
    with pytest.raises(AuthenticationFailed) as failure:
        auth_service.login(db, "nobody@origin.com", "whatever", ip="203.0.113.5", user_agent=None,
                           now=NOW, settings=SETTINGS)
    assert failure.value.message == auth_service.GENERIC_FAILURE
    assert counted.calls == 1  # burn_time verifies against a dummy hash
    row = db.fetch_one("SELECT email, user_id, succeeded FROM login_attempts")
    assert row == {"email": "nobody@origin.com", "user_id": None, "succeeded": 0}
