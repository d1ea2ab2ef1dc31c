"""Privacy requests (issue 11, item 6), in the spirit of the Australian Privacy Principles: a student's copy
of their own data (APP 12, access) and the anonymisation of a former student on request (APP 11.2: personal
information no longer needed is de-identified). No Flask here: the web layer is blueprints/privacy.py.

Download (students, their own data only: the Actor's user and student ids, never an id from the request):
``export(db, actor, kind=...)`` reads every section in a fixed number of statements (PrivacyDAO: one per
section, whatever the history) and writes the ``personal_data_exported`` audit row. It holds what the
portal shows the student: profile, enrolments, enrolment requests (with the office's decision notes, which
the student is shown), lessons (topic, pick-up, notes, outcome, rating, feedback), issued invoices with
their lines, payments and refunds, account credit, the documents list (names, types, dates: not the
files), contact preferences, the waitlist, notifications, broadcasts received and active sessions. The
office's internal notes are not in it (the portal never shows them; :data:`NOT_INCLUDED` says how to ask).

Anonymise (admin, or staff of the student's branch): ``anonymise(db, actor, student_id, reason, ...)``.
Rules (each refusal is a 409 naming it; :func:`problems`):
- only a former student: the account must be archived (an active student is refused); never twice;
- nothing still booked (lessons from today on: cancel them first);
- nothing owed either way: no balance due on issued invoices (the debt must stay collectable, so the school
  settles, credits or voids first) and no account credit held for them (refund or apply it first);
- a reason is required (at most :data:`REASON_MAX` characters); the student's own names, e-mail, phone and
  licence number are cut out of it, since it goes into the audit trail.
What changes, in one transaction: the account (name "Former student", e-mail
``anonymised-<user id>@invalid.example``, no phone, an unusable password, still archived, ``anonymised_at``);
every personal column of the profile; the text of the notes about them; the documents' names and details
(the files are deleted from disk after the commit); the free text of their enrolments, requests, lessons and
proposals; the text of reminders and the addresses of their delivery log; their inbox, and the message of
other people's notifications about them; their waitlist and open offers; contact preferences (every channel
off); pending reminders (cancelled); sessions, tokens, the calendar feed and the second factor (deleted).
Kept: invoices, invoice lines, payments, account credits and lesson rows (financial and service records;
invoices hold no name or address snapshot: they show the account's name, now "Former student") and the audit
trail, which is a hash chain and is never updated: one new row ``student_anonymised`` records the request
with the counts and the reason, and no personal data.
"""
from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Mapping

from app.core import clock, localtime
from app.core.database import Database
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.dao.contact_preference import ContactPreferenceDAO
from app.dao.privacy import PrivacyDAO
from app.services import accounts, audit, documents
from app.services.scope import Actor
from app.services.students import get_student

log = logging.getLogger(__name__)

EXPORT_FORMAT = "origin-personal-data/1"
EXPORT_KINDS = {"json": "JSON download", "html": "printable copy"}
FORMER_FIRST, FORMER_LAST = "Former", "student"
ANONYMOUS_DOMAIN = "invalid.example"  # RFC 2606: never delivered
REASON_MAX = 500
REMOVED = "[removed]"
SUMMARY_TEXT = "Former student (anonymised)."
NOTE_TEXT = "[Removed: the student was anonymised on request.]"
MESSAGE_TEXT = "[Removed: the student was anonymised on request.]"
DOCUMENT_NAME = "Removed (anonymised)"
NOT_INCLUDED = (
    "Internal notes the office keeps about students: the portal does not show them. To see them, ask the office"
    " for access to your personal information (Australian Privacy Principle 12).",
    "The files of your documents: download each one from your profile page.",
    "The school's audit trail: the security record of who changed what.",
)
SECTIONS = (
    ("profile", "Profile"), ("enrolments", "Enrolments"), ("enrolment_requests", "Enrolment requests"),
    ("lessons", "Lessons"), ("invoices", "Invoices"), ("payments", "Payments and refunds"),
    ("account_credit", "Account credit"), ("documents", "Documents"),
    ("contact_preferences", "Contact preferences"), ("waitlist", "Earlier-slot waitlist"),
    ("notifications", "Notifications"), ("messages_received", "Messages received"),
    ("sessions", "Signed-in sessions"),
)


# ------------------------------------------------------------------------------------------ download

def _require_student(actor: Actor) -> None:
    if actor.role != "student":
        raise PermissionDenied("Only a student can download their own data here.")


def summary(db: Database, actor: Actor) -> dict:
    """The /my/data page: how many lessons, invoices, payments, documents and notifications the
    download holds (one statement)."""
    _require_student(actor)
    return PrivacyDAO(db).counts(actor.user_id, actor.student_id)


def export(db: Database, actor: Actor, *, kind: str, now: datetime, settings: Mapping[str, Any]) -> dict:
    """The signed-in student's data (typed values: dates, Decimals), audited as ``personal_data_exported``."""
    _require_student(actor)
    if kind not in EXPORT_KINDS:
        raise NotFound("Not found")
    data = collect(db, actor, now=now, settings=settings)
    entity = ("student", actor.student_id) if actor.student_id else ("user", actor.user_id)
    with db.transaction():
        audit.record(db, actor, "personal_data_exported", entity[0], entity[1], now=now,
                     details=f"The student downloaded their data ({EXPORT_KINDS[kind]}).")
    return data


def collect(db: Database, actor: Actor, *, now: datetime, settings: Mapping[str, Any]) -> dict:
    """Every section for the actor's own account, one statement each (no per-row queries)."""
    _require_student(actor)
    dao = PrivacyDAO(db)
    profile = dao.profile(actor.user_id, actor.student_id)
    if profile is None:
        raise NotFound("Not found")
    sid = actor.student_id
    lines: dict[int, list[dict]] = {}
    invoices = dao.invoices(sid) if sid else []
    for line in dao.invoice_lines(sid) if sid else []:
        lines.setdefault(line.pop("invoice_id"), []).append(line)
    for invoice in invoices:
        invoice["balance_due"] = invoice["total"] - invoice["paid"]
        invoice["lines"] = lines.get(invoice["id"], [])
    lessons = dao.lessons(sid) if sid else []
    for lesson in lessons:
        lesson["start_time"] = localtime.as_time(lesson["start_time"])
        lesson["end_time"] = localtime.as_time(lesson["end_time"])
        lesson["instructor"] = " ".join(filter(None, (lesson.pop("instructor_first_name"),
                                                      lesson.pop("instructor_last_name")))) or None
    requests = dao.enrolment_requests(sid) if sid else []
    for request in requests:
        request["preferred_time"] = localtime.as_time(request["preferred_time"])
    prefs = dao.contact_preferences(actor.user_id) or {}
    waitlist = dao.waitlist(sid) if sid else None
    if waitlist:
        waitlist = {"active": bool(int(waitlist["active"] or 0)), "weekdays": _weekdays(waitlist["weekdays"]),
                    "earliest_time": localtime.as_time(waitlist["earliest_time"]),
                    "latest_time": localtime.as_time(waitlist["latest_time"]), "opted_in_at": waitlist["opted_in_at"]}
    notifications = dao.notifications(actor.user_id)
    for row in notifications:
        row["is_read"] = bool(int(row["is_read"] or 0))
    return {
        "format": EXPORT_FORMAT,
        "generated_at": now.replace(microsecond=0),
        "school": settings.get("APP_NAME") or "Origin Driving School",
        "timestamps": "Dates are calendar dates; times of day are the branch's local time; other timestamps"
                      " (ending in Z) are UTC.",
        "profile": profile,
        "enrolments": dao.enrolments(sid) if sid else [],
        "enrolment_requests": requests,
        "lessons": lessons,
        "invoices": invoices,
        "payments": dao.payments(sid) if sid else [],
        "account_credit": dao.account_credits(sid) if sid else [],
        "documents": dao.documents(actor.user_id),
        "contact_preferences": {"email": not prefs.get("email_opt_out"), "sms": not prefs.get("sms_opt_out"),
                                "in_app": not prefs.get("in_app_opt_out"), "updated_at": prefs.get("updated_at")},
        "waitlist": waitlist,
        "notifications": notifications,
        "messages_received": dao.messages_received(actor.user_id),
        "sessions": dao.sessions(actor.user_id),
        "not_included": list(NOT_INCLUDED),
    }


def _weekdays(mask: Any) -> list[str]:
    names = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    return [name for name, flag in zip(names, str(mask or "")) if flag == "1"]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat() + ("Z" if value.tzinfo is None else "")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, timedelta):
        return localtime.as_time(value).strftime("%H:%M")
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_json(data: Mapping[str, Any]) -> str:
    """The download: UTF-8 JSON, dates ISO 8601, money as strings with two decimals."""
    return json.dumps(_plain(data), indent=2, ensure_ascii=False) + "\n"


def file_name(now: datetime, extension: str) -> str:
    return f"my-data-{clock.to_local(now).date().isoformat()}.{extension}"


# ------------------------------------------------------------------------------------------ anonymise

def _require_office(actor: Actor) -> None:
    if not actor.is_office:
        raise PermissionDenied("Only the office can anonymise a student.")


def _money(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def _day(value: Any) -> str:
    if isinstance(value, datetime):
        value = clock.to_local(value).date()
    return f"{value.day} {value:%b %Y}" if isinstance(value, date) else str(value)


def problems(state: Mapping[str, Any]) -> list[str]:
    """Why this student cannot be anonymised now, each naming its rule ([] when it can)."""
    if state.get("anonymised_at"):
        return [f"This student was already anonymised on {_day(state['anonymised_at'])}: nothing personal is left"
                " to remove."]
    found = []
    if state.get("role") != "student":
        found.append("Only a student account can be anonymised here.")
    if state.get("status") != "archived":
        found.append("Only a former student can be anonymised: this account is active. Archive it first.")
    if state.get("booked"):
        n = state["booked"]
        found.append(f"The student still has {n} lesson{'s' if n != 1 else ''} booked from today on: cancel"
                     f" {'them' if n != 1 else 'it'} first.")
    if state.get("balance_due", Decimal("0")) > 0:
        found.append(f"The student still owes {_money(state['balance_due'])} on issued invoices: record the"
                     " payments, or credit or void the invoices first (a debt must stay collectable).")
    if state.get("credit", Decimal("0")) > 0:
        found.append(f"The school holds {_money(state['credit'])} of account credit for the student: refund or"
                     " apply it first.")
    return found


def anonymise_page(db: Database, actor: Actor, student_id: int, now: datetime) -> dict:
    """The confirm page: the student (404 outside the actor's scope), the problems that refuse it, and
    what will change and what stays."""
    _require_office(actor)
    student = get_student(db, actor, student_id)
    state = PrivacyDAO(db).state(student_id, clock.to_local(now).date())
    counts = PrivacyDAO(db).counts(student["user_id"], student_id)
    return {"student": student, "state": state, "problems": problems(state), "counts": counts,
            "reason_max": REASON_MAX}


def clean_reason(reason: Any, personal: Any = ()) -> str:
    """The reason on one line, required, at most REASON_MAX characters, with the student's own names,
    e-mail, phone and licence number replaced by [removed] (it is kept in the audit trail)."""
    text = " ".join(str(reason or "").split()) if isinstance(reason, str) else ""
    if not text:
        raise ValidationFailed("Give the reason: for example when and how the student asked.", field="reason")
    if len(text) > REASON_MAX:
        raise ValidationFailed(f"The reason can be at most {REASON_MAX} characters.", field="reason")
    for value in sorted({str(v).strip() for v in personal if v and len(str(v).strip()) >= 2}, key=len,
                        reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", REMOVED, text, flags=re.IGNORECASE)
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 6 and digits != value:  # a phone number written without its spaces
            text = re.sub(rf"(?<!\d){digits}(?!\d)", REMOVED, text)
    return text


@dataclass
class Anonymised:
    student_id: int
    user_id: int
    counts: dict = field(default_factory=dict)
    files_deleted: int = 0
    files_missing: int = 0


def anonymous_email(user_id: int) -> str:
    return f"anonymised-{user_id}@{ANONYMOUS_DOMAIN}"


def anonymise(db: Database, actor: Actor, student_id: int, reason: Any, *, now: datetime,
              upload_dir: str | os.PathLike) -> Anonymised:
    """Anonymise a former student (the rules and what changes: the module docstring). NotFound outside
    the actor's scope; Conflict (409) naming the rule that refuses it; ValidationFailed for the reason.
    All one transaction; the document files are deleted after the commit."""
    _require_office(actor)
    dao = PrivacyDAO(db)
    with db.transaction():
        student = get_student(db, actor, student_id)
        state = dao.state(student_id, clock.to_local(now).date())
        refused = problems(state)
        if refused:
            raise Conflict(" ".join(refused))
        text = clean_reason(reason, (state["first_name"], state["last_name"], state["email"], state["phone"],
                                     state["license_number"]))
        user_id = student["user_id"]
        email = anonymous_email(user_id)
        if not dao.claim(user_id, email=email, password_hash=accounts.unusable_password_hash(),
                         first_name=FORMER_FIRST, last_name=FORMER_LAST, now=now):
            raise Conflict("This student was anonymised or changed a moment ago: reload the page.")
        counts = {"profile": dao.scrub_student(student_id, SUMMARY_TEXT, now),
                  "notes": dao.scrub_notes(student_id, NOTE_TEXT)}
        files = dao.document_files(user_id)
        counts["documents"] = dao.scrub_documents(user_id, DOCUMENT_NAME)
        counts["enrolments"] = dao.scrub_enrolments(student_id, now)
        counts["lessons"] = dao.scrub_lessons(student_id, now)
        counts["offers_closed"] = dao.end_waiting(student_id, now)
        counts["reminders_cancelled"] = dao.cancel_reminders(user_id, student_id, now)
        counts["reminders_cleared"] = dao.scrub_reminders(user_id, student_id, MESSAGE_TEXT)
        counts["own_notifications_deleted"], counts["notifications_cleared"] = dao.scrub_notifications(
            user_id, student_id, MESSAGE_TEXT)
        ContactPreferenceDAO(db).save(user_id, email_opt_out=True, sms_opt_out=True, in_app_opt_out=True, now=now)
        ended = dao.end_access(user_id, student_id, email)
        dao.forget_attempts_by_address(state["email"], email)
        counts["sessions_ended"], counts["tokens_deleted"] = ended["sessions"], ended["tokens"]
        audit.record(db, actor, "student_anonymised", "student", student_id, now=now,
                     details=f"Reason: {text}", after={"user_id": user_id, **counts})
    done = Anonymised(student_id, user_id, counts)
    for row in files:
        path = documents.stored_path(upload_dir, row["file_path"])
        if path is None:
            done.files_missing += 1
            continue
        try:
            path.unlink()
            done.files_deleted += 1
        except OSError:  # the row is de-identified; a stray file is logged for clean-up
            done.files_missing += 1
            log.warning("could not delete the file of anonymised document %s: %s", row["id"], path)
    return done


def anonymised_at(db: Database, user_id: int) -> datetime | None:
    """When the account was anonymised (None if it was not): the profile page's badge."""
    return PrivacyDAO(db).anonymised_at(user_id)
