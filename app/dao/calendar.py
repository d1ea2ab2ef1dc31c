"""CalendarDAO: the reads behind the calendar pages (services/calendar.py): week, day, month and day sheet.

Every statement filters by a date range plus one indexed id, so a page costs the same few queries at any
size: events of one instructor (``idx_schedule_instructor_date``), of a list of lane instructors (one range
per lane on the same index), of one vehicle (``idx_schedule_vehicle_date``) or of one student (their
enrolments, then ``idx_schedule_enrollment_date``). Names are joined in the same statement (no per-row
look-ups). Dates and times are wall-clock values in the branch's zone, returned as stored.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Sequence

from app.dao.base import BaseDAO

# The subject of a calendar: which column identifies it and which index serves it.
SUBJECTS = ("instructor", "student", "vehicle")
MAX_EVENTS = 5000  # one page's events at most (50 lanes x a very busy day is far below)

_EVENT_COLUMNS = (
    "s.id, s.scheduled_date, s.start_time, s.end_time, s.status, s.event_type, s.lesson_topic, s.notes,"
    " s.pickup_location, s.instructor_id, s.vehicle_id, s.branch_id, e.student_id, e.course_id,"
    " st.branch_id AS student_branch_id, su.first_name AS student_first_name, su.last_name AS student_last_name,"
    " su.phone AS student_phone, st.address_line AS student_address, st.city AS student_city,"
    " iu.first_name AS instructor_first_name, iu.last_name AS instructor_last_name,"
    " v.name AS vehicle_name, v.plate_number AS vehicle_plate, c.title AS course_title"
)
_PICKED = ("d.id, d.enrollment_id, d.instructor_id, d.vehicle_id, d.branch_id, d.scheduled_date, d.start_time,"
           " d.end_time, d.status, d.event_type, d.lesson_topic, d.notes, d.pickup_location")
_EVENT_JOINS = (
    " JOIN enrollments e ON e.id = s.enrollment_id"
    " JOIN students st ON st.id = e.student_id"
    " JOIN users su ON su.id = st.user_id"
    " JOIN courses c ON c.id = e.course_id"
    " JOIN instructors i ON i.id = s.instructor_id"
    " JOIN users iu ON iu.id = i.user_id"
    " LEFT JOIN vehicles v ON v.id = s.vehicle_id"
)


class CalendarDAO(BaseDAO):
    # ------------------------------------------------------------------ who the calendar is about

    def instructor(self, instructor_id: int) -> dict | None:
        """One instructor with the account's name, phone and status and the branch's name and zone."""
        return self.db.fetch_one(
            "SELECT i.id, i.user_id, i.branch_id, u.first_name, u.last_name, u.phone, u.status,"
            " b.name AS branch_name, b.timezone AS branch_timezone"
            " FROM instructors i JOIN users u ON u.id = i.user_id LEFT JOIN branches b ON b.id = i.branch_id"
            " WHERE i.id = :id",
            {"id": instructor_id},
        )

    def student(self, student_id: int) -> dict | None:
        return self.db.fetch_one(
            "SELECT st.id, st.user_id, st.branch_id, u.first_name, u.last_name, u.phone, u.status,"
            " b.name AS branch_name, b.timezone AS branch_timezone"
            " FROM students st JOIN users u ON u.id = st.user_id LEFT JOIN branches b ON b.id = st.branch_id"
            " WHERE st.id = :id",
            {"id": student_id},
        )

    def vehicle(self, vehicle_id: int) -> dict | None:
        return self.db.fetch_one(
            "SELECT v.id, v.name, v.plate_number, v.status, v.branch_id,"
            " b.name AS branch_name, b.timezone AS branch_timezone"
            " FROM vehicles v LEFT JOIN branches b ON b.id = v.branch_id WHERE v.id = :id",
            {"id": vehicle_id},
        )

    def branch(self, branch_id: int) -> dict | None:
        return self.db.fetch_one(
            "SELECT b.id, b.name, b.timezone AS branch_timezone, b.opening_hours AS opening_label"
            " FROM branches b WHERE b.id = :id",
            {"id": branch_id},
        )

    def first_branch_id(self) -> int | None:
        """The branch an administrator's calendar opens on: the first by name."""
        return self.db.fetch_value("SELECT id FROM branches ORDER BY name, id LIMIT 1")

    # ------------------------------------------------------------------ lanes (a branch's instructors)

    def lanes(self, branch_id: int, *, limit: int, offset: int = 0) -> list[dict]:
        """Active instructors of the branch by name (the day view's lanes, the week view's picker)."""
        return self.db.fetch_all(
            "SELECT i.id, u.first_name, u.last_name, u.phone"
            " FROM instructors i JOIN users u ON u.id = i.user_id"
            " WHERE i.branch_id = :branch_id AND u.status = 'active'"
            " ORDER BY u.last_name, u.first_name, i.id LIMIT :limit OFFSET :offset",
            {"branch_id": branch_id, "limit": int(limit), "offset": int(offset)},
        )

    def branch_instructor_ids(self, branch_id: int) -> list[int]:
        """Every instructor of the branch, archived ones too (a branch's month counts their lessons)."""
        return [r["id"] for r in self.db.fetch_all(
            "SELECT i.id FROM instructors i WHERE i.branch_id = :branch_id ORDER BY i.id", {"branch_id": branch_id})]

    def lane_count(self, branch_id: int) -> int:
        return int(self.db.fetch_value(
            "SELECT COUNT(*) FROM instructors i JOIN users u ON u.id = i.user_id"
            " WHERE i.branch_id = :branch_id AND u.status = 'active'",
            {"branch_id": branch_id},
        ) or 0)

    # ------------------------------------------------------------------ events

    def events(self, start: date, end: date, *, instructor_ids: Sequence[int] | None = None,
               student_id: int | None = None, vehicle_id: int | None = None, limit: int = MAX_EVENTS) -> list[dict]:
        """Events dated ``start``..``end`` (inclusive), every status, of the given instructors, student or
        vehicle (exactly one kind), with student, instructor, vehicle and course names: one statement.
        An empty ``instructor_ids`` gives no rows without a query."""
        where, params = _subject_clause("d", instructor_ids, student_id, vehicle_id)
        if where is None:
            return []
        # The events are chosen (and limited) first, on the subject's index, then the few rows get their
        # names: the derived table with LIMIT is never merged, so no optimiser starts from the names.
        return self.db.fetch_all(
            f"SELECT {_EVENT_COLUMNS} FROM (SELECT {_PICKED} FROM schedules d"  # nosec B608 # interpolates only fragments this code builds from constants, module constants; every value is a bound :parameter
            f"   WHERE {where} AND d.scheduled_date >= :start AND d.scheduled_date <= :end"
            "   ORDER BY d.scheduled_date, d.start_time, d.id LIMIT :limit) s"
            f"{_EVENT_JOINS}"
            " ORDER BY s.scheduled_date, s.start_time, s.id",
            {**params, "start": start, "end": end, "limit": int(limit)},
        )

    def month_days(self, start: date, end: date, statuses: Sequence[str], *, per_day: int,
                   instructor_ids: Sequence[int] | None = None, student_id: int | None = None,
                   vehicle_id: int | None = None) -> list[dict]:
        """The first ``per_day`` events of each day in ``start``..``end`` with ``statuses`` (by time), each
        carrying ``day_count``, the day's number of such events (a window aggregate over the whole day,
        not a count of the rows returned). A branch's month passes its instructors (``instructor_ids``)."""
        where, params = _subject_clause("d", instructor_ids, student_id, vehicle_id)
        if where is None:
            return []
        status_list, status_params = self.db.in_params("status", statuses)
        # the window runs over narrow rows (id, day, time); only the rows shown are joined for their names
        return self.db.fetch_all(
            f"SELECT {_EVENT_COLUMNS}, w.rn, w.day_count"  # nosec B608 # interpolates only fragments this code builds from constants, module constants; every value is a bound :parameter
            " FROM (SELECT d.id,"
            "   ROW_NUMBER() OVER (PARTITION BY d.scheduled_date ORDER BY d.start_time, d.id) AS rn,"
            "   COUNT(*) OVER (PARTITION BY d.scheduled_date) AS day_count"
            f"  FROM schedules d WHERE {where}"
            "   AND d.scheduled_date >= :start AND d.scheduled_date <= :end"
            f"   AND d.status IN ({status_list})) w"
            " JOIN schedules s ON s.id = w.id"
            f"{_EVENT_JOINS}"
            " WHERE w.rn <= :per_day"
            " ORDER BY s.scheduled_date, s.start_time, s.id",
            {**params, **status_params, "start": start, "end": end, "per_day": int(per_day)},
        )

    # ------------------------------------------------------------------ shading: hours and windows

    def working_hours(self, instructor_ids: Sequence[int]) -> list[dict]:
        """Every working-hours row of the instructors (weekday 0 = Monday): the whole week, so that an
        instructor without any row ("not set up yet") can be told from one who is off that day."""
        if not instructor_ids:
            return []
        ids, params = self.db.in_params("instructor", instructor_ids)
        return self.db.fetch_all(
            "SELECT h.instructor_id, h.weekday, h.start_time, h.end_time FROM instructor_working_hours h"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            f" WHERE h.instructor_id IN ({ids}) ORDER BY h.instructor_id, h.weekday, h.start_time, h.id",
            params,
        )

    def unavailability(self, instructor_ids: Sequence[int], start: datetime, end: datetime) -> list[dict]:
        """The instructors' unavailability windows overlapping [start, end) (wall-clock datetimes)."""
        if not instructor_ids:
            return []
        ids, params = self.db.in_params("instructor", instructor_ids)
        return self.db.fetch_all(
            "SELECT w.id, w.instructor_id, w.start_datetime, w.end_datetime, w.reason"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            f" FROM instructor_unavailability w WHERE w.instructor_id IN ({ids})"
            " AND w.start_datetime < :end AND w.end_datetime > :start"
            " ORDER BY w.instructor_id, w.start_datetime, w.id",
            {**params, "start": start, "end": end},
        )

    def downtime(self, vehicle_id: int, start: datetime, end: datetime) -> list[dict]:
        """The vehicle's downtime windows overlapping [start, end) (wall-clock datetimes)."""
        return self.db.fetch_all(
            "SELECT d.id, d.vehicle_id, d.start_datetime, d.end_datetime, d.reason FROM vehicle_downtime d"
            " WHERE d.vehicle_id = :vehicle_id AND d.start_datetime < :end AND d.end_datetime > :start"
            " ORDER BY d.start_datetime, d.id",
            {"vehicle_id": vehicle_id, "start": start, "end": end},
        )


def _subject_clause(alias: str, instructor_ids: Sequence[int] | None, student_id: int | None,
                    vehicle_id: int | None) -> tuple[str | None, dict[str, Any]]:
    """The WHERE clause on schedules ``alias`` naming one subject; (None, {}) for an empty instructor list."""
    given = [instructor_ids is not None, student_id is not None, vehicle_id is not None]
    if sum(given) != 1:
        raise ValueError("give exactly one of instructor_ids, student_id, vehicle_id")
    if instructor_ids is not None:
        ids = [int(i) for i in instructor_ids]
        if not ids:
            return None, {}
        if len(ids) == 1:
            return f"{alias}.instructor_id = :instructor_id", {"instructor_id": ids[0]}
        names = {f"lane_{n}": value for n, value in enumerate(ids)}
        return f"{alias}.instructor_id IN ({', '.join(':' + k for k in names)})", names
    if vehicle_id is not None:
        return f"{alias}.vehicle_id = :vehicle_id", {"vehicle_id": vehicle_id}
    return (f"{alias}.enrollment_id IN (SELECT en.id FROM enrollments en WHERE en.student_id = :student_id)",  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            {"student_id": student_id})
