"""Outcome pages through the web (both backends): the "lessons awaiting an outcome" list (scope per role,
foreign rows never shown, one-click Completed / No-show, filters, an empty state, a query count that does
not grow with the rows), the outcome form (a phone-sized page: record, correct with a reason, errors
re-rendered with what was typed as 422, 409 when someone else recorded it first, success 303 to the event
page), reviving a cancelled event from a button (every conflict flashed, 303), and the outcome panel macro
the event page imports."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
from datetime import date, datetime, time
from types import SimpleNamespace

import pytest
from flask import g, render_template_string

from app.core import passwords
from app.core.database import count_queries
from app.core.flask_db import get_db
from app.services import outcomes
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

NOW = datetime(2030, 3, 13, 3, 0)  # 14:00 on Wed 13 Mar 2030 in Melbourne
DAY = date(2030, 3, 13)
STAFF, TEACHER, COLLEAGUE, ADMIN = "staff.a@x.com", "teacher.a@x.com", "colleague.a@x.com", "admin@x.com"
STAFF_B, NOBRANCH, STUDENT = "staff.b@x.com", "nobranch@x.com", "student.a@x.com"


def _user(db, role, branch, email, first, last):
    return f.make_user(db, role=role, branch_id=branch, email=email, first_name=first, last_name=last,
                       password_hash=passwords.hash_password(DEMO_PASSWORD))


@pytest.fixture
def world(app, frozen):
    frozen(NOW)
    with app.app_context():
        db = get_db()
        a = f.make_branch(db, name="Bayside", timezone="Australia/Melbourne")
        b = f.make_branch(db, name="Zzbranchb")
        teacher = f.make_instructor(db, user_id=_user(db, "instructor", a, TEACHER, "Amelia", "Ward"), branch_id=a)
        colleague = f.make_instructor(db, user_id=_user(db, "instructor", a, COLLEAGUE, "Raj", "Patel"),
                                      branch_id=a)
        teacher_b = f.make_instructor(db, user_id=_user(db, "instructor", b, "teacher.b@x.com", "Zzteacher", "B"),
                                      branch_id=b)
        student = f.make_student(db, user_id=_user(db, "student", a, STUDENT, "Jack", "Mason"), branch_id=a)
        student_b = f.make_student(db, user_id=_user(db, "student", b, "student.b@x.com", "Zzstudent", "B"),
                                   branch_id=b)
        course = f.make_course(db)
        f.allocate(db, course, teacher)
        f.allocate(db, course, colleague)
        enrolment = f.make_enrollment(db, student, course)
        enrolment_b = f.make_enrollment(db, student_b, course)
        _user(db, "staff", a, STAFF, "Priya", "Raman")
        _user(db, "staff", b, STAFF_B, "Zzstaff", "B")
        _user(db, "staff", None, NOBRANCH, "No", "Branch")
        _user(db, "admin", None, ADMIN, "Ada", "Admin")

        def lesson(instructor=teacher, enrollment=enrolment, branch=a, day=DAY, start=time(9, 0), end=time(10, 0),
                   **extra):
            return f.make_schedule(db, enrollment, instructor, branch_id=branch, scheduled_date=day,
                                   start_time=start, end_time=end, **extra)

        w = SimpleNamespace(a=a, b=b, teacher=teacher, colleague=colleague, teacher_b=teacher_b, student=student,
                            enrolment=enrolment, course=course)
        w.mine = lesson(lesson_topic="Roundabouts", notes="Bring glasses")
        w.colleagues = lesson(instructor=colleague, start=time(11, 0), end=time(12, 0), lesson_topic="Parking")
        w.foreign = lesson(instructor=teacher_b, enrollment=enrolment_b, branch=b, lesson_topic="Zztopicb")
        w.future = lesson(day=date(2030, 3, 20))
        w.cancelled = lesson(day=date(2030, 3, 12), status="cancelled", cancel_reason="Rain")
        w.completed = lesson(day=date(2030, 3, 11), status="completed", student_rating=4,
                             student_feedback="Good mirror checks", completion_marked_at=datetime(2030, 3, 11, 1, 0))
        w.lesson = lesson
    return w


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303), email
    client.token = csrf_token(client, "/dashboard/")
    return client


def _post(client, path, data):
    return client.post(path, data={**data, "csrf_token": client.token})


def _row(app, schedule_id):
    with app.app_context():
        return get_db().fetch_one("SELECT status, student_rating, student_feedback, notes, cancel_reason"
                                  " FROM schedules WHERE id = :id", {"id": schedule_id})


def _visible(html):
    """The page without its CSRF tokens (random text that may contain "Zz" by chance)."""
    return re.sub(r'<input[^>]*name="csrf_token"[^>]*>|<meta name="csrf-token"[^>]*>', "", html)


def _listed(html):
    return {int(i) for i in re.findall(r'/schedules/(\d+)/outcome\?from=awaiting', html)}


# ------------------------------------------------------------------------------------------ the list

def test_the_awaiting_list_is_scoped_per_role(app, world):
    pages = {email: _client(app, email).get("/schedules/awaiting") for email in (STAFF, TEACHER, ADMIN, NOBRANCH)}
    assert all(r.status_code == 200 for r in pages.values())
    html = {email: r.get_data(as_text=True) for email, r in pages.items()}
    assert _listed(html[STAFF]) == {world.mine, world.colleagues}
    assert _listed(html[TEACHER]) == {world.mine}
    assert _listed(html[ADMIN]) == {world.mine, world.colleagues, world.foreign}
    assert _listed(html[NOBRANCH]) == set() and "Nothing is waiting" in html[NOBRANCH]
    for email in (STAFF, TEACHER, NOBRANCH):
        assert "Zz" not in _visible(html[email]), email  # no foreign name, topic or branch leaks
    assert _client(app, STUDENT).get("/schedules/awaiting").status_code == 403
    page = html[STAFF]
    assert "Roundabouts" in page and "Wed 13 Mar 2030" in page and "09:00–10:00" in page
    assert f'href="/students/{world.student}"' in page                # the student, linked
    assert f'href="/instructors/{world.colleague}"' in page          # the instructor, linked
    assert page.count('name="csrf_token"') >= 4 and 'value="no_show"' in page and 'value="completed"' in page
    assert 'class="table table-hover table-stack' in page and 'data-label="Outcome"' in page
    assert 'id="filter-instructor"' in page and 'id="filter-branch"' not in page
    assert 'id="filter-branch"' in html[ADMIN]


def test_filters_and_the_filtered_empty_state(app, world):
    staff = _client(app, STAFF)
    assert _listed(staff.get(f"/schedules/awaiting?instructor={world.colleague}").get_data(as_text=True)) == {
        world.colleagues}
    foreign = staff.get(f"/schedules/awaiting?branch={world.b}").get_data(as_text=True)
    assert _listed(foreign) == set() and "match these filters" in foreign and "Zz" not in _visible(foreign)
    ignored = staff.get("/schedules/awaiting?instructor=abc&page=x")
    assert ignored.status_code == 200 and "was ignored" in ignored.get_data(as_text=True)


def test_one_click_completed_and_no_show_from_the_list(app, world):
    staff = _client(app, STAFF)
    base = {"seen_status": "scheduled", "return_to": "awaiting"}
    done = _post(staff, f"/schedules/{world.mine}/outcome", {**base, "status": "completed"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/schedules/awaiting")
    assert _row(app, world.mine)["status"] == "completed"
    assert _row(app, world.mine)["notes"] == "Bring glasses"  # a one-click outcome keeps the notes
    absent = _post(staff, f"/schedules/{world.colleagues}/outcome", {**base, "status": "no_show"})
    assert absent.status_code == 303 and _row(app, world.colleagues)["status"] == "no_show"
    after = staff.get("/schedules/awaiting").get_data(as_text=True)
    assert _listed(after) == set() and "Outcome recorded: No-show." in after
    late = _post(staff, f"/schedules/{world.mine}/outcome", {**base, "status": "no_show"})  # a stale list
    assert late.status_code == 409 and "Someone else recorded" in late.get_data(as_text=True)
    assert _row(app, world.mine)["status"] == "completed"


def test_the_list_costs_the_same_queries_for_3_and_30_rows(app, world):
    admin = _client(app, ADMIN)

    def add(n):
        with app.app_context():
            for i in range(n):
                world.lesson(day=date(2030, 2, 1 + i % 28), start=time(7 + i % 12, 0), end=time(8 + i % 12, 0),
                             instructor=world.colleague if i % 2 else world.teacher)

    def cost():
        with count_queries() as counter:
            response = admin.get("/schedules/awaiting?per_page=100")
        assert response.status_code == 200
        return counter.count, len(_listed(response.get_data(as_text=True)))

    admin.get("/schedules/awaiting")  # warm up (session touch)
    few = cost()
    add(27)
    many = cost()
    assert few[1] == 3 and many[1] == 30
    assert many[0] == few[0], (few, many)


# ------------------------------------------------------------------------------------------ the form

@pytest.mark.parametrize("email, lesson, status", [
    (STAFF, "mine", 200), (STAFF, "colleagues", 200), (STAFF, "foreign", 404), (ADMIN, "foreign", 200),
    (TEACHER, "mine", 200), (TEACHER, "colleagues", 404), (TEACHER, "foreign", 404), (NOBRANCH, "mine", 404),
    (STUDENT, "mine", 403), (STAFF_B, "mine", 404),
])
def test_who_opens_the_outcome_form(app, world, email, lesson, status):
    client = _client(app, email)
    assert client.get(f"/schedules/{getattr(world, lesson)}/outcome").status_code == status
    posted = _post(client, f"/schedules/{getattr(world, lesson)}/outcome", {"status": "completed"})
    assert posted.status_code == (303 if status == 200 else status)


def test_the_form_records_an_outcome_and_answers_303_to_the_event_page(app, world):
    teacher = _client(app, TEACHER)
    page = teacher.get(f"/schedules/{world.mine}/outcome").get_data(as_text=True)
    assert 'name="viewport"' in page and 'id="outcome-form"' in page
    assert 'value="not_completed"' in page and 'name="student_rating"' in page and 'maxlength="600"' in page
    assert 'name="correction_reason"' not in page  # a first outcome needs no reason
    response = _post(teacher, f"/schedules/{world.mine}/outcome", {
        "status": "completed", "student_rating": "5", "student_feedback": "Confident at roundabouts",
        "notes": "Bring glasses", "seen_status": "scheduled"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/schedules/{world.mine}")
    assert _row(app, world.mine) == {"status": "completed", "student_rating": 5,
                                     "student_feedback": "Confident at roundabouts", "notes": "Bring glasses",
                                     "cancel_reason": None}


@pytest.mark.parametrize("changes, field, message", [
    ({"student_rating": "x"}, "student_rating", "whole number from 1 to 5"),
    ({"student_rating": "6"}, "student_rating", "whole number from 1 to 5"),
    ({"student_rating": "0"}, "student_rating", "whole number from 1 to 5"),
    ({"student_feedback": "y" * 601}, "student_feedback", "At most 600 characters"),
    ({"status": "finished"}, "status", "Choose completed"),
    ({"status": ""}, "status", "Choose completed"),
])
def test_a_bad_form_is_re_rendered_with_what_was_typed(app, world, changes, field, message):
    staff = _client(app, STAFF)
    data = {"status": "completed", "student_rating": "4", "student_feedback": "Typed feedback stays",
            "notes": "Typed notes stay", "seen_status": "scheduled", **changes}
    response = _post(staff, f"/schedules/{world.mine}/outcome", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'aria-invalid="true"' in html and 'data-focus-form="outcome-form"' in html
    assert f'data-location="/schedules/{world.mine}/outcome"' in html
    assert "Typed notes stay" in html
    if field != "student_feedback":
        assert "Typed feedback stays" in html
    assert _row(app, world.mine)["status"] == "scheduled"


def test_a_correction_needs_its_reason_on_the_form(app, world):
    staff = _client(app, STAFF)
    page = staff.get(f"/schedules/{world.completed}/outcome").get_data(as_text=True)
    assert 'name="correction_reason"' in page and "Good mirror checks" in page
    assert re.search(r'value="completed"[^>]*checked', page) and re.search(r'value="4"[^>]*checked', page)
    data = {"status": "completed", "student_rating": "3", "student_feedback": "Good mirror checks",
            "seen_status": "completed"}
    missing = _post(staff, f"/schedules/{world.completed}/outcome", data)
    assert missing.status_code == 422 and "give a reason" in missing.get_data(as_text=True)
    assert _row(app, world.completed)["student_rating"] == 4
    done = _post(staff, f"/schedules/{world.completed}/outcome", {**data, "correction_reason": "Misread the sheet"})
    assert done.status_code == 303 and _row(app, world.completed)["student_rating"] == 3
    assert "Outcome corrected: Completed." in staff.get("/schedules/awaiting").get_data(as_text=True)


def test_future_and_cancelled_events_show_why_there_is_no_form(app, world):
    staff = _client(app, STAFF)
    future = staff.get(f"/schedules/{world.future}/outcome").get_data(as_text=True)
    assert "once it has begun" in future and 'id="outcome-form"' not in future
    refused = _post(staff, f"/schedules/{world.future}/outcome", {"status": "completed"})
    assert refused.status_code == 422 and _row(app, world.future)["status"] == "scheduled"
    cancelled = staff.get(f"/schedules/{world.cancelled}/outcome").get_data(as_text=True)
    assert "Revive it first" in cancelled and f'action="/schedules/{world.cancelled}/revive"' in cancelled
    teacher_view = _client(app, TEACHER).get(f"/schedules/{world.cancelled}/outcome").get_data(as_text=True)
    assert "/revive" not in teacher_view  # only the office revives


# ------------------------------------------------------------------------------------------ revive

def test_revive_from_a_button(app, world):
    staff = _client(app, STAFF)
    assert _post(_client(app, TEACHER), f"/schedules/{world.cancelled}/revive", {}).status_code == 403
    assert _post(_client(app, STAFF_B), f"/schedules/{world.cancelled}/revive", {}).status_code == 404
    response = _post(staff, f"/schedules/{world.cancelled}/revive", {})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/schedules/{world.cancelled}")
    assert _row(app, world.cancelled)["status"] == "scheduled" and _row(app, world.cancelled)["cancel_reason"] is None
    again = _post(staff, f"/schedules/{world.cancelled}/revive", {})
    assert again.status_code == 303  # nothing to revive: said in a flash
    assert "Only cancelled events can be revived" in staff.get("/schedules/awaiting").get_data(as_text=True)


def test_a_refused_revive_flashes_every_reason(app, world):
    with app.app_context():
        db = get_db()
        newcomer = f.make_student(db, branch_id=world.a)
        enrolment = f.make_enrollment(db, newcomer, world.course)
        vehicle = f.make_vehicle(db, branch_id=world.a)
        db.execute("UPDATE schedules SET vehicle_id = :v WHERE id = :id", {"v": vehicle, "id": world.cancelled})
        world.lesson(enrollment=enrolment, day=date(2030, 3, 12), start=time(9, 30), end=time(10, 30),
                     vehicle_id=vehicle)
    staff = _client(app, STAFF)
    response = _post(staff, f"/schedules/{world.cancelled}/revive", {})
    assert response.status_code == 303
    assert _row(app, world.cancelled)["status"] == "cancelled"
    page = staff.get("/schedules/awaiting").get_data(as_text=True)
    flash = re.search(r"The event was not revived: ([^<]*)", page).group(1)
    assert flash.count(";") >= 1 and "Amelia Ward" in flash  # the instructor's and the car's clash, both named


# ------------------------------------------------------------------------------------------ the panel

PANEL = "{% from 'outcomes/_panel.html' import outcome_panel %}{{ outcome_panel(event, can_record) }}"


def _panel(app, event, can_record, actor):
    with app.test_request_context("/"):
        g.actor = actor
        return render_template_string(PANEL, event=event, can_record=can_record)


def test_the_outcome_panel(app, world):
    staff = Actor(user_id=1, role="staff", branch_id=world.a)
    teacher = Actor(user_id=2, role="instructor", branch_id=world.a, instructor_id=world.teacher)
    with app.app_context():
        done = outcomes.get_event(get_db(), staff, world.completed)
        cancelled = outcomes.get_event(get_db(), staff, world.cancelled)
    html = _panel(app, done, True, staff)
    assert "4 / 5" in html and "Good mirror checks" in html and "Completed" in html
    assert f'action="/schedules/{world.completed}/outcome"' in html and 'name="correction_reason"' in html
    assert 'name="csrf_token"' in html
    read_only = _panel(app, {"id": 9, "status": "no_show", "student_rating": None}, False, teacher)
    assert "No rating" in read_only and "<form" not in read_only
    revive = _panel(app, cancelled, False, staff)
    assert f'action="/schedules/{world.cancelled}/revive"' in revive and "Revive" in revive
    assert "/revive" not in _panel(app, cancelled, False, teacher)
    pending = _panel(app, {"id": 7, "status": "scheduled"}, False, teacher)
    assert "once the lesson has started" in pending and "<form" not in pending
    record = _panel(app, {"id": 7, "status": "scheduled", "event_type": "exam"}, True, teacher)
    assert 'action="/schedules/7/outcome"' in record and 'name="correction_reason"' not in record
