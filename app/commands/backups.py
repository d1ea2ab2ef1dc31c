"""Backups and restores: the nightly backup, restore, and the quarterly restore drill (docs/operations.md)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from app.commands.jobs import job_command, summary
from app.config import database_url
from app.core import clock


@job_command("backup")
@click.option("--dir", "directory", default=None, help="Target folder (default BACKUP_DIR).")
@click.option("--keep", type=click.IntRange(1, 1000), default=None, help="Backups to keep (default BACKUP_KEEP).")
@with_appcontext
def backup_command(directory: str | None, keep: int | None) -> None:
    """Runbook, nightly 02:15: back up the database (online, consistent) and prune old backups."""
    from app.services import backup

    try:
        result = backup.backup(database_url(current_app.config), directory or current_app.config["BACKUP_DIR"],
                               clock.now(), keep or int(current_app.config["BACKUP_KEEP"]))
    except (backup.BackupFailed, OSError) as exc:
        raise click.ClickException(f"backup failed: {exc}") from exc
    summary(f"backup ok: {result.path} ({result.size:,} bytes, sha256 {result.sha256[:16]}..., "
               f"{result.seconds:.1f} s; {len(result.removed)} old removed)")


COMMANDS = (backup_command,)
