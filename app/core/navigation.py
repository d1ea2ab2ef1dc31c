"""The main navigation: one table of (label, endpoint, icon, roles).

Later modules add their entries here; an entry whose endpoint is not
registered yet is simply not shown.
"""
from __future__ import annotations

from typing import Mapping

NAV: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Dashboard", "dashboard.index", "speedometer2", ("admin", "staff", "instructor", "student")),
    ("My profile", "students.me", "person-vcard", ("student",)),
    ("My profile", "instructors.me", "person-vcard", ("instructor",)),
    ("My invoices", "studentinvoices.index", "receipt", ("student",)),
    ("Students", "students.index", "people", ("admin", "staff", "instructor")),
    ("Enrolment requests", "enrollmentrequests.index", "inbox", ("admin", "staff", "instructor")),
    ("Calendar", "schedules.index", "calendar3", ("admin", "staff", "instructor")),
    ("My lessons", "schedules.index", "calendar3", ("student",)),
    ("Lesson outcomes", "outcomes.awaiting", "clipboard-check", ("admin", "staff", "instructor")),
    ("Instructors", "instructors.index", "person-badge", ("admin", "staff")),
    ("Branches", "branches.index", "building", ("admin", "staff")),
    ("Courses", "courses.index", "journal-bookmark", ("admin", "staff")),
    ("Invoices", "invoices.index", "receipt", ("admin", "staff")),
    ("Payments", "payments.index", "cash-coin", ("admin", "staff")),
    ("Reminders", "reminders.index", "alarm", ("admin", "staff")),
    ("Fleet", "fleet.index", "car-front", ("admin", "staff")),
    ("Communications", "communications.index", "megaphone", ("admin", "staff")),
    ("Reports", "reports.index", "bar-chart", ("admin", "staff")),
    ("Staff", "staff.index", "person-gear", ("admin",)),
    ("Audit trail", "audit.index", "shield-check", ("admin",)),
    ("Notifications", "notifications.index", "bell", ("admin", "staff", "instructor", "student")),
)


def nav_for(role: str | None, registered: Mapping[str, object]) -> list[dict]:
    if role is None:
        return []
    return [
        {"label": label, "endpoint": endpoint, "icon": icon}
        for label, endpoint, icon, roles in NAV
        if role in roles and endpoint in registered
    ]
