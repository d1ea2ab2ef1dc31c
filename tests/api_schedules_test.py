"""The scheduling JSON API contract on both databases: status codes and JSON shapes of list, book,
conflicts and PATCH (move, cancel); scope per role; hostile input (bad times and dates, unknown and
foreign ids, malformed or non-object JSON, wrong content type, too wide a range) answered 400/415/422
naming the field, with nothing written; CSRF through the X-CSRFToken header."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json

import pytest

from app.core import passwords
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

DAY = "2030-03-13"  # a Wednesday, far enough ahead for a reminder


def _user(db, role, branch, email):
    return f.make_user(db, role=role, branch_id=branch, email=email,
                       password_hash=passwords.hash_password(DEMO_PASSWORD))


@pytest.fixture
def world(app):
    with app.app_context():
        db = get_db()
        w = {}
        for tag in ("a", "b"):
            branch = f.make_branch(db, name=f"Branch {tag}")
            course = f.make_course(db)
            instructor = f.make_instructor(db, user_id=_user(db, "instructor", branch, f"i.{tag}@x.com"),
                                           branch_id=branch)
            f.allocate(db, course, instructor)
            student = f.make_student(db, user_id=_user(db, "student", branch, f"s.{tag}@x.com"), branch_id=branch)
            f.make_enrollment(db, student, course)
            _user(db, "staff", branch, f"staff.{tag}@x.com")
            w[tag] = {"branch_id": branch, "instructor_id": instructor, "student_id": student,
                      "vehicle_id": f.make_vehicle(db, branch_id=branch)}
        _user(db, "admin", None, "admin@x.com")
    return w


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    client.token = csrf_token(client, "/dashboard/")
    return client


def _send(client, method, path, body=None, raw=None, content_type="application/json"):
    data = raw if raw is not None else json.dumps(body)
    return client.open(path, method=method, data=data, content_type=content_type,
                       headers={"X-CSRFToken": client.token})


def _booking(side, **overrides):
    body = {"student_id": side["student_id"], "instructor_id": side["instructor_id"],
            "vehicle_id": side["vehicle_id"], "event_type": "lesson", "date": DAY,
            "start_time": "09:00", "end_time": "10:00"}
    body.update(overrides)
    return body


def _count(app, table="schedules"):
    with app.app_context():
        return get_db().fetch_value(f"SELECT COUNT(*) AS n FROM {table}")


def test_book_list_conflict_move_and_cancel(app, world):
    staff = _client(app, "staff.a@x.com")
    created = _send(staff, "POST", "/api/schedules", _booking(world["a"], topic="Parking"))
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert set(body) == {"id", "warnings"} and body["warnings"] == []
    lesson = body["id"]

    listed = staff.get(f"/api/schedules?start={DAY}&end={DAY}")
    assert listed.status_code == 200
    [event] = listed.get_json()["events"]
    assert set(event) == {"id", "title", "start", "end", "status", "event_type", "instructor_id", "student_id",
                          "vehicle_id", "branch_id"}
    assert event["start"] == f"{DAY}T09:00:00+11:00" and event["end"] == f"{DAY}T10:00:00+11:00"
    assert (event["id"], event["status"], event["branch_id"]) == (lesson, "scheduled", world["a"]["branch_id"])

    clash = _send(staff, "POST", "/api/schedules", _booking(world["a"], start_time="09:30", end_time="10:30"))
    assert clash.status_code == 409
    payload = clash.get_json()
    assert payload["error"] == "conflict"
    assert {c["kind"] for c in payload["conflicts"]} == {"instructor", "vehicle", "student"}
    assert all(set(c) == {"kind", "message", "severity"} for c in payload["conflicts"])

    preview = staff.get("/api/schedules/conflicts", query_string={
        k: str(v) for k, v in _booking(world["a"], start_time="09:30", end_time="10:30").items()})
    assert preview.status_code == 200
    assert {c["kind"] for c in preview.get_json()["conflicts"]} == {"instructor", "vehicle", "student"}

    moved = _send(staff, "PATCH", f"/api/schedules/{lesson}", {"start_time": "11:00", "end_time": "12:00"})
    assert moved.status_code == 200 and moved.get_json() == {"id": lesson, "warnings": []}
    not_yet = _send(staff, "PATCH", f"/api/schedules/{lesson}", {"status": "completed"})
    assert not_yet.status_code == 422 and "status" in not_yet.get_json()["fields"]
    cancelled = _send(staff, "PATCH", f"/api/schedules/{lesson}", {"status": "cancelled", "cancel_reason": "Ill"})
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    no_reason = _send(staff, "PATCH", f"/api/schedules/{lesson}", {"status": "cancelled"})
    assert no_reason.status_code == 422


@pytest.mark.parametrize("overrides, field", [
    ({"end_time": "08:00"}, "end_time"),
    ({"end_time": "09:00"}, "end_time"),
    ({"start_time": "08:00", "end_time": "20:00"}, "end_time"),
    ({"date": "2026-02-30"}, "date"),
    ({"date": "2026-10-04", "start_time": "02:30", "end_time": "03:30"}, "start_time"),
    ({"instructor_id": 999999}, "instructor_id"),
    ({"student_id": [1]}, "student_id"),
    ({"vehicle_id": "1e3"}, "vehicle_id"),
    ({"event_type": None, "start_time": 900}, "start_time"),
])
def test_bad_bookings_are_422_naming_the_field_and_write_nothing(app, world, overrides, field):
    staff = _client(app, "staff.a@x.com")
    response = _send(staff, "POST", "/api/schedules", _booking(world["a"], **overrides))
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "validation" and field in body["fields"]
    assert _count(app) == 0


@pytest.mark.parametrize("field", ["instructor_id", "student_id", "vehicle_id", "branch_id"])
def test_another_branchs_ids_are_422_for_staff(app, world, field):
    staff = _client(app, "staff.a@x.com")
    response = _send(staff, "POST", "/api/schedules", _booking(world["a"], **{field: world["b"][field]}))
    assert response.status_code == 422 and field in response.get_json()["fields"]
    assert _count(app) == 0


@pytest.mark.parametrize("raw, content_type, status", [
    ("{not json", "application/json", 400),
    ("[1, 2]", "application/json", 400),
    ('"text"', "application/json", 400),
    ("student_id=1", "application/x-www-form-urlencoded", 415),
    ("{}", "text/plain", 415),
])
def test_malformed_bodies_and_wrong_content_types(app, world, raw, content_type, status):
    staff = _client(app, "staff.a@x.com")
    response = _send(staff, "POST", "/api/schedules", raw=raw, content_type=content_type)
    assert response.status_code == status
    assert response.is_json and response.get_json()["error"]
    assert _count(app) == 0


def test_writes_need_the_csrf_header(app, world):
    staff = _client(app, "staff.a@x.com")
    response = staff.post("/api/schedules", json=_booking(world["a"]))
    assert response.status_code == 403 and response.is_json
    assert _count(app) == 0


@pytest.mark.parametrize("query, field", [
    ("start=2030-01-01&end=2030-03-05", "end"),
    ("start=2030-02-30&end=2030-03-01", "start"),
    ("end=2030-03-01", "start"),
    ("start=2030-03-02&end=2030-03-01", "end"),
    ("start=2030-03-01&end=2030-03-02&instructor_id=x", "instructor_id"),
])
def test_bad_ranges_are_400_naming_the_parameter(app, world, query, field):
    response = _client(app, "staff.a@x.com").get(f"/api/schedules?{query}")
    assert response.status_code == 400 and response.is_json
    assert field in response.get_json()["errors"]


def test_the_feed_is_scoped_per_role(app, world):
    admin = _client(app, "admin@x.com")
    ids = {}
    for tag in ("a", "b"):
        response = _send(admin, "POST", "/api/schedules", _booking(world[tag]))
        assert response.status_code == 201, response.get_data(as_text=True)
        ids[tag] = response.get_json()["id"]
    url = f"/api/schedules?start={DAY}&end={DAY}"
    seen = {email: {e["id"] for e in _client(app, email).get(url).get_json()["events"]}
            for email in ("admin@x.com", "staff.a@x.com", "i.a@x.com", "s.a@x.com", "s.b@x.com")}
    assert seen == {"admin@x.com": {ids["a"], ids["b"]}, "staff.a@x.com": {ids["a"]}, "i.a@x.com": {ids["a"]},
                    "s.a@x.com": {ids["a"]}, "s.b@x.com": {ids["b"]}}
    foreign = _client(app, "staff.a@x.com").get(f"{url}&branch_id={world['b']['branch_id']}")
    assert foreign.get_json() == {"events": [], "truncated": False}


def test_roles_that_may_not_book_get_403_and_foreign_events_404(app, world):
    admin = _client(app, "admin@x.com")
    lesson_b = _send(admin, "POST", "/api/schedules", _booking(world["b"])).get_json()["id"]
    for email in ("i.a@x.com", "s.a@x.com"):
        client = _client(app, email)
        assert _send(client, "POST", "/api/schedules", _booking(world["a"])).status_code == 403
        assert _send(client, "PATCH", f"/api/schedules/{lesson_b}", {"start_time": "11:00"}).status_code == 403
    staff = _client(app, "staff.a@x.com")
    response = _send(staff, "PATCH", f"/api/schedules/{lesson_b}", {"status": "cancelled", "cancel_reason": "x"})
    assert response.status_code == 404 and response.is_json
    assert _count(app) == 1
    with app.app_context():
        assert get_db().fetch_value("SELECT status FROM schedules WHERE id = :id", {"id": lesson_b}) == "scheduled"
