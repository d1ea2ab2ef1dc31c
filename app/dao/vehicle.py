"""VehicleDAO (PHP VehicleModel): the fleet, its servicing log and downtime windows.

Downtime start/end values are business wall-clock times in APP_TIMEZONE (compared with lesson times).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from app.core.pagination import ListQuery, Page
from app.core.params import valid_id
from app.dao.base import BaseDAO, like_pattern, money

FIELDS = ("name", "type", "transmission", "plate_number", "vin", "branch_id", "status", "odometer_km",
          "last_service_date", "next_service_due", "notes")
STATUSES = ("available", "in_service", "maintenance")
TRANSMISSIONS = ("Automatic", "Manual")
SERVICE_DUE_DAYS = 14
MAX_SEARCH_TERMS = 5

SORTS: dict[str, tuple[str, ...]] = {
    "name": ("v.name",),
    "plate": ("v.plate_number",),
    "status": ("v.status",),
    "next_service": ("v.next_service_due",),
}

_COLUMNS = "v.id, " + ", ".join(f"v.{f}" for f in FIELDS) + ", v.created_at, v.updated_at, b.name AS branch_name"


def service_flag(next_due: date | None, today: date) -> str | None:
    """'overdue' (due date passed), 'due' (within 14 days) or None: the same rule as the list filter."""
    if next_due is None:
        return None
    if next_due < today:
        return "overdue"
    if next_due <= today + timedelta(days=SERVICE_DUE_DAYS):
        return "due"
    return None


def normalize_plate(plate: str | None) -> str:
    """Plates are stored upper-case without surrounding spaces, so uniqueness agrees on both databases."""
    return (plate or "").strip().upper()


class VehicleDAO(BaseDAO):
    def find(self, vehicle_id: int) -> dict | None:
        if not valid_id(vehicle_id):
            return None
        return self.db.fetch_one(
            f"SELECT {_COLUMNS} FROM vehicles v LEFT JOIN branches b ON b.id = v.branch_id WHERE v.id = :id",  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            {"id": vehicle_id},
        )

    def id_for_plate(self, plate: str) -> int | None:
        return self.db.fetch_value(
            "SELECT id FROM vehicles WHERE plate_number = :plate", {"plate": normalize_plate(plate)}
        )

    def all(self, only_branch: int | None = None) -> list[dict]:
        """Every vehicle by name (the original's VehicleModel::all, for small selects and tests)."""
        return self.db.fetch_all(
            f"SELECT {_COLUMNS} FROM vehicles v LEFT JOIN branches b ON b.id = v.branch_id"  # nosec B608 # interpolates only module constants; every value is a bound :parameter
            " WHERE (:only_branch IS NULL OR v.branch_id = :only_branch) ORDER BY v.name, v.id",
            {"only_branch": only_branch},
        )

    def list_page(self, query: ListQuery, today: date, only_branch: int | None = None) -> Page:
        """One page of vehicles with branch name, service flag and lesson counts (two queries).

        The page's vehicles are picked first, then joined to stat_vehicle_totals (the maintained
        aggregate, as of ``stats.refreshed_at(db, "vehicle_totals")``; 0 for a vehicle without a row):
        ``upcoming_count`` = scheduled on or after the refresh day, ``lesson_count`` = lessons ever.
        No query here touches schedules.
        """
        where, params = self._where(query, today, only_branch)
        params["today"] = today
        columns = (
            f"{_COLUMNS}, COALESCE(vt.upcoming_lessons, 0) AS upcoming_count,"
            " COALESCE(vt.lessons, 0) AS lesson_count"
        )
        page = self.fetch_page_picked(
            "FROM vehicles v LEFT JOIN branches b ON b.id = v.branch_id" + where, columns,
            "JOIN vehicles v ON v.id = pick.pick_id LEFT JOIN branches b ON b.id = v.branch_id"
            " LEFT JOIN stat_vehicle_totals vt ON vt.vehicle_id = v.id",
            params, self.order_clause(SORTS, query, "v.id"), query, pick="v.id")
        for row in page.items:
            row["upcoming_count"] = int(row["upcoming_count"] or 0)
            row["lesson_count"] = int(row["lesson_count"] or 0)
            row["service_flag"] = service_flag(row["next_service_due"], today)
        return page

    @staticmethod
    def _where(query: ListQuery, today: date, only_branch: int | None) -> tuple[str, dict[str, Any]]:
        clauses = ["(:only_branch IS NULL OR v.branch_id = :only_branch)"]
        params: dict[str, Any] = {"only_branch": only_branch, "today": today}
        for n, term in enumerate(query.q.split()[:MAX_SEARCH_TERMS]):
            key = f"q{n}"
            clauses.append(f"(v.name LIKE :{key} ESCAPE '!' OR v.plate_number LIKE :{key} ESCAPE '!'"
                           f" OR v.vin LIKE :{key} ESCAPE '!')")
            params[key] = like_pattern(term)
        branch = query.filter_int("branch")
        if branch is not None:
            clauses.append("v.branch_id = :branch")
            branch = branch if valid_id(branch) else 0  # an impossible id matches nothing
            params["branch"] = branch
        if query.filter("status") in STATUSES:
            clauses.append("v.status = :status")
            params["status"] = query.filter("status")
        if query.filter("transmission") in TRANSMISSIONS:
            clauses.append("v.transmission = :transmission")
            params["transmission"] = query.filter("transmission")
        service = query.filter("service")
        if service == "overdue":
            clauses.append("v.next_service_due < :today")
        elif service == "due":
            clauses.append("v.next_service_due >= :today AND v.next_service_due <= :soon")
            params["soon"] = today + timedelta(days=SERVICE_DUE_DAYS)
        elif service == "attention":  # due within 14 days or overdue
            clauses.append("v.next_service_due <= :soon")
            params["soon"] = today + timedelta(days=SERVICE_DUE_DAYS)
        return " WHERE " + " AND ".join(clauses), params

    def insert(self, data: dict[str, Any], now: datetime) -> int:
        row = {f: data.get(f) for f in FIELDS}
        row["plate_number"] = normalize_plate(row["plate_number"]) or None
        row["status"] = row["status"] or "available"
        return self.db.insert("vehicles", {**row, "created_at": now, "updated_at": now})

    def update(self, vehicle_id: int, data: dict[str, Any], now: datetime) -> int:
        """Write every field (absent keys become NULL)."""
        params = {f: data.get(f) for f in FIELDS}
        params["plate_number"] = normalize_plate(params["plate_number"]) or None
        params["status"] = params["status"] or "available"
        sets = ", ".join(f"{f} = :{f}" for f in FIELDS)
        return self.db.execute(
            f"UPDATE vehicles SET {sets}, updated_at = :now WHERE id = :id", {**params, "now": now, "id": vehicle_id}  # nosec B608 # interpolates only fragments this code builds from constants; every value is a bound :parameter
        ).rowcount

    # -- servicing log ---------------------------------------------------------------------
    def service_logs(self, vehicle_id: int, limit: int = 100) -> list[dict]:
        """Newest first, with the recorder's name joined in."""
        rows = self.db.fetch_all(
            "SELECT l.id, l.vehicle_id, l.service_date, l.odometer_km, l.cost, l.notes, l.recorded_by, l.created_at,"
            " u.first_name AS recorded_by_first_name, u.last_name AS recorded_by_last_name"
            " FROM vehicle_service_logs l LEFT JOIN users u ON u.id = l.recorded_by"
            " WHERE l.vehicle_id = :id ORDER BY l.service_date DESC, l.id DESC LIMIT :limit",
            {"id": vehicle_id, "limit": int(limit)},
        )
        for row in rows:
            row["cost"] = None if row["cost"] is None else money(row["cost"])
        return rows

    def add_service_log(self, vehicle_id: int, data: dict[str, Any], recorded_by: int | None, now: datetime) -> int:
        return self.db.insert("vehicle_service_logs", {
            "vehicle_id": vehicle_id, "service_date": data["service_date"], "odometer_km": data.get("odometer_km"),
            "cost": data.get("cost"), "notes": data.get("notes"), "recorded_by": recorded_by or None,
            "created_at": now,
        })

    def apply_service(self, vehicle_id: int, service_date: date, odometer_km: int | None, now: datetime) -> int:
        """Move last_service_date forward (never back) and the odometer up (never down)."""
        return self.db.execute(
            "UPDATE vehicles SET"
            " last_service_date = CASE WHEN last_service_date IS NULL OR last_service_date < :service_date"
            " THEN :service_date ELSE last_service_date END,"
            " odometer_km = CASE WHEN :odometer IS NOT NULL AND (odometer_km IS NULL OR odometer_km < :odometer)"
            " THEN :odometer ELSE odometer_km END,"
            " updated_at = :now WHERE id = :id",
            {"service_date": service_date, "odometer": odometer_km, "now": now, "id": vehicle_id},
        ).rowcount

    # -- downtime windows ------------------------------------------------------------------
    def downtime(self, vehicle_id: int, ending_after: datetime | None = None, limit: int = 100) -> list[dict]:
        return self.db.fetch_all(
            "SELECT d.id, d.vehicle_id, d.start_datetime, d.end_datetime, d.reason, d.created_at"
            " FROM vehicle_downtime d WHERE d.vehicle_id = :id AND (:after IS NULL OR d.end_datetime > :after)"
            " ORDER BY d.start_datetime, d.id LIMIT :limit",
            {"id": vehicle_id, "after": ending_after, "limit": int(limit)},
        )

    def find_downtime(self, vehicle_id: int, window_id: int) -> dict | None:
        """A window only when it belongs to that vehicle."""
        if not (valid_id(vehicle_id) and valid_id(window_id)):
            return None
        return self.db.fetch_one(
            "SELECT d.id, d.vehicle_id, d.start_datetime, d.end_datetime, d.reason FROM vehicle_downtime d"
            " WHERE d.id = :window_id AND d.vehicle_id = :id",
            {"window_id": window_id, "id": vehicle_id},
        )

    def add_downtime(self, vehicle_id: int, start: datetime, end: datetime, reason: str | None, now: datetime) -> int:
        return self.db.insert("vehicle_downtime", {
            "vehicle_id": vehicle_id, "start_datetime": start, "end_datetime": end, "reason": reason,
            "created_at": now, "updated_at": now,
        })

    def delete_downtime(self, vehicle_id: int, window_id: int) -> int:
        if not (valid_id(vehicle_id) and valid_id(window_id)):
            return 0
        return self.db.execute(
            "DELETE FROM vehicle_downtime WHERE id = :window_id AND vehicle_id = :id",
            {"window_id": window_id, "id": vehicle_id},
        ).rowcount
