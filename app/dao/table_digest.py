"""TableDigestDAO: a row count and a content checksum per table (backup manifests, restore checks), and
DatabaseSwapDAO: the server-level SQL a MariaDB restore swaps a database with.

The checksum is the same algorithm on both databases: the table's column names, then every row in
primary-key order, each value written canonically (type tag and text: ``n:12.5`` for any number with
a fraction, ``t:2026-11-26 02:15:00`` for a datetime, ...) as one JSON line, all fed to SHA-256. The
same data read back from a restored copy gives the same checksum. Rows are read in keyset batches
(``WHERE pk > :last ORDER BY pk LIMIT :n``), so memory stays flat on any table size; run
:meth:`TableDigestDAO.digest_all` inside one transaction for a consistent snapshot (the caller's).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Callable, Iterator

from app.dao.base import BaseDAO

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
BATCH = 1000


def ident(name: str) -> str:
    """``name`` quoted as an identifier (backticks: both databases accept them) once checked."""
    if not _NAME.match(name):
        raise ValueError(f"Unsafe SQL identifier {name!r}")
    return f"`{name}`"


@dataclass(frozen=True)
class TableDigest:
    table: str
    rows: int
    checksum: str


def canonical(value: Any) -> Any:
    """One value as the checksum sees it: the same data gives the same text on either driver."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        if value == 0:
            return "n:0"
        text = format(value.normalize(), "f")
        return "n:" + text
    if isinstance(value, datetime):
        return "t:" + value.isoformat(sep=" ")
    if isinstance(value, date):
        return "d:" + value.isoformat()
    if isinstance(value, time):
        return "h:" + value.isoformat()
    if isinstance(value, timedelta):
        return "h:" + str(value.total_seconds())
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "b:" + bytes(value).hex()
    if isinstance(value, str):
        return "s:" + value
    return "?:" + str(value)


def row_line(values: list[Any]) -> bytes:
    return (json.dumps([canonical(v) for v in values], ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


class TableDigestDAO(BaseDAO):
    def tables(self) -> list[str]:
        return self.db.tables()

    def columns(self, table: str) -> list[str]:
        """The table's columns in declaration order."""
        ident(table)
        if self.db.backend == "mysql":
            rows = self.db.fetch_all(
                "SELECT column_name AS name FROM information_schema.columns"
                " WHERE table_schema = DATABASE() AND table_name = :table ORDER BY ordinal_position",
                {"table": table})
        else:
            rows = self.db.fetch_all("SELECT name FROM pragma_table_info(:table) ORDER BY cid", {"table": table})
        return [r["name"] for r in rows]

    def primary_key(self, table: str) -> list[str]:
        """The primary-key columns in key order (empty for a table without one)."""
        ident(table)
        if self.db.backend == "mysql":
            rows = self.db.fetch_all(
                "SELECT column_name AS name FROM information_schema.key_column_usage"
                " WHERE table_schema = DATABASE() AND table_name = :table AND constraint_name = 'PRIMARY'"
                " ORDER BY ordinal_position", {"table": table})
        else:
            rows = self.db.fetch_all("SELECT name FROM pragma_table_info(:table) WHERE pk > 0 ORDER BY pk",
                                     {"table": table})
        return [r["name"] for r in rows]

    def batches(self, table: str, columns: list[str], key: list[str], size: int = BATCH) -> Iterator[list[dict]]:
        """Every row of ``table`` in primary-key order, ``size`` rows at a time (keyset paging: each batch
        starts after the last key seen, so a batch costs one index range scan). A table without a key is
        read in the order of all its columns, by offset."""
        select = "SELECT {} FROM {}".format(", ".join(ident(c) for c in columns), ident(table))  # nosec B608 # interpolates only checked identifiers; every value is a bound :parameter
        if not key:
            order = ", ".join(ident(c) for c in columns)
            offset = 0
            while True:
                rows = self.db.fetch_all(f"{select} ORDER BY {order} LIMIT :batch_limit OFFSET :batch_offset",
                                         {"batch_limit": size, "batch_offset": offset})
                if rows:
                    yield rows
                if len(rows) < size:
                    return
                offset += size
        order = ", ".join(ident(c) for c in key)
        rows = self.db.fetch_all(f"{select} ORDER BY {order} LIMIT :batch_limit", {"batch_limit": size})
        after = _after_clause(key)
        while rows:
            yield rows
            if len(rows) < size:
                return
            last = rows[-1]
            params: dict[str, Any] = {f"k{i}": last[c] for i, c in enumerate(key)}
            params["batch_limit"] = size
            rows = self.db.fetch_all(f"{select} WHERE {after} ORDER BY {order} LIMIT :batch_limit", params)

    def digest(self, table: str, size: int = BATCH) -> TableDigest:
        """The row count and content checksum of one table."""
        columns = self.columns(table)
        key = self.primary_key(table)
        h = hashlib.sha256(row_line(columns))
        count = 0
        for rows in self.batches(table, columns, key, size):
            for row in rows:
                h.update(row_line([row[c] for c in columns]))
            count += len(rows)
        return TableDigest(table, count, h.hexdigest())

    def digest_all(self, advance: Callable[[int], None] | None = None, size: int = BATCH) -> dict[str, TableDigest]:
        """Every table's digest, by table name; ``advance(1)`` after each table."""
        found = {}
        for table in self.tables():
            found[table] = self.digest(table, size)
            if advance is not None:
                advance(1)
        return found

    def repeatable_read(self) -> None:
        """MariaDB: the next transaction reads one snapshot throughout, whatever the server's default
        isolation (SQLite's transactions always do)."""
        if self.db.backend == "mysql":
            self.db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")

    def integrity_check(self) -> str:
        """SQLite: ``ok``, or the first problems ``PRAGMA integrity_check`` found."""
        rows = self.db.fetch_all("PRAGMA integrity_check")
        return "; ".join(str(next(iter(r.values()))) for r in rows[:5])

    def begin_exclusive(self) -> None:
        """SQLite: wait for every other connection's transaction to end and keep them out (a hot journal
        left by a crash is rolled back first); released by :meth:`release`."""
        self.db.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.db.execute("ROLLBACK")

    def checkpoint(self) -> None:
        """SQLite in WAL mode: copy the write-ahead log into the database file and empty it."""
        if str(self.db.fetch_value("PRAGMA journal_mode")).lower() == "wal":
            self.db.fetch_all("PRAGMA wal_checkpoint(TRUNCATE)")


def _after_clause(key: list[str]) -> str:
    """Keyset condition "the row's key is after (:k0, :k1, ...)", written without row values so both
    databases plan it as an index range: ``a > :k0 OR (a = :k0 AND b > :k1)``."""
    arms = []
    for i in range(len(key)):
        equal = [f"{ident(key[j])} = :k{j}" for j in range(i)]
        arms.append("(" + " AND ".join(equal + [f"{ident(key[i])} > :k{i}"]) + ")")
    return "(" + " OR ".join(arms) + ")"


class DatabaseSwapDAO(BaseDAO):
    """MariaDB, on a server-level connection: scratch databases and the one-statement table swap."""

    def database_exists(self, name: str) -> bool:
        return self.db.fetch_value("SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name = :name",
                                   {"name": name}) is not None

    def create_database(self, name: str) -> None:
        self.db.execute(f"CREATE DATABASE {ident(name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")

    def drop_database(self, name: str) -> None:
        self.db.execute(f"DROP DATABASE IF EXISTS {ident(name)}")

    def base_tables(self, schema: str) -> list[str]:
        rows = self.db.fetch_all(
            "SELECT table_name AS name FROM information_schema.tables"
            " WHERE table_schema = :schema AND table_type = 'BASE TABLE' ORDER BY table_name", {"schema": schema})
        return [r["name"] for r in rows]

    def swap(self, target: str, scratch: str, trash: str) -> tuple[int, int]:
        """One atomic ``RENAME TABLE``: every table of ``target`` into ``trash``, every table of ``scratch``
        into ``target`` (foreign keys follow their tables). It waits at most a minute for transactions
        still using the target's tables. Returns (tables moved out, tables moved in)."""
        old, new = self.base_tables(target), self.base_tables(scratch)
        if not new:
            raise ValueError(f"the scratch database {scratch} has no tables")
        moves = [f"{ident(target)}.{ident(t)} TO {ident(trash)}.{ident(t)}" for t in old]
        moves += [f"{ident(scratch)}.{ident(t)} TO {ident(target)}.{ident(t)}" for t in new]
        self.db.execute("SET SESSION lock_wait_timeout = 60")  # a long transaction on the target: fail, not hang
        self.db.execute("RENAME TABLE " + ", ".join(moves))
        return len(old), len(new)
