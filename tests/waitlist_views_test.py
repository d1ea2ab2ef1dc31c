"""The waitlist pages (blueprints/waitlist.py) on both databases: a student opts in on /my/waitlist (a bad
value re-renders the form, 422, with what was typed and the error in view; nothing saved); after a
cancellation /my/offers lists the offer with Accept, and the "Earlier slots" entry carries a count;
accepting answers 303 to the booked lesson's page; the second student then reads "taken" (409 on the
re-rendered page) and the list shows the badge; an expired offer is 409 naming the expiry and writes
nothing; another student's offer is 404; the office and instructors get 403 on /my/*."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, time, timedelta

import pytest

from app.core import passwords
from app.core.flask_db import get_db
from app.services import scheduling
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

NOW = datetime(2026, 3, 1, 0, 0)         # 11:00 Sun 1 Mar in Melbourne (+11)
DAY = date(2026, 3, 11)                  # a Wednesday
EXPIRES = datetime(2026, 3, 10, 10, 0)   # 21:00 on the 10th in Melbourne


def _user(db, role, branch, email, first="Pat", last="Lee"):
    return f.make_user(db, role=role, branch_id=branch, email=email, first_name=first, last_name=last,
                       password_hash=passwords.hash_password(DEMO_PASSWORD))


@pytest.fixture
def world(app, frozen):
    frozen(NOW)
    with app.app_context():
        db = get_db()
        branch = f.make_branch(db, name="Bayside", timezone="Australia/Melbourne")
        course = f.make_course(db)
        instructor = f.make_instructor(db, user_id=_user(db, "instructor", branch, "raj@x.com", "Raj", "Patel"),
                                       branch_id=branch)
        for weekday in range(7):
            f.make_working_hours(db, instructor, weekday, time(8, 0), time(18, 0))
        f.allocate(db, course, instructor)
        students = {}
        for email in ("jack@x.com", "mia@x.com", "noah@x.com"):
            sid = f.make_student(db, user_id=_user(db, "student", branch, email), branch_id=branch)
            f.make_enrollment(db, sid, course)
            students[email] = sid
        _user(db, "staff", branch, "staff@x.com")
        admin = Actor(user_id=_user(db, "admin", None, "admin@x.com"), role="admin")
        enrolment = db.fetch_value("SELECT id FROM enrollments WHERE student_id = :s", {"s": students["noah@x.com"]})
        lesson = f.make_schedule(db, enrollment_id=enrolment, instructor_id=instructor, branch_id=branch,
                                 scheduled_date=DAY, start_time=time(9, 0), end_time=time(10, 0))

    def cancel():
        with app.app_context():
            scheduling.cancel(get_db(), admin, lesson, "Sick", now=NOW)
            return {r["student_id"]: r["id"] for r in get_db().fetch_all("SELECT id, student_id FROM gap_offers")}

    return {"students": students, "lesson": lesson, "cancel": cancel, "instructor": instructor}


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    return client


def _post(client, path, data=None):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_token(client, "/dashboard/")})


def _count(app, sql, **params):
    with app.app_context():
        return get_db().fetch_value(sql, params)


def _opt_in(client):
    return _post(client, "/my/waitlist", {"active": "y", "weekdays": ["2", "4"], "earliest_time": "08:00",
                                          "latest_time": "18:00"})


def test_opting_in_saves_and_redirects_to_the_offers_page(app, world):
    client = _client(app, "jack@x.com")
    page = client.get("/my/waitlist").get_data(as_text=True)
    assert 'id="waitlist-form"' in page and 'value="08:00"' in page and 'id="weekday-0" value="0" checked' in page
    response = _opt_in(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/my/offers")
    assert _count(app, "SELECT weekdays FROM waitlist_preferences WHERE student_id = :s",
                  s=world["students"]["jack@x.com"]) == "0010100"
    html = client.get("/my/offers").get_data(as_text=True)
    assert "Wednesday, Friday" in html and "Waiting" in html


def test_a_bad_value_keeps_what_was_typed_and_saves_nothing(app, world):
    client = _client(app, "jack@x.com")
    response = _post(client, "/my/waitlist", {"active": "y", "weekdays": ["2"], "earliest_time": "09:10",
                                              "latest_time": "17:30"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="09:10"' in html and 'value="17:30"' in html and 'id="weekday-2" value="2" checked' in html
    assert 'id="weekday-0" value="0" checked' not in html
    assert "quarter hour" in html and "is-invalid" in html and "Your preferences were not saved" in html
    assert _count(app, "SELECT COUNT(*) FROM waitlist_preferences") == 0


def test_a_cancelled_slot_reaches_a_waiting_student_who_books_it(app, world):
    """Done when: a cancelled slot reaches a waiting student."""
    jack, mia = _client(app, "jack@x.com"), _client(app, "mia@x.com")
    _opt_in(jack)
    _opt_in(mia)
    offers = world["cancel"]()
    html = jack.get("/my/offers").get_data(as_text=True)
    assert "Wed 11 Mar 2026" in html and "09:00–10:00" in html and "Raj Patel" in html
    assert f'action="/my/offers/{offers[world["students"]["jack@x.com"]]}/accept"' in html
    assert "Tue 10 Mar 2026, 21:00" in html  # when the offer ends, in the branch's time
    assert 'nav-badge' in jack.get("/dashboard/").get_data(as_text=True)  # "Earlier slots" counts it
    inbox = jack.get("/notifications/").get_data(as_text=True)
    assert "An earlier lesson is free" in inbox

    response = _post(jack, f"/my/offers/{offers[world['students']['jack@x.com']]}/accept")
    assert response.status_code == 303
    booked = _count(app, "SELECT booked_schedule_id FROM gap_offers WHERE id = :id",
                    id=offers[world["students"]["jack@x.com"]])
    assert booked and response.headers["Location"].endswith(f"/schedules/{booked}")
    assert jack.get(response.headers["Location"]).status_code == 200

    refused = _post(mia, f"/my/offers/{offers[world['students']['mia@x.com']]}/accept")
    assert refused.status_code == 409
    assert "This slot has been taken" in refused.get_data(as_text=True)
    listed = mia.get("/my/offers").get_data(as_text=True)
    assert 'data-status="taken"' in listed and "/accept" not in listed
    assert _count(app, "SELECT COUNT(*) FROM schedules WHERE status = 'scheduled'") == 1


def test_an_expired_offer_is_refused_and_nothing_is_written(app, world, frozen):
    jack = _client(app, "jack@x.com")
    _opt_in(jack)
    offer = world["cancel"]()[world["students"]["jack@x.com"]]
    frozen(EXPIRES)
    jack = _client(app, "jack@x.com")  # nine days later: a new session
    html = jack.get("/my/offers").get_data(as_text=True)
    assert 'data-status="expired"' in html and "/accept" not in html
    response = _post(jack, f"/my/offers/{offer}/accept")
    assert response.status_code == 409 and "This offer has expired" in response.get_data(as_text=True)
    assert _count(app, "SELECT status FROM gap_offers WHERE id = :id", id=offer) == "offered"
    assert _count(app, "SELECT COUNT(*) FROM schedules WHERE status = 'scheduled'") == 0


def test_another_students_offer_is_404_and_other_roles_get_403(app, world):
    jack = _client(app, "jack@x.com")
    _opt_in(jack)
    offer = world["cancel"]()[world["students"]["jack@x.com"]]
    mia = _client(app, "mia@x.com")
    assert _post(mia, f"/my/offers/{offer}/accept").status_code == 404
    assert _post(mia, "/my/offers/999999/accept").status_code == 404
    assert _count(app, "SELECT status FROM gap_offers WHERE id = :id", id=offer) == "offered"
    for email in ("staff@x.com", "raj@x.com", "admin@x.com"):
        client = _client(app, email)
        assert client.get("/my/offers").status_code == 403, email
        assert client.get("/my/waitlist").status_code == 403, email
        assert _post(client, f"/my/offers/{offer}/accept").status_code == 403, email


def test_accept_needs_the_csrf_token(app, world):
    jack = _client(app, "jack@x.com")
    _opt_in(jack)
    offer = world["cancel"]()[world["students"]["jack@x.com"]]
    assert jack.post(f"/my/offers/{offer}/accept").status_code == 403  # the CSRF check
    assert _count(app, "SELECT status FROM gap_offers WHERE id = :id", id=offer) == "offered"


def test_the_nav_has_earlier_slots_for_students_only(app, world):
    assert "Earlier slots" in _client(app, "jack@x.com").get("/dashboard/").get_data(as_text=True)
    assert "Earlier slots" not in _client(app, "staff@x.com").get("/dashboard/").get_data(as_text=True)
