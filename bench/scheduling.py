"""Benchmark: scheduling at national-chain size (issue 7, "Speed"), on MariaDB or SQLite.

    .venv/bin/python bench/scheduling.py --mysql mysql://root@127.0.0.1:3306/origin_bench --reuse
    .venv/bin/python bench/scheduling.py --instructors 20 --students 500 --lessons 20000   # SQLite smoke run

Builds (bench/datagen.py) a chain of 2,000 instructors, 200,000 students and 4,000,000 lessons over 50
branches and about two years around today, or re-uses a database it built before when the size matches
(``--reuse``; pending migrations are applied to it first, as a deployment would). Then it refreshes the
optimiser statistics (the runbook's weekly ``flask analyze-tables``) and times, through the Flask test
client signed in as the staff member of the branch with the most instructors:

- ``POST /api/schedules``: a booking with the full conflict check; every run books a different free
  slot (201, no warnings), so it is a real insert with every conflict query (instructor, vehicle and
  student overlaps, unavailability, downtime, working hours, opening hours);
- ``scheduling.book`` alone (the service call on an open connection, no HTTP);
- ``GET /api/schedules/conflicts`` (the live check of the booking form);
- one instructor's week: ``GET /api/schedules?start=&end=&instructor_id=`` and ``GET /schedules/week``;
- the branch's day: ``GET /api/schedules?start=D&end=D&branch_id=`` and ``GET /schedules/day`` (one lane
  per instructor of the branch);
- availability (issue 8): one instructor over two weeks, ``GET /api/availability?instructor_id=``, and
  every instructor of the branch over one day, ``GET /api/availability?branch_id=``;
- the branch's conflicts panel, ``GET /schedules/conflicts``.

A page that still answers 404 (a placeholder) is reported as such and skipped. Prints Markdown: the
machine, the data, median and p95 in ms over ``--repeat`` runs after ``--warmup`` runs, the SQL statements
per request (app.core.database.count_queries) and, with ``--explain``, the plan of every SELECT that one
request of each kind ran (EXPLAIN on MariaDB, EXPLAIN QUERY PLAN on SQLite).
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time as timer
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.core import clock, passwords  # noqa: E402
from app.core.database import Database, count_queries  # noqa: E402
from app.core.schema import drop_all, init_db, upgrade  # noqa: E402
from app.dao.migration import MigrationDAO  # noqa: E402
from app.services import scheduling  # noqa: E402
from app.services.scope import Actor  # noqa: E402
from bench.datagen import SLOTS, ChainSize, build_chain, built_size  # noqa: E402

PASSWORD = "Password123!"
CHEAP_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1}
# target (ms, on the median) per row label; rows without one are informative
# bookings go from this many days ahead on, so the rows they add never change the weeks and days timed
FIRST_BOOKING_DAY = 15
TARGETS = {"book_api": 30, "book_service": 30, "week_api": 30, "week_page": 30, "day_page": 80,
           "availability_one": 50, "availability_branch": 150, "conflicts_page": 100}


@dataclass
class Row:
    key: str
    label: str
    times: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)  # wall time inside the statements of each run
    cpu_ms: list[float] = field(default_factory=list)  # this process's CPU time of each run
    statements: set[int] = field(default_factory=set)
    note: str = ""
    skipped: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def p95(self) -> float:
        ordered = sorted(self.times)
        return ordered[max(0, int(round(len(ordered) * 0.95)) - 1)]


# ------------------------------------------------------------------------------------------ statement log

class StatementLog:
    """Records (sql, params, ms) of every statement any Database runs while ``on`` (for EXPLAIN)."""

    def __init__(self) -> None:
        self.on = False
        self.entries: list[tuple[str, dict, float]] = []
        self.elapsed_ms = 0.0
        original = Database._run
        log = self

        def run(db: Database, sql: str, params):  # noqa: ANN001
            started = timer.perf_counter()
            cursor = original(db, sql, params)
            if log.on:
                log.entries.append((sql, dict(params or {}), (timer.perf_counter() - started) * 1000))
            return cursor

        Database._run = run  # type: ignore[method-assign]

    def capture(self, action: Callable[[], Any]) -> list[tuple[str, dict, float]]:
        """Run ``action`` recording its statements; ``elapsed_ms`` is then its wall time."""
        self.entries, self.on = [], True
        started = timer.perf_counter()
        try:
            action()
        finally:
            self.elapsed_ms = (timer.perf_counter() - started) * 1000
            self.on = False
        return self.entries


def explain(db: Database, entries: list[tuple[str, dict, float]]) -> list[str]:
    """One line per statement (its time and first words) and, under each SELECT, its plan (a line per table)."""
    lines = []
    for sql, params, ms in entries:
        text = " ".join(sql.split())
        lines.append(f"- {ms:.2f} ms `{text[:150]}{'...' if len(text) > 150 else ''}`")
        if not text.upper().startswith(("SELECT", "WITH")):
            continue
        if db.backend == "mysql":
            for r in db.fetch_all("EXPLAIN " + sql, params):
                lines.append(f"    - {r.get('table')}: type={r.get('type')} key={r.get('key')} rows={r.get('rows')}"
                             f" ref={r.get('ref')} {r.get('Extra') or ''}".rstrip())
        else:
            for r in db.fetch_all("EXPLAIN QUERY PLAN " + sql, params):
                lines.append(f"    - {r['detail']}")
    return lines


# ------------------------------------------------------------------------------------------ set-up

def machine(db: Database) -> str:
    uname = platform.uname()
    ram = ""
    try:
        kib = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")).split()[1])
        ram = f"{kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    if db.backend == "mysql":
        server = f"MariaDB {db.fetch_value('SELECT VERSION() AS v')}, innodb_buffer_pool_size " \
                 f"{int(db.fetch_value('SELECT @@innodb_buffer_pool_size AS v')) // 2**20} MiB"
    else:
        server = f"SQLite {sqlite3.sqlite_version}"
    return (f"{uname.system} {uname.node} {uname.release} {uname.machine}, {os.cpu_count()} CPUs, {ram}, {server}, "
            f"Python {platform.python_version()}, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")


def prepare(db: Database, size: ChainSize, reuse: bool) -> tuple[dict, bool]:
    """The bench_meta record of a (re-used or new) database; True when it was built now."""
    wanted = size.real
    if reuse:
        found = built_size(db)
        if found and all(found[k] == getattr(wanted, k) for k in ("branches", "instructors", "students", "lessons")):
            applied = upgrade(db, clock.now())  # a deployment applies pending migrations (0009 ...) first
            if applied:
                print(f"applied migrations: {', '.join(m.version + '_' + m.name for m in applied)}", file=sys.stderr)
            return found, False
        print("no matching bench database: building it", file=sys.stderr)
    drop_all(db)
    init_db(db, clock.now())
    passwords.configure(CHEAP_ARGON2)
    print(f"building {wanted} ...", file=sys.stderr)
    report = build_chain(db, wanted, today=clock.today(), now=clock.now(),
                         password_hash=passwords.hash_password(PASSWORD),
                         log=lambda message: print(message, file=sys.stderr))
    return built_size(db) or report, True


def analyse(db: Database) -> float:
    """What `flask analyze-tables` does (the runbook's weekly ANALYZE of the high-churn tables)."""
    from app.commands.runbook import HIGH_CHURN

    started = timer.perf_counter()
    MigrationDAO(db).analyze([t for t in HIGH_CHURN if t in set(db.tables())])
    return timer.perf_counter() - started


@dataclass(frozen=True)
class Scene:
    branch_id: int
    lanes: int
    staff_email: str
    actor: Actor
    instructors: list[int]
    monday: date
    days: list[date]


def scene(db: Database) -> Scene:
    top = db.fetch_one("SELECT i.branch_id, COUNT(*) AS n FROM instructors i GROUP BY i.branch_id"
                       " ORDER BY COUNT(*) DESC, i.branch_id LIMIT 1")
    branch = int(top["branch_id"])
    staff = db.fetch_one("SELECT u.id, u.email FROM users u WHERE u.role = 'staff' AND u.branch_id = :b"
                         " ORDER BY u.id LIMIT 1", {"b": branch})
    instructors = [r["id"] for r in db.fetch_all("SELECT id FROM instructors WHERE branch_id = :b ORDER BY id",
                                                 {"b": branch})]
    today = clock.today()
    monday = today - timedelta(days=today.weekday())
    days = [monday + timedelta(days=k) for k in range(14) if (monday + timedelta(days=k)).weekday() < 6]
    return Scene(branch, int(top["n"]), staff["email"], Actor(user_id=staff["id"], role="staff", branch_id=branch),
                 instructors, monday, days)


def free_bookings(db: Database, where: Scene, count: int, settings) -> list[dict]:
    """``count`` bookings the engine finds nothing against (checked with scheduling.preview), each on a
    different instructor-day and with a different student, so none of them clashes with another; from
    FIRST_BOOKING_DAY days ahead (a re-run finds the next free slots, later ones)."""
    students = [r["id"] for r in db.fetch_all(
        "SELECT st.id FROM students st WHERE st.branch_id = :b AND EXISTS (SELECT 1 FROM enrollments e"
        " WHERE e.student_id = st.id AND e.status IN ('active', 'in_progress')) ORDER BY st.id",
        {"b": where.branch_id})]
    # bench/datagen.py gives every instructor a car of their own, with the instructor's id
    cars = {r["id"] for r in db.fetch_all("SELECT id FROM vehicles WHERE branch_id = :b", {"b": where.branch_id})}
    today = clock.today()
    found: list[dict] = []
    tried = 0
    pool = iter(students)
    student = next(pool, None)
    for offset in range(FIRST_BOOKING_DAY, FIRST_BOOKING_DAY + 180):  # beyond the fortnight the reads show
        day = today + timedelta(days=offset)
        for instructor in where.instructors:
            if student is None or len(found) >= count:
                break
            for k in range(len(SLOTS)):
                if student is None:
                    break
                start = SLOTS[(k + offset + instructor) % len(SLOTS)]
                end = (datetime.combine(day, start) + timedelta(minutes=60)).time()
                data = {"student_id": student, "instructor_id": instructor, "vehicle_id": instructor if instructor in cars else None,
                        "event_type": "lesson", "date": day.isoformat(), "start_time": start.strftime("%H:%M"),
                        "end_time": end.strftime("%H:%M"), "topic": "Bench booking"}
                tried += 1
                try:
                    reasons = scheduling.preview(db, where.actor, data, now=clock.now(), settings=settings)
                except Exception as exc:
                    raise SystemExit(f"{data}: {exc!r} {getattr(exc, 'errors', '')}") from exc
                if not reasons:
                    found.append(data)
                    student = next(pool, None)
                    break
                if any(r.kind == "student" for r in reasons):
                    student = next(pool, None)
                if any(r.kind in ("accreditation_expired", "vehicle_unavailable", "outside_working_hours",
                                  "branch_closed", "instructor_unavailable") for r in reasons):
                    break  # this instructor-day is out whatever the slot
        if len(found) >= count or student is None:
            break
    if len(found) < count:
        raise SystemExit(f"only {len(found)} free bookings found in {tried} tries (need {count})")
    return found


# ------------------------------------------------------------------------------------------ timing

def _load() -> str:
    try:
        return " ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        return "?"


def timed(row: Row, action: Callable[[int], Any], warmup: int, repeat: int, log: StatementLog) -> Row:
    for n in range(warmup):
        action(n)
    for n in range(warmup, warmup + repeat):
        with count_queries() as counter:
            cpu = timer.process_time()
            entries = log.capture(lambda: action(n))
            row.cpu_ms.append((timer.process_time() - cpu) * 1000)
        row.times.append(log.elapsed_ms)
        row.sql_ms.append(sum(ms for _sql, _params, ms in entries))
        row.statements.add(counter.count)
    return row


def check(response, status: int = 200, what: str = "") -> None:
    if response.status_code != status:
        raise SystemExit(f"{what}: expected {status}, got {response.status_code}: {response.get_data(as_text=True)[:400]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mysql", default="", help="MariaDB URL of a scratch database (its tables are dropped "
                                                   "unless --reuse finds a matching build)")
    parser.add_argument("--sqlite", default="", help="SQLite file (default: a new temporary file)")
    parser.add_argument("--branches", type=int, default=None,
                        help="default: one per 40 instructors, at most 50 (50 at 2,000 instructors)")
    parser.add_argument("--instructors", type=int, default=2000)
    parser.add_argument("--students", type=int, default=200_000)
    parser.add_argument("--lessons", type=int, default=4_000_000)
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per row (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    parser.add_argument("--reuse", action="store_true", help="re-use the database when bench_meta says it has this size")
    parser.add_argument("--no-analyze", action="store_true", help="skip the ANALYZE of the high-churn tables")
    parser.add_argument("--explain", action="store_true", help="print the plan of every SELECT of one request per row")
    args = parser.parse_args()
    if args.warmup < 1 or args.repeat < 1:
        parser.error("--warmup and --repeat must be at least 1")

    workdir = Path(tempfile.mkdtemp(prefix="origin-bench-"))
    url = args.mysql or f"sqlite:///{args.sqlite or workdir / 'bench.sqlite3'}"
    branches = args.branches or min(50, max(2, args.instructors // 40))
    size = ChainSize(branches=branches, instructors=args.instructors, students=args.students,
                     lessons=args.lessons)
    if args.mysql:  # the scratch database may not exist yet
        name = args.mysql.rstrip("/").rsplit("/", 1)[1]
        server = Database.from_url(args.mysql.rstrip("/").rsplit("/", 1)[0] + "/")
        server.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        server.close()
    db = Database.from_url(url, connect_timeout=30)
    meta, built = prepare(db, size, args.reuse)
    analysed = None if args.no_analyze else analyse(db)
    lessons_now = db.fetch_value("SELECT COUNT(*) AS n FROM schedules", cast=int)

    passwords.configure(CHEAP_ARGON2)
    from app.bootstrap import create_app
    from tests.conftest import csrf_token, login  # the sign-in helpers the tests use

    app = create_app({"DATABASE_URL": url, "LOG_DIR": str(workdir), "UPLOAD_DIR": str(workdir / "up"),
                      "LOG_LEVEL": "WARNING", "SECOND_FACTOR_ROLES": "", **CHEAP_ARGON2})  # pages, not sign-in, are timed
    where = scene(db)
    load_before = _load()
    need = 2 * (args.warmup + args.repeat)
    bookings = free_bookings(db, where, need, app.config)
    api_bookings, service_bookings = bookings[: need // 2], bookings[need // 2:]

    client = app.test_client()
    check(login(client, where.staff_email, PASSWORD), 302, "sign-in")
    token = csrf_token(client, "/dashboard/")
    headers = {"X-CSRFToken": token}
    log = StatementLog()
    rows: list[Row] = []
    plans: dict[str, list[tuple[str, dict, float]]] = {}
    sunday = where.monday + timedelta(days=6)
    ins = where.instructors

    def get(path: str) -> Callable[[int], Any]:
        def action(n: int) -> Any:
            target = path.format(i=ins[n % len(ins)], day=where.days[n % len(where.days)])
            response = client.get(target)
            check(response, 200, target)
            return response
        return action

    def add(key: str, label: str, action: Callable[[int], Any]) -> None:
        plans[key] = log.capture(lambda: action(args.warmup + args.repeat))  # one extra, recorded
        rows.append(timed(Row(key, label), action, args.warmup, args.repeat, log))

    # reads first (bookings add rows; the reads do not care)
    conflict_args = "&".join(f"{k}={v}" for k, v in api_bookings[0].items() if k != "topic")
    add("conflicts_api", "`GET /api/schedules/conflicts?...` (live check, free slot)",
        get("/api/schedules/conflicts?" + conflict_args))
    add("week_api", f"`GET /api/schedules?start={where.monday}&end={sunday}&instructor_id=`",
        get(f"/api/schedules?start={where.monday}&end={sunday}&instructor_id={{i}}"))
    add("day_api", "`GET /api/schedules?start=D&end=D&branch_id=` (the day's feed)",
        get(f"/api/schedules?start={{day}}&end={{day}}&branch_id={where.branch_id}"))
    for key, label, path in (
            ("week_page", "`GET /schedules/week?instructor_id=&date=`", "/schedules/week?instructor_id={i}&date={day}"),
            ("day_page", f"`GET /schedules/day?branch_id=&date=` ({where.lanes} lanes)",
             f"/schedules/day?branch_id={where.branch_id}&date={{day}}")):
        probe = client.get(path.format(i=ins[0], day=where.days[0]))
        if probe.status_code == 200:
            add(key, label, get(path))
        else:
            rows.append(Row(key, label, skipped=f"answers {probe.status_code} (placeholder?): not timed"))

    fortnight = where.monday + timedelta(days=13)
    add("availability_one", f"`GET /api/availability?instructor_id=&date_from={where.monday}&date_to={fortnight}"
                            "&duration_minutes=60` (one instructor, 2 weeks)",
        get(f"/api/availability?instructor_id={{i}}&date_from={where.monday}&date_to={fortnight}&duration_minutes=60"))
    add("availability_branch", f"`GET /api/availability?branch_id=&date_from=D&date_to=D&duration_minutes=60`"
                               f" ({where.lanes} instructors, one day)",
        get(f"/api/availability?branch_id={where.branch_id}&date_from={{day}}&date_to={{day}}&duration_minutes=60"))
    probe = client.get("/schedules/conflicts")
    if probe.status_code == 200:
        add("conflicts_page", "`GET /schedules/conflicts` (the conflicts panel of the branch)",
            get("/schedules/conflicts"))
    else:
        rows.append(Row("conflicts_page", "`GET /schedules/conflicts`", skipped=f"answers {probe.status_code}: not timed"))

    def book_api(n: int) -> None:
        response = client.post("/api/schedules", json=api_bookings[n], headers=headers)
        check(response, 201, f"POST /api/schedules {api_bookings[n]}")
        if response.get_json()["warnings"]:
            raise SystemExit(f"unexpected warnings: {response.get_json()}")

    service_db = Database.from_url(url)

    def book_service(n: int) -> None:
        booked = scheduling.book(service_db, where.actor, service_bookings[n], now=clock.now(), settings=app.config)
        if booked.warnings:
            raise SystemExit(f"unexpected warnings: {booked.warnings}")

    # the first warm-up booking is the recorded one (every booking needs a slot of its own)
    plans["book_api"] = log.capture(lambda: book_api(0))
    rows.append(timed(Row("book_api", "`POST /api/schedules` (book, full conflict check)"),
                      lambda n: book_api(n + 1), args.warmup - 1, args.repeat, log))
    plans["book_service"] = log.capture(lambda: book_service(0))
    rows.append(timed(Row("book_service", "`scheduling.book(...)` (the service call alone)"),
                      lambda n: book_service(n + 1), args.warmup - 1, args.repeat, log))
    service_db.close()

    # ------------------------------------------------------------------ report
    backend = "MariaDB" if db.backend == "mysql" else "SQLite"
    real = size.real
    print(f"## {backend}: {real.instructors:,} instructors, {real.students:,} students, {lessons_now:,} lessons, "
          f"{real.branches} branches")
    print(f"Machine: {machine(db)}.")
    span = f"{meta.get('span_from', '?')} .. {meta.get('span_to', '?')}"
    print(f"Data: built {'now' if built else 'earlier (re-used)'} on {meta.get('built_on')} in "
          f"{float(meta.get('build_seconds', 0)):.0f} s; lessons dated {span}; {int(meta.get('reminders', 0)):,} pending"
          f" reminders; statistics {'refreshed (ANALYZE, %.0f s)' % analysed if analysed is not None else 'not refreshed'}.")
    print(f"Signed in as {where.staff_email} (branch {where.branch_id}, {where.lanes} instructors); "
          f"{args.warmup} warm-up runs, then {args.repeat} timed runs per row; load average {load_before} before, "
          f"{_load()} after (other processes share the CPUs: \"SQL ms\" is the wall time inside the statements, "
          f"\"app CPU ms\" this process's CPU time).\n")
    print("| request | median ms | p95 ms | SQL ms | app CPU ms | SQL statements | target |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for row in rows:
        target = TARGETS.get(row.key)
        if row.skipped:
            print(f"| {row.label} | | | | | | {row.skipped} |")
            continue
        verdict = "" if target is None else f"≤ {target} ms: {'met' if row.median <= target else 'MISSED'}"
        counts = "/".join(str(c) for c in sorted(row.statements))
        print(f"| {row.label} | {row.median:.1f} | {row.p95:.1f} | {statistics.median(row.sql_ms):.1f} |"
              f" {statistics.median(row.cpu_ms):.1f} | {counts} | {verdict} |")
    if args.explain:
        for key, entries in plans.items():
            print(f"\n### Statements of one `{key}` request ({len(entries)} statements)\n")
            for line in explain(db, entries):
                print(line)
    db.close()
    shutil.rmtree(workdir, ignore_errors=True)  # logs, uploads and the temporary SQLite file (not --sqlite)


if __name__ == "__main__":
    main()
