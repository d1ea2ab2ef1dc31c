"""Central configuration: defaults -> .env (explicit path) -> environment -> overrides.

This is the only module that reads the process environment. It imports nothing
from Flask so that services, commands and tests can load settings the same way.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Mapping

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parent.parent

PROFILES = ("local", "staging", "production")

# Placeholders that must never reach production.
INSECURE_SECRET_KEYS = {
    "",
    "change-me",
    "changeme",
    "dev",
    "development",
    "secret",
    "dev-insecure-secret-key-change-me",
}

DEFAULTS: dict[str, Any] = {
    "APP_ENV": "local",
    "APP_NAME": "Origin Driving School",
    "APP_TIMEZONE": "Australia/Melbourne",
    "SECRET_KEY": "dev-insecure-secret-key-change-me",
    "DEBUG": False,
    # Empty -> SQLite file under instance/. Or sqlite:///path, mysql://user:pass@host:3306/db
    "DATABASE_URL": "",
    "SQLITE_PATH": str(PROJECT_ROOT / "instance" / "origin.sqlite3"),
    "DB_CONNECT_TIMEOUT": 5,
    "LOG_DIR": str(PROJECT_ROOT / "logs"),
    "LOG_LEVEL": "INFO",
    "UPLOAD_DIR": str(PROJECT_ROOT / "uploads" / "documents"),
    "MAX_UPLOAD_BYTES": 5 * 1024 * 1024,
    "BACKUP_DIR": str(PROJECT_ROOT / "backups"),
    "BACKUP_KEEP": 14,
    # Whole request body cap (upload limit plus room for the other form fields).
    "MAX_CONTENT_LENGTH": 5 * 1024 * 1024 + 64 * 1024,
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_ABSOLUTE_HOURS": 12,
    "SESSION_TOUCH_SECONDS": 60,
    # The navigation's costly badges (navigation.CACHED_BADGES: the broken lessons, the pending enrolment
    # requests) are computed at most once per this many seconds per scope and worker process (0: every page).
    "NAV_BADGE_CACHE_SECONDS": 60,
    # report CSVs kept as files (services/export_cache.py): the same export asked again within this many
    # seconds, with no audited change or summary refresh between, is served from the file; 0: off
    "EXPORT_CACHE_SECONDS": 300,
    "EXPORT_CACHE_DIR": str(PROJECT_ROOT / "instance" / "exports"),
    # the office dashboard's figures (services/figure_cache.py) are kept per worker this many seconds
    # whatever changed, ten times that while nothing did; the conflicts panel's counts only while nothing
    # did (no audited change, no summary refresh), for at most this many seconds; 0: off
    "FIGURE_CACHE_SECONDS": 30,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_NAME": "origin_session",
    "LOGIN_MAX_FAILURES": 10,
    "LOGIN_WINDOW_MINUTES": 15,
    "LOGIN_LOCK_MINUTES": 15,
    # Failures from one client address (any accounts) within the window before it must wait.
    "LOGIN_MAX_FAILURES_PER_IP": 50,
    "PASSWORD_MIN_LENGTH": 8,
    # Security (issue 11, docs/security.md). Roles that must pass a TOTP second factor (comma list;
    # the others may enrol). The demo and the test suite may narrow it; production refuses to drop
    # admin or staff from it.
    "SECOND_FACTOR_ROLES": "admin,staff",
    # Minutes a confirmed password (and second factor) counts for sensitive changes.
    "REAUTH_MINUTES": 10,
    # Minutes an e-mailed password-reset link stays valid (single use).
    "PASSWORD_RESET_MINUTES": 30,
    # argon2id cost (RFC 9106 low-memory profile by default); tests lower it for speed.
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_KIB": 65536,
    "ARGON2_PARALLELISM": 4,
    "MAIL_ENABLED": True,
    "MAIL_SERVER": "",
    "MAIL_PORT": 25,
    "MAIL_USE_TLS": False,
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_FROM": "no-reply@origin.example",
    "SMS_ENABLED": True,
    "MAIL_TIMEOUT": 10,
    # A CA bundle to verify the SMTP server's STARTTLS certificate with (empty: the system's).
    "MAIL_CA_FILE": "",
    # Outbound messages (issue 10, docs/reminders.md): how e-mail and SMS leave the building.
    # EMAIL_BACKEND: log (one JSON line in logs/outbound.log, the default), smtp, disabled.
    # SMS_BACKEND: log (the default), sms-http (a generic HTTP gateway), disabled. Staging forces disabled.
    "EMAIL_BACKEND": "log",
    "SMS_BACKEND": "log",
    "SMS_HTTP_URL": "",
    "SMS_HTTP_TOKEN": "",
    # The JSON body sent to the gateway; "{to}", "{message}", "{sender}" and "{key}" are replaced
    # (as JSON strings, so a message cannot break out of its field).
    "SMS_HTTP_PAYLOAD": '{"to": "{to}", "from": "{sender}", "message": "{message}"}',
    "SMS_HTTP_TIMEOUT": 10,
    "SMS_SENDER": "Origin",
    # Country calling code for phone numbers written nationally (0400 111 222 -> +61400111222).
    "SMS_COUNTRY_CODE": "61",
    # The reminder dispatcher (flask process-reminders, cron every 15 minutes).
    "REMINDER_BATCH_SIZE": 200,
    "REMINDER_LEASE_SECONDS": 900,
    "REMINDER_MAX_ATTEMPTS": 5,
    "REMINDER_BACKOFF_SECONDS": 60,
    "REMINDER_BACKOFF_CAP_SECONDS": 3600,
    # SMS quiet hours in each branch's local time (empty: none): an SMS due inside waits for the end.
    "SMS_QUIET_HOURS": "21:00-08:00",
    "SERVER_NAME": "",
    # Host names the app answers (comma list, e.g. "origin.example.com"); any other Host header is 400.
    # Empty: every host (production refuses to start without it or SERVER_NAME).
    "TRUSTED_HOSTS": "",
    "PREFERRED_URL_SCHEME": "http",
    "TRUSTED_PROXIES": 0,
    "MAINTENANCE_MODE": False,
    # Invoices (issue 9): GST in per cent (the original's 10), the payment term in days, the days
    # before the due date an invoice-due reminder goes out (comma list; "2" = the original's
    # issue + 5 days), and the school's ABN printed on invoices and statements.
    "GST_RATE": "10",
    "INVOICE_DUE_DAYS": 7,
    "INVOICE_REMINDER_DAYS_BEFORE_DUE": "2",
    "SCHOOL_ABN": "",
    # How long a student has to answer a proposed new lesson time (1 to 336 hours).
    "PROPOSAL_EXPIRY_HOURS": 48,
    # Online payments (student portal): the gateway provider, "mock" (no network) by default.
    # A real provider is a class path "package.module:Class" (docs/payments.md, "The payment gateway").
    "PAYMENT_GATEWAY": "mock",
    # Public enrolment applications allowed per client address per hour (then 429).
    "APPLICATIONS_PER_IP_PER_HOUR": 5,
}

_log = logging.getLogger(__name__)


class ConfigError(RuntimeError):
    """Raised when settings are unsafe or malformed for the chosen profile."""


def _parse(key: str, raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        value = raw.strip().lower()
        if value in ("1", "true", "yes", "on"):
            return True
        if value in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{key} must be true or false, got {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw.strip())
        except ValueError as exc:
            raise ConfigError(f"{key} must be a whole number, got {raw!r}") from exc
    return raw


def load_settings(
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    env_file: Path | None = None,
) -> dict[str, Any]:
    """Build the settings dict. Later sources win: defaults, .env, environment, overrides."""
    environ = os.environ if environ is None else environ
    env_file = env_file if env_file is not None else PROJECT_ROOT / ".env"
    settings: dict[str, Any] = dict(DEFAULTS)

    sources: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        sources.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    sources.update(environ)

    for key, default in DEFAULTS.items():
        if key in sources:
            settings[key] = _parse(key, sources[key], default)
    for key in sources:
        if key.startswith("APP_") and key not in DEFAULTS:
            _log.warning("Unknown setting %s ignored", key)

    if overrides:
        settings.update(overrides)

    # Relative paths are relative to the project, not the caller's directory (cron runs elsewhere).
    for key in ("SQLITE_PATH", "LOG_DIR", "UPLOAD_DIR", "BACKUP_DIR", "EXPORT_CACHE_DIR"):
        path = Path(str(settings[key]))
        settings[key] = str(path if path.is_absolute() else PROJECT_ROOT / path)
    url = str(settings["DATABASE_URL"] or "")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        settings["DATABASE_URL"] = "sqlite:///" + str(PROJECT_ROOT / url[len("sqlite:///"):])

    profile = settings["APP_ENV"]
    if profile not in PROFILES:
        raise ConfigError(f"APP_ENV must be one of {', '.join(PROFILES)}, got {profile!r}")
    if profile == "staging":
        # Staging runs on anonymised data: never talk to real people.
        settings["MAIL_ENABLED"] = False
        settings["SMS_ENABLED"] = False
        settings["EMAIL_BACKEND"] = "disabled"
        settings["SMS_BACKEND"] = "disabled"
    if settings["EMAIL_BACKEND"] not in ("log", "smtp", "disabled"):
        raise ConfigError(f"EMAIL_BACKEND must be log, smtp or disabled, got {settings['EMAIL_BACKEND']!r}")
    if settings["SMS_BACKEND"] not in ("log", "sms-http", "disabled"):
        raise ConfigError(f"SMS_BACKEND must be log, sms-http or disabled, got {settings['SMS_BACKEND']!r}")
    if settings["SMS_BACKEND"] == "sms-http":
        if not str(settings["SMS_HTTP_URL"]).startswith(("http://", "https://")):
            raise ConfigError("SMS_BACKEND=sms-http needs SMS_HTTP_URL (http:// or https://)")
        try:
            payload = json.loads(str(settings["SMS_HTTP_PAYLOAD"]))
        except ValueError as exc:
            raise ConfigError(f"SMS_HTTP_PAYLOAD is not valid JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise ConfigError("SMS_HTTP_PAYLOAD must be a JSON object, e.g. {\"to\": \"{to}\", \"message\": \"{message}\"}")
    if settings["EMAIL_BACKEND"] == "smtp" and not settings["MAIL_SERVER"]:
        raise ConfigError("EMAIL_BACKEND=smtp needs MAIL_SERVER")
    if profile == "production":
        if settings["SECRET_KEY"] in INSECURE_SECRET_KEYS or len(settings["SECRET_KEY"]) < 32:
            raise ConfigError("SECRET_KEY is missing, a placeholder or shorter than 32 characters")
        if settings["DEBUG"]:
            raise ConfigError("DEBUG must be off in production")
        if not str(settings["TRUSTED_HOSTS"]).strip() and not str(settings["SERVER_NAME"]).strip():
            raise ConfigError("TRUSTED_HOSTS (or SERVER_NAME) must name the site's host names in production: "
                              "e-mailed reset and activation links carry the host, so a forged Host header "
                              "must be refused")
        if not {"admin", "staff"} <= set(second_factor_roles(settings)):
            raise ConfigError("SECOND_FACTOR_ROLES must include admin and staff in production")
        settings["SESSION_COOKIE_SECURE"] = True
        settings["PREFERRED_URL_SCHEME"] = "https"
    return settings


def second_factor_roles(settings: Mapping[str, Any]) -> tuple[str, ...]:
    """The roles SECOND_FACTOR_ROLES names (unknown words ignored)."""
    words = str(settings.get("SECOND_FACTOR_ROLES", "") or "").replace(" ", "").lower().split(",")
    return tuple(role for role in ("admin", "staff", "instructor", "student") if role in words)


def database_url(settings: Mapping[str, Any]) -> str:
    """The effective database URL; empty DATABASE_URL means the embedded SQLite file."""
    url = (settings.get("DATABASE_URL") or "").strip()
    return url or "sqlite:///" + str(settings["SQLITE_PATH"])
