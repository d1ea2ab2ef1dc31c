"""Accounts created from the server's shell (`flask create-user`): the first administrator of a fresh
server, or any account when no one can sign in.

Nothing new is inserted here: an administrator is a users row made by ``accounts.create_user`` (no
profile, no branch needed); staff, instructors and students go through their own services
(``staff.create_staff``, ``instructors.create``, ``students.register_student``), which check the
fields, refuse a used e-mail address and audit the creation. The acting user is the system
(``scope.SYSTEM``: no user id, so the audit trail shows "System"); one more audit row,
``user_created``, says it came from the command line and who ran it.

Every account starts, as in the office pages, with an unusable password and a 24-hour activation
link. With a password (typed at the prompt or from ORIGIN_NEW_PASSWORD), the link is spent at once
through ``accounts.activate``, which applies the password policy; a refused password rolls the whole
account back. Without one, the caller prints the link.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping

from app.core.database import Database
from app.core.errors import Conflict, ValidationFailed
from app.dao.branch import BranchDAO
from app.dao.user import UserDAO, normalize_email
from app.services import accounts, audit, instructors, password_policy, staff, students
from app.services.scope import SYSTEM

ROLES = ("admin", "staff", "instructor", "student")
BRANCH_ROLES = ("staff", "instructor", "student")


@dataclass
class CreatedAccount:
    user_id: int
    role: str
    email: str
    first_name: str
    branch_id: int | None
    profile_id: int | None  # the staff, instructor or student profile (None for an administrator)
    token: str | None  # the activation link's token; None once a password was set
    expires_at: datetime | None


def resolve_branch(db: Database, value: str | int | None) -> int | None:
    """A branch given by id or by name (case-insensitive); ValidationFailed naming the choices."""
    if value is None or str(value).strip() == "":
        return None
    options = BranchDAO(db).options()
    text = str(value).strip()
    for branch in options:
        if str(branch["id"]) == text or branch["name"].casefold() == text.casefold():
            return int(branch["id"])
    known = ", ".join(f"{b['id']} ({b['name']})" for b in options) or "none yet: an administrator creates one first"
    raise ValidationFailed(f"--branch: no branch {text!r}; the branches are {known}.", field="branch")


def check_new_password(db: Database, password: str, data: Mapping[str, Any], settings: Mapping[str, Any]) -> None:
    """The password policy before anything is written (the same rules apply again at activation), with
    the new account's names and e-mail as context words."""
    local = str(data.get("email") or "").partition("@")[0]
    words = password_policy.context_words(db, None, settings, extra=[
        (data.get("first_name") or "", password_policy.NAME), (data.get("last_name") or "", password_policy.NAME),
        (local, password_policy.EMAIL)])
    password_policy.check(password, context_words=words, settings=settings, field="password")


def prepare(db: Database, role: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The checks that need no password (role, e-mail unused, names, branch), so the command can refuse
    before asking for one; the fields in the form the services take. ``data``: email, first_name,
    last_name, phone, branch_id (an id, see :func:`resolve_branch`)."""
    if role not in ROLES:
        raise ValidationFailed(f"--role: choose one of {', '.join(ROLES)}.", field="role")
    email = normalize_email(data.get("email"))
    if not email or "@" not in email:
        raise ValidationFailed("--email: give the account's e-mail address.", field="email")
    existing = UserDAO(db).find_by_email(email)
    if existing is not None:
        raise Conflict(f"--email: an account with {email} already exists ({existing['role']}, "
                       f"{existing['status']}, user {existing['id']}).", field="email")
    first, last = (data.get("first_name") or "").strip(), (data.get("last_name") or "").strip()
    if not first or not last:
        raise ValidationFailed("--first-name and --last-name: the account needs both.", field="first_name")
    branch_id = data.get("branch_id")
    if role in BRANCH_ROLES and branch_id is None:
        raise ValidationFailed(f"--branch: a {role} account belongs to a branch (give its id or name).",
                               field="branch")
    return {"email": email, "first_name": first, "last_name": last, "phone": data.get("phone") or None,
            "branch_id": branch_id}


def create_account(db: Database, role: str, data: Mapping[str, Any], *, password: str | None, by: str,
                   now: datetime, today: date, settings: Mapping[str, Any]) -> CreatedAccount:
    """One account, all or nothing (see :func:`prepare` for ``data``). ``password`` None: the account
    keeps its activation link (returned). ``by`` is the OS user running the command (for the audit row)."""
    fields = prepare(db, role, data)
    if password is not None:
        check_new_password(db, password, fields, settings)
    email, first, last, branch_id = fields["email"], fields["first_name"], fields["last_name"], fields["branch_id"]
    with db.transaction():
        if UserDAO(db).find_by_email(email) is not None:  # taken since prepare(): the services refuse it too
            raise Conflict(f"--email: an account with {email} already exists.", field="email")
        profile_id: int | None = None
        if role == "admin":
            account = accounts.create_user(db, SYSTEM, {**fields, "role": "admin"}, now)
            user_id, token, expires_at = account.user_id, account.token, account.expires_at
        elif role == "staff":
            made = staff.create_staff(db, SYSTEM, fields, now, today)
            user_id, token, expires_at, profile_id = made.user_id, made.token, made.expires_at, made.staff_id
        elif role == "instructor":
            made_i = instructors.create(db, SYSTEM, fields, now)
            user_id, token, expires_at = made_i.account.user_id, made_i.account.token, made_i.account.expires_at
            profile_id = made_i.instructor_id
        else:
            made_s = students.register_student(db, SYSTEM, fields, now)
            user_id, token, expires_at, profile_id = made_s.user_id, made_s.token, made_s.expires_at, made_s.student_id
        how = "password set on the command line" if password is not None else "activation link issued"
        audit.record(db, SYSTEM, "user_created", "user", user_id, now=now,
                     details=f"flask create-user by {by or 'unknown'}: {role}, {how}"[:255],
                     after={"email": email, "role": role, "first_name": first, "last_name": last,
                            "branch_id": branch_id})
        if password is not None:
            accounts.activate(db, token, password, password, now, settings)
            token, expires_at = None, None
    return CreatedAccount(user_id, role, email, first, branch_id, profile_id, token, expires_at)
