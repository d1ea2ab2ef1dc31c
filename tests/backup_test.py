"""`flask backup` on both databases: a complete, restorable copy, private, pruned to BACKUP_KEEP."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import gzip
import shutil
import stat
import uuid
from datetime import datetime, timedelta

import pytest

from app.core.database import Database
from app.services import backup
from tests.conftest import mysql_url, server_database


def test_sqlite_backup_is_a_consistent_copy_and_old_ones_are_pruned(tmp_path, sqlite_template):
    source = tmp_path / "live.sqlite3"
    shutil.copyfile(sqlite_template, source)
    db = Database.from_url(f"sqlite:///{source}")
    db.insert("branches", {"name": "Kept in the backup"})
    t0 = datetime(2026, 11, 26, 2, 15, 0)
    results = [backup.backup(f"sqlite:///{source}", tmp_path / "bk", t0 + timedelta(days=i), keep=2) for i in range(3)]
    kept = sorted((tmp_path / "bk").glob("origin-*.sqlite3"))
    assert [p.name for p in kept] == [results[1].path.name, results[2].path.name]
    assert results[2].removed == [results[0].path]
    assert stat.S_IMODE(results[2].path.stat().st_mode) == 0o600
    copy = Database.from_url(f"sqlite:///{results[2].path}")
    assert copy.fetch_value("SELECT name FROM branches") == "Kept in the backup"
    assert len(results[2].sha256) == 64


def test_backup_command_reports_and_fails_loudly(runner, tmp_path, backend):
    if backend == "mysql" and not shutil.which("mariadb-dump") and not shutil.which("mysqldump"):
        pytest.skip("no mariadb-dump on this machine")
    result = runner.invoke(args=["backup", "--dir", str(tmp_path / "out"), "--keep", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("backup ok:")


def test_mysql_dump_restores_into_a_scratch_database(tmp_path, mysql_schema):
    """The runbook's restore drill, automated: dump, restore into a scratch database, compare."""
    if not shutil.which("mariadb-dump") and not shutil.which("mysqldump"):
        pytest.skip("no mariadb-dump on this machine")
    db = Database.from_url(mysql_schema)
    db.insert("branches", {"name": "Restored branch"})
    db.close()
    result = backup.backup(mysql_url(), tmp_path, datetime(2026, 11, 26, 2, 15), keep=5)
    with gzip.open(result.path, "rt", encoding="utf-8") as dump:
        text = dump.read()
    assert "CREATE TABLE `users`" in text and "Restored branch" in text
    name = f"origin_restore_{uuid.uuid4().hex[:8]}"
    server = server_database(mysql_url())
    server.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    try:
        import subprocess
        tool = shutil.which("mariadb") or shutil.which("mysql")
        if tool is None:
            pytest.skip("no mariadb client to run the restore drill")
        url = mysql_url()
        host = url.split("@", 1)[1].split("/", 1)[0]
        hostname, _, port = host.partition(":")
        user = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[0]
        restored = subprocess.run([tool, f"--host={hostname}", f"--port={port or 3306}", f"--user={user}", name],
                                  input=text.encode(), capture_output=True, timeout=120)
        assert restored.returncode == 0, restored.stderr[:500]
        copy = Database.from_url(url.rsplit("/", 1)[0] + "/" + name)
        assert copy.fetch_value("SELECT name FROM branches WHERE name = :n", {"n": "Restored branch"}) == "Restored branch"
        copy.close()
    finally:
        server.execute(f"DROP DATABASE IF EXISTS `{name}`")
        server.close()


def test_failed_dump_leaves_no_backup_behind(tmp_path):
    with pytest.raises(backup.BackupFailed):
        backup.backup("mysql://nobody@127.0.0.1:1/none", tmp_path, datetime(2026, 11, 26, 2, 15))
    assert list(tmp_path.glob("origin-*.sql.gz")) == []
