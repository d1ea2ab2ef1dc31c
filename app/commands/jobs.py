"""What every command shares: a start and an end line in ``logs/cron.log``, a one-line summary, and a
progress display that suits where it runs.

``logs/cron.log`` is the runbook's "cron health" file: one line when a command starts and one when it
ends, with the host, the process id, a run id pairing the two, the duration, the result (ok, failed,
aborted) and the summary or the error. Lines are ``key=value`` (values with spaces are quoted), so
``grep job=backup logs/cron.log | tail -2`` answers "did last night's backup work?", and
:func:`read_runs` gives the last run of every job (the system-health page of a later issue reads it).

Each line is written with one ``write`` on a file opened in append mode: lines from several processes
(cron on several hosts sharing ``logs/`` over NFS aside) never interleave, and ``rotate-logs`` renaming
the file loses none: the next line opens the new file.
"""
from __future__ import annotations

import os
import re
import shlex
import socket
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import click
from flask import Flask, current_app, has_app_context
from flask.cli import ScriptInfo

from app.core.errors import AppError, DatabaseUnavailable

CRON_LOG = "cron.log"
SECRET_PARAMS = re.compile(r"pass|secret|token|key", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):[^@\s]*@")
_SUMMARY = "origin_job_summary"


class JobCommand(click.Command):
    """A click command that records its run in ``logs/cron.log`` (every Origin command is one; a
    read-only monitor such as cron-status is made with ``record=False`` so that polling it every
    minute does not fill the file it reads)."""

    def __init__(self, *args: Any, record: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.record = record

    def invoke(self, ctx: click.Context) -> Any:
        app = _app(ctx) if self.record else None
        log_dir = Path(app.config["LOG_DIR"]) if app is not None else None
        run_id, started = uuid.uuid4().hex[:8], time.monotonic()
        _write(log_dir, job=self.name, run=run_id, event="start", **_public_params(ctx))
        result, error = "ok", ""
        try:
            try:
                return super().invoke(ctx)
            except AppError as exc:  # a service's refusal or an unreachable database: one line, exit 1
                raise click.ClickException(f"{self.name} failed: {_app_error_text(exc)}") from exc
        except click.exceptions.Exit as exc:
            result = "ok" if exc.exit_code == 0 else "failed"
            raise
        except click.ClickException as exc:
            result, error = "failed", exc.format_message()
            raise
        except click.Abort:
            result, error = "aborted", "interrupted"
            raise
        except SystemExit as exc:  # a command (or a library under it) calling sys.exit
            result = "ok" if exc.code in (0, None) else "failed"
            raise
        except BaseException as exc:  # recorded, then re-raised unchanged
            result, error = "failed", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            fields: dict[str, Any] = {"result": result, "seconds": f"{time.monotonic() - started:.2f}"}
            summary_text = ctx.meta.get(_SUMMARY)
            if summary_text:
                fields["summary"] = summary_text
            if error:
                fields["error"] = error
            _write(log_dir, job=self.name, run=run_id, event="end", **fields)


def _app_error_text(exc: AppError) -> str:
    text = exc.message or type(exc).__name__
    if isinstance(exc, DatabaseUnavailable):
        return f"database unavailable: {text}"
    return text


def job_command(name: str, **kwargs: Any) -> Callable[[Callable[..., Any]], JobCommand]:
    """``@job_command("backup")`` is ``@click.command("backup")`` with the cron log."""
    return click.command(name, cls=JobCommand, **kwargs)  # type: ignore[return-value]


def summary(text: str, err: bool = False) -> None:
    """Print the command's one-line summary and keep it for the end line in ``logs/cron.log``."""
    click.echo(text, err=err)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:  # meta is shared by every context of one invocation
        ctx.meta[_SUMMARY] = " ".join(text.split())[:500]


@contextmanager
def progress(length: int, label: str, plain_every: float = 0.1) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``. In a terminal: click's progress bar. From cron (no terminal): a plain line
    at each ``plain_every`` of the way (10 %, 20 %, ...) and at the end, so the mail cron sends stays
    short."""
    if _interactive():
        with click.progressbar(length=length, label=label, file=sys.stdout) as bar:
            yield bar.update
        return
    done, next_mark, step = 0, 0.0, max(plain_every, 0.01)

    def advance(count: int) -> None:
        nonlocal done, next_mark
        done += count
        fraction = done / length if length else 1.0
        if fraction + 1e-9 >= next_mark + step or done >= length:
            while next_mark + step <= fraction + 1e-9:
                next_mark += step
            click.echo(f"{label}: {done:,} of {length:,} ({min(fraction, 1.0):.0%})")

    yield advance


def _interactive() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _app(ctx: click.Context) -> Flask | None:
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    info = ctx.find_object(ScriptInfo)
    if info is None:
        return None
    try:
        return info.load_app()
    except Exception:  # noqa: BLE001 - the command itself reports a broken app
        return None


def _public_params(ctx: click.Context) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in ctx.params.items():
        if value in (None, False, (), "") or SECRET_PARAMS.search(name):
            continue
        text = " ".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)
        out[name] = _URL_PASSWORD.sub(r"\g<head>:***@", text)  # mysql://user:secret@host -> user:***@
    return out


def _quote(value: Any) -> str:
    text = str(value).replace("\n", " ").replace("\r", " ")
    if text and re.fullmatch(r"[A-Za-z0-9_.:/@+,%-]+", text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_line(moment: datetime, **fields: Any) -> str:
    stamp = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    head = f"{stamp} host={_quote(socket.gethostname())} pid={os.getpid()}"
    return head + "".join(f" {key}={_quote(value)}" for key, value in fields.items()) + "\n"


def _write(log_dir: Path | None, **fields: Any) -> None:
    if log_dir is None:
        return
    line = format_line(datetime.now(timezone.utc), **fields).encode("utf-8")
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        # one write() of one line on an O_APPEND descriptor: concurrent writers never interleave
        fd = os.open(log_dir / CRON_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError as exc:  # the job still runs; cron mails this warning
        click.echo(f"warning: cannot write {log_dir / CRON_LOG}: {exc.strerror or exc}", err=True)


def parse_line(line: str) -> dict[str, str] | None:
    """One cron.log line as a dict (``at`` is the UTC timestamp); None for a line that is not ours."""
    stamp, _, rest = line.strip().partition(" ")
    try:
        datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
        parts = shlex.split(rest, posix=True)
    except ValueError:
        return None
    fields = {"at": stamp}
    for part in parts:
        key, sep, value = part.partition("=")
        if not sep:
            return None
        fields[key] = value
    return fields if "job" in fields and "event" in fields else None


@dataclass
class JobRun:
    job: str
    started_at: str
    ended_at: str | None
    result: str  # ok, failed, aborted, running (no end line yet)
    seconds: float | None
    summary: str
    error: str
    host: str


def log_files(log_dir: str | Path) -> list[Path]:
    """``cron.log`` and its rotations (``flask rotate-logs``: cron.log.YYYYMMDD-HHMMSS[.gz]; logrotate:
    cron.log-YYYYMMDD[.gz]), oldest first, so a weekly or monthly job's last run survives the nightly
    rotation."""
    folder = Path(log_dir)
    if not folder.is_dir():
        return []
    rotated = [p for p in folder.iterdir() if p.is_file() and p.name.startswith((CRON_LOG + ".", CRON_LOG + "-"))]
    current = [folder / CRON_LOG] if (folder / CRON_LOG).is_file() else []

    def when(path: Path) -> tuple[str, str]:
        # by the rotation time in the name: compressing a rotation later gives it a newer mtime
        found = re.search(r"(\d{8})(?:-(\d{6}))?", path.name[len(CRON_LOG):])
        return (found.group(1) + (found.group(2) or "000000"), path.name) if found else ("", path.name)

    return sorted(rotated, key=when) + current


def _lines(path: Path) -> Iterator[str]:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
            yield from handle
    except (OSError, EOFError):  # a rotation being compressed right now, or a damaged archive
        return


def read_runs(log_dir: str | Path) -> dict[str, JobRun]:
    """The latest run of every job in ``logs/cron.log`` and its rotations (start and end paired by run
    id)."""
    runs: dict[str, JobRun] = {}
    by_id: dict[str, JobRun] = {}
    for path in log_files(log_dir):
        for line in _lines(path):
            fields = parse_line(line)
            if fields is None:
                continue
            key = f"{fields.get('host')}/{fields.get('run')}"
            if fields["event"] == "start":
                if fields.get("dry") == "True" or fields.get("dry_run") == "True":
                    continue  # a --dry-run did not do the job: it must not hide a missing cron line
                run = JobRun(fields["job"], fields["at"], None, "running", None, "", "", fields.get("host", ""))
                by_id[key] = runs[fields["job"]] = run
            elif fields["event"] == "end" and key in by_id:
                run = by_id.pop(key)
                run.ended_at, run.result = fields["at"], fields.get("result", "?")
                run.seconds = float(fields["seconds"]) if fields.get("seconds") else None
                run.summary, run.error = fields.get("summary", ""), fields.get("error", "")
    return runs


def first_entry_at(log_dir: str | Path) -> datetime | None:
    """When the kept history begins: the first line of the oldest of cron.log and its rotations."""
    for path in log_files(log_dir):
        for line in _lines(path):
            fields = parse_line(line)
            if fields is not None:
                return _at(fields["at"])
    return None


def _at(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


@dataclass
class JobHealth:
    job: str
    run: JobRun | None
    problem: str  # "" when healthy


def assess(runs: dict[str, JobRun], allowed_age: dict[str, timedelta], now: datetime,
           log_since: datetime | None) -> list[JobHealth]:
    """Each scheduled job's health: its last run failed, or it has not started within its allowed age
    (two schedules missed; a backup older than 26 hours). A job never seen counts as late only when the
    log reaches back further than its allowed age (a new server is not late)."""
    report = []
    for job, age in allowed_age.items():
        run = runs.get(job)
        if run is None:
            late = log_since is not None and now - log_since > age
            report.append(JobHealth(job, None, f"never ran in {_span(now - log_since)} of log" if late else ""))
            continue
        started = _at(run.started_at)
        if run.result in ("failed", "aborted"):
            problem = f"last run {run.result}" + (f": {run.error}" if run.error else "")
        elif now - started > age:
            problem = f"late: last started {_span(now - started)} ago (allowed {_span(age)})"
        else:
            problem = ""
        report.append(JobHealth(job, run, problem))
    return report


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 72 else f"{hours // 24} days"
