"""The maintained aggregates (app/dao/stats.py, app/services/stats.py, `flask refresh-stats`) on both
databases: every column of every summary on hand-built rows (month boundaries, cancelled minutes left out,
working minutes from the weekly hours less unavailability, overlapping windows counted once, a window
across midnight and a month end, branch 0 for none), a refresh replacing what was there, the freshness
rows and how pages word them, the instructors and fleet lists reading the summaries (their statement
count does not grow with the lessons, and none of their statements reads schedules), and the plan of the
instructors list sorted by lessons (no scan of schedules)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest

from app.core import clock
from app.core.database import count_queries
from app.core.errors import ValidationFailed
from app.core.pagination import ListQuery
from app.dao.instructor import SORTS, InstructorDAO
from app.dao.stats import StatsDAO
from app.services import stats
from tests import factories as f
from tests.conftest import login

NOW = datetime(2026, 3, 10, 2, 30)  # 13:30 on Tuesday 10 March 2026 in Melbourne
TODAY = date(2026, 3, 10)
ADMIN = "admin@origin.com"


def hours(db, instructor, weekday, start, end):
    db.insert("instructor_working_hours", {"instructor_id": instructor, "weekday": weekday, "start_time": start,
                                           "end_time": end, "created_at": NOW, "updated_at": NOW})


def away(db, instructor, start, end):
    db.insert("instructor_unavailability", {"instructor_id": instructor, "start_datetime": start,
                                            "end_datetime": end, "created_at": NOW, "updated_at": NOW})


def event(db, enrolment, instructor, day, start, end, status="scheduled", event_type="lesson", vehicle=None):
    return f.make_schedule(db, enrolment, instructor, scheduled_date=day, start_time=start, end_time=end,
                           status=status, event_type=event_type, vehicle_id=vehicle)


class School:
    """Two instructors (one in Bayside, one with no branch), a third with neither lessons nor hours,
    three cars, two students paying for two courses."""

    def __init__(self, db):
        self.db = db
        self.bayside = f.make_branch(db, name="Bayside")
        self.amy = f.make_instructor(db, branch_id=self.bayside)
        self.ned = f.make_instructor(db)  # no branch
        self.idle = f.make_instructor(db, branch_id=self.bayside)
        self.car_a, self.car_b, self.car_c = (f.make_vehicle(db) for _ in range(3))
        self.course_1, self.course_2 = f.make_course(db), f.make_course(db)
        self.jack = f.make_student(db, branch_id=self.bayside)
        self.enrolment = f.make_enrollment(db, self.jack, self.course_1)
        self.noah = f.make_student(db)  # no branch
        self.other_enrolment = f.make_enrollment(db, self.noah, self.course_2)
        e, amy = self.enrolment, self.amy
        # Amy: Monday 09:00-17:00, Wednesday 08:30-12:00 (2026: March 9 is a Monday, April 1 a Wednesday)
        hours(db, amy, 0, time(9), time(17))
        hours(db, amy, 2, time(8, 30), time(12))
        # two overlapping windows on Monday 9 March (11:00-20:00 together: 6 working hours lost, not 7)
        away(db, amy, datetime(2026, 3, 9, 12), datetime(2026, 3, 9, 20))
        away(db, amy, datetime(2026, 3, 9, 11), datetime(2026, 3, 9, 13))
        # across midnight and the month's end: Tuesday 31 March 18:00 to Wednesday 1 April 10:00 (90 minutes
        # of April's first Wednesday; Tuesdays are days off)
        away(db, amy, datetime(2026, 3, 31, 18), datetime(2026, 4, 1, 10))
        # a window wholly outside the working hours costs nothing (Sunday 15 March)
        away(db, amy, datetime(2026, 3, 15, 9), datetime(2026, 3, 15, 17))
        event(db, e, amy, date(2026, 3, 31), time(9), time(10), "completed", vehicle=self.car_a)
        event(db, e, amy, date(2026, 3, 31), time(11), time(12, 30), "no_show", "exam", vehicle=self.car_b)
        event(db, e, amy, date(2026, 3, 15), time(9), time(10), "cancelled")  # its minutes are not booked
        event(db, e, amy, date(2026, 3, 10), time(15), time(16), vehicle=self.car_a)  # today: upcoming
        event(db, e, amy, date(2026, 3, 9), time(9), time(10))  # yesterday, still scheduled: not upcoming
        event(db, e, amy, date(2026, 4, 1), time(9), time(9, 45), vehicle=self.car_a)
        event(db, e, amy, date(2026, 4, 1), time(10), time(10, 30), "not_completed", "assessment")
        event(db, self.other_enrolment, self.ned, date(2026, 2, 28), time(9), time(10), "completed")
        # payments: Jack (Bayside) for course 1 in March and April, with a refund; Noah (no branch) course 2
        jack_invoice = f.make_invoice(db, e)
        self.pay(jack_invoice, "100.00", date(2026, 3, 31))
        april = self.pay(jack_invoice, "50.10", date(2026, 4, 1))
        self.pay(jack_invoice, "-20.05", date(2026, 4, 2), kind="refund", refund_of=april)
        self.pay(f.make_invoice(db, self.other_enrolment), "33.33", date(2026, 3, 1))

    def pay(self, invoice, amount, day, kind="payment", refund_of=None):
        return self.db.insert("payments", {"invoice_id": invoice, "amount": Decimal(amount), "payment_date": day,
                                           "method": "cash", "kind": kind, "refund_of": refund_of})


@pytest.fixture
def school(db):
    return School(db)


def month_rows(db):
    return [{**r, "month_start": r["month_start"].isoformat()} for r in StatsDAO(db).table_rows("instructor_month")]


def m(month, instructor, branch, *, events=0, lessons=0, completed=0, cancelled=0, no_show=0, not_completed=0,
      scheduled=0, booked=0, working=0):
    return {"month_start": month, "instructor_id": instructor, "branch_id": branch, "events": events,
            "lessons": lessons, "completed": completed, "cancelled": cancelled, "no_show": no_show,
            "not_completed": not_completed, "scheduled": scheduled, "booked_minutes": booked,
            "working_minutes": working}


def test_instructor_month_every_column(db, school):
    stats.refresh(db, NOW)
    amy, ned = school.amy, school.ned
    # February: 4 Mondays x 8 h + 4 Wednesdays x 3.5 h; March: 5 + 4, less Monday 9's merged 11:00-17:00;
    # April: 4 Mondays + 5 Wednesdays, less 08:30-10:00 on the 1st
    assert month_rows(db) == sorted([
        m("2026-02-01", amy, school.bayside, working=4 * 480 + 4 * 210),
        m("2026-02-01", ned, 0, events=1, lessons=1, completed=1, booked=60),
        m("2026-03-01", amy, school.bayside, events=5, lessons=4, completed=1, cancelled=1, no_show=1, scheduled=2,
          booked=60 + 90 + 60 + 60, working=5 * 480 + 4 * 210 - 360),
        m("2026-04-01", amy, school.bayside, events=2, lessons=1, not_completed=1, scheduled=1, booked=45 + 30,
          working=4 * 480 + 5 * 210 - 90),
    ], key=lambda r: (r["month_start"], r["instructor_id"]))
    assert school.idle not in {r["instructor_id"] for r in month_rows(db)}  # no lessons, no hours: no row


def test_lifetime_totals_of_instructors_and_vehicles(db, school):
    stats.refresh(db, NOW)
    dao = StatsDAO(db)
    # lessons: type lesson, any status; completed: any type; upcoming: scheduled, from the refresh day on
    assert dao.table_rows("instructor_totals") == [
        {"instructor_id": school.amy, "lessons": 5, "completed_lessons": 1, "upcoming_lessons": 2},
        {"instructor_id": school.ned, "lessons": 1, "completed_lessons": 1, "upcoming_lessons": 0},
    ]
    assert dao.table_rows("vehicle_totals") == [
        {"vehicle_id": school.car_a, "lessons": 3, "upcoming_lessons": 2},
        {"vehicle_id": school.car_b, "lessons": 0, "upcoming_lessons": 0},  # an exam: an event, not a lesson
    ]
    # a day later, today's lesson is no longer upcoming (the refresh day decides)
    stats.refresh(db, NOW + timedelta(days=1))
    assert [r["upcoming_lessons"] for r in dao.table_rows("vehicle_totals")] == [1, 0]
    assert dao.table_rows("instructor_totals")[0]["upcoming_lessons"] == 1


def test_revenue_by_payment_month_branch_and_course(db, school):
    stats.refresh(db, NOW)
    rows = [{**r, "month_start": r["month_start"].isoformat(), "amount": Decimal(str(r["amount"])).quantize(
        Decimal("0.01"))} for r in StatsDAO(db).table_rows("revenue_month")]
    assert rows == [
        {"month_start": "2026-03-01", "branch_id": 0, "course_id": school.course_2, "amount": Decimal("33.33"),
         "payments": 1},
        {"month_start": "2026-03-01", "branch_id": school.bayside, "course_id": school.course_1,
         "amount": Decimal("100.00"), "payments": 1},
        {"month_start": "2026-04-01", "branch_id": school.bayside, "course_id": school.course_1,
         "amount": Decimal("30.05"), "payments": 1},  # net of the refund, which is not a payment
    ]


def test_freshness_rows_and_a_refresh_replaces_everything(db, school):
    assert stats.freshness(db) == {name: None for name in stats.NAMES}
    done = stats.refresh(db, NOW)
    assert list(done) == list(stats.NAMES)
    counted = {"instructor_month": 4, "instructor_totals": 2, "instructor_branch_month": 4, "vehicle_totals": 2, "revenue_month": 3,
               "enrolment_progress": 2, "enrolment_month": 2, "invoice_owing": 2, "licence_pass": 0, "branch_totals": 2}
    # (summaries added later by other modules are checked by their own tests)
    assert {n: r["rows"] for n, r in done.items() if n in counted} == counted
    assert stats.freshness(db) == {name: NOW for name in stats.NAMES}
    kept = StatsDAO(db).freshness()
    assert {n: kept[n]["row_count"] for n in kept} == {n: r["rows"] for n, r in done.items()}
    assert all(kept[n]["duration_ms"] >= 0 for n in kept)
    # Ned's only lesson goes; the next refresh drops his rows and keeps no stale one anywhere
    db.execute("DELETE FROM schedules WHERE instructor_id = :id", {"id": school.ned})
    later = NOW + timedelta(minutes=15)
    stats.refresh(db, later)
    assert school.ned not in {r["instructor_id"] for r in month_rows(db)}
    assert [r["instructor_id"] for r in StatsDAO(db).table_rows("instructor_totals")] == [school.amy]
    assert stats.freshness(db)["instructor_month"] == later
    assert db.fetch_value("SELECT COUNT(*) AS n FROM stat_freshness", cast=int) == len(stats.NAMES)  # one row each, updated


def test_refresh_of_chosen_summaries(db, school):
    done = stats.refresh(db, NOW, names=["instructor_totals"])
    # the totals are derived from the months, and the default ranges are refreshed with the months
    assert list(done) == ["instructor_month", "instructor_range", "instructor_totals"]
    assert stats.freshness(db)["vehicle_totals"] is None
    assert list(stats.refresh(db, NOW, names=["revenue_month"])) == ["revenue_month"]
    with pytest.raises(ValidationFailed):
        stats.refresh(db, NOW, names=["everything"])


def test_a_refresh_inside_a_callers_transaction_joins_it(db, school):
    with db.transaction():  # e.g. a seed: each summary becomes a savepoint of the caller's transaction
        stats.refresh(db, NOW, names=["vehicle_totals"])
    assert [r["vehicle_id"] for r in StatsDAO(db).table_rows("vehicle_totals")] == [school.car_a, school.car_b]


def test_an_empty_school_refreshes_to_empty_tables(db):
    done = stats.refresh(db, NOW)
    assert {n: r["rows"] for n, r in done.items()} == {n: 0 for n in stats.NAMES}
    assert stats.freshness(db) == {name: NOW for name in stats.NAMES}


def test_branch_totals_every_column(db):
    """stat_branch_totals (0030): per student branch, 0 for none. Active accounts only for the students;
    a student learning and completed counts in both, two completed enrolments once; cancelled enrolments
    and declined requests count nowhere; requests by the requesting student's branch, any account."""
    home, other, quiet = f.make_branch(db), f.make_branch(db), f.make_branch(db)
    both = f.make_student(db, branch_id=home)
    f.make_enrollment(db, both, status="in_progress")
    f.make_enrollment(db, both, status="completed")
    twice = f.make_student(db, branch_id=home)
    f.make_enrollment(db, twice, status="completed")
    f.make_enrollment(db, twice, status="completed")
    dropped = f.make_student(db, branch_id=home)
    f.make_enrollment(db, dropped, status="cancelled")
    f.make_enrollment_request(db, student_id=dropped, status="declined")
    f.make_enrollment_request(db, student_id=both, status="approved")
    archived = f.make_student(db, branch_id=other, user_id=f.make_user(db, status="archived"))
    f.make_enrollment(db, archived, status="active")
    f.make_enrollment_request(db, student_id=archived)                       # pending, archived account
    nowhere = f.make_student(db, branch_id=None)
    f.make_enrollment(db, nowhere, status="active")
    f.make_enrollment_request(db, student_id=nowhere)
    f.make_enrollment_request(db, student_id=nowhere, status="approved")
    assert quiet                                                             # no student: no row
    done = stats.refresh(db, NOW, names=["branch_totals"])
    assert done["branch_totals"]["rows"] == 3
    assert StatsDAO(db).table_rows("branch_totals") == sorted([
        {"branch_id": 0, "active_students": 1, "learning_students": 1, "completed_students": 0,
         "pending_requests": 1, "approved_requests": 1},
        {"branch_id": home, "active_students": 3, "learning_students": 1, "completed_students": 2,
         "pending_requests": 0, "approved_requests": 1},
        {"branch_id": other, "active_students": 0, "learning_students": 0, "completed_students": 0,
         "pending_requests": 1, "approved_requests": 0},
    ], key=lambda r: r["branch_id"])
    assert stats.freshness(db)["branch_totals"] == NOW


def test_as_of_words_the_refresh_time_in_the_school_zone():
    assert stats.as_of(None, NOW) is None
    assert stats.as_of(datetime(2026, 3, 9, 23, 15), NOW) == "10:15 today"  # Melbourne is UTC+11 in March
    assert stats.as_of(datetime(2026, 3, 9, 5, 45), NOW) == "16:45 yesterday"
    assert stats.as_of(datetime(2026, 2, 1, 0, 0), NOW) == "1 Feb 2026, 11:00"


def test_the_command_refreshes_and_prints_one_line(app, runner):
    result = runner.invoke(args=["refresh-stats"])
    assert result.exit_code == 0, result.output
    assert re.search(r"refresh-stats: instructor_month 0 rows in [\d.]+ s; instructor_range 0 rows in [\d.]+ s; instructor_totals 0 rows", result.output)
    with app.app_context():
        from app.core.flask_db import get_db
        assert all(v is not None for v in stats.freshness(get_db()).values())
    assert runner.invoke(args=["refresh-stats", "--only", "nope"]).exit_code == 2


# --------------------------------------------------------------------------- the lists read the summaries

def test_list_pages_say_how_fresh_the_counts_are(seeded, client, db):
    login(client, ADMIN)
    db.execute("DELETE FROM stat_freshness")
    for path in ("/instructors/", "/fleet/"):
        assert "Lesson counts: not yet counted" in client.get(path).get_data(as_text=True)
    stats.refresh(db, clock.now())
    wording = stats.as_of(clock.now(), clock.now())
    assert wording.endswith(" today")
    for path in ("/instructors/", "/fleet/"):
        assert f"Lesson counts as of {wording}" in client.get(path).get_data(as_text=True)


def test_list_pages_statement_count_does_not_grow_with_the_lessons(seeded, client, db):
    login(client, ADMIN)
    stats.refresh(db, clock.now())
    with count_queries() as few:
        assert client.get("/instructors/?sort=lessons&dir=desc").status_code == 200
        assert client.get("/fleet/").status_code == 200
    instructor = db.fetch_value("SELECT MIN(id) AS id FROM instructors")
    vehicle = db.fetch_value("SELECT MIN(id) AS id FROM vehicles")
    enrolment = db.fetch_value("SELECT MIN(id) AS id FROM enrollments")
    db.insert_many("schedules", [
        {"enrollment_id": enrolment, "instructor_id": instructor, "vehicle_id": vehicle, "event_type": "lesson",
         "scheduled_date": clock.today() + timedelta(days=n % 90), "start_time": time(6), "end_time": time(7),
         "status": "scheduled"} for n in range(300)])
    stats.refresh(db, clock.now())
    with count_queries() as many:
        instructors_html = client.get("/instructors/?sort=lessons&dir=desc").get_data(as_text=True)
        assert client.get("/fleet/").status_code == 200
    assert many.count == few.count, many.statements
    lists = [s for s in many.statements if "stat_instructor_totals" in s or "stat_vehicle_totals" in s]
    assert len(lists) == 3  # both pages' rows, and the instructors' count (sorted by lessons, it joins too)
    # the lists' own statements never read the lessons (the layout's navigation counts are bounded elsewhere)
    listing = [s for s in many.statements if "pick_id" in s
               or s.startswith(("SELECT COUNT(*) AS n FROM instructors i", "SELECT COUNT(*) AS n FROM vehicles v"))]
    assert len(listing) == 4 and not [s for s in listing if re.search(r"\bschedules\b", s)]
    first = re.search(r'data-label="Lessons" class="text-end">(\d+)<', instructors_html)
    assert first and int(first.group(1)) >= 300  # the busiest instructor leads the sort


def test_instructors_list_sorted_by_lessons_never_scans_schedules(db, school):
    """The plan of every statement of the list (count, page ids, page rows): MariaDB EXPLAIN, SQLite
    EXPLAIN QUERY PLAN. No step reads schedules, and the summary is read by its primary key."""
    stats.refresh(db, NOW)
    seen = []
    fetch_all, fetch_one = db.fetch_all, db.fetch_one

    def capture(run):
        def wrapped(sql, params=None):
            seen.append((sql, dict(params or {})))
            return run(sql, params)
        return wrapped

    db.fetch_all, db.fetch_one = capture(fetch_all), capture(fetch_one)
    query = ListQuery.from_args({"sort": "lessons", "dir": "desc"}, list(SORTS), "name",
                                filters=("branch", "accreditation", "status"))
    try:
        page = InstructorDAO(db).list_page(query, TODAY)
    finally:
        db.fetch_all, db.fetch_one = fetch_all, fetch_one
    assert [r["id"] for r in page.items][:2] == [school.amy, school.ned]
    assert len(seen) == 2  # the count and the page
    summary_reads = 0
    for sql, params in seen:
        if db.backend == "mysql":
            plan = db.fetch_all("EXPLAIN " + sql, params)
            tables = {str(r["table"]) for r in plan}
            assert "s" not in tables and "schedules" not in tables, plan
            summary = [r for r in plan if r["table"] == "st"]  # the count drops the unused LEFT JOIN
            assert all(r["type"] == "eq_ref" and r["key"] == "PRIMARY" for r in summary), plan
            summary_reads += len(summary)
        else:
            plan = " | ".join(r["detail"] for r in db.fetch_all("EXPLAIN QUERY PLAN " + sql, params))
            assert "schedules" not in plan, plan
            assert "SCAN st" not in plan, plan
            summary_reads += plan.count("SEARCH st USING INTEGER PRIMARY KEY")
    assert summary_reads >= 2  # the sort's ids and the page's rows, each by the summary's primary key
