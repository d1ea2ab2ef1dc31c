"""Built report CSVs kept as files, so the same export is written once and then served as a file.

A chain's ageing CSV holds every owing invoice (58,000 rows, 3.6 MB at scale L): writing it costs seconds
of CPU, and the people who download it after the nightly refresh ask for the same file. The file is
kept under a key of everything its content depends on:

- the report, the asker's scope (role, branch, instructor, student) and the request's arguments as given;
- today's date (the ageing's days overdue, the default ranges);
- the data's version: the last audited data change (audit_chain.last_data_id; sign-ins, refusals and
  exports leave it, services/audit.NO_DATA_CHANGE) and the last refresh of the maintained summaries the
  reports read (stat_freshness).

Anything that changes the figures through the application therefore gives a new key. A change made
outside it (SQL by hand) is covered by the age limit: a file is served for at most ``EXPORT_CACHE_SECONDS``
(300 s by default; 0 turns the cache off). Files are written to a temporary name and renamed when whole,
so a reader never gets a half-written file; an interrupted download leaves nothing behind. Old files
are removed whenever a new one is written.

**One build at a time.** When the file is missing (the first asker of the day, or after a change) and
several people ask for it at once (each worker would otherwise build the same 3.6 MB: five builds
sharing two cores took seconds each, and one ran past the worker timeout in a load run), the first
claims the build (``claim``: a ``.lock-<key>`` file created exclusively) and the others wait for its file
(``wait_for``, at most ``WAIT_SECONDS``), then are served from it. A claim older than
``LOCK_STALE_SECONDS`` (a killed worker's, or a download that never started) is taken over; a waiter
that gives up builds the file itself. The directory (``EXPORT_CACHE_DIR``, default
``instance/exports``) holds personal data like the database: it is created 0700, its files 0600.

No Flask here: the blueprint passes the directory, the clock and the stamp (ReportQueriesDAO.export_stamp).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from app.services.scope import Actor

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,120}$")
SEPARATOR = "__"
LOCK_PREFIX = ".lock-"
LOCK_STALE_SECONDS = 120  # a claim this old is taken over (its builder died or never started)
WAIT_SECONDS = 30         # how long an asker waits for another worker's build before building itself
POLL_SECONDS = 0.1


class ExportCache:
    def __init__(self, directory: str | os.PathLike, max_age_seconds: int):
        self.directory = Path(directory)
        self.max_age = int(max_age_seconds)

    @property
    def enabled(self) -> bool:
        return self.max_age > 0

    @staticmethod
    def key(report: str, actor: Actor, args: Iterable[tuple[str, str]], today: Any, stamp: Mapping[str, Any]) -> str:
        """A hex digest of everything the file's content depends on (see the module's docstring)."""
        material = {"report": report, "role": actor.role, "branch": actor.branch_filter(),
                    "instructor": actor.instructor_id, "student": actor.student_id,
                    "args": sorted((str(k), str(v)) for k, v in args), "today": str(today),
                    "stamp": {k: str(v) for k, v in sorted(stamp.items())}}
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()

    def find(self, key: str, now: float | None = None) -> tuple[Path, str] | None:
        """(path, download name) of a whole file kept under ``key`` and younger than the age limit."""
        if not self.enabled or not self.directory.is_dir():
            return None
        moment = time.time() if now is None else now
        for path in self.directory.glob(f"{key}{SEPARATOR}*"):
            try:
                age = moment - path.stat().st_mtime
            except FileNotFoundError:  # removed by a writer's clean-up meanwhile
                continue
            if 0 <= age < self.max_age and path.name.endswith(".csv"):
                return path, path.name[len(key) + len(SEPARATOR):]
        return None

    def _lock(self, key: str) -> Path:
        return self.directory / f"{LOCK_PREFIX}{key}"

    def claim(self, key: str, now: float | None = None) -> bool:
        """Claim the build of ``key`` (True), or False while another asker's fresh claim holds it."""
        if not self.enabled:
            return False
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = self._lock(key)
        for _ in range(2):
            try:
                os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
                return True
            except FileExistsError:
                try:
                    age = (time.time() if now is None else now) - lock.stat().st_mtime
                except FileNotFoundError:  # released meanwhile: try again
                    continue
                if 0 <= age < LOCK_STALE_SECONDS:
                    return False
                try:
                    lock.unlink()  # stale: take it over
                except FileNotFoundError:
                    pass
        return False

    def release(self, key: str) -> None:
        try:
            self._lock(key).unlink()
        except FileNotFoundError:
            pass

    def wait_for(self, key: str, timeout: float = WAIT_SECONDS, *, poll: float = POLL_SECONDS,
                 sleep=time.sleep, clock=time.monotonic) -> tuple[Path, str] | None:
        """The kept file of ``key`` once another asker's build has written it; None when that build ends
        without one (it failed, or its download was abandoned) or after ``timeout`` seconds."""
        deadline = clock() + timeout
        while True:
            found = self.find(key)
            if found is not None:
                return found
            if not self._lock(key).exists() or clock() >= deadline:
                return None
            sleep(poll)

    def write_through(self, key: str, filename: str, chunks: Iterable[str]) -> Iterator[str]:
        """Yield ``chunks`` (the response streams as before) while writing them to a temporary file, which
        becomes the kept file once the last chunk is out. A failure or an abandoned download removes it.
        A claim is released by its holder (the blueprint: when the response is closed)."""
        if not self.enabled or not _SAFE_NAME.match(filename):
            yield from chunks
            return
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".building-", suffix=".part")
        done = False
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                for chunk in chunks:
                    out.write(chunk)
                    yield chunk
            os.replace(temporary, self.directory / f"{key}{SEPARATOR}{filename}")
            done = True
        finally:
            if not done:
                try:
                    os.unlink(temporary)
                except FileNotFoundError:
                    pass
        self.prune()

    def prune(self, now: float | None = None) -> int:
        """Remove kept files past the age limit (and temporary files an hour old: a killed writer's)."""
        moment = time.time() if now is None else now
        removed = 0
        for path in self.directory.iterdir() if self.directory.is_dir() else ():
            try:
                age = moment - path.stat().st_mtime
                limit = (3600 if path.name.startswith(".building-")
                         else LOCK_STALE_SECONDS if path.name.startswith(LOCK_PREFIX) else self.max_age)
                if age >= limit or age < 0:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
