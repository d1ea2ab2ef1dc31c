"""Recurring series of lessons (issue 8, item 5): "every Tuesday 17:00 x 10", every N weeks, or until a
date. No Flask here.

**Create** (office only; admin anywhere, staff their own branch: the scope rules of scheduling.book,
through the same ``plan_booking``). The series is a first date, a start and end time, an interval of 1 to
4 weeks and either a count (1..52) or an end date (at most 52 occurrences); a bad value is a 422 naming
its field and nothing is written. Every occurrence is a wall-clock date and time in the branch's zone,
so 17:00 stays 17:00 across a daylight-saving change (the instant moves by an hour; its reminder's
``send_at`` with it). One transaction under the booking locks (instructor, vehicle, student, taken
once): each occurrence goes through the one conflict engine (``scheduling.conflicts_for``); one with a
block, or with warnings not accepted, or whose time does not exist that day (the spring-forward gap) is
**not booked** and is listed with its reasons for staff to place by hand; the others are inserted with
``series_id``, each with its reminder. When no occurrence at all can be booked, nothing is written and
the answer is a 409 ``SeriesConflict`` listing every occurrence's reasons. The clashes are kept on the
series (``clashes_json``) for its page. One audit row ``series_created`` for the whole series: a summary
in ``details`` (bounded) and every occurrence's result in ``after``.

**Change** this occurrence, this and the following ones, or all (``scope``): times, instructor and
vehicle (and, for one occurrence, its date). Only scheduled occurrences that have not started are
changed. Each is re-planned and re-checked by the engine with its own row ignored, all in one
transaction; an occurrence whose new slot clashes **keeps its old time** and is listed with its
reasons; the others move and their reminders are re-planned. Nothing movable at all is a 409
``SeriesConflict`` (nothing written). One audit row ``series_changed``.

**Cancel** this, this and following, or all: scheduled occurrences that have not started, with a reason,
each with the steps of the one-event ``scheduling.cancel`` (BookingDAO.cancel_schedule, withdraw its
pending reminders, then ``scheduling.on_cancelled`` when that hook exists), under the same locks. One
audit row ``series_cancelled``; cancelling every remaining occurrence marks the series cancelled.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from app.core import localtime
from app.core.database import Database
from app.core.errors import AppError, NotFound, PermissionDenied, ValidationFailed
from app.core.params import parse_date, valid_id
from app.dao.booking import BookingDAO
from app.dao.series import SeriesDAO
from app.services import audit, conflicts, scheduling
from app.services.conflicts import Conflict
from app.services.scope import Actor

MAX_OCCURRENCES = 52
MAX_INTERVAL_WEEKS = 4
SCOPES = ("this", "following", "all")
SCOPE_LABELS = {"this": "this occurrence", "following": "this and the following occurrences",
                "all": "every remaining occurrence"}
CHANGE_FIELDS = ("date", "start_time", "end_time", "instructor_id", "vehicle_id", "accept_warnings")
SERIES_FIELDS = ("first_date", "interval_weeks", "count", "until_date")
DETAILS_MAX = 1000          # the audit summary; the full per-occurrence list goes in ``after``
AUDIT_REASONS_MAX = 4       # reasons kept per occurrence in the audit snapshot (bounded JSON)
AUDIT_REASON_CHARS = 200
CLOCK_CHANGE = "clock_change"
STARTED = "started"
WEEKDAYS = conflicts.WEEKDAYS


class SeriesConflict(AppError):
    """Not one occurrence could be booked (or changed): ``clashes`` lists every occurrence's reasons."""

    status = 409

    def __init__(self, clashes: list[dict], message: str):
        super().__init__(message)
        self.clashes = clashes


@dataclass(frozen=True)
class Created:
    series_id: int
    booked: list[int]
    clashes: list[dict]   # [{"date", "start_time", "end_time", "reasons": [{"kind", "message", "severity"}]}]
    warnings: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Changed:
    series_id: int
    changed: list[int]
    clashes: list[dict]   # as Created.clashes, plus "schedule_id": they keep their old time


@dataclass(frozen=True)
class Cancelled:
    series_id: int
    cancelled: list[int]
    withdrawn: int


# ------------------------------------------------------------------------------------------ create

def create(db: Database, actor: Actor, data: Mapping[str, Any], *, now: datetime,
           settings: Mapping[str, Any]) -> Created:
    """Book a series (see the module docstring). Raises ValidationFailed (422, nothing written),
    PermissionDenied (403), SeriesConflict (409, nothing written) or BookingBusy (409)."""
    _require_office(actor)
    if not isinstance(data, Mapping):
        raise ValidationFailed("Send the series as an object of fields.", field="body")
    errors: dict[str, list[str]] = {}
    first, interval, dates = _dates(data, errors)
    plan = None
    try:
        plan = _base_plan(db, actor, data, dates or [date(2000, 1, 3)], settings)
    except ValidationFailed as exc:
        for name, messages in (exc.errors or {exc.field or "body": [exc.message]}).items():
            errors.setdefault(name, list(messages))
    if plan is not None and first is not None and first < _today(now, plan.zone):
        errors.setdefault("first_date", ["The first lesson cannot be in the past."])
    if errors or plan is None:
        raise _invalid(errors or {"first_date": ["Enter the first date."]})

    slot = plan.slot
    bdao, sdao = BookingDAO(db), SeriesDAO(db)
    until = parse_date(data.get("until_date")) if _given(data.get("until_date")) else None
    series_row = {
        "branch_id": slot.branch_id, "instructor_id": slot.instructor_id, "student_id": slot.student_id,
        "vehicle_id": slot.vehicle_id, "event_type": plan.event_type, "weekday": first.weekday(),
        "start_time": slot.start, "end_time": slot.end, "interval_weeks": interval, "first_date": first,
        "until_date": until, "occurrences": len(dates), "created_by": actor.user_id or None,
        "created_at": now, "updated_at": now,
    }

    def attempt() -> Created:
        with db.transaction():
            bdao.lock_parties(slot.instructor_id, slot.vehicle_id, slot.student_id)
            series_id = sdao.insert(series_row)
            booked: list[int] = []
            clashes: list[dict] = []
            results: list[dict] = []
            accepted_all: list[dict] = []
            for day in dates:
                occurrence = _on_day(plan, day)
                found = _gap(occurrence) or _started(occurrence, now) or scheduling.conflicts_for(db, occurrence, now)
                if _refused(found, plan.accept_warnings):
                    clashes.append(_clash(occurrence, found))
                    results.append({"date": day.isoformat(), "result": "clash", "reasons": _audit_reasons(found)})
                    continue
                row = {
                    "enrollment_id": occurrence.slot.enrollment_id, "instructor_id": slot.instructor_id,
                    "vehicle_id": slot.vehicle_id, "branch_id": slot.branch_id, "event_type": plan.event_type,
                    "scheduled_date": day, "start_time": slot.start, "end_time": slot.end, "status": "scheduled",
                    "lesson_topic": plan.topic, "notes": plan.notes, "pickup_location": plan.pickup_location,
                    "reminder_sent": 0, "created_at": now, "updated_at": now, "series_id": series_id,
                }
                schedule_id = sdao.insert_occurrence(row)
                reminder = scheduling.reminder_plan(plan.event_type, day, slot.start, plan.zone, now, plan.pickup_location)
                if reminder is not None:
                    bdao.insert_reminder(scheduling.reminder_row(schedule_id, plan.student_user_id, reminder, now))
                booked.append(schedule_id)
                accepted = conflicts.warnings(found)
                accepted_all.extend({"date": day.isoformat(), **c.to_dict()} for c in accepted)
                results.append({"date": day.isoformat(), "result": "booked", "schedule_id": schedule_id,
                                **({"accepted_warnings": _audit_reasons(accepted)} if accepted else {})})
            if not booked:
                raise SeriesConflict(clashes, f"None of the {len(dates)} occurrences can be booked.")
            if clashes:
                sdao.set_clashes(series_id, json.dumps(clashes, ensure_ascii=False), now)
            summary = (f"{_when(first, slot.start, slot.end, interval)}: {len(dates)} occurrences, "
                       f"{len(booked)} booked, {len(clashes)} not booked")
            audit.record(db, actor, "series_created", "schedule_series", series_id, now=now,
                         after={**series_row, "occurrences_booked": len(booked), "results": results},
                         details=_details(summary, results))
        return Created(series_id, booked, clashes, accepted_all)

    return scheduling.with_retries(attempt)


# ------------------------------------------------------------------------------------------ change

def change(db: Database, actor: Actor, schedule_id: Any, scope: Any, changes: Mapping[str, Any], *,
           now: datetime, settings: Mapping[str, Any]) -> Changed:
    """Move this occurrence, this and the following, or all (``scope``) to new times, instructor or
    vehicle (see the module docstring). 404 when the event is out of scope or not part of a series."""
    _require_office(actor)
    series, anchor, rows = _occurrence(db, actor, schedule_id)
    return _change(db, actor, series, anchor, rows, scope, changes, now=now, settings=settings)


def change_series(db: Database, actor: Actor, series_id: Any, changes: Mapping[str, Any], *, now: datetime,
                  settings: Mapping[str, Any]) -> Changed:
    """Change every remaining occurrence of the series (the series page's form): scope ``all``."""
    _require_office(actor)
    series = get_series(db, actor, series_id)
    rows = SeriesDAO(db).occurrence_rows(series["id"])
    return _change(db, actor, series, None, rows, "all", changes, now=now, settings=settings)


def _change(db: Database, actor: Actor, series: dict, anchor: dict | None, rows: list[dict], scope: Any,
            changes: Mapping[str, Any], *, now: datetime, settings: Mapping[str, Any]) -> Changed:
    scope = _scope(scope)
    if not isinstance(changes, Mapping):
        raise ValidationFailed("Send the changes as an object of fields.", field="body")
    unknown = sorted(set(changes) - set(CHANGE_FIELDS))
    if unknown:
        raise _invalid({name: ["This field cannot be changed here."] for name in unknown})
    if "date" in changes and scope != "this":
        raise ValidationFailed("Move the date of one occurrence at a time (this occurrence only).", field="date")
    if not any(k in changes for k in CHANGE_FIELDS if k != "accept_warnings"):
        raise ValidationFailed("Nothing to change.", field="start_time")
    accept = changes.get("accept_warnings", False)
    if accept is None:
        accept = False
    if not isinstance(accept, bool):
        raise ValidationFailed("Must be true or false.", field="accept_warnings")
    zone = _zone(series, settings)
    targets = _targets(rows, anchor, scope, zone, now, what="changed")

    plans: list[tuple[dict, scheduling.Plan | None, Conflict | None]] = []
    for row in targets:
        data = {**scheduling.booking_data(row), **changes}
        try:
            plan = scheduling.plan_booking(db, actor, data, settings, ignore_schedule_id=row["id"])
        except ValidationFailed as exc:
            if not _is_gap(exc):
                raise  # a bad value: the same for every occurrence, nothing written
            plans.append((row, None, Conflict(CLOCK_CHANGE, exc.message + ".", conflicts.BLOCK)))
            continue
        plans.append((row, plan, None))

    bdao, sdao = BookingDAO(db), SeriesDAO(db)
    instructors = {r["instructor_id"] for r in targets} | {p.slot.instructor_id for _, p, _ in plans if p}
    vehicles = {r["vehicle_id"] for r in targets} | {p.slot.vehicle_id for _, p, _ in plans if p}

    def attempt() -> Changed:
        with db.transaction():
            sdao.lock_parties(instructors, vehicles, series["student_id"])
            status_now = sdao.lock_occurrences(series["id"])
            changed: list[int] = []
            clashes: list[dict] = []
            results: list[dict] = []
            for row, plan, gap in plans:
                key = {"schedule_id": row["id"], "date": row["scheduled_date"].isoformat()}
                if status_now.get(row["id"]) != "scheduled":
                    results.append({**key, "result": "skipped", "reasons": ["no longer scheduled"]})
                    continue
                found = [gap] if gap else scheduling.conflicts_for(db, plan, now)
                if _refused(found, accept):
                    clashes.append({**_clash_row(row, found), "schedule_id": row["id"]})
                    results.append({**key, "result": "clash, kept its time", "reasons": _audit_reasons(found)})
                    continue
                slot = plan.slot
                after = {"instructor_id": slot.instructor_id, "vehicle_id": slot.vehicle_id,
                         "scheduled_date": slot.day, "start_time": slot.start, "end_time": slot.end}
                bdao.move_schedule(row["id"], after, now)
                scheduling.replan_reminder(bdao, row["id"], plan, now)
                changed.append(row["id"])
                results.append({**key, "result": "changed", "to": _when(slot.day, slot.start, slot.end)})
            if not changed:
                raise SeriesConflict(clashes, "No occurrence could be changed: each new slot clashes.")
            moved = next(p for r, p, _ in plans if r["id"] == changed[0])
            template = {"start_time": moved.slot.start, "end_time": moved.slot.end,
                        "instructor_id": moved.slot.instructor_id, "vehicle_id": moved.slot.vehicle_id}
            template = {k: v for k, v in template.items() if k in changes}
            if scope != "this" and template:  # what the series is booked as from now on
                sdao.update_template(series["id"], template, now)
            summary = f"{SCOPE_LABELS[scope]}: {len(changed)} changed, {len(clashes)} kept their time (clash)"
            audit.record(db, actor, "series_changed", "schedule_series", series["id"], now=now,
                         before={"scope": scope, "schedule_id": anchor["id"] if anchor else None},
                         after={"changes": dict(changes), "results": results},
                         details=_details(summary, results))
        return Changed(series["id"], changed, clashes)

    return scheduling.with_retries(attempt)


# ------------------------------------------------------------------------------------------ cancel

def cancel(db: Database, actor: Actor, schedule_id: Any, scope: Any, reason: Any, *, now: datetime,
           settings: Mapping[str, Any] | None = None) -> Cancelled:
    """Cancel this occurrence, this and the following, or all remaining ones, with a reason."""
    _require_office(actor)
    series, anchor, rows = _occurrence(db, actor, schedule_id)
    return _cancel(db, actor, series, anchor, rows, scope, reason, now=now, settings=settings or {})


def cancel_series(db: Database, actor: Actor, series_id: Any, reason: Any, *, now: datetime,
                  settings: Mapping[str, Any] | None = None) -> Cancelled:
    """Cancel every remaining occurrence of the series (the series page's form): scope ``all``."""
    _require_office(actor)
    series = get_series(db, actor, series_id)
    rows = SeriesDAO(db).occurrence_rows(series["id"])
    return _cancel(db, actor, series, None, rows, "all", reason, now=now, settings=settings or {})


def _cancel(db: Database, actor: Actor, series: dict, anchor: dict | None, rows: list[dict], scope: Any,
            reason: Any, *, now: datetime, settings: Mapping[str, Any]) -> Cancelled:
    scope = _scope(scope)
    text = _reason(reason)
    zone = _zone(series, settings)
    targets = _targets(rows, anchor, scope, zone, now, what="cancelled")
    bdao, sdao = BookingDAO(db), SeriesDAO(db)
    one_event = getattr(scheduling, "cancel_event", None)  # the one cancellation path, with its hooks
    hook = getattr(scheduling, "on_cancelled", None)

    def attempt() -> Cancelled:
        with db.transaction():
            sdao.lock_parties({r["instructor_id"] for r in targets}, {r["vehicle_id"] for r in targets},
                              series["student_id"])
            status_now = sdao.lock_occurrences(series["id"])
            pending = sdao.pending_reminders(series["id"]) if one_event is not None else {}
            cancelled: list[int] = []
            results: list[dict] = []
            withdrawn = 0
            for row in targets:
                key = {"schedule_id": row["id"], "date": row["scheduled_date"].isoformat()}
                if status_now.get(row["id"]) != "scheduled":
                    results.append({**key, "result": "skipped", "reasons": ["no longer scheduled"]})
                    continue
                if one_event is not None:
                    # scheduling.cancel's own steps (row cancelled, reminders withdrawn, the freed slot
                    # offered to waiting students, the lesson's schedule_cancelled row) inside this
                    # transaction: the locks it takes are already held, so it runs straight through.
                    withdrawn += pending.get(row["id"], 0)
                    one_event(db, actor, row, text, now=now, details=f"series #{series['id']}, {SCOPE_LABELS[scope]}")
                else:
                    if not bdao.cancel_schedule(row["id"], actor.user_id or None, now, text):
                        results.append({**key, "result": "skipped", "reasons": ["no longer scheduled"]})
                        continue
                    withdrawn += bdao.withdraw_reminders(row["id"], now)
                    if hook is not None:
                        hook(db, row, now)
                cancelled.append(row["id"])
                results.append({**key, "result": "cancelled"})
            remaining = [i for i, status in status_now.items() if status == "scheduled" and i not in cancelled]
            ahead = {r["id"] for r in rows if _ahead(r, zone, now)}
            if scope == "all" or not (set(remaining) & ahead):
                sdao.mark_cancelled(series["id"], now)
            summary = f"{SCOPE_LABELS[scope]}: {len(cancelled)} cancelled ({text}); reminders withdrawn: {withdrawn}"
            audit.record(db, actor, "series_cancelled", "schedule_series", series["id"], now=now,
                         before={"scope": scope, "schedule_id": anchor["id"] if anchor else None},
                         after={"cancel_reason": text, "cancelled_at": now, "results": results},
                         details=_details(summary, results))
        return Cancelled(series["id"], cancelled, withdrawn)

    return scheduling.with_retries(attempt)


# ------------------------------------------------------------------------------------------ reads

def get_series(db: Database, actor: Actor, series_id: Any) -> dict:
    """The series when ``actor`` may see it (admin: any; staff: their branch's), else NotFound."""
    if not valid_id(series_id) or not actor.is_office:
        raise NotFound("Not found")
    row = SeriesDAO(db).find(series_id)
    if row is None:
        raise NotFound("Not found")
    allowed = actor.branch_filter()
    branch = row["branch_id"] if row["branch_id"] is not None else row["student_branch_id"]
    if allowed is not None and branch != allowed:
        raise NotFound("Not found")
    return row


def series_page(db: Database, actor: Actor, series_id: Any, *, now: datetime, settings: Mapping[str, Any]) -> dict:
    """Everything the series page shows: ``series`` (with ``student_name``, ``instructor_name``,
    ``vehicle_label``, ``weekday_name``, ``zone``, ``summary``), ``occurrences`` (date order, each with
    ``ahead``: scheduled and not started), ``clashes`` (the ones not booked when it was created, with
    their reasons and the booking form's prefill), ``counts`` by status and ``remaining`` (how many may
    still be changed or cancelled). A fixed number of queries."""
    series = get_series(db, actor, series_id)
    zone = _zone(series, settings)
    occurrences = SeriesDAO(db).occurrences(series["id"])
    counts: dict[str, int] = {}
    remaining = 0
    for row in occurrences:
        row["ahead"] = row["status"] == "scheduled" and _ahead(row, zone, now)
        row["instructor_name"] = _name(row, "instructor")
        row["vehicle_label"] = _vehicle(row["vehicle_name"], row["vehicle_plate"])
        counts[row["status"]] = counts.get(row["status"], 0) + 1
        remaining += row["ahead"]
    try:
        clashes = json.loads(series["clashes_json"] or "[]")
    except ValueError:
        clashes = []
    for clash in clashes:
        clash["prefill"] = {
            "student_id": series["student_id"], "instructor_id": series["instructor_id"],
            "vehicle_id": series["vehicle_id"], "branch_id": series["branch_id"],
            "event_type": series["event_type"], "date": clash.get("date"),
            "start_time": clash.get("start_time"), "end_time": clash.get("end_time"),
        }
        clash["day"] = parse_date(clash.get("date"))
    series.update(
        student_name=_name(series, "student"), instructor_name=_name(series, "instructor"),
        vehicle_label=_vehicle(series["vehicle_name"], series["vehicle_plate"]),
        created_by_name=_name(series, "created_by"), weekday_name=WEEKDAYS[series["weekday"]],
        zone=zone.key, branch_ref=series["branch_id"] if series["branch_id"] is not None else series["student_branch_id"],
        summary=_when(series["first_date"], series["start_time"], series["end_time"], series["interval_weeks"]),
    )
    return {"series": series, "occurrences": occurrences, "clashes": clashes, "counts": counts,
            "remaining": remaining}


def with_days(clashes: list[dict]) -> list[dict]:
    """The clashes with ``day`` (a date, for the pages' date format) next to their ISO ``date``."""
    for clash in clashes:
        clash["day"] = parse_date(clash.get("date"))
    return clashes


def membership(db: Database, actor: Actor, schedule_id: Any) -> dict | None:
    """For the event page: ``{"series_id", "position", "booked", "cancelled"}`` when the event belongs to a
    series and ``actor`` is the office (the event page has already checked the event's scope), else None."""
    if not actor.is_office or not valid_id(schedule_id):
        return None
    row = SeriesDAO(db).series_of(schedule_id)
    if row is None or row["series_id"] is None:
        return None
    return {"series_id": row["series_id"], "position": int(row["position"] or 0), "booked": int(row["booked"] or 0),
            "cancelled": row["cancelled_at"] is not None}


def change_target(db: Database, actor: Actor, schedule_id: Any) -> dict:
    """The occurrence page's data: ``series``, ``event`` (the occurrence as a booking row) and
    ``following`` / ``all`` (how many occurrences each scope would touch now); 404 as ``change``."""
    _require_office(actor)
    series, anchor, rows = _occurrence(db, actor, schedule_id)
    return {"series": series, "event": anchor, "rows": rows, "student_name": _name(series, "student")}


def scope_counts(rows: list[dict], anchor: dict, zone: ZoneInfo, now: datetime) -> dict[str, int]:
    """How many occurrences each scope would change or cancel right now."""
    out = {}
    for scope in SCOPES:
        try:
            out[scope] = len(_targets(rows, anchor, scope, zone, now, what="changed"))
        except ValidationFailed:
            out[scope] = 0
    return out


def zone_of(series: Mapping[str, Any], settings: Mapping[str, Any]) -> ZoneInfo:
    return _zone(series, settings)


# ------------------------------------------------------------------------------------------ steps

def _require_office(actor: Actor) -> None:
    if not actor.is_office:
        raise PermissionDenied("Only the office can book, change or cancel a series.")


def _occurrence(db: Database, actor: Actor, schedule_id: Any) -> tuple[dict, dict, list[dict]]:
    """(series, the occurrence, every occurrence) for an event of a series in the actor's scope."""
    scheduling.get_schedule(db, actor, schedule_id)  # 404 outside the actor's scope
    found = SeriesDAO(db).series_of(schedule_id)
    if found is None or found["series_id"] is None:
        raise NotFound("This event is not part of a series.")
    series = get_series(db, actor, found["series_id"])
    rows = SeriesDAO(db).occurrence_rows(series["id"])
    anchor = next((r for r in rows if r["id"] == schedule_id), None)
    if anchor is None:
        raise NotFound("Not found")
    return series, anchor, rows


def _targets(rows: list[dict], anchor: dict | None, scope: str, zone: ZoneInfo, now: datetime, *,
             what: str) -> list[dict]:
    """The occurrences a scope touches: scheduled and not started, from the anchor on (``following``),
    the anchor alone (``this``) or all of them."""
    if scope == "this":
        if anchor is None:
            raise ValidationFailed("Choose the occurrence.", field="scope")
        if anchor["status"] != "scheduled":
            raise ValidationFailed(f"Only scheduled events can be {what}; this one is {anchor['status']}.",
                                   field="status")
        if not _ahead(anchor, zone, now):
            raise ValidationFailed(f"This occurrence has started, so it cannot be {what} here.", field="scope")
        return [anchor]
    chosen = rows
    if scope == "following" and anchor is not None:
        mark = _order(anchor)
        chosen = [r for r in rows if _order(r) >= mark]
    targets = [r for r in chosen if r["status"] == "scheduled" and _ahead(r, zone, now)]
    if not targets:
        raise ValidationFailed(f"No scheduled occurrence ahead to be {what}.", field="scope")
    return targets


def _order(row: Mapping[str, Any]) -> tuple:
    return row["scheduled_date"], localtime.as_time(row["start_time"], time(0, 0)), row["id"]


def _scope(value: Any) -> str:
    if not isinstance(value, str) or value not in SCOPES:
        raise ValidationFailed("Choose this occurrence, this and the following, or all.", field="scope")
    return value


def _dates(data: Mapping[str, Any], errors: dict) -> tuple[date | None, int | None, list[date]]:
    """(first date, interval in weeks, every occurrence's date); problems go into ``errors`` by field."""
    raw_first = data.get("first_date", data.get("date"))
    first = None
    if not _given(raw_first):
        errors["first_date"] = ["Enter the date of the first lesson."]
    else:
        first = parse_date(raw_first) if isinstance(raw_first, str) else None
        if first is None:
            errors["first_date"] = ["Enter a real date as YYYY-MM-DD."]
    interval = _whole(data.get("interval_weeks", 1), "interval_weeks", 1, MAX_INTERVAL_WEEKS,
                      f"Repeat every 1 to {MAX_INTERVAL_WEEKS} weeks.", errors, default=1)
    raw_count, raw_until = data.get("count"), data.get("until_date")
    count = None
    if _given(raw_count) and _given(raw_until):
        errors["until_date"] = ["Give either the number of lessons or an end date, not both."]
    elif not _given(raw_count) and not _given(raw_until):
        errors["count"] = [f"Give the number of lessons (1 to {MAX_OCCURRENCES}) or an end date."]
    elif _given(raw_count):
        count = _whole(raw_count, "count", 1, MAX_OCCURRENCES,
                       f"A series has 1 to {MAX_OCCURRENCES} occurrences.", errors,
                       too_high=f"A series has at most {MAX_OCCURRENCES} occurrences.")
    else:
        until = parse_date(raw_until) if isinstance(raw_until, str) or isinstance(raw_until, date) else None
        if until is None:
            errors["until_date"] = ["Enter a real date as YYYY-MM-DD."]
        elif first is not None and interval is not None:
            if until < first:
                errors["until_date"] = ["The end date must be on or after the first lesson."]
            else:
                count = (until - first).days // (7 * interval) + 1
                if count > MAX_OCCURRENCES:
                    errors["until_date"] = [f"That makes {count} occurrences; a series has at most "
                                            f"{MAX_OCCURRENCES}."]
                    count = None
    if first is None or interval is None or count is None:
        return first, interval, []
    return first, interval, [first + timedelta(weeks=interval * k) for k in range(count)]


def _base_plan(db: Database, actor: Actor, data: Mapping[str, Any], dates: list[date],
               settings: Mapping[str, Any]) -> scheduling.Plan:
    """The booking plan of the series (scope and every field checked once, by plan_booking), on the
    first occurrence whose time exists (a spring-forward gap on one date is that date's clash)."""
    base = {k: v for k, v in data.items() if k not in SERIES_FIELDS}
    failure: ValidationFailed | None = None
    for day in dates:
        try:
            return scheduling.plan_booking(db, actor, {**base, "date": day.isoformat()}, settings)
        except ValidationFailed as exc:
            if not _is_gap(exc):
                raise
            failure = exc
    assert failure is not None
    raise failure


def _is_gap(exc: ValidationFailed) -> bool:
    """localtime.localize's refusal of a time in the spring-forward gap (not a bad value)."""
    return exc.field in ("start_time", "end_time") and "clocks go forward" in (exc.message or "")


def _on_day(plan: scheduling.Plan, day: date) -> scheduling.Plan:
    return replace(plan, slot=replace(plan.slot, day=day))


def _gap(plan: scheduling.Plan) -> list[Conflict]:
    """The clock-change reason when the occurrence's start or end does not exist that day."""
    slot = plan.slot
    try:
        localtime.span(slot.day, slot.start, slot.end, plan.zone)
    except ValidationFailed as exc:
        return [Conflict(CLOCK_CHANGE, exc.message + ".", conflicts.BLOCK)]
    return []


def _started(plan: scheduling.Plan, now: datetime) -> list[Conflict]:
    """The reason an occurrence of a new series is not booked when its time has already passed today."""
    slot = plan.slot
    if localtime.to_utc_naive(localtime.localize(slot.day, slot.start, plan.zone)) > now:
        return []
    return [Conflict(STARTED, f"{_hm(slot.start)} on {slot.day.day} {slot.day.strftime('%b %Y')} has already passed.",
                     conflicts.BLOCK)]


def _refused(found: list[Conflict], accept_warnings: bool) -> bool:
    return bool(conflicts.blocks(found) or (conflicts.warnings(found) and not accept_warnings))


def _clash(plan: scheduling.Plan, found: list[Conflict]) -> dict:
    slot = plan.slot
    return {"date": slot.day.isoformat(), "start_time": _hm(slot.start), "end_time": _hm(slot.end),
            "reasons": [c.to_dict() for c in found], "blocked": bool(conflicts.blocks(found))}


def _clash_row(row: Mapping[str, Any], found: list[Conflict]) -> dict:
    return {"date": row["scheduled_date"].isoformat(), "start_time": _hm(row["start_time"]),
            "end_time": _hm(row["end_time"]), "reasons": [c.to_dict() for c in found],
            "blocked": bool(conflicts.blocks(found))}


def _audit_reasons(found: list[Conflict]) -> list[str]:
    kept = [f"{c.kind}: {c.message}"[:AUDIT_REASON_CHARS] for c in found[:AUDIT_REASONS_MAX]]
    if len(found) > AUDIT_REASONS_MAX:
        kept.append(f"and {len(found) - AUDIT_REASONS_MAX} more")
    return kept


def _details(summary: str, results: list[dict]) -> str:
    """The audit summary, then one short entry per occurrence that was not done as asked, bounded."""
    parts = [summary]
    for result in results:
        if result["result"] not in ("booked", "changed", "cancelled"):
            reasons = result.get("reasons") or []
            parts.append(f"{result['date']}: {result['result']}" + (f" ({reasons[0]})" if reasons else ""))
    text = "; ".join(parts)
    return text if len(text) <= DETAILS_MAX else text[:DETAILS_MAX - 1] + "…"


def _zone(series: Mapping[str, Any], settings: Mapping[str, Any]) -> ZoneInfo:
    return localtime.zone_for(series.get("branch_timezone"), (settings or {}).get("APP_TIMEZONE")
                              or "Australia/Melbourne")


def _today(now: datetime, zone: ZoneInfo) -> date:
    return now.replace(tzinfo=timezone.utc).astimezone(zone).date()


def _ahead(row: Mapping[str, Any], zone: ZoneInfo, now: datetime) -> bool:
    """The occurrence has not started (its start instant is after ``now``, naive UTC)."""
    start = localtime.as_time(row["start_time"], time(0, 0))
    try:
        instant = localtime.localize(row["scheduled_date"], start, zone)
    except ValidationFailed:  # legacy data in the gap: read with the offset before the change
        instant = datetime.combine(row["scheduled_date"], start).replace(tzinfo=zone, fold=0)
    return localtime.to_utc_naive(instant) > now



def _given(value: Any) -> bool:
    return value is not None and value != ""


def _whole(value: Any, name: str, low: int, high: int, message: str, errors: dict, *,
           default: int | None = None, too_high: str | None = None) -> int | None:
    if not _given(value):
        if default is not None:
            return default
        errors[name] = [message]
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        errors[name] = ["Enter a whole number."]
        return None
    text = value.strip() if isinstance(value, str) else str(value)
    if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 6:
        errors[name] = ["Enter a whole number."]
        return None
    number = int(text)
    if not low <= number <= high:
        errors[name] = [too_high if too_high and number > high else message]
        return None
    return number


def _reason(value: Any) -> str:
    """The cancellation reason: text of 1..REASON_MAX characters without control characters."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed("Give a reason for the cancellation.", field="cancel_reason")
    text = value.strip()
    if any(ord(ch) < 32 and ch not in "\t\n\r" or ord(ch) == 127 for ch in text):
        raise ValidationFailed("Contains control characters.", field="cancel_reason")
    if len(text) > scheduling.REASON_MAX:
        raise ValidationFailed(f"At most {scheduling.REASON_MAX} characters.", field="cancel_reason")
    return text


def _invalid(errors: dict[str, list[str]]) -> ValidationFailed:
    name, messages = next(iter(errors.items()))
    failure = ValidationFailed(messages[0], errors=errors)
    failure.field = name
    return failure


def _when(day: date, start: Any, end: Any, interval: int | None = None) -> str:
    every = ""
    if interval is not None:
        every = f"every {WEEKDAYS[day.weekday()]}" if interval == 1 else f"every {interval} weeks on {WEEKDAYS[day.weekday()]}"
        every += f" from {day.day} {day.strftime('%b %Y')}, "
        return f"{every}{_hm(start)}–{_hm(end)}"
    return f"{day.day} {day.strftime('%b %Y')}, {_hm(start)}–{_hm(end)}"


def hm(value: Any) -> str:
    """HH:MM of a stored time (a TIME column may come back as a timedelta)."""
    return _hm(value)


def _hm(value: Any) -> str:
    if isinstance(value, timedelta):
        value = localtime.as_time(value, time(0, 0))
    return value.strftime("%H:%M") if hasattr(value, "strftime") else str(value or "")[:5]


def _name(row: Mapping[str, Any], who: str) -> str:
    return f"{row.get(f'{who}_first_name') or ''} {row.get(f'{who}_last_name') or ''}".strip()


def _vehicle(name: str | None, plate: str | None) -> str:
    if not name:
        return ""
    return f"{name} ({plate})" if plate else name
