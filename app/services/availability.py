"""The availability engine (issue 8, item 1): bookable slots of one instructor (and optionally one
vehicle) for a date range and a lesson duration. Pure: it only reads, and takes ``now`` and
``settings``; no Flask here.

Reads, a constant number of queries whatever the range (AvailabilityDAO, InstructorDAO, BranchDAO,
PolicyDAO): the instructor and vehicle, the branch policy, the instructor's working hours, the branch's
opening hours, the live events of the instructor and of the vehicle in the range, the instructor's
unavailability and the vehicle's downtime overlapping it (students add one scope query).

Candidates lie on the policy grid (multiples of ``slot_grid_minutes`` from local midnight) and must:
lie inside one working-hours period of the weekday (an instructor with no working hours at all is
not set up: no slots) and, when the branch has structured opening hours, inside one opening period;
not overlap a live event of the instructor, the vehicle (or, for a student, the student) widened by ``buffer_minutes`` on both sides;
not overlap an unavailability or downtime window; fall on a day the accreditation and the vehicle's
service are still valid (and the vehicle not in maintenance or in service); not touch a
spring-forward gap; start after ``now`` (staff), or respect minimum notice and horizon (students).

**No second rule set.** The in-memory overlap tests mirror services/conflicts.py exactly: half-open
intervals ([start, end) overlaps [s, e) iff start < e and s < end, so touching is free), the live
statuses of ``conflicts.LIVE_STATUSES``, wall-clock dates and times compared as stored, working and
opening periods containing the slot with their edges included, accreditation/service due "before the
lesson's date". The engine is only ever *stricter* than conflicts.check (the buffer, the notice, "no
working hours: no slots"), so every slot it offers passes check without a block; the property test in
tests/availability_test.py books random returned slots through scheduling.book to prove it.
``warnings`` lists what check would warn about: slots outside working hours are never offered and the
engine has no course context, so it is empty here (instructor_not_allocated depends on the booking's
course and is reported by the booking itself).

Scope: admin any instructor; staff their branch's; an instructor their own; a student the instructors
of their own branch who taught them or are allocated to their active enrolments' courses, or any
instructor of their branch when the policy has ``students_any_instructor``. Anything else is 404. A vehicle outside the
actor's branch (staff) is a 404 too; students and instructors may not name a vehicle of another branch.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterator, Mapping
from zoneinfo import ZoneInfo

from app.core import localtime
from app.core.database import Database
from app.core.errors import NotFound, ValidationFailed
from app.dao.availability import AvailabilityDAO
from app.dao.branch import BranchDAO
from app.dao.calendar import CalendarDAO
from app.dao.instructor import InstructorDAO
from app.services import conflicts, policy as policy_service
from app.services.scope import Actor

MIN_DURATION, MAX_DURATION = 30, 180
MAX_RANGE_DAYS = 62
MAX_BRANCH_DAYS = 7
BRANCH_PER_PAGE = 10      # the branch answer comes a page of working instructors at a time ...
MAX_BRANCH_PER_PAGE = 25  # ... (``per_page`` at most this)
DAY_MINUTES = 24 * 60
STUDENT_CHUNK_DAYS = 3   # student_slot_days reads the lessons this many days at a time


def slots(db: Database, actor: Actor, *, instructor_id: int, date_from: date, date_to: date,
          duration_minutes: int, vehicle_id: int | None = None, now: datetime,
          settings: Mapping[str, Any], ignore_schedule_id: int | None = None) -> list[dict]:
    """The bookable slots, in time order: ``{"start", "end", "instructor_id", "vehicle_id",
    "warnings"}`` with ISO 8601 times carrying the branch's offset; ``ignore_schedule_id`` leaves one event
    out (a reschedule's own lesson does not hold its own time). ValidationFailed (422) names a bad
    parameter; NotFound (404) an instructor or vehicle outside the actor's scope."""
    dao = AvailabilityDAO(db)
    row = dao.parties(instructor_id, vehicle_id)
    if row.get("instructor_id") is None or not _may_see(db, dao, actor, row):
        raise NotFound("Not found")
    if vehicle_id is not None and (row.get("vehicle_id") is None or not _vehicle_in_scope(actor, row)):
        raise NotFound("Not found")
    pol = policy_service.for_branch(db, row["branch_id"])
    _check_range(date_from, date_to, duration_minutes, pol)

    zone = localtime.zone_for(row.get("branch_timezone"), settings.get("APP_TIMEZONE") or "Australia/Melbourne")
    student = actor.role == "student"
    if int(row.get("hours_rows") or 0) == 0:
        return []
    hours = _periods(InstructorDAO(db).working_hours(instructor_id), "start_time", "end_time")
    opening = None
    if row.get("branch_id") is not None and int(row.get("opening_rows") or 0) > 0:
        opening = _periods(BranchDAO(db).opening_hours(row["branch_id"]), "open_time", "close_time")
    range_start, range_end = _range(date_from, date_to)
    own = actor.student_id if student and actor.student_id else None  # a student's own lessons hold them too
    events = [e for e in dao.live_events(instructor_id, vehicle_id, date_from, date_to, own)
              if ignore_schedule_id is None or e["id"] != ignore_schedule_id]
    windows = [(w["start_datetime"], w["end_datetime"])
               for w in dao.unavailability(instructor_id, range_start, range_end)]
    if vehicle_id is not None:
        windows += [(w["start_datetime"], w["end_datetime"])
                    for w in dao.downtime(vehicle_id, range_start, range_end)]
    return _free(row, hours, opening, events, windows, pol, zone, now=now, student=student, date_from=date_from,
                 date_to=date_to, duration=duration_minutes, vehicle_id=vehicle_id)


def branch_slots_page(db: Database, actor: Actor, *, branch_id: int, date_from: date, date_to: date,
                      duration_minutes: int, now: datetime, settings: Mapping[str, Any], page: int = 1,
                      per_page: int = BRANCH_PER_PAGE) -> tuple[list[dict], dict]:
    """``branch_slots`` for one page of the branch's working instructors (``per_page`` of them, 1 to
    MAX_BRANCH_PER_PAGE; a page past the end is the last one): (slots, {"page", "pages", "per_page",
    "instructors": [ids on this page]}). The API answers this, so the JSON stays small whatever the
    branch's size (issue 13)."""
    meta: dict[str, Any] = {}
    size = min(max(1, int(per_page)), MAX_BRANCH_PER_PAGE)
    found = branch_slots(db, actor, branch_id=branch_id, date_from=date_from, date_to=date_to,
                         duration_minutes=duration_minutes, now=now, settings=settings,
                         paging=(int(page), size), paging_out=meta)
    return found, meta


def branch_slots(db: Database, actor: Actor, *, branch_id: int, date_from: date, date_to: date,
                 duration_minutes: int, now: datetime, settings: Mapping[str, Any],
                 paging: tuple[int, int] | None = None, paging_out: dict | None = None) -> list[dict]:
    """Every instructor of a branch at once (the office's "who is free" question), at most
    ``MAX_BRANCH_DAYS`` days: the same slots ``slots`` gives each of them (no vehicle), in time then
    instructor order, from a constant number of statements however many instructors the branch has
    (the branch's instructors, policy, working hours, opening hours, live events, unavailability).
    Office only (admin any branch, staff their own); anything else is 404."""
    if not actor.is_office or (actor.branch_filter() is not None and actor.branch_filter() != branch_id):
        raise NotFound("Not found")
    dao = AvailabilityDAO(db)
    branch = BranchDAO(db).find(branch_id)
    if branch is None:
        raise NotFound("Not found")
    pol = policy_service.for_branch(db, branch_id)
    _check_range(date_from, date_to, duration_minutes, pol)
    if (date_to - date_from).days + 1 > MAX_BRANCH_DAYS:
        raise ValidationFailed(f"A whole branch is answered for at most {MAX_BRANCH_DAYS} days at a time.",
                               field="date_to")
    zone = localtime.zone_for(branch.get("timezone"), settings.get("APP_TIMEZONE") or "Australia/Melbourne")
    instructors = dao.branch_instructors(branch_id)
    hours_by: dict[int, list[dict]] = {}
    for h in dao.branch_working_hours(branch_id):
        hours_by.setdefault(h["instructor_id"], []).append(h)
    working = [row for row in instructors if row["instructor_id"] in hours_by]
    paging_out = paging_out if paging_out is not None else {}
    if paging is not None:  # one page of the working instructors (in the DAO's order), and what it was
        number, size = paging
        pages = max(1, -(-len(working) // size))
        number = min(max(1, number), pages)
        working = working[(number - 1) * size:number * size]
        paging_out.update({"page": number, "pages": pages, "per_page": size,
                           "instructors": [row["instructor_id"] for row in working]})
    opening_rows = BranchDAO(db).opening_hours(branch_id)
    opening = _periods(opening_rows, "open_time", "close_time") if opening_rows else None
    range_start, range_end = _range(date_from, date_to)
    events_by: dict[int, list[dict]] = {}
    # the listed instructors' lessons by their ids (an index range each; a join from the branch's
    # instructors reads every lesson of each of them on MariaDB)
    for e in dao.live_events_of([row["instructor_id"] for row in working], date_from, date_to, None) if working else ():
        events_by.setdefault(e["instructor_id"], []).append(e)
    windows_by: dict[int, list[tuple[datetime, datetime]]] = {}
    for w in dao.branch_unavailability(branch_id, range_start, range_end):
        windows_by.setdefault(w["instructor_id"], []).append((w["start_datetime"], w["end_datetime"]))
    out: list[dict] = []
    for row in working:
        out += _free(row, _periods(hours_by[row["instructor_id"]], "start_time", "end_time"), opening,
                     events_by.get(row["instructor_id"], []), windows_by.get(row["instructor_id"], []), pol, zone,
                     now=now, student=False, date_from=date_from, date_to=date_to, duration=duration_minutes,
                     vehicle_id=None)
    out.sort(key=lambda s: (s["start"], s["instructor_id"]))
    return out


def student_slot_days(db: Database, actor: Actor, *, instructor_ids: list[int], date_from: date, date_to: date,
                      duration_minutes: int, now: datetime, settings: Mapping[str, Any],
                      ignore_schedule_id: int | None = None) -> Iterator[list[dict]]:
    """A student's free slots with several of their instructors at once, one local day at a time (each
    day's slots in time then instructor order), so a caller wanting the next few stops early: the same
    slots ``slots`` gives each instructor for the student, from a constant number of statements however
    many instructors there are (instructors, policy, working hours, opening hours, live events,
    unavailability). Instructors outside the student's branch are left out (a lesson belongs to the
    student's branch); the caller passes those the student may book (self_service.allowed_instructors)."""
    if actor.role != "student" or not actor.student_id:
        raise NotFound("Not found")
    dao = AvailabilityDAO(db)
    branch_id = dao.student_branch(actor.student_id)
    rows = [r for r in dao.instructors_of(sorted(set(instructor_ids)))
            if branch_id is None or r["branch_id"] == branch_id]
    if not rows:
        return
    branch_id = rows[0]["branch_id"]
    rows = [r for r in rows if r["branch_id"] == branch_id]
    pol = policy_service.for_branch(db, branch_id)
    _check_range(date_from, date_to, duration_minutes, pol)
    zone = localtime.zone_for(rows[0].get("branch_timezone"), settings.get("APP_TIMEZONE") or "Australia/Melbourne")
    ids = [r["instructor_id"] for r in rows]
    hours_by: dict[int, list[dict]] = {}
    for h in CalendarDAO(db).working_hours(ids):
        hours_by.setdefault(h["instructor_id"], []).append(h)
    rows = [r for r in rows if r["instructor_id"] in hours_by]
    if not rows:
        return
    opening_rows = BranchDAO(db).opening_hours(branch_id) if branch_id is not None else []
    opening = _periods(opening_rows, "open_time", "close_time") if opening_rows else None
    range_start, range_end = _range(date_from, date_to)
    windows_by: dict[int, list[tuple[datetime, datetime]]] = {}
    for w in CalendarDAO(db).unavailability(ids, range_start, range_end):
        windows_by.setdefault(w["instructor_id"], []).append((w["start_datetime"], w["end_datetime"]))
    periods = {r["instructor_id"]: _periods(hours_by[r["instructor_id"]], "start_time", "end_time") for r in rows}
    # no start before local now + the notice (_free's rule): the days before it have no slots, so their
    # lessons are not read (the range starts a day early for the zones, and a day's notice skips another)
    local_now = now.replace(tzinfo=timezone.utc).astimezone(zone).replace(tzinfo=None)
    notice_day = (local_now + timedelta(minutes=pol.min_notice_minutes)).date()
    chunk_from = date_from
    while chunk_from < min(notice_day, date_to + timedelta(days=1)):
        yield []
        chunk_from += timedelta(days=1)
    while chunk_from <= date_to:  # the lessons a few days at a time: a caller that stops early reads few
        chunk_to = min(date_to, chunk_from + timedelta(days=STUDENT_CHUNK_DAYS - 1))
        own: dict[date, list[dict]] = {}  # the student's own lessons hold them whoever teaches
        events_by: dict[tuple[int, date], list[dict]] = {}
        for e in dao.live_events_of(ids, chunk_from, chunk_to, actor.student_id):
            if ignore_schedule_id is not None and e["id"] == ignore_schedule_id:
                continue
            if e["instructor_id"] is None:
                own.setdefault(e["scheduled_date"], []).append(e)
            else:
                events_by.setdefault((e["instructor_id"], e["scheduled_date"]), []).append(e)
        day = chunk_from
        while day <= chunk_to:
            found: list[dict] = []
            for row in rows:
                iid = row["instructor_id"]
                found += _free(row, periods[iid], opening, events_by.get((iid, day), []) + own.get(day, []),
                               windows_by.get(iid, []), pol, zone, now=now, student=True, date_from=day,
                               date_to=day, duration=duration_minutes, vehicle_id=None)
            found.sort(key=lambda s: (s["start"], s["instructor_id"]))
            yield found
            day += timedelta(days=1)
        chunk_from = chunk_to + timedelta(days=1)


def _free(row: Mapping[str, Any], hours: dict[int, list[tuple[int, int]]],
          opening: dict[int, list[tuple[int, int]]] | None, events: list[Mapping[str, Any]],
          windows: list[tuple[datetime, datetime]], pol: policy_service.Policy, zone: ZoneInfo, *, now: datetime,
          student: bool, date_from: date, date_to: date, duration: int, vehicle_id: int | None) -> list[dict]:
    """The candidates of one instructor that pass every rule above, from data already read."""
    instructor_id = row["instructor_id"]
    busy: dict[date, list[tuple[int, int]]] = {}
    buffer = pol.buffer_minutes
    for event in events:
        busy.setdefault(event["scheduled_date"], []).append(
            (_min(event["start_time"]) - buffer, _min(event["end_time"]) + buffer))
    local_now = now.replace(tzinfo=timezone.utc).astimezone(zone)
    # a student: policy.within_horizon holds for every day up to horizon_end, and notice_ok for a start
    # on the local wall clock at or after local now + the notice (both compare wall-clock times)
    last_day = policy_service.horizon_end(pol, now, zone) if student else date_to
    notice_from = local_now.replace(tzinfo=None) + timedelta(minutes=pol.min_notice_minutes)
    grid = pol.slot_grid_minutes
    out: list[dict] = []
    day = max(date_from, local_now.date())
    notice_day = notice_from.date()
    while day <= min(date_to, last_day):
        if _day_blocked(row, day, vehicle_id) or (student and day < notice_day):
            day += timedelta(days=1)
            continue
        weekday = day.weekday()
        day_busy = busy.get(day, ())
        day_open = opening.get(weekday, ()) if opening is not None else None
        for start in _starts(hours.get(weekday, ()), duration, grid):
            end = start + duration
            if day_open is not None and not any(a <= start and end <= b for a, b in day_open):
                continue
            if day_busy and any(start < b and a < end for a, b in day_busy):
                continue
            # policy.notice_ok, on the wall clock it compares: only the notice's own day has starts before it
            if student and day == notice_day and datetime.combine(day, _time(start)) < notice_from:
                continue
            if windows:
                start_at, end_at = datetime.combine(day, _time(start)), datetime.combine(day, _time(end))
                if any(ws < end_at and we > start_at for ws, we in windows):
                    continue
            try:
                if student:  # the notice above already kept every start after now: the text is enough
                    starts_at = localtime.iso_with_offset(day, _time(start), zone)
                    ends_at = localtime.iso_with_offset(day, _time(end), zone, "end_time")
                else:
                    begins, ends = localtime.span(day, _time(start), _time(end), zone)
                    if localtime.to_utc_naive(begins) <= now:
                        continue
                    starts_at, ends_at = begins.isoformat(), ends.isoformat()
            except ValidationFailed:  # a spring-forward gap time: not bookable
                continue
            out.append({"start": starts_at, "end": ends_at, "instructor_id": instructor_id,
                        "vehicle_id": vehicle_id, "warnings": []})
        day += timedelta(days=1)
    return out


# ------------------------------------------------------------------------------------------ helpers

def _check_range(date_from: Any, date_to: Any, duration: Any, pol: policy_service.Policy) -> None:
    if not isinstance(date_from, date) or isinstance(date_from, datetime):
        raise ValidationFailed("date_from must be a date (YYYY-MM-DD).", field="date_from")
    if not isinstance(date_to, date) or isinstance(date_to, datetime):
        raise ValidationFailed("date_to must be a date (YYYY-MM-DD).", field="date_to")
    if date_to < date_from:
        raise ValidationFailed("date_to must not be before date_from.", field="date_to")
    if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
        raise ValidationFailed(f"The range may cover at most {MAX_RANGE_DAYS} days.", field="date_to")
    if not isinstance(duration, int) or isinstance(duration, bool) or not MIN_DURATION <= duration <= MAX_DURATION:
        raise ValidationFailed(f"duration_minutes must be {MIN_DURATION} to {MAX_DURATION} minutes.",
                               field="duration_minutes")
    if duration % pol.slot_grid_minutes:
        raise ValidationFailed(f"duration_minutes must be a multiple of the branch's {pol.slot_grid_minutes}-minute"
                               " grid.", field="duration_minutes")


def _day_blocked(row: Mapping[str, Any], day: date, vehicle_id: int | None) -> bool:
    """conflicts.check's day-wide blocks: accreditation expired before the day; the vehicle in
    maintenance or in service, or its service due before the day."""
    expiry = row.get("accreditation_expiry")
    if expiry is not None and expiry < day:
        return True
    if vehicle_id is not None:
        if row.get("vehicle_status") in conflicts.UNAVAILABLE_VEHICLE:
            return True
        due = row.get("next_service_due")
        if due is not None and due < day:
            return True
    return False


def _may_see(db: Database, dao: AvailabilityDAO, actor: Actor, row: Mapping[str, Any]) -> bool:
    if actor.is_admin:
        return True
    if actor.role == "staff":
        return actor.branch_id is not None and row["branch_id"] == actor.branch_id
    if actor.role == "instructor":
        return actor.instructor_id is not None and row["instructor_id"] == actor.instructor_id
    if actor.role == "student" and actor.student_id:
        branch = dao.student_branch(actor.student_id)
        if branch is not None and branch != row["branch_id"]:
            return False  # a lesson belongs to the student's branch: another's instructors are not bookable
        if row["instructor_id"] in dao.student_instructor_ids(actor.student_id):
            return True
        return (branch is not None and policy_service.for_branch(db, branch).students_any_instructor)
    return False


def _vehicle_in_scope(actor: Actor, row: Mapping[str, Any]) -> bool:
    if actor.is_admin:
        return True
    return row.get("vehicle_branch_id") is not None and row["vehicle_branch_id"] == row["branch_id"]


def _starts(periods: Any, duration: int, grid: int) -> list[int]:
    """The grid times (minutes after midnight) at which a ``duration`` slot fits inside one of the
    working periods and ends the same day (by 23:59), in order: only these are tried."""
    out: set[int] = set()
    for a, b in periods:
        first = -(-max(a, 0) // grid) * grid
        out.update(range(first, min(b, DAY_MINUTES - 1) - duration + 1, grid))
    return sorted(out)


def _periods(rows: list[Mapping[str, Any]], first: str, last: str) -> dict[int, list[tuple[int, int]]]:
    out: dict[int, list[tuple[int, int]]] = {}
    for h in rows:
        out.setdefault(int(h["weekday"]), []).append((_min(h[first]), _min(h[last])))
    return out


def _range(date_from: date, date_to: date) -> tuple[datetime, datetime]:
    return datetime.combine(date_from, time(0, 0)), datetime.combine(date_to + timedelta(days=1), time(0, 0))


def _min(value: Any) -> int:
    if isinstance(value, timedelta):
        return int(value.total_seconds() // 60)
    return value.hour * 60 + value.minute


def _time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)
