"""LoginAttemptDAO on both backends: the login history behind per-account throttling."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import datetime, timedelta

from app.dao.login_attempt import LoginAttemptDAO
from app.dao.user import UserDAO
from tests.factories import make_user

NOW = datetime(2026, 3, 10, 9, 0, 0)
WINDOW_START = NOW - timedelta(minutes=15)
EMAIL = "jack.mason@student.com"


def _fail(dao, at, email=EMAIL):
    return dao.record(email, None, "198.51.100.7", False, at)


def _ok(dao, at, email=EMAIL):
    return dao.record(email, None, "198.51.100.7", True, at)


def test_record_stores_every_field(db):
    user = make_user(db, email=EMAIL)
    dao = LoginAttemptDAO(db)
    failed = dao.record(EMAIL, user, "198.51.100.7", False, NOW)
    succeeded = dao.record(EMAIL, user, None, True, NOW + timedelta(seconds=1))
    rows = {r["id"]: r for r in db.fetch_all(
        "SELECT id, email, user_id, ip_address, succeeded, attempted_at FROM login_attempts")}
    assert rows[failed] == {"id": failed, "email": EMAIL, "user_id": user, "ip_address": "198.51.100.7",
                            "succeeded": 0, "attempted_at": NOW}
    assert rows[succeeded]["succeeded"] == 1 and rows[succeeded]["ip_address"] is None
    assert rows[succeeded]["attempted_at"] == NOW + timedelta(seconds=1)


def test_record_truncates_long_email_and_ip(db):
    dao = LoginAttemptDAO(db)
    email = "a" * 200 + "@example.com"
    ip = "f" * 60
    attempt = dao.record(email, None, ip, False, NOW)  # MariaDB strict mode would refuse the raw values
    row = db.fetch_one("SELECT email, ip_address FROM login_attempts WHERE id = :id", {"id": attempt})
    assert len(row["email"]) == 160 and len(row["ip_address"]) == 45


def test_failures_since_with_no_history(db):
    assert LoginAttemptDAO(db).failures_since(EMAIL, WINDOW_START) == {"failures": 0, "latest": None}


def test_failures_since_counts_failures_inside_the_window_only(db):
    dao = LoginAttemptDAO(db)
    _fail(dao, NOW - timedelta(hours=2))
    _fail(dao, WINDOW_START - timedelta(seconds=1))
    _fail(dao, NOW - timedelta(minutes=10))
    _fail(dao, NOW - timedelta(minutes=2, seconds=30))
    result = LoginAttemptDAO(db).failures_since(EMAIL, WINDOW_START)
    assert result == {"failures": 2, "latest": NOW - timedelta(minutes=2, seconds=30)}


def test_failure_exactly_at_the_window_start_is_inside_it(db):
    dao = LoginAttemptDAO(db)
    _fail(dao, WINDOW_START)
    assert dao.failures_since(EMAIL, WINDOW_START) == {"failures": 1, "latest": WINDOW_START}


def test_latest_is_a_datetime_on_both_backends(db):
    dao = LoginAttemptDAO(db)
    _fail(dao, NOW - timedelta(minutes=3))
    _fail(dao, NOW - timedelta(minutes=1, seconds=59))
    latest = dao.failures_since(EMAIL, WINDOW_START)["latest"]
    assert type(latest) is datetime
    assert latest == datetime(2026, 3, 10, 8, 58, 1)
    # usable in the throttling arithmetic without conversion
    assert latest + timedelta(minutes=15) - NOW == timedelta(minutes=13, seconds=1)


def test_a_success_resets_the_count(db):
    dao = LoginAttemptDAO(db)
    _fail(dao, NOW - timedelta(minutes=10))
    _fail(dao, NOW - timedelta(minutes=9))
    _fail(dao, NOW - timedelta(minutes=8))
    _ok(dao, NOW - timedelta(minutes=7))
    assert dao.failures_since(EMAIL, WINDOW_START) == {"failures": 0, "latest": None}
    _fail(dao, NOW - timedelta(minutes=6))
    _fail(dao, NOW - timedelta(minutes=5))
    assert dao.failures_since(EMAIL, WINDOW_START) == {"failures": 2, "latest": NOW - timedelta(minutes=5)}


def test_only_the_latest_success_matters(db):
    dao = LoginAttemptDAO(db)
    _ok(dao, NOW - timedelta(minutes=12))
    _fail(dao, NOW - timedelta(minutes=11))
    _fail(dao, NOW - timedelta(minutes=10))
    _ok(dao, NOW - timedelta(minutes=4))
    _fail(dao, NOW - timedelta(minutes=3))
    assert dao.failures_since(EMAIL, WINDOW_START)["failures"] == 1


def test_success_before_the_window_does_not_hide_failures_inside_it(db):
    dao = LoginAttemptDAO(db)
    _ok(dao, NOW - timedelta(days=1))
    _fail(dao, NOW - timedelta(minutes=5))
    _fail(dao, NOW - timedelta(minutes=4))
    assert dao.failures_since(EMAIL, WINDOW_START) == {"failures": 2, "latest": NOW - timedelta(minutes=4)}


def test_failures_are_counted_per_email(db):
    dao = LoginAttemptDAO(db)
    other = "noah.williams@student.com"
    _fail(dao, NOW - timedelta(minutes=5))
    _fail(dao, NOW - timedelta(minutes=4))
    _fail(dao, NOW - timedelta(minutes=3), email=other)
    _ok(dao, NOW - timedelta(minutes=2), email=other)  # another account's success resets nothing here
    _fail(dao, NOW - timedelta(minutes=1), email=other)
    assert dao.failures_since(EMAIL, WINDOW_START) == {"failures": 2, "latest": NOW - timedelta(minutes=4)}
    assert dao.failures_since(other, WINDOW_START) == {"failures": 1, "latest": NOW - timedelta(minutes=1)}
    assert dao.failures_since("someone@else.com", WINDOW_START)["failures"] == 0


def test_email_case_and_whitespace_do_not_split_or_merge_accounts_differently_per_backend(db):
    # MariaDB compares e-mails case-insensitively, SQLite does not: the DAO normalises so both agree.
    dao = LoginAttemptDAO(db)
    _fail(dao, NOW - timedelta(minutes=5), email="Jack.Mason@Student.com")
    _fail(dao, NOW - timedelta(minutes=4), email=" jack.mason@student.com ")
    assert dao.failures_since(EMAIL, WINDOW_START)["failures"] == 2
    assert dao.failures_since("JACK.MASON@STUDENT.COM", WINDOW_START)["failures"] == 2
    stored = {r["email"] for r in db.fetch_all("SELECT email FROM login_attempts")}
    assert stored == {EMAIL}


def test_purge_before_removes_only_older_attempts(db):
    dao = LoginAttemptDAO(db)
    cutoff = NOW - timedelta(days=30)
    _fail(dao, cutoff - timedelta(days=1))
    _ok(dao, cutoff - timedelta(seconds=1))
    kept_edge = _fail(dao, cutoff)
    kept_new = _fail(dao, NOW)
    assert dao.purge_before(cutoff) == 2
    assert {r["id"] for r in db.fetch_all("SELECT id FROM login_attempts")} == {kept_edge, kept_new}
    assert dao.purge_before(cutoff) == 0


def test_failures_from_ip_counts_every_account_from_that_address(db):
    from datetime import datetime, timedelta

    from app.dao.login_attempt import LoginAttemptDAO

    dao = LoginAttemptDAO(db)
    t0 = datetime(2026, 11, 26, 9, 0, 0)
    for i in range(3):
        dao.record(f"user{i}@origin.com", None, "203.0.113.7", False, t0 + timedelta(minutes=i))
    dao.record("ok@origin.com", None, "203.0.113.7", True, t0 + timedelta(minutes=4))
    dao.record("user9@origin.com", None, "198.51.100.1", False, t0)
    stats = dao.failures_from_ip("203.0.113.7", t0)
    assert stats["failures"] == 3 and stats["latest"] == t0 + timedelta(minutes=2)
    assert dao.failures_from_ip("203.0.113.7", t0 + timedelta(minutes=1, seconds=30))["failures"] == 1


def test_purge_before_takes_at_most_limit_rows_per_call(db):
    dao = LoginAttemptDAO(db)
    cutoff = NOW - timedelta(days=90)
    old = [_fail(dao, cutoff - timedelta(days=i + 1)) for i in range(5)]
    kept = _fail(dao, NOW)
    assert dao.purge_before(cutoff, limit=3) == 3
    assert {r["id"] for r in db.fetch_all("SELECT id FROM login_attempts")} == set(old[3:]) | {kept}
    assert dao.purge_before(cutoff, limit=3) == 2
    assert dao.purge_before(cutoff, limit=3) == 0


def test_locked_credentials_and_mark_succeeded_flips_one_attempt(db):
    user = make_user(db, email=EMAIL, role="instructor", password_hash="h")
    dao = LoginAttemptDAO(db)
    with db.transaction():
        assert UserDAO(db).find_credentials("  Jack.Mason@Student.com ", lock=True) == {
            "id": user, "role": "instructor", "status": "active", "password_hash": "h"}
        assert UserDAO(db).find_credentials("nobody@origin.com", lock=True) is None
    first = _fail(dao, NOW - timedelta(minutes=2))
    second = _fail(dao, NOW - timedelta(minutes=1))
    assert dao.mark_succeeded(second) == 1
    rows = {r["id"]: r["succeeded"] for r in db.fetch_all("SELECT id, succeeded FROM login_attempts")}
    assert rows == {first: 0, second: 1}
    assert dao.failures_since(EMAIL, WINDOW_START)["failures"] == 0  # failures before a success no longer count
