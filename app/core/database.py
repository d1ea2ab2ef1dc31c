"""One Database class over SQLite (embedded default) and MariaDB/MySQL (PyMySQL).

SQL is written once with PDO-style ``:name`` parameters; the MySQL dialect
translates them to PyMySQL's ``%(name)s`` (doubling literal ``%``). Connections
autocommit; ``transaction()`` opens BEGIN (BEGIN IMMEDIATE on SQLite) and nests
with savepoints. Driver exceptions are mapped to :mod:`app.core.errors`.

No Flask imports here: the web layer keeps one Database per app context
(``app.core.flask_db``); commands and tests open their own.
"""
from __future__ import annotations

import logging
import re
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping
from urllib.parse import unquote, urlparse

from app.core.errors import Conflict, DatabaseUnavailable, IntegrityViolation, ValidationFailed

log = logging.getLogger(__name__)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Result:
    rowcount: int
    lastrowid: int | None


# --------------------------------------------------------------------------- query counting

_counter_lock = threading.Lock()
_active_counters: list["QueryCounter"] = []


class QueryCounter:
    """Counts statements run by any Database while active (tests: no N+1)."""

    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []


@contextmanager
def count_queries() -> Iterator[QueryCounter]:
    counter = QueryCounter()
    with _counter_lock:
        _active_counters.append(counter)
    try:
        yield counter
    finally:
        with _counter_lock:
            _active_counters.remove(counter)


def _note_query(sql: str) -> None:
    if _active_counters:
        with _counter_lock:
            for counter in _active_counters:
                counter.count += 1
                counter.statements.append(sql)


# --------------------------------------------------------------------------- type conversion

def _parse_datetime(raw: str) -> datetime | str:
    text = raw.strip().replace("T", " ")
    if len(text) in (19, 26) and text[4] == "-" and text[10] == " ":  # the stored shapes: fromisoformat is
        try:                                                           # ~10x faster than strptime
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return raw  # leave unparseable legacy values visible rather than crash


def _parse_date(raw: str) -> date | str:
    try:
        return date.fromisoformat(raw.strip()[:10])
    except ValueError:
        return raw


def _parse_time(raw: str) -> time | timedelta | str:
    text = raw.strip()
    negative = text.startswith("-")
    parts = text.lstrip("-").split(":")
    try:
        hours = int(parts[0])
        minutes = int(parts[1]) if len(parts) > 1 else 0
        seconds_f = float(parts[2]) if len(parts) > 2 else 0.0
    except (ValueError, IndexError):
        return raw
    if negative or hours >= 24:  # MySQL TIME can be an interval; keep it honest
        delta = timedelta(hours=hours, minutes=minutes, seconds=seconds_f)
        return -delta if negative else delta
    seconds = int(seconds_f)
    return time(hours, minutes, seconds, int(round((seconds_f - seconds) * 1_000_000)))


def _parse_decimal(raw: str) -> Decimal | str:
    try:
        return Decimal(raw.strip())
    except InvalidOperation:
        return raw


sqlite3.register_converter("DATETIME", lambda b: _parse_datetime(b.decode()))
sqlite3.register_converter("DATE", lambda b: _parse_date(b.decode()))
sqlite3.register_converter("TIME", lambda b: _parse_time(b.decode()))
sqlite3.register_converter("DECIMAL", lambda b: _parse_decimal(b.decode()))
sqlite3.register_adapter(datetime, lambda v: v.strftime("%Y-%m-%d %H:%M:%S"))
sqlite3.register_adapter(date, lambda v: v.isoformat())
sqlite3.register_adapter(time, lambda v: v.strftime("%H:%M:%S"))
sqlite3.register_adapter(Decimal, lambda v: str(v))
sqlite3.register_adapter(bool, int)


# --------------------------------------------------------------------------- placeholders

@lru_cache(maxsize=2048)
def to_pyformat(sql: str) -> str:
    """Translate ``:name`` to ``%(name)s`` outside quotes; double literal ``%``.

    Quoted spans ('..', "..", `..`) and ``::`` are left alone.
    """
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"', "`"):
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:  # doubled quote inside the literal
                        j += 2
                        continue
                    break
                if sql[j] == "\\" and ch != "`":
                    j += 2
                    continue
                j += 1
            out.append(sql[i : j + 1].replace("%", "%%"))
            i = j + 1
        elif ch == ":" and i + 1 < n and sql[i + 1] == ":":
            out.append("::")
            i += 2
        elif ch == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_"):
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            out.append(f"%({sql[i + 1 : j]})s")
            i = j
        elif ch == "%":
            out.append("%%")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def split_script(text: str) -> list[str]:
    """Split a DDL script into statements on ``;`` at line end; drop ``--`` comment lines."""
    statements, current = [], []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--"):
            continue
        current.append(line)
        if stripped.endswith(";"):
            statement = "\n".join(current).strip().rstrip(";").strip()
            if statement:
                statements.append(statement)
            current = []
    tail = "\n".join(current).strip()
    if tail:
        statements.append(tail)
    return statements


# --------------------------------------------------------------------------- dialects

class _Dialect:
    name = "base"

    def connect(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def translate(self, sql: str) -> str:
        return sql

    def begin_sql(self) -> str:
        return "BEGIN"

    def map_error(self, exc: Exception) -> Exception | None:
        return None

    def list_tables(self, db: "Database") -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError


class SqliteDialect(_Dialect):
    name = "sqlite"

    def __init__(self, path: str):
        self.path = path

    def connect(self) -> sqlite3.Connection:
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                detect_types=sqlite3.PARSE_DECLTYPES,
                timeout=5.0,
            )
        except (sqlite3.Error, OSError) as exc:  # e.g. a folder that cannot be created or read
            raise DatabaseUnavailable(f"Cannot open the SQLite database: {exc}") from exc
        conn.row_factory = _dict_row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 5000")
        return conn

    def begin_sql(self) -> str:
        return "BEGIN IMMEDIATE"

    def map_error(self, exc: Exception) -> Exception | None:
        if isinstance(exc, OverflowError):  # a bound integer beyond 64 bits: no such row or value can exist
            return ValidationFailed("A number is out of range.")
        if isinstance(exc, sqlite3.IntegrityError):
            message = str(exc)
            if message.startswith("UNIQUE constraint failed:"):
                columns = message.split(":", 1)[1].strip()
                first = columns.split(",")[0].strip()
                field = first.split(".")[-1]
                return Conflict(f"{field} is already in use", field=field, constraint=columns)
            if message.startswith("NOT NULL constraint failed:"):
                field = message.split(":", 1)[1].strip().split(".")[-1]
                return IntegrityViolation(f"{field} is required", field=field)
            if "FOREIGN KEY" in message:
                return IntegrityViolation("A referenced record does not exist or is still in use")
            return IntegrityViolation(f"A data rule was broken ({message})")
        if isinstance(exc, sqlite3.OperationalError):
            message = str(exc)
            if "locked" in message or "unable to open" in message or "disk I/O" in message:
                return DatabaseUnavailable("The database is busy or unavailable; try again")
        return None

    def list_tables(self, db: "Database") -> list[str]:
        rows = db.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!' ORDER BY name"
        )
        return [r["name"] for r in rows]


def _dict_row(cursor: sqlite3.Cursor, row: tuple) -> dict:
    return {d[0]: v for d, v in zip(cursor.description, row)}


_PREFERRED_TLS: dict[str, Any] = {}
_PREFERRED_TLS_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _connection_class() -> type:
    """PyMySQL's Connection, sharing one TLS context for its "preferred" mode (no TLS options given:
    TLS when the server offers it, certificates unchecked). PyMySQL builds that context, loading the
    system CA bundle, for every connection: about 33 ms of CPU, and the app opens one connection per
    request, so it was about half of a MariaDB request. The context verifies nothing and is never
    changed after it is made, so one per process behaves the same. Contexts for explicit TLS options are
    still made per connection; a PyMySQL without the hook is used as it is."""
    from pymysql.connections import Connection

    make = getattr(Connection, "_create_ssl_ctx", None)
    if make is None:
        return Connection

    class SharedTlsConnection(Connection):  # type: ignore[misc, valid-type]
        def _create_ssl_ctx(self, sslp):  # noqa: ANN001 - PyMySQL's own signature
            if isinstance(sslp, dict) and not sslp:
                with _PREFERRED_TLS_LOCK:
                    if "ctx" not in _PREFERRED_TLS:
                        _PREFERRED_TLS["ctx"] = make(self, sslp)
                    return _PREFERRED_TLS["ctx"]
            return make(self, sslp)

    return SharedTlsConnection


class MysqlDialect(_Dialect):
    name = "mysql"

    def __init__(self, host: str, port: int, user: str, password: str, database: str, connect_timeout: int = 5):
        self.host, self.port, self.user = host, port, user
        self.password, self.database = password, database
        self.connect_timeout = connect_timeout

    def connect(self) -> Any:
        import pymysql
        from pymysql.constants import CLIENT, FIELD_TYPE
        from pymysql.converters import conversions

        conv = dict(conversions)
        conv[FIELD_TYPE.TIME] = _parse_time
        try:
            return _connection_class()(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self.password,
                database=self.database or None,
                charset="utf8mb4",
                autocommit=True,
                client_flag=CLIENT.FOUND_ROWS,
                cursorclass=pymysql.cursors.DictCursor,
                conv=conv,
                connect_timeout=self.connect_timeout,
                init_command="SET time_zone = '+00:00'",
            )
        except pymysql.err.OperationalError as exc:
            raise DatabaseUnavailable(f"Cannot connect to MariaDB/MySQL at {self.host}:{self.port}") from exc

    def translate(self, sql: str) -> str:
        return to_pyformat(sql)

    def begin_sql(self) -> str:
        return "START TRANSACTION"

    def map_error(self, exc: Exception) -> Exception | None:
        import pymysql

        if not isinstance(exc, pymysql.err.MySQLError) or not exc.args:
            return None
        code = exc.args[0]
        message = str(exc.args[1]) if len(exc.args) > 1 else ""
        if code == 1062:
            match = re.search(r"for key '([^']+)'", message)
            key = match.group(1) if match else ""
            field = key.split(".")[-1]
            return Conflict(f"{field} is already in use", field=field, constraint=key)
        if code in (1048,):
            match = re.search(r"Column '([^']+)'", message)
            field = match.group(1) if match else None
            return IntegrityViolation(f"{field or 'A value'} is required", field=field)
        if code in (1451, 1452, 1216, 1217):
            return IntegrityViolation("A referenced record does not exist or is still in use")
        if code in (1406, 1264, 1265, 1292, 1366, 3819, 4025):
            return IntegrityViolation(f"A value does not fit the column rules ({message})")
        if code in (1205, 1213):
            return Conflict("The record is busy; please try again")
        if code in (2003, 2006, 2013, 2055):
            return DatabaseUnavailable("Lost connection to the database; try again")
        return None

    def list_tables(self, db: "Database") -> list[str]:
        rows = db.fetch_all(
            "SELECT table_name AS name FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        return [r["name"] for r in rows]


def dialect_from_url(url: str, connect_timeout: int = 5) -> _Dialect:
    parsed = urlparse(url)
    scheme = parsed.scheme.split("+")[0]
    if scheme == "sqlite":
        path = url.split("sqlite:///", 1)[1] if url.startswith("sqlite:///") else parsed.path
        return SqliteDialect(path or ":memory:")
    if scheme in ("mysql", "mariadb"):
        return MysqlDialect(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 3306,
            user=unquote(parsed.username or "root"),
            password=unquote(parsed.password or ""),
            database=(parsed.path or "/").lstrip("/"),
            connect_timeout=connect_timeout,
        )
    raise ValueError(f"Unsupported DATABASE_URL scheme {parsed.scheme!r} (use sqlite:/// or mysql://)")


# --------------------------------------------------------------------------- the Database

class Database:
    """A lazily opened connection plus PDO-like helpers. One per request or command."""

    def __init__(self, dialect: _Dialect):
        self.dialect = dialect
        self._conn: Any = None
        self._depth = 0

    @classmethod
    def from_url(cls, url: str, connect_timeout: int = 5) -> "Database":
        return cls(dialect_from_url(url, connect_timeout))

    @property
    def backend(self) -> str:
        return self.dialect.name

    @property
    def for_update(self) -> str:
        """Locking-read suffix: FOR UPDATE on MariaDB; empty on SQLite, where BEGIN IMMEDIATE
        already serialises writers."""
        return " FOR UPDATE" if self.dialect.name == "mysql" else ""

    @property
    def straight_join(self) -> str:
        """A join that keeps the written table order: STRAIGHT_JOIN on MariaDB (whose optimiser would
        otherwise start from the bigger table at a chain's size), a plain JOIN on SQLite."""
        return "STRAIGHT_JOIN" if self.dialect.name == "mysql" else "JOIN"

    @property
    def connection(self) -> Any:
        if self._conn is None:
            self._conn = self.dialect.connect()
        return self._conn

    # -- execution -----------------------------------------------------------------------
    def _run(self, sql: str, params: Mapping[str, Any] | None):
        params = dict(params or {})
        _note_query(sql)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("SQL %s | params=%s", " ".join(sql.split()), sorted(params))
        cursor = self.connection.cursor()
        try:
            cursor.execute(self.dialect.translate(sql), params)
        except Exception as exc:
            cursor.close()
            mapped = self.dialect.map_error(exc)
            if mapped is not None:
                raise mapped from exc
            raise
        return cursor

    def fetch_all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict]:
        cursor = self._run(sql, params)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def fetch_one(self, sql: str, params: Mapping[str, Any] | None = None) -> dict | None:
        cursor = self._run(sql, params)
        try:
            return cursor.fetchone()
        finally:
            cursor.close()

    def fetch_value(self, sql: str, params: Mapping[str, Any] | None = None, cast=None) -> Any:
        row = self.fetch_one(sql, params)
        if row is None:
            return None
        value = next(iter(row.values()))
        if cast is not None and value is not None:
            value = cast(value)
        return value

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> Result:
        cursor = self._run(sql, params)
        try:
            return Result(cursor.rowcount, cursor.lastrowid)
        finally:
            cursor.close()

    def insert(self, table: str, row: Mapping[str, Any]) -> int:
        """INSERT one row (identifiers checked, values bound) and return its id."""
        columns = [_check_identifier(c) for c in row]
        sql = "INSERT INTO {} ({}) VALUES ({})".format(  # nosec B608 # interpolates only checked identifiers, fragments this code builds from constants; every value is a bound :parameter
            _check_identifier(table), ", ".join(columns), ", ".join(f":{c}" for c in columns)
        )
        return int(self.execute(sql, row).lastrowid or 0)

    def insert_many(self, table: str, rows: Iterable[Mapping[str, Any]], chunk: int = 500) -> int:
        """INSERT rows (all with the columns of the first) in multi-row statements of ``chunk`` rows;
        returns how many were written. Identifiers are checked, values bound."""
        rows = list(rows)
        if not rows:
            return 0
        columns = [_check_identifier(c) for c in rows[0]]
        head = "INSERT INTO {} ({}) VALUES ".format(_check_identifier(table), ", ".join(columns))  # nosec B608 # interpolates only checked identifiers, fragments this code builds from constants; every value is a bound :parameter
        written = 0
        for start in range(0, len(rows), chunk):
            part = rows[start:start + chunk]
            params: dict[str, Any] = {}
            groups = []
            for i, row in enumerate(part):
                names = []
                for c in columns:
                    params[f"{c}_{i}"] = row[c]
                    names.append(f":{c}_{i}")
                groups.append("(" + ", ".join(names) + ")")
            written += self.execute(head + ", ".join(groups), params).rowcount
        return written

    @property
    def skip_locked(self) -> str:
        """Claim suffix: FOR UPDATE SKIP LOCKED on MariaDB (10.6+), empty on SQLite, where the claim runs
        under BEGIN IMMEDIATE (one writer at a time)."""
        return " FOR UPDATE SKIP LOCKED" if self.dialect.name == "mysql" else ""

    @staticmethod
    def in_params(prefix: str, values: Iterable[Any]) -> tuple[str, dict[str, Any]]:
        """Expand a list for ``IN (...)``: returns (":p_0, :p_1", {"p_0": .., "p_1": ..})."""
        params = {f"{prefix}_{i}": v for i, v in enumerate(values)}
        if not params:
            return "NULL", {}
        return ", ".join(f":{k}" for k in params), params

    def ping(self) -> bool:
        return self.fetch_value("SELECT 1 AS ok") == 1

    def current_database(self) -> str:
        """The database name (MariaDB) or file path (SQLite)."""
        if self.backend == "mysql":
            return str(self.fetch_value("SELECT DATABASE() AS name"))
        return getattr(self.dialect, "path", "")

    def tables(self) -> list[str]:
        return self.dialect.list_tables(self)

    def run_script(self, text: str) -> int:
        """Run a DDL script statement by statement (outside any transaction)."""
        statements = split_script(text)
        for statement in statements:
            self.execute(statement)
        return len(statements)

    # -- transactions --------------------------------------------------------------------
    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextmanager
    def transaction(self) -> Iterator["Database"]:
        """BEGIN .. COMMIT, or SAVEPOINT when nested; any exception rolls back this level."""
        depth = self._depth
        if depth == 0:
            self._raw(self.dialect.begin_sql())
        else:
            self._raw(f"SAVEPOINT sp_{depth}")
        self._depth += 1
        try:
            yield self
        except BaseException:
            self._depth -= 1
            if self._conn is None:  # closed underneath us (close() already rolled back)
                self._depth = 0
                raise
            if depth == 0:
                try:
                    self._raw("ROLLBACK")
                except Exception:  # noqa: BLE001 - nothing left to roll back: the original error matters
                    pass
            else:
                try:
                    self._raw(f"ROLLBACK TO SAVEPOINT sp_{depth}")
                    self._raw(f"RELEASE SAVEPOINT sp_{depth}")
                except Exception:  # noqa: BLE001 - a deadlock made the server roll the whole transaction back
                    pass           # (its savepoints with it): the original error below reaches the outer level
            raise
        else:
            self._depth -= 1
            if depth == 0:
                self._raw("COMMIT")
            else:
                self._raw(f"RELEASE SAVEPOINT sp_{depth}")

    def _raw(self, sql: str) -> None:
        cursor = self._run(sql, None)
        cursor.close()

    def close(self) -> None:
        """Roll back anything left open and close; safe to call twice."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if self._depth:
                conn.cursor().execute("ROLLBACK")
        except Exception:  # pragma: no cover - closing anyway
            log.warning("rollback on close failed", exc_info=True)
        finally:
            self._depth = 0
            try:
                conn.close()
            except Exception:  # pragma: no cover
                pass


def _check_identifier(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"Unsafe SQL identifier {name!r}")
    return name
