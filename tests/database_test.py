"""The database core on both backends: parameters, %, transactions, error mapping, types."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime, time
from decimal import Decimal

import pytest

from app.core.database import Database, count_queries, split_script, to_pyformat
from app.core.errors import Conflict, DatabaseUnavailable, IntegrityViolation


def _branch(db, name="Test Branch"):
    return db.insert("branches", {"name": name, "email": "b@origin.com.au"})


def test_named_parameters_round_trip(db):
    row = db.fetch_one("SELECT :a AS a, :b AS b, :a AS again", {"a": 7, "b": "x:y"})
    assert row == {"a": 7, "b": "x:y", "again": 7}


def test_percent_and_colons_inside_literals_survive(db):
    row = db.fetch_one("SELECT '12:30' AS t, 'x%' AS p, 5 % 3 AS m, :v AS v", {"v": "50%"})
    assert row == {"t": "12:30", "p": "x%", "m": 2, "v": "50%"}


def test_like_with_percent_parameter(db):
    _branch(db, "Bayside Hub")
    _branch(db, "Northern Centre")
    rows = db.fetch_all("SELECT name FROM branches WHERE name LIKE :q ORDER BY name", {"q": "%Hub%"})
    assert [r["name"] for r in rows] == ["Bayside Hub"]


def test_translation_leaves_quotes_and_double_colons():
    assert to_pyformat("SELECT ':x', \"a:b\", `c:d`, :real, 1::int, 10 % 3") == (
        "SELECT ':x', \"a:b\", `c:d`, %(real)s, 1::int, 10 %% 3"
    )


def test_insert_returns_id_and_execute_reports_rowcount(db):
    first = _branch(db, "One")
    second = _branch(db, "Two")
    assert second > first > 0
    result = db.execute("UPDATE branches SET city = :city WHERE id IN (:a, :b)", {"city": "Melb", "a": first, "b": second})
    assert result.rowcount == 2
    # matched-not-changed rows still count (FOUND_ROWS on MariaDB, as on SQLite)
    assert db.execute("UPDATE branches SET city = :city WHERE id = :id", {"city": "Melb", "id": first}).rowcount == 1


def test_in_params_helper(db):
    ids = [_branch(db, n) for n in ("A", "B", "C")]
    fragment, params = Database.in_params("ids", ids[:2])
    rows = db.fetch_all(f"SELECT name FROM branches WHERE id IN ({fragment}) ORDER BY name", params)
    assert [r["name"] for r in rows] == ["A", "B"]
    empty_fragment, empty = Database.in_params("ids", [])
    assert db.fetch_all(f"SELECT id FROM branches WHERE id IN ({empty_fragment})", empty) == []


def test_transaction_commits_and_rolls_back(db):
    with db.transaction():
        _branch(db, "Kept")
    with pytest.raises(RuntimeError):
        with db.transaction():
            _branch(db, "Lost")
            raise RuntimeError("boom")
    names = [r["name"] for r in db.fetch_all("SELECT name FROM branches ORDER BY name")]
    assert names == ["Kept"]
    assert not db.in_transaction


def test_nested_transaction_rolls_back_only_inner_savepoint(db):
    with db.transaction():
        _branch(db, "Outer")
        with pytest.raises(ValueError):
            with db.transaction():
                _branch(db, "Inner")
                raise ValueError("inner fails")
        _branch(db, "After")
    names = sorted(r["name"] for r in db.fetch_all("SELECT name FROM branches"))
    assert names == ["After", "Outer"]


def test_failure_in_outer_undoes_committed_inner_savepoint(db):
    with pytest.raises(KeyError):
        with db.transaction():
            with db.transaction():
                _branch(db, "Inner")
            raise KeyError("outer fails")
    assert db.fetch_value("SELECT COUNT(*) AS n FROM branches", cast=int) == 0


def test_duplicate_key_maps_to_conflict_naming_the_field(db):
    branch = _branch(db)
    user = {"role": "staff", "first_name": "A", "last_name": "B", "email": "dup@origin.com",
            "password_hash": "x", "branch_id": branch}
    db.insert("users", user)
    with pytest.raises(Conflict) as info:
        db.insert("users", user)
    assert info.value.field == "email"
    assert info.value.status == 409


def test_foreign_key_and_not_null_map_to_integrity_violation(db):
    with pytest.raises(IntegrityViolation):
        db.insert("students", {"user_id": 999999})
    with pytest.raises(IntegrityViolation):
        db.execute("INSERT INTO branches (name) VALUES (:name)", {"name": None})


def test_enum_check_is_enforced_on_both(db):
    with pytest.raises(IntegrityViolation):
        db.insert("courses", {"title": "T", "price": Decimal("1.00"), "lesson_count": 1, "status": "bogus"})


def test_types_come_back_the_same_on_both(db):
    branch = _branch(db)
    course = db.insert("courses", {"title": "T", "price": Decimal("880.10"), "lesson_count": 10})
    user = db.insert("users", {"role": "student", "first_name": "S", "last_name": "T", "email": "s@origin.com",
                               "password_hash": "x", "branch_id": branch, "created_at": datetime(2026, 1, 2, 3, 4, 5)})
    student = db.insert("students", {"user_id": user, "license_expiry": date(2027, 5, 1)})
    enrol = db.insert("enrollments", {"student_id": student, "course_id": course, "start_date": date(2026, 3, 1)})
    instructor = db.insert("instructors", {"user_id": user})
    db.insert("schedules", {"enrollment_id": enrol, "instructor_id": instructor, "scheduled_date": date(2026, 3, 5),
                            "start_time": time(9, 0), "end_time": time(10, 30)})
    row = db.fetch_one(
        "SELECT c.price, u.created_at, st.license_expiry, sc.start_time, sc.end_time"
        " FROM courses c, users u, students st, schedules sc WHERE c.id = :c AND u.id = :u AND st.id = :s",
        {"c": course, "u": user, "s": student},
    )
    assert row["price"] == Decimal("880.10") and isinstance(row["price"], Decimal)
    assert row["created_at"] == datetime(2026, 1, 2, 3, 4, 5)
    assert row["license_expiry"] == date(2027, 5, 1)
    assert row["start_time"] == time(9, 0) and row["end_time"] == time(10, 30)


def test_fetch_value_cast_and_missing_row(db):
    assert db.fetch_value("SELECT COUNT(*) AS n FROM branches", cast=int) == 0
    assert db.fetch_value("SELECT id FROM branches WHERE id = :id", {"id": -1}) is None
    assert db.fetch_one("SELECT id FROM branches WHERE id = :id", {"id": -1}) is None


def test_query_counter_counts_statements(db):
    with count_queries() as counter:
        db.fetch_all("SELECT id FROM branches")
        db.fetch_value("SELECT COUNT(*) AS n FROM branches")
    assert counter.count == 2


def test_unsafe_identifier_is_refused(db):
    with pytest.raises(ValueError):
        db.insert("branches; DROP TABLE users", {"name": "x"})
    with pytest.raises(ValueError):
        db.insert("branches", {"name) VALUES ('x'); --": "x"})


def test_close_is_idempotent_and_rolls_back_open_work(db_url):
    first = Database.from_url(db_url)
    ctx = first.transaction()
    ctx.__enter__()
    _branch(first, "Uncommitted")
    first.close()
    first.close()
    second = Database.from_url(db_url)
    assert second.fetch_value("SELECT COUNT(*) AS n FROM branches", cast=int) == 0
    second.close()


def test_unreachable_server_is_database_unavailable():
    db = Database.from_url("mysql://nobody@127.0.0.1:1/none", connect_timeout=1)
    with pytest.raises(DatabaseUnavailable):
        db.ping()


def test_split_script_ignores_comments_and_blank_lines():
    text = "-- header\nCREATE TABLE a (x INT);\n\n-- b\nCREATE INDEX i ON a(x);\n"
    assert split_script(text) == ["CREATE TABLE a (x INT)", "CREATE INDEX i ON a(x)"]


def test_integer_beyond_64_bits_is_a_validation_error_not_a_crash(db):
    from app.core.errors import ValidationFailed

    huge = 10 ** 30
    try:
        rows = db.fetch_all("SELECT id FROM branches WHERE id = :id", {"id": huge})
    except ValidationFailed as exc:  # SQLite cannot bind it
        assert exc.status == 422
    else:  # MariaDB compares it and finds nothing
        assert rows == []


def test_a_nested_failure_after_the_server_rolled_back_raises_the_original_error(db):
    """A deadlock makes MariaDB roll the whole transaction back, savepoints included: the nested level
    must hand the original error on (the retry logic recognises it), not 'SAVEPOINT does not exist'."""
    class Original(Exception):
        pass

    with pytest.raises(Original):
        with db.transaction():
            with db.transaction():
                db._raw("ROLLBACK")  # what the server does to a deadlock victim
                raise Original()


def test_mariadb_connections_share_one_preferred_tls_context(mysql_schema):
    """PyMySQL made a new TLS context (the system CA bundle loaded) for every connection: one per
    process now, for the no-options "preferred" mode only; explicit TLS options still get their own."""
    from app.core.database import _connection_class

    first, second = Database.from_url(mysql_schema), Database.from_url(mysql_schema)
    try:
        assert first.fetch_value("SELECT 1", cast=int) == second.fetch_value("SELECT 1", cast=int) == 1
        contexts = {id(database._conn.ctx) for database in (first, second)}
        assert len(contexts) == 1
        explicit = _connection_class().__new__(_connection_class())
        mine = explicit._create_ssl_ctx({"ca": None, "check_hostname": False, "verify_mode": False})
        assert id(mine) not in contexts
    finally:
        first.close()
        second.close()
