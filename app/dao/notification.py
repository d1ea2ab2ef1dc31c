"""NotificationDAO (PHP NotificationModel): in-app notifications (the inbox arrives with its module)."""
from __future__ import annotations

from datetime import datetime

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO


class NotificationDAO(BaseDAO):
    def insert(self, user_id: int, title: str, message: str, now: datetime, level: str = "info", *,
               related_type: str | None = None, related_id: int | None = None, kind: str | None = None) -> int:
        """One unread in-app notification for ``user_id`` (level info, success, warning or danger), about
        the record ``related_type``/``related_id`` when given (the inbox links to it)."""
        if level not in ("info", "success", "warning", "danger"):
            raise ValueError(f"not a notification level: {level!r}")
        return self.db.insert("notifications", {"user_id": user_id, "title": title[:160], "message": message,
                                                "level": level, "is_read": 0, "created_at": now,
                                                "related_type": related_type, "related_id": related_id,
                                                "kind": kind})

    # ------------------------------------------------------------------ the inbox (services/notifications.py)

    def page_for_user(self, user_id: int, query: ListQuery, *, unread_only: bool = False) -> Page:
        """One user's notifications, newest first (two queries: the count and the page)."""
        where = "WHERE n.user_id = :user_id" + (" AND n.is_read = 0" if unread_only else "")
        return self.fetch_page(
            "SELECT n.id, n.user_id, n.title, n.message, n.level, n.is_read, n.created_at,"  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            " n.related_type, n.related_id, n.kind, n.reminder_id"
            f" FROM notifications n {where}",
            f"SELECT COUNT(*) FROM notifications n {where}",  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            {"user_id": user_id}, "n.created_at DESC, n.id DESC", query)

    def unread_count(self, user_id: int) -> int:
        return int(self.db.fetch_value(
            "SELECT COUNT(*) FROM notifications WHERE user_id = :user_id AND is_read = 0",
            {"user_id": user_id}) or 0)

    def owner(self, notification_id: int) -> int | None:
        """The account a notification belongs to (None when there is no such notification)."""
        return self.db.fetch_value("SELECT user_id FROM notifications WHERE id = :id", {"id": notification_id})

    def mark_read(self, user_id: int, notification_id: int) -> int:
        return self.db.execute(
            "UPDATE notifications SET is_read = 1 WHERE id = :id AND user_id = :user_id AND is_read = 0",
            {"id": notification_id, "user_id": user_id}).rowcount

    def mark_all_read(self, user_id: int) -> int:
        return self.db.execute(
            "UPDATE notifications SET is_read = 1 WHERE user_id = :user_id AND is_read = 0",
            {"user_id": user_id}).rowcount

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
        return self.db.execute(f"DELETE FROM notifications WHERE id IN ({fragment})", params).rowcount  # nosec B608 # interpolates only IN-list placeholders of db.in_params; every value is a bound :parameter
