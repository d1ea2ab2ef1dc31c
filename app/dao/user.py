"""UserDAO (PHP UserModel): the users table."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from app.dao.base import BaseDAO

ROLES = ("admin", "staff", "instructor", "student")
STATUSES = ("active", "archived")

ACCOUNT_COLUMNS = ("first_name", "last_name", "email", "phone", "branch_id")
_PUBLIC_COLUMNS = "id, role, first_name, last_name, email, phone, status, branch_id, last_login_at, created_at"


def normalize_email(email: str | None) -> str:
    """Trim and lower-case: both databases then agree on uniqueness and look-ups."""
    return (email or "").strip().lower()


class UserDAO(BaseDAO):
    def find_by_id(self, user_id: int) -> dict | None:
        return self.db.fetch_one(f"SELECT {_PUBLIC_COLUMNS} FROM users WHERE id = :id", {"id": user_id})  # nosec B608 # interpolates only module constants; every value is a bound :parameter

    def find_by_email(self, email: str) -> dict | None:
        return self.db.fetch_one(
            f"SELECT {_PUBLIC_COLUMNS} FROM users WHERE email = :email", {"email": normalize_email(email)}  # nosec B608 # interpolates only module constants; every value is a bound :parameter
        )

    def find_credentials(self, email: str, *, lock: bool = False) -> dict | None:
        """Id, role, status and password hash for a login attempt. ``lock=True`` (inside a transaction)
        keeps the users row locked until it ends (FOR UPDATE on MariaDB; SQLite's BEGIN IMMEDIATE already
        holds the write lock), which serialises sign-ins to one account from the throttle check to the
        recorded attempt."""
        return self.db.fetch_one(
            "SELECT id, role, status, password_hash FROM users WHERE email = :email"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            + (self.db.for_update if lock else ""),
            {"email": normalize_email(email)},
        )

    def password_hash(self, user_id: int) -> str | None:
        return self.db.fetch_value("SELECT password_hash FROM users WHERE id = :id", {"id": user_id})

    def insert(self, data: dict[str, Any], now: datetime) -> int:
        row = {
            "role": data["role"],
            "first_name": data["first_name"],
            "last_name": data["last_name"],
            "email": normalize_email(data["email"]),
            "phone": data.get("phone"),
            "password_hash": data["password_hash"],
            "status": data.get("status", "active"),
            "branch_id": data.get("branch_id"),
            "created_at": now,
            "updated_at": now,
        }
        return self.db.insert("users", row)

    def replace_hash(self, user_id: int, password_hash: str, now: datetime) -> None:
        """Store an upgraded hash for the same password (no password change)."""
        self.db.execute(
            "UPDATE users SET password_hash = :hash, updated_at = :now WHERE id = :id",
            {"hash": password_hash, "now": now, "id": user_id},
        )

    def set_password(self, user_id: int, password_hash: str, now: datetime) -> None:
        self.db.execute(
            "UPDATE users SET password_hash = :hash, password_changed_at = :now, updated_at = :now WHERE id = :id",
            {"hash": password_hash, "now": now, "id": user_id},
        )

    def set_status(self, user_id: int, status: str, now: datetime) -> int:
        if status not in STATUSES:
            raise ValueError(f"unknown user status {status!r}")
        return self.db.execute(
            "UPDATE users SET status = :status, updated_at = :now WHERE id = :id",
            {"status": status, "now": now, "id": user_id},
        ).rowcount

    def set_role(self, user_id: int, role: str, now: datetime) -> int:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        return self.db.execute(
            "UPDATE users SET role = :role, updated_at = :now WHERE id = :id",
            {"role": role, "now": now, "id": user_id},
        ).rowcount

    def active_admin_ids(self, *, lock: bool = False) -> list[int]:
        """Ids of the active administrators; ``lock=True`` (inside a transaction) holds their rows, so
        two administrators demoting each other at once cannot both pass a "not the last one" check."""
        rows = self.db.fetch_all(
            "SELECT id FROM users WHERE role = 'admin' AND status = 'active' ORDER BY id"  # nosec B608 # interpolates only the backend's row-lock clause; every value is a bound :parameter
            + (self.db.for_update if lock else "")
        )
        return [r["id"] for r in rows]

    def record_login(self, user_id: int, now: datetime) -> None:
        # updated_at is set explicitly: MariaDB's ON UPDATE CURRENT_TIMESTAMP would otherwise stamp the
        # server's wall clock (and SQLite would leave it unchanged), so the two backends would disagree.
        self.db.execute(
            "UPDATE users SET last_login_at = :now, updated_at = :now WHERE id = :id", {"now": now, "id": user_id}
        )

    def update_account(self, user_id: int, data: dict[str, Any], now: datetime, roles: tuple[str, ...]) -> int:
        """Update login-account fields (name, e-mail, phone, branch) of a user whose role is in ``roles``.

        Only keys of ``data`` among ACCOUNT_COLUMNS are written; role, status and password never are.
        """
        fields = [f for f in ACCOUNT_COLUMNS if f in data]
        if not fields or not roles:
            return 0
        params = {f: data[f] for f in fields}
        if "email" in params:
            params["email"] = normalize_email(params["email"])
        role_list, role_params = self.db.in_params("role", roles)
        sets = ", ".join(f"{f} = :{f}" for f in fields)
        return self.db.execute(
            f"UPDATE users SET {sets}, updated_at = :now WHERE id = :id AND role IN ({role_list})",  # nosec B608 # interpolates only a SET list of ACCOUNT_COLUMNS and db.in_params placeholders; every value is a bound :parameter
            {**params, **role_params, "now": now, "id": user_id},
        ).rowcount

    def access_review(self) -> list[dict]:
        """Every active account with its branch and last sign-in (runbook: monthly access review)."""
        return self.db.fetch_all(
            "SELECT u.id, u.role, u.first_name, u.last_name, u.email, u.status, u.last_login_at, u.created_at,"
            " b.name AS branch_name"
            " FROM users u LEFT JOIN branches b ON b.id = u.branch_id"
            " WHERE u.status = 'active' ORDER BY u.role, u.last_name, u.first_name, u.id"
        )

    def count_by_role(self) -> dict[str, int]:
        rows = self.db.fetch_all("SELECT role, COUNT(*) AS total FROM users GROUP BY role")
        return {r["role"]: int(r["total"]) for r in rows}
