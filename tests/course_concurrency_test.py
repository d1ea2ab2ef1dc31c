"""Two offices edit one course's instructor allocation at the same moment, on a real MariaDB (MariaDB only:
it needs separate connections with their own snapshots). Each branch's staff member changes only their own
branch's part; services.courses.update_course keeps the other branches' allocations as its snapshot shows
them, and CourseDAO.set_instructors applies the difference (delete what was unticked, insert what was
ticked) rather than rewriting the whole allocation, so neither save writes back the other branch's part
as it was before the other save (a lost update). Both edits are held inside their transactions until both
have read the allocation (a barrier); both succeed and the final allocation holds both changes."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import threading
from datetime import datetime

import pytest

from app.core.database import Database
from app.dao.course import CourseDAO
from app.services import courses
from app.services.scope import Actor
from tests import factories as f
from tests.conftest import _empty_mysql

NOW = datetime(2026, 3, 11, 3, 0)
ROUNDS = 3  # each round a fresh pair of concurrent edits (a lost update shows within one when unlocked)


def _world(url):
    _empty_mysql(url)
    db = Database.from_url(url)
    try:
        db.execute("INSERT INTO audit_chain (id, last_id, last_hash) VALUES (1, NULL, NULL)")
        north, south = f.make_branch(db, name="North"), f.make_branch(db, name="South")
        course = f.make_course(db, title="Shared course")
        teachers = {b: [f.make_instructor(db, branch_id=b) for _ in range(ROUNDS + 1)] for b in (north, south)}
        for b in (north, south):
            f.allocate(db, course, teachers[b][0])
        staff = {b: Actor(user_id=f.make_user(db, role="staff", branch_id=b), role="staff", branch_id=b)
                 for b in (north, south)}
    finally:
        db.close()
    return course, teachers, staff


def _allocation(url, course):
    check = Database.from_url(url)
    try:
        return sorted(CourseDAO(check).instructor_ids(course))
    finally:
        check.close()


@pytest.mark.mysql_only
def test_two_branches_editing_one_courses_allocation_keep_both_changes(mysql_schema, monkeypatch):
    course, teachers, staff = _world(mysql_schema)
    branches = list(staff)
    real_find = CourseDAO.find
    together = threading.Barrier(2)

    def both_inside(self, course_id):  # each edit holds its transaction open until the other is inside too
        together.wait(timeout=10)
        return real_find(self, course_id)

    monkeypatch.setattr(CourseDAO, "find", both_inside)
    for n in range(1, ROUNDS + 1):
        together.reset()
        wanted = {b: [teachers[b][n]] for b in branches}  # each branch swaps its instructor for a new one
        results: dict = {}

        def edit(branch):
            conn = Database.from_url(mysql_schema)
            try:
                courses.update_course(conn, staff[branch], course,
                                      {"title": "Shared course", "price": "880.00", "lesson_count": "10",
                                       "status": "active", "category": "",
                                       "instructor_ids": [str(i) for i in wanted[branch]]}, NOW)
                results[branch] = "ok"
            except Exception as exc:  # judged below
                results[branch] = exc
            finally:
                conn.close()

        threads = [threading.Thread(target=edit, args=(b,)) for b in branches]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert results == {b: "ok" for b in branches}, results
        assert _allocation(mysql_schema, course) == sorted(wanted[branches[0]] + wanted[branches[1]]), n
