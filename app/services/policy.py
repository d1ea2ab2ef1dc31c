"""Each branch's booking policy (issue 8, item 2): read it, let an admin edit it, and answer the
booking-path questions (notice, horizon, cancellation cut-off). No Flask here.

A branch without a ``branch_booking_policies`` row has the defaults (:data:`DEFAULTS`): 12 h minimum
notice, an 8-week horizon, 3 lessons per student per week, a 24 h cancellation cut-off, students only
with their assigned instructor(s), a 15-minute slot grid, no buffer between lessons.

**Wall-clock arithmetic.** Every minute and day count is applied to local wall-clock times in the
branch's zone, not to elapsed time: "24 h before a lesson at 10:00 on Sunday" is 10:00 on Saturday,
even when the clocks change in between (then 23 or 25 real hours). So :func:`cancel_allowed` with a
24 h cut-off allows a cancellation up to and including the same clock time on the day before; the
same rule applies to the notice. The comparison takes both instants to the branch's zone and compares
the naive wall-clock values (a fall-back repeated hour reads as its wall-clock time). The boundary
minute itself is inside the policy (``>=``/``<=``); one minute later is not.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from app.core.database import Database
from app.core.errors import NotFound, PermissionDenied, ValidationFailed
from app.core.params import valid_id
from app.dao.policy import BOOKING_FIELDS, FIELDS, PolicyDAO
from app.services import audit
from app.services.scope import Actor

GRIDS = (5, 10, 15, 30, 60)
# field -> (lowest, highest, what the 422 says)
RANGES = {
    "min_notice_minutes": (0, 10080, "Minimum notice must be 0 to 10080 minutes (7 days)."),
    "horizon_days": (1, 365, "The booking horizon must be 1 to 365 days."),
    "max_lessons_per_week": (1, 21, "The weekly limit must be 1 to 21 lessons."),
    "cancel_cutoff_minutes": (0, 10080, "The cancellation cut-off must be 0 to 10080 minutes (7 days)."),
    "buffer_minutes": (0, 120, "The buffer must be 0 to 120 minutes."),
}
FEE_MAX = Decimal("10000.00")  # a branch fee: 0.01 to 10,000.00 (blank or null: no fee)
_TRUE = ("1", "true", "on", "yes")
_FALSE = ("0", "false", "off", "no", "")


@dataclass(frozen=True)
class Policy:
    branch_id: int | None = None
    min_notice_minutes: int = 720
    horizon_days: int = 56
    max_lessons_per_week: int = 3
    cancel_cutoff_minutes: int = 1440
    students_any_instructor: bool = False
    slot_grid_minutes: int = 15
    buffer_minutes: int = 0
    stored: bool = False          # False: the branch has no row, these are the defaults
    timezone: str | None = None   # the branch's zone name (NULL = APP_TIMEZONE)
    late_cancel_fee: Decimal | None = None   # None: no fee (migration 0018, services/packages.py)
    no_show_fee: Decimal | None = None
    no_show_consumes: bool = True             # a no-show draws a package credit like a completed lesson

    def as_dict(self) -> dict[str, Any]:
        """The booking rules (the fees are in :meth:`stored_values`)."""
        return {f: getattr(self, f) for f in BOOKING_FIELDS}

    def stored_values(self) -> dict[str, Any]:
        """Every stored column: the booking rules and the fees."""
        return {f: getattr(self, f) for f in FIELDS}


DEFAULTS = Policy()


def for_branch(db: Database, branch_id: int | None) -> Policy:
    """The branch's policy (the defaults when it has no row, or when ``branch_id`` is None or names no
    branch: callers check the branch's existence themselves where that matters)."""
    if not valid_id(branch_id):
        return DEFAULTS
    row = PolicyDAO(db).for_branch(branch_id)
    if row is None:
        return DEFAULTS
    return _from_row(row)


def update(db: Database, actor: Actor, branch_id: Any, data: Mapping[str, Any], *, now: datetime) -> Policy:
    """Change some or all policy fields of a branch (admin only: others 403; unknown branch 404).
    Fields left out keep their value. Each bad value is a 422 naming its field; nothing is written
    then. Stored and audited (``branch_policy_updated``) in one transaction."""
    if not actor.is_admin:
        raise PermissionDenied("Only an administrator can change a branch's booking policy.")
    if not valid_id(branch_id):
        raise NotFound("Not found")
    if not isinstance(data, Mapping):
        raise ValidationFailed("Send the policy as an object of fields.", field="body")
    dao = PolicyDAO(db)
    with db.transaction():
        row = dao.for_branch(branch_id)
        if row is None:
            raise NotFound("Not found")
        current = _from_row(row)
        changes = validate(data)
        new = replace(current, **changes, stored=True)
        dao.save(branch_id, new.stored_values(), actor.user_id or None, now, exists=current.stored)
        audit.record(db, actor, "branch_policy_updated", "branch", branch_id, now=now,
                     before=current.stored_values(), after=new.stored_values())
    return new


def validate(data: Mapping[str, Any]) -> dict[str, Any]:
    """The policy fields of ``data``, converted; ValidationFailed (422) naming every bad field."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    unknown = sorted(k for k in data if k not in FIELDS)
    for name in unknown:
        errors[name] = ["Not a policy field."]
    for name in FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in ("late_cancel_fee", "no_show_fee"):
            fee, problem = _fee(value)
            if problem:
                errors[name] = [problem]
            else:
                out[name] = fee
            continue
        if name in ("students_any_instructor", "no_show_consumes"):
            flag = _flag(value)
            if flag is None:
                errors[name] = ["Must be true or false."]
            else:
                out[name] = flag
            continue
        number = _int(value)
        if name == "slot_grid_minutes":
            if number not in GRIDS:
                errors[name] = ["The slot grid must be 5, 10, 15, 30 or 60 minutes."]
            else:
                out[name] = number
            continue
        low, high, message = RANGES[name]
        if number is None or not low <= number <= high:
            errors[name] = [message]
        else:
            out[name] = number
    if errors:
        field, messages = next(iter(errors.items()))
        failure = ValidationFailed(messages[0], errors=errors)
        failure.field = field
        raise failure
    return out


# ------------------------------------------------------------------------------------------ helpers for booking

def local_wall(instant_utc: datetime, zone: ZoneInfo) -> datetime:
    """A naive-UTC (or aware) instant as a naive wall-clock time in ``zone``."""
    aware = instant_utc if instant_utc.tzinfo is not None else instant_utc.replace(tzinfo=timezone.utc)
    return aware.astimezone(zone).replace(tzinfo=None)


def notice_ok(policy: Policy, start_instant_utc: datetime, now: datetime, zone: ZoneInfo) -> bool:
    """True when a lesson starting at ``start_instant_utc`` may still be booked at ``now``: the local
    start minus the notice (wall-clock minutes) is not before the local now."""
    return local_wall(now, zone) <= local_wall(start_instant_utc, zone) - timedelta(minutes=policy.min_notice_minutes)


def within_horizon(policy: Policy, start_instant_utc: datetime, now: datetime, zone: ZoneInfo) -> bool:
    """True when the lesson's local date is at most ``horizon_days`` after today's local date."""
    return local_wall(start_instant_utc, zone).date() <= horizon_end(policy, now, zone)


def horizon_end(policy: Policy, now: datetime, zone: ZoneInfo) -> date:
    """The last local date a student may book on."""
    return local_wall(now, zone).date() + timedelta(days=policy.horizon_days)


def cancel_allowed(policy: Policy, start_instant_utc: datetime, now: datetime, zone: ZoneInfo) -> bool:
    """True when a student may still cancel (or move) a lesson starting at ``start_instant_utc``: up to
    and including the same local clock time ``cancel_cutoff_minutes`` earlier (24 h: the day before at
    the same wall-clock time, even across a daylight-saving change)."""
    return local_wall(now, zone) <= local_wall(start_instant_utc, zone) - timedelta(minutes=policy.cancel_cutoff_minutes)


def _from_row(row: Mapping[str, Any]) -> Policy:
    if row.get("policy_branch_id") is None:
        return replace(DEFAULTS, branch_id=row["branch_id"], timezone=row.get("branch_timezone"))
    values: dict[str, Any] = {f: int(row[f]) for f in BOOKING_FIELDS}
    values["students_any_instructor"] = bool(values["students_any_instructor"])
    for name in ("late_cancel_fee", "no_show_fee"):
        raw = row.get(name)
        values[name] = None if raw is None else Decimal(repr(raw) if isinstance(raw, float) else raw).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP)
    values["no_show_consumes"] = True if row.get("no_show_consumes") is None else bool(int(row["no_show_consumes"]))
    return Policy(branch_id=row["branch_id"], stored=True, timezone=row.get("branch_timezone"), **values)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) <= 6:
        return int(value.strip())
    return None


def _fee(value: Any) -> tuple[Decimal | None, str | None]:
    """(fee or None, problem or None): blank/None is no fee; else 0.01 to FEE_MAX with at most 2 decimals."""
    message = f"A fee must be an amount from 0.01 to {FEE_MAX:,.2f} with at most two decimals, or blank for none."
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    if isinstance(value, bool) or isinstance(value, float):
        return None, message
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        text = value.strip().lstrip("$")
        if not text.isascii() or len(text) > 12 or not all(ch.isdigit() or ch == "." for ch in text):
            return None, message
        try:
            value = Decimal(text)
        except InvalidOperation:
            return None, message
    if not isinstance(value, Decimal) or not value.is_finite() or value.as_tuple().exponent < -2:
        return None, message
    if not Decimal("0.01") <= value <= FEE_MAX:
        return None, message
    return value.quantize(Decimal("0.01")), None


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    return None
