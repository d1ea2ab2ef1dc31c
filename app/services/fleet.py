"""Fleet: vehicles, their servicing log and downtime windows (admin and staff; staff own branch only).

Retiring a vehicle sets its status to maintenance; vehicles are never deleted (lessons refer to them).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Mapping

from app.core.database import Database
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.pagination import ListQuery, Page
from app.dao.base import money
from app.dao.branch import BranchDAO
from app.dao.vehicle import STATUSES, TRANSMISSIONS, VehicleDAO, normalize_plate, service_flag
from app.services import audit
from app.services.windows import checked_window
from app.services.scope import Actor

MAX_ODOMETER = 2_000_000
MAX_COST = Decimal("99999999.99")
LENGTHS = {"name": 120, "type": 80, "plate_number": 20, "vin": 50}

_AUDITED = ("name", "type", "transmission", "plate_number", "vin", "branch_id", "status", "odometer_km",
            "last_service_date", "next_service_due", "notes")


def _snapshot(vehicle: Mapping[str, Any]) -> dict:
    return {k: vehicle.get(k) for k in _AUDITED}


def get(db: Database, actor: Actor, vehicle_id: int) -> dict:
    vehicle = VehicleDAO(db).find(vehicle_id)
    if vehicle is None:
        raise NotFound("Vehicle not found")
    actor.require_branch(vehicle["branch_id"])
    return vehicle


def list_page(db: Database, actor: Actor, query: ListQuery, today: date) -> Page:
    if not actor.is_office:
        raise NotFound("Not found")
    return VehicleDAO(db).list_page(query, today, only_branch=actor.branch_filter())


def vehicle_page(db: Database, actor: Actor, vehicle_id: int, today: date, local_now: datetime) -> dict:
    vehicle = get(db, actor, vehicle_id)
    vehicle["service_flag"] = service_flag(vehicle["next_service_due"], today)
    dao = VehicleDAO(db)
    return {
        "vehicle": vehicle,
        "service_logs": dao.service_logs(vehicle_id),
        "downtime": dao.downtime(vehicle_id, ending_after=local_now),
    }


def _clean(db: Database, actor: Actor, data: Mapping[str, Any]) -> dict:
    """Normalise and check a vehicle's fields; field errors are collected and raised together."""
    row = {k: data.get(k) for k in _AUDITED}
    for key in ("name", "type", "vin", "notes"):
        if isinstance(row[key], str):
            row[key] = row[key].strip() or None
    row["plate_number"] = normalize_plate(row["plate_number"]) or None
    row["status"] = row["status"] or "available"
    errors: dict[str, list[str]] = {}
    if not row["name"]:
        errors["name"] = ["Enter the vehicle's name."]
    if not row["plate_number"]:
        errors["plate_number"] = ["Enter the plate number."]
    for key, limit in LENGTHS.items():
        if row[key] and len(row[key]) > limit:
            errors[key] = [f"At most {limit} characters."]
    if row["status"] not in STATUSES:
        errors["status"] = ["Choose a listed status."]
    if row["transmission"] not in (None, *TRANSMISSIONS):
        errors["transmission"] = ["Choose Automatic or Manual."]
    if row["odometer_km"] is not None and not 0 <= int(row["odometer_km"]) <= MAX_ODOMETER:
        errors["odometer_km"] = [f"Enter a distance from 0 to {MAX_ODOMETER:,} km."]
    allowed = actor.branch_filter()
    branch_id = row["branch_id"]
    if allowed is not None and branch_id != allowed:
        errors["branch_id"] = ["Choose your own branch."]
    elif branch_id is not None and not BranchDAO(db).exists(branch_id):
        errors["branch_id"] = ["Choose a listed branch."]
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors=errors)
    return row


def _check_plate_free(dao: VehicleDAO, plate: str, own_id: int | None = None) -> None:
    existing = dao.id_for_plate(plate)
    if existing is not None and existing != own_id:
        raise Conflict(f"The plate number {plate} is already registered to another vehicle.", field="plate_number")


def create(db: Database, actor: Actor, data: Mapping[str, Any], now: datetime) -> int:
    if not actor.is_office:
        raise NotFound("Not found")
    dao = VehicleDAO(db)
    with db.transaction():
        row = _clean(db, actor, data)
        _check_plate_free(dao, row["plate_number"])
        vehicle_id = dao.insert(row, now)
        audit.record(db, actor, "vehicle_created", "vehicle", vehicle_id, now=now,
                     after=_snapshot(dao.find(vehicle_id)))
    return vehicle_id


def update(db: Database, actor: Actor, vehicle_id: int, data: Mapping[str, Any], now: datetime) -> None:
    dao = VehicleDAO(db)
    with db.transaction():
        before = get(db, actor, vehicle_id)
        row = _clean(db, actor, data)
        _check_plate_free(dao, row["plate_number"], own_id=vehicle_id)
        dao.update(vehicle_id, row, now)
        audit.record(db, actor, "vehicle_updated", "vehicle", vehicle_id, now=now,
                     before=_snapshot(before), after=_snapshot(dao.find(vehicle_id)))


def add_service(db: Database, actor: Actor, vehicle_id: int, data: Mapping[str, Any], today: date,
                now: datetime) -> int:
    """Log a service; the vehicle's last service date moves forward and its odometer up, in one transaction."""
    service_date = data.get("service_date")
    odometer = data.get("odometer_km")
    cost = data.get("cost")
    notes = (data.get("notes") or "").strip() or None
    errors: dict[str, list[str]] = {}
    if service_date is None:
        errors["service_date"] = ["Enter the service date."]
    elif service_date > today:
        errors["service_date"] = ["A service cannot be logged for a future date."]
    if odometer is not None and not 0 <= int(odometer) <= MAX_ODOMETER:
        errors["odometer_km"] = [f"Enter a distance from 0 to {MAX_ODOMETER:,} km."]
    if cost is not None:
        cost = Decimal(cost)
        if not cost.is_finite() or cost < 0 or cost > MAX_COST or cost != cost.quantize(Decimal("0.01")):
            errors["cost"] = ["Enter an amount of at least 0.00, in dollars and cents."]
        else:
            cost = money(cost)
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", errors=errors)
    dao = VehicleDAO(db)
    with db.transaction():
        before = get(db, actor, vehicle_id)
        log_id = dao.add_service_log(vehicle_id, {"service_date": service_date, "odometer_km": odometer, "cost": cost,
                                                  "notes": notes}, actor.user_id, now)
        dao.apply_service(vehicle_id, service_date, odometer, now)
        after = dao.find(vehicle_id)
        audit.record(db, actor, "vehicle_service_logged", "vehicle_service_log", log_id, now=now,
                     before={"vehicle_id": vehicle_id, "last_service_date": before["last_service_date"],
                             "odometer_km": before["odometer_km"]},
                     after={"vehicle_id": vehicle_id, "service_date": service_date, "odometer_km": odometer,
                            "cost": cost, "notes": notes, "vehicle_last_service_date": after["last_service_date"],
                            "vehicle_odometer_km": after["odometer_km"]})
    return log_id


def add_downtime(db: Database, actor: Actor, vehicle_id: int, start: datetime | None, end: datetime | None,
                 reason: str | None, now: datetime) -> int:
    reason = checked_window(start, end, reason)
    dao = VehicleDAO(db)
    with db.transaction():
        get(db, actor, vehicle_id)
        window_id = dao.add_downtime(vehicle_id, start, end, reason, now)
        audit.record(db, actor, "vehicle_downtime_added", "vehicle_downtime", window_id, now=now,
                     after={"vehicle_id": vehicle_id, "start_datetime": start, "end_datetime": end, "reason": reason})
    return window_id


def delete_downtime(db: Database, actor: Actor, vehicle_id: int, window_id: int, now: datetime) -> None:
    dao = VehicleDAO(db)
    with db.transaction():
        get(db, actor, vehicle_id)
        window = dao.find_downtime(vehicle_id, window_id)
        if window is None:
            raise NotFound("Downtime window not found")
        dao.delete_downtime(vehicle_id, window_id)
        audit.record(db, actor, "vehicle_downtime_deleted", "vehicle_downtime", window_id, now=now, before=window)
