"""The outcome service (services/outcomes.py) on both databases: recording completed / not_completed /
no_show with notes, a 1-5 rating and feedback; who may (admin any, staff their branch, an instructor their
own lessons, students never); only once the event has started in its branch's zone; a cancelled event
must be revived first; corrections need a reason and are audited with before and after; a change
between reading and writing is 409; pending reminders are withdrawn; the finance hook runs once inside
the transaction; bad input is 422 naming the field and writes nothing; the "awaiting an outcome" list
(scope, past in the branch's zone, filters, a constant number of queries)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
from datetime import date, datetime, time

import pytest

from app.core.database import count_queries
from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.core.pagination import ListQuery
from app.dao.outcome import OutcomeDAO
from app.services import outcomes
from app.services.outcomes import OutcomeChanged
from app.services.scope import Actor
from tests import factories as f

NOW = datetime(2026, 3, 11, 3, 0)   # 14:00 on Wed 11 Mar 2026 in Melbourne (AEDT, +11); 11:00 in Perth
DAY = date(2026, 3, 11)


class World:
    def __init__(self, db):
        self.db = db
        self.branch = f.make_branch(db, name="Bayside", timezone="Australia/Melbourne")
        self.other = f.make_branch(db, name="Northside")
        self.instructor_user = f.make_user(db, role="instructor", branch_id=self.branch, first_name="Amelia",
                                           last_name="Ward")
        self.instructor = f.make_instructor(db, user_id=self.instructor_user, branch_id=self.branch)
        self.colleague = f.make_instructor(db, branch_id=self.branch)
        self.student_user = f.make_user(db, first_name="Jack", last_name="Mason", branch_id=self.branch)
        self.student = f.make_student(db, user_id=self.student_user, branch_id=self.branch)
        self.enrollment = f.make_enrollment(db, self.student)
        self.staff_user = f.make_user(db, role="staff", branch_id=self.branch)
        self.staff = Actor(user_id=self.staff_user, role="staff", branch_id=self.branch)
        self.admin_user = f.make_user(db, role="admin")
        self.admin = Actor(user_id=self.admin_user, role="admin")
        self.teacher = Actor(user_id=self.instructor_user, role="instructor", branch_id=self.branch,
                             instructor_id=self.instructor)
        self.lesson = self.event()

    def event(self, day=DAY, start=time(9, 0), end=time(10, 0), branch=None, instructor=None, **overrides):
        return f.make_schedule(self.db, self.enrollment, instructor or self.instructor,
                               branch_id=self.branch if branch is None else branch, scheduled_date=day,
                               start_time=start, end_time=end, **overrides)

    def record(self, data, actor=None, schedule_id=None, now=NOW, **kwargs):
        return outcomes.record(self.db, actor or self.staff, schedule_id or self.lesson, data, now=now, **kwargs)

    def row(self, schedule_id=None):
        return self.db.fetch_one(
            "SELECT status, student_rating, student_feedback, notes, completion_marked_by, completion_marked_at"
            " FROM schedules WHERE id = :id", {"id": schedule_id or self.lesson})

    def audits(self, action=None):
        sql = "SELECT action, entity_id, user_id, before_json, after_json, details FROM audit_trail"
        params = {}
        if action:
            sql += " WHERE action = :a"
            params["a"] = action
        return self.db.fetch_all(sql + " ORDER BY id", params)

    def reminder(self, status="pending", schedule_id=None):
        return self.db.insert("reminders", {
            "related_type": "schedule", "related_id": schedule_id or self.lesson,
            "recipient_user_id": self.student_user, "channel": "sms", "reminder_type": "Upcoming Lesson",
            "message": "Upcoming lesson", "send_on": DAY, "send_at": datetime(2026, 3, 10, 22, 0),
            "status": status})

    def reminder_statuses(self, schedule_id=None):
        rows = self.db.fetch_all("SELECT status FROM reminders WHERE related_type = 'schedule' AND related_id = :id ORDER BY id",
                                 {"id": schedule_id or self.lesson})
        return [r["status"] for r in rows]


@pytest.fixture
def world(db):
    return World(db)


def test_a_first_outcome_is_recorded_audited_and_withdraws_pending_reminders(world):
    world.reminder("pending")
    world.reminder("sent")
    outcome = world.record({"status": "completed", "student_rating": 4, "student_feedback": "  Good mirror checks. ",
                            "notes": "Parked well"})
    assert (outcome.status, outcome.student_rating, outcome.student_feedback, outcome.corrected) == (
        "completed", 4, "Good mirror checks.", False)
    assert world.row() == {"status": "completed", "student_rating": 4, "student_feedback": "Good mirror checks.",
                           "notes": "Parked well", "completion_marked_by": world.staff_user,
                           "completion_marked_at": NOW}
    assert world.reminder_statuses() == ["cancelled", "sent"] and outcome.reminders_withdrawn == 1
    [entry] = world.audits()
    assert (entry["action"], entry["entity_id"], entry["user_id"]) == ("schedule_outcome_recorded", world.lesson,
                                                                       world.staff_user)
    assert json.loads(entry["before_json"])["status"] == "scheduled"
    after = json.loads(entry["after_json"])
    assert (after["status"], after["student_rating"], after["completion_marked_at"]) == (
        "completed", 4, "2026-03-11 03:00:00")


@pytest.mark.parametrize("status", ["not_completed", "no_show"])
def test_every_outcome_status_can_be_recorded_without_rating_or_feedback(world, status):
    world.record({"status": status})
    row = world.row()
    assert (row["status"], row["student_rating"], row["student_feedback"]) == (status, None, None)


def test_an_absent_field_keeps_the_stored_value_and_null_clears_it(world):
    world.db.execute("UPDATE schedules SET notes = 'Booked by phone' WHERE id = :id", {"id": world.lesson})
    world.record({"status": "completed"})
    assert world.row()["notes"] == "Booked by phone"
    world.record({"notes": None, "correction_reason": "Note was out of date"})
    assert world.row()["notes"] is None


@pytest.mark.parametrize("data, field", [
    ({"status": "completed", "student_rating": 0}, "student_rating"),
    ({"status": "completed", "student_rating": 6}, "student_rating"),
    ({"status": "completed", "student_rating": "x"}, "student_rating"),
    ({"status": "completed", "student_rating": "3"}, "student_rating"),
    ({"status": "completed", "student_rating": 2.5}, "student_rating"),
    ({"status": "completed", "student_rating": 4.0}, "student_rating"),
    ({"status": "completed", "student_rating": True}, "student_rating"),
    ({"status": "completed", "student_rating": [4]}, "student_rating"),
    ({"status": "completed", "student_feedback": "x" * 601}, "student_feedback"),
    ({"status": "completed", "student_feedback": 5}, "student_feedback"),
    ({"status": "completed", "student_feedback": "bell\x07"}, "student_feedback"),
    ({"status": "completed", "notes": "x" * 2001}, "notes"),
    ({"status": "finished"}, "status"),
    ({"status": "cancelled"}, "status"),
    ({"status": "scheduled"}, "status"),
    ({"status": None}, "status"),
    ({"status": ["completed"]}, "status"),
    ({"student_rating": 4}, "status"),          # a first outcome needs its status
    ({}, "status"),
    ({"status": "completed", "date": "2026-03-12"}, "date"),
])
def test_bad_input_is_422_naming_the_field_and_writes_nothing(world, data, field):
    world.reminder("pending")
    with pytest.raises(ValidationFailed) as caught:
        world.record(data)
    assert field in caught.value.errors, caught.value.errors
    assert caught.value.status == 422
    assert world.row()["status"] == "scheduled" and world.row()["completion_marked_at"] is None
    assert world.audits() == [] and world.reminder_statuses() == ["pending"]


def test_limits_are_inclusive(world):
    world.record({"status": "completed", "student_rating": 5, "student_feedback": "é" * 600})
    assert len(world.row()["student_feedback"]) == 600
    world.record({"student_rating": 1, "correction_reason": "Typo"})
    assert world.row()["student_rating"] == 1


def test_a_future_event_is_refused_but_a_started_one_is_not(world):
    later = world.event(start=time(15, 0), end=time(16, 0))      # 15:00 Melbourne: an hour from now
    with pytest.raises(ValidationFailed) as caught:
        world.record({"status": "completed"}, schedule_id=later)
    assert "status" in caught.value.errors and "not started" in caught.value.message
    running = world.event(start=time(13, 30), end=time(15, 0))   # under way
    world.record({"status": "completed"}, schedule_id=running)
    assert world.row(running)["status"] == "completed"


def test_started_is_decided_in_the_branchs_zone(world):
    perth = f.make_branch(world.db, name="Perth", timezone="Australia/Perth")
    world.db.execute("UPDATE students SET branch_id = :b WHERE id = :s", {"b": perth, "s": world.student})
    noon = world.event(start=time(12, 0), end=time(13, 0), branch=perth)  # 12:00 AWST = 04:00 UTC: not yet
    with pytest.raises(ValidationFailed):
        world.record({"status": "completed"}, world.admin, noon)
    world.record({"status": "completed"}, world.admin, noon, now=datetime(2026, 3, 11, 4, 0))
    assert world.row(noon)["status"] == "completed"


def test_a_cancelled_event_must_be_revived_first(world):
    world.db.execute("UPDATE schedules SET status = 'cancelled' WHERE id = :id", {"id": world.lesson})
    with pytest.raises(ValidationFailed) as caught:
        world.record({"status": "completed"})
    assert "status" in caught.value.errors and "revive" in caught.value.message
    assert world.row()["status"] == "cancelled"


def test_a_correction_needs_a_reason_and_is_audited_with_before_and_after(world):
    world.record({"status": "completed", "student_rating": 4, "student_feedback": "Good"})
    with pytest.raises(ValidationFailed) as caught:
        world.record({"status": "no_show"}, world.teacher)
    assert "correction_reason" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        world.record({"status": "no_show", "correction_reason": "   "}, world.teacher)
    assert "correction_reason" in caught.value.errors
    assert world.row()["status"] == "completed"
    later = datetime(2026, 3, 11, 5, 0)
    outcome = world.record({"status": "no_show", "correction_reason": "Marked the wrong lesson"}, world.teacher,
                           now=later)
    assert outcome.corrected and outcome.status == "no_show"
    row = world.row()
    assert (row["status"], row["student_rating"], row["completion_marked_by"], row["completion_marked_at"]) == (
        "no_show", 4, world.instructor_user, later)  # the rating was not sent: it stays
    [entry] = world.audits("schedule_outcome_corrected")
    before, after = json.loads(entry["before_json"]), json.loads(entry["after_json"])
    assert (before["status"], before["completion_marked_by"]) == ("completed", world.staff_user)
    assert (after["status"], after["correction_reason"], after["completion_marked_by"]) == (
        "no_show", "Marked the wrong lesson", world.instructor_user)
    assert entry["details"] == "correction: Marked the wrong lesson"
    assert len(world.audits("schedule_outcome_recorded")) == 1


def test_a_rating_or_feedback_change_alone_is_a_correction(world):
    world.record({"status": "completed", "student_rating": 3})
    with pytest.raises(ValidationFailed) as caught:
        world.record({"student_rating": 5})
    assert "correction_reason" in caught.value.errors
    outcome = world.record({"student_feedback": "Much better on the second lap", "correction_reason": "Added"})
    assert outcome.corrected and outcome.status == "completed"
    assert world.row()["student_feedback"] == "Much better on the second lap"
    with pytest.raises(ValidationFailed) as caught:  # nothing would change
        world.record({"student_rating": 3, "correction_reason": "Again"})
    assert "status" in caught.value.errors
    assert len(world.audits("schedule_outcome_corrected")) == 1


def test_who_may_record(world):
    foreign_branch_lesson = world.event(branch=world.other, instructor=f.make_instructor(world.db,
                                                                                         branch_id=world.other))
    colleagues_lesson = world.event(instructor=world.colleague, start=time(11, 0), end=time(12, 0))
    student = Actor(user_id=world.student_user, role="student", branch_id=world.branch, student_id=world.student)
    with pytest.raises(PermissionDenied):
        world.record({"status": "completed"}, student)
    with pytest.raises(NotFound):  # another instructor's lesson: as if it did not exist
        world.record({"status": "completed"}, world.teacher, colleagues_lesson)
    with pytest.raises(NotFound):
        world.record({"status": "completed"}, world.staff, foreign_branch_lesson)
    with pytest.raises(NotFound):
        world.record({"status": "completed"}, Actor(user_id=world.staff_user, role="staff", branch_id=None))
    with pytest.raises(NotFound):
        world.record({"status": "completed"}, world.admin, 999999)
    with pytest.raises(NotFound):
        world.record({"status": "completed"}, world.admin, "12")
    assert world.audits() == []
    world.record({"status": "completed"}, world.teacher)
    world.record({"status": "no_show"}, world.staff, colleagues_lesson)
    world.record({"status": "completed"}, world.admin, foreign_branch_lesson)
    assert world.row()["completion_marked_by"] == world.instructor_user


def test_staff_reach_an_event_without_a_branch_through_its_student(world):
    loose = world.event(branch=None, start=time(11, 0), end=time(12, 0))
    world.db.execute("UPDATE schedules SET branch_id = NULL WHERE id = :id", {"id": loose})
    world.record({"status": "completed"}, world.staff, loose)
    assert world.row(loose)["status"] == "completed"


def test_a_change_since_the_caller_read_it_is_409_and_writes_nothing(world, monkeypatch):
    with pytest.raises(OutcomeChanged) as caught:
        world.record({"status": "completed"}, seen_status="completed")
    assert caught.value.status == 409 and "status" in caught.value.errors
    real = OutcomeDAO.lock_event

    def someone_else_first(self, schedule_id):  # another session records between our read and our lock
        self.db.execute("UPDATE schedules SET status = 'no_show', completion_marked_at = :now WHERE id = :id",
                        {"id": schedule_id, "now": NOW})
        return real(self, schedule_id)

    monkeypatch.setattr(OutcomeDAO, "lock_event", someone_else_first)
    world.reminder("pending")
    with pytest.raises(OutcomeChanged):
        world.record({"status": "completed"})
    assert world.row()["status"] == "scheduled"  # the whole transaction rolled back, the intruder's write too
    assert world.audits() == [] and world.reminder_statuses() == ["pending"]


def test_the_finance_hook_runs_once_inside_the_transaction_and_can_roll_it_back(world, monkeypatch):
    calls = []

    def hook(db, actor, event, outcome, now):
        calls.append((db.in_transaction, event["status"], outcome.status, outcome.corrected, now))

    monkeypatch.setattr(outcomes, "_after_outcome", hook)
    world.record({"status": "completed"})
    world.record({"status": "not_completed", "correction_reason": "Stopped early"})
    assert calls == [(True, "scheduled", "completed", False, NOW), (True, "completed", "not_completed", True, NOW)]

    def failing(db, actor, event, outcome, now):
        raise RuntimeError("ledger unavailable")

    monkeypatch.setattr(outcomes, "_after_outcome", failing)
    with pytest.raises(RuntimeError):
        world.record({"status": "completed", "correction_reason": "Back on"})
    assert world.row()["status"] == "not_completed"
    assert len(world.audits("schedule_outcome_corrected")) == 1


def test_can_record_and_can_revive(world):
    event = outcomes.get_event(world.db, world.admin, world.lesson)
    assert outcomes.can_record(world.staff, event, NOW) and outcomes.can_record(world.teacher, event, NOW)
    assert not outcomes.can_record(world.staff, event, datetime(2026, 3, 10, 0, 0))  # before it starts
    outsider = Actor(user_id=world.staff_user, role="staff", branch_id=world.other)
    other_teacher = Actor(user_id=1, role="instructor", branch_id=world.branch, instructor_id=world.colleague)
    assert not outcomes.can_record(outsider, event, NOW) and not outcomes.can_record(other_teacher, event, NOW)
    assert not outcomes.can_record(Actor(user_id=1, role="student", student_id=world.student), event, NOW)
    assert not outcomes.can_revive(world.staff, event)  # not cancelled
    cancelled = {**event, "status": "cancelled"}
    assert not outcomes.can_record(world.admin, cancelled, NOW)
    assert outcomes.can_revive(world.staff, cancelled) and not outcomes.can_revive(world.teacher, cancelled)
    assert not outcomes.can_revive(outsider, cancelled)
    bare = {"id": 1, "status": "scheduled", "instructor_id": world.instructor}  # a dict missing the date
    assert not outcomes.can_record(world.teacher, bare, NOW)


# ------------------------------------------------------------------------------------------ awaiting

def _query(**args):
    return ListQuery.from_args(args, outcomes.AWAITING_SORT_KEYS, outcomes.AWAITING_DEFAULT_SORT,
                               outcomes.AWAITING_DEFAULT_DIRECTION, filters=outcomes.AWAITING_FILTERS)


def _ids(world, actor, **args):
    return [r["id"] for r in outcomes.awaiting(world.db, actor, _query(**args), NOW).items]


def test_awaiting_lists_past_scheduled_events_in_scope(world):
    yesterday = world.event(day=date(2026, 3, 10), start=time(16, 0), end=time(17, 0))
    ended_now = world.event(start=time(13, 0), end=time(14, 0))         # ended at 14:00, exactly now
    world.event(start=time(13, 30), end=time(15, 0))                    # still going: not yet
    world.event(day=date(2026, 3, 12))                                  # tomorrow
    done = world.event(day=date(2026, 3, 9))
    world.record({"status": "completed"}, schedule_id=done)
    world.event(day=date(2026, 3, 9), start=time(11, 0), end=time(12, 0), status="cancelled")
    colleague = world.event(instructor=world.colleague, start=time(11, 0), end=time(12, 0))
    foreign = world.event(branch=world.other, instructor=f.make_instructor(world.db, branch_id=world.other))
    newest_first = [ended_now, colleague, world.lesson, yesterday]
    assert _ids(world, world.staff) == newest_first
    assert _ids(world, world.teacher) == [ended_now, world.lesson, yesterday]
    assert set(_ids(world, world.admin)) == set(newest_first) | {foreign}
    assert _ids(world, Actor(user_id=world.staff_user, role="staff", branch_id=None)) == []
    assert _ids(world, Actor(user_id=1, role="instructor", instructor_id=None)) == []
    assert _ids(world, world.staff, instructor=str(world.colleague)) == [colleague]
    assert _ids(world, world.staff, branch=str(world.other)) == []      # a foreign filter shows nothing foreign
    assert _ids(world, world.admin, branch=str(world.other)) == [foreign]
    assert _ids(world, world.teacher, instructor=str(world.colleague)) == []
    assert _ids(world, world.staff, sort="date", dir="asc") == list(reversed(newest_first))
    page = outcomes.awaiting(world.db, world.staff, _query(per_page="2"), NOW)
    assert page.total == 4 and len(page.items) == 2
    row = page.items[0]
    assert (row["student_first_name"], row["instructor_first_name"], row["branch_id"]) == (
        "Jack", "Amelia", world.branch)
    assert _ids(world, world.staff, q="mason") == newest_first and _ids(world, world.staff, q="nobody") == []
    with pytest.raises(PermissionDenied):
        outcomes.awaiting(world.db, Actor(user_id=1, role="student", student_id=world.student), _query(), NOW)


def test_awaiting_uses_each_branchs_zone(world):
    perth = f.make_branch(world.db, name="Perth", timezone="Australia/Perth")
    morning = world.event(start=time(10, 0), end=time(11, 0), branch=perth)   # ended 11:00 AWST = now
    late = world.event(start=time(10, 30), end=time(11, 30), branch=perth)    # 11:30 AWST: not yet
    loose = world.event(start=time(12, 0), end=time(13, 0))
    world.db.execute("UPDATE schedules SET branch_id = NULL WHERE id = :id", {"id": loose})  # APP_TIMEZONE
    found = _ids(world, world.admin)
    assert morning in found and loose in found and late not in found


def test_awaiting_costs_the_same_queries_for_3_and_30_rows(world):
    def add(n):
        for i in range(n):
            world.event(day=date(2026, 2, 1 + i % 28), start=time(8 + i % 10, 0), end=time(9 + i % 10, 0),
                        instructor=world.colleague if i % 2 else None)

    def cost():
        with count_queries() as counter:
            page = outcomes.awaiting(world.db, world.admin, _query(per_page="100"), NOW)
        return counter.count, page.total

    add(2)
    few = cost()
    add(27)
    many = cost()
    assert few == (3, 3) and many == (3, 30)
