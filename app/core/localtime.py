"""Wall-clock times in a branch's IANA time zone (no Flask, no SQL).

Lesson dates and times, unavailability windows and working hours are stored as wall-clock values in
the branch's zone (``branches.timezone``; NULL means APP_TIMEZONE). This module turns such a value into
an instant, following two rules (docs/architecture.md, "Scheduling"):

- **A local time that does not exist is refused.** In the spring-forward gap (Australia/Melbourne,
  4 Oct 2026: 02:00 jumps to 03:00) a time such as 02:30 names no instant; :func:`localize` raises
  ``ValidationFailed`` naming the field. The gap is detected by round-tripping through UTC: a real
  local time comes back unchanged, a gap time comes back shifted.
- **A local time that occurs twice resolves to its first occurrence** (``fold=0``). In the fall-back
  repeat (Australia/Melbourne, 5 Apr 2026: 03:00 goes back to 02:00) 02:30 happens at +11:00 and again
  at +10:00; the booking means the first, still-daylight-saving one (02:30+11:00 = 15:30 UTC).

Storage convention for instants: naive UTC (:func:`to_utc_naive`), like every other timestamp.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from app.core.errors import ValidationFailed


def _load(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, LookupError):  # bad key, path-like or directory name, unknown zone
        return None


def is_zone_name(name: str | None) -> bool:
    """True when ``name`` is a loadable IANA zone (for validating a branch's time zone on input)."""
    return bool(name and name.strip() == name and _load(name) is not None)


def zone_for(name: str | None, default: str) -> ZoneInfo:
    """The zone called ``name``; ``default`` (APP_TIMEZONE) when ``name`` is empty or unknown.

    Never raises for a bad stored value: a branch row with a misspelt zone still gets a calendar
    (in the default zone) rather than a 500. ``default`` comes from configuration and must be valid.
    """
    if name:
        zone = _load(name.strip())
        if zone is not None:
            return zone
    return ZoneInfo(default)


def _format_day(day: date) -> str:
    return f"{day.day} {day.strftime('%b %Y')}"


def localize(day: date, moment: time, zone: ZoneInfo, field: str = "start_time") -> datetime:
    """The aware instant of wall-clock ``day`` + ``moment`` in ``zone``.

    Raises ``ValidationFailed`` (on ``field``) when the time falls in a spring-forward gap; a time that
    occurs twice (fall-back) resolves to the first occurrence (``fold=0``).
    """
    naive = datetime.combine(day, moment.replace(tzinfo=None, fold=0))
    aware = naive.replace(tzinfo=zone, fold=0)
    round_trip = aware.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:
        raise ValidationFailed(
            f"{moment.strftime('%H:%M')} does not exist on {_format_day(day)} in {zone.key}: "
            "clocks go forward",
            field=field,
        )
    return aware


def span(day: date, start: time, end: time, zone: ZoneInfo,
         fields: tuple[str, str] = ("start_time", "end_time")) -> tuple[datetime, datetime]:
    """Aware start and end of a same-day event (each checked against the gap, naming its field).

    Beware: Python subtracts two datetimes sharing a tzinfo as wall-clock values; use
    :func:`duration` for the real length (a lesson across a clock change lasts an hour more or less
    than its wall-clock times suggest)."""
    return localize(day, start, zone, fields[0]), localize(day, end, zone, fields[1])


def duration(start: datetime, end: datetime) -> timedelta:
    """Real elapsed time between two aware instants (computed in UTC)."""
    return to_utc_naive(end) - to_utc_naive(start)


def to_utc_naive(aware: datetime) -> datetime:
    """An aware datetime as naive UTC, the storage convention. A naive value is refused (it would be
    silently taken as local or UTC, the bug this module exists to prevent)."""
    if aware.tzinfo is None or aware.utcoffset() is None:
        raise ValueError("to_utc_naive needs an aware datetime")
    return aware.astimezone(timezone.utc).replace(tzinfo=None)


def from_utc_naive(value: datetime, zone: ZoneInfo) -> datetime:
    """A stored naive-UTC instant as an aware wall-clock time in ``zone``."""
    return value.replace(tzinfo=timezone.utc).astimezone(zone)


def utc_offset(day: date, moment: time, zone: ZoneInfo) -> timedelta:
    """The zone's UTC offset at that wall-clock time (first occurrence; gap times refused)."""
    offset = localize(day, moment, zone).utcoffset()
    assert offset is not None
    return offset


def iso_with_offset(day: date, moment: time, zone: ZoneInfo, field: str = "start_time") -> str:
    """ISO 8601 with the zone's offset, seconds included: ``2026-10-05T09:00:00+11:00``. On a day whose
    offset does not change (every day but the two clock changes) the text is put together from the day's
    offset, worked out once per zone and day: a calendar feed of 2,000 events no longer localises each
    time twice (the result is the same, tests/localtime_test.py)."""
    steady = _steady_offset(day, zone)
    if steady is not None:
        return f"{day.isoformat()}T{moment.replace(microsecond=0, tzinfo=None, fold=0).isoformat()}{steady}"
    return localize(day, moment.replace(microsecond=0), zone, field).isoformat()


_STEADY: dict[tuple[ZoneInfo, date], str] = {}
_STEADY_MAX = 20_000  # zones x days kept at most (then started again)


def _steady_offset(day: date, zone: ZoneInfo) -> str | None:
    """The zone's offset on ``day`` as ISO text ("+11:00") when the same from its midnight to the next
    (no clock change that day), else None."""
    key = (zone, day)
    found = _STEADY.get(key)
    if found is not None:
        return found or None
    try:
        first = datetime.combine(day, time(0, 0)).replace(tzinfo=zone).utcoffset()
        after = datetime.combine(day + timedelta(days=1), time(0, 0)).replace(tzinfo=zone).utcoffset()
    except OverflowError:  # the last representable day: the slow way
        return None
    text = ""
    if first is not None and first == after:
        minutes = int(first.total_seconds()) // 60
        sign = "+" if minutes >= 0 else "-"
        text = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        if first.total_seconds() % 60:
            text = ""  # a seconds offset (historic zones only): the slow way
    if len(_STEADY) >= _STEADY_MAX:
        _STEADY.clear()
    _STEADY[key] = text
    return text or None


def steady_day(day: date, zone: ZoneInfo) -> bool:
    """Whether ``zone`` keeps one offset through ``day`` (no clock change: every wall-clock time of the
    day exists exactly once). Kept per zone and day, like the offsets iso_with_offset writes."""
    return _steady_offset(day, zone) is not None


def as_time(value: object, default: time | None = None) -> time | None:
    """A TIME column's value as a ``time`` whichever way the driver handed it back: ``time`` (SQLite's
    converter), ``timedelta`` (PyMySQL), text (SQLite returns an aggregate such as MIN(start_time) as
    "08:00:00"); ``default`` for anything else."""
    if isinstance(value, time):
        return value
    if isinstance(value, timedelta):
        return (datetime.min + value).time()
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip()[:8])
        except ValueError:
            return default
    return default

