"""LoginAttemptDAO: per-account login history used for throttling (login_attempts)."""
from __future__ import annotations

from datetime import datetime

from app.dao.base import BaseDAO, as_datetime
from app.dao.user import normalize_email


class LoginAttemptDAO(BaseDAO):
    # E-mails are normalised here as in UserDAO: MariaDB compares them case- and trailing-space-
    # insensitively, SQLite exactly, so un-normalised keys would throttle differently per backend.

    def record(self, email: str, user_id: int | None, ip: str | None, succeeded: bool, now: datetime) -> int:
        return self.db.insert(
            "login_attempts",
            {
                "email": normalize_email(email)[:160],
                "user_id": user_id,
                "ip_address": (ip or "")[:45] or None,
                "succeeded": 1 if succeeded else 0,
                "attempted_at": now,
            },
        )

    def mark_succeeded(self, attempt_id: int) -> int:
        """Turn an attempt recorded as a failure (before its password was verified) into a success."""
        return self.db.execute(
            "UPDATE login_attempts SET succeeded = 1 WHERE id = :id", {"id": attempt_id}
        ).rowcount

    def failures_since(self, email: str, since: datetime) -> dict:
        """Failures for this e-mail at or after ``since`` and after its last success: count and latest time."""
        row = self.db.fetch_one(
            "SELECT COUNT(*) AS failures, MAX(f.attempted_at) AS latest FROM login_attempts f"
            " WHERE f.email = :email AND f.succeeded = 0 AND f.attempted_at >= :since"
            " AND NOT EXISTS (SELECT 1 FROM login_attempts s"
            "   WHERE s.email = f.email AND s.succeeded = 1 AND s.attempted_at >= f.attempted_at)",
            {"email": normalize_email(email)[:160], "since": since},
        )
        return {"failures": int(row["failures"] or 0), "latest": as_datetime(row["latest"])}

    def failures_from_ip(self, ip: str, since: datetime) -> dict:
        """Failed attempts from one client address since ``since`` (any account): count and latest time."""
        row = self.db.fetch_one(
            "SELECT COUNT(*) AS failures, MAX(attempted_at) AS latest FROM login_attempts"
            " WHERE ip_address = :ip AND succeeded = 0 AND attempted_at >= :since",
            {"ip": ip[:45], "since": since},
        )
        return {"failures": int(row["failures"] or 0), "latest": as_datetime(row["latest"])}

    def purge_before(self, cutoff: datetime, limit: int = 1000) -> int:
        """Delete up to ``limit`` attempts made before ``cutoff``; returns how many went.

        No index leads with attempted_at, so a plain range DELETE would scan (and on InnoDB lock)
        the whole table while sign-ins insert into it: read a batch of ids, delete those by key.
        """
        rows = self.db.fetch_all(
            "SELECT id FROM login_attempts WHERE attempted_at < :cutoff ORDER BY id LIMIT :limit",
            {"cutoff": cutoff, "limit": int(limit)},
        )
        if not rows:
            return 0
        placeholders, params = self.db.in_params("id", [r["id"] for r in rows])
        return self.db.execute(
            f"DELETE FROM login_attempts WHERE id IN ({placeholders}) AND attempted_at < :cutoff",  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            {**params, "cutoff": cutoff},
        ).rowcount
