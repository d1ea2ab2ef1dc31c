if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

"""The access matrix, generated from app.url_map: every route x role x own/foreign object.

World: two branches (A, B), in each a staff member, an instructor, a student taught by that
instructor, a vehicle, a document and a note. Signed in as A's staff, A's instructor and A's
student, every route that names a B object answers 403 or 404, on GET and on POST; list pages
never show B's students. A route with an id parameter this test does not know fails the test,
so a new route cannot slip past it.
"""
import re
from datetime import date, datetime, timedelta

import pytest

from app.core import clock, passwords
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

PARAMS = ("branch_id", "student_id", "instructor_id", "vehicle_id", "staff_id", "document_id", "note_id",
          "window_id", "log_id", "user_id", "course_id", "audit_id")
NOT_OBJECT_SCOPED = {"course_id", "audit_id"}  # school-wide catalogue; admin-only audit


def _user(db, role, branch, email):
    return f.make_user(db, role=role, branch_id=branch, email=email,
                       password_hash=passwords.hash_password(DEMO_PASSWORD))


def _side(db, tag, now):
    branch = f.make_branch(db, name=f"Branch {tag}")
    staff_user = _user(db, "staff", branch, f"staff.{tag}@origin.com")
    staff_id = db.insert("staff_profiles", {"user_id": staff_user, "branch_id": branch, "position_title": "Desk"})
    instructor_user = _user(db, "instructor", branch, f"instructor.{tag}@origin.com")
    instructor = f.make_instructor(db, user_id=instructor_user, branch_id=branch)
    student_user = _user(db, "student", branch, f"student.{tag}@origin.com")
    student = f.make_student(db, user_id=student_user, branch_id=branch)
    enrolment = f.make_enrollment(db, student_id=student)
    f.make_schedule(db, enrollment_id=enrolment, instructor_id=instructor, branch_id=branch,
                    scheduled_date=date.today() + timedelta(days=3))
    vehicle = f.make_vehicle(db, branch_id=branch)
    document = db.insert("documents", {"user_id": student_user, "file_name": f"{tag}.pdf",
                                       "file_path": f"missing-{tag}.pdf", "mime_type": "application/pdf",
                                       "file_size": 10, "category": "licence", "created_at": now})
    note = db.insert("notes", {"related_type": "student", "related_id": student, "author_user_id": staff_user,
                               "content": f"note {tag}", "created_at": now})
    window = db.insert("instructor_unavailability", {
        "instructor_id": instructor, "start_datetime": datetime(2030, 1, 1, 9), "end_datetime": datetime(2030, 1, 1, 17)})
    downtime = db.insert("vehicle_downtime", {
        "vehicle_id": vehicle, "start_datetime": datetime(2030, 1, 2, 9), "end_datetime": datetime(2030, 1, 2, 17)})
    log = db.insert("vehicle_service_logs", {"vehicle_id": vehicle, "service_date": date(2029, 12, 1)})
    return {"branch_id": branch, "staff_id": staff_id, "instructor_id": instructor, "student_id": student,
            "vehicle_id": vehicle, "document_id": document, "note_id": note, "log_id": log,
            "window_id": {"instructor": window, "vehicle": downtime},
            "user_id": student_user, "course_id": f.make_course(db), "audit_id": 1,
            "emails": {"staff": f"staff.{tag}@origin.com", "instructor": f"instructor.{tag}@origin.com",
                       "student": f"student.{tag}@origin.com"},
            "student_name": None}


@pytest.fixture
def world(app):
    with app.app_context():
        db = get_db()
        now = clock.now()
        a, b = _side(db, "a", now), _side(db, "b", now)
        b["student_name"] = db.fetch_one(
            "SELECT u.email FROM students s JOIN users u ON u.id = s.user_id WHERE s.id = :id",
            {"id": b["student_id"]})["email"]
    return {"a": a, "b": b}


def _url(rule, ids) -> str | None:
    def value(match):
        name = match.group(2)
        if name not in PARAMS:
            raise AssertionError(f"access matrix does not know URL parameter <{name}> in {rule.rule}; add it")
        chosen = ids[name]
        if isinstance(chosen, dict):
            chosen = chosen["vehicle" if "fleet" in rule.rule else "instructor"]
        return str(chosen)

    if re.search(r"<(?:[^:>]+:)?[^>]+>", rule.rule) and "static" in rule.endpoint:
        return None
    return re.sub(r"<(?:([^:>]+):)?([^>]+)>", value, rule.rule)


def _object_rules(app):
    for rule in app.url_map.iter_rules():
        names = set(rule.arguments)
        if not names or "static" in rule.endpoint or rule.endpoint == "activation.activate":
            continue
        if names <= NOT_OBJECT_SCOPED:
            continue
        yield rule


@pytest.mark.parametrize("role", ["staff", "instructor", "student"])
def test_foreign_objects_are_404_or_403_on_every_route(app, world, role):
    client = app.test_client()
    assert login(client, world["a"]["emails"][role]).status_code == 302
    token = csrf_token(client, "/dashboard/")
    checked = 0
    for rule in _object_rules(app):
        url = _url(rule, world["b"])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": token} if method != "GET" else None
            response = client.open(url, method=method, data=data)
            assert response.status_code in (403, 404), (role, method, url, response.status_code)
            checked += 1
    assert login(app.test_client(), world["a"]["emails"][role]).status_code == 302  # nothing locked or broken
    if role == "staff":
        assert checked > 0


@pytest.mark.parametrize("role", ["staff", "instructor"])
def test_list_pages_never_show_foreign_students(app, world, role):
    client = app.test_client()
    login(client, world["a"]["emails"][role])
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods or not rule.endpoint.endswith(".index"):
            continue
        response = client.get(rule.rule)
        if response.status_code != 200:
            continue
        assert world["b"]["student_name"] not in response.get_data(as_text=True), (role, rule.rule)


@pytest.mark.parametrize("role", ["staff", "instructor", "student"])
def test_own_objects_open_for_roles_that_may_see_them(app, world, role):
    """Sanity check that the matrix is not passing because everything is refused."""
    client = app.test_client()
    login(client, world["a"]["emails"][role])
    own = world["a"]
    opened = 0
    for rule in _object_rules(app):
        if "GET" not in rule.methods or not rule.endpoint.endswith(".view"):
            continue
        view = app.view_functions[rule.endpoint]
        if role not in getattr(view, "_access_roles", ()):
            continue
        response = client.get(_url(rule, own))
        if response.status_code == 200:
            opened += 1
    if role in ("staff", "instructor", "student") and any(
            r.endpoint == "students.view" for r in app.url_map.iter_rules()):
        assert opened >= 1, role
