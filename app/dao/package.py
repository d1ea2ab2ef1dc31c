"""PackageDAO: the lesson-package credit ledger (``package_ledger``, append-only; migration 0018).

Rows are only ever inserted: the balance is ``SUM(credits)`` over an enrolment's rows, never a stored
counter. The enrolment row is the lock that serialises every movement of its credits (FOR UPDATE on
MariaDB; on SQLite the transaction's BEGIN IMMEDIATE already holds the write lock).
"""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO

COLUMNS = ("enrollment_id", "entry", "credits", "schedule_id", "source", "source_id", "reason", "expires_on",
           "created_by", "created_at")
LEDGER_SORTS = {"id": "l.id"}

_TOTALS = (
    "SELECT COUNT(*) AS n,"
    " COALESCE(SUM(CASE WHEN l.entry = 'purchase' THEN l.credits ELSE 0 END), 0) AS purchased,"
    " COALESCE(SUM(CASE WHEN l.entry IN ('consume', 'reverse') THEN -l.credits ELSE 0 END), 0) AS used,"
    " COALESCE(SUM(CASE WHEN l.entry = 'adjust' THEN l.credits ELSE 0 END), 0) AS adjusted,"
    " COALESCE(SUM(CASE WHEN l.entry = 'expire' THEN -l.credits ELSE 0 END), 0) AS expired,"
    " COALESCE(SUM(CASE WHEN l.entry = 'refund' THEN -l.credits ELSE 0 END), 0) AS refunded,"
    " COALESCE(SUM(CASE WHEN l.entry = 'consume' AND l.credits = 0 THEN 1"
    " WHEN l.entry = 'reverse' AND l.credits = 0 THEN -1 ELSE 0 END), 0) AS owed,"
    " COALESCE(SUM(l.credits), 0) AS remaining"
)


class PackageDAO(BaseDAO):
    # ------------------------------------------------------------------ locks and reads

    def lock_enrollment(self, enrollment_id: int) -> dict | None:
        """The enrolment's row (with the student's branch), locked until the transaction ends."""
        return self.db.fetch_one(
            "SELECT e.id, e.student_id, e.course_id, e.status, st.branch_id AS student_branch_id"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            " FROM enrollments e JOIN students st ON st.id = e.student_id"
            f" WHERE e.id = :id{self.db.for_update}",
            {"id": enrollment_id})

    def enrollment(self, enrollment_id: int) -> dict | None:
        """The enrolment with its student, branch and course (no lock)."""
        return self.db.fetch_one(
            "SELECT e.id, e.student_id, e.course_id, e.status, st.branch_id AS student_branch_id,"
            " st.user_id AS student_user_id, c.title AS course_title, c.lesson_count"
            " FROM enrollments e JOIN students st ON st.id = e.student_id"
            " LEFT JOIN courses c ON c.id = e.course_id WHERE e.id = :id",
            {"id": enrollment_id})

    def totals(self, enrollment_id: int) -> dict:
        """One statement: row count and the derived figures (purchased, used, adjusted, expired, refunded,
        owed, remaining) of one enrolment's ledger."""
        row = self.db.fetch_one(_TOTALS + " FROM package_ledger l WHERE l.enrollment_id = :id",
                                {"id": enrollment_id}) or {}
        return {k: int(row.get(k) or 0) for k in ("n", "purchased", "used", "adjusted", "expired", "refunded",
                                                   "owed", "remaining")}

    def booked_ahead(self, enrollment_id: int, today: date, ignore_schedule_id: int | None = None) -> int:
        """Scheduled lessons of the enrolment dated ``today`` or later (each will draw a credit)."""
        return int(self.db.fetch_value(
            "SELECT COUNT(*) FROM schedules WHERE enrollment_id = :id AND status = 'scheduled'"
            " AND (event_type IS NULL OR event_type = 'lesson') AND scheduled_date >= :today"
            " AND id <> :ignore",
            {"id": enrollment_id, "today": today, "ignore": ignore_schedule_id or 0}) or 0)

    def schedule_draw(self, schedule_id: int) -> dict | None:
        """The latest consume or reverse row of a lesson (None: it never drew a credit)."""
        return self.db.fetch_one(
            "SELECT id, entry, credits FROM package_ledger WHERE schedule_id = :id"
            " AND entry IN ('consume', 'reverse') ORDER BY id DESC LIMIT 1",
            {"id": schedule_id})

    def due_expiries(self, enrollment_id: int, today: date) -> list[dict]:
        """The enrolment's purchases whose expiry date has passed and that no expire row answers yet."""
        return self.db.fetch_all(
            "SELECT p.id, p.credits, p.expires_on FROM package_ledger p"
            " WHERE p.enrollment_id = :id AND p.entry = 'purchase' AND p.expires_on IS NOT NULL"
            " AND p.expires_on < :today AND NOT EXISTS (SELECT 1 FROM package_ledger x"
            " WHERE x.enrollment_id = p.enrollment_id AND x.entry = 'expire' AND x.source = 'expiry'"
            " AND x.source_id = p.id) ORDER BY p.id",
            {"id": enrollment_id, "today": today})

    def enrollments_with_due_expiries(self, today: date, limit: int = 1000) -> list[int]:
        """Enrolments holding a purchase past its expiry date (the nightly sweep's work list)."""
        rows = self.db.fetch_all(
            "SELECT DISTINCT p.enrollment_id FROM package_ledger p"
            " WHERE p.entry = 'purchase' AND p.expires_on IS NOT NULL AND p.expires_on < :today"
            " AND NOT EXISTS (SELECT 1 FROM package_ledger x WHERE x.enrollment_id = p.enrollment_id"
            " AND x.entry = 'expire' AND x.source = 'expiry' AND x.source_id = p.id)"
            " ORDER BY p.enrollment_id LIMIT :limit",
            {"today": today, "limit": limit})
        return [int(r["enrollment_id"]) for r in rows]

    def student_enrollments(self, student_id: int, today: date) -> list[dict]:
        """A student's enrolments (newest first) with their ledger totals and lessons booked ahead: one
        statement whatever the number of enrolments."""
        totals = "SELECT l.enrollment_id, " + _TOTALS[len("SELECT "):]
        rows = self.db.fetch_all(
            "SELECT e.id, e.status, e.start_date, e.course_id, c.title AS course_title, c.lesson_count,"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            " t.n, t.purchased, t.used, t.adjusted, t.expired, t.refunded, t.owed, t.remaining,"
            " (SELECT COUNT(*) FROM schedules s WHERE s.enrollment_id = e.id AND s.status = 'scheduled'"
            " AND (s.event_type IS NULL OR s.event_type = 'lesson') AND s.scheduled_date >= :today) AS booked_ahead"
            " FROM enrollments e LEFT JOIN courses c ON c.id = e.course_id"
            f" LEFT JOIN ({totals} FROM package_ledger l JOIN enrollments le ON le.id = l.enrollment_id"
            " WHERE le.student_id = :id GROUP BY l.enrollment_id) t ON t.enrollment_id = e.id"
            " WHERE e.student_id = :id ORDER BY e.id DESC LIMIT 50",
            {"id": student_id, "today": today})
        for row in rows:
            for key in ("n", "purchased", "used", "adjusted", "expired", "refunded", "owed", "remaining",
                        "booked_ahead"):
                row[key] = int(row.get(key) or 0)
        return rows

    def ledger_page(self, enrollment_id: int, query: ListQuery) -> Page:
        """One page of an enrolment's ledger, newest first, with who wrote each row: two statements."""
        params = {"id": enrollment_id}
        return self.fetch_page(
            "SELECT l.id, l.entry, l.credits, l.schedule_id, l.source, l.source_id, l.reason, l.expires_on,"
            " l.created_at, l.created_by, u.first_name AS created_by_first_name,"
            " u.last_name AS created_by_last_name, s.scheduled_date"
            " FROM package_ledger l LEFT JOIN users u ON u.id = l.created_by"
            " LEFT JOIN schedules s ON s.id = l.schedule_id WHERE l.enrollment_id = :id",
            "SELECT COUNT(*) FROM package_ledger l WHERE l.enrollment_id = :id",
            params, self.order_clause(LEDGER_SORTS, query, "l.id"), query)

    def student_fees(self, student_id: int, limit: int = 20) -> list[dict]:
        """The latest fee lines (late cancellation, no-show) on the student's invoices, newest first, with
        the invoice's status (a draft's line can be waived)."""
        return self.db.fetch_all(
            "SELECT ii.id, ii.invoice_id, ii.kind, ii.description, ii.total, ii.waived_at, ii.waive_reason,"
            " ii.schedule_id, i.status AS invoice_status, i.invoice_number"
            " FROM invoice_items ii JOIN invoices i ON i.id = ii.invoice_id"
            " JOIN enrollments e ON e.id = i.enrollment_id"
            " WHERE e.student_id = :id AND ii.kind IN ('fee_late_cancel', 'fee_no_show')"
            " ORDER BY ii.id DESC LIMIT :limit",
            {"id": student_id, "limit": limit})

    def fee_student(self, item_id: int) -> int | None:
        """The student whose invoice holds this fee line (None: no such fee line)."""
        value = self.db.fetch_value(
            "SELECT e.student_id FROM invoice_items ii JOIN invoices i ON i.id = ii.invoice_id"
            " JOIN enrollments e ON e.id = i.enrollment_id"
            " WHERE ii.id = :id AND ii.kind IN ('fee_late_cancel', 'fee_no_show')",
            {"id": item_id})
        return int(value) if value is not None else None

    # ------------------------------------------------------------------ writes

    def insert(self, row: Mapping[str, Any]) -> int:
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise ValueError(f"not a ledger column: {sorted(unknown)}")
        return self.db.insert("package_ledger", dict(row))
