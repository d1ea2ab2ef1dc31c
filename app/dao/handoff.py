"""HandoffDAO: page_handoffs, one-time values shown on the page a POST redirects to.

Only the SHA-256 of the random key is stored; a row belongs to one viewer and is deleted when read.
"""
from __future__ import annotations

from datetime import datetime

from app.dao.base import BaseDAO

_COLUMNS = "id, user_id, kind, payload, created_at, expires_at"


class HandoffDAO(BaseDAO):
    def insert(self, key_hash: str, user_id: int, kind: str, payload: str, now: datetime,
               expires_at: datetime) -> int:
        return self.db.insert("page_handoffs", {
            "key_hash": key_hash, "user_id": user_id, "kind": kind, "payload": payload, "created_at": now,
            "expires_at": expires_at,
        })

    def find_usable(self, key_hash: str, user_id: int, kind: str, now: datetime) -> dict | None:
        """The row for this key if it belongs to ``user_id``, has this kind and has not expired."""
        return self.db.fetch_one(
            f"SELECT {_COLUMNS} FROM page_handoffs WHERE key_hash = :key_hash AND user_id = :user_id"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            " AND kind = :kind AND expires_at > :now",
            {"key_hash": key_hash, "user_id": user_id, "kind": kind, "now": now},
        )

    def delete(self, handoff_id: int) -> bool:
        """False when another request deleted it first (so a value is shown at most once)."""
        return self.db.execute("DELETE FROM page_handoffs WHERE id = :id", {"id": handoff_id}).rowcount == 1

    def delete_expired(self, now: datetime) -> int:
        return self.db.execute("DELETE FROM page_handoffs WHERE expires_at <= :now", {"now": now}).rowcount
