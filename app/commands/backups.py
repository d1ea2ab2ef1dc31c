"""Backups and restores: the nightly backup, restore, and the quarterly restore drill (docs/operations.md)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.commands.jobs import job_command, progress, summary
from app.config import database_url
from app.core import clock


@job_command("backup")
@click.option("--dir", "directory", default=None, help="Folder to write the backup into (default: BACKUP_DIR).")
@click.option("--keep", type=click.IntRange(1, 1000), default=None,
              help="How many backups to keep; older ones are deleted with their manifests (default: BACKUP_KEEP).")
@click.option("--with-uploads", is_flag=True,
              help="Also archive the uploaded documents (UPLOAD_DIR) as origin-<time>-uploads.tar.gz beside it.")
@with_appcontext
def backup_command(directory: str | None, keep: int | None, with_uploads: bool) -> None:
    """Runbook, nightly 02:15: back up the database while the app runs, write a manifest (row counts and
    checksums per table) beside it, and delete backups beyond the newest BACKUP_KEEP."""
    from app.services import backup

    try:
        result = backup.backup(database_url(current_app.config), directory or current_app.config["BACKUP_DIR"],
                               clock.now(), keep or int(current_app.config["BACKUP_KEEP"]),
                               upload_dir=current_app.config["UPLOAD_DIR"] if with_uploads else None)
    except (backup.BackupFailed, OSError) as exc:
        raise click.ClickException(f"backup failed: {exc}") from exc
    uploads = result.manifest.get("uploads")
    extra = f"; uploads {uploads['files']:,} files" if uploads else ""
    summary(f"backup ok: {result.path} ({result.size:,} bytes, sha256 {result.sha256[:16]}..., "
            f"{result.tables} tables, {result.rows:,} rows, {result.seconds:.1f} s{extra}; "
            f"{len(result.removed)} old removed)")


@job_command("restore")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace a database (and uploads folder) that already holds data. What it holds now is lost.")
@click.option("--database-url", "url_with_password", default=None, metavar="URL",
              help="Restore into this database instead of the app's DATABASE_URL "
                   "(sqlite:///path or mysql://user:password@host:3306/name).")
@click.option("--with-uploads", is_flag=True,
              help="Also restore the uploaded documents from the backup's uploads archive into UPLOAD_DIR.")
@with_appcontext
def restore_command(file: Path, force: bool, url_with_password: str | None, with_uploads: bool) -> None:
    """Restore FILE (a backup written by `flask backup`) into the app's database.

    The backup is checked first (and against its manifest, when there is one). The database must be
    empty unless --force is given. The backup is loaded into a scratch copy and checked there; only then
    does it replace the database. If anything goes wrong, the database is left as it was. Stop the
    application and cron before restoring a live system; run `flask db-upgrade` afterwards.
    """
    from app.services import backup, restore

    target = url_with_password or database_url(current_app.config)
    try:
        verified = restore.verify_backup(file, with_uploads=with_uploads)
        if verified.manifest is None:
            click.echo(f"warning: no manifest beside {file.name}: the restored data cannot be compared with it")
        result = restore.restore(verified, target, upload_dir=current_app.config["UPLOAD_DIR"], force=force,
                                 progress=progress)
    except backup.BackupFailed as exc:
        raise click.ClickException(f"restore refused: {exc}" if isinstance(exc, restore.TargetNotEmpty)
                                   else f"restore failed: {exc}") from exc
    uploads = f", uploads {result.uploads_files:,} files" if result.uploads_files is not None else ""
    checked = "checked against the manifest" if result.manifest_checked else "no manifest"
    summary(f"restore ok: {file.name} into {result.target}: {result.tables} tables, {result.rows:,} rows{uploads}, "
            f"{result.seconds:.1f} s (schema {result.schema_version or 'unknown'}, {checked})")


@job_command("restore-drill")
@click.option("--dir", "directory", default=None, help="Folder for the drill's fresh backup (default: BACKUP_DIR).")
@with_appcontext
def restore_drill_command(directory: str | None) -> None:
    """Runbook, quarterly: take a fresh backup, restore it into a scratch database, compare every table
    with the backup's manifest, then remove the scratch. Exits 1 when any table differs."""
    from app.services import backup, restore

    try:
        result = restore.drill(database_url(current_app.config), directory or current_app.config["BACKUP_DIR"],
                               clock.now(), progress=progress)
    except backup.BackupFailed as exc:
        raise click.ClickException(f"restore drill failed: {exc}") from exc
    click.echo(f"backup {result.backup.path}")
    click.echo(f"{'table':<32} {'rows':>10}  checksum")
    for check in result.checks:
        rows = "-" if check.rows is None else f"{check.rows:,}"
        click.echo(f"{check.table:<32} {rows:>10}  {check.status}")
    chain = result.audit
    click.echo(f"audit trail of the restored copy: {'intact, ' if chain.ok else 'BROKEN, '}{chain.checked} hashed rows"
               + ("" if chain.ok else f" (first bad row {chain.first_bad_id}: {chain.reason})"))
    if not result.ok:
        bad = [c.table for c in result.checks if not c.ok]
        if bad:
            raise click.ClickException(f"restore drill FAILED: {len(bad)} tables differ from the manifest "
                                       f"({', '.join(bad[:5])}); restored in {result.restore_seconds:.1f} s")
        raise click.ClickException(f"restore drill FAILED: the restored audit trail's hash chain is broken at row "
                                   f"{chain.first_bad_id}: {chain.reason}")
    skipped = sum(1 for c in result.checks if c.status == restore.NOT_COMPARED)
    note = f" ({skipped} written to during the backup, not compared)" if skipped else ""
    summary(f"restore drill ok: {len(result.checks)} tables, {result.rows:,} rows, audit chain intact, restored in "
            f"{result.restore_seconds:.1f} s{note}")


@job_command("snapshot-uploads")
@click.option("--dir", "directory", default=None, help="Backup folder (default: BACKUP_DIR); the snapshot is its uploads-snapshot/.")
@click.option("--keep-days", type=click.IntRange(1, 3650), default=14, show_default=True,
              help="Days a file removed from UPLOAD_DIR stays in the snapshot.")
@with_appcontext
def snapshot_uploads_command(directory: str | None, keep_days: int) -> None:
    """Runbook, hourly: incremental snapshot of the uploaded documents into BACKUP_DIR/uploads-snapshot
    (only new or changed files are copied; files removed from UPLOAD_DIR go after --keep-days)."""
    from app.services import backup

    try:
        result = backup.snapshot_uploads(current_app.config["UPLOAD_DIR"],
                                         directory or current_app.config["BACKUP_DIR"], clock.now(), keep_days)
    except (backup.BackupFailed, OSError) as exc:
        raise click.ClickException(f"uploads snapshot failed: {exc}") from exc
    summary(f"uploads snapshot ok: {result.target}: {result.copied} copied ({result.bytes_copied:,} bytes), "
            f"{result.unchanged} unchanged, {result.removed} removed after {keep_days} days, "
            f"{result.waiting} removed from uploads and kept for now")


COMMANDS = (backup_command, restore_command, restore_drill_command, snapshot_uploads_command)
