"""Staff accounts (admin only): a users row (role staff) plus a staff_profiles row.

Unlike the original (spec 3.6, 8.3.1), the user and the profile are written in ONE transaction with
the ``staff_created`` audit row, the admin never chooses a password (a single-use activation link is
issued instead), the e-mail must be unused, the branch must exist, and staff can be edited
(``staff_updated``, before/after), archived (sessions end at once) and restored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Mapping

from app.core.database import Database
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.core.pagination import ListQuery, Page
from app.dao.account_token import AccountTokenDAO
from app.dao.branch import BranchDAO
from app.dao.staff import EMPLOYMENT_TYPES, FIELDS, SORTS, StaffDAO
from app.dao.user import UserDAO, normalize_email
from app.dao.user_session import UserSessionDAO
from app.services import accounts, audit
from app.services.scope import Actor

LIST_SORTS = tuple(SORTS)
DEFAULT_SORT = "name"
LIST_FILTERS = {"branch": "id", "status": ("active", "archived")}
# Archived accounts stay hidden unless asked for (an explicit empty status= lists everyone).
LIST_DEFAULTS = {"status": "active"}
ACCOUNT_FIELDS = ("first_name", "last_name", "phone")


@dataclass
class CreatedStaff:
    staff_id: int
    user_id: int
    email: str
    first_name: str
    token: str
    expires_at: datetime


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only an administrator can manage staff accounts.")


def _text(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


def _clean(db: Database, data: Mapping[str, Any], today: date) -> dict[str, Any]:
    row = {name: _text(data.get(name)) for name in (*ACCOUNT_FIELDS, *FIELDS)}
    errors: dict[str, list[str]] = {}
    for name, label in (("first_name", "first name"), ("last_name", "last name")):
        if not row[name]:
            errors[name] = [f"Enter the {label}."]
    branch_id = row["branch_id"]
    if branch_id is None:
        errors["branch_id"] = ["Choose a branch."]
    elif not isinstance(branch_id, int) or not BranchDAO(db).exists(branch_id):
        errors["branch_id"] = ["Choose a branch from the list."]
    row["employment_type"] = row["employment_type"] or "Full-time"
    if row["employment_type"] not in EMPLOYMENT_TYPES:
        errors["employment_type"] = ["Choose Full-time, Part-time or Casual."]
    if row["start_date"] is None:
        row["start_date"] = today  # the original's controller default
    elif not isinstance(row["start_date"], date) or isinstance(row["start_date"], datetime):
        errors["start_date"] = ["Enter a valid date."]
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors=errors)
    return row


def _snapshot(staff: Mapping[str, Any]) -> dict[str, Any]:
    return {name: staff.get(name) for name in ("email", *ACCOUNT_FIELDS, *FIELDS)}


def list_staff(db: Database, actor: Actor, query: ListQuery, now: datetime) -> Page:
    """One page of staff; each row says whether an activation link is still pending (one more query)."""
    _require_admin(actor)
    page = StaffDAO(db).list_page(query)
    pending = AccountTokenDAO(db).pending_for_users([s["user_id"] for s in page.items], now)
    for staff in page.items:
        staff["activation_pending"] = staff["user_id"] in pending
    return page


def branch_options(db: Database, actor: Actor) -> list[dict]:
    _require_admin(actor)
    return BranchDAO(db).options()


def get_staff(db: Database, actor: Actor, staff_id: int, now: datetime | None = None) -> dict:
    _require_admin(actor)
    staff = StaffDAO(db).find(staff_id)
    if staff is None:
        raise NotFound("Staff member not found")
    if now is not None:
        staff["activation_pending"] = bool(AccountTokenDAO(db).pending_for_users([staff["user_id"]], now))
        staff["activated"] = accounts.is_activated(db, staff["user_id"])
    return staff


def create_staff(db: Database, actor: Actor, data: Mapping[str, Any], now: datetime, today: date) -> CreatedStaff:
    """User (role staff, unusable password) + profile + activation token + audit, all or nothing."""
    _require_admin(actor)
    email = normalize_email(data.get("email"))
    if not email:
        raise ValidationFailed("Enter the e-mail address.", field="email")
    row = _clean(db, data, today)
    with db.transaction():
        if UserDAO(db).find_by_email(email):
            raise Conflict("This e-mail address is already in use.", field="email")
        account = accounts.create_user(db, actor, {
            "role": "staff", "first_name": row["first_name"], "last_name": row["last_name"], "email": email,
            "phone": row["phone"], "branch_id": row["branch_id"],
        }, now)
        dao = StaffDAO(db)
        staff_id = dao.insert(account.user_id, row, now)
        audit.record(db, actor, "staff_created", "staff", staff_id, now=now,
                     after={**_snapshot({**row, "email": email}), "user_id": account.user_id})
    return CreatedStaff(staff_id, account.user_id, email, row["first_name"], account.token, account.expires_at)


def update_staff(db: Database, actor: Actor, staff_id: int, data: Mapping[str, Any], now: datetime,
                 today: date) -> None:
    """Profile fields and the account's name, phone and branch (kept equal to the profile's branch)."""
    _require_admin(actor)
    dao = StaffDAO(db)
    with db.transaction():
        current = dao.find(staff_id)
        if current is None:
            raise NotFound("Staff member not found")
        row = _clean(db, {**data, "start_date": data.get("start_date") or current["start_date"]}, today)
        dao.update(staff_id, row, now)
        dao.update_account(current["user_id"], row, now)
        audit.record(db, actor, "staff_updated", "staff", staff_id, now=now,
                     before=_snapshot(current), after=_snapshot({**row, "email": current["email"]}))


def archive_staff(db: Database, actor: Actor, staff_id: int, now: datetime) -> dict:
    """Archive the account (never deleted): every session of that user ends immediately."""
    staff = get_staff(db, actor, staff_id)
    if staff["user_id"] == actor.user_id:
        raise ValidationFailed("You cannot archive your own account.", field="status")
    if staff["status"] == "archived":
        raise ValidationFailed("This account is already archived.", field="status")
    accounts.archive_user(db, actor, staff["user_id"], now)
    return staff


def restore_staff(db: Database, actor: Actor, staff_id: int, now: datetime) -> dict:
    staff = get_staff(db, actor, staff_id)
    if staff["status"] != "archived":
        raise ValidationFailed("This account is not archived.", field="status")
    accounts.restore_user(db, actor, staff["user_id"], now)
    return staff


OFFICE_ROLES = ("staff", "admin")


def change_role(db: Database, actor: Actor, staff_id: int, role: str, now: datetime) -> dict:
    """Move an office account between staff and administrator (admin only; the route asks for a fresh
    re-authentication). Never one's own role, never the last active administrator; the user's sessions
    end so the new role applies from their next sign-in; audited (before/after) in the same transaction."""
    _require_admin(actor)
    if role not in OFFICE_ROLES:
        raise ValidationFailed("Choose Staff or Administrator.", field="role")
    users = UserDAO(db)
    with db.transaction():
        admins = users.active_admin_ids(lock=True)  # first: every demotion serialises on these rows
        staff = StaffDAO(db).find(staff_id)
        if staff is None:
            raise NotFound("Staff member not found")
        if staff["user_id"] == actor.user_id:
            raise ValidationFailed("You cannot change your own role: ask another administrator.", field="role")
        if staff["role"] not in OFFICE_ROLES:
            raise ValidationFailed("Only staff and administrator accounts can change role here.", field="role")
        if staff["role"] == role:
            raise ValidationFailed(f"{staff['first_name']} {staff['last_name']} already has this role.", field="role")
        if staff["role"] == "admin" and [a for a in admins if a != staff["user_id"]] == []:
            raise ValidationFailed("This is the last active administrator: make someone else an administrator "
                                   "first.", field="role")
        users.set_role(staff["user_id"], role, now)
        UserSessionDAO(db).delete_for_user(staff["user_id"])
        audit.record(db, actor, "role_changed", "staff", staff_id, now=now,
                     before={"role": staff["role"]}, after={"role": role})
    return {**staff, "role": role}


def reissue_activation(db: Database, actor: Actor, staff_id: int, now: datetime) -> CreatedStaff:
    """A new single-use link (older unused links stop working); refused for archived accounts and, in
    accounts.reissue_activation, for accounts whose owner has already set a password."""
    staff = get_staff(db, actor, staff_id)
    if staff["status"] != "active":
        raise ValidationFailed("Restore the account before issuing an activation link.", field="status")
    account = accounts.reissue_activation(db, actor, staff["user_id"], now)
    return CreatedStaff(staff_id, staff["user_id"], staff["email"], staff["first_name"], account.token,
                        account.expires_at)
