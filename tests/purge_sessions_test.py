"""`flask purge-sessions` and services.maintenance.purge_sessions on both backends: expired sessions
(idle or past their absolute lifetime) and login attempts older than 90 days (--days) are deleted,
in batches; live sessions and recent attempts stay."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import hashlib
from datetime import datetime, timedelta

import pytest

from app.dao.login_attempt import LoginAttemptDAO
from app.dao.user_session import UserSessionDAO
from app.services import maintenance
from tests.factories import make_user

NOW = datetime(2026, 11, 26, 3, 45, 0)
SETTINGS = {"SESSION_IDLE_MINUTES": 30, "SESSION_ABSOLUTE_HOURS": 12}


def _session(db, user, created, last_seen):
    sessions = UserSessionDAO(db)
    session_id = sessions.create(user, hashlib.sha256(f"{user}-{created}-{last_seen}".encode()).hexdigest(),
                                 created, None, None)
    sessions.touch(session_id, last_seen)
    return session_id


def _world(db):
    """Sessions and attempts on both sides of every cut-off; returns the ids that must stay."""
    user = make_user(db)
    keep_sessions = {
        _session(db, user, NOW - timedelta(hours=1), NOW - timedelta(minutes=5)),       # live
        _session(db, user, NOW - timedelta(hours=1), NOW - timedelta(minutes=30)),      # idle edge
        _session(db, user, NOW - timedelta(hours=12), NOW - timedelta(minutes=1)),      # age edge
    }
    _session(db, user, NOW - timedelta(hours=2), NOW - timedelta(minutes=31))           # idle
    _session(db, user, NOW - timedelta(hours=13), NOW - timedelta(minutes=1))           # too old
    _session(db, user, NOW - timedelta(days=40), NOW - timedelta(days=40))              # both
    attempts = LoginAttemptDAO(db)
    for days in (91, 120, 365, 400, 1000):
        attempts.record("old@origin.com", user, "198.51.100.1", days % 2 == 0, NOW - timedelta(days=days))
    keep_attempts = {
        attempts.record("edge@origin.com", None, None, False, NOW - timedelta(days=90)),
        attempts.record("recent@origin.com", user, None, True, NOW - timedelta(days=10)),
        attempts.record("now@origin.com", None, None, False, NOW - timedelta(minutes=3)),
    }
    return keep_sessions, keep_attempts


def _ids(db, table):
    return {r["id"] for r in db.fetch_all(f"SELECT id FROM {table}")}


@pytest.mark.parametrize("batch", [1000, 2])
def test_purge_sessions_deletes_expired_sessions_and_old_attempts_only(db, batch):
    keep_sessions, keep_attempts = _world(db)
    counts = maintenance.purge_sessions(db, NOW, SETTINGS, batch=batch)
    assert counts == {"user_sessions": 3, "login_attempts": 5, "page_handoffs": 0}
    assert _ids(db, "user_sessions") == keep_sessions
    assert _ids(db, "login_attempts") == keep_attempts
    assert not db.in_transaction
    assert maintenance.purge_sessions(db, NOW, SETTINGS, batch=batch) == {"user_sessions": 0,
                                                                           "login_attempts": 0,
                                                                           "page_handoffs": 0}


def test_purge_sessions_removes_expired_page_handoffs_only(db):
    from app.dao.handoff import HandoffDAO
    from app.services import handoffs

    user = make_user(db)
    old_key = handoffs.create(db, user, "activation_link", {"link": "x"}, NOW - timedelta(hours=1))
    fresh_key = handoffs.create(db, user, "activation_link", {"link": "y"}, NOW - timedelta(minutes=1))
    counts = maintenance.purge_sessions(db, NOW, SETTINGS)
    assert counts["page_handoffs"] == 1
    assert handoffs.take(db, old_key, user, "activation_link", NOW) is None
    assert handoffs.take(db, fresh_key, user, "activation_link", NOW)["link"] == "y"
    assert HandoffDAO(db).delete_expired(NOW + timedelta(days=1)) == 0


def test_attempt_days_moves_the_attempt_cut_off_and_must_be_positive(db):
    _, keep_attempts = _world(db)
    counts = maintenance.purge_sessions(db, NOW, SETTINGS, attempt_days=5)
    assert counts["login_attempts"] == 5 + 2  # the 90- and 10-day-old ones go too
    assert _ids(db, "login_attempts") == keep_attempts - {min(keep_attempts), sorted(keep_attempts)[1]}
    with pytest.raises(ValueError):
        maintenance.purge_sessions(db, NOW, SETTINGS, attempt_days=0)


def test_session_settings_drive_the_expiry(db):
    user = make_user(db)
    kept = _session(db, user, NOW - timedelta(hours=1), NOW - timedelta(minutes=50))
    counts = maintenance.purge_sessions(db, NOW, {"SESSION_IDLE_MINUTES": 60, "SESSION_ABSOLUTE_HOURS": 12})
    assert counts["user_sessions"] == 0 and _ids(db, "user_sessions") == {kept}


def test_purge_sessions_command(runner, db, frozen):
    keep_sessions, keep_attempts = _world(db)
    frozen(NOW)
    result = runner.invoke(args=["purge-sessions"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == ("purged 3 user_sessions, 5 login_attempts, 0 page_handoffs "
                                     "(expired sessions and one-time links; login attempts older than 90 days)")
    assert _ids(db, "user_sessions") == keep_sessions
    assert _ids(db, "login_attempts") == keep_attempts

    result = runner.invoke(args=["purge-sessions", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "0 user_sessions, 1 login_attempts" in result.output and "older than 30 days" in result.output
    assert len(_ids(db, "login_attempts")) == 2

    refused = runner.invoke(args=["purge-sessions", "--days", "0"])
    assert refused.exit_code == 2 and "--days" in refused.output
    assert len(_ids(db, "login_attempts")) == 2
