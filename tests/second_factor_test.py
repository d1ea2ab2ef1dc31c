"""SecondFactorDAO and RecoveryCodeDAO (both backends): a pending factor is enabled once, a used step
only moves forward, the row lock read works, recovery codes are consumed once, and a passed session
gets second_factor_at and reauthenticated_at."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import datetime

from app.dao.second_factor import RecoveryCodeDAO, SecondFactorDAO
from app.dao.user_session import UserSessionDAO
from tests import factories as f

NOW = datetime(2026, 12, 1, 9, 0, 0)


def test_pending_factor_is_enabled_once_and_steps_only_move_forward(db):
    user, other = f.make_user(db), f.make_user(db)
    dao = SecondFactorDAO(db)
    dao.insert_pending(user, "v1:sealed", NOW)
    assert dao.find(user)["enabled_at"] is None and not dao.is_enabled(user)
    assert dao.advance_step(user, 5) == 0  # not enabled yet: nothing to advance
    assert dao.enable(user, 100, NOW) == 1
    assert dao.enable(user, 101, NOW) == 0  # already on
    with db.transaction():
        row = dao.find(user, lock=True)
    assert row == {"user_id": user, "secret": "v1:sealed", "enabled_at": NOW, "last_used_step": 100,
                   "created_at": NOW}
    assert dao.is_enabled(user) and not dao.is_enabled(other)
    assert dao.advance_step(user, 100) == 0 and dao.advance_step(user, 99) == 0  # replay, older
    assert dao.advance_step(user, 101) == 1
    assert dao.find(user)["last_used_step"] == 101
    assert dao.enabled_among([user, other]) == {user} and dao.enabled_among([]) == set()
    assert dao.delete(user) == 1 and dao.find(user) is None


def test_recovery_codes_are_replaced_and_consumed_once(db):
    user, other = f.make_user(db), f.make_user(db)
    codes = RecoveryCodeDAO(db)
    codes.replace(user, ["a" * 64, "b" * 64], NOW)
    codes.replace(other, ["a" * 64], NOW)  # the same hash for another user is allowed
    assert codes.remaining(user) == 2
    row = codes.find(user, "a" * 64)
    assert row["used_at"] is None
    assert codes.consume(row["id"], NOW) == 1
    assert codes.consume(row["id"], NOW) == 0
    assert codes.find(user, "a" * 64)["used_at"] == NOW
    assert codes.remaining(user) == 1 and codes.remaining(other) == 1
    codes.replace(user, ["c" * 64], NOW)
    assert codes.find(user, "a" * 64) is None and codes.remaining(user) == 1
    assert codes.delete_for_user(user) == 1 and codes.remaining(user) == 0


def test_a_passed_session_records_both_times_and_find_with_user_sees_the_factor(db):
    user = f.make_user(db)
    sessions = UserSessionDAO(db)
    session_id = sessions.create(user, "h" * 64, NOW, None, None)
    assert sessions.find_with_user("h" * 64)["second_factor_enabled_at"] is None
    dao = SecondFactorDAO(db)
    dao.insert_pending(user, "v1:x", NOW)
    dao.enable(user, 1, NOW)
    assert dao.mark_session_passed(session_id, NOW) == 1
    row = sessions.find_with_user("h" * 64)
    assert (row["second_factor_at"], row["reauthenticated_at"], row["second_factor_enabled_at"]) == (NOW, NOW, NOW)
