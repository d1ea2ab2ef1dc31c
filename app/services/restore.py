"""Restoring a backup (``flask restore``) and the quarterly restore drill (``flask restore-drill``).

A restore never works on the live database directly. First the backup is verified whole, before
anything is touched: SQLite ``PRAGMA integrity_check`` on the file; a MariaDB dump must decompress to
its end and finish with mariadb-dump's "Dump completed" line; with a manifest beside it, the file's
SHA-256 must match. Then the target must be empty (no table holds rows, apart from the schema ledger
and the audit chain head that ``flask init-db`` writes on its own) unless ``force``. The backup is
loaded into a scratch copy next to the target and checked there (integrity, and with a manifest every
table's rows and checksum), and only then swapped in:

- SQLite: the scratch file sits in the target's folder; the swap waits for an exclusive lock on the
  target, empties a WAL into it, renames the scratch over it (atomic) and removes stale ``-wal``,
  ``-shm`` and ``-journal`` files.
- MariaDB: the dump is loaded with the ``mariadb`` client (password in ``MYSQL_PWD``, never on the
  command line) into a scratch database on the same server; one ``RENAME TABLE`` statement moves every
  target table into a trash database and every scratch table into the target (atomic; foreign keys
  follow their tables); trash and scratch are then dropped.
- Uploads (``--with-uploads``): the archive is extracted into a scratch folder beside UPLOAD_DIR
  (plain files and folders only: links, devices and paths leading out of the folder refuse the whole
  archive), then the folders are swapped by two renames.

Any failure before the swap leaves the target exactly as it was, and the scratch copies are removed.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import uuid
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Callable, ContextManager, Iterator

from app.core.database import Database, MysqlDialect, SqliteDialect, dialect_from_url
from app.core.errors import DatabaseUnavailable
from app.dao.migration import MigrationDAO
from app.dao.table_digest import DatabaseSwapDAO, TableDigest, TableDigestDAO
from app.services import audit
from app.services import backup as backups
from app.services.backup import BackupFailed, BackupResult

# Rows that ``flask init-db`` writes into a new database: they do not make a target "not empty".
SCHEMA_ONLY_TABLES = ("schema_migrations", "audit_chain")
SQLITE_MAGIC = b"SQLite format 3\x00"
GZIP_MAGIC = b"\x1f\x8b"
DUMP_COMPLETED = b"-- Dump completed"
_NAMES_A_DATABASE = re.compile(rb"\n(?:USE |CREATE DATABASE|DROP DATABASE)")
_DB_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
NOT_COMPARED = "not compared (written to during the backup)"

Advance = Callable[[int], None]
ProgressFactory = Callable[[int, str], ContextManager[Advance]]


class RestoreFailed(BackupFailed):
    pass


class TargetNotEmpty(RestoreFailed):
    pass


@contextmanager
def no_progress(length: int, label: str) -> Iterator[Advance]:
    yield lambda count: None


@dataclass
class VerifiedBackup:
    path: Path
    kind: str  # "sqlite" or "mysql", the backend the backup restores into
    size: int
    sha256: str
    content_bytes: int  # the dump's size uncompressed (MariaDB) or the file's size (SQLite)
    manifest: dict[str, Any] | None
    uploads: Path | None = None


@dataclass(frozen=True)
class TableCheck:
    table: str
    rows: int | None
    expected_rows: int | None
    status: str  # ok, DIFFERENT, MISSING, EXTRA, or NOT_COMPARED

    @property
    def ok(self) -> bool:
        return self.status in ("ok", NOT_COMPARED)


@dataclass
class RestoreResult:
    target: str
    tables: int
    rows: int
    seconds: float
    schema_version: str | None
    manifest_checked: bool
    uploads_files: int | None = None


@dataclass
class DrillResult:
    backup: BackupResult
    checks: list[TableCheck]
    restore_seconds: float
    rows: int
    audit: Any = None  # services.audit.VerifyResult of the restored copy's hash chain
    ok: bool = field(init=False)

    def __post_init__(self) -> None:
        self.ok = bool(self.checks) and all(c.ok for c in self.checks) and (self.audit is None or self.audit.ok)


# --------------------------------------------------------------------------- verification

def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest beside backup ``path`` (None when there is none)."""
    manifest = backups.manifest_path(path)
    if not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RestoreFailed(f"the manifest {manifest.name} cannot be read: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("tables"), dict) or "sha256" not in data:
        raise RestoreFailed(f"the manifest {manifest.name} is not an Origin backup manifest")
    return data


def verify_backup(path: str | Path, with_uploads: bool = False) -> VerifiedBackup:
    """Check a backup file whole without touching any database (RestoreFailed names the problem)."""
    path = Path(path)
    if not path.exists():
        raise RestoreFailed(f"the backup file {path} does not exist")
    if not path.is_file():
        raise RestoreFailed(f"{path} is not a backup file")
    if path.name.endswith(backups.MANIFEST_SUFFIX):
        raise RestoreFailed(f"{path.name} is a manifest: give the backup file itself"
                            f" ({path.name[:-len(backups.MANIFEST_SUFFIX)]})")
    if path.name.endswith("-uploads.tar.gz"):
        raise RestoreFailed(f"{path.name} is an uploads archive: give the database backup beside it and add"
                            " --with-uploads")
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(SQLITE_MAGIC):
        kind = "sqlite"
    elif head.startswith(GZIP_MAGIC):
        kind = "mysql"
    else:
        raise RestoreFailed(f"{path.name} is not an Origin backup (neither a SQLite database nor a gzip-compressed"
                            " MariaDB dump)")
    manifest = read_manifest(path)
    if manifest is not None and manifest.get("backend") != kind:
        raise RestoreFailed(f"{path.name} is a {_label(kind)} backup but its manifest says {manifest.get('backend')}")
    digest = backups.file_sha256(path)
    if manifest is not None and manifest["sha256"] != digest:
        raise RestoreFailed(f"{path.name} does not match its manifest: its sha256 is {digest[:16]}..., the manifest"
                            f" says {str(manifest['sha256'])[:16]}... (the file is damaged or is not the one the"
                            " manifest describes)")
    size = path.stat().st_size
    content = _check_sqlite_file(path) if kind == "sqlite" else _check_dump(path)
    uploads = _uploads_archive(path, manifest) if with_uploads else None
    return VerifiedBackup(path, kind, size, digest, content, manifest, uploads)


def _check_sqlite_file(path: Path) -> int:
    db = Database(SqliteDialect(str(path)))
    try:
        verdict = TableDigestDAO(db).integrity_check()
    except (sqlite3.Error, DatabaseUnavailable) as exc:
        raise RestoreFailed(f"{path.name} is damaged: {exc}") from exc
    finally:
        db.close()
    if verdict != "ok":
        raise RestoreFailed(f"{path.name} is damaged: the integrity check says {verdict[:200]}")
    return path.stat().st_size


def _check_dump(path: Path) -> int:
    """Decompress the whole dump once: complete gzip stream, completion marker, one database only."""
    total, tail = 0, b"\n"
    try:
        with gzip.open(path, "rb") as stream:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                window = tail + chunk
                if _NAMES_A_DATABASE.search(window):
                    raise RestoreFailed(f"{path.name} names a database of its own (USE or CREATE DATABASE): it"
                                        " was not made by flask backup, and loading it could write elsewhere")
                total += len(chunk)
                tail = window[-256:]
    except EOFError as exc:
        raise RestoreFailed(f"{path.name} is damaged: the compressed data is cut short (truncated file)") from exc
    except (gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise RestoreFailed(f"{path.name} is damaged: the compressed data is corrupt ({exc})") from exc
    if DUMP_COMPLETED not in tail:
        raise RestoreFailed(f"{path.name} is incomplete: it does not end with mariadb-dump's 'Dump completed' line"
                            " (the dump was cut short)")
    return total


def _uploads_archive(path: Path, manifest: dict[str, Any] | None) -> Path:
    entry = (manifest or {}).get("uploads")
    archive = path.with_name(Path(str(entry["file"])).name) if entry else backups.uploads_path(path)
    if not archive.is_file():
        raise RestoreFailed(f"--with-uploads: there is no uploads archive {archive.name} beside the backup"
                            " (was the backup taken with --with-uploads?)")
    if entry and backups.file_sha256(archive) != entry.get("sha256"):
        raise RestoreFailed(f"{archive.name} does not match the manifest's sha256 (the archive is damaged or"
                            " replaced)")
    return archive


def _label(kind: str) -> str:
    return "SQLite" if kind == "sqlite" else "MariaDB"


# --------------------------------------------------------------------------- comparison

def compare(manifest: dict[str, Any], digests: dict[str, TableDigest]) -> list[TableCheck]:
    """Each table of the manifest and of the restored copy: ok, DIFFERENT (rows or checksum), MISSING
    from the copy, EXTRA in it, or not compared (the manifest could not pin it down)."""
    expected: dict[str, dict[str, Any]] = manifest.get("tables") or {}
    checks = []
    for name in sorted(set(expected) | set(digests)):
        entry, got = expected.get(name), digests.get(name)
        if entry is None:
            checks.append(TableCheck(name, got.rows if got else None, None, "EXTRA"))
        elif got is None:
            checks.append(TableCheck(name, None, entry.get("rows"), "MISSING"))
        elif entry.get("checksum") is None:
            checks.append(TableCheck(name, got.rows, entry.get("rows"), NOT_COMPARED))
        elif entry.get("rows") == got.rows and entry["checksum"] == got.checksum:
            checks.append(TableCheck(name, got.rows, entry.get("rows"), "ok"))
        else:
            checks.append(TableCheck(name, got.rows, entry.get("rows"), "DIFFERENT"))
    return checks


def occupied_tables(db: Database) -> dict[str, int]:
    """Tables holding rows (by name, with their counts), apart from what ``flask init-db`` writes."""
    counts = MigrationDAO(db).row_counts(db.tables())
    return {name: n for name, n in counts.items() if n and name not in SCHEMA_ONLY_TABLES}


def _not_empty(where: str, occupied: dict[str, int], problem: str | None) -> str:
    if problem:
        return f"the target {where} cannot be read ({problem}); use --force to replace it"
    sample = ", ".join(f"{name} {count:,}" for name, count in sorted(occupied.items(), key=lambda kv: -kv[1])[:3])
    return (f"the target {where} is not empty: {len(occupied)} tables hold rows ({sample}, ...); restoring replaces"
            " all of it: add --force if that is what you want")


# --------------------------------------------------------------------------- targets

class _SqliteTarget:
    def __init__(self, path: Path):
        self.path = path
        self.scratch = path.parent / f".{path.name}.restore-{uuid.uuid4().hex[:8]}"

    def describe(self) -> str:
        return f"SQLite database {self.path}"

    def prepare(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RestoreFailed(f"the folder of {self.path} cannot be created: {exc.strerror or exc}") from exc

    def occupied(self) -> tuple[dict[str, int], str | None]:
        if not self.path.is_file() or self.path.stat().st_size == 0:
            return {}, None
        db = Database(SqliteDialect(str(self.path)))
        try:
            return occupied_tables(db), None
        except (sqlite3.Error, DatabaseUnavailable) as exc:
            return {}, str(exc)
        finally:
            db.close()

    def load_scratch(self, verified: VerifiedBackup, progress: ProgressFactory) -> None:
        with backups.private_file(self.scratch):
            pass
        if self.path.is_file():  # the restored file keeps the live file's owner and mode
            info = self.path.stat()
            os.chmod(self.scratch, info.st_mode & 0o777)
            try:
                os.chown(self.scratch, info.st_uid, info.st_gid)
            except PermissionError:
                pass
        source = sqlite3.connect(verified.path.resolve().as_uri() + "?mode=ro", uri=True)
        target = sqlite3.connect(self.scratch)
        page = _page_size(verified.path)
        try:
            with progress(verified.size, "restore: copying the database") as advance:
                done = 0

                def step(status: int, remaining: int, total: int) -> None:
                    nonlocal done
                    now = (total - remaining) * page
                    advance(now - done)
                    done = now

                source.backup(target, pages=1024, progress=step)
        finally:
            target.close()
            source.close()

    def open_scratch(self) -> Database:
        return Database(SqliteDialect(str(self.scratch)))

    def scratch_digests(self) -> tuple[dict[str, TableDigest], str | None]:
        db = self.open_scratch()
        try:
            verdict = TableDigestDAO(db).integrity_check()
            if verdict != "ok":
                raise RestoreFailed(f"the restored copy fails its integrity check: {verdict[:200]}")
            return backups.read_digests(db)
        finally:
            db.close()

    def swap(self) -> None:
        backups.fsync_path(self.scratch)
        lock = None
        if self.path.is_file():
            lock = Database(SqliteDialect(str(self.path)))
            dao = TableDigestDAO(lock)
            try:
                dao.checkpoint()
                dao.begin_exclusive()
            except DatabaseUnavailable as exc:
                lock.close()
                raise RestoreFailed(f"the target {self.path} is in use (stop the application and cron first):"
                                    f" {exc}") from exc
            except sqlite3.Error:  # an unreadable target (the reason to restore): nothing to wait for
                lock.close()
                lock = None
        try:
            os.replace(self.scratch, self.path)
            for suffix in ("-wal", "-shm", "-journal"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        finally:
            if lock is not None:
                try:
                    TableDigestDAO(lock).release()
                except Exception:  # noqa: BLE001 - the old file is gone; releasing its lock is all that is left
                    pass
                lock.close()
        backups.fsync_path(self.path.parent)

    def cleanup(self) -> None:
        for leftover in (self.scratch, Path(f"{self.scratch}-journal")):
            leftover.unlink(missing_ok=True)


def _page_size(path: Path) -> int:
    with path.open("rb") as handle:
        header = handle.read(18)
    size = int.from_bytes(header[16:18], "big")
    return 65536 if size == 1 else (size or 4096)


class _MysqlTarget:
    def __init__(self, dialect: MysqlDialect, label: str = "restore"):
        if not _DB_NAME.match(dialect.database or ""):
            raise RestoreFailed(f"the target database name {dialect.database!r} is missing or unusual"
                                " (letters, digits and _ only)")
        self.dialect = dialect
        tag = uuid.uuid4().hex[:8]
        base = dialect.database[:40]
        self.scratch_name, self.trash_name = f"{base}_{label}_{tag}", f"{base}_trash_{tag}"
        self.server: Database | None = None
        self.tool = ""

    def _dialect(self, database: str) -> MysqlDialect:
        d = self.dialect
        return MysqlDialect(d.host, d.port, d.user, d.password, database, d.connect_timeout)

    def describe(self) -> str:
        return f"MariaDB database {self.dialect.database} on {self.dialect.host}:{self.dialect.port}"

    def prepare(self) -> None:
        self.tool = backups.client_tool("client")
        self.server = backups.open_checked(self._dialect(""))
        self.swaps = DatabaseSwapDAO(self.server)

    def occupied(self) -> tuple[dict[str, int], str | None]:
        if not self.swaps.database_exists(self.dialect.database):
            return {}, None
        db = backups.open_checked(self.dialect)
        try:
            return occupied_tables(db), None
        finally:
            db.close()

    def load_scratch(self, verified: VerifiedBackup, progress: ProgressFactory) -> None:
        self.swaps.create_database(self.scratch_name)
        d = self.dialect
        argv = [self.tool, f"--host={d.host}", f"--port={d.port}", f"--user={d.user}",
                "--default-character-set=utf8mb4", "--batch", self.scratch_name]
        env = {**os.environ, "MYSQL_PWD": d.password}
        with tempfile.TemporaryFile() as errors, gzip.open(verified.path, "rb") as stream:
            process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors, env=env)
            try:
                with progress(verified.content_bytes, "restore: loading the dump") as advance:
                    for chunk in iter(lambda: stream.read(1 << 20), b""):
                        process.stdin.write(chunk)
                        advance(len(chunk))
                process.stdin.close()
            except BrokenPipeError:  # the client stopped at an error: its message follows
                pass
            finally:
                try:
                    process.stdin.close()
                except BrokenPipeError:
                    pass
                process.wait()
            errors.seek(0)
            message = errors.read().decode("utf-8", errors="replace").strip()
        if process.returncode != 0:
            raise RestoreFailed(f"loading the dump into the scratch database {self.scratch_name} failed:"
                                f" {' '.join(message.split())[:300] or f'exit {process.returncode}'}")

    def open_scratch(self) -> Database:
        return backups.open_checked(self._dialect(self.scratch_name))

    def scratch_digests(self) -> tuple[dict[str, TableDigest], str | None]:
        db = self.open_scratch()
        try:
            if not db.tables():
                raise RestoreFailed("the dump created no tables")
            return backups.read_digests(db)
        finally:
            db.close()

    def swap(self) -> None:
        if not self.swaps.database_exists(self.dialect.database):
            self.swaps.create_database(self.dialect.database)
        self.swaps.create_database(self.trash_name)
        self.swaps.swap(self.dialect.database, self.scratch_name, self.trash_name)

    def cleanup(self) -> None:
        if self.server is None:
            return
        try:
            for name in (self.scratch_name, self.trash_name):
                self.swaps.drop_database(name)
        finally:
            self.server.close()


# --------------------------------------------------------------------------- uploads

class _UploadsSwap:
    def __init__(self, upload_dir: Path):
        self.dir = upload_dir.absolute()
        tag = uuid.uuid4().hex[:8]
        self.staged = self.dir.parent / f".{self.dir.name}.restore-{tag}"
        self.old = self.dir.parent / f".{self.dir.name}.old-{tag}"
        self.files = 0
        self.swapped = False

    def stage(self, archive: Path) -> int:
        """Extract ``archive`` into the scratch folder, refusing anything but plain files and folders inside."""
        self.dir.parent.mkdir(parents=True, exist_ok=True)
        self.staged.mkdir(mode=0o750)
        root = self.staged.resolve()
        try:
            with tarfile.open(archive, "r:gz") as tar:
                for member in tar:
                    relative = _member_path(member, archive.name)
                    if relative is None:
                        continue
                    destination = root / relative
                    if root not in destination.resolve().parents:
                        raise RestoreFailed(f"{archive.name} holds a path outside the uploads folder: {member.name!r}")
                    if member.isdir():
                        destination.mkdir(mode=0o750, parents=True, exist_ok=True)
                        continue
                    destination.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
                    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640)
                    source = tar.extractfile(member)
                    with os.fdopen(fd, "wb") as out, source:
                        shutil.copyfileobj(source, out)
                    self.files += 1
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            raise RestoreFailed(f"{archive.name} cannot be extracted: {exc}") from exc
        return self.files

    def swap(self) -> None:
        had = self.dir.exists()
        if had:
            os.rename(self.dir, self.old)
        try:
            os.rename(self.staged, self.dir)
        except OSError:
            if had:
                os.rename(self.old, self.dir)
            raise
        self.swapped = True

    def keep_staged(self) -> Path:
        """After a failed swap: keep the extracted files for the operator (cleanup leaves them)."""
        kept, self.staged = self.staged, self.dir.parent / f".{self.dir.name}.restore-kept-{uuid.uuid4().hex[:8]}"
        return kept

    def cleanup(self) -> None:
        shutil.rmtree(self.staged, ignore_errors=True)
        if self.swapped:  # only then is the old folder surplus
            shutil.rmtree(self.old, ignore_errors=True)


def _member_path(member: tarfile.TarInfo, archive: str) -> Path | None:
    if not (member.isreg() or member.isdir()):
        kind = "a link" if member.issym() or member.islnk() else "a special file"
        raise RestoreFailed(f"{archive} holds {kind} ({member.name!r}): only plain files and folders are restored")
    name = member.name
    pure = PurePosixPath(name)
    if "\\" in name or pure.is_absolute() or ".." in pure.parts:
        raise RestoreFailed(f"{archive} holds a path outside the uploads folder: {name!r}")
    parts = [p for p in pure.parts if p not in ("", ".")]
    return Path(*parts) if parts else None


def has_files(directory: Path) -> bool:
    if not directory.is_dir():
        return False
    for _root, _dirs, files in os.walk(directory):
        if files:
            return True
    return False


# --------------------------------------------------------------------------- restore and drill

def _target_for(dialect: Any, label: str = "restore") -> _SqliteTarget | _MysqlTarget:
    if isinstance(dialect, SqliteDialect):
        if dialect.path == ":memory:":
            raise RestoreFailed("cannot restore into an in-memory SQLite database")
        return _SqliteTarget(Path(dialect.path))
    return _MysqlTarget(dialect, label)


def restore(verified: VerifiedBackup, target_url: str, *, upload_dir: str | Path | None = None, force: bool = False,
            progress: ProgressFactory = no_progress) -> RestoreResult:
    """Restore a verified backup into ``target_url`` (and its uploads into ``upload_dir`` when the backup
    was verified with its uploads archive): scratch copy, check, then swap."""
    started = time.perf_counter()
    dialect = dialect_from_url(target_url)
    if dialect.name != verified.kind:
        raise RestoreFailed(f"{verified.path.name} is a {_label(verified.kind)} backup but the target is"
                            f" {_label(dialect.name)}: restore it into a {_label(verified.kind)} database")
    target = _target_for(dialect)
    uploads = _UploadsSwap(Path(upload_dir)) if verified.uploads is not None and upload_dir is not None else None
    try:
        target.prepare()
        occupied, problem = target.occupied()
        if (occupied or problem) and not force:
            raise TargetNotEmpty(_not_empty(target.describe(), occupied, problem))
        if uploads is not None:
            if os.path.ismount(uploads.dir):
                raise RestoreFailed(f"the uploads folder {uploads.dir} is a mount point and cannot be swapped:"
                                    " point UPLOAD_DIR at a folder inside it")
            if has_files(uploads.dir) and not force:
                raise TargetNotEmpty(f"the uploads folder {uploads.dir} already holds files; restoring replaces"
                                     " them all: add --force if that is what you want")
            uploads.stage(verified.uploads)
        target.load_scratch(verified, progress)
        digests, version = target.scratch_digests()
        if verified.manifest is not None:
            bad = [c for c in compare(verified.manifest, digests) if not c.ok]
            if bad:
                named = ", ".join(f"{c.table} {c.status}" for c in bad[:5])
                raise RestoreFailed(f"the restored copy does not match the manifest ({named}); nothing was replaced")
        target.swap()
        if uploads is not None:
            try:
                uploads.swap()
            except OSError as exc:
                kept = uploads.keep_staged()
                raise RestoreFailed(f"the database was restored, but the uploads folder could not be swapped in"
                                    f" ({exc.strerror or exc}): the restored files are in {kept}") from exc
    except BackupFailed:
        raise
    except (OSError, sqlite3.Error, DatabaseUnavailable) as exc:
        raise RestoreFailed(f"restore stopped, nothing was replaced: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - a driver error (e.g. no CREATE DATABASE right) as one clear line
        raise RestoreFailed(f"restore stopped, nothing was replaced: {type(exc).__name__}: {exc}") from exc
    finally:
        target.cleanup()
        if uploads is not None:
            uploads.cleanup()
    return RestoreResult(target.describe(), len(digests), sum(d.rows for d in digests.values()),
                         time.perf_counter() - started, version, verified.manifest is not None,
                         uploads.files if uploads is not None else None)


def drill(database_url: str, backup_dir: str | Path, now: datetime,
          progress: ProgressFactory = no_progress) -> DrillResult:
    """The quarterly restore drill: a fresh backup (kept, not pruned), restored into a scratch copy (a
    temporary SQLite file, or a scratch database on the same MariaDB server), every table compared with
    the manifest, the scratch removed."""
    result = backups.backup(database_url, backup_dir, now, keep=None)
    started = time.perf_counter()
    verified = verify_backup(result.path)
    dialect = dialect_from_url(database_url)
    scratch_dir = None
    if isinstance(dialect, SqliteDialect):
        scratch_dir = Path(tempfile.mkdtemp(prefix="origin-drill-"))
        target: _SqliteTarget | _MysqlTarget = _SqliteTarget(scratch_dir / "drill.sqlite3")
    else:
        target = _MysqlTarget(dialect, "drill")
    try:
        target.prepare()
        target.load_scratch(verified, progress)
        seconds = time.perf_counter() - started
        digests, _ = target.scratch_digests()
        restored = target.open_scratch()
        try:  # a business invariant beyond the checksums: the restored audit trail's hash chain verifies
            chain = audit.verify(restored)
        finally:
            restored.close()
    except BackupFailed:
        raise
    except Exception as exc:  # noqa: BLE001 - one clear line for the operator, whatever the driver raised
        raise RestoreFailed(f"the drill's restore failed: {type(exc).__name__}: {exc}") from exc
    finally:
        target.cleanup()
        if scratch_dir is not None:
            shutil.rmtree(scratch_dir, ignore_errors=True)
    checks = compare(result.manifest, digests)
    return DrillResult(result, checks, seconds, sum(d.rows for d in digests.values()), chain)
