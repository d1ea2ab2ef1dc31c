"""Statements per page, bounded and constant (issue 13): every GET page of every role, on SQLite.

The pages come from app.url_map through tests/security/page_inventory.py (the accessibility walk's
inventory: each role's own objects fill the URL parameters). On the demo school each page that opens
(200) runs at most BOUND statements, session lookup, navigation badges and all (EXCEPTIONS names the
pages allowed more, with the reason). Then the school grows: many more branches' worth of students,
enrolments, instructors, vehicles, lessons, invoices, payments, notifications and audit rows, some of
them in the demo accounts' own scope, and every page must run exactly as many statements as before: a
count that grows with the data is an N+1. The clock is frozen, so the session is not touched (one
UPDATE a minute) between the two walks.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import shutil
from datetime import timedelta, time
from decimal import Decimal

import pytest

from app.core.database import count_queries
from tests import factories as f
from tests.conftest import DEMO_PASSWORD, app_overrides
from tests.security import page_inventory as inventory

ROLES = ("admin", "staff", "instructor", "student")
BOUND = 20
# Pages allowed more than BOUND statements, with the reason (still constant as the data grows).
EXCEPTIONS: dict[str, tuple[int, str]] = {
    "/students/<int:student_id>": (24, "the CRM profile: one statement per section (profile, contacts, enrolments, "
                                       "packages, lessons, invoices and balance, notes, documents, messages, timeline)"),
    "/my/book": (24, "the self-service booking page: the branch policy, then the availability engine's reads for "
                     "the week (working hours, unavailability, lessons, downtime, opening hours) and the credits"),
    "/my/data.html": (28, "the privacy copy: one statement per table of the student's data (Privacy Act access "
                          "request), plus the audited export (7 statements of the audit transaction)"),
    "/my/data.json": (28, "the same privacy copy as JSON"),
}
# Pages whose statement count follows the data by design (with the reason); every other page must not move.
# (/audit/verify re-hashes at most audit.PAGE_LIMIT entries after the last full check: no longer here.)
GROWS_BY_DESIGN: dict[str, str] = {}
GROWTH = 40  # extra rows of each kind per branch


def _client(app, role):
    import re

    client = app.test_client()
    html = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    response = client.post("/auth/login", data={"email": inventory.DEMO_EMAILS[role], "password": DEMO_PASSWORD,
                                                "csrf_token": token})
    assert response.status_code == 302, role
    return client


def _walk(app, pages_by_role) -> dict[tuple[str, str], tuple[int, list[str]]]:
    """(role, url) -> (statements, their SQL) for every page that answers 200; each page opened once to
    warm up, then counted."""
    counts = {}
    for role in ROLES:
        client = _client(app, role)
        for page in pages_by_role[role]:
            for url in page.urls:
                if client.get(url).status_code != 200:
                    continue
                with count_queries() as counted:
                    response = client.get(url)
                assert response.status_code == 200, url
                counts[(role, page.rule)] = (counted.count, list(counted.statements))
                break
    return counts


def _grow(db, now) -> None:
    """Many more rows of every kind: new branches full of people, and more of everything in the demo
    accounts' own scope (the staff member's branch, the demo instructor's lessons, the demo student's
    invoices and notifications)."""
    staff = inventory.owner_of(db, "staff")
    instructor = inventory.owner_of(db, "instructor")
    student = inventory.owner_of(db, "student")
    admin = inventory.owner_of(db, "admin")
    course = db.fetch_value("SELECT MIN(id) FROM courses")
    today = now.date()
    branches = [staff.branch_id] + [f.make_branch(db, name=f"Growth Branch {n}") for n in range(3)]
    for branch in branches:
        instructors = [f.make_instructor(db, branch_id=branch) for _ in range(GROWTH // 4)]
        for n in range(GROWTH):
            pupil = f.make_student(db, branch_id=branch)
            enrolment = f.make_enrollment(db, student_id=pupil, course_id=course)
            day = today + timedelta(days=(n % 14) - 7)
            f.make_schedule(db, enrolment, instructors[n % len(instructors)], scheduled_date=day,
                            start_time=time(7 + n % 10, 0), end_time=time(8 + n % 10, 0),
                            status="completed" if day < today else "scheduled")
            invoice = f.make_invoice(db, enrolment)
            f.make_payment(db, invoice, Decimal("50.00"))
        for n in range(GROWTH // 4):
            f.make_vehicle(db, branch_id=branch)
    own = db.fetch_one("SELECT e.id FROM enrollments e WHERE e.student_id = :s ORDER BY e.id", {"s": student.student_id})
    for n in range(GROWTH):
        day = today + timedelta(days=(n % 20) - 10)
        hour = 6 if n < 20 else 20
        f.make_schedule(db, own["id"], instructor.instructor_id, scheduled_date=day, start_time=time(hour, 0),
                        end_time=time(hour, 30), status="completed" if day < today else "scheduled")
        f.make_invoice(db, own["id"])
    for user_id in (admin.user_id, staff.user_id, instructor.user_id, student.user_id):
        db.insert_many("notifications", [{"user_id": user_id, "title": f"Growth {n}", "message": "More rows",
                                          "level": "info", "is_read": n % 2, "created_at": now}
                                         for n in range(GROWTH)])
    from app.services import audit
    from app.services.scope import Actor

    by = Actor(user_id=admin.user_id, role="admin")
    with db.transaction():
        for n in range(GROWTH * 3):
            audit.record(db, by, "student_updated", "student", student.student_id, now=now, details=f"growth {n}")


@pytest.fixture(scope="module")
def walks(sqlite_template, tmp_path_factory):
    from app.bootstrap import create_app
    from app.core import clock, passwords
    from app.core.flask_db import get_db
    from app.services.seed import seed_demo

    tmp_path = tmp_path_factory.mktemp("page_queries")
    target = tmp_path / "pages.sqlite3"
    shutil.copyfile(sqlite_template, target)
    app = create_app(app_overrides(f"sqlite:///{target}", tmp_path))
    now = clock.now().replace(microsecond=0)
    clock.set_frozen(now)
    try:
        with app.app_context():
            db = get_db()
            seed_demo(db, now, now.date())
            pages = {role: inventory.pages(app, db, inventory.owner_of(db, role))[0] for role in ROLES}
        before = _walk(app, pages)
        with app.app_context():
            _grow(get_db(), now)
        after = _walk(app, pages)
    finally:
        clock.set_frozen(None)
        passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})
    return before, after


def test_the_walk_covers_every_role(walks):
    before, _ = walks
    for role in ROLES:
        assert sum(1 for r, _u in before if r == role) >= 10, role


def test_every_page_runs_at_most_the_bound(walks):
    before, _ = walks
    over = [f"{role} {rule}: {count} statements\n    " + "\n    ".join(" ".join(s.split())[:140] for s in sql)
            for (role, rule), (count, sql) in sorted(before.items())
            if count > EXCEPTIONS.get(rule, (BOUND, ""))[0]]
    assert not over, "\n".join(over)


def test_no_page_runs_more_statements_when_the_school_grows(walks):
    before, after = walks
    grew = [f"{role} {rule}: {before[key][0]} -> {after[key][0]}\n    "
            + "\n    ".join(" ".join(s.split())[:140] for s in after[key][1] if s not in before[key][1])
            for key in sorted(before) for role, rule in [key]
            if key in after and after[key][0] != before[key][0] and rule not in GROWS_BY_DESIGN]
    assert not grew, "\n".join(grew)
    assert set(after) == set(before)  # every page still opens
