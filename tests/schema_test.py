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


# --- 0008_scheduling: the schedules rebuild (SQLite), the status superset, the new FK and indexes ---------


def upgrade_before(db: Database, version: str, monkeypatch) -> None:
    """Apply only the migrations older than ``version`` (the state a live database is in before it)."""
    from app.core import schema as schema_module

    every = schema_module.migrations_for
    monkeypatch.setattr(schema_module, "migrations_for", lambda d: [m for m in every(d) if m.version < version])
    upgrade(db, clock.now())
    monkeypatch.setattr(schema_module, "migrations_for", every)


def _normalised_sql(db: Database, table: str) -> str:
    sql = db.fetch_value("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t", {"t": table})
    body = sql.split("(", 1)[1]
    return " ".join(body.split())


ORIGINAL_SCHEDULE_COLUMNS = (
    "id, enrollment_id, instructor_id, vehicle_id, branch_id, event_type, scheduled_date, start_time, end_time,"
    " status, student_rating, student_feedback, completion_marked_by, completion_marked_at, lesson_topic, notes,"
    " reminder_sent, created_at, updated_at"
)


def test_sqlite_0008_rebuilds_schedules_keeping_rows_ids_counter_and_foreign_keys(tmp_path, sqlite_template,
                                                                                monkeypatch):
    from app.core.errors import IntegrityViolation
    from tests.factories import make_enrollment, make_instructor, make_schedule, make_user

    db = Database.from_url(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    upgrade_before(db, "0008", monkeypatch)
    from_0008 = [m.version for m in migrations_for(db) if m.version >= "0008"]  # 0008 and any later one
    assert [m.version for m in pending(db)] == from_0008
    enrollment, instructor = make_enrollment(db), make_instructor(db)
    marker = make_user(db, role="staff")
    kept = [make_schedule(db, enrollment, instructor, status=s, notes=f"lesson {s}", completion_marked_by=marker)
            for s in ("scheduled", "completed", "cancelled", "not_completed")]
    deleted = make_schedule(db, enrollment, instructor)
    db.execute("DELETE FROM schedules WHERE id = :id", {"id": deleted})  # the counter is now above max(id)
    before = db.fetch_all(f"SELECT {ORIGINAL_SCHEDULE_COLUMNS} FROM schedules ORDER BY id")
    assert [r["id"] for r in before] == kept

    assert [m.version for m in upgrade(db, clock.now())] == from_0008

    assert db.fetch_all(f"SELECT {ORIGINAL_SCHEDULE_COLUMNS} FROM schedules ORDER BY id") == before
    assert db.fetch_all("SELECT cancelled_at, cancelled_by, cancel_reason, pickup_location FROM schedules"
                        " WHERE cancelled_at IS NOT NULL OR cancelled_by IS NOT NULL OR cancel_reason IS NOT NULL"
                        " OR pickup_location IS NOT NULL") == []
    template = Database.from_url(f"sqlite:///{sqlite_template}")
    assert _normalised_sql(db, "schedules") == _normalised_sql(template, "schedules")
    assert sqlite_shape(db) == sqlite_shape(template)
    assert "schedules_new" not in db.tables()
    assert db.fetch_value("PRAGMA foreign_keys", cast=int) == 1
    assert db.fetch_all("PRAGMA foreign_key_check") == []
    # the AUTOINCREMENT counter carried over: a deleted lesson's id is never handed out again
    fresh = make_schedule(db, enrollment, instructor, status="no_show")
    assert fresh == deleted + 1
    with pytest.raises(IntegrityViolation):
        make_schedule(db, enrollment, instructor, status="lost")
    # the rebuilt table's foreign keys are live: a cancelling user's deletion clears cancelled_by
    db.execute("UPDATE schedules SET cancelled_by = :u, status = 'cancelled' WHERE id = :id",
               {"u": marker, "id": fresh})
    db.execute("DELETE FROM users WHERE id = :u", {"u": marker})
    assert db.fetch_one("SELECT cancelled_by, completion_marked_by FROM schedules WHERE id = :id",
                        {"id": fresh}) == {"cancelled_by": None, "completion_marked_by": None}
    with pytest.raises(IntegrityViolation):
        make_schedule(db, enrollment, 999_999)
    db.close()


def test_sqlite_0008_on_an_empty_schedules_table_keeps_the_counter(tmp_path, monkeypatch):
    from tests.factories import make_schedule

    db = Database.from_url(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    upgrade_before(db, "0008", monkeypatch)
    first = make_schedule(db)
    db.execute("DELETE FROM schedules")
    upgrade(db, clock.now())
    assert make_schedule(db) == first + 1
    db.close()


def test_php_era_schedules_keep_their_rows_and_gain_no_show(scratch_mysql, mysql_schema):
    from app.core.errors import IntegrityViolation

    load_reference(scratch_mysql)
    before = scratch_mysql.fetch_all(f"SELECT {ORIGINAL_SCHEDULE_COLUMNS} FROM schedules ORDER BY id")
    assert before, "the reference database has lessons"
    upgrade(scratch_mysql, clock.now())
    assert scratch_mysql.fetch_all(f"SELECT {ORIGINAL_SCHEDULE_COLUMNS} FROM schedules ORDER BY id") == before
    lesson = before[0]["id"]
    scratch_mysql.execute("UPDATE schedules SET status = 'no_show' WHERE id = :id", {"id": lesson})
    assert scratch_mysql.fetch_value("SELECT status FROM schedules WHERE id = :id", {"id": lesson}) == "no_show"
    with pytest.raises(IntegrityViolation):
        scratch_mysql.execute("UPDATE schedules SET status = 'lost' WHERE id = :id", {"id": lesson})
    with pytest.raises(IntegrityViolation):
        scratch_mysql.execute("UPDATE schedules SET cancelled_by = 999999 WHERE id = :id", {"id": lesson})


def test_schedule_status_no_show_and_cancellation_columns(db):
    from app.core.errors import IntegrityViolation
    from tests.factories import make_schedule, make_user

    canceller = make_user(db, role="staff")
    lesson = make_schedule(db, status="no_show", pickup_location="12 Bay St")
    db.execute("UPDATE schedules SET status = 'cancelled', cancelled_at = :at, cancelled_by = :u,"
               " cancel_reason = :r WHERE id = :id",
               {"at": "2026-03-10 04:00:00", "u": canceller, "r": "Car broke down", "id": lesson})
    row = db.fetch_one("SELECT status, cancelled_by, cancel_reason, pickup_location FROM schedules WHERE id = :id",
                       {"id": lesson})
    assert row == {"status": "cancelled", "cancelled_by": canceller, "cancel_reason": "Car broke down",
                   "pickup_location": "12 Bay St"}
    with pytest.raises(IntegrityViolation):
        make_schedule(db, status="postponed")
    db.execute("DELETE FROM users WHERE id = :u", {"u": canceller})
    assert db.fetch_value("SELECT cancelled_by FROM schedules WHERE id = :id", {"id": lesson}) is None


def test_0008_indexes_and_columns_exist(sqlite_template, mysql_schema):
    for shape in (sqlite_shape(Database.from_url(f"sqlite:///{sqlite_template}")),
                  mysql_shape(Database.from_url(mysql_schema))):
        schedules = shape["schedules"]["indexes"]
        assert schedules["idx_schedule_instructor_date"] == (  # 0037 appends the slot: a covering index
            ("instructor_id", "scheduled_date", "status", "start_time", "end_time"), False)
        assert schedules["idx_schedule_vehicle_date"] == (("vehicle_id", "scheduled_date"), False)
        assert schedules["idx_schedule_enrollment_date"] == (("enrollment_id", "scheduled_date"), False)
        assert shape["reminders"]["indexes"]["idx_reminder_status_send_at"] == (("status", "send_at"), False)
        assert shape["branch_opening_hours"]["indexes"]["idx_branch_opening_hours"] == (("branch_id", "weekday"), False)
        assert [c[0] for c in shape["branches"]["columns"]][-1] == "timezone"
        names = [c[0] for c in shape["reminders"]["columns"]]
        assert names[names.index("updated_at") + 1] == "send_at"  # 0021 appends the dispatcher's columns after it
        columns = [c[0] for c in shape["schedules"]["columns"]]
        at = columns.index("cancelled_at")  # 0008's four, appended in this order (0013 appends series_id after)
        assert columns[at:at + 4] == ["cancelled_at", "cancelled_by", "cancel_reason", "pickup_location"]
        assert "series_id" in columns[at + 4:]


# --- 0010_rating_scale: PHP-era 0-10 ratings become 1-5 ------------------------------------------------

RATINGS = {0: 1, 1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 4, 8: 4, 9: 5, 10: 5, None: None}


def _rating_scale_converts(db: Database, monkeypatch) -> None:
    from tests.factories import make_enrollment, make_instructor, make_schedule

    upgrade_before(db, "0010", monkeypatch)
    enrollment, instructor = make_enrollment(db), make_instructor(db)
    ids = {old: make_schedule(db, enrollment, instructor, status="completed", student_rating=old) for old in RATINGS}
    assert "0010" in [m.version for m in upgrade(db, clock.now())]
    got = {old: db.fetch_value("SELECT student_rating FROM schedules WHERE id = :id", {"id": i})
           for old, i in ids.items()}
    assert {old: (None if v is None else int(v)) for old, v in got.items()} == RATINGS
    assert upgrade(db, clock.now()) == []  # once only: a 1-5 rating is never halved again


def test_0010_converts_php_ratings_to_one_to_five_on_sqlite(tmp_path, monkeypatch):
    _rating_scale_converts(Database.from_url(f"sqlite:///{tmp_path / 'ratings.sqlite3'}"), monkeypatch)


def test_0010_converts_php_ratings_to_one_to_five_on_mariadb(scratch_mysql, monkeypatch):
    _rating_scale_converts(scratch_mysql, monkeypatch)
