"""The availability engine (services/availability.py) on both databases: slots lie on the policy grid
inside working hours and opening hours, avoid live events (with the policy buffer), unavailability and
vehicle downtime, respect notice and horizon for students and "future only" for staff, skip the
spring-forward gap, stay in the actor's scope (404 outside), use a constant number of queries over 1
or 14 days, refuse bad input naming the parameter; and, over random fixtures (hypothesis), every
returned slot passes conflicts.check without a block and books through scheduling.book (staff), and
every slot a student is offered books through self_service.book as that student."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from app.core.database import count_queries
from app.core.errors import NotFound, ValidationFailed
from app.services import availability, conflicts, policy, scheduling, self_service
from app.services.conflicts import Slot
from app.services.scope import Actor
from tests import factories as f

SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne"}
NOW = datetime(2026, 3, 1, 0, 0)     # 11:00 on Sun 1 Mar in Melbourne (+11)
DAY = date(2026, 3, 11)              # a Wednesday (weekday 2)


class World:
    def __init__(self, db, hours=((2, time(9, 0), time(12, 0)),)):
        self.db = db
        self.branch = f.make_branch(db, name="Bayside")
        self.instructor = f.make_instructor(db, branch_id=self.branch)
        for weekday, start, end in hours:
            f.make_working_hours(db, self.instructor, weekday, start, end)
        self.student = f.make_student(db, branch_id=self.branch)
        self.course = f.make_course(db)
        self.enrollment = f.make_enrollment(db, self.student, self.course)
        self.vehicle = f.make_vehicle(db, branch_id=self.branch)
        self.staff = Actor(user_id=f.make_user(db, role="staff", branch_id=self.branch), role="staff",
                           branch_id=self.branch)
        self.admin = Actor(user_id=f.make_user(db, role="admin"), role="admin")

    def slots(self, actor=None, day_from=DAY, day_to=DAY, duration=60, now=NOW, **kw):
        kw.setdefault("instructor_id", self.instructor)
        return availability.slots(self.db, actor or self.staff, date_from=day_from, date_to=day_to,
                                  duration_minutes=duration, now=now, settings=SETTINGS, **kw)

    def starts(self, **kw):
        return [s["start"][11:16] for s in self.slots(**kw)]


def test_slots_lie_on_the_grid_inside_working_hours(db):
    w = World(db)
    got = w.slots()
    assert [s["start"][11:16] for s in got] == ["09:00", "09:15", "09:30", "09:45", "10:00", "10:15",
                                                 "10:30", "10:45", "11:00"]
    assert got[0] == {"start": "2026-03-11T09:00:00+11:00", "end": "2026-03-11T10:00:00+11:00",
                      "instructor_id": w.instructor, "vehicle_id": None, "warnings": []}
    assert w.starts(duration=180) == ["09:00"]
    assert w.starts(day_from=DAY + timedelta(days=1), day_to=DAY + timedelta(days=1)) == []  # no hours Thu


def test_the_policy_grid_and_duration(db):
    w = World(db)
    policy.update(db, w.admin, w.branch, {"slot_grid_minutes": 30}, now=NOW)
    assert w.starts(duration=90) == ["09:00", "09:30", "10:00", "10:30"]
    with pytest.raises(ValidationFailed) as caught:
        w.slots(duration=45)
    assert caught.value.field == "duration_minutes"


def test_opening_hours_narrow_the_slots(db):
    w = World(db)
    db.insert("branch_opening_hours", {"branch_id": w.branch, "weekday": 2, "open_time": time(10, 0),
                                       "close_time": time(11, 30)})
    assert w.starts() == ["10:00", "10:15", "10:30"]


def test_live_events_and_the_buffer(db):
    w = World(db)
    f.make_schedule(db, w.enrollment, w.instructor, scheduled_date=DAY, start_time=time(10, 0),
                    end_time=time(11, 0))
    f.make_schedule(db, w.enrollment, w.instructor, scheduled_date=DAY, start_time=time(9, 0),
                    end_time=time(10, 0), status="cancelled")
    assert w.starts() == ["09:00", "11:00"]          # touching is free; a cancelled event holds nothing
    policy.update(db, w.admin, w.branch, {"buffer_minutes": 15}, now=NOW)
    assert w.starts(duration=30) == ["09:00", "09:15", "11:15", "11:30"]


def test_a_vehicle_event_downtime_and_status(db):
    w = World(db)
    other = f.make_instructor(db, branch_id=w.branch)
    f.make_schedule(db, w.enrollment, other, vehicle_id=w.vehicle, scheduled_date=DAY, start_time=time(9, 0),
                    end_time=time(10, 0), status="no_show")
    assert w.starts(vehicle_id=w.vehicle) == ["10:00", "10:15", "10:30", "10:45", "11:00"]
    assert w.starts()[0] == "09:00"                  # without the car the instructor is free
    f.make_downtime(db, w.vehicle, datetime(2026, 3, 11, 10, 30), datetime(2026, 3, 11, 23, 0))
    assert w.starts(vehicle_id=w.vehicle) == []
    second = f.make_vehicle(db, branch_id=w.branch, status="maintenance")
    assert w.starts(vehicle_id=second) == []


def test_unavailability_and_accreditation(db):
    w = World(db)
    f.make_unavailability(db, w.instructor, datetime(2026, 3, 11, 9, 30), datetime(2026, 3, 11, 10, 0))
    assert w.starts() == ["10:00", "10:15", "10:30", "10:45", "11:00"]
    db.execute("UPDATE instructors SET accreditation_expiry = :d WHERE id = :i", {"d": DAY - timedelta(days=1),
                                                                               "i": w.instructor})
    assert w.starts() == []


def test_staff_see_only_future_slots_and_students_the_notice_and_horizon(db):
    w = World(db)
    now = datetime(2026, 3, 10, 22, 10)              # 09:10 on 11 Mar
    assert w.starts(now=now)[0] == "09:15"
    user = f.make_user(db, role="student", branch_id=w.branch)
    student = f.make_student(db, user_id=user, branch_id=w.branch)
    f.make_schedule(db, f.make_enrollment(db, student, w.course), w.instructor, scheduled_date=date(2026, 3, 2))
    me = Actor(user_id=user, role="student", branch_id=w.branch, student_id=student)
    assert w.starts(actor=me, now=now) == []          # 12 h notice
    assert w.starts(actor=me, now=datetime(2026, 3, 10, 10, 0)) == w.starts()   # 21:00 the day before: all
    assert w.starts(actor=me, now=datetime(2026, 3, 10, 10, 1))[0] == "09:15"
    f.make_schedule(db, f.make_enrollment(db, student, w.course), f.make_instructor(db, branch_id=w.branch),
                    scheduled_date=DAY, start_time=time(11, 30), end_time=time(12, 30))
    assert w.starts(actor=me, now=datetime(2026, 3, 10, 10, 0))[-1] == "10:30"   # their own lesson at 11:30
    late, early = date(2026, 5, 6), datetime(2026, 3, 10, 14, 0)   # Wed, 56 days after 01:00 on 11 Mar
    assert w.slots(actor=me, day_from=late, day_to=late, now=early)
    assert not w.slots(actor=me, day_from=late, day_to=late, now=early - timedelta(minutes=61))  # 23:59 10 Mar
    assert w.slots(actor=w.staff, day_from=late + timedelta(days=7), day_to=late + timedelta(days=7), now=early)


def test_daylight_saving_days(db):
    w = World(db, hours=((6, time(0, 0), time(6, 0)),))   # Sundays, midnight to 06:00
    april = w.slots(day_from=date(2026, 4, 5), day_to=date(2026, 4, 5), duration=60)
    assert april[0]["start"] == "2026-04-05T00:00:00+11:00"
    assert "2026-04-05T02:00:00+11:00" in [s["start"] for s in april]      # the repeated hour: first
    assert april[-1]["end"] == "2026-04-05T06:00:00+10:00"
    october = [s["start"][11:16] for s in w.slots(day_from=date(2026, 10, 4), day_to=date(2026, 10, 4))]
    # 02:00-02:59 do not exist: a slot starting or ending in the gap is not offered (01:00-02:00 neither)
    assert october[:5] == ["00:00", "00:15", "00:30", "00:45", "03:00"]


def test_scope_per_role(db):
    w = World(db)
    other_branch = f.make_branch(db)
    outsider = Actor(user_id=f.make_user(db, role="staff", branch_id=other_branch), role="staff",
                     branch_id=other_branch)
    with pytest.raises(NotFound):
        w.slots(actor=outsider)
    assert w.slots(actor=w.admin)
    own = Actor(user_id=1, role="instructor", branch_id=w.branch, instructor_id=w.instructor)
    assert w.slots(actor=own)
    with pytest.raises(NotFound):
        w.slots(actor=Actor(user_id=1, role="instructor", branch_id=w.branch,
                            instructor_id=f.make_instructor(db, branch_id=w.branch)))
    stranger = f.make_student(db, branch_id=w.branch)
    as_student = Actor(user_id=1, role="student", branch_id=w.branch, student_id=stranger)
    with pytest.raises(NotFound):
        w.slots(actor=as_student, now=datetime(2026, 3, 1))
    policy.update(db, w.admin, w.branch, {"students_any_instructor": True}, now=NOW)
    assert w.slots(actor=as_student)
    f.allocate(db, w.course, w.instructor)            # an assigned instructor (course allocation)
    assert w.slots(actor=Actor(user_id=1, role="student", branch_id=w.branch, student_id=w.student))
    foreign_car = f.make_vehicle(db, branch_id=other_branch)
    with pytest.raises(NotFound):
        w.slots(vehicle_id=foreign_car)
    with pytest.raises(NotFound):
        w.slots(instructor_id=999999)


def test_query_count_is_constant_over_the_range(db):
    w = World(db, hours=[(d, time(8, 0), time(17, 0)) for d in range(7)])
    for n in range(14):
        f.make_schedule(db, w.enrollment, w.instructor, vehicle_id=w.vehicle, scheduled_date=DAY + timedelta(days=n))
        f.make_unavailability(db, w.instructor, datetime.combine(DAY + timedelta(days=n), time(13, 0)),
                              datetime.combine(DAY + timedelta(days=n), time(14, 0)))
    db.insert("branch_opening_hours", {"branch_id": w.branch, "weekday": 2, "open_time": time(8, 0),
                                       "close_time": time(18, 0)})
    counts = []
    for days in (1, 14):
        with count_queries() as counter:
            w.slots(day_to=DAY + timedelta(days=days - 1), vehicle_id=w.vehicle)
        counts.append(counter.count)
    assert counts[0] == counts[1]


@pytest.mark.parametrize("kw, field", [
    ({"duration": 15}, "duration_minutes"), ({"duration": 195}, "duration_minutes"),
    ({"duration": 50}, "duration_minutes"), ({"day_to": DAY - timedelta(days=1)}, "date_to"),
    ({"day_to": DAY + timedelta(days=62)}, "date_to"), ({"day_from": "2026-03-11"}, "date_from"),
])
def test_bad_input_names_the_parameter(db, kw, field):
    w = World(db)
    with pytest.raises(ValidationFailed) as caught:
        w.slots(**kw)
    assert caught.value.field == field


# ------------------------------------------------------------------------------------------ property

def _property(db, data):
    w = World(db, hours=[(2, time(data["h0"], 0), time(data["h0"] + data["hlen"], 0))])
    if data["buffer"]:
        policy.update(db, w.admin, w.branch, {"buffer_minutes": data["buffer"]}, now=NOW)
    if data["opening"]:
        db.insert("branch_opening_hours", {"branch_id": w.branch, "weekday": 2, "open_time": time(data["opening"], 0),
                                           "close_time": time(20, 0)})
    for start, length in data["events"]:
        begin = datetime.combine(DAY, time(0, 0)) + timedelta(minutes=start)
        f.make_schedule(db, w.enrollment, w.instructor, vehicle_id=w.vehicle if length % 2 else None,
                        scheduled_date=DAY, start_time=begin.time(),
                        end_time=(begin + timedelta(minutes=length)).time())
    for start, length in data["windows"]:
        begin = datetime.combine(DAY, time(0, 0)) + timedelta(minutes=start)
        f.make_unavailability(db, w.instructor, begin, begin + timedelta(minutes=length))
    vehicle = w.vehicle if data["with_vehicle"] else None
    found = w.slots(duration=data["duration"], vehicle_id=vehicle)
    booker = f.make_student(db, branch_id=w.branch)
    f.make_enrollment(db, booker, w.course)
    for s in found:
        start, end = time.fromisoformat(s["start"][11:19]), time.fromisoformat(s["end"][11:19])
        slot = Slot(instructor_id=w.instructor, student_id=booker, vehicle_id=vehicle, branch_id=w.branch,
                    day=DAY, start=start, end=end)
        assert not conflicts.blocks(conflicts.check(db, slot, today=DAY)), s
    if found:
        pick = found[data["pick"] % len(found)]
        booked = scheduling.book(db, w.staff, {
            "student_id": booker, "instructor_id": w.instructor, "vehicle_id": vehicle, "date": DAY.isoformat(),
            "start_time": pick["start"][11:16], "end_time": pick["end"][11:16], "accept_warnings": True,
        }, now=NOW, settings=SETTINGS)
        assert booked.id > 0
    # the student's own answer books through the student's own path, in the same second
    f.allocate(db, w.course, w.instructor)
    learner = f.make_student(db, branch_id=w.branch)
    f.make_enrollment(db, learner, w.course)
    actor = Actor(user_id=db.fetch_value("SELECT user_id FROM students WHERE id = :id", {"id": learner}),
                  role="student", student_id=learner)
    mine = w.slots(actor=actor, duration=data["duration"], vehicle_id=vehicle)
    if mine:
        pick = mine[(data["pick"] * 7) % len(mine)]
        booked = self_service.book(db, actor, {
            "instructor_id": w.instructor, "vehicle_id": vehicle, "date": DAY.isoformat(),
            "start_time": pick["start"][11:16], "duration_minutes": data["duration"]}, now=NOW, settings=SETTINGS)
        assert booked.id > 0
    return int(bool(found)) + int(bool(mine))


FIXTURES = st.fixed_dictionaries({
    "h0": st.integers(6, 12), "hlen": st.integers(1, 8), "buffer": st.sampled_from([0, 0, 10, 15]),
    "opening": st.sampled_from([0, 0, 7, 10]),
    "events": st.lists(st.tuples(st.integers(6 * 60, 18 * 60), st.integers(15, 120)), max_size=4),
    "windows": st.lists(st.tuples(st.integers(6 * 60, 18 * 60), st.integers(5, 180)), max_size=2),
    "duration": st.sampled_from([30, 45, 60, 90, 120]), "with_vehicle": st.booleans(),
    "pick": st.integers(0, 1000),
})


def test_every_returned_slot_is_bookable(db, backend):
    examples = 25 if backend == "sqlite" else 10  # each books as staff and as a student

    @hsettings(max_examples=examples, deadline=None, derandomize=True, database=None,
               suppress_health_check=list(HealthCheck))
    @given(FIXTURES)
    def run(data):
        booked.append(_property(db, data))

    booked: list[int] = []
    run()
    assert sum(booked) >= 1   # the fixtures really offer slots, and one was booked


# ------------------------------------------------------------------------------------------ the JSON API

@pytest.fixture
def api(app, frozen):
    from app.core import passwords
    from app.core.flask_db import get_db
    from tests.conftest import DEMO_PASSWORD, login

    frozen(NOW)
    with app.app_context():
        db = get_db()
        branch = f.make_branch(db)
        pw = passwords.hash_password(DEMO_PASSWORD)
        instructor = f.make_instructor(db, user_id=f.make_user(db, role="instructor", branch_id=branch,
                                                               email="av.i@x.com", password_hash=pw),
                                       branch_id=branch)
        f.make_working_hours(db, instructor, 2, time(9, 0), time(11, 0))
        f.make_user(db, role="staff", branch_id=branch, email="av.staff@x.com", password_hash=pw)
        other = f.make_branch(db)
        f.make_user(db, role="staff", branch_id=other, email="av.other@x.com", password_hash=pw)
        f.make_student(db, user_id=f.make_user(db, role="student", branch_id=branch, email="av.s@x.com",
                                               password_hash=pw), branch_id=branch)

    def client(email):
        c = app.test_client()
        assert login(c, email).status_code in (302, 303)
        return c

    return {"client": client, "instructor": instructor, "branch": branch}


def _query(api, **overrides):
    args = {"instructor_id": api["instructor"], "date_from": "2026-03-11", "date_to": "2026-03-11",
            "duration_minutes": "60"}
    args.update(overrides)
    return "/api/availability?" + "&".join(f"{k}={v}" for k, v in args.items() if v is not None)


def test_the_api_answers_the_slots_per_role(api):
    staff = api["client"]("av.staff@x.com")
    answer = staff.get(_query(api))
    assert answer.status_code == 200
    assert [s["start"] for s in answer.get_json()["slots"]][:2] == ["2026-03-11T09:00:00+11:00",
                                                                     "2026-03-11T09:15:00+11:00"]
    assert api["client"]("av.i@x.com").get(_query(api)).status_code == 200
    assert api["client"]("av.other@x.com").get(_query(api)).status_code == 404
    answer = api["client"]("av.s@x.com").get(_query(api))   # not assigned, policy: assigned only
    assert answer.status_code == 404 and answer.is_json
    assert api["client"]("av.s@x.com").get("/api/availability").status_code == 400


@pytest.mark.parametrize("overrides, status, field", [
    ({"duration_minutes": "20"}, 422, "duration_minutes"), ({"duration_minutes": "190"}, 422, "duration_minutes"),
    ({"duration_minutes": "50"}, 422, "duration_minutes"), ({"duration_minutes": "1h"}, 400, "duration_minutes"),
    ({"date_to": "2026-03-10"}, 422, "date_to"), ({"date_to": "2026-05-30"}, 422, "date_to"),
    ({"date_from": "2026-02-30"}, 400, "date_from"), ({"instructor_id": "abc"}, 400, "instructor_id"),
    ({"instructor_id": None}, 400, "instructor_id"), ({"vehicle_id": "-3"}, 400, "vehicle_id"),
    ({"vehicle_id": "999999"}, 404, None),
])
def test_the_api_refuses_bad_input_naming_the_parameter(api, overrides, status, field):
    answer = api["client"]("av.staff@x.com").get(_query(api, **overrides))
    assert answer.status_code == status and answer.is_json
    if field:
        assert field in answer.get_json()["fields"]


def test_a_whole_branch_at_once_matches_each_instructor_and_reads_a_constant_number_of_times(db):
    w = World(db)
    day_from, day_to = DAY, DAY + timedelta(days=6)

    def answer():
        return availability.branch_slots(db, w.staff, branch_id=w.branch, date_from=day_from, date_to=day_to,
                                         duration_minutes=60, now=NOW, settings=SETTINGS)

    with count_queries() as one:
        first = answer()
    others = []
    for k in range(4):
        other = f.make_instructor(db, branch_id=w.branch)
        f.make_working_hours(db, other, k, time(8, 0), time(11, 0))
        f.make_unavailability(db, other, datetime.combine(day_from + timedelta(days=(k - 2) % 7), time(9, 0)),
                              datetime.combine(day_from + timedelta(days=(k - 2) % 7), time(10, 0)))
        others.append(other)
    f.make_schedule(db, instructor_id=others[0], scheduled_date=date(2026, 3, 9), start_time=time(9, 0),
                    end_time=time(10, 0), branch_id=w.branch)
    with count_queries() as five:
        got = answer()
    assert five.count == one.count and len(first) > 0
    expected = []
    for instructor in [w.instructor, *others]:
        expected += w.slots(day_from=day_from, day_to=day_to, instructor_id=instructor)
    assert sorted(got, key=lambda s: (s["start"], s["instructor_id"])) == \
        sorted(expected, key=lambda s: (s["start"], s["instructor_id"]))
    with pytest.raises(ValidationFailed) as caught:
        availability.branch_slots(db, w.staff, branch_id=w.branch, date_from=day_from,
                                  date_to=day_from + timedelta(days=7), duration_minutes=60, now=NOW,
                                  settings=SETTINGS)
    assert caught.value.field == "date_to"
    stranger = Actor(user_id=w.staff.user_id, role="staff", branch_id=f.make_branch(db))
    for actor in (stranger, Actor(user_id=1, role="instructor", instructor_id=w.instructor)):
        with pytest.raises(NotFound):
            availability.branch_slots(db, actor, branch_id=w.branch, date_from=day_from, date_to=day_to,
                                      duration_minutes=60, now=NOW, settings=SETTINGS)


def test_the_api_answers_a_whole_branch_for_the_office(api):
    url = _query(api, instructor_id=None, branch_id=api["branch"])
    answer = api["client"]("av.staff@x.com").get(url)
    assert answer.status_code == 200
    assert {s["instructor_id"] for s in answer.get_json()["slots"]} == {api["instructor"]}
    assert api["client"]("av.other@x.com").get(url).status_code == 404
    assert api["client"]("av.s@x.com").get(url).status_code == 404
    assert api["client"]("av.staff@x.com").get(_query(api, instructor_id=None, branch_id="x")).status_code == 400
    week = _query(api, instructor_id=None, branch_id=api["branch"], date_to="2026-03-18")
    answer = api["client"]("av.staff@x.com").get(week)
    assert answer.status_code == 422 and "date_to" in answer.get_json()["fields"]


def test_a_branch_comes_a_page_of_instructors_at_a_time(db):
    w = World(db)
    day_from, day_to = DAY, DAY + timedelta(days=6)
    for k in range(4):
        f.make_working_hours(db, f.make_instructor(db, branch_id=w.branch), 2, time(9, 0), time(10, 0))
    f.make_instructor(db, branch_id=w.branch)  # no working hours: never on a page
    everyone = availability.branch_slots(db, w.staff, branch_id=w.branch, date_from=day_from, date_to=day_to,
                                         duration_minutes=60, now=NOW, settings=SETTINGS)
    seen, pages = [], None
    for number in (1, 2, 3):
        found, meta = availability.branch_slots_page(db, w.staff, branch_id=w.branch, date_from=day_from,
                                                     date_to=day_to, duration_minutes=60, now=NOW,
                                                     settings=SETTINGS, page=number, per_page=2)
        assert meta["per_page"] == 2 and len(meta["instructors"]) <= 2
        assert {s["instructor_id"] for s in found} <= set(meta["instructors"])
        seen += found
        pages = meta["pages"]
    assert pages == 3  # five working instructors, two a page
    assert sorted(seen, key=lambda s: (s["start"], s["instructor_id"])) == everyone
    _, last = availability.branch_slots_page(db, w.staff, branch_id=w.branch, date_from=day_from, date_to=day_to,
                                             duration_minutes=60, now=NOW, settings=SETTINGS, page=99, per_page=2)
    assert last["page"] == 3  # past the end: the last page


def test_the_api_pages_a_branch_and_refuses_a_bad_page(api):
    staff = api["client"]("av.staff@x.com")
    url = _query(api, instructor_id=None, branch_id=api["branch"])
    body = staff.get(url).get_json()
    assert body["page"] == {"page": 1, "pages": 1, "per_page": availability.BRANCH_PER_PAGE,
                            "instructors": [api["instructor"]]}
    assert staff.get(url + "&per_page=1&page=1").get_json()["page"]["per_page"] == 1
    for bad in ("page=0", "page=x", f"per_page={availability.MAX_BRANCH_PER_PAGE + 1}", "per_page=-1"):
        answer = staff.get(url + "&" + bad)
        assert answer.status_code == 400 and bad.split("=")[0] in answer.get_json()["fields"]
