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
    ("Book a lesson", "portal.book", "calendar-plus", ("student",)),
    ("My lessons", "portal.lessons", "calendar3", ("student",)),
    ("Proposed times", "proposals.index", "arrow-left-right", ("student",)),
    ("Earlier slots", "waitlist.offers", "hourglass-split", ("student",)),
    ("Lesson outcomes", "outcomes.awaiting", "clipboard-check", ("admin", "staff", "instructor")),
    ("Conflicts", "disruptions.index", "exclamation-triangle", ("admin", "staff")),
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
    ("Your data", "privacy.my_data", "shield-lock", ("student",)),
    ("Notifications", "notifications.index", "bell", ("admin", "staff", "instructor", "student")),
)


# Count badges: endpoint -> "module:function". The function is called as f(db, actor, now, settings)
# only when its entry is shown, and returns (count, accessible label) or None; a count of 0 shows no
# badge. A new badge is one line here (e.g. "notifications.index": "app.services.notifications:badge").
BADGES: dict[str, str] = {
    "disruptions.index": "app.services.disruptions:badge",
    "proposals.index": "app.services.proposals:badge",
    "waitlist.offers": "app.services.waitlist:badge",
    "notifications.index": "app.services.notifications:badge",
    "enrollmentrequests.index": "app.services.enrollment_requests:badge",
}
# Badges the same for every account of one scope (role, branch, instructor) and costly at a chain's size
# (the broken lessons of the coming fortnight: 40 ms at scale L; a branch's pending enrolment requests:
# 65 ms with 10,000 pending): kept NAV_BADGE_CACHE_SECONDS per worker process. Their own page, and any
# change made through this worker, count afresh.
CACHED_BADGES = frozenset({"app.services.disruptions:badge", "app.services.enrollment_requests:badge"})


def known_badge(endpoint: str, value: tuple[str, str] | None) -> None:
    """A page that has just counted its own badge's figure (the conflicts panel's fortnight) hands it to
    the navigation, which then shows it (and keeps it for the cache) instead of counting again."""
    from flask import g

    g.setdefault("known_badges", {})[BADGES[endpoint]] = value


def nav_for(role: str | None, registered: Mapping[str, object], current: str | None = None) -> list[dict]:
    """The entries ``role`` sees, each ``active`` when it is the current page: the entry whose endpoint
    it is, else the first entry of the same blueprint (one entry is marked, never two)."""
    if role is None:
        return []
    items = [
        {"label": label, "endpoint": endpoint, "icon": icon, "badge": BADGES.get(endpoint), "active": False}
        for label, endpoint, icon, roles in NAV
        if role in roles and endpoint in registered
    ]
    if current:
        exact = [i for i in items if i["endpoint"] == current]
        same = [i for i in items if i["endpoint"].split(".")[0] == current.split(".")[0]]
        for item in (exact or same)[:1]:
            item["active"] = True
    return items
