"""TableDigestDAO on both databases: a checksum that follows the data, not the reading; and DatabaseSwapDAO's
one-statement swap on MariaDB."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import sqlite3
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from app.core.database import Database
from app.dao.table_digest import DatabaseSwapDAO, TableDigestDAO, canonical, row_line
from tests.conftest import mysql_url, require_mysql, server_database


def _branch(db, name):
    return db.insert("branches", {"name": name})


def test_checksum_follows_the_data(db):
    dao = TableDigestDAO(db)
    _branch(db, "North")
    first = dao.digest("branches")
    assert first.rows == 1 and len(first.checksum) == 64
    assert dao.digest("branches") == first  # reading again changes nothing
    branch = _branch(db, "South")
    at = datetime(2026, 11, 26, 2, 15)  # MariaDB's ON UPDATE CURRENT_TIMESTAMP would change it otherwise
    db.execute("UPDATE branches SET updated_at = :at WHERE id = :id", {"at": at, "id": branch})
    second = dao.digest("branches")
    assert second.rows == 2 and second.checksum != first.checksum
    db.execute("UPDATE branches SET name = :name WHERE id = :id", {"name": "South!", "id": branch})
    db.execute("UPDATE branches SET updated_at = :at WHERE id = :id", {"at": at, "id": branch})
    changed = dao.digest("branches")
    assert changed.rows == 2 and changed.checksum != second.checksum
    db.execute("UPDATE branches SET name = :name, updated_at = :at WHERE id = :id",
               {"name": "South", "at": at, "id": branch})
    assert dao.digest("branches") == second  # same data, same checksum


def test_small_batches_read_every_row_once_in_key_order(db):
    """Keyset paging, single and composite keys: batches of 2 give the same digest as one batch."""
    dao = TableDigestDAO(db)
    for i in range(7):
        _branch(db, f"Branch {i}")
    columns, key = dao.columns("branches"), dao.primary_key("branches")
    assert key == ["id"] and columns[0] == "id"
    batches = list(dao.batches("branches", columns, key, size=2))
    assert [len(b) for b in batches] == [2, 2, 2, 1]
    ids = [row["id"] for batch in batches for row in batch]
    assert ids == sorted(ids) and len(set(ids)) == 7
    assert dao.digest("branches", size=2) == dao.digest("branches", size=1000)
    assert dao.primary_key("course_instructor") == ["course_id", "instructor_id"]
    everything = dao.digest_all(size=3)
    assert everything["branches"] == dao.digest("branches")
    assert set(everything) == set(db.tables())


def test_canonical_values_tell_types_apart_and_ignore_driver_spelling():
    assert canonical(Decimal("12.50")) == canonical(Decimal("12.5")) == canonical(12.5) == "n:12.5"
    assert canonical(Decimal("0.00")) == canonical(Decimal("-0")) == "n:0"
    assert canonical(Decimal("1E+1")) == "n:10"
    assert canonical(datetime(2026, 11, 26, 2, 15)) == "t:2026-11-26 02:15:00"
    assert canonical(date(2026, 11, 26)) == "d:2026-11-26"
    assert canonical(time(9, 30)) == "h:09:30:00"
    assert canonical(timedelta(hours=25)) == "h:90000.0"
    assert canonical(b"\x00\xff") == "b:00ff"
    assert canonical(True) == 1
    assert row_line([None]) != row_line([""]) and row_line([1]) != row_line(["1"])
    assert row_line(["a", "b"]) != row_line(["a,b"])


def test_sqlite_copy_has_the_same_digests(tmp_path, sqlite_template):
    source = Database.from_url(f"sqlite:///{sqlite_template}")
    copy_path = tmp_path / "copy.sqlite3"
    target = sqlite3.connect(copy_path)
    source.connection.backup(target)
    target.close()
    copy = Database.from_url(f"sqlite:///{copy_path}")
    assert TableDigestDAO(copy).digest_all() == TableDigestDAO(source).digest_all()
    assert TableDigestDAO(copy).integrity_check() == "ok"
    copy.close()
    source.close()


def test_swap_moves_every_table_in_one_statement():
    require_mysql()
    server = server_database(mysql_url())
    dao = DatabaseSwapDAO(server)
    tag = uuid.uuid4().hex[:6]
    target, scratch, trash = (f"origin_restore_sw{tag}_{n}" for n in ("t", "s", "x"))
    try:
        for name in (target, scratch, trash):
            dao.create_database(name)
        assert dao.database_exists(target) and not dao.database_exists(target + "_none")
        server.execute(f"CREATE TABLE `{target}`.`old_only` (id INT PRIMARY KEY)")
        server.execute(f"CREATE TABLE `{target}`.`shared` (id INT PRIMARY KEY, v VARCHAR(10))")
        server.execute(f"INSERT INTO `{target}`.`shared` VALUES (1, 'old')")
        server.execute(f"CREATE TABLE `{scratch}`.`shared` (id INT PRIMARY KEY, v VARCHAR(10))")
        server.execute(f"CREATE TABLE `{scratch}`.`child` (id INT PRIMARY KEY, shared_id INT,"
                       f" FOREIGN KEY (shared_id) REFERENCES `shared` (id))")
        server.execute(f"INSERT INTO `{scratch}`.`shared` VALUES (1, 'new')")
        assert dao.swap(target, scratch, trash) == (2, 2)
        assert dao.base_tables(target) == ["child", "shared"]
        assert dao.base_tables(scratch) == []
        assert dao.base_tables(trash) == ["old_only", "shared"]
        assert server.fetch_value(f"SELECT v FROM `{target}`.`shared`") == "new"
        referenced = server.fetch_value(
            "SELECT referenced_table_schema AS s FROM information_schema.key_column_usage"
            " WHERE table_schema = :t AND table_name = 'child' AND referenced_table_name IS NOT NULL", {"t": target})
        assert referenced == target  # the foreign key followed its table
    finally:
        for name in (target, scratch, trash):
            dao.drop_database(name)
        server.close()
