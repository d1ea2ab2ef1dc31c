"""ReportDAO (PHP ReportModel): dashboard KPIs. Each summary is one query.

Fixes against the original (§8.1.14): "active students" counts students whose
account is active, and "upcoming lessons" counts only lessons still scheduled.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO, as_datetime, money
from app.dao.stats import PROGRESS_BAND


def _ints(row: dict | None) -> dict:
    return {k: int(v or 0) for k, v in (row or {}).items()}


class ReportDAO(BaseDAO):
    def dashboard_summary(self, today: date, branch_id: int | None = None) -> dict:
        """Whole school (branch_id None) or one branch."""
        params = {"today": today, "branch_id": branch_id}
        return _ints(
            self.db.fetch_one(
                "SELECT"
                " (SELECT COUNT(*) FROM students s JOIN users u ON u.id = s.user_id"
                "   WHERE u.status = 'active' AND (:branch_id IS NULL OR s.branch_id = :branch_id)) AS students,"
                " (SELECT COUNT(*) FROM schedules sc WHERE sc.scheduled_date >= :today AND sc.status = 'scheduled'"
                "   AND (:branch_id IS NULL OR sc.branch_id = :branch_id)) AS upcoming_lessons,"
                " (SELECT COUNT(*) FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id"
                "   JOIN students s ON s.id = e.student_id"
                "   WHERE i.due_date < :today AND i.status IN ('sent', 'partial', 'overdue')"
                "   AND (:branch_id IS NULL OR s.branch_id = :branch_id)) AS overdue_invoices,"
                " (SELECT COUNT(*) FROM vehicles v WHERE v.status = 'available'"
                "   AND (:branch_id IS NULL OR v.branch_id = :branch_id)) AS fleet_available,"
                " (SELECT COUNT(*) FROM vehicles v WHERE (:branch_id IS NULL OR v.branch_id = :branch_id)) AS fleet_total",
                params,
            )
        )

    def instructor_summary(self, instructor_id: int, today: date) -> dict:
        params = {"today": today, "instructor_id": instructor_id}
        return _ints(
            self.db.fetch_one(
                "SELECT"
                " (SELECT COUNT(DISTINCT e.student_id) FROM schedules sc JOIN enrollments e ON e.id = sc.enrollment_id"
                "   WHERE sc.instructor_id = :instructor_id) AS students,"
                " (SELECT COUNT(*) FROM schedules sc WHERE sc.instructor_id = :instructor_id"
                "   AND sc.scheduled_date >= :today AND sc.status = 'scheduled') AS upcoming_lessons,"
                " (SELECT COUNT(*) FROM schedules sc WHERE sc.instructor_id = :instructor_id"
                "   AND sc.status = 'completed') AS completed_lessons",
                params,
            )
        )

    def student_summary(self, student_id: int, today: date) -> dict:
        params = {"today": today, "student_id": student_id}
        return _ints(
            self.db.fetch_one(
                "SELECT"
                " (SELECT COUNT(*) FROM enrollments e WHERE e.student_id = :student_id) AS enrollments,"
                " (SELECT COUNT(*) FROM schedules sc JOIN enrollments e ON e.id = sc.enrollment_id"
                "   WHERE e.student_id = :student_id AND sc.scheduled_date >= :today AND sc.status = 'scheduled')"
                "   AS upcoming_lessons,"
                " (SELECT COUNT(*) FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id"
                "   WHERE e.student_id = :student_id AND i.due_date < :today AND i.status IN ('sent', 'partial', 'overdue')) AS overdue_invoices",
                params,
            )
        )


# ---------------------------------------------------------------------------------------------------
# Issue 13: the Reports module's reads (app/services/reports.py holds the rules and the definitions).
#
# Lessons and payments are read from the maintained summaries (stat_instructor_month,
# stat_revenue_month: month granularity, refreshed by `flask refresh-stats`), never from every lesson;
# invoice ageing, lessons to licence, enrolments and compliance read the raw tables through indexes.
# Date boundaries are computed by the caller, so the SQL is the same on both databases.

STAT_SUMS = ("events", "lessons", "completed", "cancelled", "no_show", "not_completed", "scheduled",
             "booked_minutes", "working_minutes")
_SUMS = ", ".join(f"COALESCE(SUM(sm.{c}), 0) AS {c}" for c in STAT_SUMS)
_UTILISATION = ("CASE WHEN SUM(sm.working_minutes) > 0"
                " THEN 1.0 * SUM(sm.booked_minutes) / SUM(sm.working_minutes) END")
_RATE = "CASE WHEN SUM(sm.events) > 0 THEN 1.0 * SUM(sm.{c}) / SUM(sm.events) END"
# sort key -> ORDER BY expressions over the grouped instructor rows (aliases of INSTRUCTOR_SELECT)
INSTRUCTOR_SORTS = {
    "name": ("u.last_name", "u.first_name"),
    "lessons": "lessons",
    "completed": "completed",
    "events": "events",
    "cancelled": "cancelled",
    "no_show": "no_show",
    "cancel_rate": "cancel_rate",
    "no_show_rate": "no_show_rate",
    "utilisation": "utilisation",
    "booked": "booked_minutes",
    "working": "working_minutes",
}
OWING_SORTS = {"overdue": ("c.due_date", "c.invoice_id"), "owing": ("c.owing", "c.invoice_id"),
               "number": "c.invoice_number"}
_OWING_ROW_KEYS = {"c.due_date": "due_date", "c.owing": "owing", "c.invoice_number": "invoice_number",
                   "c.invoice_id": "id"}  # sort column -> the field of ageing_summary_rows' rows (keyset windows)
AGEING_SORTS = {"overdue": ("c.due_date", "c.id"), "owing": ("c.owing", "c.id"), "number": "inv.invoice_number"}


def _stat_where(branch_id: int | None, alias: str = "sm") -> str:
    where = f" WHERE {alias}.month_start >= :m_from AND {alias}.month_start <= :m_to"
    return where + (f" AND {alias}.branch_id = :branch_id" if branch_id is not None else "")


def _int_row(row: dict | None, keys=STAT_SUMS) -> dict:
    row = dict(row or {})
    for key in keys:
        row[key] = int(row.get(key) or 0)
    return row


def _invoice_branch(alias: str = "i") -> str:
    """An invoice's branch is its own, else its student's (the original's rows): the first half lets the
    optimiser read the branch's rows by idx_invoices_branch_cover (as InvoiceDAO's list does)."""
    return (f" AND ({alias}.branch_id = :branch_id OR ({alias}.branch_id IS NULL AND {alias}.enrollment_id IN"  # nosec B608 # interpolates only an alias this module passes; every value is a bound :parameter
            " (SELECT be.id FROM enrollments be JOIN students bs ON bs.id = be.student_id"
            " WHERE bs.branch_id = :branch_id)))")


class ReportQueriesDAO(BaseDAO):
    """The report pages' SELECTs. Every method takes ``branch_id`` None for the whole school."""

    # -- freshness ------------------------------------------------------------------------------
    def freshness(self, names: tuple[str, ...]) -> dict:
        marks, params = self.db.in_params("n", names)
        rows = self.db.fetch_all(f"SELECT name, refreshed_at FROM stat_freshness WHERE name IN ({marks})", params)  # nosec B608 # interpolates only generated placeholders; every value is a bound :parameter
        return {r["name"]: as_datetime(r["refreshed_at"]) for r in rows}

    # -- revenue (stat_revenue_month) -----------------------------------------------------------
    def revenue_by_month(self, m_from: date, m_to: date, branch_id: int | None) -> list[dict]:
        rows = self.db.fetch_all(
            "SELECT sm.month_start, COALESCE(SUM(sm.amount), 0) AS amount, COALESCE(SUM(sm.payments), 0) AS payments"  # nosec B608 # interpolates only fragments this module builds from constants; every value is a bound :parameter
            " FROM stat_revenue_month sm" + _stat_where(branch_id) + " GROUP BY sm.month_start ORDER BY sm.month_start",
            {"m_from": m_from, "m_to": m_to, "branch_id": branch_id})
        return [{"month_start": _as_date(r["month_start"]), "amount": money(r["amount"]),
                 "payments": int(r["payments"] or 0)} for r in rows]

    def revenue_by_branch(self, m_from: date, m_to: date, branch_id: int | None) -> list[dict]:
        rows = self.db.fetch_all(
            "SELECT sm.branch_id, b.name AS branch_name, COALESCE(SUM(sm.amount), 0) AS amount,"  # nosec B608 # interpolates only fragments this module builds from constants; every value is a bound :parameter
            " COALESCE(SUM(sm.payments), 0) AS payments FROM stat_revenue_month sm"
            " LEFT JOIN branches b ON b.id = sm.branch_id" + _stat_where(branch_id)
            + " GROUP BY sm.branch_id, b.name ORDER BY amount DESC, b.name",
            {"m_from": m_from, "m_to": m_to, "branch_id": branch_id})
        return [{**r, "amount": money(r["amount"]), "payments": int(r["payments"] or 0)} for r in rows]

    def revenue_by_course(self, m_from: date, m_to: date, branch_id: int | None) -> list[dict]:
        rows = self.db.fetch_all(
            "SELECT sm.course_id, c.title AS course_title, COALESCE(SUM(sm.amount), 0) AS amount,"  # nosec B608 # interpolates only fragments this module builds from constants; every value is a bound :parameter
            " COALESCE(SUM(sm.payments), 0) AS payments FROM stat_revenue_month sm"
            " LEFT JOIN courses c ON c.id = sm.course_id" + _stat_where(branch_id)
            + " GROUP BY sm.course_id, c.title ORDER BY amount DESC, c.title",
            {"m_from": m_from, "m_to": m_to, "branch_id": branch_id})
        return [{**r, "amount": money(r["amount"]), "payments": int(r["payments"] or 0)} for r in rows]

    def revenue_rows(self, m_from: date, m_to: date, branch_id: int | None) -> list[dict]:
        """Every (month, branch, course) row of the range, for the CSV (at most months x branches x courses)."""
        rows = self.db.fetch_all(
            "SELECT sm.month_start, sm.branch_id, b.name AS branch_name, sm.course_id, c.title AS course_title,"  # nosec B608 # interpolates only fragments this module builds from constants; every value is a bound :parameter
            " sm.amount, sm.payments FROM stat_revenue_month sm LEFT JOIN branches b ON b.id = sm.branch_id"
            " LEFT JOIN courses c ON c.id = sm.course_id" + _stat_where(branch_id)
            + " ORDER BY sm.month_start, b.name, sm.branch_id, c.title, sm.course_id",
            {"m_from": m_from, "m_to": m_to, "branch_id": branch_id})
        return [{**r, "month_start": _as_date(r["month_start"]), "amount": money(r["amount"]),
                 "payments": int(r["payments"] or 0)} for r in rows]

    # -- instructors (stat_instructor_month) ----------------------------------------------------
    def instructor_totals(self, m_from: date, m_to: date, branch_id: int | None) -> dict:
        # the sums from the branch-month summary; the instructors (distinct over the months) from the
        # monthly rows' keys (PK range, or idx_stat_instructor_month_branch for a branch)
        table, where = self._instructor_source(m_from, m_to, branch_id, alias="im")
        row = self.db.fetch_one(
            f"SELECT {_SUMS}, (SELECT COUNT(DISTINCT im.instructor_id) FROM {table} im{where})"  # nosec B608 # interpolates only a summary table name and WHERE this module builds from constants; every value is a bound :parameter
            " AS instructors FROM stat_instructor_branch_month sm"
            + _stat_where(branch_id), {"m_from": m_from, "m_to": m_to, "branch_id": branch_id})
        return _int_row(row, STAT_SUMS + ("instructors",))

    def instructor_by_branch(self, m_from: date, m_to: date, branch_id: int | None) -> list[dict]:
        rows = self.db.fetch_all(
            f"SELECT sm.branch_id, b.name AS branch_name, {_SUMS} FROM stat_instructor_branch_month sm"  # nosec B608 # interpolates only fragments this module builds from constants; every value is a bound :parameter
            " LEFT JOIN branches b ON b.id = sm.branch_id" + _stat_where(branch_id)
            + " GROUP BY sm.branch_id, b.name ORDER BY b.name, sm.branch_id",
            {"m_from": m_from, "m_to": m_to, "branch_id": branch_id})
        return [_int_row(r) for r in rows]

    def instructor_by_month(self, m_from: date, m_to: date, branch_id: int | None) -> list[dict]:
        rows = self.db.fetch_all(
            f"SELECT sm.month_start, {_SUMS} FROM stat_instructor_branch_month sm"  # nosec B608 # interpolates only fragments this module builds from constants; every value is a bound :parameter
            + _stat_where(branch_id) + " GROUP BY sm.month_start ORDER BY sm.month_start",
            {"m_from": m_from, "m_to": m_to, "branch_id": branch_id})
        return [{**_int_row(r), "month_start": _as_date(r["month_start"])} for r in rows]

    def _instructor_source(self, m_from: date, m_to: date, branch_id: int | None,
                           alias: str = "sm") -> tuple[str, str]:
        """(table, WHERE on ``alias``) of the per-instructor sums over the months: stat_instructor_range when
        flask refresh-stats summed exactly this range (a report's default, one row per instructor and
        branch), else stat_instructor_month's rows of the range (one per instructor and month)."""
        summed = self.db.fetch_value("SELECT 1 FROM stat_instructor_range WHERE m_from = :m_from AND m_to = :m_to"
                                     " LIMIT 1", {"m_from": m_from, "m_to": m_to})
        if summed:
            return "stat_instructor_range", (
                f" WHERE {alias}.m_from = :m_from AND {alias}.m_to = :m_to"
                + (f" AND {alias}.branch_id = :branch_id" if branch_id is not None else ""))
        return "stat_instructor_month", _stat_where(branch_id, alias)

    def instructor_page(self, query: ListQuery, m_from: date, m_to: date, branch_id: int | None,
                        limit_all: int | None = None, total: int | None = None) -> Page:
        """One page of instructors with their sums over the months (25 a page; the total is the number of
        instructors with a summary row in the range: pass ``instructor_totals``' ``instructors`` when it is
        known). ``limit_all``: every row (the CSV), capped."""
        params = {"m_from": m_from, "m_to": m_to, "branch_id": branch_id}
        table, where = self._instructor_source(m_from, m_to, branch_id)
        if total is None:
            total = int(self.db.fetch_value(
                f"SELECT COUNT(DISTINCT sm.instructor_id) FROM {table} sm{where}",  # nosec B608 # interpolates only a summary table name and WHERE this module builds from constants; every value is a bound :parameter
                params) or 0)
        if limit_all is None:
            last_page = max(1, -(-total // query.per_page))
            if query.page > last_page:
                query = query.with_page(last_page)
            limit, offset = query.per_page, query.offset
        else:
            limit, offset = limit_all, 0
        names = ("SELECT x.*, u.first_name, u.last_name, i.branch_id, b.name AS branch_name FROM ({grouped}) x"
                 " JOIN instructors i ON i.id = x.instructor_id JOIN users u ON u.id = i.user_id"
                 " LEFT JOIN branches b ON b.id = i.branch_id")
        grouped = (f"SELECT sm.instructor_id, {_SUMS}, {_UTILISATION} AS utilisation,"  # nosec B608 # interpolates only a summary table name and WHERE this module builds from constants; every value is a bound :parameter
                   f" {_RATE.format(c='cancelled')} AS cancel_rate, {_RATE.format(c='no_show')} AS no_show_rate"
                   f" FROM {table} sm{{join}}{where} GROUP BY sm.instructor_id{{group}}")
        if query.sort == "name":  # the names are needed before the page is cut
            order = self.order_clause(INSTRUCTOR_SORTS, query, "sm.instructor_id")
            inner = grouped.format(join=" JOIN instructors i ON i.id = sm.instructor_id JOIN users u ON u.id = i.user_id",
                                   group=", u.last_name, u.first_name")
            inner += f" ORDER BY {order} LIMIT :lim OFFSET :off"
            outer = self.order_clause({"name": ("u.last_name", "u.first_name")}, query, "x.instructor_id")
        else:  # the page of sums first (the summary alone), then the names of its 25 instructors
            order = self.order_clause(INSTRUCTOR_SORTS, query, "sm.instructor_id")
            inner = grouped.format(join="", group="") + f" ORDER BY {order} LIMIT :lim OFFSET :off"
            key = INSTRUCTOR_SORTS.get(query.sort) or "completed"
            outer = f"x.{key} {'DESC' if query.descending else 'ASC'}, x.instructor_id {'DESC' if query.descending else 'ASC'}"
        rows = self.db.fetch_all(names.format(grouped=inner) + f" ORDER BY {outer}",
                                 {**params, "lim": limit, "off": offset})
        return Page(items=[_int_row(r) for r in rows], total=total, query=query)

    # -- enrolments: retention and progress (raw, through indexes) -------------------------------
    def enrolment_statuses(self, d_from: date, d_to: date, branch_id: int | None) -> dict[str, int]:
        """Enrolments started in the range, by status (idx_enrollments_start; a branch through its students)."""
        if branch_id is None:
            sql = ("SELECT e.status, COUNT(*) AS n FROM enrollments e"
                   " WHERE e.start_date >= :d_from AND e.start_date <= :d_to GROUP BY e.status")
        else:
            sql = ("SELECT e.status, COUNT(*) AS n FROM enrollments e JOIN students st ON st.id = e.student_id"
                   " WHERE st.branch_id = :branch_id AND e.start_date >= :d_from AND e.start_date <= :d_to"
                   " GROUP BY e.status")
        rows = self.db.fetch_all(sql, {"d_from": d_from, "d_to": d_to, "branch_id": branch_id})
        return {r["status"]: int(r["n"]) for r in rows}

    def open_enrolment_progress(self, d_from: date, d_to: date, branch_id: int | None) -> dict[int, int]:
        """Open enrolments (active, in progress) started in the range, by band of completed lessons over the
        course's lesson count (0: none, 1: under 25 %, 2: 25-49 %, 3: 50-74 %, 4: 75-99 %, 5: all). Each
        enrolment's lessons are counted in idx_schedule_type_status_enrolment alone."""
        branch = " AND st.branch_id = :branch_id" if branch_id is not None else ""
        # a branch: its students lead (fk index); the whole school: the start-date range leads, the
        # course's lesson count read per row (joining courses first would walk every enrolment)
        students = (" JOIN students st ON st.id = e.student_id JOIN courses c ON c.id = e.course_id"
                    if branch_id is not None else "")
        lesson_count = "c.lesson_count" if branch_id is not None else \
            "(SELECT c.lesson_count FROM courses c WHERE c.id = e.course_id)"
        band = ("CASE WHEN x.done <= 0 THEN 0 WHEN x.done >= x.lesson_count THEN 5"
                " WHEN 4 * x.done < x.lesson_count THEN 1 WHEN 2 * x.done < x.lesson_count THEN 2"
                " WHEN 4 * x.done < 3 * x.lesson_count THEN 3 ELSE 4 END")
        rows = self.db.fetch_all(
            f"SELECT {band} AS band, COUNT(*) AS n FROM ("  # nosec B608 # interpolates only fragments this module builds from constants; every value is a bound :parameter
            f" SELECT {lesson_count} AS lesson_count,"
            " (SELECT COUNT(*) FROM schedules s WHERE s.event_type = 'lesson'"
            "  AND s.status = 'completed' AND s.enrollment_id = e.id) AS done"
            " FROM enrollments e" + students +
            " WHERE e.start_date >= :d_from AND e.start_date <= :d_to AND e.status IN ('active', 'in_progress')"
            + branch + f") x GROUP BY {band}",
            {"d_from": d_from, "d_to": d_to, "branch_id": branch_id})
        return {int(r["band"]): int(r["n"]) for r in rows}

    def enrolment_summary(self, d_from: date, d_to: date, branch_id: int | None,
                          months: tuple[date, date] | None = None) -> list[dict]:
        """(status, band, enrolments) of the enrolments started in the range: the whole months
        ``months`` (first and last month start, inside the range) from stat_enrolment_month, the days
        outside them from stat_enrolment_progress (index-only ranges of idx_stat_enrolment_start or
        idx_stat_enrolment_branch). Bands as :meth:`open_enrolment_progress`; the caller keeps them for
        the open statuses."""
        branch = " AND ep.branch_id = :branch_id" if branch_id is not None else ""
        params = {"d_from": d_from, "d_to": d_to, "branch_id": branch_id}
        if months is None:
            days = " AND ep.start_date >= :d_from AND ep.start_date <= :d_to"
            whole = ""
        else:
            days = (" AND ((ep.start_date >= :d_from AND ep.start_date < :m_first)"
                    " OR (ep.start_date >= :m_after AND ep.start_date <= :d_to))")
            whole = (" UNION ALL SELECT em.status, em.band, em.enrolments FROM stat_enrolment_month em"  # nosec B608 # a constant fragment chosen by code; every value is a bound :parameter
                     " WHERE em.month_start >= :m_first AND em.month_start <= :m_last"
                     + (" AND em.branch_id = :branch_id" if branch_id is not None else ""))
            params.update({"m_first": months[0], "m_last": months[1], "m_after": _next_month(months[1])})
        rows = self.db.fetch_all(
            "SELECT x.status, x.band, SUM(x.n) AS n FROM ("  # nosec B608 # interpolates only fragments this module builds from constants; every value is a bound :parameter
            f"SELECT ep.status, {PROGRESS_BAND} AS band, COUNT(*) AS n FROM stat_enrolment_progress ep"
            " WHERE 1 = 1" + days + branch + f" GROUP BY ep.status, {PROGRESS_BAND}" + whole
            + ") x GROUP BY x.status, x.band", params)
        return [{"status": r["status"], "band": int(r["band"]), "enrolments": int(r["n"])} for r in rows]

    # -- KPI cards --------------------------------------------------------------------------------
    def kpis(self, today: date, branch_id: int | None) -> dict:
        """Active students (active student accounts, stat_branch_totals as of the refresh), events still
        scheduled from today (the instructors' maintained totals), overdue invoices (issued, unpaid, due
        before today, live through the status index: credit notes are issued as paid): one query."""
        params = {"today": today, "branch_id": branch_id}
        students = "SELECT COALESCE(SUM(bs.active_students), 0) FROM stat_branch_totals bs" + (  # nosec B608 # a constant fragment chosen by code; every value is a bound :parameter
            " WHERE bs.branch_id = :branch_id" if branch_id is not None else "")
        instructors_branch = " AND i.branch_id = :branch_id" if branch_id is not None else ""
        return _ints(self.db.fetch_one(
            f"SELECT ({students}) AS students,"  # nosec B608 # interpolates only fragments this module builds from constants; every value is a bound :parameter
            " (SELECT COALESCE(SUM(t.upcoming_lessons), 0) FROM stat_instructor_totals t"
            "  JOIN instructors i ON i.id = t.instructor_id WHERE 1 = 1" + instructors_branch + ") AS upcoming_lessons,"
            " (SELECT COUNT(*) FROM invoices i WHERE i.status IN ('sent', 'partial', 'overdue') AND i.due_date < :today"
            + (_invoice_branch() if branch_id is not None else "") + ") AS overdue_invoices",
            params))

    # -- invoice ageing (raw, through indexes) ----------------------------------------------------
    def _ageing_candidates(self, branch_id: int | None, issued_from: date | None) -> str:
        """Invoices that may be owing on :as_of, as one derived table ``c`` (id, due_date, owing): the
        unpaid ones (status index) and the ones paid after :as_of (payments' date index); the two sets
        are disjoint. Owing = total - payments dated up to :as_of - credit notes issued up to :as_of."""
        extra = " AND i.issue_date <= :as_of AND i.due_date < :as_of AND i.credit_note_for IS NULL"
        if issued_from is not None:
            extra += " AND i.issue_date >= :issued_from"
        if branch_id is not None:
            extra += _invoice_branch()
        owing = ("i.total - COALESCE((SELECT SUM(p.amount) FROM payments p WHERE p.invoice_id = i.id"
                 " AND p.payment_date <= :as_of), 0) + COALESCE((SELECT SUM(cn.total) FROM invoices cn"
                 " WHERE cn.credit_note_for = i.id AND cn.status <> 'void' AND cn.status <> 'draft'"
                 " AND cn.issue_date <= :as_of), 0)")
        cols = f"i.id, i.due_date, i.enrollment_id, i.branch_id, i.total, {owing} AS owing"  # idx_invoices_ageing
        return (f"(SELECT {cols} FROM invoices i WHERE i.status IN ('sent', 'partial', 'overdue'){extra}"  # nosec B608 # interpolates only fragments this module builds from constants; every value is a bound :parameter
                f" UNION ALL SELECT {cols} FROM (SELECT DISTINCT lp.invoice_id FROM payments lp"
                f" WHERE lp.payment_date > :as_of) later JOIN invoices i ON i.id = later.invoice_id"
                f" WHERE i.status = 'paid'{extra}) c")

    @staticmethod
    def _bucket(bounds: dict) -> str:
        """The bucket of a candidate's due date (``bounds``: services.reports.ageing_bounds)."""
        return ("CASE WHEN c.due_date >= :b30 THEN 1 WHEN c.due_date >= :b60 THEN 2"
                " WHEN c.due_date >= :b90 THEN 3 ELSE 4 END")

    def export_stamp(self) -> dict:
        """The last audited data change (audit_chain.last_data_id: sign-ins and exports leave it) and the
        maintained summaries' last refresh: two small reads (the key of a kept report CSV)."""
        row = self.db.fetch_one(
            "SELECT (SELECT last_data_id FROM audit_chain WHERE id = 1) AS audit_id,"
            " (SELECT MAX(refreshed_at) FROM stat_freshness) AS refreshed_at") or {}
        return {"audit_id": row.get("audit_id"), "refreshed_at": row.get("refreshed_at")}

    def first_issue_date(self) -> date | None:
        """The earliest issue date of any invoice (one end of idx_invoices_issue_date)."""
        return _as_date(self.db.fetch_value("SELECT MIN(issue_date) FROM invoices"))

    def ageing(self, query: ListQuery, as_of: date, bounds: dict, branch_id: int | None,
               issued_from: date | None, limit_all: int | None = None) -> tuple[list[dict], Page]:
        """The buckets (1: 0-30 days overdue, 2: 31-60, 3: 61-90, 4: over 90: invoices and amount owing)
        and one page of the owing invoices with student and branch, in ONE pass over the candidates: the
        bucket totals ride on every page row as window sums. A page past the end is read again as the
        last page (the totals are known by then)."""
        buckets, page = self._ageing_once(query, as_of, bounds, branch_id, issued_from, limit_all)
        total = sum(b["invoices"] for b in buckets)
        if not page.items and query.page > 1 and limit_all is None:
            buckets, page = self._ageing_once(query.with_page(1), as_of, bounds, branch_id, issued_from, None)
            total = sum(b["invoices"] for b in buckets)
            last = max(1, -(-total // query.per_page))
            if last > 1:
                buckets, page = self._ageing_once(query.with_page(last), as_of, bounds, branch_id, issued_from, None)
        page.total = total
        return buckets, page

    def _ageing_once(self, query: ListQuery, as_of: date, bounds: dict, branch_id: int | None,
                     issued_from: date | None, limit_all: int | None) -> tuple[list[dict], Page]:
        limit, offset = (limit_all, 0) if limit_all is not None else (query.per_page, query.offset)
        params = {"as_of": as_of, "branch_id": branch_id, "issued_from": issued_from, **bounds,
                  "lim": limit, "off": offset}
        bucket = self._bucket(bounds)
        sums = ", ".join(f"SUM(CASE WHEN {bucket} = {n} THEN 1 ELSE 0 END) OVER () AS n{n},"
                         f" SUM(CASE WHEN {bucket} = {n} THEN c.owing ELSE 0 END) OVER () AS o{n}" for n in (1, 2, 3, 4))
        by_number = query.sort == "number"
        inner_order = self.order_clause(AGEING_SORTS, query, "c.id")
        outer_order = self.order_clause({"overdue": ("p.due_date", "p.id"), "owing": ("p.owing", "p.id"),
                                         "number": "inv.invoice_number"}, query, "p.id")
        rows = self.db.fetch_all(
            "SELECT p.*, inv.invoice_number, e.student_id, su.first_name AS student_first_name,"  # nosec B608 # interpolates only fragments this module builds from constants and the whitelisted ORDER BY; every value is a bound :parameter
            " su.last_name AS student_last_name, COALESCE(p.branch_id, st.branch_id) AS scope_branch_id,"
            " b.name AS branch_name FROM ("
            f"SELECT c.id, c.due_date, c.enrollment_id, c.branch_id, c.total, c.owing, {bucket} AS bucket, {sums}"
            f" FROM {self._ageing_candidates(branch_id, issued_from)}"
            + (" JOIN invoices inv ON inv.id = c.id" if by_number else "")
            + f" WHERE c.owing > 0 ORDER BY {inner_order} LIMIT :lim OFFSET :off) p"
            " JOIN invoices inv ON inv.id = p.id JOIN enrollments e ON e.id = p.enrollment_id"
            " JOIN students st ON st.id = e.student_id JOIN users su ON su.id = st.user_id"
            " LEFT JOIN branches b ON b.id = COALESCE(p.branch_id, st.branch_id)"
            f" ORDER BY {outer_order}", params)
        first = rows[0] if rows else {}
        buckets = [{"bucket": n, "invoices": int(first.get(f"n{n}") or 0), "owing": money(first.get(f"o{n}"))}
                   for n in (1, 2, 3, 4)]
        items = []
        for row in rows:
            items.append({"id": row["id"], "invoice_number": row["invoice_number"], "due_date": _as_date(row["due_date"]),
                          "total": money(row["total"]), "owing": money(row["owing"]), "bucket": int(row["bucket"]),
                          "student_id": row["student_id"], "student_first_name": row["student_first_name"],
                          "student_last_name": row["student_last_name"], "branch_id": row["scope_branch_id"],
                          "branch_name": row["branch_name"]})
        return buckets, Page(items=items, total=0, query=query)

    # -- invoice ageing on the refresh day (stat_invoice_owing) -----------------------------------
    def owing_as_of(self) -> date | None:
        """The day stat_invoice_owing's amounts are owing on (None: empty or never refreshed)."""
        return _as_date(self.db.fetch_value("SELECT as_of FROM stat_invoice_owing LIMIT 1"))  # one day in every row

    @staticmethod
    def _owing_where(branch_id: int | None, issued_from: date | None) -> str:
        where = " WHERE c.due_date < :as_of"
        if issued_from is not None:
            where += " AND c.issue_date >= :issued_from"
        return where + (" AND c.branch_id = :branch_id" if branch_id is not None else "")

    def ageing_summary_buckets(self, as_of: date, bounds: dict, branch_id: int | None,
                               issued_from: date | None) -> list[dict]:
        """The four buckets (invoices, amount owing) from stat_invoice_owing: index only."""
        bucket = self._bucket(bounds)
        rows = self.db.fetch_all(
            f"SELECT {bucket} AS bucket, COUNT(*) AS n, COALESCE(SUM(c.owing), 0) AS owing"  # nosec B608 # interpolates only fragments this module builds from constants; every value is a bound :parameter
            " FROM stat_invoice_owing c" + self._owing_where(branch_id, issued_from) + f" GROUP BY {bucket}",
            {"as_of": as_of, "branch_id": branch_id, "issued_from": issued_from, **bounds})
        found = {int(r["bucket"]): r for r in rows}
        return [{"bucket": n, "invoices": int((found.get(n) or {}).get("n") or 0),
                 "owing": money((found.get(n) or {}).get("owing"))} for n in (1, 2, 3, 4)]

    def ageing_summary_rows(self, as_of: date, bounds: dict, branch_id: int | None, issued_from: date | None,
                            query: ListQuery, limit: int, offset: int, after: dict | None = None,
                            for_csv: bool = False) -> list[dict]:
        """One window of the owing invoices from stat_invoice_owing, with invoice number, student, branch.
        ``after`` (a row this method returned) continues the order just past that row instead of skipping
        ``offset`` rows (the streamed CSV: each window starts where the last one stopped, in the index's
        order, instead of re-reading every row before it)."""
        bucket = self._bucket(bounds)
        inner_order = self.order_clause(OWING_SORTS, query, "c.invoice_id")
        where = self._owing_where(branch_id, issued_from)
        keys: dict[str, Any] = {}
        if after is not None:
            chosen = OWING_SORTS.get(query.sort) or next(iter(OWING_SORTS.values()))
            columns = ((chosen,) if isinstance(chosen, str) else tuple(chosen))
            columns += () if columns[-1] == "c.invoice_id" else ("c.invoice_id",)
            op = "<" if query.descending else ">"
            arms = []
            for n, column in enumerate(columns):
                equal = "".join(f"{columns[m]} = :after_{m} AND " for m in range(n))
                arms.append(f"({equal}{column} {op} :after_{n})")
                keys[f"after_{n}"] = after[_OWING_ROW_KEYS[column]]
            where += " AND (" + " OR ".join(arms) + ")"
            offset = 0
        outer_order = self.order_clause({"overdue": ("p.due_date", "p.id"), "owing": ("p.owing", "p.id"),
                                         "number": "p.invoice_number"}, query, "p.id")
        # the CSV reads only what it writes (and its window's keys): a third fewer values for the driver to parse
        picked = ("p.id, p.invoice_number, p.due_date, p.total, p.owing, p.bucket" if for_csv
                  else "p.*, e.student_id")
        rows = self.db.fetch_all(
            f"SELECT {picked}, su.first_name AS student_first_name,"  # nosec B608 # interpolates only fragments this module builds from constants and the whitelisted ORDER BY; every value is a bound :parameter
            " su.last_name AS student_last_name, b.name AS branch_name FROM ("
            "SELECT c.invoice_id AS id, c.invoice_number, c.due_date, c.enrollment_id, c.branch_id, c.total, c.owing,"
            f" {bucket} AS bucket FROM stat_invoice_owing c" + where
            + f" ORDER BY {inner_order} LIMIT :lim OFFSET :off) p"
            " LEFT JOIN enrollments e ON e.id = p.enrollment_id"
            " LEFT JOIN students st ON st.id = e.student_id LEFT JOIN users su ON su.id = st.user_id"
            " LEFT JOIN branches b ON b.id = p.branch_id"
            f" ORDER BY {outer_order}",
            {"as_of": as_of, "branch_id": branch_id, "issued_from": issued_from, **bounds, "lim": limit, "off": offset,
             **keys})
        if for_csv:
            return [{"id": r["id"], "invoice_number": r["invoice_number"], "due_date": _as_date(r["due_date"]),
                     "total": money(r["total"]), "owing": money(r["owing"]), "bucket": int(r["bucket"]),
                     "student_first_name": r["student_first_name"], "student_last_name": r["student_last_name"],
                     "branch_name": r["branch_name"]} for r in rows]
        return [{"id": r["id"], "invoice_number": r["invoice_number"], "due_date": _as_date(r["due_date"]),
                 "total": money(r["total"]), "owing": money(r["owing"]), "bucket": int(r["bucket"]),
                 "student_id": r["student_id"], "student_first_name": r["student_first_name"],
                 "student_last_name": r["student_last_name"], "branch_id": r["branch_id"] or None,
                 "branch_name": r["branch_name"]} for r in rows]

    # -- lessons to licence (stat_licence_pass) ---------------------------------------------------
    def licence_summary(self, d_from: date, d_to: date, branch_id: int | None) -> list[dict]:
        """As :meth:`licence_counts`, from stat_licence_pass (an index-only range)."""
        branch = " AND lp.branch_id = :branch_id" if branch_id is not None else ""
        rows = self.db.fetch_all(
            "SELECT lp.branch_id, lp.lessons, COUNT(*) AS students FROM stat_licence_pass lp"  # nosec B608 # interpolates only fragments this module builds from constants; every value is a bound :parameter
            " WHERE lp.pass_date >= :d_from AND lp.pass_date <= :d_to" + branch +
            " GROUP BY lp.branch_id, lp.lessons ORDER BY lp.branch_id, lp.lessons",
            {"d_from": d_from, "d_to": d_to, "branch_id": branch_id})
        return [{"branch_id": r["branch_id"] or None, "lessons": int(r["lessons"]), "students": int(r["students"])}
                for r in rows]

    # -- lessons to licence (raw, through indexes) ------------------------------------------------
    def licence_counts(self, d_from: date, d_to: date, branch_id: int | None) -> list[dict]:
        """(branch_id, lessons, students): for each student whose FIRST passed drive test (an exam event
        with the outcome completed) lies in the range, the completed lessons of all their enrolments
        before it; grouped by the student's branch and that number."""
        branch = " AND st.branch_id = :branch_id" if branch_id is not None else ""
        rows = self.db.fetch_all(
            "SELECT x.branch_id, x.lessons, COUNT(*) AS students FROM ("  # nosec B608 # interpolates only fragments this module builds from constants; every value is a bound :parameter
            " SELECT st.branch_id, (SELECT COUNT(*) FROM enrollments le JOIN schedules l ON l.enrollment_id = le.id"
            "  WHERE le.student_id = e.student_id AND l.event_type = 'lesson' AND l.status = 'completed'"
            "  AND (l.scheduled_date < ex.scheduled_date OR (l.scheduled_date = ex.scheduled_date"
            "  AND l.start_time < ex.start_time))) AS lessons"
            " FROM schedules ex JOIN enrollments e ON e.id = ex.enrollment_id JOIN students st ON st.id = e.student_id"
            " WHERE ex.event_type = 'exam' AND ex.status = 'completed' AND ex.scheduled_date >= :d_from"
            " AND ex.scheduled_date <= :d_to" + branch +
            " AND NOT EXISTS (SELECT 1 FROM enrollments pe JOIN schedules px ON px.enrollment_id = pe.id"
            "  WHERE pe.student_id = e.student_id AND px.event_type = 'exam' AND px.status = 'completed'"
            "  AND (px.scheduled_date < ex.scheduled_date OR (px.scheduled_date = ex.scheduled_date"
            "  AND (px.start_time < ex.start_time OR (px.start_time = ex.start_time AND px.id < ex.id)))))"
            ") x GROUP BY x.branch_id, x.lessons ORDER BY x.branch_id, x.lessons",
            {"d_from": d_from, "d_to": d_to, "branch_id": branch_id})
        return [{"branch_id": r["branch_id"], "lessons": int(r["lessons"]), "students": int(r["students"])}
                for r in rows]

    # -- compliance (raw, through indexes) --------------------------------------------------------
    def accreditation_summary(self, today: date, by: date, branch_id: int | None) -> dict:
        branch = " AND i.branch_id = :branch_id" if branch_id is not None else ""
        return _ints(self.db.fetch_one(
            "SELECT COALESCE(SUM(CASE WHEN i.accreditation_expiry < :today THEN 1 ELSE 0 END), 0) AS expired,"  # nosec B608 # interpolates only fragments this module builds from constants; every value is a bound :parameter
            " COALESCE(SUM(CASE WHEN i.accreditation_expiry >= :today AND i.accreditation_expiry <= :by THEN 1 ELSE 0 END), 0) AS expiring,"
            " COALESCE(SUM(CASE WHEN i.accreditation_expiry IS NULL THEN 1 ELSE 0 END), 0) AS missing,"
            " COUNT(*) AS instructors"
            " FROM instructors i JOIN users u ON u.id = i.user_id WHERE u.status = 'active'" + branch,
            {"today": today, "by": by, "branch_id": branch_id}))

    def accreditation_page(self, query: ListQuery, total: int, by: date, branch_id: int | None,
                           limit_all: int | None = None) -> Page:
        """Active instructors whose accreditation expired or expires by ``by``, or is not recorded."""
        branch = " AND i.branch_id = :branch_id" if branch_id is not None else ""
        query, limit, offset = _window(query, total, limit_all)
        rows = self.db.fetch_all(
            "SELECT i.id AS instructor_id, u.first_name, u.last_name, i.branch_id, b.name AS branch_name,"  # nosec B608 # interpolates only fragments this module builds from constants; every value is a bound :parameter
            " i.certification_number, i.accreditation_expiry FROM instructors i JOIN users u ON u.id = i.user_id"
            " LEFT JOIN branches b ON b.id = i.branch_id"
            " WHERE u.status = 'active' AND (i.accreditation_expiry IS NULL OR i.accreditation_expiry <= :by)" + branch +
            " ORDER BY CASE WHEN i.accreditation_expiry IS NULL THEN 1 ELSE 0 END, i.accreditation_expiry, i.id"
            " LIMIT :lim OFFSET :off", {"by": by, "branch_id": branch_id, "lim": limit, "off": offset})
        for row in rows:
            row["accreditation_expiry"] = _as_date(row["accreditation_expiry"])
        return Page(items=rows, total=total, query=query)

    def service_summary(self, today: date, by: date, branch_id: int | None) -> dict:
        branch = " AND v.branch_id = :branch_id" if branch_id is not None else ""
        return _ints(self.db.fetch_one(
            "SELECT COALESCE(SUM(CASE WHEN v.next_service_due < :today THEN 1 ELSE 0 END), 0) AS overdue,"  # nosec B608 # interpolates only fragments this module builds from constants; every value is a bound :parameter
            " COALESCE(SUM(CASE WHEN v.next_service_due >= :today AND v.next_service_due <= :by THEN 1 ELSE 0 END), 0) AS due,"
            " COALESCE(SUM(CASE WHEN v.next_service_due IS NULL THEN 1 ELSE 0 END), 0) AS missing,"
            " COUNT(*) AS vehicles FROM vehicles v WHERE 1 = 1" + branch,
            {"today": today, "by": by, "branch_id": branch_id}))

    def service_page(self, query: ListQuery, total: int, by: date, branch_id: int | None,
                     limit_all: int | None = None) -> Page:
        branch = " AND v.branch_id = :branch_id" if branch_id is not None else ""
        query, limit, offset = _window(query, total, limit_all)
        rows = self.db.fetch_all(
            "SELECT v.id AS vehicle_id, v.name, v.plate_number, v.status, v.branch_id, b.name AS branch_name,"  # nosec B608 # interpolates only fragments this module builds from constants; every value is a bound :parameter
            " v.last_service_date, v.next_service_due FROM vehicles v LEFT JOIN branches b ON b.id = v.branch_id"
            " WHERE (v.next_service_due IS NULL OR v.next_service_due <= :by)" + branch +
            " ORDER BY CASE WHEN v.next_service_due IS NULL THEN 1 ELSE 0 END, v.next_service_due, v.id"
            " LIMIT :lim OFFSET :off", {"by": by, "branch_id": branch_id, "lim": limit, "off": offset})
        for row in rows:
            row["next_service_due"] = _as_date(row["next_service_due"])
            row["last_service_date"] = _as_date(row["last_service_date"])
        return Page(items=rows, total=total, query=query)


def _window(query: ListQuery, total: int, limit_all: int | None) -> tuple[ListQuery, int, int]:
    if limit_all is not None:
        return query, limit_all, 0
    last_page = max(1, -(-total // query.per_page))
    if query.page > last_page:
        query = query.with_page(last_page)
    return query, query.per_page, query.offset


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _as_date(value):
    """SQLite hands back aggregated or derived dates as text."""
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    return date.fromisoformat(str(value)[:10])
