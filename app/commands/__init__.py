"""The click commands: one thin command per runbook job, over a service (docs/operations.md).

Registered by ``create_app`` itself (as flaskr does), so every app instance has them:
``flask <command>``, ``python cli.py <command>`` and ``flask --app /srv/origin/cli <command>``.
Failures raise ClickException, so the exit code is non-zero and cron's MAILTO sees them. Every command
is a :class:`jobs.JobCommand`: its start and end lines go to ``logs/cron.log``.

One module per area; each exports ``COMMANDS``:
- ``runbook``: schema, demo data, the nightly/weekly/monthly jobs, the dispatcher;
- ``backups``: backup, restore, restore-drill;
- ``operator``: maintenance mode, the audit export, create-user;
- ``smoke``: the post-deployment smoke test.
"""
from __future__ import annotations

import importlib

from flask import Flask

from app.commands.jobs import JobCommand

MODULES = ("runbook", "backups", "operator", "smoke")


def all_commands() -> list[JobCommand]:
    found: list[JobCommand] = []
    for name in MODULES:
        try:
            module = importlib.import_module(f"app.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"app.commands.{name}":
                raise
            continue  # an area not built yet
        found.extend(module.COMMANDS)
    return found


def init_app(app: Flask) -> None:
    for command in all_commands():
        if not isinstance(command, JobCommand):  # every job reaches logs/cron.log
            raise TypeError(f"command {command.name} is not a JobCommand (use jobs.job_command)")
        app.cli.add_command(command)


def __getattr__(name: str):  # app.commands.HIGH_CHURN and friends, as before the split
    from app.commands import runbook

    return getattr(runbook, name)
