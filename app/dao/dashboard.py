"""DashboardDAO: the role dashboards' reads (services/dashboard.py assembles them).

Every statement is bounded by an index range, never by the whole history:

- lesson counts per day and status over a date range (today, this week): ``idx_schedule_status_date``
  (status, scheduled_date, start_time, branch_id) for the school, ``idx_schedule_branch_date`` for a
  branch, ``idx_schedule_instructor_date`` for an instructor (each covering: no table row is read);
- lessons awaiting an outcome: ``status = 'scheduled'`` and before the earliest branch cut-off day read
  from the same covering index, only the cut-off days themselves join the branch for its time zone;
- overdue invoices: ``idx_invoices_status_due`` (school) / ``idx_invoices_branch_cover`` (branch), the
  amount paid per overdue invoice through the payments' covering index;
- revenue and utilisation from the maintained summaries (``stat_revenue_month``,
  ``stat_instructor_month``, refreshed by ``flask refresh-stats``), with their ``stat_freshness`` rows;
- students, enrolments and requests: from the maintained ``stat_branch_totals`` (one row per branch,
  the school sums 40-odd rows; counting them live read 200,000 students at a national chain's size).

Scope is a parameter of every method: ``branch_id`` None = the whole school, ``instructor_id`` one
instructor, ``student_id`` one student. Lessons belong to the branch stored on the lesson.
"""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Sequence

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO, as_datetime, money

BOOKED = ("scheduled", "completed", "not_completed", "no_show")   # every status but cancelled
LESSON_STATUSES = ("scheduled", "completed", "not_completed", "no_show", "cancelled")
LESSON_SORTS = {"date": ("s.scheduled_date", "s.start_time")}

# (zone stored on branches or None, the local date and time it is in that zone): services/outcomes.py
Cutoff = tuple[str | None, date, time]

_PAID = "COALESCE((SELECT SUM(p.amount) FROM payments p WHERE p.invoice_id = i.id), 0)"
_CREDITED = ("COALESCE((SELECT -SUM(cn.total) FROM invoices cn WHERE cn.credit_note_for = i.id"
             " AND cn.status <> 'void' AND cn.status <> 'draft'), 0)")


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _invoice_branch(name: str) -> str:
    """The invoice list's branch rule (dao/invoice.py): the invoice's own branch, else its student's."""
    return (f"(i.branch_id = :{name} OR (i.branch_id IS NULL AND i.enrollment_id IN"  # nosec B608 # interpolates only the parameter name its callers pass as a literal; values are bound
            f" (SELECT be.id FROM enrollments be JOIN students bs ON bs.id = be.student_id"
            f" WHERE bs.branch_id = :{name})))")


class DashboardDAO(BaseDAO):
    # ------------------------------------------------------------------ lessons

    def lesson_days(self, start: date, end: date, *, branch_id: int | None = None,
                    instructor_id: int | None = None) -> dict[date, dict[str, int]]:
        """{day: {status: count}} of the events (not cancelled) dated ``start``..``end``, one
        aggregate over a covering index range."""
        clauses = ["s.status IN ('scheduled', 'completed', 'not_completed', 'no_show')",
                   "s.scheduled_date >= :start", "s.scheduled_date <= :end"]
        params: dict[str, Any] = {"start": start, "end": end}
        if branch_id is not None:
            clauses.append("s.branch_id = :branch_id")
            params["branch_id"] = branch_id
        if instructor_id is not None:
            clauses.append("s.instructor_id = :instructor_id")
            params["instructor_id"] = instructor_id
        rows = self.db.fetch_all(
            "SELECT s.scheduled_date AS day, s.status, COUNT(*) AS n FROM schedules s"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            " WHERE " + " AND ".join(clauses) + " GROUP BY s.scheduled_date, s.status", params)
        out: dict[date, dict[str, int]] = {}
        for row in rows:
            out.setdefault(_day(row["day"]), {})[row["status"]] = int(row["n"])
        return out

    @staticmethod
    def _awaiting_where(cutoffs: Sequence[Cutoff], branch_id: int | None,
                        instructor_id: int | None) -> tuple[str, str, dict[str, Any]]:
        """(clauses for the days before every cut-off, clauses for the cut-off days, params): the
        first part needs no join (past everywhere), the second joins the branch for its zone."""
        params: dict[str, Any] = {}
        earliest = min((c[1] for c in cutoffs), default=date.min)
        latest = max((c[1] for c in cutoffs), default=date.min)
        params["earliest"], params["latest"] = earliest, latest
        scope = ""
        if branch_id is not None:
            scope += " AND s.branch_id = :branch_id"
            params["branch_id"] = branch_id
        if instructor_id is not None:
            scope += " AND s.instructor_id = :instructor_id"
            params["instructor_id"] = instructor_id
        arms = []
        for n, (zone, day, moment) in enumerate(cutoffs):
            match = "b.timezone IS NULL" if zone is None else f"b.timezone = :zone_{n}"
            if zone is not None:
                params[f"zone_{n}"] = zone
            params[f"day_{n}"], params[f"time_{n}"] = day, moment
            arms.append(f"({match} AND (s.scheduled_date < :day_{n}"
                        f" OR (s.scheduled_date = :day_{n} AND s.end_time <= :time_{n})))")
        before = "s.status = 'scheduled' AND s.scheduled_date < :earliest" + scope
        edge = ("s.status = 'scheduled' AND s.scheduled_date >= :earliest AND s.scheduled_date <= :latest"
                + scope + f" AND ({' OR '.join(arms) or '1 = 0'})")
        return before, edge, params

    def awaiting_count(self, cutoffs: Sequence[Cutoff], *, branch_id: int | None = None,
                       instructor_id: int | None = None, cap: int | None = None) -> int:
        """Past events still ``scheduled`` (the rule of the "awaiting an outcome" list, services/
        outcomes.py), one statement of two index-range counts; with ``cap`` each reads at most ``cap`` + 1
        rows and the answer is at most ``cap`` + 1 (more than ``cap``: "1,000+"; 70,000 at scale L)."""
        before, edge, params = self._awaiting_where(cutoffs, branch_id, instructor_id)
        if cap is None:
            return int(self.db.fetch_value(
                f"SELECT (SELECT COUNT(*) FROM schedules s WHERE {before})"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                f" + (SELECT COUNT(*) FROM schedules s LEFT JOIN branches b ON b.id = s.branch_id WHERE {edge}) AS n",
                params) or 0)
        found = int(self.db.fetch_value(
            f"SELECT (SELECT COUNT(*) FROM (SELECT 1 AS one FROM schedules s WHERE {before} LIMIT :cap) a)"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            " + (SELECT COUNT(*) FROM (SELECT 1 AS one FROM schedules s LEFT JOIN branches b ON b.id = s.branch_id"
            f" WHERE {edge} LIMIT :cap) e) AS n", {**params, "cap": int(cap) + 1}) or 0)
        return min(found, int(cap) + 1)

    def awaiting_rows(self, cutoffs: Sequence[Cutoff], *, instructor_id: int, limit: int = 5) -> list[dict]:
        """The instructor's most recent events awaiting an outcome, with the student's name."""
        before, edge, params = self._awaiting_where(cutoffs, None, instructor_id)
        return self.db.fetch_all(
            "SELECT s.id, s.scheduled_date, s.start_time, s.end_time, s.event_type, s.branch_id, s.instructor_id,"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            " e.student_id, su.first_name AS student_first_name, su.last_name AS student_last_name"
            " FROM schedules s LEFT JOIN branches b ON b.id = s.branch_id"
            " JOIN enrollments e ON e.id = s.enrollment_id JOIN students st ON st.id = e.student_id"
            " JOIN users su ON su.id = st.user_id"
            f" WHERE s.instructor_id = :instructor_id AND (({before}) OR ({edge}))"
            " ORDER BY s.scheduled_date DESC, s.start_time DESC, s.id DESC LIMIT :limit",
            {**params, "limit": int(limit)})

    _LESSON_COLUMNS = (
        "s.id, s.scheduled_date, s.start_time, s.end_time, s.event_type, s.status, s.lesson_topic,"
        " s.pickup_location, s.branch_id, s.instructor_id, s.vehicle_id, v.name AS vehicle_name,"
        " v.plate_number, e.student_id, e.course_id, c.title AS course_title,"
        " su.first_name AS student_first_name, su.last_name AS student_last_name, su.phone AS student_phone,"
        " iu.first_name AS instructor_first_name, iu.last_name AS instructor_last_name, b.name AS branch_name"
    )
    _LESSON_JOINS = (
        " JOIN enrollments e ON e.id = s.enrollment_id"
        " JOIN courses c ON c.id = e.course_id"
        " JOIN students st ON st.id = e.student_id"
        " JOIN users su ON su.id = st.user_id"
        " JOIN instructors i ON i.id = s.instructor_id"
        " JOIN users iu ON iu.id = i.user_id"
        " LEFT JOIN vehicles v ON v.id = s.vehicle_id"
        " LEFT JOIN branches b ON b.id = s.branch_id"
    )

    def run_sheet(self, instructor_id: int, day: date, limit: int = 40) -> list[dict]:
        """The instructor's events of ``day`` in time order (cancelled ones too: the sheet greys them),
        with student, phone, pick-up point, vehicle and course."""
        return self.db.fetch_all(
            f"SELECT {self._LESSON_COLUMNS} FROM schedules s{self._LESSON_JOINS}"  # nosec B608 # interpolates only class constants; every value is a bound :parameter
            " WHERE s.instructor_id = :instructor_id AND s.scheduled_date = :day"
            " ORDER BY s.start_time, s.id LIMIT :limit",
            {"instructor_id": instructor_id, "day": day, "limit": int(limit)})

    def next_lessons(self, student_id: int, today: date, limit: int = 5, now_time: time = time(0, 0)) -> list[dict]:
        """The student's coming events still scheduled (today's: not yet ended at ``now_time``), soonest
        first."""
        return self.db.fetch_all(
            f"SELECT {self._LESSON_COLUMNS} FROM schedules s{self._LESSON_JOINS}"  # nosec B608 # interpolates only class constants; every value is a bound :parameter
            " WHERE s.enrollment_id IN (SELECT se.id FROM enrollments se WHERE se.student_id = :student_id)"
            " AND s.status = 'scheduled' AND s.scheduled_date >= :today"
            " AND (s.scheduled_date > :today OR s.end_time > :now_time)"
            " ORDER BY s.scheduled_date, s.start_time, s.id LIMIT :limit",
            {"student_id": student_id, "today": today, "now_time": now_time, "limit": int(limit)})

    def upcoming(self, today: date, now_time: time, limit: int = 8, branch_id: int | None = None) -> list[dict]:
        """The next events still scheduled from now on (today's not yet started), school or branch,
        soonest first: an index range on the date (and the branch) read in order, LIMIT."""
        clause, params = "", {"today": today, "now_time": now_time, "limit": int(limit)}
        if branch_id is not None:
            clause, params["branch_id"] = " AND x.branch_id = :branch_id", branch_id
        return self.db.fetch_all(
            f"SELECT {self._LESSON_COLUMNS} FROM (SELECT x.id FROM schedules x"  # nosec B608 # interpolates only class constants and a constant clause; every value is a bound :parameter
            " WHERE x.status = 'scheduled' AND x.scheduled_date >= :today"
            " AND (x.scheduled_date > :today OR x.start_time >= :now_time)"
            + clause +
            " ORDER BY x.scheduled_date, x.start_time, x.id LIMIT :limit) pick"
            f" JOIN schedules s ON s.id = pick.id{self._LESSON_JOINS}"
            " ORDER BY s.scheduled_date, s.start_time, s.id", params)

    def lessons_page(self, query: ListQuery, *, start: date, end: date, statuses: Sequence[str],
                     branch_id: int | None = None, instructor_id: int | None = None) -> Page:
        """The events a dashboard figure counts: dated ``start``..``end`` with one of ``statuses``, in
        scope; a COUNT over the same index range as the figure and one page of rows."""
        names = {f"st_{n}": status for n, status in enumerate(statuses)}
        clauses = [f"s.status IN ({', '.join(':' + k for k in names) or 'NULL'})",
                   "s.scheduled_date >= :start", "s.scheduled_date <= :end"]
        params: dict[str, Any] = {**names, "start": start, "end": end}
        if branch_id is not None:
            clauses.append("s.branch_id = :branch_id")
            params["branch_id"] = branch_id
        if instructor_id is not None:
            clauses.append("s.instructor_id = :instructor_id")
            params["instructor_id"] = instructor_id
        where = " WHERE " + " AND ".join(clauses)
        order = self.order_clause(LESSON_SORTS, query, "s.id")
        return self.fetch_page_picked(
            "FROM schedules s" + where, self._LESSON_COLUMNS, "JOIN schedules s ON s.id = pick.pick_id"
            + self._LESSON_JOINS, params, order, query, pick="s.id")

    # ------------------------------------------------------------------ money

    def overdue(self, branch_id: int | None = None) -> dict:
        """How many invoices are overdue (status ``overdue``, set nightly and by every payment) and
        what is still owing on them (total - paid - credited). Three aggregates in one statement, each
        driven by its own index (the overdue invoices by status, their payments by invoice, the credit
        notes by the invoice they credit): no correlated subquery per invoice (12,000 at L)."""
        clause, params = "i.status = 'overdue'", {}
        if branch_id is not None:
            clause += " AND " + _invoice_branch("branch_id")
            params["branch_id"] = branch_id
        row = self.db.fetch_one(
            "SELECT a.n, a.total,"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            f" (SELECT COALESCE(SUM(p.amount), 0) FROM invoices i JOIN payments p ON p.invoice_id = i.id WHERE {clause}) AS paid,"
            " (SELECT COALESCE(-SUM(cn.total), 0) FROM invoices cn JOIN invoices i ON i.id = cn.credit_note_for"
            f"   WHERE cn.credit_note_for IS NOT NULL AND cn.status <> 'void' AND cn.status <> 'draft' AND {clause}) AS credited"
            f" FROM (SELECT COUNT(*) AS n, COALESCE(SUM(i.total), 0) AS total FROM invoices i WHERE {clause}) a",
            params) or {}
        owing = money(row.get("total")) - money(row.get("paid")) - money(row.get("credited"))
        return {"count": int(row.get("n") or 0), "owing": owing}

    def student_balance(self, student_id: int) -> dict:
        """What the student owes across their issued invoices (credit notes count against the invoice
        they credit) and how many of those invoices are overdue: one aggregate."""
        row = self.db.fetch_one(
            "SELECT COUNT(*) AS n, COALESCE(SUM(i.total), 0) AS total,"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            f" COALESCE(SUM({_PAID}), 0) AS paid, COALESCE(SUM({_CREDITED}), 0) AS credited,"
            " COALESCE(SUM(CASE WHEN i.status = 'overdue' THEN 1 ELSE 0 END), 0) AS overdue"
            " FROM invoices i WHERE i.enrollment_id IN (SELECT se.id FROM enrollments se WHERE se.student_id = :s)"
            " AND i.status NOT IN ('draft', 'void') AND i.credit_note_for IS NULL", {"s": student_id}) or {}
        owing = money(row.get("total")) - money(row.get("paid")) - money(row.get("credited"))
        return {"invoices": int(row.get("n") or 0), "owing": owing, "overdue": int(row.get("overdue") or 0)}

    def revenue_months(self, start: date, end: date, branch_id: int | None = None) -> dict[date, Any]:
        """{month_start: amount} from the maintained revenue summary."""
        clause, params = "", {"start": start, "end": end}
        if branch_id is not None:
            clause, params["branch_id"] = " AND branch_id = :branch_id", branch_id
        rows = self.db.fetch_all(
            "SELECT month_start, COALESCE(SUM(amount), 0) AS amount FROM stat_revenue_month"  # nosec B608 # interpolates only a constant clause; every value is a bound :parameter
            f" WHERE month_start >= :start AND month_start <= :end{clause} GROUP BY month_start", params)
        return {_day(r["month_start"]): money(r["amount"]) for r in rows}

    def freshness(self, names: Sequence[str]) -> dict[str, datetime | None]:
        """When each maintained summary was last refreshed (stat_freshness), None if never."""
        keys = {f"n_{i}": name for i, name in enumerate(names)}
        rows = self.db.fetch_all(
            f"SELECT name, refreshed_at FROM stat_freshness WHERE name IN ({', '.join(':' + k for k in keys)})",  # nosec B608 # placeholders only; every value is a bound :parameter
            keys) if keys else []
        found = {r["name"]: as_datetime(r["refreshed_at"]) for r in rows}
        return {name: found.get(name) for name in names}

    def utilisation(self, month_start: date, branch_id: int | None = None,
                    instructor_id: int | None = None) -> dict:
        """Booked and working minutes of the month from ``stat_instructor_month``."""
        clause, params = "", {"m": month_start}
        if branch_id is not None:
            clause += " AND branch_id = :branch_id"
            params["branch_id"] = branch_id
        if instructor_id is not None:
            clause += " AND instructor_id = :instructor_id"
            params["instructor_id"] = instructor_id
        row = self.db.fetch_one(
            "SELECT COUNT(*) AS instructors, COALESCE(SUM(booked_minutes), 0) AS booked,"  # nosec B608 # interpolates only constant clauses; every value is a bound :parameter
            " COALESCE(SUM(working_minutes), 0) AS working FROM stat_instructor_month"
            f" WHERE month_start = :m{clause}", params) or {}
        return {"instructors": int(row.get("instructors") or 0), "booked": int(row.get("booked") or 0),
                "working": int(row.get("working") or 0)}

    # ------------------------------------------------------------------ people and things

    def fleet(self, branch_id: int | None = None) -> dict:
        row = self.db.fetch_one(
            "SELECT COUNT(*) AS total, COALESCE(SUM(CASE WHEN status = 'available' THEN 1 ELSE 0 END), 0) AS available"
            " FROM vehicles WHERE (:branch_id IS NULL OR branch_id = :branch_id)", {"branch_id": branch_id}) or {}
        return {"available": int(row.get("available") or 0), "total": int(row.get("total") or 0)}

    def population(self, branch_id: int | None = None) -> dict:
        """Students with an active account; of them, those with an active (or in progress) enrolment
        and those with a completed one (the students list's ``enrolment`` filter); pending and
        approved enrolment requests (the queue's counts): from the maintained ``stat_branch_totals``
        (one row per student branch; the school is their sum), as of its last refresh."""
        clause, params = "", {}
        if branch_id is not None:
            clause, params["branch_id"] = " WHERE branch_id = :branch_id", branch_id
        row = self.db.fetch_one(
            "SELECT COALESCE(SUM(active_students), 0) AS students, COALESCE(SUM(learning_students), 0) AS learning,"  # nosec B608 # interpolates only a constant clause; every value is a bound :parameter
            " COALESCE(SUM(completed_students), 0) AS completed, COALESCE(SUM(pending_requests), 0) AS pending,"
            f" COALESCE(SUM(approved_requests), 0) AS approved FROM stat_branch_totals{clause}", params) or {}
        return {k: int(row.get(k) or 0) for k in ("students", "learning", "completed", "pending", "approved")}

    def instructor_students(self, instructor_id: int, limit: int = 8) -> tuple[int, list[dict]]:
        """(how many, the first ``limit`` by name) of the active students the instructor teaches or is
        assigned a request of: the students list's instructor scope, from the instructor's rows."""
        # the instructor's students first (their lessons and requests, a derived table), then their rows:
        # an IN (... UNION ...) on students is run per student by MariaDB, over the whole school
        base = ("FROM (SELECT e.student_id AS id FROM schedules sc JOIN enrollments e ON e.id = sc.enrollment_id"
                " WHERE sc.instructor_id = :i UNION SELECT r.student_id AS id FROM enrollment_requests r"
                " WHERE r.instructor_id = :i) mine JOIN students s ON s.id = mine.id JOIN users u ON u.id = s.user_id"
                " WHERE u.status = 'active'")
        total = int(self.db.fetch_value("SELECT COUNT(*) AS n " + base, {"i": instructor_id}) or 0)
        rows = self.db.fetch_all(
            "SELECT s.id, s.branch_id, s.license_status, u.first_name, u.last_name, u.phone, u.email "
            + base + " ORDER BY u.last_name, u.first_name, s.id LIMIT :limit", {"i": instructor_id, "limit": int(limit)})
        return total, rows

    def notifications(self, user_id: int, limit: int = 5) -> tuple[int, list[dict]]:
        """(unread count, the latest ``limit``) of the user's in-app notifications."""
        unread = int(self.db.fetch_value(
            "SELECT COUNT(*) AS n FROM notifications WHERE user_id = :u AND is_read = 0", {"u": user_id}) or 0)
        rows = self.db.fetch_all(
            "SELECT id, title, message, level, is_read, created_at FROM notifications WHERE user_id = :u"
            " ORDER BY created_at DESC, id DESC LIMIT :limit", {"u": user_id, "limit": int(limit)})
        for row in rows:
            row["is_read"] = bool(int(row["is_read"] or 0))
            row["created_at"] = as_datetime(row["created_at"])
        return unread, rows
