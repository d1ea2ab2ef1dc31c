"""Database backups (runbook: nightly 02:15) with a manifest, an optional uploads archive, and retention.

SQLite: the online backup API (safe while the app runs; never a file copy), then
``PRAGMA integrity_check`` on the copy. MariaDB: ``mariadb-dump --single-transaction`` (consistent for
InnoDB without blocking writers) compressed with gzip; the password travels in the child's
environment, never on its command line.

Beside each backup ``origin-<stamp>.<ext>`` goes ``origin-<stamp>.<ext>.manifest.json``: the backend,
when, the schema version, the file's size and SHA-256, and per table its row count and content checksum
(app/dao/table_digest.py), which ``flask restore`` and ``flask restore-drill`` check a restored copy
against. SQLite's checksums are read from the copy itself. A MariaDB dump runs in a snapshot of its own,
so the checksums are read in a snapshot just before the dump and again just after: a table whose two
readings agree held exactly that data throughout; one written to meanwhile (the reminder dispatcher,
say) is marked ``changed_during_backup`` and not compared later. ``with_uploads`` adds
``origin-<stamp>-uploads.tar.gz`` (UPLOAD_DIR; regular files only, links skipped).

Every file is written under a temporary name, mode 0600, and renamed only when complete; the manifest
comes last. Retention keeps the newest ``keep`` backups of this kind and removes the rest with their
manifests and uploads archives.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, BinaryIO

from app.core.database import Database, MysqlDialect, SqliteDialect, dialect_from_url
from app.core.errors import DatabaseUnavailable
from app.dao.migration import MigrationDAO
from app.dao.table_digest import TableDigest, TableDigestDAO

MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_FORMAT = 1
CHECKSUM_ALGORITHM = "sha256 of canonical JSON rows in primary-key order (app/dao/table_digest.py)"
_STAMP = re.compile(r"^origin-(\d{8}-\d{6})\.")


class BackupFailed(RuntimeError):
    pass


@dataclass
class BackupResult:
    path: Path
    size: int
    sha256: str
    seconds: float
    removed: list[Path]
    manifest_path: Path | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    uploads_path: Path | None = None

    @property
    def tables(self) -> int:
        return len(self.manifest.get("tables", {}))

    @property
    def rows(self) -> int:
        return sum(int(t.get("rows") or 0) for t in self.manifest.get("tables", {}).values())


# --------------------------------------------------------------------------- names and files

def manifest_path(backup_path: Path) -> Path:
    """``origin-<stamp>.sql.gz`` -> ``origin-<stamp>.sql.gz.manifest.json``."""
    return backup_path.with_name(backup_path.name + MANIFEST_SUFFIX)


def uploads_path(backup_path: Path) -> Path:
    """``origin-<stamp>.sql.gz`` -> ``origin-<stamp>-uploads.tar.gz`` (same folder)."""
    match = _STAMP.match(backup_path.name)
    stem = f"origin-{match.group(1)}" if match else backup_path.name.split(".", 1)[0]
    return backup_path.with_name(f"{stem}-uploads.tar.gz")


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def private_file(path: Path) -> BinaryIO:
    """A new file opened for writing, mode 0600 from its first byte (whatever the umask)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")


def writable_folder(directory: Path) -> None:
    """Create ``directory`` if needed and prove a file can be written there (BackupFailed otherwise)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupFailed(f"the backup folder {directory} cannot be created: {exc.strerror or exc}") from exc
    probe = directory / f".origin-write-test-{uuid.uuid4().hex[:8]}"
    try:
        with private_file(probe):
            pass
        probe.unlink()
    except OSError as exc:
        raise BackupFailed(f"the backup folder {directory} is not writable: {exc.strerror or exc}") from exc


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        return moment.isoformat(timespec="seconds")
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- tools and connections

def client_tool(kind: str) -> str:
    """The MariaDB command-line tool ``kind`` ("dump" or "client") on PATH, or BackupFailed naming it."""
    names = ("mariadb-dump", "mysqldump") if kind == "dump" else ("mariadb", "mysql")
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise BackupFailed(f"{names[0]} is not installed (neither {names[0]} nor {names[1]} is on PATH;"
                       " install the mariadb-client package)")


def connection_problem(dialect: MysqlDialect, exc: Exception) -> str:
    """A one-line reason a MariaDB connection failed: wrong credentials told apart from no server."""
    cause = exc.__cause__ or exc
    code = cause.args[0] if getattr(cause, "args", None) else None
    where = f"MariaDB at {dialect.host}:{dialect.port}"
    if code in (1044, 1045, 1698):
        return (f"{where} refused user {dialect.user!r}: access denied (check the user name and password in"
                " the database URL)")
    if code == 1049:
        return f"{where} has no database {dialect.database!r}"
    return f"cannot connect to {where}: {cause}"


def open_checked(dialect: MysqlDialect) -> Database:
    db = Database(dialect)
    try:
        db.ping()
    except DatabaseUnavailable as exc:
        db.close()
        raise BackupFailed(connection_problem(dialect, exc)) from exc
    return db


def schema_version(db: Database) -> str | None:
    if "schema_migrations" not in db.tables():
        return None
    versions = MigrationDAO(db).applied_versions()
    return max(versions) if versions else None


def read_digests(db: Database) -> tuple[dict[str, TableDigest], str | None]:
    """Every table's digest and the schema version, read in one snapshot."""
    dao = TableDigestDAO(db)
    dao.repeatable_read()
    with db.transaction():
        return dao.digest_all(), schema_version(db)


# --------------------------------------------------------------------------- the two kinds of dump

def _sqlite_backup(source: str, target: Path) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _describe_sqlite(copy: Path) -> tuple[dict[str, TableDigest], str | None]:
    db = Database(SqliteDialect(str(copy)))
    try:
        verdict = TableDigestDAO(db).integrity_check()
        if verdict != "ok":
            raise BackupFailed(f"integrity check of the copy failed: {verdict}")
        return read_digests(db)
    finally:
        db.close()


def _mysql_backup(dialect: MysqlDialect, target: Path, tool: str) -> None:
    # No --events: Origin defines no scheduled events, and reading them needs the EVENT privilege, which
    # the application's account (flask print-grants) rightly lacks; --routines and --triggers work with it.
    argv = [tool, "--single-transaction", "--quick", "--routines", "--triggers", "--hex-blob",
            f"--host={dialect.host}", f"--port={dialect.port}", f"--user={dialect.user}", dialect.database]
    env = {**os.environ, "MYSQL_PWD": dialect.password}
    tail = b""
    with private_file(target) as raw, gzip.GzipFile(fileobj=raw, mode="wb") as out, subprocess.Popen(
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


def _table_entries(before: dict[str, TableDigest], after: dict[str, TableDigest]) -> dict[str, dict[str, Any]]:
    tables: dict[str, dict[str, Any]] = {}
    for name, digest in after.items():
        if before.get(name) == digest:
            tables[name] = {"rows": digest.rows, "checksum": digest.checksum}
        else:
            tables[name] = {"rows": digest.rows, "checksum": None, "changed_during_backup": True}
    return tables


def archive_uploads(upload_dir: Path, target: Path) -> int:
    """Write UPLOAD_DIR as a tar.gz (paths relative to it; folders and regular files only, symlinks and
    anything else skipped); returns the number of files."""
    count = 0
    with private_file(target) as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
        if upload_dir.is_dir():
            for root, dirs, files in os.walk(upload_dir, followlinks=False):
                dirs.sort()
                here = Path(root)
                for name in sorted(dirs):
                    path = here / name
                    if not path.is_symlink():
                        tar.add(path, arcname=path.relative_to(upload_dir).as_posix(), recursive=False)
                for name in sorted(files):
                    path = here / name
                    if path.is_symlink() or not path.is_file():
                        continue
                    info = tar.gettarinfo(path, arcname=path.relative_to(upload_dir).as_posix())
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    with path.open("rb") as handle:
                        tar.addfile(info, handle)
                    count += 1
    return count


# --------------------------------------------------------------------------- the backup

def backup(database_url: str, backup_dir: str | Path, now: datetime, keep: int | None = 14,
           upload_dir: str | Path | None = None) -> BackupResult:
    """Write one backup (and its manifest, and the uploads archive when ``upload_dir`` is given) into
    ``backup_dir``; then keep the newest ``keep`` backups of this kind (None: remove nothing)."""
    directory = Path(backup_dir)
    writable_folder(directory)
    dialect = dialect_from_url(database_url)
    stamp = now.strftime("%Y%m%d-%H%M%S")
    started = time.perf_counter()
    partials: list[Path] = []
    try:
        if isinstance(dialect, SqliteDialect):
            if dialect.path == ":memory:" or not Path(dialect.path).is_file():
                raise BackupFailed(f"the SQLite database {dialect.path} does not exist")
            pattern, target = "origin-*.sqlite3", directory / f"origin-{stamp}.sqlite3"
            partial = target.with_suffix(".partial")
            partials.append(partial)
            with private_file(partial):
                pass
            _sqlite_backup(dialect.path, partial)
            digests, version = _describe_sqlite(partial)
            tables = {name: {"rows": d.rows, "checksum": d.checksum} for name, d in digests.items()}
        else:
            assert isinstance(dialect, MysqlDialect)
            tool = client_tool("dump")
            pattern, target = "origin-*.sql.gz", directory / f"origin-{stamp}.sql.gz"
            partial = directory / f"origin-{stamp}.partial.gz"
            partials.append(partial)
            db = open_checked(dialect)
            try:
                before, _ = read_digests(db)
                _mysql_backup(dialect, partial, tool)
                after, version = read_digests(db)
            finally:
                db.close()
            tables = _table_entries(before, after)
        uploads_entry = None
        uploads_final = None
        if upload_dir is not None:
            uploads_final = uploads_path(target)
            uploads_partial = uploads_final.with_name(uploads_final.name + ".partial")
            partials.append(uploads_partial)
            files = archive_uploads(Path(upload_dir), uploads_partial)
            uploads_entry = {"file": uploads_final.name, "size": uploads_partial.stat().st_size,
                             "sha256": file_sha256(uploads_partial), "files": files}
        size, digest = partial.stat().st_size, file_sha256(partial)
        fsync_path(partial)
        partial.replace(target)  # only complete files carry the final name
        if uploads_final is not None:
            fsync_path(uploads_partial)
            uploads_partial.replace(uploads_final)
        manifest = {
            "format": MANIFEST_FORMAT,
            "backend": dialect.name,
            "created_at": _iso(now),
            "file": target.name,
            "size": size,
            "sha256": digest,
            "schema_version": version,
            "checksum_algorithm": CHECKSUM_ALGORITHM,
            "tables": tables,
            "uploads": uploads_entry,
        }
        manifest_final = manifest_path(target)
        manifest_partial = manifest_final.with_name(manifest_final.name + ".partial")
        partials.append(manifest_partial)
        with private_file(manifest_partial) as out:
            out.write(json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8"))
        manifest_partial.replace(manifest_final)
    except sqlite3.Error as exc:
        raise BackupFailed(f"the SQLite backup failed: {exc}") from exc
    except OSError as exc:
        raise BackupFailed(f"cannot write the backup in {directory}: {exc.strerror or exc}") from exc
    finally:
        for leftover in partials:
            leftover.unlink(missing_ok=True)
    removed = prune(directory, pattern, keep) if keep is not None else []
    return BackupResult(target, size, digest, time.perf_counter() - started, removed, manifest_final, manifest,
                        uploads_final)


def prune(directory: Path, pattern: str, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` backups matching ``pattern``, each with its manifest and its
    uploads archive; returns the backups removed."""
    removed = []
    for old in sorted(directory.glob(pattern), reverse=True)[max(keep, 1):]:
        old.unlink()
        manifest_path(old).unlink(missing_ok=True)
        uploads_path(old).unlink(missing_ok=True)
        removed.append(old)
    return removed


# --------------------------------------------------------------------------- hourly uploads snapshot

@dataclass
class SnapshotResult:
    target: Path
    copied: int
    unchanged: int
    removed: int
    waiting: int  # gone from UPLOAD_DIR, kept until keep_days have passed
    bytes_copied: int


SNAPSHOT_FOLDER = "uploads-snapshot"
_GONE_FILE = ".gone.json"


def snapshot_uploads(upload_dir: str | Path, backup_dir: str | Path, now: datetime, keep_days: int = 14) -> SnapshotResult:
    """The runbook's hourly incremental snapshot of ``uploads/``: BACKUP_DIR/uploads-snapshot mirrors
    UPLOAD_DIR, copying only files that are new or changed (size or modification time) since the last
    run. Uploaded documents are written once under a random name and never changed, so an hour's run
    copies the hour's uploads only. A file removed from UPLOAD_DIR (a document deleted, a former student
    anonymised) stays in the snapshot for ``keep_days``, long enough to restore it after a mistake, then
    goes, so the snapshot keeps nobody's data longer than the nightly backups do. Regular files only
    (links are skipped); folders 0700, files 0600; each copy is written under a temporary name."""
    source, target = Path(upload_dir), Path(backup_dir) / SNAPSHOT_FOLDER
    writable_folder(Path(backup_dir))
    target.mkdir(mode=0o700, exist_ok=True)
    copied = unchanged = bytes_copied = 0
    present: set[str] = set()
    if source.is_dir():
        for root, dirs, files in os.walk(source, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not (Path(root) / d).is_symlink())
            for name in sorted(files):
                path = Path(root) / name
                if path.is_symlink() or not path.is_file():
                    continue
                relative = path.relative_to(source)
                present.add(relative.as_posix())
                copy = target / relative
                stat = path.stat()
                if copy.is_file() and copy.stat().st_size == stat.st_size and int(copy.stat().st_mtime) == int(stat.st_mtime):
                    unchanged += 1
                    continue
                copy.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                partial = copy.with_name(f".{copy.name}.partial")
                with path.open("rb") as src, private_file(partial) as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                os.utime(partial, (stat.st_atime, stat.st_mtime))
                partial.replace(copy)
                copied += 1
                bytes_copied += stat.st_size
    removed, waiting = _expire_gone(target, present, now, keep_days)
    return SnapshotResult(target, copied, unchanged, removed, waiting, bytes_copied)


def _expire_gone(target: Path, present: set[str], now: datetime, keep_days: int) -> tuple[int, int]:
    """Files in the snapshot but no longer in UPLOAD_DIR: note when each was first missed (in
    ``.gone.json``), delete those missed for ``keep_days``; a file that comes back is forgotten."""
    ledger_path = target / _GONE_FILE
    try:
        gone: dict[str, str] = json.loads(ledger_path.read_text()) if ledger_path.exists() else {}
    except (OSError, ValueError):
        gone = {}
    cutoff = now - timedelta(days=keep_days)
    removed, kept = 0, {}
    for path in sorted(target.rglob("*")):
        if not path.is_file() or path.name == _GONE_FILE or path.name.endswith(".partial"):
            continue
        relative = path.relative_to(target).as_posix()
        if relative in present:
            continue
        first_missed = gone.get(relative, now.isoformat(timespec="seconds"))
        if datetime.fromisoformat(first_missed) <= cutoff:
            path.unlink()
            removed += 1
        else:
            kept[relative] = first_missed
    partial = ledger_path.with_name(f"{_GONE_FILE}.partial")
    with private_file(partial) as handle:
        handle.write(json.dumps(kept, indent=1, sort_keys=True).encode())
    partial.replace(ledger_path)
    return removed, len(kept)
