"""StaffDAO (PHP StaffModel): staff_profiles joined with their user account and branch."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from app.core.pagination import ListQuery, Page
from app.dao.base import BaseDAO, like_pattern
from app.dao.user import UserDAO

FIELDS = ("branch_id", "position_title", "employment_type", "start_date", "notes")
ACCOUNT_FIELDS = ("first_name", "last_name", "phone", "branch_id")
EMPLOYMENT_TYPES = ("Full-time", "Part-time", "Casual")
USER_STATUSES = ("active", "archived")

_COLUMNS = (
    "s.id, s.user_id, s.branch_id, s.position_title, s.employment_type, s.start_date, s.notes,"
    " s.created_at, s.updated_at, u.first_name, u.last_name, u.email, u.phone, u.status, u.role,"
    " u.last_login_at, b.name AS branch_name"
)
_FROM = " FROM staff_profiles s JOIN users u ON u.id = s.user_id LEFT JOIN branches b ON b.id = s.branch_id"
SORTS: dict[str, str | tuple[str, ...]] = {
    "name": ("u.last_name", "u.first_name"),  # surname, then first name, both in the chosen direction
    "email": "u.email",
    "branch": "b.name",
    "position": "s.position_title",
    "employment": "s.employment_type",
    "start_date": "s.start_date",
    "status": "u.status",
}


class StaffDAO(BaseDAO):
    def find(self, staff_id: int) -> dict | None:
        return self.db.fetch_one(f"SELECT {_COLUMNS}{_FROM} WHERE s.id = :id", {"id": staff_id})

    def find_by_user(self, user_id: int) -> dict | None:
        return self.db.fetch_one(
            f"SELECT {_COLUMNS}{_FROM} WHERE s.user_id = :user_id ORDER BY s.id LIMIT 1", {"user_id": user_id}
        )

    def list_page(self, query: ListQuery) -> Page:
        """Search name/e-mail/position; filters ``branch`` (id) and ``status`` (account status)."""
        params: dict[str, Any] = {}
        where = " WHERE 1 = 1"
        if query.q:
            where += (" AND (u.first_name LIKE :q ESCAPE '!' OR u.last_name LIKE :q ESCAPE '!'"
                      " OR u.email LIKE :q ESCAPE '!' OR s.position_title LIKE :q ESCAPE '!')")
            params["q"] = like_pattern(query.q)
        branch = query.filter_int("branch")
        if branch is not None:
            where += " AND s.branch_id = :branch"
            params["branch"] = branch
        if query.filter("status") in USER_STATUSES:
            where += " AND u.status = :status"
            params["status"] = query.filter("status")
        return self.fetch_page(f"SELECT {_COLUMNS}{_FROM}{where}", f"SELECT COUNT(*) AS n{_FROM}{where}",
                               params, self.order_clause(SORTS, query, "s.id"), query)

    def insert(self, user_id: int, data: dict[str, Any], now: datetime) -> int:
        row = {f: data.get(f) for f in FIELDS}
        row["employment_type"] = row["employment_type"] or "Full-time"
        return self.db.insert("staff_profiles", {"user_id": user_id, **row, "created_at": now, "updated_at": now})

    def update(self, staff_id: int, data: dict[str, Any], now: datetime) -> int:
        sets = ", ".join(f"{f} = :{f}" for f in FIELDS)
        params = {f: data.get(f) for f in FIELDS}
        return self.db.execute(
            f"UPDATE staff_profiles SET {sets}, updated_at = :now WHERE id = :id",  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
            {**params, "now": now, "id": staff_id},
        ).rowcount

    def update_account(self, user_id: int, data: dict[str, Any], now: datetime) -> int:
        """The staff member's name, phone and branch on their users row (e-mail and role never change here).

        Only office accounts (staff, or an admin who also has a staff profile) are touched."""
        return UserDAO(self.db).update_account(
            user_id, {f: data.get(f) for f in ACCOUNT_FIELDS}, now, roles=("staff", "admin"))

