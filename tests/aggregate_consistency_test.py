"""Aggregate consistency (issue 13's tests) on both databases: after a few hundred random bookings, moves,
cancellations, outcomes, weekly-hours changes, unavailability windows, payments and refunds made through
the real services (seeded random, so every run is the same), `stats.refresh` leaves every maintained figure
equal to the same figure computed from scratch: straightforward SQL over the raw tables, and Python over
their rows for the calendar arithmetic (working minutes as sets of minutes, so overlapping windows and
midnight are checked by another method than the refresh's). The lists read the same figures."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from app.core.errors import AppError
from app.core.pagination import ListQuery
from app.dao.instructor import SORTS as INSTRUCTOR_SORTS, InstructorDAO
from app.dao.stats import StatsDAO
from app.dao.vehicle import SORTS as VEHICLE_SORTS, VehicleDAO
from app.services import instructors, outcomes, payments, scheduling, stats
from app.services.scope import Actor
from tests import factories as f

SETTINGS = {"APP_TIMEZONE": "Australia/Melbourne", "PAYMENT_GATEWAY": "mock"}
BOOKED_AT = datetime(2026, 1, 1, 0, 0)        # 11:00 on 1 January in Melbourne: every lesson lies ahead
RECORDED_AT = datetime(2026, 6, 1, 0, 0)      # outcomes and payments once every lesson has happened
REFRESHED_AT = datetime(2026, 3, 16, 3, 0)    # the refresh: 14:00 on Monday 16 March (lessons on both sides)
REFRESH_DAY = date(2026, 3, 16)
AGEING_AT, AGEING_DAY = datetime(2026, 5, 1, 2, 0), date(2026, 5, 1)  # the ageing summary: a later refresh
FIRST_DAY, DAYS = date(2026, 1, 26), 120      # lessons from late January to late May (five month boundaries)
OPERATIONS = 300


def _month(day: date) -> date:
    return day.replace(day=1)


def _minutes(t) -> int:
    if isinstance(t, timedelta):
        return int(t.total_seconds()) // 60
    if isinstance(t, str):
        hh, mm = t.split(":")[:2]
        return int(hh) * 60 + int(mm)
    return t.hour * 60 + t.minute


def _day(value) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def _stamp(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


class Chain:
    def __init__(self, db, seed):
        self.db, self.rng = db, random.Random(seed)
        self.admin = Actor(user_id=f.make_user(db, role="admin"), role="admin")
        self.branches = [f.make_branch(db, name=f"Branch {n}") for n in range(2)]
        self.course = f.make_course(db, title="Learner Essentials", lesson_count=200)
        self.instructors = [f.make_instructor(db, branch_id=b) for b in self.branches for _ in range(2)]
        self.instructors.append(f.make_instructor(db))  # no branch: counted under branch 0
        for instructor in self.instructors:
            f.allocate(db, self.course, instructor)
        self.vehicles = [f.make_vehicle(db, branch_id=b) for b in self.branches for _ in range(2)]
        self.students, self.invoices = [], []
        for n in range(10):
            branch = self.branches[n % 2] if n < 8 else None
            student = f.make_student(db, branch_id=branch)
            enrolment = f.make_enrollment(db, student, self.course if n % 3 else f.make_course(db))
            self.students.append(student)
            self.invoices.append(f.make_invoice(db, enrolment, subtotal=Decimal("5000.00")))
        self.lessons: list[int] = []
        self.payments: list[int] = []
        self.done = defaultdict(int)

    def _try(self, kind, call):
        try:
            result = call()
        except AppError:  # a clash, a refused outcome or an amount too large: a real refusal, nothing written
            self.done[f"{kind} refused"] += 1
            return None
        self.done[kind] += 1
        return result

    def slot(self):
        rng = self.rng
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        start = rng.randrange(7 * 4, 18 * 4) * 15
        length = rng.choice((30, 45, 60, 90, 120))
        return day, start, start + length

    def book(self):
        day, start, end = self.slot()
        data = {"student_id": self.rng.choice(self.students), "instructor_id": self.rng.choice(self.instructors),
                "vehicle_id": self.rng.choice(self.vehicles + [None]), "date": day.isoformat(),
                "start_time": f"{start // 60:02d}:{start % 60:02d}", "end_time": f"{end // 60:02d}:{end % 60:02d}",
                "event_type": self.rng.choice(("lesson", "lesson", "lesson", "exam", "assessment")),
                "accept_warnings": True}
        booked = self._try("book", lambda: scheduling.book(self.db, self.admin, data, now=BOOKED_AT,
                                                           settings=SETTINGS))
        if booked is not None:
            self.lessons.append(booked.id)

    def move(self):
        day, start, end = self.slot()
        changes = {"date": day.isoformat(), "start_time": f"{start // 60:02d}:{start % 60:02d}",
                   "end_time": f"{end // 60:02d}:{end % 60:02d}", "accept_warnings": True}
        if self.rng.random() < 0.5:
            changes["instructor_id"] = self.rng.choice(self.instructors)
        self._try("move", lambda: scheduling.move(self.db, self.admin, self.rng.choice(self.lessons), changes,
                                                  now=BOOKED_AT, settings=SETTINGS))

    def cancel(self):
        self._try("cancel", lambda: scheduling.cancel(self.db, self.admin, self.rng.choice(self.lessons),
                                                      "Student unwell", now=BOOKED_AT))

    def outcome(self):
        status = self.rng.choice(("completed", "completed", "no_show", "not_completed"))
        self._try("outcome", lambda: outcomes.record(self.db, self.admin, self.rng.choice(self.lessons),
                                                     {"status": status}, now=RECORDED_AT))

    def hours(self):
        instructor = self.rng.choice(self.instructors)
        week = {}
        for weekday in range(7):
            if self.rng.random() < 0.6:
                start = self.rng.randrange(6 * 4, 12 * 4) * 15
                week[weekday] = (time(start // 60, start % 60), time(self.rng.randrange(13, 21), 0))
            else:
                week[weekday] = (None, None)
        self._try("hours", lambda: instructors.save_availability(self.db, self.admin, instructor, None, week,
                                                                 now=BOOKED_AT))

    def away(self):
        day = FIRST_DAY - timedelta(days=3) + timedelta(days=self.rng.randrange(DAYS + 6))
        start = datetime.combine(day, time(0)) + timedelta(minutes=self.rng.randrange(0, 24 * 4) * 15)
        end = start + timedelta(minutes=self.rng.choice((60, 150, 300, 24 * 60, 40 * 60)))
        self._try("away", lambda: instructors.add_unavailability(self.db, self.admin, self.rng.choice(self.instructors),
                                                                 start, end, "Appointment", now=BOOKED_AT))

    def pay(self):
        day = FIRST_DAY + timedelta(days=self.rng.randrange(DAYS))
        amount = f"{self.rng.randrange(1000, 40000) / 100:.2f}"
        paid = self._try("pay", lambda: payments.record(self.db, self.admin, self.rng.choice(self.invoices),
                                                        {"amount": amount, "method": "card",
                                                         "payment_date": day.isoformat()},
                                                        now=RECORDED_AT, settings=SETTINGS))
        if paid is not None:
            self.payments.append(paid)

    def refund(self):
        if self.payments:
            self._try("refund", lambda: payments.refund(self.db, self.admin, self.rng.choice(self.payments),
                                                        {"amount": "5.00", "reason": "Goodwill"}, now=RECORDED_AT))

    def run(self, operations):
        for _ in range(30):
            self.book()
        for _ in range(6):
            self.hours()
        weighted = [(self.book, 40), (self.move, 8), (self.cancel, 12), (self.outcome, 20), (self.hours, 3),
                    (self.away, 7), (self.pay, 8), (self.refund, 2)]
        steps = [step for step, weight in weighted for _ in range(weight)]
        for _ in range(operations):
            self.rng.choice(steps)()


# --------------------------------------------------------------------------- the figures from scratch

def expected_events(db):
    rows = db.fetch_all("SELECT instructor_id, scheduled_date, start_time, end_time, status, event_type FROM schedules")
    months = defaultdict(lambda: defaultdict(int))
    for r in rows:
        cell = months[(_month(_day(r["scheduled_date"])), r["instructor_id"])]
        cell["events"] += 1
        cell["lessons"] += r["event_type"] == "lesson"
        for status in ("completed", "cancelled", "no_show", "not_completed", "scheduled"):
            cell[status] += r["status"] == status
        if r["status"] != "cancelled":
            cell["booked_minutes"] += _minutes(r["end_time"]) - _minutes(r["start_time"])
    return months, [_day(r["scheduled_date"]) for r in rows]


def expected_working(db, first: date, last: date):
    """Minutes of the weekly hours on every day from ``first`` to ``last``, minus the minutes inside any
    unavailability window (a set of minutes per day: overlaps count once)."""
    hours = defaultdict(list)
    for h in db.fetch_all("SELECT instructor_id, weekday, start_time, end_time FROM instructor_working_hours"):
        hours[h["instructor_id"]].append((int(h["weekday"]), _minutes(h["start_time"]), _minutes(h["end_time"])))
    away = defaultdict(list)
    for w in db.fetch_all("SELECT instructor_id, start_datetime, end_datetime FROM instructor_unavailability"):
        away[w["instructor_id"]].append((_stamp(w["start_datetime"]), _stamp(w["end_datetime"])))
    working = defaultdict(int)
    for instructor, week in hours.items():
        day = first
        while day <= last:
            free = set()
            for weekday, start, end in week:
                if weekday == day.weekday():
                    free.update(range(start, end))
            midnight = datetime.combine(day, time(0))
            for start, end in away[instructor]:
                lo = max(0, int((start - midnight).total_seconds() // 60))
                hi = min(24 * 60, int((end - midnight).total_seconds() // 60))
                if lo < hi:
                    free.difference_update(range(lo, hi))
            working[(_month(day), instructor)] += len(free)
            day += timedelta(days=1)
        for month in {_month(first + timedelta(days=n)) for n in range((last - first).days + 1)}:
            working.setdefault((month, instructor), 0)
    return working


def test_every_maintained_figure_equals_the_figure_from_scratch(db):
    chain = Chain(db, seed=20261202)
    chain.run(OPERATIONS)
    assert chain.done["book"] > 100 and chain.done["cancel"] > 10 and chain.done["outcome"] > 20, chain.done
    assert chain.done["pay"] > 10 and chain.done["away"] > 10 and chain.done["move"] > 5, chain.done

    stats.refresh(db, REFRESHED_AT)
    dao = StatsDAO(db)
    branch_of = {r["id"]: r["branch_id"] or 0 for r in db.fetch_all("SELECT id, branch_id FROM instructors")}

    # stat_instructor_month: every column of every (month, instructor)
    events, days = expected_events(db)
    first = _month(min(days + [REFRESH_DAY]))
    last_month = _month(max(days + [REFRESH_DAY]))
    last = (last_month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    working = expected_working(db, first, last)
    expected = {}
    for key in set(events) | set(working):
        month, instructor = key
        cell = events.get(key, {})
        expected[(month, instructor)] = {
            "branch_id": branch_of[instructor], "events": cell.get("events", 0), "lessons": cell.get("lessons", 0),
            "completed": cell.get("completed", 0), "cancelled": cell.get("cancelled", 0),
            "no_show": cell.get("no_show", 0), "not_completed": cell.get("not_completed", 0),
            "scheduled": cell.get("scheduled", 0), "booked_minutes": cell.get("booked_minutes", 0),
            "working_minutes": working.get(key, 0)}
    got = {(_day(r["month_start"]), r["instructor_id"]): {k: (int(v) if k != "month_start" else v)
                                                          for k, v in r.items()
                                                          if k not in ("month_start", "instructor_id")}
           for r in dao.table_rows("instructor_month")}
    assert got == expected
    assert sum(r["working_minutes"] for r in expected.values()) > 0
    assert any(r["cancelled"] for r in expected.values()) and any(r["no_show"] for r in expected.values())

    # stat_instructor_totals and stat_vehicle_totals: plain GROUP BY over schedules
    totals = {r["instructor_id"]: (int(r["lessons"]), int(r["completed"]), int(r["upcoming"])) for r in db.fetch_all(
        "SELECT instructor_id, SUM(CASE WHEN event_type = 'lesson' THEN 1 ELSE 0 END) AS lessons,"
        " SUM(CASE WHEN status = 'completed' THEN 1 ELSE 0 END) AS completed,"
        " SUM(CASE WHEN status = 'scheduled' AND scheduled_date >= :today THEN 1 ELSE 0 END) AS upcoming"
        " FROM schedules GROUP BY instructor_id", {"today": REFRESH_DAY})}
    assert {r["instructor_id"]: (r["lessons"], r["completed_lessons"], r["upcoming_lessons"])
            for r in dao.table_rows("instructor_totals")} == totals
    cars = {r["vehicle_id"]: (int(r["lessons"]), int(r["upcoming"])) for r in db.fetch_all(
        "SELECT vehicle_id, SUM(CASE WHEN event_type = 'lesson' THEN 1 ELSE 0 END) AS lessons,"
        " SUM(CASE WHEN status = 'scheduled' AND scheduled_date >= :today THEN 1 ELSE 0 END) AS upcoming"
        " FROM schedules WHERE vehicle_id IS NOT NULL GROUP BY vehicle_id", {"today": REFRESH_DAY})}
    assert {r["vehicle_id"]: (r["lessons"], r["upcoming_lessons"]) for r in dao.table_rows("vehicle_totals")} == cars

    # stat_revenue_month: every payment row, by its month, the student's branch and the course
    revenue = defaultdict(lambda: [Decimal("0.00"), 0])
    for p in db.fetch_all("SELECT p.amount, p.payment_date, p.kind, s.branch_id, e.course_id FROM payments p"
                          " JOIN invoices i ON i.id = p.invoice_id JOIN enrollments e ON e.id = i.enrollment_id"
                          " JOIN students s ON s.id = e.student_id"):
        cell = revenue[(_month(_day(p["payment_date"])), p["branch_id"] or 0, p["course_id"])]
        cell[0] += Decimal(str(p["amount"])).quantize(Decimal("0.01"))
        cell[1] += p["kind"] != "refund"
    assert {(_day(r["month_start"]), r["branch_id"], r["course_id"]):
            [Decimal(str(r["amount"])).quantize(Decimal("0.01")), r["payments"]]
            for r in dao.table_rows("revenue_month")} == {k: v for k, v in revenue.items()}
    assert chain.done["refund"] > 0

    # the lists show the same figures
    query = ListQuery.from_args({"per_page": "100", "status": ""}, list(INSTRUCTOR_SORTS), "name",
                                filters=("branch", "accreditation", "status"))
    listed = {r["id"]: (r["lesson_count"], r["completed_count"])
              for r in InstructorDAO(db).list_page(query, REFRESH_DAY).items}
    assert listed == {i: totals.get(i, (0, 0, 0))[:2] for i in chain.instructors}
    fleet = ListQuery.from_args({"per_page": "100"}, list(VEHICLE_SORTS), "name",
                                filters=("branch", "status", "transmission", "service"))
    assert {r["id"]: r["upcoming_count"] for r in VehicleDAO(db).list_page(fleet, REFRESH_DAY).items} == {
        v: cars.get(v, (0, 0))[1] for v in chain.vehicles}


def test_the_report_summaries_equal_the_figures_from_scratch(db):
    """Migration 0029's summaries (retention, ageing, lessons to licence, the reports home) after the same
    random history, against Python over the raw rows; the ageing page reads the same as the live one."""
    chain = Chain(db, seed=13)
    chain.run(OPERATIONS)
    assert chain.done["pay"] > 10 and chain.done["outcome"] > 20, chain.done
    stats.refresh(db, REFRESHED_AT)
    dao = StatsDAO(db)
    events = db.fetch_all("SELECT s.id, s.enrollment_id, s.event_type, s.status, s.scheduled_date, s.start_time,"
                          " e.student_id FROM schedules s JOIN enrollments e ON e.id = s.enrollment_id")
    students = {r["id"]: r for r in db.fetch_all("SELECT s.id, s.branch_id, u.status FROM students s"
                                                  " JOIN users u ON u.id = s.user_id")}

    # stat_enrolment_progress: every enrolment with its completed lessons
    done = defaultdict(int)
    for r in events:
        if r["event_type"] == "lesson" and r["status"] == "completed":
            done[r["enrollment_id"]] += 1
    expected = {e["id"]: (students[e["student_id"]]["branch_id"] or 0, _day(e["start_date"]), e["status"],
                          e["lesson_count"], done[e["id"]])
                for e in db.fetch_all("SELECT e.id, e.student_id, e.start_date, e.status, c.lesson_count"
                                      " FROM enrollments e LEFT JOIN courses c ON c.id = e.course_id")}
    assert {r["enrollment_id"]: (r["branch_id"], _day(r["start_date"]), r["status"], r["lesson_count"],
                                 r["completed_lessons"]) for r in dao.table_rows("enrolment_progress")} == expected
    assert any(v[4] for v in expected.values())
    # stat_enrolment_month: the same enrolments counted per start month, branch, status and band
    def band(done, lessons):
        if done <= 0:
            return 0
        if lessons is None:
            return 4
        if done >= lessons:
            return 5
        return 1 if 4 * done < lessons else 2 if 2 * done < lessons else 3 if 4 * done < 3 * lessons else 4
    per_month = defaultdict(int)
    for branch, start, status, lessons, done_n in expected.values():
        if start is not None:
            per_month[(_month(start), branch, status, band(done_n, lessons))] += 1
    assert {(_day(r["month_start"]), r["branch_id"], r["status"], r["band"]): r["enrolments"]
            for r in dao.table_rows("enrolment_month")} == dict(per_month)

    # stat_invoice_owing: total - payments dated up to the day - credit notes issued up to it, when > 0;
    # refreshed again for a later day, when some invoices are past due and some paid after it
    stats.refresh(db, AGEING_AT, names=["invoice_owing"], today=AGEING_DAY)
    paid = defaultdict(Decimal)
    for p in db.fetch_all("SELECT invoice_id, amount, payment_date FROM payments"):
        if _day(p["payment_date"]) <= AGEING_DAY:
            paid[p["invoice_id"]] += Decimal(str(p["amount"]))
    invoices = db.fetch_all("SELECT i.id, i.invoice_number, i.status, i.total, i.issue_date, i.due_date, i.branch_id,"
                            " i.enrollment_id, i.credit_note_for, e.student_id FROM invoices i"
                            " LEFT JOIN enrollments e ON e.id = i.enrollment_id")
    credits = defaultdict(Decimal)
    for cn in invoices:
        if cn["credit_note_for"] and cn["status"] not in ("void", "draft") and _day(cn["issue_date"]) <= AGEING_DAY:
            credits[cn["credit_note_for"]] += Decimal(str(cn["total"]))
    owing = {}
    for i in invoices:
        if i["credit_note_for"] or i["status"] in ("void", "draft") or _day(i["issue_date"]) > AGEING_DAY:
            continue
        amount = Decimal(str(i["total"])) - paid[i["id"]] + credits[i["id"]]
        if amount > 0:
            branch = i["branch_id"] or (students[i["student_id"]]["branch_id"] if i["student_id"] else None) or 0
            owing[i["id"]] = (i["invoice_number"], branch, _day(i["due_date"]), amount.quantize(Decimal("0.01")))
    assert {r["invoice_id"]: (r["invoice_number"], r["branch_id"], _day(r["due_date"]),
                              Decimal(str(r["owing"])).quantize(Decimal("0.01")))
            for r in dao.table_rows("invoice_owing")} == owing
    assert owing and {_day(r["as_of"]) for r in dao.table_rows("invoice_owing")} == {AGEING_DAY}

    # the ageing report on the refresh day reads the summary; the live computation gives the same page
    from app.dao.report import ReportQueriesDAO
    from app.services.reports import ageing_bounds
    queries, bounds = ReportQueriesDAO(db), ageing_bounds(AGEING_DAY)
    query = ListQuery.from_args({"per_page": "100"}, ["overdue", "owing", "number"], "overdue")
    live_buckets, live_page = queries.ageing(query, AGEING_DAY, bounds, None, None)
    summary_buckets = queries.ageing_summary_buckets(AGEING_DAY, bounds, None, None)
    assert summary_buckets == live_buckets and sum(b["invoices"] for b in live_buckets) > 0
    summary_rows = queries.ageing_summary_rows(AGEING_DAY, bounds, None, None, query, 100, 0)
    assert [(r["id"], r["owing"], r["bucket"]) for r in summary_rows] == \
        [(r["id"], r["owing"], r["bucket"]) for r in live_page.items]

    # stat_licence_pass: each student's first passed test and the completed lessons before it
    first = {}
    for r in sorted(events, key=lambda r: (_day(r["scheduled_date"]), _minutes(r["start_time"]), r["id"])):
        if r["event_type"] == "exam" and r["status"] == "completed":
            first.setdefault(r["student_id"], r)
    passes = {}
    for student, ex in first.items():
        before = sum(1 for r in events if r["student_id"] == student and r["event_type"] == "lesson"
                     and r["status"] == "completed"
                     and (_day(r["scheduled_date"]), _minutes(r["start_time"])) < (_day(ex["scheduled_date"]), _minutes(ex["start_time"])))
        passes[student] = (students[student]["branch_id"] or 0, ex["id"], _day(ex["scheduled_date"]), before)
    assert {r["student_id"]: (r["branch_id"], r["schedule_id"], _day(r["pass_date"]), r["lessons"])
            for r in dao.table_rows("licence_pass")} == passes

    # stat_instructor_branch_month: the monthly instructor rows (equal to the figures from scratch, above)
    # summed per month and branch, with the number of instructors
    per_branch = defaultdict(lambda: defaultdict(int))
    for r in dao.table_rows("instructor_month"):
        cell = per_branch[(_day(r["month_start"]), r["branch_id"])]
        for key in ("events", "lessons", "completed", "cancelled", "no_show", "not_completed", "scheduled",
                    "booked_minutes", "working_minutes"):
            cell[key] += r[key]
        cell["instructors"] += 1
    assert {(_day(r["month_start"]), r["branch_id"]): {k: v for k, v in r.items() if k not in ("month_start", "branch_id")}
            for r in dao.table_rows("instructor_branch_month")} == {k: dict(v) for k, v in per_branch.items()}
    assert len(per_branch) > 1


def test_the_branch_totals_equal_the_counts_from_scratch(db):
    """Migration 0030's stat_branch_totals (the dashboards' students and pipeline) after the random history
    plus random requests (approved and declined through the real service), archived and restored accounts
    and finished enrolments, against Python over the raw rows; the dashboard reads the same figures."""
    from app.dao.dashboard import DashboardDAO
    from app.services import enrollment_requests, students as student_service

    chain = Chain(db, seed=29)
    chain.run(OPERATIONS // 3)
    rng = chain.rng
    extra = f.make_course(db, title="Test Preparation", lesson_count=0)
    for instructor in chain.instructors:
        f.allocate(db, extra, instructor)
    people = chain.students + [f.make_student(db, branch_id=rng.choice(chain.branches + [None])) for _ in range(8)]
    requests = [f.make_enrollment_request(db, student_id=rng.choice(people), course_id=rng.choice((extra, chain.course)))
                for _ in range(30)]
    for request in requests:
        roll = rng.random()
        if roll < 0.4:
            chain._try("approve", lambda: enrollment_requests.decide(
                db, chain.admin, request, {"decision": "approve", "instructor_id": rng.choice(chain.instructors)},
                now=RECORDED_AT, settings=SETTINGS))
        elif roll < 0.6:
            chain._try("decline", lambda: enrollment_requests.decide(
                db, chain.admin, request, {"decision": "decline", "reason": "Full"}, now=RECORDED_AT, settings=SETTINGS))
    for student in rng.sample(people, 6):
        f.make_enrollment(db, student, f.make_course(db), status=rng.choice(("completed", "in_progress", "cancelled")))
    archived = rng.sample(people, 5)
    for student in archived:
        chain._try("archive", lambda: student_service.archive_student(db, chain.admin, student, RECORDED_AT))
    chain._try("restore", lambda: student_service.restore_student(db, chain.admin, archived[0], RECORDED_AT))
    assert chain.done["approve"] > 3 and chain.done["decline"] > 3 and chain.done["archive"] == 5, chain.done
    stats.refresh(db, REFRESHED_AT)

    accounts = {r["id"]: (r["branch_id"] or 0, r["status"]) for r in db.fetch_all(
        "SELECT s.id, s.branch_id, u.status FROM students s JOIN users u ON u.id = s.user_id")}
    enrolled = defaultdict(set)
    for e in db.fetch_all("SELECT student_id, status FROM enrollments"):
        enrolled[e["student_id"]].add(e["status"])
    expected = defaultdict(lambda: [0, 0, 0, 0, 0])
    for student, (branch, status) in accounts.items():
        if status == "active":
            row = expected[branch]
            row[0] += 1
            row[1] += bool(enrolled[student] & {"active", "in_progress"})
            row[2] += "completed" in enrolled[student]
    for r in db.fetch_all("SELECT student_id, status FROM enrollment_requests"):
        if r["status"] in ("pending", "approved"):
            expected[accounts[r["student_id"]][0]][3 if r["status"] == "pending" else 4] += 1
    got = {r["branch_id"]: [r["active_students"], r["learning_students"], r["completed_students"],
                            r["pending_requests"], r["approved_requests"]]
           for r in StatsDAO(db).table_rows("branch_totals")}
    assert got == dict(expected)
    assert 0 in got and all(got[b][0] for b in chain.branches) and any(v[2] for v in got.values())
    assert sum(v[3] for v in got.values()) > 0 and sum(v[4] for v in got.values()) > 0
    school = DashboardDAO(db).population()
    assert school == dict(zip(("students", "learning", "completed", "pending", "approved"),
                              [sum(v[n] for v in expected.values()) for n in range(5)]))
    assert DashboardDAO(db).population(chain.branches[0]) == dict(zip(
        ("students", "learning", "completed", "pending", "approved"), expected[chain.branches[0]]))
    # migration 0033's stat_course_totals (the course list's active students), after the same history
    active = defaultdict(int)
    for e in db.fetch_all("SELECT course_id, status FROM enrollments"):
        active[e["course_id"]] += e["status"] in ("active", "in_progress")
    assert {r["course_id"]: r["active_enrolments"] for r in StatsDAO(db).table_rows("course_totals")} == \
        {course: n for course, n in active.items() if n}
    assert sum(active.values()) > 5 and len([n for n in active.values() if n]) >= 2
