"""EventDAO: the reads of one event's pages (services/event_pages.py): the event page's row with every
name joined in, and the option lists of the booking and move forms (one statement each, whatever the
branch's size). Writes belong to BookingDAO (services/scheduling.py)."""
from __future__ import annotations

from typing import Any

from app.dao.base import BaseDAO, like_pattern, profile_ids

ACTIVE_ENROLMENT = ("active", "in_progress")
MAX_SEARCH_TERMS = 4


class EventDAO(BaseDAO):
    def event(self, schedule_id: int) -> dict | None:
        """One schedules row with its student (name, phone, branch), course, instructor (name, branch),
        vehicle (name, plate, branch), branch (name, time zone), who cancelled it and who recorded the
        outcome (names and their profile ids, for links); None when there is no such event."""
        return self.db.fetch_one(
            "SELECT s.id, s.enrollment_id, s.instructor_id, s.vehicle_id, s.branch_id, s.event_type,"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            " s.scheduled_date, s.start_time, s.end_time, s.status, s.lesson_topic, s.notes, s.pickup_location,"
            " s.student_rating, s.student_feedback, s.completion_marked_by, s.completion_marked_at,"
            " s.cancelled_at, s.cancelled_by, s.cancel_reason, s.created_at,"
            " e.student_id, e.course_id, c.title AS course_title,"
            " st.branch_id AS student_branch_id, su.first_name AS student_first_name,"
            " su.last_name AS student_last_name, su.phone AS student_phone,"
            " i.branch_id AS instructor_branch_id, iu.first_name AS instructor_first_name,"
            " iu.last_name AS instructor_last_name,"
            " v.name AS vehicle_name, v.plate_number AS vehicle_plate, v.branch_id AS vehicle_branch_id,"
            " b.name AS branch_name, b.timezone AS branch_timezone,"
            " cu.first_name AS cancelled_by_first_name, cu.last_name AS cancelled_by_last_name,"
            " mu.first_name AS marked_by_first_name, mu.last_name AS marked_by_last_name,"
            f" {profile_ids('cu', 'cancelled_by')}, {profile_ids('mu', 'marked_by')}"
            " FROM schedules s"
            " JOIN enrollments e ON e.id = s.enrollment_id"
            " JOIN students st ON st.id = e.student_id"
            " JOIN users su ON su.id = st.user_id"
            " LEFT JOIN courses c ON c.id = e.course_id"
            " LEFT JOIN instructors i ON i.id = s.instructor_id"
            " LEFT JOIN users iu ON iu.id = i.user_id"
            " LEFT JOIN vehicles v ON v.id = s.vehicle_id"
            " LEFT JOIN branches b ON b.id = COALESCE(s.branch_id, st.branch_id)"
            " LEFT JOIN users cu ON cu.id = s.cancelled_by"
            " LEFT JOIN users mu ON mu.id = s.completion_marked_by"
            " WHERE s.id = :id",
            {"id": schedule_id},
        )

    def party_branches(self, instructor_id: int | None, student_id: int | None, vehicle_id: int | None) -> dict:
        """The branch of each given party (NULL for an unknown id): one row from a one-row base."""
        return self.db.fetch_one(
            "SELECT i.branch_id AS instructor_branch_id, st.branch_id AS student_branch_id,"
            " v.branch_id AS vehicle_branch_id"
            " FROM (SELECT 1 AS one) base"
            " LEFT JOIN instructors i ON i.id = :instructor_id"
            " LEFT JOIN students st ON st.id = :student_id"
            " LEFT JOIN vehicles v ON v.id = :vehicle_id",
            {"instructor_id": instructor_id, "student_id": student_id, "vehicle_id": vehicle_id},
        ) or {}

    def student_options(self, branch_id: int, query: str = "", *, include_id: int | None = None,
                        limit: int = 200, only_include: bool = False) -> list[dict]:
        """The branch's students with an active account and an active enrolment, by name (at most
        ``limit``): those matching every word of ``query`` (first name, last name or e-mail), plus the
        student ``include_id`` when it is one of them, whatever the query (it comes first, so the limit
        never drops it; the caller re-sorts by name). ``only_include``: that student alone (a key lookup)."""
        params: dict[str, Any] = {"branch_id": branch_id, "include_id": include_id, "limit": int(limit)}
        terms = []
        for n, word in enumerate(query.split()[:MAX_SEARCH_TERMS]):
            params[f"q{n}"] = like_pattern(word)
            terms.append(f"(u.first_name LIKE :q{n} ESCAPE '!' OR u.last_name LIKE :q{n} ESCAPE '!'"
                         f" OR u.email LIKE :q{n} ESCAPE '!')")
        matches = "1 = 0" if only_include else (" AND ".join(terms) if terms else "1 = 1")
        return self.db.fetch_all(
            "SELECT st.id, u.first_name, u.last_name, u.email"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            " FROM students st JOIN users u ON u.id = st.user_id"
            " WHERE st.branch_id = :branch_id AND u.status = 'active'"
            " AND EXISTS (SELECT 1 FROM enrollments e WHERE e.student_id = st.id"
            "   AND e.status IN ('active', 'in_progress'))"
            f" AND (({matches}) OR st.id = :include_id)"
            " ORDER BY CASE WHEN st.id = :include_id THEN 0 ELSE 1 END, u.last_name, u.first_name, st.id"
            " LIMIT :limit",
            params,
        )

    def instructor_options(self, branch_id: int, *, include_id: int | None = None) -> list[dict]:
        """The branch's instructors with an active account, by name, plus the instructor ``include_id``
        of that branch whatever their account (an event's own instructor, archived since)."""
        return self.db.fetch_all(
            "SELECT i.id, u.first_name, u.last_name, u.status"
            " FROM instructors i JOIN users u ON u.id = i.user_id"
            " WHERE i.branch_id = :branch_id AND (u.status = 'active' OR i.id = :include_id)"
            " ORDER BY u.last_name, u.first_name, i.id",
            {"branch_id": branch_id, "include_id": include_id},
        )

    def vehicle_options(self, branch_id: int) -> list[dict]:
        """The branch's vehicles (every status: the conflict engine names an unavailable one), by name."""
        return self.db.fetch_all(
            "SELECT id, name, plate_number, status FROM vehicles WHERE branch_id = :branch_id ORDER BY name, id",
            {"branch_id": branch_id},
        )

    def reminders(self, schedule_id: int, limit: int = 5) -> list[dict]:
        """The event's reminders (any status), newest first: what the office checks after booking."""
        return self.db.fetch_all(
            "SELECT id, channel, reminder_type, status, send_at, send_on, message FROM reminders"
            " WHERE related_type = 'schedule' AND related_id = :id ORDER BY id DESC LIMIT :limit",
            {"id": schedule_id, "limit": int(limit)},
        )
