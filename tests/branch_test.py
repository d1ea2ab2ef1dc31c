"""BranchDAO (both backends), including the original's branch scenarios (§5 branch_test), the branch's time
zone and its structured opening hours (replace, read, the database's refusals, cascade)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import datetime, time

import pytest

from app.core.database import count_queries
from app.core.errors import IntegrityViolation
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


def test_counts_on_the_detail_page_in_one_query(db):
    from datetime import date, timedelta

    dao = BranchDAO(db)
    today = date(2026, 11, 26)
    home, other = f.make_branch(db), f.make_branch(db)
    mine = f.make_student(db, branch_id=home)
    f.make_student(db, branch_id=home)
    f.make_student(db, branch_id=other)
    teacher = f.make_instructor(db, branch_id=home)
    f.make_vehicle(db, branch_id=home)
    db.insert("staff_profiles", {"user_id": f.make_user(db, role="staff", branch_id=home), "branch_id": home})
    active = f.make_enrollment(db, student_id=mine, status="in_progress")
    f.make_enrollment(db, student_id=mine, status="completed")
    f.make_schedule(db, enrollment_id=active, instructor_id=teacher, branch_id=home, scheduled_date=today)
    f.make_schedule(db, enrollment_id=active, instructor_id=teacher, branch_id=home,
                    scheduled_date=today - timedelta(days=1))
    f.make_schedule(db, enrollment_id=active, instructor_id=teacher, branch_id=home,
                    scheduled_date=today + timedelta(days=3), status="cancelled")
    with count_queries() as counter:
        counts = dao.counts(home, today)
    assert counter.count == 1
    assert counts == {"students": 2, "instructors": 1, "staff": 1, "vehicles": 1, "active_enrolments": 1,
                      "upcoming_lessons": 1}
    assert set(dao.counts(f.make_branch(db), today).values()) == {0}


def test_original_branch_scenario_on_the_demo_seed(db):
    """Spec §5 branch_test: at least 3 branches; the first one is 'CBD Headquarters'."""
    from datetime import date

    from app.core import passwords
    from app.services.seed import seed_demo
    from tests.conftest import FAST_HASH

    passwords.configure(FAST_HASH)
    try:
        seed_demo(db, NOW, date(2026, 11, 26))
    finally:
        passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})
    dao = BranchDAO(db)
    page = dao.list_page(_query())
    assert page.total >= 3
    first = min(b["id"] for b in page.items)
    assert dao.find(first)["name"] == "CBD Headquarters"


def test_update_of_unknown_branch_touches_nothing(db):
    assert BranchDAO(db).update(424242, {"name": "Ghost", "email": "g@origin.com.au"}, NOW) == 0


# ------------------------------------------------------------------ time zone and structured opening hours
WEEKDAYS_8_TO_6 = [{"weekday": d, "open_time": time(8, 0), "close_time": time(18, 0)} for d in range(5)]
SATURDAY = {"weekday": 5, "open_time": time(8, 0), "close_time": time(13, 0)}


def test_timezone_is_read_with_the_branch_and_kept_by_an_edit(db):
    dao = BranchDAO(db)
    branch_id = dao.insert({"name": "Perth"}, NOW)
    assert dao.find(branch_id)["timezone"] is None  # NULL = APP_TIMEZONE
    assert dao.set_timezone(branch_id, "Australia/Perth", NOW) == 1
    dao.update(branch_id, {"name": "Perth CBD"}, NOW)  # the edit form does not carry the zone
    assert dao.find(branch_id)["timezone"] == "Australia/Perth"
    dao.set_timezone(branch_id, "", NOW)
    assert dao.find(branch_id)["timezone"] is None


def test_replace_and_read_opening_hours(db):
    dao = BranchDAO(db)
    branch_id, other = dao.insert({"name": "Bayside"}, NOW), dao.insert({"name": "Northern"}, NOW)
    assert dao.opening_hours(branch_id) == []
    lunch_split = [{"weekday": 2, "open_time": time(13, 30), "close_time": time(18, 0)},
                   {"weekday": 2, "open_time": time(8, 0), "close_time": time(12, 0)}]
    assert dao.replace_opening_hours(branch_id, [SATURDAY, *lunch_split], NOW) == 3
    dao.replace_opening_hours(other, WEEKDAYS_8_TO_6, NOW)
    assert dao.opening_hours(branch_id) == [
        {"weekday": 2, "open_time": time(8, 0), "close_time": time(12, 0)},
        {"weekday": 2, "open_time": time(13, 30), "close_time": time(18, 0)},
        {"weekday": 5, "open_time": time(8, 0), "close_time": time(13, 0)},
    ]
    assert dao.opening_hours(branch_id, weekday=5) == [SATURDAY]
    assert dao.opening_hours(branch_id, weekday=0) == []
    # replacing drops the old periods; the other branch is untouched
    assert dao.replace_opening_hours(branch_id, WEEKDAYS_8_TO_6 + [SATURDAY], NOW) == 6
    assert [r["weekday"] for r in dao.opening_hours(branch_id)] == [0, 1, 2, 3, 4, 5]
    assert dao.opening_hours(branch_id, weekday=2) == [WEEKDAYS_8_TO_6[2]]
    assert dao.replace_opening_hours(branch_id, [], NOW) == 0
    assert dao.opening_hours(branch_id) == []
    assert len(dao.opening_hours(other)) == 5


def test_replace_opening_hours_is_one_insert(db):
    dao = BranchDAO(db)
    branch_id = dao.insert({"name": "Bayside"}, NOW)
    with count_queries() as counter:
        dao.replace_opening_hours(branch_id, WEEKDAYS_8_TO_6 + [SATURDAY], NOW)
    assert counter.count <= 4  # begin, delete, one multi-row insert, commit


@pytest.mark.parametrize("bad", [
    {"weekday": 7, "open_time": time(8, 0), "close_time": time(9, 0)},
    {"weekday": -1, "open_time": time(8, 0), "close_time": time(9, 0)},
    {"weekday": 1, "open_time": time(9, 0), "close_time": time(9, 0)},
    {"weekday": 1, "open_time": time(18, 0), "close_time": time(8, 0)},
])
def test_database_refuses_a_bad_period_and_keeps_the_old_hours(db, bad):
    dao = BranchDAO(db)
    branch_id = dao.insert({"name": "Bayside"}, NOW)
    dao.replace_opening_hours(branch_id, [SATURDAY], NOW)
    with pytest.raises(IntegrityViolation):
        dao.replace_opening_hours(branch_id, [WEEKDAYS_8_TO_6[0], bad], NOW)
    assert dao.opening_hours(branch_id) == [SATURDAY]


def test_opening_hours_go_with_their_branch(db):
    dao = BranchDAO(db)
    branch_id = dao.insert({"name": "Bayside"}, NOW)
    dao.replace_opening_hours(branch_id, WEEKDAYS_8_TO_6, NOW)
    db.execute("DELETE FROM branches WHERE id = :id", {"id": branch_id})
    assert db.fetch_value("SELECT COUNT(*) AS n FROM branch_opening_hours", cast=int) == 0
    with pytest.raises(IntegrityViolation):
        dao.replace_opening_hours(999_999, [SATURDAY], NOW)


def test_demo_branches_have_structured_hours_and_the_default_zone(db):
    from app.core import passwords
    from app.services.seed import seed_demo
    from tests.conftest import FAST_HASH

    passwords.configure(FAST_HASH)
    try:
        seed_demo(db, NOW, NOW.date())
    finally:
        passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})
    dao = BranchDAO(db)
    branches = {b["name"]: b for b in db.fetch_all("SELECT id, name, timezone FROM branches")}
    assert len(branches) == 3 and all(b["timezone"] is None for b in branches.values())
    cbd = dao.opening_hours(branches["CBD Headquarters"]["id"])
    assert [(r["weekday"], r["open_time"], r["close_time"]) for r in cbd] == (
        [(d, time(8, 0), time(18, 0)) for d in range(5)] + [(5, time(8, 0), time(13, 0))])
    for branch in branches.values():
        hours = dao.opening_hours(branch["id"])
        assert hours and all(r["weekday"] != 6 for r in hours), branch["name"]  # closed on Sundays

