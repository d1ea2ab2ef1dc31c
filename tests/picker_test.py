"""PickerDAO on both backends: one page of instructors, students or vehicles of a branch by name, the
search over names, e-mail and plate (every word must match, LIKE wildcards literal), the count, archived
accounts left out, and the chosen ids looked up in one statement."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from app.core.database import count_queries
from app.core.pagination import ListQuery
from app.dao.picker import PickerDAO
from tests import factories as f


def query(q: str = "", page: int = 1, per_page: int = 25) -> ListQuery:
    return ListQuery(sort="name", page=page, per_page=per_page, q=q)


def person(db, kind, branch, first, last, status="active"):
    user = f.make_user(db, role=kind, branch_id=branch, first_name=first, last_name=last, status=status,
                       email=f"{first.lower()}.{last.lower()}@picker.test")
    return (f.make_instructor if kind == "instructor" else f.make_student)(db, user_id=user, branch_id=branch)


def test_instructors_of_one_branch_by_name_with_search_and_count(db):
    home, other = f.make_branch(db), f.make_branch(db)
    ward = person(db, "instructor", home, "Amelia", "Ward")
    abel = person(db, "instructor", home, "Zed", "Abel")
    person(db, "instructor", home, "Old", "Gone", status="archived")
    person(db, "instructor", other, "Tom", "Nguyen")
    dao = PickerDAO(db)
    page = dao.search("instructor", query(), branch_id=home)
    assert [r["id"] for r in page.items] == [abel, ward] and page.total == 2
    assert dao.search("instructor", query(), branch_id=None).total == 3
    assert [r["id"] for r in dao.search("instructor", query("amel war"), branch_id=home).items] == [ward]
    assert [r["id"] for r in dao.search("instructor", query("WARD@picker"), branch_id=home).items] == [ward]
    assert dao.search("instructor", query("Nguyen"), branch_id=home).total == 0
    assert dao.search("instructor", query("%"), branch_id=None).total == 0  # a literal percent sign


def test_pages_are_bounded_and_a_page_past_the_end_is_the_last(db):
    branch = f.make_branch(db)
    ids = [person(db, "student", branch, "Stu", f"Name{n:02d}") for n in range(30)]
    dao = PickerDAO(db)
    with count_queries() as counted:
        first = dao.search("student", query(per_page=25), branch_id=branch)
    assert counted.count == 2 and len(first.items) == 25 and first.total == 30 and first.pages == 2
    last = dao.search("student", query(page=99, per_page=25), branch_id=branch)
    assert last.page == 2 and [r["id"] for r in last.items] == ids[25:]


def test_students_enrolled_only_and_vehicles_by_plate(db):
    branch = f.make_branch(db)
    enrolled = person(db, "student", branch, "Ann", "Able")
    person(db, "student", branch, "Bob", "Idle")
    f.make_enrollment(db, student_id=enrolled)
    dao = PickerDAO(db)
    assert [r["id"] for r in dao.search("student", query(), branch_id=branch, enrolled_only=True).items] == [enrolled]
    assert dao.search("student", query(), branch_id=branch).total == 2
    car = f.make_vehicle(db, branch_id=branch, name="Corolla", plate_number="PIK-123")
    f.make_vehicle(db, branch_id=branch, name="Yaris", plate_number="ZZZ-999")
    assert [r["id"] for r in dao.search("vehicle", query("pik-1"), branch_id=branch).items] == [car]


def test_by_ids_finds_the_existing_ones_in_one_statement(db):
    branch = f.make_branch(db)
    a = person(db, "instructor", branch, "Amy", "One")
    b = person(db, "instructor", branch, "Ben", "Two", status="archived")
    dao = PickerDAO(db)
    with count_queries() as counted:
        found = dao.by_ids("instructor", [b, a, 999999, a])
    assert counted.count == 1 and set(found) == {a, b} and found[b]["status"] == "archived"
    assert found[a]["branch_id"] == branch
    assert dao.by_ids("vehicle", []) == {}


def test_a_search_over_the_whole_chain_matches_the_start_of_names_and_email(db):
    """No branch (admin, every branch): a word matches the start of a first or last name or of the
    e-mail (the indexed columns); within a branch it matches anywhere."""
    home = f.make_branch(db)
    smith = person(db, "student", home, "Ann", "Smith")
    person(db, "student", home, "Bo", "Goldsmith")
    dao = PickerDAO(db)
    assert [r["id"] for r in dao.search("student", query("smi"), branch_id=None).items] == [smith]
    assert [r["id"] for r in dao.search("student", query("ann.s"), branch_id=None).items] == [smith]
    assert dao.search("student", query("smi"), branch_id=home).total == 2  # anywhere, within a branch
    assert dao.search("student", query("mith"), branch_id=None).total == 0
    assert dao.search("student", query("%mith"), branch_id=None).total == 0  # a literal percent sign


def test_the_count_stops_at_the_cap(db, monkeypatch):
    from app.dao import picker as picker_dao
    from app.services import pickers
    from app.services.scope import Actor

    monkeypatch.setattr(picker_dao, "COUNT_CAP", 3)
    monkeypatch.setattr(pickers, "COUNT_CAP", 3)
    branch = f.make_branch(db)
    for n in range(5):
        person(db, "student", branch, "Cap", f"Person{n}")
    page = PickerDAO(db).search("student", query(per_page=2), branch_id=branch)
    assert page.capped and page.total == 4 and len(page.items) == 2  # cap + 1 counted: "3+"
    admin = Actor(user_id=1, role="admin")
    result = pickers.search(db, admin, "student", "cap", 1, branch_id=branch)
    assert result["capped"] and result["total_label"] == "3+" and result["pages_label"].endswith("+")
    assert not pickers.search(db, admin, "student", "person4", 1, branch_id=branch)["capped"]
