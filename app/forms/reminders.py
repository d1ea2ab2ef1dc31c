"""Forms of the reminder pages and of the contact preferences on the profile page (issue 10).

Field shapes only: the rules live in services.reminder_queue and services.contact. The queue's retry,
cancel and "run now" buttons carry nothing but the CSRF token (``ReminderActionForm``).
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField


class ReminderActionForm(FlaskForm):
    """Retry, cancel or run one reminder: the CSRF token is the whole form."""


class ContactPreferencesForm(FlaskForm):
    """How the account may be contacted about reminders and broadcasts (ticked = allowed)."""

    email = BooleanField("E-mail")
    sms = BooleanField("SMS")
    in_app = BooleanField("In-app")
