"""BranchDAO (PHP BranchModel): branches."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO, like_pattern

FIELDS = ("name", "address", "city", "state", "postcode", "phone", "email", "manager_name", "opening_hours")
_COLUMNS = "b.id, " + ", ".join(f"b.{f}" for f in FIELDS) + ", b.created_at, b.updated_at"
SORTS = {"name": "b.name", "city": "b.city", "manager": "b.manager_name"}


class BranchDAO(BaseDAO):
    def find(self, branch_id: int) -> dict | None:
        return self.db.fetch_one(f"SELECT {_COLUMNS} FROM branches b WHERE b.id = :id", {"id": branch_id})

    def options(self, only_id: int | None = None) -> list[dict]:
        """(id, name) pairs for select boxes; ``only_id`` limits to one branch (staff scope)."""
        return self.db.fetch_all(
            "SELECT id, name FROM branches WHERE (:only_id IS NULL OR id = :only_id) ORDER BY name, id",
            {"only_id": only_id},
        )

    def exists(self, branch_id: int) -> bool:
        return self.db.fetch_value("SELECT id FROM branches WHERE id = :id", {"id": branch_id}) is not None

    def list_page(self, query: ListQuery, only_id: int | None = None) -> Page:
        params: dict[str, Any] = {"only_id": only_id}
        where = " WHERE (:only_id IS NULL OR b.id = :only_id)"
        if query.q:
            where += (" AND (b.name LIKE :q ESCAPE '!' OR b.city LIKE :q ESCAPE '!'"
                      " OR b.manager_name LIKE :q ESCAPE '!' OR b.postcode LIKE :q ESCAPE '!')")
            params["q"] = like_pattern(query.q)
        select = (
            f"SELECT {_COLUMNS},"
            " (SELECT COUNT(*) FROM students s WHERE s.branch_id = b.id) AS student_count,"
            " (SELECT COUNT(*) FROM instructors i WHERE i.branch_id = b.id) AS instructor_count,"
            " (SELECT COUNT(*) FROM vehicles v WHERE v.branch_id = b.id) AS vehicle_count"
            " FROM branches b" + where
        )
        return self.fetch_page(select, "SELECT COUNT(*) AS n FROM branches b" + where, params,
                               self.order_clause(SORTS, query, "b.id"), query)

    def counts(self, branch_id: int, today: date) -> dict[str, int]:
        """What hangs off one branch, in one query (detail page); lessons from ``today`` on are upcoming."""
        row = self.db.fetch_one(
            "SELECT"
            " (SELECT COUNT(*) FROM students s WHERE s.branch_id = :id) AS students,"
            " (SELECT COUNT(*) FROM instructors i WHERE i.branch_id = :id) AS instructors,"
            " (SELECT COUNT(*) FROM staff_profiles sp WHERE sp.branch_id = :id) AS staff,"
            " (SELECT COUNT(*) FROM vehicles v WHERE v.branch_id = :id) AS vehicles,"
            " (SELECT COUNT(*) FROM enrollments e JOIN students es ON es.id = e.student_id"
            "   WHERE es.branch_id = :id AND e.status IN ('active', 'in_progress')) AS active_enrolments,"
            " (SELECT COUNT(*) FROM schedules sc WHERE sc.branch_id = :id AND sc.status = 'scheduled'"
            "   AND sc.scheduled_date >= :today) AS upcoming_lessons",
            {"id": branch_id, "today": today},
        ) or {}
        return {k: int(v or 0) for k, v in row.items()}

    def insert(self, data: dict[str, Any], now: datetime) -> int:
        row = {f: data.get(f) for f in FIELDS}
        return self.db.insert("branches", {**row, "created_at": now, "updated_at": now})

    def update(self, branch_id: int, data: dict[str, Any], now: datetime) -> int:
        sets = ", ".join(f"{f} = :{f}" for f in FIELDS)
        params = {f: data.get(f) for f in FIELDS}
        return self.db.execute(
            f"UPDATE branches SET {sets}, updated_at = :now WHERE id = :id", {**params, "now": now, "id": branch_id}
        ).rowcount
