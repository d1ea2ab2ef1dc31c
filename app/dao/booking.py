"""BookingDAO: the writes of the booking service (services/scheduling.py) and the calendar's event feed.

Reads for the conflict rules themselves live in ScheduleDAO (``conflict_parties``, ``live_overlaps``, ...);
this DAO holds what booking adds on top: who the parties are and which branch they belong to (scope),
the booking locks, the schedules and reminders rows, and the one-query event list of the JSON API.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from app.dao.base import BaseDAO

# The columns a booking may write (services/scheduling.py builds the row; identifiers are checked by insert).
SCHEDULE_COLUMNS = ("enrollment_id", "instructor_id", "vehicle_id", "branch_id", "event_type", "scheduled_date",
                    "start_time", "end_time", "status", "lesson_topic", "notes", "pickup_location",
                    "reminder_sent", "created_at", "updated_at")
MOVE_COLUMNS = ("instructor_id", "vehicle_id", "scheduled_date", "start_time", "end_time", "notes",
                "pickup_location", "lesson_topic")


class BookingDAO(BaseDAO):
    # ------------------------------------------------------------------ who is involved (scope)

    def parties(self, instructor_id: int, student_id: int, vehicle_id: int | None, branch_id: int | None,
                enrollment_id: int | None) -> dict:
        """One row (never None: a one-row base, so a missing id gives NULL columns) with the branch of
        every party, the student's account and name, the given enrolment's student and branch, the
        student's first active enrolment, and the slot's branch (the given one, else the student's) with
        its time zone. ``given_branch_id`` is NULL when ``branch_id`` names no branch."""
        return self.db.fetch_one(
            "SELECT i.id AS instructor_id, i.branch_id AS instructor_branch_id,"
            " st.id AS student_id, st.branch_id AS student_branch_id, st.user_id AS student_user_id,"
            " su.first_name AS student_first_name, su.last_name AS student_last_name,"
            " v.id AS vehicle_id, v.branch_id AS vehicle_branch_id,"
            " gb.id AS given_branch_id,"
            " en.id AS enrollment_id, en.student_id AS enrollment_student_id,"
            " est.branch_id AS enrollment_branch_id,"
            " (SELECT MIN(ae.id) FROM enrollments ae WHERE ae.student_id = st.id"
            "   AND ae.status IN ('active', 'in_progress')) AS active_enrollment_id,"
            " b.id AS branch_id, b.name AS branch_name, b.timezone AS branch_timezone"
            " FROM (SELECT 1 AS one) base"
            " LEFT JOIN instructors i ON i.id = :instructor_id"
            " LEFT JOIN students st ON st.id = :student_id"
            " LEFT JOIN users su ON su.id = st.user_id"
            " LEFT JOIN vehicles v ON v.id = :vehicle_id"
            " LEFT JOIN branches gb ON gb.id = :branch_id"
            " LEFT JOIN enrollments en ON en.id = :enrollment_id"
            " LEFT JOIN students est ON est.id = en.student_id"
            " LEFT JOIN branches b ON b.id = COALESCE(:branch_id, st.branch_id)",
            {"instructor_id": instructor_id, "student_id": student_id, "vehicle_id": vehicle_id,
             "branch_id": branch_id, "enrollment_id": enrollment_id},
        ) or {}

    def find_schedule(self, schedule_id: int) -> dict | None:
        """A schedules row with its student (id, account, branch), course and branch (name, time zone)."""
        return self.db.fetch_one(
            "SELECT s.id, s.enrollment_id, s.instructor_id, s.vehicle_id, s.branch_id, s.event_type,"
            " s.scheduled_date, s.start_time, s.end_time, s.status, s.lesson_topic, s.notes, s.pickup_location,"
            " s.cancelled_at, s.cancelled_by, s.cancel_reason,"
            " e.student_id, e.course_id, st.user_id AS student_user_id, st.branch_id AS student_branch_id,"
            " b.name AS branch_name, b.timezone AS branch_timezone, b.phone AS branch_phone"
            " FROM schedules s"
            " JOIN enrollments e ON e.id = s.enrollment_id"
            " JOIN students st ON st.id = e.student_id"
            " LEFT JOIN branches b ON b.id = s.branch_id"
            " WHERE s.id = :id",
            {"id": schedule_id},
        )

    # ------------------------------------------------------------------ locks

    def lock_parties(self, instructor_id: int, vehicle_id: int | None, student_id: int) -> None:
        """The booking locks, always in this order: the instructor row, the vehicle row, the student row
        (SELECT ... FOR UPDATE on MariaDB; on SQLite BEGIN IMMEDIATE already serialises writers)."""
        lock = self.db.for_update
        self.db.fetch_one(f"SELECT id FROM instructors WHERE id = :id{lock}", {"id": instructor_id})  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
        if vehicle_id is not None:
            self.db.fetch_one(f"SELECT id FROM vehicles WHERE id = :id{lock}", {"id": vehicle_id})  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
        self.db.fetch_one(f"SELECT id FROM students WHERE id = :id{lock}", {"id": student_id})  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter

    def lock_schedule(self, schedule_id: int) -> dict | None:
        """The event's row, locked (taken after the party locks); None when it is gone."""
        return self.db.fetch_one(
            f"SELECT id, status, instructor_id, vehicle_id FROM schedules WHERE id = :id{self.db.for_update}",  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            {"id": schedule_id})

    # ------------------------------------------------------------------ writes

    def insert_schedule(self, row: Mapping[str, Any]) -> int:
        unknown = set(row) - set(SCHEDULE_COLUMNS)
        if unknown:
            raise ValueError(f"not a booking column: {sorted(unknown)}")
        return self.db.insert("schedules", row)

    def move_schedule(self, schedule_id: int, changes: Mapping[str, Any], now: datetime) -> int:
        columns = [c for c in MOVE_COLUMNS if c in changes]
        unknown = set(changes) - set(MOVE_COLUMNS)
        if unknown or not columns:
            raise ValueError(f"not a movable column: {sorted(unknown)}")
        assignments = ", ".join(f"{c} = :{c}" for c in columns)
        params = {c: changes[c] for c in columns}
        params.update(id=schedule_id, now=now)
        return self.db.execute(
            f"UPDATE schedules SET {assignments}, updated_at = :now WHERE id = :id AND status = 'scheduled'",  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            params).rowcount

    def cancel_schedule(self, schedule_id: int, by_user_id: int | None, now: datetime, reason: str) -> int:
        return self.db.execute(
            "UPDATE schedules SET status = 'cancelled', cancelled_at = :now, cancelled_by = :by,"
            " cancel_reason = :reason, updated_at = :now WHERE id = :id AND status = 'scheduled'",
            {"id": schedule_id, "by": by_user_id, "now": now, "reason": reason}).rowcount

    def revive_schedule(self, schedule_id: int, now: datetime) -> int:
        """A cancelled event becomes scheduled again; who cancelled it, when and why are cleared (the
        audit row keeps them)."""
        return self.db.execute(
            "UPDATE schedules SET status = 'scheduled', cancelled_at = NULL, cancelled_by = NULL,"
            " cancel_reason = NULL, updated_at = :now WHERE id = :id AND status = 'cancelled'",
            {"id": schedule_id, "now": now}).rowcount

    def insert_reminder(self, row: Mapping[str, Any]) -> int:
        return self.db.insert("reminders", row)

    def replan_reminders(self, schedule_id: int, *, key: str, send_at: datetime, send_on: date, message: str,
                         now: datetime) -> int:
        """Point the event's pending reminders at its new time (and the idempotency key naming that time);
        returns how many were pending. A key another row holds already raises Conflict."""
        return self.db.execute(
            "UPDATE reminders SET send_at = :send_at, send_on = :send_on, message = :message, idempotency_key = :key,"
            " next_attempt_at = NULL, last_error = NULL, delivery_channel = NULL, updated_at = :now"
            " WHERE related_type = 'schedule' AND related_id = :id AND status = 'pending' AND transactional = 0",
            {"id": schedule_id, "send_at": send_at, "send_on": send_on, "message": message, "key": key,
             "now": now}).rowcount

    def withdraw_notices(self, schedule_id: int, now: datetime) -> int:
        """Cancel the event's transactional messages still waiting (a "moved" notice the dispatcher has
        not sent yet, made out of date by a later move)."""
        return self.db.execute(
            "UPDATE reminders SET status = 'cancelled', updated_at = :now, last_error = 'out of date: the lesson"
            " changed again before it was sent' WHERE related_type = 'schedule' AND related_id = :id"
            " AND status = 'pending' AND transactional = 1", {"id": schedule_id, "now": now}).rowcount

    def withdraw_reminders(self, schedule_id: int, now: datetime) -> int:
        """Cancel the event's pending reminders (sent ones stay as they were)."""
        return self.db.execute(
            "UPDATE reminders SET status = 'cancelled', updated_at = :now"
            " WHERE related_type = 'schedule' AND related_id = :id AND status = 'pending'",
            {"id": schedule_id, "now": now}).rowcount

    # ------------------------------------------------------------------ the event feed

    def events(self, start: date, end: date, *, branch_id: int | None = None, instructor_id: int | None = None,
               student_id: int | None = None, vehicle_id: int | None = None, limit: int = 2001) -> list[dict]:
        """Events dated ``start``..``end`` (inclusive), every status, filtered by the given ids (all ANDed),
        with the student's name and the branch's time zone joined in: one statement."""
        clauses = ["s.scheduled_date >= :start", "s.scheduled_date <= :end"]
        params: dict[str, Any] = {"start": start, "end": end}
        for column, value in (("s.branch_id", branch_id), ("s.instructor_id", instructor_id),
                              ("e.student_id", student_id), ("s.vehicle_id", vehicle_id)):
            if value is not None:
                name = column.split(".")[1]
                clauses.append(f"{column} = :{name}")
                params[name] = value
        return self.db.fetch_all(
            "SELECT s.id, s.scheduled_date, s.start_time, s.end_time, s.status, s.event_type, s.lesson_topic,"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            " s.instructor_id, e.student_id, s.vehicle_id, s.branch_id, b.timezone AS branch_timezone,"
            " su.first_name AS student_first_name, su.last_name AS student_last_name"
            " FROM schedules s"
            " JOIN enrollments e ON e.id = s.enrollment_id"
            " JOIN students st ON st.id = e.student_id"
            " JOIN users su ON su.id = st.user_id"
            " LEFT JOIN branches b ON b.id = s.branch_id"
            f" WHERE {' AND '.join(clauses)}"
            " ORDER BY s.scheduled_date, s.start_time, s.id LIMIT :limit",
            {**params, "limit": int(limit)},
        )

    # ------------------------------------------------------------------ students' own bookings

    def student_lessons_between(self, student_id: int, first: date, last: date,
                                ignore_schedule_id: int | None = None) -> int:
        """How many live lessons (scheduled, completed, no-show; not exams or assessments) the student has
        dated ``first``..``last`` (inclusive), ``ignore_schedule_id`` left out (a reschedule's own row)."""
        return int(self.db.fetch_value(
            "SELECT COUNT(*) FROM schedules s JOIN enrollments e ON e.id = s.enrollment_id"
            " WHERE e.student_id = :student_id AND s.scheduled_date >= :first AND s.scheduled_date <= :last"
            " AND s.status IN ('scheduled', 'completed', 'no_show')"
            " AND (s.event_type IS NULL OR s.event_type = 'lesson')"
            " AND s.id <> :ignore",
            {"student_id": student_id, "first": first, "last": last, "ignore": ignore_schedule_id or 0}) or 0)

    def student_lesson_dates(self, student_id: int, first: date, last: date,
                             ignore_schedule_id: int | None = None) -> list[date]:
        """The dates of those lessons (one per lesson), for counting them per week in one statement."""
        rows = self.db.fetch_all(
            "SELECT s.scheduled_date FROM schedules s JOIN enrollments e ON e.id = s.enrollment_id"
            " WHERE e.student_id = :student_id AND s.scheduled_date >= :first AND s.scheduled_date <= :last"
            " AND s.status IN ('scheduled', 'completed', 'no_show')"
            " AND (s.event_type IS NULL OR s.event_type = 'lesson')"
            " AND s.id <> :ignore",
            {"student_id": student_id, "first": first, "last": last, "ignore": ignore_schedule_id or 0})
        return [r["scheduled_date"] for r in rows]

    def branch_contact(self, branch_id: int | None) -> dict | None:
        """The branch's name and phone (who a student calls)."""
        if branch_id is None:
            return None
        return self.db.fetch_one("SELECT id, name, phone FROM branches WHERE id = :id", {"id": branch_id})
