"""Commands through the CLI runner (both backends) and as real processes (cron's view)."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from app.core.database import Database
from tests.conftest import FAST_HASH, ROOT, app_overrides, login, mysql_url, require_mysql, server_database
from tests.schema_test import load_reference


def test_db_check_ok(runner):
    result = runner.invoke(args=["db-check"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("database ok:")
    assert "@" not in result.output  # credentials never printed


def test_db_check_fails_with_one_line_when_database_is_down(tmp_path):
    from app.bootstrap import create_app

    app = create_app(app_overrides("mysql://nobody:secret@127.0.0.1:1/none", tmp_path, DB_CONNECT_TIMEOUT=1))
    result = app.test_cli_runner().invoke(args=["db-check"])
    assert result.exit_code == 1
    assert "database unavailable" in result.output and "secret" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_init_db_if_empty_and_db_upgrade_are_idempotent(runner):
    # the fixture database already has the schema
    result = runner.invoke(args=["init-db", "--if-empty"])
    assert result.exit_code == 0 and "nothing to do" in result.output
    result = runner.invoke(args=["db-upgrade"])
    assert result.exit_code == 0 and "up to date" in result.output


def test_init_db_creates_schema_in_an_empty_sqlite_file(tmp_path):
    from app.bootstrap import create_app

    path = tmp_path / "fresh.sqlite3"
    app = create_app(app_overrides(f"sqlite:///{path}", tmp_path))
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    tables = Database.from_url(f"sqlite:///{path}").tables()
    assert {"users", "schedules", "user_sessions", "schema_migrations"} <= set(tables)
    assert app.test_cli_runner().invoke(args=["db-upgrade"]).output.strip() == "Database is up to date."


def test_init_db_reset_is_refused_in_production(db_url, tmp_path):
    from app.bootstrap import create_app

    app = create_app(app_overrides(db_url, tmp_path, APP_ENV="production", SESSION_COOKIE_SECURE=True, TRUSTED_HOSTS="localhost",
                                   SECOND_FACTOR_ROLES="admin,staff"))
    result = app.test_cli_runner().invoke(args=["init-db", "--reset"])
    assert result.exit_code == 1 and "refused" in result.output


def test_seed_demo_loads_prints_logins_and_refuses_twice(runner, db):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    for email in ("admin@origin.com", "operations@origin.com", "amelia.ward@origin.com", "jack.mason@student.com"):
        assert email in result.output
    assert "Password123!" in result.output
    assert "flask demo-code EMAIL" in result.output  # admin and staff sign in with a code (local demo)
    assert db.fetch_value("SELECT COUNT(*) FROM user_second_factors WHERE enabled_at IS NOT NULL", cast=int) == 3
    users = db.fetch_value("SELECT COUNT(*) AS n FROM users", cast=int)
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 1 and "already has users" in again.output
    assert db.fetch_value("SELECT COUNT(*) AS n FROM users", cast=int) == users
    assert runner.invoke(args=["seed-demo", "--if-empty"]).exit_code == 0


def test_seed_demo_refused_in_production_unless_forced(db_url, tmp_path, db):
    from app.bootstrap import create_app

    app = create_app(app_overrides(db_url, tmp_path, APP_ENV="production", SESSION_COOKIE_SECURE=True, TRUSTED_HOSTS="localhost",
                                   SECOND_FACTOR_ROLES="admin,staff"))
    refused = app.test_cli_runner().invoke(args=["seed-demo"])
    assert refused.exit_code == 1 and "refused" in refused.output
    assert db.fetch_value("SELECT COUNT(*) AS n FROM users", cast=int) == 0
    forced = app.test_cli_runner().invoke(args=["seed-demo", "--force"])
    assert forced.exit_code == 0, forced.output
    assert db.fetch_value("SELECT COUNT(*) FROM user_second_factors", cast=int) == 0  # demo factors: local only


@pytest.fixture
def php_database(tmp_path):
    """A scratch MariaDB database loaded with the original PHP script."""
    require_mysql()
    name = f"origin_php_{uuid.uuid4().hex[:8]}"
    server = server_database(mysql_url())
    server.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    url = mysql_url().rsplit("/", 1)[0] + "/" + name
    db = Database.from_url(url)
    try:
        load_reference(db)
        yield url
    finally:
        db.close()
        server.execute(f"DROP DATABASE IF EXISTS `{name}`")
        server.close()


def test_db_upgrade_takes_over_a_php_era_database_and_its_users_log_in(php_database, tmp_path):
    from app.bootstrap import create_app

    app = create_app(app_overrides(php_database, tmp_path))
    result = app.test_cli_runner().invoke(args=["db-upgrade"])
    assert result.exit_code == 0, result.output
    assert "Applied 0001" in result.output and "Applied 0002" in result.output
    assert app.test_cli_runner().invoke(args=["db-upgrade"]).output.strip() == "Database is up to date."
    for email in ("admin@origin.com", "operations@origin.com", "amelia.ward@origin.com", "jack.mason@student.com"):
        client = app.test_client()
        response = login(client, email, "Password123!")
        assert response.status_code == 302, email
        assert client.get("/dashboard/").status_code == 200, email
    hashes = Database.from_url(php_database).fetch_all("SELECT password_hash FROM users")
    assert all(h["password_hash"].startswith("$argon2id$") for h in hashes)
    # the PHP rows (send_on only, no send_at) are processed like any other; the sent one stays as it was
    result = app.test_cli_runner().invoke(args=["process-reminders"])
    assert result.exit_code == 0 and "claimed 1," in result.output, result.output
    rows = Database.from_url(php_database).fetch_all(
        "SELECT related_type, status, send_at, last_error, delivery_channel FROM reminders ORDER BY id")
    invoice, lesson = rows
    assert invoice["status"] in ("sent", "skipped") and invoice["send_at"] is not None
    # (the test profile turns e-mail off, so it reaches the student in-app, saying why)
    assert invoice["delivery_channel"] in ("email", "in-app") if invoice["status"] == "sent" \
        else invoice["last_error"], invoice
    assert (lesson["status"], lesson["send_at"]) == ("sent", None)


def _env(db_url: str, tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "DATABASE_URL", "APP_"))}
    env.update(DATABASE_URL=db_url, LOG_DIR=str(tmp_path / "logs"), UPLOAD_DIR=str(tmp_path / "uploads"),
               **{k: str(v) for k, v in FAST_HASH.items()})
    return env


def test_commands_run_as_processes_the_way_cron_calls_them(db_url, tmp_path):
    env = _env(db_url, tmp_path)
    flask = str(Path(sys.executable).with_name("flask"))
    runs = [
        ([sys.executable, "cli.py", "db-check"], ROOT),                       # python cli.py <command>
        ([flask, "db-check"], ROOT),                                          # plain flask from the repo root
        ([flask, "--app", str(ROOT / "cli"), "db-check"], tmp_path),          # cron, from another directory
    ]
    for argv, cwd in runs:
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (argv, done.stdout, done.stderr)
        assert "database ok" in done.stdout


def test_process_exit_code_is_1_when_database_is_down(tmp_path):
    env = _env("mysql://nobody@127.0.0.1:1/none", tmp_path)
    env["DB_CONNECT_TIMEOUT"] = "1"
    done = subprocess.run([sys.executable, "cli.py", "db-check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "database unavailable" in done.stderr + done.stdout


def test_analyze_tables_runs_on_the_high_churn_tables_and_refuses_unknown_ones(runner):
    result = runner.invoke(args=["analyze-tables"])
    assert result.exit_code == 0, result.output
    assert "analysed 11 tables" in result.output and "schedules" in result.output
    assert runner.invoke(args=["analyze-tables", "--table", "schedules"]).exit_code == 0
    bad = runner.invoke(args=["analyze-tables", "--table", "no_such_table"])
    assert bad.exit_code == 1 and "unknown table" in bad.output


def test_init_db_on_a_database_that_has_the_schema_says_what_to_do(runner):
    result = runner.invoke(args=["init-db"])  # the fixture database already has the schema
    assert result.exit_code == 1 and "db-upgrade" in result.output and "Traceback" not in result.output


def test_expire_credits_expires_the_purchases_past_their_date(runner, db):
    """`flask expire-credits` (nightly): packages.expire_due; a second run finds nothing left to expire."""
    from datetime import timedelta

    from app.core import clock
    from app.services import packages
    from tests import factories

    with db.transaction():
        enrollment_id = factories.make_enrollment(db)
        packages.purchase(db, None, enrollment_id, 3, now=clock.now(), source="office",
                          expires_on=clock.today() - timedelta(days=1))
    result = runner.invoke(args=["expire-credits"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "expired 3 lesson credits"
    assert packages.summary(db, enrollment_id)["remaining"] == 0
    again = runner.invoke(args=["expire-credits"])
    assert again.exit_code == 0 and again.output.strip() == "expired 0 lesson credits"


def test_purge_applications_forgets_attempts_older_than_a_day(runner, db):
    """`flask purge-applications` (nightly): applications.purge keeps the last day's attempts."""
    from datetime import timedelta

    from app.core import clock

    now = clock.now()
    with db.transaction():
        db.insert("application_attempts", {"ip_address": "old", "attempted_at": now - timedelta(days=2)})
        db.insert("application_attempts", {"ip_address": "new", "attempted_at": now - timedelta(minutes=5)})
    result = runner.invoke(args=["purge-applications"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "purged 1 application attempts older than a day"
    assert db.fetch_value("SELECT COUNT(*) FROM application_attempts", cast=int) == 1


def _due_reminder(db, channel: str = "in-app") -> int:
    from app.core import clock
    from app.services import reminders
    from tests.factories import make_invoice, make_user

    return reminders.queue(db, related_type="invoice", related_id=make_invoice(db),
                           recipient_user_id=make_user(db, phone="0400 111 222"), channel=channel,
                           reminder_type="Invoice Due", message="Invoice INV-1 is due.",
                           send_at=clock.now().replace(microsecond=0), now=clock.now(), key=None)


def test_process_reminders_prints_one_summary_line_logs_start_and_end_and_dry_run_claims_nothing(runner, db, app):
    first, second = _due_reminder(db), _due_reminder(db, "email")
    dry = runner.invoke(args=["process-reminders", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.strip() == "dry run: 2 due (E-mail 1, In-app 1), 0 expired claims; nothing claimed or sent"
    assert db.fetch_value("SELECT COUNT(*) FROM reminders WHERE status = 'pending'") == 2
    limited = runner.invoke(args=["process-reminders", "--limit", "1"])
    assert limited.exit_code == 0 and "claimed 1, sent 1," in limited.output
    result = runner.invoke(args=["process-reminders"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("process-reminders: claimed 1, sent 1, failed 0, skipped 0,"
                                                   " flagged 0")
    assert {r["status"] for r in db.fetch_all("SELECT status FROM reminders WHERE id IN (:a, :b)",
                                              {"a": first, "b": second})} == {"sent"}
    log = (Path(app.config["LOG_DIR"]) / "application.log").read_text()
    assert "process-reminders start limit=all" in log and "process-reminders end run=" in log
    assert db.fetch_value("SELECT COUNT(*) FROM dispatcher_runs WHERE status = 'ok'") == 2


def test_process_reminders_exits_1_when_the_run_fails(runner, db, monkeypatch):
    from app.services import reminders

    _due_reminder(db)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(reminders.Dispatcher, "run_batch", broken)
    result = runner.invoke(args=["process-reminders"])
    assert result.exit_code == 1 and "process-reminders failed: RuntimeError: disk full" in result.output
    run = db.fetch_one("SELECT status, error, claimed FROM dispatcher_runs")
    assert (run["status"], run["error"]) == ("failed", "RuntimeError: disk full")


def test_process_reminders_runs_as_a_process_the_way_cron_calls_it(db_url, tmp_path, db):
    _due_reminder(db)
    done = subprocess.run([sys.executable, "cli.py", "process-reminders"], cwd=ROOT, env=_env(db_url, tmp_path),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("process-reminders: claimed 1, sent 1,")


def test_no_get_request_dispatches_a_reminder(seeded):
    """The original ran the dispatcher on every dashboard view; here only the command (and the office's
    "send now" POST) sends."""
    from app.core.flask_db import get_db

    with seeded.app_context():
        db = get_db()
        before = db.fetch_all("SELECT id, status FROM reminders ORDER BY id")
        _due_reminder(db)
    for email in ("admin@origin.com", "jack.mason@student.com"):
        client = seeded.test_client()
        login(client, email)
        for path in ("/dashboard/", "/notifications/", "/reminders/", "/my/lessons"):
            client.get(path)
    with seeded.app_context():
        after = get_db().fetch_all("SELECT id, status FROM reminders ORDER BY id")
    assert after[:len(before)] == before and after[-1]["status"] == "pending"
