"""Password reset by an e-mailed single-use link (issue 11 item 2; ASVS 2.5.1-2.5.7, 3.3.3).

The flow (app/blueprints/password_reset.py):

1. ``/auth/forgot``: :func:`check_rate` counts the request against the client address (or refuses it,
   429); the page answers at once with a 303 to the same "if an account exists, we have sent a link"
   page, whatever was typed. The lookup, the token and the e-mail (:func:`request_reset`,
   :func:`send_reset_mail`) run *after* the response has been sent (the blueprint hands them to
   ``response.call_on_close``), so neither the wording, the status nor the timing of the answer can
   tell whether the address has an account. An unknown address still costs a token and its hash.
2. The link carries ``secrets.token_urlsafe(32)``; only its SHA-256 is stored (account_tokens,
   purpose 'reset'), valid PASSWORD_RESET_MINUTES (30). A new link retires the older unused ones. At
   most MAILS_PER_HOUR links per account per hour (more requests get the same answer, and no mail):
   the form cannot be used to flood someone's mailbox.
3. ``/auth/reset/<token>``: :func:`reset_password` checks the policy (with the account's context
   words), consumes the token (race-safe: one use), sets the password, ends every session of the user,
   lifts a sign-in lock (the mailbox was proved) and audits, in one transaction; then (after the
   response) :func:`send_changed_notice` tells the owner by e-mail.

Throttling: every forgot request and every unknown, expired or used link is recorded as a failed
attempt from the client address in login_attempts (under THROTTLE_KEY, which is no e-mail address, so
no account's lock counts it), and both pages refuse an address that services.auth.ip_lock_status
throttles (429). Archived (and anonymised) accounts get no mail and the same answer.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from app.core import passwords
from app.core.database import Database
from app.core.errors import NotFound, TooManyAttempts, ValidationFailed
from app.dao.account_token import AccountTokenDAO
from app.dao.login_attempt import LoginAttemptDAO
from app.dao.user import UserDAO, normalize_email
from app.dao.user_session import UserSessionDAO
from app.services import audit, password_policy
from app.services.auth import hash_token, ip_lock_status
from app.services.outbound import OutboundMessageService, Outcome
from app.services.scope import Actor

log = logging.getLogger(__name__)

PURPOSE = "reset"
MAILS_PER_HOUR = 3
# login_attempts.email of a forgot request or a bad link: not an address, so no account lock counts it.
THROTTLE_KEY = "(password reset)"
INVALID_LINK = "This password reset link is invalid, already used or expired. Ask for a new one."


def minutes(settings: Mapping[str, Any]) -> int:
    return int(settings.get("PASSWORD_RESET_MINUTES") or 30)


def _too_many(wait: int) -> TooManyAttempts:
    waited = max(1, (wait + 59) // 60)
    return TooManyAttempts(f"Too many attempts from your connection. Try again in {waited} minute"
                           f"{'s' if waited != 1 else ''}.", retry_after=wait)


def throttled(db: Database, ip: str | None, now: datetime, settings: Mapping[str, Any]) -> None:
    """Raise TooManyAttempts when the client address has used up its attempts (nothing is recorded)."""
    wait = ip_lock_status(db, ip, now, settings)
    if wait:
        raise _too_many(wait)


def check_rate(db: Database, ip: str | None, now: datetime, settings: Mapping[str, Any]) -> None:
    """A forgot request: refuse it (429) when the address is throttled, else count it against the address."""
    with db.transaction():
        wait = ip_lock_status(db, ip, now, settings)
        if not wait:
            LoginAttemptDAO(db).record(THROTTLE_KEY, None, ip, False, now)
    if wait:
        raise _too_many(wait)


def record_bad_link(db: Database, ip: str | None, now: datetime) -> None:
    """An unknown, expired or used link counts as a failed attempt from the address."""
    with db.transaction():
        LoginAttemptDAO(db).record(THROTTLE_KEY, None, ip, False, now)


@dataclass(frozen=True)
class ResetMail:
    user_id: int
    token_id: int
    to: str
    first_name: str
    token: str
    expires_at: datetime


def request_reset(db: Database, email: str, *, ip: str | None, now: datetime,
                  settings: Mapping[str, Any]) -> ResetMail | None:
    """Issue a reset link for the account of ``email``; None when there is nothing to send (no such
    account, archived or anonymised, or MAILS_PER_HOUR links already issued this hour). Runs after the
    answer was sent; an unknown address does the same token work."""
    token = secrets.token_urlsafe(32)
    token_hash = hash_token(token)
    user = UserDAO(db).find_by_email(normalize_email(email))
    if user is None or user["status"] != "active":
        return None
    tokens = AccountTokenDAO(db)
    expires_at = now + timedelta(minutes=minutes(settings))
    with db.transaction():
        if tokens.issued_since(user["id"], PURPOSE, now - timedelta(hours=1)) >= MAILS_PER_HOUR:
            log.info("password reset for user %s not sent: %s links this hour already", user["id"], MAILS_PER_HOUR)
            return None
        tokens.revoke_unused(user["id"], PURPOSE, now)
        token_id = tokens.create(user["id"], PURPOSE, token_hash, expires_at, None, now)
        audit.record(db, Actor(user_id=user["id"], role=user["role"]), "password_reset_requested", "user",
                     user["id"], now=now, ip=ip)
    return ResetMail(user["id"], token_id, user["email"], user["first_name"], token, expires_at)


def send_reset_mail(settings: Mapping[str, Any], mail: ResetMail, link: str) -> Outcome:
    """The e-mail with the link, through the configured e-mail backend (log, smtp or disabled)."""
    school = settings.get("APP_NAME") or "Origin"
    body = (
        f"Hello {mail.first_name},\n\n"
        f"Someone (we hope you) asked to reset the password of your {school} account.\n"
        f"Choose a new password here; the link works once, for {minutes(settings)} minutes:\n\n{link}\n\n"
        "If you did not ask for this, ignore this e-mail: your password stays as it is.\n"
    )
    outcome = OutboundMessageService(settings).send_email(
        mail.to, f"Reset your {school} password", body, key=f"password-reset-{mail.token_id}")
    if not outcome.sent:
        log.warning("password reset e-mail for user %s not sent: %s", mail.user_id, outcome.error)
    return outcome


def send_changed_notice(settings: Mapping[str, Any], to: str, first_name: str) -> Outcome:
    """Tell the owner that their password was reset (ASVS 2.2.3), so a reset they did not make is noticed."""
    school = settings.get("APP_NAME") or "Origin"
    body = (
        f"Hello {first_name},\n\n"
        f"The password of your {school} account was just reset through an e-mailed link, and every device\n"
        "signed in to the account was signed out.\n\n"
        "If this was you, there is nothing more to do. If it was not, ask for a new reset link from the\n"
        "sign-in page at once and tell the office.\n"
    )
    outcome = OutboundMessageService(settings).send_email(to, f"Your {school} password was reset", body,
                                                          key=f"password-reset-done-{secrets.token_hex(8)}")
    if not outcome.sent:
        log.warning("password reset notice not sent: %s", outcome.error)
    return outcome


def reset_target(db: Database, token: str, now: datetime) -> dict:
    """The usable reset token's row (with its user), or NotFound."""
    row = AccountTokenDAO(db).find_usable(hash_token(token or ""), PURPOSE, now)
    if row is None or row["status"] != "active":
        raise NotFound(INVALID_LINK)
    return row


def reset_password(db: Database, token: str, password: str, confirm: str, *, ip: str | None, now: datetime,
                   settings: Mapping[str, Any]) -> int:
    """Set a new password through a valid link; returns the user's id. Bad input writes nothing."""
    target = reset_target(db, token, now)
    user_id = target["user_id"]
    password_policy.check(password, context_words=password_policy.context_words(db, user_id, settings),
                          settings=settings, field="password")
    if password != confirm:
        raise ValidationFailed("The passwords do not match.", field="confirm_password")
    new_hash = passwords.hash_password(password)
    tokens = AccountTokenDAO(db)
    with db.transaction():
        if not tokens.consume(target["id"], now):  # another request used it first
            raise NotFound(INVALID_LINK)
        tokens.revoke_unused(user_id, PURPOSE, now)
        UserDAO(db).set_password(user_id, new_hash, now)
        ended = UserSessionDAO(db).delete_for_user(user_id)
        LoginAttemptDAO(db).record(target["email"], user_id, ip, True, now)  # lifts a sign-in lock
        role = UserDAO(db).find_by_id(user_id)["role"]
        audit.record(db, Actor(user_id=user_id, role=role), "password_reset", "user", user_id, now=now, ip=ip,
                     details=f"{ended} session{'s' if ended != 1 else ''} ended")
    return user_id
