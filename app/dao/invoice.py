"""InvoiceDAO (PHP InvoiceModel): invoices with their computed balance."""
from __future__ import annotations

from app.dao.base import BaseDAO, money


class InvoiceDAO(BaseDAO):
    def recent(self, limit: int = 5, student_id: int | None = None, branch_id: int | None = None) -> list[dict]:
        """Newest invoices with student, course and balance due (payments summed in one join)."""
        rows = self.db.fetch_all(
            "SELECT i.id, i.invoice_number, i.issue_date, i.due_date, i.total, i.status,"
            " c.title AS course_title, su.first_name AS student_first_name, su.last_name AS student_last_name,"
            " COALESCE(p.paid, 0) AS paid"
            " FROM invoices i"
            " JOIN enrollments e ON e.id = i.enrollment_id"
            " JOIN courses c ON c.id = e.course_id"
            " JOIN students st ON st.id = e.student_id"
            " JOIN users su ON su.id = st.user_id"
            " LEFT JOIN (SELECT invoice_id, SUM(amount) AS paid FROM payments GROUP BY invoice_id) p"
            "   ON p.invoice_id = i.id"
            " WHERE (:student_id IS NULL OR e.student_id = :student_id)"
            " AND (:branch_id IS NULL OR st.branch_id = :branch_id)"
            " ORDER BY i.issue_date DESC, i.id DESC"
            " LIMIT :limit",
            {"limit": int(limit), "student_id": student_id, "branch_id": branch_id},
        )
        for row in rows:
            row["total"] = money(row["total"])
            row["paid"] = money(row["paid"])
            row["balance_due"] = row["total"] - row["paid"]
        return rows
