"""`flask export-audit`: the compliance export of a range of local days (CSV and JSON lines), the
hash-chain check over the exported range, the summary, the audit row, bad input. Both databases.

APP_TIMEZONE is Australia/Melbourne (UTC+11 in December): local 1 Dec 2026 is 2026-11-30 13:00 to
2026-12-01 13:00 UTC. The clock is frozen in January so the export's own audit row falls outside.
"""
from __future__ import annotations

import csv
import io
import json
import os
from datetime import date, datetime

import pytest

from app.services import audit
from app.services.scope import Actor

FROZEN = datetime(2027, 1, 15, 2, 0, 0)
CREATED = {  # name: UTC time (local Melbourne day)
    "nov30_late": datetime(2026, 11, 30, 12, 59, 59),  # 30 Nov 23:59:59
    "dec1_first": datetime(2026, 11, 30, 13, 0, 0),  # 1 Dec 00:00:00
    "dec1_middle": datetime(2026, 12, 1, 2, 0, 0),  # 1 Dec 13:00
    "dec1_last": datetime(2026, 12, 1, 12, 59, 59),  # 1 Dec 23:59:59
    "dec2_first": datetime(2026, 12, 1, 13, 0, 0),  # 2 Dec 00:00:00
}
DEC1 = ("dec1_first", "dec1_middle", "dec1_last")


@pytest.fixture
def trail(db, frozen):
    """Five audit rows around local 1 Dec 2026; {name: id}."""
    frozen(FROZEN)
    actor = Actor(user_id=None, role="admin", ip="203.0.113.9")
    ids = {}
    for name, at in CREATED.items():
        details = {"dec1_first": "=HYPERLINK(\"http://evil\",\"x\")", "dec1_middle": "+61 400 111 222, \"quoted\""}.get(
            name, f"row {name}")
        ids[name] = audit.record(db, actor, "student_updated", "student", 7, now=at, details=details,
                                 before={"phone": "0400"}, after={"phone": "-1 minus"} if name == "dec1_last" else None)
    return ids


def export(runner, *args):
    return runner.invoke(args=["export-audit", "--from", "2026-12-01", "--to", "2026-12-01", *args])


def exported_rows(db):
    return db.fetch_all("SELECT id, details, user_id FROM audit_trail WHERE action = 'audit_exported' ORDER BY id")


def test_csv_to_stdout_has_the_admin_columns_the_local_day_and_formula_safe_cells(runner, db, trail):
    result = export(runner)
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == audit.CSV_COLUMNS  # the admin page's export columns, hashes included
    body = [dict(zip(rows[0], r)) for r in rows[1:]]
    assert [int(r["id"]) for r in body] == [trail[n] for n in DEC1]  # local day bounds, id order
    first, middle, last = body
    assert first["created_at"] == "2026-11-30 13:00:00" and last["created_at"] == "2026-12-01 12:59:59"  # UTC
    assert first["details"] == "'=HYPERLINK(\"http://evil\",\"x\")"  # formula-safe
    assert middle["details"] == "'+61 400 111 222, \"quoted\""
    assert last["after_json"] == "{\"phone\":\"-1 minus\"}" and last["ip_address"] == "203.0.113.9"
    assert all(len(r["row_hash"]) == 64 for r in body) and first["prev_hash"] != ""
    # the summary goes to standard error, the data stays clean
    assert "audit rows" not in result.stdout
    assert result.stderr.strip() == (
        f"exported 3 audit rows (ids {trail['dec1_first']} to {trail['dec1_last']}) for 2026-12-01 to 2026-12-01 "
        "(Australia/Melbourne) as csv to standard output; hash chain intact over the range (3 hashed rows verified)")
    logged = exported_rows(db)
    assert len(logged) == 1 and logged[0]["user_id"] is None  # audited, by the system actor
    assert logged[0]["details"].startswith("flask export-audit by ") and "2026-12-01 to 2026-12-01" in logged[0]["details"]


def test_jsonl_to_a_file_has_every_column_as_stored_and_the_hashes_recompute(runner, db, trail, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "audit-dec.jsonl"
    result = export(runner, "--format", "jsonl", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("exported 3 audit rows") and f"to {target}" in result.stdout
    lines = target.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [trail[n] for n in DEC1]
    assert all(tuple(r) == audit.CSV_COLUMNS for r in records)
    first = records[0]
    assert first["details"] == "=HYPERLINK(\"http://evil\",\"x\")"  # as stored: JSON needs no formula guard
    assert first["entity_id"] == 7 and first["user_id"] is None and first["before_json"] == '{"phone":"0400"}'
    for record in records:  # an auditor can check each row from the export alone
        assert audit.row_hash(record["prev_hash"], record) == record["row_hash"]
    assert records[1]["prev_hash"] == records[0]["row_hash"]
    assert oct(target.stat().st_mode & 0o777) == "0o640"
    assert sorted(p.name for p in folder.iterdir()) == ["audit-dec.jsonl"]  # no .part file left


def test_the_range_includes_the_bounds_of_both_local_days(runner, trail):
    result = runner.invoke(args=["export-audit", "--from", "2026-11-30", "--to", "2026-12-02", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["id"] for x in result.stdout.splitlines()] == list(trail.values())
    empty = runner.invoke(args=["export-audit", "--from", "2026-10-01", "--to", "2026-10-31"])
    assert empty.exit_code == 0 and "exported 0 audit rows" in empty.stderr and "nothing to check" in empty.stderr
    assert empty.stdout.strip() == ",".join(audit.CSV_COLUMNS)


def test_export_range_streams_in_batches_in_id_order(db, trail):
    rows = list(audit.export_range(db, date(2026, 11, 30), date(2026, 12, 2), batch=2))
    assert [r["id"] for r in rows] == list(trail.values())


def test_a_changed_row_in_the_range_fails_the_export_naming_it_but_the_file_is_written(runner, db, trail, tmp_path):
    bad = trail["dec1_middle"]
    db.execute("UPDATE audit_trail SET details = 'nothing to see' WHERE id = :id", {"id": bad})
    target = tmp_path / "audit.csv"
    result = export(runner, "--output", str(target))
    assert result.exit_code == 1
    assert f"hash chain is broken at row {bad}: content does not match its hash" in result.output
    assert "exported 3 audit rows" in result.output
    assert "nothing to see" in target.read_text()  # written all the same: the evidence is the export


def test_the_first_row_must_link_to_the_row_before_the_range(runner, db, trail):
    # a change to a row before the range leaves the range intact (verify-audit finds it)...
    db.execute("UPDATE audit_trail SET details = 'edited' WHERE id = :id", {"id": trail["nov30_late"]})
    assert export(runner).exit_code == 0
    assert runner.invoke(args=["verify-audit"]).exit_code == 1
    # ...but removing the row just before it breaks the first row's link
    db.execute("DELETE FROM audit_trail WHERE id = :id", {"id": trail["nov30_late"]})
    result = export(runner)
    assert result.exit_code == 1
    assert f"broken at row {trail['dec1_first']}: previous-row link broken" in result.output


def test_removing_the_newest_rows_is_found_when_the_range_reaches_the_end(runner, db, trail):
    assert audit.verify_range(db, trail["dec1_first"], trail["dec1_last"]).checked == 3
    db.execute("DELETE FROM audit_trail WHERE id = :id", {"id": trail["dec2_first"]})
    assert audit.verify_range(db, trail["dec1_first"], trail["dec1_middle"]).ok  # not at the end: nothing to say
    tail = audit.verify_range(db, trail["dec1_first"], trail["dec1_last"])
    assert (tail.ok, tail.first_bad_id, tail.reason) == (False, trail["dec2_first"], "the newest rows were removed")
    assert export(runner).exit_code == 0  # 1 Dec itself is intact
    # a range up to today also holds the export's own row, which links to the removed one
    result = runner.invoke(args=["export-audit", "--from", "2026-12-01", "--to", "2027-01-15"])
    assert result.exit_code == 1 and "previous-row link broken" in result.output


@pytest.mark.parametrize("args, words", [
    (["--from", "2026-12-02", "--to", "2026-12-01"], "--from 2026-12-02 is after --to 2026-12-01"),
    (["--from", "01/12/2026", "--to", "2026-12-01"], "'01/12/2026' is not a date: use YYYY-MM-DD"),
    (["--from", "2026-12-01", "--to", "2026-02-30"], "'2026-02-30' is not a date"),
    (["--from", "2026-12-01", "--to", "2026-12-01", "--format", "xml"], "'xml' is not one of"),
    (["--from", "2026-12-01"], "give --from and --to (YYYY-MM-DD), or --last-month"),
    (["--last-month", "--from", "2026-12-01"], "either --last-month or --from and --to, not both"),
    (["--last-month", "--output", "a.csv", "--output-dir", "."], "either --output or --output-dir"),
    (["--last-month", "--output-dir", "/nonexistent/reports"], "/nonexistent/reports is not a folder"),
])
def test_bad_input_is_refused_with_a_clear_message_and_nothing_exported(runner, db, trail, args, words):
    result = runner.invoke(args=["export-audit", *args])
    assert result.exit_code == 2 and words in result.output
    assert exported_rows(db) == [] and result.stdout == ""


def test_an_unwritable_output_is_refused_before_anything_is_exported(runner, db, trail, tmp_path):
    tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    missing = runner.invoke(args=["export-audit", "--from", "2026-12-01", "--to", "2026-12-01",
                                  "--output", str(tmp_path / "no" / "such" / "dir" / "a.csv")])
    assert missing.exit_code == 2 and "--output" in missing.output and "cannot write" in missing.output
    folder = runner.invoke(args=["export-audit", "--from", "2026-12-01", "--to", "2026-12-01", "--output", str(tmp_path)])
    assert folder.exit_code == 2 and "is a folder" in folder.output
    assert exported_rows(db) == [] and os.listdir(tmp_path) == []


def test_a_database_that_is_down_fails_cleanly_and_leaves_no_file(app, runner, tmp_path):
    app.config.update(DATABASE_URL="mysql://nobody@127.0.0.1:1/none", DB_CONNECT_TIMEOUT=1)
    target = tmp_path / "exports" / "audit.csv"
    target.parent.mkdir()
    result = export(runner, "--output", str(target))
    assert result.exit_code == 1 and "export failed, nothing written" in result.output
    assert list(target.parent.iterdir()) == []


def test_last_month_into_a_folder_is_the_monthly_cron_line(runner, db, trail, tmp_path, frozen):
    """deploy/crontab: `export-audit --last-month --format csv --output-dir reports` on 1 Jan 2027 exports
    December 2026 (local days) to reports/audit-2026-12-01_2026-12-31.csv."""
    frozen(datetime(2027, 1, 1, 0, 30))  # 11:30 on 1 Jan in Melbourne
    reports = tmp_path / "reports"
    reports.mkdir()
    result = runner.invoke(args=["export-audit", "--last-month", "--format", "csv", "--output-dir", str(reports)])
    assert result.exit_code == 0, result.output
    written = reports / "audit-2026-12-01_2026-12-31.csv"
    assert os.listdir(reports) == [written.name]
    rows = list(csv.DictReader(io.StringIO(written.read_text())))
    assert [int(r["id"]) for r in rows] == [trail[n] for n in (*DEC1, "dec2_first")]  # not 30 Nov
    assert "2026-12-01 to 2026-12-31" in result.output and "hash chain intact" in result.output
