"""What each role's dashboard shows. A bounded number of queries per role."""
from __future__ import annotations

from datetime import date

from app.core.database import Database
from app.dao.instructor import InstructorDAO
from app.dao.invoice import InvoiceDAO
from app.dao.report import ReportDAO
from app.dao.schedule import ScheduleDAO
from app.dao.student import StudentDAO


def _flag_overdue(invoices: list[dict], today: date) -> list[dict]:
    """Overdue = past its due date and not paid (the stored status is not changed by reading)."""
    for invoice in invoices:
        invoice["is_overdue"] = invoice["due_date"] < today and invoice["status"] != "paid"
    return invoices


def for_user(db: Database, role: str, user_id: int, branch_id: int | None, today: date) -> dict:
    reports, schedules, invoices = ReportDAO(db), ScheduleDAO(db), InvoiceDAO(db)
    if role in ("admin", "staff"):
        scope = None if role == "admin" else branch_id
        return {
            "kind": "office",
            "summary": reports.dashboard_summary(today, scope),
            "upcoming": schedules.upcoming(today, 10, branch_id=scope),
            "invoices": _flag_overdue(invoices.recent(5, branch_id=scope), today),
        }
    if role == "instructor":
        instructor_id = InstructorDAO(db).id_for_user(user_id)
        if instructor_id is None:
            return {"kind": "instructor", "missing_profile": True, "summary": {}, "upcoming": []}
        return {
            "kind": "instructor",
            "summary": reports.instructor_summary(instructor_id, today),
            "upcoming": schedules.upcoming(today, 10, instructor_id=instructor_id),
        }
    student_id = StudentDAO(db).id_for_user(user_id)
    if student_id is None:
        return {"kind": "student", "missing_profile": True, "summary": {}, "upcoming": [], "invoices": []}
    return {
        "kind": "student",
        "summary": reports.student_summary(student_id, today),
        "upcoming": schedules.upcoming(today, 10, student_id=student_id),
        "invoices": _flag_overdue(invoices.recent(5, student_id=student_id), today),
    }
