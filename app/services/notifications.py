"""The in-app notifications inbox: every user's own notifications (no Flask here).

Anyone signed in has an inbox (``/notifications/``): their own notifications, newest first, paginated,
unread ones marked, "mark as read" one at a time or all at once. A notification is always someone's:
an id that is not the actor's answers 404 exactly like an id that does not exist. Other modules write
notifications with :func:`notify` (the waitlist's gap offers, later reminders and communications).
Reading is not audited (it changes nothing but the reader's own unread marker).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from app.core.database import Database
from app.core.errors import NotFound, ValidationFailed
from app.core.pagination import ListQuery, Page
from app.core.params import parse_id
from app.dao.notification import NotificationDAO
from app.services.scope import Actor

LEVELS = ("info", "success", "warning", "danger")
TITLE_MAX = 160
MESSAGE_MAX = 2000
SORT_KEYS = ("newest",)
DEFAULT_SORT = "newest"
FILTERS = {"show": ("unread",)}  # ?show=unread: only the unread ones


RELATED_TYPES = ("schedule", "invoice", "enrollment_request", "communication", "gap_offer", "proposal", "instructor")
KINDS = ("reminder", "transactional", "broadcast")


def notify(db: Database, user_id: int, title: str, message: str, level: str = "info", *, now: datetime,
           related_type: str | None = None, related_id: int | None = None, kind: str | None = None) -> int:
    """Write one unread notification for the account ``user_id``; returns its id. Runs inside the
    caller's transaction when there is one (the waitlist's offers are written with the cancellation).
    ``related_type``/``related_id`` name the record it is about (the inbox links to it); ``kind``
    "transactional" labels a message that goes whatever the person's contact preferences."""
    if related_type is not None and related_type not in RELATED_TYPES:
        raise ValidationFailed(f"related_type must be one of {', '.join(RELATED_TYPES)}", field="related_type")
    if kind is not None and kind not in KINDS:
        raise ValidationFailed(f"kind must be one of {', '.join(KINDS)}", field="kind")
    if level not in LEVELS:
        raise ValidationFailed(f"The level must be one of {', '.join(LEVELS)}.", field="level")
    title = (title or "").strip()
    if not title or len(title) > TITLE_MAX:
        raise ValidationFailed(f"A title of 1 to {TITLE_MAX} characters is needed.", field="title")
    message = (message or "").strip()
    if not message or len(message) > MESSAGE_MAX:
        raise ValidationFailed(f"A message of 1 to {MESSAGE_MAX} characters is needed.", field="message")
    return NotificationDAO(db).insert(user_id, title, message, now, level=level, related_type=related_type,
                                      related_id=related_id if related_type else None, kind=kind)


def inbox(db: Database, actor: Actor, query: ListQuery) -> Page:
    """The actor's own notifications, newest first (``show=unread``: only the unread ones)."""
    return NotificationDAO(db).page_for_user(actor.user_id, query, unread_only=query.filter("show") == "unread")


def unread_count(db: Database, actor: Actor | None) -> int:
    """How many of the actor's notifications are unread (0 for nobody)."""
    if actor is None or not actor.user_id:
        return 0
    return NotificationDAO(db).unread_count(actor.user_id)


def mark_read(db: Database, actor: Actor, notification_id: Any) -> bool:
    """Mark one of the actor's notifications read; True when it was unread. Someone else's id, a
    missing one or a malformed one is NotFound (404); an already read one is left as it is."""
    wanted = parse_id(notification_id) if isinstance(notification_id, (int, str)) else None
    if wanted is None:
        raise NotFound("Not found")
    dao = NotificationDAO(db)
    if dao.owner(wanted) != actor.user_id or not actor.user_id:
        raise NotFound("Not found")
    return dao.mark_read(actor.user_id, wanted) > 0


def mark_all_read(db: Database, actor: Actor) -> int:
    """Mark every notification of the actor read; returns how many were unread."""
    return NotificationDAO(db).mark_all_read(actor.user_id)


def badge(db: Database, actor: Actor | None, now: datetime, settings: Any = None):
    """The navigation badge (app/core/navigation.py BADGES): the unread count, or None at 0."""
    n = unread_count(db, actor)
    if not n:
        return None
    return n, f"{n} unread notification{'s' if n != 1 else ''}"
