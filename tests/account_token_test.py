"""AccountTokenDAO: single use, expiry, revocation (both backends)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import datetime, timedelta

import pytest

from app.core.errors import Conflict
from app.dao.account_token import AccountTokenDAO
from tests import factories as f

NOW = datetime(2026, 11, 26, 9, 0, 0)


def test_create_find_consume_once(db):
    user = f.make_user(db)
    dao = AccountTokenDAO(db)
    token_id = dao.create(user, "activation", "a" * 64, NOW + timedelta(hours=24), None, NOW)
    found = dao.find_usable("a" * 64, "activation", NOW)
    assert found["id"] == token_id and found["user_id"] == user
    assert dao.find_usable("a" * 64, "reset", NOW) is None
    assert dao.consume(token_id, NOW) is True
    assert dao.consume(token_id, NOW) is False  # single use
    assert dao.find_usable("a" * 64, "activation", NOW) is None


def test_expired_token_is_not_usable(db):
    user = f.make_user(db)
    dao = AccountTokenDAO(db)
    dao.create(user, "activation", "b" * 64, NOW + timedelta(hours=24), None, NOW)
    assert dao.find_usable("b" * 64, "activation", NOW + timedelta(hours=23, minutes=59)) is not None
    assert dao.find_usable("b" * 64, "activation", NOW + timedelta(hours=24)) is None


def test_revoke_unused_and_pending_for_users(db):
    first, second = f.make_user(db), f.make_user(db)
    dao = AccountTokenDAO(db)
    dao.create(first, "activation", "c" * 64, NOW + timedelta(hours=24), None, NOW)
    dao.create(second, "activation", "d" * 64, NOW + timedelta(hours=24), None, NOW)
    assert dao.pending_for_users([first, second], NOW) == {first, second}
    assert dao.revoke_unused(first, "activation", NOW) == 1
    assert dao.pending_for_users([first, second], NOW) == {second}
    assert dao.pending_for_users([], NOW) == set()


def test_duplicate_hash_and_unknown_purpose_are_refused(db):
    user = f.make_user(db)
    dao = AccountTokenDAO(db)
    dao.create(user, "activation", "e" * 64, NOW, None, NOW)
    with pytest.raises(Conflict):
        dao.create(user, "activation", "e" * 64, NOW, None, NOW)
    with pytest.raises(ValueError):
        dao.create(user, "other", "f" * 64, NOW, None, NOW)
