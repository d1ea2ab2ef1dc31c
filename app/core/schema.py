"""Schema management: `init-db` (current DDL) and `db-upgrade` (numbered migrations).

DDL lives in sql/: database.sql (MariaDB/MySQL), database.sqlite.sql (SQLite)
and sql/migrations/NNNN_name.{mysql,sqlite}.sql. Every migration is written
with IF NOT EXISTS so that a PHP-era database (which has the 22 original tables
but no schema_migrations ledger) upgrades in place, and a re-run is a no-op.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.config import PROJECT_ROOT
from app.core.database import Database
from app.dao.migration import MigrationDAO

SQL_DIR = PROJECT_ROOT / "sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(mysql|sqlite)\.sql$")


class SchemaError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path


def _suffix(db: Database) -> str:
    return "sqlite" if db.backend == "sqlite" else "mysql"


def schema_file(db: Database) -> Path:
    return SQL_DIR / ("database.sqlite.sql" if db.backend == "sqlite" else "database.sql")


def migrations_for(db: Database) -> list[Migration]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if match and match.group(3) == _suffix(db):
            found.append(Migration(match.group(1), match.group(2), path))
    return found


def init_db(db: Database, now: datetime, reset: bool = False) -> int:
    """Create the current schema in an empty database; returns the number of statements run."""
    existing = db.tables()
    if existing and reset:
        drop_all(db)
        existing = []
    if existing and "schema_migrations" not in existing:
        raise SchemaError(
            "This database already has tables but no schema_migrations ledger "
            "(a PHP-era database?). Run `flask db-upgrade` instead."
        )
    count = db.run_script(schema_file(db).read_text(encoding="utf-8"))
    ledger = MigrationDAO(db)
    ledger.ensure_table()
    applied = ledger.applied_versions()
    for migration in migrations_for(db):
        if migration.version not in applied:
            ledger.record(migration.version, migration.name, now)
    return count


def pending(db: Database) -> list[Migration]:
    ledger = MigrationDAO(db)
    ledger.ensure_table()
    applied = ledger.applied_versions()
    return [m for m in migrations_for(db) if m.version not in applied]


def upgrade(db: Database, now: datetime) -> list[Migration]:
    """Apply every pending migration in order; returns what was applied (empty = up to date)."""
    done = []
    ledger = MigrationDAO(db)
    for migration in pending(db):
        db.run_script(migration.path.read_text(encoding="utf-8"))
        ledger.record(migration.version, migration.name, now)
        done.append(migration)
    return done


def drop_all(db: Database) -> None:
    """Drop every table (development reset). Callers must refuse this in production."""
    MigrationDAO(db).drop_tables(db.tables())

