"""The scheduling JSON API contract on both databases: status codes and JSON shapes of list, book,
conflicts and PATCH (move, cancel, revive, record and correct outcomes); scope per role (instructors
PATCH only outcome fields of their own lessons); hostile input (bad times and dates, unknown and
foreign ids, malformed or non-object JSON, wrong content type, too wide a range) answered 400/422
naming the field, with nothing written; CSRF through the X-CSRFToken header."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
from datetime import datetime

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
    not_yet = _send(staff, "PATCH", f"/api/schedules/{lesson}", {"status": "completed"})  # it has not started
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
    ("student_id=1", "application/x-www-form-urlencoded", 400),
    ("{}", "text/plain", 400),
])
def test_malformed_bodies_and_wrong_content_types(app, world, raw, content_type, status):
    staff = _client(app, "staff.a@x.com")
    response = _send(staff, "POST", "/api/schedules", raw=raw, content_type=content_type)
    assert response.status_code == status
    assert response.is_json and response.get_json()["error"] and response.get_json()["message"]
    assert response.get_json()["errors"] == {"body": [response.get_json()["message"]]}
    assert _count(app) == 0


def test_writes_need_the_csrf_header(app, world):
    staff = _client(app, "staff.a@x.com")
    response = staff.post("/api/schedules", json=_booking(world["a"]))
    assert response.status_code == 403 and response.is_json and "token" in response.get_json()["message"]
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
    assert field in response.get_json()["errors"] and response.get_json()["message"]


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
        patched = _send(client, "PATCH", f"/api/schedules/{lesson_b}", {"start_time": "11:00"})
        # a student may not PATCH at all (403); an instructor may, but never another's lesson (404)
        assert patched.status_code == (404 if email.startswith("i.") else 403) and patched.is_json
    staff = _client(app, "staff.a@x.com")
    response = _send(staff, "PATCH", f"/api/schedules/{lesson_b}", {"status": "cancelled", "cancel_reason": "x"})
    assert response.status_code == 404 and response.is_json
    assert _count(app) == 1
    with app.app_context():
        assert get_db().fetch_value("SELECT status FROM schedules WHERE id = :id", {"id": lesson_b}) == "scheduled"


# ------------------------------------------------------------------------------------------ outcomes, revive

BOOKED_AT = datetime(2030, 3, 1, 0, 0)    # when the lessons are booked (their reminders are queued)
AFTER = datetime(2030, 3, 13, 3, 0)       # 14:00 on DAY in Melbourne: the 09:00 lesson is over


def _value(app, sql, params=None):
    with app.app_context():
        return get_db().fetch_value(sql, params or {})


@pytest.fixture
def past(app, world, frozen):
    """Lessons of A (09:00) and B (09:00) booked on 1 Mar, the clock then moved to 14:00 on DAY."""
    frozen(BOOKED_AT)
    admin = _client(app, "admin@x.com")
    ids = {tag: _send(admin, "POST", "/api/schedules", _booking(world[tag])).get_json()["id"] for tag in ("a", "b")}
    frozen(AFTER)
    return ids


def test_an_outcome_is_recorded_then_corrected_through_patch(app, world, past):
    lesson = past["a"]
    assert _value(app, "SELECT status FROM reminders WHERE related_type = 'schedule' AND related_id = :id", {"id": lesson}) == "pending"
    staff = _client(app, "staff.a@x.com")
    done = _send(staff, "PATCH", f"/api/schedules/{lesson}", {"status": "completed", "student_rating": 4,
                                                             "student_feedback": "Smooth merges", "notes": "Wet"})
    assert done.status_code == 200, done.get_data(as_text=True)
    body = done.get_json()
    assert set(body) == {"id", "status", "student_rating", "student_feedback", "notes", "completion_marked_by",
                         "completion_marked_at", "corrected"}
    assert (body["id"], body["status"], body["student_rating"], body["student_feedback"], body["notes"],
            body["corrected"]) == (lesson, "completed", 4, "Smooth merges", "Wet", False)
    assert body["completion_marked_at"] == "2030-03-13T03:00:00+00:00"
    assert _value(app, "SELECT status FROM reminders WHERE related_type = 'schedule' AND related_id = :id", {"id": lesson}) == "cancelled"

    needs_reason = _send(staff, "PATCH", f"/api/schedules/{lesson}", {"student_rating": 5})
    assert needs_reason.status_code == 422 and "correction_reason" in needs_reason.get_json()["fields"]
    fixed = _send(staff, "PATCH", f"/api/schedules/{lesson}", {"student_rating": 5, "correction_reason": "Typo"})
    assert fixed.status_code == 200 and fixed.get_json()["corrected"] is True
    assert fixed.get_json()["student_rating"] == 5 and fixed.get_json()["status"] == "completed"
    notes = _send(staff, "PATCH", f"/api/schedules/{lesson}", {"notes": "Dry in the end", "correction_reason": "x"})
    assert notes.status_code == 200 and notes.get_json()["notes"] == "Dry in the end"
    relabel = _send(staff, "PATCH", f"/api/schedules/{lesson}", {"status": "no_show", "correction_reason": "Wrong"})
    assert relabel.status_code == 200 and relabel.get_json()["status"] == "no_show"
    assert _value(app, "SELECT COUNT(*) FROM audit_trail WHERE action = 'schedule_outcome_recorded'") == 1
    assert _value(app, "SELECT COUNT(*) FROM audit_trail WHERE action = 'schedule_outcome_corrected'") == 3
    moved = _send(staff, "PATCH", f"/api/schedules/{lesson}", {"start_time": "11:00", "end_time": "12:00"})
    assert moved.status_code == 422 and "status" in moved.get_json()["fields"]  # only scheduled events move


@pytest.mark.parametrize("body, field", [
    ({"status": "completed", "student_rating": 0}, "student_rating"),
    ({"status": "completed", "student_rating": 6}, "student_rating"),
    ({"status": "completed", "student_rating": "x"}, "student_rating"),
    ({"status": "completed", "student_rating": "3"}, "student_rating"),
    ({"status": "completed", "student_rating": 2.5}, "student_rating"),
    ({"status": "completed", "student_rating": True}, "student_rating"),
    ({"status": "completed", "student_feedback": "x" * 601}, "student_feedback"),
    ({"status": "finished"}, "status"),
    ({"status": 3}, "status"),
    ({"student_rating": 4}, "status"),              # no outcome yet: the status is needed
    ({"status": "completed", "date": DAY}, "date"),  # an outcome and a move at once
    ({"status": "completed", "cancel_reason": "x"}, "cancel_reason"),
])
def test_bad_outcomes_are_422_naming_the_field_and_write_nothing(app, world, past, body, field):
    staff = _client(app, "staff.a@x.com")
    response = _send(staff, "PATCH", f"/api/schedules/{past['a']}", body)
    assert response.status_code == 422, response.get_data(as_text=True)
    payload = response.get_json()
    assert payload["error"] == "validation" and field in payload["fields"]
    assert _value(app, "SELECT status FROM schedules WHERE id = :id", {"id": past["a"]}) == "scheduled"
    assert _value(app, "SELECT COUNT(*) FROM audit_trail WHERE action LIKE 'schedule_outcome%'") == 0


def test_future_and_cancelled_events_take_no_outcome(app, world, past):
    staff = _client(app, "staff.a@x.com")
    later = _send(staff, "POST", "/api/schedules", _booking(world["a"], date="2030-03-20")).get_json()["id"]
    future = _send(staff, "PATCH", f"/api/schedules/{later}", {"status": "completed"})
    assert future.status_code == 422 and "status" in future.get_json()["fields"]
    _send(staff, "PATCH", f"/api/schedules/{past['a']}", {"status": "cancelled", "cancel_reason": "Rain"})
    cancelled = _send(staff, "PATCH", f"/api/schedules/{past['a']}", {"status": "no_show"})
    assert cancelled.status_code == 422 and "revive" in cancelled.get_json()["message"]


def test_instructors_patch_only_outcome_fields_of_their_own_lessons(app, world, past):
    teacher = _client(app, "i.a@x.com")
    for body in ({"start_time": "11:00"}, {"status": "cancelled", "cancel_reason": "x"}, {"status": "scheduled"},
                 {"status": "completed", "vehicle_id": 1}):
        refused = _send(teacher, "PATCH", f"/api/schedules/{past['a']}", body)
        assert refused.status_code == 403 and refused.is_json, body
    foreign = _send(teacher, "PATCH", f"/api/schedules/{past['b']}", {"status": "completed"})
    assert foreign.status_code == 404 and foreign.is_json
    missing = _send(teacher, "PATCH", "/api/schedules/999999", {"status": "completed"})
    assert missing.status_code == 404
    not_json = teacher.open(f"/api/schedules/{past['b']}", method="PATCH", data="status=completed",
                            content_type="application/x-www-form-urlencoded", headers={"X-CSRFToken": teacher.token})
    assert not_json.status_code == 404  # scope before the body: a foreign lesson is 404 whatever is sent
    own = _send(teacher, "PATCH", f"/api/schedules/{past['a']}", {"status": "completed", "student_rating": 3})
    assert own.status_code == 200 and own.get_json()["status"] == "completed"
    again = _send(teacher, "PATCH", f"/api/schedules/{past['a']}", {"status": "not_completed"})
    assert again.status_code == 422 and "correction_reason" in again.get_json()["fields"]
    student = _client(app, "s.a@x.com")
    assert _send(student, "PATCH", f"/api/schedules/{past['a']}", {"status": "completed"}).status_code == 403
    with app.app_context():
        rows = get_db().fetch_all("SELECT id, status FROM schedules ORDER BY id")
    assert [r["status"] for r in rows] == ["completed", "scheduled"]


def test_revive_through_patch(app, world, past):
    staff = _client(app, "staff.a@x.com")
    lesson = past["a"]
    not_cancelled = _send(staff, "PATCH", f"/api/schedules/{lesson}", {"status": "scheduled"})
    assert not_cancelled.status_code == 422 and "status" in not_cancelled.get_json()["fields"]
    _send(staff, "PATCH", f"/api/schedules/{lesson}", {"status": "cancelled", "cancel_reason": "Rain"})
    extra = _send(staff, "PATCH", f"/api/schedules/{lesson}", {"status": "scheduled", "start_time": "11:00"})
    assert extra.status_code == 422 and "start_time" in extra.get_json()["fields"]
    revived = _send(staff, "PATCH", f"/api/schedules/{lesson}", {"status": "scheduled"})
    assert revived.status_code == 200, revived.get_data(as_text=True)
    assert revived.get_json() == {"id": lesson, "status": "scheduled", "warnings": []}
    assert _value(app, "SELECT cancel_reason FROM schedules WHERE id = :id", {"id": lesson}) is None


def test_revive_refused_when_another_lesson_took_the_slot(app, world, past):
    staff = _client(app, "staff.a@x.com")
    lesson = past["a"]
    _send(staff, "PATCH", f"/api/schedules/{lesson}", {"status": "cancelled", "cancel_reason": "Rain"})
    with app.app_context():
        db = get_db()
        course = db.fetch_value("SELECT course_id FROM enrollments WHERE student_id = :s",
                                {"s": world["a"]["student_id"]})
        newcomer = f.make_student(db, branch_id=world["a"]["branch_id"])
        f.make_enrollment(db, newcomer, course)
    taken = _send(staff, "POST", "/api/schedules", _booking(world["a"], student_id=newcomer, vehicle_id=None))
    assert taken.status_code == 201, taken.get_data(as_text=True)
    audits = _value(app, "SELECT COUNT(*) FROM audit_trail")
    refused = _send(staff, "PATCH", f"/api/schedules/{lesson}", {"status": "scheduled"})
    assert refused.status_code == 409
    payload = refused.get_json()
    assert payload["error"] == "conflict" and [c["kind"] for c in payload["conflicts"]] == ["instructor"]
    assert _value(app, "SELECT status FROM schedules WHERE id = :id", {"id": lesson}) == "cancelled"
    assert _value(app, "SELECT COUNT(*) FROM audit_trail") == audits
