"""Lesson packages as a credit ledger (issue 9, item 4) and the fees of the scheduling policy (item 7).
No Flask here; ``db``, ``actor`` and ``now`` come in as arguments. Rules in docs/packages.md.

- **Append-only ledger** (``package_ledger``, dao/package.py): purchase (+), consume (-1 per lesson),
  reverse (+1, a correction undoing a consume), adjust (+/-, reason required), expire (-), refund (-).
  A row is never updated or deleted: a mistake is answered by another row.
- **Derived balance**: :func:`summary` sums the rows (purchased, used, remaining, booked ahead); there
  is no counter to drift.
- **Never below zero**: every movement first locks the enrolment row (FOR UPDATE on MariaDB; BEGIN
  IMMEDIATE on SQLite), then sums, then writes, in the caller's transaction. A debit larger than what
  is left is refused (422) — except a lesson's consume: the outcome is what happened and is always
  recorded, so a lesson with no credit left writes a consume of **0 credits** marked
  ``reason = "owed: no credit left"`` (the summary counts it as ``owed``) and the ledger stays at zero.
- **Legacy students**: an enrolment with no ledger rows at all is "not on a package": its lessons draw
  nothing and its bookings are never refused or warned about.
- **Fees**: a late cancellation by the office (inside the branch's cut-off) and a no-show add a fee line
  through ``invoicing.add_fee_line`` when the branch sets the fee (branch_booking_policies.late_cancel_fee,
  no_show_fee); :func:`waive_fee` needs a reason (422 without).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Mapping

from app.core import clock, localtime
from app.core.database import Database
from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.core.pagination import ListQuery, Page
from app.core.params import valid_id
from app.dao.package import PackageDAO
from app.services import audit
from app.services.conflicts import BLOCK, WARN, Conflict
from app.services.scope import Actor

ENTRIES = ("purchase", "consume", "reverse", "adjust", "expire", "refund")
ENTRY_LABELS = {"purchase": "Purchase", "consume": "Lesson used", "reverse": "Lesson given back",
                "adjust": "Adjustment", "expire": "Expired", "refund": "Refund"}
SOURCES = ("enrolment", "invoice_line", "outcome", "adjustment", "expiry", "refund", "office")
SOURCE_LABELS = {
    "enrolment": "The course's lessons (enrolment approved)", "office": "The course's lessons (enrolled by the office)",
    "invoice_line": "Paid invoice line", "outcome": "Lesson outcome", "adjustment": "Adjustment", "expiry": "Expiry",
    "refund": "Refund",
}
MAX_CREDITS = 1000          # one movement at most (a typo guard, not a business rule)
REASON_MAX = 255
OWED = "owed: no credit left"
LEDGER_SORTS = ("id",)
DRAWING = ("completed", "no_show")


@dataclass(frozen=True)
class Summary:
    enrollment_id: int
    on_package: bool
    purchased: int
    used: int
    adjusted: int
    expired: int
    refunded: int
    owed: int
    remaining: int
    booked_ahead: int

    def as_dict(self) -> dict[str, Any]:
        return {"purchased": self.purchased, "used": self.used, "remaining": self.remaining,
                "booked_ahead": self.booked_ahead, "adjusted": self.adjusted, "expired": self.expired,
                "refunded": self.refunded, "owed": self.owed, "on_package": self.on_package}

    # summary(...)["remaining"], .get("used") and dict(summary(...)) read like the shared interface's dict
    def __getitem__(self, key: str) -> Any:
        return self.as_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.as_dict().get(key, default)

    def keys(self):
        return self.as_dict().keys()


# ------------------------------------------------------------------------------------------ reading

def summary(db: Database, enrollment_id: int, *, today: date | None = None,
            ignore_schedule_id: int | None = None) -> Summary:
    """The enrolment's package, derived from its ledger (two statements). ``booked_ahead`` counts its
    scheduled lessons dated today (the school's zone) or later."""
    dao = PackageDAO(db)
    totals = dao.totals(enrollment_id)
    ahead = dao.booked_ahead(enrollment_id, today or _today(), ignore_schedule_id) if totals["n"] else 0
    return Summary(enrollment_id=enrollment_id, on_package=totals["n"] > 0, purchased=totals["purchased"],
                   used=totals["used"], adjusted=totals["adjusted"], expired=totals["expired"],
                   refunded=totals["refunded"], owed=totals["owed"], remaining=totals["remaining"],
                   booked_ahead=ahead)


def ledger(db: Database, enrollment_id: int, query: ListQuery) -> Page:
    """One page of the enrolment's ledger, newest first."""
    return PackageDAO(db).ledger_page(enrollment_id, query)


def student_packages(db: Database, actor: Actor, student_id: int, *, today: date | None = None) -> list[dict]:
    """Each enrolment of the student with its derived summary (the student page's panel), one
    statement; office only (anyone else: an empty list)."""
    if not actor.is_office:
        return []
    out = []
    for row in PackageDAO(db).student_enrollments(student_id, today or _today()):
        on = row["n"] > 0
        out.append({**row, "summary": Summary(
            enrollment_id=row["id"], on_package=on, purchased=row["purchased"], used=row["used"],
            adjusted=row["adjusted"], expired=row["expired"], refunded=row["refunded"], owed=row["owed"],
            remaining=row["remaining"], booked_ahead=row["booked_ahead"] if on else 0)})
    return out


def own_packages(db: Database, actor: Actor, *, today: date | None = None) -> list[dict]:
    """The signed-in student's enrolments with their package summaries (used and remaining); empty
    for anyone else."""
    if actor.role != "student" or not actor.student_id:
        return []
    return student_packages(db, Actor(user_id=actor.user_id, role="admin"), actor.student_id, today=today)


def student_fees(db: Database, actor: Actor, student_id: int) -> list[dict]:
    """The student's latest fee lines (office only), each with ``waivable`` (an unwaived draft line)."""
    if not actor.is_office:
        return []
    rows = PackageDAO(db).student_fees(student_id)
    return [{**r, "waivable": r["waived_at"] is None and r["invoice_status"] == "draft"} for r in rows]


def student_enrollment(db: Database, actor: Actor, student_id: int, enrollment_id: Any) -> dict:
    """The enrolment when it is this student's and in the office actor's scope, else 404."""
    _require_office(actor)
    row = _scoped_enrollment(db, actor, enrollment_id)
    if row["student_id"] != student_id:
        raise NotFound("Not found")
    return row


def waive_student_fee(db: Database, actor: Actor, student_id: int, item_id: Any, reason: Any, *,
                      now: datetime) -> None:
    """Waive one of this student's fee lines (404 for a line that is not theirs), reason required."""
    _require_office(actor)
    text = _reason(reason, required=True)
    if not valid_id(item_id) or PackageDAO(db).fee_student(int(item_id)) != student_id:
        raise NotFound("Not found")
    waive_fee(db, actor, int(item_id), text, now=now)


# ------------------------------------------------------------------------------------------ movements

def purchase(db: Database, actor: Actor | None, enrollment_id: int, credits: Any, *, now: datetime,
             source: str, source_id: int | None = None, reason: str | None = None,
             expires_on: date | None = None) -> int:
    """Add ``credits`` (> 0) to the enrolment's package (an enrolment's course lessons, a paid invoice
    line, a top-up). Works inside the caller's transaction. Returns the ledger row's id."""
    amount = _credits(credits, positive=True)
    if source not in SOURCES:
        raise ValidationFailed("Unknown source of credits.", field="source")
    if expires_on is not None and not isinstance(expires_on, date):
        raise ValidationFailed("Give the expiry as a date.", field="expires_on")
    text = _reason(reason, required=False)
    with db.transaction():
        row = _lock(db, enrollment_id)
        entry_id = _insert(db, actor, row["id"], "purchase", amount, now=now, source=source, source_id=source_id,
                           reason=text, expires_on=expires_on)
        audit.record(db, actor, "package_purchased", "enrollment", row["id"], now=now,
                     after={"credits": amount, "source": source, "source_id": source_id,
                            "expires_on": expires_on}, details=f"ledger row {entry_id}")
    return entry_id


def consume(db: Database, actor: Actor | None, enrollment_id: int, schedule_id: int, *, now: datetime) -> int | None:
    """Draw one credit for a lesson (inside the outcome's transaction). Nothing when the enrolment is not
    on a package or the lesson already holds a draw; a 0-credit "owed" row when nothing is left.
    Returns the row's id (or None)."""
    dao = PackageDAO(db)
    row = _lock(db, enrollment_id)
    totals = dao.totals(row["id"])
    if not totals["n"]:
        return None  # legacy: not on a package
    last = dao.schedule_draw(schedule_id)
    if last is not None and last["entry"] == "consume":
        return None  # already drawn
    if totals["remaining"] >= 1:
        return _insert(db, actor, row["id"], "consume", -1, now=now, source="outcome", source_id=schedule_id,
                       schedule_id=schedule_id)
    return _insert(db, actor, row["id"], "consume", 0, now=now, source="outcome", source_id=schedule_id,
                   schedule_id=schedule_id, reason=OWED)


def reverse(db: Database, actor: Actor | None, enrollment_id: int, schedule_id: int, *, now: datetime) -> int | None:
    """Give back the lesson's draw (a correction away from completed/no-show); nothing if it holds none."""
    dao = PackageDAO(db)
    row = _lock(db, enrollment_id)
    last = dao.schedule_draw(schedule_id)
    if last is None or last["entry"] != "consume":
        return None
    back = -int(last["credits"])  # +1, or 0 for an owed lesson
    return _insert(db, actor, row["id"], "reverse", back, now=now, source="outcome", source_id=schedule_id,
                   schedule_id=schedule_id, reason="outcome corrected" if back else "owed lesson corrected")


def adjust(db: Database, actor: Actor, enrollment_id: Any, credits: Any, reason: Any, *, now: datetime) -> int:
    """The office corrects a package by hand: ``credits`` (a non-zero whole number, + or -) with a
    ``reason`` (422 without). A debit may not take the package below zero (422). Audited."""
    _require_office(actor)
    amount = _credits(credits, positive=False)
    text = _reason(reason, required=True)
    enrollment = _scoped_enrollment(db, actor, enrollment_id)

    def attempt() -> int:  # retried like every scheduling write: a deadlock with an outcome is not an error
        with db.transaction():
            row = _lock(db, enrollment["id"])
            before = PackageDAO(db).totals(row["id"])["remaining"]
            if before + amount < 0:
                raise ValidationFailed(f"Only {before} lesson{'s' if before != 1 else ''} left: an adjustment can't"
                                       " take the package below zero.", field="credits")
            entry_id = _insert(db, actor, row["id"], "adjust", amount, now=now, source="adjustment", reason=text)
            audit.record(db, actor, "package_adjusted", "enrollment", row["id"], now=now,
                         before={"remaining": before}, after={"remaining": before + amount, "credits": amount},
                         details=f"adjustment: {text}"[:255])
        return entry_id

    from app.services.scheduling import with_retries  # here: scheduling reaches this module for its fees
    return with_retries(attempt)


def refund(db: Database, actor: Actor | None, enrollment_id: int, credits: Any, *, now: datetime, reason: Any,
           source: str = "refund", source_id: int | None = None) -> int:
    """Take ``credits`` (> 0, at most what is left: 422) out of the package because they were refunded
    (money back for unused lessons). A reason is required. Audited."""
    amount = _credits(credits, positive=True)
    text = _reason(reason, required=True)
    if source not in SOURCES:
        raise ValidationFailed("Unknown source of credits.", field="source")
    with db.transaction():
        row = _lock(db, enrollment_id)
        left = PackageDAO(db).totals(row["id"])["remaining"]
        if amount > left:
            raise ValidationFailed(f"Only {left} lesson{'s' if left != 1 else ''} left to refund.", field="credits")
        entry_id = _insert(db, actor, row["id"], "refund", -amount, now=now, source=source, source_id=source_id,
                           reason=text)
        audit.record(db, actor, "package_refunded", "enrollment", row["id"], now=now,
                     before={"remaining": left}, after={"remaining": left - amount}, details=text[:255])
    return entry_id


def expire(db: Database, actor: Actor | None, enrollment_id: int, *, now: datetime,
           today: date | None = None) -> int:
    """Expire the purchases of the enrolment whose ``expires_on`` has passed (before ``today``): each
    writes one expire row (source ``expiry``, source_id the purchase) of its credits, at most what is
    left (a package never goes below zero). Returns the credits expired. Idempotent."""
    today = today or _today()
    dao = PackageDAO(db)
    total = 0
    with db.transaction():
        row = _lock(db, enrollment_id)
        for bought in dao.due_expiries(row["id"], today):
            left = dao.totals(row["id"])["remaining"]
            amount = min(int(bought["credits"]), max(left, 0))
            _insert(db, actor, row["id"], "expire", -amount, now=now, source="expiry", source_id=bought["id"],
                    reason=f"purchase of {bought['credits']} expired on {bought['expires_on']}")
            total += amount
        if total:
            audit.record(db, actor, "package_expired", "enrollment", row["id"], now=now,
                         after={"credits": -total}, details=f"{total} credits expired")
    return total


def expire_due(db: Database, *, now: datetime, today: date | None = None, limit: int = 1000) -> int:
    """The nightly sweep (``flask expire-credits``): every enrolment with a purchase past its expiry."""
    today = today or _today()
    total = 0
    for enrollment_id in PackageDAO(db).enrollments_with_due_expiries(today, limit):
        total += expire(db, None, enrollment_id, now=now, today=today)
    return total


# ------------------------------------------------------------------------------------------ hooks

def on_outcome(db: Database, actor: Actor, event: Mapping[str, Any], outcome_status: str,
               previous_status: str | None, *, now: datetime, settings: Mapping[str, Any] | None = None) -> None:
    """The outcome hook (outcomes._after_outcome, inside the outcome's transaction): a completed lesson
    (and a no-show when the branch's ``no_show_consumes``) draws one credit; a correction away from those
    gives it back; a new no-show adds the branch's no-show fee. Anything raised rolls the outcome back."""
    if (event.get("event_type") or "lesson") != "lesson" or not event.get("enrollment_id"):
        return
    pol = _policy(db, event)
    draws = outcome_status == "completed" or (outcome_status == "no_show" and pol.no_show_consumes)
    if draws:
        consume(db, actor, event["enrollment_id"], event["id"], now=now)
    else:
        reverse(db, actor, event["enrollment_id"], event["id"], now=now)
    if outcome_status == "no_show" and previous_status != "no_show" and pol.no_show_fee:
        _fee(db, actor, event, "fee_no_show", f"No-show fee: lesson on {_day(event.get('scheduled_date'))}",
             pol.no_show_fee, now=now, settings=settings)


def on_cancel(db: Database, actor: Actor, current: Mapping[str, Any], *, inside_cutoff: bool, now: datetime,
              settings: Mapping[str, Any] | None = None) -> None:
    """The cancellation hook (scheduling.cancel_event, inside its transaction): an office cancellation
    inside the branch's cut-off adds the branch's late-cancellation fee, when it sets one."""
    if not inside_cutoff or (current.get("event_type") or "lesson") != "lesson" or not current.get("enrollment_id"):
        return
    pol = _policy(db, current)
    if pol.late_cancel_fee:
        _fee(db, actor, current, "fee_late_cancel",
             f"Late cancellation fee: lesson on {_day(current.get('scheduled_date'))}", pol.late_cancel_fee,
             now=now, settings=settings)


def inside_cutoff(db: Database, current: Mapping[str, Any], now: datetime,
                  default_zone: str | None = None) -> bool:
    """Is ``now`` past the branch's cancellation cut-off for this event (and before it ends)?"""
    from app.services import policy as policy_service
    pol = _policy(db, current)
    zone = localtime.zone_for(current.get("branch_timezone"), default_zone or clock.timezone_name())
    start = _start_utc(current, zone)
    if start is None:
        return False
    return not policy_service.cancel_allowed(pol, start, now, zone)


def waive_fee(db: Database, actor: Actor, item_id: Any, reason: Any, *, now: datetime) -> None:
    """Waive a fee line (office only) with a reason: 422 without one, before anything is asked of
    invoicing (which audits the waiver)."""
    _require_office(actor)
    text = _reason(reason, required=True)
    from app.services import invoicing
    invoicing.waive_fee(db, actor, item_id, text, now=now)


def booking_reasons(db: Database, student_id: int, plan: Any, *, student: bool = True,
                    now: datetime | None = None) -> list[Conflict]:
    """Whether booking this lesson would take the enrolment's booked lessons past its remaining credits:
    a student is refused (BLOCK, in their words), the office warned (WARN, ``student=False``). An
    enrolment with no ledger rows is not on a package: nothing."""
    slot = getattr(plan, "slot", None)
    if slot is None or getattr(plan, "event_type", "lesson") != "lesson" or not slot.enrollment_id:
        return []
    zone = getattr(plan, "zone", None)
    today = _today(zone, now)
    if slot.day < today:
        return []  # a lesson in the past draws when its outcome is recorded, not as a booking
    found = summary(db, slot.enrollment_id, today=today, ignore_schedule_id=slot.ignore_schedule_id)
    if not found.on_package or found.booked_ahead + 1 <= found.remaining:
        return []
    left, booked = found.remaining, found.booked_ahead
    if student:
        if left <= 0:
            text = "You have no lessons left in your package: buy more or call the office."
        else:
            text = (f"You have {_lessons(left)} left in your package and {booked} already booked: "
                    "buy more or call the office.")
        return [Conflict("credits", text, BLOCK)]
    text = (f"The package has {_lessons(left)} left and {booked} already booked: this lesson would not be"
            " covered (book anyway to record it as owed).")
    return [Conflict("credits", text, WARN)]


def office_reasons(db: Database, plan: Any, now: datetime | None = None) -> list[Conflict]:
    """The office's warning for the same situation (scheduling.book and the conflicts preview)."""
    return booking_reasons(db, plan.slot.student_id, plan, student=False, now=now)


# ------------------------------------------------------------------------------------------ steps

def _fee(db: Database, actor: Actor, event: Mapping[str, Any], kind: str, description: str, amount: Decimal, *,
         now: datetime, settings: Mapping[str, Any] | None) -> None:
    try:
        from app.services import invoicing
    except ImportError:  # invoicing not installed: no fee lines (docs/packages.md)
        return
    add = getattr(invoicing, "add_fee_line", None)
    if add is None:
        return
    add(db, actor, enrollment_id=event["enrollment_id"], kind=kind, description=description, amount=amount,
        now=now, settings=settings or {}, schedule_id=event.get("id"))


def _policy(db: Database, event: Mapping[str, Any]):
    from app.services import policy as policy_service
    branch = event.get("branch_id")
    if branch is None:
        branch = event.get("student_branch_id")
    return policy_service.for_branch(db, branch)


def _lock(db: Database, enrollment_id: Any) -> dict:
    if not valid_id(enrollment_id):
        raise NotFound("Not found")
    row = PackageDAO(db).lock_enrollment(int(enrollment_id))
    if row is None:
        raise NotFound("Not found")
    return row


def _insert(db: Database, actor: Actor | None, enrollment_id: int, entry: str, credits: int, *, now: datetime,
            source: str, source_id: int | None = None, schedule_id: int | None = None, reason: str | None = None,
            expires_on: date | None = None) -> int:
    return PackageDAO(db).insert({
        "enrollment_id": enrollment_id, "entry": entry, "credits": credits, "schedule_id": schedule_id,
        "source": source, "source_id": source_id, "reason": reason, "expires_on": expires_on,
        "created_by": (actor.user_id or None) if actor is not None else None, "created_at": now,
    })


def _scoped_enrollment(db: Database, actor: Actor, enrollment_id: Any) -> dict:
    """The enrolment when the office actor may see it (staff: their branch's students), else 404."""
    if not valid_id(enrollment_id):
        raise NotFound("Not found")
    row = PackageDAO(db).enrollment(int(enrollment_id))
    if row is None:
        raise NotFound("Not found")
    allowed = actor.branch_filter()
    if allowed is not None and row["student_branch_id"] != allowed:
        raise NotFound("Not found")
    return row


def _require_office(actor: Actor) -> None:
    if not actor.is_office:
        raise PermissionDenied("Only the office changes lesson packages.")


def _credits(value: Any, *, positive: bool) -> int:
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit() and value.strip().isascii() \
            and len(value.strip()) <= 6:
        number = int(value.strip())
    else:
        number = None
    if number is None or number == 0 or abs(number) > MAX_CREDITS or (positive and number < 0):
        words = "a whole number of lessons above zero" if positive else "a whole number of lessons (+ or -), not 0"
        raise ValidationFailed(f"Give {words}, at most {MAX_CREDITS}.", field="credits")
    return number


def _reason(value: Any, *, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed("Give a reason.", field="reason")
        return None
    if not isinstance(value, str):
        raise ValidationFailed("Must be text.", field="reason")
    text = value.strip()
    if any((ord(ch) < 32 and ch not in "\t\n\r") or ord(ch) == 127 for ch in text):
        raise ValidationFailed("Contains control characters.", field="reason")
    if len(text) > REASON_MAX:
        raise ValidationFailed(f"At most {REASON_MAX} characters.", field="reason")
    return text


def _today(zone=None, now: datetime | None = None) -> date:
    zone = zone or localtime.zone_for(None, clock.timezone_name())
    return (now or clock.now()).replace(tzinfo=timezone.utc).astimezone(zone).date()


def _start_utc(event: Mapping[str, Any], zone) -> datetime | None:
    from datetime import time, timedelta
    day, moment = event.get("scheduled_date"), event.get("start_time")
    if isinstance(moment, timedelta):
        moment = (datetime.min + moment).time()
    if not isinstance(day, date) or not isinstance(moment, time):
        return None
    try:
        return localtime.to_utc_naive(localtime.localize(day, moment, zone))
    except ValidationFailed:
        return None


def _lessons(n: int) -> str:
    return f"{n} lesson{'s' if n != 1 else ''}"


def _day(value: Any) -> str:
    if isinstance(value, date):
        return f"{value.day} {value.strftime('%b %Y')}"
    return str(value or "")
