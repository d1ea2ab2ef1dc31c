"""BaseDAO: holds a Database and small mapping helpers. No SQL of its own."""
from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.core.database import Database

CENT = Decimal("0.01")


def money(value: Any) -> Decimal:
    """Normalise a money value from either driver (SQLite may hand back float/int) to 2 dp."""
    if value is None:
        return Decimal("0.00")
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class BaseDAO:
    def __init__(self, db: Database):
        self.db = db


def as_datetime(value: Any):
    """Aggregates (MAX, MIN) lose SQLite's declared type; parse text back to datetime."""
    if value is None or isinstance(value, datetime):
        return value
    from app.core.database import _parse_datetime

    return _parse_datetime(str(value))


def as_date(value: Any):
    if value is None or isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(str(value)[:10])
