"""Reschedule proposals (issue 8, item 4): the office or the lesson's instructor proposes a new time for a
booked lesson, the student accepts or declines it in the portal, and an unanswered proposal expires while
the lesson stays where it was. No Flask here; the SQL is in dao/proposal.py. docs/proposals.md has the
whole story.

Rules:

- **Who proposes**: admin any lesson; staff the lessons of their branch (the event's branch, else the
  student's); an instructor only their own lessons, and only a new date and time (another instructor is the
  office's call). Anything else is NotFound (404); a student is PermissionDenied (403).
- **What**: a scheduled event that has not started, a new date, start and end (the booking service's field
  rules, 422 naming the field), optionally another instructor or vehicle of the lesson's branch and a
  message (500 characters). The new start must be in the future and something must change.
- **Pre-check**: the proposed slot runs through the one conflict engine (``scheduling.plan_booking`` and
  ``conflicts_for``, the lesson itself ignored). Any reason refuses it (``BookingConflict``, 409, with every
  reason): blocks of course, and warnings too, because the student cannot accept a slot with warnings.
- **One pending proposal per lesson**: a new proposal withdraws the pending one in the same transaction,
  under the lesson's row lock (FOR UPDATE on MariaDB; BEGIN IMMEDIATE on SQLite).
- **Expiry**: ``expires_at`` (naive UTC) is the earliest of now + 48 hours (``PROPOSAL_EXPIRY_HOURS``
  in the settings when given), the lesson's current start and the proposed start: once either has come,
  accepting would be meaningless. A pending proposal whose ``expires_at`` is at or before now *is* expired
  wherever it is read; ``expire_due`` (``flask expire-proposals``) writes that status down.
- **Answer**: only the lesson's own student (anyone else: 404). An expired, answered or withdrawn proposal
  is refused (``ProposalClosed``, 409, saying which) and nothing is written. Declining closes it.
  Accepting re-runs the FULL conflict check inside ONE transaction under the booking locks (instructor,
  vehicle, student, then the lesson's row, then the proposal's row), with warnings counted as blocks; on
  success it moves the lesson, re-plans its reminder (``scheduling.replan_reminder``), marks the proposal
  accepted and audits ``proposal_accepted`` as the student. A refusal writes nothing and the proposal stays
  pending (it may become acceptable again, e.g. when the clashing lesson is cancelled).
- **Scope of the re-check**: ``plan_booking`` checks every id against the acting office user's branch. A
  student is not office, so the plan is made with a staff-shaped actor of the *lesson's* branch (an
  admin-shaped one when the lesson has no branch at all). That is safe: the student may only answer a
  proposal about their own lesson, and the proposal's ids were checked against the proposer's scope when
  it was made; the branch scope keeps the re-check from reaching outside the lesson's branch. The audit
  row names the student.
- **Notices**: the student gets an in-app notification when a time is proposed; the proposer gets one when
  the student answers.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping

from app.core import localtime
from app.core.database import Database
from app.core.errors import AppError, NotFound, PermissionDenied, ValidationFailed
from app.core.pagination import ListQuery, Page
from app.core.params import parse_id, valid_id
from app.dao.booking import BookingDAO
from app.dao.notification import NotificationDAO
from app.dao.proposal import ANSWERED_SORTS, ProposalDAO
from app.services import audit, scheduling
from app.services.conflicts import Conflict
from app.services.scheduling import BookingConflict
from app.services.scope import Actor

DEFAULT_EXPIRY_HOURS = 48
MESSAGE_MAX = 500
PENDING_MAX = 50
ANSWERED_SORT_KEYS = tuple(ANSWERED_SORTS)
PROPOSE_FIELDS = ("date", "start_time", "end_time", "instructor_id", "vehicle_id", "message")


class ProposalClosed(AppError):
    """The proposal can no longer be answered or withdrawn: it expired, or it was answered or withdrawn."""

    status = 409


@dataclass(frozen=True)
class Proposed:
    id: int
    expires_at: datetime
    withdrawn: int = 0


# ------------------------------------------------------------------------------------------ propose

def propose(db: Database, actor: Actor, schedule_id: Any, data: Mapping[str, Any], *, now: datetime,
            settings: Mapping[str, Any]) -> Proposed:
    """Propose a new time for a scheduled lesson (see the module's rules). Raises PermissionDenied (403),
    NotFound (404), ValidationFailed (422), BookingConflict or BookingBusy (409)."""
    current = proposable_lesson(db, actor, schedule_id)
    _require_ahead(current, now, settings)
    if not isinstance(data, Mapping):
        raise ValidationFailed("Send the proposal as an object of fields.", field="body")
    unknown = sorted(set(data) - set(PROPOSE_FIELDS))
    if unknown:
        raise _invalid({name: ["This field cannot be proposed."] for name in unknown})
    errors: dict[str, list[str]] = {}
    message = _text(data.get("message"), "message", MESSAGE_MAX, errors)
    instructor_id = _optional_id(data, "instructor_id", errors)
    vehicle_id = _optional_id(data, "vehicle_id", errors)
    if actor.role == "instructor" and instructor_id not in (None, current["instructor_id"]):
        errors["instructor_id"] = ["Only the office can propose another instructor."]
    if errors:
        raise _invalid(errors)
    changes = {"date": data.get("date"), "start_time": data.get("start_time"), "end_time": data.get("end_time")}
    if instructor_id is not None:
        changes["instructor_id"] = instructor_id
    if vehicle_id is not None:
        changes["vehicle_id"] = vehicle_id
    plan = _plan(db, current, changes, settings)
    slot = plan.slot
    same = (slot.day == current["scheduled_date"] and slot.start == localtime.as_time(current["start_time"])
            and slot.end == localtime.as_time(current["end_time"]) and slot.instructor_id == current["instructor_id"]
            and slot.vehicle_id == current["vehicle_id"])
    if same:
        raise ValidationFailed("That is the lesson's current time; propose a different one.", field="date")
    new_start = _instant(slot.day, slot.start, plan.zone)
    if new_start <= now:
        raise ValidationFailed("The new time must be in the future.", field="date")
    found = scheduling.conflicts_for(db, plan, now)
    _refuse(found, "The proposed time cannot be offered")
    hours = _expiry_hours(settings)
    lesson_start = _instant_or_none(current["scheduled_date"], localtime.as_time(current["start_time"]), plan.zone)
    expires_at = min(now + timedelta(hours=hours), lesson_start, new_start).replace(microsecond=0)
    proposals, bookings = ProposalDAO(db), BookingDAO(db)
    row = {
        "schedule_id": current["id"], "proposed_by": actor.user_id or None, "proposed_date": slot.day,
        "start_time": slot.start, "end_time": slot.end,
        "instructor_id": slot.instructor_id if slot.instructor_id != current["instructor_id"] else None,
        "vehicle_id": slot.vehicle_id if slot.vehicle_id != current["vehicle_id"] else None,
        "message": message, "status": "pending", "expires_at": expires_at, "created_at": now,
    }

    def attempt() -> Proposed:
        with db.transaction():
            locked = bookings.lock_schedule(current["id"])
            if locked is None:
                raise NotFound("Not found")
            if locked["status"] != "scheduled":
                raise ValidationFailed(f"Only scheduled lessons can be moved; this one is {locked['status']}.",
                                       field="status")
            replaced = proposals.pending_ids(current["id"])
            withdrawn = proposals.withdraw_pending(current["id"], actor.user_id or None, now)
            proposal_id = proposals.insert(row)
            NotificationDAO(db).insert(current["student_user_id"], "A new time is proposed for your lesson",
                                       _notice(current, slot, plan.zone, expires_at, message), now)
            details = f"proposal {proposal_id}" + (
                f"; replaced proposal {', '.join(map(str, replaced))}" if replaced else "")
            audit.record(db, actor, "proposal_created", "schedule", current["id"], now=now,
                         before={k: current[k] for k in ("scheduled_date", "start_time", "end_time", "instructor_id",
                                                         "vehicle_id")},
                         after={"scheduled_date": slot.day, "start_time": slot.start, "end_time": slot.end,
                                "instructor_id": slot.instructor_id, "vehicle_id": slot.vehicle_id,
                                "expires_at": expires_at, "message": message}, details=details[:255])
        return Proposed(proposal_id, expires_at, withdrawn)

    return scheduling.with_retries(attempt)


def proposable_lesson(db: Database, actor: Actor, schedule_id: Any) -> dict:
    """The lesson when ``actor`` may propose a new time for it (admin any, staff their branch's, the
    lesson's own instructor); PermissionDenied for students and other roles, NotFound outside the scope."""
    if actor.role not in ("admin", "staff", "instructor"):
        raise PermissionDenied("Only the office or the lesson's instructor can propose a new time.")
    if not isinstance(schedule_id, int) or not valid_id(schedule_id):
        raise NotFound("Not found")
    row = BookingDAO(db).find_schedule(schedule_id)
    if row is None or not _may_propose(actor, row):
        raise NotFound("Not found")
    return row


def can_propose(actor: Actor, event: Mapping[str, Any], now: datetime, default_zone: str | None = None) -> bool:
    """Whether the event page offers the proposal form: a scheduled event that has not started, and the
    actor may propose for it."""
    if actor.role not in ("admin", "staff", "instructor") or event.get("status") != "scheduled":
        return False
    if not _may_propose(actor, event):
        return False
    zone = localtime.zone_for(event.get("branch_timezone"), default_zone or "Australia/Melbourne")
    return _instant_or_none(event.get("scheduled_date"), localtime.as_time(event.get("start_time")), zone) > now


# ------------------------------------------------------------------------------------------ answer

def answer(db: Database, actor: Actor, proposal_id: Any, decision: str, *, now: datetime,
           settings: Mapping[str, Any]) -> dict:
    """The student's answer, ``accept`` or ``decline``. Returns the proposal as read before the answer.
    Raises NotFound (not the student's own), ProposalClosed (409: expired, answered, withdrawn),
    BookingConflict (409: the slot is no longer free, every reason) or ValidationFailed (422)."""
    if decision not in ("accept", "decline"):
        raise ValidationFailed("Choose accept or decline.", field="decision")
    proposal = _own_proposal(db, actor, proposal_id)
    _require_open(proposal, now)  # expired, answered, withdrawn, or the lesson is no longer scheduled
    if decision == "decline":
        _decline(db, actor, proposal, now)
        return proposal
    current = BookingDAO(db).find_schedule(proposal["schedule_id"])
    if current is None:
        raise NotFound("Not found")
    changes = {"date": proposal["proposed_date"].isoformat(), "start_time": _hm(proposal["start_time"]),
               "end_time": _hm(proposal["end_time"])}
    if proposal["instructor_id"] is not None:
        changes["instructor_id"] = proposal["instructor_id"]
    if proposal["vehicle_id"] is not None:
        changes["vehicle_id"] = proposal["vehicle_id"]
    plan = _plan(db, current, changes, settings)
    bookings, proposals = BookingDAO(db), ProposalDAO(db)
    slot = plan.slot

    def attempt() -> None:
        with db.transaction():
            bookings.lock_parties(slot.instructor_id, slot.vehicle_id, slot.student_id)
            locked = bookings.lock_schedule(proposal["schedule_id"])
            if locked is None:
                raise NotFound("Not found")
            if locked["status"] != "scheduled":
                raise ProposalClosed(f"The lesson is {locked['status']} now, so it cannot be moved.")
            mine = proposals.lock(proposal["id"])
            if mine is None:
                raise NotFound("Not found")
            _require_open(mine, now)
            found = scheduling.conflicts_for(db, plan, now)
            _refuse(found, "The proposed time is no longer free")
            after = {"instructor_id": slot.instructor_id, "vehicle_id": slot.vehicle_id, "scheduled_date": slot.day,
                     "start_time": slot.start, "end_time": slot.end}
            bookings.move_schedule(proposal["schedule_id"], after, now)
            scheduling.replan_reminder(bookings, proposal["schedule_id"], plan, now)
            proposals.close(proposal["id"], "accepted", actor.user_id or None, now)
            _tell_proposer(db, proposal, "accepted", now)
            audit.record(db, actor, "proposal_accepted", "schedule", proposal["schedule_id"], now=now,
                         before={k: current[k] for k in after}, after=after,
                         details=f"proposal {proposal['id']}; the lesson moved and its reminder was re-planned")

    scheduling.with_retries(attempt)
    return proposal


def _decline(db: Database, actor: Actor, proposal: dict, now: datetime) -> None:
    proposals = ProposalDAO(db)
    with db.transaction():
        mine = proposals.lock(proposal["id"])
        if mine is None:
            raise NotFound("Not found")
        _require_open(mine, now)
        proposals.close(proposal["id"], "declined", actor.user_id or None, now)
        _tell_proposer(db, proposal, "declined", now)
        audit.record(db, actor, "proposal_declined", "schedule", proposal["schedule_id"], now=now,
                     before={"status": "pending"}, after={"status": "declined"},
                     details=f"proposal {proposal['id']}; the lesson stays where it was")


def withdraw(db: Database, actor: Actor, proposal_id: Any, *, now: datetime) -> dict:
    """Withdraw a pending proposal: its proposer, or the office in scope (admin any, staff their branch's).
    Anyone else: NotFound. Expired or already closed: ProposalClosed (409), nothing written."""
    proposal = _find(db, proposal_id)
    if actor.is_office:
        if not _branch_ok(actor, proposal):
            raise NotFound("Not found")
    elif actor.role == "instructor" and actor.instructor_id is not None \
            and proposal["lesson_instructor_id"] == actor.instructor_id:
        if not may_withdraw(actor, proposal):
            raise PermissionDenied("Only whoever proposed it, or the office, can withdraw this proposal.")
    else:
        raise NotFound("Not found")
    _require_open(proposal, now)
    proposals = ProposalDAO(db)
    with db.transaction():
        mine = proposals.lock(proposal["id"])
        if mine is None:
            raise NotFound("Not found")
        _require_open(mine, now)
        proposals.close(proposal["id"], "withdrawn", actor.user_id or None, now)
        audit.record(db, actor, "proposal_withdrawn", "schedule", proposal["schedule_id"], now=now,
                     before={"status": "pending"}, after={"status": "withdrawn"}, details=f"proposal {proposal['id']}")
    return proposal


def lesson_of(db: Database, proposal_id: Any) -> int:
    """The lesson (schedule id) a proposal is about; NotFound when there is no such proposal. No scope
    check: for a caller that has already checked it (a refused withdrawal re-rendering its page)."""
    return _find(db, proposal_id)["schedule_id"]


def may_withdraw(actor: Actor, proposal: Mapping[str, Any]) -> bool:
    if actor.is_office:
        return _branch_ok(actor, proposal)
    return (actor.role == "instructor" and bool(actor.user_id) and proposal.get("proposed_by") == actor.user_id
            and proposal.get("lesson_instructor_id") == actor.instructor_id)


def expire_due(db: Database, now: datetime, *, batch: int = 500) -> int:
    """Mark every pending proposal whose ``expires_at`` is at or before ``now`` expired (in batches, each
    its own transaction); one ``proposals_expired`` audit row per batch names them. Returns how many."""
    from app.services.scope import SYSTEM

    dao, total = ProposalDAO(db), 0
    while True:
        with db.transaction():
            ids = dao.expire_due(now, batch)
            if ids:
                audit.record(db, SYSTEM, "proposals_expired", None, None, now=now,
                             details=("proposals " + ", ".join(map(str, ids)))[:255])
        total += len(ids)
        if len(ids) < batch:
            return total


# ------------------------------------------------------------------------------------------ reads

def for_student(db: Database, actor: Actor, query: ListQuery, *, now: datetime,
                settings: Mapping[str, Any]) -> dict:
    """The student's page: ``pending`` (open proposals, at most PENDING_MAX, soonest lesson first; an
    overdue one reads as expired and offers no buttons) and ``answered`` (a Page of the closed ones,
    newest first)."""
    if actor.role != "student":
        raise PermissionDenied("Only students answer proposed times.")
    if actor.student_id is None:
        return {"pending": [], "answered": Page(items=[], total=0, query=query)}
    dao = ProposalDAO(db)
    default_zone = settings.get("APP_TIMEZONE") or "Australia/Melbourne"
    pending = [_shape(r, now, default_zone) for r in dao.pending_for_student(actor.student_id, PENDING_MAX)]
    page = dao.answered_for_student(actor.student_id, query)
    page.items = [_shape(r, now, default_zone) for r in page.items]
    return {"pending": pending, "answered": page}


def badge(db: Database, actor: Actor, now: datetime, settings: Mapping[str, Any] | None = None):
    """The navigation badge (app/core/navigation.py BADGES): the student's open proposals, or None at 0."""
    if actor.role != "student" or actor.student_id is None:
        return None
    n = ProposalDAO(db).open_count_for_student(actor.student_id, now)
    if not n:
        return None
    return n, f"{n} proposed time{'s' if n != 1 else ''} waiting for your answer"


def event_panel(db: Database, actor: Actor, event: Mapping[str, Any], *, now: datetime,
                settings: Mapping[str, Any]) -> dict:
    """What the event page shows about proposals (``event`` is the page's event, already scoped):
    ``proposal`` (the pending one, shaped; None when there is none or the lesson is no longer scheduled), ``can_propose``, ``can_answer`` (the student,
    while it is open) and ``can_withdraw``. One query."""
    default_zone = settings.get("APP_TIMEZONE") or "Australia/Melbourne"
    # a lesson no longer scheduled (cancelled meanwhile) shows no proposal: it no longer applies
    row = ProposalDAO(db).pending_for_schedule(event["id"]) if event.get("status") == "scheduled" else None
    proposal = _shape(row, now, default_zone) if row is not None else None
    is_open = proposal is not None and proposal["state"] == "pending"
    return {
        "proposal": proposal,
        "can_propose": can_propose(actor, event, now, default_zone),
        "can_answer": is_open and actor.role == "student" and actor.student_id == proposal["student_id"],
        "can_withdraw": is_open and may_withdraw(actor, proposal),
    }


def state(row: Mapping[str, Any], now: datetime) -> str:
    """The proposal's status as of ``now``: a pending one past its expiry is expired; a pending one whose
    lesson is no longer scheduled (cancelled meanwhile; ``lesson_status`` when the row carries it) reads
    as withdrawn: it no longer applies."""
    if row["status"] == "pending" and row.get("lesson_status") not in (None, "scheduled"):
        return "withdrawn"
    if row["status"] == "pending" and row["expires_at"] <= now:
        return "expired"
    return row["status"]


# ------------------------------------------------------------------------------------------ helpers

def _may_propose(actor: Actor, row: Mapping[str, Any]) -> bool:
    if actor.is_admin:
        return True
    if actor.role == "staff":
        branch = row["branch_id"] if row.get("branch_id") is not None else row.get("student_branch_id")
        return branch is not None and branch == actor.branch_filter()
    if actor.role == "instructor":
        return actor.instructor_id is not None and row.get("instructor_id") == actor.instructor_id
    return False


def _branch_ok(actor: Actor, row: Mapping[str, Any]) -> bool:
    allowed = actor.branch_filter()
    if allowed is None:
        return True
    branch = row["branch_id"] if row.get("branch_id") is not None else row.get("student_branch_id")
    return branch is not None and branch == allowed


def _find(db: Database, proposal_id: Any) -> dict:
    if not isinstance(proposal_id, int) or not valid_id(proposal_id):
        raise NotFound("Not found")
    row = ProposalDAO(db).find(proposal_id)
    if row is None:
        raise NotFound("Not found")
    return row


def _own_proposal(db: Database, actor: Actor, proposal_id: Any) -> dict:
    row = _find(db, proposal_id)
    if actor.role != "student" or actor.student_id is None or row["student_id"] != actor.student_id:
        raise NotFound("Not found")
    return row


def _require_open(row: Mapping[str, Any], now: datetime) -> None:
    if row["status"] == "pending" and row.get("lesson_status") not in (None, "scheduled"):
        raise ProposalClosed(f"The lesson is {row['lesson_status'].replace('_', ' ')} now, so this proposal no "
                             "longer applies.")
    status = state(row, now)
    if status == "pending":
        return
    if status == "expired":
        raise ProposalClosed("This proposal has expired (it was open until its expiry time); the lesson stays "
                             "where it was.")
    raise ProposalClosed(f"This proposal was already {status}; the lesson stays where it was.")


def _require_ahead(current: Mapping[str, Any], now: datetime, settings: Mapping[str, Any]) -> None:
    if current["status"] != "scheduled":
        raise ValidationFailed(f"Only scheduled lessons can be moved; this one is {current['status']}.",
                               field="status")
    zone = localtime.zone_for(current.get("branch_timezone"), settings.get("APP_TIMEZONE") or "Australia/Melbourne")
    if _instant_or_none(current["scheduled_date"], localtime.as_time(current["start_time"]), zone) <= now:
        raise ValidationFailed("The lesson has started, so a new time can no longer be proposed.", field="status")


def _plan(db: Database, current: Mapping[str, Any], changes: Mapping[str, Any], settings: Mapping[str, Any]):
    """The booking plan of the lesson with ``changes``, its own row ignored, scoped to the lesson's branch
    (see the module's "Scope of the re-check")."""
    branch = current["branch_id"] if current["branch_id"] is not None else current["student_branch_id"]
    scope = Actor(user_id=0, role="staff", branch_id=branch) if branch is not None else Actor(user_id=0, role="admin")
    data = {**scheduling.booking_data(current), **changes, "accept_warnings": False}
    return scheduling.plan_booking(db, scope, data, settings, ignore_schedule_id=current["id"])


def _refuse(found: list[Conflict], lead: str) -> None:
    """Any reason refuses: blocks, and warnings (a student cannot accept warnings)."""
    if found:
        blocks = sum(c.severity == "block" for c in found)
        what = (f"{blocks} blocking problem{'s' if blocks != 1 else ''}" if blocks
                else "warnings the student cannot accept")
        raise BookingConflict(found, f"{lead}: it has {what}.")


def _tell_proposer(db: Database, proposal: Mapping[str, Any], outcome: str, now: datetime) -> None:
    if not proposal.get("proposed_by"):
        return
    when = f"{_day(proposal['proposed_date'])}, {_hm(proposal['start_time'])}–{_hm(proposal['end_time'])}"
    NotificationDAO(db).insert(proposal["proposed_by"], f"Proposed time {outcome}",
                               f"The student {outcome} the proposed time {when} for the lesson on "
                               f"{_day(proposal['lesson_date'])} at {_hm(proposal['lesson_start'])}.", now,
                               level="success" if outcome == "accepted" else "info")


def _notice(current: Mapping[str, Any], slot, zone, expires_at: datetime, message: str | None) -> str:
    expiry = localtime.from_utc_naive(expires_at, zone)
    text = (f"Your lesson on {_day(current['scheduled_date'])} at {_hm(current['start_time'])} could move to "
            f"{_day(slot.day)}, {_hm(slot.start)}–{_hm(slot.end)}. Accept or decline it under “Proposed times” "
            f"before {_day(expiry.date())} {expiry.strftime('%H:%M')}; unanswered, the lesson stays where it is.")
    return text + (f" Message: {message}" if message else "")


def _shape(row: Mapping[str, Any], now: datetime, default_zone: str) -> dict:
    """A proposal row for the pages: ``state`` (expiry applied), names, ``expires_local`` (branch zone)."""
    out = dict(row)
    zone = localtime.zone_for(row.get("branch_timezone"), default_zone)
    out["state"] = state(row, now)
    out["expires_local"] = localtime.from_utc_naive(row["expires_at"], zone).replace(tzinfo=None)
    out["zone"] = zone.key
    out["proposer_name"] = _name(row, "proposer")
    out["lesson_instructor_name"] = _name(row, "lesson_instructor")
    out["new_instructor_name"] = _name(row, "new_instructor") if row.get("instructor_id") else ""
    plate = row.get("new_vehicle_plate")
    out["new_vehicle_label"] = (f"{row['new_vehicle_name']} ({plate})" if plate else row.get("new_vehicle_name") or "") \
        if row.get("vehicle_id") else ""
    out["noun"] = (row.get("event_type") or "lesson")
    return out


def _text(value: Any, name: str, limit: int, errors: dict) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors[name] = ["Must be text."]
        return None
    text = value.strip()
    if any(ord(ch) < 32 and ch not in "\t\n\r" or ord(ch) == 127 for ch in text):
        errors[name] = ["Contains control characters."]
        return None
    if len(text) > limit:
        errors[name] = [f"At most {limit} characters."]
        return None
    return text or None


def _invalid(errors: dict[str, list[str]]) -> ValidationFailed:
    name, messages = next(iter(errors.items()))
    failure = ValidationFailed(messages[0], errors=errors)
    failure.field = name
    return failure


def _optional_id(data: Mapping[str, Any], name: str, errors: dict) -> int | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    parsed = parse_id(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
    if parsed is None:
        errors[name] = ["Not a valid id."]
    return parsed


def _expiry_hours(settings: Mapping[str, Any]) -> int:
    raw = settings.get("PROPOSAL_EXPIRY_HOURS")
    try:
        hours = int(raw) if raw not in (None, "") else DEFAULT_EXPIRY_HOURS
    except (TypeError, ValueError):
        hours = DEFAULT_EXPIRY_HOURS
    return hours if 1 <= hours <= 24 * 14 else DEFAULT_EXPIRY_HOURS


def _instant(day: date, moment: time, zone) -> datetime:
    return localtime.to_utc_naive(localtime.localize(day, moment, zone))


def _instant_or_none(day: Any, moment: time | None, zone) -> datetime:
    """The start instant (naive UTC); a row without a usable date/time, or a legacy time in a DST gap,
    reads as the distant past (nothing to propose)."""
    if not isinstance(day, date) or moment is None:
        return datetime.min
    try:
        return _instant(day, moment, zone)
    except ValidationFailed:
        aware = datetime.combine(day, moment).replace(tzinfo=zone, fold=0)
        return aware.astimezone(timezone.utc).replace(tzinfo=None)



def _name(row: Mapping[str, Any], who: str) -> str:
    return f"{row.get(f'{who}_first_name') or ''} {row.get(f'{who}_last_name') or ''}".strip()


def _hm(value: Any) -> str:
    return value.strftime("%H:%M") if hasattr(value, "strftime") else str(value)[:5]


def _day(value: date) -> str:
    return f"{value.strftime('%a')} {value.day} {value.strftime('%b %Y')}"
