"""The public application (``/apply``, no sign-in): one transaction creates the applicant's account, their
student profile and the enrolment request; the staff of the chosen branch are told in-app.

Rules (fixes over the original, spec 4.7 A and 8.1.4-8.1.6, 8.2.5, 8.2.7):
- The account gets an unusable password and a single-use activation link (accounts.create_user), e-mailed
  by the web layer after the commit; no password is taken on the form and nobody is signed in by it.
- Duplicates: an e-mail address or a licence number already on file refuses the application with ONE
  message that is the same whichever matched and says nothing about the other person
  (:data:`DUPLICATE_MESSAGE`); nothing is written.
- Rate limit: at most :data:`LIMIT` attempts per client address per :data:`WINDOW` (429 with the minutes
  to wait; the optional setting APPLICATIONS_PER_IP_PER_HOUR changes the number). An attempt that passed the form's own checks counts whether or not it succeeded (so the
  duplicate answer cannot be used to test many addresses); it is recorded in its own transaction before
  the application's, so a refused application still counts. Best effort across parallel requests from one
  address, like the sign-in limit per address.
- Optional dates and times are really optional (NULL, never ''); the course must exist and be active; the
  branch must exist; a preferred date is tomorrow or later (the branch's business date).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Mapping

from app.core import clock
from app.core.database import Database
from app.core.errors import Conflict, TooManyAttempts, ValidationFailed
from app.core.params import MAX_DATE, MIN_DATE
from app.dao.branch import BranchDAO
from app.dao.enrollment_request import ApplicationAttemptDAO, EnrollmentRequestDAO
from app.dao.student import StudentDAO
from app.dao.user import UserDAO, normalize_email
from app.services import accounts, audit, notifications
from app.services.scope import Actor

LIMIT = 5
WINDOW = timedelta(hours=1)
MIN_AGE = 15  # a learner permit can be sat from 16; an application a little ahead of that is fine
NOTES_MAX = 2000
DUPLICATE_MESSAGE = ("We could not take this application online. If you already have an account with us, sign in "
                     "(or ask the branch for a new activation link); otherwise please call the branch and we will "
                     "sort it out with you.")
PENDING_SUMMARY = "Enrolment request pending approval."
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LENGTHS = {"first_name": 80, "last_name": 80, "email": 160, "phone": 32, "license_number": 45}


@dataclass
class Applied:
    request_id: int
    student_id: int
    user_id: int
    email: str
    first_name: str
    branch_id: int
    token: str
    expires_at: datetime


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    return None


def clean(db: Database, data: Mapping[str, Any], today: date) -> dict[str, Any]:
    """Every field checked here too (the form is not the only caller); 422 naming each field."""
    row = {name: _text(data.get(name)) for name in ("first_name", "last_name", "email", "phone", "license_number",
                                                      "notes")}
    errors: dict[str, list[str]] = {}
    for name, label in (("first_name", "your first name"), ("last_name", "your last name"),
                        ("phone", "a phone number")):
        if not row[name]:
            errors[name] = [f"Enter {label}."]
    row["email"] = normalize_email(row["email"] or "")
    if not row["email"]:
        errors["email"] = ["Enter your e-mail address."]
    elif not _EMAIL.match(row["email"]):
        errors["email"] = ["Enter a valid e-mail address."]
    for name, limit in _LENGTHS.items():
        if row.get(name) and len(row[name]) > limit:
            errors.setdefault(name, []).append(f"At most {limit} characters.")
    if row["notes"] and len(row["notes"]) > NOTES_MAX:
        errors["notes"] = [f"At most {NOTES_MAX} characters."]
    dob = data.get("date_of_birth")
    if dob is None or dob == "":
        errors["date_of_birth"] = ["Enter your date of birth."]
    elif not isinstance(dob, date) or isinstance(dob, datetime) or not MIN_DATE <= dob <= MAX_DATE:
        errors["date_of_birth"] = ["Enter a real date (YYYY-MM-DD)."]
    elif _age(dob, today) < MIN_AGE:
        errors["date_of_birth"] = [f"Applicants must be at least {MIN_AGE} years old."]
    row["date_of_birth"] = dob if "date_of_birth" not in errors else None
    branch_id = data.get("branch_id")
    if not isinstance(branch_id, int) or isinstance(branch_id, bool) or not BranchDAO(db).exists(branch_id):
        errors["branch_id"] = ["Choose a branch from the list."]
    row["branch_id"] = branch_id
    course_id = data.get("course_id")
    course = EnrollmentRequestDAO(db).course(course_id) if isinstance(course_id, int) else None
    if course is None or course["status"] != "active":
        errors["course_id"] = ["Choose a course from the list."]
    row["course_id"] = course_id
    preferred = data.get("preferred_date")
    if preferred in ("", None):
        preferred = None
    elif not isinstance(preferred, date) or isinstance(preferred, datetime) or not MIN_DATE <= preferred <= MAX_DATE:
        errors["preferred_date"] = ["Enter a real date (YYYY-MM-DD)."]
    elif preferred <= today:
        errors["preferred_date"] = ["Choose a date from tomorrow on."]
    row["preferred_date"] = preferred
    moment = data.get("preferred_time")
    if moment in ("", None):
        moment = None
    elif not isinstance(moment, time):
        errors["preferred_time"] = ["Enter a time as HH:MM."]
    row["preferred_time"] = moment
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors=errors)
    return row


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def limit(settings: Mapping[str, Any] | None) -> int:
    """Attempts per address per WINDOW: the APPLICATIONS_PER_IP_PER_HOUR setting when given, else LIMIT."""
    try:
        value = int((settings or {}).get("APPLICATIONS_PER_IP_PER_HOUR") or LIMIT)
    except (TypeError, ValueError):
        value = LIMIT
    return max(1, value)


def check_rate(db: Database, ip: str | None, now: datetime, settings: Mapping[str, Any] | None = None) -> None:
    """Count this attempt for ``ip``, or refuse it (429) when the address has used up its attempts."""
    key = (ip or "unknown")[:45]
    dao = ApplicationAttemptDAO(db)
    with db.transaction():
        seen = dao.since(key, now - WINDOW)
        if seen["count"] >= limit(settings):
            wait = int(((seen["oldest"] or now) + WINDOW - now).total_seconds())
            retry_after = max(60, wait)
            minutes = (retry_after + 59) // 60
            raise TooManyAttempts(
                f"Too many applications from your connection. Please try again in {minutes} minute"
                f"{'s' if minutes != 1 else ''}, or call the branch.", retry_after=retry_after)
        dao.record(key, now)


def apply(db: Database, data: Mapping[str, Any], *, ip: str | None, now: datetime,
          settings: Mapping[str, Any] | None = None) -> Applied:
    """Validate, count the attempt, then user + student + request + notices + audit in one transaction."""
    today = clock.to_local(now).date()
    row = clean(db, data, today)
    check_rate(db, ip, now, settings)
    requests = EnrollmentRequestDAO(db)
    with db.transaction():
        if UserDAO(db).find_by_email(row["email"]) or (row["license_number"]
                                                        and requests.licence_in_use(row["license_number"])):
            raise Conflict(DUPLICATE_MESSAGE)
        account = accounts.create_user(db, None, {
            "role": "student", "first_name": row["first_name"], "last_name": row["last_name"], "email": row["email"],
            "phone": row["phone"], "branch_id": row["branch_id"]}, now)
        applicant = Actor(user_id=account.user_id, role="student", branch_id=row["branch_id"], ip=ip)
        student_id = StudentDAO(db).insert(account.user_id, {
            "branch_id": row["branch_id"], "license_number": row["license_number"], "license_status": "Learner",
            "progress_summary": PENDING_SUMMARY}, now)
        requests.set_date_of_birth(student_id, row["date_of_birth"])
        request_id = requests.insert({
            "student_id": student_id, "course_id": row["course_id"], "preferred_date": row["preferred_date"],
            "preferred_time": row["preferred_time"], "student_notes": row["notes"]}, now)
        course = requests.course(row["course_id"])
        name = f"{row['first_name']} {row['last_name']}"
        for user_id in requests.branch_staff_user_ids(row["branch_id"]):
            notifications.notify(db, user_id, "New enrolment application",
                                 f"{name} applied for {course['title']}. Request #{request_id} is waiting in the "
                                 "enrolment requests.", "info", now=now,
                                 related_type="enrollment_request", related_id=request_id)
        audit.record(db, applicant, "enrollment_request_created", "enrollment_request", request_id, now=now,
                     details="Public application; activation link issued.",
                     after={"student_id": student_id, "course_id": row["course_id"], "branch_id": row["branch_id"],
                            "preferred_date": row["preferred_date"]})
    return Applied(request_id, student_id, account.user_id, row["email"], row["first_name"], row["branch_id"],
                   account.token, account.expires_at)


def branch_phone(db: Database, branch_id: Any) -> str | None:
    """The chosen branch's phone (the duplicate answer tells the applicant whom to call)."""
    if not isinstance(branch_id, int) or isinstance(branch_id, bool):
        return None
    branch = BranchDAO(db).find(branch_id)
    return (branch or {}).get("phone")


def choices(db: Database) -> dict[str, list]:
    """Branches and active courses offered on the form."""
    return {"branches": BranchDAO(db).options(), "courses": EnrollmentRequestDAO(db).course_options(active_only=True)}


def purge(db: Database, now: datetime) -> int:
    """Forget attempts older than a day (nothing reads them after the window)."""
    return ApplicationAttemptDAO(db).purge_before(now - timedelta(days=1))
