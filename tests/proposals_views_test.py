"""Reschedule proposal pages with the test client: the event page's panel and form (office and the
lesson's instructor propose; everyone who sees the lesson sees the pending proposal; its student answers
there or under "Proposed times"), bad input keeps what was typed and names the field (422) or lists every
conflict (409), foreign objects answer 404, expired and answered proposals a clear 409 with nothing written,
withdrawing, and the student's page costs the same queries however many proposals it lists."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import html as html_lib
import re
from datetime import date, datetime, time, timedelta

import pytest

from app.core import passwords
from app.core.database import count_queries
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

DAY = date(2030, 3, 13)  # a Wednesday, well ahead
NEW = {"date": "2030-03-14", "start_time": "10:00", "end_time": "11:00"}


def _user(db, role, branch, email, first="Pat", last="Person"):
    return f.make_user(db, role=role, branch_id=branch, email=email, first_name=first, last_name=last,
                       password_hash=passwords.hash_password(DEMO_PASSWORD))


@pytest.fixture
def world(app):
    with app.app_context():
        db = get_db()
        w = {}
        for tag in ("a", "b"):
            t = tag.upper()
            branch = f.make_branch(db, name=f"Branch {t}")
            course = f.make_course(db, title=f"Course {t}")
            instructor = f.make_instructor(db, user_id=_user(db, "instructor", branch, f"i.{tag}@x.com", "Ira",
                                                             f"Teacher{t}"), branch_id=branch)
            f.allocate(db, course, instructor)
            student = f.make_student(db, user_id=_user(db, "student", branch, f"s.{tag}@x.com", "Sam",
                                                       f"Learner{t}"), branch_id=branch)
            enrolment = f.make_enrollment(db, student, course)
            _user(db, "staff", branch, f"staff.{tag}@x.com", "Stacy", f"Office{t}")
            lesson = f.make_schedule(db, enrolment, instructor, branch_id=branch, scheduled_date=DAY)
            w[tag] = {"branch_id": branch, "course_id": course, "instructor_id": instructor, "student_id": student,
                      "enrolment_id": enrolment, "lesson": lesson}
        _user(db, "admin", None, "admin@x.com", "Ada", "Admin")
    return w


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    return client


def _post(client, path, data=None):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, "/dashboard/")})


def _text(response) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def _fetch(app, sql, params=None):
    with app.app_context():
        return get_db().fetch_one(sql, params or {})


def _slot(app, lesson):
    return _fetch(app, "SELECT scheduled_date, start_time, end_time FROM schedules WHERE id = :id", {"id": lesson})


def _proposal(app, lesson):
    return _fetch(app, "SELECT id, status, expires_at FROM reschedule_proposals WHERE schedule_id = :s"
                       " ORDER BY id DESC LIMIT 1", {"s": lesson})


def _propose(app, world, email="staff.a@x.com", **changes):
    client = _client(app, email)
    return client, _post(client, f"/schedules/{world['a']['lesson']}/propose", {**NEW, **changes})


def test_staff_propose_on_the_event_page_and_the_student_accepts_in_the_portal(app, world):
    lesson = world["a"]["lesson"]
    staff = _client(app, "staff.a@x.com")
    page = staff.get(f"/schedules/{lesson}").get_data(as_text=True)
    assert 'id="propose-form"' in page and f'action="/schedules/{lesson}/propose"' in page
    response = _post(staff, f"/schedules/{lesson}/propose", {**NEW, "message": "Ira has a course that morning"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/schedules/{lesson}#proposal")
    text = _text(staff.get(f"/schedules/{lesson}"))
    assert "Proposed new time" in text and "Thu 14 Mar 2030, 10:00–11:00" in text and "Withdraw proposal" in text

    student = _client(app, "s.a@x.com")
    dashboard = student.get("/dashboard/").get_data(as_text=True)
    assert 'href="/my/proposals"' in dashboard  # the navigation entry "Proposed times"
    text = _text(student.get(f"/schedules/{lesson}"))
    assert "Accept new time" in text and "Ira has a course that morning" in text and "Propose this time" not in text
    mine = student.get("/my/proposals")
    assert mine.status_code == 200
    text = _text(mine)
    assert "Waiting for your answer" in text and "Wed 13 Mar 2030, 09:00–10:00" in text and "Decline" in text
    proposal = _proposal(app, lesson)
    response = _post(student, f"/proposals/{proposal['id']}/accept", {"return_to": "event"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/schedules/{lesson}")
    assert _slot(app, lesson) == {"scheduled_date": date(2030, 3, 14), "start_time": time(10, 0),
                                  "end_time": time(11, 0)}
    assert _proposal(app, lesson)["status"] == "accepted"
    text = _text(student.get("/my/proposals"))
    assert "No proposed times are waiting for you" in text and "Accepted" in text


def test_bad_input_keeps_what_was_typed_and_names_the_field(app, world):
    client, response = _propose(app, world, end_time="09:30", message="Sooner?")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The end must be after the start." in html and 'value="09:30"' in html and "Sooner?" in html
    assert _proposal(app, world["a"]["lesson"]) is None
    with app.app_context():
        db = get_db()
        other = f.make_enrollment(db, f.make_student(db, branch_id=world["a"]["branch_id"]), world["a"]["course_id"])
        f.make_schedule(db, other, world["a"]["instructor_id"], branch_id=world["a"]["branch_id"],
                        scheduled_date=date(2030, 3, 14), start_time=time(10, 30), end_time=time(11, 30))
    response = _post(client, f"/schedules/{world['a']['lesson']}/propose", NEW)
    assert response.status_code == 409
    text = _text(response)
    assert "Blocks booking" in text and "The new time was not proposed" in text
    assert _proposal(app, world["a"]["lesson"]) is None


def test_the_lessons_instructor_proposes_a_foreign_one_404_a_student_403(app, world):
    client, response = _propose(app, world, "i.a@x.com")
    assert response.status_code == 303 and _proposal(app, world["a"]["lesson"])["status"] == "pending"
    assert 'id="propose_instructor_id"' not in client.get(f"/schedules/{world['a']['lesson']}").get_data(as_text=True)
    assert _post(client, f"/schedules/{world['b']['lesson']}/propose", NEW).status_code == 404
    assert client.get(f"/schedules/{world['b']['lesson']}/propose").status_code == 404
    student = _client(app, "s.a@x.com")
    assert _post(student, f"/schedules/{world['a']['lesson']}/propose", NEW).status_code == 403


def test_foreign_expired_and_answered_proposals_are_refused_and_nothing_is_written(app, world):
    _propose(app, world)
    mine = _proposal(app, world["a"]["lesson"])
    with app.app_context():
        foreign = f.make_proposal(get_db(), world["b"]["lesson"], expires_at=datetime(2030, 1, 1))
    student = _client(app, "s.a@x.com")
    assert _post(student, f"/proposals/{foreign}/accept").status_code == 404
    with app.app_context():
        get_db().execute("UPDATE reschedule_proposals SET expires_at = :t WHERE id = :id",
                         {"t": datetime(2020, 1, 1), "id": mine["id"]})
    response = _post(student, f"/proposals/{mine['id']}/accept")
    assert response.status_code == 409 and "This proposal has expired" in _text(response)
    assert _slot(app, world["a"]["lesson"])["scheduled_date"] == DAY
    assert _proposal(app, world["a"]["lesson"])["status"] == "pending"  # nothing written (it reads as expired)
    assert "Expired" in _text(student.get("/my/proposals"))
    assert _post(_client(app, "staff.a@x.com"), f"/proposals/{mine['id']}/accept").status_code == 403  # students only


def test_decline_and_withdraw(app, world):
    staff, _ = _propose(app, world)
    first = _proposal(app, world["a"]["lesson"])
    student = _client(app, "s.a@x.com")
    response = _post(student, f"/proposals/{first['id']}/decline")
    assert response.status_code == 303 and response.headers["Location"].endswith("/my/proposals")
    assert _proposal(app, world["a"]["lesson"])["status"] == "declined"
    assert _slot(app, world["a"]["lesson"])["scheduled_date"] == DAY
    assert _post(student, f"/proposals/{first['id']}/decline").status_code == 409
    _post(staff, f"/schedules/{world['a']['lesson']}/propose", NEW)
    second = _proposal(app, world["a"]["lesson"])
    response = _post(staff, f"/proposals/{second['id']}/withdraw")
    assert response.status_code == 303 and _proposal(app, world["a"]["lesson"])["status"] == "withdrawn"
    response = _post(staff, f"/proposals/{second['id']}/withdraw")
    assert response.status_code == 409 and "already withdrawn" in _text(response)
    assert _post(_client(app, "staff.b@x.com"), f"/proposals/{second['id']}/withdraw").status_code == 404


def test_the_students_page_costs_the_same_queries_however_many_proposals(app, world):
    student = _client(app, "s.a@x.com")
    a = world["a"]
    with app.app_context():
        db = get_db()
        f.make_proposal(db, a["lesson"], expires_at=datetime(2030, 1, 1))
    student.get("/my/proposals")
    with count_queries() as few:
        assert student.get("/my/proposals").status_code == 200
    with app.app_context():
        db = get_db()
        for n in range(6):
            lesson = f.make_schedule(db, a["enrolment_id"], a["instructor_id"], branch_id=a["branch_id"],
                                     scheduled_date=DAY + timedelta(days=n + 1))
            f.make_proposal(db, lesson, expires_at=datetime(2030, 1, 1))
            f.make_proposal(db, lesson, status="declined", answered_at=datetime(2026, 1, 1))
    with count_queries() as many:
        response = student.get("/my/proposals")
    assert response.status_code == 200 and _text(response).count("Accept new time") == 7
    assert many.count == few.count, (few.statements, many.statements)


def test_the_expire_proposals_command(app, world):
    with app.app_context():
        due = f.make_proposal(get_db(), world["a"]["lesson"], expires_at=datetime(2020, 1, 1))
    result = app.test_cli_runner().invoke(args=["expire-proposals"])
    assert result.exit_code == 0 and "expired 1 reschedule proposals" in result.output
    assert _fetch(app, "SELECT status FROM reschedule_proposals WHERE id = :id", {"id": due})["status"] == "expired"
