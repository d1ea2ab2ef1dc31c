if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

"""BranchDAO (both backends), including the original's branch scenarios (§5 branch_test)."""
from datetime import datetime

from app.core.database import count_queries
from app.core.pagination import ListQuery
from app.dao.branch import BranchDAO, SORTS
from tests import factories as f

NOW = datetime(2026, 11, 26, 9, 0, 0)


def _query(**args):
    return ListQuery.from_args(args, list(SORTS), "name")


def test_insert_find_update(db):
    dao = BranchDAO(db)
    branch_id = dao.insert({"name": "CBD Headquarters", "email": "cbd@origin.com.au", "city": "Melbourne"}, NOW)
    assert dao.find(branch_id)["name"] == "CBD Headquarters"
    assert dao.update(branch_id, {"name": "CBD HQ", "email": "cbd@origin.com.au"}, NOW) == 1
    found = dao.find(branch_id)
    assert found["name"] == "CBD HQ" and found["city"] is None  # update writes every field
    assert dao.find(999999) is None and not dao.exists(999999) and dao.exists(branch_id)


def test_list_page_search_sort_paginate_counts(db):
    dao = BranchDAO(db)
    ids = [dao.insert({"name": n, "city": c}, NOW) for n, c in
           (("Bayside", "St Kilda"), ("Northern", "Preston"), ("CBD", "Melbourne"), ("West_100%", "Footscray"))]
    f.make_student(db, branch_id=ids[0])
    f.make_student(db, branch_id=ids[0])
    with count_queries() as counter:
        page = dao.list_page(_query(sort="name", per_page="2"))
    assert counter.count == 2
    assert page.total == 4 and [b["name"] for b in page.items] == ["Bayside", "CBD"]
    assert page.items[0]["student_count"] == 2
    second = dao.list_page(_query(sort="name", per_page="2", page="2"))
    assert [b["name"] for b in second.items] == ["Northern", "West_100%"]
    assert [b["name"] for b in dao.list_page(_query(q="preston")).items] in (["Northern"],)
    assert [b["name"] for b in dao.list_page(_query(q="100%")).items] == ["West_100%"]  # wildcards escaped
    assert dao.list_page(_query(q="_")).total == 1
    desc = dao.list_page(_query(sort="city", dir="desc"))
    assert desc.items[0]["city"] == "St Kilda"


def test_scope_to_one_branch_and_options(db):
    dao = BranchDAO(db)
    a = dao.insert({"name": "A"}, NOW)
    dao.insert({"name": "B"}, NOW)
    assert [b["id"] for b in dao.list_page(_query(), only_id=a).items] == [a]
    assert [b["name"] for b in dao.options()] == ["A", "B"]
    assert [b["id"] for b in dao.options(only_id=a)] == [a]


def test_page_past_the_end_is_clamped(db):
    dao = BranchDAO(db)
    dao.insert({"name": "Only"}, NOW)
    page = dao.list_page(_query(page="99"))
    assert page.page == 1 and len(page.items) == 1
