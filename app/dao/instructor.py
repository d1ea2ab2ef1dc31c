"""InstructorDAO (PHP InstructorModel): instructor profiles."""
from __future__ import annotations

from app.dao.base import BaseDAO


class InstructorDAO(BaseDAO):
    def id_for_user(self, user_id: int) -> int | None:
        return self.db.fetch_value(
            "SELECT id FROM instructors WHERE user_id = :user_id ORDER BY id LIMIT 1", {"user_id": user_id}
        )
