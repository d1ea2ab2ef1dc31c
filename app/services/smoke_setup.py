"""The smoke test's accounts in one step (``flask smoke-setup``; docs/operations.md, "Post-deploy smoke
test"): a branch of their own, a course, an office account with its second factor switched on, an
accredited instructor working every day and allocated to the course, and a student enrolled in it.

Everything goes through the services the office pages use (branches, courses, instructors,
enrolments, the second factor), acting as the system, so every row is checked and audited as usual.
The passwords are random (24 characters) and, with the office account's TOTP key, returned once for
the operator's ``instance/smoke.env``. Refused when the branch or any of the three e-mail addresses
exists already: the operator removes or renames them first (there is no hidden reset).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping

from app.core.database import Database
from app.core.errors import Conflict, ValidationFailed
from app.dao.branch import BranchDAO
from app.dao.user import UserDAO
from app.services import branches, courses, enrollments, instructors, operator_accounts, second_factor
from app.services.scope import SYSTEM, Actor

BRANCH_NAME = "Smoke test"
COURSE_TITLE = "Smoke test course"
LOCAL_PARTS = {"staff": "smoke-office", "instructor": "smoke-instructor", "student": "smoke-student"}
NAMES = {"staff": ("Smoke", "Office"), "instructor": ("Smoke", "Teacher"), "student": ("Smoke", "Learner")}
WORKING_HOURS = (time(7, 0), time(19, 0))


@dataclass
class SmokeAccounts:
    branch_id: int
    course_id: int
    enrollment_id: int
    emails: dict[str, str]  # role -> e-mail
    passwords: dict[str, str]  # role -> password (shown once)
    totp_secret: str  # the office account's base32 key
    recovery_codes: list[str]

    def env_lines(self, base_url: str) -> list[str]:
        """instance/smoke.env, single-quoted for sh (the values hold no quote)."""
        lines = [f"SMOKE_BASE_URL='{base_url}'"]
        for role, prefix in (("staff", "ADMIN"), ("instructor", "INSTRUCTOR"), ("student", "STUDENT")):
            lines.append(f"SMOKE_{prefix}_EMAIL='{self.emails[role]}'")
            lines.append(f"SMOKE_{prefix}_PASSWORD='{self.passwords[role]}'")
        lines.append(f"SMOKE_ADMIN_TOTP_SECRET='{self.totp_secret}'")
        return lines


def _password() -> str:
    return secrets.token_urlsafe(18)  # 24 URL-safe characters: no quote, no space, no $ for sh


def set_up(db: Database, domain: str, *, by: str, now: datetime, today: date,
           settings: Mapping[str, Any]) -> SmokeAccounts:
    """Create the smoke branch, course and accounts (see the module text) in one transaction, refused
    up front when any of it exists."""
    domain = (domain or "").strip().lower().lstrip("@")
    if not domain or "." not in domain or any(c in domain for c in " /@'\""):
        raise ValidationFailed("--domain: give the e-mail domain of the smoke accounts, e.g. school.example",
                               field="domain")
    emails = {role: f"{local}@{domain}" for role, local in LOCAL_PARTS.items()}
    taken = [email for email in emails.values() if UserDAO(db).find_by_email(email) is not None]
    if taken:
        raise Conflict(f"the smoke accounts exist already ({', '.join(taken)}): flask smoke-setup runs once; "
                       "keep the instance/smoke.env it wrote, or remove those accounts first", field="email")
    if any(b["name"].casefold() == BRANCH_NAME.casefold() for b in BranchDAO(db).options()):
        raise Conflict(f"a branch named {BRANCH_NAME!r} exists already: rename or remove it first", field="branch")

    with db.transaction():  # one transaction: a refusal at any step leaves nothing behind
        branch_id = branches.create_branch(db, SYSTEM, {"name": BRANCH_NAME, "city": "Smoke test",
                                                        "manager_name": "Operations"}, now)
        passwords = {role: _password() for role in LOCAL_PARTS}
        made = {}
        for role in ("staff", "instructor", "student"):
            first, last = NAMES[role]
            data = {"email": emails[role], "first_name": first, "last_name": last, "branch_id": branch_id,
                    "phone": "0400000000" if role == "student" else None}
            made[role] = operator_accounts.create_account(db, role, data, password=passwords[role], by=by, now=now,
                                                          today=today, settings=settings)
        instructor_id = made["instructor"].profile_id
        profile = instructors.get_for_office(db, SYSTEM, instructor_id)
        instructors.update(db, SYSTEM, instructor_id, {
            **profile, "certification_number": "SMOKE-TEST", "accreditation_expiry": today + timedelta(days=365),
            "branch_id": branch_id}, now)
        instructors.save_availability(db, SYSTEM, instructor_id, "The smoke test's instructor: never a real student.",
                                      {weekday: WORKING_HOURS for weekday in range(7)}, now)
        course_id = courses.create_course(db, SYSTEM, {
            "title": COURSE_TITLE, "description": "Used by flask smoke-test after each deployment.", "price": "1.00",
            "lesson_count": 1, "category": "Smoke test", "status": "active", "instructor_ids": [instructor_id]}, now)
        enrollment_id = enrollments.enrol(db, SYSTEM, made["student"].profile_id,
                                          {"course_id": course_id, "start_date": today}, now=now)
        office = Actor(user_id=made["staff"].user_id, role="staff", branch_id=branch_id)
        secret, _uri = second_factor.begin_enrolment(db, office, now, settings)
        # confirmed with the previous 30-second step's code (inside the accepted window), so the current
        # code is still unused when the operator runs the first smoke test right away
        previous = second_factor.code_at(secret, now - timedelta(seconds=30))
        codes = second_factor.confirm_enrolment(db, office, previous, now, settings)
    return SmokeAccounts(branch_id, course_id, enrollment_id, emails, passwords, secret, codes)
