"""CourseDAO on both backends: catalogue CRUD, list (search, filters, sorts, active enrolments) and the
course_instructor allocation, including the original's course scenario (§5 course_test)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime
from decimal import Decimal

import pytest

from app.core.database import count_queries
from app.core.errors import IntegrityViolation
from app.core.pagination import ListQuery
from app.dao.course import SORTS, CourseDAO
from app.services import stats
from tests import factories as f

NOW = datetime(2026, 11, 26, 9, 0, 0)


def _query(**args):
    return ListQuery.from_args(args, list(SORTS), "title", filters=("status", "category"))


def _course(**overrides):
    row = {"title": "Learner Essentials", "description": "Ten lessons", "price": Decimal("880.00"),
           "lesson_count": 10, "category": "Learner", "status": "active"}
    row.update(overrides)
    return row


def test_insert_find_update_keep_money_as_decimal(db):
    dao = CourseDAO(db)
    course_id = dao.insert(_course(price=Decimal("1234.50"), status=None), NOW)
    found = dao.find(course_id)
    assert found["title"] == "Learner Essentials" and found["status"] == "active"  # default status
    assert found["price"] == Decimal("1234.50") and isinstance(found["price"], Decimal)
    assert found["active_enrolments"] == 0
    assert dao.update(course_id, _course(title="Retired", status="inactive", price=Decimal("0.00")), NOW) == 1
    updated = dao.find(course_id)
    assert (updated["title"], updated["status"], updated["price"]) == ("Retired", "inactive", Decimal("0.00"))
    assert dao.find(999999) is None and dao.exists(course_id) and not dao.exists(999999)


def test_status_outside_the_enum_is_refused_by_the_database(db):
    with pytest.raises(IntegrityViolation):
        CourseDAO(db).insert(_course(status="paused"), NOW)


def test_list_page_counts_active_enrolments_in_two_queries(db):
    dao = CourseDAO(db)
    busy = f.make_course(db, title="Busy")
    quiet = f.make_course(db, title="Quiet")
    for status in ("active", "in_progress", "completed", "cancelled"):
        f.make_enrollment(db, course_id=busy, status=status)
    assert {c["id"]: c["active_enrolments"] for c in dao.list_page(_query()).items} == {busy: 0, quiet: 0}
    stats.refresh(db, datetime(2030, 1, 1, 12, 0), names=["course_totals"])  # flask refresh-stats counts them
    with count_queries() as counter:
        page = dao.list_page(_query())
    assert counter.count == 2
    counts = {c["id"]: c["active_enrolments"] for c in page.items}
    assert counts == {busy: 2, quiet: 0}
    assert all(isinstance(c["price"], Decimal) for c in page.items)


def test_search_filters_and_sorts(db):
    dao = CourseDAO(db)
    f.make_course(db, title="Learner Essentials", category="Learner", price=Decimal("880.00"), lesson_count=10)
    f.make_course(db, title="Night Driving", category="Learner", price=Decimal("190.00"), lesson_count=2,
                  status="inactive")
    f.make_course(db, title="Test Day 100%", category="Assessment", price=Decimal("320.00"), lesson_count=3)
    f.make_course(db, title="Conversion", category="Conversion", price=Decimal("540.00"), lesson_count=6)
    titles = lambda **a: [c["title"] for c in dao.list_page(_query(**a)).items]  # noqa: E731
    assert titles() == ["Conversion", "Learner Essentials", "Night Driving", "Test Day 100%"]
    assert titles(q="learner") == ["Learner Essentials", "Night Driving"]  # title or category, any case
    assert titles(q="100%") == ["Test Day 100%"] and titles(q="_") == []  # wildcards escaped
    assert titles(status="inactive") == ["Night Driving"]
    assert titles(status="bogus") == titles()  # unknown status filter is ignored
    assert titles(category="Learner", status="active") == ["Learner Essentials"]
    assert titles(sort="price", dir="desc") == ["Learner Essentials", "Conversion", "Test Day 100%", "Night Driving"]
    assert titles(sort="lesson_count") == ["Night Driving", "Test Day 100%", "Conversion", "Learner Essentials"]
    assert titles(sort="status", dir="desc")[0] == "Night Driving"
    assert dao.categories() == ["Assessment", "Conversion", "Learner"]
    paged = dao.list_page(_query(per_page="3", page="2"))
    assert paged.total == 4 and [c["title"] for c in paged.items] == ["Test Day 100%"]


def test_allocation_set_added_removed_and_names_in_one_query(db):
    dao = CourseDAO(db)
    branch = f.make_branch(db, name="Bayside")
    amelia = f.make_instructor(db, user_id=f.make_user(db, role="instructor", first_name="Amelia", last_name="Ward",
                                                       branch_id=branch), branch_id=branch)
    raj = f.make_instructor(db, user_id=f.make_user(db, role="instructor", first_name="Raj", last_name="Patel"))
    learner, conversion, empty = f.make_course(db), f.make_course(db), f.make_course(db)
    assert dao.set_instructors(learner, [amelia, raj, raj]) == ([amelia, raj], [])
    assert dao.set_instructors(conversion, [raj]) == ([raj], [])
    assert dao.set_instructors(learner, [raj]) == ([], [amelia])
    assert dao.set_instructors(learner, [raj]) == ([], [])  # idempotent
    assert dao.instructor_ids(learner) == [raj]
    dao.set_instructors(conversion, [raj, amelia])
    with count_queries() as counter:
        names = dao.instructors_for([learner, conversion, empty])
    assert counter.count == 1
    assert [(i["first_name"], i["last_name"]) for i in names[conversion]] == [("Raj", "Patel"), ("Amelia", "Ward")]
    assert names[conversion][1]["branch_name"] == "Bayside" and names[conversion][0]["branch_name"] is None
    assert names[empty] == [] and [i["id"] for i in names[learner]] == [raj]
    assert dao.instructors_for([]) == {}


def test_allocating_an_unknown_instructor_is_refused_by_the_foreign_key(db):
    course = f.make_course(db)
    with pytest.raises(IntegrityViolation):
        CourseDAO(db).set_instructors(course, [987654])


def test_instructor_options_and_lookup_by_ids(db):
    dao = CourseDAO(db)
    home, other = f.make_branch(db, name="Home"), f.make_branch(db, name="Other")
    mine = f.make_instructor(db, branch_id=home)
    theirs = f.make_instructor(db, branch_id=other)
    gone = f.make_instructor(db, user_id=f.make_user(db, role="instructor", status="archived", branch_id=home),
                             branch_id=home)
    assert {o["id"] for o in dao.instructor_options()} == {mine, theirs}  # archived accounts are not offered
    assert [o["id"] for o in dao.instructor_options(home)] == [mine]
    found = dao.instructors_by_ids([mine, gone, 555555, mine])
    assert set(found) == {mine, gone}
    assert found[gone]["user_status"] == "archived" and found[mine]["branch_id"] == home
    assert dao.instructors_by_ids([]) == {}


def test_original_course_scenario_on_the_demo_seed(db):
    """Spec §5 course_test: at least 3 courses; course 1 has its instructors."""
    from app.core import passwords
    from app.services.seed import seed_demo
    from tests.conftest import FAST_HASH

    passwords.configure(FAST_HASH)
    try:
        seed_demo(db, NOW, date(2026, 11, 26))
    finally:
        passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})
    dao = CourseDAO(db)
    page = dao.list_page(_query(per_page="100"))
    assert page.total >= 3
    first = min(c["id"] for c in page.items)
    assert dao.find(first)["title"] == "Learner Essentials Package"
    assert len(dao.instructors_for([first])[first]) >= 1
