"""`flask restore` and `flask restore-drill` on both databases: the data comes back exactly (per-table
checksums equal the manifest), and every bad input is one clear line that leaves the target as it was."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import gzip
import io
import json
import re
import shutil
import tarfile
from pathlib import Path

import pytest

from app.core.database import Database
from app.dao.table_digest import TableDigestDAO
from app.services import backup
from tests.conftest import mysql_url, server_database


def _digests(url):
    db = Database.from_url(url)
    try:
        with db.transaction():
            return {name: (d.rows, d.checksum) for name, d in TableDigestDAO(db).digest_all().items()}
    finally:
        db.close()


def _manifest_digests(path):
    tables = json.loads(backup.manifest_path(path).read_text())["tables"]
    return {name: (t["rows"], t["checksum"]) for name, t in tables.items()}


def _leftover_databases():
    """Scratch and trash databases a restore or drill left behind (they are named <target>_<kind>_<tag>)."""
    server = server_database(mysql_url())
    base = mysql_url().rsplit("/", 1)[1]
    names = [r["name"] for r in server.fetch_all("SELECT schema_name AS name FROM information_schema.schemata")]
    server.close()
    return [n for n in names if re.fullmatch(re.escape(base) + r"_(restore|trash|drill)_[0-9a-f]{8}", n)]


def _backup(runner, tmp_path, *extra):
    result = runner.invoke(args=["backup", "--dir", str(tmp_path / "bk"), *extra])
    assert result.exit_code == 0, result.output
    [made] = (tmp_path / "bk").glob("origin-*.s*[3z]")
    return made


# every table of the schema (sql/database.sql, the MariaDB file: one CREATE TABLE per table)
TABLES = sum(1 for line in (Path(__file__).resolve().parent.parent / "sql" / "database.sql").read_text().splitlines()
             if line.startswith("CREATE TABLE"))


def _needs_tools(backend):
    if backend == "mysql" and not (shutil.which("mariadb-dump") or shutil.which("mysqldump")):
        pytest.skip("no mariadb-dump on this machine")


def test_restore_drill_passes_and_leaves_no_scratch(seeded, runner, tmp_path, backend):
    _needs_tools(backend)
    result = runner.invoke(args=["restore-drill", "--dir", str(tmp_path / "bk")])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith(f"restore drill ok: {TABLES} tables, ") and "audit chain intact, restored in" in lines[-1]
    assert any(line.startswith("audit trail of the restored copy: intact, ") for line in lines)
    table_lines = [line for line in lines if line.split() and line.split()[-1] in ("ok", "DIFFERENT")]
    assert len(table_lines) == TABLES and all(line.endswith("ok") for line in table_lines)
    assert any(line.split()[:2] == ["users", "11"] for line in table_lines)
    [made] = (tmp_path / "bk").glob("origin-*.s*[3z]")  # the drill's backup is kept with its manifest
    assert backup.manifest_path(made).is_file()
    if backend == "mysql":
        assert _leftover_databases() == []


def test_the_drill_fails_when_the_restored_audit_chain_does_not_verify(seeded, runner, tmp_path):
    """Checksums alone would pass a faithful copy of a tampered trail: the drill also walks the chain."""
    from app.core.database import Database

    db = Database.from_url(seeded.config["DATABASE_URL"])
    try:
        row = db.fetch_one("SELECT id FROM audit_trail WHERE row_hash IS NOT NULL ORDER BY id LIMIT 1")
        db.execute("UPDATE audit_trail SET details = :d WHERE id = :id", {"d": "rewritten", "id": row["id"]})
    finally:
        db.close()
    result = runner.invoke(args=["restore-drill", "--dir", str(tmp_path / "bk")])
    assert result.exit_code == 1
    assert "audit trail of the restored copy: BROKEN, " in result.output
    assert result.output.strip().splitlines()[-1].startswith(
        f"Error: restore drill FAILED: the restored audit trail's hash chain is broken at row {row['id']}")


def test_restore_brings_the_backed_up_data_back(seeded, runner, tmp_path, backend, db_url):
    _needs_tools(backend)
    made = _backup(runner, tmp_path)
    expected = _manifest_digests(made)
    assert _digests(db_url) == expected
    db = Database.from_url(db_url)
    db.execute("UPDATE branches SET name = :name WHERE id = (SELECT MIN(id) FROM students)", {"name": "Renamed"})
    db.execute("DELETE FROM notes")
    db.insert("branches", {"name": "Added after the backup"})
    db.close()
    changed = _digests(db_url)
    assert changed != expected

    refused = runner.invoke(args=["restore", str(made)])
    assert refused.exit_code == 1
    assert "restore refused: the target" in refused.output and "is not empty" in refused.output
    assert "--force" in refused.output
    assert _digests(db_url) == changed  # untouched

    result = runner.invoke(args=["restore", str(made), "--force"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith(f"restore ok: {made.name} into ")
    assert f"{TABLES} tables, " in result.output and "checked against the manifest" in result.output
    assert "restore: " in result.output  # progress
    assert _digests(db_url) == expected
    if backend == "mysql":
        assert _leftover_databases() == []
    else:
        assert [p.name for p in tmp_path.glob(".test.sqlite3*")] == []


def test_restore_into_an_empty_database_needs_no_force(sqlite_app, tmp_path):
    runner = sqlite_app.test_cli_runner()
    db = Database.from_url(sqlite_app.config["DATABASE_URL"])
    db.insert("branches", {"name": "Backed up"})
    db.close()
    made = _backup(runner, tmp_path)
    fresh = tmp_path / "new" / "origin.sqlite3"
    result = runner.invoke(args=["restore", str(made), "--database-url", f"sqlite:///{fresh}"])
    assert result.exit_code == 0, result.output
    assert _digests(f"sqlite:///{fresh}") == _manifest_digests(made)
    # a database with the schema and nothing else (flask init-db) counts as empty too
    fresh.unlink()
    shutil.copyfile(sqlite_template_of(sqlite_app), fresh)
    result = runner.invoke(args=["restore", str(made), "--database-url", f"sqlite:///{fresh}"])
    assert result.exit_code == 0, result.output


def _damage(made, tmp_path, how):
    """A damaged copy of ``made`` (with its manifest unless ``how`` drops it)."""
    data = made.read_bytes()
    bad = tmp_path / "damaged" / made.name
    bad.parent.mkdir(exist_ok=True)
    manifest = True
    if how == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif how == "truncated-no-manifest":
        bad.write_bytes(data[: len(data) // 2])
        manifest = False
    elif how == "garbage":
        bad.write_bytes(bytes(range(256)) * 64)
    elif how == "flipped-no-manifest":
        damaged = bytearray(data)
        if made.suffix == ".sqlite3":
            page = int.from_bytes(data[16:18], "big")
            for i in range(page * 2, page * 2 + 16):  # the header of the third page
                damaged[i] ^= 0xFF
        else:
            middle = len(data) // 2
            damaged[middle:middle + 8] = bytes(b ^ 0xFF for b in damaged[middle:middle + 8])
        bad.write_bytes(bytes(damaged))
        manifest = False
    elif how == "no-marker-no-manifest":
        text = gzip.decompress(data).replace(b"-- Dump completed", b"-- Dump")
        bad.write_bytes(gzip.compress(text))
        manifest = False
    if manifest:
        shutil.copyfile(backup.manifest_path(made), backup.manifest_path(bad))
    else:
        backup.manifest_path(bad).unlink(missing_ok=True)
    return bad


def test_damaged_backups_are_refused_and_the_target_is_untouched(seeded, runner, tmp_path, backend, db_url):
    _needs_tools(backend)
    made = _backup(runner, tmp_path)
    before = _digests(db_url)
    cases = {
        "truncated": "does not match its manifest",
        "truncated-no-manifest": "is damaged: the compressed data is cut short" if backend == "mysql" else "is damaged",
        "garbage": "is not an Origin backup",
        "flipped-no-manifest": "is damaged",
    }
    if backend == "mysql":
        cases["no-marker-no-manifest"] = "is incomplete: it does not end with mariadb-dump's 'Dump completed' line"
    for how, message in cases.items():
        bad = _damage(made, tmp_path, how)
        result = runner.invoke(args=["restore", str(bad), "--force"])
        assert result.exit_code == 1, (how, result.output)
        assert message in result.output, (how, result.output)
        assert result.output.startswith("Error: restore failed: "), (how, result.output)
        assert "Traceback" not in result.output
    missing = runner.invoke(args=["restore", str(tmp_path / "nowhere" / made.name)])
    assert missing.exit_code == 1 and "does not exist" in missing.output
    manifest = runner.invoke(args=["restore", str(backup.manifest_path(made))])
    assert manifest.exit_code == 1 and f"is a manifest: give the backup file itself ({made.name})" in manifest.output
    assert _digests(db_url) == before
    if backend == "mysql":
        assert _leftover_databases() == []


def test_a_copy_that_fails_its_check_replaces_nothing(seeded, runner, tmp_path, backend, db_url):
    """The manifest describes other data than the file holds (sha256 right, one table's checksum wrong):
    the scratch copy is loaded, found different, and dropped; the target keeps its own data."""
    _needs_tools(backend)
    made = _backup(runner, tmp_path)
    manifest_file = backup.manifest_path(made)
    manifest = json.loads(manifest_file.read_text())
    manifest["tables"]["users"]["checksum"] = "0" * 64
    manifest_file.write_text(json.dumps(manifest))
    db = Database.from_url(db_url)
    db.execute("DELETE FROM notes")
    db.close()
    before = _digests(db_url)
    result = runner.invoke(args=["restore", str(made), "--force"])
    assert result.exit_code == 1
    assert "the restored copy does not match the manifest (users DIFFERENT); nothing was replaced" in result.output
    assert _digests(db_url) == before
    if backend == "mysql":
        assert _leftover_databases() == []
    else:
        assert [p.name for p in tmp_path.glob(".test.sqlite3*")] == []


def test_a_dump_that_fails_to_load_replaces_nothing(tmp_path, mysql_schema):
    from app.bootstrap import create_app
    from tests.conftest import app_overrides

    runner = create_app(app_overrides(mysql_schema, tmp_path)).test_cli_runner()
    db = Database.from_url(mysql_schema)
    db.insert("branches", {"name": "Kept"})
    db.close()
    made = tmp_path / "origin-20261126-021500.sql.gz"
    made.write_bytes(gzip.compress(b"CREATE TABLE kept_out (id INT PRIMARY KEY);\nTHIS IS NOT SQL;\n"
                                   b"-- Dump completed on 2026-11-26  2:15:00\n"))
    before = _digests(mysql_schema)
    result = runner.invoke(args=["restore", str(made), "--force"])
    assert result.exit_code == 1
    assert "loading the dump into the scratch database" in result.output and "ERROR 1064" in result.output
    assert _digests(mysql_schema) == before
    assert _leftover_databases() == []


def test_mysql_restore_without_client_or_with_wrong_credentials(tmp_path, mysql_schema, monkeypatch):
    from app.bootstrap import create_app
    from tests.conftest import app_overrides

    _needs_tools("mysql")
    app = create_app(app_overrides(mysql_schema, tmp_path))
    runner = app.test_cli_runner()
    made = _backup(runner, tmp_path)
    before = _digests(mysql_schema)
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    with monkeypatch.context() as patch:
        patch.setenv("PATH", str(empty_bin))
        result = runner.invoke(args=["restore", str(made), "--force"])
    assert result.exit_code == 1
    assert "mariadb is not installed" in result.output and "Traceback" not in result.output
    wrong = mysql_url().replace("://root@", "://origin_nobody:wrong-password@")
    result = runner.invoke(args=["restore", str(made), "--force", "--database-url", wrong])
    assert result.exit_code == 1
    assert "refused user 'origin_nobody': access denied" in result.output
    assert "wrong-password" not in (tmp_path / "logs" / "cron.log").read_text()
    sqlite_made = tmp_path / "other" / "origin-20261126-021500.sqlite3"
    sqlite_made.parent.mkdir()
    Database.from_url(f"sqlite:///{sqlite_made}").execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    result = runner.invoke(args=["restore", str(sqlite_made), "--force"])
    assert result.exit_code == 1 and "is a SQLite backup but the target is MariaDB" in result.output
    assert _digests(mysql_schema) == before


# --------------------------------------------------------------------------- uploads (filesystem only)

@pytest.fixture
def sqlite_app(tmp_path, sqlite_template):
    from app.bootstrap import create_app
    from tests.conftest import app_overrides

    live = tmp_path / "live.sqlite3"
    shutil.copyfile(sqlite_template, live)
    return create_app(app_overrides(f"sqlite:///{live}", tmp_path, ORIGIN_TEST_TEMPLATE=str(sqlite_template)))


def sqlite_template_of(app):
    return app.config["ORIGIN_TEST_TEMPLATE"]


def _tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_uploads_come_back_with_the_database(sqlite_app, tmp_path):
    runner = sqlite_app.test_cli_runner()
    uploads = tmp_path / "uploads"
    (uploads / "7").mkdir(parents=True, exist_ok=True)
    (uploads / "7" / "licence.pdf").write_bytes(b"%PDF licence")
    (uploads / "medical.png").write_bytes(b"\x89PNG medical")
    made = _backup(runner, tmp_path, "--with-uploads")
    saved = _tree(uploads)
    (uploads / "7" / "licence.pdf").write_bytes(b"changed")
    (uploads / "added-later.pdf").write_bytes(b"new")
    refused = runner.invoke(args=["restore", str(made), "--with-uploads"])
    assert refused.exit_code == 1 and "the uploads folder" in refused.output and "--force" in refused.output
    result = runner.invoke(args=["restore", str(made), "--with-uploads", "--force"])
    assert result.exit_code == 0, result.output
    assert "uploads 2 files" in result.output
    assert _tree(uploads) == saved
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".uploads")] == []


@pytest.mark.parametrize("member", ["../escaped.txt", "/tmp/absolute.txt", "link", "hardlink", "fifo"])
def test_an_uploads_archive_that_reaches_outside_is_refused(sqlite_app, tmp_path, member):
    runner = sqlite_app.test_cli_runner()
    uploads = tmp_path / "uploads"
    uploads.mkdir(exist_ok=True)
    (uploads / "mine.pdf").write_bytes(b"mine")
    made = _backup(runner, tmp_path, "--with-uploads")
    archive = backup.uploads_path(made)
    with tarfile.open(archive, "w:gz") as tar:
        good = tarfile.TarInfo("fine.pdf")
        good.size = 4
        tar.addfile(good, io.BytesIO(b"fine"))
        evil = tarfile.TarInfo(member)
        if member == "link":
            evil.type, evil.linkname = tarfile.SYMTYPE, "/etc/passwd"
        elif member == "hardlink":
            evil.type, evil.linkname = tarfile.LNKTYPE, "fine.pdf"
        elif member == "fifo":
            evil.type = tarfile.FIFOTYPE
        else:
            evil.size = 4
        tar.addfile(evil, io.BytesIO(b"evil") if evil.isreg() else None)
    manifest_file = backup.manifest_path(made)
    manifest = json.loads(manifest_file.read_text())
    manifest["uploads"]["sha256"] = backup.file_sha256(archive)  # a matching manifest: the paths are what is refused
    manifest_file.write_text(json.dumps(manifest))
    before = _digests(sqlite_app.config["DATABASE_URL"])
    result = runner.invoke(args=["restore", str(made), "--with-uploads", "--force"])
    assert result.exit_code == 1
    assert "only plain files and folders are restored" in result.output or "outside the uploads folder" in result.output
    assert _tree(uploads) == {"mine.pdf": b"mine"}
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path.parent / "escaped.txt").exists()
    assert _digests(sqlite_app.config["DATABASE_URL"]) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".uploads")] == []


def test_a_failed_swap_leaves_the_sqlite_target_and_no_scratch(sqlite_app, tmp_path, monkeypatch):
    from app.services import restore

    runner = sqlite_app.test_cli_runner()
    url = sqlite_app.config["DATABASE_URL"]
    db = Database.from_url(url)
    db.insert("branches", {"name": "Before"})
    db.close()
    made = _backup(runner, tmp_path)
    db = Database.from_url(url)
    db.insert("branches", {"name": "After the backup"})
    db.close()
    before = _digests(url)

    def no_room(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(restore.os, "replace", no_room)
    result = runner.invoke(args=["restore", str(made), "--force"])
    monkeypatch.undo()
    assert result.exit_code == 1
    assert "restore stopped, nothing was replaced: [Errno 28] No space left on device" in result.output
    assert _digests(url) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".live.sqlite3")] == []
