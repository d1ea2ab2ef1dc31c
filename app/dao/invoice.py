"""InvoiceDAO (PHP InvoiceModel): invoices with their computed balance."""
from __future__ import annotations

from app.dao.base import BaseDAO, money


class InvoiceDAO(BaseDAO):
    def recent(self, limit: int = 5, student_id: int | None = None, branch_id: int | None = None) -> list[dict]:
        """Newest invoices with student, course and balance due, in one query.

        The invoices are picked and limited first (newest issue date), then joined to names; the
        amount paid is summed per picked invoice through the payments foreign-key index.
        """
        clauses, params = ["1 = 1"], {"limit": int(limit)}
        if student_id is not None:
            clauses.append("x.enrollment_id IN (SELECT en.id FROM enrollments en WHERE en.student_id = :student_id)")
            params["student_id"] = student_id
        if branch_id is not None:
            clauses.append("x.enrollment_id IN (SELECT en.id FROM enrollments en JOIN students sb ON sb.id = en.student_id"
                           " WHERE sb.branch_id = :branch_id)")
            params["branch_id"] = branch_id
        rows = self.db.fetch_all(
            "SELECT i.id, i.invoice_number, i.issue_date, i.due_date, i.total, i.status,"
            " c.title AS course_title, su.first_name AS student_first_name, su.last_name AS student_last_name,"
            " e.student_id, e.course_id, st.branch_id AS student_branch_id,"
            " COALESCE((SELECT SUM(p.amount) FROM payments p WHERE p.invoice_id = i.id), 0) AS paid"
            " FROM (SELECT x.id, x.enrollment_id, x.invoice_number, x.issue_date, x.due_date, x.total, x.status"
            f"   FROM invoices x WHERE {' AND '.join(clauses)}"
            "   ORDER BY x.issue_date DESC, x.id DESC LIMIT :limit) i"
            " JOIN enrollments e ON e.id = i.enrollment_id"
            " JOIN courses c ON c.id = e.course_id"
            " JOIN students st ON st.id = e.student_id"
            " JOIN users su ON su.id = st.user_id"
            " ORDER BY i.issue_date DESC, i.id DESC",
            params,
        )
        for row in rows:
            row["total"] = money(row["total"])
            row["paid"] = money(row["paid"])
            row["balance_due"] = row["total"] - row["paid"]
        return rows
