"""StaffDAO on both backends: profile + account rows, list (search, filters, sorts), account edits."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime

import pytest

from app.core.database import count_queries
from app.core.pagination import ListQuery
from app.dao.staff import SORTS, StaffDAO
from tests import factories as f

NOW = datetime(2026, 11, 26, 9, 0, 0)


def _query(**args):
    return ListQuery.from_args(args, list(SORTS), "name", filters=("branch", "status"))


def make_staff(db, branch_id=None, **user):
    """A staff user and profile (the shared factories have no staff_profiles maker)."""
    profile = {k: user.pop(k) for k in ("position_title", "employment_type", "start_date", "notes") if k in user}
    user_id = f.make_user(db, role="staff", branch_id=branch_id, **user)
    return StaffDAO(db).insert(user_id, {"branch_id": branch_id, **profile}, NOW)


def test_insert_and_find_join_the_account_and_branch(db):
    branch = f.make_branch(db, name="Bayside")
    user_id = f.make_user(db, role="staff", first_name="Priya", last_name="Raman", email="priya@origin.com",
                          branch_id=branch)
    dao = StaffDAO(db)
    staff_id = dao.insert(user_id, {"branch_id": branch, "position_title": "Front Desk", "employment_type": None,
                                    "start_date": date(2023, 7, 3), "notes": None}, NOW)
    found = dao.find(staff_id)
    assert (found["first_name"], found["email"], found["branch_name"]) == ("Priya", "priya@origin.com", "Bayside")
    assert found["employment_type"] == "Full-time"  # the original DAO default
    assert found["start_date"] == date(2023, 7, 3) and found["user_id"] == user_id and found["status"] == "active"
    assert dao.find_by_user(user_id)["id"] == staff_id
    assert dao.find(999999) is None and dao.find_by_user(999999) is None


def test_update_profile_and_account(db):
    home, other = f.make_branch(db), f.make_branch(db, name="Other")
    dao = StaffDAO(db)
    staff_id = make_staff(db, home, position_title="Clerk")
    staff = dao.find(staff_id)
    assert dao.update(staff_id, {"branch_id": other, "position_title": "Manager", "employment_type": "Casual",
                                 "start_date": date(2024, 1, 2), "notes": "Promoted"}, NOW) == 1
    assert dao.update_account(staff["user_id"], {"first_name": "New", "last_name": "Name", "phone": "0400 000 000",
                                                 "branch_id": other}, NOW) == 1
    found = dao.find(staff_id)
    assert (found["position_title"], found["employment_type"], found["notes"]) == ("Manager", "Casual", "Promoted")
    assert (found["first_name"], found["last_name"], found["phone"]) == ("New", "Name", "0400 000 000")
    assert found["branch_name"] == "Other"
    assert db.fetch_value("SELECT branch_id FROM users WHERE id = :id", {"id": staff["user_id"]}) == other
    # only office accounts are touched through this DAO
    student = f.make_user(db, role="student")
    assert dao.update_account(student, {"first_name": "X", "last_name": "Y", "branch_id": other}, NOW) == 0


def test_list_page_search_filters_sorts_in_two_queries(db):
    dao = StaffDAO(db)
    cbd, bay = f.make_branch(db, name="CBD"), f.make_branch(db, name="Bayside")
    make_staff(db, cbd, first_name="Oliver", last_name="Grant", email="oliver@origin.com",
               position_title="Operations", start_date=date(2021, 2, 15))
    make_staff(db, bay, first_name="Priya", last_name="Raman", email="priya@origin.com",
               position_title="Front Desk", start_date=date(2023, 7, 3))
    make_staff(db, bay, first_name="Ann", last_name="Grant", email="ann_g@origin.com", status="archived",
               position_title="Bookkeeper 100%", start_date=date(2019, 5, 1))
    names = lambda **a: [s["first_name"] for s in dao.list_page(_query(**a)).items]  # noqa: E731
    with count_queries() as counter:
        dao.list_page(_query())
    assert counter.count == 2
    assert names() == ["Ann", "Oliver", "Priya"]  # surname, then first name
    assert names(dir="desc") == ["Priya", "Oliver", "Ann"]
    assert names(q="grant") == ["Ann", "Oliver"]
    assert names(q="front") == ["Priya"] and names(q="100%") == ["Ann"] and names(q="_") == ["Ann"]
    assert names(branch=str(bay)) == ["Ann", "Priya"]
    assert names(branch=str(bay), status="active") == ["Priya"]
    assert names(status="archived") == ["Ann"] and names(status="nonsense") == names()
    assert names(sort="start_date") == ["Ann", "Oliver", "Priya"]
    assert names(sort="branch") == ["Priya", "Ann", "Oliver"]  # Bayside first; ties by id
    assert names(sort="email")[0] == "Ann"
    page = dao.list_page(_query(per_page="2", page="2"))
    assert page.total == 3 and [s["first_name"] for s in page.items] == ["Priya"]
    assert page.items[0]["branch_name"] == "Bayside"


def test_create_staff_is_one_transaction_with_its_audit_row(db, monkeypatch):
    """User, profile, activation token and audit row are written together or not at all (spec 8.3.1)."""
    from app.core.errors import Conflict
    from app.services import staff as staff_service
    from app.services.scope import Actor

    admin = Actor(user_id=f.make_user(db, role="admin"), role="admin")
    branch = f.make_branch(db)
    data = {"first_name": "Chloe", "last_name": "Bennett", "email": "Chloe@Test.Origin", "branch_id": branch,
            "employment_type": None, "start_date": None}
    tables = ("users", "staff_profiles", "account_tokens", "audit_trail")
    before = {t: db.fetch_value(f"SELECT COUNT(*) FROM {t}") for t in tables}

    def broken_audit(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(staff_service.audit, "record", broken_audit)
    with pytest.raises(RuntimeError):
        staff_service.create_staff(db, admin, data, NOW, date(2026, 11, 26))
    assert {t: db.fetch_value(f"SELECT COUNT(*) FROM {t}") for t in tables} == before
    monkeypatch.undo()

    created = staff_service.create_staff(db, admin, data, NOW, date(2026, 11, 26))
    found = StaffDAO(db).find(created.staff_id)
    assert found["email"] == "chloe@test.origin" and found["role"] == "staff"
    assert found["employment_type"] == "Full-time" and found["start_date"] == date(2026, 11, 26)
    assert created.token and created.expires_at > NOW
    with pytest.raises(Conflict) as refused:
        staff_service.create_staff(db, admin, {**data, "email": "chloe@test.origin"}, NOW, date(2026, 11, 26))
    assert refused.value.field == "email"
