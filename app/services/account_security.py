"""The signed-in user's own security settings: their e-mail address and their active sessions.

- ``change_email``: the new address must be valid and unused; audited (before/after) in the same
  transaction; the blueprint then tells the *old* address (``send_email_changed_notice``), so a
  hijacked session cannot move the account away silently. The route asks for a fresh
  re-authentication first (app.core.reauth).
- ``active_sessions``: the user's sessions still within the idle and absolute limits, each with a
  short device label read from its user agent (``device_label``, no dependency), its address, when
  it signed in and when it was last seen, and whether it is this one.
- ``end_session`` / ``end_other_sessions``: sign one of one's own sessions out (another user's
  session id is NotFound, never a hint that it exists) or every one but this; audited.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from app.core.database import Database
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.dao.user import ROLES, UserDAO, normalize_email
from app.dao.user_session import UserSessionDAO
from app.services import audit, mailer, outbound
from app.services.scope import Actor

EMAIL_MAX_LENGTH = 160


# --------------------------------------------------------------------------- e-mail address

@dataclass
class EmailChange:
    old_email: str
    new_email: str
    first_name: str


def change_email(db: Database, actor: Actor, new_email: str, *, now: datetime) -> EmailChange:
    """Move the actor's sign-in address to ``new_email`` (valid, unused, different); audited."""
    email = normalize_email(new_email)
    if not email:
        raise ValidationFailed("Enter the new e-mail address.", field="new_email")
    if len(email) > EMAIL_MAX_LENGTH or not outbound.valid_email(email):
        raise ValidationFailed("Enter a valid e-mail address, like name@example.com.", field="new_email")
    users = UserDAO(db)
    try:
        with db.transaction():
            user = users.find_by_id(actor.user_id)
            if user is None:
                raise NotFound("Account not found")
            if email == user["email"]:
                raise ValidationFailed("This is already your e-mail address.", field="new_email")
            if users.find_by_email(email):
                raise Conflict("This e-mail address is already used by another account.", field="new_email")
            users.update_account(actor.user_id, {"email": email}, now, roles=ROLES)
            audit.record(db, actor, "email_changed", "user", actor.user_id, now=now,
                         before={"email": user["email"]}, after={"email": email})
    except Conflict as exc:  # the unique index caught a parallel change to the same address
        if exc.field == "new_email":
            raise
        raise Conflict("This e-mail address is already used by another account.", field="new_email") from exc
    return EmailChange(user["email"], email, user["first_name"])


def send_email_changed_notice(settings: Mapping[str, Any], change: EmailChange) -> mailer.Delivery:
    """Tell the old address that the account now signs in with another one (after the commit)."""
    body = (
        f"Hello {change.first_name},\n\n"
        f"The e-mail address of your {settings['APP_NAME']} account was changed to {change.new_email}.\n"
        "From now on you sign in with the new address, and our messages go there.\n\n"
        "If you did not make this change, contact the office at once: someone else may be using your account.\n"
    )
    return mailer.send_email(settings, change.old_email, f"Your {settings['APP_NAME']} e-mail address was changed",
                             body)


SECURITY_CHANGES = {
    "password": ("Your {app} password was changed",
                 "The password of your {app} account was changed, and every session was signed out."),
    "second_factor_on": ("Your {app} second factor was switched on",
                         "A second factor (authenticator app) was switched on for your {app} account."),
    "second_factor_off": ("Your {app} second factor was switched off",
                          "The second factor (authenticator app) of your {app} account was switched off: "
                          "signing in now needs the password only."),
    "recovery_codes": ("New {app} recovery codes",
                       "New recovery codes were made for your {app} account; the earlier ones no longer work."),
}


def send_security_notice(db: Database, user_id: int, change: str, settings: Mapping[str, Any]) -> mailer.Delivery:
    """Tell the owner by e-mail that a security setting of their account changed (ASVS 4.0.3 V2.2.3,
    V2.5.5), after the change committed; the wording says what to do if it was not them."""
    user = UserDAO(db).find_by_id(user_id)
    subject, what = (text.format(app=settings["APP_NAME"]) for text in SECURITY_CHANGES[change])
    body = (f"Hello {user['first_name']},\n\n{what}\n\n"
            "If you did not make this change, contact the office at once: someone else may be using your account.\n")
    return mailer.send_email(settings, user["email"], subject, body)


# --------------------------------------------------------------------------- sessions

@dataclass
class SessionRow:
    id: int
    device: str
    ip_address: str | None
    created_at: datetime
    last_seen_at: datetime
    current: bool


_BROWSERS = (  # order matters: Edge and Opera also say "Chrome", Chrome also says "Safari"
    (re.compile(r"\bEdg(?:e|A|iOS)?/"), "Edge"),
    (re.compile(r"\b(?:OPR|Opera)/"), "Opera"),
    (re.compile(r"\bSamsungBrowser/"), "Samsung Internet"),
    (re.compile(r"\b(?:Firefox|FxiOS)/"), "Firefox"),
    (re.compile(r"\b(?:Chrome|HeadlessChrome|CriOS|Chromium)/"), "Chrome"),
    (re.compile(r"\bVersion/[\d.]+.*\bSafari/"), "Safari"),
    (re.compile(r"\bcurl/"), "curl"),
)
_SYSTEMS = (
    (re.compile(r"\biPhone\b"), "iPhone"),
    (re.compile(r"\biPad\b"), "iPad"),
    (re.compile(r"\bAndroid\b"), "Android"),
    (re.compile(r"\bCrOS\b"), "ChromeOS"),
    (re.compile(r"\bWindows\b"), "Windows"),
    (re.compile(r"\bMac OS X\b|\bMacintosh\b"), "macOS"),
    (re.compile(r"\bLinux\b"), "Linux"),
)


def device_label(user_agent: str | None) -> str:
    """A short readable label for a user agent: "Chrome on Windows", "Safari on iPhone", "Firefox",
    "Windows device", or "Unknown device". Approximate by nature (user agents are free text)."""
    text = (user_agent or "")[:255]
    browser = next((name for pattern, name in _BROWSERS if pattern.search(text)), None)
    system = next((name for pattern, name in _SYSTEMS if pattern.search(text)), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser:
        return browser
    if system:
        return f"{system} device"
    return "Unknown device"


def active_sessions(db: Database, actor: Actor, current_session_id: int, *, now: datetime,
                    settings: Mapping[str, Any]) -> list[SessionRow]:
    """The actor's own active sessions, this one first, then the most recently seen."""
    rows = UserSessionDAO(db).list_active_for_user(
        actor.user_id, now - timedelta(minutes=int(settings["SESSION_IDLE_MINUTES"])),
        now - timedelta(hours=int(settings["SESSION_ABSOLUTE_HOURS"])))
    sessions = [SessionRow(r["id"], device_label(r["user_agent"]), r["ip_address"], r["created_at"],
                           r["last_seen_at"], r["id"] == current_session_id) for r in rows]
    return sorted(sessions, key=lambda s: not s.current)  # stable: the DAO's order otherwise


def end_session(db: Database, actor: Actor, session_id: int, current_session_id: int, *, now: datetime) -> None:
    """Sign out one other session of the actor's own; NotFound for anyone else's (or one already gone)."""
    if session_id == current_session_id:
        raise ValidationFailed("This is the session you are using: sign out from the menu instead.", field="session")
    with db.transaction():
        if not UserSessionDAO(db).delete_of_user(actor.user_id, session_id):
            raise NotFound("No such session: it may have signed out or expired already.")
        audit.record(db, actor, "session_ended", "user", actor.user_id, now=now, details=f"session {session_id}")


def end_other_sessions(db: Database, actor: Actor, current_session_id: int, *, now: datetime) -> int:
    """Sign out every session of the actor's but this one; returns how many ended (audited)."""
    with db.transaction():
        ended = UserSessionDAO(db).delete_others(actor.user_id, current_session_id)
        audit.record(db, actor, "other_sessions_ended", "user", actor.user_id, now=now,
                     details=f"{ended} session{'s' if ended != 1 else ''} signed out")
    return ended
