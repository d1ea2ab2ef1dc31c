"""AvailabilityDAO: the reads behind services/availability.py, each one statement whatever the range
(working hours and opening hours come from InstructorDAO / BranchDAO, the policy from PolicyDAO)."""
from __future__ import annotations

from datetime import date, datetime

from app.dao.base import BaseDAO


class AvailabilityDAO(BaseDAO):
    def parties(self, instructor_id: int, vehicle_id: int | None) -> dict:
        """The instructor (branch, accreditation, the branch's zone, whether they have working hours and
        the branch opening hours at all) and the vehicle (branch, status, service due), from a one-row
        base so a missing id gives NULL columns."""
        return self.db.fetch_one(
            "SELECT i.id AS instructor_id, i.branch_id, i.accreditation_expiry, b.timezone AS branch_timezone,"
            " (SELECT COUNT(*) FROM instructor_working_hours wh WHERE wh.instructor_id = i.id) AS hours_rows,"
            " (SELECT COUNT(*) FROM branch_opening_hours bh WHERE bh.branch_id = i.branch_id) AS opening_rows,"
            " v.id AS vehicle_id, v.branch_id AS vehicle_branch_id, v.status AS vehicle_status, v.next_service_due"
            " FROM (SELECT 1 AS one) base"
            " LEFT JOIN instructors i ON i.id = :instructor_id"
            " LEFT JOIN branches b ON b.id = i.branch_id"
            " LEFT JOIN vehicles v ON v.id = :vehicle_id",
            {"instructor_id": instructor_id, "vehicle_id": vehicle_id},
        ) or {}

    def live_events(self, instructor_id: int, vehicle_id: int | None, first: date, last: date,
                    student_id: int | None = None) -> list[dict]:
        """Live events (scheduled, completed, no_show: conflicts.LIVE_STATUSES) dated first..last of the
        instructor, of the vehicle or of the student (through the enrolment), one UNION ALL arm each
        (each on its own index)."""
        live = ("s.scheduled_date BETWEEN :first AND :last"
                " AND s.status IN ('scheduled', 'completed', 'no_show')")
        columns = "s.id, s.scheduled_date, s.start_time, s.end_time"
        arms = [f"SELECT {columns} FROM schedules s WHERE s.instructor_id = :instructor_id AND {live}"]  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
        if vehicle_id is not None:
            arms.append(f"SELECT {columns} FROM schedules s WHERE s.vehicle_id = :vehicle_id AND {live}")  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
        if student_id is not None:
            arms.append(f"SELECT {columns} FROM schedules s JOIN enrollments se ON se.id = s.enrollment_id"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                        f" WHERE se.student_id = :student_id AND {live}")
        return self.db.fetch_all(" UNION ALL ".join(arms), {
            "instructor_id": instructor_id, "vehicle_id": vehicle_id, "student_id": student_id,
            "first": first, "last": last})

    def unavailability(self, instructor_id: int, start: datetime, end: datetime) -> list[dict]:
        return self.db.fetch_all(
            "SELECT w.start_datetime, w.end_datetime FROM instructor_unavailability w"
            " WHERE w.instructor_id = :id AND w.start_datetime < :end AND w.end_datetime > :start",
            {"id": instructor_id, "start": start, "end": end})

    def downtime(self, vehicle_id: int, start: datetime, end: datetime) -> list[dict]:
        return self.db.fetch_all(
            "SELECT d.start_datetime, d.end_datetime FROM vehicle_downtime d"
            " WHERE d.vehicle_id = :id AND d.start_datetime < :end AND d.end_datetime > :start",
            {"id": vehicle_id, "start": start, "end": end})

    def student_instructor_ids(self, student_id: int) -> list[int]:
        """The instructors a student is assigned to: those of their own lessons and those allocated to
        the courses of their active enrolments."""
        rows = self.db.fetch_all(
            "SELECT s.instructor_id AS id FROM schedules s JOIN enrollments e ON e.id = s.enrollment_id"
            " WHERE e.student_id = :student_id"
            " UNION SELECT ci.instructor_id AS id FROM course_instructor ci"
            " JOIN enrollments e ON e.course_id = ci.course_id"
            " WHERE e.student_id = :student_id AND e.status IN ('active', 'in_progress')",
            {"student_id": student_id})
        return [int(r["id"]) for r in rows]

    def student_branch(self, student_id: int) -> int | None:
        return self.db.fetch_value("SELECT branch_id FROM students WHERE id = :id", {"id": student_id})

    def bookable_instructors(self, student_id: int, branch_id: int | None,
                             within_branch: int | None = None) -> list[dict]:
        """The active instructors a student may book: their assigned ones (student_instructor_ids' rule)
        and, when ``branch_id`` is given (the policy lets students pick any), every instructor of that
        branch; only those of ``within_branch`` when given (a chain-wide course allocates thousands);
        by name, one statement."""
        assigned = (
            "SELECT s.instructor_id AS id FROM schedules s JOIN enrollments e ON e.id = s.enrollment_id"
            " WHERE e.student_id = :student_id"
            " UNION SELECT ci.instructor_id AS id FROM course_instructor ci"
            " JOIN enrollments e ON e.course_id = ci.course_id"
            " WHERE e.student_id = :student_id AND e.status IN ('active', 'in_progress')")
        if branch_id is not None:
            assigned += " UNION SELECT bi.id AS id FROM instructors bi WHERE bi.branch_id = :branch_id"
        # a derived table joined by id, not ``i.id IN (...)``: MariaDB runs that IN as a dependent
        # subquery once per instructor of the chain (2,000 probes at scale L)
        return self.db.fetch_all(
            f"SELECT i.id, i.branch_id, u.first_name, u.last_name FROM ({assigned}) mine"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            " JOIN instructors i ON i.id = mine.id JOIN users u ON u.id = i.user_id"
            " WHERE u.status = 'active' AND (:within IS NULL OR i.branch_id = :within)"
            " ORDER BY u.first_name, u.last_name, i.id",
            {"student_id": student_id, "branch_id": branch_id, "within": within_branch})

    # ------------------------------------------------------------------ a student's instructors at once

    def instructors_of(self, ids: list[int]) -> list[dict]:
        """What the engine needs of each of these instructors (branch, accreditation, the branch's zone,
        whether they have working hours), in id order, one statement."""
        if not ids:
            return []
        fragment, params = self.db.in_params("iid", ids)
        return self.db.fetch_all(
            "SELECT i.id AS instructor_id, i.branch_id, i.accreditation_expiry, b.timezone AS branch_timezone"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            " FROM instructors i LEFT JOIN branches b ON b.id = i.branch_id"
            f" WHERE i.id IN ({fragment}) ORDER BY i.id", params)

    def live_events_of(self, ids: list[int], first: date, last: date, student_id: int | None) -> list[dict]:
        """Live events dated first..last of these instructors (``instructor_id`` set) and of the student
        through their enrolments (``instructor_id`` NULL: they hold the student whoever teaches), one
        UNION ALL arm each on its own index."""
        fragment, params = self.db.in_params("iid", ids)
        live = ("s.scheduled_date BETWEEN :first AND :last"
                " AND s.status IN ('scheduled', 'completed', 'no_show')")
        arms = ["SELECT s.id, s.instructor_id, s.scheduled_date, s.start_time, s.end_time FROM schedules s"  # nosec B608 # interpolates only IN-list placeholders and fragments this code builds from constants; every value is a bound :parameter
                f" WHERE s.instructor_id IN ({fragment}) AND {live}"]
        if student_id is not None:
            arms.append("SELECT s.id, NULL AS instructor_id, s.scheduled_date, s.start_time, s.end_time"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                        " FROM schedules s JOIN enrollments se ON se.id = s.enrollment_id"
                        f" WHERE se.student_id = :student_id AND {live}")
        return self.db.fetch_all(" UNION ALL ".join(arms),
                                 {**params, "first": first, "last": last, "student_id": student_id})

    # ------------------------------------------------------------------ a whole branch at once

    def branch_instructors(self, branch_id: int) -> list[dict]:
        """The branch's active instructors with what the engine needs of each (accreditation)."""
        return self.db.fetch_all(
            "SELECT i.id AS instructor_id, i.branch_id, i.accreditation_expiry FROM instructors i"
            " JOIN users u ON u.id = i.user_id"
            " WHERE i.branch_id = :branch_id AND u.status = 'active' ORDER BY i.id",
            {"branch_id": branch_id})

    def branch_working_hours(self, branch_id: int) -> list[dict]:
        return self.db.fetch_all(
            "SELECT h.instructor_id, h.weekday, h.start_time, h.end_time FROM instructor_working_hours h"
            " JOIN instructors i ON i.id = h.instructor_id WHERE i.branch_id = :branch_id",
            {"branch_id": branch_id})

    def branch_unavailability(self, branch_id: int, start: datetime, end: datetime) -> list[dict]:
        return self.db.fetch_all(
            "SELECT w.instructor_id, w.start_datetime, w.end_datetime FROM instructors i"
            " JOIN instructor_unavailability w ON w.instructor_id = i.id"
            " WHERE i.branch_id = :branch_id AND w.start_datetime < :end AND w.end_datetime > :start",
            {"branch_id": branch_id, "start": start, "end": end})
