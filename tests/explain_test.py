"""EXPLAIN checks of the hot queries (issue 13, part 4), on MariaDB only.

The plans of a national chain cannot be reproduced in a test, but the optimiser's choice of index can:
a modest school (3 branches, 30 instructors, 900 students, 18,000 lessons, windows, requests, invoices
and payments) is written in bulk and ANALYZEd once for the module, then each hot DAO call is run while
its statements are recorded and every SELECT among them is EXPLAINed. The checks are robust to the
optimiser's choices on small tables: they name the index a table must be read through (``key``), or that
the index is at least a candidate (``possible_keys``), and they forbid a full scan (``type = ALL``) of the
big tables (schedules, invoices, payments, students, enrollments, enrollment_requests), never row
estimates. The indexes are those of sql/migrations/0024_scale_indexes (and the older ones they rely on).

The ``chain`` fixture is MariaDB's (``mysql_schema``, as the migration tests' ``mysql_db``): SQLite plans
differ and are checked by the page tests' query counts instead.
"""
from __future__ import annotations

import random
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from app.core.database import Database
from app.core.pagination import ListQuery
from app.dao.branch import BranchDAO
from app.dao.course import CourseDAO
from app.dao.disruption import DisruptionDAO
from app.dao.enrollment_request import RequestScope, EnrollmentRequestDAO
from app.dao.invoice import INVOICE_SORTS, InvoiceDAO
from app.dao.payment import PaymentDAO
from app.dao.schedule import ScheduleDAO
from app.dao.student import StudentDAO, StudentScope
from app.services import disruptions
from tests.conftest import _empty_mysql

TODAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 2, 30)
BIG = ("schedules", "invoices", "payments", "students", "enrollments", "enrollment_requests")
BRANCHES, INSTRUCTORS_PER_BRANCH, STUDENTS, LESSONS_PER_STUDENT = 3, 10, 900, 20


@pytest.fixture(scope="module")
def chain(mysql_schema):
    """The modest school, written once for the module's tests (MariaDB)."""
    _empty_mysql(mysql_schema)
    db = Database.from_url(mysql_schema)
    rng = random.Random(13)
    with db.transaction():
        branches = [db.insert("branches", {"name": f"Branch {b}", "city": "Melbourne", "email": f"b{b}@x.au"})
                    for b in range(BRANCHES)]
        courses = [db.insert("courses", {"title": f"Course {c}", "price": Decimal("880.00"), "lesson_count": 10,
                                         "status": "active"}) for c in range(4)]
        users = [{"role": "instructor", "first_name": f"Ina{n}", "last_name": f"Teach{n}", "email": f"i{n}@x.au",
                  "password_hash": "x", "status": "active", "branch_id": branches[n % BRANCHES],
                  "created_at": NOW, "updated_at": NOW} for n in range(BRANCHES * INSTRUCTORS_PER_BRANCH)]
        users += [{"role": "student", "first_name": f"Stu{n}", "last_name": f"Dent{n % 97}", "email": f"s{n}@x.au",
                   "password_hash": "x", "status": "active" if n % 10 else "archived",
                   "branch_id": branches[n % BRANCHES], "created_at": NOW, "updated_at": NOW} for n in range(STUDENTS)]
        db.insert_many("users", users)
        ids = {r["email"]: r["id"] for r in db.fetch_all("SELECT id, email FROM users")}
        db.insert_many("instructors", [{"user_id": ids[f"i{n}@x.au"], "branch_id": branches[n % BRANCHES],
                                        "experience_years": 1,
                                        "accreditation_expiry": TODAY + timedelta(days=rng.randint(-30, 400))}
                                       for n in range(BRANCHES * INSTRUCTORS_PER_BRANCH)])
        instructors = [r["id"] for r in db.fetch_all("SELECT id FROM instructors ORDER BY id")]
        db.insert_many("vehicles", [{"name": f"Car {n}", "plate_number": f"EXP-{n:04d}", "transmission": "Automatic",
                                     "status": "maintenance" if n % 15 == 0 else "available",
                                     "branch_id": branches[n % BRANCHES],
                                     "next_service_due": TODAY + timedelta(days=rng.randint(-10, 300))}
                                    for n in range(len(instructors))])
        vehicles = [r["id"] for r in db.fetch_all("SELECT id FROM vehicles ORDER BY id")]
        db.insert_many("students", [{"user_id": ids[f"s{n}@x.au"], "branch_id": branches[n % BRANCHES],
                                     "license_status": "Learner"} for n in range(STUDENTS)])
        students = [r["id"] for r in db.fetch_all("SELECT id FROM students ORDER BY id")]
        statuses = ("active", "in_progress", "completed", "cancelled")
        db.insert_many("enrollments", [{"student_id": s, "course_id": courses[n % 4], "start_date": TODAY,
                                        "status": statuses[n % 4]} for n, s in enumerate(students)])
        enrolments = [r["id"] for r in db.fetch_all("SELECT id FROM enrollments ORDER BY id")]
        lessons = []
        for n, e in enumerate(enrolments):
            k = (n % BRANCHES) + BRANCHES * rng.randrange(INSTRUCTORS_PER_BRANCH)  # an instructor of the branch
            for j in range(LESSONS_PER_STUDENT):
                day = TODAY + timedelta(days=rng.randint(-120, 60))
                hour = rng.randint(8, 17)
                lessons.append({"enrollment_id": e, "instructor_id": instructors[k], "vehicle_id": vehicles[k],
                                "branch_id": branches[n % BRANCHES], "event_type": "lesson", "scheduled_date": day,
                                "start_time": time(hour, 0), "end_time": time(hour + 1, 0),
                                "status": "scheduled" if day >= TODAY else rng.choice(("completed", "cancelled"))})
        db.insert_many("schedules", lessons)
        windows = [{"instructor_id": instructors[n % len(instructors)],
                    "start_datetime": datetime.combine(TODAY + timedelta(days=n % 90 - 30), time(9)),
                    "end_datetime": datetime.combine(TODAY + timedelta(days=n % 90 - 30), time(12)),
                    "reason": None, "created_at": NOW, "updated_at": NOW} for n in range(600)]
        db.insert_many("instructor_unavailability", windows)
        db.insert_many("vehicle_downtime", [{**w, "vehicle_id": vehicles[n % len(vehicles)]}
                                            for n, w in enumerate({k: v for k, v in w.items() if k != "instructor_id"}
                                                                  for w in windows)])
        db.insert_many("enrollment_requests", [{"student_id": s, "course_id": courses[n % 4],
                                                "status": "pending" if n % 6 == 0 else "declined",
                                                "instructor_id": instructors[n % len(instructors)] if n % 12 == 0 else None,
                                                "created_at": NOW, "updated_at": NOW} for n, s in enumerate(students)])
        db.insert_many("invoices", [{"enrollment_id": e, "invoice_number": f"INV-EXP-{n:06d}", "branch_id": branches[n % BRANCHES],
                                     "issue_date": TODAY - timedelta(days=n % 200), "due_date": TODAY - timedelta(days=n % 200 - 14),
                                     "subtotal": Decimal("800.00"), "tax_amount": Decimal("80.00"), "total": Decimal("880.00"),
                                     "status": ("sent", "paid", "partial", "overdue")[n % 4]}
                                    for n, e in enumerate(enrolments * 2)])
        invoices = [r["id"] for r in db.fetch_all("SELECT id FROM invoices ORDER BY id")]
        db.insert_many("payments", [{"invoice_id": i, "amount": Decimal("100.00"), "method": "Card",
                                     "payment_date": TODAY - timedelta(days=n % 200)} for n, i in enumerate(invoices)])
    db.fetch_all("ANALYZE TABLE " + ", ".join(("branches", "users", "instructors", "vehicles", "instructor_unavailability",
                                              "vehicle_downtime", "courses") + BIG))
    yield {"db": db, "branch": branches[0], "instructor": instructors[0], "course": courses[0]}
    db.close()


def plans(db: Database, action) -> list[dict]:
    """Run ``action()`` and return the EXPLAIN rows of every SELECT it ran (each row with its ``sql``)."""
    seen: list[tuple[str, dict]] = []
    original = db._run

    def recording(sql, params):
        seen.append((sql, dict(params or {})))
        return original(sql, params)

    db._run = recording  # type: ignore[method-assign]
    try:
        action()
    finally:
        db._run = original  # type: ignore[method-assign]
    rows = []
    for sql, params in seen:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            names = _aliases(sql)
            rows += [{**r, "alias": r.get("table"), "table": names.get(r.get("table"), r.get("table")),
                      "sql": " ".join(sql.split())} for r in db.fetch_all("EXPLAIN " + sql, params)]
    assert rows, "the call ran no SELECT"
    return rows


_TABLE = re.compile(r"(?:\bFROM|JOIN)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?", re.IGNORECASE)
_NOT_ALIAS = {"on", "where", "join", "left", "inner", "force", "use", "group", "order", "limit", "union", "as"}


def _aliases(sql: str) -> dict[str, str]:
    """alias -> table of every ``FROM``/``JOIN table alias`` in ``sql`` (EXPLAIN names tables by alias)."""
    found = {}
    for table, alias in _TABLE.findall(sql):
        found[table] = table
        if alias and alias.lower() not in _NOT_ALIAS:
            found[alias] = table
    return found


def no_full_scan(rows: list[dict], tables=BIG) -> None:
    """No big table is read by a full table scan (nor schedules by a full index scan)."""
    for r in rows:
        if r.get("table") in tables:
            assert r.get("type") != "ALL", f"full scan of {r['table']}: {r}"
            if r["table"] == "schedules":
                assert r.get("type") != "index", f"full index scan of schedules: {r}"


def uses(rows: list[dict], table: str, *keys: str, candidate: bool = False) -> None:
    """``table`` is read through one of ``keys`` (or, with ``candidate``, one of them is a possible key)."""
    mine = [r for r in rows if r.get("table") == table]
    assert mine, f"{table} is not in the plan: {rows}"
    for r in mine:
        if candidate:
            possible = set((r.get("possible_keys") or "").split(","))
            assert possible & set(keys) or r.get("key") in keys, f"{table}: none of {keys} possible: {r}"
        else:
            assert r.get("key") in keys, f"{table} read through {r.get('key')}, not {keys}: {r}"


def test_the_pending_requests_badge_reads_the_requests_index_alone(chain):
    db = chain["db"]
    dao = EnrollmentRequestDAO(db)
    whole = plans(db, lambda: dao.pending_count(RequestScope(everything=True)))
    uses(whole, "enrollment_requests", "idx_request_status_student")
    assert all(r["table"] != "students" for r in whole)  # the whole school's badge needs no join
    assert "Using index" in (whole[0].get("Extra") or "")
    branch = plans(db, lambda: dao.pending_count(RequestScope(branch_id=chain["branch"])))
    no_full_scan(branch)
    uses(branch, "enrollment_requests", "idx_request_status_student", "fk_request_student", candidate=True)


def test_course_counts_are_an_index_range_per_course(chain):
    db = chain["db"]
    dao = CourseDAO(db)
    rows = plans(db, lambda: dao.find(chain["course"]))  # one course: an index range of its enrolments
    no_full_scan(rows)
    uses(rows, "enrollments", "idx_enrollments_course_status")
    listed = plans(db, lambda: dao.list_page(ListQuery(sort="title")))  # the list: stat_course_totals by key
    assert not [r for r in listed if r.get("table") == "enrollments"], listed
    uses(listed, "stat_course_totals", "PRIMARY")


def test_branch_counts_read_a_bounded_range_of_the_branchs_lessons(chain):
    db = chain["db"]
    rows = plans(db, lambda: BranchDAO(db).counts(chain["branch"], TODAY))
    no_full_scan(rows)
    uses(rows, "schedules", "idx_schedule_branch_date", "idx_schedule_branch_status_date")
    lessons = [r for r in rows if r.get("table") == "schedules"]
    assert all(r["type"] in ("range", "ref") for r in lessons)
    uses(rows, "enrollments", "idx_enrollments_student_status")


def test_an_instructors_students_come_from_their_lessons_not_from_every_student(chain):
    db = chain["db"]
    scope = StudentScope(instructor_id=chain["instructor"])
    rows = plans(db, lambda: StudentDAO(db).list_page(ListQuery(sort="name", filters={"status": "active"}), scope))
    no_full_scan(rows)
    uses(rows, "schedules", "idx_schedule_instructor_enrolment", "idx_schedule_instructor_date")


def test_the_upcoming_lessons_of_an_instructor_are_an_index_range(chain):
    db = chain["db"]
    rows = plans(db, lambda: ScheduleDAO(db).upcoming(TODAY, instructor_id=chain["instructor"]))
    no_full_scan(rows)
    uses(rows, "schedules", "idx_schedule_instructor_date", "idx_schedule_status_date",
         "idx_schedule_instructor_enrolment", candidate=True)


def test_the_invoice_list_picks_its_page_before_the_paid_and_credited_subqueries(chain):
    db = chain["db"]
    dao = InvoiceDAO(db)
    query = ListQuery(sort="issued", direction="desc")
    assert "issued" in INVOICE_SORTS
    rows = plans(db, lambda: dao.page(query, branch_id=chain["branch"]))
    no_full_scan(rows, ("schedules", "payments", "students", "enrollments"))
    picked = [r for r in rows if "pick" in r["sql"] and r.get("table") == "payments"]
    assert picked and all(r["key"] == "idx_payments_invoice_cover" for r in picked)  # paid: index-only per row
    rows = plans(db, lambda: dao.page(query))
    no_full_scan(rows, ("schedules", "payments", "students"))


def test_the_payments_ledger_reads_payments_through_an_index(chain):
    db = chain["db"]
    rows = plans(db, lambda: PaymentDAO(db).ledger_page(ListQuery(sort="date", direction="desc"), chain["branch"]))
    no_full_scan(rows, ("schedules", "students", "enrollments"))


def test_the_conflicts_badge_starts_from_the_windows_not_ended_yet(chain):
    # migration 0028: the windows that have not ended are a range of their end index (every instructor and
    # vehicle has past windows; reading each one's through idx_unavailability_instructor_window was the
    # admin badge's cost on every page)
    db = chain["db"]
    dao = DisruptionDAO(db)
    cutoffs = disruptions._cutoffs(dao, NOW, {"APP_TIMEZONE": "Australia/Melbourne"})
    until = disruptions._badge_until(cutoffs)
    for branch in (None, chain["branch"]):
        rows = plans(db, lambda: dao.capped_count(cutoffs, until=until, cap=100, branch_id=branch))
        no_full_scan(rows)
        uses(rows, "instructor_unavailability", "idx_unavailability_end")
        uses(rows, "vehicle_downtime", "idx_downtime_end")
        uses(rows, "schedules", "idx_schedule_instructor_date", "idx_schedule_vehicle_date")


def test_the_conflicts_panel_reads_only_its_horizon(chain):
    db = chain["db"]
    dao = DisruptionDAO(db)
    cutoffs = disruptions._cutoffs(dao, NOW, {"APP_TIMEZONE": "Australia/Melbourne"})
    until = disruptions.horizon_until(cutoffs)
    for branch in (None, chain["branch"]):
        def panel():
            counts = dao.counts(cutoffs, branch_id=branch, soon=until, until=until)
            dao.page(cutoffs, ListQuery(sort="cause"), counts, branch_id=branch, until=until)
        rows = plans(db, panel)
        no_full_scan(rows)
        uses(rows, "instructor_unavailability", "idx_unavailability_end", "PRIMARY")
        uses(rows, "vehicle_downtime", "idx_downtime_end", "PRIMARY")
        arms = [r for r in rows if r.get("table") == "schedules" and r.get("key") != "PRIMARY"]
        assert arms and all(r["key"] in ("idx_schedule_instructor_date", "idx_schedule_vehicle_date") for r in arms)
        bounded = [r["sql"] for r in rows if "UNION ALL" in r["sql"]]
        assert bounded and all(":d_until" in sql for sql in bounded)  # every arm stops at the horizon


def test_the_request_queue_counts_and_picks_without_joining_the_people_unless_searched(chain):
    db = chain["db"]
    dao = EnrollmentRequestDAO(db)
    query = ListQuery(sort="submitted", direction="desc", filters={"status": "pending"})
    rows = plans(db, lambda: (dao.list_page(query, RequestScope(everything=True)),
                              dao.status_counts(query, RequestScope(everything=True))))
    no_full_scan(rows, ("students", "schedules"))
    counts = [r for r in rows if r["sql"].startswith("SELECT COUNT(*)") or "GROUP BY r.status" in r["sql"]]
    assert counts and all(r["table"] == "enrollment_requests" for r in counts)  # no join to students or users
    uses(counts, "enrollment_requests", "idx_request_status_student", candidate=True)


def test_the_awaiting_outcome_count_is_a_range_of_the_past_scheduled_lessons(chain):
    from app.dao.outcome import OutcomeDAO

    db = chain["db"]
    cutoffs = [(None, TODAY, time(9, 0))]
    rows = plans(db, lambda: OutcomeDAO(db).awaiting_page(ListQuery(sort="date"), cutoffs))
    no_full_scan(rows)
    counts = [r for r in rows if r["sql"].startswith("SELECT COUNT(*)")]
    # no names joined for the count, which stops at the cap (its LIMIT makes it a derived table)
    assert {r["table"] for r in counts if not str(r["table"]).startswith("<derived")} <= {"schedules", "branches"}
    assert counts and all(":count_cap" in r["sql"] for r in counts)
    uses(counts, "schedules", "idx_schedule_status_date", candidate=True)


def test_the_school_wide_students_search_reads_the_name_email_and_phone_indexes(chain):
    """lists2: the whole school's search matches prefixes (migration 0027's idx_users_first_name and
    idx_users_phone, idx_users_name, the e-mail's unique index); the count is capped."""
    db = chain["db"]
    query = ListQuery(sort="name", q="Dent4", filters={"status": "active"})
    assert StudentDAO.prefix_search(query, StudentScope(everything=True))
    rows = plans(db, lambda: StudentDAO(db).list_page(query, StudentScope(everything=True)))
    no_full_scan(rows)
    prefixes = {"idx_users_name", "idx_users_first_name", "email", "idx_users_phone"}
    searched = [r for r in rows if r.get("table") == "users" and r.get("key") != "PRIMARY"]
    assert searched and all(prefixes & set((r.get("possible_keys") or "").split(",")) for r in searched), rows
    assert any("LIMIT" in r["sql"] and r["sql"].startswith("SELECT COUNT(*) AS n FROM (SELECT 1") for r in rows)


def test_a_courses_allocated_instructors_are_a_range_of_its_allocations(chain):
    """lists2: the course list's counts and preview, the course page's page of allocations."""
    db = chain["db"]
    dao = CourseDAO(db)
    for branch in (None, chain["branch"]):
        rows = plans(db, lambda: (dao.instructor_summary([chain["course"]], branch_id=branch),
                                  dao.allocated_page(chain["course"], ListQuery(sort="name"), branch_id=branch)))
        no_full_scan(rows, BIG + ("course_instructor",))
        uses(rows, "course_instructor", "PRIMARY", candidate=True)


@pytest.fixture(scope="module")
def queue(chain):
    """A reminder queue of a few thousand rows over the chain's students (MariaDB picks plans by size)."""
    db = chain["db"]
    users = [r["id"] for r in db.fetch_all("SELECT id FROM users WHERE role = 'student' ORDER BY id")]
    rows = []
    for n in range(6000):
        due = NOW - timedelta(days=n % 300, minutes=n % 97)
        rows.append({"related_type": "schedule", "related_id": n + 1, "recipient_user_id": users[n % len(users)],
                     "channel": ("email", "sms", "in-app")[n % 3], "reminder_type": ("lesson_24h", "invoice_due")[n % 2],
                     "message": "m", "send_on": due.date(), "send_at": due if n % 50 else None,
                     "status": ("sent", "pending", "failed", "cancelled")[n % 4], "idempotency_key": f"q-{n}",
                     "created_at": NOW, "updated_at": NOW})
    with db.transaction():
        db.insert_many("reminders", rows)
    db.fetch_all("ANALYZE TABLE reminders")
    return chain


def test_the_reminder_queue_counts_are_capped_index_ranges_never_a_group_by(queue):
    from app.dao.reminder_queue import ReminderQueueDAO
    from app.services import reminder_queue

    db = queue["db"]
    dao = ReminderQueueDAO(db)
    for branch in (None, queue["branch"]):
        rows = plans(db, lambda: dao.counts(branch, reminder_queue.STATUS_LABELS, cap=100))
        no_full_scan(rows, BIG + ("reminders",))
        assert all("GROUP BY" not in r["sql"] for r in rows)
        mine = [r for r in rows if r.get("table") == "reminders"]
        assert mine and all(r.get("type") != "index" for r in mine)  # no full index scan either
        if branch is None:
            uses(rows, "reminders", "idx_reminder_status_send", "idx_reminder_status_channel_type",
                 "idx_reminder_status_send_at", "idx_reminder_type")
        else:  # the branch's recipients' rows, or (a status with next to no rows) that status's range; the
            # type choices: the school's (a loose scan of idx_reminder_type), each probed in the branch
            uses(rows, "reminders", "idx_reminder_recipient_queue", "idx_reminder_status_send",
                 "idx_reminder_status_send_at", "idx_reminder_status_channel_type", "idx_reminder_type")
            assert any(r.get("key") == "idx_reminder_recipient_queue" for r in mine)
        counts, types = dao.counts(branch, reminder_queue.STATUS_LABELS, cap=100)
        assert max(counts.values()) <= 101 and types == ["invoice_due", "lesson_24h"]
    rows = plans(db, lambda: dao.counts(None, reminder_queue.STATUS_LABELS, channel="sms", cap=100))
    uses([r for r in rows if r.get("table") == "reminders" and r.get("key") != "idx_reminder_type"], "reminders",
         "idx_reminder_status_channel_type", "idx_reminder_status_send", candidate=True)


def test_the_reminder_queue_page_reads_the_due_order_from_indexes(queue):
    from app.dao.reminder_queue import ReminderQueueDAO

    db = queue["db"]
    dao = ReminderQueueDAO(db)
    for filters in ({}, {"status": "failed"}):
        rows = plans(db, lambda: dao.page(None, filters, ListQuery(sort="due", direction="desc", page=3), 5000))
        no_full_scan(rows, BIG + ("reminders",))
        picked = [r for r in rows if r.get("table") == "reminders" and r.get("key") != "PRIMARY"]
        assert picked and all(r.get("type") in ("range", "ref") for r in picked)  # ranges, never a scan
        # the timed rows (nearly all) come in their index's order; only the PHP-era rows without a send_at
        # (a ref on NULL) may be sorted
        assert any("filesort" not in (r.get("Extra") or "") for r in picked)
        assert all(r.get("type") == "ref" for r in picked if "filesort" in (r.get("Extra") or ""))
        assert {r["key"] for r in picked} <= {"idx_reminder_send_at", "idx_reminder_send_at_on",
                                              "idx_reminder_status_send_at", "idx_reminder_status_send"}
    rows = plans(db, lambda: dao.page(queue["branch"], {}, ListQuery(sort="due", direction="desc"), 5000))
    no_full_scan(rows, BIG + ("reminders",))
    uses([r for r in rows if r.get("table") == "reminders" and r.get("key") != "PRIMARY"], "reminders",
         "idx_reminder_recipient_queue", "idx_reminder_send_at", "idx_reminder_send_at_on")


def test_the_awaiting_list_of_a_branch_is_a_range_of_its_lessons(chain):
    from app.dao.outcome import OutcomeDAO

    db = chain["db"]
    cutoffs = [(None, TODAY, time(9, 0))]
    rows = plans(db, lambda: OutcomeDAO(db).awaiting_page(ListQuery(sort="date"), cutoffs,
                                                          scope_branch_id=chain["branch"]))
    no_full_scan(rows)
    # the page's ids come from a range of the branch's lessons; the page's rows are then read by id
    lessons = [r for r in rows if r.get("table") == "schedules" and r.get("key") != "PRIMARY"]
    assert lessons and all(r.get("type") == "range" for r in lessons)
    uses(lessons, "schedules", "idx_schedule_branch_status_date", "idx_schedule_branch_date", candidate=True)
    assert all(r.get("type") == "eq_ref" for r in rows if r.get("table") == "schedules" and r.get("key") == "PRIMARY")


def test_an_instructors_awaiting_list_is_a_range_of_their_lessons(chain):
    """An instructor's page (their scope, or the filter) picks from their own lessons, never by walking the
    chain's backlog in date order (idx_schedule_status_date) to find their few (95 -> 18 ms at scale L)."""
    from app.dao.outcome import OutcomeDAO

    db = chain["db"]
    cutoffs = [(None, TODAY, time(9, 0))]
    for scope in ({"scope_instructor_id": chain["instructor"]}, {"instructor_id": chain["instructor"]}):
        rows = plans(db, lambda: OutcomeDAO(db).awaiting_page(ListQuery(sort="date", direction="desc"), cutoffs,
                                                              **scope))
        no_full_scan(rows)
        picked = [r for r in rows if r.get("table") == "schedules" and r.get("key") != "PRIMARY"]
        assert picked and all(r.get("type").split("|")[0] in ("range", "ref") for r in picked), picked
        # either an instructor index leads (at scale), or the status range is cut down by the instructor's
        # rowid filter (a small table); never the status index walked in order, unfiltered, until a page fills
        for r in picked:
            access, _, rowid_filter = r.get("key").partition("|")
            assert access in ("idx_schedule_instructor_date", "idx_schedule_instructor_enrolment") or (
                rowid_filter.startswith("idx_schedule_instructor")), picked


def test_the_whole_chains_awaiting_list_walks_the_status_index_in_order(chain):
    """Admin (no branch), by date: the page's ids are read backwards from idx_schedule_status_date, in its
    order (no sort of the whole backlog), then joined to the names by id."""
    from app.dao.outcome import OutcomeDAO

    db = chain["db"]
    cutoffs = [(None, TODAY, time(9, 0))]
    for direction in ("desc", "asc"):
        rows = plans(db, lambda: OutcomeDAO(db).awaiting_page(ListQuery(sort="date", direction=direction), cutoffs))
        no_full_scan(rows)
        page = [r for r in rows if "pick_id" in r["sql"]]  # the page statement (the other is the count)
        picked = [r for r in page if r.get("table") == "schedules" and r.get("key") != "PRIMARY"]
        assert len(picked) == 1, page
        assert picked[0].get("key") == "idx_schedule_status_date" and picked[0].get("type") == "range", picked
        assert "filesort" not in (picked[0].get("Extra") or "") and "temporary" not in (picked[0].get("Extra") or "")
        assert all("filesort" not in (r.get("Extra") or "") for r in page if r.get("id") == picked[0].get("id"))


# ---- the staff list pages of one branch (migration 0034, helper stafflists) ------------------------------

def test_a_branchs_request_queue_starts_from_the_branchs_students(chain):
    """The count, the per-status counts, the page pick and the badge of a branch read its students first
    (fk_students_branch) and probe each one's requests by index, never every request of a status with
    each one's student row."""
    db = chain["db"]
    dao = EnrollmentRequestDAO(db)
    scope = RequestScope(branch_id=chain["branch"])
    for status in ("pending", ""):
        query = ListQuery(sort="submitted", direction="desc", filters={"status": status} if status else {})
        rows = plans(db, lambda: (dao.status_counts(query, scope), dao.list_page(query, scope),
                                  dao.pending_count(scope)))
        no_full_scan(rows, BIG)
        branch_reads = [r for r in rows if "STRAIGHT_JOIN enrollment_requests" in r["sql"]]
        assert len({r["sql"] for r in branch_reads}) == 4  # counts, the count, the page pick, the badge
        for sql in {r["sql"] for r in branch_reads}:
            mine = [r for r in branch_reads if r["sql"] == sql and r.get("alias") in ("s", "r")
                    and r.get("select_type") in ("SIMPLE", "DERIVED")]
            assert [r["table"] for r in mine][:2] == ["students", "enrollment_requests"], mine
            assert mine[0]["key"] == "fk_students_branch" and "Using index" in (mine[0].get("Extra") or "")
            # (a rowid filter names a second index and type after a "|")
            assert mine[1]["type"].split("|")[0] == "ref" and mine[1]["key"].split("|")[0] in ("idx_request_status_student",
                                                                                 "fk_request_student"), mine


def test_a_branchs_invoice_list_and_ledger_read_the_invoices_covering_index(chain):
    """The branch's invoices come from idx_invoices_branch_cover alone (Using index): the list's sums, its
    page pick in issue-date order and the ledger's totals and pick read no invoice row."""
    db = chain["db"]
    query = ListQuery(sort="issued", direction="desc")
    ledger = ListQuery(sort="date", direction="desc")
    rows = plans(db, lambda: (InvoiceDAO(db).page(query, branch_id=chain["branch"]),
                              PaymentDAO(db).ledger_totals(ledger, chain["branch"]),
                              PaymentDAO(db).ledger_page(ledger, chain["branch"], total=10)))
    no_full_scan(rows, BIG)
    scoped = [r for r in rows if r.get("table") == "invoices" and r.get("type") == "ref_or_null"]
    assert len(scoped) == 4, rows  # the sums, the list's pick, the ledger's totals and pick
    assert all(r["key"] == "idx_invoices_branch_cover" and "Using index" in (r.get("Extra") or "")
               for r in scoped), scoped


def test_a_busy_branchs_reminder_types_and_first_pages_stop_early(queue):
    """The type choices of a branch: the school's types (a loose index scan), each checked by a LIMIT 1
    probe of the branch's accounts' reminders; a branch past the count's cap picks its first pages down the
    due index with each recipient probed (a smaller one, or a deep page, reads the branch's recipients)."""
    from app.dao.reminder_queue import ReminderQueueDAO
    from app.services import reminder_queue

    db = queue["db"]
    dao = ReminderQueueDAO(db)
    rows = plans(db, lambda: dao.counts(queue["branch"], reminder_queue.STATUS_LABELS, cap=100))
    no_full_scan(rows, BIG + ("reminders",))
    probes = [r for r in rows if r.get("select_type") == "DEPENDENT SUBQUERY"]
    assert [r["table"] for r in probes] == ["users", "reminders"], rows
    assert probes[0]["key"] == "fk_users_branch" and probes[1]["key"] == "idx_reminder_recipient_queue"
    assert any(r.get("key") == "idx_reminder_type" and "group-by" in (r.get("Extra") or "") for r in rows)
    assert dao.counts(queue["branch"], reminder_queue.STATUS_LABELS, cap=100)[1] == ["invoice_due", "lesson_24h"]

    busy = dao.WALK_FROM
    for filters, key in (({}, "idx_reminder_send_at"), ({"status": "pending"}, "idx_reminder_status_send_at")):
        rows = plans(db, lambda: dao.page(queue["branch"], filters, ListQuery(sort="due", direction="desc"), busy))
        no_full_scan(rows, BIG + ("reminders",))
        picked = [r for r in rows if "STRAIGHT_JOIN users su" in r["sql"] and r.get("select_type") == "DERIVED"]
        arms = {}
        for r in picked:
            arms.setdefault(r["id"], []).append(r)
        walked = [arm for arm in arms.values() if arm[0]["table"] == "reminders" and arm[0]["key"] == key]
        assert walked, picked  # the timed rows: down the due index, in its order, each recipient probed
        assert "filesort" not in (walked[0][0].get("Extra") or "")
        assert [(r["table"], r["key"]) for r in walked[0][1:]] == [("users", "PRIMARY")]
    deep = ListQuery(sort="due", direction="desc", page=dao.WALK_DEPTH)
    rows = plans(db, lambda: dao.page(queue["branch"], {}, deep, busy * 10))
    assert all("STRAIGHT_JOIN" not in r["sql"] for r in rows)


def test_the_whole_schools_request_queue_is_picked_in_its_order_from_an_index(chain):
    db = chain["db"]
    dao = EnrollmentRequestDAO(db)
    query = ListQuery(sort="submitted", direction="desc", filters={"status": "pending"})
    rows = plans(db, lambda: dao.list_page(query, RequestScope(everything=True), total=10))
    picked = [r for r in rows if r.get("select_type") == "DERIVED"]
    assert [(r["table"], r["key"]) for r in picked] == [("enrollment_requests", "idx_request_status_created")], rows
    assert "filesort" not in (picked[0].get("Extra") or "")
