"""ScheduleDAO (PHP ScheduleModel): lessons, exams and assessments."""
from __future__ import annotations

from datetime import date, datetime, time

from app.dao.base import BaseDAO


class ScheduleDAO(BaseDAO):
    def upcoming(
        self,
        today: date,
        limit: int = 20,
        instructor_id: int | None = None,
        student_id: int | None = None,
        branch_id: int | None = None,
    ) -> list[dict]:
        """Scheduled lessons from today on, with names joined in (one query, no per-row look-ups).

        The lessons are chosen and limited first (index idx_schedule_status_date gives them in
        date and time order), then the few rows are joined to names: both optimisers keep that
        order, whatever the table sizes.
        """
        clauses = ["s.status = 'scheduled'", "s.scheduled_date >= :today"]
        params: dict = {"today": today, "limit": int(limit)}
        if instructor_id is not None:
            clauses.append("s.instructor_id = :instructor_id")
            params["instructor_id"] = instructor_id
        if branch_id is not None:
            clauses.append("s.branch_id = :branch_id")
            params["branch_id"] = branch_id
        if student_id is not None:
            clauses.append("s.enrollment_id IN (SELECT en.id FROM enrollments en WHERE en.student_id = :student_id)")
            params["student_id"] = student_id
        return self.db.fetch_all(
            "SELECT sc.id, sc.scheduled_date, sc.start_time, sc.end_time, sc.event_type, sc.status,"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            " sc.lesson_topic, c.title AS course_title, sc.instructor_id, sc.vehicle_id, sc.branch_id,"
            " e.student_id, e.course_id,"
            " su.first_name AS student_first_name, su.last_name AS student_last_name,"
            " iu.first_name AS instructor_first_name, iu.last_name AS instructor_last_name,"
            " v.name AS vehicle_name, b.name AS branch_name"
            " FROM (SELECT s.id, s.enrollment_id, s.instructor_id, s.vehicle_id, s.branch_id, s.scheduled_date,"
            "   s.start_time, s.end_time, s.event_type, s.status, s.lesson_topic FROM schedules s"
            f"   WHERE {' AND '.join(clauses)}"
            "   ORDER BY s.scheduled_date, s.start_time, s.branch_id, s.id LIMIT :limit) sc"
            " JOIN enrollments e ON e.id = sc.enrollment_id"
            " JOIN courses c ON c.id = e.course_id"
            " JOIN students st ON st.id = e.student_id"
            " JOIN users su ON su.id = st.user_id"
            " JOIN instructors i ON i.id = sc.instructor_id"
            " JOIN users iu ON iu.id = i.user_id"
            " LEFT JOIN vehicles v ON v.id = sc.vehicle_id"
            " LEFT JOIN branches b ON b.id = sc.branch_id"
            " ORDER BY sc.scheduled_date, sc.start_time, sc.branch_id, sc.id",
            params,
        )

    # ------------------------------------------------------------------ reads for the conflict engine
    # services/conflicts.py calls these; each is one statement whatever the data (no per-row look-ups).

    def conflict_parties(self, instructor_id: int, student_id: int, vehicle_id: int | None,
                         enrollment_id: int | None, course_id: int | None, branch_id: int | None) -> dict:
        """One row describing everyone a slot involves, from a one-row base so that a missing id gives
        NULL columns instead of no row: the instructor (name, accreditation), the student (name, branch),
        the vehicle (name, plate, status, service due), the given enrolment, the course (the given one,
        else the enrolment's), the slot's branch; plus the student's first active enrolment in that
        course, whether the instructor is allocated to it and how many working-hours rows the instructor
        has at all (none means "not set up yet"; the day's rows come from :meth:`working_hours_on`); the
        branch's time zone and how many structured opening-hours rows it has (none: no branch_closed
        rule; the day's rows come from ``BranchDAO.opening_hours``)."""
        return self.db.fetch_one(
            "SELECT i.id AS instructor_id, i.accreditation_expiry,"
            " iu.first_name AS instructor_first_name, iu.last_name AS instructor_last_name,"
            " st.id AS student_id, st.branch_id AS student_branch_id,"
            " su.first_name AS student_first_name, su.last_name AS student_last_name,"
            " sb.name AS student_branch_name,"
            " v.id AS vehicle_id, v.name AS vehicle_name, v.plate_number AS vehicle_plate,"
            " v.status AS vehicle_status, v.next_service_due,"
            " en.id AS enrollment_id, en.student_id AS enrollment_student_id,"
            " en.course_id AS enrollment_course_id, en.status AS enrollment_status,"
            " c.id AS course_id, c.title AS course_title,"
            " b.id AS branch_id, b.name AS branch_name, b.timezone AS branch_timezone,"
            " (SELECT COUNT(*) FROM branch_opening_hours bh WHERE bh.branch_id = b.id) AS opening_rows,"
            " (SELECT MIN(ae.id) FROM enrollments ae WHERE ae.student_id = st.id AND ae.course_id = c.id"
            "   AND ae.status IN ('active', 'in_progress')) AS active_enrollment_id,"
            " (SELECT COUNT(*) FROM course_instructor ci WHERE ci.course_id = c.id"
            "   AND ci.instructor_id = i.id) AS allocated,"
            " (SELECT COUNT(*) FROM instructor_working_hours wh WHERE wh.instructor_id = i.id) AS hours_rows"
            " FROM (SELECT 1 AS one) base"
            " LEFT JOIN instructors i ON i.id = :instructor_id"
            " LEFT JOIN users iu ON iu.id = i.user_id"
            " LEFT JOIN students st ON st.id = :student_id"
            " LEFT JOIN users su ON su.id = st.user_id"
            " LEFT JOIN branches sb ON sb.id = st.branch_id"
            " LEFT JOIN vehicles v ON v.id = :vehicle_id"
            " LEFT JOIN enrollments en ON en.id = :enrollment_id"
            " LEFT JOIN courses c ON c.id = COALESCE(:course_id, en.course_id)"
            " LEFT JOIN branches b ON b.id = :branch_id",
            {"instructor_id": instructor_id, "student_id": student_id, "vehicle_id": vehicle_id,
             "enrollment_id": enrollment_id, "course_id": course_id, "branch_id": branch_id},
        ) or {}

    def live_overlaps(self, day: date, start: time, end: time, instructor_id: int, student_id: int,
                      vehicle_id: int | None, ignore_id: int | None = None) -> list[dict]:
        """Live events (scheduled or completed) on ``day`` overlapping [start, end) that share the
        instructor, the vehicle or the student (through the enrolment), one UNION ALL arm each so every
        arm uses its own index. ``kind`` says which arm matched; an event sharing two of them comes
        back once per arm. Touching intervals do not overlap. ``ignore_id`` (a move) is left out."""
        live = ("s.scheduled_date = :day AND s.status IN ('scheduled', 'completed', 'no_show')"
                " AND s.start_time < :end AND s.end_time > :start")
        if ignore_id is not None:
            live += " AND s.id <> :ignore_id"
        columns = "s.id, s.event_type, s.start_time, s.end_time, s.instructor_id, s.vehicle_id"
        arms = [
            f"SELECT 'instructor' AS kind, {columns} FROM schedules s"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            f" WHERE s.instructor_id = :instructor_id AND {live}",
            f"SELECT 'student' AS kind, {columns} FROM schedules s"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            f" JOIN enrollments se ON se.id = s.enrollment_id WHERE se.student_id = :student_id AND {live}",
        ]
        if vehicle_id is not None:
            arms.insert(1, f"SELECT 'vehicle' AS kind, {columns} FROM schedules s"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                           f" WHERE s.vehicle_id = :vehicle_id AND {live}")
        params = {"day": day, "start": start, "end": end, "instructor_id": instructor_id,
                  "student_id": student_id, "vehicle_id": vehicle_id, "ignore_id": ignore_id}
        return self.db.fetch_all(" UNION ALL ".join(arms) + " ORDER BY start_time, id, kind", params)

    def unavailability_overlapping(self, instructor_id: int, start: datetime, end: datetime) -> list[dict]:
        """The instructor's unavailability windows overlapping [start, end) (wall-clock datetimes)."""
        return self.db.fetch_all(
            "SELECT w.id, w.start_datetime, w.end_datetime, w.reason FROM instructor_unavailability w"
            " WHERE w.instructor_id = :instructor_id AND w.start_datetime < :end AND w.end_datetime > :start"
            " ORDER BY w.start_datetime, w.id",
            {"instructor_id": instructor_id, "start": start, "end": end},
        )

    def downtime_overlapping(self, vehicle_id: int, start: datetime, end: datetime) -> list[dict]:
        """The vehicle's downtime windows overlapping [start, end) (wall-clock datetimes)."""
        return self.db.fetch_all(
            "SELECT d.id, d.start_datetime, d.end_datetime, d.reason FROM vehicle_downtime d"
            " WHERE d.vehicle_id = :vehicle_id AND d.start_datetime < :end AND d.end_datetime > :start"
            " ORDER BY d.start_datetime, d.id",
            {"vehicle_id": vehicle_id, "start": start, "end": end},
        )

    def working_hours_on(self, instructor_id: int, weekday: int) -> list[dict]:
        """The instructor's working-hours rows for ``weekday`` (0 = Monday), earliest first."""
        return self.db.fetch_all(
            "SELECT h.start_time, h.end_time FROM instructor_working_hours h"
            " WHERE h.instructor_id = :instructor_id AND h.weekday = :weekday ORDER BY h.start_time, h.id",
            {"instructor_id": instructor_id, "weekday": weekday},
        )
