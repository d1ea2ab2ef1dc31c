"""UserSessionDAO: the server-side session registry (user_sessions)."""
from __future__ import annotations

from datetime import datetime

from app.dao.base import BaseDAO


class UserSessionDAO(BaseDAO):
    def create(self, user_id: int, token_hash: str, now: datetime, ip: str | None, user_agent: str | None,
               *, reauthenticated_at: datetime | None = None) -> int:
        return self.db.insert(
            "user_sessions",
            {
                "user_id": user_id,
                "token_hash": token_hash,
                "created_at": now,
                "last_seen_at": now,
                "ip_address": (ip or "")[:45] or None,
                "user_agent": (user_agent or "")[:255] or None,
                "reauthenticated_at": reauthenticated_at,
            },
        )

    def find_with_user(self, token_hash: str) -> dict | None:
        """The session and its user in one query (every authenticated request runs this), with the user's
        instructor or student profile id (the Actor's scope; the lowest id, as InstructorDAO.id_for_user and
        StudentDAO.id_for_user), so no request needs a second statement to know who is asking."""
        return self.db.fetch_one(
            "SELECT s.id AS session_id, s.created_at AS session_created_at, s.last_seen_at,"
            " s.second_factor_at, s.reauthenticated_at,"
            " u.id, u.role, u.first_name, u.last_name, u.email, u.status, u.branch_id,"
            " f.enabled_at AS second_factor_enabled_at,"
            " CASE WHEN u.role = 'instructor' THEN (SELECT MIN(i.id) FROM instructors i WHERE i.user_id = u.id)"
            " END AS instructor_profile_id,"
            " CASE WHEN u.role = 'student' THEN (SELECT MIN(st.id) FROM students st WHERE st.user_id = u.id)"
            " END AS student_profile_id"
            " FROM user_sessions s JOIN users u ON u.id = s.user_id"
            " LEFT JOIN user_second_factors f ON f.user_id = u.id"
            " WHERE s.token_hash = :token_hash",
            {"token_hash": token_hash},
        )

    def touch(self, session_id: int, now: datetime) -> None:
        self.db.execute("UPDATE user_sessions SET last_seen_at = :now WHERE id = :id", {"now": now, "id": session_id})

    def replace_token(self, session_id: int, token_hash: str) -> int:
        """A new token for the same session (the old cookie stops working at once)."""
        return self.db.execute("UPDATE user_sessions SET token_hash = :token_hash WHERE id = :id",
                               {"token_hash": token_hash, "id": session_id}).rowcount

    def set_reauthenticated(self, session_id: int, now: datetime) -> int:
        return self.db.execute("UPDATE user_sessions SET reauthenticated_at = :now WHERE id = :id",
                               {"now": now, "id": session_id}).rowcount

    def list_active_for_user(self, user_id: int, seen_after: datetime, created_after: datetime) -> list[dict]:
        """The user's sessions still within the idle and absolute limits, most recently seen first."""
        return self.db.fetch_all(
            "SELECT id, created_at, last_seen_at, ip_address, user_agent FROM user_sessions"
            " WHERE user_id = :user_id AND last_seen_at >= :seen_after AND created_at >= :created_after"
            " ORDER BY last_seen_at DESC, id DESC",
            {"user_id": user_id, "seen_after": seen_after, "created_after": created_after},
        )

    def delete_of_user(self, user_id: int, session_id: int) -> int:
        """Delete one session only if it belongs to ``user_id`` (0 otherwise: someone else's or gone)."""
        return self.db.execute("DELETE FROM user_sessions WHERE id = :id AND user_id = :user_id",
                               {"id": session_id, "user_id": user_id}).rowcount

    def delete_others(self, user_id: int, keep_session_id: int) -> int:
        """Every session of the user except ``keep_session_id`` (sign out everywhere else)."""
        return self.db.execute("DELETE FROM user_sessions WHERE user_id = :user_id AND id <> :keep",
                               {"user_id": user_id, "keep": keep_session_id}).rowcount

    def delete(self, session_id: int) -> int:
        return self.db.execute("DELETE FROM user_sessions WHERE id = :id", {"id": session_id}).rowcount

    def delete_by_hash(self, token_hash: str) -> int:
        return self.db.execute(
            "DELETE FROM user_sessions WHERE token_hash = :token_hash", {"token_hash": token_hash}
        ).rowcount

    def delete_for_user(self, user_id: int) -> int:
        return self.db.execute("DELETE FROM user_sessions WHERE user_id = :user_id", {"user_id": user_id}).rowcount

    def count_for_user(self, user_id: int) -> int:
        return self.db.fetch_value(
            "SELECT COUNT(*) AS n FROM user_sessions WHERE user_id = :user_id", {"user_id": user_id}, cast=int
        )

    def delete_expired(self, idle_before: datetime, created_before: datetime, limit: int = 1000) -> int:
        """Delete up to ``limit`` sessions last seen before ``idle_before`` or created before
        ``created_before`` (the idle and absolute expiries); returns how many went.

        The ids are read first and deleted by primary key (re-checking the expiry), so a batch locks
        only its own rows, not every row a full scan would pass (sign-ins keep writing meanwhile).
        """
        params = {"idle_before": idle_before, "created_before": created_before}
        condition = "(last_seen_at < :idle_before OR created_at < :created_before)"
        rows = self.db.fetch_all(
            f"SELECT id FROM user_sessions WHERE {condition} ORDER BY id LIMIT :limit",  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            {**params, "limit": int(limit)},
        )
        if not rows:
            return 0
        placeholders, id_params = self.db.in_params("id", [r["id"] for r in rows])
        return self.db.execute(
            f"DELETE FROM user_sessions WHERE id IN ({placeholders}) AND {condition}", {**params, **id_params}  # nosec B608 # interpolates only IN-list placeholders of db.in_params, fragments this code builds from constants; every value is a bound :parameter
        ).rowcount
