"""AccountTokenDAO: single-use activation / reset tokens (only their SHA-256 is stored)."""
from __future__ import annotations

from datetime import datetime

from app.dao.base import BaseDAO

PURPOSES = ("activation", "reset")


class AccountTokenDAO(BaseDAO):
    def create(self, user_id: int, purpose: str, token_hash: str, expires_at: datetime, created_by: int | None,
               now: datetime) -> int:
        if purpose not in PURPOSES:
            raise ValueError(f"unknown token purpose {purpose!r}")
        return self.db.insert("account_tokens", {
            "user_id": user_id, "purpose": purpose, "token_hash": token_hash, "expires_at": expires_at,
            "used_at": None, "created_by": created_by, "created_at": now,
        })

    def find_usable(self, token_hash: str, purpose: str, now: datetime) -> dict | None:
        """The token's row if it exists, is unused and has not expired; joined with its user."""
        return self.db.fetch_one(
            "SELECT t.id, t.user_id, t.expires_at, u.email, u.first_name, u.status"
            " FROM account_tokens t JOIN users u ON u.id = t.user_id"
            " WHERE t.token_hash = :token_hash AND t.purpose = :purpose AND t.used_at IS NULL"
            " AND t.expires_at > :now",
            {"token_hash": token_hash, "purpose": purpose, "now": now},
        )

    def consume(self, token_id: int, now: datetime) -> bool:
        """Mark used; False when another request used it first (single use, race-safe)."""
        return self.db.execute(
            "UPDATE account_tokens SET used_at = :now WHERE id = :id AND used_at IS NULL",
            {"now": now, "id": token_id},
        ).rowcount == 1

    def revoke_unused(self, user_id: int, purpose: str, now: datetime) -> int:
        """Retire every unused token of this purpose for the user (a new link replaces old ones)."""
        return self.db.execute(
            "UPDATE account_tokens SET used_at = :now WHERE user_id = :user_id AND purpose = :purpose"
            " AND used_at IS NULL",
            {"now": now, "user_id": user_id, "purpose": purpose},
        ).rowcount

    def issued_since(self, user_id: int, purpose: str, since: datetime) -> int:
        """How many tokens of this purpose were issued to the user at or after ``since`` (used or not)."""
        return int(self.db.fetch_value(
            "SELECT COUNT(*) FROM account_tokens WHERE user_id = :user_id AND purpose = :purpose"
            " AND created_at >= :since",
            {"user_id": user_id, "purpose": purpose, "since": since},
        ) or 0)

    def pending_for_users(self, user_ids: list[int], now: datetime) -> set[int]:
        """Which of these users still have an unused, unexpired activation link (one query)."""
        if not user_ids:
            return set()
        fragment, params = self.db.in_params("uid", user_ids)
        rows = self.db.fetch_all(
            f"SELECT DISTINCT user_id FROM account_tokens WHERE user_id IN ({fragment})"  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
            " AND purpose = 'activation' AND used_at IS NULL AND expires_at > :now",
            {**params, "now": now},
        )
        return {r["user_id"] for r in rows}
