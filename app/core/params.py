"""The one parser for values that arrive as text from a URL or a form (query strings, path-like ids).

Rules, everywhere: integers are ASCII digits only (``"²"``, ``"٣"`` and ``"1e3"`` are not numbers),
ids lie in 1..MAX_ID (the INT UNSIGNED range: a larger id names no row), other integers in the range
the caller gives, and dates are ISO ``YYYY-MM-DD`` between 1900-01-01 and 2100-12-31. A value that
breaks a rule parses to ``None``; the caller drops it (and says so) or answers 400 naming it.
No Flask here.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

MAX_ID = 2**32 - 1
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2100, 12, 31)
MAX_TEXT = 100

_DIGITS = re.compile(r"[0-9]{1,19}", re.ASCII)
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", re.ASCII)
_SPACES = re.compile(r"[\t\n\r\f\v]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def parse_int(raw: Any, minimum: int, maximum: int) -> int | None:
    """An int written with ASCII digits (optional leading ``-`` when ``minimum`` < 0) within the range."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw if raw is not None else "").strip()
        negative = text.startswith("-") and minimum < 0
        digits = text[1:] if negative else text
        if not _DIGITS.fullmatch(digits):
            return None
        value = -int(digits) if negative else int(digits)
    return value if minimum <= value <= maximum else None


def parse_id(raw: Any) -> int | None:
    """A database id (1..MAX_ID) or None."""
    return parse_int(raw, 1, MAX_ID)


def valid_id(value: Any) -> bool:
    """True for an int that can name a row (callers with an int already, e.g. from a URL converter)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def in_date_range(value: date | None) -> bool:
    return isinstance(value, date) and MIN_DATE <= (value.date() if hasattr(value, "date") else value) <= MAX_DATE


def parse_date(raw: Any) -> date | None:
    """An ISO date (YYYY-MM-DD) between 1900 and 2100, or None."""
    if isinstance(raw, date):
        return raw if in_date_range(raw) else None
    match = _ISO_DATE.fullmatch(str(raw if raw is not None else "").strip())
    if not match:
        return None
    try:
        value = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
    return value if MIN_DATE <= value <= MAX_DATE else None


def clean_text(raw: Any, max_length: int = MAX_TEXT) -> str:
    """Free text from a query string: control and bidi-override characters removed, spaces folded, capped."""
    text = _CONTROL.sub("", _SPACES.sub(" ", str(raw if raw is not None else "")))
    return " ".join(text.split())[:max_length]
