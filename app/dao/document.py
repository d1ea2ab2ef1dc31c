"""DocumentDAO (PHP DocumentModel): uploaded files' metadata (the bytes live under UPLOAD_DIR).

``documents.user_id`` is the owner's account (a student's users row). Reads made for an actor
join the owner's student profile and apply the same StudentScope predicate as the CRM.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from app.core.params import valid_id
from app.dao.base import BaseDAO, profile_ids
from app.dao.student import StudentScope

FIELDS = ("user_id", "file_name", "file_path", "mime_type", "file_size", "category", "notes", "expiry_date",
          "sha256", "uploaded_by")
_COLUMNS = "d.id, " + ", ".join(f"d.{f}" for f in FIELDS) + ", d.created_at"


class DocumentDAO(BaseDAO):
    def insert(self, data: dict[str, Any], now: datetime) -> int:
        row = {f: data.get(f) for f in FIELDS}
        return self.db.insert("documents", {**row, "created_at": now})

    def find(self, document_id: int) -> dict | None:
        return self.db.fetch_one(f"SELECT {_COLUMNS} FROM documents d WHERE d.id = :id", {"id": document_id})  # nosec B608 # interpolates only module constants; every value is a bound :parameter

    def find_for_scope(self, document_id: int, scope: StudentScope, owner_user_id: int | None = None) -> dict | None:
        """The document with its owner's student id and branch, or None when missing or outside ``scope``
        (``owner_user_id``: the owning account also sees it).

        The owner's profile is the oldest students row of the owning account (students.user_id is not
        unique in the original schema). A document whose owner has no student profile is visible only
        to an unrestricted scope (admin) and to its owner."""
        if not valid_id(document_id):
            return None
        scope_sql, params = scope.clause("s")
        return self.db.fetch_one(
            f"SELECT {_COLUMNS}, s.id AS student_id, s.branch_id AS student_branch_id"  # nosec B608 # interpolates only fragments this code builds from constants, module constants; every value is a bound :parameter
            " FROM documents d"
            " LEFT JOIN students s ON s.id = (SELECT MIN(s2.id) FROM students s2 WHERE s2.user_id = d.user_id)"
            f" WHERE d.id = :id AND (({scope_sql}) OR d.user_id = :owner_user_id)",
            {**params, "id": document_id, "owner_user_id": owner_user_id},
        )

    def for_user(self, user_id: int, limit: int = 100) -> list[dict]:
        """The owner's documents, newest first, with the uploader's name."""
        return self.db.fetch_all(
            f"SELECT {_COLUMNS}, up.first_name AS uploader_first_name, up.last_name AS uploader_last_name,"  # nosec B608 # interpolates only IN-list placeholders of db.in_params, module constants; every value is a bound :parameter
            f" up.role AS uploader_role, {profile_ids('up', 'uploader')}"
            " FROM documents d LEFT JOIN users up ON up.id = d.uploaded_by"
            " WHERE d.user_id = :user_id ORDER BY d.created_at DESC, d.id DESC LIMIT :limit",
            {"user_id": user_id, "limit": int(limit)},
        )

    def delete(self, document_id: int) -> int:
        return self.db.execute("DELETE FROM documents WHERE id = :id", {"id": document_id}).rowcount
