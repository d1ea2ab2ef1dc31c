"""The maintained aggregates' command (issue 13, "Speed work"): ``flask refresh-stats``, every 15 minutes
from cron (deploy/crontab) or its systemd timer. The summaries and their meaning: app/services/stats.py."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.commands.jobs import job_command, summary
from app.core import clock
from app.core.flask_db import get_db
from app.services import stats


@job_command("refresh-stats")
@click.option("--only", "only", multiple=True, type=click.Choice(stats.NAMES),
              help="Refresh only this summary (repeatable; instructor_totals brings instructor_month along).")
@with_appcontext
def refresh_stats_command(only: tuple[str, ...]) -> None:
    """Cron, every 15 minutes: rebuild the summary tables the lists, dashboards and reports read
    (per-instructor months, lifetime totals, vehicle totals, revenue by month), one transaction each,
    and record when in stat_freshness. Prints one line: rows and seconds per summary."""
    done = stats.refresh(get_db(), clock.now(), names=list(only) or None)
    parts = [f"{name} {r['rows']:,} rows in {r['ms'] / 1000:.1f} s" for name, r in done.items()]
    total = sum(r["ms"] for r in done.values()) / 1000
    summary(f"refresh-stats: {'; '.join(parts)} (total {total:.1f} s)")


COMMANDS = (refresh_stats_command,)
