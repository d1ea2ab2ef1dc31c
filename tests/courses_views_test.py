"""Course pages (both backends): office access, validation (money, counts, enum, lengths), instructor
allocation rules (unknown ids, other branches), audit snapshots and a bounded list query count."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
from decimal import Decimal
from types import SimpleNamespace

import pytest

from app.core.database import count_queries
from app.core import clock
from app.core.flask_db import get_db
from app.services import stats
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, login, post_form

ADMIN, STAFF, INSTRUCTOR, STUDENT = ("admin@test.origin", "staff@test.origin", "instructor@test.origin",
                                     "student@test.origin")
VALID = {"title": "Highway Confidence", "category": "Advanced", "price": "450.50", "lesson_count": "4",
         "status": "active", "description": "Merging, overtaking\nand lane discipline."}


def build_world(app) -> SimpleNamespace:
    """Two branches, an instructor at each, a staff member at the home branch, and one course."""
    from app.core import passwords

    with app.app_context():
        db = get_db()
        password_hash = passwords.hash_password(DEMO_PASSWORD)
        home = f.make_branch(db, name="Home Branch")
        other = f.make_branch(db, name="Other Branch")

        def account(role, email, branch, **names):
            return f.make_user(db, role=role, email=email, branch_id=branch, password_hash=password_hash, **names)

        account("admin", ADMIN, home)
        account("staff", STAFF, home)
        mine = f.make_instructor(db, user_id=account("instructor", INSTRUCTOR, home, first_name="Amelia",
                                                     last_name="Ward"), branch_id=home)
        theirs = f.make_instructor(db, user_id=account("instructor", "theirs@test.origin", other, first_name="Tom",
                                                       last_name="Nguyen"), branch_id=other)
        f.make_student(db, user_id=account("student", STUDENT, home), branch_id=home)
        course = f.make_course(db, title="Learner Essentials", category="Learner")
        db.insert("course_instructor", {"course_id": course, "instructor_id": theirs})
    return SimpleNamespace(home=home, other=other, mine=mine, theirs=theirs, course=course)


@pytest.fixture
def world(app):
    return build_world(app)


def value(app, sql, params=None):
    with app.app_context():
        return get_db().fetch_value(sql, params or {})


def allocation(app, course_id):
    with app.app_context():
        rows = get_db().fetch_all("SELECT instructor_id FROM course_instructor WHERE course_id = :c ORDER BY 1",
                                  {"c": course_id})
    return [r["instructor_id"] for r in rows]


def audits(app, action):
    with app.app_context():
        return get_db().fetch_all(
            "SELECT entity_id, before_json, after_json FROM audit_trail WHERE action = :a ORDER BY id", {"a": action})


@pytest.mark.parametrize("email", [ADMIN, STAFF])
def test_office_roles_can_use_every_course_page(app, client, world, email):
    login(client, email)
    for path in ("/courses/", "/courses/new", f"/courses/{world.course}", f"/courses/{world.course}/edit"):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("email", [INSTRUCTOR, STUDENT])
def test_instructors_and_students_are_refused(app, client, world, email):
    login(client, email)
    for path in ("/courses/", "/courses/new", f"/courses/{world.course}", f"/courses/{world.course}/edit"):
        assert client.get(path).status_code == 403, path
    assert post_form(client, "/courses/new", VALID).status_code == 403
    assert post_form(client, f"/courses/{world.course}/edit", VALID).status_code == 403
    assert value(app, "SELECT COUNT(*) FROM courses") == 1


def test_unknown_course_is_404(app, client, world):
    login(client, ADMIN)
    assert client.get("/courses/999999").status_code == 404
    assert client.get("/courses/999999/edit").status_code == 404
    assert post_form(client, "/courses/999999/edit", VALID).status_code == 404


def test_admin_creates_a_course_with_instructors_from_any_branch(app, client, world):
    login(client, ADMIN)
    response = post_form(client, "/courses/new", {**VALID, "instructor_ids": [str(world.mine), str(world.theirs)]})
    assert response.status_code == 302
    course_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        row = get_db().fetch_one("SELECT title, price, lesson_count, status FROM courses WHERE id = :id",
                                 {"id": course_id})
    assert row["price"] == Decimal("450.50") and row["lesson_count"] == 4 and row["status"] == "active"
    assert allocation(app, course_id) == sorted([world.mine, world.theirs])
    [audit] = audits(app, "course_created")
    after = json.loads(audit["after_json"])
    assert audit["entity_id"] == course_id and after["price"] == "450.50"
    assert after["instructor_ids"] == sorted([world.mine, world.theirs])
    html = client.get(f"/courses/{course_id}").get_data(as_text=True)
    assert "Highway Confidence" in html and "$450.50" in html and "Amelia" in html and "Tom" in html


@pytest.mark.parametrize("changes,field", [
    ({"title": ""}, "title"),
    ({"title": "t" * 161}, "title"),
    ({"category": "c" * 81}, "category"),
    ({"price": ""}, "price"),
    ({"price": "-1.00"}, "price"),
    ({"price": "12.345"}, "price"),
    ({"price": "abc"}, "price"),
    ({"price": "NaN"}, "price"),
    ({"price": "Infinity"}, "price"),
    ({"price": "100000000"}, "price"),
    ({"lesson_count": "0"}, "lesson_count"),
    ({"lesson_count": "-3"}, "lesson_count"),
    ({"lesson_count": "2.5"}, "lesson_count"),
    ({"lesson_count": ""}, "lesson_count"),
    ({"status": "paused"}, "status"),
    ({"description": "d" * 5001}, "description"),
])
def test_invalid_course_is_422_with_the_field_named_and_nothing_written(app, client, world, changes, field):
    login(client, ADMIN)
    response = post_form(client, "/courses/new", {**VALID, **changes})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-feedback"' in html
    if field != "title":
        assert 'value="Highway Confidence"' in html  # typed values kept
    assert value(app, "SELECT COUNT(*) FROM courses") == 1
    assert audits(app, "course_created") == []


def test_zero_price_is_allowed(app, client, world):
    login(client, ADMIN)
    assert post_form(client, "/courses/new", {**VALID, "price": "0"}).status_code == 302
    assert value(app, "SELECT price FROM courses WHERE title = 'Highway Confidence'") == Decimal("0.00")


@pytest.mark.parametrize("ids", [["999999"], ["abc"]])
def test_unknown_or_malformed_instructor_ids_are_a_field_error(app, client, world, ids):
    login(client, ADMIN)
    response = post_form(client, "/courses/new", {**VALID, "instructor_ids": ids})
    assert response.status_code == 422
    assert 'id="instructor_ids-feedback"' in response.get_data(as_text=True)
    assert value(app, "SELECT COUNT(*) FROM courses") == 1


def test_staff_may_only_allocate_their_own_branch_instructors(app, client, world):
    login(client, STAFF)
    form = client.get("/courses/new").get_data(as_text=True)
    assert f'id="instructor-{world.mine}"' in form and f'id="instructor-{world.theirs}"' not in form
    refused = post_form(client, "/courses/new", {**VALID, "instructor_ids": [str(world.mine), str(world.theirs)]})
    assert refused.status_code == 422
    assert 'id="instructor_ids-feedback"' in refused.get_data(as_text=True)
    assert value(app, "SELECT COUNT(*) FROM courses") == 1
    accepted = post_form(client, "/courses/new", {**VALID, "instructor_ids": [str(world.mine)]})
    assert accepted.status_code == 302
    course_id = int(accepted.headers["Location"].rsplit("/", 1)[1])
    assert allocation(app, course_id) == [world.mine]


def test_staff_edit_keeps_other_branches_allocations(app, client, world):
    login(client, STAFF)
    html = client.get(f"/courses/{world.course}/edit").get_data(as_text=True)
    assert "Also allocated at other branches (unchanged): 1 instructor" in html and "Tom Nguyen" not in html
    response = post_form(client, f"/courses/{world.course}/edit",
                         {**VALID, "title": "Learner Essentials", "instructor_ids": [str(world.mine)]})
    assert response.status_code == 302
    assert allocation(app, world.course) == sorted([world.mine, world.theirs])
    # a foreign id smuggled into an edit is refused and changes nothing
    refused = post_form(client, f"/courses/{world.course}/edit",
                        {**VALID, "title": "Changed", "instructor_ids": [str(world.theirs)]})
    assert refused.status_code == 422
    assert value(app, "SELECT title FROM courses WHERE id = :id", {"id": world.course}) == "Learner Essentials"


def test_an_admin_edits_a_big_allocation_one_branch_at_a_time_and_keeps_the_rest(app, client, world, monkeypatch):
    """More allocated instructors than one form carries (ALLOCATION_FORM_CAP): the administrator's form
    shows one branch's (their own first, another by ?allocation_branch=), counts the rest, and saving
    changes only that branch's part; the rest stays allocated."""
    from app.services import courses as course_service

    monkeypatch.setattr(course_service, "ALLOCATION_FORM_CAP", 1)
    with app.app_context():
        db = get_db()
        spare = f.make_instructor(db, user_id=f.make_user(db, role="instructor", branch_id=world.other,
                                                          first_name="Zoe", last_name="Other"), branch_id=world.other)
        db.insert("course_instructor", {"course_id": world.course, "instructor_id": spare})
        db.insert("course_instructor", {"course_id": world.course, "instructor_id": world.mine})
    login(client, ADMIN)
    html = client.get(f"/courses/{world.course}/edit").get_data(as_text=True)
    assert 'name="allocation_branch" value="%d"' % world.home in html  # the admin's own branch first
    assert "Also allocated at other branches (unchanged): 2 instructors" in html
    assert "edited one branch at a time" in html
    other = client.get(f"/courses/{world.course}/edit?allocation_branch={world.other}").get_data(as_text=True)
    assert "Also allocated at other branches (unchanged): 1 instructor" in other and "Tom Nguyen" in other
    # untick the home branch's instructor: only the home branch's part changes
    response = post_form(client, f"/courses/{world.course}/edit",
                         {**VALID, "title": "Learner Essentials", "allocation_branch": str(world.home),
                          "instructor_ids": []}, token_from=f"/courses/{world.course}/edit")
    assert response.status_code == 302
    assert allocation(app, world.course) == sorted([world.theirs, spare])
    # an instructor of another branch smuggled into the home branch's form is refused
    refused = post_form(client, f"/courses/{world.course}/edit",
                        {**VALID, "allocation_branch": str(world.home), "instructor_ids": [str(world.theirs)]},
                        token_from=f"/courses/{world.course}/edit")
    assert refused.status_code == 422 and allocation(app, world.course) == sorted([world.theirs, spare])


@pytest.mark.parametrize("garbage", ["abc", "999999", "-1", "1e3", "' OR 1=1 --", "9" * 40])
def test_a_garbage_allocation_branch_falls_back_to_the_admins_own_and_drops_nothing(app, client, world, monkeypatch,
                                                                                   garbage):
    """An allocation_branch that is not a branch (text, unknown id, huge) is never a 500 nor "every branch":
    the form falls back to the administrator's own branch, and saving changes only that part."""
    from app.services import courses as course_service

    monkeypatch.setattr(course_service, "ALLOCATION_FORM_CAP", 1)
    with app.app_context():
        db = get_db()
        db.insert("course_instructor", {"course_id": world.course, "instructor_id": world.mine})
    before = allocation(app, world.course)
    login(client, ADMIN)
    page = client.get(f"/courses/{world.course}/edit", query_string={"allocation_branch": garbage})
    assert page.status_code == 200
    assert 'name="allocation_branch" value="%d"' % world.home in page.get_data(as_text=True)
    response = post_form(client, f"/courses/{world.course}/edit",
                         {**VALID, "title": "Learner Essentials", "allocation_branch": garbage,
                          "instructor_ids": [str(world.mine)]}, token_from=f"/courses/{world.course}/edit")
    assert response.status_code == 302
    assert allocation(app, world.course) == before  # the other branch's instructor is still allocated


def test_retire_is_an_edit_and_the_audit_holds_the_allocation_change(app, client, world):
    login(client, ADMIN)
    response = post_form(client, f"/courses/{world.course}/edit",
                         {**VALID, "status": "inactive", "instructor_ids": [str(world.mine)]})
    assert response.status_code == 302
    assert value(app, "SELECT status FROM courses WHERE id = :id", {"id": world.course}) == "inactive"
    assert allocation(app, world.course) == [world.mine]  # admin replaces the whole allocation
    [audit] = audits(app, "course_updated")
    assert json.loads(audit["before_json"])["instructor_ids"] == [world.theirs]
    assert json.loads(audit["before_json"])["status"] == "active"
    assert json.loads(audit["after_json"])["instructor_ids"] == [world.mine]
    assert json.loads(audit["after_json"])["status"] == "inactive"
    listing = client.get("/courses/?status=inactive").get_data(as_text=True)
    assert "Highway Confidence" in listing
    assert "Highway Confidence" not in client.get("/courses/?status=active").get_data(as_text=True)


def test_list_shows_active_students_instructors_and_filters(app, client, world):
    with app.app_context():
        db = get_db()
        for status in ("active", "in_progress", "completed"):
            f.make_enrollment(db, course_id=world.course, status=status)
        f.make_course(db, title="Test Day Intensive", category="Assessment", price=Decimal("320.00"))
    login(client, STAFF)
    assert "Active students: not yet counted" in client.get("/courses/").get_data(as_text=True)
    with app.app_context():
        stats.refresh(get_db(), clock.now(), names=["course_totals"])  # flask refresh-stats
    html = client.get("/courses/").get_data(as_text=True)
    assert "Active students as of" in html
    row = html[html.index("Learner Essentials</a>"):]
    row = row[:row.index("</tr>")]
    assert '<td data-label="Active students" class="text-end">2</td>' in row
    assert "Tom Nguyen" in row
    filtered = client.get("/courses/?category=Assessment").get_data(as_text=True)
    assert "Test Day Intensive" in filtered and "Learner Essentials</a>" not in filtered
    searched = client.get("/courses/?q=learner").get_data(as_text=True)
    assert "Learner Essentials</a>" in searched and "Test Day Intensive" not in searched
    by_price = client.get("/courses/?sort=price&dir=desc").get_data(as_text=True)
    assert by_price.index("Learner Essentials</a>") < by_price.index("Test Day Intensive")


def _list_queries(client, path):
    client.get(path)
    with count_queries() as counter:
        assert client.get(path).status_code == 200
    return counter.count


def test_list_query_count_does_not_grow_with_rows(app, client, world):
    def add_courses(n):
        with app.app_context():
            db = get_db()
            for _ in range(n):
                course = f.make_course(db)
                db.insert("course_instructor", {"course_id": course, "instructor_id": world.mine})
                db.insert("course_instructor", {"course_id": course, "instructor_id": world.theirs})
                f.make_enrollment(db, course_id=course)

    add_courses(2)  # 3 courses
    login(client, ADMIN)
    few = _list_queries(client, "/courses/?per_page=100")
    add_courses(27)  # 30 courses
    many = _list_queries(client, "/courses/?per_page=100")
    assert value(app, "SELECT COUNT(*) FROM courses") == 30
    assert many == few


def test_get_requests_never_write(app, client, world):
    login(client, STAFF)
    before = (value(app, "SELECT COUNT(*) FROM courses"), value(app, "SELECT COUNT(*) FROM course_instructor"),
              value(app, "SELECT COUNT(*) FROM audit_trail"))
    for path in ("/courses/", "/courses/new", f"/courses/{world.course}", f"/courses/{world.course}/edit",
                 "/courses/?q=%25&status=x&category=&sort=zzz&dir=sideways&page=abc"):
        assert client.get(path).status_code == 200, path
    assert (value(app, "SELECT COUNT(*) FROM courses"), value(app, "SELECT COUNT(*) FROM course_instructor"),
            value(app, "SELECT COUNT(*) FROM audit_trail")) == before
