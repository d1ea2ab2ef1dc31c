"""Hostile input to the scheduling JSON API on both databases: each case is answered 400 or 422 as JSON
naming the field, and nothing is written (the schedules, reminders and audit_trail counts stay the same; a
refused move leaves the lesson and its reminder as they were).

tests/api_schedules_test.py already covers the main cases on POST (end before start, zero length, 12 hours,
30 February, a gap time, an unknown instructor, another branch's instructor/student/vehicle/branch, malformed
JSON, an array, text/plain, a 64-day range) checking the schedules count; this file adds what it leaves out:
the reminders and audit counts for those cases, the other unknown ids, another branch's enrolment, malformed
dates and times, an empty object, other non-object bodies, the field named on a wrong content type, the
range cap at exactly 62/63 days, the conflicts preview, and every kind of bad move (PATCH)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
from datetime import datetime

import pytest

from app.core import passwords
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

NOW = datetime(2026, 3, 1, 0, 0)  # naive UTC: the frozen clock, so every lesson below lies ahead
DAY = "2026-03-11"                 # a Wednesday


def _user(db, role, branch, email):
    return f.make_user(db, role=role, branch_id=branch, email=email,
                       password_hash=passwords.hash_password(DEMO_PASSWORD))


@pytest.fixture
def world(app, frozen):
    frozen(NOW)
    with app.app_context():
        db = get_db()
        w = {}
        for tag in ("a", "b"):
            branch = f.make_branch(db, name=f"Branch {tag}")
            course = f.make_course(db)
            instructor = f.make_instructor(db, branch_id=branch)
            f.allocate(db, course, instructor)
            student = f.make_student(db, user_id=_user(db, "student", branch, f"s.{tag}@x.com"), branch_id=branch)
            enrollment = f.make_enrollment(db, student, course)
            _user(db, "staff", branch, f"staff.{tag}@x.com")
            w[tag] = {"branch_id": branch, "instructor_id": instructor, "student_id": student,
                      "vehicle_id": f.make_vehicle(db, branch_id=branch), "enrollment_id": enrollment}
        _user(db, "admin", None, "admin@x.com")
    return w


def _client(app, email="staff.a@x.com"):
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
    return {k: v for k, v in body.items() if v is not ...}  # ... drops a field


def _counts(app):
    with app.app_context():
        db = get_db()
        return tuple(db.fetch_value(f"SELECT COUNT(*) AS n FROM {t}") for t in ("schedules", "reminders",
                                                                                  "audit_trail"))


def _named(response, field):
    """The 422 body names ``field`` under ``fields``; a 400 body under ``errors``."""
    assert response.is_json, response.get_data(as_text=True)
    body = response.get_json()
    named = body.get("fields") if response.status_code == 422 else body.get("errors")
    assert named and field in named and named[field][0], body
    return body


# ------------------------------------------------------------------------------------------ POST /api/schedules

@pytest.mark.parametrize("overrides, field", [
    # the cases api_schedules_test.py has, now with reminders and audit counted too
    ({"end_time": "08:00"}, "end_time"),                                  # end before start
    ({"end_time": "09:00"}, "end_time"),                                  # zero length
    ({"start_time": "08:00", "end_time": "20:00"}, "end_time"),           # 12 hours
    ({"date": "2026-02-30"}, "date"),
    ({"date": "2026-10-04", "start_time": "02:30", "end_time": "03:30"}, "start_time"),  # nonexistent local time
    # what it leaves out
    ({"start_time": "00:00", "end_time": "23:59"}, "end_time"),
    ({"date": "2026-3-11"}, "date"),
    ({"date": "11/03/2026"}, "date"),
    ({"date": "2026-03-11T09:00"}, "date"),
    ({"date": "1899-12-31"}, "date"),
    ({"date": "2101-01-01"}, "date"),
    ({"date": 20260311}, "date"),
    ({"date": ...}, "date"),
    ({"start_time": "24:00", "end_time": "24:30"}, "start_time"),
    ({"start_time": "9:00"}, "start_time"),
    ({"start_time": "09:00:00"}, "start_time"),
    ({"end_time": "10:60"}, "end_time"),
    ({"end_time": ...}, "end_time"),
    ({"event_type": "party"}, "event_type"),
    ({"student_id": 999_999}, "student_id"),
    ({"vehicle_id": 999_999}, "vehicle_id"),
    ({"branch_id": 999_999}, "branch_id"),
    ({"enrollment_id": 999_999}, "enrollment_id"),
    ({"instructor_id": 0}, "instructor_id"),
    ({"instructor_id": -1}, "instructor_id"),
    ({"instructor_id": 2 ** 64}, "instructor_id"),
    ({"instructor_id": 1.5}, "instructor_id"),
    ({"instructor_id": ...}, "instructor_id"),
    ({"student_id": {"id": 1}}, "student_id"),
    ({"accept_warnings": "true"}, "accept_warnings"),
    ({"topic": "x" * 161}, "topic"),
    ({"notes": "bell\x07"}, "notes"),
])
def test_bad_bookings_are_422_naming_the_field_and_write_nothing_at_all(app, world, overrides, field):
    staff = _client(app)
    before = _counts(app)
    response = _send(staff, "POST", "/api/schedules", _booking(world["a"], **overrides))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert _named(response, field)["error"] == "validation"
    assert _counts(app) == before


def test_an_empty_object_names_every_required_field_at_once(app, world):
    staff = _client(app)
    before = _counts(app)
    response = _send(staff, "POST", "/api/schedules", {})
    assert response.status_code == 422
    assert {"student_id", "instructor_id", "date", "start_time", "end_time"} <= set(response.get_json()["fields"])
    assert _counts(app) == before


@pytest.mark.parametrize("field", ["instructor_id", "student_id", "vehicle_id", "branch_id", "enrollment_id"])
def test_another_branchs_ids_are_422_for_staff_and_write_nothing(app, world, field):
    staff = _client(app)
    before = _counts(app)
    response = _send(staff, "POST", "/api/schedules", _booking(world["a"], **{field: world["b"][field]}))
    assert response.status_code == 422
    _named(response, field)
    assert _counts(app) == before


def test_an_unknown_branch_is_422_for_the_admin_too(app, world):
    admin = _client(app, "admin@x.com")
    before = _counts(app)
    response = _send(admin, "POST", "/api/schedules", _booking(world["a"], branch_id=999_999))
    assert response.status_code == 422
    _named(response, "branch_id")
    assert _counts(app) == before


@pytest.mark.parametrize("raw, content_type, status", [
    ("{not json", "application/json", 400),
    ('{"student_id": 1,}', "application/json", 400),
    ("", "application/json", 400),
    ("[1, 2]", "application/json", 400),
    ("[]", "application/json", 400),
    ("null", "application/json", 400),
    ("42", "application/json", 400),
    ("true", "application/json", 400),
    ('"text"', "application/json", 400),
    ('{"student_id": 1}', "text/plain", 400),
    ("student_id=1", "application/x-www-form-urlencoded", 400),
    ("<booking/>", "application/xml", 400),
])
def test_malformed_bodies_name_the_body_and_write_nothing(app, world, raw, content_type, status):
    staff = _client(app)
    before = _counts(app)
    response = _send(staff, "POST", "/api/schedules", raw=raw, content_type=content_type)
    assert response.status_code == status
    _named(response, "body")
    assert _counts(app) == before


def test_a_json_charset_parameter_is_still_json(app, world):
    staff = _client(app)
    response = _send(staff, "POST", "/api/schedules", raw=json.dumps(_booking(world["a"])),
                     content_type="application/json; charset=utf-8")
    assert response.status_code == 201, response.get_data(as_text=True)


# ------------------------------------------------------------------------------------------ GET ranges, preview

@pytest.mark.parametrize("query, status, field", [
    ("start=2026-01-01&end=2026-03-03", 200, None),      # 62 days, both ends inclusive: the cap
    ("start=2026-01-01&end=2026-03-04", 400, "end"),     # 63 days
    ("start=2026-03-11&end=2026-03-11", 200, None),      # one day
    ("start=2026-03-11T00:00:00%2B11:00&end=2026-03-12", 400, "start"),
    ("start=2026-03-11&end=", 400, "end"),
    ("start=1899-12-31&end=1900-01-01", 400, "start"),
    ("start=2026-03-11&end=2026-03-12&student_id=-1", 400, "student_id"),
    ("start=2026-03-11&end=2026-03-12&vehicle_id=1.0", 400, "vehicle_id"),
    ("start=2026-03-11&end=2026-03-12&branch_id=99999999999999999999", 400, "branch_id"),
])
def test_the_feed_range_and_filters(app, world, query, status, field):
    response = _client(app).get(f"/api/schedules?{query}")
    assert response.status_code == status, response.get_data(as_text=True)
    if field:
        _named(response, field)
    else:
        assert response.get_json()["events"] == []


@pytest.mark.parametrize("overrides, field", [
    ({"end_time": "08:00"}, "end_time"),
    ({"date": "2026-02-30"}, "date"),
    ({"date": "2026-10-04", "start_time": "02:30", "end_time": "03:30"}, "start_time"),
    ({"instructor_id": 999_999}, "instructor_id"),
    ({"vehicle_id": "x"}, "vehicle_id"),
])
def test_the_conflicts_preview_answers_bad_input_with_422_and_writes_nothing(app, world, overrides, field):
    staff = _client(app)
    before = _counts(app)
    query = {k: str(v) for k, v in _booking(world["a"], **overrides).items()}
    response = staff.get("/api/schedules/conflicts", query_string=query)
    assert response.status_code == 422
    _named(response, field)
    assert _counts(app) == before


# ------------------------------------------------------------------------------------------ PATCH (a move)

def _lesson_state(app, lesson):
    with app.app_context():
        db = get_db()
        row = db.fetch_one("SELECT scheduled_date, start_time, end_time, instructor_id, vehicle_id, status, notes,"
                           " updated_at FROM schedules WHERE id = :id", {"id": lesson})
        reminder = db.fetch_one("SELECT send_at, send_on, message, status FROM reminders"
                                " WHERE related_type = 'schedule' AND related_id = :id", {"id": lesson})
        return row, reminder


@pytest.fixture
def booked(app, world):
    staff = _client(app)
    response = _send(staff, "POST", "/api/schedules", _booking(world["a"]))
    assert response.status_code == 201, response.get_data(as_text=True)
    return staff, response.get_json()["id"]


@pytest.mark.parametrize("body, field", [
    ({"end_time": "08:00"}, "end_time"),
    ({"start_time": "10:00"}, "end_time"),                     # now zero length
    ({"start_time": "07:00", "end_time": "19:00"}, "end_time"),
    ({"date": "2026-02-30"}, "date"),
    ({"date": "2026-10-04", "start_time": "02:30", "end_time": "03:30"}, "start_time"),
    ({"date": "2026-10-04", "start_time": "01:30", "end_time": "02:30"}, "end_time"),
    ({"start_time": "9am"}, "start_time"),
    ({"instructor_id": 999_999}, "instructor_id"),
    ({"vehicle_id": 999_999}, "vehicle_id"),
    ({"instructor_id": "b"}, "instructor_id"),
    ({"student_id": 5}, "student_id"),                         # not movable
    ({"event_type": "exam"}, "event_type"),                    # not movable
    ({"status": "archived"}, "status"),
    ({"status": "cancelled", "start_time": "11:00"}, "start_time"),
    ({"cancel_reason": "why"}, "status"),
    ({}, "date"),
])
def test_bad_moves_are_422_naming_the_field_and_change_nothing(app, world, booked, body, field):
    staff, lesson = booked
    before, state = _counts(app), _lesson_state(app, lesson)
    response = _send(staff, "PATCH", f"/api/schedules/{lesson}", body)
    assert response.status_code == 422, response.get_data(as_text=True)
    _named(response, field)
    assert _counts(app) == before and _lesson_state(app, lesson) == state


@pytest.mark.parametrize("field", ["instructor_id", "vehicle_id"])
def test_moving_onto_another_branchs_instructor_or_car_is_422(app, world, booked, field):
    staff, lesson = booked
    before, state = _counts(app), _lesson_state(app, lesson)
    response = _send(staff, "PATCH", f"/api/schedules/{lesson}", {field: world["b"][field]})
    assert response.status_code == 422
    _named(response, field)
    assert _counts(app) == before and _lesson_state(app, lesson) == state


@pytest.mark.parametrize("raw, content_type, status", [
    ("{not json", "application/json", 400),
    ("[1]", "application/json", 400),
    ("null", "application/json", 400),
    ('{"start_time": "11:00"}', "text/plain", 400),
])
def test_a_malformed_move_body_names_the_body_and_changes_nothing(app, world, booked, raw, content_type, status):
    staff, lesson = booked
    before, state = _counts(app), _lesson_state(app, lesson)
    response = _send(staff, "PATCH", f"/api/schedules/{lesson}", raw=raw, content_type=content_type)
    assert response.status_code == status
    _named(response, "body")
    assert _counts(app) == before and _lesson_state(app, lesson) == state


def test_patching_an_unknown_or_foreign_lesson_is_404_json(app, world, booked):
    staff, lesson = booked
    other = _client(app, "staff.b@x.com")
    before = _counts(app)
    for client, path in ((staff, "/api/schedules/999999"), (other, f"/api/schedules/{lesson}")):
        response = _send(client, "PATCH", path, {"start_time": "11:00", "end_time": "12:00"})
        assert response.status_code == 404 and response.is_json
    after = _counts(app)
    assert after[:2] == before[:2]  # no lesson, no reminder
    with app.app_context():  # only the security log of the two refusals (bootstrap audits every 404 by a user)
        actions = get_db().fetch_all("SELECT action FROM audit_trail ORDER BY id DESC LIMIT 2")
    assert after[2] == before[2] + 2 and {a["action"] for a in actions} == {"access_refused"}
