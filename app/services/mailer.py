"""Direct e-mail for one-time links (account activation), with a JSON-lines record in logs/outbound.log.

Reminders and broadcasts go through the dispatcher (services/reminders.py and services/outbound.py);
this is the synchronous path for a message the page needs an answer about at once (the office sees
the activation link itself when it could not be e-mailed). The SMTP transport is outbound.smtp_send.

When MAIL_ENABLED is off (always in staging) or no MAIL_SERVER is set, nothing is
sent and the attempt is logged as skipped. Header values are stripped of CR/LF.
"""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from typing import Any, Mapping

from app.services import outbound

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    sent: bool
    status: str  # sent | skipped | failed
    reason: str = ""


def mail_configured(settings: Mapping[str, Any]) -> bool:
    return bool(settings.get("MAIL_ENABLED")) and bool(settings.get("MAIL_SERVER"))


def send_email(settings: Mapping[str, Any], to: str, subject: str, body: str) -> Delivery:
    to, subject = outbound.clean_header(to), outbound.clean_header(subject)
    entry = {"channel": "email", "to": to, "subject": subject}
    if not mail_configured(settings):
        delivery = Delivery(False, "skipped", "mail disabled" if not settings.get("MAIL_ENABLED") else "no MAIL_SERVER")
    elif not outbound.valid_email(to):
        delivery = Delivery(False, "skipped", "invalid_email")
    else:
        try:
            outbound.smtp_send(settings, to, subject, body)
            delivery = Delivery(True, "sent")
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("e-mail to %s failed: %s", to, exc)
            delivery = Delivery(False, "failed", type(exc).__name__)
    outbound.append_log(settings, {**entry, "status": delivery.status, "reason": delivery.reason})
    return delivery
