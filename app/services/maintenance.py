"""Runbook maintenance jobs: notification and session purges, access review, accreditation audit, log rotation."""
from __future__ import annotations

import gzip
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Mapping

from app.core.database import Database
from app.dao.handoff import HandoffDAO
from app.dao.instructor import InstructorDAO
from app.dao.login_attempt import LoginAttemptDAO
from app.dao.notification import NotificationDAO
from app.dao.user import UserDAO
from app.dao.user_session import UserSessionDAO


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` earlier (clamped to the month's last day: 31 May - 3 -> 28/29 Feb)."""
    year, month = divmod(moment.month - 1 - months, 12)
    year, month = moment.year + year, month + 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


def purge_notifications(db: Database, now: datetime, months: int = 12, batch: int = 1000) -> int:
    """Delete notifications older than ``months`` in small batches (one short transaction each)."""
    cutoff, dao, total = months_before(now, months), NotificationDAO(db), 0
    while True:
        with db.transaction():
            ids = dao.ids_older_than(cutoff, batch)
            removed = dao.delete_ids(ids)
        total += removed
        if len(ids) < batch:
            return total


def _purge_in_batches(db: Database, delete_batch: Callable[[int], int], batch: int) -> int:
    """Call ``delete_batch(batch)`` (deletes up to ``batch`` rows, returns how many) in one short
    transaction per batch until a batch comes back short; returns the total."""
    total = 0
    while True:
        with db.transaction():
            removed = delete_batch(batch)
        total += removed
        if removed < batch:
            return total


def purge_sessions(db: Database, now: datetime, settings: Mapping[str, Any], attempt_days: int = 90,
                   batch: int = 1000) -> dict[str, int]:
    """Runbook, daily 03:45: delete expired sessions (idle longer than SESSION_IDLE_MINUTES or older
    than SESSION_ABSOLUTE_HOURS: they could never be used again), login attempts older than
    ``attempt_days`` and one-time page hand-offs past their expiry. Returns the rows deleted per table.

    One entry per table in ``purges``: add a table by adding its (name, batch delete) pair.
    """
    if attempt_days < 1:  # the throttling window needs the recent attempts
        raise ValueError("attempt_days must be at least 1")
    idle_before = now - timedelta(minutes=int(settings["SESSION_IDLE_MINUTES"]))
    created_before = now - timedelta(hours=int(settings["SESSION_ABSOLUTE_HOURS"]))
    attempts_before = now - timedelta(days=attempt_days)
    sessions, attempts, handoffs = UserSessionDAO(db), LoginAttemptDAO(db), HandoffDAO(db)
    purges: list[tuple[str, Callable[[int], int]]] = [
        ("user_sessions", lambda n: sessions.delete_expired(idle_before, created_before, n)),
        ("login_attempts", lambda n: attempts.purge_before(attempts_before, n)),
        ("page_handoffs", lambda n: handoffs.delete_expired(now)),  # few rows: one batch always suffices
    ]
    return {table: _purge_in_batches(db, delete_batch, batch) for table, delete_batch in purges}


@dataclass
class ReviewRow:
    user: dict
    flags: list[str]


def access_review(db: Database, now: datetime, stale_days: int = 90) -> list[ReviewRow]:
    """Active accounts with what an administrator should look at: never signed in, idle, no branch."""
    rows = []
    for user in UserDAO(db).access_review():
        flags = []
        if user["last_login_at"] is None:
            if user["created_at"] and user["created_at"] < now - timedelta(days=30):
                flags.append("never signed in (30+ days)")
        elif user["last_login_at"] < now - timedelta(days=stale_days):
            flags.append(f"no sign-in for {stale_days}+ days")
        if user["role"] == "staff" and user["branch_name"] is None:
            flags.append("staff without a branch")
        if user["role"] == "admin":
            flags.append("administrator")
        rows.append(ReviewRow(user, flags))
    return rows


def accreditation_audit(db: Database, today: date, within_days: int = 60) -> list[dict]:
    """Instructors whose accreditation is missing, expired or ends within ``within_days``."""
    rows = InstructorDAO(db).accreditation_audit(today + timedelta(days=within_days))
    for row in rows:
        expiry = row["accreditation_expiry"]
        row["state"] = "missing" if expiry is None else ("expired" if expiry < today else "expiring")
    return rows


def rotate_logs(log_dir: str | Path, now: datetime, keep_days: int = 30) -> tuple[list[Path], list[Path]]:
    """Runbook, nightly 02:00. Rename each non-empty *.log to *.log.YYYYMMDD-HHMMSS; the app's
    WatchedFileHandler notices the rename and opens a fresh file, so no line is lost. Files rotated
    by an earlier run are compressed now (a writer may still have been finishing a line into them
    right after their rename), and rotated logs older than ``keep_days`` are deleted.
    Returns (rotated now, deleted)."""
    directory, stamp = Path(log_dir), now.strftime("%Y%m%d-%H%M%S")
    for earlier in sorted(directory.glob("*.log.*")):
        if earlier.suffix == ".gz":
            continue
        with earlier.open("rb") as src, gzip.open(f"{earlier}.gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
        earlier.unlink()
    rotated = []
    for log in sorted(directory.glob("*.log")):
        if log.stat().st_size == 0:
            continue
        moved = log.with_name(f"{log.name}.{stamp}")
        log.rename(moved)
        rotated.append(moved)
    cutoff, deleted = now - timedelta(days=keep_days), []
    for old in sorted(directory.glob("*.log.*.gz")):
        try:
            when = datetime.strptime(old.name[: -len(".gz")].rsplit(".", 1)[-1], "%Y%m%d-%H%M%S")
        except ValueError:
            continue
        if when < cutoff:
            old.unlink()
            deleted.append(old)
    return rotated, deleted
