"""The gap filler / waitlist (services/waitlist.py, WaitlistDAO) on both databases: preferences are
validated field by field (nothing written on a refusal); a cancellation offers the slot, in the same
transaction, only to the students it fits (weekday and window, the policy's instructor rule, the weekly
limit, opted in, same branch, active enrolment, free at that time, not the lesson's own student) with
one in-app notification each; nothing is offered inside the minimum notice; accepting books through
the students' booking rules and the conflict engine, the others then read "taken"; an expired, taken or
foreign offer is refused with a clear 4xx and nothing is written."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, time, timedelta

import pytest

from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.core.pagination import ListQuery
from app.dao.waitlist import WaitlistDAO
from app.services import policy, scheduling, self_service, waitlist
from app.services.scope import Actor
from tests import factories as f

SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne"}
NOW = datetime(2026, 3, 1, 0, 0)       # 11:00 Sun 1 Mar in Melbourne (+11)
DAY = date(2026, 3, 11)                # a Wednesday
EXPIRES = datetime(2026, 3, 10, 10, 0)  # 09:00 on the 11th minus 12 h notice = 21:00 on the 10th (+11), in UTC
QUERY = ListQuery(sort="slot")


class World:
    def __init__(self, db):
        self.db = db
        self.branch = f.make_branch(db, name="Bayside")
        self.other_branch = f.make_branch(db, name="Northside")
        self.instructor = f.make_instructor(db, branch_id=self.branch)
        for weekday in range(7):
            f.make_working_hours(db, self.instructor, weekday, time(8, 0), time(18, 0))
        self.course = f.make_course(db)
        f.allocate(db, self.course, self.instructor)
        self.admin = Actor(user_id=f.make_user(db, role="admin"), role="admin")
        self.owner, self.owner_actor = self.student()
        enrolment = db.fetch_value("SELECT id FROM enrollments WHERE student_id = :s", {"s": self.owner})
        self.lesson = f.make_schedule(db, enrollment_id=enrolment, instructor_id=self.instructor,
                                      branch_id=self.branch, scheduled_date=DAY, start_time=time(9, 0),
                                      end_time=time(10, 0))

    def student(self, branch=None, course=None, enrolment_status="active"):
        sid = f.make_student(self.db, branch_id=branch or self.branch)
        f.make_enrollment(self.db, sid, course or self.course, status=enrolment_status)
        uid = self.db.fetch_value("SELECT user_id FROM students WHERE id = :id", {"id": sid})
        return sid, Actor(user_id=uid, role="student", student_id=sid, branch_id=branch or self.branch)

    def waiter(self, prefs=None, **kwargs):
        sid, actor = self.student(**kwargs)
        f.make_waitlist_preferences(self.db, sid, **(prefs or {}))
        return sid, actor

    def cancel(self, now=NOW):
        scheduling.cancel(self.db, self.admin, self.lesson, "Sick", now=now)

    def offers(self):
        rows = self.db.fetch_all("SELECT id, student_id, status FROM gap_offers ORDER BY id")
        return {r["student_id"]: r for r in rows}

    def offer_of(self, student_id):
        return self.offers()[student_id]["id"]

    def accept(self, actor, student_id=None, offer_id=None, now=NOW):
        return waitlist.accept(self.db, actor, offer_id or self.offer_of(student_id or actor.student_id), now=now,
                               settings=SETTINGS)

    def counts(self):
        return (self.db.fetch_value("SELECT COUNT(*) FROM schedules WHERE status = 'scheduled'"),
                tuple((r["id"], r["status"]) for r in self.db.fetch_all("SELECT id, status FROM gap_offers ORDER BY id")),
                self.db.fetch_value("SELECT COUNT(*) FROM reminders"))


# ------------------------------------------------------------------------------------------ preferences

def test_preferences_default_save_opt_out_and_audit(db):
    w = World(db)
    sid, actor = w.student()
    assert waitlist.preferences(db, actor) == {"active": False, "weekdays": [0, 1, 2, 3, 4], "earliest_time": "08:00",
                                               "latest_time": "18:00", "saved": False, "opted_in_at": None}
    saved = waitlist.save_preferences(db, actor, {"active": "y", "weekdays": ["2", "5"], "earliest_time": "07:30",
                                                  "latest_time": "12:45"}, now=NOW)
    assert saved["active"] and saved["weekdays"] == [2, 5] and saved["earliest_time"] == "07:30"
    assert saved["latest_time"] == "12:45" and saved["opted_in_at"] == NOW
    later = NOW + timedelta(days=1)
    again = waitlist.save_preferences(db, actor, {"active": "y", "weekdays": ["2"], "earliest_time": "07:30",
                                                  "latest_time": "12:45"}, now=later)
    assert again["opted_in_at"] == NOW  # still waiting: keeps their place in the queue
    out = waitlist.save_preferences(db, actor, {"weekdays": ["2"], "earliest_time": "07:30",
                                                "latest_time": "12:45"}, now=later)
    assert not out["active"] and out["weekdays"] == [2] and out["opted_in_at"] is None  # days kept
    assert db.fetch_value("SELECT COUNT(*) FROM audit_trail WHERE action = 'waitlist_preferences_saved'"
                          " AND entity_type = 'student' AND entity_id = :s", {"s": sid}) == 3


@pytest.mark.parametrize("change, field", [
    ({"weekdays": ["7"]}, "weekdays"),
    ({"weekdays": ["x"]}, "weekdays"),
    ({"weekdays": []}, "weekdays"),
    ({"earliest_time": "09:10"}, "earliest_time"),
    ({"earliest_time": "25:00"}, "earliest_time"),
    ({"latest_time": ""}, "latest_time"),
    ({"latest_time": "07:00"}, "latest_time"),
    ({"latest_time": "08:00"}, "latest_time"),
    ({"active": "maybe"}, "active"),
])
def test_bad_preferences_are_422_naming_the_field_and_write_nothing(db, change, field):
    w = World(db)
    _sid, actor = w.student()
    data = {"active": "y", "weekdays": ["0", "2"], "earliest_time": "08:00", "latest_time": "18:00", **change}
    with pytest.raises(ValidationFailed) as caught:
        waitlist.save_preferences(db, actor, data, now=NOW)
    assert caught.value.status == 422 and caught.value.field == field
    assert db.fetch_value("SELECT COUNT(*) FROM waitlist_preferences") == 0


def test_preferences_are_for_students_only(db):
    w = World(db)
    staff = Actor(user_id=f.make_user(db, role="staff", branch_id=w.branch), role="staff", branch_id=w.branch)
    with pytest.raises(PermissionDenied):
        waitlist.preferences(db, staff)
    with pytest.raises(PermissionDenied):
        waitlist.save_preferences(db, w.admin, {"active": "y"}, now=NOW)


# ------------------------------------------------------------------------------------------ a freed slot

def test_a_cancellation_offers_the_slot_only_to_the_students_it_fits(db):
    w = World(db)
    fits, fits_actor = w.waiter(prefs={"opted_in_at": NOW - timedelta(days=3)})
    early, _ = w.waiter(prefs={"opted_in_at": NOW - timedelta(days=9), "weekdays": "0010000",
                               "earliest_time": time(9, 0), "latest_time": time(10, 0)})  # exactly the window
    wrong_day, _ = w.waiter(prefs={"weekdays": "1101111"})
    too_late, _ = w.waiter(prefs={"earliest_time": time(9, 15)})
    ends_early, _ = w.waiter(prefs={"latest_time": time(9, 45)})
    opted_out, _ = w.waiter(prefs={"active": 0})
    foreign, _ = w.waiter(branch=w.other_branch)
    finished, _ = w.waiter(enrolment_status="completed")
    other_course = f.make_course(db)
    unassigned, _ = w.waiter(course=other_course)
    busy_week, _ = w.waiter()
    week_enrolment = db.fetch_value("SELECT id FROM enrollments WHERE student_id = :s", {"s": busy_week})
    colleague = f.make_instructor(db, branch_id=w.branch)
    for day in (date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 15)):  # Mon, Tue, Sun: 3 = the weekly limit
        f.make_schedule(db, enrollment_id=week_enrolment, instructor_id=colleague, branch_id=w.branch,
                        scheduled_date=day)
    clash, _ = w.waiter()
    clash_enrolment = db.fetch_value("SELECT id FROM enrollments WHERE student_id = :s", {"s": clash})
    f.make_schedule(db, enrollment_id=clash_enrolment, instructor_id=colleague, branch_id=w.branch,
                    scheduled_date=DAY, start_time=time(9, 30), end_time=time(10, 30))
    f.make_waitlist_preferences(db, w.owner)  # the cancelled lesson's own student

    w.cancel()

    offers = w.offers()
    assert set(offers) == {fits, early}
    rows = db.fetch_all("SELECT student_id, branch_id, instructor_id, slot_date, start_time, end_time, status,"
                        " expires_at, created_at FROM gap_offers ORDER BY id")
    assert [r["student_id"] for r in rows] == [early, fits]  # earliest opted-in first
    for row in rows:
        assert (row["branch_id"], row["instructor_id"], row["slot_date"], row["status"]) == \
            (w.branch, w.instructor, DAY, "offered")
        assert row["expires_at"] == EXPIRES and row["created_at"] == NOW
    notes = db.fetch_all("SELECT user_id, title, message, is_read FROM notifications ORDER BY id")
    assert [n["user_id"] for n in notes] == [db.fetch_value("SELECT user_id FROM students WHERE id = :s", {"s": s})
                                             for s in (early, fits)]
    assert "Wed 11 Mar 2026, 09:00–10:00" in notes[0]["message"] and notes[0]["is_read"] == 0
    assert "Tue 10 Mar 2026 at 21:00" in notes[0]["message"]  # the expiry in the branch's time
    assert db.fetch_value("SELECT details FROM audit_trail WHERE action = 'waitlist_offered'"
                          " AND entity_id = :id", {"id": w.lesson}) == "freed slot offered to 2 waiting students"
    page = waitlist.offers(db, fits_actor, QUERY, now=NOW)
    assert [(r["shown_status"], r["can_accept"]) for r in page.items] == [("offered", True)]


def test_with_students_any_instructor_the_branch_may_take_any_instructor(db):
    w = World(db)
    unassigned, _ = w.waiter(course=f.make_course(db))
    policy.update(db, w.admin, w.branch, {"students_any_instructor": True}, now=NOW)
    w.cancel()
    assert set(w.offers()) == {unassigned}


def test_nothing_is_offered_inside_the_minimum_notice(db):
    w = World(db)
    fits, _ = w.waiter()
    w.cancel(now=EXPIRES)
    assert w.offers() == {}
    assert db.fetch_value("SELECT COUNT(*) FROM notifications") == 0
    assert db.fetch_value("SELECT status FROM schedules WHERE id = :id", {"id": w.lesson}) == "cancelled"


def test_a_minute_before_the_notice_the_slot_is_offered(db):
    w = World(db)
    fits, _ = w.waiter()
    w.cancel(now=EXPIRES - timedelta(minutes=1))
    assert set(w.offers()) == {fits}


def test_exams_are_not_offered(db):
    w = World(db)
    w.waiter()
    db.execute("UPDATE schedules SET event_type = 'exam' WHERE id = :id", {"id": w.lesson})
    w.cancel()
    assert w.offers() == {}


def test_cancelling_twice_offers_once(db):
    w = World(db)
    fits, _ = w.waiter()
    w.cancel()
    scheduling.revive(db, w.admin, w.lesson, now=NOW, settings=SETTINGS, accept_warnings=True)
    w.cancel()
    assert db.fetch_value("SELECT COUNT(*) FROM gap_offers WHERE student_id = :s", {"s": fits}) == 1


# ------------------------------------------------------------------------------------------ accepting

def test_the_first_accept_books_through_the_engine_and_the_others_see_taken(db):
    w = World(db)
    first, first_actor = w.waiter()
    second, second_actor = w.waiter()
    w.cancel()
    booked = w.accept(first_actor)
    lesson = db.fetch_one("SELECT s.status, s.instructor_id, s.scheduled_date, s.start_time, s.end_time, e.student_id"
                          " FROM schedules s JOIN enrollments e ON e.id = s.enrollment_id WHERE s.id = :id",
                          {"id": booked.id})
    assert (lesson["status"], lesson["instructor_id"], lesson["scheduled_date"], lesson["student_id"]) == \
        ("scheduled", w.instructor, DAY, first)
    assert db.fetch_value("SELECT COUNT(*) FROM reminders WHERE related_type = 'schedule' AND related_id = :id AND status = 'pending'",
                          {"id": booked.id}) == 1
    assert db.fetch_value("SELECT details FROM audit_trail WHERE action = 'schedule_created' AND entity_id = :id",
                          {"id": booked.id}).startswith("taken from the waitlist")
    offers = db.fetch_all("SELECT student_id, status, booked_schedule_id, answered_at FROM gap_offers ORDER BY id")
    assert [(o["student_id"], o["status"], o["booked_schedule_id"]) for o in offers] == \
        [(first, "accepted", booked.id), (second, "taken", None)]
    assert all(o["answered_at"] == NOW for o in offers)

    before = w.counts()
    with pytest.raises(waitlist.OfferClosed) as caught:
        w.accept(second_actor)
    assert caught.value.status == 409 and caught.value.reason == "taken" and "taken" in caught.value.message
    with pytest.raises(waitlist.OfferClosed) as caught:
        w.accept(first_actor)
    assert caught.value.reason == "accepted"
    assert w.counts() == before
    shown = waitlist.offers(db, second_actor, QUERY, now=NOW).items
    assert [(r["shown_status"], r["can_accept"]) for r in shown] == [("taken", False)]
    assert waitlist.offers(db, first_actor, QUERY, now=NOW).items[0]["shown_status"] == "accepted"


def test_an_expired_offer_is_refused_and_nothing_is_written(db):
    w = World(db)
    _fits, actor = w.waiter()
    w.cancel()
    before = w.counts()
    with pytest.raises(waitlist.OfferClosed) as caught:
        w.accept(actor, now=EXPIRES)
    assert caught.value.status == 409 and caught.value.reason == "expired" and "expired" in caught.value.message
    assert w.counts() == before
    shown = waitlist.offers(db, actor, QUERY, now=EXPIRES).items
    assert [(r["shown_status"], r["can_accept"]) for r in shown] == [("expired", False)]


def test_a_foreign_or_missing_offer_is_404_and_other_roles_403(db):
    w = World(db)
    fits, _ = w.waiter()
    _stranger, stranger_actor = w.student()
    w.cancel()
    before = w.counts()
    for offer_id in (w.offer_of(fits), 999999, "abc", "-1", None, True, 2**40):
        with pytest.raises(NotFound):
            waitlist.accept(db, stranger_actor, offer_id, now=NOW, settings=SETTINGS)
    with pytest.raises(PermissionDenied):
        waitlist.accept(db, w.admin, w.offer_of(fits), now=NOW, settings=SETTINGS)
    assert w.counts() == before


def test_a_slot_booked_meanwhile_reads_taken_and_the_engine_refuses_it(db):
    w = World(db)
    fits, actor = w.waiter()
    w.cancel()
    _other, _ = w.student()
    other_enrolment = db.fetch_value("SELECT MAX(id) FROM enrollments")
    f.make_schedule(db, enrollment_id=other_enrolment, instructor_id=w.instructor, branch_id=w.branch,
                    scheduled_date=DAY, start_time=time(9, 30), end_time=time(10, 30))  # the office filled it
    assert waitlist.offers(db, actor, QUERY, now=NOW).items[0]["shown_status"] == "taken"
    before = w.counts()
    with pytest.raises(self_service.Refused) as caught:
        w.accept(actor)
    assert caught.value.status == 409 and "instructor" in [r["kind"] for r in caught.value.reasons]
    assert w.counts() == before


def test_offers_page_is_one_students_and_paginates(db):
    w = World(db)
    fits, actor = w.waiter()
    other, other_actor = w.waiter()
    w.cancel()
    page = waitlist.offers(db, actor, ListQuery(sort="slot", per_page=1), now=NOW)
    assert page.total == 1 and [r["student_id"] for r in page.items] == [fits]
    assert page.items[0]["instructor_name"] and page.items[0]["expires_local"] == datetime(2026, 3, 10, 21, 0)
    assert waitlist.open_offers(db, actor, now=NOW) == 1
    assert waitlist.open_offers(db, actor, now=EXPIRES) == 0
    assert waitlist.open_offers(db, w.admin, now=NOW) == 0


def test_dao_matching_students_is_one_statement(db):
    from app.core.database import count_queries

    w = World(db)
    for _ in range(5):
        w.waiter()
    with count_queries() as counter:
        rows = WaitlistDAO(db).matching_students(
            schedule_id=w.lesson, branch_id=w.branch, own_student_id=w.owner, weekday=2, slot_date=DAY,
            start=time(9, 0), end=time(10, 0), instructor_id=w.instructor, any_instructor=False,
            week_first=date(2026, 3, 9), week_last=date(2026, 3, 15), weekly_limit=3, limit=3)
    assert counter.count == 1 and len(rows) == 3


def test_the_expiry_is_wall_clock_time_across_a_daylight_saving_change():
    from zoneinfo import ZoneInfo

    from app.core import localtime

    zone = ZoneInfo("Australia/Melbourne")
    pol = policy.Policy(min_notice_minutes=1440)
    day, start = date(2026, 4, 5), time(9, 0)          # Sun 5 Apr 2026: the clocks go back at 03:00
    start_utc = localtime.to_utc_naive(localtime.localize(day, start, zone))
    assert start_utc == datetime(2026, 4, 4, 23, 0)     # +10 after the change
    assert waitlist.expiry(pol, day, start, zone, start_utc) == datetime(2026, 4, 3, 22, 0)  # 09:00 Sat, +11: 25 h


def test_the_offers_page_costs_the_same_queries_for_one_offer_or_many(db):
    from app.core.database import count_queries

    w = World(db)
    _sid, actor = w.waiter()
    w.cancel()
    with count_queries() as one:
        waitlist.offers(db, actor, QUERY, now=NOW)
    colleague = f.make_instructor(db, branch_id=w.branch)
    for n in range(6):
        freed = f.make_schedule(db, instructor_id=colleague, branch_id=w.branch, status="cancelled",
                                scheduled_date=DAY + timedelta(days=n))
        f.make_gap_offer(db, freed, actor.student_id, colleague, branch_id=w.branch, slot_date=DAY + timedelta(days=n))
    with count_queries() as many:
        page = waitlist.offers(db, actor, QUERY, now=NOW)
    assert page.total == 7 and many.count == one.count <= 2


def test_a_slot_the_instructor_cannot_teach_is_not_offered(db):
    w = World(db)
    w.waiter()
    f.make_unavailability(db, w.instructor, datetime(2026, 3, 11, 8, 0), datetime(2026, 3, 11, 12, 0))
    w.cancel()  # e.g. the conflicts panel cancelling a lesson broken by the instructor's leave
    assert w.offers() == {}


def test_when_only_the_car_is_not_free_the_lesson_is_offered_without_it(db):
    w = World(db)
    fits, actor = w.waiter()
    car = f.make_vehicle(db, branch_id=w.branch)
    db.execute("UPDATE schedules SET vehicle_id = :v WHERE id = :id", {"v": car, "id": w.lesson})
    f.make_downtime(db, car, datetime(2026, 3, 11, 8, 0), datetime(2026, 3, 11, 17, 0))
    w.cancel()
    assert db.fetch_value("SELECT vehicle_id FROM gap_offers WHERE student_id = :s", {"s": fits}) is None
    booked = w.accept(actor)
    assert db.fetch_value("SELECT vehicle_id FROM schedules WHERE id = :id", {"id": booked.id}) is None


def test_the_car_goes_with_the_offer_when_it_is_free(db):
    w = World(db)
    fits, actor = w.waiter()
    car = f.make_vehicle(db, branch_id=w.branch)
    db.execute("UPDATE schedules SET vehicle_id = :v WHERE id = :id", {"v": car, "id": w.lesson})
    w.cancel()
    booked = w.accept(actor)
    assert db.fetch_value("SELECT vehicle_id FROM schedules WHERE id = :id", {"id": booked.id}) == car
