"""What each role's dashboard shows, in a bounded number of queries per role.

The scope comes from the Actor alone (``actor.branch_filter()``): admin sees the whole school, staff
their branch, and a staff account without a branch sees nothing of any branch (``no_branch``: the
page tells them to ask an administrator) and costs no query at all.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from app.core.database import Database
from app.dao.invoice import InvoiceDAO
from app.dao.report import ReportDAO
from app.dao.schedule import ScheduleDAO
from app.services import reminders
from app.services.scope import Actor

OFFICE_KPIS = ("students", "upcoming_lessons", "overdue_invoices", "fleet_available", "fleet_total")


def _flag_overdue(invoices: list[dict], today: date) -> list[dict]:
    """Overdue = past its due date and not paid (the stored status is not changed by reading)."""
    for invoice in invoices:
        invoice["is_overdue"] = invoice["due_date"] < today and invoice["status"] != "paid"
    return invoices


def for_actor(db: Database, actor: Actor, today: date, now: datetime | None = None,
              settings: Mapping[str, Any] | None = None) -> dict:
    """The dashboard's data; an administrator's also carries the reminder dispatcher's health line
    (``dispatcher``: services/reminders.health) when ``now`` is given."""
    data = _for_role(db, actor, today)
    if actor.is_admin and now is not None:
        data["dispatcher"] = reminders.health(db, now, settings)
    return data


def _for_role(db: Database, actor: Actor, today: date) -> dict:
    reports, schedules, invoices = ReportDAO(db), ScheduleDAO(db), InvoiceDAO(db)
    if actor.is_office:
        if actor.lacks_branch:
            return {"kind": "office", "no_branch": True, "summary": dict.fromkeys(OFFICE_KPIS, 0),
                    "upcoming": [], "invoices": []}
        scope = actor.branch_filter()
        return {
            "kind": "office",
            "summary": reports.dashboard_summary(today, scope),
            "upcoming": schedules.upcoming(today, 10, branch_id=scope),
            "invoices": _flag_overdue(invoices.recent(5, branch_id=scope), today),
        }
    if actor.role == "instructor":
        if actor.instructor_id is None:
            return {"kind": "instructor", "missing_profile": True, "summary": {}, "upcoming": []}
        return {
            "kind": "instructor",
            "summary": reports.instructor_summary(actor.instructor_id, today),
            "upcoming": schedules.upcoming(today, 10, instructor_id=actor.instructor_id),
        }
    if actor.role == "student" and actor.student_id is not None:
        return {
            "kind": "student",
            "summary": reports.student_summary(actor.student_id, today),
            "upcoming": schedules.upcoming(today, 10, student_id=actor.student_id),
            "invoices": _flag_overdue(invoices.recent(5, student_id=actor.student_id), today),
        }
    return {"kind": "student", "missing_profile": True, "summary": {}, "upcoming": [], "invoices": []}
