"""Twenty people approve the same enrolment request at once, on a real MariaDB (MariaDB only, like
outcome_concurrency_test.py: it needs row locks between separate connections; without a server it fails
under REQUIRE_MYSQL=1 instead of being skipped). Twenty threads, each with its own connection, wait at a
barrier and call enrollment_requests.decide: exactly one approves, the nineteen others get 409 (the request
row is locked FOR UPDATE first and re-read as decided), and the database holds exactly one enrolment, one
invoice, one package purchase and one approval audit row. Bounded: every thread has a timeout."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import threading
from datetime import datetime
from decimal import Decimal

import pytest

from app.core.database import Database
from app.core.errors import Conflict
from app.services import enrollment_requests as requests
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import _empty_mysql

NOW = datetime(2026, 3, 10, 2, 30)
THREADS = 20
SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne", "APP_NAME": "Origin Driving School"}


@pytest.mark.mysql_only
def test_twenty_concurrent_approvals_make_one_enrolment_and_one_invoice(mysql_schema):
    url = mysql_schema
    _empty_mysql(url)
    db = Database.from_url(url)
    try:
        db.execute("INSERT INTO audit_chain (id, last_id, last_hash) VALUES (1, NULL, NULL)")
        branch = f.make_branch(db, name="Race branch")
        course = f.make_course(db, price=Decimal("880.00"), lesson_count=10)
        instructor = f.make_instructor(db, branch_id=branch)
        student = f.make_student(db, branch_id=branch)
        request_id = f.make_enrollment_request(db, student, course)
        actors = [Actor(user_id=f.make_user(db, role="staff", branch_id=branch), role="staff", branch_id=branch)
                  for _ in range(THREADS)]
    finally:
        db.close()

    start = threading.Barrier(THREADS)
    results: list = [None] * THREADS

    def run(i):
        conn = Database.from_url(url)
        try:
            start.wait(timeout=20)
            results[i] = requests.decide(conn, actors[i], request_id, {"decision": "approve",
                                                                       "instructor_id": instructor},
                                         now=NOW, settings=SETTINGS)
        except Exception as exc:  # collected and judged below
            results[i] = exc
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None for r in results), "a writer did not finish"
    winners = [r for r in results if isinstance(r, dict)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1, results
    assert len(losers) == THREADS - 1, [r for r in results if not isinstance(r, (dict, Conflict))]
    assert all("already approved" in r.message for r in losers)

    db = Database.from_url(url)
    try:
        count = lambda sql: int(db.fetch_value(sql, {"s": student, "r": request_id}))  # noqa: E731
        assert count("SELECT COUNT(*) FROM enrollments WHERE student_id = :s") == 1
        assert count("SELECT COUNT(*) FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id"
                     " WHERE e.student_id = :s") == 1
        assert count("SELECT COUNT(*) FROM package_ledger p JOIN enrollments e ON e.id = p.enrollment_id"
                     " WHERE e.student_id = :s AND p.entry = 'purchase'") == 1
        assert count("SELECT COUNT(*) FROM audit_trail WHERE action = 'enrollment_request_approved'"
                     " AND entity_id = :r") == 1
        assert db.fetch_value("SELECT enrollment_id FROM enrollment_requests WHERE id = :r",
                              {"r": request_id}) == winners[0]["enrollment_id"]
    finally:
        db.close()
