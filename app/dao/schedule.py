"""ScheduleDAO (PHP ScheduleModel): lessons, exams and assessments."""
from __future__ import annotations

from datetime import date

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
            "SELECT sc.id, sc.scheduled_date, sc.start_time, sc.end_time, sc.event_type, sc.status,"
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
