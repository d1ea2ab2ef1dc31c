"""The post-deployment smoke test: ``flask smoke-test --base-url https://origin.example.com`` right after
a deploy (docs/operations.md, "Deploy checklist"). The HTTP work is services/smoke_test.py; this module
reads the accounts (options, then SMOKE_* environment variables, then, with APP_ENV=local only, the demo
accounts), prints each step as it ends and the one-line summary, and exits 1 naming the first failed step.
"""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.commands.jobs import job_command, summary
from app.core import clock
from app.services import smoke_test

ROLES = ("admin", "instructor", "student")
WHAT = {"admin": "an admin (or branch staff) account", "instructor": "the smoke instructor",
        "student": "the smoke student"}


def _account_options(command):
    """--<role>-email, --<role>-password, --<role>-totp-secret for each role (SMOKE_<ROLE>_... too)."""
    for role in reversed(ROLES):
        upper = role.upper()
        command = click.option(f"--{role}-totp-secret", f"{role}_totp_secret", envvar=f"SMOKE_{upper}_TOTP_SECRET",
                               show_envvar=True, default=None,
                               help=f"Base32 TOTP key of {WHAT[role]} (when the server asks for a code).")(command)
        command = click.option(f"--{role}-password", f"{role}_password", envvar=f"SMOKE_{upper}_PASSWORD",
                               show_envvar=True, default=None, help=f"Password of {WHAT[role]}.")(command)
        command = click.option(f"--{role}-email", f"{role}_email", envvar=f"SMOKE_{upper}_EMAIL",
                               show_envvar=True, default=None, help=f"E-mail of {WHAT[role]}.")(command)
    return command


@job_command("smoke-test")
@click.option("--base-url", required=True, envvar="SMOKE_BASE_URL", show_envvar=True,
              help="The live site, e.g. https://origin.example.com (the address users type).")
@_account_options
@click.option("--error-log", "error_log", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The server's application log (default: LOG_DIR/application.log of this host's config; "
                   "skipped when it cannot be read).")
@click.option("--timeout", type=click.FloatRange(1, 120), default=15.0, show_default=True,
              help="Seconds to wait for each answer.")
@click.option("--days-ahead", "days_ahead", type=click.IntRange(1, 40), default=8, show_default=True,
              help="Book the test lesson from this many days on (past the cancellation cut-off: no fee).")
@with_appcontext
def smoke_test_command(base_url: str, error_log: Path | None, timeout: float, days_ahead: int,
                       **accounts: str | None) -> None:
    """Post-deploy smoke test against a live server: sign in as admin, instructor and student, book a
    test lesson and see its reminder queued, issue an invoice and pay it, check the error log, then
    cancel, refund and void everything it made (reason "smoke test"). Exit 1 names the failed step."""
    try:
        url = smoke_test.normalise_base_url(base_url)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    settings = current_app.config
    config = smoke_test.SmokeConfig(
        base_url=url, admin=_account("admin", accounts), instructor=_account("instructor", accounts),
        student=_account("student", accounts), today=clock.today(), timeout=timeout, days_ahead=days_ahead,
        error_log=error_log if error_log is not None else Path(settings["LOG_DIR"]) / "application.log")
    click.echo(f"Smoke test of {url}")
    report = smoke_test.run(config, _print_step)
    steps = [s for s in report.steps if s.status != "skip"]
    seconds = sum(s.seconds for s in report.steps)
    for item in report.left_behind:
        click.echo(f"left behind (undo it by hand): {item}", err=True)
    failed = report.first_failure
    if failed is None:
        skipped = [s.name for s in report.steps if s.status == "skip"]
        note = f" ({', '.join(skipped)}: skipped)" if skipped else ""
        summary(f"smoke test passed: {len(steps)} steps in {seconds:.1f} s against {url}{note}")
        return
    summary(f"smoke test failed at step '{failed.name}': {failed.detail}", err=True)
    raise click.exceptions.Exit(1)


def _print_step(step: smoke_test.StepResult) -> None:
    label = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}[step.status]
    prefix = "clean-up: " if step.cleanup else ""
    detail = f" - {step.detail}" if step.detail else ""
    click.echo(f"{label}  {prefix}{step.name} ({step.seconds:.2f} s){detail}")


def _account(role: str, given: dict[str, str | None]) -> smoke_test.Account:
    """The account from options/environment; with APP_ENV=local the demo account fills what is missing
    and the second-factor code may come from the local database (like `flask demo-code`)."""
    settings = current_app.config
    local = settings["APP_ENV"] == "local"
    email, password = given.get(f"{role}_email"), given.get(f"{role}_password")
    secret = given.get(f"{role}_totp_secret")
    if local:
        from app.services import seed

        demo = {"admin": "admin", "instructor": "instructor", "student": "student"}[role]
        email = email or next(e for e, r in seed.DEMO_ACCOUNTS if r == demo)
        password = password or seed.DEMO_PASSWORD
    missing = [f"--{role}-{name} (or SMOKE_{role.upper()}_{name.upper()})"
               for name, value in (("email", email), ("password", password)) if not value]
    if role == "admin" and settings["APP_ENV"] == "production" and not secret:
        missing.append("--admin-totp-secret (or SMOKE_ADMIN_TOTP_SECRET; production asks admin and staff for a code)")
    if missing:
        raise click.ClickException(f"smoke-test needs {WHAT[role]} (only APP_ENV=local has default accounts): "
                                   "give " + ", ".join(missing))
    if secret and not smoke_test.valid_base32(secret):
        raise click.ClickException(f"--{role}-totp-secret must be the base32 key (letters A-Z and digits 2-7) "
                                   "that the second-factor set-up page shows")
    account = smoke_test.Account(role, email.strip(), password,
                                 smoke_test.normalise_secret(secret) if secret else None)
    if local and not secret:
        account.code = _local_code(account.email)
    return account


def _local_code(email: str):
    """The current code of a local account's second factor, read from this host's database."""

    def code() -> str | None:
        from app.core.flask_db import get_db
        from app.dao.user import UserDAO
        from app.services import second_factor

        db = get_db()
        user = UserDAO(db).find_by_email(email.lower())
        if user is None:
            return None
        try:
            return second_factor.current_code(db, user["id"], clock.now(), current_app.config)
        except ValueError:  # a seed from another SECRET_KEY: the server will say the code is wrong
            return None

    return code


@job_command("smoke-setup")
@click.option("--domain", required=True, help="E-mail domain of the smoke accounts (smoke-office@DOMAIN, ...).")
@click.option("--base-url", required=True, envvar="SMOKE_BASE_URL", show_envvar=True,
              help="The live site the smoke test will call, e.g. https://origin.example.com.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the smoke test's environment file (default: instance/smoke.env); never overwritten.")
@with_appcontext
def smoke_setup_command(domain: str, base_url: str, output: Path | None) -> None:
    """Once per site, before the first smoke test: create the 'Smoke test' branch, its course, an office
    account with its second factor, an accredited instructor working every day and an enrolled student,
    with random passwords, and write them with the TOTP key to instance/smoke.env (mode 600)."""
    import os
    import textwrap

    from app.commands.operator import os_user
    from app.core.flask_db import get_db
    from app.services import smoke_setup

    try:
        url = smoke_test.normalise_base_url(base_url)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    target = output or Path(current_app.instance_path) / "smoke.env"
    if target.exists():
        raise click.ClickException(f"{target} exists already: smoke-setup never overwrites it (the accounts in it "
                                   "are the smoke test's); remove it only together with those accounts")
    partial = target.with_name(f".{target.name}.partial")
    try:  # opened before anything is created: passwords that cannot be written down are never made
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        made = smoke_setup.set_up(get_db(), domain, by=os_user(), now=clock.now(), today=clock.today(),
                                  settings=current_app.config)
        lines = ["# flask smoke-setup: the smoke test's accounts (docs/operations.md). Keep this file mode 600.",
                 *made.env_lines(url),
                 "# Recovery codes of the office account (each works once, instead of a code from the key):",
                 *[f"#   {code}" for code in made.recovery_codes]]
        with handle:
            handle.write("\n".join(lines) + "\n")
        os.replace(partial, target)
    except BaseException:
        handle.close()
        partial.unlink(missing_ok=True)
        raise
    click.echo(textwrap.dedent(f"""\
        branch 'Smoke test' {made.branch_id}, course {made.course_id}, enrolment {made.enrollment_id}
        accounts: {made.emails['staff']} (staff, second factor on), {made.emails['instructor']}, {made.emails['student']}"""))
    summary(f"smoke accounts ready; their passwords and TOTP key are in {target} (mode 600): "
            f"( set -a; . {target}; set +a; flask smoke-test )")


COMMANDS = (smoke_test_command, smoke_setup_command)
