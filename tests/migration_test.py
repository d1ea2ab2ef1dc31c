"""MigrationDAO on both backends: the schema_migrations ledger.

These tests use an empty database of their own (a temp SQLite file, or a scratch
MariaDB database dropped afterwards), so they never touch the shared test
schema's ledger.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import sqlite3
import uuid
from datetime import datetime

import pytest

from app.core import schema
from app.core.database import Database, split_script
from app.core.errors import Conflict
from app.dao.migration import MigrationDAO
from tests.conftest import mysql_url, require_mysql, server_database

NOW = datetime(2026, 3, 10, 4, 0, 0)


@pytest.fixture
def empty_db(backend, tmp_path):
    if backend == "sqlite":
        database = Database.from_url(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
        yield database
        database.close()
        return
    yield from _scratch_mysql()


def _scratch_mysql():
    name = f"origin_scratch_{uuid.uuid4().hex[:8]}"
    server = server_database(mysql_url())
    server.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    database = Database.from_url(mysql_url().rsplit("/", 1)[0] + "/" + name)
    try:
        yield database
    finally:
        database.close()
        server.execute(f"DROP DATABASE IF EXISTS `{name}`")
        server.close()


@pytest.fixture
def ledger(empty_db):
    dao = MigrationDAO(empty_db)
    dao.ensure_table()
    return dao


def test_ensure_table_creates_the_ledger_in_an_empty_database(empty_db):
    assert empty_db.tables() == []
    dao = MigrationDAO(empty_db)
    dao.ensure_table()
    assert empty_db.tables() == ["schema_migrations"]
    assert dao.applied_versions() == set()
    assert dao.all() == []


def test_ensure_table_is_idempotent_and_keeps_rows(ledger, empty_db):
    ledger.record("0001", "original_schema", NOW)
    ledger.ensure_table()
    ledger.ensure_table()
    assert empty_db.tables() == ["schema_migrations"]
    assert ledger.applied_versions() == {"0001"}


def test_record_then_applied_versions_and_all_in_version_order(ledger):
    ledger.record("0003", "query_indexes", NOW)
    ledger.record("0001", "original_schema", datetime(2026, 1, 1, 0, 0, 0))
    ledger.record("0002", "auth_sessions", NOW)
    assert ledger.applied_versions() == {"0001", "0002", "0003"}
    assert ledger.all() == [
        {"version": "0001", "name": "original_schema", "applied_at": datetime(2026, 1, 1, 0, 0, 0)},
        {"version": "0002", "name": "auth_sessions", "applied_at": NOW},
        {"version": "0003", "name": "query_indexes", "applied_at": NOW},
    ]


def test_recording_a_version_twice_is_a_conflict_and_keeps_the_first(ledger):
    ledger.record("0002", "auth_sessions", NOW)
    with pytest.raises(Conflict):
        ledger.record("0002", "something_else", datetime(2026, 4, 1, 0, 0, 0))
    assert ledger.all() == [{"version": "0002", "name": "auth_sessions", "applied_at": NOW}]


def test_drop_tables_drops_only_the_named_tables(ledger, empty_db):
    empty_db.execute("CREATE TABLE parent_t (id INTEGER PRIMARY KEY)")
    empty_db.execute("CREATE TABLE child_t (id INTEGER PRIMARY KEY, parent_id INTEGER,"
                     " CONSTRAINT fk_child_parent FOREIGN KEY (parent_id) REFERENCES parent_t(id))")
    empty_db.execute("INSERT INTO parent_t (id) VALUES (1)")
    empty_db.execute("INSERT INTO child_t (id, parent_id) VALUES (1, 1)")
    # the parent first: only possible because foreign-key checks are off during the drop
    ledger.drop_tables(["parent_t", "child_t"])
    assert empty_db.tables() == ["schema_migrations"]
    with pytest.raises(ValueError):
        ledger.drop_tables(["schema_migrations; DROP TABLE x"])
    assert empty_db.tables() == ["schema_migrations"]


# --------------------------------------------------------------------------- upgrade atomicity

@pytest.fixture
def sqlite_db(tmp_path):
    database = Database.from_url(f"sqlite:///{tmp_path / 'upgrade.sqlite3'}")
    yield database
    database.close()


@pytest.fixture
def mysql_db():
    require_mysql()
    yield from _scratch_mysql()


def _write(folder, name, text):
    (folder / name).write_text(text, encoding="utf-8")


def test_a_failing_sqlite_migration_leaves_nothing_behind_and_reruns_once_fixed(sqlite_db, tmp_path,
                                                                                 monkeypatch):
    folder = tmp_path / "migrations"
    folder.mkdir()
    monkeypatch.setattr(schema, "MIGRATIONS_DIR", folder)
    _write(folder, "0001_first.sqlite.sql", "CREATE TABLE first_t (id INTEGER PRIMARY KEY);\n")
    _write(folder, "0002_broken.sqlite.sql",
           "-- first statement works, second fails\n"
           "CREATE TABLE half_t (id INTEGER PRIMARY KEY);\n"
           "ALTER TABLE no_such_table ADD COLUMN x INTEGER NULL;\n")
    _write(folder, "0001_first.mysql.sql", "CREATE TABLE ignored_t (id INT);\n")  # other backend: ignored

    with pytest.raises(sqlite3.OperationalError):
        schema.upgrade(sqlite_db, NOW)
    tables = set(sqlite_db.tables())
    assert "half_t" not in tables  # the failed migration's first statement was rolled back
    assert "first_t" in tables  # the migration before it stays applied
    assert MigrationDAO(sqlite_db).applied_versions() == {"0001"}
    assert not sqlite_db.in_transaction

    with pytest.raises(sqlite3.OperationalError):  # a rerun fails the same way, not on "half_t exists"
        schema.upgrade(sqlite_db, NOW)
    assert "half_t" not in set(sqlite_db.tables())

    _write(folder, "0002_broken.sqlite.sql",
           "CREATE TABLE half_t (id INTEGER PRIMARY KEY);\n"
           "ALTER TABLE first_t ADD COLUMN x INTEGER NULL;\n")
    applied = schema.upgrade(sqlite_db, NOW)
    assert [(m.version, m.name) for m in applied] == [("0002", "broken")]
    assert {"first_t", "half_t"} <= set(sqlite_db.tables())
    assert [r["name"] for r in sqlite_db.fetch_all("PRAGMA table_info(first_t)")] == ["id", "x"]
    assert MigrationDAO(sqlite_db).applied_versions() == {"0001", "0002"}
    assert schema.upgrade(sqlite_db, NOW) == []


def test_a_sqlite_migration_that_cannot_run_in_a_transaction_is_refused(sqlite_db, tmp_path, monkeypatch):
    folder = tmp_path / "migrations"
    folder.mkdir()
    monkeypatch.setattr(schema, "MIGRATIONS_DIR", folder)
    _write(folder, "0001_vacuum.sqlite.sql", "CREATE TABLE v_t (id INTEGER);\nVACUUM;\n")
    with pytest.raises(schema.SchemaError, match="VACUUM"):
        schema.upgrade(sqlite_db, NOW)
    assert "v_t" not in set(sqlite_db.tables())
    assert MigrationDAO(sqlite_db).applied_versions() == set()


def test_shipped_sqlite_migrations_can_run_inside_a_transaction():
    for path in sorted(schema.MIGRATIONS_DIR.glob("*.sqlite.sql")):
        for statement in split_script(path.read_text(encoding="utf-8")):
            assert not schema._NOT_IN_TRANSACTION.match(statement), (path.name, statement[:60])


@pytest.mark.parametrize("how", ["upgrade", "init_db"])
def test_every_shipped_mariadb_migration_runs_a_second_time_on_an_up_to_date_database(mysql_db, how):
    from tests.schema_test import mysql_shape

    if how == "upgrade":
        schema.upgrade(mysql_db, NOW)  # empty -> every migration once
    else:
        schema.init_db(mysql_db, NOW)  # sql/database.sql, ledger filled in
    before = mysql_shape(mysql_db)
    migrations = schema.migrations_for(mysql_db)
    assert [m.version for m in migrations][:5] == ["0001", "0002", "0003", "0004", "0005"]
    for migration in migrations:
        mysql_db.run_script(migration.path.read_text(encoding="utf-8"))  # must not raise
    assert mysql_shape(mysql_db) == before  # and changes nothing
    assert schema.upgrade(mysql_db, NOW) == []
