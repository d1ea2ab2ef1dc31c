"""Maintenance mode (`flask maintenance on|off|status`, services.maintenance_mode, the gate in
app.bootstrap): the switch file, the command, who gets the 503 page, the admin banner, /healthz.

SQLite only: nothing here depends on the database engine. One seeded app per module; every test
starts with maintenance off. The app's instance folder is a temporary one (never the checkout's).
"""
from __future__ import annotations

import json
import os
import re
import shutil
from datetime import datetime

import pytest

from app.core import clock
from app.core.flask_db import get_db
from app.dao.audit import AuditDAO
from app.services import maintenance_mode as mm
from conftest import app_overrides, csrf_token, login

ADMIN, STAFF, STUDENT = "admin@origin.com", "operations@origin.com", "jack.mason@student.com"
MESSAGE = "Database restore in progress (ticket INC-42)"


@pytest.fixture(scope="module")
def app(sqlite_template, tmp_path_factory):
    from app.bootstrap import create_app
    from app.core import passwords
    from app.services.seed import seed_demo

    folder = tmp_path_factory.mktemp("maintenance")
    target = folder / "maintenance.sqlite3"
    shutil.copyfile(sqlite_template, target)
    application = create_app(app_overrides(f"sqlite:///{target}", folder))
    application.instance_path = str(folder / "instance")  # never the checkout's instance/MAINTENANCE
    with application.app_context():
        seed_demo(get_db(), clock.now(), clock.today(), lived_in=False)
    yield application
    passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


@pytest.fixture(autouse=True)
def maintenance_off(app):
    yield
    mm.switch_off(app.instance_path)
    app.config["MAINTENANCE_MODE"] = False


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def switch_on(runner, *args):
    result = runner.invoke(args=["maintenance", "on", *args])
    assert result.exit_code == 0, result.output
    return result


def audit_actions(app, prefix="maintenance_"):
    with app.app_context():
        rows = AuditDAO(get_db()).chain_batch(0, 10_000)
    return [(r["action"], r["details"], r["user_id"]) for r in rows if r["action"].startswith(prefix)]


def signed_in(app, email):
    client = app.test_client()
    response = login(client, email)
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    return client


# --------------------------------------------------------------------------- the switch file


def test_the_switch_file_reads_json_an_empty_file_and_plain_text(tmp_path):
    assert mm.read(tmp_path) == mm.OFF and not mm.read(tmp_path).on
    assert mm.read(tmp_path, forced=True).on and mm.read(tmp_path, forced=True).source == "setting"

    (tmp_path / "MAINTENANCE").touch()  # the old switch: `touch instance/MAINTENANCE`
    legacy = mm.read(tmp_path)
    assert legacy.on and legacy.message == mm.DEFAULT_MESSAGE and legacy.retry_after == mm.DEFAULT_RETRY_AFTER
    assert legacy.since is not None and abs((legacy.since - clock.now()).total_seconds()) < 120
    (tmp_path / "MAINTENANCE").write_text("  Back at 10:00.\n")
    assert mm.read(tmp_path).message == "Back at 10:00."
    (tmp_path / "MAINTENANCE").write_text('{"message": 5, "retry_after": -3, "since": "yesterday"')  # broken
    assert mm.read(tmp_path).on and mm.read(tmp_path).retry_after == mm.DEFAULT_RETRY_AFTER


def test_switch_on_writes_json_atomically_and_again_keeps_since_and_by(tmp_path):
    first = datetime(2026, 12, 1, 22, 0, 0)
    state, was_on = mm.switch_on(tmp_path, now=first, by="alice", message="  Restoring\nthe database ")
    assert not was_on and state.message == "Restoring the database"
    assert json.loads((tmp_path / "MAINTENANCE").read_text()) == {
        "message": "Restoring the database", "since": "2026-12-01T22:00:00Z", "by": "alice", "retry_after": 900}
    assert oct((tmp_path / "MAINTENANCE").stat().st_mode & 0o777) == "0o644"  # the web server's user reads it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["MAINTENANCE"]  # no temporary file left behind

    later = datetime(2026, 12, 1, 22, 30, 0)
    state, was_on = mm.switch_on(tmp_path, now=later, by="bob", message="Nearly done", retry_after=120)
    read = mm.read(tmp_path)
    assert was_on and read == state
    assert (read.message, read.since, read.by, read.retry_after) == ("Nearly done", first, "alice", 120)
    assert (read.updated_at, read.updated_by) == (later, "bob")
    mm.switch_on(tmp_path, now=later, by="bob")  # no new message: the current one stays
    assert mm.read(tmp_path).message == "Nearly done" and mm.read(tmp_path).retry_after == 120

    assert mm.switch_off(tmp_path).since == first
    assert mm.switch_off(tmp_path) == mm.OFF and not (tmp_path / "MAINTENANCE").exists()


def test_switch_on_refuses_an_empty_or_overlong_message_and_a_bad_retry_after(tmp_path):
    now = clock.now()
    with pytest.raises(mm.MaintenanceError, match="--message"):
        mm.switch_on(tmp_path, now=now, by="x", message="   ")
    with pytest.raises(mm.MaintenanceError, match="at most 500"):
        mm.switch_on(tmp_path, now=now, by="x", message="x" * 501)
    with pytest.raises(mm.MaintenanceError, match="--retry-after"):
        mm.switch_on(tmp_path, now=now, by="x", retry_after=0)
    assert not (tmp_path / "MAINTENANCE").exists()


# --------------------------------------------------------------------------- the command


def test_status_on_again_and_off_print_and_audit(app, runner, monkeypatch):
    monkeypatch.setenv("SUDO_USER", "alice")
    status = runner.invoke(args=["maintenance", "status"])
    assert status.exit_code == 0 and status.output.strip() == "maintenance: off"

    on = switch_on(runner, "--message", MESSAGE, "--retry-after", "600")
    assert on.output.startswith(f"maintenance on: {MESSAGE} (Retry-After 600 s; since ")
    lines = runner.invoke(args=["maintenance", "status"])
    assert lines.exit_code == 0
    out = lines.output.splitlines()
    assert out[0] == "maintenance: on"
    assert re.fullmatch(r"since: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(.* Australia/Melbourne\)", out[1])
    assert "by: alice" in out and f"message: {MESSAGE}" in out and "retry-after: 600 s" in out

    again = switch_on(runner, "--message", "Back by 11:00")
    assert again.output.startswith("maintenance message changed: Back by 11:00 (Retry-After 600 s")
    assert "message: Back by 11:00" in runner.invoke(args=["maintenance", "status"]).output

    off = runner.invoke(args=["maintenance", "off"])
    assert off.exit_code == 0 and "maintenance off (it was on since" in off.output and "open again" in off.output
    twice = runner.invoke(args=["maintenance", "off"])
    assert twice.exit_code == 0 and twice.output.strip() == "maintenance is already off; nothing to do"
    assert runner.invoke(args=["maintenance", "status"]).output.strip() == "maintenance: off"

    actions = audit_actions(app)
    assert [a for a, _, _ in actions] == ["maintenance_on", "maintenance_updated", "maintenance_off"]
    assert all(user_id is None for _, _, user_id in actions)  # the system actor
    assert actions[0][1] == f"by alice: {MESSAGE} (Retry-After 600 s)"
    assert actions[1][1].startswith("by alice: Back by 11:00") and actions[2][1].startswith("by alice on the command line")
    with app.app_context():
        assert get_db().fetch_value("SELECT COUNT(*) FROM audit_trail WHERE action = 'maintenance_off'") == 1


def test_bad_options_are_refused_with_the_option_named(runner):
    zero = runner.invoke(args=["maintenance", "on", "--retry-after", "0"])
    assert zero.exit_code == 2 and "--retry-after" in zero.output
    blank = runner.invoke(args=["maintenance", "on", "--message", " "])
    assert blank.exit_code == 2 and "--message" in blank.output
    status = runner.invoke(args=["maintenance", "status", "--message", "x"])
    assert status.exit_code == 2 and "go with `maintenance on`" in status.output
    assert runner.invoke(args=["maintenance", "sideways"]).exit_code == 2
    assert runner.invoke(args=["maintenance", "status"]).output.strip() == "maintenance: off"


def test_the_setting_keeps_it_on_and_off_says_what_to_do(app, runner):
    app.config["MAINTENANCE_MODE"] = True
    status = runner.invoke(args=["maintenance", "status"])
    assert status.exit_code == 0 and "maintenance: on" in status.output and "the MAINTENANCE_MODE setting" in status.output
    off = runner.invoke(args=["maintenance", "off"])
    assert off.exit_code == 1 and "MAINTENANCE_MODE=true" in off.output and "restart" in off.output


def test_switching_works_when_the_database_is_down_and_says_it_is_not_audited(app, runner):
    url = app.config["DATABASE_URL"]
    admin = signed_in(app, ADMIN)
    app.config.update(DATABASE_URL="mysql://nobody@127.0.0.1:1/none", DB_CONNECT_TIMEOUT=1)
    try:
        on = runner.invoke(args=["maintenance", "on", "--message", MESSAGE])
        assert on.exit_code == 0, on.output
        assert "could not record it" in on.stderr and "[not audited: database unavailable]" in on.stdout
        assert mm.read(app.instance_path).message == MESSAGE
        client = app.test_client()
        health = client.get("/healthz")  # the host stays in the load balancer: it serves the maintenance page
        assert health.status_code == 200
        assert health.json["maintenance"] is True and health.json["database"] == "unavailable"
        page = client.get("/dashboard/")
        assert page.status_code == 503 and MESSAGE in page.get_data(as_text=True)
        # a session that cannot be looked up is not known to be an admin's: the maintenance page, not
        # the "cannot reach its database" outage page
        page = admin.get("/dashboard/")
        body = page.get_data(as_text=True)
        assert page.status_code == 503 and MESSAGE in body and "cannot reach its database" not in body
    finally:
        app.config["DATABASE_URL"] = url


# --------------------------------------------------------------------------- who gets through


@pytest.mark.parametrize("email", [None, STUDENT, STAFF])
def test_everyone_but_admins_gets_the_503_page_with_retry_after_and_the_message(app, runner, email):
    client = signed_in(app, email) if email else app.test_client()
    switch_on(runner, "--message", MESSAGE, "--retry-after", "300")
    for path in ("/dashboard/", "/students/", "/no/such/page", "/"):
        response = client.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "300" and response.headers["Cache-Control"] == "no-store"
        assert MESSAGE in body and "Origin is down for maintenance" in body and "about 5 minutes" in body
        assert "error-header" in body and 'id="mainNav"' not in body  # the app's design, the minimal header
        assert "maintenance-banner" not in body and "maintenance-notice" not in body
    body = client.get("/dashboard/").get_data(as_text=True)
    if email:  # a signed-in non-admin can still sign out
        assert 'action="/auth/logout"' in body and "Administrator sign-in" not in body
    else:
        assert 'href="/auth/login">' in body and "Administrator sign-in" in body
    api = client.get("/api/schedules", headers={"Accept": "application/json"})
    assert api.status_code == 503 and api.headers["Retry-After"] == "300"
    assert api.json["maintenance"] is True and api.json["message"] == MESSAGE and api.json["status"] == 503
    post = client.post("/account/password", data={"csrf_token": "x"})
    assert post.status_code == 503  # before CSRF, access control or any form handling


def test_an_admin_gets_through_with_the_banner_on_every_page(app, runner):
    client = signed_in(app, ADMIN)
    switch_on(runner, "--message", MESSAGE)
    state = mm.read(app.instance_path)
    for path in ("/dashboard/", "/students/", "/audit/", "/staff/"):
        response = client.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 200, path
        banner = re.search(r'<div [^>]*id="maintenance-banner".*?</div>\s*</div>', body, re.S).group(0)
        text = " ".join(re.sub(r"<[^>]+>", " ", banner).split())
        local = clock.to_local(state.since)
        assert f"Maintenance mode is on since {local.day} {local:%b %Y, %H:%M}:" in text
        assert f"{MESSAGE}. Only administrators can use Origin. flask maintenance off ends it." in text
    assert client.get("/no/such/page").status_code == 404  # an admin sees the normal pages, errors included


def test_sign_in_pages_stay_open_with_a_notice_and_a_non_admin_then_gets_503(app, runner):
    switch_on(runner, "--message", MESSAGE)
    client = app.test_client()
    page = client.get("/auth/login")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="maintenance-notice"' in body
    assert "only administrators can sign in at the moment" in body and MESSAGE in body
    signed = client.post("/auth/login", data={"email": STAFF, "password": "Password123!",
                                              "csrf_token": csrf_token(client)})
    assert signed.status_code in (302, 303)
    assert client.get(signed.headers["Location"]).status_code == 503
    out = client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/dashboard/")})  # from the 503 page
    assert out.status_code in (302, 303)  # sign out stays open

    admin = app.test_client()
    signed = login(admin, ADMIN)
    landing = admin.get(signed.headers["Location"])
    assert landing.status_code == 200 and 'id="maintenance-banner"' in landing.get_data(as_text=True)


def test_an_admin_who_owes_the_second_factor_is_asked_for_it(app, runner):
    app.config["SECOND_FACTOR_ROLES"] = "admin,staff"
    try:
        switch_on(runner)
        client = app.test_client()
        signed = login(client, ADMIN)
        assert signed.status_code in (302, 303)
        page = client.get("/dashboard/")  # not 503: the gate lets the admin on to the second step
        assert page.status_code in (302, 303) and "/account/second-factor" in page.headers["Location"]
        assert client.get(page.headers["Location"]).status_code == 200
        staff = app.test_client()
        login(staff, STAFF)
        assert staff.get("/account/second-factor").status_code == 503
    finally:
        app.config["SECOND_FACTOR_ROLES"] = ""


def test_healthz_reports_maintenance_with_200_and_off_reopens(app, runner):
    client = signed_in(app, STAFF)
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}
    switch_on(runner)
    health = client.get("/healthz")
    assert health.status_code == 200
    since = mm.read(app.instance_path).since_text
    assert health.json == {"status": "ok", "database": "ok", "maintenance": True, "maintenance_since": since}
    static = client.get("/static/css/app.css")
    assert static.status_code == 200
    static.close()
    assert client.get("/dashboard/").status_code == 503
    assert runner.invoke(args=["maintenance", "off"]).exit_code == 0
    page = client.get("/dashboard/")
    assert page.status_code == 200 and "maintenance-banner" not in page.get_data(as_text=True)
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}


def test_the_old_empty_file_and_the_setting_still_switch_it_on(app):
    client = app.test_client()
    os.makedirs(app.instance_path, exist_ok=True)
    open(os.path.join(app.instance_path, "MAINTENANCE"), "w").close()
    response = client.get("/dashboard/")
    assert response.status_code == 503 and response.headers["Retry-After"] == "900"
    assert mm.DEFAULT_MESSAGE in response.get_data(as_text=True)
    mm.switch_off(app.instance_path)
    app.config["MAINTENANCE_MODE"] = True
    response = client.get("/dashboard/")
    assert response.status_code == 503 and mm.DEFAULT_MESSAGE in response.get_data(as_text=True)
    assert client.get("/healthz").json["maintenance_since"] is None
