"""The second factor: TOTP (RFC 6238) with single-use recovery codes.

Rules:
- TOTP with pyotp: 30-second steps, 6 digits, a window of one step either side (valid_window 1), so a
  code is accepted for about 30 s before and after its own step (clock drift, typing time).
- Replay: the step of the last accepted code is kept (user_second_factors.last_used_step); a code whose
  step is at or before it is refused as "already used", even inside the window. A code that matched a
  step up to EXPIRED_LOOKBACK_STEPS before the window is refused as "expired"; anything else is "wrong".
- Every check is throttled exactly like a password (services.auth): inside one transaction the user's
  factor row is locked (FOR UPDATE on MariaDB; BEGIN IMMEDIATE on SQLite), the lock is checked (the
  account's failures in login_attempts, passwords and codes together, and the per-address limit), the
  attempt is recorded as a failure *before* the code is checked and turned into a success only when it
  passes. A locked account is refused (TooManyAttempts, 429) without checking anything, so at most
  LOGIN_MAX_FAILURES codes are ever checked per window, and two parallel submissions of one code are
  checked one after the other (the second sees the first's last_used_step: "already used").
- The seed is encrypted at rest with AES-256-GCM. The key is derived from SECRET_KEY by HKDF-SHA256
  (salt "origin-second-factor", info "totp-seed-v1"), so a copy of the database alone does not give the
  seeds; the user's id is the associated data, so a ciphertext copied to another user's row does not
  decrypt. Stored as "v1:" + base64(12-byte nonce + ciphertext + tag). Changing SECRET_KEY makes the
  stored seeds unreadable: every enrolled user then needs an administrator's reset (docs/security.md).
- Recovery codes: ten per enrolment, each 24 characters from the 32-letter base32 alphabet (120 bits from
  ``secrets``, shown in six groups of four), shown once (never again: only their SHA-256 is stored) and
  each usable once. With at least 112 bits of entropy an unsalted SHA-256 is enough (ASVS 4.0.3 V2.6.2):
  the hashes cannot be reversed by a dictionary or a precomputed table, and guessing one online is
  hopeless under the sign-in throttle.
- Enrolment stores a pending (encrypted) seed; it is switched on only by a code from it. Required roles
  (SECOND_FACTOR_ROLES: admin and staff by default) cannot switch it off; an administrator can reset
  another user's factor (audited; the user is notified in-app and by e-mail; their sessions end).
"""
from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.config import second_factor_roles
from app.core.database import Database
from app.core.errors import Conflict, NotFound, PermissionDenied, TooManyAttempts, ValidationFailed
from app.dao.login_attempt import LoginAttemptDAO
from app.dao.second_factor import RecoveryCodeDAO, SecondFactorDAO
from app.dao.user import UserDAO
from app.dao.user_session import UserSessionDAO
from app.services import audit, mailer, notifications
from app.services.auth import ip_lock_status, lock_status
from app.services.scope import Actor

log = logging.getLogger(__name__)

STEP_SECONDS = 30
DIGITS = 6
VALID_WINDOW = 1
EXPIRED_LOOKBACK_STEPS = 10  # a code up to five minutes old is named "expired", not "wrong"
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 24  # base32 characters: 120 bits (ASVS 4.0.3 V2.6.2: at least 112 unless salted)
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TOTP_RE = re.compile(r"[0-9]{%d}" % DIGITS)  # ASCII digits only (\d would take "٣")
_RECOVERY_RE = re.compile(r"[A-Z2-7]{%d}" % RECOVERY_CODE_LENGTH)
_CIPHER_VERSION = "v1:"

WRONG = "That code is not right. Enter the 6-digit code your authenticator app shows now, or a recovery code."
ALREADY_USED = ("That code was already used. Wait for the next code in your authenticator app "
                "(a new one every 30 seconds).")
WRONG_SETUP = "That code is not right. Enter the 6-digit code your authenticator app shows now for this set-up."
EXPIRED = "That code has expired. Enter the code your authenticator app shows now."
RECOVERY_USED = "That recovery code was already used. Each recovery code works once."
NOT_ENROLLED = "No second factor is set up for this account."


# --------------------------------------------------------------------------- the seed at rest

def _key(settings: Mapping[str, Any]) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"origin-second-factor",
                info=b"totp-seed-v1").derive(str(settings["SECRET_KEY"]).encode("utf-8"))


def encrypt_secret(secret: str, user_id: int, settings: Mapping[str, Any]) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_key(settings)).encrypt(nonce, secret.encode("ascii"), f"user:{int(user_id)}".encode())
    return _CIPHER_VERSION + base64.b64encode(nonce + sealed).decode("ascii")


def decrypt_secret(stored: str, user_id: int, settings: Mapping[str, Any]) -> str:
    """The plain seed; raises ValueError when it cannot be read (another SECRET_KEY, another user's row)."""
    if not stored.startswith(_CIPHER_VERSION):
        raise ValueError("unknown seed format")
    raw = base64.b64decode(stored[len(_CIPHER_VERSION):])
    try:
        return AESGCM(_key(settings)).decrypt(raw[:12], raw[12:], f"user:{int(user_id)}".encode()).decode("ascii")
    except InvalidTag as exc:
        raise ValueError("the seed does not decrypt with this SECRET_KEY") from exc


# --------------------------------------------------------------------------- codes

def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def step_at(now: datetime) -> int:
    """The 30-second step of a naive-UTC instant (clock.now())."""
    return calendar.timegm(now.timetuple()) // STEP_SECONDS


def code_at(secret: str, now: datetime) -> str:
    """The TOTP code of ``secret`` at ``now`` (naive UTC): demo-code and the tests use it."""
    return _totp(secret).generate_otp(step_at(now))


def _matching_step(secret: str, code: str, steps) -> int | None:
    totp = _totp(secret)
    for step in steps:
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _window(now: datetime) -> list[int]:
    current = step_at(now)
    return [current] + [current + d for o in range(1, VALID_WINDOW + 1) for d in (-o, o)]


def _expired_steps(now: datetime) -> range:
    current = step_at(now)
    return range(current - VALID_WINDOW - 1, current - VALID_WINDOW - 1 - EXPIRED_LOOKBACK_STEPS, -1)


_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})  # digits that base32 recovery codes never use


def normalise_code(code: str | None) -> str:
    """Spaces and hyphens dropped, upper case; a recovery code (RECOVERY_CODE_LENGTH characters) also reads 0, 1, 8 as O, I, B."""
    given = re.sub(r"[\s-]", "", code or "").upper()
    return given.translate(_LOOKALIKES) if len(given) == RECOVERY_CODE_LENGTH else given


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("ascii", "replace")).hexdigest()


def _new_recovery_codes() -> list[str]:
    codes = []
    while len(codes) < RECOVERY_CODE_COUNT:
        raw = "".join(secrets.choice(_BASE32) for _ in range(RECOVERY_CODE_LENGTH))
        shown = "-".join(raw[i:i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4))
        if shown not in codes:
            codes.append(shown)
    return codes


def _store_recovery_codes(db: Database, user_id: int, now: datetime) -> list[str]:
    codes = _new_recovery_codes()
    RecoveryCodeDAO(db).replace(user_id, [hash_recovery_code(c) for c in codes], now)
    return codes


def qr_data_uri(uri: str) -> str:
    """The otpauth URI as an SVG QR code in a data: URI, made here (no network)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2, dark="#000", light="#fff")


def provisioning_uri(secret: str, email: str, settings: Mapping[str, Any]) -> str:
    return _totp(secret).provisioning_uri(name=email, issuer_name=str(settings.get("APP_NAME") or "Origin"))


# --------------------------------------------------------------------------- status

def is_enrolled(db: Database, user_id: int) -> bool:
    return SecondFactorDAO(db).is_enabled(user_id)


def state(db: Database, user_id: int) -> str | None:
    """"on", "pending" (set-up waiting for its first code) or None."""
    row = SecondFactorDAO(db).find(user_id)
    if row is None:
        return None
    return "on" if row["enabled_at"] is not None else "pending"


def required_for(role: str, settings: Mapping[str, Any]) -> bool:
    return role in second_factor_roles(settings)


@dataclass
class Status:
    enrolled: bool
    enabled_at: datetime | None
    pending: bool
    required: bool
    codes_left: int


def status(db: Database, user_id: int, role: str, settings: Mapping[str, Any]) -> Status:
    row = SecondFactorDAO(db).find(user_id)
    enrolled = bool(row and row["enabled_at"] is not None)
    return Status(enrolled=enrolled, enabled_at=row["enabled_at"] if enrolled else None,
                  pending=bool(row and row["enabled_at"] is None), required=required_for(role, settings),
                  codes_left=RecoveryCodeDAO(db).remaining(user_id) if enrolled else 0)


def pending_enrolment(db: Database, user_id: int, settings: Mapping[str, Any]) -> tuple[str, str] | None:
    """(secret, otpauth URI) of the enrolment waiting for its first code, or None."""
    row = SecondFactorDAO(db).find(user_id)
    if row is None or row["enabled_at"] is not None:
        return None
    user = UserDAO(db).find_by_id(user_id)
    secret = decrypt_secret(row["secret"], user_id, settings)
    return secret, provisioning_uri(secret, user["email"], settings)


def current_code(db: Database, user_id: int, now: datetime, settings: Mapping[str, Any]) -> str | None:
    """The code an enrolled (or pending) user's app shows at ``now``; for `flask demo-code` only."""
    row = SecondFactorDAO(db).find(user_id)
    if row is None:
        return None
    return code_at(decrypt_secret(row["secret"], user_id, settings), now)


# --------------------------------------------------------------------------- the throttled check

def _lock_message(retry_after: int) -> str:
    minutes = max(1, (retry_after + 59) // 60)
    return f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."


_REASONS = {WRONG: "wrong code", WRONG_SETUP: "wrong code", ALREADY_USED: "code already used", EXPIRED: "expired code",
            RECOVERY_USED: "recovery code already used", NOT_ENROLLED: "no second factor"}


def _throttled(db: Database, user_id: int, *, now: datetime, settings: Mapping[str, Any], ip: str | None,
               check, failed_action: str):
    """Run ``check(factor_row) -> (result, failure_message)`` under the account's throttle (module doc).

    One transaction: the factor row locked, the lock checked, the attempt recorded as a failure, the
    code checked; a pass turns the attempt into a success. Returns the result; raises TooManyAttempts
    (nothing checked, nothing counted) or ValidationFailed(field="code") naming why (the failure is
    recorded and audited; nothing else is written: a failing check writes nothing)."""
    user = UserDAO(db).find_by_id(user_id)
    if user is None:
        raise NotFound("No such account.")
    attempts = LoginAttemptDAO(db)
    result, failure = None, None
    with db.transaction():
        factor = SecondFactorDAO(db).find(user_id, lock=True)
        retry_after = max(lock_status(db, user["email"], now, settings), ip_lock_status(db, ip, now, settings))
        if not retry_after:
            attempt_id = attempts.record(user["email"], user_id, ip, False, now)
            result, failure = check(factor)
            if failure is None:
                attempts.mark_succeeded(attempt_id)
            else:
                audit.record(db, Actor(user_id=user_id, role=user["role"]), failed_action, "user", user_id,
                             now=now, ip=ip, details=_REASONS.get(failure, "refused"))
    if retry_after:
        log.warning("second factor refused: account locked (user id %s)", user_id)
        raise TooManyAttempts(_lock_message(retry_after), retry_after=retry_after)
    if failure is not None:
        log.info("%s (user id %s): %s", failed_action, user_id, _REASONS.get(failure, "refused"))
        raise ValidationFailed(failure, field="code")
    return result


def _check_totp(db: Database, user_id: int, factor: dict, code: str, now: datetime,
                settings: Mapping[str, Any], *, confirming: bool):
    secret = decrypt_secret(factor["secret"], user_id, settings)
    step = _matching_step(secret, code, _window(now))
    if step is None:
        return None, EXPIRED if _matching_step(secret, code, _expired_steps(now)) is not None else WRONG
    last = factor["last_used_step"]
    if last is not None and step <= int(last):
        return None, ALREADY_USED
    dao = SecondFactorDAO(db)
    changed = dao.enable(user_id, step, now) if confirming else dao.advance_step(user_id, step)
    return ("totp", None) if changed else (None, ALREADY_USED)


def verify(db: Database, user_id: int, code: str, *, now: datetime, settings: Mapping[str, Any],
           ip: str | None = None) -> str:
    """Check a second-factor code of an enrolled user: "totp" or "recovery" (that code is then used up).

    Raises TooManyAttempts while the account is locked (checked first; nothing verified), else
    ValidationFailed(field="code") naming why (wrong / already used / expired) after recording the
    failure in login_attempts."""
    given = normalise_code(code)

    def check(factor):
        if factor is None or factor["enabled_at"] is None:
            return None, NOT_ENROLLED
        if _TOTP_RE.fullmatch(given):
            return _check_totp(db, user_id, factor, given, now, settings, confirming=False)
        if _RECOVERY_RE.fullmatch(given):
            codes = RecoveryCodeDAO(db)
            row = codes.find(user_id, hash_recovery_code(given))
            if row is None:
                return None, WRONG
            if row["used_at"] is not None or not codes.consume(row["id"], now):
                return None, RECOVERY_USED
            return "recovery", None
        return None, WRONG

    return _throttled(db, user_id, now=now, settings=settings, ip=ip, check=check,
                      failed_action="second_factor_failed")


def complete_login(db: Database, session_id: int, now: datetime, *, actor: Actor | None = None,
                   method: str | None = None, ip: str | None = None) -> None:
    """The session passed its second step: second_factor_at and reauthenticated_at become ``now``."""
    with db.transaction():
        SecondFactorDAO(db).mark_session_passed(session_id, now)
        if actor is not None:
            audit.record(db, actor, "second_factor_passed", "user", actor.user_id, now=now, ip=ip,
                         details="recovery code" if method == "recovery" else "authenticator code")


# --------------------------------------------------------------------------- enrolment and its changes

def begin_enrolment(db: Database, actor: Actor, now: datetime, settings: Mapping[str, Any]) -> tuple[str, str]:
    """A new pending seed for ``actor`` (replacing a pending one); (secret, otpauth URI). Refused (409)
    while a factor is switched on: disable it first, or ask an administrator to reset it."""
    dao = SecondFactorDAO(db)
    user = UserDAO(db).find_by_id(actor.user_id)
    secret = pyotp.random_base32()  # 32 base32 characters: 160 bits
    with db.transaction():
        row = dao.find(actor.user_id, lock=True)
        if row is not None and row["enabled_at"] is not None:
            raise Conflict("Your second factor is already switched on.")
        if row is not None:
            dao.delete(actor.user_id)
        dao.insert_pending(actor.user_id, encrypt_secret(secret, actor.user_id, settings), now)
    return secret, provisioning_uri(secret, user["email"], settings)


def confirm_enrolment(db: Database, actor: Actor, code: str, now: datetime, settings: Mapping[str, Any], *,
                      session_id: int | None = None) -> list[str]:
    """Switch the pending factor on with one code from it; returns the ten recovery codes (shown once).
    Throttled like verify. With ``session_id`` that session counts as having passed the second step."""
    given = normalise_code(code)
    holder: dict = {}

    def check(factor):
        if factor is None:
            raise Conflict("Start the set-up again: no set-up is waiting for a code.")
        if factor["enabled_at"] is not None:
            raise Conflict("Your second factor is already switched on.")
        if not _TOTP_RE.fullmatch(given):
            return None, WRONG_SETUP
        result, failure = _check_totp(db, actor.user_id, factor, given, now, settings, confirming=True)
        failure = WRONG_SETUP if failure == WRONG else failure
        if failure is None:
            holder["codes"] = _store_recovery_codes(db, actor.user_id, now)
            if session_id is not None:
                SecondFactorDAO(db).mark_session_passed(session_id, now)
            audit.record(db, actor, "second_factor_enabled", "user", actor.user_id, now=now, ip=actor.ip)
        return result, failure

    _throttled(db, actor.user_id, now=now, settings=settings, ip=actor.ip, check=check,
               failed_action="second_factor_failed")
    return holder["codes"]


def enrol_for_demo(db: Database, user_id: int, now: datetime, settings: Mapping[str, Any]) -> None:
    """A switched-on factor with a random secret and no recovery codes, for the demo seed only
    (services.seed.enrol_demo_second_factors; `flask demo-code` prints its current code)."""
    dao = SecondFactorDAO(db)
    with db.transaction():
        dao.insert_pending(user_id, encrypt_secret(pyotp.random_base32(), user_id, settings), now)
        dao.enable(user_id, step_at(now) - VALID_WINDOW - 1, now)  # every code from now on is new


def regenerate_codes(db: Database, actor: Actor, now: datetime, settings: Mapping[str, Any]) -> list[str]:
    """Ten new recovery codes for ``actor`` (the old ones stop working)."""
    with db.transaction():
        row = SecondFactorDAO(db).find(actor.user_id, lock=True)
        if row is None or row["enabled_at"] is None:
            raise Conflict(NOT_ENROLLED)
        codes = _store_recovery_codes(db, actor.user_id, now)
        audit.record(db, actor, "recovery_codes_regenerated", "user", actor.user_id, now=now, ip=actor.ip)
    return codes


def disable(db: Database, actor: Actor, now: datetime, settings: Mapping[str, Any]) -> None:
    """Switch the actor's own factor off (instructors and students only: required roles keep theirs)."""
    if required_for(actor.role, settings):
        raise Conflict("Your role needs a second factor, so it cannot be switched off. "
                       "An administrator can reset it if you lose your device.")
    dao = SecondFactorDAO(db)
    with db.transaction():
        row = dao.find(actor.user_id, lock=True)
        if row is None:
            raise Conflict(NOT_ENROLLED)
        dao.delete(actor.user_id)
        RecoveryCodeDAO(db).delete_for_user(actor.user_id)
        if row["enabled_at"] is not None:
            audit.record(db, actor, "second_factor_disabled", "user", actor.user_id, now=now, ip=actor.ip)


def cancel_enrolment(db: Database, actor: Actor, now: datetime) -> None:
    """Drop a pending set-up (nothing was switched on)."""
    dao = SecondFactorDAO(db)
    with db.transaction():
        row = dao.find(actor.user_id, lock=True)
        if row is not None and row["enabled_at"] is None:
            dao.delete(actor.user_id)


def admin_reset(db: Database, actor: Actor, user_id: int, now: datetime, settings: Mapping[str, Any]) -> mailer.Delivery:
    """An administrator removes another user's factor (lost device): audited, the user notified in-app
    and (after the commit) by e-mail, and every session of theirs ended. A user of a required role sets
    a new one up at their next sign-in."""
    if actor.role != "admin":
        raise PermissionDenied("Only an administrator can reset a second factor.")
    if int(user_id) == actor.user_id:
        raise Conflict("You cannot reset your own second factor: another administrator can, or use a recovery code.")
    return _remove_factor(db, actor, user_id, now, settings, by="An administrator")


def operator_reset(db: Database, email: str, reason: str, now: datetime, settings: Mapping[str, Any]) -> mailer.Delivery:
    """`flask reset-second-factor`: the break-glass reset for whoever runs the server (every administrator
    lost their device, or SECRET_KEY changed and no seed decrypts). Same effects as admin_reset; the audit
    row has no actor and carries the reason."""
    if not (reason or "").strip():
        raise ValidationFailed("Give the reason (it goes into the audit trail).", field="reason")
    user = UserDAO(db).find_by_email(email.strip().lower())
    if user is None:
        raise NotFound(f"No account has the e-mail address {email}.")
    return _remove_factor(db, None, user["id"], now, settings, by="The system operator",
                          details=f"on the command line: {reason.strip()}"[:200])


def _remove_factor(db: Database, actor: Actor | None, user_id: int, now: datetime, settings: Mapping[str, Any], *,
                   by: str, details: str = "") -> mailer.Delivery:
    users = UserDAO(db)
    target = users.find_by_id(user_id)
    if target is None:
        raise NotFound("No such account.")
    dao = SecondFactorDAO(db)
    with db.transaction():
        row = dao.find(user_id, lock=True)
        if row is None:
            raise Conflict(f"{target['first_name']} {target['last_name']} has no second factor to reset.")
        dao.delete(user_id)
        RecoveryCodeDAO(db).delete_for_user(user_id)
        ended = UserSessionDAO(db).delete_for_user(user_id)
        audit.record(db, actor, "second_factor_reset", "user", user_id, now=now, ip=actor.ip if actor else None,
                     details=f"{details + '; ' if details else ''}sessions ended: {ended}")
        notifications.notify(
            db, user_id, "Your second factor was reset",
            f"{by} reset the second factor (authenticator app) of your account and signed you out. "
            "Set it up again the next time you sign in. If you did not ask for this, tell the office.",
            "warning", now=now, kind="transactional")
    body = (f"Hello {target['first_name']},\n\n"
            f"{by} of {settings.get('APP_NAME', 'Origin')} reset the second factor (authenticator app) "
            "of your account and signed you out everywhere.\n"
            "Set up your authenticator app again the next time you sign in; your old recovery codes no longer work.\n\n"
            "If you did not ask for this, contact the office straight away.\n")
    return mailer.send_email(settings, target["email"], f"Your {settings.get('APP_NAME', 'Origin')} second factor was reset",
                             body)
