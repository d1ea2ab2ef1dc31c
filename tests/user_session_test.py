"""UserSessionDAO on both backends: the server-side session registry."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import hashlib
from datetime import datetime, timedelta

import pytest

from app.core.errors import Conflict
from app.dao.user_session import UserSessionDAO
from tests.factories import make_branch, make_user

NOW = datetime(2026, 3, 10, 9, 0, 0)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _session_row(db, session_id):
    return db.fetch_one(
        "SELECT user_id, token_hash, created_at, last_seen_at, ip_address, user_agent, second_factor_at"
        " FROM user_sessions WHERE id = :id", {"id": session_id})


def _session_ids(db) -> set:
    return {r["id"] for r in db.fetch_all("SELECT id FROM user_sessions")}


def test_create_then_find_with_user_returns_session_and_user_fields(db):
    branch = make_branch(db)
    user = make_user(db, role="instructor", first_name="Amelia", last_name="Ward",
                     email="amelia.ward@origin.com", branch_id=branch)
    sessions = UserSessionDAO(db)
    session_id = sessions.create(user, _hash("tok-1"), NOW, "203.0.113.9", "Mozilla/5.0")
    assert session_id > 0
    found = sessions.find_with_user(_hash("tok-1"))
    assert found == {
        "session_id": session_id, "session_created_at": NOW, "last_seen_at": NOW, "second_factor_at": None,
        "reauthenticated_at": None, "id": user, "role": "instructor", "first_name": "Amelia", "last_name": "Ward",
        "email": "amelia.ward@origin.com", "status": "active", "branch_id": branch, "second_factor_enabled_at": None,
        "instructor_profile_id": None, "student_profile_id": None,  # no profile yet
    }
    assert "password_hash" not in found
    row = _session_row(db, session_id)
    assert row["ip_address"] == "203.0.113.9" and row["user_agent"] == "Mozilla/5.0"
    assert sessions.find_with_user(_hash("unknown")) is None


def test_find_with_user_reports_archived_status(db):
    user = make_user(db, status="archived")
    sessions = UserSessionDAO(db)
    sessions.create(user, _hash("t"), NOW, None, None)
    assert sessions.find_with_user(_hash("t"))["status"] == "archived"


def test_blank_ip_and_user_agent_are_stored_as_null(db):
    user = make_user(db)
    sessions = UserSessionDAO(db)
    session_id = sessions.create(user, _hash("t"), NOW, "", "")
    row = _session_row(db, session_id)
    assert row["ip_address"] is None and row["user_agent"] is None


def test_long_ip_and_user_agent_are_truncated_to_the_columns(db):
    user = make_user(db)
    sessions = UserSessionDAO(db)
    long_ip = "2001:0db8:85a3:0000:0000:8a2e:0370:7334%eth0-extra-long-zone"  # 60 chars
    long_agent = "Mozilla/5.0 " + "x" * 400
    # MariaDB in strict mode refuses over-long values (error 1406): the DAO must cut them first
    session_id = sessions.create(user, _hash("t"), NOW, long_ip, long_agent)
    row = _session_row(db, session_id)
    assert row["ip_address"] == long_ip[:45] and len(row["ip_address"]) == 45
    assert row["user_agent"] == long_agent[:255] and len(row["user_agent"]) == 255


def test_duplicate_token_hash_is_a_conflict(db):
    first, second = make_user(db), make_user(db)
    sessions = UserSessionDAO(db)
    sessions.create(first, _hash("same"), NOW, None, None)
    with pytest.raises(Conflict):
        sessions.create(second, _hash("same"), NOW, None, None)


def test_touch_moves_last_seen_only_for_that_session(db):
    user = make_user(db)
    sessions = UserSessionDAO(db)
    a = sessions.create(user, _hash("a"), NOW, None, None)
    b = sessions.create(user, _hash("b"), NOW, None, None)
    later = NOW + timedelta(minutes=12, seconds=3)
    sessions.touch(a, later)
    assert _session_row(db, a)["last_seen_at"] == later
    assert _session_row(db, a)["created_at"] == NOW
    assert _session_row(db, b)["last_seen_at"] == NOW
    assert sessions.find_with_user(_hash("a"))["last_seen_at"] == later


def test_delete_and_delete_by_hash_remove_one_session(db):
    user = make_user(db)
    sessions = UserSessionDAO(db)
    a = sessions.create(user, _hash("a"), NOW, None, None)
    sessions.create(user, _hash("b"), NOW, None, None)
    c = sessions.create(user, _hash("c"), NOW, None, None)
    assert sessions.delete(a) == 1
    assert sessions.delete(a) == 0
    assert sessions.delete_by_hash(_hash("b")) == 1
    assert sessions.delete_by_hash(_hash("b")) == 0
    assert _session_ids(db) == {c}
    assert sessions.find_with_user(_hash("a")) is None and sessions.find_with_user(_hash("b")) is None
    assert sessions.find_with_user(_hash("c"))["session_id"] == c


def test_delete_for_user_and_count_for_user_affect_only_that_user(db):
    alice, bob = make_user(db), make_user(db)
    sessions = UserSessionDAO(db)
    for token in ("a1", "a2", "a3"):
        sessions.create(alice, _hash(token), NOW, None, None)
    bob_session = sessions.create(bob, _hash("b1"), NOW, None, None)
    assert sessions.count_for_user(alice) == 3
    assert sessions.count_for_user(bob) == 1
    assert sessions.delete_for_user(alice) == 3
    assert sessions.count_for_user(alice) == 0
    assert sessions.count_for_user(bob) == 1
    assert _session_ids(db) == {bob_session}
    assert sessions.delete_for_user(alice) == 0


def test_delete_expired_by_idle_and_by_absolute_cutoffs(db):
    user = make_user(db)
    sessions = UserSessionDAO(db)
    idle_before = NOW - timedelta(minutes=30)
    created_before = NOW - timedelta(hours=12)

    fresh = sessions.create(user, _hash("fresh"), NOW - timedelta(hours=1), None, None)
    sessions.touch(fresh, NOW - timedelta(minutes=5))
    idle = sessions.create(user, _hash("idle"), NOW - timedelta(hours=1), None, None)
    sessions.touch(idle, NOW - timedelta(minutes=31))
    too_old = sessions.create(user, _hash("old"), NOW - timedelta(hours=13), None, None)
    sessions.touch(too_old, NOW - timedelta(minutes=1))  # active, but past the absolute lifetime
    on_idle_edge = sessions.create(user, _hash("idle-edge"), NOW - timedelta(hours=1), None, None)
    sessions.touch(on_idle_edge, idle_before)  # exactly at the cut-off: kept (strictly before expires)
    on_age_edge = sessions.create(user, _hash("age-edge"), created_before, None, None)
    sessions.touch(on_age_edge, NOW)

    assert sessions.delete_expired(idle_before, created_before) == 2
    assert _session_ids(db) == {fresh, on_idle_edge, on_age_edge}
    assert sessions.delete_expired(idle_before, created_before) == 0


def test_deleting_a_user_cascades_to_its_sessions(db):
    doomed, kept = make_user(db), make_user(db)
    sessions = UserSessionDAO(db)
    sessions.create(doomed, _hash("d1"), NOW, None, None)
    sessions.create(doomed, _hash("d2"), NOW, None, None)
    kept_session = sessions.create(kept, _hash("k1"), NOW, None, None)
    db.execute("DELETE FROM users WHERE id = :id", {"id": doomed})
    assert sessions.count_for_user(doomed) == 0
    assert _session_ids(db) == {kept_session}
    assert sessions.find_with_user(_hash("d1")) is None


def test_delete_expired_takes_at_most_limit_rows_per_call(db):
    user = make_user(db)
    sessions = UserSessionDAO(db)
    stale = [sessions.create(user, _hash(f"stale{i}"), NOW - timedelta(hours=13), None, None) for i in range(5)]
    live = sessions.create(user, _hash("live"), NOW, None, None)
    idle_before, created_before = NOW - timedelta(minutes=30), NOW - timedelta(hours=12)
    assert sessions.delete_expired(idle_before, created_before, limit=2) == 2
    assert _session_ids(db) == set(stale[2:]) | {live}  # the oldest ids go first
    assert sessions.delete_expired(idle_before, created_before, limit=2) == 2
    assert sessions.delete_expired(idle_before, created_before, limit=2) == 1
    assert _session_ids(db) == {live}


def test_reauthenticated_at_is_stored_at_creation_and_set_later(db):
    user = make_user(db)
    sessions = UserSessionDAO(db)
    sessions.create(user, _hash("fresh"), NOW, None, None, reauthenticated_at=NOW)
    stale = sessions.create(user, _hash("stale"), NOW, None, None)
    assert sessions.find_with_user(_hash("fresh"))["reauthenticated_at"] == NOW
    assert sessions.find_with_user(_hash("stale"))["reauthenticated_at"] is None
    later = NOW + timedelta(minutes=7)
    assert sessions.set_reauthenticated(stale, later) == 1
    assert sessions.find_with_user(_hash("stale"))["reauthenticated_at"] == later
    assert sessions.find_with_user(_hash("fresh"))["reauthenticated_at"] == NOW  # only that row changed


def test_list_active_for_user_keeps_own_live_sessions_most_recent_first(db):
    user, other = make_user(db), make_user(db)
    sessions = UserSessionDAO(db)
    older = sessions.create(user, _hash("older"), NOW - timedelta(hours=2), "198.51.100.7", "Firefox")
    newer = sessions.create(user, _hash("newer"), NOW - timedelta(hours=1), "203.0.113.9", "Chrome")
    sessions.touch(older, NOW - timedelta(minutes=20))
    sessions.touch(newer, NOW - timedelta(minutes=5))
    idle = sessions.create(user, _hash("idle"), NOW - timedelta(hours=1), None, None)
    sessions.touch(idle, NOW - timedelta(minutes=31))
    sessions.create(user, _hash("old"), NOW - timedelta(hours=13), None, None)  # past the absolute limit
    sessions.create(other, _hash("other"), NOW, None, None)
    rows = sessions.list_active_for_user(user, NOW - timedelta(minutes=30), NOW - timedelta(hours=12))
    assert [r["id"] for r in rows] == [newer, older]
    assert rows[0] == {"id": newer, "created_at": NOW - timedelta(hours=1), "last_seen_at": NOW - timedelta(minutes=5),
                       "ip_address": "203.0.113.9", "user_agent": "Chrome"}


def test_delete_of_user_deletes_only_the_users_own_session(db):
    user, other = make_user(db), make_user(db)
    sessions = UserSessionDAO(db)
    mine = sessions.create(user, _hash("mine"), NOW, None, None)
    theirs = sessions.create(other, _hash("theirs"), NOW, None, None)
    assert sessions.delete_of_user(user, theirs) == 0
    assert _session_ids(db) == {mine, theirs}
    assert sessions.delete_of_user(user, mine) == 1
    assert sessions.delete_of_user(user, mine) == 0
    assert _session_ids(db) == {theirs}


def test_delete_others_keeps_the_current_session_and_other_users(db):
    user, other = make_user(db), make_user(db)
    sessions = UserSessionDAO(db)
    keep = sessions.create(user, _hash("keep"), NOW, None, None)
    sessions.create(user, _hash("b"), NOW, None, None)
    sessions.create(user, _hash("c"), NOW, None, None)
    theirs = sessions.create(other, _hash("theirs"), NOW, None, None)
    assert sessions.delete_others(user, keep) == 2
    assert _session_ids(db) == {keep, theirs}
    assert sessions.delete_others(user, keep) == 0


def test_find_with_user_carries_the_profile_id_of_the_users_role(db):
    from tests.factories import make_instructor, make_student

    branch = make_branch(db)
    teacher = make_user(db, role="instructor", branch_id=branch)
    pupil = make_user(db, role="student", branch_id=branch)
    instructor = make_instructor(db, user_id=teacher, branch_id=branch)
    make_instructor(db, user_id=teacher, branch_id=branch)  # a second profile: the lowest id counts
    student = make_student(db, user_id=pupil, branch_id=branch)
    sessions = UserSessionDAO(db)
    sessions.create(teacher, _hash("teacher"), NOW, None, None)
    sessions.create(pupil, _hash("pupil"), NOW, None, None)
    found = sessions.find_with_user(_hash("teacher"))
    assert (found["instructor_profile_id"], found["student_profile_id"]) == (instructor, None)
    found = sessions.find_with_user(_hash("pupil"))
    assert (found["instructor_profile_id"], found["student_profile_id"]) == (None, student)
