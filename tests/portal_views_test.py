"""The student portal's pages and JSON API (blueprints portal and api_portal) on both databases.

A student books a slot listed on /my/book (303 to the lesson's page, with a flash); a time inside the
minimum notice and a fifth lesson in a week are refused (409) with the reasons in words, the page
re-rendered with its GET address; a field error is 422. Cancelling outside the cut-off works, inside it
the refusal names the branch and its phone; rescheduling moves the lesson to a listed slot. Another
student's lesson is 404 on every page and endpoint; the office and instructors get 403 on /my/*. My
lessons lists upcoming and past lessons with outcomes, rating and feedback at a fixed query cost. The
API answers 201/200, 409 with ``reasons``, 422 naming fields, 400 for a non-object body, and needs the
CSRF header. The event page offers the student Cancel/Reschedule only outside the cut-off.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import html as html_lib
import json
import re
from datetime import date, datetime, time, timedelta

import pytest

from app.core import passwords
from app.core.database import count_queries
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

NOW = datetime(2026, 3, 10, 22, 0)   # Wed 11 Mar 2026, 09:00 in Melbourne (AEDT, +11)
TODAY = date(2026, 3, 11)
SLOT_FORM = re.compile(r'<form method="post" action="([^"]+)" class="portal-slot-form">(.*?)</form>', re.S)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
SLOT_BUTTON = re.compile(r'<button type="submit" name="slot" value="([^"]+)"')


def _slot_forms(html: str) -> list[dict]:
    """Each free time as its button posts it: the day form's hidden fields and the button's ``slot``, plus
    ``action`` and the slot's parts (instructor_id, date, start_time, vehicle_id when there is one)."""
    found = []
    for action, body in SLOT_FORM.findall(html):
        shared = dict(HIDDEN.findall(body))
        for value in SLOT_BUTTON.findall(body):
            instructor_id, day, start, vehicle_id = value.split("|")
            parts = {"instructor_id": instructor_id, "date": day, "start_time": start}
            found.append({**shared, "slot": value, "action": action, **parts,
                          **({"vehicle_id": vehicle_id} if vehicle_id else {})})
    return found


def _posted(slot: dict) -> dict:
    """What the browser posts for one time: the day form's hidden fields and the button's ``slot``."""
    return {k: v for k, v in slot.items() if k not in ("action", "instructor_id", "date", "start_time", "vehicle_id")}


def _when(slots) -> set:
    return {(s["date"], s["start_time"]) for s in slots}


def _user(db, role, branch, email, first, last):
    return f.make_user(db, role=role, branch_id=branch, email=email, first_name=first, last_name=last,
                       password_hash=passwords.hash_password(DEMO_PASSWORD))


@pytest.fixture
def world(app, frozen):
    frozen(NOW)
    with app.app_context():
        db = get_db()
        branch = f.make_branch(db, name="Bayside", phone="03 9555 0101", timezone="Australia/Melbourne")
        course = f.make_course(db, title="Learner course")
        instructor = f.make_instructor(db, user_id=_user(db, "instructor", branch, "raj@x.com", "Raj", "Patel"),
                                       branch_id=branch)
        for weekday in range(7):
            f.make_working_hours(db, instructor, weekday, time(8, 0), time(18, 0))
        f.allocate(db, course, instructor)
        student = f.make_student(db, user_id=_user(db, "student", branch, "jack@x.com", "Jack", "Mason"),
                                 branch_id=branch)
        enrolment = f.make_enrollment(db, student, course)
        other = f.make_student(db, user_id=_user(db, "student", branch, "mia@x.com", "Mia", "Chen"), branch_id=branch)
        other_enrolment = f.make_enrollment(db, other, course)
        _user(db, "staff", branch, "staff@x.com", "Stacy", "Office")
        _user(db, "admin", None, "admin@x.com", "Ada", "Admin")
        foreign = f.make_schedule(db, other_enrolment, instructor, branch_id=branch,
                                  scheduled_date=TODAY + timedelta(days=4), start_time=time(15, 0),
                                  end_time=time(16, 0))
    yield {"branch": branch, "course": course, "instructor": instructor, "student": student,
           "enrolment": enrolment, "foreign": foreign}


def _client(app, email="jack@x.com"):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    client.token = csrf_token(client, "/dashboard/")
    return client


def _post(client, path, data):
    return client.post(path, data={**data, "csrf_token": client.token})


def _api(client, path, body=None, **kwargs):
    return client.post(path, data=json.dumps(body) if body is not None else None, content_type="application/json",
                       headers={"X-CSRFToken": client.token}, **kwargs)


def _text(response) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def _lesson(app, world, day, start, end=None, **overrides):
    end = end or (datetime.combine(day, start) + timedelta(hours=1)).time()
    with app.app_context():
        return f.make_schedule(get_db(), world["enrolment"], world["instructor"], branch_id=world["branch"],
                               scheduled_date=day, start_time=start, end_time=end, **overrides)


def _row(app, schedule_id):
    with app.app_context():
        return get_db().fetch_one("SELECT status, scheduled_date, start_time, end_time, cancel_reason, pickup_location"
                                  " FROM schedules WHERE id = :id", {"id": schedule_id})


def _count(app, where="1 = 1", params=None):
    with app.app_context():
        return get_db().fetch_value(f"SELECT COUNT(*) FROM schedules WHERE {where}", params or {})


# --------------------------------------------------------------------------- booking

def test_a_student_books_a_slot_listed_on_the_page(app, world):
    jack = _client(app)
    page = jack.get("/my/book")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = _text(page)
    # The notice is 12 hours: today's 09:00 + 12 h = 21:00 is after hours, so the first day is Thursday.
    assert "Thursday 12 March 2026" in text and "Wednesday 11 March" not in text
    assert re.search(r'Book 08:00</span><span class="visually-hidden"> Thu 12 Mar</span>', html)
    assert "with Raj Patel" in text and "until 09:00" in text
    slots = _slot_forms(html)
    first = slots[0]
    assert {k: v for k, v in first.items() if k != "csrf_token"} == {
        "instructor_id": str(world["instructor"]), "date": "2026-03-12", "start_time": "08:00",
        "slot": f"{world['instructor']}|2026-03-12|08:00|", "duration_minutes": "60", "action": "/my/book"}
    assert first["csrf_token"]
    # The pick-up point typed in "Find a time" travels with every slot's form.
    picked = _slot_forms(jack.get("/my/book?pickup_location=Station").get_data(as_text=True))
    assert picked and all(s["pickup_location"] == "Station" for s in picked)
    first = picked[0]
    response = jack.post("/my/book", data=_posted(first))
    assert response.status_code == 303, _text(response)
    lesson_id = int(response.headers["Location"].rsplit("/", 1)[1])
    row = _row(app, lesson_id)
    assert (row["scheduled_date"], str(row["start_time"])[:5], str(row["end_time"])[:5]) == (
        date(2026, 3, 12), "08:00", "09:00")
    assert row["status"] == "scheduled" and row["pickup_location"] == "Station"
    landed = jack.get(response.headers["Location"])
    assert "Booked: Lesson with Raj Patel, Thu 12 Mar 2026, 08:00–09:00." in _text(landed)
    assert "Inside the 24-hour cut-off: call Bayside on 03 9555 0101" in _text(landed)  # 23 hours ahead
    # The slot is gone from the list, and a 90-minute search lists its own lengths.
    again = _slot_forms(jack.get("/my/book").get_data(as_text=True))
    assert ("2026-03-12", "08:00") not in _when(again) and ("2026-03-12", "09:00") in _when(again)
    longer = jack.get(f"/my/book?duration_minutes=90&instructor_id={world['instructor']}")
    assert "Free times for a 90-minute lesson" in _text(longer) and "until 10:30" in _text(longer)
    junk = jack.get("/my/book?duration_minutes=50&instructor_id=abc")
    assert junk.status_code == 200 and "The duration “50” was ignored" in _text(junk)


def test_inside_the_minimum_notice_is_refused_in_words(app, world):
    jack = _client(app)
    response = _post(jack, "/my/book", {"instructor_id": str(world["instructor"]), "date": "2026-03-11",
                                         "start_time": "15:00", "duration_minutes": "60",
                                         "pickup_location": "Home"})
    assert response.status_code == 409
    text = _text(response)
    assert "This lesson was not booked:" in text and "Lessons must be booked at least 12 hours ahead." in text
    html = response.get_data(as_text=True)
    assert 'data-location="/my/book?duration_minutes=60&amp;pickup_location=Home"' in html  # a reload is a GET
    assert 'id="find-pickup" name="pickup_location" value="Home"' in html                   # what was typed is kept
    assert _count(app, "scheduled_date = :d", {"d": TODAY}) == 0


def test_the_weekly_limit_is_refused_in_words(app, world):
    week = [_lesson(app, world, TODAY + timedelta(days=offset), time(8, 0))  # Thu, Fri, Sat of the week of 9 Mar
            for offset in (1, 2, 3)]
    jack = _client(app)
    listed = _when(_slot_forms(jack.get("/my/book").get_data(as_text=True)))  # a full week offers nothing
    assert not {d for d, _ in listed} & {"2026-03-12", "2026-03-15"} and ("2026-03-16", "10:00") in listed
    response = _post(jack, "/my/book", {"slot": f"{world['instructor']}|2026-03-15|10:00|", "duration_minutes": "60"})
    assert response.status_code == 409
    assert "You already have 3 lessons in the week of Mon 9 Mar 2026; the branch allows 3 a week." in _text(response)
    # Moving one of the three within its week is fine: its own lesson does not count.
    moving = _slot_forms(jack.get(f"/my/lessons/{week[2]}/reschedule").get_data(as_text=True))
    assert ("2026-03-15", "10:00") in _when(moving)
    # The next week is fine.
    ok = _post(jack, "/my/book", {"slot": f"{world['instructor']}|2026-03-16|10:00|", "duration_minutes": "60"})
    assert ok.status_code == 303


def test_field_errors_are_422_naming_the_field(app, world):
    jack = _client(app)
    response = _post(jack, "/my/book", {"instructor_id": str(world["instructor"]), "date": "2026-02-30",
                                         "start_time": "9am", "duration_minutes": "60"})
    assert response.status_code == 422
    text = _text(response)
    assert "Date: Give the date as YYYY-MM-DD." in text and "Start time: Give the start as HH:MM." in text
    assert _post(jack, "/my/book", {"slot": "junk", "duration_minutes": "x"}).status_code == 422
    for hostile in ("²", "٣٠", "1e3"):  # str.isdigit() digits that int() cannot read: 422, never a 500
        answer = _post(jack, "/my/book", {"instructor_id": str(world["instructor"]), "date": "2026-03-16",
                                          "start_time": "10:00", "duration_minutes": hostile})
        assert answer.status_code == 422 and "Duration: The length must be 30 to 180 minutes." in _text(answer)
        body = {"instructor_id": world["instructor"], "date": "2026-03-16", "start_time": "10:00",
                "duration_minutes": hostile}
        assert _api(jack, "/api/my/bookings", body).status_code == 422


# --------------------------------------------------------------------------- cancel and reschedule

def test_cancel_outside_the_cut_off(app, world):
    lesson = _lesson(app, world, TODAY + timedelta(days=3), time(10, 0))
    jack = _client(app)
    page = jack.get(f"/my/lessons/{lesson}/cancel")
    assert page.status_code == 200 and "Cancel this lesson" in _text(page)
    response = _post(jack, f"/my/lessons/{lesson}/cancel", {"reason": "Car trouble"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/my/lessons")
    row = _row(app, lesson)
    assert row["status"] == "cancelled" and row["cancel_reason"] == "Car trouble"
    assert "Cancelled: Lesson with Raj Patel, Sat 14 Mar 2026, 10:00–11:00." in _text(jack.get("/my/lessons"))
    again = _post(jack, f"/my/lessons/{lesson}/cancel", {})
    assert again.status_code == 422 and "this one is cancelled" in _text(again)


def test_inside_the_cut_off_the_refusal_says_who_to_call(app, world):
    lesson = _lesson(app, world, TODAY + timedelta(days=1), time(8, 0))   # 23 hours ahead
    jack = _client(app)
    page = jack.get(f"/my/lessons/{lesson}/cancel")
    assert page.status_code == 200
    assert "Inside the 24-hour cut-off: call Bayside on 03 9555 0101" in _text(page)
    assert 'id="cancel-form"' not in page.get_data(as_text=True)
    response = _post(jack, f"/my/lessons/{lesson}/cancel", {"reason": "Sick"})
    assert response.status_code == 409
    assert "call Bayside on 03 9555 0101" in _text(response)
    assert _row(app, lesson)["status"] == "scheduled"
    moved = _post(jack, f"/my/lessons/{lesson}/reschedule", {"slot": f"{world['instructor']}|2026-03-16|10:00|"})
    assert moved.status_code == 409 and "call Bayside on 03 9555 0101" in _text(moved)
    lessons = _text(jack.get("/my/lessons"))
    assert "Inside the 24-hour cut-off: call Bayside on 03 9555 0101" in lessons
    event = _text(jack.get(f"/schedules/{lesson}"))
    assert "Inside the 24-hour cut-off" in event and "Cancel lesson" not in event


def test_reschedule_to_a_listed_slot(app, world):
    lesson = _lesson(app, world, TODAY + timedelta(days=3), time(10, 0), time(11, 30), pickup_location="Gate 2")
    jack = _client(app)
    event = jack.get(f"/schedules/{lesson}").get_data(as_text=True)  # the event page offers both
    assert f'href="/my/lessons/{lesson}/reschedule"' in event and f'href="/my/lessons/{lesson}/cancel"' in event
    page = jack.get(f"/my/lessons/{lesson}/reschedule")
    assert page.status_code == 200
    text = _text(page)
    assert "New times for 90 minutes with Raj Patel" in text and "Move to 08:00" in text
    forms = _slot_forms(page.get_data(as_text=True))
    target = next(f for f in forms if (f["date"], f["start_time"]) == ("2026-03-16", "09:00"))
    assert target["action"] == f"/my/lessons/{lesson}/reschedule" and target["duration_minutes"] == "90"
    response = jack.post(target["action"], data=_posted(target))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/schedules/{lesson}")
    row = _row(app, lesson)
    assert (row["scheduled_date"], str(row["start_time"])[:5], str(row["end_time"])[:5]) == (
        date(2026, 3, 16), "09:00", "10:30")
    assert row["pickup_location"] == "Gate 2"
    landed = _text(jack.get(f"/schedules/{lesson}"))
    assert "Rescheduled: Lesson with Raj Patel, Mon 16 Mar 2026, 09:00–10:30." in landed


def test_another_students_lesson_is_404_everywhere(app, world):
    jack = _client(app)
    foreign = world["foreign"]
    for path in (f"/my/lessons/{foreign}/cancel", f"/my/lessons/{foreign}/reschedule"):
        assert jack.get(path).status_code == 404
        assert _post(jack, path, {"reason": "x"}).status_code == 404
    for path in (f"/api/my/bookings/{foreign}/cancel", f"/api/my/bookings/{foreign}/reschedule"):
        assert _api(jack, path, {}).status_code == 404
    assert _row(app, foreign)["status"] == "scheduled"
    assert jack.get("/my/lessons/99999/cancel").status_code == 404


@pytest.mark.parametrize("email", ["staff@x.com", "raj@x.com", "admin@x.com"])
def test_the_office_and_instructors_cannot_use_my_pages(app, world, email):
    other = _client(app, email)
    lesson = _lesson(app, world, TODAY + timedelta(days=3), time(10, 0))
    for path in ("/my/book", "/my/lessons", f"/my/lessons/{lesson}/cancel", f"/my/lessons/{lesson}/reschedule"):
        assert other.get(path).status_code == 403, path
    assert _post(other, f"/my/lessons/{lesson}/cancel", {}).status_code == 403
    answer = other.get("/api/my/slots")
    assert answer.status_code == 403 and answer.is_json
    assert _api(other, "/api/my/bookings", {}).status_code == 403
    nav = other.get("/dashboard/").get_data(as_text=True)
    assert 'href="/my/book"' not in nav


# --------------------------------------------------------------------------- my lessons

def test_my_lessons_lists_upcoming_and_past_with_outcomes(app, world):
    soon = _lesson(app, world, TODAY + timedelta(days=3), time(10, 0), pickup_location="Library")
    _lesson(app, world, TODAY - timedelta(days=2), time(9, 0), status="completed", student_rating=4,
            student_feedback="Smooth lane changes.")
    _lesson(app, world, TODAY - timedelta(days=5), time(9, 0), status="no_show")
    jack = _client(app)
    response = jack.get("/my/lessons")
    assert response.status_code == 200
    text = _text(response)
    assert "Coming up (1)" in text and "Past lessons (2)" in text
    assert "Library" in text and "Smooth lane changes." in text and "4/5" in text and "No-show" in text
    assert "Mia" not in text  # another student's lesson
    html = response.get_data(as_text=True)
    assert f'href="/my/lessons/{soon}/reschedule"' in html and f'href="/my/lessons/{soon}/cancel"' in html
    assert f'href="/schedules/{soon}"' in html and 'href="/schedules/"' in html   # the calendar view
    nav = re.search(r'<nav class="collapse app-sidebar".*?</nav>', html, re.S).group(0)
    assert 'href="/my/book"' in nav and 'href="/my/lessons"' in nav

    def cost():
        with count_queries() as counter:
            assert jack.get("/my/lessons").status_code == 200
        return counter.count

    few = cost()
    for n in range(8):
        _lesson(app, world, TODAY + timedelta(days=5 + n), time(12, 0))
        _lesson(app, world, TODAY - timedelta(days=8 + n), time(12, 0), status="completed", student_rating=5)
    assert cost() == few


# --------------------------------------------------------------------------- the JSON API

def test_the_api_books_reschedules_and_cancels(app, world):
    jack = _client(app)
    slots = jack.get("/api/my/slots?duration_minutes=45")
    assert slots.status_code == 200
    first = slots.get_json()["slots"][0]
    assert (first["date"], first["start_time"], first["end_time"]) == ("2026-03-12", "08:00", "08:45")
    assert first["instructor_name"] == "Raj Patel"
    body = {"instructor_id": world["instructor"], "date": "2026-03-13", "start_time": "10:00", "duration_minutes": 60}
    created = _api(jack, "/api/my/bookings", body)
    assert created.status_code == 201, created.get_json()
    lesson = created.get_json()["id"]
    clash = _api(jack, "/api/my/bookings", body)
    assert clash.status_code == 409 and clash.get_json()["error"] == "refused"
    assert all(r["message"] for r in clash.get_json()["reasons"])
    moved = _api(jack, f"/api/my/bookings/{lesson}/reschedule", {"date": "2026-03-16", "start_time": "11:00"})
    assert moved.status_code == 200 and moved.get_json() == {"id": lesson}
    assert str(_row(app, lesson)["start_time"])[:5] == "11:00"
    gone = _api(jack, f"/api/my/bookings/{lesson}/cancel", {"reason": "Exams"})
    assert gone.status_code == 200 and gone.get_json() == {"id": lesson, "status": "cancelled"}
    assert _row(app, lesson)["cancel_reason"] == "Exams"


def test_the_api_refuses_in_words_and_names_fields(app, world):
    jack = _client(app)
    notice = _api(jack, "/api/my/bookings", {"instructor_id": world["instructor"], "date": "2026-03-11",
                                             "start_time": "15:00", "duration_minutes": 60})
    assert notice.status_code == 409
    assert [r["kind"] for r in notice.get_json()["reasons"]][0] == "notice"
    bad = _api(jack, "/api/my/bookings", {"instructor_id": world["instructor"], "date": "11/03/2026",
                                          "start_time": "25:00", "duration_minutes": 7})
    assert bad.status_code == 422 and bad.get_json()["error"] == "validation"
    assert {"date", "start_time", "duration_minutes"} <= set(bad.get_json()["fields"])
    for raw in ("[1, 2]", "not json", '"text"'):
        answer = jack.post("/api/my/bookings", data=raw, content_type="application/json",
                           headers={"X-CSRFToken": jack.token})
        assert answer.status_code == 400 and answer.get_json()["errors"] == {"body": [answer.get_json()["message"]]}
    form = jack.post("/api/my/bookings", data={"date": "x"}, headers={"X-CSRFToken": jack.token})
    assert form.status_code == 400
    no_token = jack.post("/api/my/bookings", data="{}", content_type="application/json")
    assert no_token.status_code in (400, 403) and no_token.is_json
    assert jack.get("/api/my/slots?duration_minutes=abc").status_code == 400
    assert jack.get("/api/my/slots?instructor_id=-1").status_code == 400
    assert jack.get("/api/my/slots?duration_minutes=500").status_code == 422
    lesson = _lesson(app, world, TODAY + timedelta(days=1), time(8, 0))  # inside the cut-off
    late = _api(jack, f"/api/my/bookings/{lesson}/cancel")
    assert late.status_code == 409 and "call Bayside on 03 9555 0101" in late.get_json()["reasons"][0]["message"]
    extra = _api(jack, f"/api/my/bookings/{lesson}/cancel", {"reason": "x", "status": "cancelled"})
    assert extra.status_code == 422 and "status" in extra.get_json()["fields"]
