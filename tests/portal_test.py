"""The student portal's reads (services/portal.py, dao/portal.py) on both databases: a student's upcoming
and past lessons split by the lesson's end in its branch's zone, soonest first and latest first, only
their own; the totals in one aggregate; Cancel/Reschedule offered only for a scheduled lesson outside the
branch's cut-off, else the note naming the branch and its phone; one lesson of theirs (another student's
is 404, other roles 403); the "find a slot" choices (a bad duration or instructor is ignored and named);
the slots grouped by day and a Book button's value read back; a fixed number of queries however many
lessons."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, time, timedelta

import pytest

from app.core.database import count_queries
from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.dao.portal import PortalDAO
from app.services import policy, portal
from app.services.scope import Actor
from tests import factories as f

NOW = datetime(2026, 3, 11, 3, 0)   # 14:00 on Wed 11 Mar 2026 in Melbourne (AEDT, +11)
DAY = date(2026, 3, 11)
SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne"}


class World:
    def __init__(self, db):
        self.db = db
        self.branch = f.make_branch(db, name="Bayside", phone="03 9555 0101", timezone="Australia/Melbourne")
        iu = f.make_user(db, role="instructor", branch_id=self.branch, first_name="Raj", last_name="Patel")
        self.instructor = f.make_instructor(db, user_id=iu, branch_id=self.branch)
        su = f.make_user(db, first_name="Jack", last_name="Mason", branch_id=self.branch)
        self.student = f.make_student(db, user_id=su, branch_id=self.branch)
        self.enrollment = f.make_enrollment(db, self.student)
        self.actor = Actor(user_id=su, role="student", branch_id=self.branch, student_id=self.student)
        other = f.make_student(db, branch_id=self.branch)
        self.foreign = f.make_schedule(db, f.make_enrollment(db, other), self.instructor, branch_id=self.branch,
                                       scheduled_date=DAY + timedelta(days=3))

    def lesson(self, day, start=time(9, 0), end=time(10, 0), **overrides):
        return f.make_schedule(self.db, self.enrollment, self.instructor, branch_id=self.branch, scheduled_date=day,
                               start_time=start, end_time=end, **overrides)


@pytest.fixture
def w(db):
    return World(db)


def _ids(page):
    return [r["id"] for r in page.items]


def test_upcoming_and_past_split_by_the_lessons_end_in_its_zone(w, db):
    later = w.lesson(DAY + timedelta(days=5))
    soon = w.lesson(DAY + timedelta(days=2), pickup_location="Station")
    running = w.lesson(DAY, time(13, 30), time(14, 30))          # 14:00 local: still on, so upcoming
    ended = w.lesson(DAY, time(12, 0), time(14, 0))              # ended exactly now: past
    old = w.lesson(DAY - timedelta(days=7), status="completed", student_rating=4,
                   student_feedback="Good mirror checks.")
    gone = w.lesson(DAY + timedelta(days=4), status="cancelled", cancel_reason="Sick")
    page = portal.lessons(db, w.actor, {}, now=NOW, settings=SETTINGS)
    assert _ids(page["upcoming"]) == [running, soon, gone, later]
    assert _ids(page["past"]) == [ended, old]
    assert w.foreign not in _ids(page["upcoming"]) + _ids(page["past"])
    rows = {r["id"]: r for r in page["upcoming"].items + page["past"].items}
    assert rows[soon]["pickup_location"] == "Station" and rows[soon]["instructor_name"] == "Raj Patel"
    assert rows[soon]["branch_phone"] == "03 9555 0101" and rows[soon]["duration_minutes"] == 60
    assert rows[old]["student_feedback"] == "Good mirror checks." and rows[old]["student_rating"] == 4
    assert rows[soon]["may_change"] and rows[later]["may_change"]
    assert not rows[gone]["may_change"] and rows[gone]["cutoff_note"] is None
    assert not rows[running]["may_change"] and rows[running]["cutoff_note"] == "This lesson has started."
    totals = page["totals"]
    assert (totals["upcoming"], totals["completed"], totals["cancelled"], totals["rated"]) == (3, 1, 1, 1)
    assert totals["average_rating"] == 4.0


def test_inside_the_cut_off_the_note_names_the_branch_and_its_phone(w, db):
    tomorrow = w.lesson(DAY + timedelta(days=1), time(13, 0), time(14, 0))   # 23 h ahead: inside 24 h
    edge = w.lesson(DAY + timedelta(days=1), time(14, 0), time(15, 0))       # exactly 24 h: still allowed
    page = portal.lessons(db, w.actor, {}, now=NOW, settings=SETTINGS)
    rows = {r["id"]: r for r in page["upcoming"].items}
    assert not rows[tomorrow]["may_change"]
    assert rows[tomorrow]["cutoff_note"] == "Inside the 24-hour cut-off: call Bayside on 03 9555 0101 to change it."
    assert rows[edge]["may_change"]
    # The branch's own cut-off and a branch without a phone.
    admin = Actor(user_id=f.make_user(db, role="admin"), role="admin")
    policy.update(db, admin, w.branch, {"cancel_cutoff_minutes": 2880}, now=NOW)
    db.execute("UPDATE branches SET phone = NULL WHERE id = :id", {"id": w.branch})
    lesson = portal.own_lesson(db, w.actor, edge, now=NOW, settings=SETTINGS)
    assert not lesson["may_change"]
    assert lesson["cutoff_note"] == "Inside the 2-day cut-off: call Bayside to change it."


def test_own_lesson_is_the_students_only(w, db):
    mine = w.lesson(DAY + timedelta(days=3))
    assert portal.own_lesson(db, w.actor, mine, now=NOW, settings=SETTINGS)["id"] == mine
    for bad in (w.foreign, 999999, "1", None, -1):
        with pytest.raises(NotFound):
            portal.own_lesson(db, w.actor, bad, now=NOW, settings=SETTINGS)
    for role in ("admin", "staff", "instructor"):
        with pytest.raises(PermissionDenied):
            portal.own_lesson(db, Actor(user_id=1, role=role, branch_id=w.branch), mine, now=NOW, settings=SETTINGS)
        with pytest.raises(PermissionDenied):
            portal.lessons(db, Actor(user_id=1, role=role, branch_id=w.branch), {}, now=NOW, settings=SETTINGS)
    lost = Actor(user_id=1, role="student", student_id=None)
    assert portal.lessons(db, lost, {}, now=NOW, settings=SETTINGS)["upcoming"].total == 0
    with pytest.raises(NotFound):
        portal.own_lesson(db, lost, mine, now=NOW, settings=SETTINGS)


def test_pages_and_a_fixed_number_of_queries(w, db):
    for n in range(12):
        w.lesson(DAY + timedelta(days=2 + n))
        w.lesson(DAY - timedelta(days=2 + n), status="completed", student_rating=1 + n % 5)

    def cost(args):
        with count_queries() as counter:
            page = portal.lessons(db, w.actor, args, now=NOW, settings=SETTINGS)
        return counter.count, page

    few, page = cost({})
    assert page["upcoming"].total == 12 and len(page["upcoming"].items) == portal.LESSONS_PER_PAGE
    assert page["past"].total == 12 and page["past"].pages == 2
    second, page2 = cost({"page": "2", "upcoming_page": "2"})
    assert len(page2["past"].items) == 2 and len(page2["upcoming"].items) == 2
    for n in range(10):
        w.lesson(DAY + timedelta(days=20 + n), time(11, 0), time(12, 0))
    more, _ = cost({})
    assert few == second == more <= 7
    junk = portal.lessons(db, w.actor, {"page": "x", "upcoming_page": "٣"}, now=NOW, settings=SETTINGS)
    assert len(junk["ignored"]) == 2 and junk["past"].page == 1


def test_totals_are_one_aggregate(w, db):
    w.lesson(DAY - timedelta(days=1), status="no_show")
    w.lesson(DAY - timedelta(days=2), status="not_completed", student_rating=2)
    w.lesson(DAY - timedelta(days=3), status="completed", student_rating=5)
    cutoffs = [(None, DAY, time(14, 0)), ("Australia/Melbourne", DAY, time(14, 0))]
    with count_queries() as counter:
        totals = PortalDAO(db).totals(w.student, cutoffs)
    assert counter.count == 1
    assert totals == {"upcoming": 0, "completed": 1, "not_completed": 1, "no_show": 1, "cancelled": 0,
                      "rated": 2, "rating_sum": 7}


def test_the_finder_ignores_bad_values_and_names_them():
    allowed = [{"id": 7, "first_name": "Raj", "last_name": "Patel"}]
    assert portal.finder({}, allowed) == {"duration_minutes": 60, "instructor_id": None, "pickup_location": None,
                                          "notes": []}
    assert portal.finder({"pickup_location": "  12  Marine\x00 Pde "}, allowed)["pickup_location"] == "12 Marine Pde"
    chosen = portal.finder({"duration_minutes": "90", "instructor_id": "7"}, allowed)
    assert (chosen["duration_minutes"], chosen["instructor_id"], chosen["notes"]) == (90, 7, [])
    bad = portal.finder({"duration_minutes": "50", "instructor_id": "8"}, allowed)
    assert (bad["duration_minutes"], bad["instructor_id"]) == (60, None)
    assert bad["notes"][0] == "The duration “50” was ignored: choose 30, 45, 60, 90 or 120 minutes."
    assert "not one you can book with" in bad["notes"][1]
    assert portal.finder({"duration_minutes": "٩٠"}, allowed)["duration_minutes"] == 60


def test_slots_group_by_day_and_a_button_value_reads_back():
    slots = [
        {"instructor_id": 3, "vehicle_id": None, "date": "2026-03-13", "start_time": "09:00", "end_time": "10:00",
         "instructor_name": "Raj Patel"},
        {"instructor_id": 3, "vehicle_id": 5, "date": "2026-03-13", "start_time": "10:30", "end_time": "11:30",
         "instructor_name": "Raj Patel"},
        {"instructor_id": 4, "vehicle_id": None, "date": date(2026, 3, 16), "start_time": "08:00",
         "end_time": "09:00", "instructor_name": "Amelia Ward"},
    ]
    days = portal.slot_days(slots)
    assert [d["date"] for d in days] == [date(2026, 3, 13), date(2026, 3, 16)]
    assert [s["start_hm"] for s in days[0]["slots"]] == ["09:00", "10:30"]
    value = days[0]["slots"][1]["value"]
    assert value == "3|2026-03-13|10:30|5"
    assert portal.slot_fields(value) == {"instructor_id": "3", "date": "2026-03-13", "start_time": "10:30",
                                         "vehicle_id": "5"}
    assert portal.slot_fields(days[1]["slots"][0]["value"])["vehicle_id"] is None
    for junk in (None, 5, "", "a|b", "x" * 200):
        assert portal.slot_fields(junk) == {}


def test_cutoff_words():
    assert [portal.cutoff_words(m) for m in (1440, 720, 90, 2880, 60)] == [
        "24-hour", "12-hour", "90-minute", "2-day", "1-hour"]


def test_instructors_of_another_branch_are_not_offered(w, db):
    """self_service counts the instructor of an old lesson at another centre as assigned, but the conflict
    engine refuses a lesson outside the student's branch: the portal does not offer their times."""
    elsewhere = f.make_branch(db, name="Northern")
    visitor = f.make_instructor(db, branch_id=elsewhere)
    f.make_schedule(db, w.enrollment, visitor, branch_id=elsewhere, scheduled_date=DAY - timedelta(days=30))
    w.lesson(DAY - timedelta(days=20))  # the branch's own instructor taught them too
    for weekday in range(7):
        f.make_working_hours(db, visitor, weekday, time(8, 0), time(18, 0))
        f.make_working_hours(db, w.instructor, weekday, time(8, 0), time(18, 0))
    assert {i["id"] for i in portal.bookable_instructors(db, w.actor)} == {w.instructor}
    slots = portal.next_slots(db, w.actor, duration_minutes=60, now=NOW, settings=SETTINGS)
    assert slots and {s["instructor_id"] for s in slots} == {w.instructor}
    with pytest.raises(ValidationFailed):
        portal.next_slots(db, w.actor, duration_minutes=60, now=NOW, settings=SETTINGS, instructor_id=visitor)


def test_a_posted_length_is_an_int_or_refusable():
    assert [portal.duration_value(v) for v in ("60", " 90 ", "", None, "²", "٣٠", "1e3", "-5", 45)] == [
        60, 90, None, None, -1, -1, -1, -1, 45]
