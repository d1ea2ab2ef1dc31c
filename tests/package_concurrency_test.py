"""Concurrent outcomes never take a lesson package below zero, on a real MariaDB (MariaDB only, like
outcome_concurrency_test.py: it needs row locks between separate connections). One enrolment has one
credit left; several threads, each with its own connection, record "completed" for different lessons of
it at the same moment (a barrier makes every one reach the enrolment lock together). Every outcome is
recorded; exactly one draws the credit and the others are marked owed (0-credit consume rows); the
ledger's sum is 0, never negative. A second race mixes outcomes with the office's -1 adjustments: the
balance never drops below zero and every refused adjustment is a 422."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import threading
from datetime import date, datetime, time

import pytest

from app.core.database import Database
from app.core.errors import ValidationFailed
from app.dao.package import PackageDAO
from app.services import outcomes, packages
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import _empty_mysql

NOW = datetime(2026, 3, 11, 3, 0)   # 14:00 in Melbourne; the lessons were on the morning of 10 Mar
THREADS = 4


def _world(url, lessons=THREADS):
    _empty_mysql(url)
    db = Database.from_url(url)
    try:
        db.execute("INSERT INTO audit_chain (id, last_id, last_hash) VALUES (1, NULL, NULL)")
        branch = f.make_branch(db, name="Race branch", timezone="Australia/Melbourne")
        instructor = f.make_instructor(db, branch_id=branch)
        enrollment = f.make_enrollment(db, f.make_student(db, branch_id=branch))
        ids = [f.make_schedule(db, enrollment, instructor, branch_id=branch, scheduled_date=date(2026, 3, 10),
                               start_time=time(7 + i, 0), end_time=time(8 + i, 0)) for i in range(lessons)]
        admin = Actor(user_id=f.make_user(db, role="admin"), role="admin")
        packages.purchase(db, admin, enrollment, 1, now=NOW, source="enrolment")
        actors = [Actor(user_id=f.make_user(db, role="staff", branch_id=branch), role="staff", branch_id=branch)
                  for _ in range(THREADS)]
    finally:
        db.close()
    return enrollment, ids, actors


def _race(url, jobs):
    start = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(i):
        conn = Database.from_url(url)
        try:
            start.wait(timeout=10)
            results[i] = jobs[i](conn) or "ok"
        except Exception as exc:  # collected and judged below
            results[i] = exc
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(r is not None for r in results), "a writer did not finish"
    return results


def _ledger(url, enrollment):
    check = Database.from_url(url)
    try:
        rows = check.fetch_all("SELECT entry, credits, schedule_id FROM package_ledger WHERE enrollment_id = :e"
                               " ORDER BY id", {"e": enrollment})
        statuses = [r["status"] for r in check.fetch_all("SELECT status FROM schedules WHERE enrollment_id = :e",
                                                          {"e": enrollment})]
        return rows, statuses
    finally:
        check.close()


def _in_transaction(conn, work):
    with conn.transaction():
        return work()


@pytest.mark.mysql_only
def test_concurrent_outcomes_on_the_last_credit_draw_it_once(mysql_schema, monkeypatch):
    from app.dao.outcome import OutcomeDAO

    enrollment, lessons, actors = _world(mysql_schema)
    together = threading.Barrier(THREADS)
    real = OutcomeDAO.lock_event

    def all_at_once(self, schedule_id):
        together.wait(timeout=10)  # every outcome has been validated and starts its transaction together
        return real(self, schedule_id)

    monkeypatch.setattr(OutcomeDAO, "lock_event", all_at_once)
    jobs = [lambda conn, i=i: outcomes.record(conn, actors[i], lessons[i], {"status": "completed"}, now=NOW)
            for i in range(THREADS)]
    results = _race(mysql_schema, jobs)
    assert all(isinstance(r, outcomes.Outcome) for r in results), results
    rows, statuses = _ledger(mysql_schema, enrollment)
    assert statuses == ["completed"] * THREADS
    consumes = [r for r in rows if r["entry"] == "consume"]
    assert sorted(r["credits"] for r in consumes) == [-1] + [0] * (THREADS - 1)
    assert sorted(r["schedule_id"] for r in consumes) == sorted(lessons)
    assert sum(r["credits"] for r in rows) == 0


@pytest.mark.mysql_only
def test_the_enrolment_lock_alone_keeps_concurrent_draws_at_zero(mysql_schema, monkeypatch):
    """Without the outcome's other locks (the audit chain also serialises outcomes): draws that all reach
    the enrolment lock together still take the last credit once."""
    enrollment, lessons, actors = _world(mysql_schema)
    together = threading.Barrier(THREADS)
    real = PackageDAO.lock_enrollment

    def all_at_once(self, enrollment_id):
        together.wait(timeout=10)
        return real(self, enrollment_id)

    monkeypatch.setattr(PackageDAO, "lock_enrollment", all_at_once)
    jobs = [lambda conn, i=i: _in_transaction(conn, lambda: packages.consume(conn, actors[i], enrollment, lessons[i],
                                                                             now=NOW))
            for i in range(THREADS)]
    results = _race(mysql_schema, jobs)
    assert not any(isinstance(r, Exception) for r in results), results
    rows, _ = _ledger(mysql_schema, enrollment)
    assert sorted(r["credits"] for r in rows if r["entry"] == "consume") == [-1] + [0] * (THREADS - 1)
    assert sum(r["credits"] for r in rows) == 0


@pytest.mark.mysql_only
def test_outcomes_and_adjustments_racing_never_go_below_zero(mysql_schema):
    enrollment, lessons, actors = _world(mysql_schema, lessons=2)
    admin = Actor(user_id=actors[0].user_id, role="staff", branch_id=actors[0].branch_id)
    jobs = [lambda conn, i=i: outcomes.record(conn, actors[i], lessons[i], {"status": "completed"}, now=NOW)
            for i in range(2)]
    jobs += [lambda conn: packages.adjust(conn, admin, enrollment, -1, "Race test", now=NOW) for _ in range(2)]
    results = _race(mysql_schema, jobs)
    assert all(isinstance(r, outcomes.Outcome) for r in results[:2]), results
    for refused in results[2:]:
        assert not isinstance(refused, Exception) or (isinstance(refused, ValidationFailed)
                                                      and refused.field == "credits"), repr(refused)
    rows, statuses = _ledger(mysql_schema, enrollment)
    running = 0
    for row in rows:
        running += row["credits"]
        assert running >= 0, rows
    assert running == 0 and statuses == ["completed", "completed"]
