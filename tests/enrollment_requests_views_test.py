"""The enrolment pipeline's pages on both databases (blueprints/apply.py, enrollment_requests.py,
enrollments.py): the sign-in page links to the public application; /apply needs its CSRF token (403
without), a bad field re-renders the form with what was typed (422), a duplicate answers 409 with the one
message and the branch's phone, success answers 303 to /apply/thanks, and a sixth attempt from one address
within the hour is 429 with Retry-After. The queue filters by status and shows the counts; the request
page decides (303; a second decision 409 on the re-rendered page; a decline without a reason 422); an
instructor opens only the requests assigned to them (others 404) and a student gets 403. The office enrols
a student and transfers them from the student's page."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from app.core import clock, passwords
from app.core.flask_db import get_db
from app.services import applications
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login


def _user(db, role, branch, email):
    return f.make_user(db, role=role, branch_id=branch, email=email, first_name="Pat", last_name=role.title(),
                       password_hash=passwords.hash_password(DEMO_PASSWORD))


@pytest.fixture
def world(app):
    with app.app_context():
        db = get_db()
        branch = f.make_branch(db, name="Bayside", phone="03 9000 1111")
        other = f.make_branch(db, name="Northside")
        course = f.make_course(db, title="Beginner", price=Decimal("880.00"), lesson_count=10)
        staff = _user(db, "staff", branch, "staff@x.com")
        _user(db, "admin", None, "admin@x.com")
        teacher_user = _user(db, "instructor", branch, "teacher@x.com")
        teacher = f.make_instructor(db, user_id=teacher_user, branch_id=branch)
        other_teacher = f.make_instructor(db, user_id=_user(db, "instructor", branch, "other.teacher@x.com"),
                                          branch_id=branch)
        student_user = _user(db, "student", branch, "student@x.com")
        student = f.make_student(db, user_id=student_user, branch_id=branch)
    return {"branch": branch, "other": other, "course": course, "staff": staff, "teacher": teacher,
            "other_teacher": other_teacher, "student": student}


def _form(world, **overrides):
    tomorrow = clock.today() + timedelta(days=3)
    data = {"first_name": "Mia", "last_name": "Nguyen", "email": "mia@example.com", "phone": "0400 111 222",
            "date_of_birth": "2005-06-01", "license_number": "L7654321", "branch_id": str(world["branch"]),
            "course_id": str(world["course"]), "preferred_date": tomorrow.isoformat(), "preferred_time": "09:30",
            "notes": "Mornings please"}
    data.update(overrides)
    return data


def _apply(client, world, **overrides):
    token = csrf_token(client, "/apply")
    return client.post("/apply", data={**_form(world, **overrides), "csrf_token": token})


def _signed_in(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    return client


def _request_id(app, email="mia@example.com"):
    with app.app_context():
        return get_db().fetch_value(
            "SELECT r.id FROM enrollment_requests r JOIN students s ON s.id = r.student_id JOIN users u ON u.id = s.user_id"
            " WHERE u.email = :e", {"e": email})


def test_sign_in_page_links_to_the_application(app, client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert 'href="/apply/"' in html or 'href="/apply"' in html


def test_public_application_happy_path_and_csrf(app, client, world):
    assert client.get("/apply").status_code == 200
    assert client.post("/apply", data=_form(world)).status_code == 403  # no CSRF token
    response = _apply(client, world)
    assert response.status_code == 303 and response.headers["Location"].endswith("/apply/thanks")
    thanks = client.get("/apply/thanks")
    assert thanks.status_code == 200 and "we have your application" in thanks.get_data(as_text=True)
    assert _request_id(app)
    staff = _signed_in(app, "staff@x.com")
    inbox = staff.get("/notifications/").get_data(as_text=True)
    assert "New enrolment application" in inbox


def test_bad_field_keeps_what_was_typed(app, client, world):
    response = _apply(client, world, email="nope", first_name="Mia")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Enter a valid e-mail address." in html and 'value="Mia"' in html


def test_duplicate_gets_one_message_and_the_branch_phone(app, client, world):
    assert _apply(client, world).status_code == 303
    for overrides in ({"license_number": "OTHER"}, {"email": "else@example.com"}):
        response = _apply(client, world, **overrides)
        html = response.get_data(as_text=True)
        assert response.status_code == 409 and "03 9000 1111" in html
        assert "sign in" in html and "mia@example.com" not in html.replace('value="mia@example.com"', "")


def test_sixth_application_from_one_address_is_429(app, client, world):
    for n in range(applications.LIMIT):
        assert _apply(client, world, email=f"p{n}@example.com", license_number="").status_code == 303
    response = _apply(client, world, email="late@example.com", license_number="")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "Too many applications" in response.get_data(as_text=True)


def test_queue_and_decision_pages(app, client, world):
    _apply(client, world)
    request_id = _request_id(app)
    staff = _signed_in(app, "staff@x.com")
    listing = staff.get("/enrolment-requests/")
    html = listing.get_data(as_text=True)
    assert listing.status_code == 200 and "Mia Nguyen" in html and "Pending" in html
    assert "Mia Nguyen" not in staff.get("/enrolment-requests/?status=declined").get_data(as_text=True)
    assert staff.get("/enrolment-requests/?status=bogus&page=x").status_code == 200
    page = staff.get(f"/enrolment-requests/{request_id}")
    assert page.status_code == 200 and "Record the decision" in page.get_data(as_text=True)
    token = csrf_token(staff, f"/enrolment-requests/{request_id}")
    refused = staff.post(f"/enrolment-requests/{request_id}/decide",
                         data={"decision": "decline", "reason": "", "csrf_token": token})
    assert refused.status_code == 422 and "Give the reason" in refused.get_data(as_text=True)
    missing = staff.post(f"/enrolment-requests/{request_id}/decide",
                         data={"decision": "approve", "instructor_id": "", "csrf_token": token})
    assert missing.status_code == 422 and "Choose an instructor" in missing.get_data(as_text=True)
    done = staff.post(f"/enrolment-requests/{request_id}/decide",
                      data={"decision": "approve", "instructor_id": str(world["teacher"]), "csrf_token": token})
    assert done.status_code == 303
    again = staff.post(f"/enrolment-requests/{request_id}/decide",
                       data={"decision": "decline", "reason": "Changed my mind", "csrf_token": token})
    assert again.status_code == 409 and "already approved" in again.get_data(as_text=True)
    view = staff.get(f"/enrolment-requests/{request_id}").get_data(as_text=True)
    assert "Approved" in view and "Enrolment #" in view


def test_instructor_sees_only_assigned_requests_and_students_get_403(app, client, world):
    _apply(client, world)
    request_id = _request_id(app)
    teacher = _signed_in(app, "teacher@x.com")
    assert teacher.get(f"/enrolment-requests/{request_id}").status_code == 404
    assert "Mia Nguyen" not in teacher.get("/enrolment-requests/").get_data(as_text=True)
    staff = _signed_in(app, "staff@x.com")
    token = csrf_token(staff, f"/enrolment-requests/{request_id}")
    assert staff.post(f"/enrolment-requests/{request_id}/assign",
                      data={"instructor_id": str(world["teacher"]), "csrf_token": token}).status_code == 303
    assert teacher.get(f"/enrolment-requests/{request_id}").status_code == 200
    other = _signed_in(app, "other.teacher@x.com")
    assert other.get(f"/enrolment-requests/{request_id}").status_code == 404
    token = csrf_token(other, "/dashboard/")
    assert other.post(f"/enrolment-requests/{request_id}/decide",
                      data={"decision": "approve", "csrf_token": token}).status_code == 404
    token = csrf_token(teacher, f"/enrolment-requests/{request_id}")
    assert teacher.post(f"/enrolment-requests/{request_id}/decide",
                        data={"decision": "approve", "csrf_token": token}).status_code == 303
    pupil = _signed_in(app, "student@x.com")
    assert pupil.get("/enrolment-requests/").status_code == 403


def test_direct_enrolment_status_and_transfer_from_the_student_page(app, world):
    staff = _signed_in(app, "staff@x.com")
    student = world["student"]
    profile = staff.get(f"/students/{student}").get_data(as_text=True)
    assert f"/students/{student}/enrol" in profile and f"/students/{student}/transfer" in profile
    token = csrf_token(staff, f"/students/{student}/enrol")
    bad = staff.post(f"/students/{student}/enrol", data={"course_id": "999999", "csrf_token": token})
    assert bad.status_code == 422
    done = staff.post(f"/students/{student}/enrol", data={"course_id": str(world["course"]), "csrf_token": token})
    assert done.status_code == 303 and "/enrolments/" in done.headers["Location"]
    enrolment_url = done.headers["Location"]
    page = staff.get(enrolment_url).get_data(as_text=True)
    assert "0 of 10 lessons completed" in page
    enrollment_id = int(re.search(r"/enrolments/(\d+)", enrolment_url).group(1))
    refused = staff.post(f"/enrolments/{enrollment_id}/status", data={"status": "cancelled", "csrf_token": token})
    assert refused.status_code == 422 and "reason for cancelling" in refused.get_data(as_text=True)
    assert staff.post(f"/enrolments/{enrollment_id}/status",
                      data={"status": "in_progress", "csrf_token": token}).status_code == 303
    assert staff.get(f"/students/{student}/transfer").status_code == 200
    moved = staff.post(f"/students/{student}/transfer",
                       data={"branch_id": str(world["other"]), "reason": "Moved", "csrf_token": token})
    assert moved.status_code == 303
    assert staff.get(f"/students/{student}").status_code == 404  # now another branch's student
    admin = _signed_in(app, "admin@x.com")
    assert "Northside" in admin.get(f"/students/{student}").get_data(as_text=True)


def test_queue_query_count_does_not_grow_with_rows(app, world):
    from app.core.database import count_queries

    def add(n):
        with app.app_context():
            db = get_db()
            for _ in range(n):
                student = f.make_student(db, branch_id=world["branch"])
                f.make_enrollment_request(db, student, world["course"], instructor_id=world["teacher"])

    admin = _signed_in(app, "admin@x.com")
    admin.get("/enrolment-requests/")
    add(2)
    with count_queries() as few:
        assert admin.get("/enrolment-requests/?per_page=100").status_code == 200
    add(20)
    with count_queries() as many:
        response = admin.get("/enrolment-requests/?per_page=100")
    assert response.status_code == 200 and response.get_data(as_text=True).count('data-label="Applicant"') == 22
    assert many.count == few.count, (few.statements, many.statements)
