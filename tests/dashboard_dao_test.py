"""DashboardDAO: each figure against a hand-built fixture, on both databases."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, time
from decimal import Decimal

from app.core.database import count_queries
from app.core.pagination import ListQuery
from app.dao.dashboard import BOOKED, DashboardDAO
from app.services import stats
from tests import factories as f

WED = date(2026, 6, 3)
MON, SUN = date(2026, 6, 1), date(2026, 6, 7)


def _lesson(db, branch, instructor, day, status="scheduled", start=time(9, 0), end=time(10, 0), enrolment=None,
            **extra):
    enrolment = enrolment or f.make_enrollment(db, student_id=f.make_student(db, branch_id=branch))
    return f.make_schedule(db, enrollment_id=enrolment, instructor_id=instructor, branch_id=branch,
                           scheduled_date=day, start_time=start, end_time=end, status=status, **extra)


def test_lesson_days_count_every_status_but_cancelled_in_scope(db):
    home, other = f.make_branch(db), f.make_branch(db)
    ann, bob = f.make_instructor(db, branch_id=home), f.make_instructor(db, branch_id=other)
    for status in ("scheduled", "completed", "no_show", "not_completed", "cancelled"):
        _lesson(db, home, ann, WED, status)
    _lesson(db, home, ann, MON)
    _lesson(db, other, bob, WED)
    _lesson(db, home, ann, date(2026, 6, 8))            # next week
    dao = DashboardDAO(db)
    school = dao.lesson_days(MON, SUN)
    assert sum(school[WED].values()) == 5 and "cancelled" not in school[WED]
    assert school[WED]["completed"] == 1 and sum(school[MON].values()) == 1
    assert date(2026, 6, 8) not in school
    branch = dao.lesson_days(MON, SUN, branch_id=home)
    assert sum(branch[WED].values()) == 4
    assert dao.lesson_days(MON, SUN, instructor_id=bob) == {WED: {"scheduled": 1}}


def test_awaiting_count_uses_each_branch_zone_cut_off(db):
    perth = f.make_branch(db, timezone="Australia/Perth")
    plain = f.make_branch(db)
    ann = f.make_instructor(db, branch_id=plain)
    _lesson(db, plain, ann, date(2026, 5, 20))                                   # long past
    _lesson(db, plain, ann, WED, start=time(8, 0), end=time(9, 0))               # ended 09:00 < 10:30
    _lesson(db, plain, ann, WED, start=time(11, 0), end=time(12, 0))             # later today
    _lesson(db, plain, ann, date(2026, 5, 20), "completed")                      # has its outcome
    _lesson(db, perth, ann, WED, start=time(8, 0), end=time(9, 0))               # Perth: it is 08:30 there
    _lesson(db, perth, ann, date(2026, 6, 2), start=time(8, 0), end=time(9, 0))  # yesterday in Perth
    cutoffs = [(None, WED, time(10, 30)), ("Australia/Perth", WED, time(8, 30))]
    dao = DashboardDAO(db)
    assert dao.awaiting_count(cutoffs) == 3
    assert dao.awaiting_count(cutoffs, branch_id=perth) == 1
    assert dao.awaiting_count(cutoffs, instructor_id=ann) == 3
    rows = dao.awaiting_rows(cutoffs, instructor_id=ann, limit=2)
    assert [r["scheduled_date"] for r in rows] == [WED, date(2026, 6, 2)]   # newest first, Perth's 08:00 not yet


def test_overdue_counts_status_overdue_and_what_is_still_owing(db):
    home, other = f.make_branch(db), f.make_branch(db)
    mine = f.make_enrollment(db, student_id=f.make_student(db, branch_id=home))
    theirs = f.make_enrollment(db, student_id=f.make_student(db, branch_id=other))
    part = f.make_invoice(db, enrollment_id=mine, status="overdue", branch_id=home)          # 968.00
    f.make_payment(db, part, Decimal("100.00"))
    legacy = f.make_invoice(db, enrollment_id=mine, status="overdue", branch_id=None)        # the student's branch
    f.make_invoice(db, enrollment_id=legacy and mine, subtotal=Decimal("-100.00"), tax_amount=Decimal("-10.00"),
                   status="sent", credit_note_for=legacy, branch_id=home)                     # credits 110.00
    f.make_invoice(db, enrollment_id=mine, subtotal=Decimal("-50.00"), tax_amount=Decimal("-5.00"),
                   status="void", credit_note_for=part, branch_id=home)                       # void: credits nothing
    f.make_invoice(db, enrollment_id=mine, status="sent", branch_id=home)                    # not overdue
    f.make_invoice(db, enrollment_id=theirs, status="overdue", branch_id=other)
    dao = DashboardDAO(db)
    assert dao.overdue(home) == {"count": 2, "owing": Decimal("968.00") * 2 - Decimal("100.00") - Decimal("110.00")}
    assert dao.overdue(other) == {"count": 1, "owing": Decimal("968.00")}
    assert dao.overdue()["count"] == 3


def test_student_balance_sums_issued_invoices_net_of_payments_and_credits(db):
    student = f.make_student(db)
    enrolment = f.make_enrollment(db, student_id=student)
    one = f.make_invoice(db, enrollment_id=enrolment, status="partial")
    f.make_payment(db, one, Decimal("468.00"))
    f.make_invoice(db, enrollment_id=enrolment, status="overdue")
    f.make_invoice(db, enrollment_id=enrolment, status="draft")
    f.make_invoice(db, enrollment_id=enrolment, status="void")
    f.make_invoice(db, enrollment_id=f.make_enrollment(db), status="overdue")   # someone else's
    balance = DashboardDAO(db).student_balance(student)
    assert balance == {"invoices": 2, "owing": Decimal("1468.00"), "overdue": 1}


def test_revenue_utilisation_and_freshness_come_from_the_summaries(db):
    home = f.make_branch(db)
    course = f.make_course(db)
    for month, branch, amount in ((date(2026, 5, 1), home, "100.50"), (date(2026, 5, 1), 0, "50.00"),
                                  (date(2026, 6, 1), home, "20.00"), (date(2025, 5, 1), home, "999.00")):
        db.insert("stat_revenue_month", {"month_start": month, "branch_id": branch, "course_id": course,
                                         "amount": Decimal(amount), "payments": 1})
    for instructor, branch, booked, working in ((1, home, 600, 1200), (2, home, 300, 600), (3, 0, 60, 60)):
        db.insert("stat_instructor_month", {"month_start": date(2026, 6, 1), "instructor_id": instructor,
                                            "branch_id": branch, "booked_minutes": booked,
                                            "working_minutes": working})
    db.insert("stat_freshness", {"name": "revenue_month", "refreshed_at": datetime(2026, 6, 3, 1, 15),
                                 "duration_ms": 5, "row_count": 4})
    dao = DashboardDAO(db)
    assert dao.revenue_months(date(2025, 7, 1), date(2026, 6, 1)) == {
        date(2026, 5, 1): Decimal("150.50"), date(2026, 6, 1): Decimal("20.00")}
    assert dao.revenue_months(date(2025, 7, 1), date(2026, 6, 1), branch_id=home)[date(2026, 5, 1)] == Decimal("100.50")
    assert dao.utilisation(date(2026, 6, 1), branch_id=home) == {"instructors": 2, "booked": 900, "working": 1800}
    assert dao.utilisation(date(2026, 6, 1))["working"] == 1860
    assert dao.utilisation(date(2026, 5, 1)) == {"instructors": 0, "booked": 0, "working": 0}
    assert dao.freshness(("revenue_month", "instructor_month")) == {
        "revenue_month": datetime(2026, 6, 3, 1, 15), "instructor_month": None}


def test_fleet_and_population_in_scope(db):
    home, other = f.make_branch(db), f.make_branch(db)
    f.make_vehicle(db, branch_id=home)
    f.make_vehicle(db, branch_id=home, status="maintenance")
    f.make_vehicle(db, branch_id=other)
    learning = f.make_student(db, branch_id=home)
    f.make_enrollment(db, student_id=learning, status="in_progress")
    done = f.make_student(db, branch_id=home)
    f.make_enrollment(db, student_id=done, status="completed")
    f.make_enrollment(db, student_id=done, status="completed")
    archived = f.make_student(db, branch_id=home, user_id=f.make_user(db, status="archived"))
    f.make_enrollment(db, student_id=archived, status="active")
    f.make_enrollment_request(db, student_id=learning, status="pending")
    f.make_enrollment_request(db, student_id=done, status="approved")
    f.make_student(db, branch_id=other)
    f.make_enrollment_request(db, student_id=f.make_student(db, branch_id=None), status="pending")
    dao = DashboardDAO(db)
    assert dao.fleet(home) == {"available": 1, "total": 2} and dao.fleet() == {"available": 2, "total": 3}
    zero = {"students": 0, "learning": 0, "completed": 0, "pending": 0, "approved": 0}
    assert dao.population(home) == zero and dao.population() == zero      # the summary is not built yet
    stats.refresh(db, datetime(2026, 6, 3, 2, 0), names=["branch_totals"])
    assert dao.population(home) == {"students": 2, "learning": 1, "completed": 1, "pending": 1, "approved": 1}
    assert dao.population(other) == {**zero, "students": 1}
    assert dao.population() == {"students": 4, "learning": 1, "completed": 1, "pending": 2, "approved": 1}
    with count_queries() as counter:                                    # the school: one read of the summary
        dao.population()
    assert counter.count == 1 and "stat_branch_totals" in counter.statements[0]


def test_instructor_students_run_sheet_and_next_lessons(db):
    branch = f.make_branch(db)
    ann, bob = f.make_instructor(db, branch_id=branch), f.make_instructor(db, branch_id=branch)
    taught = f.make_student(db, branch_id=branch)
    enrolment = f.make_enrollment(db, student_id=taught)
    car = f.make_vehicle(db, branch_id=branch, name="Corolla")
    late = _lesson(db, branch, ann, WED, start=time(14, 0), end=time(15, 0), enrolment=enrolment)
    early = _lesson(db, branch, ann, WED, start=time(8, 0), end=time(9, 0), enrolment=enrolment, vehicle_id=car,
                    pickup_location="Station")
    _lesson(db, branch, bob, WED)
    requested = f.make_student(db, branch_id=branch)
    f.make_enrollment_request(db, student_id=requested, instructor_id=ann)
    dao = DashboardDAO(db)
    total, rows = dao.instructor_students(ann, limit=1)
    assert total == 2 and len(rows) == 1
    sheet = dao.run_sheet(ann, WED)
    assert [r["id"] for r in sheet] == [early, late]
    assert sheet[0]["vehicle_name"] == "Corolla" and sheet[0]["pickup_location"] == "Station"
    upcoming = dao.next_lessons(taught, WED)
    assert [r["id"] for r in upcoming] == [early, late]
    assert dao.next_lessons(taught, date(2026, 6, 4)) == []


def test_lessons_page_counts_what_lesson_days_counts(db):
    branch = f.make_branch(db)
    ann = f.make_instructor(db, branch_id=branch)
    for day in (MON, WED, WED, SUN):
        _lesson(db, branch, ann, day)
    _lesson(db, branch, ann, WED, "cancelled")
    dao = DashboardDAO(db)
    page = dao.lessons_page(ListQuery(sort="date", per_page=2), start=MON, end=SUN, statuses=BOOKED, branch_id=branch)
    assert page.total == 4 == sum(sum(v.values()) for v in dao.lesson_days(MON, SUN, branch_id=branch).values())
    assert len(page.items) == 2 and page.items[0]["scheduled_date"] == MON
    cancelled = dao.lessons_page(ListQuery(sort="date"), start=WED, end=WED, statuses=("cancelled",))
    assert cancelled.total == 1


def test_notifications_latest_and_unread(db):
    user = f.make_user(db)
    for n in range(7):
        db.insert("notifications", {"user_id": user, "title": f"T{n}", "message": "m", "level": "info",
                                    "is_read": 1 if n < 3 else 0, "created_at": datetime(2026, 6, 1, 9, n)})
    unread, rows = DashboardDAO(db).notifications(user, 5)
    assert unread == 4 and [r["title"] for r in rows] == ["T6", "T5", "T4", "T3", "T2"]
    assert rows[-1]["is_read"] is True and rows[0]["is_read"] is False


def test_upcoming_lists_the_next_lessons_still_to_start_in_scope(db):
    home, other = f.make_branch(db), f.make_branch(db)
    ann, bob = f.make_instructor(db, branch_id=home), f.make_instructor(db, branch_id=other)
    started = _lesson(db, home, ann, WED, start=time(9, 0), end=time(10, 0))
    later = _lesson(db, home, ann, WED, start=time(11, 0), end=time(12, 0))
    tomorrow = _lesson(db, home, ann, date(2026, 6, 4))
    _lesson(db, home, ann, date(2026, 6, 5), "cancelled")
    elsewhere = _lesson(db, other, bob, date(2026, 6, 4), start=time(7, 0), end=time(8, 0))
    dao = DashboardDAO(db)
    assert [r["id"] for r in dao.upcoming(WED, time(10, 30), branch_id=home)] == [later, tomorrow]
    assert [r["id"] for r in dao.upcoming(WED, time(10, 30), limit=2)] == [later, elsewhere]
    assert started not in [r["id"] for r in dao.upcoming(WED, time(9, 30))]


def test_the_awaiting_count_stops_at_its_cap(db):
    """With ``cap`` (the office dashboard: 1,000) each arm reads at most cap + 1 rows: an answer above
    the cap means "more than cap"; at or below it, the exact figure."""
    plain = f.make_branch(db)
    ann = f.make_instructor(db, branch_id=plain)
    for n in range(4):
        _lesson(db, plain, ann, date(2026, 5, 20 + n))                   # long past
    _lesson(db, plain, ann, WED, start=time(8, 0), end=time(9, 0))       # ended today (the edge arm)
    cutoffs = [(None, WED, time(10, 30))]
    dao = DashboardDAO(db)
    assert dao.awaiting_count(cutoffs) == 5
    assert dao.awaiting_count(cutoffs, cap=3) == 4  # more than 3
    assert dao.awaiting_count(cutoffs, cap=5) == 5 and dao.awaiting_count(cutoffs, cap=10) == 5
