"""Direct e-mail for one-time links (account activation), with a JSON-lines record in logs/outbound.log.

Reminders and broadcasts go through the dispatcher (services/reminders.py and services/outbound.py);
this is the synchronous path for a message the page needs an answer about at once (the office sees
the activation link itself when it could not be e-mailed). The SMTP transport is outbound.smtp_send.

When MAIL_ENABLED is off (always in staging) or no MAIL_SERVER is set, nothing is
sent and the attempt is logged as skipped. Header values are stripped of CR/LF.
"""
from __future__ import annotations

import json
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from app.services import outbound

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    sent: bool
    status: str  # sent | skipped | failed
    reason: str = ""


def _clean(value: str) -> str:
    return " ".join(str(value).replace("\r", " ").replace("\n", " ").split())


def _record(settings: Mapping[str, Any], entry: dict) -> None:
    path = Path(settings["LOG_DIR"]) / "outbound.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"[{stamp}] {json.dumps(entry, ensure_ascii=False)}\n")


def mail_configured(settings: Mapping[str, Any]) -> bool:
    return bool(settings.get("MAIL_ENABLED")) and bool(settings.get("MAIL_SERVER"))


def send_email(settings: Mapping[str, Any], to: str, subject: str, body: str) -> Delivery:
    to, subject = _clean(to), _clean(subject)
    entry = {"channel": "email", "to": to, "subject": subject}
    if not mail_configured(settings):
        delivery = Delivery(False, "skipped", "mail disabled" if not settings.get("MAIL_ENABLED") else "no MAIL_SERVER")
    elif "@" not in to:
        delivery = Delivery(False, "skipped", "invalid_email")
    else:
        try:
            outbound.smtp_send(settings, to, subject, body)
            delivery = Delivery(True, "sent")
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("e-mail to %s failed: %s", to, exc)
            delivery = Delivery(False, "failed", type(exc).__name__)
    _record(settings, {**entry, "status": delivery.status, "reason": delivery.reason})
    return delivery
