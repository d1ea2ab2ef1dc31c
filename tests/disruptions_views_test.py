"""The conflicts panel through the web (both backends): the page groups the broken lessons by cause with
linked names and the reason in words, shows the count badge in the navigation for the office only, offers
the free instructors, reassigns (303 back with a flash; a stale row is flashed as already changed) and
cancels with a notification; the empty state; instructors and students get 403, a foreign lesson 404;
staff see only their branch; the notice after recording an unavailability names the affected lessons."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import html as htmllib
import re
from datetime import date, datetime, time

import pytest

from app.core import passwords
from app.core.database import count_queries
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

NOW = datetime(2030, 3, 13, 3, 0)  # 14:00 on Wed 13 Mar 2030 in Melbourne
DAY = date(2030, 3, 14)
STAFF, ADMIN, TEACHER, STUDENT, STAFF_B = "staff.a@x.com", "admin@x.com", "teacher.a@x.com", "student.a@x.com", \
    "staff.b@x.com"
PANEL = "/schedules/conflicts"


def _user(db, role, branch, email, first, last):
    return f.make_user(db, role=role, branch_id=branch, email=email, first_name=first, last_name=last,
                       password_hash=passwords.hash_password(DEMO_PASSWORD))


def _hours(db, instructor):
    for weekday in range(7):
        f.make_working_hours(db, instructor, weekday, time(7, 0), time(19, 0))


@pytest.fixture
def world(app, frozen):
    frozen(NOW)
    with app.app_context():
        db = get_db()
        a = f.make_branch(db, name="Bayside", timezone="Australia/Melbourne")
        b = f.make_branch(db, name="Zzbranchb")
        course = f.make_course(db, title="Learner Essentials")
        teacher = f.make_instructor(db, user_id=_user(db, "instructor", a, TEACHER, "Amelia", "Ward"), branch_id=a)
        spare = f.make_instructor(db, user_id=_user(db, "instructor", a, "spare@x.com", "Raj", "Patel"), branch_id=a)
        teacher_b = f.make_instructor(db, user_id=_user(db, "instructor", b, "t.b@x.com", "Zzteacher", "B"),
                                      branch_id=b, accreditation_expiry=date(2030, 1, 1))
        for instructor in (teacher, spare, teacher_b):
            f.allocate(db, course, instructor)
            _hours(db, instructor)
        student = f.make_student(db, user_id=_user(db, "student", a, STUDENT, "Jack", "Mason"), branch_id=a)
        student_b = f.make_student(db, user_id=_user(db, "student", b, "s.b@x.com", "Zzstudent", "B"), branch_id=b)
        car = f.make_vehicle(db, branch_id=a, name="Corolla", plate_number="ABC-123", status="maintenance")
        f.make_unavailability(db, teacher, datetime(2030, 3, 14, 8, 0), datetime(2030, 3, 14, 12, 0), reason="Sick")
        lesson = f.make_schedule(db, f.make_enrollment(db, student, course), teacher, branch_id=a, vehicle_id=car,
                                 scheduled_date=DAY, start_time=time(9, 0), end_time=time(10, 0))
        lesson_b = f.make_schedule(db, f.make_enrollment(db, student_b, course), teacher_b, branch_id=b,
                                   scheduled_date=DAY, start_time=time(9, 0), end_time=time(10, 0))
        _user(db, "staff", a, STAFF, "Priya", "Raman")
        _user(db, "staff", b, STAFF_B, "Zzstaff", "B")
        _user(db, "admin", None, ADMIN, "Ada", "Admin")
    return {"a": a, "b": b, "teacher": teacher, "spare": spare, "lesson": lesson, "lesson_b": lesson_b, "car": car,
            "student": student}


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    return client


def _text(response):
    return htmllib.unescape(response.get_data(as_text=True))


def test_the_panel_groups_by_cause_links_names_and_shows_the_badge(app, world):
    staff = _client(app, STAFF)
    response = staff.get(PANEL)
    body = _text(response)
    assert response.status_code == 200
    assert body.index("Instructor unavailable <span") < body.index("Vehicle in maintenance <span")
    assert "Amelia Ward is unavailable on 14 Mar 2030, 08:00–12:00 (Sick)." in body
    assert "Corolla (ABC-123) is in maintenance." in body
    assert f'href="/schedules/{world["lesson"]}"' in body and f'href="/students/{world["student"]}"' in body
    assert f'href="/fleet/{world["car"]}"' in body
    assert f'<option value="{world["spare"]}">Raj Patel</option>' in body
    assert "Zzstudent" not in body and "Zzteacher" not in body
    # the badge: one broken lesson in this branch (two causes), with its words for screen readers
    nav = body[body.index('id="mainNav"'):body.index("</nav>", body.index('id="mainNav"'))]
    assert re.search(r'nav-badge[^>]*>1</span><span class="visually-hidden">\(1 broken lesson in the next 14 days\)</span>', nav)
    dashboard = _text(staff.get("/dashboard/"))
    assert "1 broken lesson" in dashboard
    admin = _text(_client(app, ADMIN).get("/dashboard/"))
    assert "2 broken lessons" in admin


def test_instructors_and_students_get_403_and_no_badge(app, world):
    for email in (TEACHER, STUDENT):
        client = _client(app, email)
        assert client.get(PANEL).status_code == 403
        token = csrf_token(client, "/dashboard/")
        assert client.post(f"{PANEL}/{world['lesson']}/cancel", data={"csrf_token": token,
                                                                     "cancel_reason": "x"}).status_code == 403
        assert "broken lesson" not in _text(client.get("/dashboard/"))


def test_a_foreign_lesson_is_404(app, world):
    staff = _client(app, STAFF)
    token = csrf_token(staff, PANEL)
    for action in ("reassign", "cancel"):
        response = staff.post(f"{PANEL}/{world['lesson_b']}/{action}", data={"csrf_token": token, "instructor_id": "1",
                                                                            "cancel_reason": "x", "expected": "x"})
        assert response.status_code == 404


def test_reassign_then_a_stale_second_attempt_is_flashed_as_changed(app, world):
    staff = _client(app, STAFF)
    page = _text(staff.get(PANEL))
    token = csrf_token(staff, PANEL)
    expected = re.search(r'name="expected" value="([^"]+)"', page).group(1)
    data = {"csrf_token": token, "instructor_id": str(world["spare"]), "expected": expected,
            "back": PANEL + "?cause=unavailability"}
    response = staff.post(f"{PANEL}/{world['lesson']}/reassign", data=data)
    assert response.status_code == 303 and response.headers["Location"].endswith("?cause=unavailability")
    # the lesson still has the car in maintenance: the engine refuses the move with that reason
    flashed = _text(staff.get(PANEL))
    assert "was not reassigned" in flashed and "is in maintenance" in flashed
    with app.app_context():
        db = get_db()
        db.execute("UPDATE vehicles SET status = 'available' WHERE id = :id", {"id": world["car"]})
    response = staff.post(f"{PANEL}/{world['lesson']}/reassign", data=data)
    assert response.status_code == 303
    after = _text(staff.get(PANEL))
    assert f"Lesson #{world['lesson']} reassigned" in after
    assert "Nothing is broken: every future lesson still passes the conflict checks." in after
    assert "nav-badge" not in after
    again = staff.post(f"{PANEL}/{world['lesson']}/reassign", data=data)
    assert again.status_code == 303
    assert "already changed by someone else" in _text(staff.get(PANEL))


def test_cancel_and_notify_from_the_panel(app, world):
    staff = _client(app, STAFF)
    page = _text(staff.get(PANEL))
    token = csrf_token(staff, PANEL)
    expected = re.search(r'name="expected" value="([^"]+)"', page).group(1)
    response = staff.post(f"{PANEL}/{world['lesson']}/cancel", data={
        "csrf_token": token, "expected": expected, "cancel_reason": "Instructor unwell"})
    assert response.status_code == 303 and response.headers["Location"].endswith(PANEL)
    assert "the student and the instructor were notified" in _text(staff.get(PANEL))
    with app.app_context():
        rows = get_db().fetch_all("SELECT title FROM notifications ORDER BY id")
    assert len(rows) == 2
    empty = staff.post(f"{PANEL}/{world['lesson']}/cancel", data={"csrf_token": token, "cancel_reason": ""})
    assert empty.status_code == 303
    assert "was not cancelled" in _text(staff.get(PANEL))


def test_bad_filters_are_named_and_admin_filters_by_branch(app, world):
    admin = _client(app, ADMIN)
    body = _text(admin.get(PANEL + "?cause=nonsense&branch=abc"))
    assert "The cause filter was ignored" in body and "The branch filter was ignored" in body
    mine = _text(admin.get(PANEL + f"?branch={world['b']}"))
    assert "Zzstudent" in mine and "Jack Mason" not in mine
    assert "Zzbranchb" in _text(admin.get(PANEL))


def test_recording_an_unavailability_names_the_affected_lessons(app, world):
    staff = _client(app, STAFF)
    token = csrf_token(staff, f"/instructors/{world['spare']}")
    with app.app_context():
        get_db().execute("UPDATE schedules SET instructor_id = :i WHERE id = :id",
                         {"i": world["spare"], "id": world["lesson"]})
    response = staff.post(f"/instructors/{world['spare']}/unavailability", data={
        "csrf_token": token, "start_datetime": "2030-03-14T08:00", "end_datetime": "2030-03-14T17:00",
        "reason": "Training"}, follow_redirects=True)
    assert response.status_code == 200
    assert "1 future lesson is affected: see Conflicts." in _text(response)


def test_recording_a_downtime_names_the_affected_lessons(app, world):
    staff = _client(app, STAFF)
    with app.app_context():
        db = get_db()
        spare_car = f.make_vehicle(db, branch_id=world["a"], name="Spare", plate_number="SPR-001")
        db.execute("UPDATE schedules SET vehicle_id = :v WHERE id = :id", {"v": spare_car, "id": world["lesson"]})
    token = csrf_token(staff, f"/fleet/{spare_car}")
    response = staff.post(f"/fleet/{spare_car}/downtime", data={
        "csrf_token": token, "start_datetime": "2030-03-14T09:30", "end_datetime": "2030-03-14T11:00",
        "reason": "Tyres"}, follow_redirects=True)
    assert response.status_code == 200 and "Downtime window added." in _text(response)
    assert "1 future lesson is affected: see Conflicts." in _text(response)


def test_the_badge_is_counted_once_a_minute_per_branch_and_afresh_on_its_page_and_after_a_change(app, world,
                                                                                              monkeypatch):
    """NAV_BADGE_CACHE_SECONDS (60): other pages reuse this worker's count of the branch's broken lessons;
    the panel itself and the page after any change count again."""
    from app.services import disruptions

    app.config["NAV_BADGE_CACHE_SECONDS"] = 60  # the default (the suite's app counts on every page)
    calls = []
    real = disruptions.badge
    monkeypatch.setattr(disruptions, "badge", lambda *a, **k: calls.append(1) or real(*a, **k))
    staff = _client(app, STAFF)
    staff.get("/dashboard/")
    staff.get("/students/")
    assert len(calls) == 1 and "nav-badge" in _text(staff.get("/dashboard/"))
    _client(app, ADMIN).get("/dashboard/")  # another scope (every branch): its own count
    assert len(calls) == 2
    with count_queries() as counted:
        body = _text(staff.get(PANEL))  # the badge's own page: afresh, from the panel's own counts
    assert len(calls) == 2 and re.search(r'nav-badge[^>]*>1</span>', body)
    assert not [sql for sql in counted.statements if "AS n FROM (SELECT t0.schedule_id" in sql]  # no second count
    token = csrf_token(staff, "/dashboard/")  # (the panel kept its fresh figure)
    staff.get("/students/")
    assert len(calls) == 2
    staff.post("/auth/logout", data={"csrf_token": token})  # any change: the next page counts
    _client(app, STAFF).get("/dashboard/")
    assert len(calls) == 3
    _client(app, ADMIN).get(PANEL + f"?branch={world['b']}")  # one branch of the admin's scope: counted apart
    assert len(calls) == 4
    app.config["NAV_BADGE_CACHE_SECONDS"] = 0  # 0: on every page
    staff = _client(app, STAFF)
    staff.get("/dashboard/")
    staff.get("/dashboard/")
    assert len(calls) == 6
