"""Branch pages (both backends): role access and branch scope, create/edit with validation and audit,
the detail counts, and a list whose query count does not grow with its rows."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
from types import SimpleNamespace

import pytest

from app.core.database import count_queries
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, login, post_form

ADMIN, STAFF, OTHER_STAFF = "admin@test.origin", "staff@test.origin", "staff.other@test.origin"
INSTRUCTOR, STUDENT = "instructor@test.origin", "student@test.origin"

VALID = {"name": "Geelong Waterfront", "email": "geelong@origin.com.au", "phone": "(03) 5200 1000",
         "address": "1 Eastern Beach Rd", "city": "Geelong", "state": "VIC", "postcode": "3220",
         "manager_name": "Ava Brooks", "opening_hours": "Mon-Fri 8am-6pm"}


def build_world(app) -> SimpleNamespace:
    """Two branches; an admin, a staff member at each branch, an instructor and a student (all can sign in)."""
    from app.core import passwords

    with app.app_context():
        db = get_db()
        password_hash = passwords.hash_password(DEMO_PASSWORD)
        home = f.make_branch(db, name="Home Branch", city="Melbourne")
        other = f.make_branch(db, name="Other Branch", city="Geelong")

        def account(role, email, branch):
            return f.make_user(db, role=role, email=email, branch_id=branch, password_hash=password_hash)

        account("admin", ADMIN, home)
        account("staff", STAFF, home)
        account("staff", OTHER_STAFF, other)
        f.make_instructor(db, user_id=account("instructor", INSTRUCTOR, home), branch_id=home)
        f.make_student(db, user_id=account("student", STUDENT, home), branch_id=home)
    return SimpleNamespace(home=home, other=other)


@pytest.fixture
def world(app):
    return build_world(app)


def value(app, sql, params=None):
    with app.app_context():
        return get_db().fetch_value(sql, params or {})


def audit_rows(app, action):
    with app.app_context():
        return get_db().fetch_all(
            "SELECT entity_id, before_json, after_json, user_id FROM audit_trail WHERE action = :a ORDER BY id",
            {"a": action})


def test_admin_sees_every_branch_and_staff_only_their_own(app, client, world):
    login(client, ADMIN)
    html = client.get("/branches/").get_data(as_text=True)
    assert "Home Branch" in html and "Other Branch" in html and 'href="/branches/new"' in html
    assert 'data-label="Branch"' in html
    staff = app.test_client()
    login(staff, STAFF)
    response = staff.get("/branches/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Home Branch" in html and "Other Branch" not in html and "/branches/new" not in html


def test_staff_may_view_their_branch_but_other_branches_are_404(app, client, world):
    login(client, STAFF)
    assert client.get(f"/branches/{world.home}").status_code == 200
    assert client.get(f"/branches/{world.other}").status_code == 404
    assert client.get("/branches/999999").status_code == 404


@pytest.mark.parametrize("email", [STAFF])
def test_staff_cannot_create_or_edit(app, client, world, email):
    login(client, email)
    assert client.get("/branches/new").status_code == 403
    assert client.get(f"/branches/{world.home}/edit").status_code == 403
    response = post_form(client, "/branches/new", VALID)
    assert response.status_code == 403
    response = post_form(client, f"/branches/{world.home}/edit", VALID)
    assert response.status_code == 403
    assert value(app, "SELECT COUNT(*) FROM branches") == 2
    assert value(app, "SELECT name FROM branches WHERE id = :id", {"id": world.home}) == "Home Branch"


@pytest.mark.parametrize("email", [INSTRUCTOR, STUDENT])
def test_instructors_and_students_are_refused_everywhere(app, client, world, email):
    login(client, email)
    for path in ("/branches/", "/branches/new", f"/branches/{world.home}", f"/branches/{world.home}/edit"):
        assert client.get(path).status_code == 403, path
    assert post_form(client, "/branches/new", VALID).status_code == 403


def test_admin_creates_a_branch_with_audit(app, client, world):
    login(client, ADMIN)
    assert client.get("/branches/new").status_code == 200
    response = post_form(client, "/branches/new", {**VALID, "email": "  geelong@origin.com.au "})
    assert response.status_code == 302
    branch_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with app.app_context():
        row = get_db().fetch_one("SELECT name, email, city, postcode FROM branches WHERE id = :id", {"id": branch_id})
    assert row == {"name": "Geelong Waterfront", "email": "geelong@origin.com.au", "city": "Geelong",
                   "postcode": "3220"}
    [audit] = audit_rows(app, "branch_created")
    assert audit["entity_id"] == branch_id and audit["before_json"] is None
    assert json.loads(audit["after_json"])["manager_name"] == "Ava Brooks"
    page = client.get(f"/branches/{branch_id}").get_data(as_text=True)
    assert "Geelong Waterfront" in page and "Mon-Fri 8am-6pm" in page


@pytest.mark.parametrize("changes,field", [
    ({"name": ""}, "name"),
    ({"email": ""}, "email"),
    ({"email": "not-an-email"}, "email"),
    ({"name": "x" * 121}, "name"),
    ({"postcode": "1" * 13}, "postcode"),
    ({"opening_hours": "h" * 161}, "opening_hours"),
    ({"phone": "<script>"}, "phone"),
])
def test_invalid_branch_is_422_with_the_field_named_and_nothing_written(app, client, world, changes, field):
    login(client, ADMIN)
    response = post_form(client, "/branches/new", {**VALID, **changes})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-feedback"' in html and 'aria-invalid="true"' in html
    assert 'value="Ava Brooks"' in html  # typed values are kept
    assert value(app, "SELECT COUNT(*) FROM branches") == 2
    assert audit_rows(app, "branch_created") == []


def test_admin_edits_a_branch_with_before_and_after(app, client, world):
    login(client, ADMIN)
    form = client.get(f"/branches/{world.other}/edit").get_data(as_text=True)
    assert 'value="Other Branch"' in form
    response = post_form(client, f"/branches/{world.other}/edit", {**VALID, "name": "Geelong Hub"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/branches/{world.other}")
    assert value(app, "SELECT name FROM branches WHERE id = :id", {"id": world.other}) == "Geelong Hub"
    [audit] = audit_rows(app, "branch_updated")
    assert json.loads(audit["before_json"])["name"] == "Other Branch"
    assert json.loads(audit["after_json"])["name"] == "Geelong Hub"
    bad = post_form(client, f"/branches/{world.other}/edit", {**VALID, "name": ""})
    assert bad.status_code == 422
    assert value(app, "SELECT name FROM branches WHERE id = :id", {"id": world.other}) == "Geelong Hub"


def test_unknown_branch_is_404_for_edit_too(app, client, world):
    login(client, ADMIN)
    assert client.get("/branches/999999/edit").status_code == 404
    assert post_form(client, "/branches/999999/edit", VALID).status_code == 404
    assert audit_rows(app, "branch_updated") == []


def test_detail_page_shows_the_branch_counts(app, client, world):
    with app.app_context():
        db = get_db()
        for _ in range(3):
            f.make_student(db, branch_id=world.other)
        f.make_vehicle(db, branch_id=world.other)
    login(client, ADMIN)
    html = client.get(f"/branches/{world.other}").get_data(as_text=True)
    counts = html[html.index('data-testid="branch-counts"'):]
    assert '<div class="kpi-value">3</div>\n        <div class="kpi-label">Students</div>' in counts
    assert '<div class="kpi-value">1</div>\n        <div class="kpi-label">Vehicles</div>' in counts


def test_search_sort_and_pagination(app, client, world):
    login(client, ADMIN)
    assert "Other Branch" not in client.get("/branches/?q=melbourne").get_data(as_text=True)
    html = client.get("/branches/?sort=city&dir=desc").get_data(as_text=True)
    assert html.index("Home Branch") < html.index("Other Branch")  # Melbourne after Geelong, reversed
    html = client.get("/branches/?per_page=1&page=2&sort=name").get_data(as_text=True)
    assert "Other Branch" in html and "Home Branch" not in html and "Showing 2–2 of 2" in html


def _list_queries(client, path):
    client.get(path)  # warm up (session bookkeeping)
    with count_queries() as counter:
        assert client.get(path).status_code == 200
    return counter.count


def test_list_query_count_does_not_grow_with_rows(app, client, world):
    with app.app_context():
        f.make_branch(get_db())  # 3 branches
    login(client, ADMIN)
    few = _list_queries(client, "/branches/?per_page=100")
    with app.app_context():
        db = get_db()
        for _ in range(27):  # 30 branches, each with people and cars
            branch = f.make_branch(db)
            f.make_student(db, branch_id=branch)
            f.make_vehicle(db, branch_id=branch)
    many = _list_queries(client, "/branches/?per_page=100")
    assert value(app, "SELECT COUNT(*) FROM branches") == 30
    assert many == few
