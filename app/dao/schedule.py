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
        """Scheduled lessons from today on, with names joined in (no per-row look-ups)."""
        return self.db.fetch_all(
            "SELECT sc.id, sc.scheduled_date, sc.start_time, sc.end_time, sc.event_type, sc.status,"
            " sc.lesson_topic, c.title AS course_title,"
            " su.first_name AS student_first_name, su.last_name AS student_last_name,"
            " iu.first_name AS instructor_first_name, iu.last_name AS instructor_last_name,"
            " v.name AS vehicle_name, b.name AS branch_name"
            " FROM schedules sc"
            " JOIN enrollments e ON e.id = sc.enrollment_id"
            " JOIN courses c ON c.id = e.course_id"
            " JOIN students st ON st.id = e.student_id"
            " JOIN users su ON su.id = st.user_id"
            " JOIN instructors i ON i.id = sc.instructor_id"
            " JOIN users iu ON iu.id = i.user_id"
            " LEFT JOIN vehicles v ON v.id = sc.vehicle_id"
            " LEFT JOIN branches b ON b.id = sc.branch_id"
            " WHERE sc.scheduled_date >= :today AND sc.status = 'scheduled'"
            " AND (:instructor_id IS NULL OR sc.instructor_id = :instructor_id)"
            " AND (:student_id IS NULL OR e.student_id = :student_id)"
            " AND (:branch_id IS NULL OR sc.branch_id = :branch_id)"
            " ORDER BY sc.scheduled_date, sc.start_time, sc.id"
            " LIMIT :limit",
            {
                "today": today,
                "limit": int(limit),
                "instructor_id": instructor_id,
                "student_id": student_id,
                "branch_id": branch_id,
            },
        )
