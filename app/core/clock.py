"""The one source of "now".

Timestamps are stored as naive UTC ``YYYY-MM-DD HH:MM:SS``. Business dates
("today", due dates, reminder send_on) are computed in APP_TIMEZONE.
Tests freeze time with :func:`set_frozen` (the ``frozen`` fixture in tests/conftest.py).
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

_frozen: datetime | None = None
_zone = ZoneInfo("Australia/Melbourne")


def set_timezone(name: str) -> None:
    global _zone
    _zone = ZoneInfo(name)


def timezone_name() -> str:
    return str(_zone)


def now() -> datetime:
    """Current instant as naive UTC (the storage convention), second precision."""
    current = _frozen if _frozen is not None else datetime.now(timezone.utc).replace(tzinfo=None)
    return current.replace(microsecond=0)


def local_now() -> datetime:
    """Current wall-clock time in APP_TIMEZONE (aware)."""
    return now().replace(tzinfo=timezone.utc).astimezone(_zone)


def today() -> date:
    """Today's date in APP_TIMEZONE."""
    return local_now().date()


def to_local(value: datetime) -> datetime:
    """Convert a stored naive-UTC datetime to APP_TIMEZONE for display."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(_zone)


def set_frozen(at: datetime | None) -> None:
    global _frozen
    _frozen = at
