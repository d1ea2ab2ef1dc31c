"""The searchable, paginated pickers (app/blueprints/pickers.py, templates/_macros/picker.html).

The JSON endpoint: search, pages of at most 25, scope (staff their branch whatever they ask, admin any
branch; instructors and students 404), bad input never a 500. The course form's instructor picker without
JavaScript: Search and page buttons re-render the form with what was typed and save nothing, a failed
POST keeps the chosen instructors, an instructor outside the user's scope is a 422 naming the field. And
the page weight: /courses/new and the booking forms stay small with 500 instructors and 2,000 students
(SQLite)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import shutil
from datetime import datetime
from types import SimpleNamespace

import pytest

from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, app_overrides, login, post_form

ADMIN, STAFF, INSTRUCTOR = "admin@pick.origin", "staff@pick.origin", "instructor@pick.origin"
VALID = {"title": "Highway Confidence", "category": "Advanced", "price": "450.50", "lesson_count": "4",
         "status": "active", "description": ""}


def build(app, home_instructors: int = 30) -> SimpleNamespace:
    """Two branches; ``home_instructors`` instructors at home (Inst00..), one at the other branch."""
    from app.core import passwords

    with app.app_context():
        db = get_db()
        hashed = passwords.hash_password(DEMO_PASSWORD)
        home, other = f.make_branch(db, name="Home Branch"), f.make_branch(db, name="Other Branch")
        f.make_user(db, role="admin", email=ADMIN, branch_id=home, password_hash=hashed)
        f.make_user(db, role="staff", email=STAFF, branch_id=home, password_hash=hashed)
        teacher = f.make_instructor(db, user_id=f.make_user(db, role="instructor", email=INSTRUCTOR, branch_id=home,
                                                            password_hash=hashed, first_name="Amelia",
                                                            last_name="Ward"), branch_id=home)
        mine = [f.make_instructor(db, user_id=f.make_user(db, role="instructor", branch_id=home, first_name="Inst",
                                                          last_name=f"Home{n:02d}"), branch_id=home)
                for n in range(home_instructors)]
        theirs = f.make_instructor(db, user_id=f.make_user(db, role="instructor", branch_id=other, first_name="Tom",
                                                           last_name="Nguyen"), branch_id=other)
    return SimpleNamespace(home=home, other=other, teacher=teacher, mine=mine, theirs=theirs)


@pytest.fixture
def world(app):
    return build(app)


def test_search_pages_of_25_by_name(client, world):
    login(client, ADMIN)
    first = client.get("/api/pickers?kind=instructor&q=home").json
    assert first["total"] == 30 and first["pages"] == 2 and len(first["items"]) == 25
    assert [i["id"] for i in first["items"]] == world.mine[:25]
    assert first["items"][0]["label"] == "Inst Home00" and "Home Branch" in first["items"][0]["hint"]
    second = client.get("/api/pickers?kind=instructor&q=home&page=2").json
    assert [i["id"] for i in second["items"]] == world.mine[25:] and second["page"] == 2
    assert client.get("/api/pickers?kind=instructor&q=home&page=999999999999").json["page"] == 2  # clamped
    assert client.get("/api/pickers?kind=instructor&q=nguyen").json["items"][0]["id"] == world.theirs
    assert client.get(f"/api/pickers?kind=instructor&q=nguyen&branch_id={world.home}").json["total"] == 0


def test_staff_see_their_branch_whatever_they_ask(client, world):
    login(client, STAFF)
    assert client.get("/api/pickers?kind=instructor&q=nguyen").json["total"] == 0
    asked = client.get(f"/api/pickers?kind=instructor&q=nguyen&branch_id={world.other}").json
    assert asked["total"] == 0 and asked["branch_id"] == world.home
    assert client.get("/api/pickers?kind=instructor").json["total"] == 31  # Amelia and the 30


@pytest.mark.parametrize("path", ["/api/pickers?kind=instructor&page=abc", "/api/pickers?kind=student&q=%25%27--",
                                  "/api/pickers?kind=vehicle&branch_id=-1", "/api/pickers?kind=instructor&q=" + "x" * 5000])
def test_bad_input_is_an_empty_or_first_page_never_a_500(client, world, path):
    login(client, ADMIN)
    response = client.get(path)
    assert response.status_code == 200 and response.json["page"] == 1


def test_unknown_kind_and_other_roles_are_refused(client, world):
    assert client.get("/api/pickers?kind=instructor").status_code == 401
    login(client, INSTRUCTOR)
    assert client.get("/api/pickers?kind=instructor").status_code == 403
    admin = client.application.test_client()
    login(admin, ADMIN)
    assert admin.get("/api/pickers?kind=users").status_code == 404


def test_the_course_form_lists_one_page_and_searches_without_javascript(app, client, world):
    login(client, ADMIN)
    html = client.get("/courses/new").get_data(as_text=True)
    assert 'id="instructor_ids__q"' in html and "1–25 of 32 instructors" in html
    assert html.count('type="checkbox" name="instructor_ids"') == 25
    searched = post_form(client, "/courses/new", {**VALID, "instructor_ids": [str(world.theirs)],
                                                   "instructor_ids__q": "home1", "picker_action": "instructor_ids:search"})
    body = searched.get_data(as_text=True)
    assert searched.status_code == 200 and 'value="home1"' in body and 'value="Highway Confidence"' in body
    assert f'id="instructor-{world.theirs}" value="{world.theirs}" checked' in body  # the choice is kept
    assert "1–10 of 10 instructors matching “home1”" in body
    paged = post_form(client, "/courses/new", {**VALID, "instructor_ids__q": "home",
                                                "picker_action": "instructor_ids:page:2"})
    assert "26–30 of 30 instructors" in paged.get_data(as_text=True)
    with app.app_context():
        assert get_db().fetch_value("SELECT COUNT(*) FROM courses") == 0  # searching saved nothing


def test_a_failed_post_keeps_the_chosen_instructors(app, client, world):
    login(client, ADMIN)
    picked = [str(world.mine[27]), str(world.theirs)]  # neither is on the first page of matches
    response = post_form(client, "/courses/new", {**VALID, "title": "", "instructor_ids": picked})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    for instructor in picked:
        assert f'id="instructor-{instructor}" value="{instructor}" checked' in body


def test_an_instructor_outside_the_staff_members_branch_is_a_422_naming_the_field(app, client, world):
    login(client, STAFF)
    html = client.get("/courses/new").get_data(as_text=True)
    assert f'id="instructor-{world.theirs}"' not in html and f'id="instructor-{world.mine[0]}"' in html
    response = post_form(client, "/courses/new", {**VALID, "instructor_ids": [str(world.mine[0]), str(world.theirs)]})
    assert response.status_code == 422 and 'id="instructor_ids-feedback"' in response.get_data(as_text=True)
    with app.app_context():
        assert get_db().fetch_value("SELECT COUNT(*) FROM courses") == 0
    accepted = post_form(client, "/courses/new", {**VALID, "instructor_ids": [str(world.mine[0])]})
    assert accepted.status_code == 302


# ------------------------------------------------------------------------------------------ page weight

@pytest.fixture
def big_school(sqlite_template, tmp_path):
    """SQLite only (the weight of a page does not depend on the backend): 500 instructors over 10 branches
    (50 at the big branch, a national chain's largest) and 2,000 students with active enrolments, all at
    the big branch (the student list's worst case)."""
    from app.bootstrap import create_app
    from app.core import passwords

    target = tmp_path / "weight.sqlite3"
    shutil.copyfile(sqlite_template, target)
    app = create_app(app_overrides(f"sqlite:///{target}", tmp_path))
    now = datetime(2026, 11, 26, 9, 0)
    with app.app_context():
        db = get_db()
        hashed = passwords.hash_password(DEMO_PASSWORD)
        branch = f.make_branch(db, name="Big Branch")
        others = [f.make_branch(db, name=f"Branch {n}") for n in range(9)]
        f.make_user(db, role="admin", email=ADMIN, branch_id=branch, password_hash=hashed)
        f.make_user(db, role="staff", email=STAFF, branch_id=branch, password_hash=hashed)
        course = f.make_course(db)
        homes = [branch, *others]
        users = [{"role": role, "first_name": f"{role.title()}{n}", "last_name": f"Surname{n:04d}",
                  "email": f"{role}{n}@weight.origin", "password_hash": "x", "status": "active",
                  "branch_id": homes[n % 10] if role == "instructor" else branch, "created_at": now, "updated_at": now}
                 for role, count in (("instructor", 500), ("student", 2000)) for n in range(count)]
        db.insert_many("users", users)
        rows = db.fetch_all("SELECT id, role, branch_id FROM users WHERE email LIKE '%@weight.origin' ORDER BY id")
        db.insert_many("instructors", [{"user_id": r["id"], "branch_id": r["branch_id"], "experience_years": 1}
                                       for r in rows if r["role"] == "instructor"])
        db.insert_many("students", [{"user_id": r["id"], "branch_id": branch, "license_status": "Learner"}
                                    for r in rows if r["role"] == "student"])
        students = db.fetch_all("SELECT id FROM students ORDER BY id")
        db.insert_many("enrollments", [{"student_id": s["id"], "course_id": course, "start_date": now.date(),
                                        "status": "active"} for s in students])
        db.insert_many("vehicles", [{"name": f"Car {n}", "plate_number": f"WGT-{n:03d}", "transmission": "Automatic",
                                     "status": "available", "branch_id": branch} for n in range(60)])
    yield app
    passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


@pytest.mark.parametrize("email", [ADMIN, STAFF])
def test_form_pages_stay_small_with_500_instructors_and_2000_students(big_school, email):
    client = big_school.test_client()
    login(client, email)
    with big_school.app_context():
        branch = get_db().fetch_value("SELECT id FROM branches WHERE name = 'Big Branch'")
    for path in ("/courses/new", f"/schedules/new?branch_id={branch}", f"/schedules/series/new?branch_id={branch}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert len(response.data) < 60 * 1024, (path, len(response.data))
        assert b"Surname" in response.data  # the lists are there, one page of them


# ------------------------------------------------------------------------------------------ enrolment requests

def _request(app, world) -> int:
    with app.app_context():
        db = get_db()
        student = f.make_student(db, branch_id=world.home)
        return f.make_enrollment_request(db, student_id=student, course_id=f.make_course(db))


def test_the_request_page_offers_two_pickers_of_one_page_each(app, client, world):
    request_id = _request(app, world)
    login(client, STAFF)
    html = client.get(f"/enrolment-requests/{request_id}").get_data(as_text=True)
    assert 'id="instructor_id-picker"' in html and 'id="assign_instructor_id-picker"' in html
    assert html.count('type="radio" name="instructor_id"') == 2 * 25 + 1  # two pages of 25, and "Nobody"
    assert f'id="decision-instructor-{world.theirs}"' not in html  # another branch's instructor


def test_the_assign_pickers_search_keeps_the_page_and_saves_nothing(app, client, world):
    request_id = _request(app, world)
    login(client, STAFF)
    response = post_form(client, f"/enrolment-requests/{request_id}/assign",
                         {"instructor_id": str(world.mine[3]), "assign_instructor_id__q": "home2",
                          "picker_action": "assign_instructor_id:search"}, token_from=f"/enrolment-requests/{request_id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'value="home2"' in body and "10 instructors matching “home2”" in body
    assert f'id="assign-instructor-{world.mine[3]}" value="{world.mine[3]}" checked' in body
    with app.app_context():
        assert get_db().fetch_value("SELECT instructor_id FROM enrollment_requests WHERE id = :i",
                                    {"i": request_id}) is None


def test_a_foreign_instructor_in_the_assign_picker_is_a_422_naming_the_field(app, client, world):
    request_id = _request(app, world)
    login(client, STAFF)
    refused = post_form(client, f"/enrolment-requests/{request_id}/assign", {"instructor_id": str(world.theirs)},
                        token_from=f"/enrolment-requests/{request_id}")
    assert refused.status_code == 422
    assert "not in your branch" in refused.get_data(as_text=True)
    # a decision refused for another reason (no approve/decline chosen) keeps the chosen instructor
    failed = post_form(client, f"/enrolment-requests/{request_id}/decide", {"instructor_id": str(world.mine[28])},
                       token_from=f"/enrolment-requests/{request_id}")
    assert failed.status_code == 422
    assert f'id="decision-instructor-{world.mine[28]}" value="{world.mine[28]}" checked' in failed.get_data(as_text=True)


def test_the_awaiting_lists_instructor_filter_lists_one_branch(client, world):
    """Admin: no chain-wide instructor list; the chosen branch's instructors once a branch is chosen."""
    login(client, ADMIN)
    whole = client.get("/schedules/awaiting").get_data(as_text=True)
    assert "Choose a branch to filter by instructor too." in whole and "Inst Home00" not in whole
    home = client.get(f"/schedules/awaiting?branch={world.home}").get_data(as_text=True)
    assert "Inst Home00" in home and "Tom Nguyen" not in home
    staff = client.application.test_client()
    login(staff, STAFF)
    assert "Inst Home29" in staff.get("/schedules/awaiting").get_data(as_text=True)


def test_a_staff_account_without_a_branch_gets_empty_pickers(app, client, world):
    from app.core import passwords

    with app.app_context():
        f.make_user(get_db(), role="staff", email="nobranch@pick.origin", branch_id=None,
                    password_hash=passwords.hash_password(DEMO_PASSWORD))
    login(client, "nobranch@pick.origin")
    assert client.get("/api/pickers?kind=instructor").json["total"] == 0
    html = client.get("/courses/new").get_data(as_text=True)
    assert "No instructors to choose from." in html and 'type="checkbox" name="instructor_ids"' not in html
    refused = post_form(client, "/courses/new", {**VALID, "instructor_ids": [str(world.mine[0])]})
    assert refused.status_code == 422
