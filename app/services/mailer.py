"""Outbound e-mail over SMTP, with a JSON-lines record of every attempt in logs/outbound.log.

When MAIL_ENABLED is off (always in staging) or no MAIL_SERVER is set, nothing is
sent and the attempt is logged as skipped. Header values are stripped of CR/LF.
"""
from __future__ import annotations

import json
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Mapping

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
        message = EmailMessage()
        message["From"] = _clean(settings["MAIL_FROM"])
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        try:
            with smtplib.SMTP(settings["MAIL_SERVER"], int(settings["MAIL_PORT"]), timeout=10) as smtp:
                if settings.get("MAIL_USE_TLS"):
                    smtp.starttls()
                if settings.get("MAIL_USERNAME"):
                    smtp.login(settings["MAIL_USERNAME"], settings["MAIL_PASSWORD"])
                smtp.send_message(message)
            delivery = Delivery(True, "sent")
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("e-mail to %s failed: %s", to, exc)
            delivery = Delivery(False, "failed", type(exc).__name__)
    _record(settings, {**entry, "status": delivery.status, "reason": delivery.reason})
    return delivery
