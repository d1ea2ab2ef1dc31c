"""EnrollmentDAO (PHP EnrollmentModel): enrolments, their lifecycle and the progress read.

Progress is derived on read: completed lessons of the enrolment over the course's lesson count
(``completed_lessons``); the stored ``progress_percentage`` is kept in step when the status changes.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable

from app.core.params import valid_id
from app.dao.base import BaseDAO, money

_COMPLETED = ("(SELECT COUNT(*) FROM schedules cs WHERE cs.enrollment_id = e.id AND cs.status = 'completed'"
              " AND cs.event_type = 'lesson') AS completed_lessons")


class EnrollmentDAO(BaseDAO):
    def insert(self, student_id: int, course_id: int, start_date: date, notes: str | None, now: datetime) -> int:
        return self.db.insert("enrollments", {
            "student_id": student_id, "course_id": course_id, "start_date": start_date, "status": "active",
            "progress_percentage": 0, "notes": notes, "created_at": now, "updated_at": now})

    def find(self, enrollment_id: int) -> dict | None:
        """The enrolment with its student's branch and account, its course and its completed lessons."""
        if not valid_id(enrollment_id):
            return None
        row = self.db.fetch_one(
            "SELECT e.id, e.student_id, e.course_id, e.start_date, e.status, e.progress_percentage, e.notes,"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            " e.created_at, e.updated_at, s.branch_id, s.user_id, u.first_name, u.last_name, b.name AS branch_name,"
            f" c.title AS course_title, c.lesson_count, c.price AS course_price, {_COMPLETED}"
            " FROM enrollments e JOIN students s ON s.id = e.student_id JOIN users u ON u.id = s.user_id"
            " JOIN courses c ON c.id = e.course_id LEFT JOIN branches b ON b.id = s.branch_id WHERE e.id = :id",
            {"id": enrollment_id})
        if row is not None:
            row["course_price"] = money(row["course_price"])
            row["completed_lessons"] = int(row["completed_lessons"] or 0)
        return row

    def lock(self, enrollment_id: int) -> dict | None:
        if not valid_id(enrollment_id):
            return None
        return self.db.fetch_one("SELECT id, student_id, course_id, status FROM enrollments WHERE id = :id"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
                                 + self.db.for_update, {"id": enrollment_id})

    def completed_counts(self, enrollment_ids: Iterable[int]) -> dict[int, dict]:
        """{enrolment id: {"completed", "lesson_count"}} for many enrolments in one statement."""
        ids = [i for i in enrollment_ids if valid_id(i)]
        if not ids:
            return {}
        placeholders, params = self.db.in_params("e", ids)
        rows = self.db.fetch_all(
            f"SELECT e.id, c.lesson_count, {_COMPLETED} FROM enrollments e JOIN courses c ON c.id = e.course_id"  # nosec B608 # interpolates only IN-list placeholders of db.in_params, module constants; every value is a bound :parameter
            f" WHERE e.id IN ({placeholders})", params)
        return {int(r["id"]): {"completed": int(r["completed_lessons"] or 0), "lesson_count": int(r["lesson_count"] or 0)}
                for r in rows}

    def lessons(self, enrollment_id: int, limit: int = 50) -> list[dict]:
        return self.db.fetch_all(
            "SELECT sc.id, sc.event_type, sc.scheduled_date, sc.start_time, sc.end_time, sc.status, sc.instructor_id,"
            " sc.branch_id, u.first_name AS instructor_first_name, u.last_name AS instructor_last_name"
            " FROM schedules sc LEFT JOIN instructors i ON i.id = sc.instructor_id LEFT JOIN users u ON u.id = i.user_id"
            " WHERE sc.enrollment_id = :id ORDER BY sc.scheduled_date DESC, sc.start_time DESC, sc.id DESC LIMIT :limit",
            {"id": enrollment_id, "limit": int(limit)})

    def open_for(self, student_id: int, course_id: int) -> int | None:
        """An active or in-progress enrolment of the student in the course, if any."""
        return self.db.fetch_value(
            "SELECT id FROM enrollments WHERE student_id = :s AND course_id = :c AND status IN ('active', 'in_progress')"
            " ORDER BY id LIMIT 1", {"s": student_id, "c": course_id})

    def set_status(self, enrollment_id: int, status: str, progress: int, now: datetime) -> int:
        return self.db.execute(
            "UPDATE enrollments SET status = :status, progress_percentage = :p, updated_at = :now WHERE id = :id",
            {"status": status, "p": int(progress), "now": now, "id": enrollment_id}).rowcount

    def lock_student(self, student_id: int) -> dict | None:
        if not valid_id(student_id):
            return None
        return self.db.fetch_one("SELECT id, user_id, branch_id FROM students WHERE id = :id" + self.db.for_update,  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
                                 {"id": student_id})

    def move_student(self, student_id: int, user_id: int, branch_id: int, now: datetime) -> None:
        """The student's branch (profile and account together)."""
        self.db.execute("UPDATE students SET branch_id = :b, updated_at = :now WHERE id = :id",
                        {"b": branch_id, "now": now, "id": student_id})
        self.db.execute("UPDATE users SET branch_id = :b, updated_at = :now WHERE id = :id AND role = 'student'",
                        {"b": branch_id, "now": now, "id": user_id})

    def branch(self, branch_id: int) -> dict[str, Any] | None:
        if not valid_id(branch_id):
            return None
        return self.db.fetch_one("SELECT id, name FROM branches WHERE id = :id", {"id": branch_id})
