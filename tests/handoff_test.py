"""Page hand-offs (both backends): HandoffDAO and services.handoffs. A value is readable once, only by
the user who created it, only before it expires; only the key's SHA-256 is stored; purge_expired
removes what was never shown."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import datetime, timedelta

import pytest

from app.core.errors import Conflict
from app.dao.handoff import HandoffDAO
from app.services import handoffs
from app.services.auth import hash_token
from tests import factories as f

NOW = datetime(2026, 11, 26, 9, 0, 0)


def test_dao_insert_find_delete_once(db):
    user = f.make_user(db)
    dao = HandoffDAO(db)
    handoff_id = dao.insert("a" * 64, user, "activation_link", '{"link": "x"}', NOW, NOW + timedelta(minutes=15))
    row = dao.find_usable("a" * 64, user, "activation_link", NOW)
    assert row["id"] == handoff_id and row["payload"] == '{"link": "x"}'
    assert row["expires_at"] == NOW + timedelta(minutes=15) and row["created_at"] == NOW
    assert dao.find_usable("a" * 64, user, "other_kind", NOW) is None
    assert dao.find_usable("a" * 64, f.make_user(db), "activation_link", NOW) is None  # another viewer
    assert dao.find_usable("a" * 64, user, "activation_link", NOW + timedelta(minutes=15)) is None  # expired
    assert dao.delete(handoff_id) is True
    assert dao.delete(handoff_id) is False
    assert dao.find_usable("a" * 64, user, "activation_link", NOW) is None


def test_dao_key_hash_is_unique(db):
    user = f.make_user(db)
    dao = HandoffDAO(db)
    dao.insert("b" * 64, user, "k", "{}", NOW, NOW)
    with pytest.raises(Conflict):
        dao.insert("b" * 64, user, "k", "{}", NOW, NOW)


def test_dao_delete_expired(db):
    user = f.make_user(db)
    dao = HandoffDAO(db)
    dao.insert("c" * 64, user, "k", "{}", NOW, NOW + timedelta(minutes=1))
    dao.insert("d" * 64, user, "k", "{}", NOW, NOW + timedelta(minutes=20))
    assert dao.delete_expired(NOW) == 0
    assert dao.delete_expired(NOW + timedelta(minutes=1)) == 1
    assert dao.find_usable("d" * 64, user, "k", NOW + timedelta(minutes=1)) is not None


def test_service_take_once_for_its_viewer_only(db):
    owner, other = f.make_user(db), f.make_user(db)
    key = handoffs.create(db, owner, "activation_link", {"link": "https://x/auth/activate/t", "emailed": False}, NOW)
    assert len(key) >= 32
    stored = db.fetch_one("SELECT key_hash, payload, expires_at FROM page_handoffs")
    assert stored["key_hash"] == hash_token(key) and key not in stored["key_hash"]  # only the hash is kept
    assert stored["expires_at"] == NOW + timedelta(minutes=handoffs.HANDOFF_MINUTES)
    assert handoffs.take(db, key, other, "activation_link", NOW) is None  # another user sees nothing
    assert handoffs.take(db, key, owner, "something_else", NOW) is None
    assert handoffs.take(db, key + "x", owner, "activation_link", NOW) is None
    taken = handoffs.take(db, key, owner, "activation_link", NOW + timedelta(minutes=5))
    assert taken["link"] == "https://x/auth/activate/t" and taken["emailed"] is False
    assert taken["handoff_expires_at"] == NOW + timedelta(minutes=15)
    assert handoffs.take(db, key, owner, "activation_link", NOW) is None  # shown once
    assert db.fetch_value("SELECT COUNT(*) FROM page_handoffs") == 0


@pytest.mark.parametrize("key", [None, "", "x" * 500])
def test_service_take_ignores_missing_or_absurd_keys(db, key):
    user = f.make_user(db)
    assert handoffs.take(db, key, user, "activation_link", NOW) is None
    assert handoffs.take(db, "abc", None, "activation_link", NOW) is None


def test_service_expiry_and_purge(db):
    user = f.make_user(db)
    old = handoffs.create(db, user, "activation_link", {"link": "a"}, NOW)
    fresh = handoffs.create(db, user, "activation_link", {"link": "b"}, NOW + timedelta(minutes=10))
    later = NOW + timedelta(minutes=handoffs.HANDOFF_MINUTES)
    assert handoffs.take(db, old, user, "activation_link", later) is None  # expired
    assert handoffs.purge_expired(db, later) == 1
    assert handoffs.take(db, fresh, user, "activation_link", later)["link"] == "b"
    assert handoffs.purge_expired(db, later) == 0
