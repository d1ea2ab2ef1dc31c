"""The conflicts panel (issue 8, item 7): future lessons that something recorded later has broken, grouped
by cause, with one-click reassignment or cancel-and-notify. No Flask here; the SQL is in dao/disruption.py.

**What is broken.** A live (``scheduled``) lesson that has not started yet (in its branch's zone) for
which the ONE engine, services/conflicts.py, now reports a block caused by a later record:

============== ============================================ ==================================
cause          recorded as                                  conflicts.check kind
============== ============================================ ==================================
unavailability an instructor unavailability window          ``instructor_unavailable``
accreditation  the instructor's accreditation expiry        ``accreditation_expired``
downtime       a vehicle downtime window                    ``vehicle_unavailable``
maintenance    the vehicle's status maintenance / in service ``vehicle_unavailable``
service_due    the vehicle's next service due date          ``vehicle_unavailable``
============== ============================================ ==================================

The panel finds them set-based (dao/disruption.py mirrors the engine's rules exactly and documents how);
tests/disruptions_test.py proves every listed row is refused by ``conflicts.check`` for the same slot.
A lesson broken for two reasons is listed once under each cause ("also: ..." names the other).

**Who.** Admin every branch (``?branch=`` narrows it), staff their own branch (staff without a branch:
nothing); instructors and students 403. A lesson outside the scope is 404.

**Horizon.** The panel lists the lessons dated up to HORIZON_DAYS (28) days ahead, and says so; a lesson
broken further out shows up as the weeks pass (and the live engine refuses it at any date). Each cause is
counted up to CAUSE_CAP (1,000, shown "1,000+"), the page walking the soonest that many; a branch
narrows it.

**Queries.** The panel is a constant handful whatever the rows: the stored branch zones, one aggregate
row (distinct lessons, rows and one count per cause), one page of rows with every name joined, the
causes of the page's lessons, the free instructors and the free vehicles of the page's lessons (each
one query for the whole page). The navigation badge is the zones and one COUNT(DISTINCT). The aggregate
row and each page of rows (with their free alternatives: 20-50 ms at scale L) are kept per worker only
while no audited change or summary refresh has happened, for at most ``FIGURE_CACHE_SECONDS``
(services/figure_cache.py: a new unavailability, downtime, booking or move reads them afresh); a page
reads as many rows per cause as the kept counts say. A fix is checked against the lesson as it is now
(``expected``), so a kept row can never reassign or cancel a lesson that changed meanwhile.

**Free alternatives** (``options``): the other active instructors of the lesson's branch and its other
vehicles that pass the engine's blocks for the lesson's exact slot, set-based; like the availability
engine, an instructor must also work then (a working-hours period contains the slot), so the only
warning left is "not allocated to the course", shown next to the name. The move itself re-runs the
engine under the booking locks (services/scheduling.move), so a choice that stopped being free in the
meantime is refused with every reason.

**Two staff at once.** ``reassign`` and ``cancel_and_notify`` take the booking locks in scheduling's
order (instructor, vehicle, student), then the lesson's row, and compare the row with the fingerprint
of what the caller was shown (status, instructor, vehicle, date, times); a difference is 409
``AlreadyChanged`` and nothing is written. The winner's move or cancellation runs inside the same
transaction (scheduling.move / cancel nest as savepoints), plus its own audit row
(``conflict_reassigned`` / ``conflict_cancelled``, "from the conflicts panel") and, for a cancellation,
an in-app notification to the student and to the instructor.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Mapping

from app.core import clock, localtime
from app.core.database import Database
from app.core.errors import AppError, NotFound, PermissionDenied, ValidationFailed
from app.core.pagination import ListQuery, Page
from app.core.params import valid_id
from app.dao.booking import BookingDAO
from app.dao.disruption import CAUSES, INSTRUCTOR_CAUSES, VEHICLE_CAUSES, DisruptionDAO
from app.dao.notification import NotificationDAO
from app.services import audit, conflicts, figure_cache, scheduling
from app.services.scope import Actor

PANEL_ROLES = ("admin", "staff")
FILTERS = {"cause": CAUSES, "branch": "id"}
SORT_KEYS = ("cause",)
DEFAULT_SORT = "cause"
OPTIONS_PER_LESSON = 40
BADGE_DAYS = 14    # the navigation badge counts the broken lessons of the coming fortnight ...
BADGE_CAP = 100    # ... and stops counting at 100 ("99+"), so it costs little on every page
HORIZON_DAYS = 28  # the panel lists (and counts) the broken lessons of the coming four weeks, as it says
CAUSE_CAP = 1000   # ... and counts each cause up to here ("1,000+"; the page walks the soonest that many)
COUNTS = figure_cache.FigureCache()  # the panel's aggregate row per scope (see the module's Queries)
SOURCE = "from the conflicts panel"
ACCEPTED_WARNINGS = ("instructor_not_allocated",)

CAUSE_LABELS = {
    "unavailability": "Instructor unavailable",
    "accreditation": "Accreditation expired",
    "downtime": "Vehicle off the road",
    "maintenance": "Vehicle in maintenance",
    "service_due": "Vehicle service due",
}
# The conflicts.check kind each cause is reported as (services/conflicts.py KINDS).
ENGINE_KINDS = {
    "unavailability": "instructor_unavailable",
    "accreditation": "accreditation_expired",
    "downtime": "vehicle_unavailable",
    "maintenance": "vehicle_unavailable",
    "service_due": "vehicle_unavailable",
}
VEHICLE_STATUS_WORDS = {"maintenance": "in maintenance", "in_service": "away for servicing"}


class AlreadyChanged(AppError):
    """The lesson changed (moved, reassigned, cancelled) since the caller saw it."""

    status = 409


@dataclass
class Panel:
    page: Page
    counts: dict[str, int]
    branch_id: int | None = None
    causes: tuple[str, ...] = CAUSES
    until: date | None = None  # the last day listed (HORIZON_DAYS ahead)
    capped: tuple[str, ...] = ()  # the causes with more than CAUSE_CAP lessons (counted as "1,000+")
    labels: dict[str, str] = field(default_factory=lambda: dict(CAUSE_LABELS))
    # the navigation badge's value, when the panel's own counts give it exactly (the actor's whole scope,
    # no cause over its cap): the page then shows it without counting again; None: count it
    badge: tuple[str, str] | None = None
    badge_known: bool = False

    @property
    def lessons(self) -> int:
        return self.counts.get("lessons", 0)


# ------------------------------------------------------------------------------------------ reading

def panel(db: Database, actor: Actor, query: ListQuery, now: datetime, settings: Mapping[str, Any]) -> Panel:
    """One page of broken lessons (rows = lesson x cause, in cause order, then date and time), the counts
    per cause (from one aggregate) and, on each row, its fingerprint, its other causes and the free
    instructors / vehicles the engine would accept."""
    _require_office(actor)
    dao = DisruptionDAO(db)
    branch = _scope_branch(actor, query)
    cutoffs = _cutoffs(dao, now, settings)
    until = horizon_until(cutoffs)
    read: list[tuple] = []

    def version() -> tuple:  # read once for the counts and the page
        if not read:
            read.append(figure_cache.data_version(db))
        return read[0]

    counts, _ = COUNTS.get(("panel", branch, until), version,
                           lambda: dao.counts(cutoffs, branch_id=branch, soon=_badge_until(cutoffs), until=until,
                                              cap=CAUSE_CAP),
                           unchanged_seconds=figure_cache.max_age(settings))
    capped = [c for c in CAUSES if counts.get(c, 0) > CAUSE_CAP]
    for cause in capped:  # the page walks the soonest CAUSE_CAP lessons of a cause ("1,000+")
        counts[cause] = CAUSE_CAP
    if capped:
        counts["row_count"] = sum(counts[c] for c in CAUSES)
        counts["lessons"] = min(counts["lessons"], counts["row_count"])
    chosen = query.filter("cause")
    causes = (chosen,) if chosen in CAUSES else CAUSES

    def read_page() -> dict:
        rows = dao.page(cutoffs, query, counts, branch_id=branch, causes=causes, until=until)
        _decorate(dao, cutoffs, rows.items)
        return {"page": rows}

    # everything the kept page carries of the request: its query's page, size, filters and ignored notes
    shown = (branch, until, causes, query.page, query.per_page, query.ignored, tuple(sorted(query.filters.items())),
             tuple(sorted(counts.items())))
    page = COUNTS.get(("page", shown), version, read_page,
                      unchanged_seconds=figure_cache.max_age(settings))[0]["page"]
    # counts["soon"] is the badge's count (the same fortnight, zones and arms) when every cause was read
    # whole and the panel covers the actor's whole scope (not an admin's one branch)
    known = not capped and branch == actor.branch_filter()
    return Panel(page=page, counts=counts, branch_id=branch, causes=causes, until=until, capped=tuple(capped),
                 badge=badge_for(min(counts["soon"], BADGE_CAP)) if known else None, badge_known=known)


def count(db: Database, actor: Actor, now: datetime, settings: Mapping[str, Any] | None = None) -> int:
    """The navigation badge's number: lessons of the coming BADGE_DAYS days that are broken, in the actor's
    scope, at most BADGE_CAP (which means "that many or more"); 0 for anyone but the office. Two cheap
    queries (the zones, one capped aggregate), kept like the panel's counts (FIGURE_CACHE_SECONDS)."""
    if not actor.is_office or actor.lacks_branch:
        return 0
    dao = DisruptionDAO(db)
    cutoffs = _cutoffs(dao, now, settings)
    until, branch = _badge_until(cutoffs), actor.branch_filter()
    kept, _ = COUNTS.get(("badge", branch, until), lambda: figure_cache.data_version(db),
                         lambda: {"n": dao.capped_count(cutoffs, until=until, cap=BADGE_CAP, branch_id=branch)},
                         unchanged_seconds=figure_cache.max_age(settings))
    return min(kept["n"], BADGE_CAP)


def affected(db: Database, actor: Actor, now: datetime, *, instructor_id: int | None = None,
             vehicle_id: int | None = None, settings: Mapping[str, Any] | None = None) -> int:
    """How many future lessons of one instructor or one vehicle are broken right now (the notice after
    recording an unavailability, a downtime or a vehicle status); 0 outside the office."""
    if not actor.is_office or actor.lacks_branch or (instructor_id is None and vehicle_id is None):
        return 0
    dao = DisruptionDAO(db)
    causes = INSTRUCTOR_CAUSES if instructor_id is not None else VEHICLE_CAUSES
    return dao.lesson_count(_cutoffs(dao, now, settings), branch_id=actor.branch_filter(),
                            instructor_id=instructor_id, vehicle_id=vehicle_id, causes=causes)


def options(db: Database, actor: Actor, schedule_id: Any, now: datetime,
            settings: Mapping[str, Any] | None = None) -> dict:
    """The free instructors and vehicles for one lesson's exact slot: ``{"instructors": [...],
    "vehicles": [...]}`` (each ``{"id", "label", "warning"}``). 404 outside the scope, 403 for other roles."""
    _require_office(actor)
    current = scheduling.get_schedule(db, actor, schedule_id)
    if current["status"] != "scheduled":
        return {"instructors": [], "vehicles": []}
    found = _free(DisruptionDAO(db), [current])
    return found.get(current["id"], {"instructors": [], "vehicles": []})


def fingerprint(row: Mapping[str, Any]) -> str:
    """What the caller was shown of a lesson: status, instructor, vehicle, date, start and end."""
    day = row["scheduled_date"]
    return "|".join([str(row["status"]), str(row["instructor_id"]), str(row["vehicle_id"] or ""),
                     day.isoformat() if hasattr(day, "isoformat") else str(day),
                     _hm(row["start_time"]), _hm(row["end_time"])])


# ------------------------------------------------------------------------------------------ writing

def reassign(db: Database, actor: Actor, schedule_id: Any, *, instructor_id: Any = None, vehicle_id: Any = None,
             expected: Any, now: datetime, settings: Mapping[str, Any]) -> scheduling.Booked:
    """Give a broken lesson another instructor and/or vehicle through scheduling.move, under the booking
    locks: the engine is run for the new slot first (a block, or a warning other than "not allocated to
    the course", which the panel shows next to the name, refuses), then move re-runs it and writes.
    409 AlreadyChanged when the lesson is no longer as ``expected``; 409 BookingConflict when the choice
    is not free; 422 naming the field for a bad or missing choice; 404 outside the scope."""
    _require_office(actor)
    current = scheduling.get_schedule(db, actor, schedule_id)
    if not isinstance(expected, str) or not expected:
        raise ValidationFailed("Reload the panel and try again.", field="expected")
    chosen: dict[str, int] = {}
    for name, value in (("instructor_id", instructor_id), ("vehicle_id", vehicle_id)):
        if value is None or value == "":
            continue
        if not valid_id(value) or isinstance(value, bool) or not isinstance(value, int):
            raise ValidationFailed("Choose one of the listed options.", field=name)
        chosen[name] = value
    _still_as_shown(current, expected)  # checked again under the row lock below
    changes = {name: value for name, value in chosen.items() if value != current[name]}
    if not changes:
        field_name = "vehicle_id" if vehicle_id not in (None, "") else "instructor_id"
        raise ValidationFailed("Choose a different instructor or vehicle.", field=field_name)
    new_instructor = changes.get("instructor_id", current["instructor_id"])
    new_vehicle = changes.get("vehicle_id", current["vehicle_id"])
    locks = BookingDAO(db)
    dao = DisruptionDAO(db)

    def attempt() -> scheduling.Booked:
        with db.transaction():
            locks.lock_parties(new_instructor, new_vehicle, current["student_id"])
            _still_as_shown(dao.lock_lesson(current["id"]), expected)
            # The only warning a one-click reassignment accepts is the one the panel showed next to the name
            # ("not allocated to the course"); any other warning or block refuses, with every reason.
            plan = scheduling.plan_booking(db, actor, {**scheduling.booking_data(current), **changes}, settings,
                                           ignore_schedule_id=current["id"])
            found = scheduling.conflicts_for(db, plan, now)
            if conflicts.blocks(found) or any(c.kind not in ACCEPTED_WARNINGS for c in conflicts.warnings(found)):
                raise scheduling.BookingConflict(found)
            booked = scheduling.move(db, actor, current["id"],
                                     {**changes, "accept_warnings": bool(conflicts.warnings(found))}, now=now,
                                     settings=settings)
            before = {k: current[k] for k in changes}
            audit.record(db, actor, "conflict_reassigned", "schedule", current["id"], now=now, before=before,
                         after=dict(changes), details=_details(SOURCE, booked.warnings))
        return booked

    return scheduling.with_retries(attempt)


def cancel_and_notify(db: Database, actor: Actor, schedule_id: Any, reason: Any, now: datetime, *,
                      expected: Any = None) -> int:
    """Cancel a broken lesson through scheduling.cancel (its reminder is withdrawn) and, in the same
    transaction, leave an in-app notification for the student and for the instructor. Returns how many
    notifications were written. 409 AlreadyChanged when the lesson is no longer as ``expected`` (or no
    longer scheduled); 422 without a reason; 404 outside the scope."""
    _require_office(actor)
    current = scheduling.get_schedule(db, actor, schedule_id)
    text = reason.strip() if isinstance(reason, str) else reason
    if not text:
        raise ValidationFailed("Give a reason for the cancellation.", field="cancel_reason")
    dao = DisruptionDAO(db)
    locks = BookingDAO(db)

    def attempt() -> int:
        with db.transaction():
            locks.lock_parties(current["instructor_id"], current["vehicle_id"], current["student_id"])
            locked = dao.lock_lesson(current["id"])
            if expected:
                _still_as_shown(locked, expected)
            elif locked is None or locked["status"] != "scheduled":
                raise AlreadyChanged("This lesson is no longer scheduled; someone changed it first.", field="status")
            scheduling.cancel(db, actor, current["id"], text, now=now)
            people = dao.parties_of(current["id"]) or {}
            when = f"{_day(current['scheduled_date'])} at {_hm(current['start_time'])}"
            kind = current.get("event_type") or "lesson"
            instructor = _name(people, "instructor")
            student = _name(people, "student")
            notices = NotificationDAO(db)
            sent = 0
            if people.get("student_user_id"):
                notices.insert(people["student_user_id"], f"Your {kind} on {when} is cancelled",
                               f"Your {kind} with {instructor} on {when} has been cancelled: {text}. "
                               "The office will contact you to book a new time.", now, level="warning")
                sent += 1
            if people.get("instructor_user_id"):
                notices.insert(people["instructor_user_id"], f"{kind.capitalize()} on {when} cancelled",
                               f"Your {kind} with {student} on {when} has been cancelled: {text}.", now,
                               level="warning")
                sent += 1
            audit.record(db, actor, "conflict_cancelled", "schedule", current["id"], now=now,
                         before={"status": "scheduled"}, after={"status": "cancelled", "cancel_reason": text},
                         details=f"{SOURCE}; notifications: {sent}")
        return sent

    return scheduling.with_retries(attempt)


# ------------------------------------------------------------------------------------------ helpers

def _require_office(actor: Actor) -> None:
    if not actor.is_office:
        raise PermissionDenied("Only the office sees the conflicts panel.")


def _scope_branch(actor: Actor, query: ListQuery) -> int | None:
    if actor.is_admin:
        return query.filter_int("branch")
    return actor.branch_filter()  # NO_BRANCH (matches nothing) for staff without a branch


def _cutoffs(dao: DisruptionDAO, now: datetime, settings: Mapping[str, Any] | None):
    """(zone name or None, local date, local time) of ``now`` for the default zone and each stored one."""
    default = (settings or {}).get("APP_TIMEZONE") or clock.timezone_name()
    out = []
    for name in [None, *dao.branch_zones()]:
        local = now.replace(tzinfo=timezone.utc).astimezone(localtime.zone_for(name, default))
        out.append((name, local.date(), local.time().replace(microsecond=0, tzinfo=None)))
    return out


def horizon_until(cutoffs) -> date:
    """The panel's last day: HORIZON_DAYS after the latest zone's today (its cost is bounded by the
    horizon, not by every lesson booked in the future)."""
    return max(c[1] for c in cutoffs) + timedelta(days=HORIZON_DAYS)


def _badge_until(cutoffs) -> date:
    return max(c[1] for c in cutoffs) + timedelta(days=BADGE_DAYS)


def _still_as_shown(locked: Mapping[str, Any] | None, expected: str) -> None:
    if locked is None:
        raise NotFound("Not found")
    if fingerprint(locked) != expected:
        raise AlreadyChanged("This lesson was already changed by someone else; the panel now shows it as it is.",
                             field="expected")


def _decorate(dao: DisruptionDAO, cutoffs, items: list[dict]) -> None:
    """Add to each row: ``cause_label``, ``reason`` (in words), ``other_causes``, ``fingerprint``,
    ``needs_instructor``/``needs_vehicle`` and the free ``instructor_options``/``vehicle_options``
    (three queries for the whole page)."""
    if not items:
        return
    ids = sorted({int(r["id"]) for r in items})
    causes = dao.causes_of(cutoffs, ids)
    # free instructors only for the lessons an instructor cause breaks, vehicles only for a vehicle cause
    # (the only options the panel offers)
    mine_of = {int(r["id"]): causes.get(int(r["id"]), [r["cause"]]) for r in items}
    free = _free(dao, items,
                 instructors_for={i for i, c in mine_of.items() if any(x in INSTRUCTOR_CAUSES for x in c)},
                 vehicles_for={i for i, c in mine_of.items() if any(x in VEHICLE_CAUSES for x in c)})
    for row in items:
        mine = causes.get(int(row["id"]), [row["cause"]])
        row["cause_label"] = CAUSE_LABELS[row["cause"]]
        row["reason"] = _reason(row)
        row["other_causes"] = [CAUSE_LABELS[c] for c in mine if c != row["cause"]]
        row["fingerprint"] = fingerprint(row)
        row["needs_instructor"] = any(c in INSTRUCTOR_CAUSES for c in mine)
        row["needs_vehicle"] = any(c in VEHICLE_CAUSES for c in mine)
        options_ = free.get(int(row["id"]), {"instructors": [], "vehicles": []})
        row["instructor_options"] = options_["instructors"]
        row["vehicle_options"] = options_["vehicles"]


def _free(dao: DisruptionDAO, lessons: list[Mapping[str, Any]], *, instructors_for: set[int] | None = None,
          vehicles_for: set[int] | None = None) -> dict[int, dict]:
    """Free instructors and vehicles per lesson id (two queries for all of ``lessons``; only those of
    ``instructors_for`` / ``vehicles_for`` when given)."""
    weekdays = {int(r["id"]): r["scheduled_date"].weekday() for r in lessons}
    found: dict[int, dict] = {i: {"instructors": [], "vehicles": []} for i in weekdays}
    wanted = {i: d for i, d in weekdays.items() if instructors_for is None or i in instructors_for}
    for row in dao.free_instructors(wanted) if wanted else ():
        bucket = found[int(row["schedule_id"])]["instructors"]
        if len(bucket) >= OPTIONS_PER_LESSON:
            continue
        warning = None
        if not int(row["allocated"] or 0):
            title = row.get("course_title")
            warning = f"not allocated to {title}" if title else "not allocated to the course"
        bucket.append({"id": row["instructor_id"], "label": f"{row['first_name']} {row['last_name']}".strip(),
                       "warning": warning})
    cars = [i for i in weekdays if vehicles_for is None or i in vehicles_for]
    for row in dao.free_vehicles(cars) if cars else ():
        bucket = found[int(row["schedule_id"])]["vehicles"]
        if len(bucket) >= OPTIONS_PER_LESSON:
            continue
        label = f"{row['name']} ({row['plate_number']})" if row.get("plate_number") else row["name"]
        bucket.append({"id": row["vehicle_id"], "label": label, "warning": None})
    return found


def _reason(row: Mapping[str, Any]) -> str:
    """The cause in words, as the engine says it."""
    instructor = f"{row['instructor_first_name']} {row['instructor_last_name']}".strip()
    vehicle = row.get("vehicle_name") or "The vehicle"
    if row.get("vehicle_plate"):
        vehicle = f"{vehicle} ({row['vehicle_plate']})"
    cause = row["cause"]
    if cause == "unavailability":
        return f"{instructor} is unavailable {_span(row['window_start'], row['window_end'])}{_why(row['window_reason'])}."
    if cause == "accreditation":
        return f"{instructor}'s accreditation expired on {_day(row['accreditation_expiry'])}."
    if cause == "downtime":
        return f"{vehicle} is off the road {_span(row['downtime_start'], row['downtime_end'])}{_why(row['downtime_reason'])}."
    if cause == "maintenance":
        return f"{vehicle} is {VEHICLE_STATUS_WORDS.get(row['vehicle_status'], row['vehicle_status'])}."
    return f"{vehicle}'s service was due on {_day(row['next_service_due'])}."


def _details(lead: str, warnings: list[dict]) -> str:
    accepted = "; ".join(w["message"] for w in warnings)
    return (f"{lead}; accepted warnings: {accepted}" if accepted else lead)[:255]


def _name(row: Mapping[str, Any], who: str) -> str:
    return f"{row.get(f'{who}_first_name') or ''} {row.get(f'{who}_last_name') or ''}".strip()


def _hm(value: Any) -> str:
    if isinstance(value, timedelta):
        minutes = int(value.total_seconds() // 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    return value.strftime("%H:%M") if hasattr(value, "strftime") else str(value)[:5]


def _day(value: Any) -> str:
    if not isinstance(value, date):
        return str(value or "")
    return f"{value.day} {value.strftime('%b %Y')}"


def _span(start: Any, end: Any) -> str:
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        return ""
    if start.date() == end.date():
        return f"on {_day(start.date())}, {_hm(start)}–{_hm(end)}"
    return f"from {_day(start.date())}, {_hm(start)} to {_day(end.date())}, {_hm(end)}"


def _why(reason: str | None) -> str:
    return f" ({reason})" if reason else ""


def badge(db: Database, actor: Actor, now: datetime, settings: Mapping[str, Any] | None = None):
    """The navigation badge (app/core/navigation.py BADGES): (count, accessible label), or None at 0."""
    return badge_for(count(db, actor, now, settings))


def badge_for(n: int) -> tuple[str, str] | None:
    """The badge for ``n`` broken lessons (BADGE_CAP or more: "99+"); None at 0."""
    if not n:
        return None
    shown = f"{BADGE_CAP - 1}+" if n >= BADGE_CAP else str(n)
    return shown, f"{shown} broken lesson{'s' if n != 1 else ''} in the next {BADGE_DAYS} days"
