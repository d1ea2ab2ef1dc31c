"""ReportDAO (PHP ReportModel): dashboard KPIs. Each summary is one query.

Fixes against the original (§8.1.14): "active students" counts students whose
account is active, and "upcoming lessons" counts only lessons still scheduled.
"""
from __future__ import annotations

from datetime import date

from app.dao.base import BaseDAO


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
