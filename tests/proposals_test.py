"""Reschedule proposals (services/proposals.py) on both databases: the office and the lesson's own
instructor propose (pre-checked by the conflict engine, one pending proposal per lesson, the student
notified), a foreign instructor gets 404; the student accepts (the full conflict check re-runs in one
transaction: the lesson moves, its reminder is re-planned, the proposal is closed and audited) or declines;
a slot taken meanwhile refuses the acceptance and writes nothing; an expired proposal is refused and the
lesson stays; expire_due writes the expiry down."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, time, timedelta

import pytest

from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.services import proposals, scheduling
from app.services.proposals import ProposalClosed
from app.services.scheduling import BookingConflict
from app.services.scope import Actor
from tests import factories as f

SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne"}
NOW = datetime(2026, 3, 1, 0, 0)        # 11:00 in Melbourne (AEDT, +11)
DAY = "2026-03-11"
NEW = {"date": "2026-03-12", "start_time": "10:00", "end_time": "11:00"}


class World:
    def __init__(self, db):
        self.db = db
        self.branch = f.make_branch(db, name="Bayside")
        self.other = f.make_branch(db, name="Northside")
        self.instructor_user = f.make_user(db, role="instructor", branch_id=self.branch)
        self.instructor = f.make_instructor(db, user_id=self.instructor_user, branch_id=self.branch)
        self.student_user = f.make_user(db, first_name="Jack", last_name="Mason", branch_id=self.branch)
        self.student = f.make_student(db, user_id=self.student_user, branch_id=self.branch)
        self.course = f.make_course(db)
        self.enrollment = f.make_enrollment(db, self.student, self.course)
        f.allocate(db, self.course, self.instructor)
        self.vehicle = f.make_vehicle(db, branch_id=self.branch)
        self.staff_user = f.make_user(db, role="staff", branch_id=self.branch)
        self.staff = Actor(user_id=self.staff_user, role="staff", branch_id=self.branch)
        self.admin = Actor(user_id=f.make_user(db, role="admin"), role="admin")
        self.teacher = Actor(user_id=self.instructor_user, role="instructor", instructor_id=self.instructor)
        self.pupil = Actor(user_id=self.student_user, role="student", student_id=self.student)
        self.lesson = scheduling.book(db, self.staff, {
            "student_id": self.student, "instructor_id": self.instructor, "vehicle_id": self.vehicle,
            "date": DAY, "start_time": "09:00", "end_time": "10:00"}, now=NOW, settings=SETTINGS).id

    def propose(self, actor=None, now=NOW, **overrides):
        return proposals.propose(self.db, actor or self.staff, self.lesson, {**NEW, **overrides}, now=now,
                                 settings=SETTINGS)

    def answer(self, proposal_id, decision="accept", actor=None, now=NOW):
        return proposals.answer(self.db, actor or self.pupil, proposal_id, decision, now=now, settings=SETTINGS)

    def slot(self):
        return self.db.fetch_one("SELECT scheduled_date, start_time, end_time, instructor_id FROM schedules"
                                 " WHERE id = :id", {"id": self.lesson})

    def status(self, proposal_id):
        return self.db.fetch_value("SELECT status FROM reschedule_proposals WHERE id = :id", {"id": proposal_id})

    def counts(self):
        return tuple(self.db.fetch_value(f"SELECT COUNT(*) FROM {t}") for t in (
            "reschedule_proposals", "notifications", "audit_trail", "reminders"))

    def writes(self):
        return (self.counts(), self.slot(),
                self.db.fetch_all("SELECT id, status, answered_at FROM reschedule_proposals ORDER BY id"),
                self.db.fetch_all("SELECT id, status, send_at FROM reminders ORDER BY id"))


@pytest.fixture
def world(db):
    return World(db)


ORIGINAL = {"scheduled_date": date(2026, 3, 11), "start_time": time(9, 0), "end_time": time(10, 0)}


def test_staff_propose_a_time_the_student_is_told_and_it_expires_in_48_hours(world):
    made = world.propose(message="Amelia is at a course that morning")
    row = world.db.fetch_one("SELECT schedule_id, proposed_by, proposed_date, start_time, end_time, instructor_id,"
                             " vehicle_id, message, status, expires_at FROM reschedule_proposals WHERE id = :id",
                             {"id": made.id})
    assert row == {"schedule_id": world.lesson, "proposed_by": world.staff_user, "proposed_date": date(2026, 3, 12),
                   "start_time": time(10, 0), "end_time": time(11, 0), "instructor_id": None, "vehicle_id": None,
                   "message": "Amelia is at a course that morning", "status": "pending",
                   "expires_at": NOW + timedelta(hours=48)}
    notice = world.db.fetch_one("SELECT user_id, title, message, is_read FROM notifications")
    assert notice["user_id"] == world.student_user and notice["is_read"] == 0
    assert "Thu 12 Mar 2026, 10:00–11:00" in notice["message"] and "Proposed times" in notice["message"]
    audit = world.db.fetch_one("SELECT user_id, entity_type, entity_id FROM audit_trail WHERE action = 'proposal_created'")
    assert audit == {"user_id": world.staff_user, "entity_type": "schedule", "entity_id": world.lesson}
    assert {k: world.slot()[k] for k in ORIGINAL} == ORIGINAL  # nothing moves until the student accepts


def test_the_expiry_is_never_after_the_lessons_start(world):
    made = world.propose(now=datetime(2026, 3, 10, 12, 0))  # the lesson starts at 22:00 UTC the same day
    assert made.expires_at == datetime(2026, 3, 10, 22, 0)


def test_the_lessons_instructor_may_propose_a_foreign_one_gets_404_a_student_403(world, db):
    assert world.status(world.propose(world.teacher).id) == "pending"
    stranger_user = f.make_user(db, role="instructor", branch_id=world.branch)
    stranger = Actor(user_id=stranger_user, role="instructor",
                     instructor_id=f.make_instructor(db, user_id=stranger_user, branch_id=world.branch))
    with pytest.raises(NotFound):
        world.propose(stranger)
    with pytest.raises(NotFound):
        world.propose(Actor(user_id=world.staff_user, role="staff", branch_id=world.other))
    with pytest.raises(PermissionDenied):
        world.propose(world.pupil)
    colleague = f.make_instructor(db, branch_id=world.branch)
    with pytest.raises(ValidationFailed) as refused:
        world.propose(world.teacher, instructor_id=colleague)
    assert refused.value.field == "instructor_id"


@pytest.mark.parametrize("changes, field", [
    ({"date": "2026-02-30"}, "date"), ({"end_time": "09:00"}, "end_time"), ({"start_time": "9am"}, "start_time"),
    ({"date": "2026-02-27"}, "date"), ({"date": DAY, "start_time": "09:00", "end_time": "10:00"}, "date"),
    ({"message": "x" * 501}, "message"), ({"colour": "red"}, "colour"),
])
def test_bad_proposals_name_the_field_and_write_nothing(world, changes, field):
    before = world.writes()
    with pytest.raises(ValidationFailed) as refused:
        world.propose(**changes)
    assert refused.value.field == field
    assert world.writes() == before


def test_a_proposed_slot_with_a_conflict_is_refused_with_every_reason(world, db):
    other = f.make_student(db, branch_id=world.branch)
    f.make_enrollment(db, other, world.course)
    scheduling.book(db, world.staff, {"student_id": other, "instructor_id": world.instructor, **NEW},
                    now=NOW, settings=SETTINGS)
    before = world.writes()
    with pytest.raises(BookingConflict) as refused:
        world.propose()
    assert [c["kind"] for c in refused.value.conflicts] == ["instructor"]
    assert world.writes() == before


def test_the_student_accepts_the_lesson_moves_and_its_reminder_is_re_planned(world, db):
    made = world.propose()
    world.answer(made.id, now=NOW + timedelta(hours=1))
    assert world.slot() == {"scheduled_date": date(2026, 3, 12), "start_time": time(10, 0), "end_time": time(11, 0),
                            "instructor_id": world.instructor}
    [reminder] = db.fetch_all("SELECT status, send_at, message FROM reminders")
    # 10:00 AEDT on 12 Mar = 23:00 UTC on 11 Mar; 24 h earlier
    assert reminder["status"] == "pending" and reminder["send_at"] == datetime(2026, 3, 10, 23, 0)
    assert "12 Mar 2026 at 10:00" in reminder["message"]
    row = db.fetch_one("SELECT status, answered_by, answered_at FROM reschedule_proposals WHERE id = :id",
                       {"id": made.id})
    assert row == {"status": "accepted", "answered_by": world.student_user, "answered_at": NOW + timedelta(hours=1)}
    audit = db.fetch_one("SELECT user_id, actor_role, entity_id FROM audit_trail WHERE action = 'proposal_accepted'")
    assert audit == {"user_id": world.student_user, "actor_role": "student", "entity_id": world.lesson}
    told = db.fetch_value("SELECT title FROM notifications WHERE user_id = :u", {"u": world.staff_user})
    assert told == "Proposed time accepted"
    with pytest.raises(ProposalClosed, match="already accepted"):
        world.answer(made.id)


def test_another_instructor_and_car_move_with_the_lesson(world, db):
    colleague = f.make_instructor(db, branch_id=world.branch)
    f.allocate(db, world.course, colleague)
    car = f.make_vehicle(db, branch_id=world.branch)
    made = world.propose(instructor_id=colleague, vehicle_id=car)
    world.answer(made.id)
    row = db.fetch_one("SELECT instructor_id, vehicle_id FROM schedules WHERE id = :id", {"id": world.lesson})
    assert row == {"instructor_id": colleague, "vehicle_id": car}


def test_accepting_re_runs_the_engine_a_slot_taken_meanwhile_refuses_and_writes_nothing(world, db):
    made = world.propose()
    other = f.make_student(db, branch_id=world.branch)
    f.make_enrollment(db, other, world.course)
    scheduling.book(db, world.staff, {"student_id": other, "instructor_id": world.instructor, **NEW},
                    now=NOW, settings=SETTINGS)
    before = world.writes()
    with pytest.raises(BookingConflict) as refused:
        world.answer(made.id)
    assert "instructor" in [c["kind"] for c in refused.value.conflicts]
    assert world.writes() == before and world.status(made.id) == "pending"


def test_a_warning_counts_as_a_block_for_the_student(world, db):
    made = world.propose()
    # outside working hours is only a warning for the office; the student cannot accept it
    f.make_working_hours(db, world.instructor, 3, time(12, 0), time(17, 0))  # Thursday afternoons only
    before = world.writes()
    with pytest.raises(BookingConflict) as refused:
        world.answer(made.id)
    assert [c["severity"] for c in refused.value.conflicts] == ["warn"]
    assert world.writes() == before


def test_declining_keeps_the_lesson(world, db):
    made = world.propose()
    world.answer(made.id, "decline")
    assert {k: world.slot()[k] for k in ORIGINAL} == ORIGINAL
    assert world.status(made.id) == "declined"
    assert db.fetch_value("SELECT COUNT(*) FROM audit_trail WHERE action = 'proposal_declined'") == 1
    with pytest.raises(ProposalClosed):
        world.answer(made.id)


def test_an_expired_proposal_is_refused_and_the_lesson_stays(world):
    made = world.propose()
    before = world.writes()
    for decision in ("accept", "decline"):
        with pytest.raises(ProposalClosed, match="expired"):
            world.answer(made.id, decision, now=NOW + timedelta(hours=48))
    assert world.writes() == before
    assert proposals.state({"status": "pending", "expires_at": made.expires_at}, NOW + timedelta(hours=48)) == "expired"


def test_only_the_lessons_student_answers(world, db):
    made = world.propose()
    stranger = f.make_student(db, branch_id=world.branch)
    before = world.writes()
    for actor in (Actor(user_id=f.make_user(db), role="student", student_id=stranger), world.staff, world.admin):
        with pytest.raises(NotFound):
            world.answer(made.id, actor=actor)
    with pytest.raises(NotFound):
        world.answer(10**6)
    assert world.writes() == before


def test_one_pending_proposal_per_lesson(world, db):
    first = world.propose()
    second = world.propose(world.teacher, start_time="14:00", end_time="15:00")
    assert second.withdrawn == 1
    assert (world.status(first.id), world.status(second.id)) == ("withdrawn", "pending")
    with pytest.raises(ProposalClosed, match="withdrawn"):
        world.answer(first.id)


def test_withdraw_by_the_proposer_or_the_office(world, db):
    made = world.propose(world.teacher)
    with pytest.raises(NotFound):
        proposals.withdraw(db, world.pupil, made.id, now=NOW)
    with pytest.raises(NotFound):
        proposals.withdraw(db, Actor(user_id=world.staff_user, role="staff", branch_id=world.other), made.id, now=NOW)
    proposals.withdraw(db, world.teacher, made.id, now=NOW)
    assert world.status(made.id) == "withdrawn"
    staffs = world.propose()
    with pytest.raises(PermissionDenied):
        proposals.withdraw(db, world.teacher, staffs.id, now=NOW)  # the lesson's instructor, not its proposer
    proposals.withdraw(db, world.admin, staffs.id, now=NOW)
    with pytest.raises(ProposalClosed):
        proposals.withdraw(db, world.staff, staffs.id, now=NOW)


def test_expire_due_marks_overdue_proposals_expired(world, db):
    made = world.propose()
    assert proposals.expire_due(db, NOW + timedelta(hours=47)) == 0
    assert proposals.expire_due(db, NOW + timedelta(hours=48)) == 1
    row = db.fetch_one("SELECT status, answered_at, answered_by FROM reschedule_proposals WHERE id = :id",
                       {"id": made.id})
    assert row == {"status": "expired", "answered_at": made.expires_at, "answered_by": None}
    assert db.fetch_value("SELECT COUNT(*) FROM audit_trail WHERE action = 'proposals_expired'") == 1
    assert proposals.expire_due(db, NOW + timedelta(days=5)) == 0


def test_the_student_page_and_the_event_panel(world, db):
    made = world.propose()
    from app.core.pagination import ListQuery
    query = ListQuery.from_args({}, proposals.ANSWERED_SORT_KEYS, "answered", "desc")
    page = proposals.for_student(db, world.pupil, query, now=NOW, settings=SETTINGS)
    [pending] = page["pending"]
    assert pending["id"] == made.id and pending["state"] == "pending" and page["answered"].total == 0
    assert pending["expires_local"] == datetime(2026, 3, 3, 11, 0)  # 00:00 UTC + 11 h
    event = db.fetch_one("SELECT id, status, branch_id, scheduled_date, start_time FROM schedules WHERE id = :id",
                         {"id": world.lesson})
    event.update(instructor_id=world.instructor, student_branch_id=world.branch, branch_timezone=None)
    panel = proposals.event_panel(db, world.pupil, event, now=NOW, settings=SETTINGS)
    assert panel["can_answer"] and not panel["can_propose"] and not panel["can_withdraw"]
    panel = proposals.event_panel(db, world.teacher, event, now=NOW, settings=SETTINGS)
    assert panel["can_propose"] and not panel["can_answer"] and not panel["can_withdraw"]
    later = proposals.event_panel(db, world.pupil, event, now=NOW + timedelta(hours=49), settings=SETTINGS)
    assert later["proposal"]["state"] == "expired" and not later["can_answer"]
    world.answer(made.id, "decline")
    page = proposals.for_student(db, world.pupil, query, now=NOW, settings=SETTINGS)
    assert page["pending"] == [] and [r["state"] for r in page["answered"].items] == ["declined"]


@pytest.mark.mysql_only
def test_an_acceptance_racing_a_booking_of_the_same_slot_leaves_exactly_one(mysql_schema):
    """MariaDB, two real connections at once (a Barrier): the student accepts while the office books the
    proposed slot for someone else with the same instructor. The instructor's row lock serialises them:
    exactly one wins, the other is a BookingConflict naming the instructor, and one event holds the slot."""
    import threading

    from app.core.database import Database
    from tests.conftest import _empty_mysql

    _empty_mysql(mysql_schema)
    setup = Database.from_url(mysql_schema)
    try:
        setup.execute("INSERT INTO audit_chain (id, last_id, last_hash) VALUES (1, NULL, NULL)")
        w = World(setup)
        made = w.propose()
        rival = f.make_student(setup, branch_id=w.branch)
        f.make_enrollment(setup, rival, w.course)
    finally:
        setup.close()
    start = threading.Barrier(2)
    results: list = [None, None]

    def run(i):
        conn = Database.from_url(mysql_schema)
        try:
            start.wait(timeout=10)
            if i == 0:
                results[i] = proposals.answer(conn, w.pupil, made.id, "accept", now=NOW, settings=SETTINGS)
            else:
                results[i] = scheduling.book(conn, w.staff, {"student_id": rival, "instructor_id": w.instructor,
                                                             **NEW}, now=NOW, settings=SETTINGS)
        except Exception as exc:  # judged below
            results[i] = exc
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], BookingConflict), results
    assert "instructor" in [c["kind"] for c in refused[0].conflicts]
    check = Database.from_url(mysql_schema)
    try:
        holders = check.fetch_value(
            "SELECT COUNT(*) FROM schedules WHERE instructor_id = :i AND scheduled_date = :d AND start_time = :t"
            " AND status = 'scheduled'", {"i": w.instructor, "d": date(2026, 3, 12), "t": time(10, 0)})
        assert int(holders) == 1
    finally:
        check.close()


def _query():
    from app.core.pagination import ListQuery
    return ListQuery.from_args({}, proposals.ANSWERED_SORT_KEYS, "answered", "desc")


def test_a_proposal_for_a_lesson_cancelled_meanwhile_no_longer_applies(world, db):
    made = world.propose()
    scheduling.cancel(db, world.staff, world.lesson, "Instructor ill", now=NOW)  # withdraws it, same transaction
    assert db.fetch_value("SELECT status FROM reschedule_proposals WHERE id = :id", {"id": made.id}) == "withdrawn"
    before = world.writes()
    with pytest.raises(ProposalClosed):
        world.answer(made.id)
    assert world.writes() == before
    event = {"id": world.lesson, "status": "cancelled", "branch_id": world.branch, "student_branch_id": world.branch,
             "instructor_id": world.instructor, "scheduled_date": date(2026, 3, 11), "start_time": time(9, 0),
             "branch_timezone": None}
    panel = proposals.event_panel(db, world.pupil, event, now=NOW, settings=SETTINGS)
    assert panel["proposal"] is None and not panel["can_answer"]
    assert proposals.for_student(db, world.pupil, _query(), now=NOW, settings=SETTINGS)["pending"] == []
    assert proposals.badge(db, world.pupil, NOW) is None


def test_an_office_move_withdraws_the_pending_proposal(world, db):
    made = world.propose()
    scheduling.move(db, world.staff, world.lesson, {"start_time": "10:00", "end_time": "11:00"}, now=NOW,
                    settings=SETTINGS)
    assert db.fetch_value("SELECT status FROM reschedule_proposals WHERE id = :id", {"id": made.id}) == "withdrawn"
    with pytest.raises(ProposalClosed):
        world.answer(made.id)
