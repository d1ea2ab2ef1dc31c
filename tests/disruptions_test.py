"""The conflicts panel's service (services/disruptions.py) on both databases: each of the five causes is
found (and only for live, future lessons, with the engine's edges: touching is free, "expired before the
day"), rows are grouped by cause with counts from one aggregate, pages are stable, every listed row is
refused by conflicts.check for the same slot and every future lesson the engine refuses for those reasons
is listed; scope (staff their branch, admin all or one branch, other roles 403, foreign lessons 404);
reassigning re-runs the engine (a busy instructor is refused, a stale fingerprint is 409), cancel-and-notify
withdraws the reminder and writes the notifications and audit rows in one transaction; the query count
does not grow with the rows."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import random
from datetime import date, datetime, time, timedelta

import pytest

from app.core.database import count_queries
from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.core.pagination import ListQuery
from app.services import conflicts, disruptions, scheduling
from app.services.disruptions import AlreadyChanged
from app.services.scheduling import BookingConflict
from app.services.scope import Actor
from tests import factories as f

SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne"}
NOW = datetime(2026, 3, 10, 2, 30)   # 13:30 on Tuesday 10 Mar 2026 in Melbourne (AEDT)
DAY = date(2026, 3, 12)              # a Thursday


def q(**args):
    return ListQuery.from_args({k: str(v) for k, v in args.items()}, disruptions.SORT_KEYS, disruptions.DEFAULT_SORT,
                               filters=disruptions.FILTERS)


class World:
    def __init__(self, db):
        self.db = db
        self.branch = f.make_branch(db, name="Bayside", timezone="Australia/Melbourne")
        self.other = f.make_branch(db, name="Northside", timezone="Australia/Perth")
        self.course = f.make_course(db, title="Learner Essentials")
        self.staff = Actor(user_id=f.make_user(db, role="staff", branch_id=self.branch), role="staff",
                           branch_id=self.branch)
        self.other_staff = Actor(user_id=f.make_user(db, role="staff", branch_id=self.other), role="staff",
                                 branch_id=self.other)
        self.admin = Actor(user_id=f.make_user(db, role="admin"), role="admin")

    def instructor(self, branch=None, *, allocated=True, hours=True, **overrides):
        instructor = f.make_instructor(self.db, branch_id=branch or self.branch, **overrides)
        if allocated:
            f.allocate(self.db, self.course, instructor)
        if hours:
            for weekday in range(7):
                f.make_working_hours(self.db, instructor, weekday, time(7, 0), time(19, 0))
        return instructor

    def vehicle(self, branch=None, **overrides):
        return f.make_vehicle(self.db, branch_id=branch or self.branch, **overrides)

    def lesson(self, instructor, day=DAY, start=time(9, 0), end=time(10, 0), vehicle=None, branch=None, **overrides):
        branch = branch or self.branch
        student = f.make_student(self.db, branch_id=branch)
        enrolment = f.make_enrollment(self.db, student, self.course)
        return f.make_schedule(self.db, enrolment, instructor, vehicle_id=vehicle, branch_id=branch,
                               scheduled_date=day, start_time=start, end_time=end, **overrides)

    def panel(self, actor=None, **args):
        return disruptions.panel(self.db, actor or self.staff, q(**args), NOW, SETTINGS)

    def rows(self, actor=None, **args):
        return [(r["id"], r["cause"]) for r in self.panel(actor, **args).page.items]


@pytest.fixture
def world(db):
    return World(db)


def _five_causes(w):
    """One broken lesson per cause, plus the lessons on each rule's edge that are not broken."""
    out = {}
    away = w.instructor()
    f.make_unavailability(w.db, away, datetime(2026, 3, 12, 8, 0), datetime(2026, 3, 12, 12, 0), reason="Course")
    out["unavailability"] = w.lesson(away)
    out["touching_window"] = w.lesson(away, start=time(12, 0), end=time(13, 0))
    expired = w.instructor(accreditation_expiry=date(2026, 3, 11))
    out["accreditation"] = w.lesson(expired)
    out["expiry_day"] = w.lesson(expired, day=date(2026, 3, 11))
    car = w.vehicle(name="Corolla", plate_number="DWN-001")
    f.make_downtime(w.db, car, datetime(2026, 3, 13, 8, 0), datetime(2026, 3, 13, 9, 0), reason="Tyres")
    out["downtime"] = w.lesson(w.instructor(), day=date(2026, 3, 13), start=time(8, 30), end=time(9, 30), vehicle=car)
    out["touching_downtime"] = w.lesson(w.instructor(), day=date(2026, 3, 13), start=time(9, 0), end=time(10, 0),
                                        vehicle=car)
    workshop = w.vehicle(status="maintenance")
    out["maintenance"] = w.lesson(w.instructor(), vehicle=workshop)
    due = w.vehicle(next_service_due=date(2026, 3, 12))
    out["service_due"] = w.lesson(w.instructor(), day=date(2026, 3, 13), vehicle=due)
    out["due_day"] = w.lesson(w.instructor(), day=date(2026, 3, 12), vehicle=due)
    return out


def test_each_cause_is_found_on_the_engines_edges_and_grouped(world):
    made = _five_causes(world)
    panel = world.panel()
    assert [(r["id"], r["cause"]) for r in panel.page.items] == [
        (made[c], c) for c in ("unavailability", "accreditation", "downtime", "maintenance", "service_due")]
    assert panel.counts == {"lessons": 5, "row_count": 5, "soon": 5, "unavailability": 1, "accreditation": 1,
                            "downtime": 1, "maintenance": 1, "service_due": 1}
    reasons = {r["cause"]: r["reason"] for r in panel.page.items}
    assert "unavailable on 12 Mar 2026, 08:00–12:00 (Course)" in reasons["unavailability"]
    assert "accreditation expired on 11 Mar 2026" in reasons["accreditation"]
    assert reasons["downtime"] == "Corolla (DWN-001) is off the road on 13 Mar 2026, 08:00–09:00 (Tyres)."
    assert reasons["maintenance"].endswith("is in maintenance.")
    assert "service was due on 12 Mar 2026" in reasons["service_due"]
    assert world.rows(cause="downtime") == [(made["downtime"], "downtime")]
    assert world.panel(cause="downtime").page.total == 1


def test_only_live_future_lessons_are_broken(world):
    expired = world.instructor(accreditation_expiry=date(2026, 3, 1))
    past = world.lesson(expired, day=date(2026, 3, 9))
    started = world.lesson(expired, day=date(2026, 3, 10), start=time(13, 0), end=time(14, 0))  # began 13:00
    later_today = world.lesson(expired, day=date(2026, 3, 10), start=time(15, 0), end=time(16, 0))
    cancelled = world.lesson(expired, status="cancelled")
    completed = world.lesson(expired, day=date(2026, 3, 10), start=time(14, 0), end=time(14, 30), status="completed")
    ids = [i for i, _ in world.rows()]
    assert later_today in ids and not {past, started, cancelled, completed} & set(ids)


def test_a_lesson_with_two_causes_is_listed_under_each_and_counted_once(world):
    expired = world.instructor(accreditation_expiry=date(2026, 3, 1))
    f.make_unavailability(world.db, expired, datetime(2026, 3, 12, 0, 0), datetime(2026, 3, 13, 0, 0))
    f.make_unavailability(world.db, expired, datetime(2026, 3, 12, 9, 30), datetime(2026, 3, 12, 11, 0))
    both = world.lesson(expired, vehicle=world.vehicle(status="in_service"))
    panel = world.panel()
    assert [(r["id"], r["cause"]) for r in panel.page.items] == [
        (both, "unavailability"), (both, "accreditation"), (both, "maintenance")]
    assert panel.counts["lessons"] == 1 and panel.counts["row_count"] == 3
    first = panel.page.items[0]
    assert first["other_causes"] == ["Accreditation expired", "Vehicle in maintenance"]
    assert first["needs_instructor"] and first["needs_vehicle"]
    assert "away for servicing" in panel.page.items[2]["reason"]
    assert disruptions.count(world.db, world.staff, NOW, SETTINGS) == 1
    assert disruptions.badge(world.db, world.staff, NOW, SETTINGS) == ("1", "1 broken lesson in the next 14 days")


def test_the_badge_counts_the_coming_fortnight_and_stops_at_99_plus(world, monkeypatch):
    expired = world.instructor(accreditation_expiry=date(2026, 3, 1))
    world.lesson(expired, day=date(2026, 3, 24))        # the 14th day after today: counted
    world.lesson(expired, day=date(2026, 3, 25))        # later: on the panel, not in the badge
    assert disruptions.count(world.db, world.staff, NOW, SETTINGS) == 1
    panel = world.panel()
    assert panel.counts["lessons"] == 2 and panel.counts["soon"] == 1
    monkeypatch.setattr(disruptions, "BADGE_CAP", 2)
    world.lesson(expired, day=date(2026, 3, 20))
    world.lesson(expired, day=date(2026, 3, 21))
    assert disruptions.count(world.db, world.staff, NOW, SETTINGS) == 2
    assert disruptions.badge(world.db, world.staff, NOW, SETTINGS) == ("1+", "1+ broken lessons in the next 14 days")


def test_the_panel_gives_the_badge_its_own_counts_only_when_they_are_exact(world, monkeypatch):
    """The panel hands its fortnight's count to the navigation (no second count on its own page) only when
    it equals the badge's: the actor's whole scope and no cause over its cap."""
    expired = world.instructor(accreditation_expiry=date(2026, 3, 1))
    away = world.instructor(branch=world.other, accreditation_expiry=date(2026, 3, 1))
    for day in (date(2026, 3, 12), date(2026, 3, 20), date(2026, 3, 24), date(2026, 3, 25), date(2026, 4, 2)):
        world.lesson(expired, day=day)
    world.lesson(away, day=date(2026, 3, 13), branch=world.other)
    for actor in (world.staff, world.other_staff, world.admin):
        panel = world.panel(actor)
        assert panel.badge_known and panel.badge == disruptions.badge(world.db, actor, NOW, SETTINGS)
    assert world.panel(world.staff).badge == ("3", "3 broken lessons in the next 14 days")
    one_branch = world.panel(world.admin, branch=world.branch)  # an admin's one branch: not the badge's scope
    assert not one_branch.badge_known and one_branch.badge is None
    monkeypatch.setattr(disruptions, "BADGE_CAP", 2)
    assert world.panel(world.staff).badge == disruptions.badge(world.db, world.staff, NOW, SETTINGS) \
        == ("1+", "1+ broken lessons in the next 14 days")
    monkeypatch.setattr(disruptions, "CAUSE_CAP", 3)  # a cause read only in part: its fortnight may be short
    assert not world.panel(world.staff).badge_known


def test_every_listed_row_is_refused_by_the_engine_and_every_refused_lesson_is_listed(world, backend):
    """The set-based SQL mirrors conflicts.check: random windows, expiries and statuses around the
    lessons, both directions compared."""
    rng = random.Random(8)
    instructors = [world.instructor(accreditation_expiry=rng.choice([None, date(2026, 3, 11), date(2026, 3, 20)]))
                   for _ in range(4)]
    cars = [world.vehicle(status=rng.choice(["available", "available", "maintenance", "in_service"]),
                          next_service_due=rng.choice([None, date(2026, 3, 12), date(2026, 4, 1)])) for _ in range(4)]
    for _ in range(12):
        start = datetime(2026, 3, rng.randint(10, 14), rng.randint(6, 17), rng.choice([0, 30]))
        end = start + timedelta(minutes=rng.choice([30, 60, 90, 600, 1800]))
        if rng.random() < .5:
            f.make_unavailability(world.db, rng.choice(instructors), start, end)
        else:
            f.make_downtime(world.db, rng.choice(cars), start, end)
    lessons = []
    for n in range(30):
        day = date(2026, 3, rng.randint(10, 15))
        start = time(rng.randint(7, 16), rng.choice([0, 30]))
        end = (datetime.combine(day, start) + timedelta(minutes=rng.choice([30, 60, 90]))).time()
        lessons.append(world.lesson(instructors[n % 4], day=day, start=start, end=end,
                                    vehicle=rng.choice([None, *cars])))
    world.panel(per_page=100)
    listed: dict[int, set] = {}
    for row in world.panel(per_page=100).page.items:
        listed.setdefault(row["id"], set()).add(disruptions.ENGINE_KINDS[row["cause"]])
    engine = {}
    for row in world.db.fetch_all("SELECT s.id, s.instructor_id, s.vehicle_id, s.branch_id, s.enrollment_id,"
                                  " e.student_id, s.scheduled_date, s.start_time, s.end_time FROM schedules s"
                                  " JOIN enrollments e ON e.id = s.enrollment_id"):
        slot = conflicts.Slot(instructor_id=row["instructor_id"], student_id=row["student_id"],
                              vehicle_id=row["vehicle_id"], branch_id=row["branch_id"],
                              enrollment_id=row["enrollment_id"], day=row["scheduled_date"], start=row["start_time"],
                              end=row["end_time"], ignore_schedule_id=row["id"])
        kinds = {c.kind for c in conflicts.check(world.db, slot, today=date(2026, 3, 10))
                 if c.kind in disruptions.ENGINE_KINDS.values()}
        future = (row["scheduled_date"], row["start_time"]) > (date(2026, 3, 10), time(13, 30))
        if kinds and future:
            engine[row["id"]] = kinds
    assert listed == engine
    assert len(engine) >= 5  # the random world really has broken lessons


def test_pagination_is_stable_and_counts_come_from_the_aggregate(world):
    expired = world.instructor(accreditation_expiry=date(2026, 3, 1))
    made = [world.lesson(expired, day=DAY + timedelta(days=n // 3), start=time(8 + n % 3, 0), end=time(9 + n % 3, 0))
            for n in range(7)]
    first, last = world.panel(per_page=3), world.panel(per_page=3, page=3)
    assert first.page.total == 7 and first.page.pages == 3
    seen = [r["id"] for p in (1, 2, 3) for r in world.panel(per_page=3, page=p).page.items]
    assert seen == made and len(last.page.items) == 1
    assert world.panel(per_page=3, page=99).page.page == 3  # clamped
    workshop = world.vehicle(status="maintenance")
    cars = [world.lesson(world.instructor(), day=DAY + timedelta(days=n), vehicle=workshop) for n in range(3)]
    whole = [(r["id"], r["cause"]) for r in world.panel(per_page=100).page.items]
    assert whole == [(i, "accreditation") for i in made] + [(i, "maintenance") for i in cars]
    assert [(r["id"], r["cause"]) for p in (1, 2, 3) for r in world.panel(per_page=4, page=p).page.items] == whole
    assert [r["id"] for r in world.panel(per_page=2, page=2, cause="maintenance").page.items] == cars[2:]


def test_scope_staff_their_branch_admin_all_or_one_other_roles_403(world):
    here = world.lesson(world.instructor(accreditation_expiry=date(2026, 3, 1)))
    there_instructor = world.instructor(world.other, accreditation_expiry=date(2026, 3, 1))
    there = world.lesson(there_instructor, branch=world.other)
    legacy = world.lesson(there_instructor, branch=world.other, day=date(2026, 3, 13))
    world.db.execute("UPDATE schedules SET branch_id = NULL WHERE id = :id", {"id": legacy})  # the student's branch
    assert [i for i, _ in world.rows()] == [here]
    assert [i for i, _ in world.rows(world.other_staff)] == [there, legacy]
    assert sorted(i for i, _ in world.rows(world.admin)) == sorted([here, there, legacy])
    assert [i for i, _ in world.rows(world.admin, branch=world.branch)] == [here]
    branchless = Actor(user_id=f.make_user(world.db, role="staff"), role="staff")
    assert world.rows(branchless) == [] and disruptions.count(world.db, branchless, NOW) == 0
    for role in ("instructor", "student"):
        actor = Actor(user_id=1, role=role, branch_id=world.branch)
        with pytest.raises(PermissionDenied):
            world.panel(actor)
        with pytest.raises(PermissionDenied):
            disruptions.reassign(world.db, actor, here, instructor_id=1, expected="x", now=NOW, settings=SETTINGS)
        assert disruptions.count(world.db, actor, NOW) == 0
    for call in (lambda: disruptions.options(world.db, world.staff, there, NOW, SETTINGS),
                 lambda: disruptions.reassign(world.db, world.staff, there, instructor_id=1, expected="x", now=NOW,
                                              settings=SETTINGS),
                 lambda: disruptions.cancel_and_notify(world.db, world.staff, there, "Sick", NOW)):
        with pytest.raises(NotFound):
            call()


def test_options_are_free_by_the_engine_and_reassigning_reruns_it(world):
    away = world.instructor()
    f.make_unavailability(world.db, away, datetime(2026, 3, 12, 0, 0), datetime(2026, 3, 12, 23, 0))
    free = world.instructor()
    busy = world.instructor()
    world.lesson(busy, start=time(9, 30), end=time(10, 30))
    unallocated = world.instructor(allocated=False)
    world.instructor(hours=False)                                        # not working then: not offered
    world.instructor(accreditation_expiry=date(2026, 3, 1))              # expired: not offered
    world.instructor(world.other)                                        # another branch: not offered
    lesson = world.lesson(away)
    offered = disruptions.options(world.db, world.staff, lesson, NOW, SETTINGS)
    assert sorted(o["id"] for o in offered["instructors"]) == sorted([free, unallocated])
    assert [o["warning"] for o in offered["instructors"] if o["id"] == unallocated] == [
        "not allocated to Learner Essentials"]
    row = world.panel().page.items[0]
    assert row["id"] == lesson and sorted(o["id"] for o in row["instructor_options"]) == sorted([free, unallocated])

    with pytest.raises(BookingConflict) as refused:
        disruptions.reassign(world.db, world.staff, lesson, instructor_id=busy, expected=row["fingerprint"], now=NOW,
                             settings=SETTINGS)
    assert "instructor" in [c["kind"] for c in refused.value.conflicts]
    with pytest.raises(ValidationFailed):
        disruptions.reassign(world.db, world.staff, lesson, instructor_id=away, expected=row["fingerprint"],
                             now=NOW, settings=SETTINGS)
    audits_before = world.db.fetch_value("SELECT COUNT(*) AS n FROM audit_trail")
    disruptions.reassign(world.db, world.staff, lesson, instructor_id=free, expected=row["fingerprint"], now=NOW,
                         settings=SETTINGS)
    assert world.db.fetch_value("SELECT instructor_id FROM schedules WHERE id = :id", {"id": lesson}) == free
    actions = [r["action"] for r in world.db.fetch_all(
        "SELECT action FROM audit_trail WHERE entity_id = :id ORDER BY id", {"id": lesson})]
    assert actions[-2:] == ["schedule_moved", "conflict_reassigned"]
    assert world.db.fetch_value("SELECT COUNT(*) AS n FROM audit_trail") == audits_before + 2
    assert "from the conflicts panel" in world.db.fetch_value(
        "SELECT details FROM audit_trail WHERE action = 'conflict_reassigned'")
    assert world.rows() == []
    with pytest.raises(AlreadyChanged):  # the fingerprint the first page showed is stale now
        disruptions.reassign(world.db, world.staff, lesson, instructor_id=unallocated, expected=row["fingerprint"],
                             now=NOW, settings=SETTINGS)


def test_a_vehicle_is_reassigned_to_a_free_one(world):
    workshop = world.vehicle(status="maintenance")
    booked_car = world.vehicle()
    world.lesson(world.instructor(), start=time(9, 0), end=time(9, 30), vehicle=booked_car)
    free_car = world.vehicle(name="Spare")
    world.vehicle(next_service_due=date(2026, 3, 1))
    world.vehicle(world.other)
    lesson = world.lesson(world.instructor(), vehicle=workshop)
    row = world.panel().page.items[0]
    assert [o["id"] for o in row["vehicle_options"]] == [free_car] and not row["needs_instructor"]
    disruptions.reassign(world.db, world.staff, lesson, vehicle_id=free_car, expected=row["fingerprint"], now=NOW,
                         settings=SETTINGS)
    assert world.db.fetch_value("SELECT vehicle_id FROM schedules WHERE id = :id", {"id": lesson}) == free_car
    with pytest.raises(ValidationFailed) as bad:
        disruptions.reassign(world.db, world.staff, lesson, vehicle_id="x", expected="y", now=NOW, settings=SETTINGS)
    assert bad.value.field == "vehicle_id"


def test_cancel_and_notify_withdraws_the_reminder_and_notifies_both(world):
    instructor = world.instructor(accreditation_expiry=date(2026, 3, 1))
    lesson = world.lesson(instructor)
    people = world.db.fetch_one("SELECT st.user_id AS s, i.user_id AS i FROM schedules s JOIN enrollments e"
                                " ON e.id = s.enrollment_id JOIN students st ON st.id = e.student_id JOIN instructors i"
                                " ON i.id = s.instructor_id WHERE s.id = :id", {"id": lesson})
    world.db.insert("reminders", {"related_type": "schedule", "related_id": lesson, "recipient_user_id": people["s"],
                                  "channel": "sms", "reminder_type": "Upcoming Lesson", "message": "Upcoming lesson",
                                  "send_on": date(2026, 3, 11), "status": "pending"})
    row = world.panel().page.items[0]
    with pytest.raises(ValidationFailed):
        disruptions.cancel_and_notify(world.db, world.staff, lesson, "  ", NOW, expected=row["fingerprint"])
    assert disruptions.cancel_and_notify(world.db, world.staff, lesson, "Instructor unavailable", NOW,
                                         expected=row["fingerprint"]) == 2
    assert world.db.fetch_value("SELECT status FROM schedules WHERE id = :id", {"id": lesson}) == "cancelled"
    assert world.db.fetch_value("SELECT status FROM reminders WHERE related_type = 'schedule' AND related_id = :id", {"id": lesson}) == "cancelled"
    notes = world.db.fetch_all("SELECT user_id, title, message, level, is_read FROM notifications ORDER BY id")
    assert [n["user_id"] for n in notes] == [people["s"], people["i"]]
    assert all(n["level"] == "warning" and n["is_read"] == 0 for n in notes)
    assert "Instructor unavailable" in notes[0]["message"] and "12 Mar 2026 at 09:00" in notes[0]["title"]
    actions = [r["action"] for r in world.db.fetch_all("SELECT action FROM audit_trail WHERE entity_id = :id"
                                                       " ORDER BY id", {"id": lesson})]
    assert actions == ["schedule_cancelled", "conflict_cancelled"]
    with pytest.raises(AlreadyChanged):
        disruptions.cancel_and_notify(world.db, world.staff, lesson, "Again", NOW, expected=row["fingerprint"])
    assert world.db.fetch_value("SELECT COUNT(*) AS n FROM notifications") == 2


def test_a_failed_cancellation_writes_no_notification(world, monkeypatch):
    lesson = world.lesson(world.instructor(accreditation_expiry=date(2026, 3, 1)))
    row = world.panel().page.items[0]

    def broken(*args, **kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(disruptions.audit, "record", broken)
    with pytest.raises(RuntimeError):
        disruptions.cancel_and_notify(world.db, world.staff, lesson, "Sick", NOW, expected=row["fingerprint"])
    assert world.db.fetch_value("SELECT status FROM schedules WHERE id = :id", {"id": lesson}) == "scheduled"
    assert world.db.fetch_value("SELECT COUNT(*) AS n FROM notifications") == 0


def test_affected_counts_one_instructors_or_vehicles_broken_lessons(world):
    away = world.instructor()
    f.make_unavailability(world.db, away, datetime(2026, 3, 12, 0, 0), datetime(2026, 3, 14, 0, 0))
    world.lesson(away)
    world.lesson(away, day=date(2026, 3, 13))
    car = world.vehicle(status="maintenance")
    world.lesson(world.instructor(), vehicle=car)
    assert disruptions.affected(world.db, world.staff, NOW, instructor_id=away) == 2
    assert disruptions.affected(world.db, world.staff, NOW, vehicle_id=car) == 1
    assert disruptions.affected(world.db, world.other_staff, NOW, vehicle_id=car) == 0


def test_the_query_count_does_not_grow_with_the_rows(world):
    expired = world.instructor(accreditation_expiry=date(2026, 3, 1))
    world.instructor()
    car = world.vehicle(status="maintenance")
    world.vehicle()
    world.lesson(expired, vehicle=car)
    with count_queries() as one:
        assert len(world.panel().page.items) == 2
    for n in range(20):
        world.lesson(expired, day=DAY + timedelta(days=1 + n // 8), start=time(8 + n % 8, 0), end=time(9 + n % 8, 0),
                     vehicle=car if n % 2 else None)
    with count_queries() as many:
        assert len(world.panel(per_page=50).page.items) == 32
    assert many.count == one.count <= 6, many.statements
    with count_queries() as badge:
        disruptions.count(world.db, world.staff, NOW, SETTINGS)
    assert badge.count == 2


def test_reassigning_accepts_only_the_not_allocated_warning(world):
    away = world.instructor()
    f.make_unavailability(world.db, away, datetime(2026, 3, 12, 0, 0), datetime(2026, 3, 12, 23, 0))
    lesson = world.lesson(away)
    short_hours = world.instructor(hours=False)
    f.make_working_hours(world.db, short_hours, DAY.weekday(), time(7, 0), time(9, 30))  # ends mid-lesson
    unallocated = world.instructor(allocated=False)
    shown = world.panel().page.items[0]["fingerprint"]
    with pytest.raises(BookingConflict) as refused:
        disruptions.reassign(world.db, world.staff, lesson, instructor_id=short_hours, expected=shown, now=NOW,
                             settings=SETTINGS)
    assert [c["kind"] for c in refused.value.conflicts] == ["outside_working_hours"]
    booked = disruptions.reassign(world.db, world.staff, lesson, instructor_id=unallocated, expected=shown, now=NOW,
                                  settings=SETTINGS)
    assert [w["kind"] for w in booked.warnings] == ["instructor_not_allocated"]
    details = world.db.fetch_value("SELECT details FROM audit_trail WHERE action = 'conflict_reassigned'")
    assert details.startswith("from the conflicts panel; accepted warnings:")


def test_the_panel_lists_only_its_horizon_and_says_so(world):
    expired = world.instructor(accreditation_expiry=date(2026, 3, 1))
    inside = world.lesson(expired, day=date(2026, 4, 7))     # today (10 Mar) + 28 days: the last day listed
    beyond = world.lesson(expired, day=date(2026, 4, 8))     # the day after: not yet on the panel
    panel = world.panel()
    assert panel.until == date(2026, 4, 7) and disruptions.HORIZON_DAYS == 28
    assert [r["id"] for r in panel.page.items] == [inside] and panel.counts["accreditation"] == 1
    assert beyond not in [r["id"] for r in world.panel(cause="accreditation").page.items]
    # the engine itself still refuses the later lesson's slot (the horizon bounds the list, not the rule)
    assert disruptions.affected(world.db, world.staff, NOW, instructor_id=expired, settings=SETTINGS) == 2
