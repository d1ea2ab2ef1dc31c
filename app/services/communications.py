"""Broadcasts (the original's communications module, issue 10 item 8). No Flask here.

Rules (the original took a hand-picked list of any users, archived included, kept duplicates, wrote the
header row outside a transaction and "delivered" inside the request, spec §4.8):
- office only: admin any branch or all of them, staff their own branch (a staff account without a branch
  reaches nobody); instructors 403, students 404;
- an audience is a segment: ``everyone`` (every active account; for staff, of their branch), ``role``
  (student, instructor, staff, admin), ``branch`` (admin only: everyone of one branch; staff are always
  limited to theirs), ``course`` (students with an enrolment in the course) or ``enrolment_status``
  (students with an enrolment in that status). Archived accounts never receive; each person once;
- ``preview`` counts the audience with one aggregate (and shows the first few names) before anything is
  sent; ``send`` resolves the recipients with ONE query and, in ONE transaction, writes the
  communications row, the communication_recipients rows (bulk) and one reminders row per recipient
  (``reminders.queue_many``, reminder_type "Broadcast", due now). Nothing is dispatched here: the cron
  dispatcher (``flask process-reminders``) delivers them and honours each person's consent;
- the channel is email, sms or in-app; the subject is optional (default "A message from <APP_NAME>");
  the message 5..2000 characters. Bad input is a 422 naming the field; an audience of nobody is a 422;
- audit ``communication_sent`` with the id, the audience and the recipient count.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from app.core.database import Database
from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.core.pagination import ListQuery, Page
from app.core.params import parse_id
from app.dao.branch import BranchDAO
from app.dao.communication import ENROLMENT_STATUSES, ROLES, CommunicationDAO, audience_clause
from app.services import audit, enrollments, reminders
from app.services.scope import NO_BRANCH, Actor

SEGMENTS = {"everyone": "Everyone", "role": "A role", "branch": "A branch", "course": "A course",
            "enrolment_status": "An enrolment status"}
ROLE_LABELS = {"student": "Students", "instructor": "Instructors", "staff": "Office staff", "admin": "Administrators"}
STATUS_LABELS = enrollments.STATUS_LABELS  # an enrolment's statuses, in the enrolments' own words
CHANNELS = {c: reminders.CHANNEL_LABELS[c] for c in ("in-app", "email", "sms")}  # in the form's order
# The original's audience labels (PHP-era rows have no segment).
LEGACY_SCOPES = {"selected": "Selected people", "all_students": "All students", "all_instructors": "All instructors"}
DELIVERY_LABELS = reminders.STATUS_LABELS  # a recipient's delivery is their reminder's status (same words)
DELIVERY_ORDER = ("sent", "pending", "processing", "failed", "dead", "unknown", "skipped", "cancelled")
MESSAGE_MIN, MESSAGE_MAX, SUBJECT_MAX = 5, 2000, 160
REMINDER_TYPE = "Broadcast"
SAMPLE_SIZE = 8
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Audience:
    segment: str
    value: str | None          # as stored in communications.segment_value
    branch_id: int | None      # the branch the broadcast is limited to (None = every branch, admin only)
    label: str                 # in words: "Students (CBD)"
    scope: str                 # communications.audience_scope: "role:student"

    def clause(self) -> tuple[str, dict[str, Any]]:
        value: Any = self.value
        if self.segment == "course":
            value = int(self.value or 0)
        return audience_clause(self.segment, value, self.branch_id)


# --------------------------------------------------------------------------- scope and input

def _require_office(actor: Actor) -> None:
    if actor.role == "instructor":
        raise PermissionDenied("Broadcasts are sent by the office.")
    if not actor.is_office:
        raise NotFound("Not found")


def _actor_branch(actor: Actor) -> int | None:
    """None for admin (every branch); the staff member's branch, or NO_BRANCH (matches nobody)."""
    return actor.branch_filter()


def resolve_audience(db: Database, actor: Actor, segment: Any, value: Any) -> Audience:
    """The checked audience of (segment, value) for ``actor``; 422 naming ``segment`` or ``segment_value``."""
    _require_office(actor)
    segment = str(segment or "").strip()
    raw = str(value if value is not None else "").strip()
    if segment not in SEGMENTS:
        raise ValidationFailed("Choose who the message goes to.", field="segment")
    limit = _actor_branch(actor)
    dao = CommunicationDAO(db)
    branch_name = dao.branch_name(limit) if limit not in (None, NO_BRANCH) else None
    where = f" ({branch_name})" if branch_name else (" (your branch)" if limit is not None else " (all branches)")
    if segment == "everyone":
        return Audience("everyone", None, limit, f"Everyone{where}", "everyone")
    if segment == "role":
        if raw not in ROLES:
            raise ValidationFailed("Choose a role from the list.", field="segment_value")
        return Audience("role", raw, limit, f"{ROLE_LABELS[raw]}{where}", f"role:{raw}")
    if segment == "enrolment_status":
        if raw not in ENROLMENT_STATUSES:
            raise ValidationFailed("Choose an enrolment status from the list.", field="segment_value")
        return Audience("enrolment_status", raw, limit, f"Students with a {STATUS_LABELS[raw].lower()} enrolment{where}",
                        f"enrolment_status:{raw}")
    ident = parse_id(raw)
    if segment == "course":
        title = dao.course_title(ident) if ident else None
        if title is None:
            raise ValidationFailed("Choose a course from the list.", field="segment_value")
        return Audience("course", str(ident), limit, f"Students of {title}{where}", f"course:{ident}")
    # segment == "branch"
    name = dao.branch_name(ident) if ident else None
    if name is None:
        raise ValidationFailed("Choose a branch from the list.", field="segment_value")
    if limit is not None and ident != limit:
        raise ValidationFailed("You can only message your own branch.", field="segment_value")
    return Audience("branch", str(ident), ident, f"Everyone at {name}", f"branch:{ident}")


def _clean_text(raw: Any) -> str:
    text = str(raw if raw is not None else "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def _clean(data: Mapping[str, Any], settings: Mapping[str, Any]) -> tuple[str, str, str]:
    """(channel, subject, message) or a 422 naming every bad field."""
    errors: dict[str, list[str]] = {}
    channel = str(data.get("channel") or "").strip()
    if channel not in CHANNELS:
        errors["channel"] = ["Choose the channel: in-app, e-mail or SMS."]
    subject = " ".join(_clean_text(data.get("subject")).split())
    if len(subject) > SUBJECT_MAX:
        errors["subject"] = [f"The subject must be at most {SUBJECT_MAX} characters."]
    message = _clean_text(data.get("message"))
    if len(message) < MESSAGE_MIN:
        errors["message"] = [f"Write a message of at least {MESSAGE_MIN} characters."]
    elif len(message) > MESSAGE_MAX:
        errors["message"] = [f"The message must be at most {MESSAGE_MAX} characters (it has {len(message)})."]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    return channel, subject or default_subject(settings), message


def default_subject(settings: Mapping[str, Any]) -> str:
    return f"A message from {settings.get('APP_NAME') or 'the school'}"


# --------------------------------------------------------------------------- the composer

def audience_options(db: Database, actor: Actor) -> list[tuple[str, list[tuple[str, str]]]]:
    """The audience select's groups: [(group label, [(\"segment:value\", label), ...]), ...]."""
    _require_office(actor)
    dao = CommunicationDAO(db)
    limit = _actor_branch(actor)
    groups = [("", [("everyone:", "Everyone" + (" at your branch" if limit is not None else ""))]),
              ("Role", [(f"role:{r}", ROLE_LABELS[r]) for r in ROLES])]
    if limit is None:
        groups.append(("Branch", [(f"branch:{b['id']}", f"Everyone at {b['name']}") for b in BranchDAO(db).options()]))
    groups.append(("Course", [(f"course:{c['id']}", c["title"] + (" (inactive)" if c["status"] == "inactive" else ""))
                              for c in dao.course_options()]))
    groups.append(("Enrolment status", [(f"enrolment_status:{s}", f"{STATUS_LABELS[s]} enrolment")
                                        for s in ENROLMENT_STATUSES]))
    return [(label, options) for label, options in groups if options]


def split_audience(raw: Any) -> tuple[str, str]:
    """``"role:student"`` (the composer's single select) -> ("role", "student")."""
    segment, _, value = str(raw or "").partition(":")
    return segment.strip(), value.strip()


def preview(db: Database, actor: Actor, segment: Any, value: Any, channel: Any) -> dict:
    """How many people the audience reaches (one aggregate), how many lack an address for the channel or
    opted out of it, and the first few names. 422 for a bad segment, value or channel."""
    audience = resolve_audience(db, actor, segment, value)
    channel = str(channel or "").strip()
    if channel not in CHANNELS:
        raise ValidationFailed("Choose the channel: in-app, e-mail or SMS.", field="channel")
    dao = CommunicationDAO(db)
    where, params = audience.clause()
    summary = dao.audience_summary(where, params, channel)
    sample = dao.audience_sample(where, params, SAMPLE_SIZE) if summary["total"] else []
    return {"audience": audience, "channel": channel, "channel_label": CHANNELS[channel], **summary,
            "sample": sample}


def send(db: Database, actor: Actor, data: Mapping[str, Any], *, now: datetime, settings: Mapping[str, Any]) -> int:
    """Record the broadcast and queue one reminder per recipient (one transaction); returns its id."""
    _require_office(actor)
    errors: dict[str, list[str]] = {}
    audience = None
    try:
        audience = resolve_audience(db, actor, data.get("segment"), data.get("segment_value"))
    except ValidationFailed as exc:
        errors.update(exc.errors)
    try:
        channel, subject, message = _clean(data, settings)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors or audience is None:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    dao = CommunicationDAO(db)
    stamp = now.replace(microsecond=0)
    with db.transaction():
        where, params = audience.clause()
        user_ids = list(dict.fromkeys(dao.audience_ids(where, params)))  # each person once
        if not user_ids:
            raise ValidationFailed("This audience reaches nobody: no active account matches it.", field="segment")
        communication_id = dao.insert({
            "sender_user_id": actor.user_id or None, "audience_scope": audience.scope[:40], "channel": channel,
            "subject": subject, "message": message, "created_at": stamp, "branch_id": audience.branch_id
            if audience.branch_id != NO_BRANCH else None, "segment": audience.segment,
            "segment_value": audience.value, "recipient_count": len(user_ids)})
        dao.insert_recipients(communication_id, user_ids)
        body = f"{subject}\n\n{message}"
        reminders.queue_many(db, [{
            "related_type": "communication", "related_id": communication_id, "recipient_user_id": user_id,
            "channel": channel, "reminder_type": REMINDER_TYPE, "message": body, "send_at": stamp,
            "key": f"communication:{communication_id}:{user_id}", "transactional": False,
        } for user_id in user_ids], stamp)
        audit.record(db, actor, "communication_sent", "communication", communication_id, now=now,
                     details=f"{audience.label}; {CHANNELS[channel]}; {len(user_ids)} recipient"
                             f"{'' if len(user_ids) == 1 else 's'} queued.")
    return communication_id


# --------------------------------------------------------------------------- history and detail

def segment_label(row: Mapping[str, Any], titles: Mapping[str, str] | None = None) -> str:
    """A stored broadcast's audience in words (PHP-era rows: the original's label)."""
    segment, value = row.get("segment"), row.get("segment_value")
    where = f" ({row['branch_name']})" if row.get("branch_name") else (" (all branches)" if not row.get("branch_id") else "")
    if segment == "everyone":
        return f"Everyone{where}"
    if segment == "role":
        return ROLE_LABELS.get(value or "", value or "") + where
    if segment == "branch":
        return f"Everyone at {row.get('branch_name') or 'a removed branch'}"
    if segment == "course":
        return f"Students of {(titles or {}).get(str(value), 'a course')}{where}"
    if segment == "enrolment_status":
        return f"Students with a {STATUS_LABELS.get(value or '', value or '').lower()} enrolment{where}"
    scope = row.get("audience_scope") or ""
    return LEGACY_SCOPES.get(scope, scope.replace("_", " ").capitalize() or "—")


def _decorate(db: Database, rows: list[dict], counts: Mapping[int, Mapping[str, int]]) -> None:
    dao = CommunicationDAO(db)
    titles = dao.course_titles(sorted({int(r["segment_value"]) for r in rows
                                       if r.get("segment") == "course" and parse_id(r.get("segment_value"))}))
    for row in rows:
        row["segment_label"] = segment_label(row, titles)
        row["channel_label"] = CHANNELS.get(row["channel"], row["channel"])
        row["sender_name"] = " ".join(p for p in (row.get("sender_first_name"), row.get("sender_last_name")) if p) or None
        row["recipients"] = int(row.get("recipient_count") or 0) or int(row.get("recorded_recipients") or 0)
        found = counts.get(int(row["id"]), {})
        row["deliveries"] = [(s, DELIVERY_LABELS.get(s, s), found[s]) for s in
                             (*DELIVERY_ORDER, *sorted(set(found) - set(DELIVERY_ORDER))) if found.get(s)]
        row["queued"] = sum(found.values())


def history(db: Database, actor: Actor, query: ListQuery) -> Page:
    """The broadcasts the actor may see, newest first, each with its delivery counts per status (one
    aggregate over reminders for the page)."""
    _require_office(actor)
    dao = CommunicationDAO(db)
    page = dao.page(query, _actor_branch(actor))
    _decorate(db, page.items, dao.delivery_counts([int(r["id"]) for r in page.items]))
    return page


def get(db: Database, actor: Actor, communication_id: int) -> dict:
    """One broadcast with its delivery counts; 404 outside the actor's branch."""
    _require_office(actor)
    dao = CommunicationDAO(db)
    row = dao.find(communication_id)
    if row is None:
        raise NotFound("No such message.")
    limit = _actor_branch(actor)
    if limit is not None and row["scope_branch_id"] != limit:
        raise NotFound("No such message.")
    _decorate(db, [row], dao.delivery_counts([communication_id]))
    return row


def recipients(db: Database, actor: Actor, communication_id: int, query: ListQuery) -> tuple[dict, Page]:
    """(the broadcast, a page of its recipients each with their reminders row as ``delivery``)."""
    row = get(db, actor, communication_id)
    dao = CommunicationDAO(db)
    status = query.filter("status") or None
    page = dao.recipients_page(communication_id, query, status)
    found = dao.deliveries(communication_id, [int(r["user_id"]) for r in page.items])
    for r in page.items:
        r["name"] = f"{r['first_name']} {r['last_name']}"
        r["delivery"] = found.get(int(r["user_id"]))
    return row, page
