"""The runbook's jobs: schema and demo data, the nightly, weekly and monthly jobs, the dispatcher.

Each prints its one-line summary through ``jobs.summary`` (also the end line in logs/cron.log) and
fails with ClickException, so the exit code is non-zero and cron's MAILTO sees it.
"""
from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.config import database_url
from app.core import clock, schema
from app.core.errors import AppError, DatabaseUnavailable
from app.commands.jobs import job_command, summary
from app.core.flask_db import get_db
from app.dao.migration import app_grants
from app.services import seed


def _describe_database() -> str:
    url = database_url(current_app.config)
    if url.startswith("sqlite"):
        return url
    # never print credentials
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{rest.split('@', 1)[-1]}"


@job_command("init-db")
@with_appcontext
@click.option("--reset", is_flag=True, help="Drop every table first (refused in production).")
@click.option("--if-empty", "if_empty", is_flag=True, help="Do nothing when the database already has tables.")
def init_db_command(reset: bool, if_empty: bool) -> None:
    """Create the current schema in an empty database."""
    if reset and current_app.config["APP_ENV"] == "production":
        raise click.ClickException("--reset is refused in the production profile")
    if if_empty and not reset and get_db().tables():
        summary(f"Database already has tables; nothing to do ({_describe_database()})")
        return
    try:
        count = schema.init_db(get_db(), clock.now(), reset=reset)
    except (schema.SchemaError, AppError) as exc:
        raise click.ClickException(str(exc)) from exc
    summary(f"Schema created ({count} statements) in {_describe_database()}")


@job_command("db-upgrade")
@with_appcontext
def db_upgrade_command() -> None:
    """Apply pending numbered migrations (also upgrades a PHP-era database in place)."""
    try:
        applied = schema.upgrade(get_db(), clock.now())
    except AppError as exc:
        raise click.ClickException(str(exc)) from exc
    for migration in applied:
        click.echo(f"Applied {migration.version} {migration.name}")
    summary(f"Applied {len(applied)} migrations; the database is up to date." if applied
            else "Database is up to date.")


@job_command("db-check")
@with_appcontext
def db_check_command() -> None:
    """Connectivity test (a trivial query): exit 0 when the database answers, 1 otherwise."""
    try:
        ok = get_db().ping()
    except DatabaseUnavailable as exc:
        raise click.ClickException(f"database unavailable: {exc.message}") from exc
    except Exception as exc:  # any driver error means the check failed
        raise click.ClickException(f"database check failed: {type(exc).__name__}: {exc}") from exc
    if not ok:
        raise click.ClickException("database check failed: the test query returned an unexpected value")
    summary(f"database ok: {_describe_database()}")


@job_command("seed-demo")
@with_appcontext
@click.option("--force", is_flag=True, help="Allow seeding in the production profile.")
@click.option("--if-empty", "if_empty", is_flag=True, help="Do nothing (exit 0) when users already exist.")
@click.option("--scale", type=click.Choice(["S", "M", "L"], case_sensitive=False), default=None,
              help="Build a chain instead: S 1 branch, 10 instructors, 500 students; M 10 branches, 100"
                   " instructors, 10,000 students, 200,000 lessons; L 40 branches, 2,000 instructors,"
                   " 200,000 students, 4,000,000 lessons (empty database only).")
def seed_demo_command(force: bool, if_empty: bool, scale: str | None) -> None:
    """Load the demo data set and print the demo logins."""
    if current_app.config["APP_ENV"] == "production" and not force:
        raise click.ClickException("seed-demo is refused in the production profile (use --force if you mean it)")
    if scale:
        _seed_scale(scale.upper(), if_empty)
        return
    try:
        loaded = seed.seed_demo(get_db(), clock.now(), clock.today())
    except seed.AlreadySeeded as exc:
        if if_empty:
            summary("Database already has users; demo data not loaded.")
            # a database seeded before the second factor existed: its demo admin and staff get one too
            seed.enrol_demo_second_factors(get_db(), clock.now(), current_app.config)
            return
        raise click.ClickException(str(exc)) from exc
    except AppError as exc:
        raise click.ClickException(str(exc)) from exc
    summary(f"Demo data loaded: {loaded.rows} rows in {loaded.tables} tables.")
    enrolled = seed.enrol_demo_second_factors(get_db(), clock.now(), current_app.config)
    if enrolled:
        click.echo(f"Second factor switched on for {', '.join(enrolled)} (random secrets).")
    if not if_empty:  # `make run` prints the logins itself, every time
        click.echo(demo_logins_text())


def _seed_scale(scale: str, if_empty: bool) -> None:
    """``seed-demo --scale``: the chain of services/scale_seed.py with a progress bar, then the second
    factors and the logins as the normal seed prints them."""
    from app.commands.jobs import progress
    from app.services import scale_seed

    db = get_db()
    try:
        scale_seed.check_empty(db)
    except scale_seed.NotEmpty as exc:
        if if_empty:
            summary(f"Database already has users; scale {scale} not built.")
            return
        raise click.ClickException(str(exc)) from exc
    lines: list[str] = []
    with progress(100, f"Building scale {scale}") as advance:
        report = scale_seed.seed_scale(db, scale, now=clock.now(), today=clock.today(), settings=current_app.config,
                                       advance=advance, log=lines.append)
    for line in lines:
        click.echo(line)
    size = report.size
    branches = f"{size.branches} branch" + ("" if size.branches == 1 else "es")
    summary(f"Scale {scale} built in {report.seconds:.0f} s: {branches}, {size.instructors:,} instructors,"
            f" {size.students:,} students, {size.lessons:,} lessons; {report.rows:,} rows in"
            f" {len(report.counts)} tables"
            + ("" if report.stats_refreshed else " (no app/services/stats.py: aggregates not refreshed)"))
    enrolled = seed.enrol_demo_second_factors(db, clock.now(), current_app.config)
    if enrolled:
        click.echo(f"Second factor switched on for {', '.join(enrolled)} (random secrets).")
    if not if_empty:
        click.echo(demo_logins_text())


def demo_logins_text() -> str:
    lines = ["Demo logins (password for all: %s):" % seed.DEMO_PASSWORD]
    for email, role in seed.DEMO_ACCOUNTS:
        lines.append(f"  {role:<10} {email}")
    lines.append("Admin and staff also need a 6-digit code after the password: `flask demo-code EMAIL` prints it")
    lines.append("(local only; the demo seed switched their second factor on with random secrets).")
    return "\n".join(lines)


@job_command("demo-logins")
@with_appcontext
def demo_logins_command() -> None:
    """Print the demo accounts (used by `make run`)."""
    click.echo(demo_logins_text())


@job_command("demo-code")
@click.argument("email")
@with_appcontext
def demo_code_command(email: str) -> None:
    """Print the current second-factor code of a demo account (APP_ENV=local only)."""
    from app.dao.user import UserDAO
    from app.services import second_factor

    if current_app.config["APP_ENV"] != "local":
        raise click.ClickException("demo-code works only with APP_ENV=local")
    email = email.strip().lower()
    if email not in seed.DEMO_SECOND_FACTOR_EMAILS:
        raise click.ClickException(f"{email} is not a demo account with a second factor "
                                   f"({', '.join(seed.DEMO_SECOND_FACTOR_EMAILS)})")
    db = get_db()
    user = UserDAO(db).find_by_email(email)
    code = second_factor.current_code(db, user["id"], clock.now(), current_app.config) if user else None
    if code is None:
        raise click.ClickException(f"{email} has no second factor (run `flask seed-demo` on an empty database)")
    click.echo(code)


@job_command("reset-second-factor")
@click.argument("email")
@click.option("--reason", required=True, help="Why (written to the audit trail), e.g. the ticket number.")
@with_appcontext
def reset_second_factor_command(email: str, reason: str) -> None:
    """Break glass: remove a user's second factor from the server's shell (every administrator lost their
    device, or SECRET_KEY changed). Audited, the user notified, their sessions ended; they set it up again
    at their next sign-in."""
    from app.core.errors import AppError
    from app.services import second_factor

    try:
        delivery = second_factor.operator_reset(get_db(), email, reason, clock.now(), current_app.config)
    except AppError as exc:
        raise click.ClickException(exc.message) from exc
    summary(f"second factor of {email.strip().lower()} removed; sessions ended; e-mail: {delivery.status}")


@job_command("verify-audit")
@with_appcontext
def verify_audit_command() -> None:
    """Walk the whole audit hash chain and record the result (the admin page's checkpoint); exit 1 naming
    the first tampered row."""
    from app.services import audit

    result = audit.verify_and_record(get_db(), clock.now())
    if not result.ok:
        raise click.ClickException(
            f"audit trail tampered at row {result.first_bad_id}: {result.reason} ({result.checked} rows checked)"
        )
    summary(f"audit trail intact: {result.checked} hashed rows verified")


@job_command("print-grants")
@click.option("--user", "app_user", default="origin", show_default=True, help="Application database user.")
@click.option("--host", "app_host", default="%", show_default=True, help="Host part of the account.")
@with_appcontext
def print_grants_command(app_user: str, app_host: str) -> None:
    """Print MariaDB GRANTs for the application user: DML everywhere, audit_trail append-only."""
    db = get_db()
    if db.backend != "mysql":
        raise click.ClickException("print-grants needs a MariaDB/MySQL DATABASE_URL")
    name = db.current_database()
    for statement in app_grants(db.tables(), name, app_user, app_host):
        click.echo(statement + ";")


@job_command("purge-notifications")
@click.option("--months", type=click.IntRange(1, 120), default=12, show_default=True)
@with_appcontext
def purge_notifications_command(months: int) -> None:
    """Runbook, weekly: delete notifications older than --months (in batches of 1000)."""
    from app.services import maintenance

    removed = maintenance.purge_notifications(get_db(), clock.now(), months)
    summary(f"purged {removed} notifications older than {months} months")


@job_command("purge-sessions")
@click.option("--days", type=click.IntRange(1, 3650), default=90, show_default=True,
              help="Keep login attempts of the last this many days.")
@with_appcontext
def purge_sessions_command(days: int) -> None:
    """Runbook, daily 03:45: delete expired sessions and one-time links, and login attempts older than --days."""
    from app.services import maintenance

    counts = maintenance.purge_sessions(get_db(), clock.now(), current_app.config, days)
    summary("purged " + ", ".join(f"{count} {table}" for table, count in counts.items())
               + f" (expired sessions and one-time links; login attempts older than {days} days)")


@job_command("access-review")
@click.option("--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the CSV here instead of standard output.")
@with_appcontext
def access_review_command(output: str | None) -> None:
    """Runbook, monthly: every active account with its role, branch, last sign-in and review flags (CSV)."""
    import csv
    import sys

    from app.services import maintenance

    rows = maintenance.access_review(get_db(), clock.now())
    handle = open(output, "w", newline="", encoding="utf-8") if output else sys.stdout
    try:
        writer = csv.writer(handle)
        writer.writerow(["id", "role", "name", "email", "branch", "last_sign_in_utc", "flags"])
        for row in rows:
            u = row.user
            writer.writerow([u["id"], u["role"], f"{u['first_name']} {u['last_name']}", u["email"],
                             u["branch_name"] or "", u["last_login_at"] or "never", "; ".join(row.flags)])
    finally:
        if output:
            handle.close()
    flagged = sum(1 for r in rows if r.flags)
    summary(f"{len(rows)} active accounts, {flagged} flagged for review", err=True)


@job_command("accreditation-audit")
@click.option("--days", type=click.IntRange(0, 3650), default=60, show_default=True,
              help="Also list accreditations ending within this many days.")
@click.option("--fail-on-expired", is_flag=True, help="Exit 1 when any active instructor is expired or missing.")
@with_appcontext
def accreditation_audit_command(days: int, fail_on_expired: bool) -> None:
    """Runbook, monthly: instructors whose accreditation is missing, expired or about to expire."""
    from app.services import maintenance

    rows = maintenance.accreditation_audit(get_db(), clock.today(), days)
    for row in rows:
        expiry = row["accreditation_expiry"].isoformat() if row["accreditation_expiry"] else "not recorded"
        click.echo(f"{row['state']:<9} {expiry:<12} {row['first_name']} {row['last_name']} <{row['email']}>"
                   f" {row['branch_name'] or ''}".rstrip())
    bad = sum(1 for r in rows if r["state"] in ("expired", "missing"))
    summary(f"{len(rows)} instructors need attention ({bad} expired or missing)")
    if fail_on_expired and bad:
        raise click.ClickException(f"{bad} active instructors have an expired or missing accreditation")


@job_command("rotate-logs")
@click.option("--keep-days", type=click.IntRange(1, 3650), default=30, show_default=True)
@with_appcontext
def rotate_logs_command(keep_days: int) -> None:
    """Runbook, nightly 02:00: rotate logs/*.log (rename; compress the previous rotation; prune)."""
    from app.services import maintenance

    rotated, deleted = maintenance.rotate_logs(current_app.config["LOG_DIR"], clock.now(), keep_days)
    summary(f"rotated {len(rotated)} logs, deleted {len(deleted)} older than {keep_days} days")


HIGH_CHURN = ("schedules", "reminders", "notifications", "audit_trail", "login_attempts", "user_sessions",
              "invoices", "payments", "enrollments", "students", "users")


@job_command("analyze-tables")
@click.option("--table", "tables", multiple=True, help="Table to analyse (repeatable); default: the high-churn ones.")
@with_appcontext
def analyze_tables_command(tables: tuple[str, ...]) -> None:
    """Runbook, weekly: refresh optimiser statistics of the high-churn tables (ANALYZE)."""
    from app.dao.migration import MigrationDAO

    db = get_db()
    existing = set(db.tables())
    chosen = list(tables or HIGH_CHURN)
    unknown = [t for t in chosen if t not in existing]
    if unknown:
        raise click.ClickException(f"unknown table(s): {', '.join(unknown)}")
    started = clock.now()
    MigrationDAO(db).analyze(chosen)
    summary(f"analysed {len(chosen)} tables in {(clock.now() - started).total_seconds():.0f} s: {', '.join(chosen)}")


@job_command("expire-proposals")
@with_appcontext
def expire_proposals_command() -> None:
    """Cron, every 15 minutes: mark pending reschedule proposals past their expiry expired (the lesson
    stays where it was; pages already treat them as expired)."""
    from app.services import proposals

    expired = proposals.expire_due(get_db(), clock.now())
    summary(f"expired {expired} reschedule proposals")


@job_command("mark-overdue-invoices")
@with_appcontext
def mark_overdue_invoices_command() -> None:
    """Cron, nightly: every sent or part-paid invoice past its due date (in APP_TIMEZONE) becomes
    overdue (issue 9; the original never set it)."""
    from flask import current_app

    from app.services import invoicing

    changed = invoicing.mark_overdue(get_db(), now=clock.now(), settings=current_app.config)
    summary(f"marked {changed} invoices overdue")


@job_command("expire-credits")
@with_appcontext
def expire_credits_command() -> None:
    """Cron, nightly: lesson credits of purchases past their expiry date (in APP_TIMEZONE) expire (one
    expire row per purchase, never below zero; docs/packages.md)."""
    from app.services import packages

    expired = packages.expire_due(get_db(), now=clock.now(), today=clock.today())
    summary(f"expired {expired} lesson credits")


@job_command("purge-applications")
@with_appcontext
def purge_applications_command() -> None:
    """Cron, nightly: forget public-application attempts older than a day (the rate limit's window is
    an hour; nothing reads them after it)."""
    from app.services import applications

    db = get_db()
    with db.transaction():
        removed = applications.purge(db, clock.now())
    summary(f"purged {removed} application attempts older than a day")


@job_command("process-reminders")
@click.option("--limit", type=click.IntRange(1, 10_000_000), default=None,
              help="Claim at most this many reminders (default: everything due, in batches).")
@click.option("--dry-run", "dry", is_flag=True, help="Report what is due; claim and send nothing.")
@with_appcontext
def process_reminders_command(limit: int | None, dry: bool) -> None:
    """Cron, every 15 minutes (several hosts may overlap): deliver every due reminder by its channel,
    with fallback, retries and the delivery log (docs/reminders.md). Exits 1 when the run fails."""
    import logging

    from app.services import reminders

    log = logging.getLogger("origin.reminders")
    db = get_db()
    if dry:
        report = reminders.dry_run(db, clock.now(), clock.today())
        due = report["due"]
        detail = ", ".join(f"{reminders.CHANNEL_LABELS.get(c, c)} {n}" for c, n in sorted(due.items()))
        summary(f"dry run: {sum(due.values())} due ({detail or 'none'}), {report['expired']} expired claims;"
                   " nothing claimed or sent")
        return
    started = clock.now()
    log.info("process-reminders start limit=%s", limit if limit is not None else "all")
    try:
        result = reminders.process_due(db, started, current_app.config, limit=limit, clock=clock.now)
    except Exception as exc:  # noqa: BLE001 - any failure: logged, a non-zero exit for cron's MAILTO
        log.exception("process-reminders failed")
        raise click.ClickException(f"process-reminders failed: {type(exc).__name__}: {exc}") from exc
    seconds = (clock.now() - started).total_seconds()
    log.info("process-reminders end run=%s %s in %.0f s", result.run_id, result.summary(), seconds)
    summary(f"process-reminders: {result.summary()}")


@job_command("queue-agendas")
@with_appcontext
def queue_agendas_command() -> None:
    """Cron, daily 17:00: queue each instructor's agenda for tomorrow (one e-mail per instructor with
    lessons, in-app when e-mail is off; process-reminders sends it). Running it twice queues nothing more."""
    from app.services import reminders

    queued = reminders.queue_agendas(get_db(), clock.now(), current_app.config)
    summary(f"queued {queued} instructor agendas for tomorrow")


# How long after its last start each scheduled job counts as late: two of its schedules missed (plus a
# little slack), and the runbook's own rule for the backup (older than 26 hours). deploy/crontab and the
# systemd timers hold the schedules; tests/deploy_test.py keeps this table in step with them.
_MIN = timedelta(minutes=1)
SCHEDULED = {
    "process-reminders": 35 * _MIN, "expire-proposals": 35 * _MIN, "refresh-stats": 35 * _MIN,
    "mark-overdue-invoices": timedelta(days=2, hours=1), "expire-credits": timedelta(days=2, hours=1),
    "rotate-logs": timedelta(days=2, hours=1), "backup": timedelta(hours=26), "snapshot-uploads": 130 * _MIN,
    "verify-audit": timedelta(days=2, hours=1), "purge-sessions": timedelta(days=2, hours=1),
    "purge-applications": timedelta(days=2, hours=1), "queue-agendas": timedelta(days=2, hours=1),
    "purge-notifications": timedelta(days=14, hours=1), "analyze-tables": timedelta(days=14, hours=1),
    "access-review": timedelta(days=62), "accreditation-audit": timedelta(days=62),
    "export-audit": timedelta(days=62), "restore-drill": timedelta(days=184),
}


@job_command("cron-status", record=False)
@with_appcontext
def cron_status_command() -> None:
    """Monitoring: every scheduled job's last run from logs/cron.log (when, result, duration, summary).
    Exits 1 when a job's last run failed or it is late (missed two schedules; a backup older than 26 h).
    Dry runs do not count; cron-status itself writes nothing to the log it reads."""
    import textwrap
    from datetime import timezone

    from app.commands import jobs

    log_dir = current_app.config["LOG_DIR"]
    now = clock.now().replace(tzinfo=timezone.utc)
    report = jobs.assess(jobs.read_runs(log_dir), SCHEDULED, now, jobs.first_entry_at(log_dir))
    click.echo(f"{'job':<22} {'last start (UTC)':<21} {'result':<8} {'seconds':>8}  summary or problem")
    for item in report:
        run = item.run
        when, result = (run.started_at, run.result) if run else ("never", "-")
        seconds = f"{run.seconds:.1f}" if run and run.seconds is not None else ""
        text = item.problem or (run.summary if run else "")
        click.echo(f"{item.job:<22} {when:<21} {result:<8} {seconds:>8}  {textwrap.shorten(text, 100) if text else ''}")
    bad = [item for item in report if item.problem]
    if bad:
        raise click.ClickException(f"{len(bad)} of {len(report)} scheduled jobs need attention: "
                                   + "; ".join(f"{item.job} ({textwrap.shorten(item.problem, 160)})" for item in bad))
    summary(f"cron ok: {len(report)} scheduled jobs, none failed or late "
            f"({sum(1 for i in report if i.run is None)} not run yet)")


COMMANDS = (cron_status_command, init_db_command, db_upgrade_command, db_check_command, seed_demo_command, demo_logins_command,
            demo_code_command, reset_second_factor_command,
            verify_audit_command, print_grants_command, analyze_tables_command,
            purge_notifications_command, purge_sessions_command, access_review_command, accreditation_audit_command,
            rotate_logs_command, expire_proposals_command, mark_overdue_invoices_command,
            expire_credits_command, purge_applications_command, process_reminders_command,
            queue_agendas_command)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
