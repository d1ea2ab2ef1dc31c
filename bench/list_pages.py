"""Benchmark: list pages and dashboards at national-chain size, on SQLite and MariaDB.

    .venv/bin/python bench/list_pages.py                 # SQLite (temporary file)
    .venv/bin/python bench/list_pages.py --mysql mysql://root@127.0.0.1:3306/origin_bench
    .venv/bin/python bench/list_pages.py --students 50000 --repeat 30

Builds a school (branches, staff, instructors, students with enrolments and lessons, vehicles,
invoices, audit rows), then times GET requests through the Flask test client (no network), signed
in as admin and as a branch staff member. Prints a Markdown table: median and p95 in milliseconds
and the number of SQL statements per request (which must not grow with the data).
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time as timer
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.core import clock, passwords  # noqa: E402
from app.core.database import Database, count_queries  # noqa: E402
from app.core.schema import drop_all, init_db  # noqa: E402
from app.services import audit  # noqa: E402
from app.services.scope import Actor  # noqa: E402

PASSWORD = "Password123!"


def build(db: Database, students: int) -> dict:
    passwords.configure({"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1})
    hashed = passwords.hash_password(PASSWORD)
    now, today = clock.now(), clock.today()
    branches_n, instructors_n, vehicles_n = max(3, students // 1000), max(5, students // 25), max(5, students // 100)
    with db.transaction():
        branches = [db.insert("branches", {"name": f"Branch {i:03d}", "city": "Melbourne", "email": f"b{i}@x.au"})
                    for i in range(branches_n)]
        admin = db.insert("users", {"role": "admin", "first_name": "Ada", "last_name": "Admin", "email": "admin@bench-origin.com",
                                    "password_hash": hashed, "branch_id": branches[0]})
        staff = db.insert("users", {"role": "staff", "first_name": "Sam", "last_name": "Staff", "email": "staff@bench-origin.com",
                                    "password_hash": hashed, "branch_id": branches[0]})
        db.insert("staff_profiles", {"user_id": staff, "branch_id": branches[0], "position_title": "Desk"})
        courses = [db.insert("courses", {"title": f"Course {i}", "price": Decimal("880.00"), "lesson_count": 10})
                   for i in range(12)]
        instructors = []
        for i in range(instructors_n):
            branch = branches[i % branches_n]
            user = db.insert("users", {"role": "instructor", "first_name": f"Ina{i}", "last_name": "Teach",
                                       "email": f"i{i}@bench-origin.com", "password_hash": hashed, "branch_id": branch})
            instructors.append((db.insert("instructors", {"user_id": user, "branch_id": branch,
                                                          "accreditation_expiry": today + timedelta(days=i % 400)}), branch))
        for i in range(vehicles_n):
            db.insert("vehicles", {"name": f"Car {i}", "plate_number": f"B-{i:05d}", "branch_id": branches[i % branches_n],
                                   "status": "available"})
        for i in range(students):
            branch = branches[i % branches_n]
            user = db.insert("users", {"role": "student", "first_name": f"Stu{i}", "last_name": f"Dent{i % 997}",
                                       "email": f"s{i}@bench-origin.com", "password_hash": hashed, "branch_id": branch,
                                       "created_at": now})
            student = db.insert("students", {"user_id": user, "branch_id": branch, "license_number": f"L{i:07d}",
                                             "license_expiry": today + timedelta(days=i % 700)})
            enrolment = db.insert("enrollments", {"student_id": student, "course_id": courses[i % 12],
                                                  "start_date": today - timedelta(days=i % 90)})
            instructor, _ = instructors[i % len(instructors)]
            for k in range(2):
                db.insert("schedules", {"enrollment_id": enrolment, "instructor_id": instructor, "branch_id": branch,
                                        "scheduled_date": today + timedelta(days=(i + k * 7) % 60 - 20),
                                        "start_time": time(8 + (i % 9), 0), "end_time": time(9 + (i % 9), 0)})
            if i % 2 == 0:
                db.insert("invoices", {"enrollment_id": enrolment, "invoice_number": f"INV-B-{i:07d}",
                                       "issue_date": today - timedelta(days=i % 60), "due_date": today - timedelta(days=i % 60 - 7),
                                       "subtotal": Decimal("880.00"), "tax_amount": Decimal("88.00"),
                                       "total": Decimal("968.00"), "status": "sent"})
    actor = Actor(user_id=admin, role="admin")
    for i in range(min(students, 20000)):
        audit.record(db, actor, "student_updated", "student", i + 1, now=now, details="bench")
    return {"branches": branches_n, "instructors": instructors_n, "vehicles": vehicles_n, "students": students}


def measure(app, email: str, paths: list[str], repeat: int) -> list[tuple[str, float, float, int]]:
    client = app.test_client()
    client.get("/auth/login")
    from tests.conftest import login  # the same sign-in helper the tests use

    assert login(client, email, PASSWORD).status_code == 302
    rows = []
    for path in paths:
        assert client.get(path).status_code == 200, path  # warm-up
        times, queries = [], 0
        for _ in range(repeat):
            with count_queries() as counter:
                start = timer.perf_counter()
                response = client.get(path)
                times.append((timer.perf_counter() - start) * 1000)
            assert response.status_code == 200, path
            queries = counter.count
        times.sort()
        rows.append((path, statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], queries))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--mysql", default="", help="MariaDB URL of a scratch database (its tables are dropped)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="origin-bench-"))
    url = args.mysql or f"sqlite:///{workdir / 'bench.sqlite3'}"
    db = Database.from_url(url)
    if args.mysql:
        drop_all(db)
    init_db(db, clock.now())
    started = timer.perf_counter()
    size = build(db, args.students)
    db.close()
    built = timer.perf_counter() - started

    from app.bootstrap import create_app

    app = create_app({"DATABASE_URL": url, "LOG_DIR": str(workdir), "UPLOAD_DIR": str(workdir / "up"),
                      "LOG_LEVEL": "WARNING", "SECOND_FACTOR_ROLES": "", "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024,
                      "ARGON2_PARALLELISM": 1})
    pages = ["/dashboard/", "/students/", "/students/?q=Dent42&sort=name", "/students/?sort=license_expiry&dir=desc&page=40",
             "/instructors/", "/fleet/", "/branches/", "/courses/", "/audit/", "/audit/?action=student_updated&page=50"]
    results = [("admin", *r) for r in measure(app, "admin@bench-origin.com", pages, args.repeat)]
    results += [("staff", *r) for r in measure(app, "staff@bench-origin.com", pages[:8], args.repeat)]

    backend = "MariaDB" if args.mysql else "SQLite"
    print(f"## {backend}, {size['students']:,} students, {size['instructors']:,} instructors, "
          f"{size['branches']} branches, {size['vehicles']} vehicles, {min(args.students, 20000):,} audit rows")
    print(f"Machine: {platform.node()} {platform.machine()}, {platform.python_version()}, "
          f"{datetime.now():%Y-%m-%d %H:%M}; data built in {built:.0f} s; {args.repeat} requests per page.\n")
    print("| role | page | median ms | p95 ms | SQL statements |")
    print("|---|---|---:|---:|---:|")
    for role, path, median, p95, queries in results:
        print(f"| {role} | `{path}` | {median:.1f} | {p95:.1f} | {queries} |")


if __name__ == "__main__":
    main()
