"""`flask smoke-test` against a live server (werkzeug on 127.0.0.1, port 0, in a thread): the seeded demo
on SQLite with the production second-factor roles (admin and staff pass a TOTP code after the password).

One module-scoped server; each run of the command books its own lesson and invoice and cleans them up.
The runs that pass the second factor use different office accounts (admin, Bayside staff, CBD staff), so
no run waits for a fresh 30-second code (a code is accepted once); the wait itself is tested with the
client's clock moved on. The failing step of "no reminder queued" is a regression simulated in the
server's process (the reminder planner patched to plan nothing): the app has no setting that stops a
future lesson from queueing its reminder.
"""
from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import DEMO_PASSWORD, app_overrides

from app.services import smoke_test

SMOKE_SCHEDULE = "SELECT id, status, cancel_reason FROM schedules WHERE lesson_topic = 'Smoke test' ORDER BY id"
SMOKE_INVOICE = ("SELECT i.id, i.status, i.void_reason FROM invoices i JOIN invoice_items t ON t.invoice_id = i.id"
                 " WHERE t.description = 'Smoke test' ORDER BY i.id")


@pytest.fixture(scope="module")
def live(sqlite_template, tmp_path_factory):
    """(app, base_url) of the running server; the CLI runner uses the same app (its LOG_DIR is the
    server's, so the default --error-log is the server's application.log)."""
    from werkzeug.serving import make_server

    from app.bootstrap import create_app
    from app.core import clock, passwords
    from app.core.flask_db import get_db
    from app.services import seed

    tmp_path = tmp_path_factory.mktemp("smoke")
    target = tmp_path / "smoke.sqlite3"
    shutil.copyfile(sqlite_template, target)
    application = create_app(app_overrides(f"sqlite:///{target}", tmp_path, SECOND_FACTOR_ROLES="admin,staff"))
    with application.app_context():
        db = get_db()
        seed.seed_demo(db, clock.now(), clock.today(), lived_in=False)  # the accounts, not the fortnight
        seed.enrol_demo_second_factors(db, clock.now(), application.config)
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="smoke-live", daemon=True)
    thread.start()
    try:
        yield application, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


def _rows(application, sql: str) -> list[dict]:
    from app.core.flask_db import get_db

    with application.app_context():
        return get_db().fetch_all(sql)


def _totp_secret(application, email: str) -> str:
    """The decrypted TOTP key of an account, as the operator keeps it from the set-up page."""
    from app.core.flask_db import get_db
    from app.dao.second_factor import SecondFactorDAO
    from app.dao.user import UserDAO
    from app.services import second_factor

    with application.app_context():
        db = get_db()
        user = UserDAO(db).find_by_email(email)
        row = SecondFactorDAO(db).find(user["id"])
        return second_factor.decrypt_secret(row["secret"], user["id"], application.config)


def _invoke(application, *args: str):
    return application.test_cli_runner().invoke(args=["smoke-test", *args])


def _step_lines(output: str) -> list[tuple[str, str]]:
    return re.findall(r"^(PASS|FAIL|SKIP)  (?:clean-up: )?([a-z /]+?) \(\d+\.\d\d s\)", output, re.M)


def test_passes_against_the_live_server_and_cleans_up(live):
    application, url = live
    before_lessons, before_invoices = len(_rows(application, SMOKE_SCHEDULE)), len(_rows(application, SMOKE_INVOICE))

    result = _invoke(application, "--base-url", url)  # APP_ENV=local: demo accounts, the code from the db

    assert result.exit_code == 0, result.output
    steps = _step_lines(result.output)
    assert [name for status, name in steps] == [
        "server answers /healthz", "admin signs in", "instructor signs in", "student signs in",
        "smoke accounts found", "test lesson booked", "reminder queued", "invoice issued", "payment recorded",
        "instructor sees the lesson", "student sees the lesson", "lesson cancelled", "payment refunded",
        "invoice voided", "signed out", "error log clean"]
    assert {status for status, _ in steps} == {"PASS"}, result.output
    assert "admin@origin.com: Administrator dashboard" in result.output
    assert re.search(r"reminder queued \(.*\) - SMS to the student, due .* Queued", result.output)
    assert result.output.strip().splitlines()[-1].startswith("smoke test passed: 16 steps in ")

    lessons = _rows(application, SMOKE_SCHEDULE)
    invoices = _rows(application, SMOKE_INVOICE)
    assert len(lessons) == before_lessons + 1 and len(invoices) == before_invoices + 1
    assert (lessons[-1]["status"], lessons[-1]["cancel_reason"]) == ("cancelled", "smoke test")
    assert (invoices[-1]["status"], invoices[-1]["void_reason"]) == ("void", "smoke test")
    reminders = _rows(application, f"SELECT status FROM reminders WHERE related_type = 'schedule'"
                                   f" AND related_id = {int(lessons[-1]['id'])}")
    assert [r["status"] for r in reminders] == ["cancelled"]
    payments = _rows(application, "SELECT kind, amount, reason FROM payments"
                                  f" WHERE invoice_id = {int(invoices[-1]['id'])} ORDER BY id")
    assert [(p["kind"], Decimal(str(p["amount"])), p["reason"]) for p in payments] == [
        ("payment", Decimal("1"), None), ("refund", Decimal("-1"), "smoke test")]


def test_fails_at_the_reminder_step_and_still_cleans_up(live, monkeypatch):
    """A deployment whose bookings queue no reminder (simulated: the reminder planner answers "nothing to
    remind", as for a lesson already started). Bayside staff signs in, with the TOTP key given."""
    from app.services import scheduling

    application, url = live
    monkeypatch.setattr(scheduling, "reminder_plan", lambda *args, **kwargs: None)
    secret = _totp_secret(application, "priya.raman@origin.com")

    result = _invoke(application, "--base-url", url, "--admin-email", "priya.raman@origin.com",
                     "--admin-totp-secret", secret)

    assert result.exit_code == 1, result.output
    assert "PASS  admin signs in" in result.output and "priya.raman@origin.com: Staff dashboard" in result.output
    assert "FAIL  reminder queued" in result.output
    assert "invoice issued" not in result.output  # nothing after the first failure
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("smoke test failed at step 'reminder queued': lesson ")
    assert "no queued reminder" in last
    assert "PASS  clean-up: lesson cancelled" in result.output
    lesson = _rows(application, SMOKE_SCHEDULE)[-1]
    assert (lesson["status"], lesson["cancel_reason"]) == ("cancelled", "smoke test")
    cron_log = (Path(application.config["LOG_DIR"]) / "cron.log").read_text(encoding="utf-8")
    assert "job=smoke-test" in cron_log and "result=failed" in cron_log
    assert secret not in cron_log and "Password123!" not in cron_log  # keys and passwords never logged


def test_a_code_used_a_moment_ago_waits_for_the_next_one(live):
    """Two runs within one 30-second step: the server refuses the same code twice ("already used"),
    so the second sign-in waits for the next step's code (the wait is simulated: the client's clock
    moves on, the server's window already accepts the next step's code)."""
    application, url = live
    account = smoke_test.Account("admin", "operations@origin.com", DEMO_PASSWORD,
                                 _totp_secret(application, "operations@origin.com"))
    config = smoke_test.SmokeConfig(base_url=url, admin=account, instructor=account, student=account,
                                    today=date.today())
    wall, waits = [time.time()], []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        wall[0] += seconds

    details = []
    for _ in range(2):
        run = smoke_test.SmokeTest(config, lambda step: None, wall_time=lambda: wall[0], sleep=sleep)
        details.append(run.sign_in(account, ("admin", "staff")))
    assert len(waits) == 1 and 1 < waits[0] <= 31
    assert details == ["operations@origin.com: Staff dashboard",
                       f"operations@origin.com: Staff dashboard (waited {waits[0]:.0f} s for a fresh code: the last "
                       "one was used a moment ago)"]


def test_a_wrong_admin_password_fails_at_sign_in(live, tmp_path):
    application, url = live
    lessons = len(_rows(application, SMOKE_SCHEDULE))

    missing_log = tmp_path / "elsewhere" / "application.log"  # e.g. run from another host
    result = _invoke(application, "--base-url", url, "--admin-password", "not-the-password",
                     "--error-log", str(missing_log))

    assert result.exit_code == 1, result.output
    assert "PASS  server answers /healthz" in result.output
    assert result.output.strip().splitlines()[-1].startswith(
        "smoke test failed at step 'admin signs in': admin@origin.com: sign-in refused (401)")
    assert len(_rows(application, SMOKE_SCHEDULE)) == lessons  # nothing booked, nothing to clean up
    assert "clean-up" not in result.output
    assert f"SKIP  error log clean (0.00 s) - cannot read {missing_log} from here" in result.output


def test_an_unreachable_server_fails_at_the_first_step(live):
    application, _ = live
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    result = _invoke(application, "--base-url", f"http://127.0.0.1:{port}/")

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "SKIP  error log clean (0.00 s) - the server was not reached" in result.output
    assert result.output.strip().splitlines()[-1] == (
        f"smoke test failed at step 'server answers /healthz': cannot reach http://127.0.0.1:{port}: "
        "connection refused")


def test_maintenance_mode_fails_at_the_first_step(live):
    """/healthz answers 200 in maintenance mode (a load balancer keeps the host), but instructors and
    students get the maintenance page: the smoke test stops at once and says why."""
    application, url = live
    application.config["MAINTENANCE_MODE"] = True  # the setting that forces maintenance mode on
    try:
        result = _invoke(application, "--base-url", url)
    finally:
        application.config["MAINTENANCE_MODE"] = False
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines()[-1].startswith(
        "smoke test failed at step 'server answers /healthz': the site is in maintenance mode")
    assert "signs in" not in result.output


def test_outside_the_local_profile_every_account_must_be_given(live):
    application, url = live
    application.config["APP_ENV"] = "production"
    try:
        no_code = _invoke(application, "--base-url", url, "--admin-email", "admin@origin.com", "--admin-password", "x")
        no_instructor = _invoke(application, "--base-url", url, "--admin-email", "admin@origin.com",
                                "--admin-password", "x", "--admin-totp-secret", "JBSWY3DPEHPK3PXP")
    finally:
        application.config["APP_ENV"] = "local"
    assert no_code.exit_code == 1
    assert "give --admin-totp-secret (or SMOKE_ADMIN_TOTP_SECRET;" in no_code.output
    assert no_instructor.exit_code == 1
    assert ("smoke-test needs the smoke instructor (only APP_ENV=local has default accounts): give "
            "--instructor-email (or SMOKE_INSTRUCTOR_EMAIL), --instructor-password (or SMOKE_INSTRUCTOR_PASSWORD)"
            ) in no_instructor.output
    assert "Smoke test of" not in no_code.output + no_instructor.output  # refused before any request


def test_a_bad_totp_secret_is_refused_before_any_request(live):
    application, url = live
    result = _invoke(application, "--base-url", url, "--admin-totp-secret", "not base32!")
    assert result.exit_code == 1
    assert "--admin-totp-secret must be the base32 key" in result.output
    assert "Smoke test of" not in result.output


def test_only_error_lines_appended_since_the_start_count(tmp_path):
    log = tmp_path / "application.log"
    log.write_text("2026-12-01 10:00:00,000 ERROR [r1] app: before the run\n", encoding="utf-8")
    start = smoke_test.log_mark(log)
    with log.open("a", encoding="utf-8") as handle:
        handle.write("2026-12-01 10:00:01,000 INFO [r2] app: fine\n"
                     "2026-12-01 10:00:02,000 ERROR [r3] app.web: boom\nTraceback (most recent call last):\n"
                     "2026-12-01 10:00:03,000 WARNING [r4] app: not an error\n")
    assert smoke_test.new_error_lines(log, start) == (["2026-12-01 10:00:02,000 ERROR [r3] app.web: boom"], False)
    log.rename(tmp_path / "application.log.1")  # rotate-logs renames; the next line opens a new file
    log.write_text("2026-12-01 11:00:00,000 CRITICAL [r5] app: after rotation, a longer line than before\n",
                   encoding="utf-8")
    assert smoke_test.new_error_lines(log, start) == (
        ["2026-12-01 11:00:00,000 CRITICAL [r5] app: after rotation, a longer line than before"], True)
    assert smoke_test.log_mark(tmp_path / "missing.log") is None


def test_smoke_setup_makes_accounts_the_smoke_test_passes_with(live, tmp_path):
    """`flask smoke-setup` once, then the smoke test with exactly what it wrote to smoke.env (the smoke
    branch's office account with its TOTP key, not the demo administrator)."""
    application, url = live
    env_file = tmp_path / "smoke.env"
    result = application.test_cli_runner().invoke(
        args=["smoke-setup", "--domain", "smoke.school.example", "--base-url", url, "--output", str(env_file)])
    assert result.exit_code == 0, result.output
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    values = dict(re.findall(r"^(SMOKE_[A-Z_]+)='([^']*)'$", env_file.read_text(), re.M))
    assert values["SMOKE_ADMIN_EMAIL"] == "smoke-office@smoke.school.example"
    assert values["SMOKE_BASE_URL"] == url and len(values["SMOKE_ADMIN_PASSWORD"]) == 24
    assert values["SMOKE_ADMIN_PASSWORD"] not in result.output  # secrets only in the file
    assert len(re.findall(r"^#   \S+$", env_file.read_text(), re.M)) == 10  # the office account's recovery codes

    run = application.test_cli_runner().invoke(args=["smoke-test"], env=values)
    assert run.exit_code == 0, run.output
    assert "smoke-office@smoke.school.example: Staff dashboard" in run.output
    lessons = _rows(application, "SELECT s.status, b.name FROM schedules s JOIN instructors i ON i.id = s.instructor_id"
                                 " JOIN branches b ON b.id = i.branch_id WHERE s.lesson_topic = 'Smoke test'"
                                 " ORDER BY s.id DESC LIMIT 1")
    assert lessons == [{"status": "cancelled", "name": "Smoke test"}]  # in the smoke branch's diary

    again = application.test_cli_runner().invoke(
        args=["smoke-setup", "--domain", "smoke.school.example", "--base-url", url, "--output", str(tmp_path / "b.env")])
    assert again.exit_code == 1 and "the smoke accounts exist already" in again.output
    assert not (tmp_path / "b.env").exists() and not list(tmp_path.glob(".b.env*"))
    kept = application.test_cli_runner().invoke(
        args=["smoke-setup", "--domain", "other.example", "--base-url", url, "--output", str(env_file)])
    assert kept.exit_code == 1 and "exists already: smoke-setup never overwrites it" in kept.output
