"""The audit trail: one append-only, hash-chained record per business event.

Call :func:`record` inside the same transaction as the change it describes, so
a failed audit write rolls the change back (and a rolled-back change leaves no
audit row). Each row stores SHA-256(previous row hash + canonical content);
:func:`verify` walks the chain and names the first row that does not match.
The chain head (audit_chain, one row) is locked while a row is appended, so
concurrent writers cannot fork the chain.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Mapping

from app.core.database import Database
from app.dao.audit import AuditDAO
from app.services.scope import Actor

SENSITIVE_KEYS = {"password", "password_hash", "token", "token_hash", "new_password", "current_password"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "strftime"):  # time
        return value.strftime("%H:%M:%S")
    return value


def snapshot(data: Mapping[str, Any] | None) -> str | None:
    """Canonical JSON of a record, secrets masked."""
    if data is None:
        return None
    clean = {k: ("***" if k in SENSITIVE_KEYS else _plain(v)) for k, v in data.items()}
    return json.dumps(clean, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(prev_hash: str | None, row: Mapping[str, Any]) -> str:
    content = [
        prev_hash or "",
        _plain(row["created_at"]),
        row.get("user_id"),
        row.get("actor_role"),
        row["action"],
        row.get("entity_type"),
        row.get("entity_id"),
        row.get("details"),
        row.get("before_json"),
        row.get("after_json"),
        row.get("ip_address"),
    ]
    return hashlib.sha256(json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def record(
    db: Database,
    actor: Actor | None,
    action: str,
    entity_type: str | None,
    entity_id: int | None,
    *,
    now: datetime,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    details: str | None = None,
    ip: str | None = None,
) -> int:
    """Append one audit row (in its own transaction level, nested inside the caller's)."""
    dao = AuditDAO(db)
    row = {
        "user_id": actor.user_id if actor and actor.user_id else None,
        "actor_role": actor.role if actor else None,
        "action": action[:80],
        "entity_type": entity_type,
        "entity_id": entity_id,
        "details": details,
        "created_at": now.replace(microsecond=0),
        "ip_address": (ip or (actor.ip if actor else None) or None),
        "before_json": snapshot(before),
        "after_json": snapshot(after),
    }
    with db.transaction():
        head = dao.lock_head()
        row["prev_hash"] = head["last_hash"]
        row["row_hash"] = row_hash(head["last_hash"], row)
        audit_id = dao.insert(row)
        dao.move_head(audit_id, row["row_hash"], now, data_change=row["action"] not in NO_DATA_CHANGE)
    return audit_id


# Audited events that change no figure any report, list or export shows: they leave the data version
# (audit_chain.last_data_id, the key of kept report CSVs) where it is. Any other action moves it, so an
# action missing here costs a rebuilt export, never a stale one.
NO_DATA_CHANGE = frozenset({
    "login", "login_failed", "logout", "access_refused", "second_factor_passed", "second_factor_failed",
    "session_ended", "other_sessions_ended", "recovery_codes_regenerated", "personal_data_exported",
    "audit_exported", "payments_exported", "document_downloaded", "calendar_feed_issued",
})


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""
    last_id: int | None = None  # the last row found intact (None: none walked)
    last_hash: str | None = None  # its row_hash (None: no hashed row yet)


def verify(db: Database, batch: int = 500) -> VerifyResult:
    """Walk the chain in id order. Rows from before the chain existed (PHP era) have no hash
    and are accepted only before the first hashed row."""
    return _walk(AuditDAO(db), 0, None, None, False, batch)


def verify_range(db: Database, first_id: int, last_id: int, batch: int = 500) -> VerifyResult:
    """Check the chain over the rows with ids ``first_id`` to ``last_id`` (an export's span): each row's
    content against its hash, and its link to the row before it, the first one's to the row just
    before the span (any row of the span linking elsewhere means a row was removed, inserted or
    reordered). When the span reaches the newest row, the chain head must name it too. Rows without a
    hash (PHP era) are accepted only before the first hashed row, as in :func:`verify`."""
    dao = AuditDAO(db)
    before = dao.row_before(first_id)
    expected_prev = before["row_hash"] if before else None
    return _walk(dao, first_id - 1, last_id, expected_prev, expected_prev is not None, batch)


def _walk(dao: AuditDAO, after_id: int, until_id: int | None, expected_prev: str | None, started: bool,
          batch: int) -> VerifyResult:
    """Check the rows after ``after_id`` (up to ``until_id``; None: to the end) in id order, ``batch`` at
    a time, each linking to ``expected_prev`` and then to the row before it. The result names the last
    row found intact (``last_id``, ``last_hash``: where a later check may start)."""
    checked, last_id, reached_end = 0, after_id, False
    good_id = after_id if after_id else None
    while True:
        rows = dao.chain_batch(last_id, batch)
        if not rows:
            reached_end = True
            break
        in_span = [row for row in rows if until_id is None or row["id"] <= until_id]
        for row in in_span:
            last_id = row["id"]
            if row["row_hash"] is None:
                if started:
                    return VerifyResult(False, checked, row["id"], "hash missing on a chained row", good_id,
                                        expected_prev)
                good_id = row["id"]
                continue
            started = True
            checked += 1
            if row["prev_hash"] != expected_prev:
                return VerifyResult(False, checked, row["id"], "previous-row link broken (a row was removed or reordered)",
                                    good_id, expected_prev)
            if row_hash(row["prev_hash"], row) != row["row_hash"]:
                return VerifyResult(False, checked, row["id"], "content does not match its hash (row was changed)",
                                    good_id, expected_prev)
            expected_prev, good_id = row["row_hash"], row["id"]
        if len(in_span) < len(rows):
            break  # past the span: the chain goes on after it
    head = dao.head()
    if reached_end and started and head and head["last_hash"] != expected_prev:
        if until_id is None or not dao.chain_batch(last_id, 1):  # (a range: rows appended meanwhile are fine)
            return VerifyResult(False, checked, head["last_id"], "the newest rows were removed", good_id,
                                expected_prev)
    return VerifyResult(True, checked, last_id=good_id, last_hash=expected_prev)


def verify_and_record(db: Database, now: datetime) -> VerifyResult:
    """The full walk (:func:`verify`, authoritative: flask verify-audit, nightly) with its result kept in
    audit_verifications, ok or not: the last row found intact (id, hash) and, on failure, the first bad
    row and why. The newest ok row is where the admin page's check starts (:func:`verify_recent`)."""
    result = verify(db)
    with db.transaction():
        AuditDAO(db).record_verification({
            "verified_at": now.replace(microsecond=0), "checked": result.checked, "last_id": result.last_id,
            "last_hash": result.last_hash, "ok": 1 if result.ok else 0,
            "first_bad_id": result.first_bad_id, "reason": (result.reason or None) and result.reason[:255],
        })
    return result


PAGE_LIMIT = 1000  # entries the admin page re-hashes per view (about 60 ms at scale L); the rest: the nightly walk


@dataclass
class RecentCheck:
    """What the admin page checked: ``result`` covers the entries after ``checkpoint`` (the newest ok
    full check; None: from the start), at most PAGE_LIMIT of them. ``pending``: entries after
    ``result.last_id`` were left for flask verify-audit (the newest is ``newest_id``). ``last_full_failed``: the
    newest full check, when it failed."""
    result: VerifyResult
    checkpoint: dict | None
    pending: bool = False
    newest_id: int | None = None
    last_full_failed: dict | None = None


def verify_recent(db: Database, limit: int | None = None) -> RecentCheck:
    """The bounded chain check of the admin page (reads only): from the newest ok full check (its last
    row's hash is the link the next row must carry), at most ``limit`` (PAGE_LIMIT) entries, and the
    chain head as in :func:`verify` when they reach the newest entry. Changes to entries before the
    checkpoint are the nightly full walk's to find."""
    limit = int(limit or PAGE_LIMIT)
    dao = AuditDAO(db)
    latest = dao.latest_verification()
    checkpoint = latest if latest is None or latest["ok"] else dao.latest_verification(ok_only=True)
    after_id = int(checkpoint["last_id"] or 0) if checkpoint else 0
    expected_prev = checkpoint["last_hash"] if checkpoint else None
    window = dao.ids_after(after_id, limit - 1, 2)  # the limit-th entry after the start and the one after it
    until_id = window[0] if len(window) == 2 else None
    result = _walk(dao, after_id, until_id, expected_prev, expected_prev is not None, limit + 1)
    pending = until_id is not None and result.ok
    newest = dao.head() if pending else None
    return RecentCheck(result, checkpoint, pending, newest["last_id"] if newest else None,
                       latest if latest and not latest["ok"] else None)


def utc_range(day_from, day_to) -> dict[str, str]:
    """Local calendar days (APP_TIMEZONE) -> UTC bounds for the from_at/to_at filters."""
    from datetime import time as dtime, timedelta, timezone

    from app.core import clock
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(clock.timezone_name())
    bounds = {}
    if day_from:
        start = datetime.combine(day_from, dtime(0, 0)).replace(tzinfo=zone).astimezone(timezone.utc)
        bounds["from_at"] = start.strftime("%Y-%m-%d %H:%M:%S")
    if day_to:
        end = datetime.combine(day_to + timedelta(days=1), dtime(0, 0)).replace(tzinfo=zone).astimezone(timezone.utc)
        bounds["to_at"] = end.strftime("%Y-%m-%d %H:%M:%S")
    return bounds


CSV_COLUMNS = ("id", "created_at", "user_id", "email", "actor_role", "action", "entity_type", "entity_id",
               "details", "ip_address", "before_json", "after_json", "prev_hash", "row_hash")


def export_range(db: Database, day_from: date, day_to: date, batch: int = 1000):
    """Every row of the local days ``day_from`` to ``day_to`` (inclusive, APP_TIMEZONE) in id order,
    ``batch`` at a time (flask export-audit; memory stays flat whatever the range)."""
    from app.core.pagination import ListQuery

    return AuditDAO(db).export(ListQuery(sort="created_at", filters=utc_range(day_from, day_to)), batch)


def export_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """One exported row as JSON values (CSV_COLUMNS; timestamps UTC as stored, the snapshots as their
    stored text, so each row_hash can be recomputed from the export)."""
    return {column: _plain(row.get(column)) for column in CSV_COLUMNS}


_FORMULA_START = frozenset("=+-@\t\r")


def csv_safe(value: Any) -> str:
    """Spreadsheet-safe cell: values starting with = + - @ tab or CR get a leading quote (a negative number
    too, as before). Text and whole numbers skip _plain (a 44,000-row report CSV calls this 350,000 times)."""
    if value is None:
        return ""
    kind = type(value)
    text = value if kind is str else str(value) if kind is int else str(_plain(value))
    return "'" + text if text and text[0] in _FORMULA_START else text


def pretty(snapshot_json: str | None) -> str:
    if not snapshot_json:
        return ""
    try:
        return json.dumps(json.loads(snapshot_json), indent=2, sort_keys=True, ensure_ascii=False)
    except ValueError:
        return snapshot_json


# --------------------------------------------------------------------------- display (viewer only)
# Nothing below writes or hashes: these helpers turn stored rows into words for the audit viewer.

ACTION_LABELS = {
    "personal_data_exported": "Personal data downloaded (privacy request)",
    "student_anonymised": "Former student anonymised (privacy request)",
    "contact_preferences_changed": "Contact preferences changed",
    "reminders_dispatched": "Reminders dispatched",
    "reminder_retried": "Reminder retried",
    "reminder_cancelled": "Reminder cancelled",
    "reminder_run": "Reminder sent now (run now)",
    "communication_sent": "Message sent to a group (broadcast queued)",
    "invoice_created": "Invoice created",
    "invoice_issued": "Invoice issued",
    "invoice_line_added": "Invoice line added",
    "invoice_fee_added": "Fee added to an invoice",
    "invoice_fee_waived": "Fee waived",
    "invoice_voided": "Invoice voided",
    "invoice_credited": "Credit note issued",
    "invoice_status_changed": "Invoice status changed",
    "login": "Signed in",
    "login_failed": "Sign-in failed",
    "second_factor_passed": "Second sign-in step passed",
    "second_factor_failed": "Second-factor code refused",
    "second_factor_enabled": "Second factor switched on",
    "second_factor_disabled": "Second factor switched off",
    "second_factor_reset": "Second factor reset by an administrator",
    "recovery_codes_regenerated": "New recovery codes made",
    "logout": "Signed out",
    "reauthenticated": "Password confirmed again (re-authentication)",
    "reauth_failed": "Re-authentication failed (wrong password)",
    "password_change_failed": "Password change refused (wrong current password)",
    "email_changed": "Own e-mail address changed",
    "session_ended": "Own session signed out from another device",
    "other_sessions_ended": "Signed out everywhere else",
    "role_changed": "Role changed (staff / administrator)",
    "access_denied": "Access refused (role)",
    "access_refused": "Access refused (not found or out of scope)",
    "activation_link_issued": "Activation link issued",
    "account_activated": "Account activated",
    "password_reset_requested": "Password reset link e-mailed",
    "password_reset": "Password reset through an e-mailed link",
    "user_archived": "Account archived",
    "user_restored": "Account restored",
    "audit_exported": "Audit trail exported",
    "branch_created": "Branch created",
    "branch_updated": "Branch updated",
    "staff_created": "Staff member created",
    "staff_updated": "Staff member updated",
    "student_created": "Student registered",
    "student_updated": "Student updated",
    "student_note_added": "Note added to student",
    "student_document_uploaded": "Student document uploaded",
    "document_downloaded": "Document downloaded",
    "document_deleted": "Document deleted",
    "course_created": "Course created",
    "course_updated": "Course updated",
    "instructor_created": "Instructor created",
    "instructor_updated": "Instructor updated",
    "instructor_availability_updated": "Instructor working hours updated",
    "instructor_unavailability_added": "Instructor unavailability added",
    "instructor_unavailability_deleted": "Instructor unavailability removed",
    "vehicle_created": "Vehicle added",
    "vehicle_updated": "Vehicle updated",
    "vehicle_service_logged": "Vehicle service logged",
    "vehicle_downtime_added": "Vehicle downtime added",
    "vehicle_downtime_deleted": "Vehicle downtime removed",
    "schedule_created": "Lesson booked",
    "schedule_moved": "Lesson moved",
    "schedule_cancelled": "Lesson cancelled",
    "branch_policy_updated": "Booking policy changed",
    "calendar_feed_issued": "Calendar feed link issued",
    "schedule_revived": "Cancelled lesson revived",
    "schedule_outcome_recorded": "Lesson outcome recorded",
    "schedule_outcome_corrected": "Lesson outcome corrected",
    "series_created": "Lesson series booked",
    "series_changed": "Lesson series changed",
    "series_cancelled": "Lesson series cancelled",
    "conflict_reassigned": "Broken lesson reassigned (conflicts panel)",
    "conflict_cancelled": "Broken lesson cancelled, people notified (conflicts panel)",
    "waitlist_preferences_saved": "Earlier-slot preferences saved",
    "waitlist_offered": "Freed slot offered to waiting students",
    "proposal_created": "New lesson time proposed",
    "proposal_accepted": "Proposed lesson time accepted",
    "proposal_declined": "Proposed lesson time declined",
    "proposal_withdrawn": "Proposed lesson time withdrawn",
    "proposals_expired": "Proposed lesson times expired",
    "package_purchased": "Lesson credits added to the package",
    "package_adjusted": "Lesson package adjusted",
    "package_refunded": "Lesson credits refunded",
    "package_expired": "Lesson credits expired",
    "enrollment_request_created": "Enrolment application received",
    "enrollment_request_assigned": "Enrolment request assigned",
    "enrollment_request_approved": "Enrolment request approved",
    "enrollment_request_declined": "Enrolment request declined",
    "enrollment_created": "Student enrolled",
    "enrollment_status_changed": "Enrolment status changed",
    "student_transferred": "Student transferred to another branch",
    "payment_recorded": "Payment recorded",
    "payment_refunded": "Payment refunded",
    "payment_credit_applied": "Account credit applied to an invoice",
    "payment_online": "Invoice paid online",
    "payments_exported": "Payments ledger exported",
    "maintenance_on": "Maintenance mode switched on (command line)",
    "maintenance_updated": "Maintenance message changed (command line)",
    "maintenance_off": "Maintenance mode switched off (command line)",
    "user_created": "Account created (command line)",
}

ROLE_LABELS = {"admin": "Administrator", "staff": "Staff", "instructor": "Instructor", "student": "Student"}

ENTITY_LABELS = {
    "student": "Student", "instructor": "Instructor", "vehicle": "Vehicle", "branch": "Branch", "course": "Course",
    "staff": "Staff member", "user": "Account", "document": "Document", "schedule": "Lesson",
    "instructor_unavailability": "Unavailability", "vehicle_downtime": "Downtime",
    "vehicle_service_log": "Service record", "schedule_series": "Lesson series",
    "enrollment_request": "Enrolment request",
    "payment": "Payment",
    "communication": "Message (broadcast)",
}

SYSTEM_ACTOR = "System"
REMOVED_ACTOR = "Unknown (removed account)"

# The record kinds that have a page of their own (the blueprint maps each to its view).
LINKED_KINDS = ("student", "instructor", "vehicle", "branch", "course", "staff", "invoice")
# Child records: the parent kind and the snapshot key that names it.
_PARENT_KEYS = {
    "instructor_unavailability": ("instructor", "instructor_id"),
    "vehicle_downtime": ("vehicle", "vehicle_id"),
    "vehicle_service_log": ("vehicle", "vehicle_id"),
    "payment": ("invoice", "invoice_id"),
}
_DOCUMENT_STUDENT = re.compile(r"\(student ([0-9]{1,10})\)", re.ASCII)


def _words(code: str) -> str:
    text = " ".join(str(code or "").replace("_", " ").split())
    return text[:1].upper() + text[1:]


def action_label(code: str | None) -> str:
    """Words for an action code; unknown codes read as their words ("fee_waived" -> "Fee waived")."""
    return ACTION_LABELS.get(code or "") or _words(code or "") or "—"


def role_label(role: str | None) -> str:
    return ROLE_LABELS.get(role or "", "")


def entity_label(entity_type: str | None) -> str:
    return ENTITY_LABELS.get(entity_type or "") or _words(entity_type or "")


@dataclass
class ActorName:
    """Who did it, in words (a display value, not an :class:`Actor`)."""
    name: str
    role: str = ""
    user_id: int | None = None
    kind: str | None = None  # the person's profile page (student, instructor, staff) when one exists
    target_id: int | None = None
    url: str | None = None  # filled in by the blueprint


def actor_display(row: Mapping[str, Any]) -> ActorName:
    """Row from AuditDAO.list_page/find (joined to users): the person's name and role in words."""
    if row.get("user_id") is None:
        return ActorName(SYSTEM_ACTOR)
    if row.get("actor_user_id") is None:  # the user row is gone (PHP-era data)
        return ActorName(REMOVED_ACTOR, role_label(row.get("actor_role")), row["user_id"])
    name = " ".join(p for p in (row.get("first_name"), row.get("last_name")) if p) or row.get("email") or ""
    role = row.get("actor_role")
    return ActorName(name, role_label(role if role in ROLE_LABELS else row.get("user_role")), row["user_id"])


def describe_actors(db: Database, rows: list[Mapping[str, Any]]) -> dict[int, ActorName]:
    """{audit id: ActorName} for a page of rows, with each person's profile page, in one batched query."""
    actors = {row["id"]: actor_display(row) for row in rows}
    user_ids = {a.user_id for a in actors.values() if a.user_id and a.name != REMOVED_ACTOR}
    found = {int(r["ref_id"]): r for r in AuditDAO(db).record_names({"user": user_ids})} if user_ids else {}
    for actor in actors.values():
        hit = found.get(actor.user_id) if actor.user_id else None
        if hit and hit.get("extra") in ("student", "instructor", "staff") and hit.get("profile_id"):
            actor.kind, actor.target_id = hit["extra"], int(hit["profile_id"])
    return actors


@dataclass
class RecordRef:
    """The record an entry is about: ``text`` ("Student Jack Mason", "Downtime #4") and, when a page exists,
    ``kind``/``target_id`` of that page; ``parent`` is the link text when the page is the parent's."""
    text: str
    kind: str | None = None
    target_id: int | None = None
    parent: str | None = None
    url: str | None = None  # filled in by the blueprint


def _snapshot_id(row: Mapping[str, Any], key: str) -> int | None:
    for column in ("after_json", "before_json"):
        try:
            data = json.loads(row.get(column) or "null")
        except ValueError:
            continue
        if isinstance(data, dict):
            value = data.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 2**32 - 1:
                return value
    return None


def record_target(row: Mapping[str, Any]) -> tuple[str, int] | None:
    """(kind, id) of the page that shows the row's record, read from the row alone (no query)."""
    entity, entity_id = row.get("entity_type"), row.get("entity_id")
    if entity in LINKED_KINDS or entity == "user":
        return (entity, int(entity_id)) if entity_id else None
    if entity in _PARENT_KEYS:
        kind, key = _PARENT_KEYS[entity]
        parent_id = _snapshot_id(row, key)
        return (kind, parent_id) if parent_id else None
    if entity == "document":
        match = _DOCUMENT_STUDENT.search(row.get("details") or "")
        return ("student", int(match.group(1))) if match else None
    return None


def _record_name(kind: str, found: Mapping[str, Any]) -> str:
    person = " ".join(p for p in (found.get("first_name"), found.get("last_name")) if p)
    if kind == "vehicle":
        plate = found.get("extra")
        return f"{found.get('title') or ''}{f' ({plate})' if plate else ''}".strip()
    if kind in ("branch", "course"):
        return found.get("title") or ""
    if kind == "invoice":
        return f"{found.get('title') or ''}{f' ({person})' if person else ''}".strip()
    return person


def describe_records(db: Database, rows: list[Mapping[str, Any]]) -> dict[int, RecordRef]:
    """{audit id: RecordRef} for a page of rows, names resolved in one batched query."""
    targets = {row["id"]: record_target(row) for row in rows}
    wanted: dict[str, set[int]] = {}
    for target in targets.values():
        if target:
            wanted.setdefault(target[0], set()).add(target[1])
    found = {(r["kind"], int(r["ref_id"])): r for r in AuditDAO(db).record_names(wanted)} if wanted else {}
    refs = {}
    for row in rows:
        entity, entity_id = row.get("entity_type"), row.get("entity_id")
        own = entity_label(entity)
        own_text = f"{own} #{entity_id}" if entity_id is not None else own
        target = targets[row["id"]]
        hit = found.get(target) if target else None
        if not entity or entity_id is None:  # e.g. a failed sign-in with an unknown e-mail: no record
            refs[row["id"]] = RecordRef("")
        elif target is None or hit is None:
            if target and target[0] != entity:  # parent known but gone: still say whose it was
                refs[row["id"]] = RecordRef(own_text, parent=f"{entity_label(target[0])} #{target[1]}")
            else:
                refs[row["id"]] = RecordRef(own_text)
        elif target[0] == "user":
            name = _record_name("user", hit)
            role = hit.get("extra")
            text = f"{own} {name}" if name else own_text
            profile = hit.get("profile_id")
            kind = role if role in ("student", "instructor", "staff") and profile else None
            refs[row["id"]] = RecordRef(text, kind, int(profile) if kind else None)
        else:
            name = _record_name(target[0], hit)
            label = f"{entity_label(target[0])} {name}" if name else f"{entity_label(target[0])} #{target[1]}"
            if target[0] == entity:
                refs[row["id"]] = RecordRef(label, target[0], target[1])
            else:
                refs[row["id"]] = RecordRef(own_text, target[0], target[1], parent=label)
    return refs


@dataclass
class FieldChange:
    field: str
    before: str
    after: str
    status: str  # "changed", "added", "removed", "same", "hidden"

    @property
    def label(self) -> str:
        return _words(self.field)

    @property
    def status_label(self) -> str:
        return {"changed": "Changed", "added": "Added", "removed": "Removed", "same": "Unchanged",
                "hidden": "Hidden"}[self.status]


def _load(snapshot_json: str | None) -> dict | None:
    if not snapshot_json:
        return None
    try:
        data = json.loads(snapshot_json)
    except ValueError:
        return {"(unreadable snapshot)": snapshot_json}
    return data if isinstance(data, dict) else {"(value)": data}


def _shown(value: Any, present: bool) -> str:
    if not present:
        return "—"
    if value is None:
        return "(empty)"
    if value == "":
        return "(blank)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def diff(before_json: str | None, after_json: str | None) -> list[FieldChange]:
    """Field-by-field comparison of two snapshots, in field order; masked secrets stay masked ("hidden")."""
    before, after = _load(before_json), _load(after_json)
    if before is None and after is None:
        return []
    before, after = before or {}, after or {}
    changes = []
    for name in sorted(set(before) | set(after)):
        in_before, in_after = name in before, name in after
        old, new = before.get(name), after.get(name)
        if name in SENSITIVE_KEYS or old == "***" or new == "***":
            status = "hidden"
            old, new = ("***" if in_before else old), ("***" if in_after else new)
        elif in_before and in_after:
            status = "same" if old == new else "changed"
        else:
            status = "added" if in_after else "removed"
        changes.append(FieldChange(name, _shown(old, in_before), _shown(new, in_after), status))
    return changes
