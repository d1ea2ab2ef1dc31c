"""OutboundMessageService (the runbook's name): how an e-mail or an SMS leaves the building (issue 10).

The backend of each channel comes from configuration (app/config.py, docs/reminders.md):

- ``log`` (the default for both): one JSON line per message in ``logs/outbound.log``, as the original
  did; counts as sent, so development and demos work without any server;
- ``smtp`` (e-mail): the standard library's smtplib with STARTTLS (MAIL_USE_TLS, verified against
  MAIL_CA_FILE or the system's trust store) and authentication (MAIL_USERNAME/MAIL_PASSWORD);
- ``sms-http`` (SMS): a generic HTTP gateway: a POST of SMS_HTTP_PAYLOAD (JSON, its "{to}",
  "{message}", "{sender}" and "{key}" placeholders replaced as JSON strings) to SMS_HTTP_URL, with
  ``Authorization: Bearer SMS_HTTP_TOKEN``, an ``Idempotency-Key`` header (a gateway that honours it
  never sends one message twice) and SMS_HTTP_TIMEOUT; a 2xx answer with a JSON object is sent (its
  ``id`` or ``message_id`` is kept as the provider's message id), anything else is failed with the
  reason;
- ``disabled``: nothing leaves (staging forces it); the attempt fails with that reason, so the
  dispatcher falls back to the next channel instead of pretending the message went.

Every answer is an :class:`Outcome`: sent, or failed with a reason and whether trying again could
help (``permanent``: an invalid address, a refused recipient, a disabled channel, a 4xx from the
gateway; transient: a timeout, a refused connection, a 5xx). Nothing here touches the database; the
dispatcher (services/reminders.py) records each attempt in the delivery log.
"""
from __future__ import annotations

import json
import os
import re
import smtplib
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any, Mapping

EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
E164_RE = re.compile(r"^\+[1-9][0-9]{7,14}$")
PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")
SMS_MAX = 1600  # ten concatenated segments; longer texts are cut with an ellipsis
ERROR_MAX = 255


@dataclass(frozen=True)
class Outcome:
    sent: bool
    backend: str
    address: str | None = None
    provider_message_id: str | None = None
    error: str = ""
    permanent: bool = False

    @property
    def state(self) -> str:
        return "sent" if self.sent else "failed"


def clean_header(value: str) -> str:
    """A header value on one line (CR/LF and runs of spaces become one space: no header injection)."""
    return " ".join(str(value).replace("\r", " ").replace("\n", " ").split())


def valid_email(address: str | None) -> bool:
    return bool(address) and len(address) <= 160 and EMAIL_RE.match(address) is not None


def normalise_phone(raw: str | None, country_code: str = "61") -> str | None:
    """The number in E.164 (``+61400111222``), or None when it is not a phone number. Spaces, dots,
    dashes and brackets are ignored; a national number (leading 0) gets ``country_code``."""
    if not raw:
        return None
    text = re.sub(r"[\s().-]", "", str(raw))
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text.startswith("0") and country_code.isdigit():
        text = f"+{country_code}{text[1:]}"
    return text if E164_RE.match(text) else None


def _short(exc: BaseException | str) -> str:
    text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}".rstrip(": ")
    return " ".join(str(text).split())[:ERROR_MAX]


def append_log(settings: Mapping[str, Any], entry: Mapping[str, Any]) -> None:
    """One JSON line in LOG_DIR/outbound.log (a single write in append mode, so concurrent writers
    never interleave within a line)."""
    path = Path(settings["LOG_DIR"]) / "outbound.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    line = f"[{stamp}] {json.dumps(dict(entry), ensure_ascii=False, default=str)}\n".encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def smtp_send(settings: Mapping[str, Any], to: str, subject: str, body: str, *,
              message_id: str | None = None) -> str:
    """Hand one message to MAIL_SERVER (STARTTLS and login when configured); returns its Message-ID.
    Raises smtplib.SMTPException or OSError (a timeout is socket.timeout, an OSError)."""
    message = EmailMessage()
    message["From"] = clean_header(settings["MAIL_FROM"])
    message["To"] = clean_header(to)
    message["Subject"] = clean_header(subject)
    message["Message-ID"] = message_id or make_msgid(domain=str(settings["MAIL_FROM"]).rpartition("@")[2] or None)
    message.set_content(body)
    timeout = float(settings.get("MAIL_TIMEOUT") or 10)
    with smtplib.SMTP(settings["MAIL_SERVER"], int(settings["MAIL_PORT"]), timeout=timeout) as smtp:
        if settings.get("MAIL_USE_TLS"):
            context = ssl.create_default_context(cafile=settings.get("MAIL_CA_FILE") or None)
            smtp.starttls(context=context)
        if settings.get("MAIL_USERNAME"):
            smtp.login(settings["MAIL_USERNAME"], settings["MAIL_PASSWORD"])
        smtp.send_message(message)
    return str(message["Message-ID"])


def _fill(template: Any, values: Mapping[str, str]) -> Any:
    """Replace "{name}" placeholders inside the strings of a parsed JSON template (values stay strings
    and are encoded by json.dumps afterwards, so nothing can break out of its field). One pass: a "{key}"
    typed inside the message stays as typed."""
    if isinstance(template, str):
        return PLACEHOLDER_RE.sub(lambda m: values[m.group(1)] if m.group(1) in values else m.group(0), template)
    if isinstance(template, list):
        return [_fill(item, values) for item in template]
    if isinstance(template, dict):
        return {key: _fill(item, values) for key, item in template.items()}
    return template


class OutboundMessageService:
    """Sends one e-mail or SMS through the configured backend; see the module docstring."""

    def __init__(self, settings: Mapping[str, Any]):
        self.settings = settings

    # -- which backend --------------------------------------------------------------------------
    @property
    def email_backend(self) -> str:
        if not self.settings.get("MAIL_ENABLED", True):
            return "disabled"
        return str(self.settings.get("EMAIL_BACKEND") or "log")

    @property
    def sms_backend(self) -> str:
        if not self.settings.get("SMS_ENABLED", True):
            return "disabled"
        return str(self.settings.get("SMS_BACKEND") or "log")

    def backend_for(self, channel: str) -> str:
        return self.email_backend if channel == "email" else self.sms_backend

    # -- addresses ------------------------------------------------------------------------------
    def email_address(self, raw: str | None) -> str | None:
        address = (raw or "").strip()
        return address if valid_email(address) else None

    def phone_number(self, raw: str | None) -> str | None:
        return normalise_phone(raw, str(self.settings.get("SMS_COUNTRY_CODE") or "61"))

    # -- sending --------------------------------------------------------------------------------
    def send_email(self, to: str | None, subject: str, body: str, *, key: str) -> Outcome:
        backend = self.email_backend
        address = self.email_address(to)
        if address is None:
            return Outcome(False, "validation", to, error="invalid e-mail address" if to else "no e-mail address",
                           permanent=True)
        if backend == "disabled":
            return Outcome(False, backend, address, error="e-mail sending is disabled", permanent=True)
        if backend == "log":
            append_log(self.settings, {"channel": "email", "to": address, "subject": clean_header(subject),
                                       "message": body, "key": key})
            return Outcome(True, backend, address, provider_message_id=f"log:{key}")
        if not self.settings.get("MAIL_SERVER"):
            return Outcome(False, backend, address, error="no MAIL_SERVER configured", permanent=True)
        try:
            message_id = smtp_send(self.settings, address, subject, body)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _msg in exc.recipients.values()]
            return Outcome(False, backend, address, error=_short(f"recipient refused ({', '.join(map(str, codes))})"),
                           permanent=all(int(c) >= 500 for c in codes))
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            return Outcome(False, backend, address, error=_short(f"SMTP {exc.smtp_code}: {text}"),
                           permanent=exc.smtp_code >= 500 and exc.smtp_code not in (530, 535, 554))
        except (smtplib.SMTPException, OSError) as exc:  # timeouts, refused connections, TLS errors
            return Outcome(False, backend, address, error=_short(exc))
        return Outcome(True, backend, address, provider_message_id=message_id)

    def send_sms(self, to: str | None, body: str, *, key: str) -> Outcome:
        backend = self.sms_backend
        number = self.phone_number(to)
        if number is None:
            return Outcome(False, "validation", to, error="invalid phone number" if to else "no phone number",
                           permanent=True)
        text = body if len(body) <= SMS_MAX else body[:SMS_MAX - 1] + "…"
        if backend == "disabled":
            return Outcome(False, backend, number, error="SMS sending is disabled", permanent=True)
        if backend == "log":
            append_log(self.settings, {"channel": "sms", "to": number, "message": text, "key": key})
            return Outcome(True, backend, number, provider_message_id=f"log:{key}")
        return self._http_sms(number, text, key)

    def _http_sms(self, number: str, text: str, key: str) -> Outcome:
        backend = "sms-http"
        settings = self.settings
        try:
            template = json.loads(settings.get("SMS_HTTP_PAYLOAD") or "{}")
        except ValueError:
            return Outcome(False, backend, number, error="SMS_HTTP_PAYLOAD is not valid JSON", permanent=True)
        payload = _fill(template, {"to": number, "message": text, "sender": str(settings.get("SMS_SENDER") or ""),
                                   "key": key})
        request = urllib.request.Request(
            str(settings["SMS_HTTP_URL"]), data=json.dumps(payload).encode("utf-8"), method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json", "Idempotency-Key": key,
                     **({"Authorization": f"Bearer {settings['SMS_HTTP_TOKEN']}"} if settings.get("SMS_HTTP_TOKEN") else {})})
        timeout = float(settings.get("SMS_HTTP_TIMEOUT") or 10)
        deadline = time.monotonic() + timeout  # the socket timeout is per read: a trickling answer needs this too
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - URL from configuration  # nosec B310 # SMS_HTTP_URL comes from the settings, which refuse any scheme but http(s) (app/config.py)
                status = response.status
                raw = b""
                while len(raw) < 65536:
                    if time.monotonic() > deadline:
                        raise TimeoutError("the gateway's answer took longer than the timeout")
                    chunk = response.read1(65536 - len(raw))
                    if not chunk:
                        break
                    raw += chunk
        except urllib.error.HTTPError as exc:
            permanent = 400 <= exc.code < 500 and exc.code not in (408, 425, 429)
            return Outcome(False, backend, number, error=f"gateway answered HTTP {exc.code}", permanent=permanent)
        except (socket.timeout, TimeoutError):
            return Outcome(False, backend, number, error=f"gateway timed out after {timeout:g} s")
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, (socket.timeout, TimeoutError)):
                return Outcome(False, backend, number, error=f"gateway timed out after {timeout:g} s")
            return Outcome(False, backend, number, error=_short(f"gateway unreachable: {reason}"))
        try:
            answer = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            answer = None
        if not isinstance(answer, dict):
            return Outcome(False, backend, number, error=f"gateway answered HTTP {status} with something that is not"
                                                         " a JSON object")
        if answer.get("error") or str(answer.get("status", "")).lower() in ("error", "failed", "rejected"):
            return Outcome(False, backend, number, error=_short(f"gateway refused: {answer.get('error') or answer.get('status')}"),
                           permanent=True)
        message_id = answer.get("id") or answer.get("message_id") or answer.get("messageId")
        return Outcome(True, backend, number, provider_message_id=str(message_id)[:160] if message_id else None)
