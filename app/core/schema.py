"""Schema management: `init-db` (current DDL) and `db-upgrade` (numbered migrations).

DDL lives in sql/: database.sql (MariaDB/MySQL), database.sqlite.sql (SQLite)
and sql/migrations/NNNN_name.{mysql,sqlite}.sql. Every migration is written
with IF NOT EXISTS so that a PHP-era database (which has the 22 original tables
but no schema_migrations ledger) upgrades in place. On SQLite each migration runs
in one transaction with its ledger row; on MariaDB (DDL auto-commits) every
migration must be re-runnable (tests/migration_test.py runs each a second time).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.config import PROJECT_ROOT
from app.core.database import Database, split_script
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
    if existing:  # the schema is there (the script's column additions would not run twice)
        raise SchemaError("This database already has the schema. Run `flask db-upgrade` to bring it up to date,"
                          " or `flask init-db --reset` to start again.")
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


# Statements SQLite cannot run inside a transaction (or that would end ours): refused in a
# SQLite migration, which always runs in one. PRAGMA foreign_keys is silently ignored there.
_NOT_IN_TRANSACTION = re.compile(r"^\s*(BEGIN|COMMIT|END|ROLLBACK|VACUUM|PRAGMA|ATTACH|DETACH)\b", re.I)


def upgrade(db: Database, now: datetime) -> list[Migration]:
    """Apply every pending migration in order; returns what was applied (empty = up to date).

    SQLite: each migration and its ledger row are one transaction (SQLite DDL is transactional),
    so a failure halfway leaves the database as it was before that migration and the next run
    starts it again. MariaDB commits every DDL statement on its own, so there the rule is that
    every migration is re-runnable (IF NOT EXISTS forms, tested): after a failure halfway the
    next run repeats its first statements harmlessly. Earlier migrations stay applied.
    """
    done = []
    ledger = MigrationDAO(db)
    for migration in pending(db):
        text = migration.path.read_text(encoding="utf-8")
        if db.backend == "sqlite":
            statements = split_script(text)
            refused = [s for s in statements if _NOT_IN_TRANSACTION.match(s)]
            if refused:
                raise SchemaError(f"migration {migration.path.name} cannot run in a transaction: "
                                  f"{refused[0].split()[0]} is not allowed in a SQLite migration")
            with db.transaction():
                for statement in statements:
                    db.execute(statement)
                ledger.record(migration.version, migration.name, now)
        else:
            db.run_script(text)
            ledger.record(migration.version, migration.name, now)
        done.append(migration)
    return done


def drop_all(db: Database) -> None:
    """Drop every table (development reset). Callers must refuse this in production."""
    MigrationDAO(db).drop_tables(db.tables())

