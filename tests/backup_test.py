"""`flask backup` on both databases: a complete, restorable copy with its manifest (and uploads), private,
pruned to BACKUP_KEEP; and a clear one-line failure for each way it can go wrong."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import json
import shutil
import stat
import tarfile
from pathlib import Path
from datetime import datetime, timedelta

import pytest

from app.core.database import Database
from app.dao.table_digest import TableDigestDAO
from app.services import backup
from tests.conftest import app_overrides, mysql_url


def _manifest(path):
    return json.loads(backup.manifest_path(path).read_text())


def test_sqlite_backup_is_a_consistent_copy_and_old_ones_are_pruned(tmp_path, sqlite_template):
    source = tmp_path / "live.sqlite3"
    shutil.copyfile(sqlite_template, source)
    db = Database.from_url(f"sqlite:///{source}")
    db.insert("branches", {"name": "Kept in the backup"})
    uploads = tmp_path / "uploads"
    (uploads / "2026").mkdir(parents=True)
    (uploads / "2026" / "licence.pdf").write_bytes(b"%PDF-1.4 licence")
    (uploads / "link.pdf").symlink_to(tmp_path / "live.sqlite3")  # never archived
    t0 = datetime(2026, 11, 26, 2, 15, 0)
    results = [backup.backup(f"sqlite:///{source}", tmp_path / "bk", t0 + timedelta(days=i), keep=2,
                             upload_dir=uploads) for i in range(3)]
    kept = sorted((tmp_path / "bk").glob("origin-*.sqlite3"))
    assert [p.name for p in kept] == [results[1].path.name, results[2].path.name]
    assert results[2].removed == [results[0].path]
    # the pruned backup took its manifest and uploads archive with it; nothing half-written is left
    names = sorted(p.name for p in (tmp_path / "bk").iterdir())
    assert names == sorted(n for r in results[1:] for n in (r.path.name, r.path.name + ".manifest.json",
                                                            r.uploads_path.name))
    for path in (results[2].path, results[2].manifest_path, results[2].uploads_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    copy = Database.from_url(f"sqlite:///{results[2].path}")
    assert copy.fetch_value("SELECT name FROM branches") == "Kept in the backup"
    copy.close()
    assert len(results[2].sha256) == 64

    manifest = _manifest(results[2].path)
    assert manifest["backend"] == "sqlite" and manifest["file"] == results[2].path.name
    assert manifest["created_at"] == "2026-11-28T02:15:00"
    assert manifest["sha256"] == backup.file_sha256(results[2].path)
    assert manifest["size"] == results[2].path.stat().st_size
    assert manifest["schema_version"] == max(r["version"] for r in db.fetch_all("SELECT version FROM schema_migrations"))
    live = TableDigestDAO(db).digest_all()
    assert {name: (t["rows"], t["checksum"]) for name, t in manifest["tables"].items()} == \
        {name: (d.rows, d.checksum) for name, d in live.items()}
    assert manifest["tables"]["branches"]["rows"] == 1
    assert manifest["uploads"] == {"file": results[2].uploads_path.name, "files": 1,
                                   "size": results[2].uploads_path.stat().st_size,
                                   "sha256": backup.file_sha256(results[2].uploads_path)}
    with tarfile.open(results[2].uploads_path) as tar:
        assert sorted(m.name for m in tar.getmembers()) == ["2026", "2026/licence.pdf"]
    db.close()


def test_backup_command_writes_a_manifest_matching_the_database(runner, tmp_path, backend, db_url):
    if backend == "mysql" and not shutil.which("mariadb-dump") and not shutil.which("mysqldump"):
        pytest.skip("no mariadb-dump on this machine")
    db = Database.from_url(db_url)
    db.insert("branches", {"name": "In the manifest"})
    result = runner.invoke(args=["backup", "--dir", str(tmp_path / "out"), "--keep", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("backup ok:") and " tables, " in result.output
    [made] = (tmp_path / "out").glob("origin-*.s*[3z]")
    manifest = _manifest(made)
    assert manifest["backend"] == backend and manifest["uploads"] is None
    live = TableDigestDAO(db).digest_all()
    assert set(manifest["tables"]) == set(live)
    for name, digest in live.items():
        assert manifest["tables"][name] == {"rows": digest.rows, "checksum": digest.checksum}, name
    db.close()


def test_mysql_table_written_during_the_dump_is_marked_not_checksummed(tmp_path, mysql_schema, monkeypatch):
    if not shutil.which("mariadb-dump") and not shutil.which("mysqldump"):
        pytest.skip("no mariadb-dump on this machine")
    real_dump = backup._mysql_backup

    def dump_while_a_writer_works(dialect, target, tool):
        real_dump(dialect, target, tool)
        writer = Database.from_url(mysql_schema)
        writer.insert("branches", {"name": "Written during the backup"})
        writer.close()

    monkeypatch.setattr(backup, "_mysql_backup", dump_while_a_writer_works)
    result = backup.backup(mysql_url(), tmp_path, datetime(2026, 11, 26, 2, 15), keep=5)
    tables = result.manifest["tables"]
    assert tables["branches"]["checksum"] is None and tables["branches"]["changed_during_backup"] is True
    assert tables["users"]["checksum"] is not None and "changed_during_backup" not in tables["users"]


def test_failed_dump_leaves_no_backup_behind(tmp_path):
    with pytest.raises(backup.BackupFailed, match="cannot connect to MariaDB at 127.0.0.1:1"):
        backup.backup("mysql://nobody@127.0.0.1:1/none", tmp_path, datetime(2026, 11, 26, 2, 15))
    assert list(tmp_path.iterdir()) == []


def test_unwritable_backup_folder_is_one_clear_line(runner, tmp_path, backend):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the backup folder should be")
    result = runner.invoke(args=["backup", "--dir", str(blocker / "backups")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: backup failed: the backup folder {blocker / 'backups'} cannot be created: Not a directory"]


def test_missing_dump_tool_and_wrong_credentials(tmp_path, mysql_schema, monkeypatch):
    from app.bootstrap import create_app

    app = create_app(app_overrides(mysql_schema, tmp_path))
    runner = app.test_cli_runner()
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    with monkeypatch.context() as patch:
        patch.setenv("PATH", str(empty_bin))
        result = runner.invoke(args=["backup", "--dir", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "mariadb-dump is not installed" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    if not shutil.which("mariadb-dump") and not shutil.which("mysqldump"):
        pytest.skip("no mariadb-dump on this machine")
    wrong = mysql_url().replace("://root@", "://origin_nobody:wrong-password@")
    app.config["DATABASE_URL"] = wrong
    result = runner.invoke(args=["backup", "--dir", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "refused user 'origin_nobody': access denied" in result.output
    assert "wrong-password" not in result.output
    assert list((tmp_path / "out").iterdir()) == []


def test_the_application_account_with_only_the_printed_grants_can_take_the_nightly_backup(tmp_path, mysql_schema):
    """The crontab's backup runs as the application's account, which holds only what `flask print-grants`
    gives it (per-table DML): the dump must not need more (it once asked for the EVENT privilege)."""
    import uuid

    from app.bootstrap import create_app
    from app.dao.migration import app_grants

    if not shutil.which("mariadb-dump") and not shutil.which("mysqldump"):
        pytest.skip("no mariadb-dump on this machine")
    admin = Database.from_url(mysql_schema)
    user, password = f"origin_bk_{uuid.uuid4().hex[:8]}", "Bk-" + uuid.uuid4().hex
    try:
        admin.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
        for statement in app_grants(admin.tables(), admin.current_database(), user, "%"):
            admin.execute(statement)
        url = mysql_schema.replace("://root@", f"://{user}:{password}@")
        app = create_app(app_overrides(url, tmp_path))
        result = app.test_cli_runner().invoke(args=["backup", "--dir", str(tmp_path / "out")])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("backup ok: ") and password not in result.output
        [dump] = (tmp_path / "out").glob("origin-*.sql.gz")
        assert backup.manifest_path(dump).is_file()
    finally:
        admin.execute(f"DROP USER IF EXISTS '{user}'@'%'")
        admin.close()


# --------------------------------------------------------------------------- hourly uploads snapshot


def test_the_hourly_uploads_snapshot_copies_only_what_is_new_and_forgets_removed_files_late(tmp_path):
    from datetime import datetime, timedelta

    from app.services.backup import SNAPSHOT_FOLDER, snapshot_uploads

    uploads, backups_dir = tmp_path / "uploads", tmp_path / "backups"
    (uploads / "a").mkdir(parents=True)
    (uploads / "a" / "one.pdf").write_bytes(b"%PDF-1 one")
    (uploads / "two.png").write_bytes(b"\x89PNG two")
    (uploads / "link.pdf").symlink_to(uploads / "a" / "one.pdf")  # never followed
    now = datetime(2026, 12, 2, 10, 0)
    first = snapshot_uploads(uploads, backups_dir, now, keep_days=14)
    snap = backups_dir / SNAPSHOT_FOLDER
    assert (first.copied, first.unchanged, first.removed) == (2, 0, 0) and first.bytes_copied == 18
    assert (snap / "a" / "one.pdf").read_bytes() == b"%PDF-1 one" and not (snap / "link.pdf").exists()
    assert oct((snap / "two.png").stat().st_mode & 0o777) == "0o600"
    assert oct(snap.stat().st_mode & 0o777) == "0o700"

    (uploads / "three.pdf").write_bytes(b"%PDF-1 three")  # the next hour's upload
    second = snapshot_uploads(uploads, backups_dir, now + timedelta(hours=1), keep_days=14)
    assert (second.copied, second.unchanged) == (1, 2)  # incremental: only the new file

    (uploads / "two.png").unlink()  # a document deleted at the office
    third = snapshot_uploads(uploads, backups_dir, now + timedelta(hours=2), keep_days=14)
    assert (third.removed, third.waiting) == (0, 1) and (snap / "two.png").exists()  # restorable for a while
    later = snapshot_uploads(uploads, backups_dir, now + timedelta(days=14, hours=3), keep_days=14)
    assert (later.removed, later.waiting) == (1, 0) and not (snap / "two.png").exists()
    assert sorted(p.relative_to(snap).as_posix() for p in snap.rglob("*") if p.is_file()) == [
        ".gone.json", "a/one.pdf", "three.pdf"]


def test_snapshot_uploads_command_and_its_failure(runner, app, tmp_path):
    upload_dir = Path(app.config["UPLOAD_DIR"])
    upload_dir.mkdir(parents=True, exist_ok=True)
    (upload_dir / "doc.pdf").write_bytes(b"%PDF-1 x")
    result = runner.invoke(args=["snapshot-uploads", "--dir", str(tmp_path / "bk")])
    assert result.exit_code == 0, result.output
    assert result.output.strip().startswith("uploads snapshot ok: ") and "1 copied (8 bytes), 0 unchanged" in result.output
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    result = runner.invoke(args=["snapshot-uploads", "--dir", str(blocked / "bk")])
    assert result.exit_code == 1 and "uploads snapshot failed: the backup folder" in result.output
