"""NotificationDAO (PHP NotificationModel): in-app notifications (the inbox arrives with its module)."""
from __future__ import annotations

from datetime import datetime

from app.dao.base import BaseDAO


class NotificationDAO(BaseDAO):
    def ids_older_than(self, cutoff: datetime, limit: int) -> list[int]:
        rows = self.db.fetch_all(
            "SELECT id FROM notifications WHERE created_at < :cutoff ORDER BY id LIMIT :limit",
            {"cutoff": cutoff, "limit": int(limit)},
        )
        return [r["id"] for r in rows]

    def delete_ids(self, ids: list[int]) -> int:
        if not ids:
            return 0
        fragment, params = self.db.in_params("nid", ids)
        return self.db.execute(f"DELETE FROM notifications WHERE id IN ({fragment})", params).rowcount
