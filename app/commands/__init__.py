"""The click commands: one thin command per runbook job, over a service (docs/operations.md).

Registered by ``create_app`` itself (as flaskr does), so every app instance has them:
``flask <command>``, ``python cli.py <command>`` and ``flask --app /srv/origin/cli <command>``.
Failures raise ClickException, so the exit code is non-zero and cron's MAILTO sees them. Every command
is a :class:`jobs.JobCommand`: its start and end lines go to ``logs/cron.log``.

One module per area; each exports ``COMMANDS``:
- ``runbook``: schema, demo data, the nightly/weekly/monthly jobs, the dispatcher;
- ``backups``: backup, restore, restore-drill;
- ``operator``: maintenance mode, the audit export, create-user;
- ``smoke``: the post-deployment smoke test;
- ``stats``: refresh-stats, the maintained aggregates (every 15 minutes).
"""
from __future__ import annotations

from flask import Flask

from app.commands.jobs import JobCommand


def all_commands() -> list[JobCommand]:
    from app.commands import backups, operator, runbook, smoke, stats

    return [command for module in (runbook, backups, operator, smoke, stats) for command in module.COMMANDS]


def init_app(app: Flask) -> None:
    for command in all_commands():
        if not isinstance(command, JobCommand):  # every job reaches logs/cron.log
            raise TypeError(f"command {command.name} is not a JobCommand (use jobs.job_command)")
        app.cli.add_command(command)

