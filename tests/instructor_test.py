"""InstructorDAO on both backends: profiles, the list page, courses, unavailability and working hours,
including the original's instructor_test scenarios (spec §5)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from app.core.database import count_queries
from app.core.pagination import ListQuery
from app.dao.branch import BranchDAO
from app.dao.instructor import SORTS, InstructorDAO, accreditation_state
from app.services import stats
from tests import factories as f
from tests.factories import make_instructor, make_student, make_user

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 2, 30, 0)


def _query(**args):
    return ListQuery.from_args(args, list(SORTS), "name", filters=("branch", "accreditation", "status"))


def test_id_for_user_finds_that_users_profile(db):
    amelia_user, raj_user = make_user(db, role="instructor"), make_user(db, role="instructor")
    raj = make_instructor(db, user_id=raj_user)
    amelia = make_instructor(db, user_id=amelia_user)
    dao = InstructorDAO(db)
    assert dao.id_for_user(amelia_user) == amelia
    assert dao.id_for_user(raj_user) == raj


def test_id_for_user_is_none_without_an_instructor_profile(db):
    student_user = make_user(db, role="student")
    make_student(db, user_id=student_user)
    make_instructor(db)
    dao = InstructorDAO(db)
    assert dao.id_for_user(student_user) is None
    assert dao.id_for_user(student_user + 1000) is None


def test_id_for_user_picks_the_oldest_when_the_schema_allows_two(db):
    # instructors.user_id has no UNIQUE key (original schema, spec 8.3.8): the answer must be stable
    user = make_user(db, role="instructor")
    first = make_instructor(db, user_id=user)
    second = make_instructor(db, user_id=user)
    assert second > first
    assert InstructorDAO(db).id_for_user(user) == first


# --------------------------------------------------------------------------- the original's scenarios

def test_original_instructor_test_scenarios(db):
    """instructor_test.php: list non-empty; instructor 1's branch is "Bayside Training Hub";
    branch 2 has at least one instructor; branch 1 is "CBD Headquarters"."""
    cbd = f.make_branch(db, name="CBD Headquarters")
    bayside = f.make_branch(db, name="Bayside Training Hub")
    amelia = make_instructor(db, branch_id=bayside, certification_number="CERT-IV-DRV-2020-045")
    dao = InstructorDAO(db)
    assert dao.list_page(_query(), TODAY).total >= 1
    assert dao.find(amelia)["branch_name"] == "Bayside Training Hub"
    assert len(dao.for_branch(bayside)) >= 1 and [r["id"] for r in dao.for_branch(bayside)] == [amelia]
    assert dao.for_branch(cbd) == []
    assert BranchDAO(db).find(cbd)["name"] == "CBD Headquarters"


# --------------------------------------------------------------------------- profile

def test_insert_find_update_and_account(db):
    branch, other = f.make_branch(db), f.make_branch(db)
    user = make_user(db, role="instructor", branch_id=branch, email="ann@example.com")
    dao = InstructorDAO(db)
    instructor = dao.insert(user, {"branch_id": branch, "certification_number": "C-1",
                                   "accreditation_expiry": date(2027, 1, 31), "experience_years": None,
                                   "rating": Decimal("4.50"), "bio": "Calm."}, NOW)
    found = dao.find(instructor)
    assert found["experience_years"] == 0  # blank experience is stored as 0, as in the original
    assert found["accreditation_expiry"] == date(2027, 1, 31) and found["rating"] == Decimal("4.50")
    assert found["email"] == "ann@example.com" and found["status"] == "active"
    assert found["activated"] is True  # factory users carry a (fake) password hash
    changes = {"branch_id": other, "experience_years": 7, "availability_notes": "Mornings"}
    assert dao.update(instructor, changes, NOW) == 1
    assert dao.update_account(user, {"first_name": "Anna", "last_name": "Lee", "email": " Anna@Example.com ",
                                     "phone": None, "branch_id": other}, NOW) == 1
    found = dao.find(instructor)
    assert (found["branch_id"], found["experience_years"], found["certification_number"]) == (other, 7, None)
    assert (found["first_name"], found["email"], found["branch_name"]) == ("Anna", "anna@example.com",
                                                                          BranchDAO(db).find(other)["name"])
    assert dao.find(instructor + 1000) is None


def test_activated_is_false_for_an_unset_password(db):
    user = make_user(db, role="instructor", password_hash="!unset!abc")
    assert InstructorDAO(db).find(make_instructor(db, user_id=user))["activated"] is False


def test_update_account_never_touches_other_roles(db):
    student_user = make_user(db, role="student", first_name="Stu")
    assert InstructorDAO(db).update_account(student_user, {"first_name": "X", "last_name": "Y",
                                                           "email": "x@example.com"}, NOW) == 0


def test_courses_lists_the_allocated_courses_only(db):
    mine, other = make_instructor(db), make_instructor(db)
    learner = f.make_course(db, title="Learner Essentials")
    intensive = f.make_course(db, title="Test Day Intensive", status="inactive")
    unrelated = f.make_course(db, title="Unrelated")
    for course, instructor in ((learner, mine), (intensive, mine), (unrelated, other)):
        db.insert("course_instructor", {"course_id": course, "instructor_id": instructor})
    rows = InstructorDAO(db).courses(mine)
    assert [(r["title"], r["status"]) for r in rows] == [("Learner Essentials", "active"),
                                                         ("Test Day Intensive", "inactive")]


# --------------------------------------------------------------------------- list page

def test_accreditation_state_boundaries():
    assert accreditation_state(None, TODAY) == "missing"
    assert accreditation_state(TODAY - timedelta(days=1), TODAY) == "expired"
    assert accreditation_state(TODAY, TODAY) == "expiring"
    assert accreditation_state(TODAY + timedelta(days=60), TODAY) == "expiring"
    assert accreditation_state(TODAY + timedelta(days=61), TODAY) == "valid"


def test_list_counts_lessons_and_completed_like_the_original(db):
    busy, quiet = make_instructor(db), make_instructor(db)
    enrolment = f.make_enrollment(db)
    for event_type, status in (("lesson", "scheduled"), ("lesson", "completed"), ("lesson", "cancelled"),
                               ("exam", "completed"), ("assessment", "scheduled")):
        f.make_schedule(db, enrollment_id=enrolment, instructor_id=busy, event_type=event_type, status=status)
    # the counts are the maintained aggregate's (flask refresh-stats): none before the first refresh
    before = {r["id"]: r["lesson_count"] for r in InstructorDAO(db).list_page(_query(), TODAY).items}
    assert before == {busy: 0, quiet: 0}
    stats.refresh(db, NOW)
    rows = {r["id"]: r for r in InstructorDAO(db).list_page(_query(), TODAY).items}
    # lessons: type lesson, any status; completed: status completed, any type
    assert (rows[busy]["lesson_count"], rows[busy]["completed_count"]) == (3, 2)
    assert (rows[quiet]["lesson_count"], rows[quiet]["completed_count"]) == (0, 0)
    assert isinstance(rows[busy]["lesson_count"], int)


def test_list_is_two_queries_however_many_rows(db):
    dao = InstructorDAO(db)
    for n in range(3):
        f.make_schedule(db, instructor_id=make_instructor(db))
    with count_queries() as few:
        assert dao.list_page(_query(), TODAY).total == 3
    for n in range(27):
        f.make_schedule(db, instructor_id=make_instructor(db))
    stats.refresh(db, NOW)
    with count_queries() as many:
        page = dao.list_page(_query(per_page="100"), TODAY)
    assert page.total == 30 and len(page.items) == 30
    assert all(r["lesson_count"] == 1 for r in page.items)
    assert not any("schedules" in sql for sql in many.statements)  # never counted over the lessons
    assert few.count == many.count == 2


def test_search_by_name_email_and_certification(db):
    dao = InstructorDAO(db)
    amelia = make_instructor(db, user_id=make_user(db, role="instructor", first_name="Amelia", last_name="Ward",
                                                   email="amelia.ward@origin.com"), certification_number="CERT-045")
    raj = make_instructor(db, user_id=make_user(db, role="instructor", first_name="Raj", last_name="Patel",
                                                email="raj@origin.com"), certification_number="CERT_112%")
    assert [r["id"] for r in dao.list_page(_query(q="amelia ward"), TODAY).items] == [amelia]
    assert [r["id"] for r in dao.list_page(_query(q="WARD"), TODAY).items] == [amelia]
    assert [r["id"] for r in dao.list_page(_query(q="raj@origin"), TODAY).items] == [raj]
    assert [r["id"] for r in dao.list_page(_query(q="cert-045"), TODAY).items] == [amelia]
    assert [r["id"] for r in dao.list_page(_query(q="_112%"), TODAY).items] == [raj]  # wildcards escaped
    assert dao.list_page(_query(q="amelia patel"), TODAY).total == 0


def test_filters_branch_status_and_accreditation(db):
    north, south = f.make_branch(db), f.make_branch(db)
    expired = make_instructor(db, branch_id=north, accreditation_expiry=TODAY - timedelta(days=1))
    expiring = make_instructor(db, branch_id=north, accreditation_expiry=TODAY + timedelta(days=60))
    valid = make_instructor(db, branch_id=south, accreditation_expiry=TODAY + timedelta(days=61))
    missing = make_instructor(db, branch_id=south)
    archived_user = make_user(db, role="instructor", status="archived", branch_id=south)
    archived = make_instructor(db, user_id=archived_user, branch_id=south, accreditation_expiry=TODAY)
    dao = InstructorDAO(db)

    def ids(**args):
        return sorted(r["id"] for r in dao.list_page(_query(**args), TODAY).items)

    assert ids(accreditation="expired") == [expired]
    assert ids(accreditation="expiring") == sorted([expiring, archived])
    assert ids(accreditation="valid") == [valid]
    assert ids(accreditation="missing") == [missing]
    assert ids(accreditation="bogus") == sorted([expired, expiring, valid, missing, archived])
    assert ids(branch=str(north)) == sorted([expired, expiring])
    assert ids(status="archived") == [archived]
    assert ids(status="active", branch=str(south)) == sorted([valid, missing])
    rows = {r["id"]: r for r in dao.list_page(_query(), TODAY).items}
    assert rows[expiring]["accreditation"] == "expiring" and rows[missing]["accreditation"] == "missing"


def test_staff_scope_limits_the_list_to_one_branch(db):
    north, south = f.make_branch(db), f.make_branch(db)
    mine = make_instructor(db, branch_id=north)
    make_instructor(db, branch_id=south)
    make_instructor(db)  # no branch
    dao = InstructorDAO(db)
    assert [r["id"] for r in dao.list_page(_query(), TODAY, only_branch=north).items] == [mine]
    assert dao.list_page(_query(branch=str(south)), TODAY, only_branch=north).total == 0
    assert dao.list_page(_query(), TODAY, only_branch=-1).total == 0


def test_sorts(db):
    a, b = f.make_branch(db, name="Alpha"), f.make_branch(db, name="Beta")
    zed = make_instructor(db, branch_id=a, accreditation_expiry=date(2027, 1, 1),
                          user_id=make_user(db, role="instructor", first_name="Zed", last_name="Adams"))
    amy = make_instructor(db, branch_id=b, accreditation_expiry=date(2026, 6, 1),
                          user_id=make_user(db, role="instructor", first_name="Amy", last_name="Adams"))
    bob = make_instructor(db, branch_id=b, accreditation_expiry=date(2028, 1, 1),
                          user_id=make_user(db, role="instructor", first_name="Bob", last_name="Brown"))
    for _ in range(2):
        f.make_schedule(db, instructor_id=bob)
    f.make_schedule(db, instructor_id=zed)
    stats.refresh(db, NOW)
    dao = InstructorDAO(db)

    def order(**args):
        return [r["id"] for r in dao.list_page(_query(**args), TODAY).items]

    assert order(sort="name") == [amy, zed, bob]  # last name, then first name
    assert order(sort="name", dir="desc") == [bob, zed, amy]
    assert order(sort="branch") == [zed, amy, bob]
    assert order(sort="expiry") == [amy, zed, bob]
    assert order(sort="lessons", dir="desc") == [bob, zed, amy]
    assert order(sort="nonsense") == [amy, zed, bob]


# --------------------------------------------------------------------------- availability

def test_unavailability_windows_belong_to_their_instructor(db):
    mine, other = make_instructor(db), make_instructor(db)
    dao = InstructorDAO(db)
    past = dao.add_unavailability(mine, datetime(2026, 3, 1, 8), datetime(2026, 3, 1, 18), None, NOW)
    future = dao.add_unavailability(mine, datetime(2026, 3, 14, 8), datetime(2026, 3, 14, 18), "PD day", NOW)
    theirs = dao.add_unavailability(other, datetime(2026, 3, 14, 8), datetime(2026, 3, 14, 12), None, NOW)
    assert [w["id"] for w in dao.unavailability(mine)] == [past, future]
    assert [w["id"] for w in dao.unavailability(mine, ending_after=datetime(2026, 3, 10, 9))] == [future]
    found = dao.find_unavailability(mine, future)
    assert (found["start_datetime"], found["end_datetime"], found["reason"]) == (
        datetime(2026, 3, 14, 8), datetime(2026, 3, 14, 18), "PD day")
    assert dao.find_unavailability(mine, theirs) is None
    assert dao.delete_unavailability(mine, theirs) == 0  # another instructor's window is untouched
    assert dao.find_unavailability(other, theirs) is not None
    assert dao.delete_unavailability(mine, future) == 1
    assert [w["id"] for w in dao.unavailability(mine)] == [past]


def test_working_hours_replace_the_whole_week(db):
    mine, other = make_instructor(db), make_instructor(db)
    dao = InstructorDAO(db)
    dao.replace_working_hours(other, [{"weekday": 0, "start_time": time(7), "end_time": time(9)}], NOW)
    with db.transaction():
        assert dao.replace_working_hours(mine, [
            {"weekday": 4, "start_time": time(9), "end_time": time(17)},
            {"weekday": 0, "start_time": time(8, 30), "end_time": time(16, 45)},
        ], NOW) == 2
    assert [(h["weekday"], h["start_time"], h["end_time"]) for h in dao.working_hours(mine)] == [
        (0, time(8, 30), time(16, 45)), (4, time(9), time(17))]
    with db.transaction():
        dao.replace_working_hours(mine, [{"weekday": 6, "start_time": time(10), "end_time": time(14)}], NOW)
    assert [h["weekday"] for h in dao.working_hours(mine)] == [6]
    assert [h["weekday"] for h in dao.working_hours(other)] == [0]
    assert dao.set_availability_notes(mine, "Weekends only", NOW) == 1
    assert dao.find(mine)["availability_notes"] == "Weekends only"
