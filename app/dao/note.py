"""NoteDAO (PHP NoteModel): internal notes about a student (related_type 'student'), instructor or staff."""
from __future__ import annotations

from datetime import datetime

from app.dao.base import BaseDAO, profile_ids

RELATED_TYPES = ("student", "instructor", "staff")
_COLUMNS = "n.id, n.related_type, n.related_id, n.author_user_id, n.content, n.created_at"


class NoteDAO(BaseDAO):
    def insert(self, related_type: str, related_id: int, author_user_id: int | None, content: str,
               now: datetime) -> int:
        if related_type not in RELATED_TYPES:
            raise ValueError(f"unknown note type {related_type!r}")
        return self.db.insert("notes", {
            "related_type": related_type, "related_id": related_id, "author_user_id": author_user_id,
            "content": content, "created_at": now,
        })

    def find(self, note_id: int) -> dict | None:
        return self.db.fetch_one(f"SELECT {_COLUMNS} FROM notes n WHERE n.id = :id", {"id": note_id})  # nosec B608 # interpolates only module constants; every value is a bound :parameter

    def for_related(self, related_type: str, related_id: int, limit: int = 50) -> list[dict]:
        """Newest first, with the author's name (NULL when the author was removed)."""
        return self.db.fetch_all(
            f"SELECT {_COLUMNS}, au.first_name AS author_first_name, au.last_name AS author_last_name,"  # nosec B608 # interpolates only IN-list placeholders of db.in_params, module constants; every value is a bound :parameter
            f" au.role AS author_role, {profile_ids('au', 'author')}"
            " FROM notes n LEFT JOIN users au ON au.id = n.author_user_id"
            " WHERE n.related_type = :related_type AND n.related_id = :related_id"
            " ORDER BY n.created_at DESC, n.id DESC LIMIT :limit",
            {"related_type": related_type, "related_id": related_id, "limit": int(limit)},
        )
