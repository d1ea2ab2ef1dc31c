"""Recurring series (services/series.py, SeriesDAO, the series pages) on SQLite and MariaDB.

A series books every occurrence that passes the one conflict engine and lists the others with their
reasons (nothing is booked when none passes: 409); more than 52 occurrences, a bad interval, count, date,
time or id is a 422 naming the field and writes nothing; an end date or every N weeks gives the right
dates; across both Melbourne daylight-saving changes the wall time stays 17:00 while the instant (and the
reminder's send_at) moves by an hour, and a time in the spring-forward gap is that date's clash; change
and cancel work on this occurrence, this and following, or all (scheduled and ahead only; a clashing
occurrence keeps its time); each action is one audit row with per-occurrence results; another branch's
staff get 404. The pages: the form keeps typed values and names errors, a created series answers 303 to
its page (clashes with reasons and a prefilled "Book by hand" link), the event page shows "Part of a
series" and cancels with a scope, instructors and students get 403.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import html as html_lib
import json
import re
from datetime import date, datetime, time, timedelta

import pytest

from app.core import passwords
from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.core.flask_db import get_db
from app.dao.series import SeriesDAO
from app.services import series
from app.services.series import SeriesConflict
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, csrf_token, login

SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne"}
NOW = datetime(2026, 3, 1, 0, 0)          # 11:00 on Sunday 1 Mar 2026 in Melbourne (AEDT, +11)
FIRST = "2026-03-03"                       # a Tuesday


class World:
    def __init__(self, db):
        self.db = db
        self.branch = f.make_branch(db, name="Bayside", timezone="Australia/Melbourne")
        self.other_branch = f.make_branch(db, name="Northside")
        self.instructor = f.make_instructor(db, branch_id=self.branch)
        self.second_instructor = f.make_instructor(db, branch_id=self.branch)
        student_user = f.make_user(db, first_name="Jack", last_name="Mason", branch_id=self.branch)
        self.student = f.make_student(db, user_id=student_user, branch_id=self.branch)
        self.course = f.make_course(db, title="Learner Essentials")
        self.enrollment = f.make_enrollment(db, self.student, self.course)
        f.allocate(db, self.course, self.instructor)
        f.allocate(db, self.course, self.second_instructor)
        self.vehicle = f.make_vehicle(db, branch_id=self.branch)
        self.staff = Actor(user_id=f.make_user(db, role="staff", branch_id=self.branch), role="staff",
                           branch_id=self.branch)
        self.foreign_staff = Actor(user_id=f.make_user(db, role="staff", branch_id=self.other_branch),
                                   role="staff", branch_id=self.other_branch)
        self.admin = Actor(user_id=f.make_user(db, role="admin"), role="admin")

    def data(self, **overrides):
        row = {"student_id": self.student, "instructor_id": self.instructor, "vehicle_id": self.vehicle,
               "event_type": "lesson", "first_date": FIRST, "start_time": "17:00", "end_time": "18:00",
               "interval_weeks": 1, "count": 10}
        row.update(overrides)
        return {k: v for k, v in row.items() if v is not None}

    def create(self, actor=None, now=NOW, **overrides):
        return series.create(self.db, actor or self.staff, self.data(**overrides), now=now, settings=SETTINGS)

    def other_lesson(self, day, start=time(17, 0), end=time(18, 0), instructor=None):
        """Another student's lesson with the series' instructor (an instructor clash)."""
        student = f.make_student(self.db, branch_id=self.branch)
        enrolment = f.make_enrollment(self.db, student, self.course)
        return f.make_schedule(self.db, enrolment, instructor or self.instructor, branch_id=self.branch,
                               scheduled_date=day, start_time=start, end_time=end)

    def counts(self):
        return tuple(self.db.fetch_value(f"SELECT COUNT(*) AS n FROM {t}")
                     for t in ("schedule_series", "schedules", "reminders", "audit_trail"))

    def occurrences(self, series_id):
        return self.db.fetch_all(
            "SELECT id, scheduled_date, start_time, end_time, status, instructor_id, vehicle_id FROM schedules"
            " WHERE series_id = :id ORDER BY scheduled_date", {"id": series_id})

    def audits(self, action):
        return self.db.fetch_all("SELECT entity_type, entity_id, details, after_json FROM audit_trail"
                                 " WHERE action = :a ORDER BY id", {"a": action})

    def reminder(self, schedule_id):
        return self.db.fetch_one("SELECT status, send_at, send_on FROM reminders WHERE related_type = 'schedule'"
                                 " AND related_id = :id ORDER BY id DESC LIMIT 1", {"id": schedule_id})


@pytest.fixture
def world(db):
    return World(db)


def _t(value) -> time:
    return value if isinstance(value, time) else (datetime.min + value).time()


# ------------------------------------------------------------------------------------------ create

def test_ten_weekly_occurrences_book_nine_and_list_the_clash_with_its_reasons(world):
    clash_day = date(2026, 3, 24)
    blocker = world.other_lesson(clash_day, time(17, 30), time(18, 30))
    created = world.create()
    assert len(created.booked) == 9 and len(created.clashes) == 1
    clash = created.clashes[0]
    assert clash["date"] == "2026-03-24" and clash["start_time"] == "17:00"
    assert [r["kind"] for r in clash["reasons"]] == ["instructor"]
    assert f"#{blocker}" in clash["reasons"][0]["message"]
    rows = world.occurrences(created.series_id)
    assert [r["scheduled_date"] for r in rows] == [date(2026, 3, 3) + timedelta(weeks=k) for k in range(10)
                                                   if k != 3]
    assert all(_t(r["start_time"]) == time(17, 0) and r["status"] == "scheduled" for r in rows)
    assert all(world.reminder(r["id"])["status"] == "pending" for r in rows)
    stored = SeriesDAO(world.db).find(created.series_id)
    assert stored["weekday"] == 1 and stored["occurrences"] == 10 and stored["interval_weeks"] == 1
    assert json.loads(stored["clashes_json"])[0]["date"] == "2026-03-24"
    # one audit row for the whole series, with every occurrence's result
    (row,) = world.audits("series_created")
    assert row["entity_type"] == "schedule_series" and row["entity_id"] == created.series_id
    results = json.loads(row["after_json"])["results"]
    assert len(results) == 10 and sum(r["result"] == "booked" for r in results) == 9
    assert "2026-03-24: clash" in row["details"] and len(row["details"]) <= series.DETAILS_MAX
    assert world.audits("schedule_created") == []


def test_a_first_date_today_whose_time_has_passed_is_that_dates_clash(world):
    created = world.create(first_date="2026-03-03", count=2, now=datetime(2026, 3, 3, 7, 0))  # 18:00 local
    assert [c["date"] for c in created.clashes] == ["2026-03-03"]
    assert created.clashes[0]["reasons"][0]["kind"] == series.STARTED and len(created.booked) == 1


def test_until_date_and_every_two_weeks(world):
    created = world.create(count=None, until_date="2026-04-28", interval_weeks="2")
    days = [r["scheduled_date"] for r in world.occurrences(created.series_id)]
    assert days == [date(2026, 3, 3), date(2026, 3, 17), date(2026, 3, 31), date(2026, 4, 14), date(2026, 4, 28)]
    assert SeriesDAO(world.db).find(created.series_id)["until_date"] == date(2026, 4, 28)


BAD = [
    ({"count": 53}, "count"),
    ({"count": "0"}, "count"),
    ({"count": "ten"}, "count"),
    ({"count": None, "until_date": "2027-03-09"}, "until_date"),      # 54 Tuesdays
    ({"count": None, "until_date": "2026-03-01"}, "until_date"),      # before the first
    ({"count": None}, "count"),                                        # neither
    ({"until_date": "2026-04-28"}, "until_date"),                      # both
    ({"interval_weeks": 5}, "interval_weeks"),
    ({"interval_weeks": "x"}, "interval_weeks"),
    ({"first_date": "2026-02-30"}, "first_date"),
    ({"first_date": "2026-02-24"}, "first_date"),                      # in the past
    ({"start_time": "25:00"}, "start_time"),
    ({"end_time": "16:00"}, "end_time"),
    ({"instructor_id": "abc"}, "instructor_id"),
    ({"student_id": 999999}, "student_id"),
]


def test_bad_input_is_422_naming_the_field_and_writes_nothing(world):
    before = world.counts()
    for overrides, name in BAD:
        with pytest.raises(ValidationFailed) as caught:
            world.create(**overrides)
        assert name in caught.value.errors, (overrides, caught.value.errors)
        assert world.counts() == before, overrides
    with pytest.raises(ValidationFailed) as caught:
        world.create(count=60)
    assert "52" in caught.value.message


def test_nothing_bookable_is_409_and_writes_nothing(world):
    f.make_unavailability(world.db, world.instructor, datetime(2026, 3, 1), datetime(2026, 6, 1), reason="Leave")
    before = world.counts()
    with pytest.raises(SeriesConflict) as caught:
        world.create(count=3)
    assert [c["date"] for c in caught.value.clashes] == ["2026-03-03", "2026-03-10", "2026-03-17"]
    assert all(c["reasons"][0]["kind"] == "instructor_unavailable" for c in caught.value.clashes)
    assert world.counts() == before


def test_scope_is_the_booking_rule_and_other_roles_are_refused(world):
    with pytest.raises(ValidationFailed) as caught:
        world.create(actor=world.foreign_staff, count=2)
    assert "student_id" in caught.value.errors
    instructor = Actor(user_id=1, role="instructor", instructor_id=world.instructor)
    with pytest.raises(PermissionDenied):
        world.create(actor=instructor, count=2)
    created = world.create(actor=world.admin, count=2)
    for action in (lambda: series.get_series(world.db, world.foreign_staff, created.series_id),
                   lambda: series.cancel(world.db, world.foreign_staff, created.booked[0], "all", "x", now=NOW),
                   lambda: series.change(world.db, world.foreign_staff, created.booked[0], "all",
                                         {"start_time": "18:00"}, now=NOW, settings=SETTINGS)):
        with pytest.raises(NotFound):
            action()
    lone = world.other_lesson(date(2026, 5, 5))
    with pytest.raises(NotFound):  # not part of a series
        series.cancel(world.db, world.staff, lone, "all", "x", now=NOW)


# ------------------------------------------------------------------------------------------ daylight saving

def test_across_the_april_change_17_00_stays_local_and_the_instant_moves_an_hour(world):
    created = world.create(first_date="2026-03-31", count=2)  # Tue 31 Mar (AEDT) and Tue 7 Apr (AEST)
    before, after = world.occurrences(created.series_id)
    assert _t(before["start_time"]) == _t(after["start_time"]) == time(17, 0)
    assert world.reminder(before["id"])["send_at"] == datetime(2026, 3, 30, 6, 0)   # 17:00+11 = 06:00 UTC
    assert world.reminder(after["id"])["send_at"] == datetime(2026, 4, 6, 7, 0)     # 17:00+10 = 07:00 UTC


def test_across_the_october_change_and_a_time_in_the_gap_is_that_dates_clash(world):
    created = world.create(first_date="2026-09-29", count=2)  # Tue 29 Sep (AEST) and Tue 6 Oct (AEDT)
    before, after = world.occurrences(created.series_id)
    assert world.reminder(before["id"])["send_at"] == datetime(2026, 9, 28, 7, 0)
    assert world.reminder(after["id"])["send_at"] == datetime(2026, 10, 5, 6, 0)
    # Sundays at 02:30: on 4 Oct 2026 that time does not exist in Melbourne
    student = f.make_student(world.db, branch_id=world.branch)
    f.make_enrollment(world.db, student, world.course)
    gap = world.create(first_date="2026-09-27", count=3, start_time="02:30", end_time="03:30",
                       student_id=student, vehicle_id=None)
    assert [c["date"] for c in gap.clashes] == ["2026-10-04"]
    assert gap.clashes[0]["reasons"][0]["kind"] == series.CLOCK_CHANGE
    assert "clocks go forward" in gap.clashes[0]["reasons"][0]["message"]
    assert len(gap.booked) == 2


# ------------------------------------------------------------------------------------------ change

def _series_of_five(world):
    created = world.create(count=5)
    return created, [r["id"] for r in world.occurrences(created.series_id)]


def test_change_this_following_and_all(world):
    created, ids = _series_of_five(world)
    done = series.change(world.db, world.staff, ids[1], "this", {"start_time": "18:00", "end_time": "19:00"},
                         now=NOW, settings=SETTINGS)
    assert done.changed == [ids[1]] and done.clashes == []
    rows = {r["id"]: r for r in world.occurrences(created.series_id)}
    assert _t(rows[ids[1]]["start_time"]) == time(18, 0) and _t(rows[ids[0]]["start_time"]) == time(17, 0)
    assert world.reminder(ids[1])["send_at"] == datetime(2026, 3, 9, 7, 0)  # 18:00+11 on 10 Mar, 24 h before

    done = series.change(world.db, world.staff, ids[2], "following", {"instructor_id": world.second_instructor},
                         now=NOW, settings=SETTINGS)
    assert done.changed == ids[2:]
    rows = {r["id"]: r for r in world.occurrences(created.series_id)}
    assert [rows[i]["instructor_id"] for i in ids] == [world.instructor] * 2 + [world.second_instructor] * 3
    assert SeriesDAO(world.db).find(created.series_id)["instructor_id"] == world.second_instructor

    done = series.change(world.db, world.admin, ids[0], "all", {"end_time": "18:30"}, now=NOW, settings=SETTINGS)
    assert done.changed == ids
    assert all(_t(r["end_time"]) == time(18, 30) for r in world.occurrences(created.series_id))
    assert len(world.audits("series_changed")) == 3
    results = json.loads(world.audits("series_changed")[-1]["after_json"])["results"]
    assert [r["result"] for r in results] == ["changed"] * 5


def test_a_clashing_occurrence_keeps_its_time_and_is_listed(world):
    created, ids = _series_of_five(world)
    world.other_lesson(date(2026, 3, 17), time(19, 0), time(20, 0))
    done = series.change(world.db, world.staff, ids[0], "all", {"start_time": "19:00", "end_time": "20:00"},
                         now=NOW, settings=SETTINGS)
    assert done.changed == [ids[0], ids[1], ids[3], ids[4]]
    assert [(c["schedule_id"], c["date"]) for c in done.clashes] == [(ids[2], "2026-03-17")]
    assert done.clashes[0]["reasons"][0]["kind"] == "instructor"
    kept = next(r for r in world.occurrences(created.series_id) if r["id"] == ids[2])
    assert _t(kept["start_time"]) == time(17, 0)
    (row,) = world.audits("series_changed")
    assert "clash, kept its time" in row["details"]
    # every occurrence clashing: nothing changes (409), nothing written
    before = world.counts()
    with pytest.raises(SeriesConflict):
        series.change(world.db, world.staff, ids[2], "this", {"start_time": "19:00", "end_time": "20:00"},
                      now=NOW, settings=SETTINGS)
    assert world.counts() == before


def test_change_refuses_bad_input_by_name(world):
    _, ids = _series_of_five(world)
    for scope, changes, name in (("sometimes", {"start_time": "18:00"}, "scope"),
                                 ("all", {"date": "2026-03-12"}, "date"),
                                 ("all", {}, "start_time"),
                                 ("all", {"status": "cancelled"}, "status"),
                                 ("all", {"start_time": "9am"}, "start_time"),
                                 ("all", {"instructor_id": 999999}, "instructor_id")):
        with pytest.raises(ValidationFailed) as caught:
            series.change(world.db, world.staff, ids[0], scope, changes, now=NOW, settings=SETTINGS)
        assert name in caught.value.errors, (scope, changes, caught.value.errors)


# ------------------------------------------------------------------------------------------ cancel

def test_cancel_this_following_and_all_withdraws_reminders_and_audits_once_each(world):
    created, ids = _series_of_five(world)
    done = series.cancel(world.db, world.staff, ids[0], "this", "Student sick", now=NOW)
    assert done.cancelled == [ids[0]] and done.withdrawn == 1
    done = series.cancel(world.db, world.staff, ids[2], "following", "Moving away", now=NOW)
    assert done.cancelled == ids[2:] and done.withdrawn == 3
    status = {r["id"]: r["status"] for r in world.occurrences(created.series_id)}
    assert [status[i] for i in ids] == ["cancelled", "scheduled", "cancelled", "cancelled", "cancelled"]
    assert world.reminder(ids[3])["status"] == "cancelled" and world.reminder(ids[1])["status"] == "pending"
    assert SeriesDAO(world.db).find(created.series_id)["cancelled_at"] is None
    done = series.cancel_series(world.db, world.staff, created.series_id, "Course finished", now=NOW)
    assert done.cancelled == [ids[1]]
    assert SeriesDAO(world.db).find(created.series_id)["cancelled_at"] is not None
    rows = world.audits("series_cancelled")
    assert len(rows) == 3
    assert [r["result"] for r in json.loads(rows[1]["after_json"])["results"]] == ["cancelled"] * 3
    with pytest.raises(ValidationFailed) as caught:  # nothing left
        series.cancel(world.db, world.staff, ids[1], "all", "Again", now=NOW)
    assert caught.value.field == "scope"
    with pytest.raises(ValidationFailed) as caught:
        series.cancel(world.db, world.staff, ids[1], "this", "  ", now=NOW)
    assert caught.value.field == "cancel_reason"


def test_past_occurrences_are_left_alone(world):
    created, ids = _series_of_five(world)
    later = datetime(2026, 3, 12, 0, 0)  # after the first two Tuesdays
    done = series.cancel(world.db, world.staff, ids[0], "all", "Stopping", now=later)
    assert done.cancelled == ids[2:]
    status = [r["status"] for r in world.occurrences(created.series_id)]
    assert status == ["scheduled", "scheduled", "cancelled", "cancelled", "cancelled"]
    with pytest.raises(ValidationFailed):
        series.change(world.db, world.staff, ids[0], "this", {"start_time": "18:00"}, now=later, settings=SETTINGS)


def test_the_dao_reads_membership_and_the_page(world):
    created, ids = _series_of_five(world)
    dao = SeriesDAO(world.db)
    assert dao.series_of(ids[3])["position"] == 4 and dao.series_of(ids[3])["booked"] == 5
    assert series.membership(world.db, world.staff, ids[3])["series_id"] == created.series_id
    assert series.membership(world.db, Actor(user_id=1, role="student"), ids[3]) is None
    assert dao.pending_reminders(created.series_id) == {i: 1 for i in ids}
    page = series.series_page(world.db, world.staff, created.series_id, now=NOW, settings=SETTINGS)
    assert page["remaining"] == 5 and page["counts"] == {"scheduled": 5}
    assert page["series"]["weekday_name"] == "Tuesday" and page["series"]["student_name"] == "Jack Mason"


# ------------------------------------------------------------------------------------------ pages

def _user(db, role, branch, email, first="Pat", last="Person"):
    return f.make_user(db, role=role, branch_id=branch, email=email, first_name=first, last_name=last,
                       password_hash=passwords.hash_password(DEMO_PASSWORD))


@pytest.fixture
def site(app):
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
            w[tag] = {"branch_id": branch, "course_id": course, "instructor_id": instructor, "student_id": student}
        other = f.make_student(db, branch_id=w["a"]["branch_id"])
        f.make_schedule(db, f.make_enrollment(db, other, w["a"]["course_id"]), w["a"]["instructor_id"],
                        branch_id=w["a"]["branch_id"], scheduled_date=date(2030, 3, 19), start_time=time(17, 0),
                        end_time=time(18, 0))
    return w


def _client(app, email):
    client = app.test_client()
    assert login(client, email).status_code in (302, 303)
    return client


def _post(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/dashboard/")})


def _text(response) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def _value(app, sql, params=None):
    with app.app_context():
        return get_db().fetch_value(sql, params or {})


def test_the_pages_book_a_series_show_its_clash_and_cancel_with_a_scope(app, site):
    a = site["a"]
    staff = _client(app, "staff.a@x.com")
    form = staff.get(f"/schedules/series/new?instructor_id={a['instructor_id']}&student_id={a['student_id']}"
                     "&date=2030-03-05&start_time=17:00")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert 'value="2030-03-05"' in html and 'value="18:00"' in html
    assert "/schedules/series/new" in staff.get("/schedules/new").get_data(as_text=True)  # "Book a series"
    payload = {"student_id": a["student_id"], "instructor_id": a["instructor_id"], "vehicle_id": "",
               "event_type": "lesson", "first_date": "2030-03-05", "start_time": "17:00", "end_time": "18:00",
               "interval_weeks": "1", "ends": "count", "count": "53", "until_date": ""}
    refused = _post(staff, "/schedules/series/new", payload)
    assert refused.status_code == 422
    assert "at most 52" in _text(refused) or "1 to 52" in _text(refused)
    assert 'value="53"' in refused.get_data(as_text=True)  # typed values kept
    assert _value(app, "SELECT COUNT(*) FROM schedule_series") == 0

    created = _post(staff, "/schedules/series/new", {**payload, "count": "4"})
    assert created.status_code == 303
    page = staff.get(created.headers["Location"])
    assert page.status_code == 200
    text = _text(page)
    assert "Not booked: 1 date" in text and "Ira TeacherA already teaches 17:00–18:00" in text
    assert "Book by hand" in text and "date=2030-03-19" in page.get_data(as_text=True)
    series_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    ids = [r for r in (_value(app, "SELECT MIN(id) FROM schedules WHERE series_id = :s", {"s": series_id}),)]
    event = staff.get(f"/schedules/{ids[0]}")
    assert "Part of a series" in _text(event) and f"/schedules/series/{series_id}" in event.get_data(as_text=True)
    occurrence = staff.get(f"/schedules/{ids[0]}/series")
    assert occurrence.status_code == 200 and "This and the following ones" in _text(occurrence)

    blank = _post(staff, f"/schedules/{ids[0]}/series/cancel", {"scope": "following", "cancel_reason": ""})
    assert blank.status_code == 422 and "Give a reason" in _text(blank)
    done = _post(staff, f"/schedules/{ids[0]}/series/cancel", {"scope": "following", "cancel_reason": "Away"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/schedules/series/{series_id}")
    assert _value(app, "SELECT COUNT(*) FROM schedules WHERE series_id = :s AND status = 'cancelled'",
                  {"s": series_id}) == 3
    assert "3 occurrences cancelled" in _text(staff.get(done.headers["Location"]))

    # another branch's staff: 404; instructors and students: 403
    other = _client(app, "staff.b@x.com")
    assert other.get(f"/schedules/series/{series_id}").status_code == 404
    assert _post(other, f"/schedules/series/{series_id}/cancel", {"cancel_reason": "x"}).status_code == 404
    assert other.get(f"/schedules/{ids[0]}/series").status_code == 404
    for email in ("i.a@x.com", "s.a@x.com"):
        client = _client(app, email)
        assert client.get(f"/schedules/series/{series_id}").status_code == 403
        assert client.get("/schedules/series/new").status_code == 403
        assert "Part of a series" not in _text(client.get(f"/schedules/{ids[0]}"))


def test_the_series_page_changes_every_remaining_occurrence(app, site):
    a = site["a"]
    staff = _client(app, "staff.a@x.com")
    created = _post(staff, "/schedules/series/new", {
        "student_id": a["student_id"], "instructor_id": a["instructor_id"], "first_date": "2030-04-02",
        "start_time": "09:00", "end_time": "10:00", "interval_weeks": "2", "ends": "until",
        "until_date": "2030-04-30", "count": ""})
    assert created.status_code == 303
    series_id = int(created.headers["Location"].rsplit("/", 1)[1])
    assert _value(app, "SELECT COUNT(*) FROM schedules WHERE series_id = :s", {"s": series_id}) == 3
    same = _post(staff, f"/schedules/series/{series_id}/change", {
        "start_time": "09:00", "end_time": "10:00", "instructor_id": a["instructor_id"], "vehicle_id": ""})
    assert same.status_code == 422 and "Nothing to change" in _text(same)
    moved = _post(staff, f"/schedules/series/{series_id}/change", {
        "start_time": "11:00", "end_time": "12:00", "instructor_id": a["instructor_id"], "vehicle_id": ""})
    assert moved.status_code == 303
    assert _value(app, "SELECT COUNT(*) FROM schedules WHERE series_id = :s AND start_time = :t",
                  {"s": series_id, "t": time(11, 0)}) == 3
    assert "3 occurrences changed" in _text(staff.get(moved.headers["Location"]))


def test_hostile_values_in_every_series_form_field_never_answer_500(app, site, backend):
    """SQLite: every field of the four series forms gets one hostile value of every class of
    fuzz_support.HOSTILE (fz.Rotation.every_class: each class's values in turn across the fields), and
    every HOSTILE value is posted to some field (asserted). MariaDB: every field gets the values where
    MariaDB differs."""
    from tests import fuzz_support as fz

    a = site["a"]
    staff = _client(app, "staff.a@x.com")
    token = csrf_token(staff, "/dashboard/")
    base = {"student_id": a["student_id"], "instructor_id": a["instructor_id"], "vehicle_id": "",
            "event_type": "lesson", "first_date": "2030-06-04", "start_time": "09:00", "end_time": "10:00",
            "interval_weeks": "1", "ends": "count", "count": "2", "until_date": "", "topic": "", "notes": "",
            "pickup_location": "", "csrf_token": token}
    created = staff.post("/schedules/series/new", data=base)
    assert created.status_code == 303
    series_id = int(created.headers["Location"].rsplit("/", 1)[1])
    occurrence = _value(app, "SELECT MIN(id) FROM schedules WHERE series_id = :s", {"s": series_id})
    rotation = fz.Rotation()
    mariadb = ["²", fz.LONG, str(2**64), "9999-12-31", "0001-01-01"]
    change = {"start_time": "11:00", "end_time": "12:00", "instructor_id": a["instructor_id"], "vehicle_id": "",
              "date": "2030-06-04", "scope": "this", "csrf_token": token}
    forms = [("/schedules/series/new", {**base, "first_date": "2030-07-02"}),
             (f"/schedules/series/{series_id}/change", change),
             (f"/schedules/{occurrence}/series/change", change),
             (f"/schedules/{occurrence}/series/cancel", {"scope": "this", "cancel_reason": "", "csrf_token": token})]
    problems = []
    for path, form in forms:
        for name in [n for n in form if n != "csrf_token"]:
            for value in rotation.every_class() if backend == "sqlite" else mariadb:
                response = staff.post(path, data={**form, name: value})
                if response.status_code >= 500:
                    problems.append((path, name, repr(value)[:40], response.status_code))
    assert not problems, problems
    assert backend != "sqlite" or set(fz.HOSTILE) <= rotation.used, sorted(set(fz.HOSTILE) - rotation.used)
    assert staff.get("/dashboard/").status_code == 200


def test_the_series_page_costs_the_same_queries_however_long_the_series(app, site):
    from app.core.database import count_queries

    a = site["a"]
    staff = _client(app, "staff.a@x.com")
    token = csrf_token(staff, "/dashboard/")
    urls = []
    for count, first in (("2", "2030-05-07"), ("12", "2030-05-08")):
        created = staff.post("/schedules/series/new", data={
            "student_id": a["student_id"], "instructor_id": a["instructor_id"], "first_date": first,
            "start_time": "09:00", "end_time": "10:00", "interval_weeks": "1", "ends": "count", "count": count,
            "csrf_token": token})
        assert created.status_code == 303
        urls.append(created.headers["Location"])
    counts = []
    for url in urls:
        with count_queries() as counter:
            page = staff.get(url)
        assert page.status_code == 200
        counts.append(counter.count)
        html = page.get_data(as_text=True)  # the one page pattern: header from Dashboard, one h1, mapped badges
        assert re.search(r'<div class="page-header">.*?breadcrumb-item"><a href="/dashboard/">Dashboard', html, re.S)
        assert html.count("<h1") == 1
        main = html.split("<main", 1)[1]
        assert all("status-badge" in b for b in re.findall(r'class="badge ([^"]*)"', main))
        assert "style=" not in main
    assert counts[0] == counts[1], counts


def test_two_series_racing_for_one_slot_on_mariadb_book_it_once(mysql_schema):
    """Two offices book a series for the same instructor and times at the same moment, each over its own
    connection: the booking locks serialise them, so one gets every date and the other none (409)."""
    import threading

    from app.core.database import Database
    from tests.conftest import _empty_mysql

    _empty_mysql(mysql_schema)
    setup = Database.from_url(mysql_schema)
    w = World(setup)
    other = f.make_student(setup, branch_id=w.branch)
    f.make_enrollment(setup, other, w.course)
    setup.close()
    barrier = threading.Barrier(2)
    outcome: dict = {}

    def run(student, key):
        db = Database.from_url(mysql_schema)
        try:
            barrier.wait(timeout=10)
            outcome[key] = series.create(db, w.staff, w.data(student_id=student, vehicle_id=None, count=4),
                                         now=NOW, settings=SETTINGS)
        except Exception as exc:  # the loser's SeriesConflict
            outcome[key] = exc
        finally:
            db.close()

    threads = [threading.Thread(target=run, args=(s, k)) for s, k in ((w.student, "one"), (other, "two"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    won = [v for v in outcome.values() if isinstance(v, series.Created)]
    lost = [v for v in outcome.values() if isinstance(v, SeriesConflict)]
    assert len(won) == 1 and len(lost) == 1, outcome
    assert len(won[0].booked) == 4 and len(lost[0].clashes) == 4
    check = Database.from_url(mysql_schema)
    assert check.fetch_value("SELECT COUNT(*) FROM schedules WHERE series_id IS NOT NULL") == 4
    assert check.fetch_value("SELECT COUNT(*) FROM schedule_series") == 1
    check.close()
