"""deploy/: the crontab names only real commands with valid options and covers every runbook schedule;
the systemd timers say the same as the crontab; run-job locks, logs and reports only failures;
gunicorn's config serves the app with the request id in its access log; logrotate's config rotates
without losing a line."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import getpass
import grp
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, app_overrides

DEPLOY = ROOT / "deploy"
SCHEDULE = re.compile(r"^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.*)$")


def crontab_jobs() -> list[dict]:
    jobs = []
    for raw in (DEPLOY / "crontab").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or re.match(r"^[A-Z_]+=", line):
            continue
        minute, hour, dom, month, dow, command = SCHEDULE.match(line).groups()
        words = shlex.split(command)
        env = {}
        while "=" in words[0] and not words[0].startswith("/"):
            key, value = words.pop(0).split("=", 1)
            env[key] = value
        assert words[0] == "/srv/origin/deploy/run-job", line
        jobs.append({"when": " ".join((minute, hour, dom, month, dow)), "job": words[1], "args": words[2:],
                     "env": env, "line": line})
    return jobs


@pytest.fixture(scope="module")
def cli_app(sqlite_template, tmp_path_factory):
    from app.bootstrap import create_app

    folder = tmp_path_factory.mktemp("deploy")
    shutil.copy(sqlite_template, folder / "db.sqlite3")
    return create_app(app_overrides(f"sqlite:///{folder / 'db.sqlite3'}", folder))


def test_every_crontab_command_exists_and_its_options_parse(cli_app):
    jobs = crontab_jobs()
    assert len(jobs) >= 16
    runner = cli_app.test_cli_runner()
    for entry in jobs:
        command = cli_app.cli.get_command(None, entry["job"])
        assert command is not None, f"deploy/crontab names an unknown command: {entry['line']}"
        help_run = runner.invoke(args=[entry["job"], "--help"])
        assert help_run.exit_code == 0, (entry["job"], help_run.output)
        # the options as written parse (types, choices, required ones) without running the job
        command.make_context(entry["job"], list(entry["args"]))


def test_the_crontab_holds_every_schedule_of_the_runbook():
    when = {entry["job"]: entry["when"] for entry in crontab_jobs()}
    assert when["process-reminders"] == "*/15 * * * *"  # reminders every 15 minutes
    assert when["rotate-logs"] == "0 2 * * *"  # log rotation nightly 02:00
    assert when["backup"] == "15 2 * * *"  # database backup 02:15
    assert re.fullmatch(r"\d+ \d+ \* \* [0-6]", when["purge-notifications"])  # weekly
    assert re.fullmatch(r"\d+ \d+ \* \* [0-6]", when["analyze-tables"])  # weekly ANALYZE
    assert re.fullmatch(r"\d+ \d+ 1 \* \*", when["access-review"])  # monthly
    assert re.fullmatch(r"\d+ \d+ 1 \* \*", when["accreditation-audit"])  # monthly
    assert re.fullmatch(r"\d+ \d+ 1 \* \*", when["export-audit"])  # monthly audit export
    assert re.fullmatch(r"\d+ \d+ \* \* \*", when["mark-overdue-invoices"])  # nightly overdue invoices
    assert re.fullmatch(r"\d+ \d+ \* \* \*", when["purge-sessions"])  # nightly session purge
    assert when["restore-drill"].endswith("1 1,4,7,10 *")  # quarterly restore drill
    args = {entry["job"]: entry["args"] for entry in crontab_jobs()}
    assert "--with-uploads" in args["backup"] and args["purge-notifications"] == ["--months", "12"]


def test_the_systemd_timers_say_what_the_crontab_says():
    cron = {entry["job"]: entry for entry in crontab_jobs()}
    timers = {}
    for path in (DEPLOY / "systemd").glob("origin-*.timer"):
        text = path.read_text()
        job = re.search(r"^Unit=origin-job@(.+)\.service$", text, re.M).group(1)
        assert path.name == f"origin-{job}.timer"
        timers[job] = re.search(r"^OnCalendar=(.+)$", text, re.M).group(1)
    assert set(timers) == set(cron)
    jobs_dir = DEPLOY / "systemd" / "jobs"
    for job, entry in cron.items():
        args_file = jobs_dir / f"{job}.args"
        assert (shlex.split(args_file.read_text()) if args_file.exists() else []) == entry["args"], job
        env_file = jobs_dir / f"{job}.env"
        env = dict(line.split("=", 1) for line in env_file.read_text().split()) if env_file.exists() else {}
        assert env == entry["env"], job
    if shutil.which("systemd-analyze"):  # every OnCalendar expression is valid
        result = subprocess.run(["systemd-analyze", "calendar", *timers.values()], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    assert timers["backup"] == "*-*-* 02:15:00" and timers["rotate-logs"] == "*-*-* 02:00:00"
    assert timers["process-reminders"] == "*:0/15"


# --------------------------------------------------------------------------- run-job


@pytest.fixture
def job_env(sqlite_template, tmp_path):
    database = tmp_path / "db.sqlite3"
    shutil.copy(sqlite_template, database)
    env = {**os.environ, "ORIGIN_HOME": str(ROOT), "ORIGIN_FLASK": str(Path(sys.executable).parent / "flask"),
           "ORIGIN_LOG_DIR": str(tmp_path / "logs"), "ORIGIN_LOCK_DIR": str(tmp_path / "locks"),
           "DATABASE_URL": f"sqlite:///{database}", "LOG_DIR": str(tmp_path / "logs"), "APP_ENV": "local",
           "UPLOAD_DIR": str(tmp_path / "uploads"), "BACKUP_DIR": str(tmp_path / "backups")}
    return env, tmp_path


def _run_job(env, *args, **kwargs):
    return subprocess.run([str(DEPLOY / "run-job"), *args], env=env, capture_output=True, text=True, timeout=60,
                          cwd="/", **kwargs)


def test_run_job_is_silent_on_success_and_logs_the_output(job_env):
    env, folder = job_env
    result = _run_job(env, "db-check")
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
    output = (folder / "logs" / "cron-output.log").read_text()
    assert re.search(r"---- db-check \(exit 0\)\ndatabase ok: sqlite", output)
    for made in (folder / "logs" / "cron-output.log", folder / "locks" / "db-check.lock"):
        assert oct(made.stat().st_mode & 0o777) == "0o640", made  # umask 027: not for every local user
    cron = (folder / "logs" / "cron.log").read_text()
    assert "job=db-check" in cron and "result=ok" in cron


def test_run_job_reports_a_failure_for_cron_to_mail(job_env):
    env, folder = job_env
    result = _run_job(env, "analyze-tables", "--table", "nope")
    assert result.returncode == 1
    assert "Origin job 'analyze-tables' failed (exit 1)" in result.stderr and "unknown table(s): nope" in result.stderr
    assert "---- analyze-tables --table nope (exit 1)" in (folder / "logs" / "cron-output.log").read_text()


def test_run_job_skips_while_the_previous_run_holds_the_lock(job_env):
    env, folder = job_env
    (folder / "locks").mkdir()
    with open(folder / "locks" / "db-check.lock", "w") as handle:
        holder = subprocess.Popen(["flock", str(folder / "locks" / "db-check.lock"), "sleep", "30"])
        try:
            for _ in range(100):  # until the holder has the lock
                if subprocess.run(["flock", "-n", handle.name, "true"]).returncode != 0:
                    break
                time.sleep(0.05)
            result = _run_job(env, "db-check")
        finally:
            holder.kill()
            holder.wait()
    assert result.returncode == 0 and result.stderr == ""
    assert "db-check skipped: the previous run on this host is still working" in (
        folder / "logs" / "cron-output.log").read_text()
    assert not (folder / "logs" / "cron.log").exists()  # the job did not start


def test_run_job_refuses_what_is_not_a_command_name(job_env):
    env, _ = job_env
    assert _run_job(env, "db-check; rm -rf /").returncode == 2
    assert _run_job(env).returncode == 2
    result = _run_job({**env, "ORIGIN_ENV_FILE": "/nonexistent/env"}, "db-check")
    assert result.returncode == 1 and "cannot read ORIGIN_ENV_FILE" in result.stderr


def test_run_job_exports_the_env_file_before_the_job(job_env):
    env, folder = job_env
    other = folder / "other.sqlite3"
    shutil.copy(env["DATABASE_URL"][len("sqlite:///"):], other)
    (folder / "migrations.env").write_text(f"DATABASE_URL=sqlite:///{other}\n")
    result = _run_job({**env, "ORIGIN_ENV_FILE": str(folder / "migrations.env")}, "db-check")
    assert result.returncode == 0, result.stderr
    assert f"database ok: sqlite:///{other}" in (folder / "logs" / "cron-output.log").read_text()


# --------------------------------------------------------------------------- gunicorn and logrotate


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_config_serves_the_app_and_logs_the_request_id_through_a_rotation(job_env):
    env, folder = job_env
    port = _free_port()
    logs = folder / "logs"
    stderr = folder / "gunicorn-stderr.txt"
    with stderr.open("wb") as errors:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--config", str(DEPLOY / "gunicorn.conf.py")],
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2"}, cwd="/",
            stdout=subprocess.DEVNULL, stderr=errors)
    try:
        def get() -> str:
            for _ in range(100):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                        assert response.status == 200
                        return response.headers["X-Request-ID"]
                except OSError:
                    time.sleep(0.1)
            raise AssertionError("gunicorn did not answer: " + stderr.read_text())

        first = get()
        for _ in range(100):  # the worker logs just after it answers
            if first in (logs / "access.log").read_text():
                break
            time.sleep(0.05)
        (logs / "access.log").rename(logs / "access.log.1")  # what rotate-logs and logrotate do
        second = get()
        time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert re.search(rf'"GET /healthz HTTP/1.1" 200 \d+ .* \d+ms rid={first}$',
                     (logs / "access.log.1").read_text().strip())
    assert f"rid={second}" in (logs / "access.log").read_text()  # a fresh file after the rename
    assert "Booting worker" in (logs / "gunicorn.log").read_text()
    # post_worker_init warmed the worker before it answered: templates compiled, libraries imported
    assert re.search(r"worker \d+ warmed up: templates \d+ ms, libraries \d+ ms", (logs / "gunicorn.log").read_text())


def test_warm_up_compiles_every_template_before_the_first_request(tmp_path):
    """A worker's one-time costs are paid by warm_up (gunicorn's post_worker_init), not by a user's request:
    afterwards every template is in Jinja's cache, so the first page of each kind renders without compiling."""
    from app.bootstrap import create_app, warm_up

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'warm.sqlite3'}", "TESTING": True})
    names = app.jinja_env.list_templates()
    assert len(names) > 100 and "base.html" in names and "dashboard/index.html" in names
    assert not app.jinja_env.cache  # nothing compiled yet
    timings = warm_up(app)
    assert set(timings) == {"templates", "libraries"}
    cached = {key[1] for key in app.jinja_env.cache.keys()}
    assert cached == set(names)
    assert len(app.jinja_env.cache) <= app.jinja_env.cache.capacity  # none evicted again
    import sys as _sys
    assert "fpdf" in _sys.modules


@pytest.mark.skipif(shutil.which("logrotate") is None, reason="logrotate not installed (apt-get install logrotate)")
def test_logrotate_config_rotates_while_a_process_writes_and_loses_nothing(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    user, group = getpass.getuser(), grp.getgrgid(os.getgid()).gr_name
    config = (DEPLOY / "logrotate.conf").read_text().replace("/srv/origin/logs", str(logs))
    config = config.replace("origin origin", f"{user} {group}")
    (tmp_path / "logrotate.conf").write_text(config)
    os.chmod(tmp_path / "logrotate.conf", 0o644)
    writer = subprocess.Popen([sys.executable, "-c", (
        "import logging, sys, time\n"
        "from app.core.logging import configure_logging\n"
        "configure_logging({'LOG_DIR': sys.argv[1]}, 'application')\n"
        "for i in range(600):\n"
        "    logging.getLogger('w').info('line %s', i)\n"
        "    time.sleep(0.002)\n"), str(logs)], cwd=ROOT)
    log = logs / "application.log"
    for _ in range(300):
        if log.exists() and log.stat().st_size > 2000:
            break
        time.sleep(0.01)
    result = subprocess.run(["logrotate", "--force", "--state", str(tmp_path / "state"), str(tmp_path / "logrotate.conf")],
                            capture_output=True, text=True)
    assert writer.wait(timeout=60) == 0
    assert result.returncode == 0, result.stderr
    rotated = [p for p in logs.iterdir() if p.name.startswith("application.log-")]
    assert len(rotated) == 1  # dateext, delaycompress: renamed, not yet compressed
    lines = rotated[0].read_text().splitlines() + log.read_text().splitlines()
    assert sorted(int(line.rsplit(" ", 1)[1]) for line in lines) == list(range(600))


def test_nginx_example_forwards_what_the_app_trusts():
    text = (DEPLOY / "nginx" / "origin.conf").read_text()
    for needed in ("proxy_set_header X-Forwarded-For", "proxy_set_header X-Forwarded-Proto",
                   "proxy_set_header X-Forwarded-Host", "Strict-Transport-Security", "listen 443 ssl",
                   "return 301 https://", "proxy_pass http://origin_app", "server 127.0.0.1:8000"):
        assert needed in text, needed
    assert "/srv/origin/uploads" not in text  # uploads only through the app's scoped route
    gunicorn_conf = (DEPLOY / "gunicorn.conf.py").read_text()
    assert '"GUNICORN_BIND", "127.0.0.1:8000"' in gunicorn_conf  # the upstream nginx names


def test_cron_status_knows_every_scheduled_job():
    from app.commands.runbook import SCHEDULED

    # every job of the crontab but the health check itself, which reads the others' lines
    assert set(SCHEDULED) == {entry["job"] for entry in crontab_jobs()} - {"cron-status"}


def test_services_and_jobs_run_as_the_unprivileged_origin_account():
    for path in (DEPLOY / "systemd").glob("*.service"):
        text = path.read_text()
        assert re.search(r"^User=origin$", text, re.M) and re.search(r"^Group=origin$", text, re.M), path.name
        assert "NoNewPrivileges=true" in text and "UMask=0027" in text, path.name
    assert "crontab -u origin" in (DEPLOY / "crontab").read_text()


@pytest.mark.skipif(shutil.which("nginx") is None or shutil.which("openssl") is None,
                    reason="nginx or openssl not installed (apt-get install nginx): only the text checks ran")
def test_nginx_accepts_the_example_config(tmp_path):
    """`nginx -t` on deploy/nginx/origin.conf as shipped (certificate and log paths pointed at a
    scratch folder): the directives exist in the nginx the server runs (Debian 12: 1.22)."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=origin.school.example", "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    site = (DEPLOY / "nginx" / "origin.conf").read_text()
    site = site.replace("/etc/letsencrypt/live/origin.school.example/fullchain.pem", str(tmp_path / "cert.pem"))
    site = site.replace("/etc/letsencrypt/live/origin.school.example/privkey.pem", str(tmp_path / "key.pem"))
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "origin.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n access_log {tmp_path}/access.log;\n include {tmp_path}/origin.conf;\n}}\n")
    result = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
