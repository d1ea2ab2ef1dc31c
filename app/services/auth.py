"""Authentication and the server-side session registry.

Rules:
- One generic failure for unknown e-mail, wrong password and archived account;
  an unknown e-mail still costs one hash verification (no timing hint).
- Per-account throttling in the database: LOGIN_MAX_FAILURES failures within
  LOGIN_WINDOW_MINUTES lock the account for LOGIN_LOCK_MINUTES after the latest
  failure. Attempts refused while locked are not verified and not counted. The check
  and the recording of the attempt are one transaction holding the account's users row,
  and the attempt is recorded as a failure before the password is verified, so
  parallel guesses cannot all slip through between the check and the record.
- A login creates a random session token; only its SHA-256 is stored. Logout,
  archiving a user and changing a password delete registry rows, so a copied
  cookie stops working at once. Idle and absolute limits are checked here.
- Legacy bcrypt ($2y$) hashes verify and are replaced by argon2id at the next
  successful login.
- Second factor (services.second_factor): ``second_factor_required`` decides whether a user must
  complete a second step (a role in SECOND_FACTOR_ROLES, or any enrolled user); sessions record
  ``second_factor_at`` once done. While that step is due the password attempt stays recorded as a
  failure: only the passed code turns the count back to zero, so knowing the password never resets
  the failures of a code being guessed.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from app.core import passwords
from app.core.database import Database
from app.core.errors import AuthenticationFailed, TooManyAttempts, ValidationFailed
from app.dao.login_attempt import LoginAttemptDAO
from app.dao.second_factor import SecondFactorDAO
from app.dao.user import UserDAO, normalize_email
from app.dao.user_session import UserSessionDAO
from app.services import audit
from app.services.scope import Actor

log = logging.getLogger(__name__)

GENERIC_FAILURE = "The e-mail address or password is incorrect."


@dataclass
class SessionUser:
    """The authenticated actor as the rest of the app sees it."""

    id: int
    role: str
    first_name: str
    last_name: str
    email: str
    branch_id: int | None
    session_id: int
    token: str
    second_factor_done: bool = True
    # The user has a TOTP factor switched on (user_second_factors.enabled_at).
    second_factor_enrolled: bool = False
    # When this session last confirmed the password (and code): sign-in or /auth/confirm (REAUTH_MINUTES).
    reauthenticated_at: datetime | None = None
    # The instructor or student profile id, read with the session (resolve_session); None otherwise.
    # ``profiles_known`` says they were read (a user built at sign-in has not: the Actor looks them up).
    instructor_id: int | None = None
    student_id: int | None = None
    profiles_known: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass
class LoginResult:
    user: SessionUser
    rehashed: bool


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def second_factor_required(role: str, settings: Mapping[str, Any], enrolled: bool = False) -> bool:
    """Whether a sign-in must pass the second step: the role is in SECOND_FACTOR_ROLES (enrolled or
    not: not yet enrolled means enrolment first), or the user has enrolled (instructors, students)."""
    from app.config import second_factor_roles

    return role in second_factor_roles(settings) or bool(enrolled)


def lock_status(db: Database, email: str, now: datetime, settings: Mapping[str, Any]) -> int:
    """Seconds until the account may try again (0 = not locked)."""
    window_start = now - timedelta(minutes=int(settings["LOGIN_WINDOW_MINUTES"]))
    stats = LoginAttemptDAO(db).failures_since(normalize_email(email), window_start)
    if stats["failures"] < int(settings["LOGIN_MAX_FAILURES"]) or stats["latest"] is None:
        return 0
    unlock_at = stats["latest"] + timedelta(minutes=int(settings["LOGIN_LOCK_MINUTES"]))
    return max(0, int((unlock_at - now).total_seconds()))


def ip_lock_status(db: Database, ip: str | None, now: datetime, settings: Mapping[str, Any]) -> int:
    """Seconds until this client address may try again (0 = not throttled).

    A second line of defence against credential stuffing across many accounts: at most
    LOGIN_MAX_FAILURES_PER_IP failures per LOGIN_WINDOW_MINUTES from one address.
    """
    limit = int(settings.get("LOGIN_MAX_FAILURES_PER_IP", 0) or 0)
    if not ip or limit <= 0:
        return 0
    window = timedelta(minutes=int(settings["LOGIN_WINDOW_MINUTES"]))
    stats = LoginAttemptDAO(db).failures_from_ip(ip, now - window)
    if stats["failures"] < limit or stats["latest"] is None:
        return 0
    return max(0, int((stats["latest"] + window - now).total_seconds()))


def _throttled_password_check(db: Database, email: str, password: str, *, ip: str | None, now: datetime,
                              settings: Mapping[str, Any], failed_action: str, failure: str) -> tuple[dict, int]:
    """The password step of sign-in and of re-authentication: (credentials row, attempt id) or raises.

    Check-and-record in one transaction holding the account's users row (see ``login``); a refusal
    while locked is TooManyAttempts and is neither verified nor counted; a wrong password (or an
    unknown or archived account) is audited as ``failed_action`` and raises AuthenticationFailed with
    ``failure``. The caller turns the attempt into a success (``mark_succeeded``) once it has passed."""
    users = UserDAO(db)
    attempts = LoginAttemptDAO(db)
    with db.transaction():
        record = users.find_credentials(email, lock=True)
        retry_after = max(lock_status(db, email, now, settings), ip_lock_status(db, ip, now, settings))
        if not retry_after:
            attempt_id = attempts.record(email, record["id"] if record else None, ip, False, now)
    if retry_after:
        log.warning("%s refused: account locked (email hash %s)", failed_action, hash_token(email)[:12])
        minutes = max(1, (retry_after + 59) // 60)
        raise TooManyAttempts(
            f"Too many failed sign-in attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            retry_after=retry_after,
        )

    if record is None:
        passwords.burn_time(password)
        ok = False
    else:
        ok = passwords.verify_password(record["password_hash"], password) and record["status"] == "active"

    if not ok:
        with db.transaction():
            audit.record(db, Actor(user_id=record["id"], role=record["role"]) if record else None,
                         failed_action, "user", record["id"] if record else None, now=now, ip=ip,
                         details=None if record else "unknown e-mail")
        log.info("%s (user id %s)", failed_action, record["id"] if record else "unknown")
        raise AuthenticationFailed(failure)
    return record, attempt_id


def login(
    db: Database,
    email: str,
    password: str,
    *,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
    settings: Mapping[str, Any],
) -> LoginResult:
    """Check credentials and open a session; raises AuthenticationFailed or TooManyAttempts.

    Throttling is check-and-record in one transaction: the account's users row is locked, the
    recent failures are counted and, unless locked out, the attempt is recorded as a failure
    *before* the password is verified; only then is the hash checked (outside the transaction, so
    no lock is held during the slow part). Parallel guesses therefore each see the others'
    attempts and at most LOGIN_MAX_FAILURES of them are ever verified. A success turns its
    attempt into a success (the "failures since the last success" rule) and opens the session.
    The per-address limit is read in the same transaction but nothing serialises attempts from
    one address across different accounts, so parallel requests can overshoot it by their number:
    it is a best-effort second line of defence.
    """
    email = normalize_email(email)
    users = UserDAO(db)
    attempts = LoginAttemptDAO(db)
    record, attempt_id = _throttled_password_check(db, email, password, ip=ip, now=now, settings=settings,
                                                   failed_action="login_failed", failure=GENERIC_FAILURE)

    token = secrets.token_urlsafe(32)
    rehashed = passwords.needs_rehash(record["password_hash"])
    # A password-only sign-in is also a fresh re-authentication; with a code due, completing that step
    # sets it (second_factor.complete_login). A required role not yet enrolled has only the password to
    # confirm, so its (enrolment-only) session counts as re-authenticated now.
    enrolled = SecondFactorDAO(db).is_enabled(record["id"])
    second_factor_due = second_factor_required(record["role"], settings, enrolled)
    reauthenticated_at = None if second_factor_due and enrolled else now
    with db.transaction():
        if rehashed:
            users.replace_hash(record["id"], passwords.hash_password(password), now)
        users.record_login(record["id"], now)
        if not second_factor_due:  # else the passed code marks the success (module doc)
            attempts.mark_succeeded(attempt_id)
        session_id = UserSessionDAO(db).create(record["id"], hash_token(token), now, ip, user_agent,
                                               reauthenticated_at=reauthenticated_at)
        audit.record(db, Actor(user_id=record["id"], role=record["role"]), "login", "user", record["id"],
                     now=now, ip=ip, details="password rehashed" if rehashed else None)
    user = users.find_by_id(record["id"])
    log.info("login ok (user id %s, role %s)", record["id"], record["role"])
    return LoginResult(
        user=SessionUser(
            id=user["id"],
            role=user["role"],
            first_name=user["first_name"],
            last_name=user["last_name"],
            email=user["email"],
            branch_id=user["branch_id"],
            session_id=session_id,
            token=token,
            second_factor_done=not second_factor_due,
            second_factor_enrolled=enrolled,
            reauthenticated_at=reauthenticated_at,
        ),
        rehashed=rehashed,
    )


def resolve_session(db: Database, token: str, now: datetime, settings: Mapping[str, Any]) -> SessionUser | None:
    """The user behind a session token, or None when unknown, expired, or the user is archived."""
    if not token:
        return None
    sessions = UserSessionDAO(db)
    row = sessions.find_with_user(hash_token(token))
    if row is None:
        return None
    idle_limit = timedelta(minutes=int(settings["SESSION_IDLE_MINUTES"]))
    absolute_limit = timedelta(hours=int(settings["SESSION_ABSOLUTE_HOURS"]))
    expired = now - row["last_seen_at"] > idle_limit or now - row["session_created_at"] > absolute_limit
    if expired or row["status"] != "active":
        sessions.delete(row["session_id"])
        return None
    if (now - row["last_seen_at"]).total_seconds() >= int(settings["SESSION_TOUCH_SECONDS"]):
        sessions.touch(row["session_id"], now)
    return SessionUser(
        id=row["id"],
        role=row["role"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        email=row["email"],
        branch_id=row["branch_id"],
        session_id=row["session_id"],
        token=token,
        second_factor_done=row["second_factor_at"] is not None
        or not second_factor_required(row["role"], settings, row["second_factor_enabled_at"] is not None),
        second_factor_enrolled=row["second_factor_enabled_at"] is not None,
        reauthenticated_at=row["reauthenticated_at"],
        instructor_id=row.get("instructor_profile_id"),
        student_id=row.get("student_profile_id"),
        profiles_known=True,
    )


def logout(db: Database, token: str, actor: Actor | None = None, now: datetime | None = None) -> None:
    with db.transaction():
        UserSessionDAO(db).delete_by_hash(hash_token(token))
        if actor is not None and now is not None:
            audit.record(db, actor, "logout", "user", actor.user_id, now=now)


def renew_token(db: Database, session_id: int) -> str:
    """Issue a new token for a session whose privilege just rose (the second step passed): the cookie
    from before that step no longer works (no fixation across the step). Returns the new token."""
    token = secrets.token_urlsafe(32)
    with db.transaction():
        UserSessionDAO(db).replace_token(session_id, hash_token(token))
    return token


def end_all_sessions(db: Database, user_id: int) -> int:
    return UserSessionDAO(db).delete_for_user(user_id)


REAUTH_FAILURE = "The password is incorrect."
CODE_NEEDED = "Enter the 6-digit code from your authenticator app, or one of your recovery codes."


def recently_authenticated(user: Any, now: datetime, settings: Mapping[str, Any]) -> bool:
    """Whether ``user`` (a SessionUser) confirmed the password (and code) within REAUTH_MINUTES."""
    at = getattr(user, "reauthenticated_at", None)
    if at is None:
        return False
    return timedelta(0) <= now - at <= timedelta(minutes=int(settings["REAUTH_MINUTES"]))


def reauthenticate(db: Database, user: SessionUser, password: str, code: str | None, *, now: datetime,
                   settings: Mapping[str, Any], ip: str | None = None) -> str:
    """Confirm the signed-in user's password (and second factor when enrolled) for this session.

    The password goes through the sign-in throttle (``_throttled_password_check``): a wrong one counts
    toward the account lock and a locked account is refused unverified (TooManyAttempts). When the
    user is enrolled, the code is checked by second_factor.verify (its own throttle and messages);
    the password attempt only becomes a success once the code has passed too, so a right password
    can never reset the failure count of a code being guessed. Returns "password", "totp" or
    "recovery" (what was confirmed besides the password, for the audit row)."""
    from app.services import second_factor  # imported here: second_factor builds on this module's DAOs

    enrolled = second_factor.is_enrolled(db, user.id)
    if enrolled and not (code or "").strip():
        raise ValidationFailed(CODE_NEEDED, field="code")
    record, attempt_id = _throttled_password_check(db, user.email, password, ip=ip, now=now, settings=settings,
                                                   failed_action="reauth_failed", failure=REAUTH_FAILURE)
    if record["id"] != user.id:  # the address moved to another account meanwhile: never confirm across
        raise AuthenticationFailed(REAUTH_FAILURE)
    method = "password"
    if enrolled:
        method = second_factor.verify(db, user.id, code, now=now, settings=settings, ip=ip)
    with db.transaction():
        LoginAttemptDAO(db).mark_succeeded(attempt_id)
        UserSessionDAO(db).set_reauthenticated(user.session_id, now)
        audit.record(db, Actor(user_id=user.id, role=user.role), "reauthenticated", "user", user.id, now=now,
                     ip=ip, details=None if method == "password" else f"password and {method} code")
    user.reauthenticated_at = now
    return method


def check_password_policy(password: str, settings: Mapping[str, Any], field: str = "new_password", *,
                          db: Database | None = None, user_id: int | None = None) -> None:
    """The password policy (services.password_policy): length, common passwords and, given ``db``, the
    context words of the school, its branches and the user ``user_id``."""
    from app.services import password_policy

    words = password_policy.context_words(db, user_id, settings) if db is not None else ()
    password_policy.check(password, context_words=words, settings=settings, field=field)


def change_password(
    db: Database,
    user_id: int,
    current_password: str,
    new_password: str,
    *,
    now: datetime,
    settings: Mapping[str, Any],
    ip: str | None = None,
) -> None:
    """Change a password after checking the current one; every session of the user ends.

    The current password goes through the sign-in throttle (a wrong one counts toward the account
    lock; a locked account is refused unverified), so this form cannot be used to guess it."""
    users = UserDAO(db)
    email = users.find_by_id(user_id)["email"]
    try:
        _record, attempt_id = _throttled_password_check(
            db, email, current_password, ip=ip, now=now, settings=settings,
            failed_action="password_change_failed", failure="The current password is incorrect.")
    except AuthenticationFailed as exc:
        raise ValidationFailed(exc.message, field="current_password") from exc
    with db.transaction():  # the right password: not a failure, whatever the new one turns out to be
        LoginAttemptDAO(db).mark_succeeded(attempt_id)
    check_password_policy(new_password, settings, db=db, user_id=user_id)
    if new_password == current_password:
        raise ValidationFailed("Choose a password different from the current one.", field="new_password")
    with db.transaction():
        users.set_password(user_id, passwords.hash_password(new_password), now)
        end_all_sessions(db, user_id)
