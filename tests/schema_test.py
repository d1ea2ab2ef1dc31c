"""Schema: both DDL files declare the same tables, columns and indexes; migrations reach the same
schema from an empty database and from a PHP-era database; re-running is a no-op."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import uuid

import pytest

from app.core import clock
from app.core.database import Database, split_script
from app.core.schema import init_db, migrations_for, pending, upgrade
from tests.conftest import REFERENCE_SQL, mysql_url, require_mysql, server_database

ORIGINAL_TABLES = {
    "branches", "users", "students", "instructors", "staff_profiles", "courses", "course_instructor", "vehicles",
    "enrollments", "enrollment_requests", "schedules", "instructor_unavailability", "invoices", "invoice_items",
    "payments", "reminders", "notifications", "communications", "communication_recipients", "documents", "notes",
    "audit_trail",
}


def sqlite_shape(db: Database) -> dict:
    shape = {}
    for table in db.tables():
        columns = [(c["name"], c["type"].upper(), bool(c["notnull"]), c["dflt_value"], c["pk"])
                   for c in db.fetch_all(f"PRAGMA table_info('{table}')")]
        indexes = {}
        for index in db.fetch_all(f"PRAGMA index_list('{table}')"):
            if index["name"].startswith("sqlite_autoindex"):
                continue
            cols = [r["name"] for r in db.fetch_all(f"PRAGMA index_info('{index['name']}')")]
            indexes[index["name"]] = (tuple(cols), bool(index["unique"]))
        shape[table] = {"columns": columns, "indexes": indexes}
    return shape


def mysql_shape(db: Database) -> dict:
    shape = {}
    for table in db.tables():
        columns = [
            (r["name"], r["ctype"], r["nullable"], r["dflt"])
            for r in db.fetch_all(
                "SELECT column_name AS name, column_type AS ctype, is_nullable AS nullable, column_default AS dflt"
                " FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = :t"
                " ORDER BY ordinal_position", {"t": table})
        ]
        indexes: dict = {}
        for r in db.fetch_all(
            "SELECT index_name AS name, column_name AS col, non_unique AS nu FROM information_schema.statistics"
            " WHERE table_schema = DATABASE() AND table_name = :t ORDER BY index_name, seq_in_index", {"t": table}):
            if r["name"] == "PRIMARY":
                continue
            cols, unique = indexes.get(r["name"], ((), not int(r["nu"])))
            indexes[r["name"]] = (cols + (r["col"],), unique)
        shape[table] = {"columns": columns, "indexes": indexes}
    return shape


@pytest.fixture
def scratch_mysql():
    """A fresh, empty MariaDB database (dropped afterwards)."""
    require_mysql()
    name = f"origin_scratch_{uuid.uuid4().hex[:8]}"
    server = server_database(mysql_url())
    server.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    db = Database.from_url(mysql_url().rsplit("/", 1)[0] + "/" + name)
    yield db
    db.close()
    server.execute(f"DROP DATABASE IF EXISTS `{name}`")
    server.close()


def load_reference(db: Database) -> None:
    if not REFERENCE_SQL.is_file():
        pytest.skip(f"reference PHP schema not found at {REFERENCE_SQL}")
    statements = split_script(REFERENCE_SQL.read_text(encoding="utf-8"))
    # its first two statements create and select origin_driving_school
    assert statements[0].upper().startswith("CREATE DATABASE") and statements[1].upper().startswith("USE ")
    for statement in statements[2:]:
        db.execute(statement)


def test_sqlite_and_mysql_declare_the_same_tables_columns_and_indexes(sqlite_template, mysql_schema):
    lite = sqlite_shape(Database.from_url(f"sqlite:///{sqlite_template}"))
    my = mysql_shape(Database.from_url(mysql_schema))
    assert sorted(lite) == sorted(my)
    assert ORIGINAL_TABLES <= set(lite)
    for table in my:
        assert [c[0] for c in lite[table]["columns"]] == [c[0] for c in my[table]["columns"]], table
        assert lite[table]["indexes"] == my[table]["indexes"], table


def test_every_sqlite_id_is_a_rowid_alias(sqlite_template):
    db = Database.from_url(f"sqlite:///{sqlite_template}")
    for table, info in sqlite_shape(db).items():
        for name, ctype, _nn, _d, pk in info["columns"]:
            if name == "id":
                assert pk == 1 and ctype == "INTEGER", f"{table}.id must be INTEGER PRIMARY KEY"


def test_added_columns_on_original_tables_are_nullable_or_defaulted(sqlite_template, mysql_schema):
    """Rows written with only the original columns (old system, other tools) stay valid."""
    if not REFERENCE_SQL.is_file():
        pytest.skip(f"reference PHP schema not found at {REFERENCE_SQL}")
    my = mysql_shape(Database.from_url(mysql_schema))
    text = REFERENCE_SQL.read_text(encoding="utf-8")
    for table in ORIGINAL_TABLES:
        block = text.split(f"CREATE TABLE {table} (", 1)[1].split(") ENGINE", 1)[0]
        original_columns = {line.split()[0] for line in block.splitlines()
                            if line.strip() and line.split()[0].islower()}
        for name, _type, nullable, default in my[table]["columns"]:
            if name not in original_columns:
                assert nullable == "YES" or default is not None, f"{table}.{name} must be nullable or defaulted"


def test_sqlite_upgrade_from_empty_equals_init_db(tmp_path, sqlite_template):
    db = Database.from_url(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    applied = upgrade(db, clock.now())
    assert [m.version for m in applied] == [m.version for m in migrations_for(db)]
    assert sqlite_shape(db) == sqlite_shape(Database.from_url(f"sqlite:///{sqlite_template}"))
    assert upgrade(db, clock.now()) == []  # re-run: no-op


def test_mysql_upgrade_from_empty_equals_init_db(scratch_mysql, mysql_schema):
    applied = upgrade(scratch_mysql, clock.now())
    assert len(applied) == len(migrations_for(scratch_mysql))
    assert mysql_shape(scratch_mysql) == mysql_shape(Database.from_url(mysql_schema))


def test_php_era_database_upgrades_in_place_keeping_its_data(scratch_mysql, mysql_schema):
    load_reference(scratch_mysql)
    before = scratch_mysql.fetch_all("SELECT id, email, password_hash FROM users ORDER BY id")
    assert len(pending(scratch_mysql)) == len(migrations_for(scratch_mysql))
    upgrade(scratch_mysql, clock.now())
    assert mysql_shape(scratch_mysql) == mysql_shape(Database.from_url(mysql_schema))
    assert scratch_mysql.fetch_all("SELECT id, email, password_hash FROM users ORDER BY id") == before
    assert scratch_mysql.fetch_value("SELECT COUNT(*) AS n FROM invoices", cast=int) == 1
    assert upgrade(scratch_mysql, clock.now()) == []


def test_init_db_refuses_a_php_era_database(scratch_mysql):
    from app.core.schema import SchemaError

    load_reference(scratch_mysql)
    with pytest.raises(SchemaError):
        init_db(scratch_mysql, clock.now())
