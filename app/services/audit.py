"""The audit trail: one append-only, hash-chained record per business event.

Call :func:`record` inside the same transaction as the change it describes, so
a failed audit write rolls the change back (and a rolled-back change leaves no
audit row). Each row stores SHA-256(previous row hash + canonical content);
:func:`verify` walks the chain and names the first row that does not match.
The chain head (audit_chain, one row) is locked while a row is appended, so
concurrent writers cannot fork the chain.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Mapping

from app.core.database import Database
from app.dao.audit import AuditDAO
from app.services.scope import Actor

SENSITIVE_KEYS = {"password", "password_hash", "token", "token_hash", "new_password", "current_password"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "strftime"):  # time
        return value.strftime("%H:%M:%S")
    return value


def snapshot(data: Mapping[str, Any] | None) -> str | None:
    """Canonical JSON of a record, secrets masked."""
    if data is None:
        return None
    clean = {k: ("***" if k in SENSITIVE_KEYS else _plain(v)) for k, v in data.items()}
    return json.dumps(clean, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(prev_hash: str | None, row: Mapping[str, Any]) -> str:
    content = [
        prev_hash or "",
        _plain(row["created_at"]),
        row.get("user_id"),
        row.get("actor_role"),
        row["action"],
        row.get("entity_type"),
        row.get("entity_id"),
        row.get("details"),
        row.get("before_json"),
        row.get("after_json"),
        row.get("ip_address"),
    ]
    return hashlib.sha256(json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


def record(
    db: Database,
    actor: Actor | None,
    action: str,
    entity_type: str | None,
    entity_id: int | None,
    *,
    now: datetime,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    details: str | None = None,
    ip: str | None = None,
) -> int:
    """Append one audit row (in its own transaction level, nested inside the caller's)."""
    dao = AuditDAO(db)
    row = {
        "user_id": actor.user_id if actor and actor.user_id else None,
        "actor_role": actor.role if actor else None,
        "action": action[:80],
        "entity_type": entity_type,
        "entity_id": entity_id,
        "details": details,
        "created_at": now.replace(microsecond=0),
        "ip_address": (ip or (actor.ip if actor else None) or None),
        "before_json": snapshot(before),
        "after_json": snapshot(after),
    }
    with db.transaction():
        head = dao.lock_head()
        row["prev_hash"] = head["last_hash"]
        row["row_hash"] = row_hash(head["last_hash"], row)
        audit_id = dao.insert(row)
        dao.move_head(audit_id, row["row_hash"], now)
    return audit_id


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""


def verify(db: Database, batch: int = 500) -> VerifyResult:
    """Walk the chain in id order. Rows from before the chain existed (PHP era) have no hash
    and are accepted only before the first hashed row."""
    dao = AuditDAO(db)
    expected_prev: str | None = None
    started = False
    checked, last_id = 0, 0
    while True:
        rows = dao.chain_batch(last_id, batch)
        if not rows:
            break
        for row in rows:
            last_id = row["id"]
            if row["row_hash"] is None:
                if started:
                    return VerifyResult(False, checked, row["id"], "hash missing on a chained row")
                continue
            started = True
            checked += 1
            if row["prev_hash"] != expected_prev:
                return VerifyResult(False, checked, row["id"], "previous-row link broken (a row was removed or reordered)")
            if row_hash(row["prev_hash"], row) != row["row_hash"]:
                return VerifyResult(False, checked, row["id"], "content does not match its hash (row was changed)")
            expected_prev = row["row_hash"]
    head = dao.head()
    if started and head and head["last_hash"] != expected_prev:
        return VerifyResult(False, checked, head["last_id"], "the newest rows were removed")
    return VerifyResult(True, checked)


def utc_range(day_from, day_to) -> dict[str, str]:
    """Local calendar days (APP_TIMEZONE) -> UTC bounds for the from_at/to_at filters."""
    from datetime import time as dtime, timedelta, timezone

    from app.core import clock
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(clock.timezone_name())
    bounds = {}
    if day_from:
        start = datetime.combine(day_from, dtime(0, 0)).replace(tzinfo=zone).astimezone(timezone.utc)
        bounds["from_at"] = start.strftime("%Y-%m-%d %H:%M:%S")
    if day_to:
        end = datetime.combine(day_to + timedelta(days=1), dtime(0, 0)).replace(tzinfo=zone).astimezone(timezone.utc)
        bounds["to_at"] = end.strftime("%Y-%m-%d %H:%M:%S")
    return bounds


CSV_COLUMNS = ("id", "created_at", "user_id", "email", "actor_role", "action", "entity_type", "entity_id",
               "details", "ip_address", "before_json", "after_json", "prev_hash", "row_hash")


def csv_safe(value: Any) -> str:
    """Spreadsheet-safe cell: values starting with = + - @ tab or CR get a leading quote."""
    text = "" if value is None else str(_plain(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def pretty(snapshot_json: str | None) -> str:
    if not snapshot_json:
        return ""
    try:
        return json.dumps(json.loads(snapshot_json), indent=2, sort_keys=True, ensure_ascii=False)
    except ValueError:
        return snapshot_json
