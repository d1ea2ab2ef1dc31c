"""CalendarFeedDAO: secret iCalendar feed tokens (only their SHA-256 is stored) and the feed's events."""
from __future__ import annotations

from datetime import date, datetime

from app.dao.base import BaseDAO

OWNER_TYPES = ("instructor", "student")


class CalendarFeedDAO(BaseDAO):
    def owner(self, owner_type: str, owner_id: int, *, lock: bool = False) -> dict | None:
        """The instructor or student profile behind a feed: id, user_id, branch_id, first_name. ``lock``
        takes the profile row FOR UPDATE (MariaDB): two (re)issues for one owner then run one after the
        other, so exactly one token stays live."""
        table = {"instructor": "instructors", "student": "students"}[owner_type]
        if lock:
            self.db.fetch_one(f"SELECT id FROM {table} WHERE id = :id{self.db.for_update}", {"id": owner_id})  # nosec B608 # interpolates only fragments this code builds from constants, the backend's row-lock clause; every value is a bound :parameter
        return self.db.fetch_one(
            f"SELECT o.id, o.user_id, o.branch_id, u.first_name FROM {table} o JOIN users u ON u.id = o.user_id"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            " WHERE o.id = :id",
            {"id": owner_id},
        )

    def live(self, owner_type: str, owner_id: int) -> dict | None:
        """The owner's live (unrevoked) token row, if any."""
        return self.db.fetch_one(
            "SELECT id, created_at, created_by FROM calendar_feed_tokens WHERE owner_type = :owner_type"
            " AND owner_id = :owner_id AND revoked_at IS NULL ORDER BY id DESC LIMIT 1",
            {"owner_type": owner_type, "owner_id": owner_id},
        )

    def revoke_live(self, owner_type: str, owner_id: int, now: datetime) -> int:
        return self.db.execute(
            "UPDATE calendar_feed_tokens SET revoked_at = :now WHERE owner_type = :owner_type"
            " AND owner_id = :owner_id AND revoked_at IS NULL",
            {"now": now, "owner_type": owner_type, "owner_id": owner_id},
        ).rowcount

    def create(self, owner_type: str, owner_id: int, token_hash: str, created_by: int | None, now: datetime) -> int:
        if owner_type not in OWNER_TYPES:
            raise ValueError(f"unknown feed owner {owner_type!r}")
        return self.db.insert("calendar_feed_tokens", {
            "owner_type": owner_type, "owner_id": owner_id, "token_hash": token_hash, "created_at": now,
            "created_by": created_by, "revoked_at": None,
        })

    def find_live_by_hash(self, token_hash: str) -> dict | None:
        """The live token with this hash, with its owner's first name (one statement)."""
        return self.db.fetch_one(
            "SELECT t.id, t.owner_type, t.owner_id, COALESCE(iu.first_name, su.first_name) AS first_name"
            " FROM calendar_feed_tokens t"
            " LEFT JOIN instructors i ON t.owner_type = 'instructor' AND i.id = t.owner_id"
            " LEFT JOIN users iu ON iu.id = i.user_id"
            " LEFT JOIN students st ON t.owner_type = 'student' AND st.id = t.owner_id"
            " LEFT JOIN users su ON su.id = st.user_id"
            " WHERE t.token_hash = :token_hash AND t.revoked_at IS NULL",
            {"token_hash": token_hash},
        )

    def events(self, owner_type: str, owner_id: int, start: date, end: date, limit: int) -> list[dict]:
        """The owner's events dated ``start``..``end``, every status, with what a feed may show: one statement."""
        column = {"instructor": "s.instructor_id", "student": "e.student_id"}[owner_type]
        return self.db.fetch_all(
            "SELECT s.id, s.scheduled_date, s.start_time, s.end_time, s.status, s.event_type, s.lesson_topic,"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            " s.pickup_location, s.created_at, s.updated_at, b.timezone AS branch_timezone,"
            " su.first_name AS student_first_name,"
            " iu.first_name AS instructor_first_name, iu.last_name AS instructor_last_name"
            " FROM schedules s"
            " JOIN enrollments e ON e.id = s.enrollment_id"
            " JOIN students st ON st.id = e.student_id"
            " JOIN users su ON su.id = st.user_id"
            " JOIN instructors i ON i.id = s.instructor_id"
            " JOIN users iu ON iu.id = i.user_id"
            " LEFT JOIN branches b ON b.id = s.branch_id"
            f" WHERE {column} = :owner_id AND s.scheduled_date >= :start AND s.scheduled_date <= :end"
            " ORDER BY s.scheduled_date, s.start_time, s.id LIMIT :limit",
            {"owner_id": owner_id, "start": start, "end": end, "limit": int(limit)},
        )
