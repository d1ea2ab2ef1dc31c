"""SeriesDAO: recurring series of lessons (``schedule_series``) and their occurrences (``schedules`` rows
with ``series_id``). The rules live in services/series.py; the conflict reads stay in ScheduleDAO and the
booking writes (reminders, cancellation, moves) in BookingDAO, which the service reuses.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

from app.dao.base import BaseDAO
from app.dao.booking import SCHEDULE_COLUMNS

SERIES_COLUMNS = ("branch_id", "instructor_id", "student_id", "vehicle_id", "event_type", "weekday", "start_time",
                  "end_time", "interval_weeks", "first_date", "until_date", "occurrences", "clashes_json",
                  "created_by", "created_at", "updated_at", "cancelled_at")
TEMPLATE_COLUMNS = ("instructor_id", "vehicle_id", "start_time", "end_time")
MAX_ROWS = 200  # a series has at most 52 occurrences; a bound for every list read here

# The occurrence columns the service needs to re-plan a booking (BookingDAO.find_schedule's shape).
_OCCURRENCE = (
    "SELECT s.id, s.series_id, s.enrollment_id, s.instructor_id, s.vehicle_id, s.branch_id, s.event_type,"
    " s.scheduled_date, s.start_time, s.end_time, s.status, s.lesson_topic, s.notes, s.pickup_location,"
    " s.cancelled_at, s.cancelled_by, s.cancel_reason,"
    " e.student_id, e.course_id, st.user_id AS student_user_id, st.branch_id AS student_branch_id,"
    " b.name AS branch_name, b.timezone AS branch_timezone"
    " FROM schedules s"
    " JOIN enrollments e ON e.id = s.enrollment_id"
    " JOIN students st ON st.id = e.student_id"
    " LEFT JOIN branches b ON b.id = s.branch_id"
)


class SeriesDAO(BaseDAO):
    # ------------------------------------------------------------------ reads

    def find(self, series_id: int) -> dict | None:
        """The series with its people's names and the branch (name, time zone) joined in."""
        return self.db.fetch_one(
            "SELECT ss.id, ss.branch_id, ss.instructor_id, ss.student_id, ss.vehicle_id, ss.event_type, ss.weekday,"
            " ss.start_time, ss.end_time, ss.interval_weeks, ss.first_date, ss.until_date, ss.occurrences,"
            " ss.clashes_json, ss.created_by, ss.created_at, ss.updated_at, ss.cancelled_at,"
            " st.branch_id AS student_branch_id, su.first_name AS student_first_name,"
            " su.last_name AS student_last_name,"
            " i.branch_id AS instructor_branch_id, iu.first_name AS instructor_first_name,"
            " iu.last_name AS instructor_last_name,"
            " v.name AS vehicle_name, v.plate_number AS vehicle_plate, v.branch_id AS vehicle_branch_id,"
            " b.name AS branch_name, b.timezone AS branch_timezone,"
            " cu.first_name AS created_by_first_name, cu.last_name AS created_by_last_name"
            " FROM schedule_series ss"
            " JOIN students st ON st.id = ss.student_id"
            " JOIN users su ON su.id = st.user_id"
            " LEFT JOIN instructors i ON i.id = ss.instructor_id"
            " LEFT JOIN users iu ON iu.id = i.user_id"
            " LEFT JOIN vehicles v ON v.id = ss.vehicle_id"
            " LEFT JOIN branches b ON b.id = COALESCE(ss.branch_id, st.branch_id)"
            " LEFT JOIN users cu ON cu.id = ss.created_by"
            " WHERE ss.id = :id",
            {"id": series_id},
        )

    def occurrences(self, series_id: int) -> list[dict]:
        """The series' booked occurrences (every status) in date order, with the instructor's and the
        vehicle's names: one statement."""
        return self.db.fetch_all(
            "SELECT s.id, s.scheduled_date, s.start_time, s.end_time, s.status, s.event_type, s.instructor_id,"
            " s.vehicle_id, s.branch_id, s.cancel_reason, e.student_id,"
            " iu.first_name AS instructor_first_name, iu.last_name AS instructor_last_name,"
            " v.name AS vehicle_name, v.plate_number AS vehicle_plate"
            " FROM schedules s"
            " JOIN enrollments e ON e.id = s.enrollment_id"
            " LEFT JOIN instructors i ON i.id = s.instructor_id"
            " LEFT JOIN users iu ON iu.id = i.user_id"
            " LEFT JOIN vehicles v ON v.id = s.vehicle_id"
            " WHERE s.series_id = :id"
            " ORDER BY s.scheduled_date, s.start_time, s.id LIMIT :limit",
            {"id": series_id, "limit": MAX_ROWS},
        )

    def occurrence_rows(self, series_id: int) -> list[dict]:
        """Every occurrence of the series as a booking row (the shape of BookingDAO.find_schedule plus
        ``series_id``), in date order: what a change or cancellation works on."""
        return self.db.fetch_all(
            _OCCURRENCE + " WHERE s.series_id = :id ORDER BY s.scheduled_date, s.start_time, s.id LIMIT :limit",
            {"id": series_id, "limit": MAX_ROWS})

    def series_of(self, schedule_id: int) -> dict | None:
        """The event's series id and its place in the series (``position`` of ``booked``, by date), or None
        when the event is not part of a series."""
        return self.db.fetch_one(
            "SELECT s.series_id, ss.cancelled_at,"
            " (SELECT COUNT(*) FROM schedules o WHERE o.series_id = s.series_id"
            "   AND (o.scheduled_date < s.scheduled_date OR (o.scheduled_date = s.scheduled_date"
            "   AND (o.start_time < s.start_time OR (o.start_time = s.start_time AND o.id <= s.id))))) AS position,"
            " (SELECT COUNT(*) FROM schedules o WHERE o.series_id = s.series_id) AS booked"
            " FROM schedules s JOIN schedule_series ss ON ss.id = s.series_id"
            " WHERE s.id = :id",
            {"id": schedule_id})

    def pending_reminders(self, series_id: int) -> dict[int, int]:
        """{schedule id: pending reminders} of the series' occurrences (what a cancellation withdraws)."""
        rows = self.db.fetch_all(
            "SELECT r.related_id AS schedule_id, COUNT(*) AS pending FROM reminders r"
            " JOIN schedules s ON s.id = r.related_id"
            " WHERE r.related_type = 'schedule' AND r.status = 'pending' AND s.series_id = :id"
            " GROUP BY r.related_id",
            {"id": series_id})
        return {int(r["schedule_id"]): int(r["pending"]) for r in rows}

    # ------------------------------------------------------------------ locks

    def lock_parties(self, instructor_ids: Iterable[int], vehicle_ids: Iterable[int], student_id: int) -> None:
        """The booking locks for several instructors and vehicles at once, in the booking order
        (BookingDAO.lock_parties): every instructor row (by id), every vehicle row (by id), the student row."""
        lock = self.db.for_update
        for instructor_id in sorted(set(instructor_ids)):
            self.db.fetch_one(f"SELECT id FROM instructors WHERE id = :id{lock}", {"id": instructor_id})  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
        for vehicle_id in sorted({v for v in vehicle_ids if v is not None}):
            self.db.fetch_one(f"SELECT id FROM vehicles WHERE id = :id{lock}", {"id": vehicle_id})  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
        self.db.fetch_one(f"SELECT id FROM students WHERE id = :id{lock}", {"id": student_id})  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter

    def lock_occurrences(self, series_id: int) -> dict[int, str]:
        """The series' event rows, locked (after the party locks): {id: status}."""
        rows = self.db.fetch_all(
            f"SELECT id, status FROM schedules WHERE series_id = :id ORDER BY id LIMIT :limit{self.db.for_update}",  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            {"id": series_id, "limit": MAX_ROWS})
        return {r["id"]: r["status"] for r in rows}

    # ------------------------------------------------------------------ writes

    def insert(self, row: Mapping[str, Any]) -> int:
        unknown = set(row) - set(SERIES_COLUMNS)
        if unknown:
            raise ValueError(f"not a series column: {sorted(unknown)}")
        return self.db.insert("schedule_series", row)

    def insert_occurrence(self, row: Mapping[str, Any]) -> int:
        """A schedules row of the series (the booking columns plus ``series_id``)."""
        unknown = set(row) - set(SCHEDULE_COLUMNS) - {"series_id"}
        if unknown or not row.get("series_id"):
            raise ValueError(f"not an occurrence row: {sorted(unknown) or 'series_id missing'}")
        return self.db.insert("schedules", row)

    def set_clashes(self, series_id: int, clashes_json: str | None, now: datetime) -> int:
        return self.db.execute(
            "UPDATE schedule_series SET clashes_json = :clashes, updated_at = :now WHERE id = :id",
            {"id": series_id, "clashes": clashes_json, "now": now}).rowcount

    def update_template(self, series_id: int, changes: Mapping[str, Any], now: datetime) -> int:
        """What the series is booked as from now on (instructor, vehicle, times) after a change."""
        columns = [c for c in TEMPLATE_COLUMNS if c in changes]
        if set(changes) - set(TEMPLATE_COLUMNS) or not columns:
            raise ValueError(f"not a series template column: {sorted(set(changes) - set(TEMPLATE_COLUMNS))}")
        assignments = ", ".join(f"{c} = :{c}" for c in columns)
        return self.db.execute(
            f"UPDATE schedule_series SET {assignments}, updated_at = :now WHERE id = :id",  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            {**{c: changes[c] for c in columns}, "id": series_id, "now": now}).rowcount

    def mark_cancelled(self, series_id: int, now: datetime) -> int:
        return self.db.execute(
            "UPDATE schedule_series SET cancelled_at = :now, updated_at = :now WHERE id = :id AND cancelled_at IS NULL",
            {"id": series_id, "now": now}).rowcount
