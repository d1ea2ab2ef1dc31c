"""StatsDAO: the maintained aggregates (issue 13, "Speed work"): their refresh SQL and the reads of their
freshness.

Every summary table is rebuilt whole by one set-based ``INSERT ... SELECT ... GROUP BY`` (the caller,
app/services/stats.py, runs each one in its own transaction after a ``DELETE``). The SQL is written once;
the few date and time functions that differ between SQLite and MariaDB come from :class:`_Fragments`.

What the figures mean (the schema contract; readers: dashboards, reports, the instructors and fleet lists):

- ``stat_instructor_month``: one row per instructor and calendar month (of ``scheduled_date``) that has
  events or working hours. ``events`` counts every schedules row (lesson, exam, assessment); ``lessons``
  those of type lesson; ``completed`` .. ``scheduled`` count the statuses over every event;
  ``booked_minutes`` is the length of the events that are not cancelled; ``working_minutes`` the weekly
  working hours over the month's days, minus the unavailability windows that fall in them (overlapping
  windows count once). ``branch_id`` is the instructor's branch, 0 for none. Months run from the first
  event's month (or this month, if earlier) to the last event's month (or this month, if later); weekly
  hours have no start date, so they count in every month of that range.
- ``stat_revenue_month``: payments by payment month, the student's branch (0 for none) and the
  enrolment's course: ``amount`` is net of refunds (negative rows), ``payments`` counts the rows that are
  not refunds.
- ``stat_instructor_totals``: lifetime ``lessons`` (type lesson, any status), ``completed_lessons``
  (status completed, any type: the original list's "Completed") and ``upcoming_lessons`` (status
  scheduled, any type, dated on or after the refresh day). Derived from ``stat_instructor_month`` plus the
  rest of the refresh month, so it is refreshed right after it.
- ``stat_vehicle_totals``: per vehicle, ``lessons`` (type lesson, any status) and ``upcoming_lessons``
  (status scheduled, any type, on or after the refresh day).
- ``stat_instructor_branch_month`` (migration 0029, the instructor reports' totals, by branch and by
  month): ``stat_instructor_month`` summed per month and branch, ``instructors`` its rows (instructors).
- ``stat_enrolment_progress`` (0029, the retention report): one row per enrolment: the
  student's branch (0 for none), ``start_date``, ``status``, the course's ``lesson_count`` (NULL without a
  course) and ``completed_lessons`` (its lesson events with status completed).
- ``stat_enrolment_month`` (0029): ``stat_enrolment_progress`` counted per start month, branch, status
  and progress ``band`` (PROGRESS_BAND), for the whole months of a retention range.
- ``stat_invoice_owing`` (0029, invoice ageing and the overdue KPI): one row per invoice that owes
  something on ``as_of`` (the refresh day): not a credit note, issued on or before ``as_of``, unpaid
  (sent, partial, overdue) or paid by a payment dated after ``as_of``; ``owing`` = total - payments dated
  up to ``as_of`` - credit notes (not void or draft) issued up to ``as_of``, kept when above zero.
  ``branch_id`` is the invoice's branch, else its student's (0 for none).
- ``stat_licence_pass`` (0029, lessons to licence): one row per student with a passed drive test (an
  exam event with status completed): the first (date, start time, id) as ``schedule_id``/``pass_date``,
  and ``lessons``: the completed lessons of all the student's enrolments before it (the same day at an
  earlier start included). ``branch_id`` is the student's branch (0 for none).
- ``stat_branch_totals`` (0030, the admin and staff dashboards): one row per student branch (0 for
  none) with a student or a request: ``active_students`` (users.status active), of them
  ``learning_students`` (an enrolment active or in progress) and ``completed_students`` (a completed
  enrolment; a student can be both), and the enrolment requests ``pending_requests`` /
  ``approved_requests`` by the requesting student's branch (any account status).
- ``stat_course_totals`` (0033, the course list): one row per course with an enrolment active or in
  progress: ``active_enrolments``, how many.
- ``stat_instructor_range`` (0035, the instructor reports' default ranges): ``stat_instructor_month``'s
  columns summed per instructor and branch over each (``m_from``, ``m_to``) month range of
  services.reports.instructor_default_ranges on the refresh day (the last 12 and the last 3 months).
- ``stat_freshness``: one row per summary: when it was refreshed (naive UTC), how long it took, its rows.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app.dao.base import BaseDAO, as_datetime

SUMMARY_TABLES = {
    "instructor_month": "stat_instructor_month",
    "instructor_totals": "stat_instructor_totals",
    "vehicle_totals": "stat_vehicle_totals",
    "revenue_month": "stat_revenue_month",
    "instructor_branch_month": "stat_instructor_branch_month",
    "enrolment_progress": "stat_enrolment_progress",
    "enrolment_month": "stat_enrolment_month",
    "invoice_owing": "stat_invoice_owing",
    "licence_pass": "stat_licence_pass",
    "branch_totals": "stat_branch_totals",
    "invoice_totals": "stat_invoice_totals",
    "payment_totals": "stat_payment_totals",
    "course_totals": "stat_course_totals",
    "instructor_range": "stat_instructor_range",
}


_MONTH_SUMS = ("events", "lessons", "completed", "cancelled", "no_show", "not_completed", "scheduled",
               "booked_minutes", "working_minutes")
_ROWS = {  # summary -> (its columns, its primary key)
    "instructor_month": ("month_start, instructor_id, branch_id, events, lessons, completed, cancelled, no_show,"
                         " not_completed, scheduled, booked_minutes, working_minutes", "month_start, instructor_id"),
    "instructor_totals": ("instructor_id, lessons, completed_lessons, upcoming_lessons", "instructor_id"),
    "vehicle_totals": ("vehicle_id, lessons, upcoming_lessons", "vehicle_id"),
    "revenue_month": ("month_start, branch_id, course_id, amount, payments", "month_start, branch_id, course_id"),
    "instructor_branch_month": ("month_start, branch_id, " + ", ".join(_MONTH_SUMS) + ", instructors",
                                "month_start, branch_id"),
    "enrolment_progress": ("enrollment_id, branch_id, start_date, status, lesson_count, completed_lessons",
                           "enrollment_id"),
    "enrolment_month": ("month_start, branch_id, status, band, enrolments", "month_start, branch_id, status, band"),
    "invoice_owing": ("invoice_id, invoice_number, branch_id, enrollment_id, issue_date, due_date, total, owing, as_of",
                      "invoice_id"),
    "licence_pass": ("student_id, branch_id, schedule_id, pass_date, lessons", "student_id"),
    "branch_totals": ("branch_id, active_students, learning_students, completed_students, pending_requests,"
                      " approved_requests", "branch_id"),
    "invoice_totals": ("branch_id, status, invoices, total, paid", "branch_id, status"),
    "payment_totals": ("branch_id, method, kind, entries, amount", "branch_id, method, kind"),
    "course_totals": ("course_id, active_enrolments", "course_id"),
    "instructor_range": ("m_from, m_to, instructor_id, branch_id, " + ", ".join(_MONTH_SUMS),
                         "m_from, m_to, instructor_id, branch_id"),
}


# an enrolment's progress band from stat_enrolment_progress ``ep`` (shared with app/dao/report.py)
PROGRESS_BAND = ("CASE WHEN ep.completed_lessons <= 0 THEN 0 WHEN ep.completed_lessons >= ep.lesson_count THEN 5"
                 " WHEN 4 * ep.completed_lessons < ep.lesson_count THEN 1 WHEN 2 * ep.completed_lessons < ep.lesson_count"
                 " THEN 2 WHEN 4 * ep.completed_lessons < 3 * ep.lesson_count THEN 3 ELSE 4 END")


class _Fragments:
    """SQL text for the functions that differ; every argument is an SQL expression of this module."""

    def __init__(self, backend: str):
        self.mysql = backend == "mysql"

    def month(self, x: str) -> str:
        return f"({x} - INTERVAL (DAYOFMONTH({x}) - 1) DAY)" if self.mysql else f"date({x}, 'start of month')"

    def weekday(self, x: str) -> str:  # 0 = Monday .. 6 = Sunday, as instructor_working_hours.weekday
        return f"WEEKDAY({x})" if self.mysql else f"((CAST(strftime('%w', {x}) AS INTEGER) + 6) % 7)"

    def as_date(self, x: str) -> str:
        return f"CAST({x} AS DATE)" if self.mysql else f"date({x})"

    def next_day(self, x: str) -> str:
        return f"({x} + INTERVAL 1 DAY)" if self.mysql else f"date({x}, '+1 day')"

    def seconds(self, t: str) -> str:  # a TIME as seconds (only differences are used)
        return f"TIME_TO_SEC({t})" if self.mysql else f"CAST(strftime('%s', {t}) AS INTEGER)"

    def at(self, d: str, t: str) -> str:  # a DATE and a TIME as one DATETIME
        return f"TIMESTAMP({d}, {t})" if self.mysql else f"datetime({d} || ' ' || {t})"

    def stamp(self, x: str) -> str:  # a DATETIME, normalised for comparison
        return x if self.mysql else f"datetime({x})"

    def seconds_between(self, a: str, b: str) -> str:
        if self.mysql:
            return f"TIMESTAMPDIFF(SECOND, {a}, {b})"
        return f"(CAST(strftime('%s', {b}) AS INTEGER) - CAST(strftime('%s', {a}) AS INTEGER))"

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.mysql else f"MIN({a}, {b})"

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.mysql else f"MAX({a}, {b})"

    def minutes(self, seconds: str) -> str:  # whole minutes of an integer number of seconds
        return f"(({seconds}) DIV 60)" if self.mysql else f"(({seconds}) / 60)"


class StatsDAO(BaseDAO):
    @property
    def _f(self) -> _Fragments:
        return _Fragments(self.db.backend)

    # -- refresh ---------------------------------------------------------------------------
    def prepare_refresh(self) -> None:
        """Call before each refresh transaction. On MariaDB the next transaction reads in READ COMMITTED:
        an ``INSERT ... SELECT`` then reads its source rows without locking them (under REPEATABLE READ
        InnoDB would share-lock every lesson it counts and hold bookings up until the refresh commits).
        With binary logging on, this needs binlog_format MIXED (MariaDB's default) or ROW."""
        if self.db.backend == "mysql" and not self.db.in_transaction:  # (inside a caller's transaction: its level)
            self.db.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")

    def lock(self, name: str) -> None:
        """Take the summary's stat_freshness row lock first (inside the refresh transaction), so two
        refreshes of one summary (cron on two hosts) run one after the other instead of interleaving
        their DELETE and INSERT. On SQLite BEGIN IMMEDIATE already serialises them."""
        self.db.execute("UPDATE stat_freshness SET name = name WHERE name = :name", {"name": name})

    def clear(self, name: str) -> int:
        table = SUMMARY_TABLES[name]
        return self.db.execute(f"DELETE FROM {table}").rowcount  # nosec B608 # a table name from SUMMARY_TABLES

    def schedule_span(self) -> tuple[date | None, date | None]:
        """The first and last ``scheduled_date`` (two ends of idx_schedule_date)."""
        row = self.db.fetch_one("SELECT MIN(scheduled_date) AS first_day, MAX(scheduled_date) AS last_day"
                                " FROM schedules") or {}
        return _as_date(row.get("first_day")), _as_date(row.get("last_day"))

    def insert_instructor_month(self, first_day: date, last_day: date) -> int:
        """Rows for every (month, instructor) with events or working hours between ``first_day`` and
        ``last_day`` (whole months; every event must fall in the range). One statement: the event counts
        (one pass over schedules) and the working minutes (weekly hours times the weekdays of each month,
        minus the unavailability windows merged into islands, then cut to each working day's hours)."""
        f = self._f
        first, last = f.as_date(":first_day"), f.as_date(":last_day")
        start_secs, end_secs = f.seconds("h.start_time"), f.seconds("h.end_time")
        day_start, day_end = f.at("wd.d", "h.start_time"), f.at("wd.d", "h.end_time")
        not_cancelled_secs = (f"CASE WHEN s.status = 'cancelled' THEN 0"
                              f" ELSE {f.seconds('s.end_time')} - {f.seconds('s.start_time')} END")
        sql = (
            "INSERT INTO stat_instructor_month (month_start, instructor_id, branch_id, events, lessons, completed,"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            " cancelled, no_show, not_completed, scheduled, booked_minutes, working_minutes)"
            " WITH RECURSIVE"
            f" days (d) AS (SELECT {first} UNION ALL SELECT {f.next_day('d')} FROM days WHERE d < {last}),"
            f" month_days AS (SELECT {f.month('d')} AS month_start, {f.weekday('d')} AS weekday, COUNT(*) AS n"
            f"   FROM days GROUP BY {f.month('d')}, {f.weekday('d')}),"
            " base AS (SELECT md.month_start, h.instructor_id,"
            f"   SUM(md.n * ({end_secs} - {start_secs})) AS secs"
            "   FROM month_days md JOIN instructor_working_hours h ON h.weekday = md.weekday"
            "   WHERE h.end_time > h.start_time GROUP BY md.month_start, h.instructor_id),"
            # unavailability: each window knows the latest end before it; a window starting after that
            # end opens a new island; an island is one merged window
            " ordered AS (SELECT w.id, w.instructor_id,"
            f"   {f.stamp('w.start_datetime')} AS s, {f.stamp('w.end_datetime')} AS e,"
            f"   MAX({f.stamp('w.end_datetime')}) OVER (PARTITION BY w.instructor_id"
            "     ORDER BY w.start_datetime, w.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end"
            "   FROM instructor_unavailability w WHERE w.end_datetime > w.start_datetime),"
            " islands AS (SELECT o.instructor_id, o.s, o.e,"
            "   SUM(CASE WHEN o.prev_end IS NULL OR o.prev_end < o.s THEN 1 ELSE 0 END)"
            "     OVER (PARTITION BY o.instructor_id ORDER BY o.s, o.id ROWS UNBOUNDED PRECEDING) AS island"
            "   FROM ordered o),"
            " merged AS (SELECT i.instructor_id, MIN(i.s) AS s, MAX(i.e) AS e FROM islands i"
            "   GROUP BY i.instructor_id, i.island),"
            " window_days (instructor_id, s, e, d) AS ("
            f"   SELECT m.instructor_id, m.s, m.e, {f.greatest(f.as_date('m.s'), first)} FROM merged m"
            f"   WHERE {f.as_date('m.e')} >= {first} AND {f.as_date('m.s')} <= {last}"
            f"   UNION ALL SELECT wd.instructor_id, wd.s, wd.e, {f.next_day('wd.d')} FROM window_days wd"
            f"   WHERE wd.d < {f.least(f.as_date('wd.e'), last)}),"
            f" lost AS (SELECT {f.month('wd.d')} AS month_start, wd.instructor_id,"
            f"   SUM({f.seconds_between(f.greatest('wd.s', day_start), f.least('wd.e', day_end))}) AS secs"
            "   FROM window_days wd JOIN instructor_working_hours h"
            f"     ON h.instructor_id = wd.instructor_id AND h.weekday = {f.weekday('wd.d')}"
            f"   WHERE h.end_time > h.start_time AND wd.s < {day_end} AND wd.e > {day_start}"
            f"   GROUP BY {f.month('wd.d')}, wd.instructor_id),"
            " work AS (SELECT b.month_start, b.instructor_id, b.secs - COALESCE(l.secs, 0) AS secs FROM base b"
            "   LEFT JOIN lost l ON l.month_start = b.month_start AND l.instructor_id = b.instructor_id),"
            f" event_counts AS (SELECT {f.month('s.scheduled_date')} AS month_start, s.instructor_id,"
            "   COUNT(*) AS events,"
            "   SUM(CASE WHEN s.event_type = 'lesson' THEN 1 ELSE 0 END) AS lessons,"
            "   SUM(CASE WHEN s.status = 'completed' THEN 1 ELSE 0 END) AS completed,"
            "   SUM(CASE WHEN s.status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,"
            "   SUM(CASE WHEN s.status = 'no_show' THEN 1 ELSE 0 END) AS no_show,"
            "   SUM(CASE WHEN s.status = 'not_completed' THEN 1 ELSE 0 END) AS not_completed,"
            "   SUM(CASE WHEN s.status = 'scheduled' THEN 1 ELSE 0 END) AS scheduled,"
            f"   SUM({not_cancelled_secs}) AS booked_secs"
            f"   FROM schedules s GROUP BY {f.month('s.scheduled_date')}, s.instructor_id),"
            " combined AS (SELECT month_start, instructor_id, events, lessons, completed, cancelled, no_show,"
            "   not_completed, scheduled, booked_secs, 0 AS work_secs FROM event_counts"
            "   UNION ALL SELECT month_start, instructor_id, 0, 0, 0, 0, 0, 0, 0, 0, secs FROM work)"
            " SELECT x.month_start, x.instructor_id, COALESCE(i.branch_id, 0), SUM(x.events), SUM(x.lessons),"
            " SUM(x.completed), SUM(x.cancelled), SUM(x.no_show), SUM(x.not_completed), SUM(x.scheduled),"
            f" {f.minutes('SUM(x.booked_secs)')}, {f.greatest(f.minutes('SUM(x.work_secs)'), '0')}"
            " FROM combined x JOIN instructors i ON i.id = x.instructor_id"
            " GROUP BY x.month_start, x.instructor_id, i.branch_id"
        )
        return self.db.execute(sql, {"first_day": first_day, "last_day": last_day}).rowcount

    def insert_instructor_totals(self, today: date, month_start: date, next_month: date) -> int:
        """Lifetime totals from stat_instructor_month (refreshed just before), plus the scheduled events
        from ``today`` to the end of its month (``month_start`` .. ``next_month``), read through
        idx_schedule_status_date: no pass over every lesson."""
        return self.db.execute(
            "INSERT INTO stat_instructor_totals (instructor_id, lessons, completed_lessons, upcoming_lessons)"
            " SELECT t.instructor_id, SUM(t.lessons), SUM(t.completed), SUM(t.upcoming) FROM ("
            "   SELECT m.instructor_id, m.lessons, m.completed,"
            "     CASE WHEN m.month_start > :month_start THEN m.scheduled ELSE 0 END AS upcoming"
            "   FROM stat_instructor_month m WHERE m.events > 0"
            "   UNION ALL SELECT s.instructor_id, 0, 0, 1 FROM schedules s"
            "   WHERE s.status = 'scheduled' AND s.scheduled_date >= :today AND s.scheduled_date < :next_month"
            " ) t GROUP BY t.instructor_id",
            {"today": today, "month_start": month_start, "next_month": next_month},
        ).rowcount

    def insert_instructor_range(self, ranges) -> int:
        """Each (m_from, m_to) month range of ``ranges`` summed per instructor and branch from
        stat_instructor_month (refreshed just before): the instructor reports' default ranges."""
        done = 0
        sums = ", ".join(f"SUM(m.{c})" for c in _MONTH_SUMS)
        for m_from, m_to in ranges:
            sql = ("INSERT INTO stat_instructor_range (m_from, m_to, instructor_id, branch_id, "
                   + ", ".join(_MONTH_SUMS) + f") SELECT :m_from, :m_to, m.instructor_id, m.branch_id, {sums}"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
                   " FROM stat_instructor_month m WHERE m.month_start >= :m_from AND m.month_start <= :m_to"
                   " GROUP BY m.instructor_id, m.branch_id")
            done += self.db.execute(sql, {"m_from": m_from, "m_to": m_to}).rowcount
        return done

    def insert_vehicle_totals(self, today: date) -> int:
        """One sequential pass over schedules, grouped by vehicle. The scan is forced: left to itself
        MariaDB walks idx_schedule_vehicle_date for the GROUP BY and fetches every lesson's row by its key
        (60 s at 4 million lessons instead of 5 s)."""
        scan = " IGNORE INDEX (idx_schedule_vehicle_date)" if self.db.backend == "mysql" else " NOT INDEXED"
        return self.db.execute(
            "INSERT INTO stat_vehicle_totals (vehicle_id, lessons, upcoming_lessons)"
            " SELECT s.vehicle_id, SUM(CASE WHEN s.event_type = 'lesson' THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN s.status = 'scheduled' AND s.scheduled_date >= :today THEN 1 ELSE 0 END)"
            f" FROM schedules s{scan} WHERE s.vehicle_id IS NOT NULL GROUP BY s.vehicle_id",  # nosec B608 # interpolates only a constant index hint
            {"today": today},
        ).rowcount

    def insert_revenue_month(self) -> int:
        f = self._f
        return self.db.execute(
            "INSERT INTO stat_revenue_month (month_start, branch_id, course_id, amount, payments)"
            f" SELECT {f.month('p.payment_date')}, COALESCE(st.branch_id, 0), e.course_id,"  # nosec B608 # interpolates only fragments this code builds from constants
            " ROUND(SUM(p.amount), 2), SUM(CASE WHEN p.kind = 'refund' THEN 0 ELSE 1 END)"
            " FROM payments p JOIN invoices i ON i.id = p.invoice_id JOIN enrollments e ON e.id = i.enrollment_id"
            " JOIN students st ON st.id = e.student_id"
            f" GROUP BY {f.month('p.payment_date')}, COALESCE(st.branch_id, 0), e.course_id"
        ).rowcount

    def insert_instructor_branch_month(self) -> int:
        """stat_instructor_month (refreshed just before) summed per month and branch, with its instructors."""
        sums = ", ".join(f"SUM(m.{c})" for c in _MONTH_SUMS)
        return self.db.execute(
            "INSERT INTO stat_instructor_branch_month (month_start, branch_id, " + ", ".join(_MONTH_SUMS)
            + f", instructors) SELECT m.month_start, m.branch_id, {sums}, COUNT(*) FROM stat_instructor_month m"  # nosec B608 # interpolates only constant column names
            " GROUP BY m.month_start, m.branch_id"
        ).rowcount

    def insert_enrolment_progress(self) -> int:
        """Every enrolment with its completed lessons: one range of idx_schedule_type_status_enrolment,
        grouped by enrolment, joined to the enrolments."""
        return self.db.execute(
            "INSERT INTO stat_enrolment_progress (enrollment_id, branch_id, start_date, status, lesson_count,"
            " completed_lessons)"
            " SELECT e.id, COALESCE(st.branch_id, 0), e.start_date, e.status, c.lesson_count, COALESCE(d.n, 0)"
            " FROM enrollments e JOIN students st ON st.id = e.student_id LEFT JOIN courses c ON c.id = e.course_id"
            " LEFT JOIN (SELECT s.enrollment_id, COUNT(*) AS n FROM schedules s WHERE s.event_type = 'lesson'"
            "  AND s.status = 'completed' AND s.enrollment_id IS NOT NULL GROUP BY s.enrollment_id) d"
            " ON d.enrollment_id = e.id"
        ).rowcount

    def insert_enrolment_month(self) -> int:
        """stat_enrolment_progress (refreshed just before) counted per start month, branch, status and band
        (PROGRESS_BAND: 0 none, 1 under 25 %, 2 25-49 %, 3 50-74 %, 4 75-99 %, 5 all)."""
        f = self._f
        return self.db.execute(
            "INSERT INTO stat_enrolment_month (month_start, branch_id, status, band, enrolments)"  # nosec B608 # interpolates only fragments this code builds from constants
            f" SELECT {f.month('ep.start_date')}, ep.branch_id, ep.status, {PROGRESS_BAND}, COUNT(*)"
            " FROM stat_enrolment_progress ep WHERE ep.start_date IS NOT NULL"
            f" GROUP BY {f.month('ep.start_date')}, ep.branch_id, ep.status, {PROGRESS_BAND}"
        ).rowcount

    def insert_invoice_owing(self, as_of: date) -> int:
        """The invoices owing on ``as_of``: the unpaid ones (status index) and the paid ones with a payment
        dated after it; the two sets are disjoint (the same candidates as ReportQueriesDAO's live ageing)."""
        owing = ("i.total - COALESCE((SELECT SUM(p.amount) FROM payments p WHERE p.invoice_id = i.id"
                 " AND p.payment_date <= :as_of), 0) + COALESCE((SELECT SUM(cn.total) FROM invoices cn"
                 " WHERE cn.credit_note_for = i.id AND cn.status <> 'void' AND cn.status <> 'draft'"
                 " AND cn.issue_date <= :as_of), 0)")
        branch = ("COALESCE(i.branch_id, (SELECT bs.branch_id FROM enrollments be JOIN students bs"
                  " ON bs.id = be.student_id WHERE be.id = i.enrollment_id), 0)")
        cols = f"i.id, i.invoice_number, {branch} AS branch_id, i.enrollment_id, i.issue_date, i.due_date, i.total, {owing} AS owing"
        extra = " AND i.issue_date <= :as_of AND i.credit_note_for IS NULL"
        return self.db.execute(
            "INSERT INTO stat_invoice_owing (invoice_id, invoice_number, branch_id, enrollment_id, issue_date,"  # nosec B608 # interpolates only fragments this code builds from constants
            " due_date, total, owing, as_of) SELECT c.id, c.invoice_number, c.branch_id, c.enrollment_id, c.issue_date, c.due_date, c.total, c.owing,"
            f" :as_of FROM (SELECT {cols} FROM invoices i WHERE i.status IN ('sent', 'partial', 'overdue'){extra}"
            f" UNION ALL SELECT {cols} FROM (SELECT DISTINCT lp.invoice_id FROM payments lp"
            f" WHERE lp.payment_date > :as_of) later JOIN invoices i ON i.id = later.invoice_id"
            f" WHERE i.status = 'paid'{extra}) c WHERE c.owing > 0",
            {"as_of": as_of}).rowcount

    def insert_course_totals(self) -> int:
        """Per course: its enrolments active or in progress (one pass of idx_enrollments_course_status)."""
        return self.db.execute(
            "INSERT INTO stat_course_totals (course_id, active_enrolments)"
            " SELECT e.course_id, COUNT(*) FROM enrollments e WHERE e.status IN ('active', 'in_progress')"
            " GROUP BY e.course_id"
        ).rowcount

    def insert_branch_totals(self) -> int:
        """Per student branch: one pass over the active students with their enrolments (per student
        whether any is learning / completed), and one over the pending and approved requests."""
        return self.db.execute(
            "INSERT INTO stat_branch_totals (branch_id, active_students, learning_students, completed_students,"
            " pending_requests, approved_requests)"
            " SELECT t.branch_id, SUM(t.students), SUM(t.learning), SUM(t.completed), SUM(t.pending), SUM(t.approved)"
            " FROM (SELECT p.branch_id, COUNT(*) AS students, SUM(p.learning) AS learning, SUM(p.completed) AS completed,"
            "   0 AS pending, 0 AS approved FROM (SELECT s.id, COALESCE(s.branch_id, 0) AS branch_id,"
            "     MAX(CASE WHEN e.status IN ('active', 'in_progress') THEN 1 ELSE 0 END) AS learning,"
            "     MAX(CASE WHEN e.status = 'completed' THEN 1 ELSE 0 END) AS completed"
            "     FROM students s JOIN users u ON u.id = s.user_id LEFT JOIN enrollments e ON e.student_id = s.id"
            "     WHERE u.status = 'active' GROUP BY s.id, s.branch_id) p GROUP BY p.branch_id"
            "  UNION ALL SELECT COALESCE(rs.branch_id, 0), 0, 0, 0,"
            "   SUM(CASE WHEN r.status = 'pending' THEN 1 ELSE 0 END), SUM(CASE WHEN r.status = 'approved' THEN 1 ELSE 0 END)"
            "   FROM enrollment_requests r JOIN students rs ON rs.id = r.student_id"
            "   WHERE r.status IN ('pending', 'approved') GROUP BY COALESCE(rs.branch_id, 0)"
            " ) t GROUP BY t.branch_id"
        ).rowcount

    def insert_licence_pass(self) -> int:
        """Each student's first passed drive test (exam, completed: the earliest date, start time, id) and the
        completed lessons of all their enrolments before it (two index ranges of
        idx_schedule_type_status_enrolment per student)."""
        return self.db.execute(
            "INSERT INTO stat_licence_pass (student_id, branch_id, schedule_id, pass_date, lessons)"
            " SELECT f.student_id, COALESCE(st.branch_id, 0), f.id, f.scheduled_date,"
            " (SELECT COUNT(*) FROM enrollments le JOIN schedules l ON l.enrollment_id = le.id"
            "  WHERE le.student_id = f.student_id AND l.event_type = 'lesson' AND l.status = 'completed'"
            "  AND (l.scheduled_date < f.scheduled_date OR (l.scheduled_date = f.scheduled_date"
            "  AND l.start_time < f.start_time)))"
            " FROM (SELECT e.student_id, ex.id, ex.scheduled_date, ex.start_time, ROW_NUMBER() OVER ("
            "  PARTITION BY e.student_id ORDER BY ex.scheduled_date, ex.start_time, ex.id) AS n"
            "  FROM schedules ex JOIN enrollments e ON e.id = ex.enrollment_id"
            "  WHERE ex.event_type = 'exam' AND ex.status = 'completed') f"
            " JOIN students st ON st.id = f.student_id WHERE f.n = 1"
        ).rowcount

    # the scope branch of an invoice ``i``: its own, else its student's (0 = none), as the lists filter it
    _INVOICE_BRANCH = ("COALESCE(i.branch_id, (SELECT bs.branch_id FROM enrollments be JOIN students bs"
                       " ON bs.id = be.student_id WHERE be.id = i.enrollment_id), 0)")

    def insert_invoice_totals(self) -> int:
        """Invoices per scope branch and status: how many, their totals and what was paid on them (payments
        net of refunds), for the invoice list's whole-chain totals (helper lists2)."""
        return self.db.execute(
            "INSERT INTO stat_invoice_totals (branch_id, status, invoices, total, paid)"  # nosec B608 # interpolates only a module constant
            " SELECT x.branch_id, x.status, COUNT(*), COALESCE(SUM(x.total), 0), COALESCE(SUM(x.paid), 0)"
            f" FROM (SELECT {self._INVOICE_BRANCH} AS branch_id, i.status, i.total, COALESCE(p.paid, 0) AS paid"
            "  FROM invoices i LEFT JOIN (SELECT pp.invoice_id, SUM(pp.amount) AS paid FROM payments pp"
            "  GROUP BY pp.invoice_id) p ON p.invoice_id = i.id) x GROUP BY x.branch_id, x.status"
        ).rowcount

    def insert_payment_totals(self) -> int:
        """Payments and refunds per scope branch (of their invoice), method and kind: how many and their
        amount (refunds negative), for the payments ledger's whole-chain totals (helper lists2)."""
        return self.db.execute(
            "INSERT INTO stat_payment_totals (branch_id, method, kind, entries, amount)"  # nosec B608 # interpolates only a module constant
            " SELECT x.branch_id, x.method, x.kind, COUNT(*), COALESCE(SUM(x.amount), 0)"
            f" FROM (SELECT {self._INVOICE_BRANCH} AS branch_id, COALESCE(p.method, '') AS method, p.kind, p.amount"
            "  FROM payments p JOIN invoices i ON i.id = p.invoice_id) x GROUP BY x.branch_id, x.method, x.kind"
        ).rowcount

    def mark_fresh(self, name: str, at: datetime, duration_ms: int, row_count: int) -> None:
        """Upsert the summary's freshness row (inside its refresh transaction)."""
        params = {"name": name, "at": at, "ms": int(duration_ms), "rows": int(row_count)}
        updated = self.db.execute(
            "UPDATE stat_freshness SET refreshed_at = :at, duration_ms = :ms, row_count = :rows WHERE name = :name",
            params).rowcount
        if not updated:
            self.db.execute("INSERT INTO stat_freshness (name, refreshed_at, duration_ms, row_count)"
                            " VALUES (:name, :at, :ms, :rows)", params)

    # -- reading ---------------------------------------------------------------------------
    def freshness(self) -> dict[str, dict]:
        """{name: {refreshed_at, duration_ms, row_count}} for every summary refreshed at least once."""
        rows = self.db.fetch_all("SELECT name, refreshed_at, duration_ms, row_count FROM stat_freshness")
        return {r["name"]: {"refreshed_at": as_datetime(r["refreshed_at"]), "duration_ms": r["duration_ms"],
                            "row_count": r["row_count"]} for r in rows}

    def refreshed_at(self, name: str) -> datetime | None:
        """When one summary was last refreshed (naive UTC), None when never: one primary-key read."""
        return as_datetime(self.db.fetch_value("SELECT refreshed_at FROM stat_freshness WHERE name = :name",
                                               {"name": name}))

    def instructor_month(self, instructor_id: int | None = None) -> list[dict]:
        """Rows of stat_instructor_month by month (one instructor, or all): for tests and small reads."""
        return self.db.fetch_all(
            "SELECT month_start, instructor_id, branch_id, events, lessons, completed, cancelled, no_show,"
            " not_completed, scheduled, booked_minutes, working_minutes FROM stat_instructor_month"
            " WHERE (:id IS NULL OR instructor_id = :id) ORDER BY month_start, instructor_id",
            {"id": instructor_id})

    def table_rows(self, name: str) -> list[dict]:
        """Every row of one summary, in primary-key order (tests and the consistency check)."""
        columns, order = _ROWS[name]
        return self.db.fetch_all(f"SELECT {columns} FROM {SUMMARY_TABLES[name]} ORDER BY {order}")  # nosec B608 # names from constants


def _as_date(value: Any) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])
