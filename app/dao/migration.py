"""MigrationDAO: the schema_migrations ledger used by `flask db-upgrade`."""
from __future__ import annotations

import re
from datetime import datetime

from app.dao.base import BaseDAO


class MigrationDAO(BaseDAO):
    def ensure_table(self) -> None:
        suffix = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" if self.db.backend == "mysql" else ""
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version VARCHAR(40) NOT NULL PRIMARY KEY,"
            " name VARCHAR(160) NOT NULL,"
            " applied_at DATETIME NOT NULL)" + suffix
        )

    def applied_versions(self) -> set[str]:
        rows = self.db.fetch_all("SELECT version FROM schema_migrations")
        return {r["version"] for r in rows}

    def record(self, version: str, name: str, now: datetime) -> None:
        self.db.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:version, :name, :now)",
            {"version": version, "name": name, "now": now},
        )

    def all(self) -> list[dict]:
        return self.db.fetch_all("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")

    def analyze(self, tables: list[str]) -> None:
        """Refresh the optimiser's statistics (runbook: weekly ANALYZE of high-churn tables)."""
        names = [_ident(t) for t in tables]
        if self.db.backend == "mysql":
            self.db.fetch_all("ANALYZE TABLE " + ", ".join(f"`{n}`" for n in names))
        else:
            for name in names:
                self.db.execute(f'ANALYZE "{name}"')

    def row_counts(self, tables: list[str]) -> dict[str, int]:
        """How many rows each named table holds (one statement)."""
        if not tables:
            return {}
        q = "`" if self.db.backend == "mysql" else '"'
        arms = " UNION ALL ".join(f"SELECT '{_ident(t)}' AS name, COUNT(*) AS n FROM {q}{_ident(t)}{q}" for t in tables)  # nosec B608 # interpolates only checked identifiers, fragments this code builds from constants; every value is a bound :parameter
        return {r["name"]: int(r["n"]) for r in self.db.fetch_all(arms)}

    def drop_tables(self, tables: list[str]) -> None:
        """Drop the named tables with foreign-key checks off (development reset only)."""
        if self.db.backend == "mysql":
            self.db.execute("SET FOREIGN_KEY_CHECKS = 0")
            try:
                for table in tables:
                    self.db.execute(f"DROP TABLE IF EXISTS `{_ident(table)}`")
            finally:
                self.db.execute("SET FOREIGN_KEY_CHECKS = 1")
        else:
            self.db.execute("PRAGMA foreign_keys = OFF")
            try:
                for table in tables:
                    self.db.execute(f'DROP TABLE IF EXISTS "{_ident(table)}"')
            finally:
                self.db.execute("PRAGMA foreign_keys = ON")


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"Unsafe table name {name!r}")
    return name


APPEND_ONLY = {"audit_trail": "SELECT, INSERT", "audit_verifications": "SELECT, INSERT", "schema_migrations": "SELECT"}


def app_grants(tables: list[str], database: str, user: str, host: str = "%") -> list[str]:
    """GRANT statements for the application account: SELECT/INSERT/UPDATE/DELETE per table,
    except the audit trail (SELECT, INSERT only: no code path may change or remove audit rows)."""
    for part in (database, user, host):
        if not re.match(r"^[A-Za-z0-9_.%-]+$", part):
            raise ValueError(f"unsafe name {part!r}")
    account = f"'{user}'@'{host}'"
    return [
        f"GRANT {APPEND_ONLY.get(table, 'SELECT, INSERT, UPDATE, DELETE')} ON `{database}`.`{table}` TO {account}"
        for table in tables
    ]
