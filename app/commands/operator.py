"""The operator's commands: maintenance mode, the compliance export of the audit trail, create-user.

- ``maintenance on|off|status``: the runbook's Sev 1 switch (services.maintenance_mode);
- ``export-audit``: the audit trail of a range of local days as CSV or JSON lines, with the hash-chain
  check over that range (services.audit);
- ``create-user``: the first administrator of a fresh server, or any account
  (services.operator_accounts).

Each is audited with the system actor (no user id: the audit viewer shows "System"); the OS user who
ran it is named in the row's details.
"""
from __future__ import annotations

import csv
import getpass
import json
import os
import re
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import click
from flask import current_app, url_for
from flask.cli import with_appcontext

from app.commands.jobs import job_command, summary
from app.core import clock
from app.core.errors import AppError
from app.core.flask_db import get_db

PASSWORD_ENV = "ORIGIN_NEW_PASSWORD"
LOCAL_BASE_URL = "http://localhost:5000"  # `make run`; APP_ENV=local only
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def os_user() -> str:
    """Who is at the keyboard: the sudo caller when run through sudo, else the process's user."""
    sudo = os.environ.get("SUDO_USER")
    if sudo:
        return sudo
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _app_error_text(exc: AppError) -> str:
    """A service's refusal in one line: its message, or each field's errors when the message only says
    "correct the highlighted fields" (e.g. "not created: phone: Enter a phone number.")."""
    details = [f"{name}: {' '.join(msgs)}" for name, msgs in (exc.errors or {}).items() if msgs and msgs != [exc.message]]
    return "not created: " + "; ".join(details) if details else exc.message


# --------------------------------------------------------------------------- maintenance

def _local(moment: datetime | None) -> str:
    if moment is None:
        return "unknown"
    return (f"{moment:%Y-%m-%d %H:%M:%S} UTC ({clock.to_local(moment):%Y-%m-%d %H:%M} "
            f"{clock.timezone_name()})")


@job_command("maintenance")
@click.argument("action", type=click.Choice(["on", "off", "status"]))
@click.option("--message", default=None, help="What everyone but administrators reads on the 503 page "
              "(on; default: \"Origin is down for maintenance. Please try again shortly.\").")
@click.option("--retry-after", "retry_after", type=click.IntRange(1, 86400), default=None,
              help="Seconds in the 503 page's Retry-After header (on; default 900).")
@with_appcontext
def maintenance_command(action: str, message: str | None, retry_after: int | None) -> None:
    """Runbook, Sev 1: switch maintenance mode on or off (instance/MAINTENANCE), or show it. While on,
    every page answers 503 with the message, except for signed-in administrators, /healthz and the
    sign-in pages. `on` again changes the message. Switching is audited."""
    from app.services import maintenance_mode

    instance = current_app.instance_path
    forced = bool(current_app.config["MAINTENANCE_MODE"])
    if action == "status":
        if message is not None or retry_after is not None:
            raise click.UsageError("--message and --retry-after go with `maintenance on`")
        state = maintenance_mode.read(instance, forced=forced)
        if not state.on:
            summary("maintenance: off")
            return
        summary("maintenance: on")
        click.echo(f"since: {_local(state.since)}")
        click.echo(f"by: {state.by or 'unknown'}")
        if state.updated_at is not None:
            click.echo(f"changed: {_local(state.updated_at)} by {state.updated_by or 'unknown'}")
        click.echo(f"message: {state.message}")
        click.echo(f"retry-after: {state.retry_after} s")
        click.echo(f"switch: {maintenance_mode.path_for(instance) if state.source == 'file' else maintenance_mode.SETTING}")
        return
    by, now = os_user(), clock.now()
    if action == "on":
        try:
            state, was_on = maintenance_mode.switch_on(instance, now=now, by=by, message=message,
                                                       retry_after=retry_after)
        except maintenance_mode.MaintenanceError as exc:
            raise click.UsageError(str(exc)) from exc
        except OSError as exc:
            raise click.ClickException(f"cannot write {maintenance_mode.path_for(instance)}: {exc.strerror or exc}") from exc
        note = _audit_switch(state, was_on=was_on, switched_on=True, now=now)
        verb = "message changed" if was_on else "on"
        summary(f"maintenance {verb}: {state.message} (Retry-After {state.retry_after} s; "
                f"since {_local(state.since)}){note}")
        return
    if message is not None or retry_after is not None:
        raise click.UsageError("--message and --retry-after go with `maintenance on`")
    try:
        ended = maintenance_mode.switch_off(instance)
    except OSError as exc:
        raise click.ClickException(f"cannot remove {maintenance_mode.path_for(instance)}: {exc.strerror or exc}") from exc
    if not ended.on:
        if forced:
            raise click.ClickException("maintenance is on through MAINTENANCE_MODE=true in the settings, not the "
                                       "switch file: remove the setting and restart the application")
        summary("maintenance is already off; nothing to do")
        return
    note = _audit_switch(ended, was_on=True, switched_on=False, now=now, by=by)
    still = " (still on for this process: MAINTENANCE_MODE=true in the settings)" if forced else ""
    summary(f"maintenance off (it was on since {_local(ended.since)}); Origin is open again{still}{note}")


def _audit_switch(state, *, was_on: bool, switched_on: bool, now: datetime, by: str | None = None) -> str:
    """Audit the switch; a database that is down (often the very reason) never undoes it: warn instead."""
    from dataclasses import replace

    from app.services import maintenance_mode

    db = get_db()
    try:
        with db.transaction():
            maintenance_mode.audit_switch(db, replace(state, by=by) if by else state, was_on=was_on,
                                          switched_on=switched_on, now=now)
    except Exception as exc:  # noqa: BLE001 - the switch stands; the operator is told it is not audited
        click.echo(f"warning: the switch is done but the audit trail could not record it "
                   f"({type(exc).__name__}: {exc}); note it in the incident log", err=True)
        return " [not audited: database unavailable]"
    return ""


# --------------------------------------------------------------------------- export-audit

def _day(value: str, option: str) -> date:
    text = (value or "").strip()
    try:
        if not _DAY.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD (a local day, "
                                 f"{clock.timezone_name()})", param_hint=option) from None


class _Output:
    """The export's destination: standard output, or a temporary file beside --output renamed over it at
    the end (a reader never sees half an export under the final name)."""

    def __init__(self, output: str | None):
        self.target = Path(output) if output and output != "-" else None
        self.temp: str | None = None
        if self.target is None:
            self.handle: IO[str] = sys.stdout
            return
        if self.target.is_dir():
            raise click.BadParameter(f"{output} is a folder; name a file", param_hint="--output")
        try:
            fd, self.temp = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".part",
                                             dir=self.target.parent if str(self.target.parent) else ".")
            self.handle = os.fdopen(fd, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise click.BadParameter(f"cannot write {output}: {exc.strerror or exc}", param_hint="--output") from exc

    @property
    def name(self) -> str:
        return str(self.target) if self.target else "standard output"

    def finish(self) -> None:
        if self.target is None:
            self.handle.flush()
            return
        self.handle.close()
        os.chmod(self.temp, 0o640)  # an audit export is not for every local user
        os.replace(self.temp, self.target)
        self.temp = None

    def abandon(self) -> None:
        if self.temp:
            self.handle.close()
            os.unlink(self.temp)
            self.temp = None


@job_command("export-audit")
@click.option("--from", "day_from", default=None, metavar="DATE", help="First local day, YYYY-MM-DD (APP_TIMEZONE).")
@click.option("--to", "day_to", default=None, metavar="DATE", help="Last local day, YYYY-MM-DD (inclusive).")
@click.option("--last-month", "last_month", is_flag=True,
              help="Instead of --from/--to: every day of the previous calendar month (the monthly cron line).")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True,
              help="csv: the admin page's columns, formula-safe cells; jsonl: one JSON object a line, values as stored.")
@click.option("--output", default=None, metavar="FILE", help="Write here (default or -: standard output; the summary then goes to standard error).")
@click.option("--output-dir", "output_dir", default=None, metavar="DIR",
              help="Instead of --output: write DIR/audit-FROM_TO.csv (or .jsonl), named by the range.")
@with_appcontext
def export_audit_command(day_from: str | None, day_to: str | None, last_month: bool, fmt: str, output: str | None,
                         output_dir: str | None) -> None:
    """Compliance export (runbook, monthly): every audit row of the local days --from to --to (or
    --last-month), in id order, with the hash-chain check over the exported range. Exits 1 naming the
    first bad row when the chain is broken (the export is still written). The export is itself audited."""
    from app.services import audit

    if last_month:
        if day_from or day_to:
            raise click.BadParameter("give either --last-month or --from and --to, not both", param_hint="--last-month")
        last_day = clock.today().replace(day=1) - timedelta(days=1)
        first_day = last_day.replace(day=1)
    else:
        if not day_from or not day_to:
            raise click.BadParameter("give --from and --to (YYYY-MM-DD), or --last-month",
                                     param_hint="--from" if not day_from else "--to")
        first_day, last_day = _day(day_from, "--from"), _day(day_to, "--to")
    if first_day > last_day:
        raise click.BadParameter(f"--from {first_day} is after --to {last_day}", param_hint="--from")
    if output_dir:
        if output:
            raise click.BadParameter("give either --output or --output-dir, not both", param_hint="--output-dir")
        if not Path(output_dir).is_dir():
            raise click.BadParameter(f"{output_dir} is not a folder", param_hint="--output-dir")
        output = str(Path(output_dir) / f"audit-{first_day}_{last_day}.{fmt}")
    out = _Output(output)
    db = get_db()
    try:
        with db.transaction():
            audit.record(db, None, "audit_exported", None, None, now=clock.now(),
                         details=(f"flask export-audit by {os_user()}: {first_day} to {last_day} "
                                  f"({clock.timezone_name()}), {fmt}, to {out.name}")[:255])
        count, first_id, last_id = _write_rows(out.handle, fmt, audit.export_range(db, first_day, last_day))
        out.finish()
    except BaseException as exc:
        out.abandon()
        if isinstance(exc, AppError):  # e.g. the database is unavailable
            raise click.ClickException(f"export failed, nothing written: {exc.message or type(exc).__name__}") from exc
        raise
    span = f"ids {first_id} to {last_id}" if count else "no rows"
    where = f"{first_day} to {last_day} ({clock.timezone_name()})"
    to_stderr = out.target is None
    if not count:
        summary(f"exported 0 audit rows for {where} as {fmt} to {out.name}; nothing to check", err=to_stderr)
        return
    result = audit.verify_range(db, first_id, last_id)
    if not result.ok:
        raise click.ClickException(
            f"exported {count} audit rows ({span}) for {where} as {fmt} to {out.name}, but the hash chain "
            f"is broken at row {result.first_bad_id}: {result.reason} ({result.checked} rows checked)")
    summary(f"exported {count} audit rows ({span}) for {where} as {fmt} to {out.name}; hash chain intact "
            f"over the range ({result.checked} hashed rows verified)", err=to_stderr)


def _write_rows(handle: IO[str], fmt: str, rows) -> tuple[int, int | None, int | None]:
    from app.services import audit

    count, first_id, last_id = 0, None, None
    writer = csv.writer(handle) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(audit.CSV_COLUMNS)
    for row in rows:
        if writer is not None:
            writer.writerow([audit.csv_safe(row.get(c)) for c in audit.CSV_COLUMNS])
        else:
            handle.write(json.dumps(audit.export_record(row), ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
        first_id = row["id"] if first_id is None else first_id
        last_id = row["id"]
    return count, first_id, last_id


# --------------------------------------------------------------------------- create-user

def _base_url(given: str | None) -> str:
    """Where activation links point: --base-url, else PREFERRED_URL_SCHEME + SERVER_NAME or the first
    TRUSTED_HOSTS name (local development: http://localhost:5000)."""
    from werkzeug.sansio.utils import host_is_trusted

    config = current_app.config
    trusted = config.get("TRUSTED_HOSTS") or None
    if given:
        parts = urlsplit(given.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise click.BadParameter(f"{given!r}: give the site's address, e.g. https://origin.example.com",
                                     param_hint="--base-url")
        if trusted and not host_is_trusted(parts.hostname, trusted):
            raise click.BadParameter(f"{parts.hostname} is not in TRUSTED_HOSTS ({', '.join(trusted)}): the "
                                     "link would be refused", param_hint="--base-url")
        return given.strip().rstrip("/")
    scheme = config.get("PREFERRED_URL_SCHEME") or "https"
    if config.get("SERVER_NAME"):
        return f"{scheme}://{config['SERVER_NAME']}"
    named = [h for h in (trusted or []) if not h.startswith(".")]
    if named:
        return f"{scheme}://{named[0]}"
    if config["APP_ENV"] == "local":
        return LOCAL_BASE_URL
    raise click.UsageError("no host to build the activation link for: set SERVER_NAME or TRUSTED_HOSTS, or give --base-url")


def _activation_link(base: str, token: str) -> str:
    parts = urlsplit(base)
    with current_app.test_request_context("/", base_url=base):
        path = url_for("activation.activate", token=token)
    return f"{parts.scheme}://{parts.netloc}{path}"


def _password() -> str:
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env is not None:
        return from_env
    return click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password",
                        err=True)


@job_command("create-user")
@click.option("--role", required=True, type=click.Choice(["admin", "staff", "instructor", "student"]))
@click.option("--email", required=True, help="The sign-in e-mail address (must be unused).")
@click.option("--first-name", "first_name", default=None)
@click.option("--last-name", "last_name", default=None)
@click.option("--phone", default=None, help="Phone number (a student needs one).")
@click.option("--branch", default=None, metavar="ID-OR-NAME", help="The branch (staff, instructor and student need one).")
@click.option("--activation-link", "activation_link", is_flag=True,
              help="Print a one-time activation link (24 hours) instead of asking for a password.")
@click.option("--base-url", "base_url", default=None, help="The site's address for the link (default: SERVER_NAME / TRUSTED_HOSTS).")
@with_appcontext
def create_user_command(role: str, email: str, first_name: str | None, last_name: str | None, phone: str | None,
                        branch: str | None, activation_link: bool, base_url: str | None) -> None:
    """Create an account from the server's shell: the first administrator of a fresh server, or anyone.
    Asks for the password twice (or reads ORIGIN_NEW_PASSWORD; never an option, which `ps` would show),
    checked by the password policy; with --activation-link prints a one-time link instead. Audited."""
    from app.services import operator_accounts

    db = get_db()
    base = _base_url(base_url) if activation_link else None
    if base_url and not activation_link:
        raise click.UsageError("--base-url goes with --activation-link")
    try:
        branch_id = operator_accounts.resolve_branch(db, branch)
        data = {"email": email, "first_name": first_name or "", "last_name": last_name or "", "phone": phone,
                "branch_id": branch_id}
        operator_accounts.prepare(db, role, data)  # refuse a used e-mail or a missing branch before the prompt
        password = None if activation_link else _password()
        created = operator_accounts.create_account(db, role, data, password=password, by=os_user(),
                                                   now=clock.now(), today=clock.today(), settings=current_app.config)
    except AppError as exc:
        raise click.ClickException(_app_error_text(exc)) from exc
    who = f"{role} {created.email} (user {created.user_id})"
    if created.token is None:
        from app.config import second_factor_roles

        second = ("; the second factor (authenticator app) is set up at the first sign-in"
                  if role in second_factor_roles(current_app.config) else "")
        summary(f"created {who}; the password is set, they can sign in now{second}")
        return
    click.echo(_activation_link(base, created.token))
    summary(f"created {who}; the activation link above works once, until "
            f"{clock.to_local(created.expires_at):%Y-%m-%d %H:%M} {clock.timezone_name()}")


COMMANDS = (maintenance_command, export_audit_command, create_user_command)
