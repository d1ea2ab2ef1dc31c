"""logs/cron.log: every command writes a start and an end line (duration, result, summary or error),
the lines parse back, concurrent writers lose nothing, and the progress display suits cron."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from app.commands import all_commands, jobs
from tests.conftest import ROOT, app_overrides


@pytest.fixture
def sqlite_app(sqlite_template, tmp_path):
    import shutil

    from app.bootstrap import create_app

    path = tmp_path / "jobs.sqlite3"
    shutil.copy(sqlite_template, path)
    return create_app(app_overrides(f"sqlite:///{path}", tmp_path))


def _lines(app) -> list[dict]:
    path = Path(app.config["LOG_DIR"]) / jobs.CRON_LOG
    return [jobs.parse_line(line) for line in path.read_text().splitlines()]


def test_every_registered_command_is_a_job_with_help(sqlite_app):
    ours = all_commands()
    assert len(ours) >= 22
    runner = sqlite_app.test_cli_runner()
    for command in ours:
        assert isinstance(command, jobs.JobCommand), command.name
        assert sqlite_app.cli.get_command(None, command.name) is command
        result = runner.invoke(args=[command.name, "--help"])
        assert result.exit_code == 0, (command.name, result.output)
        assert (command.help or "").strip(), f"{command.name} has no help text"


def test_a_successful_command_writes_a_start_and_an_end_line_with_its_summary(sqlite_app):
    result = sqlite_app.test_cli_runner().invoke(args=["db-check"])
    assert result.exit_code == 0, result.output
    start, end = _lines(sqlite_app)[-2:]
    assert start["job"] == end["job"] == "db-check" and start["run"] == end["run"]
    assert start["event"] == "start" and end["event"] == "end"
    assert end["result"] == "ok" and float(end["seconds"]) >= 0
    assert end["summary"] == result.output.strip()  # the one-line summary the operator saw
    assert start["pid"] == end["pid"] and start["host"]


def test_a_failing_command_records_the_error_and_exits_non_zero(sqlite_app):
    result = sqlite_app.test_cli_runner().invoke(args=["analyze-tables", "--table", "no_such_table"])
    assert result.exit_code == 1 and "unknown table(s): no_such_table" in result.output
    start, end = _lines(sqlite_app)[-2:]
    assert start["tables"] == "no_such_table"  # the options are in the start line
    assert end["result"] == "failed" and end["error"] == "unknown table(s): no_such_table"
    runs = jobs.read_runs(sqlite_app.config["LOG_DIR"])
    assert runs["analyze-tables"].result == "failed" and runs["analyze-tables"].error.startswith("unknown")


def test_an_unexpected_exception_is_recorded_as_failed_and_still_raised(sqlite_app, monkeypatch):
    from app.services import maintenance

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(maintenance, "purge_notifications", broken)
    result = sqlite_app.test_cli_runner().invoke(args=["purge-notifications"])
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)
    end = _lines(sqlite_app)[-1]
    assert end["result"] == "failed" and end["error"] == "RuntimeError: disk on fire"


def test_secrets_never_reach_the_cron_log(tmp_path):
    @jobs.job_command("with-secret")
    @click.option("--password")
    @click.option("--api-token")
    @click.option("--email")
    @click.option("--target")
    def command(password, api_token, email, target):
        """A command with secret options."""
        jobs.summary("done")

    from flask import Flask

    app = Flask("t")
    app.config["LOG_DIR"] = str(tmp_path)
    with app.app_context():
        result = CliRunner().invoke(command, ["--password", "hunter2", "--api-token", "tok-123", "--email", "a@b.c",
                                         "--target", "mysql://origin:s3cret@db:3306/origin"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / jobs.CRON_LOG).read_text()
    assert "hunter2" not in text and "tok-123" not in text and "email=a@b.c" in text
    assert "s3cret" not in text  # a URL's password
    assert jobs.parse_line(text.splitlines()[0])["target"] == "mysql://origin:***@db:3306/origin"


def test_values_with_spaces_and_quotes_round_trip(tmp_path):
    from datetime import datetime, timezone

    line = jobs.format_line(datetime(2026, 12, 1, 2, 15, tzinfo=timezone.utc), job="backup", run="ab12",
                            event="end", result="failed", error='dump failed: "Access denied" for user \\x')
    fields = jobs.parse_line(line)
    assert fields["error"] == 'dump failed: "Access denied" for user \\x'
    assert fields["at"] == "2026-12-01T02:15:00Z" and fields["job"] == "backup"
    assert jobs.parse_line("garbage line") is None and jobs.parse_line("") is None


def test_an_unwritable_log_directory_warns_but_the_job_still_runs(sqlite_app, tmp_path):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the log folder should be")
    sqlite_app.config["LOG_DIR"] = str(blocked / "logs")
    result = sqlite_app.test_cli_runner().invoke(args=["db-check"])
    assert result.exit_code == 0
    assert "warning: cannot write" in result.output and "database ok" in result.output


def test_progress_prints_plain_lines_when_not_in_a_terminal():
    @click.command()
    def command():
        with jobs.progress(1000, "restoring rows") as advance:
            for _ in range(100):
                advance(10)

    output = CliRunner().invoke(command).output.splitlines()
    assert output[0] == "restoring rows: 100 of 1,000 (10%)"
    assert output[-1] == "restoring rows: 1,000 of 1,000 (100%)"
    assert len(output) == 10  # one line per tenth, not one per item: cron mail stays short


def test_concurrent_processes_and_a_rotation_lose_no_cron_log_line(tmp_path):
    """Four processes append 400 lines each to cron.log and to application.log (the app's
    WatchedFileHandler) while rotate-logs renames both under them three times: every line is in exactly
    one of the files, none is torn."""
    writer = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "import logging\n"
        "from app.commands import jobs\n"
        "from app.core.logging import configure_logging\n"
        "configure_logging({'LOG_DIR': sys.argv[1]}, 'application')\n"
        "log = logging.getLogger('writer')\n"
        "for i in range(400):\n"
        "    log.info('line %s %s', sys.argv[2], i)\n"
        "    jobs._write(Path(sys.argv[1]), job='w' + sys.argv[2], run=str(i), event='start', pad='x' * 200)\n"
        "    time.sleep(0.002)\n"
    )
    from datetime import datetime, timedelta

    from app.services import maintenance

    procs = [subprocess.Popen([sys.executable, "-c", writer, str(tmp_path), str(n)], cwd=ROOT) for n in range(4)]
    moment = datetime(2026, 12, 1, 2, 0)
    import time

    log = tmp_path / jobs.CRON_LOG
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not log.exists() or log.stat().st_size < 20_000):
        time.sleep(0.01)  # all four are writing (interpreters take a while to start)
    for step in range(3):
        time.sleep(0.1)
        maintenance.rotate_logs(tmp_path, moment + timedelta(minutes=step), keep_days=30)
    assert all(p.wait(timeout=60) == 0 for p in procs)
    import gzip

    seen, app_lines = [], []
    for path in tmp_path.iterdir():
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        (seen if path.name.startswith("cron.log") else app_lines).extend(data.decode().splitlines())
    expected_app = sorted(f"writer: line {n} {i}" for n in range(4) for i in range(400))
    assert sorted(line.split("] ", 1)[1] for line in app_lines) == expected_app
    assert len(list(tmp_path.glob("application.log.*"))) >= 2
    parsed = [jobs.parse_line(line) for line in seen]
    assert None not in parsed  # no torn or interleaved line
    assert sorted((p["job"], int(p["run"])) for p in parsed) == sorted(
        (f"w{n}", i) for n in range(4) for i in range(400))
    assert len(list(tmp_path.glob("cron.log.*"))) >= 2  # the rotation really happened under the writers


def _cron_log(app, *lines):
    folder = Path(app.config["LOG_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / jobs.CRON_LOG).write_text("".join(lines))


def _run_lines(job, started, result="ok", run=None, **extra):
    from datetime import datetime, timedelta, timezone

    start = datetime.fromisoformat(started).replace(tzinfo=timezone.utc)
    run = run or f"{job[:4]}{start:%H%M}"
    return (jobs.format_line(start, job=job, run=run, event="start")
            + jobs.format_line(start + timedelta(seconds=5), job=job, run=run, event="end", result=result,
                               seconds="5.00", **extra))


def test_cron_status_is_ok_on_a_new_server_and_names_a_failed_or_late_job(sqlite_app, frozen):
    from datetime import datetime

    from app.commands.runbook import SCHEDULED

    frozen(datetime(2026, 12, 2, 9, 0))
    _cron_log(sqlite_app, _run_lines("backup", "2026-12-02T02:15:00"),
              _run_lines("process-reminders", "2026-12-02T08:45:00"),
              _run_lines("expire-proposals", "2026-12-02T08:37:00"),
              _run_lines("snapshot-uploads", "2026-12-02T08:40:00"),
              _run_lines("refresh-stats", "2026-12-02T08:41:00"))
    runner = sqlite_app.test_cli_runner()
    result = runner.invoke(args=["cron-status"])  # a log 7 hours old: jobs not run yet are not late
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(f"cron ok: {len(SCHEDULED)} scheduled jobs, none failed or late "
                                          f"({len(SCHEDULED) - 5} not run yet)")
    assert re.search(r"^backup +2026-12-02T02:15:00Z +ok +5.0", result.output, re.M)

    frozen(datetime(2026, 12, 3, 9, 0))  # a day later: the backup is 31 h old, reminders silent for a day
    _cron_log(sqlite_app, _run_lines("backup", "2026-12-02T02:15:00"),
              _run_lines("process-reminders", "2026-12-02T08:45:00"),
              _run_lines("verify-audit", "2026-12-03T03:30:00", result="failed", error="audit trail tampered at row 7"))
    result = runner.invoke(args=["cron-status"])
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: ") and "scheduled jobs need attention" in last
    assert "backup (late: last started 30 h ago (allowed 26 h))" in last
    assert "process-reminders (late: last started 24 h ago" in last
    assert "verify-audit (last run failed: audit trail tampered at row 7)" in last
    assert "mark-overdue-invoices" not in last  # the log is one day old: never-run daily jobs are not late yet


def test_a_job_still_running_is_not_failed_and_a_job_never_seen_in_a_long_log_is(sqlite_app, frozen):
    from datetime import datetime

    frozen(datetime(2026, 12, 20, 9, 0))
    start_only = jobs.format_line(datetime.fromisoformat("2026-12-20T08:59:00+00:00"), job="process-reminders",
                                  run="aaaa1111", event="start")
    _cron_log(sqlite_app, _run_lines("purge-sessions", "2026-12-01T03:45:00"), start_only)
    runs = jobs.read_runs(sqlite_app.config["LOG_DIR"])
    assert runs["process-reminders"].result == "running" and runs["process-reminders"].ended_at is None
    result = sqlite_app.test_cli_runner().invoke(args=["cron-status"])
    assert result.exit_code == 1
    assert "process-reminders (" not in result.output.splitlines()[-1]  # running now is fine
    assert "backup (never ran in 19 days of log)" in result.output


def test_a_job_whose_database_is_down_fails_in_one_line_not_a_traceback(tmp_path):
    """Every job, not only db-check: purge-notifications against an unreachable MariaDB."""
    from app.bootstrap import create_app

    app = create_app(app_overrides("mysql://nobody:secret@127.0.0.1:1/none", tmp_path, DB_CONNECT_TIMEOUT=1))
    result = app.test_cli_runner().invoke(args=["purge-notifications"])
    assert result.exit_code == 1 and result.exception is not None and isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: purge-notifications failed: database unavailable")
    assert "secret" not in result.output and "Traceback" not in result.output
    end = _lines(app)[-1]
    assert end["result"] == "failed" and end["error"].startswith("purge-notifications failed: database unavailable")


def test_a_dry_run_is_not_the_jobs_last_run_and_cron_status_leaves_no_trace(sqlite_app, frozen):
    from datetime import datetime

    frozen(datetime(2026, 12, 2, 9, 0))
    result = sqlite_app.test_cli_runner().invoke(args=["process-reminders", "--dry-run"])
    assert result.exit_code == 0, result.output
    log = Path(sqlite_app.config["LOG_DIR"]) / jobs.CRON_LOG
    assert "dry=True" in log.read_text()  # recorded, as every run is
    assert "process-reminders" not in jobs.read_runs(sqlite_app.config["LOG_DIR"])  # but it did not do the job
    before = log.read_text()
    sqlite_app.test_cli_runner().invoke(args=["cron-status"])
    assert log.read_text() == before  # a monitor polling every minute does not fill the file it reads


def test_the_application_log_is_created_for_owner_and_group_only(tmp_path):
    import os

    from app.core.logging import configure_logging

    old = os.umask(0o022)
    try:
        path = configure_logging({"LOG_DIR": str(tmp_path / "logs")}, "application")
    finally:
        os.umask(old)
    assert oct(path.stat().st_mode & 0o777) == "0o640"


def test_a_weekly_jobs_last_run_survives_the_nightly_rotation(sqlite_app, frozen):
    """rotate-logs renames cron.log every night and compresses the night before's: cron-status reads the
    rotations too, so Sunday's failed ANALYZE is still red on Wednesday."""
    from datetime import datetime, timedelta

    from app.services import maintenance

    frozen(datetime(2026, 12, 9, 9, 0))
    folder = Path(sqlite_app.config["LOG_DIR"])
    _cron_log(sqlite_app, _run_lines("analyze-tables", "2026-12-06T04:00:00", result="failed", error="lock wait timeout"))
    for night in range(3):  # Monday, Tuesday, Wednesday 02:00
        maintenance.rotate_logs(folder, datetime(2026, 12, 7, 2, 0) + timedelta(days=night), keep_days=30)
        with (folder / jobs.CRON_LOG).open("a") as handle:
            handle.write(_run_lines("process-reminders", f"2026-12-0{7 + night}T08:45:00"))
    assert list(folder.glob("cron.log.*.gz"))  # the Sunday line now sits in a compressed rotation
    with (folder / "cron.log-20261201").open("w") as old:  # a logrotate rotation from before, even older
        old.write(_run_lines("analyze-tables", "2026-11-29T04:00:00"))
    runs = jobs.read_runs(folder)
    assert runs["analyze-tables"].result == "failed" and runs["process-reminders"].started_at == "2026-12-09T08:45:00Z"
    assert jobs.first_entry_at(folder).isoformat() == "2026-11-29T04:00:00+00:00"
    result = sqlite_app.test_cli_runner().invoke(args=["cron-status"])
    assert result.exit_code == 1 and "analyze-tables (last run failed: lock wait timeout)" in result.output
