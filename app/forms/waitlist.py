"""The waitlist forms (blueprints/waitlist.py) and the notifications inbox's "mark as read" form
(blueprints/notifications.py): field holders for CSRF and the typed values. Every value goes as typed to
services/waitlist.py or services/notifications.py, which validate it and name the field that is wrong."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectMultipleField, StringField

from app.services.waitlist import WEEKDAY_NAMES


class PreferencesForm(FlaskForm):
    active = BooleanField("Offer me earlier slots")
    weekdays = SelectMultipleField("Days I can take a lesson", choices=[(str(i), n) for i, n in enumerate(WEEKDAY_NAMES)],
                                   validate_choice=False, default=[])
    earliest_time = StringField("Earliest start", render_kw={"type": "time", "step": "900"})
    latest_time = StringField("Latest finish", render_kw={"type": "time", "step": "900"})

    def values(self) -> dict:
        return {"active": bool(self.active.data), "weekdays": list(self.weekdays.data or []),
                "earliest_time": self.earliest_time.data, "latest_time": self.latest_time.data}


class AcceptForm(FlaskForm):
    """Accepting an offer: only the CSRF token."""


class ReadForm(FlaskForm):
    """Mark one notification read (``notification_id``) or, without it, all of them; ``page`` is the inbox
    page to return to."""

    notification_id = HiddenField()
    page = HiddenField()
