"""The booking form and the event page (blueprint ``events``) on both databases.

Booking: the form is prefilled from a calendar slot (bad or foreign values are simply not used); a
booking writes the event, its reminder and one audit row, then answers 303 to the event page; a refused
slot re-renders 409 with every reason listed (blocks and warnings told apart in words), the typed values
kept; warnings alone offer the accept checkbox and book with it (the flash names them); field errors are
422 inline with the typed values kept; another branch's student, instructor or car is a 422 naming the
field and writes nothing; "Check this slot" previews (200) without writing; no CSRF token is 403, and so
is a student or instructor posting. Live conflicts: the data attributes booking.js reads and the API it
calls. Event page: opens for each role in scope (else 404), moves and cancels with the failures shown in
their form, and costs the same number of queries however busy the branch.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import html as html_lib
import re
from datetime import date, datetime, time

import pytest

from app.core import passwords
from app.core.database import count_queries
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, ROOT, csrf_token, login

DAY = "2030-03-13"  # a Wednesday, well ahead (a reminder is queued)
SLOT = {"date": DAY, "start_time": "09:00", "end_time": "10:00", "event_type": "lesson"}


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
            f.make_enrollment(db, student, course)
            _user(db, "staff", branch, f"staff.{tag}@x.com", "Stacy", f"Office{t}")
            w[tag] = {"branch_id": branch, "course_id": course, "instructor_id": instructor, "student_id": student,
                      "vehicle_id": f.make_vehicle(db, branch_id=branch, name=f"Car {t}")}
        _user(db, "admin", None, "admin@x.com", "Ada", "Admin")
    return w


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    return client


def _post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/dashboard/")})


def _booking(side, **overrides):
    data = {"student_id": side["student_id"], "instructor_id": side["instructor_id"],
            "vehicle_id": side["vehicle_id"], **SLOT}
    data.update(overrides)
    return {k: ("" if v is None else str(v)) for k, v in data.items()}


def _value(app, sql, params=None):
    with app.app_context():
        return get_db().fetch_value(sql, params or {})


def _count(app, table, where="1 = 1", params=None):
    return _value(app, f"SELECT COUNT(*) AS n FROM {table} WHERE {where}", params)


def _text(response) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def _selected(html: str, name: str) -> str | None:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    chosen = re.search(r'<option selected value="([^"]*)"', select.group(1))
    return chosen.group(1) if chosen else None


def _input(html: str, name: str, form_id: str | None = None) -> str | None:
    if form_id:
        html = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.S).group(0)
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    return match.group(1) if match else None


def _other_lesson(app, side, start=time(9, 0), end=time(10, 0), **overrides):
    """A lesson of another student of the side's branch (so a clash is the instructor's or the car's)."""
    with app.app_context():
        db = get_db()
        student = f.make_student(db, branch_id=side["branch_id"])
        enrolment = f.make_enrollment(db, student, side["course_id"])
        instructor = overrides.pop("instructor_id", side["instructor_id"])
        row = {"branch_id": side["branch_id"], "scheduled_date": date(2030, 3, 13), "start_time": start,
               "end_time": end, **overrides}
        return f.make_schedule(db, enrolment, instructor, **row)


def _lesson(app, side, **overrides):
    """A lesson of the side's own student."""
    with app.app_context():
        db = get_db()
        enrolment = db.fetch_value("SELECT id FROM enrollments WHERE student_id = :s", {"s": side["student_id"]})
        row = {"branch_id": side["branch_id"], "vehicle_id": side["vehicle_id"], "scheduled_date": date(2030, 3, 13),
               "start_time": time(9, 0), "end_time": time(10, 0), **overrides}
        return f.make_schedule(db, enrolment, row.pop("instructor_id", side["instructor_id"]), **row)


# --------------------------------------------------------------------------- the booking form

def test_the_form_is_prefilled_from_the_slot(app, world):
    a, b = world["a"], world["b"]
    staff = _client(app, "staff.a@x.com")
    response = staff.get(f"/schedules/new?instructor_id={a['instructor_id']}&branch_id={a['branch_id']}"
                         f"&date={DAY}&start_time=14:00&vehicle_id={a['vehicle_id']}&student_id={a['student_id']}"
                         "&event_type=exam")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _selected(html, "instructor_id") == str(a["instructor_id"])
    assert _selected(html, "student_id") == str(a["student_id"])
    assert _selected(html, "vehicle_id") == str(a["vehicle_id"])
    assert _selected(html, "event_type") == "exam" and "VicRoads Exam" in html
    assert _input(html, "date", "booking-form") == DAY
    assert (_input(html, "start_time", "booking-form"), _input(html, "end_time", "booking-form")) == ("14:00", "15:00")
    assert "LearnerA, Sam" in html and "LearnerB" not in html and "Car B" not in html

    # Another branch's people, and values that are not ids, dates or times: not used, never an error.
    foreign = staff.get(f"/schedules/new?instructor_id={b['instructor_id']}&student_id={b['student_id']}"
                        f"&vehicle_id={b['vehicle_id']}&branch_id={b['branch_id']}")
    assert foreign.status_code == 200
    html = foreign.get_data(as_text=True)
    assert _selected(html, "instructor_id") == "" and _selected(html, "student_id") == ""
    assert "TeacherB" not in html and "Branch B" not in html
    junk = staff.get("/schedules/new?instructor_id=abc&student_id=-5&vehicle_id=1e3&branch_id=%D9%A3"
                     "&date=2026-02-30&start_time=25:61&end_time=x&event_type=<b>&student_q=%00")
    assert junk.status_code == 200
    assert _input(junk.get_data(as_text=True), "date", "booking-form") == ""

    # An admin gets the slot's branch from its instructor, and the branch choice.
    admin = _client(app, "admin@x.com").get(f"/schedules/new?instructor_id={b['instructor_id']}&date={DAY}")
    html = admin.get_data(as_text=True)
    assert _selected(html, "instructor_id") == str(b["instructor_id"])
    assert 'id="find-branch"' in html and re.search(rf'<option value="{b["branch_id"]}" selected>Branch B', html)
    assert "LearnerB, Sam" in html and "LearnerA" not in html
    assert 'id="find-branch"' not in staff.get("/schedules/new").get_data(as_text=True)


def test_the_student_search_narrows_the_list_and_keeps_the_slot(app, world):
    a = world["a"]
    with app.app_context():
        db = get_db()
        for n in range(3):
            other = f.make_student(db, user_id=f.make_user(db, role="student", branch_id=a["branch_id"],
                                                           first_name="Zed", last_name=f"Other{n}"),
                                   branch_id=a["branch_id"])
            f.make_enrollment(db, other, a["course_id"])
    staff = _client(app, "staff.a@x.com")
    html = staff.get(f"/schedules/new?student_q=learnera&date={DAY}&start_time=09:00").get_data(as_text=True)
    assert "LearnerA, Sam" in html and "Other0" not in html
    assert "1 student of Branch A matches “learnera”" in html
    search = re.search(r'<form method="get"[^>]*id="people-search".*?</form>', html, re.S).group(0)
    assert 'name="student_q"' in search and f'name="date" value="{DAY}"' in search
    everyone = staff.get("/schedules/new").get_data(as_text=True)
    assert all(f"Other{n}, Zed" in everyone for n in range(3))


def test_the_cap_says_so(app, world, monkeypatch):
    from app.services import event_pages

    monkeypatch.setattr(event_pages, "STUDENT_OPTIONS_MAX", 1)
    with app.app_context():
        f.make_enrollment(get_db(), f.make_student(get_db(), branch_id=world["a"]["branch_id"]),
                          world["a"]["course_id"])
    html = _client(app, "staff.a@x.com").get("/schedules/new").get_data(as_text=True)
    assert "Showing the first 1 students of Branch A by name: type more of a name or e-mail" in html


def test_booking_writes_the_event_its_reminder_and_one_audit_row(app, world):
    a = world["a"]
    staff = _client(app, "staff.a@x.com")
    response = _post(staff, "/schedules/new", _booking(a, topic="Parallel parking", pickup_location="Station",
                                                       notes="Bring L plates"))
    assert response.status_code == 303, response.get_data(as_text=True)
    lesson = int(re.fullmatch(r".*/schedules/(\d+)", response.headers["Location"]).group(1))
    with app.app_context():
        row = get_db().fetch_one("SELECT instructor_id, vehicle_id, branch_id, status, lesson_topic, pickup_location,"
                                 " notes, scheduled_date, start_time FROM schedules WHERE id = :id", {"id": lesson})
    assert row == {"instructor_id": a["instructor_id"], "vehicle_id": a["vehicle_id"], "branch_id": a["branch_id"],
                   "status": "scheduled", "lesson_topic": "Parallel parking", "pickup_location": "Station",
                   "notes": "Bring L plates", "scheduled_date": date(2030, 3, 13), "start_time": time(9, 0)}
    assert _count(app, "reminders", "related_type = 'schedule' AND related_id = :id AND status = 'pending'",
                  {"id": lesson}) == 1
    assert _count(app, "audit_trail", "action = 'schedule_created' AND entity_id = :id", {"id": lesson}) == 1
    page = staff.get(response.headers["Location"])
    assert page.status_code == 200
    assert "Lesson booked for Wed 13 Mar 2030, 09:00–10:00." in _text(page)
    # the queued reminder is on the page (the runbook's post-deploy check), due 24 h before, branch time
    assert "SMS to the student, due Tue 12 Mar 2030, 09:00 Queued" in " ".join(_text(page).split())
    assert _post(staff, f"/schedules/{lesson}/cancel", {"cancel_reason": "Student unwell"}).status_code == 303
    text = " ".join(_text(staff.get(f"/schedules/{lesson}")).split())
    assert "SMS to the student, was due Tue 12 Mar 2030, 09:00 Withdrawn" in text and "Queued" not in text


def test_every_conflict_is_listed_with_its_severity_and_the_typed_values_kept(app, world):
    a = world["a"]
    with app.app_context():
        db = get_db()
        unallocated = f.make_instructor(db, user_id=f.make_user(db, role="instructor", branch_id=a["branch_id"],
                                                                first_name="Una", last_name="Located"),
                                        branch_id=a["branch_id"])
        broken = f.make_vehicle(db, branch_id=a["branch_id"], name="Broken car", status="maintenance")
    _other_lesson(app, a, instructor_id=unallocated)
    staff = _client(app, "staff.a@x.com")
    response = _post(staff, "/schedules/new", _booking(a, instructor_id=unallocated, vehicle_id=broken,
                                                       start_time="09:30", end_time="10:30", topic="Hill starts",
                                                       accept_warnings="y"))
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    panel = re.search(r'<section class="conflict-panel[^"]*" id="booking-conflicts".*?</section>', html, re.S).group(0)
    kinds = re.findall(r'class="conflict conflict-(block|warn)" data-kind="([a-z_]+)"', panel)
    assert kinds == [("block", "instructor"), ("block", "vehicle_unavailable"), ("warn", "instructor_not_allocated")]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", panel))
    assert text.count("Blocks booking") == 2 and text.count("Warning") == 1
    assert "2 blocking problems and 1 warning" in text
    assert "Una Located already teaches 09:00–10:00" in html_lib.unescape(text)
    assert "data-focus-on-load" in panel
    # The typed values stay; a block means the accept checkbox is neither offered nor kept ticked.
    assert _input(html, "topic") == "Hill starts" and _input(html, "start_time", "booking-form") == "09:30"
    assert _selected(html, "vehicle_id") == str(broken) and _selected(html, "instructor_id") == str(unallocated)
    assert re.search(r'id="accept-warnings-wrap" hidden', html)
    assert 'name="accept_warnings" type="checkbox" value="y">' in html and "checked" not in html.split("accept_warnings")[1][:40]
    assert _count(app, "schedules", "enrollment_id IN (SELECT id FROM enrollments WHERE student_id = :s)",
                  {"s": a["student_id"]}) == 0


def test_warnings_alone_need_the_checkbox_then_book(app, world):
    a = world["a"]
    with app.app_context():
        db = get_db()
        unallocated = f.make_instructor(db, user_id=f.make_user(db, role="instructor", branch_id=a["branch_id"],
                                                                first_name="Una", last_name="Located"),
                                        branch_id=a["branch_id"])
    staff = _client(app, "staff.a@x.com")
    first = _post(staff, "/schedules/new", _booking(a, instructor_id=unallocated))
    assert first.status_code == 409
    html = first.get_data(as_text=True)
    assert "This slot has 1 warning" in html and 'id="accept-warnings-wrap" hidden' not in html
    assert "tick “Book anyway, I accept the warnings” and submit again" in html
    assert _count(app, "schedules") == 0
    booked = _post(staff, "/schedules/new", _booking(a, instructor_id=unallocated, accept_warnings="y"))
    assert booked.status_code == 303
    assert _count(app, "schedules") == 1
    assert _count(app, "audit_trail", "action = 'schedule_created' AND details LIKE :d",
                  {"d": "%instructor_not_allocated%"}) == 1
    text = _text(staff.get(booked.headers["Location"]))
    assert "Accepted warnings: Una Located is not allocated to Course A." in text


def test_field_errors_are_shown_inline_with_the_typed_values_kept(app, world):
    staff = _client(app, "staff.a@x.com")
    response = _post(staff, "/schedules/new", _booking(world["a"], start_time="11:00", end_time="10:00",
                                                       topic="Reverse parking", notes="Keep <this>"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="end_time"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="end_time"', html)
    assert 'id="end_time-feedback">The end must be after the start.' in html
    assert _input(html, "topic") == "Reverse parking" and "Keep &lt;this&gt;" in html
    assert 'data-focus-form="booking-form"' in html
    missing = _post(staff, "/schedules/new", _booking(world["a"], student_id="", date=""))
    assert missing.status_code == 422
    assert 'id="student_id-feedback">Choose one.' in missing.get_data(as_text=True)
    assert 'id="date-feedback">Enter the date.' in missing.get_data(as_text=True)
    assert _count(app, "schedules") == 0


@pytest.mark.parametrize("field", ["student_id", "instructor_id", "vehicle_id"])
def test_another_branchs_people_or_car_are_refused_naming_the_field(app, world, field):
    staff = _client(app, "staff.a@x.com")
    response = _post(staff, "/schedules/new", _booking(world["a"], **{field: world["b"][field]}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-feedback">No such \w+ in your branch\.', html)
    assert _count(app, "schedules") == 0 and _count(app, "reminders") == 0
    assert _count(app, "audit_trail", "action = 'schedule_created'") == 0


def test_refusals_before_the_form(app, world):
    staff = _client(app, "staff.a@x.com")
    assert staff.post("/schedules/new", data=_booking(world["a"])).status_code == 403  # no CSRF token
    for email in ("s.a@x.com", "i.a@x.com"):
        client = _client(app, email)
        assert client.get("/schedules/new").status_code == 403
        assert _post(client, "/schedules/new", _booking(world["a"])).status_code == 403
    assert _count(app, "schedules") == 0


def test_check_this_slot_previews_without_writing(app, world):
    a = world["a"]
    staff = _client(app, "staff.a@x.com")
    free = _post(staff, "/schedules/new", _booking(a, check="y", topic="Kept"))
    assert free.status_code == 200
    assert "No conflicts: this slot is free" in free.get_data(as_text=True)
    assert _input(free.get_data(as_text=True), "topic") == "Kept"
    _other_lesson(app, a)
    busy = _post(staff, "/schedules/new", _booking(a, check="y"))
    assert busy.status_code == 200
    assert 'data-kind="instructor"' in busy.get_data(as_text=True)
    bad = _post(staff, "/schedules/new", _booking(a, check="y", date="2026-02-30"))
    assert bad.status_code == 422 and 'id="date-feedback"' in bad.get_data(as_text=True)
    assert _count(app, "schedules") == 1  # only the other lesson


def test_the_live_conflicts_contract(app, world):
    """What static/js/booking.js relies on: the form's data attributes, the polite live region, the
    accept-warnings wrapper, the script itself, and the API answering the fields it sends."""
    a = world["a"]
    staff = _client(app, "staff.a@x.com")
    html = staff.get(f"/schedules/new?instructor_id={a['instructor_id']}").get_data(as_text=True)
    form = re.search(r'<form method="post"[^>]*id="booking-form"[^>]*>', html).group(0)
    assert 'data-conflicts-url="/api/schedules/conflicts"' in form
    live = re.search(r'data-live-target="([^"]+)"', form).group(1)
    assert re.search(rf'id="{live}" aria-live="polite"', html)
    for attribute in ("data-accept-target", "data-search-form"):
        target = re.search(attribute + r'="([^"]+)"', form).group(1)
        assert f'id="{target}"' in html, attribute
    assert re.search(r'<script defer src="/static/js/booking.js', html)
    assert "<script>" not in html and 'style="' not in html

    script = (ROOT / "static" / "js" / "booking.js").read_text()
    sent = re.findall(r'"([a-z_]+)"', re.search(r"var SLOT = \[([^\]]+)\]", script).group(1))
    assert set(sent) == {"student_id", "instructor_id", "vehicle_id", "branch_id", "event_type", "date",
                         "start_time", "end_time"}
    for name in sent:  # every field the script reads is a control of the form
        assert re.search(rf'name="{name}"', html.split('id="booking-form"')[1]), name
    for attribute in ("data-conflicts-url", "data-live-target", "data-accept-target", "data-search-form"):
        assert attribute in script
    assert 'credentials: "same-origin"' in script

    query = {**_booking(a), "branch_id": str(a["branch_id"])}
    answer = staff.get("/api/schedules/conflicts", query_string=query)
    assert answer.status_code == 200 and answer.get_json() == {"conflicts": []}
    _other_lesson(app, a)
    kinds = [c["kind"] for c in staff.get("/api/schedules/conflicts", query_string=query).get_json()["conflicts"]]
    assert kinds == ["instructor"]
    incomplete = staff.get("/api/schedules/conflicts", query_string={**query, "student_id": "", "date": ""})
    assert incomplete.status_code == 422
    assert set(incomplete.get_json()["fields"]) == {"student_id", "date"} and incomplete.get_json()["message"]


def test_the_form_costs_the_same_queries_however_many_students(app, world):
    staff = _client(app, "staff.a@x.com")
    staff.get("/schedules/new")
    with count_queries() as few:
        assert staff.get("/schedules/new").status_code == 200
    with app.app_context():
        db = get_db()
        for _ in range(20):
            f.make_enrollment(db, f.make_student(db, branch_id=world["a"]["branch_id"]), world["a"]["course_id"])
            f.make_instructor(db, branch_id=world["a"]["branch_id"])
            f.make_vehicle(db, branch_id=world["a"]["branch_id"])
    with count_queries() as many:
        assert staff.get("/schedules/new").status_code == 200
    assert many.count == few.count, (few.statements, many.statements)


# --------------------------------------------------------------------------- the event page

@pytest.mark.parametrize("email, own, foreign", [
    ("admin@x.com", 200, 200), ("staff.a@x.com", 200, 404), ("i.a@x.com", 200, 404), ("s.a@x.com", 200, 404),
])
def test_the_event_page_opens_in_scope(app, world, email, own, foreign):
    mine, theirs = _lesson(app, world["a"], lesson_topic="Merging"), _lesson(app, world["b"])
    client = _client(app, email)
    response = client.get(f"/schedules/{mine}")
    assert response.status_code == own
    assert client.get(f"/schedules/{theirs}").status_code == foreign
    assert client.get("/schedules/999999").status_code == 404
    html = response.get_data(as_text=True)
    text = _text(response)
    assert "Lesson with Sam LearnerA" in text and "Wed 13 Mar 2030, 09:00–10:00" in text and "AEDT" in text
    assert "Merging" in text and 'id="outcome"' in html
    office = email in ("admin@x.com", "staff.a@x.com")
    assert ('id="move-form"' in html) is office and ('id="cancel-form"' in html) is office
    assert f"/schedules/week?instructor_id={world['a']['instructor_id']}&amp;date=2030-03-13" in html or email == "s.a@x.com"
    assert (f"/schedules/day?branch_id={world['a']['branch_id']}&amp;date=2030-03-13" in html) is office
    if email == "s.a@x.com":
        assert f"/schedules/week?student_id={world['a']['student_id']}&amp;date=2030-03-13" in html
        assert "/instructors/" not in html.split("<main")[1] and "/fleet/" not in html.split("<main")[1]
    else:
        assert f'href="/students/{world["a"]["student_id"]}"' in html


def test_another_instructors_lesson_is_not_found(app, world):
    with app.app_context():
        colleague = f.make_instructor(get_db(), branch_id=world["a"]["branch_id"])
    theirs = _lesson(app, world["a"], instructor_id=colleague)
    assert _client(app, "i.a@x.com").get(f"/schedules/{theirs}").status_code == 404
    assert _client(app, "s.a@x.com").get(f"/schedules/{theirs}").status_code == 200  # the student's own


def test_moving_a_lesson(app, world):
    a = world["a"]
    lesson = _lesson(app, a)
    staff = _client(app, "staff.a@x.com")
    with app.app_context():
        student_user = get_db().fetch_value("SELECT user_id FROM students WHERE id = :s", {"s": a["student_id"]})
        get_db().insert("reminders", {"related_type": "schedule", "related_id": lesson,
                                      "recipient_user_id": student_user,
                                      "channel": "sms", "reminder_type": "Upcoming Lesson", "message": "old",
                                      "send_on": date(2030, 3, 12), "status": "pending"})
    moved = _post(staff, f"/schedules/{lesson}/move", {"date": "2030-03-14", "start_time": "11:00",
                                                        "end_time": "12:00", "instructor_id": a["instructor_id"],
                                                        "vehicle_id": "", "notes": "Moved by phone"})
    assert moved.status_code == 303 and moved.headers["Location"].endswith(f"/schedules/{lesson}")
    with app.app_context():
        row = get_db().fetch_one("SELECT scheduled_date, start_time, vehicle_id, notes FROM schedules WHERE id = :id",
                                 {"id": lesson})
        reminder = get_db().fetch_one("SELECT send_on, message FROM reminders WHERE related_type = 'schedule' AND related_id = :id", {"id": lesson})
    assert row == {"scheduled_date": date(2030, 3, 14), "start_time": time(11, 0), "vehicle_id": None,
                   "notes": "Moved by phone"}
    assert reminder["send_on"] == date(2030, 3, 13) and "14 Mar 2030" in reminder["message"]
    assert "Lesson moved to Thu 14 Mar 2030, 11:00–12:00." in _text(staff.get(f"/schedules/{lesson}"))


def test_a_refused_move_is_shown_in_its_form(app, world):
    a = world["a"]
    lesson = _lesson(app, a)
    _other_lesson(app, a, start=time(11, 0), end=time(12, 0))
    staff = _client(app, "staff.a@x.com")
    data = {"date": DAY, "start_time": "11:30", "end_time": "12:30", "instructor_id": a["instructor_id"],
            "vehicle_id": a["vehicle_id"], "notes": "typed"}
    refused = _post(staff, f"/schedules/{lesson}/move", data)
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    move_form = re.search(r'<form[^>]*id="move-form".*?</form>', html, re.S).group(0)
    assert 'data-kind="instructor"' in move_form and "Blocks booking" in move_form
    assert _input(html, "start_time", "move-form") == "11:30" and "typed" in move_form
    assert f'data-location="/schedules/{lesson}#move"' in html and 'data-focus-form="move-form"' in html
    assert "The lesson was not moved: The new slot has 1 blocking problem" in _text(refused)
    assert _value(app, "SELECT start_time FROM schedules WHERE id = :id", {"id": lesson}) == time(9, 0)

    bad = _post(staff, f"/schedules/{lesson}/move", {**data, "end_time": "11:00"})
    assert bad.status_code == 422
    assert 'id="move_end_time-feedback">The end must be after the start.' in bad.get_data(as_text=True)

    # Warnings alone: offered, then accepted.
    with app.app_context():
        db = get_db()
        unallocated = f.make_instructor(db, branch_id=a["branch_id"])
    warned = _post(staff, f"/schedules/{lesson}/move", {**data, "start_time": "14:00", "end_time": "15:00",
                                                         "instructor_id": unallocated})
    assert warned.status_code == 409 and 'name="accept_warnings"' in warned.get_data(as_text=True)
    accepted = _post(staff, f"/schedules/{lesson}/move", {**data, "start_time": "14:00", "end_time": "15:00",
                                                           "instructor_id": unallocated, "accept_warnings": "y"})
    assert accepted.status_code == 303
    assert _value(app, "SELECT instructor_id FROM schedules WHERE id = :id", {"id": lesson}) == unallocated


def test_cancelling_needs_a_reason_and_shows_who_when_and_why(app, world):
    lesson = _lesson(app, world["a"])
    staff = _client(app, "staff.a@x.com")
    none = _post(staff, f"/schedules/{lesson}/cancel", {"cancel_reason": "   "})
    assert none.status_code == 422
    html = none.get_data(as_text=True)
    assert 'id="cancel_reason-feedback">Give a reason for the cancellation.' in html
    assert f'data-location="/schedules/{lesson}#cancel"' in html
    assert _value(app, "SELECT status FROM schedules WHERE id = :id", {"id": lesson}) == "scheduled"
    done = _post(staff, f"/schedules/{lesson}/cancel", {"cancel_reason": "Student unwell"})
    assert done.status_code == 303
    page = staff.get(f"/schedules/{lesson}")
    text = _text(page)
    assert "Lesson cancelled; any pending reminder was withdrawn." in text
    assert "Cancelled by Stacy OfficeA" in text and "Student unwell" in text
    assert "Queued" not in text
    assert 'data-status="cancelled"' in page.get_data(as_text=True)
    assert 'id="move-form"' not in page.get_data(as_text=True)  # nothing to move any more
    again = _post(staff, f"/schedules/{lesson}/cancel", {"cancel_reason": "Twice"})
    assert again.status_code == 422 and "Only scheduled events can be cancelled" in _text(again)


def test_moving_and_cancelling_are_the_offices(app, world):
    lesson, theirs = _lesson(app, world["a"]), _lesson(app, world["b"])
    for email in ("i.a@x.com", "s.a@x.com"):
        client = _client(app, email)
        for action in ("move", "cancel"):
            assert _post(client, f"/schedules/{lesson}/{action}", {"cancel_reason": "x"}).status_code == 403
    staff = _client(app, "staff.a@x.com")
    for action in ("move", "cancel"):
        assert _post(staff, f"/schedules/{theirs}/{action}", {"cancel_reason": "x"}).status_code == 404
        assert staff.post(f"/schedules/{lesson}/{action}", data={"cancel_reason": "x"}).status_code == 403  # no CSRF
    assert _count(app, "schedules", "status = 'scheduled'") == 2


def test_the_event_page_costs_the_same_queries_however_busy_the_branch(app, world):
    a = world["a"]
    lesson = _lesson(app, a)
    staff = _client(app, "staff.a@x.com")
    staff.get(f"/schedules/{lesson}")
    with count_queries() as few:
        assert staff.get(f"/schedules/{lesson}").status_code == 200
    with app.app_context():
        db = get_db()
        for n in range(15):
            f.make_instructor(db, branch_id=a["branch_id"])
            f.make_vehicle(db, branch_id=a["branch_id"])
    for n in range(5):
        _other_lesson(app, a, start=time(12 + n, 0), end=time(13 + n, 0))
    with count_queries() as many:
        assert staff.get(f"/schedules/{lesson}").status_code == 200
    assert many.count == few.count, (few.statements, many.statements)


def test_times_are_in_the_branchs_zone(app, world):
    a = world["a"]
    with app.app_context():
        get_db().execute("UPDATE branches SET timezone = 'Australia/Perth' WHERE id = :b", {"b": a["branch_id"]})
    lesson = _lesson(app, a, event_type="exam")
    text = _text(_client(app, "admin@x.com").get(f"/schedules/{lesson}"))
    assert "Exam with Sam LearnerA" in text and "09:00–10:00 AWST" in text and "Australia/Perth" in text
    assert "VicRoads Exam" in text


def test_the_pages_follow_the_ui_patterns(app, world):
    """The rules tests/ui_patterns_test.py applies to every page: one header from the Dashboard, the one
    badge map, Australian spelling and dates; no inline script or style (CSP)."""
    from tests.ui_patterns_test import _LEADING_ZERO_DATE, _US, _text as visible_text

    a = world["a"]
    cancelled = _lesson(app, a, status="cancelled", cancel_reason="Car broke down")
    lesson = _lesson(app, a, start_time=time(12, 0), end_time=time(13, 0))
    _other_lesson(app, a)
    staff = _client(app, "staff.a@x.com")
    pages = [staff.get(f"/schedules/new?instructor_id={a['instructor_id']}&date={DAY}&start_time=09:00"),
             _post(staff, "/schedules/new", _booking(a)),  # 409: the conflict panel
             staff.get(f"/schedules/{lesson}"), staff.get(f"/schedules/{cancelled}"),
             _client(app, "s.a@x.com").get(f"/schedules/{lesson}"), _client(app, "i.a@x.com").get(f"/schedules/{lesson}")]
    assert [p.status_code for p in pages] == [200, 409, 200, 200, 200, 200]
    for response in pages:
        html = response.get_data(as_text=True)
        header = re.search(r'<div class="page-header">(.*?)<h1', html, re.S)
        assert header and "Dashboard" in header.group(1) and html.count("<h1") == 1
        for badge in re.findall(r'class="badge ([^"]*)"', html):
            assert "status-badge" in badge or "role-badge" in badge, badge
        text = visible_text(html)
        assert not _US.findall(text), _US.findall(text)
        assert not _LEADING_ZERO_DATE.search(text)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html) and 'style="' not in html
    assert "Car broke down" in _text(pages[3])
