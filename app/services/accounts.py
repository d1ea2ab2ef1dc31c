"""User accounts created by staff: single-use activation links, archiving.

Staff never choose a user's password. A new account gets an unusable password
hash and a 24-hour activation link (token stored as SHA-256); the link is shown
to staff and e-mailed when outbound mail is configured. Archiving ends every
session of the user at once. Everything is audited in the same transaction.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from app.core import passwords
from app.core.database import Database
from app.core.errors import NotFound, ValidationFailed
from app.dao.account_token import AccountTokenDAO
from app.dao.user import UserDAO, normalize_email
from app.dao.user_session import UserSessionDAO
from app.services import audit, mailer
from app.services.auth import check_password_policy, hash_token
from app.services.scope import Actor

ACTIVATION_HOURS = 24
# unusable_password_hash() starts with this: the account's owner has never set a password.
UNSET_PREFIX = "!unset!"
ALREADY_ACTIVATED = ("This account is already activated: its owner signs in with their own password, so no "
                     "activation link can be issued. They can change it themselves once signed in.")


def unusable_password_hash() -> str:
    """A value no password verifies against (not a valid argon2 or bcrypt hash)."""
    return UNSET_PREFIX + secrets.token_hex(16)


def is_activated(db: Database, user_id: int) -> bool:
    """Whether the user has set a password (their hash is no longer the unusable one)."""
    return not (UserDAO(db).password_hash(user_id) or UNSET_PREFIX).startswith(UNSET_PREFIX)


@dataclass
class NewAccount:
    user_id: int
    token: str
    expires_at: datetime


def create_user(db: Database, actor: Actor, data: Mapping[str, Any], now: datetime) -> NewAccount:
    """Insert a users row with an activation token. Call inside the caller's transaction."""
    users = UserDAO(db)
    email = normalize_email(data["email"])
    if users.find_by_email(email):
        raise ValidationFailed("This e-mail address is already in use.", field="email")
    user_id = users.insert({**data, "email": email, "password_hash": unusable_password_hash()}, now)
    token, expires_at = _new_token(db, user_id, actor, now)
    return NewAccount(user_id, token, expires_at)


def _new_token(db: Database, user_id: int, actor: Actor | None, now: datetime) -> tuple[str, datetime]:
    tokens = AccountTokenDAO(db)
    tokens.revoke_unused(user_id, "activation", now)
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(hours=ACTIVATION_HOURS)
    tokens.create(user_id, "activation", hash_token(token), expires_at, actor.user_id if actor and actor.user_id else None, now)
    return token, expires_at


def reissue_activation(db: Database, actor: Actor, user_id: int, now: datetime) -> NewAccount:
    """A new single-use link for an account that was never activated (older unused links stop working).

    Refused (422) once the owner has set a password, for every role: an activation link sets the
    password, so issuing one would let the office take over an account someone already uses."""
    with db.transaction():
        user = UserDAO(db).find_by_id(user_id)
        if user is None:
            raise NotFound("User not found")
        if is_activated(db, user_id):
            raise ValidationFailed(ALREADY_ACTIVATED, field="status")
        token, expires_at = _new_token(db, user_id, actor, now)
        audit.record(db, actor, "activation_link_issued", "user", user_id, now=now)
    return NewAccount(user_id, token, expires_at)


def send_activation(settings: Mapping[str, Any], email: str, first_name: str, link: str) -> mailer.Delivery:
    body = (
        f"Hello {first_name},\n\n"
        f"An account has been created for you at {settings['APP_NAME']}.\n"
        f"Choose your password here (the link works once, for {ACTIVATION_HOURS} hours):\n\n{link}\n"
    )
    return mailer.send_email(settings, email, f"Activate your {settings['APP_NAME']} account", body)


def activation_target(db: Database, token: str, now: datetime) -> dict:
    row = AccountTokenDAO(db).find_usable(hash_token(token or ""), "activation", now)
    if row is None or row["status"] != "active":
        raise NotFound("This activation link is invalid, already used or expired. Ask the office for a new one.")
    return row


def activate(db: Database, token: str, password: str, confirm: str, now: datetime,
             settings: Mapping[str, Any]) -> int:
    """Set the first password through a valid link; the link is then spent."""
    target = activation_target(db, token, now)
    check_password_policy(password, settings, field="password", db=db, user_id=target["user_id"])
    if password != confirm:
        raise ValidationFailed("The passwords do not match.", field="confirm_password")
    with db.transaction():
        if not AccountTokenDAO(db).consume(target["id"], now):
            raise NotFound("This activation link is invalid, already used or expired. Ask the office for a new one.")
        UserDAO(db).set_password(target["user_id"], passwords.hash_password(password), now)
        UserSessionDAO(db).delete_for_user(target["user_id"])
        audit.record(db, Actor(user_id=target["user_id"], role="unknown"), "account_activated", "user",
                     target["user_id"], now=now)
    return target["user_id"]


def archive_user(db: Database, actor: Actor, user_id: int, now: datetime,
                 check_scope: Callable[[dict], None] | None = None) -> None:
    """Archive (never delete); the user's sessions end immediately."""
    users = UserDAO(db)
    with db.transaction():
        user = users.find_by_id(user_id)
        if user is None:
            raise NotFound("User not found")
        if check_scope:
            check_scope(user)
        if user["id"] == actor.user_id:
            raise ValidationFailed("You cannot archive your own account.", field="status")
        users.set_status(user_id, "archived", now)
        UserSessionDAO(db).delete_for_user(user_id)
        audit.record(db, actor, "user_archived", "user", user_id, now=now,
                     before={"status": user["status"]}, after={"status": "archived"})


def restore_user(db: Database, actor: Actor, user_id: int, now: datetime,
                 check_scope: Callable[[dict], None] | None = None) -> None:
    users = UserDAO(db)
    with db.transaction():
        user = users.find_by_id(user_id)
        if user is None:
            raise NotFound("User not found")
        if check_scope:
            check_scope(user)
        users.set_status(user_id, "active", now)
        audit.record(db, actor, "user_restored", "user", user_id, now=now,
                     before={"status": user["status"]}, after={"status": "active"})
