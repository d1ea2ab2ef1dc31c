"""Bulk data: a national driving-school chain built with set-based SQL, for ``flask seed-demo --scale``
(app/services/scale_seed.py, which adds the ledger, history and audit steps at the end of this module)
and for the benchmarks (bench/datagen.py re-exports this module's public names).

    from app.dao.bulk_seed import ChainSize, build_chain
    size = ChainSize(instructors=2000, students=200_000, lessons=4_000_000)
    report = build_chain(db, size, today=clock.today(), now=clock.now(), password_hash=hashed)

Nothing here goes through the app's other DAOs: the big tables (student accounts, students, enrolments,
reminders) are filled with ``INSERT ... SELECT`` from a sequence in chunks of ``CHUNK`` rows, the
lessons from the calendar lookup table a fortnight at a time in date order (ids follow the date, as
real bookings do), so 4,000,000 lessons take minutes, single-threaded. On MariaDB the lessons' secondary
indexes are dropped during the load (foreign-key checks are off in that session) and rebuilt by
sorting after it, then checked to be exactly the ones the schema declared. The sequence is MariaDB's
SEQUENCE engine (``seq_0_to_N``) or, on SQLite, a helper table filled by a recursive CTE. The small
tables (branches, staff, instructors, cars, hours, windows) and the lookup tables that carry the date
and time arithmetic (``bench_calendar``, ``bench_slots``, ...) are written from Python, so the big
statements need no date functions beyond one "add days" form per dialect.

The shape (deterministic, no randomness):
- ``branches`` (default 50) with an Australian zone each and structured opening hours (Mon-Fri
  07:00-19:00, Sat 07:00-18:00, closed Sunday). Branch sizes vary: a fifth of the branches get 1.25
  times the average number of instructors (50 lanes at 2,000 instructors over 50 branches), two
  fifths the average, the rest share what is left.
- one staff member per branch (``staff<branch>@bench-origin.com``) and one admin; every account has
  the same password hash.
- every instructor has a car of their own, is allocated to every course, works 4 of Mon-Sat
  (07:00-18:30; which 4 rotates by instructor), has a day of professional development on an off day
  every 6 weeks; every car has a service morning on a Sunday every 8 weeks; 2 % of the cars are in
  maintenance, 3 % of the accreditations have expired.
- lessons: each instructor teaches ``lessons / instructors`` lessons, 4-6 per working day (the day
  pattern 5, 4, 6, 5, 4 repeats) on a grid of 7 slots 07:30..16:30, 60 minutes (90 for exams,
  assessments and one lesson in ten, which then touches the next slot); never two at once for an
  instructor. The span runs from about 18 months ago to about 6 months ahead (104 weeks at the
  default size), so today's weeks are as dense as any. Each instructor has ``students /
  instructors`` students in groups of 10: a group shares a block of ``10 x lessons-per-student``
  consecutive lessons, taking every tenth one (about two lessons a week per student); a student's
  enrolment is completed once their block is over, else active.
- statuses: past lessons completed (84 %), cancelled (7 %, with who, when and why), no_show (4 %),
  not_completed (3 %), still scheduled (2 %, plus 15 % of the last fortnight: awaiting an outcome);
  coming lessons scheduled (94 %) or cancelled; 5 % of lessons use the student's own car (no vehicle);
  every coming scheduled lesson has its pending reminder.
- no audit rows and no sent reminders for the past (the bookings under test append to both); the scaled
  demo seed adds them afterwards (:func:`build_ledger`, :func:`build_history`, :func:`fill_audit_events`).
- bookings were made a fortnight ahead (a coming lesson further ahead was booked in the last twelve weeks),
  cancellations the afternoon before (at the latest yesterday): no timestamp lies after ``today``.
- ``bench_meta`` records the size and the build time, so a bench can re-use the database
  (:func:`built_size`).

Finance (issue 9, :func:`build_finance`, a separate step run by bench/finance.py when ``bench_meta`` has
no ``finance_builder`` row; the chain itself is untouched, so bench/scheduling.py is not affected): one
issued invoice per enrolment (1-3 lines: the course fee, two extra lessons, a late-cancellation fee; GST
10 % added), 70 % paid (a third of them in two instalments), 20 % part-paid (40 %), 10 % unpaid (overdue
once past due); one unpaid invoice in 20 of those is cancelled by a credit note for its whole total; one
student in 100 also bought a top-up package (5 lessons) every 4 weeks from their start to today, each paid
(the long statements); numbers ``INV-YYYY-NNNNNN`` in issue order per year, and ``invoice_counters`` set
to the last number of each year so that new invoices continue the sequence; one student in 20 has a
pending enrolment request for another course (the approvals to time).
"""
from __future__ import annotations

import math
import time as timer
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Callable, Iterable, Sequence

from app.core.database import Database

BUILDER_VERSION = "1"
OWED = "owed: no credit left"  # app/services/packages.py OWED: a lesson drawn with no credit left
CHUNK = 250_000
HELPER_TABLES = ("bench_seq", "bench_instr", "bench_calendar", "bench_pattern", "bench_slots", "bench_blocks",
                 "bench_names", "bench_first", "bench_topics")
GROUP = 10  # students sharing one block of an instructor's lessons
DAY_COUNTS = (5, 4, 6, 5, 4)  # lessons on consecutive working days (24 per 5 days)
SLOTS = (time(7, 30), time(9, 0), time(10, 30), time(12, 0), time(13, 30), time(15, 0), time(16, 30))
WORK_START, WORK_END = time(7, 0), time(18, 30)
ZONES = ("Australia/Melbourne", "Australia/Sydney", "Australia/Brisbane", "Australia/Perth",
         "Australia/Adelaide", "Australia/Hobart")
CITIES = ("Melbourne", "Sydney", "Brisbane", "Perth", "Adelaide", "Hobart")
SURNAMES = ("Nguyen", "Smith", "Williams", "Brown", "Wilson", "Taylor", "Johnson", "White", "Martin",
            "Anderson", "Thompson", "Tran", "Thomas", "Walker", "Harris", "Lee", "Ryan", "Robinson",
            "Kelly", "King", "Davis", "Wright", "Evans", "Roberts", "Green", "Hall", "Wood", "Jackson",
            "Clarke", "Patel", "Khan", "Lewis", "James", "Phillips", "Mitchell", "Turner", "Young",
            "Singh", "Chen", "Wang", "Murphy", "Campbell", "Edwards", "Scott", "Baker", "Morris",
            "Cooper", "Hughes", "Stewart", "Moore")
TOPICS = ("Cockpit drill and moving off", "Steering and lane position", "Intersections", "Roundabouts",
          "Reverse parallel parking", "Three-point turn", "Merging and lane changes", "Hazard perception",
          "Freeway driving", "Night driving", "Test route practice", "Wet-weather driving")
COURSES = ("Learner starter (5 lessons)", "Standard licence (10 lessons)", "Intensive licence (20 lessons)",
           "Test preparation", "Overseas licence conversion", "Refresher for returning drivers",
           "Automatic to manual", "Defensive driving")
# the scaled demo's courses: same number (build_finance's requests rotate over them), no lesson count in the
# title (their lesson count is the size's lessons per student)
DEMO_COURSES = ("Learner starter", "Standard licence", "Intensive licence", "Test preparation",
                "Overseas licence conversion", "Refresher for returning drivers", "Automatic to manual",
                "Defensive driving")
FIRST_NAMES = ("Olivia", "Noah", "Charlotte", "Oliver", "Amelia", "William", "Isla", "Jack", "Mia", "Leo",
               "Ava", "Henry", "Grace", "Lucas", "Chloe", "Thomas", "Zoe", "James", "Ruby", "Ethan", "Sophie",
               "Liam", "Harper", "Max", "Ella", "Samuel", "Aria", "Hudson", "Ivy", "Archie", "Matilda", "Arlo",
               "Willow", "Harrison", "Evie", "Oscar", "Sienna", "Lachlan", "Layla", "Riley")


@dataclass(frozen=True)
class ChainSize:
    branches: int = 50
    instructors: int = 2000
    students: int = 200_000
    lessons: int = 4_000_000

    @property
    def lessons_per_instructor(self) -> int:
        return max(1, self.lessons // self.instructors)

    @property
    def students_per_instructor(self) -> int:
        return max(1, self.students // self.instructors)

    @property
    def lessons_per_student(self) -> int:
        return max(1, self.lessons_per_instructor // self.students_per_instructor)

    @property
    def real(self) -> "ChainSize":
        """The size actually built (per-instructor counts are whole numbers)."""
        return ChainSize(branches=min(self.branches, self.instructors), instructors=self.instructors,
                         students=self.students_per_instructor * self.instructors,
                         lessons=self.lessons_per_instructor * self.instructors)


# ------------------------------------------------------------------------------------------ dialect

class _Sql:
    """The few expressions that differ between MariaDB and SQLite."""

    def __init__(self, db: Database):
        self.mysql = db.backend == "mysql"

    def div(self, a: str, b: int | str) -> str:
        return f"(({a}) DIV ({b}))" if self.mysql else f"(({a}) / ({b}))"

    def cat(self, *parts: str) -> str:
        return f"CONCAT({', '.join(parts)})" if self.mysql else "(" + " || ".join(parts) + ")"

    def add_days(self, day: str, days: str) -> str:
        return f"DATE_ADD({day}, INTERVAL ({days}) DAY)" if self.mysql else f"date({day}, printf('%+d days', {days}))"

    def at(self, day: str, moment: str) -> str:
        """A DATETIME from a DATE and a TIME expression."""
        return f"TIMESTAMP({day}, {moment})" if self.mysql else f"({day} || ' ' || {moment})"

    def year(self, day: str) -> str:
        return f"YEAR({day})" if self.mysql else f"CAST(strftime('%Y', {day}) AS INTEGER)"

    def pad6(self, n: str) -> str:
        return f"LPAD({n}, 6, '0')" if self.mysql else f"printf('%06d', {n})"

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.mysql else f"MIN({a}, {b})"

    def seq(self, lo: int, hi: int) -> str:
        """A derived table of n = lo..hi (inclusive)."""
        return (f"(SELECT seq AS n FROM seq_{lo}_to_{hi})" if self.mysql else  # nosec B608 # interpolates only the integer bounds of the number table this module picks
                f"(SELECT n FROM bench_seq WHERE n BETWEEN {lo} AND {hi})")  # nosec B608 # interpolates only the integer bounds of the number table this module picks


def _bulk(db: Database, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], batch: int = 2000) -> int:
    """Multi-row INSERTs through the raw driver (the app's Database inserts one row at a time)."""
    mark = "%s" if db.backend == "mysql" else "?"
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "  # nosec B608 # table and column names are literals of this module's calls; rows go through driver placeholders
    one = "(" + ", ".join([mark] * len(columns)) + ")"
    batch = min(batch, 30_000 // len(columns))
    cursor = db.connection.cursor()
    done, pending = 0, []

    def flush() -> None:
        nonlocal done
        if pending:
            cursor.execute(head + ", ".join([one] * len(pending)), [v for row in pending for v in row])
            done += len(pending)
            pending.clear()

    for row in rows:
        pending.append(tuple(row))
        if len(pending) >= batch:
            flush()
    flush()
    cursor.close()
    return done


def _chunks(total: int) -> Iterable[tuple[int, int]]:
    for lo in range(0, total, CHUNK):
        yield lo, min(total, lo + CHUNK) - 1


# ------------------------------------------------------------------------------------------ shape

def branch_sizes(instructors: int, branches: int) -> list[int]:
    """Instructors per branch (sums to ``instructors``): a fifth of the branches 1.25 x the average."""
    branches = max(1, min(branches, instructors))
    average = instructors / branches
    large_n, medium_n = branches // 5, (2 * branches) // 5
    large, medium = round(average * 1.25), int(average)
    small_n = branches - large_n - medium_n
    left = instructors - large_n * large - medium_n * medium
    if small_n <= 0 or left < small_n:
        sizes = [instructors // branches] * branches
        for k in range(instructors - sum(sizes)):
            sizes[k] += 1
        return sizes
    small = [left // small_n] * small_n
    for k in range(left - sum(small)):
        small[k] += 1
    return [large] * large_n + [medium] * medium_n + small


def work_weekdays(pattern: int) -> list[int]:
    """The 4 weekdays (0 = Monday) an instructor of ``pattern`` (0..5) works: Mon-Sat minus two."""
    off = {pattern % 6, (pattern + 3) % 6}
    return [d for d in range(6) if d not in off]


def _plus(moment: time, minutes: int) -> time:
    return (datetime.combine(date.min, moment) + timedelta(minutes=minutes)).time()


@dataclass(frozen=True)
class _Plan:
    size: ChainSize
    today: date
    first_monday: date
    weeks: int
    working_days: int
    branch_of: list[int]  # branch id per instructor index
    domain: str = "bench-origin.com"

    @property
    def span(self) -> tuple[date, date]:
        return self.first_monday, self.first_monday + timedelta(weeks=self.weeks) - timedelta(days=1)


def _plan(size: ChainSize, today: date, domain: str = "bench-origin.com") -> _Plan:
    per = size.lessons_per_instructor
    working_days = math.ceil(per / sum(DAY_COUNTS)) * len(DAY_COUNTS)
    weeks = math.ceil(working_days / 4)
    monday = today - timedelta(days=today.weekday())
    first_monday = monday - timedelta(weeks=round(weeks * 0.75))
    branch_of = []
    for branch, count in enumerate(branch_sizes(size.instructors, size.branches), start=1):
        branch_of += [branch] * count
    return _Plan(size, today, first_monday, weeks, working_days, branch_of, domain)


def _day_of(plan: _Plan, pattern: int, w: int) -> date:
    days = work_weekdays(pattern)
    return plan.first_monday + timedelta(weeks=w // 4, days=days[w % 4])


def _lesson_position(j: int) -> tuple[int, int]:
    """(working-day index, slot number before rotation) of an instructor's j-th lesson."""
    block, r = divmod(j, sum(DAY_COUNTS))
    for d, count in enumerate(DAY_COUNTS):
        if r < count:
            return block * len(DAY_COUNTS) + d, r
        r -= count
    raise AssertionError(j)


# ------------------------------------------------------------------------------------------ build

def build_chain(db: Database, size: ChainSize, *, today: date, now: datetime, password_hash: str,
                log=print, domain: str = "bench-origin.com", courses: Sequence[str] = COURSES,
                course_lessons: int = 10, tick: Callable[[str, float], None] | None = None) -> dict:
    """Fill an empty, freshly initialised database (``init_db``); returns what was built and timings.
    ``domain`` is the e-mail domain of every account, ``courses`` the course titles (8), each with
    ``course_lessons`` lessons; ``tick(step, fraction)`` is told how far each step is (0..1)."""
    size = size.real
    plan = _plan(size, today, domain)
    tick = tick or (lambda step, fraction: None)
    sql = _Sql(db)
    started = timer.perf_counter()
    steps: dict[str, float] = {}

    def step(name: str, since: float) -> float:
        steps[name] = round(timer.perf_counter() - since, 1)
        log(f"  {name}: {steps[name]} s")
        return timer.perf_counter()

    if sql.mysql:
        db.execute("SET SESSION foreign_key_checks = 0, unique_checks = 0")
    try:
        t = timer.perf_counter()
        _helpers(db, sql, plan)
        t = step("lookup tables", t)
        _people(db, plan, now, password_hash, courses, course_lessons)
        t = step("branches, staff, instructors, cars, hours", t)
        tick("people", 1.0)
        _students(db, sql, plan, now, password_hash, lambda f: tick("students", f))
        t = step(f"{size.students:,} students (accounts, profiles, enrolments)", t)
        deferred = _drop_secondary_indexes(db, "schedules") if sql.mysql else []
        _lessons(db, sql, plan, lambda f: tick("lessons", f))
        t = step(f"{size.lessons:,} lessons", t)
        if deferred:
            _restore_indexes(db, "schedules", deferred)
            t = step(f"{len(deferred)} lesson indexes rebuilt", t)
        tick("indexes", 1.0)
        reminders = _reminders(db, sql, plan, now)
        t = step(f"{reminders:,} pending reminders", t)
        tick("reminders", 1.0)
        for table in HELPER_TABLES:
            db.execute(f"DROP TABLE IF EXISTS {table}")
    finally:
        if sql.mysql:
            db.execute("SET SESSION foreign_key_checks = 1, unique_checks = 1")
    seconds = round(timer.perf_counter() - started, 1)
    report = {**asdict(size), "vehicles": size.instructors, "reminders": reminders,
              "span": [d.isoformat() for d in plan.span], "built_on": today.isoformat(),
              "build_seconds": seconds, "steps": steps}
    _write_meta(db, report)
    return report


def built_size(db: Database) -> dict | None:
    """The ``bench_meta`` record of a database built by :func:`build_chain`, or None."""
    if "bench_meta" not in db.tables():
        return None
    rows = {r["name"]: r["value"] for r in db.fetch_all("SELECT name, value FROM bench_meta")}
    if rows.get("builder") != BUILDER_VERSION:
        return None
    out: dict[str, Any] = dict(rows)
    for key in ("branches", "instructors", "students", "lessons", "vehicles", "reminders"):
        out[key] = int(rows.get(key, 0))
    out["build_seconds"] = float(rows.get("build_seconds", 0))
    return out


def _write_meta(db: Database, report: dict) -> None:
    db.execute("DROP TABLE IF EXISTS bench_meta")
    db.execute("CREATE TABLE bench_meta (name VARCHAR(40) NOT NULL PRIMARY KEY, value VARCHAR(255) NOT NULL)")
    values = {"builder": BUILDER_VERSION, **{k: v for k, v in report.items() if k not in ("steps", "span")},
              "span_from": report["span"][0], "span_to": report["span"][1]}
    _bulk(db, "bench_meta", ("name", "value"), [(k, str(v)) for k, v in values.items()])


def _helpers(db: Database, sql: _Sql, plan: _Plan) -> None:
    """Lookup tables that carry the date and time arithmetic of the big INSERT ... SELECTs."""
    size = plan.size
    for table in HELPER_TABLES:
        db.execute(f"DROP TABLE IF EXISTS {table}")
    if not sql.mysql:
        db.execute("CREATE TABLE bench_seq (n INTEGER PRIMARY KEY)")
        db.execute("INSERT INTO bench_seq (n) WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c"
                   " WHERE n < :top) SELECT n FROM c", {"top": max(size.lessons, size.students) - 1})
    db.execute("CREATE TABLE bench_instr (i INT PRIMARY KEY, branch_id INT NOT NULL, pattern INT NOT NULL,"
               " user_id INT NOT NULL, staff_user_id INT NOT NULL)")
    base_iu = _base_instructor_user(plan)
    _bulk(db, "bench_instr", ("i", "branch_id", "pattern", "user_id", "staff_user_id"),
          [(i, b, i % 6, base_iu + i, 1 + b) for i, b in enumerate(plan.branch_of)])
    db.execute("CREATE TABLE bench_calendar (pattern INT NOT NULL, w INT NOT NULL, day DATE NOT NULL,"
               " past INT NOT NULL, recent INT NOT NULL, created DATETIME NOT NULL, cancel_at DATETIME NOT NULL,"
               " mark_at DATETIME NOT NULL, PRIMARY KEY (pattern, w))")
    rows = []
    for pattern in range(6):
        for w in range(plan.working_days):
            day = _day_of(plan, pattern, w)
            # booked a fortnight ahead (further ahead: in the last twelve weeks), cancelled the afternoon
            # before (at the latest yesterday): nothing happened after today
            yesterday = plan.today - timedelta(days=1)
            rows.append((pattern, w, day, int(day < plan.today), int(plan.today - timedelta(days=14) <= day < plan.today),
                         datetime.combine(min(day - timedelta(days=14), yesterday - timedelta(days=w % 84)),
                                          time(9, 15)),
                         datetime.combine(min(day - timedelta(days=1), yesterday), time(16, 40)),
                         datetime.combine(day, time(18, 5))))
    _bulk(db, "bench_calendar", ("pattern", "w", "day", "past", "recent", "created", "cancel_at", "mark_at"), rows)
    db.execute("CREATE INDEX bench_calendar_day ON bench_calendar (day)")  # the lessons are inserted by date
    db.execute("CREATE INDEX bench_instr_pattern ON bench_instr (pattern)")
    db.execute("CREATE TABLE bench_pattern (r INT PRIMARY KEY, day_off INT NOT NULL, slot_k INT NOT NULL)")
    _bulk(db, "bench_pattern", ("r", "day_off", "slot_k"),
          [(r, *_lesson_position(r)) for r in range(sum(DAY_COUNTS))])
    db.execute("CREATE INDEX bench_pattern_day ON bench_pattern (day_off)")
    db.execute("CREATE TABLE bench_slots (slot INT PRIMARY KEY, start_time TIME NOT NULL, end60 TIME NOT NULL,"
               " end90 TIME NOT NULL)")
    _bulk(db, "bench_slots", ("slot", "start_time", "end60", "end90"),
          [(k, s, _plus(s, 60), _plus(s, 90)) for k, s in enumerate(SLOTS)])
    # enrolment status per (pattern, group of students): completed once the group's block is over
    per_block = GROUP * size.lessons_per_student
    groups = math.ceil(size.students_per_instructor / GROUP)
    db.execute("CREATE TABLE bench_blocks (pattern INT NOT NULL, b INT NOT NULL, status VARCHAR(20) NOT NULL,"
               " start_date DATE NOT NULL, PRIMARY KEY (pattern, b))")
    rows = []
    for pattern in range(6):
        for b in range(groups + 1):
            first_j, last_j = b * per_block, min((b + 1) * per_block, size.lessons_per_instructor) - 1
            if first_j > last_j:
                rows.append((pattern, b, "active", plan.today))
                continue
            first = _day_of(plan, pattern, _lesson_position(first_j)[0])
            last = _day_of(plan, pattern, _lesson_position(last_j)[0])
            status = "completed" if last < plan.today - timedelta(days=7) else "active"
            rows.append((pattern, b, status, first - timedelta(days=7)))
    _bulk(db, "bench_blocks", ("pattern", "b", "status", "start_date"), rows)
    db.execute("CREATE TABLE bench_names (k INT PRIMARY KEY, name VARCHAR(80) NOT NULL)")
    _bulk(db, "bench_names", ("k", "name"), list(enumerate(SURNAMES)))
    db.execute("CREATE TABLE bench_first (k INT PRIMARY KEY, name VARCHAR(80) NOT NULL)")
    _bulk(db, "bench_first", ("k", "name"), list(enumerate(FIRST_NAMES)))
    db.execute("CREATE TABLE bench_topics (k INT PRIMARY KEY, name VARCHAR(160) NOT NULL)")
    _bulk(db, "bench_topics", ("k", "name"), list(enumerate(TOPICS)))


def _base_instructor_user(plan: _Plan) -> int:
    return plan.size.branches + 2  # admin 1, staff 2..branches+1, then instructors


def _base_student_user(plan: _Plan) -> int:
    return _base_instructor_user(plan) + plan.size.instructors


def _people(db: Database, plan: _Plan, now: datetime, password_hash: str, courses: Sequence[str] = COURSES,
            course_lessons: int = 10) -> None:
    size, today, at = plan.size, plan.today, "@" + plan.domain
    _bulk(db, "branches", ("id", "name", "address", "city", "state", "postcode", "phone", "email", "manager_name",
                           "opening_hours", "created_at", "updated_at", "timezone"),
          [(b, f"{CITIES[(b - 1) % 6]} {b:03d}", f"{b} Learner Road", CITIES[(b - 1) % 6], None, f"{3000 + b}",
            f"03 9000 {b:04d}", f"branch{b}{at}", f"Manager {b}", "Mon-Fri 7-7, Sat 7-6", now, now,
            ZONES[(b - 1) % 6]) for b in range(1, size.branches + 1)])
    _bulk(db, "branch_opening_hours", ("branch_id", "weekday", "open_time", "close_time", "created_at", "updated_at"),
          [(b, d, time(7, 0), time(19, 0) if d < 5 else time(18, 0), now, now)
           for b in range(1, size.branches + 1) for d in range(6)])
    users = [(1, "admin", "Ada", "Admin", f"admin{at}", password_hash, "active", 1, now, now)]
    users += [(1 + b, "staff", f"Sam{b}", "Staff", f"staff{b}{at}", password_hash, "active", b, now, now)
              for b in range(1, size.branches + 1)]
    base_iu = _base_instructor_user(plan)
    users += [(base_iu + i, "instructor", FIRST_NAMES[(i * 7) % len(FIRST_NAMES)], SURNAMES[i % len(SURNAMES)],
               f"i{i}{at}",
               password_hash, "active", b, now, now) for i, b in enumerate(plan.branch_of)]
    _bulk(db, "users", ("id", "role", "first_name", "last_name", "email", "password_hash", "status", "branch_id",
                        "created_at", "updated_at"), users)
    _bulk(db, "staff_profiles", ("user_id", "branch_id", "position_title", "employment_type", "start_date",
                                 "created_at", "updated_at"),
          [(1 + b, b, "Branch coordinator", "full-time", today - timedelta(days=900), now, now)
           for b in range(1, size.branches + 1)])
    _bulk(db, "instructors", ("id", "user_id", "branch_id", "certification_number", "accreditation_expiry",
                              "experience_years", "created_at", "updated_at"),
          [(i + 1, base_iu + i, b, f"DI-{i:05d}",
            today - timedelta(days=10 + i % 90) if i % 33 == 32 else today + timedelta(days=120 + (i * 7) % 900),
            i % 25, now, now) for i, b in enumerate(plan.branch_of)])
    _bulk(db, "vehicles", ("id", "name", "type", "transmission", "plate_number", "branch_id", "status",
                           "last_service_date", "next_service_due", "created_at", "updated_at", "odometer_km"),
          [(i + 1, f"Corolla {i:04d}", "Hatch", "automatic" if i % 4 else "manual", f"BN{i:05d}", b,
            "maintenance" if i % 50 == 49 else "available", today - timedelta(days=i % 150),
            today + timedelta(days=60 + i % 300), now, now, 20_000 + i * 13) for i, b in enumerate(plan.branch_of)])
    _bulk(db, "courses", ("id", "title", "description", "price", "lesson_count", "category", "status",
                          "created_at", "updated_at"),
          [(k + 1, title, None, "880.00", course_lessons, "Car", "active", now, now)
           for k, title in enumerate(courses)])
    _bulk(db, "course_instructor", ("course_id", "instructor_id"),
          [(k + 1, i + 1) for i in range(size.instructors) for k in range(len(courses))])
    _bulk(db, "instructor_working_hours", ("instructor_id", "weekday", "start_time", "end_time", "created_at",
                                           "updated_at"),
          [(i + 1, d, WORK_START, WORK_END, now, now) for i in range(size.instructors) for d in work_weekdays(i % 6)])
    windows = []
    for i in range(size.instructors):
        off = min({0, 1, 2, 3, 4, 5} - set(work_weekdays(i % 6)))
        for week in range(i % 6, plan.weeks, 6):
            day = plan.first_monday + timedelta(weeks=week, days=off)
            windows.append((i + 1, datetime.combine(day, time(8, 0)), datetime.combine(day, time(17, 0)),
                            "Professional development", now, now))
    _bulk(db, "instructor_unavailability", ("instructor_id", "start_datetime", "end_datetime", "reason",
                                            "created_at", "updated_at"), windows)
    downtime = []
    for i in range(size.instructors):
        for week in range(i % 8, plan.weeks, 8):
            day = plan.first_monday + timedelta(weeks=week, days=6)
            downtime.append((i + 1, datetime.combine(day, time(8, 0)), datetime.combine(day, time(12, 0)),
                             "Scheduled service", now, now))
    _bulk(db, "vehicle_downtime", ("vehicle_id", "start_datetime", "end_datetime", "reason", "created_at",
                                   "updated_at"), downtime)


def _students(db: Database, sql: _Sql, plan: _Plan, now: datetime, password_hash: str,
              tick: Callable[[float], None] = lambda f: None) -> None:
    size = plan.size
    si = size.students_per_instructor
    base_su = _base_student_user(plan)
    names = len(SURNAMES)
    for lo, hi in _chunks(size.students):
        params = {"hash": password_hash, "now": now, "today": plan.today}
        db.execute(
            "INSERT INTO users (id, role, first_name, last_name, email, phone, password_hash, status, branch_id,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
            " created_at, updated_at)"
            f" SELECT {base_su} + q.n, 'student', fn.name, nm.name,"
            f" {sql.cat(repr('s'), 'q.n', repr('@' + plan.domain))}, {sql.cat(repr('04'), '10000000 + q.n')},"
            " :hash, 'active', bi.branch_id, :now, :now"
            f" FROM {sql.seq(lo, hi)} q"
            f" JOIN bench_instr bi ON bi.i = {sql.div('q.n', si)}"
            f" JOIN bench_names nm ON nm.k = q.n % {names}"
            f" JOIN bench_first fn ON fn.k = {sql.div('q.n', names)} % {len(FIRST_NAMES)}", params)
        db.execute(
            "INSERT INTO students (id, user_id, branch_id, license_number, license_status, license_expiry,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
            " address_line, city, postcode, created_at, updated_at)"
            f" SELECT q.n + 1, {base_su} + q.n, bi.branch_id, {sql.cat(repr('L'), '10000000 + q.n')}, 'Learner',"
            f" {sql.add_days(':today', '30 + q.n % 1400')}, {sql.cat('q.n % 300 + 1', repr(' Practice Street'))},"
            " 'Melbourne', '3000', :now, :now"
            f" FROM {sql.seq(lo, hi)} q JOIN bench_instr bi ON bi.i = {sql.div('q.n', si)}", params)
        db.execute(
            "INSERT INTO enrollments (id, student_id, course_id, start_date, status, progress_percentage,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
            " created_at, updated_at)"
            f" SELECT q.n + 1, q.n + 1, q.n % {len(COURSES)} + 1, bb.start_date, bb.status,"
            " CASE WHEN bb.status = 'completed' THEN 100 ELSE 40 END, :now, :now"
            f" FROM {sql.seq(lo, hi)} q JOIN bench_instr bi ON bi.i = {sql.div('q.n', si)}"
            f" JOIN bench_blocks bb ON bb.pattern = bi.pattern AND bb.b = {sql.div(f'q.n % {si}', GROUP)}", params)
        tick((hi + 1) / size.students)


def _lessons(db: Database, sql: _Sql, plan: _Plan, tick: Callable[[float], None] = lambda f: None) -> None:
    """Every instructor's lessons, inserted in date and time order with consecutive ids (ids follow the
    date, as bookings made a fortnight ahead do, so one instructor's week is spread over the table like
    in production), a fortnight of the calendar per statement. The lesson ``j`` of instructor ``i`` is the one of number
    ``n = i * lessons_per_instructor + j``, which seeds its status, type and length."""
    size = plan.size
    li, si, lps = size.lessons_per_instructor, size.students_per_instructor, size.lessons_per_student
    per_block = GROUP * lps
    days = len(DAY_COUNTS)
    j = f"({sql.div('c.w', days)} * {sum(DAY_COUNTS)} + p.r)"
    n = f"(bi.i * {li} + {j})"
    local = f"(({sql.div(j, per_block)} * {GROUP} + {j} % {GROUP}) % {si})"
    h, h2 = f"(({n} * 7919 + 13) % 100)", f"(({n} * 6007 + 3) % 97)"
    status = (f"CASE WHEN c.past = 1 THEN CASE WHEN c.recent = 1 AND {h} >= 85 THEN 'scheduled'"
              f" WHEN {h} < 84 THEN 'completed' WHEN {h} < 91 THEN 'cancelled' WHEN {h} < 95 THEN 'no_show'"
              f" WHEN {h} < 98 THEN 'not_completed' ELSE 'scheduled' END"
              f" ELSE CASE WHEN {h} < 94 THEN 'scheduled' ELSE 'cancelled' END END")
    kind = f"CASE WHEN {h2} < 3 THEN 'exam' WHEN {h2} < 7 THEN 'assessment' ELSE 'lesson' END"
    first, last = plan.span
    window = timedelta(days=14)
    day, inserted = first, 0
    while day <= last:
        inserted += db.execute(
            "INSERT INTO schedules (id, enrollment_id, instructor_id, vehicle_id, branch_id, event_type,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
            " scheduled_date, start_time, end_time, status, student_rating, completion_marked_by,"
            " completion_marked_at, lesson_topic, reminder_sent, created_at, updated_at, cancelled_at,"
            " cancelled_by, cancel_reason)"
            " SELECT :base + ROW_NUMBER() OVER (ORDER BY x.day, x.start_time, x.instructor_id),"
            " x.enrollment_id, x.instructor_id, x.vehicle_id, x.branch_id, x.event_type,"
            " x.day, x.start_time, x.end_time, x.st,"
            " CASE WHEN x.st = 'completed' THEN 3 + x.h % 3 END,"
            " CASE WHEN x.st IN ('completed', 'no_show', 'not_completed') THEN x.instructor_user END,"
            " CASE WHEN x.st IN ('completed', 'no_show', 'not_completed') THEN x.mark_at END,"
            " x.topic, x.past, x.created, x.created,"
            " CASE WHEN x.st = 'cancelled' THEN x.cancel_at END,"
            " CASE WHEN x.st = 'cancelled' THEN x.staff_user END,"
            " CASE WHEN x.st = 'cancelled' THEN CASE WHEN x.h % 3 = 0 THEN 'Student unwell'"
            "   WHEN x.h % 3 = 1 THEN 'Rescheduled at the student''s request' ELSE 'Instructor unavailable' END END"
            " FROM (SELECT"
            f"   bi.i * {si} + {local} + 1 AS enrollment_id, bi.i + 1 AS instructor_id,"
            f"   CASE WHEN {h2} % 20 = 5 THEN NULL ELSE bi.i + 1 END AS vehicle_id, bi.branch_id,"
            f"   {kind} AS event_type, c.day, sl.start_time,"
            f"   CASE WHEN {h2} < 7 OR {h2} % 10 = 9 THEN sl.end90 ELSE sl.end60 END AS end_time,"
            f"   {status} AS st, {h} AS h, c.past, c.created, c.cancel_at, c.mark_at,"
            "   bi.user_id AS instructor_user, bi.staff_user_id AS staff_user, tp.name AS topic"
            "   FROM bench_calendar c"
            "   JOIN bench_instr bi ON bi.pattern = c.pattern"
            f"   JOIN bench_pattern p ON p.day_off = c.w % {days}"
            f"   JOIN bench_slots sl ON sl.slot = (p.slot_k + c.w * 3) % {len(SLOTS)}"
            f"   JOIN bench_topics tp ON tp.k = {j} % {len(TOPICS)}"
            f"   WHERE c.day >= :first AND c.day < :after AND {j} < {li}) x"
            " ORDER BY x.day, x.start_time, x.instructor_id",
            {"first": day, "after": day + window, "base": inserted}).rowcount
        day += window
        tick(inserted / size.lessons)
    if inserted != size.lessons:
        raise RuntimeError(f"built {inserted} lessons, expected {size.lessons}")


def _drop_secondary_indexes(db: Database, table: str) -> list[tuple[str, list[str]]]:
    """MariaDB, foreign-key checks off (this session): drop every non-unique secondary index of ``table``
    and return their definitions. Rows then arrive without random inserts into ten indexes of a table
    far larger than the buffer pool, and :func:`_restore_indexes` builds them by sorting (a third of the
    time); the restored set is checked to be exactly the one the schema declared."""
    indexes: dict[str, list[str]] = {}
    for r in db.fetch_all(
            "SELECT index_name AS name, column_name AS col FROM information_schema.statistics"
            " WHERE table_schema = DATABASE() AND table_name = :t AND index_name <> 'PRIMARY' AND non_unique = 1"
            " ORDER BY index_name, seq_in_index", {"t": table}):
        indexes.setdefault(r["name"], []).append(r["col"])
    deferred = sorted(indexes.items())
    if deferred:
        db.execute(f"ALTER TABLE {table} " + ", ".join(f"DROP INDEX {name}" for name, _ in deferred))
    return deferred


def _restore_indexes(db: Database, table: str, deferred: list[tuple[str, list[str]]]) -> None:
    db.execute(f"ALTER TABLE {table} " + ", ".join(f"ADD INDEX {name} ({', '.join(cols)})" for name, cols in deferred))
    found: dict[str, list[str]] = {}
    for r in db.fetch_all(
            "SELECT index_name AS name, column_name AS col FROM information_schema.statistics"
            " WHERE table_schema = DATABASE() AND table_name = :t ORDER BY index_name, seq_in_index", {"t": table}):
        found.setdefault(r["name"], []).append(r["col"])
    missing = [name for name, cols in deferred if found.get(name) != cols]
    if missing:
        raise RuntimeError(f"indexes not restored on {table}: {missing}")


def _reminders(db: Database, sql: _Sql, plan: _Plan, now: datetime) -> int:
    base_su = _base_student_user(plan)
    total = 0
    send_on = f"{sql.add_days('s.scheduled_date', '-1')}"
    for lo, hi in _chunks(plan.size.lessons):
        total += db.execute(
            "INSERT INTO reminders (related_type, related_id, recipient_user_id, channel, reminder_type, message,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
            " send_on, status, created_at, updated_at, send_at)"
            f" SELECT 'schedule', s.id, {base_su} + s.enrollment_id - 1, 'email', 'lesson_reminder',"
            f" {sql.cat(repr('Reminder: your lesson is on '), 's.scheduled_date', repr(' at '), 's.start_time', repr('.'))},"
            f" {send_on}, 'pending', :now, :now, {sql.at(send_on, 's.start_time')}"
            " FROM schedules s WHERE s.id BETWEEN :lo AND :hi AND s.status = 'scheduled' AND s.scheduled_date >= :today",
            {"lo": lo + 1, "hi": hi + 1, "now": now, "today": plan.today}).rowcount
    return total


# ------------------------------------------------------------------------------------------ finance

FINANCE_VERSION = "1"
COURSE_FEE, EXTRA_LESSON, LATE_FEE, TOPUP_LESSON = 880, 75, 45, 75
TOPUPS = 12  # at most this many top-up invoices per long-history student (every 4 weeks)


def finance_built(db: Database) -> dict | None:
    """The finance rows of ``bench_meta`` (see :func:`build_finance`), or None when not built."""
    if "bench_meta" not in db.tables():
        return None
    rows = {r["name"]: r["value"] for r in db.fetch_all("SELECT name, value FROM bench_meta WHERE name LIKE 'fin%'")}
    return rows if rows.get("finance_builder") == FINANCE_VERSION else None


def build_finance(db: Database, *, students: int, today: date, now: datetime, log=print) -> dict:
    """Invoices, invoice lines, payments, credit notes and pending enrolment requests for the enrolments of
    a chain built by :func:`build_chain` (enrolment ``k`` belongs to student ``k``, ``k <= students``), in
    one transaction, set-based; records the counts in ``bench_meta`` (``fin_*`` rows). Refuses to run
    when the database already has invoices (it would not know how they fit)."""
    sql = _Sql(db)
    if db.fetch_value("SELECT COUNT(*) AS n FROM invoices", cast=int):
        raise RuntimeError("the database already has invoices but no finance record in bench_meta: rebuild it")
    started = timer.perf_counter()
    steps: dict[str, float] = {}

    def step(name: str, since: float) -> float:
        steps[name] = round(timer.perf_counter() - since, 1)
        log(f"  {name}: {steps[name]} s")
        return timer.perf_counter()

    db.execute("DROP TABLE IF EXISTS bench_fin_k")
    db.execute("CREATE TABLE bench_fin_k (k INT PRIMARY KEY)")
    _bulk(db, "bench_fin_k", ("k",), [(k,) for k in range(1, TOPUPS + 1)])
    p = {"today": today, "now": now, "students": students}
    h = "((e.id * 7919 + 13) % 100)"
    lines = "(1 + e.id % 3)"
    sub = (f"({COURSE_FEE} + CASE WHEN {lines} >= 2 THEN {2 * EXTRA_LESSON} ELSE 0 END"
           f" + CASE WHEN {lines} = 3 THEN {LATE_FEE} ELSE 0 END)")
    topup_day = sql.add_days("e.start_date", "28 * t.k")
    t = timer.perf_counter()
    with db.transaction():
        # invoices in issue-date order (ids follow the date, as in production); notes tell the kinds apart
        invoices = db.execute(
            "INSERT INTO invoices (enrollment_id, invoice_number, issue_date, due_date, subtotal, tax_amount, total,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
            " status, notes, created_at, updated_at, discount_amount, tax_rate, tax_inclusive, branch_id, issued_at,"
            " credit_note_for, created_by)"
            f" SELECT x.eid, {sql.cat(repr('BENCH-'), 'x.eid', repr('-'), 'x.k')}, x.issue,"
            f" {sql.add_days('x.issue', '7')}, x.sub, x.sub / 10.0, x.sub * 11 / 10.0,"
            " CASE WHEN x.k > 0 OR x.h < 70 THEN 'paid' WHEN x.h < 90 THEN 'partial'"
            "   WHEN x.eid % 20 = 0 THEN 'paid'"
            f"   WHEN {sql.add_days('x.issue', '7')} < :today THEN 'overdue' ELSE 'sent' END,"
            " CASE WHEN x.k > 0 THEN 'Top-up package' END,"
            f" {sql.at('x.issue', repr('10:00:00'))}, {sql.at('x.issue', repr('10:00:00'))}, 0, 10.00, 0,"
            f" x.branch_id, {sql.at('x.issue', repr('10:00:00'))}, NULL, 1 + x.branch_id"
            " FROM ("
            f"   SELECT e.id AS eid, 0 AS k, {sql.least('e.start_date', ':today')} AS issue, {sub} AS sub,"
            f"   {h} AS h, st.branch_id FROM enrollments e JOIN students st ON st.id = e.student_id"
            "   WHERE e.id <= :students"
            "   UNION ALL"
            f"   SELECT e.id, t.k, {topup_day}, {5 * TOPUP_LESSON}, {h}, st.branch_id"
            "   FROM enrollments e JOIN students st ON st.id = e.student_id JOIN bench_fin_k t ON 1 = 1"
            f"   WHERE e.id <= :students AND e.id % 100 = 1 AND {topup_day} <= :today) x"
            " ORDER BY x.issue, x.eid, x.k", p).rowcount
        t = step(f"{invoices:,} invoices", t)
        credit_notes = db.execute(
            "INSERT INTO invoices (enrollment_id, invoice_number, issue_date, due_date, subtotal, tax_amount, total,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
            " status, notes, created_at, updated_at, discount_amount, tax_rate, tax_inclusive, branch_id, issued_at,"
            " credit_note_for, created_by)"
            f" SELECT i.enrollment_id, {sql.cat(repr('BENCHCN-'), 'i.id')}, x.issue, x.issue,"
            " -i.total, -ROUND(i.total / 11.0, 2), -i.total, 'paid', 'Enrolment cancelled',"
            f" {sql.at('x.issue', repr('11:00:00'))}, {sql.at('x.issue', repr('11:00:00'))}, 0, 10.00, 1, i.branch_id,"
            f" {sql.at('x.issue', repr('11:00:00'))}, i.id, i.created_by"
            f" FROM invoices i JOIN (SELECT i2.id, {sql.least(sql.add_days('i2.due_date', '3'), ':today')} AS issue"
            "   FROM invoices i2 WHERE i2.notes IS NULL AND i2.credit_note_for IS NULL) x ON x.id = i.id"
            " JOIN enrollments e ON e.id = i.enrollment_id"
            f" WHERE i.notes IS NULL AND {h} >= 90 AND e.id % 20 = 0 ORDER BY x.issue, i.id", p).rowcount
        t = step(f"{credit_notes:,} credit notes", t)
        # numbers in issue order per year, then the counters continue from the last one
        number = sql.cat(repr("INV-"), f"{sql.year('n.issue_date')}", repr("-"), sql.pad6("n.rn"))
        ranked = (f"SELECT id, issue_date, ROW_NUMBER() OVER (PARTITION BY {sql.year('issue_date')}"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
                  " ORDER BY issue_date, id) AS rn FROM invoices")
        if sql.mysql:
            db.execute(f"UPDATE invoices i JOIN ({ranked}) n ON n.id = i.id SET i.invoice_number = {number}")  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
        else:
            db.execute(f"UPDATE invoices SET invoice_number = {number} FROM ({ranked}) n WHERE n.id = invoices.id")  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
        for row in db.fetch_all(f"SELECT {sql.year('issue_date')} AS y, COUNT(*) AS n FROM invoices GROUP BY 1"):  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
            if sql.mysql:
                db.execute("INSERT INTO invoice_counters (year, last_number) VALUES (:y, :n)"
                           " ON DUPLICATE KEY UPDATE last_number = GREATEST(last_number, VALUES(last_number))",
                           {"y": int(row["y"]), "n": int(row["n"])})
            else:
                db.execute("INSERT INTO invoice_counters (year, last_number) VALUES (:y, :n)"
                           " ON CONFLICT (year) DO UPDATE SET last_number = MAX(last_number, excluded.last_number)",
                           {"y": int(row["y"]), "n": int(row["n"])})
        t = step("invoice numbers and counters", t)
        items = db.execute(
            "INSERT INTO invoice_items (invoice_id, description, quantity, unit_price, total, kind, credits, discount)"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
            " SELECT i.id,"
            "  CASE WHEN i.notes IS NOT NULL THEN 'Top-up package: 5 lessons' WHEN l.k = 1 THEN"
            f"   {sql.cat('c.title', repr(' course fee'))} WHEN l.k = 2 THEN 'Extra lessons'"
            "   ELSE 'Late cancellation fee' END,"
            f"  CASE WHEN i.notes IS NOT NULL THEN 5 WHEN l.k = 2 THEN 2 ELSE 1 END,"
            f"  CASE WHEN i.notes IS NOT NULL THEN {TOPUP_LESSON} WHEN l.k = 1 THEN {COURSE_FEE}"
            f"   WHEN l.k = 2 THEN {EXTRA_LESSON} ELSE {LATE_FEE} END,"
            f"  CASE WHEN i.notes IS NOT NULL THEN {5 * TOPUP_LESSON} WHEN l.k = 1 THEN {COURSE_FEE}"
            f"   WHEN l.k = 2 THEN {2 * EXTRA_LESSON} ELSE {LATE_FEE} END,"
            "  CASE WHEN i.notes IS NOT NULL THEN 'package' WHEN l.k = 1 THEN 'course' WHEN l.k = 2 THEN 'lesson'"
            "   ELSE 'fee_late_cancel' END,"
            "  CASE WHEN i.notes IS NOT NULL THEN 5 WHEN l.k = 2 THEN 2 ELSE 0 END, 0"
            " FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id JOIN courses c ON c.id = e.course_id"
            " JOIN bench_fin_k l ON l.k <= CASE WHEN i.notes IS NOT NULL THEN 1 ELSE 1 + e.id % 3 END"
            " WHERE i.credit_note_for IS NULL ORDER BY i.id, l.k").rowcount
        items += db.execute(
            "INSERT INTO invoice_items (invoice_id, description, quantity, unit_price, total, kind, credits, discount)"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
            f" SELECT cn.id, {sql.cat(repr('Credit for '), 'o.invoice_number', repr(': enrolment cancelled'))},"
            " 1, cn.total, cn.total, 'credit', 0, 0 FROM invoices cn JOIN invoices o ON o.id = cn.credit_note_for"
            " ORDER BY cn.id").rowcount
        t = step(f"{items:,} invoice lines", t)
        # payments: paid in full (a third in two halves), part-paid 40 %; top-ups paid in full
        part = (f"CASE WHEN i.notes IS NOT NULL THEN i.total WHEN {h} >= 70 THEN ROUND(i.total * 0.4, 2)"
                " WHEN e.id % 3 = 0 AND l.k = 1 THEN ROUND(i.total / 2.0, 2) WHEN e.id % 3 = 0 THEN i.total - ROUND(i.total / 2.0, 2)"
                " ELSE i.total END")
        day = sql.least(sql.add_days("i.issue_date", f"CASE WHEN l.k = 2 THEN 6 ELSE {h} % 5 END"), ":today")
        payments = db.execute(
            "INSERT INTO payments (invoice_id, amount, payment_date, method, reference, notes, recorded_by,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
            " created_at, updated_at, kind)"
            " SELECT x.invoice_id, x.amount, x.day, x.method,"
            f" {sql.cat(repr('BNK-'), 'x.invoice_id', repr('-'), 'x.k')}, NULL,"
            " CASE WHEN x.method = 'gateway' THEN NULL ELSE x.staff END,"
            f" {sql.at('x.day', repr('12:00:00'))}, {sql.at('x.day', repr('12:00:00'))}, 'payment'"
            f" FROM (SELECT i.id AS invoice_id, l.k, {part} AS amount, {day} AS day, i.created_by AS staff,"
            f"   CASE {h} % 4 WHEN 0 THEN 'card' WHEN 1 THEN 'bank_transfer' WHEN 2 THEN 'cash' ELSE 'gateway' END"
            "   AS method"
            "   FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id"
            "   JOIN bench_fin_k l ON l.k <= CASE WHEN i.notes IS NULL AND e.id % 3 = 0 AND"
            f"     {h} < 70 THEN 2 ELSE 1 END"
            f"   WHERE i.credit_note_for IS NULL AND (i.notes IS NOT NULL OR {h} < 90)) x"
            " ORDER BY x.day, x.invoice_id, x.k", p).rowcount
        t = step(f"{payments:,} payments", t)
        requests = db.execute(
            "INSERT INTO enrollment_requests (student_id, course_id, preferred_date, status, student_notes, created_at,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
            " updated_at)"
            f" SELECT e.student_id, e.course_id % {len(COURSES)} + 1, {sql.add_days(':today', '14')}, 'pending',"
            " 'Applied online (bench)', :now, :now FROM enrollments e"
            " WHERE e.id <= :students AND e.student_id % 20 = 7 ORDER BY e.student_id", p).rowcount
        t = step(f"{requests:,} pending enrolment requests", t)
    db.execute("DROP TABLE IF EXISTS bench_fin_k")
    report = {"finance_builder": FINANCE_VERSION, "fin_invoices": invoices, "fin_credit_notes": credit_notes,
              "fin_invoice_items": items, "fin_payments": payments, "fin_pending_requests": requests,
              "fin_built_on": today.isoformat(), "fin_build_seconds": round(timer.perf_counter() - started, 1)}
    marks, params = db.in_params("k", list(report))
    db.execute(f"DELETE FROM bench_meta WHERE name IN ({marks})", params)  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
    _bulk(db, "bench_meta", ("name", "value"), [(k, str(v)) for k, v in report.items()])
    return {**report, "steps": steps}


# ------------------------------------------------------------------------------------------ the scaled demo
# What `flask seed-demo --scale` adds to a chain built by build_chain + build_finance (the benches do not
# need it): the demo logins, the package ledger, a history of sent reminders, in-app notifications and
# the events behind the audit trail (whose hashes app/services/scale_seed.py computes).

def demo_people(size: ChainSize, today: date) -> dict[str, int]:
    """Where the demo logins sit in a chain of ``size``: the admin, branch 1's staff member, instructor 1
    (branch 1) and one of instructor 1's students whose lessons run around ``today`` (past and coming
    ones, an active enrolment). Ids as build_chain gives them."""
    size = size.real
    plan = _plan(size, today)
    li, si, lps = size.lessons_per_instructor, size.students_per_instructor, size.lessons_per_student
    per_block = GROUP * lps
    j_today = next((j for j in range(li) if _day_of(plan, 0, _lesson_position(j)[0]) >= today), li - 1)
    local = (j_today // per_block) * GROUP
    if local >= si:
        local = 0
    base_su = _base_student_user(plan)
    return {"admin_user": 1, "staff_user": 2, "instructor_user": _base_instructor_user(plan), "instructor_id": 1,
            "branch_id": 1, "student_user": base_su + local, "student_id": local + 1, "enrollment_id": local + 1}


def rename_user(db: Database, user_id: int, *, email: str, first_name: str, last_name: str,
                phone: str | None = None) -> int:
    return db.execute(
        "UPDATE users SET email = :email, first_name = :first, last_name = :last, phone = COALESCE(:phone, phone)"
        " WHERE id = :id", {"id": user_id, "email": email, "first": first_name, "last": last_name,
                            "phone": phone}).rowcount


def _staff_of_branch() -> str:
    """A derived table: one office account per branch (the one build_chain made)."""
    return "(SELECT branch_id, MIN(user_id) AS uid FROM staff_profiles GROUP BY branch_id)"


def build_ledger(db: Database, *, today: date, now: datetime, covered: bool = False,
                 tick: Callable[[float], None] = lambda f: None) -> dict:
    """The package ledger (app/services/packages.py): every enrolment buys its course's lessons when it
    starts (source ``enrolment``, by its branch's office), every paid invoice line with credits adds them
    on its last payment's day (``invoice_line``, the line as source), and every completed or no-show lesson
    draws one credit on its outcome (``consume``, by the instructor who marked it); a draw past the
    enrolment's credits is a 0-credit row marked owed, as the app writes it. ``covered``: the caller
    knows that every enrolment's course holds at least its lessons (the scaled demo), so no draw can be
    owed and the draws need no numbering (no window sort: a third of this step at 4,000,000 lessons).
    Set-based, a range of enrolments per statement; returns the row counts."""
    sql = _Sql(db)
    top = int(db.fetch_value("SELECT COALESCE(MAX(id), 0) AS n FROM enrollments", cast=int) or 0)
    yesterday = today - timedelta(days=1)
    bought = used = lines = 0
    per = max(1, CHUNK // 20)
    for lo in range(1, top + 1, per):
        hi = min(top, lo + per - 1)
        bought += db.execute(
            "INSERT INTO package_ledger (enrollment_id, entry, credits, schedule_id, source, source_id, reason,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
            " expires_on, created_by, created_at)"
            f" SELECT e.id, 'purchase', c.lesson_count, NULL, 'enrolment', NULL, NULL, NULL, sp.uid,"
            f" {sql.at(sql.least('e.start_date', ':yesterday'), repr('10:00:00'))}"
            " FROM enrollments e JOIN courses c ON c.id = e.course_id JOIN students st ON st.id = e.student_id"
            f" LEFT JOIN {_staff_of_branch()} sp ON sp.branch_id = st.branch_id"
            " WHERE e.id BETWEEN :lo AND :hi AND c.lesson_count > 0 ORDER BY e.id",
            {"lo": lo, "hi": hi, "yesterday": yesterday}).rowcount
        tick(0.2 * hi / max(top, 1))
    lines = db.execute(
        "INSERT INTO package_ledger (enrollment_id, entry, credits, schedule_id, source, source_id, reason,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
        " expires_on, created_by, created_at)"
        " SELECT i.enrollment_id, 'purchase', it.credits, NULL, 'invoice_line', it.id, NULL, NULL, i.created_by,"
        f" {sql.at('p.last_day', repr('12:00:00'))}"
        " FROM invoice_items it JOIN invoices i ON i.id = it.invoice_id"
        " JOIN (SELECT invoice_id, SUM(amount) AS paid, MAX(payment_date) AS last_day FROM payments"
        "   GROUP BY invoice_id) p ON p.invoice_id = i.id"
        " WHERE it.credits > 0 AND p.paid >= i.total AND i.credit_note_for IS NULL ORDER BY p.last_day, it.id").rowcount
    tick(0.3)
    if covered:  # a range of lessons per statement, in the table's own order (no sort, no random reads)
        last = int(db.fetch_value("SELECT COALESCE(MAX(id), 0) AS n FROM schedules", cast=int) or 0)
        for lo in range(1, last + 1, CHUNK):
            used += db.execute(
                "INSERT INTO package_ledger (enrollment_id, entry, credits, schedule_id, source, source_id, reason,"
                " expires_on, created_by, created_at)"
                " SELECT s.enrollment_id, 'consume', -1, s.id, 'outcome', s.id, NULL, NULL, s.completion_marked_by,"
                " s.completion_marked_at FROM schedules s"
                " WHERE s.id BETWEEN :lo AND :hi AND s.status IN ('completed', 'no_show') ORDER BY s.id",
                {"lo": lo, "hi": lo + CHUNK - 1}).rowcount
            tick(0.3 + 0.7 * min(1.0, (lo + CHUNK) / max(last, 1)))
        return {"ledger_purchases": bought + lines, "ledger_line_purchases": lines, "ledger_consumes": used}
    for lo in range(1, top + 1, per):
        hi = min(top, lo + per - 1)
        used += db.execute(
            "INSERT INTO package_ledger (enrollment_id, entry, credits, schedule_id, source, source_id, reason,"
            " expires_on, created_by, created_at)"
            " SELECT x.enrollment_id, 'consume', CASE WHEN x.rn <= x.credits THEN -1 ELSE 0 END, x.id, 'outcome',"
            " x.id, CASE WHEN x.rn <= x.credits THEN NULL ELSE :owed END, NULL, x.marked_by, x.marked_at"
            " FROM (SELECT s.id, s.enrollment_id, s.completion_marked_by AS marked_by,"
            "   s.completion_marked_at AS marked_at, c.lesson_count AS credits,"
            "   ROW_NUMBER() OVER (PARTITION BY s.enrollment_id ORDER BY s.scheduled_date, s.start_time, s.id) AS rn"
            "   FROM schedules s JOIN enrollments e ON e.id = s.enrollment_id JOIN courses c ON c.id = e.course_id"
            "   WHERE s.enrollment_id BETWEEN :lo AND :hi AND s.status IN ('completed', 'no_show')) x"
            " ORDER BY x.marked_at, x.id", {"lo": lo, "hi": hi, "owed": OWED}).rowcount
        tick(0.3 + 0.7 * hi / max(top, 1))
    return {"ledger_purchases": bought + lines, "ledger_line_purchases": lines, "ledger_consumes": used}


PAY_HINT = ". You can view and pay it under My invoices."
WELCOME_TAIL = ". Your instructor will be in touch about your first lesson."


def build_history(db: Database, *, today: date, now: datetime, since: date,
                  tick: Callable[[float], None] = lambda f: None) -> dict:
    """What the dispatcher and the office left behind (docs/reminders.md): every lesson of the days from
    ``since`` to yesterday had its reminder sent the day before (e-mail, one delivery-log row each, the
    lesson marked reminded); every issued invoice of those days its "Invoice issued" message; every invoice
    still owing its "Invoice Due" reminder two days before the due date (sent, or pending when that is
    still ahead); and in-app notifications: a welcome for every enrolment (read) and a "Payment
    received" for every payment (read unless from the last week). Returns the row counts."""
    sql = _Sql(db)
    out = {"sent_lesson_reminders": 0}
    day_before = sql.add_days("s.scheduled_date", "-1")
    day = since
    window = timedelta(days=14)
    while day < today:
        after = min(today, day + window)
        out["sent_lesson_reminders"] += db.execute(
            "INSERT INTO reminders (related_type, related_id, recipient_user_id, channel, reminder_type, message,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
            " send_on, status, created_at, updated_at, send_at, attempts, sent_at, delivery_channel, transactional)"
            f" SELECT 'schedule', s.id, st.user_id, 'email', 'lesson_reminder',"
            f" {sql.cat(repr('Reminder: your lesson is on '), 's.scheduled_date', repr(' at '), 's.start_time', repr('.'))},"
            f" {day_before}, 'sent', s.created_at, {sql.at(day_before, 's.start_time')},"
            f" {sql.at(day_before, 's.start_time')}, 1, {sql.at(day_before, 's.start_time')}, 'email', 0"
            " FROM schedules s JOIN enrollments e ON e.id = s.enrollment_id JOIN students st ON st.id = e.student_id"
            " WHERE s.scheduled_date >= :first AND s.scheduled_date < :after"
            " ORDER BY s.scheduled_date, s.start_time, s.id", {"first": day, "after": after}).rowcount
        day = after
    tick(0.3)
    owing = "i.status IN ('sent', 'partial', 'overdue') AND i.credit_note_for IS NULL"
    due_on = sql.add_days("i.due_date", "-2")
    out["invoice_reminders"] = db.execute(
        "INSERT INTO reminders (related_type, related_id, recipient_user_id, channel, reminder_type, message,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
        " send_on, status, created_at, updated_at, send_at, idempotency_key, attempts, sent_at, delivery_channel,"
        " transactional)"
        " SELECT 'invoice', i.id, st.user_id, 'email', 'Invoice Due',"
        f" {sql.cat(repr('Invoice '), 'i.invoice_number', repr(' is due on '), 'i.due_date', repr(PAY_HINT))},"
        f" {due_on}, CASE WHEN {due_on} < :today THEN 'sent' ELSE 'pending' END, i.issued_at, i.issued_at,"
        f" {sql.at(due_on, repr('09:00:00'))},"
        f" {sql.cat(repr('invoice:'), 'i.id', repr(':invoice-due:2d:'), 'i.due_date')},"
        f" CASE WHEN {due_on} < :today THEN 1 ELSE 0 END,"
        f" CASE WHEN {due_on} < :today THEN {sql.at(due_on, repr('09:00:00'))} END,"
        f" CASE WHEN {due_on} < :today THEN 'email' END, 0"
        " FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id JOIN students st ON st.id = e.student_id"
        f" WHERE {owing} ORDER BY i.id", {"today": today}).rowcount
    out["invoice_issued_messages"] = db.execute(
        "INSERT INTO reminders (related_type, related_id, recipient_user_id, channel, reminder_type, message,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
        " send_on, status, created_at, updated_at, send_at, idempotency_key, attempts, sent_at, delivery_channel,"
        " transactional)"
        " SELECT 'invoice', i.id, st.user_id, 'email', 'Invoice issued',"
        f" {sql.cat(repr('Invoice '), 'i.invoice_number', repr(' is issued, due on '), 'i.due_date', repr(PAY_HINT))},"
        " i.issue_date, 'sent', i.issued_at, i.issued_at, i.issued_at,"
        f" {sql.cat(repr('invoice:'), 'i.id', repr(':issued'))}, 1, i.issued_at, 'email', 1"
        " FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id JOIN students st ON st.id = e.student_id"
        " WHERE i.credit_note_for IS NULL AND i.issue_date >= :since AND i.issue_date < :today ORDER BY i.id",
        {"since": since, "today": today}).rowcount
    tick(0.5)
    top = int(db.fetch_value("SELECT COALESCE(MAX(id), 0) AS n FROM reminders", cast=int) or 0)
    out["deliveries"] = 0
    for lo in range(1, top + 1, CHUNK):
        out["deliveries"] += db.execute(
            "INSERT INTO message_deliveries (reminder_id, attempt, channel, backend, address, state, created_at,"
            " finished_at)"
            " SELECT r.id, 1, r.delivery_channel, 'log', u.email, 'sent', r.sent_at, r.sent_at"
            " FROM reminders r JOIN users u ON u.id = r.recipient_user_id"
            " WHERE r.id BETWEEN :lo AND :hi AND r.status = 'sent' AND r.sent_at IS NOT NULL ORDER BY r.id",
            {"lo": lo, "hi": lo + CHUNK - 1}).rowcount
    db.execute("UPDATE schedules SET reminder_sent = 1 WHERE scheduled_date >= :since AND scheduled_date < :today"
               " AND reminder_sent = 0", {"since": since, "today": today})
    tick(0.7)
    out["notifications"] = db.execute(
        "INSERT INTO notifications (user_id, title, message, level, is_read, created_at, kind)"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
        " SELECT st.user_id, 'Welcome to Origin Driving School',"
        f" {sql.cat(repr('You are enrolled in '), 'c.title', repr(WELCOME_TAIL))},"
        f" 'info', 1, {sql.at(sql.least('e.start_date', ':yesterday'), repr('10:05:00'))}, 'transactional'"
        " FROM enrollments e JOIN students st ON st.id = e.student_id JOIN courses c ON c.id = e.course_id"
        " ORDER BY e.id", {"yesterday": today - timedelta(days=1)}).rowcount
    out["notifications"] += db.execute(
        "INSERT INTO notifications (user_id, title, message, level, is_read, created_at, related_type, related_id,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
        " kind)"
        " SELECT st.user_id, 'Payment received',"
        f" {sql.cat(repr('We received your payment for invoice '), 'i.invoice_number', repr('. Thank you.'))},"
        " 'success', CASE WHEN p.created_at < :week_ago THEN 1 ELSE 0 END, p.created_at, 'invoice', i.id,"
        " 'transactional'"
        " FROM payments p JOIN invoices i ON i.id = p.invoice_id JOIN enrollments e ON e.id = i.enrollment_id"
        " JOIN students st ON st.id = e.student_id ORDER BY p.created_at, p.id",
        {"week_ago": now - timedelta(days=7)}).rowcount
    tick(1.0)
    return out


# The audit events, in the order the trail lists them on one second: (kind number, action, entity type)
AUDIT_KINDS = {0: ("login", "user"), 1: ("package_purchased", "enrollment"), 2: ("invoice_issued", "invoice"),
               3: ("invoice_credited", "invoice"), 4: ("payment_recorded", "payment"), 5: ("payment_online", "payment"),
               6: ("schedule_created", "schedule"), 7: ("schedule_cancelled", "schedule"),
               8: ("schedule_outcome_recorded", "schedule")}


def fill_audit_events(db: Database, *, since: datetime, now: datetime, logins: Sequence[tuple] = ()) -> int:
    """Gather the business events from ``since`` to ``now`` that the app audits (bookings, cancellations,
    outcomes, package purchases, invoices issued and credited, payments, and the ``logins`` given as
    (at, user id, role) rows) into the work table ``bulk_audit_events``, indexed by time, so that
    :func:`audit_events` reads them a day at a time in the trail's order. Returns how many."""
    db.execute("DROP TABLE IF EXISTS bulk_audit_events")
    db.execute("CREATE TABLE bulk_audit_events (at DATETIME NOT NULL, k INT NOT NULL, entity_id INT NOT NULL,"
               " user_id INT NULL, role VARCHAR(20) NULL, x1 VARCHAR(80) NULL, x2 VARCHAR(80) NULL,"
               " x3 VARCHAR(80) NULL)")
    p = {"since": since, "now": now}
    head = "INSERT INTO bulk_audit_events (at, k, entity_id, user_id, role, x1, x2, x3) "
    total = _bulk(db, "bulk_audit_events", ("at", "k", "entity_id", "user_id", "role"),
                  [(at, 0, uid, uid, role) for at, uid, role in logins if since <= at < now])
    total += db.execute(
        head + "SELECT s.created_at, 6, s.id, sp.uid, 'staff', s.scheduled_date, s.start_time, s.instructor_id"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
        f" FROM schedules s LEFT JOIN {_staff_of_branch()} sp ON sp.branch_id = s.branch_id"
        " WHERE s.created_at >= :since AND s.created_at < :now", p).rowcount
    total += db.execute(
        head + "SELECT s.cancelled_at, 7, s.id, s.cancelled_by, 'staff', s.cancel_reason, NULL, NULL FROM schedules s"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
        " WHERE s.status = 'cancelled' AND s.cancelled_at >= :since AND s.cancelled_at < :now", p).rowcount
    total += db.execute(
        head + "SELECT s.completion_marked_at, 8, s.id, s.completion_marked_by, 'instructor', s.status,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
        " s.student_rating, NULL FROM schedules s"
        " WHERE s.completion_marked_at >= :since AND s.completion_marked_at < :now", p).rowcount
    total += db.execute(
        head + "SELECT l.created_at, 1, l.enrollment_id, l.created_by, 'staff', l.credits, l.source, l.id"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
        " FROM package_ledger l WHERE l.entry = 'purchase' AND l.created_at >= :since AND l.created_at < :now",
        p).rowcount
    total += db.execute(
        head + "SELECT i.issued_at, CASE WHEN i.credit_note_for IS NULL THEN 2 ELSE 3 END,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
        " COALESCE(i.credit_note_for, i.id), i.created_by, 'staff', i.invoice_number, i.total, i.due_date"
        " FROM invoices i WHERE i.issued_at >= :since AND i.issued_at < :now", p).rowcount
    total += db.execute(
        head + "SELECT p.created_at, CASE WHEN p.recorded_by IS NULL THEN 5 ELSE 4 END, p.id,"  # nosec B608 # seed SQL from module constants, integer sizes and the sql.* dialect helpers; values are bound :parameters
        " COALESCE(p.recorded_by, st.user_id), CASE WHEN p.recorded_by IS NULL THEN 'student' ELSE 'staff' END,"
        " p.amount, p.method, p.invoice_id"
        " FROM payments p JOIN invoices i ON i.id = p.invoice_id JOIN enrollments e ON e.id = i.enrollment_id"
        " JOIN students st ON st.id = e.student_id WHERE p.created_at >= :since AND p.created_at < :now", p).rowcount
    db.execute("CREATE INDEX bulk_audit_events_at ON bulk_audit_events (at)")
    return total


def audit_events(db: Database, first: datetime, after: datetime) -> list[dict]:
    """The gathered events from ``first`` to before ``after``, in the trail's order."""
    return db.fetch_all(
        "SELECT at, k, entity_id, user_id, role, x1, x2, x3 FROM bulk_audit_events"
        " WHERE at >= :first AND at < :after ORDER BY at, k, entity_id", {"first": first, "after": after})


def drop_audit_events(db: Database) -> None:
    db.execute("DROP TABLE IF EXISTS bulk_audit_events")


def bulk_session(db: Database, on: bool) -> None:
    """MariaDB: foreign-key and unique checks off for this session while a chain is loaded (the rows are
    consistent by construction; tests/bulk_seed_test.py checks it), back on afterwards. SQLite: no
    flush to disk after every statement meanwhile (``synchronous = OFF``; a seed cut short is rebuilt from
    an empty database anyway), the default (FULL) afterwards."""
    if db.backend == "mysql":
        value = 0 if on else 1
        db.execute(f"SET SESSION foreign_key_checks = {value}, unique_checks = {value}")
    else:
        db.execute(f"PRAGMA synchronous = {'OFF' if on else 'FULL'}")


def defer_indexes(db: Database, tables: Sequence[str]) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """MariaDB, inside :func:`bulk_session`: drop the non-unique secondary indexes of ``tables`` before
    they are filled (rows then arrive without random inserts into indexes larger than the buffer pool);
    :func:`restore_deferred` builds them by sorting afterwards. Nothing on SQLite."""
    if db.backend != "mysql":
        return []
    return [(table, _drop_secondary_indexes(db, table)) for table in tables]


def restore_deferred(db: Database, deferred: Sequence[tuple[str, list[tuple[str, list[str]]]]]) -> None:
    for table, indexes in deferred:
        if indexes:
            _restore_indexes(db, table, indexes)


def drop_bench_meta(db: Database) -> None:
    """The benches' record of what was built (``bench_meta``): not part of the app's schema."""
    db.execute("DROP TABLE IF EXISTS bench_meta")


def last_audit_id(db: Database) -> int:
    return int(db.fetch_value("SELECT COALESCE(MAX(id), 0) AS n FROM audit_trail", cast=int) or 0)


AUDIT_COLUMNS = ("id", "user_id", "action", "entity_type", "entity_id", "details", "created_at", "actor_role",
                 "ip_address", "before_json", "after_json", "prev_hash", "row_hash")


def insert_audit_rows(db: Database, rows: Iterable[Sequence[Any]]) -> int:
    """Append hash-chained rows (values in AUDIT_COLUMNS order, ids given), in multi-row statements."""
    return _bulk(db, "audit_trail", AUDIT_COLUMNS, rows, batch=1000)


def users_by_role(db: Database, roles: Sequence[str]) -> list[dict]:
    marks, params = db.in_params("r", roles)
    return db.fetch_all(f"SELECT id, role FROM users WHERE role IN ({marks}) ORDER BY id", params)  # nosec B608 # interpolates only IN-list placeholders; every value is a bound :parameter

