"""Package credits at booking time: the hook finance fills in (issue 9: lesson packages as a credit
ledger). A student's self-service booking asks ``booking_reasons`` for the reasons it may not book
(a block: "You have 2 lessons left in your package and 2 already booked: buy more or call the office");
the office's bookings (scheduling.book, the conflicts preview) get the same situation as a warning from
``office_reasons``. The rules are services/packages.py's (docs/packages.md).
"""
from __future__ import annotations

from datetime import datetime

from app.core.database import Database
from app.services.conflicts import Conflict


def booking_reasons(db: Database, student_id: int, plan: object) -> list[Conflict]:
    """Reasons (blocks) the student's remaining credits refuse this booking: services/packages.py (an
    enrolment with no package ledger rows is not on a package and is never refused)."""
    from app.services import packages
    return packages.booking_reasons(db, student_id, plan)


def office_reasons(db: Database, plan: object, now: datetime | None = None) -> list[Conflict]:
    """The office's WARNING for the same situation (scheduling.book and the conflicts preview): the
    lesson would not be covered by the package; booking anyway records it as owed when it is used."""
    from app.services import packages
    return packages.office_reasons(db, plan, now)
