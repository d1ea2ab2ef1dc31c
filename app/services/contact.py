"""Consent: which channels each account allows for reminders and broadcasts (issue 10, item 6).

Everyone opts out per channel (e-mail, SMS, in-app) on their own profile page. The dispatcher
(services/reminders.py) honours it for reminders and broadcasts; transactional messages (a lesson
moved, an invoice issued) are labelled as such and still reach the person in-app when every other
channel is off. No row in contact_preferences means every channel is allowed.
"""
from __future__ import annotations

from datetime import datetime

from app.core.database import Database
from app.core.errors import NotFound
from app.dao.contact_preference import ContactPreferenceDAO
from app.services import audit
from app.services.scope import Actor

CHANNELS = ("email", "sms", "in_app")
LABELS = {"email": "E-mail", "sms": "SMS", "in_app": "In-app"}


def from_row(row: dict | None) -> dict:
    """{email, sms, in_app}: True where the channel is allowed, from a contact_preferences row (or None)."""
    if row is None:
        return {c: True for c in CHANNELS}
    return {"email": not row["email_opt_out"], "sms": not row["sms_opt_out"], "in_app": not row["in_app_opt_out"]}


def preferences(db: Database, user_id: int) -> dict:
    """The channels the account allows: {"email": bool, "sms": bool, "in_app": bool} (True = allowed)."""
    return from_row(ContactPreferenceDAO(db).opt_outs(user_id))


def set_preferences(db: Database, actor: Actor, *, email: bool, sms: bool, in_app: bool, now: datetime) -> dict:
    """Save the actor's own choices (audited ``contact_preferences_changed``); returns the new preferences."""
    if not actor.user_id:
        raise NotFound("Not found")
    wanted = {"email": bool(email), "sms": bool(sms), "in_app": bool(in_app)}
    dao = ContactPreferenceDAO(db)
    with db.transaction():
        before = from_row(dao.opt_outs(actor.user_id))
        dao.save(actor.user_id, email_opt_out=not wanted["email"], sms_opt_out=not wanted["sms"],
                 in_app_opt_out=not wanted["in_app"], now=now)
        if before != wanted:
            audit.record(db, actor, "contact_preferences_changed", "user", actor.user_id, now=now,
                         before=before, after=wanted,
                         details="allowed: " + (", ".join(LABELS[c] for c in CHANNELS if wanted[c]) or "none"))
    return wanted
