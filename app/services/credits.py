"""Package credits at booking time: the hook finance fills in (issue 9: lesson packages as a credit
ledger). A student's self-service booking asks ``booking_reasons`` for the reasons it may not book
(for example "No lesson credits left: buy a package or call the office"); the office's own bookings
don't ask. Until the credit ledger exists no school has packages to run out of, so it has none.
"""
from __future__ import annotations

from app.core.database import Database
from app.services.conflicts import Conflict


def booking_reasons(db: Database, student_id: int, plan: object) -> list[Conflict]:
    """Reasons (blocks) the student's remaining credits refuse this booking; none before finance."""
    return []
