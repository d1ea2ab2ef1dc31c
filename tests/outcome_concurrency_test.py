"""Two people record the same lesson's outcome at once, on a real MariaDB (MariaDB only, like
booking_concurrency_test.py: it needs row locks between separate connections; without a server it fails
under REQUIRE_MYSQL=1 instead of being skipped). Several threads, each with its own connection, call
outcomes.record for one lesson at the same moment: exactly one wins, every other gets 409 (or the 422
asking for a correction reason, when it read the lesson after the winner committed), and exactly one
``schedule_outcome_recorded`` audit row exists, with no correction. In the first test every thread has
read the lesson before any of them takes the row lock (a barrier in front of ``lock_event``), so the
losers are refused by the locked re-read itself."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import threading
from datetime import date, datetime, time

import pytest

from app.core.database import Database
from app.core.errors import ValidationFailed
from app.dao.outcome import OutcomeDAO
from app.services import outcomes
from app.services.outcomes import OutcomeChanged
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import _empty_mysql

NOW = datetime(2026, 3, 11, 3, 0)   # 14:00 in Melbourne; the lesson was 09:00-10:00
THREADS = 4
STATUSES = ("completed", "no_show", "not_completed", "completed")


def _world(url):
    _empty_mysql(url)
    db = Database.from_url(url)
    try:
        db.execute("INSERT INTO audit_chain (id, last_id, last_hash) VALUES (1, NULL, NULL)")
        branch = f.make_branch(db, name="Race branch", timezone="Australia/Melbourne")
        instructor_user = f.make_user(db, role="instructor", branch_id=branch)
        instructor = f.make_instructor(db, user_id=instructor_user, branch_id=branch)
        lesson = f.make_schedule(db, f.make_enrollment(db, f.make_student(db, branch_id=branch)), instructor,
                                 branch_id=branch, scheduled_date=date(2026, 3, 11), start_time=time(9, 0),
                                 end_time=time(10, 0))
        db.insert("reminders", {"related_type": "schedule", "related_id": lesson, "recipient_user_id": instructor_user,
                                "channel": "sms", "reminder_type": "Upcoming Lesson", "message": "Upcoming lesson",
                                "send_on": date(2026, 3, 10), "status": "pending"})
        actors = [Actor(user_id=instructor_user, role="instructor", branch_id=branch, instructor_id=instructor)]
        for _ in range(THREADS - 1):
            actors.append(Actor(user_id=f.make_user(db, role="staff", branch_id=branch), role="staff",
                                branch_id=branch))
    finally:
        db.close()
    return lesson, actors


def _race(url, lesson, actors):
    start = threading.Barrier(len(actors))
    results: list = [None] * len(actors)

    def run(i):
        conn = Database.from_url(url)
        try:
            start.wait(timeout=10)
            results[i] = outcomes.record(conn, actors[i], lesson, {"status": STATUSES[i], "student_rating": i + 1},
                                         now=NOW)
        except Exception as exc:  # collected and judged below
            results[i] = exc
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert all(r is not None for r in results), "a writer did not finish"
    return results


def _check(url, lesson, results):
    winners = [r for r in results if isinstance(r, outcomes.Outcome)]
    losers = [r for r in results if not isinstance(r, outcomes.Outcome)]
    assert len(winners) == 1, results
    for loser in losers:
        stale = isinstance(loser, OutcomeChanged) and loser.status == 409 and "status" in loser.errors
        late = isinstance(loser, ValidationFailed) and "correction_reason" in loser.errors
        assert stale or late, repr(loser)
    check = Database.from_url(url)
    try:
        row = check.fetch_one("SELECT status, student_rating FROM schedules WHERE id = :id", {"id": lesson})
        assert (row["status"], row["student_rating"]) == (winners[0].status, winners[0].student_rating)
        audits = check.fetch_all("SELECT action FROM audit_trail WHERE entity_id = :id", {"id": lesson})
        assert [a["action"] for a in audits] == ["schedule_outcome_recorded"]
        assert check.fetch_value("SELECT status FROM reminders WHERE related_type = 'schedule' AND related_id = :id", {"id": lesson}) == "cancelled"
        assert outcomes.audit.verify(check).ok
    finally:
        check.close()
    return losers


@pytest.mark.mysql_only
def test_writers_that_all_read_first_get_one_winner_and_409s(mysql_schema, monkeypatch):
    lesson, actors = _world(mysql_schema)
    read_all = threading.Barrier(THREADS)
    real = OutcomeDAO.lock_event

    def after_everyone_read(self, schedule_id):
        read_all.wait(timeout=10)  # every writer has read "scheduled" and passed validation
        return real(self, schedule_id)

    monkeypatch.setattr(OutcomeDAO, "lock_event", after_everyone_read)
    losers = _check(mysql_schema, lesson, _race(mysql_schema, lesson, actors))
    assert len(losers) == THREADS - 1 and all(isinstance(r, OutcomeChanged) for r in losers)


@pytest.mark.mysql_only
def test_writers_at_the_same_moment_get_one_winner(mysql_schema):
    lesson, actors = _world(mysql_schema)
    losers = _check(mysql_schema, lesson, _race(mysql_schema, lesson, actors))
    assert len(losers) == THREADS - 1
