"""Students: the CRM list, registration, the profile page, edits, archive/restore, activation links.

Scope (deny by default; outside it the student does not exist, i.e. 404): admin sees every
student; staff the students of their own branch; an instructor the students they teach (a
lesson with them) or whose enrolment request is assigned to them; a student only themself.
The predicate is part of every DAO query (``StudentScope``), so lists never hold foreign rows.

Fixes over the original (spec 3.4, 8.1-8.3): registration writes the account, the profile and
the audit row in one transaction and never takes a password from staff (single-use activation
link); the e-mail must be unused (a field error, not a raw SQL message); instructors see only
their own students and their search works; the profile page reads a bounded number of queries.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from app.core import clock
from app.core.database import Database
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.core.pagination import ListQuery, Page
from app.core.params import MAX_DATE, MIN_DATE
from app.dao.branch import BranchDAO
from app.dao.document import DocumentDAO
from app.dao.note import NoteDAO
from app.dao.privacy import PrivacyDAO
from app.dao.student import (
    ACCOUNT_STATUSES, LICENSE_STATUSES, NOTHING, PROFILE_FIELDS, SORTS, StudentDAO, StudentScope,
)
from app.dao.user import UserDAO, normalize_email
from app.services import accounts, audit
from app.services.scope import Actor

LIST_SORTS = tuple(SORTS)
DEFAULT_SORT = "name"
LIST_FILTERS = {"branch": "id", "license_status": LICENSE_STATUSES, "course": "id", "status": ACCOUNT_STATUSES,
                "enrolment": ("active", "completed")}  # enrolment: has an active (or in progress) / a completed one
# Archived accounts stay hidden unless asked for (an explicit empty status= lists everyone).
LIST_DEFAULTS = {"status": "active"}
LIST_ROLES = ("admin", "staff", "instructor")
NOTE_ROLES = ("admin", "staff", "instructor")
EXPIRY_WARNING_DAYS = 30
TIMELINE_LIMIT = 30
NOTES_LIMIT = 50
DOCUMENTS_LIMIT = 100
COMMUNICATIONS_LIMIT = 20
INVOICES_LIMIT = 50
DEFAULT_PROGRESS = "Not started yet."

ACCOUNT_FIELDS = ("first_name", "last_name", "phone")
MAX_LENGTHS = {
    "first_name": 80, "last_name": 80, "email": 160, "phone": 32, "license_number": 45,
    "emergency_contact_name": 120, "emergency_contact_phone": 32, "address_line": 160, "city": 80,
    "postcode": 12, "progress_summary": 255,
}

TIMELINE_ACTIONS = {
    "student_created": "Student registered",
    "student_updated": "Profile updated",
    "student_note_added": "Note added",
    "student_document_uploaded": "Document uploaded",
    "document_downloaded": "Document downloaded",
    "document_deleted": "Document deleted",
    "user_archived": "Account archived",
    "user_restored": "Account restored",
    "activation_link_issued": "Activation link issued",
    "account_activated": "Account activated",
    "enrollment_progress_updated": "Progress updated",
}
# Audit actions that repeat another timeline source (the note or document itself is listed).
_DUPLICATED_BY_SOURCE = {"student_note_added": "notes", "student_document_uploaded": "documents"}


# --------------------------------------------------------------------------- scope

def scope_for(actor: Actor) -> StudentScope:
    """The students ``actor`` may see; unknown roles and missing profiles see nothing."""
    if actor.role == "admin":
        return StudentScope(everything=True)
    if actor.role == "staff":
        return StudentScope(branch_id=actor.branch_filter())
    if actor.role == "instructor" and actor.instructor_id is not None:
        return StudentScope(instructor_id=actor.instructor_id)
    if actor.role == "student" and actor.student_id is not None:
        return StudentScope(student_id=actor.student_id)
    return NOTHING


def _require_office(actor: Actor) -> None:
    if not actor.is_office:
        raise PermissionDenied("Only the office can do this.")


def get_student(db: Database, actor: Actor, student_id: int) -> dict:
    """The student if ``actor`` may see them, else NotFound (never a hint that the id exists)."""
    student = StudentDAO(db).find_for_scope(student_id, scope_for(actor))
    if student is None:
        raise NotFound("Student not found")
    return student


def document_tag(student_id: int | None) -> str:
    """Suffix of the audit details of document events, so the student's timeline finds them."""
    return f"(student {student_id})" if student_id is not None else ""


def expiry_state(expiry: date | None, today: date, days: int = EXPIRY_WARNING_DAYS) -> str | None:
    """'expired', 'expiring' (within ``days``), 'valid', or None without a date."""
    if expiry is None:
        return None
    if expiry < today:
        return "expired"
    if expiry <= today + timedelta(days=days):
        return "expiring"
    return "valid"


# --------------------------------------------------------------------------- list

def list_students(db: Database, actor: Actor, query: ListQuery) -> Page:
    if actor.role not in LIST_ROLES:
        raise PermissionDenied("Students cannot list other students.")
    return StudentDAO(db).list_page(query, scope_for(actor))


def prefix_search(actor: Actor, query: ListQuery) -> bool:
    """Whether the list's search matches only the start of names, e-mails and phones (the whole school)."""
    return actor.role in LIST_ROLES and StudentDAO.prefix_search(query, scope_for(actor))


def filter_options(db: Database, actor: Actor) -> dict[str, list[tuple[Any, str]]]:
    """Choices for the list's filters (staff see only their own branch)."""
    only = actor.branch_filter() if actor.role == "staff" else None
    return {
        "branch": [(b["id"], b["name"]) for b in BranchDAO(db).options(only_id=only)],
        "license_status": [(s, s) for s in LICENSE_STATUSES],
        "course": [(c["id"], c["title"]) for c in StudentDAO(db).course_options()],
        "status": [(s, s.title()) for s in ACCOUNT_STATUSES],
    }


def branch_choices(db: Database, actor: Actor) -> list[dict]:
    """Branches an office actor may put a student in (staff: their own)."""
    _require_office(actor)
    return BranchDAO(db).options(only_id=actor.branch_filter())


# --------------------------------------------------------------------------- validation

def _text(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


def _clean(db: Database, actor: Actor, data: Mapping[str, Any], *, require_phone: bool) -> dict[str, Any]:
    """Profile + account fields, checked again here (forms are not the only callers)."""
    row = {name: _text(data.get(name)) for name in (*ACCOUNT_FIELDS, *PROFILE_FIELDS)}
    errors: dict[str, list[str]] = {}
    for name, label in (("first_name", "first name"), ("last_name", "last name")):
        if not row[name]:
            errors[name] = [f"Enter the {label}."]
    if require_phone and not row["phone"]:
        errors["phone"] = ["Enter a phone number."]
    for name, limit in MAX_LENGTHS.items():
        if isinstance(row.get(name), str) and len(row[name]) > limit:
            errors.setdefault(name, []).append(f"At most {limit} characters.")
    branch_id = row["branch_id"]
    if branch_id is None:
        errors["branch_id"] = ["Choose a branch."]
    elif not isinstance(branch_id, int) or isinstance(branch_id, bool) or not BranchDAO(db).exists(branch_id):
        errors["branch_id"] = ["Choose a branch from the list."]
    else:
        allowed = actor.branch_filter()
        if allowed is not None and branch_id != allowed:
            errors["branch_id"] = ["You can only choose your own branch."]
    row["license_status"] = row["license_status"] or "Learner"
    if row["license_status"] not in LICENSE_STATUSES:
        errors["license_status"] = ["Choose Learner, P1, P2 or Full."]
    expiry = row["license_expiry"]
    if expiry is not None and (not isinstance(expiry, date) or isinstance(expiry, datetime)
                               or not MIN_DATE <= expiry <= MAX_DATE):
        errors["license_expiry"] = ["Enter a real date (YYYY-MM-DD)."]
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors=errors)
    return row


def _snapshot(student: Mapping[str, Any]) -> dict[str, Any]:
    return {name: student.get(name) for name in ("email", *ACCOUNT_FIELDS, *PROFILE_FIELDS)}


# --------------------------------------------------------------------------- changes

@dataclass
class Registered:
    student_id: int
    user_id: int
    email: str
    first_name: str
    token: str
    expires_at: datetime


def register_student(db: Database, actor: Actor, data: Mapping[str, Any], now: datetime) -> Registered:
    """Account (role student, no usable password) + profile + activation token + audit: all or nothing."""
    _require_office(actor)
    email = normalize_email(data.get("email"))
    email_error = None
    if not email:
        email_error = "Enter the e-mail address."
    elif len(email) > MAX_LENGTHS["email"]:
        email_error = f"At most {MAX_LENGTHS['email']} characters."
    try:
        row = _clean(db, actor, data, require_phone=True)
    except ValidationFailed as exc:
        if email_error:
            exc.errors["email"] = [email_error]
        raise
    if email_error:
        raise ValidationFailed(email_error, field="email")
    row["progress_summary"] = row["progress_summary"] or DEFAULT_PROGRESS
    with db.transaction():
        if UserDAO(db).find_by_email(email):
            raise Conflict("This e-mail address is already in use.", field="email")
        account = accounts.create_user(db, actor, {
            "role": "student", "first_name": row["first_name"], "last_name": row["last_name"], "email": email,
            "phone": row["phone"], "branch_id": row["branch_id"],
        }, now)
        student_id = StudentDAO(db).insert(account.user_id, row, now)
        audit.record(db, actor, "student_created", "student", student_id, now=now,
                     details="Registered by the office; activation link issued.",
                     after={**_snapshot({**row, "email": email}), "user_id": account.user_id})
    return Registered(student_id, account.user_id, email, row["first_name"], account.token, account.expires_at)


def update_student(db: Database, actor: Actor, student_id: int, data: Mapping[str, Any], now: datetime) -> None:
    """Profile fields plus the account's name, phone and branch (kept equal to the profile's branch)."""
    _require_office(actor)
    dao = StudentDAO(db)
    with db.transaction():
        current = dao.find_for_scope(student_id, scope_for(actor))
        if current is None:
            raise NotFound("Student not found")
        require_not_anonymised(db, current["user_id"])
        row = _clean(db, actor, data, require_phone=False)
        dao.update(student_id, row, now)
        dao.update_account(current["user_id"], row["first_name"], row["last_name"], row["phone"],
                           row["branch_id"], now)
        audit.record(db, actor, "student_updated", "student", student_id, now=now, details="Profile updated.",
                     before=_snapshot(current), after=_snapshot({**row, "email": current["email"]}))


ANONYMISED = ("This former student was anonymised on request (services.privacy): the record stays for the "
              "financial and audit records but can no longer be edited or restored.")


def require_not_anonymised(db: Database, user_id: int) -> None:
    """Conflict (409) for an account anonymised on request: its record is kept, never reopened."""
    if PrivacyDAO(db).anonymised_at(user_id) is not None:
        raise Conflict(ANONYMISED)


def archive_student(db: Database, actor: Actor, student_id: int, now: datetime) -> dict:
    """Archive the account (never deleted); every session of the student ends at once."""
    _require_office(actor)
    student = get_student(db, actor, student_id)
    if student["account_status"] == "archived":
        raise ValidationFailed("This account is already archived.", field="status")
    accounts.archive_user(db, actor, student["user_id"], now)
    return student


def restore_student(db: Database, actor: Actor, student_id: int, now: datetime) -> dict:
    _require_office(actor)
    student = get_student(db, actor, student_id)
    if student["account_status"] != "archived":
        raise ValidationFailed("This account is not archived.", field="status")
    require_not_anonymised(db, student["user_id"])
    accounts.restore_user(db, actor, student["user_id"], now)
    return student


def reissue_activation(db: Database, actor: Actor, student_id: int, now: datetime) -> Registered:
    """A new single-use link (older unused links stop working). Only for accounts that were never
    activated: an activation link sets a password, so it must not become a way for the office to
    take over an account the student already uses."""
    _require_office(actor)
    student = get_student(db, actor, student_id)
    if student["account_status"] != "active":
        raise ValidationFailed("Restore the account before issuing an activation link.", field="status")
    if student["activated"]:
        raise ValidationFailed("The student has already activated this account.", field="status")
    account = accounts.reissue_activation(db, actor, student["user_id"], now)
    return Registered(student_id, student["user_id"], student["email"], student["first_name"], account.token,
                      account.expires_at)


# --------------------------------------------------------------------------- profile

def _local(value: datetime) -> datetime:
    """Stored naive-UTC timestamp -> aware local time (the template date filters keep it as is)."""
    return clock.to_local(value)


def _at(day: date, moment: Any = None) -> datetime:
    """A business date (and optional wall-clock time) in APP_TIMEZONE, as an aware datetime."""
    if isinstance(moment, timedelta):  # defensive: some drivers hand TIME back as a duration
        moment = (datetime.min + moment).time()
    return datetime.combine(day, moment if isinstance(moment, time) else time.min,
                            tzinfo=ZoneInfo(clock.timezone_name()))


def _name(first: str | None, last: str | None) -> str | None:
    full = f"{first or ''} {last or ''}".strip()
    return full or None


def build_timeline(*, audit_rows=(), notes=(), documents=(), lessons=(), payments=(),
                   limit: int = TIMELINE_LIMIT, skip_audit: frozenset[str] = frozenset()) -> list[dict]:
    """Merge the sources newest first (each source was already LIMITed by its query)."""
    items: list[dict] = []
    for row in audit_rows:
        if row["action"] in skip_audit:
            continue
        items.append({"at": _local(row["created_at"]), "kind": "audit", "icon": "clock-history",
                      "title": TIMELINE_ACTIONS.get(row["action"], row["action"].replace("_", " ").capitalize()),
                      "detail": row["details"], "by": _name(row["actor_first_name"], row["actor_last_name"]),
                      "by_staff_id": row.get("actor_staff_id"), "by_instructor_id": row.get("actor_instructor_id"),
                      "sort_id": row["id"]})
    for note in notes:
        content = note["content"]
        items.append({"at": _local(note["created_at"]), "kind": "note", "icon": "sticky",
                      "title": "Note", "detail": content if len(content) <= 160 else content[:157] + "…",
                      "by": _name(note["author_first_name"], note["author_last_name"]), "sort_id": note["id"],
                      "by_staff_id": note.get("author_staff_id"), "by_instructor_id": note.get("author_instructor_id")})
    for doc in documents:
        items.append({"at": _local(doc["created_at"]), "kind": "document", "icon": "file-earmark-arrow-up",
                      "title": "Document uploaded", "detail": doc["file_name"],
                      "by": _name(doc["uploader_first_name"], doc["uploader_last_name"]), "sort_id": doc["id"],
                      "by_staff_id": doc.get("uploader_staff_id"), "by_instructor_id": doc.get("uploader_instructor_id")})
    for lesson in lessons:
        kind = (lesson["event_type"] or "lesson").capitalize()
        status = (lesson["status"] or "").replace("_", " ")
        detail = lesson["course_title"] + (f" · {lesson['lesson_topic']}" if lesson.get("lesson_topic") else "")
        items.append({"at": _at(lesson["scheduled_date"], lesson["start_time"]), "kind": "lesson",
                      "icon": "calendar-check", "title": f"{kind} {status}", "detail": detail,
                      "by": _name(lesson["instructor_first_name"], lesson["instructor_last_name"]),
                      "by_instructor_id": lesson.get("instructor_id"),
                      "sort_id": lesson["id"]})
    for payment in payments:
        detail = f"${payment['amount']:,.2f} on {payment['invoice_number']}"
        if payment.get("method"):
            detail += f" ({payment['method']})"
        items.append({"at": _at(payment["payment_date"]), "kind": "payment", "icon": "cash-coin",
                      "title": "Payment received", "detail": detail, "by": None, "sort_id": payment["id"],
                      "all_day": True})
    items.sort(key=lambda item: (item["at"].astimezone(timezone.utc), item["sort_id"]), reverse=True)
    return items[:limit]


def profile(db: Database, actor: Actor, student_id: int, today: date) -> dict:
    """Everything on the profile page, in a fixed number of queries whatever the student's history.

    Notes are internal (admin, staff, instructors); invoices, payments and the communication history
    are for the office and the student; the audit rows are for the office."""
    student = get_student(db, actor, student_id)
    dao = StudentDAO(db)
    user_id = student["user_id"]
    show_notes = actor.role in NOTE_ROLES
    show_finance = actor.role in ("admin", "staff", "student")
    show_audit = actor.is_office
    own = actor.role == "student" and actor.student_id == student_id

    enrollments = dao.enrollments(student_id)
    upcoming = dao.upcoming_lessons(student_id, today)
    past = dao.past_lessons(student_id, today)
    invoices = dao.invoices(student_id, INVOICES_LIMIT) if show_finance else []
    totals = dao.invoice_totals(student_id) if show_finance else {"invoices": 0, "balance_due": Decimal("0.00")}
    payments = dao.payments(student_id, TIMELINE_LIMIT) if show_finance else []
    communications = dao.communications(user_id, COMMUNICATIONS_LIMIT) if show_finance else []
    notes = NoteDAO(db).for_related("student", student_id, NOTES_LIMIT) if show_notes else []
    documents = DocumentDAO(db).for_user(user_id, DOCUMENTS_LIMIT)
    audit_rows = dao.audit_rows(student_id, user_id, document_tag(student_id), TIMELINE_LIMIT) if show_audit else []

    for invoice in invoices:
        invoice["is_overdue"] = (invoice["due_date"] < today and invoice["status"] != "paid"
                                 and invoice["balance_due"] > 0)
    for doc in documents:
        doc["expiry_state"] = expiry_state(doc["expiry_date"], today)
    skip = frozenset(action for action, source in _DUPLICATED_BY_SOURCE.items()
                     if (source == "notes" and show_notes) or source == "documents")
    timeline = build_timeline(audit_rows=audit_rows, notes=notes[:TIMELINE_LIMIT],
                              documents=documents[:TIMELINE_LIMIT], lessons=past, payments=payments,
                              skip_audit=skip)
    return {
        "student": student,
        "license_state": expiry_state(student["license_expiry"], today),
        "enrollments": enrollments,
        "upcoming": upcoming,
        "past": past,
        "invoices": invoices,
        "balance_due": totals["balance_due"],  # an aggregate over every invoice, never the displayed page
        "invoice_count": totals["invoices"],
        "communications": communications,
        "notes": notes,
        "documents": documents,
        "timeline": timeline,
        "show_notes": show_notes,
        "show_finance": show_finance,
        "can_edit": actor.is_office,
        "can_note": show_notes,
        "can_upload": actor.is_office or own,
        "can_delete_documents": actor.is_office,
        "own": own,
    }
