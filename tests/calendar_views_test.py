"""Calendar pages (/schedules/, week, day, month, sheet) on both databases: each role's default view and
scope (404 outside it, 403 for a role not declared), bad parameters (400 naming the field, or an
"ignored" note), empty slots linking to the booking form with the slot prefilled, events linking to their
page with status and type classes, today marked, the October clock change, month counts from the
aggregate, the day sheet, view tabs keeping the date, lane paging, and a constant number of queries."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import html as htmllib
import re
from datetime import date, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from app.core import passwords
from app.core.database import count_queries
from app.core.flask_db import get_db
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, ROOT, login

NOW = datetime(2026, 3, 9, 22, 0)  # 09:00 on Tue 10 Mar 2026 in Melbourne
TODAY = date(2026, 3, 10)
TOMORROW = TODAY + timedelta(days=1)
NO_BRANCH_NOTICE = "No branch is assigned to your account"


def _user(db, role, branch, email, first, last, phone=None):
    return f.make_user(db, role=role, branch_id=branch, email=email, first_name=first, last_name=last, phone=phone,
                       password_hash=passwords.hash_password(DEMO_PASSWORD))


@pytest.fixture
def world(app, frozen):
    frozen(NOW)
    with app.app_context():
        db = get_db()
        a = f.make_branch(db, name="Alpha Branch", timezone="Australia/Melbourne")
        b = f.make_branch(db, name="Beta Branch")
        ids = {"a": a, "b": b}
        _user(db, "admin", None, "admin@calorigin.com", "Ada", "Admin")
        _user(db, "staff", a, "staff.a@calorigin.com", "Sam", "Desk")
        _user(db, "staff", None, "staff.none@calorigin.com", "Lost", "Desk")
        ids["amelia"] = f.make_instructor(db, user_id=_user(db, "instructor", a, "amelia@calorigin.com", "Amelia", "Ward"),
                                          branch_id=a)
        ids["zedd"] = f.make_instructor(db, user_id=_user(db, "instructor", b, "zedd@calorigin.com", "Zedd", "Foreign"),
                                        branch_id=b)
        ids["course"] = f.make_course(db, title="Learner Essentials")
        ids["jack_user"] = _user(db, "student", a, "jack@calorigin.com", "Jack", "Mason", phone="0401 555 777")
        ids["jack"] = f.make_student(db, user_id=ids["jack_user"], branch_id=a, address_line="12 Marine Pde",
                                     city="St Kilda")
        ids["zara"] = f.make_student(db, user_id=_user(db, "student", b, "zara@calorigin.com", "Zara", "Outsider"),
                                     branch_id=b)
        ids["enrol"] = f.make_enrollment(db, student_id=ids["jack"], course_id=ids["course"])
        ids["zara_enrol"] = f.make_enrollment(db, student_id=ids["zara"], course_id=ids["course"])
        ids["car"] = f.make_vehicle(db, branch_id=a, name="Corolla", plate_number="ORI-123")
        ids["zcar"] = f.make_vehicle(db, branch_id=b, name="Zcar", plate_number="ZZZ-999")
        for weekday in range(5):
            f.make_working_hours(db, ids["amelia"], weekday, time(8, 0), time(17, 0))
        ids["lesson"] = f.make_schedule(db, enrollment_id=ids["enrol"], instructor_id=ids["amelia"], branch_id=a,
                                        vehicle_id=ids["car"], scheduled_date=TOMORROW, start_time=time(9, 0),
                                        end_time=time(10, 0), lesson_topic="Parking techniques",
                                        pickup_location="Flinders St Station", notes="Bring the logbook.")
        ids["zlesson"] = f.make_schedule(db, enrollment_id=ids["zara_enrol"], instructor_id=ids["zedd"], branch_id=b,
                                         scheduled_date=TOMORROW, start_time=time(9, 0), end_time=time(10, 0))
    return ids


def signed_in(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302, email
    return client


def page(client, path, status=200):
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def booking_links(text, slots_only=True):
    """The query of every booking link on the page (only the empty-slot links unless slots_only=False)."""
    pattern = r'class="cal-slot[^"]*" href="(/schedules/new\?[^"]*)"' if slots_only else r'href="(/schedules/new[^"]*)"'
    return [parse_qs(urlsplit(htmllib.unescape(h)).query) for h in re.findall(pattern, text)]


def lesson(app, w, **kw):
    row = {"enrollment_id": w["enrol"], "instructor_id": w["amelia"], "branch_id": w["a"], "scheduled_date": TODAY,
           "start_time": time(10, 0), "end_time": time(11, 0)}
    row.update(kw)
    with app.app_context():
        return f.make_schedule(get_db(), **row)


# --------------------------------------------------------------------------- defaults and scope

def test_the_calendar_opens_on_each_roles_default(app, world):
    admin = page(signed_in(app, "admin@calorigin.com"), "/schedules/")
    assert "Alpha Branch" in admin and "Branch day" in admin and "Amelia Ward" in admin  # the first branch
    beta = page(signed_in(app, "admin@calorigin.com"), f"/schedules/?branch_id={world['b']}")
    assert "Zedd Foreign" in beta and "Amelia Ward" not in beta
    staff = page(signed_in(app, "staff.a@calorigin.com"), "/schedules/")
    assert "Branch day" in staff and "Amelia Ward" in staff and "Tue 10 Mar 2026" in staff
    assert "Zedd" not in staff and "Outsider" not in staff
    lost = page(signed_in(app, "staff.none@calorigin.com"), "/schedules/")
    assert NO_BRANCH_NOTICE in lost and "Amelia" not in lost and "Zedd" not in lost and "cal-grid" not in lost
    instructor = page(signed_in(app, "amelia@calorigin.com"), "/schedules/")
    assert "Instructor week" in instructor and "Mon 9 Mar 2026 – Sun 15 Mar 2026" in instructor
    assert "Jack Mason" in instructor and "Zedd" not in instructor and "Outsider" not in instructor
    assert booking_links(instructor, slots_only=False) == []  # instructors do not book
    student = page(signed_in(app, "jack@calorigin.com"), "/schedules/")
    assert "Student week" in student and "My lessons" in student and "Amelia Ward" in student
    assert booking_links(student, slots_only=False) == [] and "New booking" not in student
    assert "Lessons awaiting an outcome" not in student and "Lessons awaiting an outcome" in instructor
    for text in (instructor, student):  # each opens the lesson's own page (link_for: their own lesson)
        assert f'href="/schedules/{world["lesson"]}"' in text


@pytest.mark.parametrize("path,status", [
    ("/schedules/week?instructor_id={zedd}", 404), ("/schedules/week?student_id={zara}", 404),
    ("/schedules/week?vehicle_id={zcar}", 404), ("/schedules/week?branch_id={b}", 404),
    ("/schedules/day?branch_id={b}", 404), ("/schedules/day?instructor_id={zedd}", 404),
    ("/schedules/month?branch_id={b}", 404), ("/schedules/month?student_id={zara}", 404),
    ("/schedules/sheet?instructor_id={zedd}", 404),
    ("/schedules/week?instructor_id={amelia}", 200), ("/schedules/week?student_id={jack}", 200),
    ("/schedules/week?vehicle_id={car}", 200), ("/schedules/day?instructor_id={amelia}", 200),
    ("/schedules/month?vehicle_id={car}", 200), ("/schedules/sheet?instructor_id={amelia}", 200),
])
def test_staff_see_their_branch_only(app, world, path, status):
    text = page(signed_in(app, "staff.a@calorigin.com"), path.format(**world), status)
    assert "Zedd" not in text and "Outsider" not in text


@pytest.mark.parametrize("email,path,status", [
    ("amelia@calorigin.com", "/schedules/week?instructor_id={zedd}", 404),
    ("amelia@calorigin.com", "/schedules/week?student_id={jack}", 404),
    ("amelia@calorigin.com", "/schedules/week?vehicle_id={car}", 404),
    ("amelia@calorigin.com", "/schedules/day?branch_id={a}", 404),
    ("amelia@calorigin.com", "/schedules/sheet?instructor_id={zedd}", 404),
    ("amelia@calorigin.com", "/schedules/month?instructor_id={zedd}", 404),
    ("amelia@calorigin.com", "/schedules/day", 200), ("amelia@calorigin.com", "/schedules/month", 200),
    ("amelia@calorigin.com", "/schedules/sheet", 200), ("amelia@calorigin.com", "/schedules/week?instructor_id={amelia}", 200),
    ("jack@calorigin.com", "/schedules/week?student_id={zara}", 404),
    ("jack@calorigin.com", "/schedules/week?instructor_id={amelia}", 404),
    ("jack@calorigin.com", "/schedules/month?student_id={zara}", 404),
    ("jack@calorigin.com", "/schedules/day", 403), ("jack@calorigin.com", "/schedules/sheet", 403),
    ("jack@calorigin.com", "/schedules/month", 200), ("jack@calorigin.com", "/schedules/week?student_id={jack}", 200),
    ("staff.none@calorigin.com", "/schedules/week?instructor_id={amelia}", 404),
    ("staff.none@calorigin.com", "/schedules/week", 200), ("staff.none@calorigin.com", "/schedules/month", 200),
    ("admin@calorigin.com", "/schedules/week?instructor_id={zedd}", 200),
    ("admin@calorigin.com", "/schedules/week?student_id={zara}", 200),
])
def test_instructors_students_and_others_in_and_out_of_scope(app, world, email, path, status):
    page(signed_in(app, email), path.format(**world), status)


@pytest.mark.parametrize("path,field", [
    ("/schedules/week?instructor_id=abc", "instructor_id"), ("/schedules/week?instructor_id=12345678901234567890",
                                                              "instructor_id"),
    ("/schedules/week?student_id=1.5", "student_id"), ("/schedules/day?branch_id=x", "branch_id"),
    ("/schedules/month?vehicle_id=-1", "vehicle_id"), ("/schedules/sheet?instructor_id=%C2%B2", "instructor_id"),
    ("/schedules/week?instructor_id={amelia}&student_id={jack}", "student_id"),
])
def test_a_malformed_id_is_a_400_naming_the_field(app, world, path, field):
    text = page(signed_in(app, "admin@calorigin.com"), path.format(**world), 400)
    assert field in text


def test_a_date_or_month_that_does_not_exist_is_ignored_and_said_so(app, world):
    client = signed_in(app, "staff.a@calorigin.com")
    text = page(client, f"/schedules/week?instructor_id={world['amelia']}&date=2026-02-30")
    assert "2026-02-30" in text and "was ignored" in text and "Mon 9 Mar 2026 – Sun 15 Mar 2026" in text
    text = page(client, "/schedules/month?month=13")
    assert "“13” was ignored" in text and "March 2026" in text
    assert "was ignored" in page(client, "/schedules/day?date=2026-13-01")
    assert "was ignored" in page(client, "/schedules/month?month=2026-13")
    assert "February 2026" in page(client, "/schedules/month?month=2026-02")


# --------------------------------------------------------------------------- the grid

def test_empty_slots_link_to_the_booking_form_with_the_slot_prefilled(app, world):
    text = page(signed_in(app, "staff.a@calorigin.com"), f"/schedules/week?instructor_id={world['amelia']}")
    links = booking_links(text)
    tomorrow = [q for q in links if q.get("date") == [TOMORROW.isoformat()]]
    slot = next(q for q in tomorrow if q["start_time"] == ["10:00"])
    assert slot == {"instructor_id": [str(world["amelia"])], "branch_id": [str(world["a"])],
                    "date": [TOMORROW.isoformat()], "start_time": ["10:00"], "end_time": ["11:00"]}
    assert not any(q["start_time"] == ["09:00"] for q in tomorrow)  # the lesson holds 09:00-10:00
    assert all(q["start_time"][0] >= "09:00" for q in links if q.get("date") == [TODAY.isoformat()])  # it is 09:00
    assert "Book Amelia Ward on Wed 11 Mar 2026 at 10:00–11:00" in text
    day = page(signed_in(app, "staff.a@calorigin.com"), f"/schedules/day?date={TOMORROW.isoformat()}")
    lane = next(q for q in booking_links(day) if q["start_time"] == ["11:00"])
    assert lane == {"instructor_id": [str(world["amelia"])], "branch_id": [str(world["a"])],
                    "date": [TOMORROW.isoformat()], "start_time": ["11:00"], "end_time": ["12:00"]}
    vehicle = booking_links(page(signed_in(app, "staff.a@calorigin.com"), f"/schedules/week?vehicle_id={world['car']}"))
    assert vehicle and all(q["vehicle_id"] == [str(world["car"])] for q in vehicle)


def test_events_link_to_their_page_with_status_and_type_marked(app, world):
    exam = lesson(app, world, status="completed", event_type="exam", start_time=time(8, 0), end_time=time(9, 0))
    gone = lesson(app, world, status="cancelled", start_time=time(11, 0), end_time=time(12, 0))
    absent = lesson(app, world, status="no_show", event_type="assessment", start_time=time(13, 0),
                    end_time=time(14, 0))
    missed = lesson(app, world, status="not_completed", start_time=time(15, 0), end_time=time(16, 0))
    text = page(signed_in(app, "staff.a@calorigin.com"), f"/schedules/week?instructor_id={world['amelia']}")
    for schedule_id, status, kind in ((exam, "completed", "exam"), (gone, "cancelled", "lesson"),
                                      (absent, "no_show", "assessment"), (missed, "not_completed", "lesson"),
                                      (world["lesson"], "scheduled", "lesson")):
        block = re.search(rf'<article class="([^"]*)" data-event="{schedule_id}"(.*?)</article>', text, re.S)
        assert block, schedule_id
        assert f"cal-ev-{status}" in block.group(1) and f"cal-type-{kind}" in block.group(1)
        assert f'href="/schedules/{schedule_id}"' in block.group(2)
    assert "No-show" in text and "Not completed" in text and "Cancelled" in text  # words, not colour alone
    assert re.search(r'class="cal-ev-type">Exam<', text) and re.search(r'class="cal-ev-type">Assessment<', text)
    assert f'href="/students/{world["jack"]}"' in text  # the student's name links to the profile
    assert "Parking techniques" in text  # the topic


def test_today_is_marked_in_the_week_the_day_and_the_month(app, world):
    client = signed_in(app, "amelia@calorigin.com")
    week = page(client, "/schedules/week")
    assert re.search(rf'id="cal-day-{TODAY.isoformat()}" aria-current="date"', week)
    assert week.count('aria-current="date"') == 1
    month = page(client, "/schedules/month")
    assert re.search(rf'aria-current="date" data-day="{TODAY.isoformat()}"', month)
    assert "cal-tag is-today" in page(client, "/schedules/day")
    assert "cal-tag is-today" not in page(client, f"/schedules/day?date={TOMORROW.isoformat()}")


def test_the_october_clock_change_shows_wall_clock_times(app, world, frozen):
    frozen(datetime(2026, 10, 1, 0, 0))
    change = date(2026, 10, 4)  # Melbourne: 02:00 becomes 03:00
    lesson(app, world, scheduled_date=change, start_time=time(1, 30), end_time=time(3, 30))
    client = signed_in(app, "staff.a@calorigin.com")
    text = page(client, f"/schedules/day?date={change.isoformat()}")
    assert '01:30<span class="cal-ev-end">–03:30</span>' in text
    assert "Clocks go forward" in text and ">01:00<" in text
    week = page(client, f"/schedules/week?instructor_id={world['amelia']}&date={change.isoformat()}")
    assert '01:30<span class="cal-ev-end">–03:30</span>' in week
    assert not any(q["date"] == [change.isoformat()] and "02:00" <= q["start_time"][0] < "03:00"
                   for q in booking_links(week))


def test_month_counts_come_from_the_aggregate(app, world):
    busy = date(2026, 3, 18)
    for n in range(5):
        lesson(app, world, scheduled_date=busy, start_time=time(8 + n, 0), end_time=time(9 + n, 0))
    lesson(app, world, scheduled_date=busy, start_time=time(16, 0), end_time=time(17, 0), status="cancelled")
    client = signed_in(app, "staff.a@calorigin.com")
    text = page(client, f"/schedules/month?instructor_id={world['amelia']}&month=2026-03")
    cell = re.search(rf'data-day="{busy.isoformat()}" data-count="(\d+)">(.*?)</td>', text, re.S)
    assert cell and cell.group(1) == "5" and "5 booked" in cell.group(2)
    assert cell.group(2).count('href="/schedules/') - cell.group(2).count("/schedules/day") == 3
    more = re.search(r'<a class="cal-more" href="([^"]+)">\+2 more', cell.group(2))
    assert more and htmllib.unescape(more.group(1)) == (
        f"/schedules/day?instructor_id={world['amelia']}&date={busy.isoformat()}")
    branch = page(client, "/schedules/month?month=2026-03")
    assert re.search(rf'data-day="{busy.isoformat()}" data-count="5"', branch)
    student = page(signed_in(app, "jack@calorigin.com"), "/schedules/month?month=2026-03")
    cell = re.search(rf'data-day="{busy.isoformat()}" data-count="5">(.*?)</td>', student, re.S)
    assert cell and "/schedules/week?student_id=" in htmllib.unescape(cell.group(1))  # no day view for students


def test_the_day_sheet_is_the_runbooks_itinerary(app, world):
    lesson(app, world, scheduled_date=TOMORROW, start_time=time(13, 0), end_time=time(14, 0), status="cancelled")
    client = signed_in(app, "amelia@calorigin.com")
    text = page(client, f"/schedules/sheet?date={TOMORROW.isoformat()}")
    for expected in ("Day sheet: Amelia Ward", "Wed 11 Mar 2026", "09:00–10:00", "Jack Mason", "0401 555 777",
                     "Flinders St Station", "Corolla", "ORI-123", "Learner Essentials", "Parking techniques",
                     "Bring the logbook.", "1 cancelled booking not listed", "data-print hidden"):
        assert expected in text, expected
    css = (ROOT / "static" / "css" / "calendar.css").read_text()
    assert "@page { size: A4" in css and "@media print" in css
    assert re.search(r"@media print \{[^}]*\.app-sidebar", css)
    week = page(client, "/schedules/week")
    assert f"/schedules/sheet?instructor_id={world['amelia']}" in htmllib.unescape(week)
    staff_day = htmllib.unescape(page(signed_in(app, "staff.a@calorigin.com"), "/schedules/day"))
    assert f"/schedules/sheet?instructor_id={world['amelia']}&date={TODAY.isoformat()}" in staff_day


def test_views_switch_keeping_the_subject_and_the_date(app, world):
    client = signed_in(app, "staff.a@calorigin.com")
    text = htmllib.unescape(page(client, f"/schedules/week?instructor_id={world['amelia']}&date=2026-04-02"))
    assert f'href="/schedules/day?instructor_id={world["amelia"]}&date=2026-04-02"' in text
    assert f'href="/schedules/month?instructor_id={world["amelia"]}&month=2026-04"' in text
    assert f'href="/schedules/week?instructor_id={world["amelia"]}&date=2026-03-26"' in text  # previous week
    day = htmllib.unescape(page(client, "/schedules/day?date=2026-04-02"))
    assert f'href="/schedules/week?branch_id={world["a"]}&date=2026-04-02"' in day
    assert f'href="/schedules/day?branch_id={world["a"]}&date=2026-04-03"' in day  # next day
    for legend in ("Scheduled", "Completed", "Cancelled", "Not completed", "No-show", "Outside working hours",
                   "Branch closed"):
        assert legend in day
    assert f'href="{"/schedules/awaiting"}"' in day  # lessons awaiting an outcome, for the office


def test_the_day_view_pages_its_lanes(app, world):
    with app.app_context():
        db = get_db()
        for n in range(55):
            user = f.make_user(db, role="instructor", branch_id=world["a"], first_name="Lane", last_name=f"L{n:02d}")
            f.make_instructor(db, user_id=user, branch_id=world["a"])
    client = signed_in(app, "staff.a@calorigin.com")
    first = page(client, "/schedules/day")
    assert first.count('class="cal-col') == 25 and "1 / 3" in first and "Amelia Ward" not in first
    assert page(client, "/schedules/day?page=2").count('class="cal-col') == 25
    last = page(client, "/schedules/day?page=3")
    assert last.count('class="cal-col') == 6 and "Amelia Ward" in last
    assert "was used" in page(client, "/schedules/day?page=abc")


# --------------------------------------------------------------------------- speed

def _request_queries(client, path):
    with count_queries() as counter:
        assert client.get(path).status_code == 200
    return counter.count


def test_pages_cost_the_same_queries_with_3_or_30_events_and_lanes(app, world):
    client = signed_in(app, "staff.a@calorigin.com")
    paths = [f"/schedules/week?instructor_id={world['amelia']}", "/schedules/day", "/schedules/month",
             f"/schedules/sheet?instructor_id={world['amelia']}"]
    for n in range(2):
        lesson(app, world, start_time=time(12 + n, 0), end_time=time(13 + n, 0))
    small = [_request_queries(client, p) for p in paths]
    with app.app_context():
        db = get_db()
        for n in range(28):
            user = f.make_user(db, role="instructor", branch_id=world["a"], first_name="Lane", last_name=f"L{n:02d}")
            lane = f.make_instructor(db, user_id=user, branch_id=world["a"])
            f.make_working_hours(db, lane, 1, time(8, 0), time(16, 0))
            f.make_schedule(db, enrollment_id=world["enrol"], instructor_id=lane, branch_id=world["a"],
                            scheduled_date=TODAY, start_time=time(8 + n % 8, 0), end_time=time(9 + n % 8, 0))
            f.make_schedule(db, enrollment_id=world["enrol"], instructor_id=world["amelia"], branch_id=world["a"],
                            scheduled_date=TODAY + timedelta(days=n % 5), start_time=time(6 + n % 14, 0),
                            end_time=time(7 + n % 14, 0))
    large = [_request_queries(client, p) for p in paths]
    assert small == large, (small, large)


# --------------------------------------------------------------------------- house patterns

@pytest.mark.parametrize("email,paths", [
    ("admin@calorigin.com", ["/schedules/", "/schedules/week", "/schedules/month", "/schedules/sheet",
                             "/schedules/week?vehicle_id={car}", "/schedules/week?student_id={jack}"]),
    ("staff.a@calorigin.com", ["/schedules/", "/schedules/day?instructor_id={amelia}", "/schedules/month?month=2026-02"]),
    ("staff.none@calorigin.com", ["/schedules/", "/schedules/week", "/schedules/month", "/schedules/sheet"]),
    ("amelia@calorigin.com", ["/schedules/", "/schedules/day", "/schedules/month", "/schedules/sheet"]),
    ("jack@calorigin.com", ["/schedules/", "/schedules/month"]),
], ids=["admin", "staff", "branchless", "instructor", "student"])
def test_calendar_pages_follow_the_house_patterns(app, world, email, paths):
    """One page header with breadcrumbs from the Dashboard, one h1, Australian spelling and dates, no inline
    style or script (CSP), no badge outside the one map."""
    from tests.ui_patterns_test import _LEADING_ZERO_DATE, _US, _text

    client = signed_in(app, email)
    for path in paths:
        text = page(client, path.format(**world))
        header = re.search(r'<div class="page-header">(.*?)<h1', text, re.S)
        assert header and "Dashboard" in header.group(1), path
        assert text.count("<h1") == 1, path
        assert "style=" not in text and not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert not re.findall(r'class="badge (?!status-badge|text-bg-light role-badge)', text), path
        words = _text(text)
        assert not _US.findall(words), (path, _US.findall(words))
        assert not _LEADING_ZERO_DATE.search(words), path
