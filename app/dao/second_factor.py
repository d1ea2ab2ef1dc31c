"""SecondFactorDAO and RecoveryCodeDAO: the TOTP factor (user_second_factors), its single-use recovery
codes (recovery_codes) and the session flag a passed second step sets (user_sessions.second_factor_at).

The seed in ``secret`` is stored encrypted (services.second_factor encrypts and decrypts it; this layer
never sees the plain seed), recovery codes only as SHA-256.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from app.dao.base import BaseDAO

_COLUMNS = "user_id, secret, enabled_at, last_used_step, created_at"


class SecondFactorDAO(BaseDAO):
    def find(self, user_id: int, *, lock: bool = False) -> dict | None:
        """The user's factor row (pending or enabled). ``lock=True`` inside a transaction holds the row
        (FOR UPDATE on MariaDB; SQLite's BEGIN IMMEDIATE already serialises writers) until it ends, so two
        submissions of one code are checked one after the other."""
        return self.db.fetch_one(
            f"SELECT {_COLUMNS} FROM user_second_factors WHERE user_id = :user_id"  # nosec B608 # interpolates only module constants, the backend's row-lock clause; every value is a bound :parameter
            + (self.db.for_update if lock else ""),
            {"user_id": user_id},
        )

    def is_enabled(self, user_id: int) -> bool:
        return self.db.fetch_value(
            "SELECT COUNT(*) AS n FROM user_second_factors WHERE user_id = :user_id AND enabled_at IS NOT NULL",
            {"user_id": user_id}, cast=int,
        ) > 0

    def enabled_since(self, user_id: int):
        return self.db.fetch_value(
            "SELECT enabled_at FROM user_second_factors WHERE user_id = :user_id", {"user_id": user_id}
        )

    def insert_pending(self, user_id: int, secret: str, now: datetime) -> None:
        """A new enrolment waiting for its first code (any earlier pending one is replaced by the caller)."""
        self.db.insert("user_second_factors", {"user_id": user_id, "secret": secret, "enabled_at": None,
                                               "last_used_step": None, "created_at": now})

    def enable(self, user_id: int, step: int, now: datetime) -> int:
        """Switch a pending factor on, remembering the step of the code that confirmed it."""
        return self.db.execute(
            "UPDATE user_second_factors SET enabled_at = :now, last_used_step = :step"
            " WHERE user_id = :user_id AND enabled_at IS NULL",
            {"now": now, "step": int(step), "user_id": user_id},
        ).rowcount

    def advance_step(self, user_id: int, step: int) -> int:
        """Record ``step`` as used; 0 rows when a code of this step or a later one was already accepted."""
        return self.db.execute(
            "UPDATE user_second_factors SET last_used_step = :step WHERE user_id = :user_id"
            " AND enabled_at IS NOT NULL AND (last_used_step IS NULL OR last_used_step < :step)",
            {"step": int(step), "user_id": user_id},
        ).rowcount

    def delete(self, user_id: int) -> int:
        return self.db.execute(
            "DELETE FROM user_second_factors WHERE user_id = :user_id", {"user_id": user_id}
        ).rowcount

    def enabled_among(self, user_ids: Iterable[int]) -> set[int]:
        """Which of ``user_ids`` have a factor switched on."""
        ids = [int(i) for i in user_ids]
        if not ids:
            return set()
        placeholders, params = self.db.in_params("id", ids)
        rows = self.db.fetch_all(
            f"SELECT user_id FROM user_second_factors WHERE user_id IN ({placeholders}) AND enabled_at IS NOT NULL",  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            params,
        )
        return {int(r["user_id"]) for r in rows}

    def mark_session_passed(self, session_id: int, now: datetime) -> int:
        """The session passed its second step: second_factor_at and reauthenticated_at become ``now``."""
        return self.db.execute(
            "UPDATE user_sessions SET second_factor_at = :now, reauthenticated_at = :now WHERE id = :id",
            {"now": now, "id": session_id},
        ).rowcount


class RecoveryCodeDAO(BaseDAO):
    def replace(self, user_id: int, code_hashes: Iterable[str], now: datetime) -> None:
        """Delete every earlier code of the user and store the new hashes."""
        self.delete_for_user(user_id)
        for code_hash in code_hashes:
            self.db.insert("recovery_codes", {"user_id": user_id, "code_hash": code_hash, "used_at": None,
                                              "created_at": now})

    def find(self, user_id: int, code_hash: str) -> dict | None:
        return self.db.fetch_one(
            "SELECT id, used_at FROM recovery_codes WHERE user_id = :user_id AND code_hash = :code_hash",
            {"user_id": user_id, "code_hash": code_hash},
        )

    def consume(self, code_id: int, now: datetime) -> int:
        """Mark one unused code used; 0 rows when it was used meanwhile."""
        return self.db.execute(
            "UPDATE recovery_codes SET used_at = :now WHERE id = :id AND used_at IS NULL", {"now": now, "id": code_id}
        ).rowcount

    def remaining(self, user_id: int) -> int:
        return self.db.fetch_value(
            "SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = :user_id AND used_at IS NULL",
            {"user_id": user_id}, cast=int,
        )

    def delete_for_user(self, user_id: int) -> int:
        return self.db.execute("DELETE FROM recovery_codes WHERE user_id = :user_id", {"user_id": user_id}).rowcount
