"""Daylight saving in Australia/Melbourne through the booking service and the JSON API, on both databases.

The 2026 changes: daylight saving ends on the first Sunday of April (5 Apr 2026, 03:00 AEDT +11:00 goes back
to 02:00 AEST +10:00, so 02:00-03:00 happens twice) and starts on the first Sunday of October (4 Oct 2026,
02:00 AEST goes forward to 03:00 AEDT, so 02:00-03:00 never happens). Each test runs for a branch whose
``timezone`` is Australia/Melbourne (with APP_TIMEZONE set to UTC, so only the branch can be deciding) and
for a branch with a NULL timezone and APP_TIMEZONE set to Australia/Melbourne.

- A lesson 01:30-03:30 on the April day books; its feed start carries +11:00 and its end +10:00, so it really
  lasts 3 hours. The same lesson on the October day books with +10:00 and +11:00 and lasts 1 hour.
- A start or end inside the October gap is refused (422 naming start_time or end_time, a clear message,
  nothing written); 02:30 on the April day means its first occurrence (+11:00), as docs/architecture.md says.
- The reminder's send_at is exactly 24 hours before the start instant (so 23 or 25 wall-clock hours).
- Overlaps on a change day are compared by wall-clock time.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.core import clock, passwords
from app.core.errors import ValidationFailed
from app.core.flask_db import get_db
from app.services import scheduling
from app.services.scheduling import BookingConflict
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, app_overrides, csrf_token, login

MELBOURNE = ZoneInfo("Australia/Melbourne")
APRIL = date(2026, 4, 5)      # first Sunday of April: 03:00 +11:00 -> 02:00 +10:00
OCTOBER = date(2026, 10, 4)   # first Sunday of October: 02:00 +10:00 -> 03:00 +11:00
NOW = datetime(2026, 3, 1, 0, 0)  # naive UTC: every lesson here is ahead, so every booking gets its reminder
AEDT, AEST = timedelta(hours=11), timedelta(hours=10)

# (branches.timezone, APP_TIMEZONE): the branch's own zone decides, or the default for a NULL zone
ZONES = {"branch-zone": ("Australia/Melbourne", "UTC"), "null-zone-default": (None, "Australia/Melbourne")}


def test_the_change_days_are_the_first_sundays_of_april_and_october():
    for day, before, after in ((APRIL, AEDT, AEST), (OCTOBER, AEST, AEDT)):
        assert day.weekday() == 6 and day.day <= 7
        assert datetime.combine(day, time(1, 0), MELBOURNE).utcoffset() == before
        assert datetime.combine(day, time(4, 0), MELBOURNE).utcoffset() == after


def _instant(iso: str) -> datetime:
    """An ISO 8601 value with an offset as naive UTC."""
    value = datetime.fromisoformat(iso)
    assert value.utcoffset() is not None, iso
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def _length(event: dict) -> timedelta:
    """The real length of a feed event, from its offsets alone."""
    return datetime.fromisoformat(event["end"]) - datetime.fromisoformat(event["start"])  # different offsets: real


class World:
    def __init__(self, db, branch_zone, app_zone):
        self.db = db
        self.settings = {"APP_TIMEZONE": app_zone}
        self.branch = f.make_branch(db, name="Bayside", timezone=branch_zone)
        self.course = f.make_course(db, title="Learner Essentials")
        self.instructor = f.make_instructor(db, user_id=self._user("instructor", "amelia@x.com"), branch_id=self.branch)
        f.allocate(db, self.course, self.instructor)
        self.student_user = self._user("student", "jack@x.com")
        self.student = f.make_student(db, user_id=self.student_user, branch_id=self.branch)
        f.make_enrollment(db, self.student, self.course)
        self.second_student = f.make_student(db, user_id=self._user("student", "mia@x.com"), branch_id=self.branch)
        f.make_enrollment(db, self.second_student, self.course)
        self.staff_user = self._user("staff", "staff@x.com")
        self.staff = Actor(user_id=self.staff_user, role="staff", branch_id=self.branch)

    def _user(self, role, email):
        return f.make_user(self.db, role=role, email=email, branch_id=self.branch,
                           password_hash=passwords.hash_password(DEMO_PASSWORD))

    def body(self, day, start, end, **kw):
        data = {"student_id": self.student, "instructor_id": self.instructor, "event_type": "lesson",
                "date": day.isoformat(), "start_time": start, "end_time": end}
        data.update(kw)
        return data

    def book(self, day, start, end, **kw):
        return scheduling.book(self.db, self.staff, self.body(day, start, end, **kw), now=NOW, settings=self.settings)

    def feed(self, day):
        found = scheduling.list_events(self.db, self.staff, {"start": day.isoformat(), "end": day.isoformat()},
                                       settings=self.settings)
        return {e["id"]: e for e in found["events"]}

    def reminder(self, schedule_id):
        return self.db.fetch_one("SELECT send_at, send_on, status FROM reminders WHERE related_type = 'schedule'"
                                 " AND related_id = :id", {"id": schedule_id})

    def stored(self, schedule_id):
        return self.db.fetch_one("SELECT scheduled_date, start_time, end_time FROM schedules WHERE id = :id",
                                 {"id": schedule_id})

    def counts(self):
        return tuple(self.db.fetch_value(f"SELECT COUNT(*) AS n FROM {t}") for t in ("schedules", "reminders",
                                                                                      "audit_trail"))


@pytest.fixture(params=list(ZONES))
def world(request, db):
    return World(db, *ZONES[request.param])


# ------------------------------------------------------------------------------------------ the booking service

def test_a_lesson_across_the_april_change_books_and_lasts_three_hours(world):
    booked = world.book(APRIL, "01:30", "03:30")
    assert world.stored(booked.id) == {"scheduled_date": APRIL, "start_time": time(1, 30), "end_time": time(3, 30)}
    event = world.feed(APRIL)[booked.id]
    assert (event["start"], event["end"]) == ("2026-04-05T01:30:00+11:00", "2026-04-05T03:30:00+10:00")
    assert _length(event) == timedelta(hours=3)
    assert (_instant(event["start"]), _instant(event["end"])) == (datetime(2026, 4, 4, 14, 30),
                                                                  datetime(2026, 4, 4, 17, 30))
    assert world.reminder(booked.id)["send_at"] == _instant(event["start"]) - timedelta(hours=24)


def test_a_lesson_across_the_october_change_books_and_lasts_one_hour(world):
    booked = world.book(OCTOBER, "01:30", "03:30")  # 01:30 and 03:30 both exist; 02:00-03:00 is the gap
    event = world.feed(OCTOBER)[booked.id]
    assert (event["start"], event["end"]) == ("2026-10-04T01:30:00+10:00", "2026-10-04T03:30:00+11:00")
    assert _length(event) == timedelta(hours=1)
    assert (_instant(event["start"]), _instant(event["end"])) == (datetime(2026, 10, 3, 15, 30),
                                                                  datetime(2026, 10, 3, 16, 30))
    assert world.reminder(booked.id)["send_at"] == datetime(2026, 10, 2, 15, 30)


@pytest.mark.parametrize("start, end, field, shown", [
    ("02:30", "03:30", "start_time", "02:30"),
    ("02:00", "03:30", "start_time", "02:00"),   # the first minute that is skipped
    ("02:59", "04:00", "start_time", "02:59"),   # the last one
    ("01:30", "02:15", "end_time", "02:15"),
    ("00:00", "02:00", "end_time", "02:00"),
])
def test_a_time_in_the_october_gap_is_refused_naming_the_field(world, start, end, field, shown):
    before = world.counts()
    with pytest.raises(ValidationFailed) as caught:
        world.book(OCTOBER, start, end)
    assert caught.value.status == 422 and caught.value.field == field
    assert caught.value.errors[field] == [
        f"{shown} does not exist on 4 Oct 2026 in Australia/Melbourne: clocks go forward"]
    assert world.counts() == before


def test_the_edges_of_the_october_gap_exist(world):
    first = world.book(OCTOBER, "01:00", "01:59")
    second = world.book(OCTOBER, "03:00", "04:00")
    feed = world.feed(OCTOBER)
    assert feed[first.id]["end"] == "2026-10-04T01:59:00+10:00"
    assert feed[second.id]["start"] == "2026-10-04T03:00:00+11:00"
    assert _instant(feed[second.id]["start"]) - _instant(feed[first.id]["end"]) == timedelta(minutes=1)


def test_a_legacy_lesson_stored_inside_the_october_gap_is_shown_not_refused(world):
    """A PHP-era row may hold a time that never happened (02:30 on the October day): the feed shows the
    instant it names (read with the offset before the change: 03:30+11:00) instead of failing."""
    enrolment = world.db.fetch_value("SELECT id FROM enrollments WHERE student_id = :s", {"s": world.student})
    legacy = f.make_schedule(world.db, enrolment, world.instructor, branch_id=world.branch, scheduled_date=OCTOBER,
                             start_time=time(2, 30), end_time=time(4, 0))
    event = world.feed(OCTOBER)[legacy]
    assert (event["start"], event["end"]) == ("2026-10-04T03:30:00+11:00", "2026-10-04T04:00:00+11:00")


def test_a_lesson_in_the_repeated_april_hour_means_its_first_occurrence(world):
    booked = world.book(APRIL, "02:30", "03:30")
    event = world.feed(APRIL)[booked.id]
    assert (event["start"], event["end"]) == ("2026-04-05T02:30:00+11:00", "2026-04-05T03:30:00+10:00")
    assert _instant(event["start"]) == datetime(2026, 4, 4, 15, 30)   # the first 02:30, not 16:30 UTC
    assert _length(event) == timedelta(hours=2)
    assert world.reminder(booked.id)["send_at"] == datetime(2026, 4, 3, 15, 30)


@pytest.mark.parametrize("day, send_at, local", [
    # Monday after the October change, 09:00 AEDT = 22:00 UTC on Sunday 4 Oct; 24 h earlier is 22:00 UTC on
    # 3 Oct, which is 09:00 AEDT on Sunday (the clocks changed at 02:00 that morning): 24 wall-clock hours.
    (date(2026, 10, 5), datetime(2026, 10, 3, 22, 0), datetime(2026, 10, 4, 9, 0)),
    # on the October change day itself, 09:00 AEDT = 22:00 UTC on 3 Oct; 24 h earlier is 08:00 AEST on
    # Saturday: 25 wall-clock hours, the skipped hour included
    (OCTOBER, datetime(2026, 10, 2, 22, 0), datetime(2026, 10, 3, 8, 0)),
    # on the April change day, 09:00 AEST = 23:00 UTC on 4 Apr; 24 h earlier is 10:00 AEDT on Saturday:
    # 23 wall-clock hours, the repeated hour counted once
    (APRIL, datetime(2026, 4, 3, 23, 0), datetime(2026, 4, 4, 10, 0)),
    # Monday after the April change, 09:00 AEST; 24 h earlier is 09:00 AEST on the Sunday
    (date(2026, 4, 6), datetime(2026, 4, 4, 23, 0), datetime(2026, 4, 5, 9, 0)),
])
def test_the_reminder_is_exactly_24_hours_before_the_start_instant(world, day, send_at, local):
    booked = world.book(day, "09:00", "10:00")
    event = world.feed(day)[booked.id]
    reminder = world.reminder(booked.id)
    assert reminder["status"] == "pending"
    assert reminder["send_at"] == send_at == _instant(event["start"]) - timedelta(hours=24)
    wall = send_at.replace(tzinfo=timezone.utc).astimezone(MELBOURNE)
    assert wall.replace(tzinfo=None) == local
    assert reminder["send_on"] == local.date()


def test_overlaps_on_the_april_change_day_are_wall_clock(world):
    first = world.book(APRIL, "01:30", "02:30")
    before = world.counts()
    with pytest.raises(BookingConflict) as caught:
        world.book(APRIL, "02:00", "03:00", student_id=world.second_student)
    assert [(c["kind"], c["severity"]) for c in caught.value.conflicts] == [("instructor", "block")]
    assert f"01:30–02:30 (lesson #{first.id})" in caught.value.conflicts[0]["message"]
    assert world.counts() == before
    # 02:30 is the first 02:30, the instant the first lesson ends: touching, so free
    assert world.book(APRIL, "02:30", "03:30", student_id=world.second_student).id


def test_overlaps_on_the_october_change_day_are_wall_clock(world):
    world.book(OCTOBER, "01:00", "03:30")  # 01:00 +10:00 to 03:30 +11:00, 90 real minutes
    with pytest.raises(BookingConflict) as caught:
        world.book(OCTOBER, "03:00", "04:00", student_id=world.second_student)
    assert [c["kind"] for c in caught.value.conflicts] == ["instructor"]
    assert world.book(OCTOBER, "03:30", "04:30", student_id=world.second_student).id


def test_a_move_into_the_gap_is_refused_and_changes_nothing(world):
    booked = world.book(OCTOBER, "09:00", "10:00")
    before, reminder = world.counts(), world.reminder(booked.id)
    with pytest.raises(ValidationFailed) as caught:
        scheduling.move(world.db, world.staff, booked.id, {"start_time": "02:15", "end_time": "03:15"}, now=NOW,
                        settings=world.settings)
    assert caught.value.field == "start_time"
    assert world.stored(booked.id)["start_time"] == time(9, 0)
    assert (world.counts(), world.reminder(booked.id)) == (before, reminder)
    scheduling.move(world.db, world.staff, booked.id, {"date": APRIL.isoformat(), "start_time": "02:15",
                                                       "end_time": "03:15"}, now=NOW, settings=world.settings)
    # moved into the repeated hour: the first 02:15 (+11:00 = 15:15 UTC on 4 Apr), reminder re-planned
    assert world.reminder(booked.id)["send_at"] == datetime(2026, 4, 3, 15, 15)


# ------------------------------------------------------------------------------------------ the JSON API

class Api:
    def __init__(self, app, world):
        self.app, self.world = app, world
        self.client = app.test_client()
        assert login(self.client, "staff@x.com").status_code in (302, 303)
        self.token = csrf_token(self.client, "/dashboard/")

    def send(self, method, path, body):
        return self.client.open(path, method=method, data=json.dumps(body), content_type="application/json",
                                headers={"X-CSRFToken": self.token})

    def post(self, day, start, end, **kw):
        return self.send("POST", "/api/schedules", self.world.body(day, start, end, **kw))

    def feed(self, day):
        response = self.client.get(f"/api/schedules?start={day.isoformat()}&end={day.isoformat()}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return {e["id"]: e for e in response.get_json()["events"]}

    def counts(self):
        with self.app.app_context():
            return tuple(get_db().fetch_value(f"SELECT COUNT(*) AS n FROM {t}")
                         for t in ("schedules", "reminders", "audit_trail"))

    def reminder(self, schedule_id):
        with self.app.app_context():
            return get_db().fetch_value("SELECT send_at FROM reminders WHERE related_type = 'schedule'"
                                        " AND related_id = :id", {"id": schedule_id})


@pytest.fixture(params=list(ZONES))
def api(request, db_url, tmp_path, frozen):
    from app.bootstrap import create_app

    branch_zone, app_zone = ZONES[request.param]
    previous = clock.timezone_name()
    frozen(NOW)
    app = create_app(app_overrides(db_url, tmp_path, APP_TIMEZONE=app_zone))
    try:
        with app.app_context():
            world = World(get_db(), branch_zone, app_zone)
        yield Api(app, world)
    finally:
        clock.set_timezone(previous)  # create_app set the process-wide clock zone to APP_TIMEZONE
        passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


def test_api_books_across_the_april_change_with_both_offsets(api):
    response = api.post(APRIL, "01:30", "03:30")
    assert response.status_code == 201, response.get_data(as_text=True)
    lesson = response.get_json()["id"]
    event = api.feed(APRIL)[lesson]
    assert (event["start"], event["end"]) == ("2026-04-05T01:30:00+11:00", "2026-04-05T03:30:00+10:00")
    assert _length(event) == timedelta(hours=3)
    assert api.reminder(lesson) == _instant(event["start"]) - timedelta(hours=24) == datetime(2026, 4, 3, 14, 30)


def test_api_books_across_the_october_change_with_both_offsets(api):
    response = api.post(OCTOBER, "01:30", "03:30")
    assert response.status_code == 201, response.get_data(as_text=True)
    event = api.feed(OCTOBER)[response.get_json()["id"]]
    assert (event["start"], event["end"]) == ("2026-10-04T01:30:00+10:00", "2026-10-04T03:30:00+11:00")
    assert _length(event) == timedelta(hours=1)


@pytest.mark.parametrize("start, end, field", [("02:30", "03:30", "start_time"), ("01:30", "02:15", "end_time")])
def test_api_refuses_a_time_in_the_october_gap_with_422_naming_it(api, start, end, field):
    before = api.counts()
    response = api.post(OCTOBER, start, end)
    assert response.status_code == 422
    body = response.get_json()
    shown = start if field == "start_time" else end
    message = f"{shown} does not exist on 4 Oct 2026 in Australia/Melbourne: clocks go forward"
    assert body["error"] == "validation" and body["fields"] == {field: [message]} and body["message"] == message
    assert api.counts() == before
    preview = api.client.get("/api/schedules/conflicts", query_string={
        k: str(v) for k, v in api.world.body(OCTOBER, start, end).items()})
    assert preview.status_code == 422 and field in preview.get_json()["fields"]


def test_api_books_the_first_occurrence_of_a_repeated_april_time(api):
    response = api.post(APRIL, "02:30", "03:30")
    assert response.status_code == 201, response.get_data(as_text=True)
    event = api.feed(APRIL)[response.get_json()["id"]]
    assert event["start"] == "2026-04-05T02:30:00+11:00"
    assert _instant(event["start"]) == datetime(2026, 4, 4, 15, 30)


def test_api_reminder_on_the_monday_after_the_october_change(api):
    response = api.post(date(2026, 10, 5), "09:00", "10:00")
    assert response.status_code == 201, response.get_data(as_text=True)
    lesson = response.get_json()["id"]
    event = api.feed(date(2026, 10, 5))[lesson]
    assert event["start"] == "2026-10-05T09:00:00+11:00"
    send_at = api.reminder(lesson)
    assert send_at == _instant(event["start"]) - timedelta(hours=24) == datetime(2026, 10, 3, 22, 0)
    assert send_at.replace(tzinfo=timezone.utc).astimezone(MELBOURNE).isoformat() == "2026-10-04T09:00:00+11:00"


def test_api_overlap_on_the_april_change_day_is_an_instructor_conflict(api):
    assert api.post(APRIL, "01:30", "02:30").status_code == 201
    before = api.counts()
    response = api.post(APRIL, "02:00", "03:00", student_id=api.world.second_student)
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "conflict" and [c["kind"] for c in body["conflicts"]] == ["instructor"]
    assert api.counts() == before


def test_api_move_into_the_gap_is_422_and_the_lesson_stays(api):
    response = api.post(OCTOBER, "09:00", "10:00")
    lesson = response.get_json()["id"]
    before = api.counts()
    moved = api.send("PATCH", f"/api/schedules/{lesson}", {"start_time": "02:30", "end_time": "03:30"})
    assert moved.status_code == 422 and "start_time" in moved.get_json()["fields"]
    assert api.counts() == before
    assert api.feed(OCTOBER)[lesson]["start"] == "2026-10-04T09:00:00+11:00"
