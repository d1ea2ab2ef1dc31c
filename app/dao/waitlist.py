"""WaitlistDAO: the gap filler's tables (migration 0015): students' "offer me earlier slots" preferences
and the offers of a cancelled lesson's slot (services/waitlist.py holds the rules).

``matching_students`` is the one set-based query behind a cancellation: every condition a waiting
student must meet is a clause of one statement (no per-student query).
"""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Mapping

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO

PREFERENCE_COLUMNS = ("active", "weekdays", "earliest_time", "latest_time", "opted_in_at", "updated_at")
OFFER_COLUMNS = ("schedule_id", "student_id", "branch_id", "instructor_id", "vehicle_id", "slot_date", "start_time",
                 "end_time", "status", "expires_at", "created_at")
# Events that hold their slot (conflicts.LIVE_STATUSES)
_LIVE = "('scheduled', 'completed', 'no_show')"
_ACTIVE_ENROLMENT = "('active', 'in_progress')"


class WaitlistDAO(BaseDAO):
    # ------------------------------------------------------------------ preferences

    def preferences(self, student_id: int) -> dict | None:
        return self.db.fetch_one(
            "SELECT student_id, active, weekdays, earliest_time, latest_time, opted_in_at, updated_at"
            " FROM waitlist_preferences WHERE student_id = :id", {"id": student_id})

    def lock_preferences(self, student_id: int) -> dict | None:
        """The student's preferences row, locked (None when they never saved any)."""
        return self.db.fetch_one(
            "SELECT student_id, active, opted_in_at FROM waitlist_preferences"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            f" WHERE student_id = :id{self.db.for_update}", {"id": student_id})

    def save_preferences(self, student_id: int, row: Mapping[str, Any], *, exists: bool) -> None:
        unknown = set(row) - set(PREFERENCE_COLUMNS)
        if unknown:
            raise ValueError(f"not a preference column: {sorted(unknown)}")
        if not exists:
            self.db.insert("waitlist_preferences", {"student_id": student_id, **row})
            return
        assignments = ", ".join(f"{c} = :{c}" for c in row)
        self.db.execute(f"UPDATE waitlist_preferences SET {assignments} WHERE student_id = :student_id",  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
                        {**row, "student_id": student_id})

    # ------------------------------------------------------------------ a freed slot

    def slot_context(self, instructor_id: int, branch_id: int | None) -> dict:
        """The instructor (name, branch, whether their account is active) and the slot's branch (time
        zone), from a one-row base so missing ids give NULL columns."""
        return self.db.fetch_one(
            "SELECT i.id AS instructor_id, i.branch_id AS instructor_branch_id, iu.first_name, iu.last_name,"
            " iu.status AS instructor_status, b.id AS branch_id, b.timezone AS branch_timezone"
            " FROM (SELECT 1 AS one) base"
            " LEFT JOIN instructors i ON i.id = :instructor_id"
            " LEFT JOIN users iu ON iu.id = i.user_id"
            " LEFT JOIN branches b ON b.id = :branch_id",
            {"instructor_id": instructor_id, "branch_id": branch_id}) or {}

    def matching_students(self, *, schedule_id: int, branch_id: int, own_student_id: int | None, weekday: int,
                          slot_date: date, start: time, end: time, instructor_id: int, any_instructor: bool,
                          week_first: date, week_last: date, weekly_limit: int, limit: int) -> list[dict]:
        """The students to offer a freed slot to, earliest opted-in first, at most ``limit``, in one
        statement: of ``branch_id`` (active account), opted in, the weekday (0 = Monday) in their mask and
        the slot inside their earliest..latest window, an active enrolment, the instructor one they may
        book (one of their lessons' or their active courses' instructors, or any when ``any_instructor``:
        availability._may_see's rule for students), fewer than ``weekly_limit`` live lessons in the week
        ``week_first``..``week_last``, no live event of their own overlapping the slot, not the cancelled
        lesson's own student and not offered this slot already."""
        return self.db.fetch_all(
            "SELECT wp.student_id, st.user_id FROM waitlist_preferences wp"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            " JOIN students st ON st.id = wp.student_id"
            " JOIN users u ON u.id = st.user_id"
            " WHERE wp.active = 1 AND st.branch_id = :branch_id AND u.status = 'active'"
            " AND wp.student_id <> :own_student_id"
            " AND SUBSTR(wp.weekdays, :weekday_position, 1) = '1'"
            " AND wp.earliest_time <= :start AND wp.latest_time >= :end"
            " AND EXISTS (SELECT 1 FROM enrollments ae WHERE ae.student_id = wp.student_id"
            f"   AND ae.status IN {_ACTIVE_ENROLMENT})"
            " AND (:any_instructor = 1"
            "   OR EXISTS (SELECT 1 FROM schedules hs JOIN enrollments he ON he.id = hs.enrollment_id"
            "     WHERE he.student_id = wp.student_id AND hs.instructor_id = :instructor_id)"
            "   OR EXISTS (SELECT 1 FROM course_instructor ci JOIN enrollments ce ON ce.course_id = ci.course_id"
            "     WHERE ce.student_id = wp.student_id AND ci.instructor_id = :instructor_id"
            f"     AND ce.status IN {_ACTIVE_ENROLMENT}))"
            " AND (SELECT COUNT(*) FROM schedules ws JOIN enrollments we ON we.id = ws.enrollment_id"
            "   WHERE we.student_id = wp.student_id AND ws.scheduled_date >= :week_first"
            f"   AND ws.scheduled_date <= :week_last AND ws.status IN {_LIVE}"
            "   AND (ws.event_type IS NULL OR ws.event_type = 'lesson')) < :weekly_limit"
            " AND NOT EXISTS (SELECT 1 FROM schedules os JOIN enrollments oe ON oe.id = os.enrollment_id"
            "   WHERE oe.student_id = wp.student_id AND os.scheduled_date = :slot_date"
            f"   AND os.status IN {_LIVE} AND os.start_time < :end AND os.end_time > :start)"
            " AND NOT EXISTS (SELECT 1 FROM gap_offers go WHERE go.schedule_id = :schedule_id"
            "   AND go.student_id = wp.student_id)"
            " ORDER BY wp.opted_in_at, wp.student_id LIMIT :limit",
            {"schedule_id": schedule_id, "branch_id": branch_id, "own_student_id": own_student_id or 0,
             "weekday_position": weekday + 1, "slot_date": slot_date, "start": start, "end": end,
             "instructor_id": instructor_id, "any_instructor": 1 if any_instructor else 0,
             "week_first": week_first, "week_last": week_last, "weekly_limit": int(weekly_limit),
             "limit": int(limit)})

    def insert_offer(self, row: Mapping[str, Any]) -> int:
        unknown = set(row) - set(OFFER_COLUMNS)
        if unknown:
            raise ValueError(f"not an offer column: {sorted(unknown)}")
        return self.db.insert("gap_offers", row)

    # ------------------------------------------------------------------ a student's offers

    def offers_page(self, student_id: int, query: ListQuery, now: datetime) -> Page:
        """The student's offers, the newest slot first, with the instructor's name, the booked lesson and
        ``shown_status``: the stored status, except that an open offer past ``expires_at`` reads
        ``expired`` and one whose instructor has a live event overlapping the slot reads ``taken``."""
        params = {"student_id": student_id, "now": now}
        from_where = "FROM gap_offers o WHERE o.student_id = :student_id"
        columns = (
            "o.id, o.schedule_id, o.student_id, o.branch_id, o.instructor_id, o.vehicle_id, o.slot_date,"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            " o.start_time, o.end_time, o.status, o.expires_at, o.created_at, o.answered_at, o.booked_schedule_id,"
            " iu.first_name AS instructor_first_name, iu.last_name AS instructor_last_name,"
            " v.name AS vehicle_name, b.name AS branch_name, b.timezone AS branch_timezone,"
            " CASE WHEN o.status <> 'offered' THEN o.status"
            "   WHEN o.expires_at <= :now THEN 'expired'"
            "   WHEN EXISTS (SELECT 1 FROM schedules ts WHERE ts.instructor_id = o.instructor_id"
            f"     AND ts.scheduled_date = o.slot_date AND ts.status IN {_LIVE}"
            "     AND ts.start_time < o.end_time AND ts.end_time > o.start_time) THEN 'taken'"
            "   ELSE 'offered' END AS shown_status")
        joins = ("JOIN gap_offers o ON o.id = pick.pick_id"
                 " JOIN instructors i ON i.id = o.instructor_id"
                 " JOIN users iu ON iu.id = i.user_id"
                 " LEFT JOIN vehicles v ON v.id = o.vehicle_id"
                 " LEFT JOIN branches b ON b.id = o.branch_id")
        order = "o.slot_date DESC, o.start_time DESC, o.id DESC"
        return self.fetch_page_picked(from_where, columns, joins, params, order, query, pick="o.id")

    def open_offer_count(self, student_id: int, now: datetime) -> int:
        """How many of the student's offers are still open (offered, not yet expired)."""
        return int(self.db.fetch_value(
            "SELECT COUNT(*) FROM gap_offers WHERE student_id = :student_id AND status = 'offered'"
            " AND expires_at > :now", {"student_id": student_id, "now": now}) or 0)

    def find_offer(self, offer_id: int) -> dict | None:
        return self.db.fetch_one(
            "SELECT id, schedule_id, student_id, branch_id, instructor_id, vehicle_id, slot_date, start_time,"
            " end_time, status, expires_at, booked_schedule_id FROM gap_offers WHERE id = :id", {"id": offer_id})

    # ------------------------------------------------------------------ accepting

    def lock_slot_offers(self, schedule_id: int) -> list[dict]:
        """Every offer of one freed slot, locked in index order (FOR UPDATE on MariaDB; on SQLite BEGIN
        IMMEDIATE serialises writers): parallel accepts of the same slot queue on the same rows in the same
        order, so the first to get them decides and the others then read ``taken``."""
        return self.db.fetch_all(
            "SELECT id, student_id, status, expires_at, booked_schedule_id FROM gap_offers"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            f" WHERE schedule_id = :schedule_id ORDER BY schedule_id, student_id{self.db.for_update}",
            {"schedule_id": schedule_id})

    def mark_accepted(self, offer_id: int, booked_schedule_id: int, now: datetime) -> int:
        return self.db.execute(
            "UPDATE gap_offers SET status = 'accepted', answered_at = :now, booked_schedule_id = :booked"
            " WHERE id = :id AND status = 'offered'",
            {"id": offer_id, "booked": booked_schedule_id, "now": now}).rowcount

    def mark_taken(self, schedule_id: int, except_offer_id: int, now: datetime) -> int:
        """The slot's other open offers become ``taken``."""
        return self.db.execute(
            "UPDATE gap_offers SET status = 'taken', answered_at = :now"
            " WHERE schedule_id = :schedule_id AND id <> :id AND status = 'offered'",
            {"schedule_id": schedule_id, "id": except_offer_id, "now": now}).rowcount
