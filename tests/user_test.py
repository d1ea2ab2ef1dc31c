"""UserDAO on both backends: e-mail normalisation, look-ups, duplicates, passwords, status, logins, role counts."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import datetime, timedelta

import pytest

from app.core.errors import Conflict
from app.dao.user import UserDAO, normalize_email
from tests.factories import make_branch, make_user

NOW = datetime(2026, 3, 10, 9, 15, 0)


def _data(**overrides) -> dict:
    data = {"role": "staff", "first_name": "Oliver", "last_name": "Grant", "email": "operations@origin.com",
            "password_hash": "hash-1"}
    data.update(overrides)
    return data


def _raw(db, user_id) -> dict:
    return db.fetch_one(
        "SELECT email, password_hash, status, created_at, updated_at, last_login_at, password_changed_at"
        " FROM users WHERE id = :id", {"id": user_id})


def test_normalize_email_trims_and_lowercases():
    assert normalize_email("  Jack.Mason@Student.COM \t") == "jack.mason@student.com"
    assert normalize_email(None) == ""


def test_insert_stores_normalised_email_and_timestamps(db):
    branch = make_branch(db)
    users = UserDAO(db)
    user_id = users.insert(_data(email="  Operations@ORIGIN.com ", phone="0400 000 000", branch_id=branch), NOW)
    assert user_id > 0
    raw = _raw(db, user_id)
    assert raw["email"] == "operations@origin.com"
    assert raw["status"] == "active"
    assert raw["created_at"] == NOW and raw["updated_at"] == NOW
    assert raw["last_login_at"] is None and raw["password_changed_at"] is None


def test_find_by_id_returns_public_columns_without_hash(db):
    branch = make_branch(db)
    users = UserDAO(db)
    user_id = users.insert(_data(branch_id=branch, phone="123"), NOW)
    found = users.find_by_id(user_id)
    assert found == {
        "id": user_id, "role": "staff", "first_name": "Oliver", "last_name": "Grant",
        "email": "operations@origin.com", "phone": "123", "status": "active", "branch_id": branch,
        "last_login_at": None, "created_at": NOW,
    }
    assert "password_hash" not in found
    assert users.find_by_id(user_id + 1000) is None


def test_find_by_email_and_credentials_ignore_case_and_whitespace(db):
    users = UserDAO(db)
    user_id = users.insert(_data(email="amelia.ward@origin.com", role="instructor", password_hash="h-amelia"), NOW)
    make_user(db, email="someone.else@origin.com")
    by_email = users.find_by_email("  AMELIA.Ward@origin.com ")
    assert by_email is not None and by_email["id"] == user_id and "password_hash" not in by_email
    creds = users.find_credentials("Amelia.Ward@Origin.com\n")
    assert creds == {"id": user_id, "role": "instructor", "status": "active", "password_hash": "h-amelia"}
    assert users.find_by_email("nobody@origin.com") is None
    assert users.find_credentials("nobody@origin.com") is None
    assert users.password_hash(user_id) == "h-amelia"
    assert users.password_hash(user_id + 1000) is None


def test_duplicate_email_in_other_case_is_a_conflict_on_email(db):
    users = UserDAO(db)
    users.insert(_data(email="dup@origin.com"), NOW)
    with pytest.raises(Conflict) as info:
        users.insert(_data(email="  DUP@Origin.com  ", first_name="Other"), NOW)
    assert info.value.field == "email"
    assert db.fetch_value("SELECT COUNT(*) AS n FROM users", cast=int) == 1


def test_replace_hash_keeps_password_changed_at_but_set_password_stamps_it(db):
    users = UserDAO(db)
    user_id = users.insert(_data(password_hash="$2y$10$legacy"), NOW)
    later = NOW + timedelta(hours=1)
    users.replace_hash(user_id, "argon-upgraded", later)
    raw = _raw(db, user_id)
    assert raw["password_hash"] == "argon-upgraded"
    assert raw["updated_at"] == later
    assert raw["password_changed_at"] is None

    changed = NOW + timedelta(days=2)
    users.set_password(user_id, "argon-new-password", changed)
    raw = _raw(db, user_id)
    assert raw["password_hash"] == "argon-new-password"
    assert raw["password_changed_at"] == changed and raw["updated_at"] == changed


def test_password_updates_touch_only_the_given_user(db):
    users = UserDAO(db)
    target = users.insert(_data(email="a@origin.com", password_hash="a"), NOW)
    other = users.insert(_data(email="b@origin.com", password_hash="b"), NOW)
    users.set_password(target, "a2", NOW + timedelta(days=1))
    users.replace_hash(target, "a3", NOW + timedelta(days=2))
    assert _raw(db, other)["password_hash"] == "b"
    assert _raw(db, other)["password_changed_at"] is None
    assert _raw(db, other)["updated_at"] == NOW


def test_set_status_archives_and_reactivates(db):
    users = UserDAO(db)
    user_id = users.insert(_data(), NOW)
    later = NOW + timedelta(minutes=5)
    assert users.set_status(user_id, "archived", later) == 1
    assert users.find_by_id(user_id)["status"] == "archived"
    assert _raw(db, user_id)["updated_at"] == later
    assert users.find_credentials("operations@origin.com")["status"] == "archived"
    # setting the same status again still reports the matched row (FOUND_ROWS on MariaDB)
    assert users.set_status(user_id, "archived", later) == 1
    assert users.set_status(user_id, "active", later) == 1
    assert users.find_by_id(user_id)["status"] == "active"


def test_set_status_rejects_unknown_status_without_writing(db):
    users = UserDAO(db)
    user_id = users.insert(_data(), NOW)
    with pytest.raises(ValueError):
        users.set_status(user_id, "deleted", NOW + timedelta(hours=1))
    raw = _raw(db, user_id)
    assert raw["status"] == "active" and raw["updated_at"] == NOW


def test_set_status_on_missing_user_reports_zero_rows(db):
    users = UserDAO(db)
    user_id = users.insert(_data(), NOW)
    assert users.set_status(user_id + 1000, "archived", NOW) == 0
    assert users.find_by_id(user_id)["status"] == "active"


def test_record_login_stamps_last_login_and_updated_at_from_the_given_clock(db):
    users = UserDAO(db)
    user_id = users.insert(_data(), NOW)
    other = users.insert(_data(email="other@origin.com"), NOW)
    login_at = NOW + timedelta(days=1, seconds=7)
    users.record_login(user_id, login_at)
    assert users.find_by_id(user_id)["last_login_at"] == login_at
    raw = _raw(db, user_id)
    # the injected clock, never MariaDB's ON UPDATE CURRENT_TIMESTAMP (the server's wall clock)
    assert raw["updated_at"] == login_at
    assert raw["password_changed_at"] is None and raw["password_hash"] == "hash-1"
    assert users.find_by_id(other)["last_login_at"] is None
    assert _raw(db, other)["updated_at"] == NOW


def test_count_by_role_counts_every_role_present(db):
    users = UserDAO(db)
    assert users.count_by_role() == {}
    for role, n in (("admin", 1), ("staff", 2), ("student", 3)):
        for _ in range(n):
            make_user(db, role=role)
    make_user(db, role="student", status="archived")  # archived accounts are still accounts
    assert users.count_by_role() == {"admin": 1, "staff": 2, "student": 4}


def test_update_account_writes_only_account_fields_for_the_allowed_roles(db):
    from datetime import datetime

    from app.dao.user import UserDAO
    from tests import factories as f

    now = datetime(2026, 11, 26, 9, 0, 0)
    branch = f.make_branch(db)
    student = f.make_user(db, role="student")
    dao = UserDAO(db)
    changed = dao.update_account(student, {"first_name": "Ana", "email": " Ana@X.com ", "branch_id": branch,
                                           "role": "admin", "status": "archived"}, now, roles=("student",))
    assert changed == 1
    row = dao.find_by_id(student)
    assert (row["first_name"], row["email"], row["branch_id"]) == ("Ana", "ana@x.com", branch)
    assert (row["role"], row["status"]) == ("student", "active")  # never written through this method
    assert dao.update_account(student, {"first_name": "Eve"}, now, roles=("staff",)) == 0  # wrong role
    assert dao.find_by_id(student)["first_name"] == "Ana"
    assert dao.update_account(student, {"role": "admin"}, now, roles=("student",)) == 0  # nothing to write


def test_set_role_changes_only_that_user_and_refuses_unknown_roles(db):
    users = UserDAO(db)
    target, other = make_user(db, role="staff"), make_user(db, role="staff")
    later = NOW + timedelta(days=1)
    assert users.set_role(target, "admin", later) == 1
    assert users.find_by_id(target)["role"] == "admin" and _raw(db, target)["updated_at"] == later
    assert users.find_by_id(other)["role"] == "staff"
    with pytest.raises(ValueError):
        users.set_role(other, "owner", later)
    assert users.find_by_id(other)["role"] == "staff"


def test_active_admin_ids_skips_archived_admins_and_other_roles(db):
    users = UserDAO(db)
    first, second = make_user(db, role="admin"), make_user(db, role="admin")
    make_user(db, role="admin", status="archived")
    make_user(db, role="staff")
    assert users.active_admin_ids() == [first, second]
    with db.transaction():  # the locking form runs inside a transaction (FOR UPDATE on MariaDB)
        assert users.active_admin_ids(lock=True) == [first, second]
