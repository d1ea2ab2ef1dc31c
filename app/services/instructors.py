"""Instructors: profiles and accounts, accreditation, unavailability windows, weekly working hours.

Scope: admin sees every instructor; staff only those of their branch; an instructor only their own
profile. Anything outside the scope is NotFound. Admin/staff create, edit, archive and restore; the
instructor and the office both manage availability (notes, unavailability windows, working hours),
which the original never allowed an instructor to do.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Mapping

from app.core import localtime
from app.core.database import Database
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.pagination import ListQuery, Page
from app.dao.branch import BranchDAO
from app.dao.instructor import InstructorDAO, accreditation_state
from app.dao.schedule import ScheduleDAO
from app.dao.user import UserDAO, normalize_email
from app.services import accounts, audit
from app.services.windows import checked_window
from app.services.scope import Actor

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_EXPERIENCE_YEARS = 70
MAX_RATING = Decimal("5.00")
UPCOMING_LIMIT = 20
# The list hides archived instructors unless asked for (an explicit empty status= lists everyone).
LIST_DEFAULTS = {"status": "active"}

_AUDITED = ("first_name", "last_name", "email", "phone", "branch_id", "certification_number",
            "accreditation_expiry", "experience_years", "availability_notes", "bio", "rating")


@dataclass
class CreatedInstructor:
    instructor_id: int
    account: accounts.NewAccount
    email: str
    first_name: str


# --------------------------------------------------------------------------- scope

def _load(db: Database, instructor_id: int) -> dict:
    profile = InstructorDAO(db).find(instructor_id)
    if profile is None:
        raise NotFound("Instructor not found")
    return profile


def _require_office_scope(actor: Actor, profile: dict) -> None:
    actor.require_branch(profile["branch_id"])  # NotFound for non-office roles and other branches


def _require_view_scope(actor: Actor, profile: dict) -> None:
    if actor.is_office:
        _require_office_scope(actor, profile)
    elif not (actor.role == "instructor" and actor.instructor_id is not None
              and actor.instructor_id == profile["id"]):
        raise NotFound("Instructor not found")


def get(db: Database, actor: Actor, instructor_id: int) -> dict:
    """A profile the actor may see (office in scope, or the instructor themself)."""
    profile = _load(db, instructor_id)
    _require_view_scope(actor, profile)
    return profile


def get_for_office(db: Database, actor: Actor, instructor_id: int) -> dict:
    profile = _load(db, instructor_id)
    _require_office_scope(actor, profile)
    return profile


# --------------------------------------------------------------------------- reading

def list_page(db: Database, actor: Actor, query: ListQuery, today: date) -> Page:
    if not actor.is_office:
        raise NotFound("Not found")
    return InstructorDAO(db).list_page(query, today, only_branch=actor.branch_filter())


def profile_page(db: Database, actor: Actor, instructor_id: int, today: date, now: datetime,
                 default_zone: str) -> dict:
    """Everything the profile page shows, in a fixed number of queries. ``now`` is naive UTC; windows are
    wall-clock values in the instructor's branch zone (else ``default_zone``), so one is listed until it
    is over there."""
    profile = get(db, actor, instructor_id)
    zone = localtime.zone_for(profile.get("branch_timezone"), default_zone)
    local_now = localtime.from_utc_naive(now, zone).replace(tzinfo=None)
    dao = InstructorDAO(db)
    profile["accreditation"] = accreditation_state(profile["accreditation_expiry"], today)
    return {
        "instructor": profile,
        "courses": dao.courses(instructor_id),
        "upcoming": ScheduleDAO(db).upcoming(today, UPCOMING_LIMIT, instructor_id=instructor_id),
        "unavailability": dao.unavailability(instructor_id, ending_after=local_now),
        "hours": dao.working_hours(instructor_id),
    }


# --------------------------------------------------------------------------- checks

def _check_branch(db: Database, actor: Actor, branch_id: int | None) -> None:
    if branch_id is None:
        raise ValidationFailed("Choose a branch.", field="branch_id")
    allowed = actor.branch_filter()
    if (allowed is not None and branch_id != allowed) or not BranchDAO(db).exists(branch_id):
        raise ValidationFailed("Choose one of your branches.", field="branch_id")


def _check_profile(data: Mapping[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    for name in ("first_name", "last_name", "email"):
        if not (data.get(name) or "").strip():
            errors[name] = ["This field is required."]
    years = data.get("experience_years")
    if years is not None and not 0 <= int(years) <= MAX_EXPERIENCE_YEARS:
        errors["experience_years"] = [f"Enter a number of years from 0 to {MAX_EXPERIENCE_YEARS}."]
    rating = data.get("rating")
    if rating is not None and not (Decimal(rating).is_finite() and Decimal("0") <= Decimal(rating) <= MAX_RATING):
        errors["rating"] = ["Enter a rating from 0.00 to 5.00."]
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors=errors)


def _check_email_free(db: Database, email: str, own_user_id: int | None = None) -> None:
    existing = UserDAO(db).find_by_email(email)
    if existing is not None and existing["id"] != own_user_id:
        raise Conflict("This e-mail address is already in use.", field="email")


def _audit_view(profile: Mapping[str, Any]) -> dict:
    return {k: profile.get(k) for k in _AUDITED}


# --------------------------------------------------------------------------- writing

def create(db: Database, actor: Actor, data: Mapping[str, Any], now: datetime) -> CreatedInstructor:
    """User (role instructor, activation link) + profile + audit in one transaction."""
    if not actor.is_office:
        raise NotFound("Not found")
    _check_profile(data)
    email = normalize_email(data["email"])
    with db.transaction():
        _check_branch(db, actor, data.get("branch_id"))
        _check_email_free(db, email)
        account = accounts.create_user(db, actor, {
            "role": "instructor", "first_name": data["first_name"].strip(), "last_name": data["last_name"].strip(),
            "email": email, "phone": data.get("phone"), "branch_id": data["branch_id"],
        }, now)
        dao = InstructorDAO(db)
        instructor_id = dao.insert(account.user_id, dict(data), now)
        audit.record(db, actor, "instructor_created", "instructor", instructor_id, now=now,
                     after=_audit_view(dao.find(instructor_id)))
    return CreatedInstructor(instructor_id, account, email, data["first_name"].strip())


def update(db: Database, actor: Actor, instructor_id: int, data: Mapping[str, Any], now: datetime) -> None:
    dao = InstructorDAO(db)
    with db.transaction():
        before = get_for_office(db, actor, instructor_id)
        _check_profile(data)
        _check_branch(db, actor, data.get("branch_id"))
        email = normalize_email(data["email"])
        _check_email_free(db, email, own_user_id=before["user_id"])
        clean = {**data, "email": email, "first_name": data["first_name"].strip(),
                 "last_name": data["last_name"].strip()}
        dao.update(instructor_id, clean, now)
        dao.update_account(before["user_id"], clean, now)
        after = dao.find(instructor_id)
        audit.record(db, actor, "instructor_updated", "instructor", instructor_id, now=now,
                     before=_audit_view(before), after=_audit_view(after))


def archive(db: Database, actor: Actor, instructor_id: int, now: datetime) -> None:
    """Archive the instructor's account (never deleted); their sessions end at once."""
    with db.transaction():
        profile = get_for_office(db, actor, instructor_id)
        if profile["status"] == "archived":
            raise ValidationFailed("This instructor is already archived.", field="status")
        accounts.archive_user(db, actor, profile["user_id"], now)


def restore(db: Database, actor: Actor, instructor_id: int, now: datetime) -> None:
    with db.transaction():
        profile = get_for_office(db, actor, instructor_id)
        if profile["status"] != "archived":
            raise ValidationFailed("This instructor is not archived.", field="status")
        accounts.restore_user(db, actor, profile["user_id"], now)


def reissue_activation(db: Database, actor: Actor, instructor_id: int, now: datetime) -> CreatedInstructor:
    """A fresh 24-hour activation link (earlier unused links are revoked).

    Refused for archived accounts and for accounts that already chose a password: a link would let
    the office set an active instructor's password.
    """
    profile = get_for_office(db, actor, instructor_id)
    if profile["status"] == "archived":
        raise ValidationFailed("Restore this instructor before issuing an activation link.", field="status")
    if profile["activated"]:
        raise ValidationFailed("This account is already activated; the instructor signs in with their own "
                               "password.", field="status")
    account = accounts.reissue_activation(db, actor, profile["user_id"], now)
    return CreatedInstructor(instructor_id, account, profile["email"], profile["first_name"])


# --------------------------------------------------------------------------- availability

def add_unavailability(db: Database, actor: Actor, instructor_id: int, start: datetime, end: datetime,
                       reason: str | None, now: datetime) -> int:
    reason = checked_window(start, end, reason)
    dao = InstructorDAO(db)
    with db.transaction():
        get(db, actor, instructor_id)
        window_id = dao.add_unavailability(instructor_id, start, end, reason, now)
        audit.record(db, actor, "instructor_unavailability_added", "instructor_unavailability", window_id, now=now,
                     after={"instructor_id": instructor_id, "start_datetime": start, "end_datetime": end,
                            "reason": reason})
    return window_id


def delete_unavailability(db: Database, actor: Actor, instructor_id: int, window_id: int, now: datetime) -> None:
    dao = InstructorDAO(db)
    with db.transaction():
        get(db, actor, instructor_id)
        window = dao.find_unavailability(instructor_id, window_id)
        if window is None:
            raise NotFound("Unavailability window not found")
        dao.delete_unavailability(instructor_id, window_id)
        audit.record(db, actor, "instructor_unavailability_deleted", "instructor_unavailability", window_id, now=now,
                     before=window)


def hours_page(db: Database, actor: Actor, instructor_id: int) -> dict:
    profile = get(db, actor, instructor_id)
    return {"instructor": profile, "hours": InstructorDAO(db).working_hours(instructor_id)}


def _describe_week(hours: list[Mapping[str, Any]]) -> list[str]:
    return [f"{WEEKDAYS[int(h['weekday'])][:3]} {_hm(h['start_time'])}-{_hm(h['end_time'])}" for h in hours]


def _hm(value: Any) -> str:
    return value.strftime("%H:%M") if hasattr(value, "strftime") else str(value)[:5]


def save_availability(db: Database, actor: Actor, instructor_id: int, notes: str | None,
                      week: Mapping[int, tuple[time | None, time | None]], now: datetime) -> None:
    """Replace the weekly working hours and the availability notes in one transaction.

    ``week`` maps weekday (0 = Monday .. 6 = Sunday) to (start, end); a day with neither is a day off.
    """
    errors: dict[str, list[str]] = {}
    hours = []
    for weekday, (start, end) in sorted(week.items()):
        if not 0 <= int(weekday) <= 6:
            raise ValidationFailed("Unknown weekday.")
        if start is None and end is None:
            continue
        if start is None or end is None:
            errors[f"start_{weekday}" if start is None else f"end_{weekday}"] = ["Enter both times, or neither."]
        elif end <= start:
            errors[f"end_{weekday}"] = ["The end must be after the start."]
        else:
            hours.append({"weekday": int(weekday), "start_time": start, "end_time": end})
    notes = (notes or "").strip() or None
    if notes is not None and len(notes) > 2000:
        errors["availability_notes"] = ["At most 2000 characters."]
    if errors:
        raise ValidationFailed("Please correct the highlighted days.", errors=errors)
    dao = InstructorDAO(db)
    with db.transaction():
        profile = get(db, actor, instructor_id)
        before = {"availability_notes": profile["availability_notes"],
                  "hours": _describe_week(dao.working_hours(instructor_id))}
        dao.replace_working_hours(instructor_id, hours, now)
        dao.set_availability_notes(instructor_id, notes, now)
        audit.record(db, actor, "instructor_availability_updated", "instructor", instructor_id, now=now,
                     before=before, after={"availability_notes": notes, "hours": _describe_week(hours)})
