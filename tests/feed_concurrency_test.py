"""Two people (re)issue one owner's calendar feed at the same moment, on a real MariaDB (MariaDB only, like
outcome_concurrency_test.py: it needs row locks between separate connections). Each thread has its own
connection and calls feeds.issue for the same instructor: every issue succeeds, one after the other (the
owner's row is locked first), so exactly one token is live afterwards and it is the last one issued; the
others answer 404 as revoked."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import threading
from datetime import datetime

import pytest

from app.core.database import Database
from app.core.errors import NotFound
from app.services import feeds
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import _empty_mysql

NOW = datetime(2026, 3, 11, 3, 0)
THREADS = 4


@pytest.mark.mysql_only
def test_simultaneous_reissues_leave_exactly_one_live_token(mysql_schema):
    _empty_mysql(mysql_schema)
    db = Database.from_url(mysql_schema)
    try:
        db.execute("INSERT INTO audit_chain (id, last_id, last_hash) VALUES (1, NULL, NULL)")
        branch = f.make_branch(db, name="Feed branch")
        instructor_user = f.make_user(db, role="instructor", branch_id=branch)
        instructor = f.make_instructor(db, user_id=instructor_user, branch_id=branch)
        actors = [Actor(user_id=instructor_user, role="instructor", branch_id=branch, instructor_id=instructor)]
        actors += [Actor(user_id=f.make_user(db, role="staff", branch_id=branch), role="staff", branch_id=branch)
                   for _ in range(THREADS - 1)]
    finally:
        db.close()

    start = threading.Barrier(THREADS)
    results: list = [None] * THREADS

    def run(i):
        conn = Database.from_url(mysql_schema)
        try:
            start.wait(timeout=10)
            results[i] = feeds.issue(conn, actors[i], "instructor", instructor, NOW)
        except Exception as exc:  # judged below
            results[i] = exc
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert all(isinstance(r, str) for r in results), results   # nobody refused, nobody deadlocked

    check = Database.from_url(mysql_schema)
    try:
        rows = check.fetch_all("SELECT id, token_hash, revoked_at FROM calendar_feed_tokens ORDER BY id")
        assert len(rows) == THREADS
        live = [r for r in rows if r["revoked_at"] is None]
        assert len(live) == 1 and live[0]["id"] == rows[-1]["id"]   # the last issued is the one left
        working = []
        for secret in results:
            try:
                feeds.render(check, secret, NOW, NOW.date(), "Australia/Melbourne")
                working.append(secret)
            except NotFound:
                pass
        assert len(working) == 1 and feeds.hash_token(working[0]) == live[0]["token_hash"]
        audits = check.fetch_value("SELECT COUNT(*) AS n FROM audit_trail WHERE action = 'calendar_feed_issued'")
        assert int(audits) == THREADS
    finally:
        check.close()
