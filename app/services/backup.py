"""Database backups (runbook: nightly 02:15) with a restore check, and retention.

SQLite: the online backup API (safe while the app runs; never a file copy), then
``PRAGMA integrity_check`` on the copy. MariaDB: ``mariadb-dump --single-transaction``
(consistent for InnoDB without blocking writers) compressed with gzip; the password
travels in the child's environment, never on its command line. Each backup is
recorded with its size and SHA-256; old backups beyond ``keep`` are removed.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.core.database import MysqlDialect, SqliteDialect, dialect_from_url


class BackupFailed(RuntimeError):
    pass


@dataclass
class BackupResult:
    path: Path
    size: int
    sha256: str
    seconds: float
    removed: list[Path]


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _sqlite_backup(source: str, target: Path) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        verdict = dst.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        dst.close()
        src.close()
    if verdict != "ok":
        raise BackupFailed(f"integrity check of the copy failed: {verdict}")


def _dump_tool() -> str:
    for name in ("mariadb-dump", "mysqldump"):
        found = shutil.which(name)
        if found:
            return found
    raise BackupFailed("neither mariadb-dump nor mysqldump is installed")


def _mysql_backup(dialect: MysqlDialect, target: Path) -> None:
    argv = [_dump_tool(), "--single-transaction", "--quick", "--routines", "--triggers", "--events", "--hex-blob",
            f"--host={dialect.host}", f"--port={dialect.port}", f"--user={dialect.user}", dialect.database]
    env = {**os.environ, "MYSQL_PWD": dialect.password}
    tail = b""
    with gzip.open(target, "wb") as out, subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    ) as process:
        for chunk in iter(lambda: process.stdout.read(1 << 20), b""):  # streamed: large schools fit
            out.write(chunk)
            tail = (tail + chunk)[-200:]
        errors = process.stderr.read()
    if process.returncode != 0:
        target.unlink(missing_ok=True)
        raise BackupFailed(f"dump failed: {errors.decode(errors='replace').strip()[:300]}")
    if b"Dump completed" not in tail:
        target.unlink(missing_ok=True)
        raise BackupFailed("the dump is incomplete (no completion marker)")


def backup(database_url: str, backup_dir: str | Path, now: datetime, keep: int = 14) -> BackupResult:
    """Write one backup into ``backup_dir`` and keep the newest ``keep`` backups of this kind."""
    directory = Path(backup_dir)
    directory.mkdir(parents=True, exist_ok=True)
    dialect = dialect_from_url(database_url)
    stamp = now.strftime("%Y%m%d-%H%M%S")
    started = time.perf_counter()
    if isinstance(dialect, SqliteDialect):
        pattern, target = "origin-*.sqlite3", directory / f"origin-{stamp}.sqlite3"
        partial = target.with_suffix(".partial")
        _sqlite_backup(dialect.path, partial)
    else:
        pattern, target = "origin-*.sql.gz", directory / f"origin-{stamp}.sql.gz"
        partial = directory / f"origin-{stamp}.partial.gz"
        _mysql_backup(dialect, partial)
    partial.replace(target)  # only complete backups carry the final name
    os.chmod(target, 0o600)
    removed = []
    for old in sorted(directory.glob(pattern), reverse=True)[max(keep, 1):]:
        old.unlink()
        removed.append(old)
    return BackupResult(target, target.stat().st_size, _digest(target), time.perf_counter() - started, removed)
