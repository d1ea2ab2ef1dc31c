"""ReportDAO on both backends: the dashboard KPIs over a small school built for the edge cases."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from app.core.database import count_queries
from app.dao.report import ReportDAO, ReportQueriesDAO
from tests.factories import (
    make_branch, make_course, make_enrollment, make_instructor, make_invoice, make_schedule, make_student,
    make_user, make_vehicle,
)

TODAY = date(2026, 3, 10)
DAY = timedelta(days=1)


@dataclass
class School:
    north: int
    south: int
    amelia: int
    raj: int
    jack: int
    mia: int
    zoe: int


@pytest.fixture
def school(db) -> School:
    """Two branches. Counts per branch are listed next to each row (N = north, S = south)."""
    north, south = make_branch(db, name="North"), make_branch(db, name="South")
    make_branch(db, name="Empty")
    amelia = make_instructor(db, branch_id=north)
    raj = make_instructor(db, branch_id=south)

    jack = make_student(db, branch_id=north)                                   # N student
    mia = make_student(db, branch_id=north)                                    # N student
    zoe = make_student(db, branch_id=south)                                    # S student
    archived_user = make_user(db, role="student", status="archived", branch_id=north)
    ghost = make_student(db, user_id=archived_user, branch_id=north)           # archived: not counted
    course = make_course(db)

    e_jack = make_enrollment(db, jack, course)
    e_jack2 = make_enrollment(db, jack, make_course(db), status="completed")
    e_mia = make_enrollment(db, mia, course)
    e_zoe = make_enrollment(db, zoe, course)
    e_ghost = make_enrollment(db, ghost, course)

    def lesson(enrollment, instructor, day, status="scheduled", branch=north, **kw):
        return make_schedule(db, enrollment, instructor, scheduled_date=day, status=status, branch_id=branch, **kw)

    lesson(e_jack, amelia, TODAY)                                              # N upcoming (today counts)
    lesson(e_jack, amelia, TODAY + 7 * DAY)                                    # N upcoming
    lesson(e_jack2, amelia, TODAY + 2 * DAY)                                   # N upcoming (other enrolment)
    lesson(e_mia, amelia, TODAY + 3 * DAY, status="cancelled")                 # not upcoming
    lesson(e_mia, amelia, TODAY + 4 * DAY, status="completed")                 # not upcoming (completed early)
    lesson(e_mia, amelia, TODAY - DAY, status="completed")                     # past
    lesson(e_mia, amelia, TODAY - 5 * DAY)                                     # past, never marked: not upcoming
    lesson(e_jack, amelia, TODAY - 3 * DAY, status="not_completed")            # past
    lesson(e_zoe, raj, TODAY + DAY, branch=south)                              # S upcoming
    lesson(e_zoe, raj, TODAY - 2 * DAY, status="completed", branch=south)      # past
    lesson(e_ghost, raj, TODAY + DAY, branch=north)                            # N upcoming (taught by raj)

    make_invoice(db, e_jack, due_date=TODAY - DAY, status="sent")              # N overdue
    make_invoice(db, e_jack2, due_date=TODAY - 30 * DAY, status="partial")     # N overdue
    make_invoice(db, e_mia, due_date=TODAY - 10 * DAY, status="paid")          # paid: not overdue
    make_invoice(db, e_mia, due_date=TODAY, status="sent")                     # due today: not yet overdue
    make_invoice(db, e_zoe, due_date=TODAY - 2 * DAY, status="overdue")        # S overdue
    make_invoice(db, e_zoe, due_date=TODAY + 5 * DAY, status="sent")           # not due

    make_vehicle(db, branch_id=north, status="available")
    make_vehicle(db, branch_id=north, status="available")
    make_vehicle(db, branch_id=north, status="maintenance")
    make_vehicle(db, branch_id=south, status="in_service")
    make_vehicle(db, branch_id=south, status="available")
    make_vehicle(db, branch_id=None, status="available")                      # no branch: school-wide only
    return School(north, south, amelia, raj, jack, mia, zoe)


def test_dashboard_summary_for_the_whole_school(db, school):
    assert ReportDAO(db).dashboard_summary(TODAY) == {
        "students": 3,
        "upcoming_lessons": 5,
        "overdue_invoices": 3,
        "fleet_available": 4,
        "fleet_total": 6,
    }


def test_dashboard_summary_for_one_branch(db, school):
    reports = ReportDAO(db)
    assert reports.dashboard_summary(TODAY, branch_id=school.north) == {
        "students": 2, "upcoming_lessons": 4, "overdue_invoices": 2, "fleet_available": 2, "fleet_total": 3,
    }
    assert reports.dashboard_summary(TODAY, branch_id=school.south) == {
        "students": 1, "upcoming_lessons": 1, "overdue_invoices": 1, "fleet_available": 1, "fleet_total": 2,
    }


def test_dashboard_summary_moves_with_the_given_day(db, school):
    # a week later: only the lesson on TODAY + 7 is still ahead; the invoice due TODAY and the one due
    # TODAY + 5 are now overdue too
    later = ReportDAO(db).dashboard_summary(TODAY + 7 * DAY)
    assert later["upcoming_lessons"] == 1
    assert later["overdue_invoices"] == 5


def test_dashboard_summary_of_an_empty_school_is_all_zero(db):
    assert ReportDAO(db).dashboard_summary(TODAY) == {
        "students": 0, "upcoming_lessons": 0, "overdue_invoices": 0, "fleet_available": 0, "fleet_total": 0,
    }


def test_instructor_summary(db, school):
    reports = ReportDAO(db)
    # amelia: jack (2 enrolments) and mia -> 2 distinct students; 3 scheduled from today; 2 completed
    assert reports.instructor_summary(school.amelia, TODAY) == {
        "students": 2, "upcoming_lessons": 3, "completed_lessons": 2,
    }
    assert reports.instructor_summary(school.raj, TODAY) == {
        "students": 2, "upcoming_lessons": 2, "completed_lessons": 1,
    }
    assert reports.instructor_summary(make_instructor(db), TODAY) == {
        "students": 0, "upcoming_lessons": 0, "completed_lessons": 0,
    }


def test_student_summary(db, school):
    reports = ReportDAO(db)
    assert reports.student_summary(school.jack, TODAY) == {
        "enrollments": 2, "upcoming_lessons": 3, "overdue_invoices": 2,
    }
    assert reports.student_summary(school.mia, TODAY) == {
        "enrollments": 1, "upcoming_lessons": 0, "overdue_invoices": 0,
    }
    assert reports.student_summary(school.zoe, TODAY) == {
        "enrollments": 1, "upcoming_lessons": 1, "overdue_invoices": 1,
    }


def test_each_summary_is_one_query_returning_ints(db, school):
    reports = ReportDAO(db)
    for call in (
        lambda: reports.dashboard_summary(TODAY),
        lambda: reports.dashboard_summary(TODAY, branch_id=school.north),
        lambda: reports.instructor_summary(school.amelia, TODAY),
        lambda: reports.student_summary(school.jack, TODAY),
    ):
        with count_queries() as counter:
            summary = call()
        assert counter.count == 1
        assert all(type(v) is int for v in summary.values())


# ===================================================================================================
# Issue 13: the Reports module (app/services/reports.py over app/dao/report.py), each metric checked
# against a small school computed by hand. The raw rows are built with the factories and the
# maintained summaries with app.services.stats.refresh, exactly as `flask refresh-stats` does.

from datetime import time  # noqa: E402
from decimal import Decimal  # noqa: E402

from app.core.errors import PermissionDenied  # noqa: E402
from app.services import reports, stats  # noqa: E402
from app.services.scope import Actor  # noqa: E402
from tests.factories import NOW, make_payment, make_working_hours  # noqa: E402

ADMIN = Actor(user_id=1, role="admin")
D = date


@dataclass
class Chain:
    north: int
    south: int
    amelia: int
    raj: int
    lee: int
    jack: int
    mia: int
    zoe: int
    c1: int
    c2: int
    inv_jack: int
    inv_mia: int
    inv_old: int
    inv_late: int

    def staff(self, branch):
        return Actor(user_id=2, role="staff", branch_id=branch)


def _lesson(db, enrolment, instructor, day, status="completed", kind="lesson", start=time(9), end=time(10), branch=None):
    return make_schedule(db, enrolment, instructor, scheduled_date=day, status=status, event_type=kind,
                         start_time=start, end_time=end, branch_id=branch)


@pytest.fixture
def chain(db) -> Chain:
    """Two branches; every figure the tests expect is worked out in the comments.

    amelia (North, works Mondays 09-17: Feb 4 Mondays = 1,920 min, Mar 5 = 2,400 min), raj (South, no
    working hours). Events are 60 minutes."""
    north, south = make_branch(db, name="North"), make_branch(db, name="South")
    amelia = make_instructor(db, branch_id=north, accreditation_expiry=D(2026, 3, 1))     # expired
    raj = make_instructor(db, branch_id=south, accreditation_expiry=D(2026, 4, 1))        # expiring by 9 May
    make_instructor(db, branch_id=north, accreditation_expiry=D(2027, 1, 1))              # valid
    lee = make_instructor(db, branch_id=south, accreditation_expiry=None)                 # not recorded
    gone = make_user(db, role="instructor", status="archived", branch_id=north)
    make_instructor(db, user_id=gone, branch_id=north, accreditation_expiry=D(2020, 1, 1))  # archived: left out
    make_working_hours(db, amelia, 0, time(9), time(17))

    jack, mia = make_student(db, branch_id=north), make_student(db, branch_id=north)
    zoe = make_student(db, branch_id=south)
    make_student(db, user_id=make_user(db, role="student", status="archived", branch_id=north), branch_id=north)
    c1 = make_course(db, title="Essentials", lesson_count=10)
    c2 = make_course(db, title="Refresher", lesson_count=8)
    e_jack = make_enrollment(db, jack, c1, status="active", start_date=D(2026, 1, 5))
    e_mia = make_enrollment(db, mia, c2, status="in_progress", start_date=D(2026, 2, 1))
    e_zoe = make_enrollment(db, zoe, c1, status="completed", start_date=D(2025, 12, 1))
    e_jack2 = make_enrollment(db, jack, c2, status="cancelled", start_date=D(2026, 3, 1))

    # amelia, February: 3 completed, 1 no-show, 1 cancelled (booked 4 x 60 = 240 min)
    _lesson(db, e_jack, amelia, D(2026, 2, 2))
    _lesson(db, e_jack, amelia, D(2026, 2, 9))
    _lesson(db, e_mia, amelia, D(2026, 2, 10))
    _lesson(db, e_mia, amelia, D(2026, 2, 11), "no_show")
    _lesson(db, e_jack, amelia, D(2026, 2, 12), "cancelled")
    # amelia, March: 6 events (5 lessons, 1 exam), 5 completed, 1 scheduled (booked 360 min)
    _lesson(db, e_jack, amelia, D(2026, 3, 2))
    _lesson(db, e_jack, amelia, D(2026, 3, 3), start=time(8), end=time(9))                 # before the test
    _lesson(db, e_jack, amelia, D(2026, 3, 3), kind="exam")                                # jack's first pass
    _lesson(db, e_jack, amelia, D(2026, 3, 4))                                             # after it
    _lesson(db, e_mia, amelia, D(2026, 3, 5))
    _lesson(db, e_mia, amelia, D(2026, 3, 20), "scheduled")                                # upcoming
    # raj, February: 3 lessons completed, a failed test, a pass (events 5, completed 4, booked 300)
    for day in (3, 4, 5):
        _lesson(db, e_zoe, raj, D(2026, 2, day))
    _lesson(db, e_zoe, raj, D(2026, 2, 6), "not_completed", kind="exam")
    _lesson(db, e_zoe, raj, D(2026, 2, 20), kind="exam")                                   # zoe's first pass
    # raj, March: a cancelled lesson and a second pass (events 2, completed 1, cancelled 1, booked 60)
    _lesson(db, e_zoe, raj, D(2026, 3, 2), "cancelled")
    _lesson(db, e_zoe, raj, D(2026, 3, 6), kind="exam")

    # invoices (as of TODAY = 10 Mar 2026)
    inv_jack = make_invoice(db, e_jack, issue_date=D(2026, 1, 5), due_date=D(2026, 2, 1), status="partial")
    make_payment(db, inv_jack, "500.00", payment_date=D(2026, 2, 15))
    make_payment(db, inv_jack, "200.00", payment_date=D(2026, 3, 1))
    make_payment(db, inv_jack, "-50.00", payment_date=D(2026, 3, 5), kind="refund", reason="goodwill")
    inv_mia = make_invoice(db, e_mia, issue_date=D(2026, 2, 1), due_date=D(2026, 3, 5), status="partial",
                           branch_id=north)
    make_payment(db, inv_mia, "300.00", payment_date=D(2026, 3, 8))
    inv_zoe = make_invoice(db, e_zoe, issue_date=D(2025, 12, 1), due_date=D(2025, 12, 15), status="paid")
    make_payment(db, inv_zoe, "968.00", payment_date=D(2026, 1, 20))
    inv_old = make_invoice(db, e_jack2, issue_date=D(2025, 10, 1), due_date=D(2025, 11, 1), status="overdue")
    make_invoice(db, e_jack2, issue_date=D(2026, 1, 10), due_date=D(2026, 1, 10), status="paid", subtotal="-100.00",
                 tax_amount="0.00", credit_note_for=inv_old)                               # credits 100
    inv_late = make_invoice(db, e_zoe, issue_date=D(2025, 12, 1), due_date=D(2025, 12, 20), status="paid")
    make_payment(db, inv_late, "968.00", payment_date=D(2026, 3, 9))                      # paid yesterday
    make_invoice(db, e_mia, due_date=D(2026, 3, 20), status="sent")                        # not due yet
    make_invoice(db, e_mia, due_date=D(2026, 1, 1), status="draft")                        # drafts never count
    make_invoice(db, e_mia, due_date=D(2026, 1, 1), status="void")                         # nor voided ones

    make_vehicle(db, branch_id=north, next_service_due=D(2026, 3, 1), name="Overdue car")
    make_vehicle(db, branch_id=north, next_service_due=D(2026, 4, 15), name="Due car")
    make_vehicle(db, branch_id=south, next_service_due=D(2026, 12, 1), name="Fine car")
    make_vehicle(db, branch_id=south, next_service_due=None, name="Unknown car")

    stats.refresh(db, NOW, today=TODAY)
    return Chain(north, south, amelia, raj, lee, jack, mia, zoe, c1, c2, inv_jack, inv_mia, inv_old, inv_late)


def build(db, name, actor=ADMIN, **args):
    return reports.build(db, actor, name, args, TODAY)


FEB_MAR = {"date_from": "2026-02", "date_to": "2026-03"}


def test_revenue_by_month_branch_and_course(db, chain):
    data = build(db, "revenue", date_from="2026-01", date_to="2026-03")
    assert [(m["month_start"], m["amount"], m["payments"]) for m in data["months"]] == [
        (D(2026, 1, 1), Decimal("968.00"), 1), (D(2026, 2, 1), Decimal("500.00"), 1),
        (D(2026, 3, 1), Decimal("1418.00"), 3)]     # 200 - 50 (a refund: no payment) + 300 + 968
    assert data["total"] == Decimal("2886.00") and data["payments"] == 5
    assert {b["branch_name"]: b["amount"] for b in data["by_branch"]} == {"North": Decimal("950.00"),
                                                                         "South": Decimal("1936.00")}
    assert [(c["course_title"], c["amount"]) for c in data["by_course"]] == [
        ("Essentials", Decimal("2586.00")), ("Refresher", Decimal("300.00"))]
    # a range with no payments still lists its months at zero; staff see only their branch
    north = build(db, "revenue", chain.staff(chain.north), date_from="2025-12", date_to="2026-03", branch=str(chain.south))
    assert [m["amount"] for m in north["months"]] == [0, 0, Decimal("500.00"), Decimal("450.00")]
    assert north["filters"].notes and north["filters"].branch_id == chain.north
    assert [b["branch_name"] for b in north["by_branch"]] == ["North"]


def test_monthly_revenue_defaults_to_the_last_twelve_months(db, chain):
    data = build(db, "revenue")
    assert [m["month_start"] for m in data["months"]][0] == D(2025, 4, 1)
    assert data["months"][-1]["month_start"] == D(2026, 3, 1) and len(data["months"]) == 12
    assert data["refreshed_at"] == NOW


def _by_name(page, chain):
    return {r["instructor_id"]: r for r in page.items}


def test_instructor_performance_and_rates(db, chain):
    data = build(db, "instructors", **FEB_MAR)
    rows = _by_name(data["page"], chain)
    amelia, raj = rows[chain.amelia], rows[chain.raj]
    assert (amelia["events"], amelia["lessons"], amelia["completed"], amelia["cancelled"], amelia["no_show"],
            amelia["scheduled"]) == (11, 10, 8, 1, 1, 1)
    assert amelia["completion_rate"] == Decimal("88.9")            # 8 of 9 with an outcome
    assert amelia["cancel_pct"] == Decimal("9.1") and amelia["no_show_pct"] == Decimal("9.1")
    assert (raj["events"], raj["lessons"], raj["completed"], raj["not_completed"], raj["cancelled"]) == (7, 4, 5, 1, 1)
    assert raj["completion_rate"] == Decimal("83.3") and raj["cancel_pct"] == Decimal("14.3")
    assert [r["instructor_id"] for r in data["page"].items] == [chain.amelia, chain.raj]   # most completed first
    t = data["totals"]
    assert (t["instructors"], t["events"], t["completed"], t["cancelled"], t["no_show"]) == (2, 18, 13, 2, 1)
    assert data["page"].total == 2


def test_utilisation_is_booked_over_working_hours(db, chain):
    data = build(db, "utilisation", **FEB_MAR)
    rows = _by_name(data["page"], chain)
    amelia, raj = rows[chain.amelia], rows[chain.raj]
    assert (amelia["booked_minutes"], amelia["working_minutes"]) == (600, 4320)
    assert amelia["utilisation_pct"] == Decimal("13.9") and amelia["booked_hours"] == Decimal("10.0")
    assert raj["working_minutes"] == 0 and raj["utilisation_pct"] is None          # no hours: nothing to divide
    assert data["totals"]["utilisation_pct"] == Decimal("22.2")                      # 960 / 4,320
    by_month = {m["month_start"]: m for m in data["by_month"]}
    assert by_month[D(2026, 2, 1)]["utilisation_pct"] == Decimal("28.1")             # (240 + 300) / 1,920
    assert by_month[D(2026, 3, 1)]["utilisation_pct"] == Decimal("17.5")             # (360 + 60) / 2,400
    assert {b["branch_name"]: b["utilisation_pct"] for b in data["by_branch"]} == {"North": Decimal("13.9"),
                                                                                  "South": None}
    assert [r["instructor_id"] for r in data["page"].items] == [chain.amelia, chain.raj]


def test_cancellations_by_branch_and_instructor(db, chain):
    data = build(db, "cancellations", **FEB_MAR)
    assert {b["branch_name"]: (b["cancelled"], b["no_show"], b["events"]) for b in data["by_branch"]} == {
        "North": (1, 1, 11), "South": (1, 0, 7)}
    assert [(m["cancelled"], m["no_show"]) for m in data["by_month"]] == [(1, 1), (1, 0)]
    south = build(db, "cancellations", branch=str(chain.south), **FEB_MAR)
    assert [r["instructor_id"] for r in south["page"].items] == [chain.raj]
    assert south["totals"]["cancel_pct"] == Decimal("14.3")


def test_instructor_list_sorts_and_pages(db, chain):
    by_name = build(db, "instructors", sort="name", dir="asc", **FEB_MAR)["page"]
    names = [r["last_name"] for r in by_name.items]
    assert names == sorted(names)
    far = build(db, "instructors", page="999999999", **FEB_MAR)["page"]
    assert far.page == 1 and len(far.items) == 2                     # past the end: the last page


def test_retention_and_progress(db, chain):
    data = build(db, "retention", date_from="2025-12-01", date_to="2026-03-10")
    assert data["by_status"] == {"active": 1, "in_progress": 1, "completed": 1, "cancelled": 1}
    assert data["total"] == 4 and data["open"] == 2
    assert data["completion_rate"] == Decimal("50.0")                # 1 completed of 2 ended
    # open enrolments: jack 5 of 10 lessons (band 50-74 %), mia 2 of 8 (band 25-49 %)
    assert data["bands"] == {0: 0, 1: 0, 2: 1, 3: 1, 4: 0, 5: 0}
    south = build(db, "retention", chain.staff(chain.south), date_from="2025-12-01", date_to="2026-03-10")
    assert south["by_status"]["completed"] == 1 and south["total"] == 1 and sum(south["bands"].values()) == 0


def _ageing(data):
    return [(b["label"], b["invoices"], b["owing"]) for b in data["buckets"]]


def test_invoice_ageing_today(db, chain):
    data = build(db, "ageing")
    assert _ageing(data) == [("0–30 days", 1, Decimal("668.00")), ("31–60 days", 1, Decimal("318.00")),
                             ("61–90 days", 0, Decimal("0.00")), ("Over 90 days", 1, Decimal("868.00"))]
    assert data["total_owing"] == Decimal("1854.00") and data["total_invoices"] == 3
    rows = data["page"].items
    assert [r["id"] for r in rows] == [chain.inv_old, chain.inv_jack, chain.inv_mia]       # most overdue first
    assert [r["days_overdue"] for r in rows] == [129, 37, 5]
    assert data["page"].total == 3


def test_invoice_ageing_as_of_an_earlier_day_counts_what_was_owing_then(db, chain):
    data = build(db, "ageing", date_to="2026-03-01")
    # jack: 968 - 700 paid by then, 28 days; mia not yet due; zoe's late invoice paid on 9 Mar: 968, 71 days
    assert _ageing(data) == [("0–30 days", 1, Decimal("268.00")), ("31–60 days", 0, Decimal("0.00")),
                             ("61–90 days", 1, Decimal("968.00")), ("Over 90 days", 1, Decimal("868.00"))]
    south = build(db, "ageing", branch=str(chain.south), date_to="2026-03-01")
    assert [r["id"] for r in south["page"].items] == [chain.inv_late]
    issued = build(db, "ageing", date_from="2026-01-01", date_to="2026-03-01")               # issued from 1 Jan
    assert [r["id"] for r in issued["page"].items] == [chain.inv_jack]


def test_ageing_on_the_refresh_day_reads_the_summary_and_other_days_are_live(db, chain):
    data = build(db, "ageing")                                     # no date: the summary's day (TODAY)
    assert data.get("summary") and not data.get("live") and data["refreshed_at"] == NOW
    assert data["filters"].date_to == TODAY
    # a payment taken after the refresh shows at the next refresh, not before (the page says "as of")
    make_payment(db, chain.inv_old, "100.00", payment_date=TODAY)
    assert build(db, "ageing")["total_owing"] == Decimal("1854.00")
    assert build(db, "ageing", date_to=TODAY.isoformat())["total_owing"] == Decimal("1854.00")  # the same day
    past = build(db, "ageing", date_to="2026-03-09")               # another day: live, exact, says so
    assert past.get("live") and not past.get("summary") and "refreshed_at" not in past
    stats.refresh(db, NOW, today=TODAY)
    assert build(db, "ageing")["total_owing"] == Decimal("1754.00")
    # the summary agrees with the live computation of the same day
    live = ReportQueriesDAO(db).ageing(reports.list_query({}, "ageing"), TODAY, reports.ageing_bounds(TODAY), None, None)
    summary = build(db, "ageing")
    assert live[0] == [{k: b[k] for k in ("bucket", "invoices", "owing")} for b in summary["buckets"]]
    assert [r["id"] for r in live[1].items] == [r["id"] for r in summary["page"].items]


def test_the_ageing_csv_is_read_in_windows_as_it_is_written(db, chain, monkeypatch):
    monkeypatch.setattr(reports, "CSV_WINDOW", 1)
    with count_queries() as counter:
        _, header, rows = reports.csv_table(db, ADMIN, "ageing", {}, TODAY)
        before = counter.count
        first = next(rows)                                        # the first window only, so far
        assert counter.count == before + 1
        rest = list(rows)
    assert header[0] == "invoice_number" and len([first, *rest]) == 3
    assert counter.count == before + 3                            # three windows of one (the total is known)


@pytest.mark.parametrize("window", [1, 2])
def test_the_ageing_csv_windows_list_every_invoice_once_in_the_pages_order(db, chain, monkeypatch, window):
    """Each CSV window continues after the previous window's last row (keyset): with ties on the due date
    and on the amount owing, every sort and direction gives exactly the rows, in the order, of one page."""
    from app.dao.report import ReportQueriesDAO
    from tests.factories import make_invoice

    e_mia = db.fetch_value("SELECT e.id FROM enrollments e JOIN students s ON s.id = e.student_id"
                           " WHERE s.id = :s ORDER BY e.id LIMIT 1", {"s": chain.mia})
    for _ in range(3):  # the same due date and amount three times, and once more on inv_mia's due date
        make_invoice(db, e_mia, issue_date=D(2026, 1, 2), due_date=D(2026, 2, 1), status="overdue")
    make_invoice(db, e_mia, issue_date=D(2026, 2, 1), due_date=D(2026, 3, 5), status="overdue")
    stats.refresh(db, NOW, today=TODAY)
    monkeypatch.setattr(reports, "CSV_WINDOW", window)
    dao = ReportQueriesDAO(db)
    bounds = reports.ageing_bounds(TODAY)
    for sort in ("overdue", "owing", "number"):
        for direction in ("asc", "desc"):
            args = {"sort": sort, "dir": direction}
            query = reports.list_query(args, "ageing")
            whole = dao.ageing_summary_rows(TODAY, bounds, None, None, query, 1000, 0)
            assert len(whole) == 7
            _, header, rows = reports.csv_table(db, ADMIN, "ageing", args, TODAY)
            numbers = [row[0] for row in rows]
            assert numbers == [r["invoice_number"] for r in whole], (sort, direction)


@pytest.mark.parametrize("name", ["instructors", "utilisation", "cancellations"])
def test_the_default_range_reads_its_summary_and_agrees_with_the_months(db, chain, name):
    """The instructor reports' default range comes from stat_instructor_range (refresh-stats sums it); the
    same figures, sorted and paged the same, as summing stat_instructor_month's rows of that range."""
    from app.core.database import count_queries

    def rows(actor=ADMIN, **args):
        data = build(db, name, actor, **args)
        return [(r["instructor_id"], r["events"], r["lessons"], r["completed"], r["cancelled"], r["no_show"],
                 r["booked_minutes"], r["working_minutes"]) for r in data["page"].items], data["totals"]

    ranges = reports.instructor_default_ranges(TODAY)
    kind = reports.REPORTS[name]
    first = reports._months_back(TODAY.replace(day=1), kind.default_span - 1)
    assert (first, TODAY.replace(day=1)) in ranges
    stored = db.fetch_value("SELECT COUNT(*) FROM stat_instructor_range WHERE m_from = :f", {"f": first}, cast=int)
    assert stored > 0
    with count_queries() as counter:
        summary = rows()
        by_events = rows(sort="events", dir="desc")
        north = rows(chain.staff(chain.north))
    assert any("stat_instructor_range" in sql for sql in counter.statements)
    db.execute("DELETE FROM stat_instructor_range")                       # the same range, summed from the months
    with count_queries() as counter:
        assert rows() == summary and rows(sort="events", dir="desc") == by_events
        assert rows(chain.staff(chain.north)) == north
    assert not any("stat_instructor_range sm" in sql for sql in counter.statements)
    assert summary[0] and summary[1]["events"] > 0
    # any other range is summed from the months, whatever the summary holds
    stats.refresh(db, NOW, today=TODAY)
    with count_queries() as counter:
        other = rows(date_from="2026-02", date_to="2026-03")
    assert not any("stat_instructor_range sm" in sql for sql in counter.statements) and other[1]["events"] > 0


def test_retention_and_licence_read_their_summaries_as_of_the_refresh(db, chain):
    before = build(db, "retention", date_from="2025-12-01", date_to="2026-03-10")
    jack_enrolment = db.fetch_value("SELECT id FROM enrollments WHERE student_id = :s", {"s": chain.jack})
    db.execute("UPDATE enrollments SET status = 'completed' WHERE id = :id", {"id": jack_enrolment})
    assert build(db, "retention", date_from="2025-12-01", date_to="2026-03-10")["by_status"] == before["by_status"]
    assert before["refreshed_at"] == NOW
    stats.refresh(db, NOW, today=TODAY)
    after = build(db, "retention", date_from="2025-12-01", date_to="2026-03-10")["by_status"]
    assert after["completed"] == before["by_status"]["completed"] + 1
    assert after["active"] + after["in_progress"] == before["open"] - 1
    assert build(db, "licence", date_from="2026-02-01", date_to="2026-03-10")["refreshed_at"] == NOW


def test_invoice_ageing_for_a_branch(db, chain):
    north = build(db, "ageing", chain.staff(chain.north))
    assert north["total_invoices"] == 3
    south = build(db, "ageing", chain.staff(chain.south))
    assert south["total_invoices"] == 0 and south["page"].items == []


def test_lessons_to_licence(db, chain):
    data = build(db, "licence", date_from="2026-02-01", date_to="2026-03-10")
    # jack: 4 completed lessons before his test on 3 Mar (one the same morning); zoe: 3 before 20 Feb
    # (her second pass on 6 Mar is not a first pass)
    assert (data["students"], data["average"], data["median"], data["fewest"], data["most"]) == (
        2, Decimal("3.5"), Decimal("3.5"), 3, 4)
    assert data["histogram"] == [(3, 1), (4, 1)]
    assert data["bands"][0] == {"label": "Up to 10", "students": 2}
    assert {b["branch_name"]: b["students"] for b in data["branches"]} == {"North": 1, "South": 1}
    march = build(db, "licence", date_from="2026-03-01", date_to="2026-03-10")
    assert (march["students"], march["median"]) == (1, Decimal("4"))
    south = build(db, "licence", chain.staff(chain.south), date_from="2026-02-01", date_to="2026-03-10")
    assert south["histogram"] == [(3, 1)]


def test_compliance(db, chain):
    data = build(db, "compliance", date_to="2026-05-09")
    assert data["instructors"] == {"expired": 1, "expiring": 1, "missing": 1, "instructors": 4}
    assert [r["instructor_id"] for r in data["instructor_page"].items] == [chain.amelia, chain.raj, chain.lee]
    assert [r["state"] for r in data["instructor_page"].items] == ["expired", "expiring", "missing"]
    assert data["instructor_page"].items[0]["days"] == -9
    assert data["vehicles"] == {"overdue": 1, "due": 1, "missing": 1, "vehicles": 4}
    assert [r["name"] for r in data["vehicle_page"].items] == ["Overdue car", "Due car", "Unknown car"]
    north = build(db, "compliance", chain.staff(chain.north), date_to="2026-05-09")
    assert north["instructors"] == {"expired": 1, "expiring": 0, "missing": 0, "instructors": 2}
    assert [r["name"] for r in north["vehicle_page"].items] == ["Overdue car", "Due car"]


def test_overview_kpis(db, chain):
    data = reports.overview(db, ADMIN, TODAY)
    assert data["kpis"] == {"students": 3, "upcoming_lessons": 1, "overdue_invoices": 3}
    assert data["revenue_month"] == Decimal("1418.00")
    north = reports.overview(db, chain.staff(chain.north), TODAY)
    assert north["kpis"] == {"students": 2, "upcoming_lessons": 1, "overdue_invoices": 3}
    assert north["revenue_month"] == Decimal("450.00")
    south = reports.overview(db, chain.staff(chain.south), TODAY)
    assert south["kpis"] == {"students": 1, "upcoming_lessons": 0, "overdue_invoices": 0}
    assert reports.overview(db, Actor(user_id=3, role="staff"), TODAY)["no_branch"] is True


@pytest.mark.parametrize("args, field", [
    ({"date_from": "0001-01-01"}, "date_from"), ({"date_to": "9999-12-31"}, "date_to"),
    ({"date_from": "2026-05", "date_to": "2026-01"}, "date_from"), ({"date_from": "2020-01", "date_to": "2026-01"}, "date_from"),
    ({"date_from": "2026-13"}, "date_from"), ({"date_to": "yesterday"}, "date_to"), ({"branch": "abc"}, "branch"),
    ({"branch": "4294967295"}, "branch"), ({"branch": "-1"}, "branch"),
])
def test_bad_filters_are_refused_naming_the_field(db, chain, args, field):
    with pytest.raises(reports.ReportInputError) as refused:
        build(db, "revenue", **args)
    assert refused.value.status == 400 and refused.value.field == field


def test_day_ranges_and_due_dates_have_limits(db, chain):
    with pytest.raises(reports.ReportInputError):
        build(db, "licence", date_from="2024-01-01", date_to="2026-03-01")    # over a year
    with pytest.raises(reports.ReportInputError):
        build(db, "compliance", date_to="2026-03-01")                           # before today
    assert build(db, "licence", date_from="2026-03-01", date_to="2026-03-01")["students"] == 0


def test_instructors_and_students_have_no_reports(db, chain):
    for role in ("instructor", "student"):
        with pytest.raises(PermissionDenied):
            build(db, "revenue", Actor(user_id=9, role=role))


def test_branchless_staff_see_nothing_and_cost_no_report_query(db, chain):
    with count_queries() as counter:
        data = build(db, "revenue", Actor(user_id=3, role="staff"))
    assert data["no_branch"] is True and counter.count == 0


def test_csv_rows_are_formula_safe(db, chain):
    db.execute("UPDATE courses SET title = :t WHERE id = :id", {"t": "=HYPERLINK(\"http://x\")", "id": chain.c1})
    db.execute("UPDATE branches SET name = :t WHERE id = :id", {"t": "+North", "id": chain.north})
    stats.refresh(db, NOW, today=TODAY)
    _, header, rows = reports.csv_table(db, ADMIN, "revenue", {"date_from": "2026-01", "date_to": "2026-03"}, TODAY)
    rows = list(rows)
    assert header == ["month", "branch", "course", "amount", "payments"]
    assert ["2026-02", "'+North", "'=HYPERLINK(\"http://x\")", "500.00", "1"] in rows
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


def test_csv_names_starting_with_at_tab_or_cr_are_quoted(db, chain):
    user_id = db.fetch_value("SELECT user_id FROM students WHERE id = :id", {"id": chain.jack})
    db.execute("UPDATE users SET first_name = :f, last_name = :l WHERE id = :id",
               {"f": "@SUM(A1:A9)", "l": "x", "id": user_id})
    db.execute("UPDATE vehicles SET name = :n WHERE name = 'Due car'", {"n": "\tcmd"})
    db.execute("UPDATE vehicles SET name = :n WHERE name = 'Overdue car'", {"n": "\r=1+1"})
    _, _, rows = reports.csv_table(db, ADMIN, "ageing", {}, TODAY)
    rows = list(rows)  # streamed: read from the summary as they are written
    assert rows[0][1] == rows[1][1] == "'@SUM(A1:A9) x"           # jack's two invoices, most overdue first
    assert rows[0][4] == "129"                                   # days overdue, a plain number
    _, _, rows = reports.csv_table(db, ADMIN, "compliance", {"date_to": "2026-05-09"}, TODAY)
    rows = list(rows)
    names = [r[1] for r in rows if r[0] == "service"]
    assert names == ["'\r=1+1", "'\tcmd", "Unknown car"]


REPORT_NAMES = tuple(reports.REPORTS)


@pytest.mark.parametrize("name", REPORT_NAMES)
def test_each_report_costs_a_bounded_number_of_queries_that_does_not_grow(db, chain, name):
    def cost():
        with count_queries() as counter:
            build(db, name)
            list(reports.csv_table(db, ADMIN, name, {}, TODAY)[2])
        return counter.count

    before = cost()
    assert before <= 16
    # more of everything: another branch's instructor, students, lessons, invoices and payments
    branch = make_branch(db, name="West")
    teacher = make_instructor(db, branch_id=branch, accreditation_expiry=D(2026, 3, 2))
    make_working_hours(db, teacher, 1, time(8), time(12))
    for n in range(6):
        enrolment = make_enrollment(db, make_student(db, branch_id=branch), chain.c1, start_date=D(2026, 2, n + 1))
        _lesson(db, enrolment, teacher, D(2026, 2, n + 2))
        _lesson(db, enrolment, teacher, D(2026, 3, n + 1), kind="exam")
        invoice = make_invoice(db, enrolment, due_date=D(2026, 1, n + 1), status="partial")
        make_payment(db, invoice, "10.00", payment_date=D(2026, 3, 1))
        make_vehicle(db, branch_id=branch, next_service_due=D(2026, 3, n + 1))
    stats.refresh(db, NOW, today=TODAY)
    assert cost() == before


def test_ageing_pages_past_the_end_show_the_last_page_with_the_totals(db, chain):
    data = build(db, "ageing", page="50")
    assert data["page"].page == 1 and len(data["page"].items) == 3 and data["total_invoices"] == 3
    by_owing = build(db, "ageing", sort="owing", dir="desc")["page"].items
    assert [r["owing"] for r in by_owing] == [Decimal("868.00"), Decimal("668.00"), Decimal("318.00")]
    by_number = build(db, "ageing", sort="number")["page"].items
    numbers = [r["invoice_number"] for r in by_number]
    assert numbers == sorted(numbers)


def test_ageing_before_the_first_invoice_is_empty_without_reading_the_payments(db, chain):
    with count_queries() as counter:
        data = build(db, "ageing", date_to="1900-01-01")
    # the summary's day (not this one: computed live), then the first issue date only
    assert data["total_invoices"] == 0 and data["page"].items == [] and counter.count == 2
    assert [b["owing"] for b in data["buckets"]] == [Decimal("0.00")] * 4
