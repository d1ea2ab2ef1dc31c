"""Time windows (instructor unavailability, vehicle downtime): one set of rules."""
from __future__ import annotations

from datetime import datetime

from app.core.errors import ValidationFailed
from app.core.params import MAX_DATE, MIN_DATE


def checked_window(start: datetime | None, end: datetime | None, reason: str | None) -> str | None:
    """Validate a window and return its cleaned reason: both ends given, end after start, reason <= 160."""
    if start is None or end is None:
        missing = "start_datetime" if start is None else "end_datetime"
        raise ValidationFailed("Enter the start and the end.", field=missing)
    for name, value in (("start_datetime", start), ("end_datetime", end)):
        if not MIN_DATE <= value.date() <= MAX_DATE:
            raise ValidationFailed("Enter a date between 1900 and 2100.", field=name)
    if end <= start:
        raise ValidationFailed("The end must be after the start.", field="end_datetime")
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > 160:
        raise ValidationFailed("At most 160 characters.", field="reason")
    return reason
