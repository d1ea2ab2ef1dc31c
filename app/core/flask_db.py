"""The only Flask-aware database code: one Database per app context, closed at teardown.

The connection is built per request from ``current_app.config`` (so a changed DATABASE_URL takes
effect at the next request). A SQLite file connection is the exception: at teardown it is kept for the
next request of the same thread (``_Idle``), because opening one and parsing the schema on its first
statement cost about 1.3 ms, and its prepared statements stay cached. It is reused only for the same URL,
in the same process, while the file is still the same file (device and inode); anything left open is
rolled back before it is kept, and a request that failed with an exception closes it. A MariaDB
connection is kept the same way in a process's main thread (a gunicorn sync worker: opening one costs
about 1 ms and 0.7 ms of CPU per request, more with TLS); before reuse one COM_INIT_DB round trip proves
the server still answers and selects the URL's database again (``_still_usable``).

Once the database has proved unreachable in a request (``mark_unavailable``), ``get_db()`` raises at
once instead of trying again: the error page and any audit of the failure never open a second
connection to a database that is down.
"""
from __future__ import annotations

import os
import threading

from flask import Flask, current_app, g

from app.config import database_url
from app.core.database import Database
from app.core.errors import DatabaseUnavailable


def get_db() -> Database:
    down = g.get("database_unavailable")
    if down is not None:
        raise DatabaseUnavailable(down.message)
    if "db" not in g:
        url = database_url(current_app.config)
        g.db = _idle.take(url) or Database.from_url(url, current_app.config["DB_CONNECT_TIMEOUT"])
    return g.db


class _Idle(threading.local):
    """This thread's SQLite connection between two requests (module doc). One slot: a request for another
    database closes it."""

    db: Database | None = None
    url: str = ""
    pid: int = 0
    identity: tuple[int, int] | None = None

    def take(self, url: str) -> Database | None:
        db, self.db = self.db, None
        if db is None:
            return None
        if self.pid != os.getpid():  # inherited through fork: never used (nor closed) here
            return None
        if url == self.url and db.backend == "mysql":
            return db if _still_usable(db) else None
        if url == self.url and self.identity is not None and _file_identity(db) == self.identity:
            return db
        db.close()
        return None

    def keep(self, db: Database, url: str) -> bool:
        conn = db._conn
        if db.backend == "mysql" and conn is not None:
            return self._keep_mysql(db, url)
        if db.backend != "sqlite" or conn is None or getattr(db.dialect, "path", ":memory:") in ("", ":memory:"):
            return False
        try:
            if db.in_transaction or conn.in_transaction:
                conn.execute("ROLLBACK")
            db._depth = 0
        except Exception:  # noqa: BLE001 - a connection that cannot roll back is closed instead
            return False
        identity = _file_identity(db)
        if identity is None:
            return False
        if self.db is not None and self.db is not db and self.pid == os.getpid():
            self.db.close()
        self.db, self.url, self.pid, self.identity = db, url, os.getpid(), identity
        return True

    def _keep_mysql(self, db: Database, url: str) -> bool:
        """Keep a MariaDB connection for this thread's next request: anything left open is rolled back
        (a transaction's row locks with it); a connection that cannot roll back is closed instead. Only
        in the main thread (a gunicorn sync worker's): a threaded server's request threads end, and what
        they kept would be dropped unclosed."""
        if threading.current_thread() is not threading.main_thread():
            return False
        try:
            if db.in_transaction:
                db._conn.rollback()
            db._depth = 0
        except Exception:  # noqa: BLE001
            return False
        if self.db is not None and self.db is not db and self.pid == os.getpid():
            self.db.close()
        self.db, self.url, self.pid, self.identity = db, url, os.getpid(), None
        return True


def _still_usable(db: Database) -> bool:
    """A kept MariaDB connection is reused only when the server still answers on it and its database
    still exists: one COM_INIT_DB round trip (selects the URL's database again; not an SQL statement, so
    the query counters do not see it). Otherwise it is closed and the request opens a new one."""
    try:
        if db.dialect.database:
            db._conn.select_db(db.dialect.database)
        else:
            db._conn.ping(reconnect=False)
        return True
    except Exception:  # noqa: BLE001 - gone away, killed, dropped: a new connection
        try:
            db.close()
        except Exception:  # noqa: BLE001
            pass
        return False


def _file_identity(db: Database) -> tuple[int, int] | None:
    try:
        info = os.stat(db.dialect.path)  # type: ignore[attr-defined]
    except (OSError, AttributeError):
        return None
    return info.st_dev, info.st_ino


_idle = _Idle()


def mark_unavailable(exc: DatabaseUnavailable) -> bool:
    """Remember for the rest of this request that the database is unreachable and drop the broken
    connection. True the first time (so the caller logs the outage once)."""
    first = g.get("database_unavailable") is None
    if first:
        g.database_unavailable = exc
    discard_db()
    return first


def database_unavailable() -> DatabaseUnavailable | None:
    """The DatabaseUnavailable seen earlier in this request, if any."""
    return g.get("database_unavailable")


def close_db(exc: BaseException | None = None) -> None:
    """Teardown: keep a healthy SQLite connection for this thread's next request (module doc), else close."""
    db = g.pop("db", None)
    if db is None:
        return
    if exc is None and g.get("database_unavailable") is None and _idle.keep(db, database_url(current_app.config)):
        return
    db.close()


def discard_db() -> None:
    """Close this request's connection for good (the database proved unreachable or broken)."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
