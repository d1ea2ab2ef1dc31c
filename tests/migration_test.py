if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

"""MigrationDAO on both backends: the schema_migrations ledger.

These tests use an empty database of their own (a temp SQLite file, or a scratch
MariaDB database dropped afterwards), so they never touch the shared test
schema's ledger.
"""
import uuid
from datetime import datetime

import pytest

from app.core.database import Database
from app.core.errors import Conflict
from app.dao.migration import MigrationDAO
from tests.conftest import mysql_url, server_database

NOW = datetime(2026, 3, 10, 4, 0, 0)


@pytest.fixture
def empty_db(backend, tmp_path):
    if backend == "sqlite":
        database = Database.from_url(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
        yield database
        database.close()
        return
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
