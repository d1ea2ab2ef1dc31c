"""iCalendar feeds per instructor and per student at a secret, revocable URL (issue 8, item 6).

- ``issue``: a new secret for an owner; the previous live token is revoked in the same transaction
  (audited ``calendar_feed_issued``). Only the SHA-256 of the secret is stored; the caller shows the
  secret once (a server-side hand-off, never a flash or cookie).
- ``render``: the feed of a live token as RFC 5545 text, built with the ``icalendar`` library; an
  unknown, malformed or revoked token raises NotFound (404) with no hint that a feed existed.

Event times are TZID-local in the branch's zone (a VTIMEZONE per zone used). ``UID`` is
``schedule-<id>@origin``. ``SEQUENCE`` is the number of seconds between the event's ``created_at`` and
``updated_at``: every change (move, cancel, revive) sets ``updated_at`` to the current time, so the
number only grows, with no schema change. Cancelled events are published as ``STATUS:CANCELLED``.
Privacy: an instructor's feed names the student by first name only, plus the pick-up point.
"""
from __future__ import annotations

import re
import secrets
from datetime import date, datetime, time, timedelta, timezone

import icalendar

from app.core import localtime
from app.core.database import Database
from app.core.errors import NotFound, PermissionDenied
from app.dao.base import as_datetime
from app.dao.feed import OWNER_TYPES, CalendarFeedDAO
from app.services import audit
from app.services.auth import hash_token
from app.services.scope import Actor

DAYS_BACK = 60
DAYS_AHEAD = 180
MAX_EVENTS = 1000
TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters of [A-Za-z0-9_-]; anything else is not a token of ours.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,64}")
PRODID = "-//Origin//Driving school calendar//EN"
NOT_FOUND = "Page not found"
# Which roles may issue a feed for each kind of owner (besides their scope check).
ISSUERS = {"instructor": ("admin", "staff", "instructor"), "student": ("admin", "staff", "student")}


def _owner_in_scope(db: Database, actor: Actor, owner_type: str, owner_id: int, *, lock: bool = False) -> dict:
    """The owner when ``actor`` may issue their feed; 403 for a role that never may, 404 outside scope.
    ``lock`` (inside the issuing transaction) serialises issues for one owner."""
    if owner_type not in OWNER_TYPES:
        raise NotFound("Not found")
    if actor.role not in ISSUERS[owner_type]:
        raise PermissionDenied("You may not manage this calendar feed.")
    owner = CalendarFeedDAO(db).owner(owner_type, owner_id, lock=lock)
    if owner is None or not can_issue(actor, owner_type, owner_id, owner["branch_id"]):
        raise NotFound("Not found")
    return owner


def can_issue(actor: Actor, owner_type: str, owner_id: int, branch_id: int | None) -> bool:
    """Whether ``actor`` may (re)generate this owner's feed (the panel shows the button only then)."""
    if owner_type not in OWNER_TYPES or actor.role not in ISSUERS[owner_type]:
        return False
    if actor.role == "admin":
        return True
    if actor.role == "staff":
        return actor.branch_id is not None and actor.branch_id == branch_id
    return (actor.instructor_id if actor.role == "instructor" else actor.student_id) == owner_id


def panel(db: Database, actor: Actor, owner_type: str, owner_id: int) -> dict | None:
    """The profile panel's state for a viewer who may (re)generate the feed (two queries), else None:
    the owner's first name and ``live`` (``{"created_at": ...}`` of the live feed, or None)."""
    dao = CalendarFeedDAO(db)
    owner = dao.owner(owner_type, owner_id) if owner_type in OWNER_TYPES else None
    if owner is None or not can_issue(actor, owner_type, owner_id, owner["branch_id"]):
        return None
    row = dao.live(owner_type, owner_id)
    return {"first_name": owner["first_name"],
            "live": {"created_at": as_datetime(row["created_at"])} if row else None}


def issue(db: Database, actor: Actor, owner_type: str, owner_id: int, now: datetime) -> str:
    """A new secret for the owner's feed; the previous one stops working. Returns the secret."""
    dao = CalendarFeedDAO(db)
    with db.transaction():
        _owner_in_scope(db, actor, owner_type, owner_id, lock=True)  # two issues at once: one after the other
        revoked = dao.revoke_live(owner_type, owner_id, now)
        secret = secrets.token_urlsafe(TOKEN_BYTES)
        token_id = dao.create(owner_type, owner_id, hash_token(secret), actor.user_id or None, now)
        audit.record(db, actor, "calendar_feed_issued", owner_type, owner_id, now=now,
                     after={"token_id": token_id, "revoked_previous": bool(revoked)})
    return secret


def _sequence(row: dict) -> int:
    created, updated = as_datetime(row["created_at"]), as_datetime(row["updated_at"])
    if not created or not updated:
        return 0
    return max(0, int((updated - created).total_seconds()))


def _summary(owner_type: str, row: dict) -> str:
    kind = (row["event_type"] or "lesson").capitalize()
    if owner_type == "instructor":
        return f"{kind}: {row['student_first_name']}"
    name = f"{row['instructor_first_name']} {row['instructor_last_name']}".strip()
    topic = f" ({row['lesson_topic']})" if row["lesson_topic"] else ""
    return f"{kind} with {name}{topic}"


def render(db: Database, token: str | None, now: datetime, today: date, default_zone: str) -> bytes:
    """The feed of a live token as text/calendar bytes; NotFound for anything else."""
    if not token or not TOKEN_SHAPE.fullmatch(token):
        raise NotFound(NOT_FOUND)
    dao = CalendarFeedDAO(db)
    feed = dao.find_live_by_hash(hash_token(token))
    if feed is None:
        raise NotFound(NOT_FOUND)
    rows = dao.events(feed["owner_type"], feed["owner_id"], today - timedelta(days=DAYS_BACK),
                      today + timedelta(days=DAYS_AHEAD), MAX_EVENTS)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Origin: {feed['first_name']}'s lessons")
    stamp = now.replace(tzinfo=timezone.utc) if now.tzinfo is None else now.astimezone(timezone.utc)
    for row in rows:
        zone = localtime.zone_for(row["branch_timezone"], default_zone)
        day = row["scheduled_date"] if isinstance(row["scheduled_date"], date) else date.fromisoformat(
            str(row["scheduled_date"]))
        start, end = _times(day, row["start_time"], row["end_time"], zone)
        event = icalendar.Event()
        event.add("uid", f"schedule-{row['id']}@origin")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("summary", _summary(feed["owner_type"], row))
        if row["pickup_location"]:
            event.add("location", row["pickup_location"])
        event.add("sequence", _sequence(row))
        event.add("status", "CANCELLED" if row["status"] == "cancelled" else "CONFIRMED")
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def _times(day: date, start, end, zone) -> tuple[datetime, datetime]:
    """Wall-clock start and end in the branch's zone (fold=0: a repeated hour means its first occurrence)."""
    return (datetime.combine(day, _parse_time(start)).replace(tzinfo=zone),
            datetime.combine(day, _parse_time(end)).replace(tzinfo=zone))


def _parse_time(value) -> time:
    if isinstance(value, time):
        return value.replace(tzinfo=None)
    if isinstance(value, timedelta):  # MySQL TIME comes back as a timedelta
        seconds = int(value.total_seconds())
        return time(seconds // 3600, seconds % 3600 // 60, seconds % 60)
    return time.fromisoformat(str(value))
