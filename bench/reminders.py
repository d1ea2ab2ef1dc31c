"""Benchmark: the reminder dispatcher on MariaDB (issue 10, "Speed"): in-app reminders per second and memory
against the number of due rows.

    .venv/bin/python bench/reminders.py                                   # 100,000 rows, memory at 20k and 100k
    .venv/bin/python bench/reminders.py --rows 100000 --memory 20000,200000 --batch 500
    .venv/bin/python bench/reminders.py --profile                         # + cProfile and the SQL per statement
    .venv/bin/python bench/reminders.py --help

Uses its own database (default ``mysql://root@127.0.0.1:3306/origin_bench_reminders``, created when missing;
its tables are dropped and the schema built with ``app.core.schema.init_db`` at every start). The school is
small (one branch, 1,000 student accounts, 200 open invoices); what grows is the queue: ``--rows`` due
in-app reminders about those invoices (as the finance issue queues them), written through
``ReminderService.queue_many`` (one multi-row INSERT per 500). Then ``process_due`` runs in this process
on one connection, with the real clock, as ``flask process-reminders`` does (batches of
REMINDER_BATCH_SIZE: claim with FOR UPDATE SKIP LOCKED, the batch's context query, the notifications and
delivery rows inserted and the reminders settled in one transaction per batch).

Reported per run: reminders per second (claimed and sent over the wall time of ``process_due``), the time
inside SQL statements (driver included: PyMySQL is pure Python, so "SQL" is the driver's encoding and
decoding plus the server's work) against the rest (the dispatcher's own Python), this process's CPU time,
the number of statements, and memory: the peak resident set during the run above the resident set just
before it (Linux VmHWM, reset through /proc/self/clear_refs) and, in a second run over freshly queued rows,
the tracemalloc peak (Python allocations; tracemalloc slows the run, so that run is not timed). Memory must
stay flat in the number of due rows: the work is done a batch at a time.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import time as timer
import tracemalloc
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import load_settings  # noqa: E402
from app.core.database import Database  # noqa: E402
from app.core.schema import drop_all, init_db  # noqa: E402
from app.services import reminders  # noqa: E402
from bench.scheduling import _load, machine  # noqa: E402

DEFAULT_URL = "mysql://root@127.0.0.1:3306/origin_bench_reminders"
TARGET_PER_SECOND = 10_000
USERS = 1000
INVOICES = 200
QUEUE_CHUNK = 10_000  # rows handed to queue_many at a time (keeps the queueing's own memory bounded)


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# ------------------------------------------------------------------------------------------ SQL timing

class SqlTimer:
    """Wall time and count of every statement any Database runs, grouped by the statement's first words."""

    def __init__(self) -> None:
        self.on = False
        self.ms: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)
        original = Database._run
        fetch_all = Database.fetch_all
        me = self

        def run(db: Database, sql: str, params):  # noqa: ANN001
            if not me.on:
                return original(db, sql, params)
            started = timer.perf_counter()
            cursor = original(db, sql, params)
            me.ms[me.label(sql)] += (timer.perf_counter() - started) * 1000
            me.count[me.label(sql)] += 1
            return cursor

        def fetch_all_timed(db: Database, sql: str, params=None):  # noqa: ANN001 - rows are read here too
            if not me.on:
                return fetch_all(db, sql, params)
            cursor = run(db, sql, params)
            started = timer.perf_counter()
            try:
                return list(cursor.fetchall())
            finally:
                cursor.close()
                me.ms[me.label(sql)] += (timer.perf_counter() - started) * 1000

        Database._run = run  # type: ignore[method-assign]
        Database.fetch_all = fetch_all_timed  # type: ignore[method-assign]

    @staticmethod
    def label(sql: str) -> str:
        text = " ".join(sql.split())
        if text.startswith("INSERT INTO"):
            return " ".join(text.split()[:3])
        if text.startswith("UPDATE"):
            match = re.match(r"UPDATE (\w+) SET (.{0,60})", text)
            return f"UPDATE {match.group(1)} SET {match.group(2)}..." if match else text[:70]
        if text.startswith("SELECT"):
            source = re.search(r" FROM (\w+)", text)
            return f"{text[:40]}... FROM {source.group(1) if source else '?'}"
        return text[:60]

    def reset(self) -> None:
        self.ms.clear()
        self.count.clear()

    @property
    def total_ms(self) -> float:
        return sum(self.ms.values())

    @property
    def statements(self) -> int:
        return sum(self.count.values())


# ------------------------------------------------------------------------------------------ memory (Linux)

def _status_kib(field_name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current resident set (Linux >= 4.0); False where it is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def server_cpu_seconds(db: Database) -> float | None:
    """mariadbd's CPU time (user + system) when the server runs on this machine and /proc shows it."""
    try:
        pid = int(Path(str(db.fetch_value("SELECT @@pid_file AS f"))).read_text().split()[0])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return None


# ------------------------------------------------------------------------------------------ the data

def build_school(db: Database, now: datetime) -> tuple[list[int], list[int]]:
    """One branch, USERS student accounts, INVOICES open invoices (one course, an enrolment each)."""
    branch = db.insert("branches", {"name": "Bench branch", "city": "Melbourne", "email": "bench@origin.com.au"})
    db.insert_many("users", [{"role": "student", "first_name": f"Student{n}", "last_name": "Bench",
                              "email": f"student{n}@bench.example", "password_hash": "not-a-real-hash",
                              "status": "active", "branch_id": branch, "created_at": now, "updated_at": now}
                             for n in range(USERS)])
    users = [r["id"] for r in db.fetch_all("SELECT id FROM users ORDER BY id")]
    db.insert_many("students", [{"user_id": u, "branch_id": branch, "license_status": "Learner"}
                                for u in users[:INVOICES]])
    students = [r["id"] for r in db.fetch_all("SELECT id FROM students ORDER BY id")]
    course = db.insert("courses", {"title": "Bench course", "price": "880.00", "lesson_count": 10, "status": "active"})
    db.insert_many("enrollments", [{"student_id": s, "course_id": course, "start_date": now.date(), "status": "active"}
                                   for s in students])
    enrolments = [r["id"] for r in db.fetch_all("SELECT id FROM enrollments ORDER BY id")]
    today = now.date()
    db.insert_many("invoices", [{"enrollment_id": e, "invoice_number": f"INV-BENCH-{n:06d}", "issue_date": today,
                                 "due_date": today + timedelta(days=7), "subtotal": "880.00", "tax_amount": "88.00",
                                 "total": "968.00", "status": "sent"} for n, e in enumerate(enrolments)])
    invoices = [r["id"] for r in db.fetch_all("SELECT id FROM invoices ORDER BY id")]
    return users, invoices


def empty_queue(db: Database) -> None:
    db.execute("SET FOREIGN_KEY_CHECKS = 0")
    for table in ("message_deliveries", "notifications", "reminders", "dispatcher_runs"):
        db.execute(f"TRUNCATE TABLE {table}")
    db.execute("SET FOREIGN_KEY_CHECKS = 1")


def queue(db: Database, rows: int, users: list[int], invoices: list[int], run: int) -> float:
    """``rows`` due in-app reminders through ReminderService.queue_many; returns the seconds it took."""
    started = timer.perf_counter()
    now = utc_now()
    due = now - timedelta(minutes=5)
    for first in range(0, rows, QUEUE_CHUNK):
        batch = [{"related_type": "invoice", "related_id": invoices[n % len(invoices)],
                  "recipient_user_id": users[n % len(users)], "channel": "in-app", "reminder_type": "Invoice Due",
                  "message": f"Invoice INV-BENCH-{n % len(invoices):06d} is due on Tuesday 8 December.",
                  "send_at": due, "key": f"bench:{run}:{n}"} for n in range(first, min(rows, first + QUEUE_CHUNK))]
        reminders.queue_many(db, batch, now)
    db.execute("ANALYZE TABLE reminders")
    return timer.perf_counter() - started


# ------------------------------------------------------------------------------------------ a run

@dataclass
class Run:
    rows: int
    batch: int
    queued_s: float = 0.0
    seconds: float = 0.0
    cpu_s: float = 0.0
    sql_ms: float = 0.0
    server_cpu_s: float | None = None
    statements: int = 0
    claimed: int = 0
    sent: int = 0
    rss_before_kib: int = 0
    rss_peak_kib: int = 0
    traced_peak_kib: int | None = None
    by_statement: list[tuple[str, int, float]] = field(default_factory=list)
    profile: str = ""

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def dispatch(db: Database, settings: dict, run: Run, sql: SqlTimer, *, trace: bool = False,
             profile: bool = False) -> None:
    gc.collect()
    peak_reset = reset_peak_rss()
    run.rss_before_kib = _status_kib("VmRSS")
    if trace:
        tracemalloc.start()
    profiler = cProfile.Profile() if profile else None
    server = server_cpu_seconds(db)
    sql.reset()
    sql.on = not trace
    cpu = timer.process_time()
    started = timer.perf_counter()
    if profiler:
        profiler.enable()
    result = reminders.process_due(db, utc_now(), settings, clock=utc_now)
    if profiler:
        profiler.disable()
    elapsed = timer.perf_counter() - started
    cpu = timer.process_time() - cpu
    sql.on = False
    if trace:
        run.traced_peak_kib = tracemalloc.get_traced_memory()[1] // 1024
        tracemalloc.stop()
    run.seconds, run.cpu_s = elapsed, cpu
    after = server_cpu_seconds(db)
    run.server_cpu_s = after - server if after is not None and server is not None else None
    run.claimed, run.sent = result.claimed, result.sent
    run.sql_ms, run.statements = sql.total_ms, sql.statements
    run.rss_peak_kib = _status_kib("VmHWM") if peak_reset else 0
    run.by_statement = sorted(((label, sql.count[label], ms) for label, ms in sql.ms.items()), key=lambda x: -x[2])
    if result.claimed != run.rows or result.sent != run.rows:
        raise SystemExit(f"expected {run.rows} sent, got {result.summary()}")
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(30)
        run.profile = out.getvalue()


def check_sent(db: Database, rows: int) -> None:
    counts = {r["status"]: int(r["n"]) for r in db.fetch_all("SELECT status, COUNT(*) AS n FROM reminders GROUP BY status")}
    notes = db.fetch_value("SELECT COUNT(*) AS n FROM notifications", cast=int)
    if counts != {"sent": rows} or notes != rows:
        raise SystemExit(f"after the run: reminders {counts}, notifications {notes} (expected {rows} of each)")


def settings_for(workdir: Path, batch: int | None) -> dict:
    overrides: dict = {"LOG_DIR": str(workdir), "LOG_LEVEL": "WARNING", "EMAIL_BACKEND": "log", "SMS_BACKEND": "log"}
    if batch:
        overrides["REMINDER_BATCH_SIZE"] = batch
    return load_settings(environ={}, overrides=overrides)


def child(args: argparse.Namespace) -> None:
    """A memory run in a fresh process (so earlier runs' allocations do not hide this one's): process_due over
    the rows the parent queued; prints one JSON line."""
    workdir = Path(tempfile.mkdtemp(prefix="origin-bench-reminders-"))
    db = Database.from_url(args.mysql, connect_timeout=30)
    settings = settings_for(workdir, args.batch)
    rows = db.fetch_value("SELECT COUNT(*) AS n FROM reminders WHERE status = 'pending'", cast=int)
    run = Run(rows, int(settings["REMINDER_BATCH_SIZE"]))
    dispatch(db, settings, run, SqlTimer(), trace=args.child == "trace")
    print(json.dumps({"rows": rows, "seconds": run.seconds, "sent": run.sent, "rss_before_kib": run.rss_before_kib,
                      "rss_peak_kib": run.rss_peak_kib, "traced_peak_kib": run.traced_peak_kib}))
    db.close()
    shutil.rmtree(workdir, ignore_errors=True)


def in_child(args: argparse.Namespace, mode: str) -> dict:
    command = [sys.executable, __file__, "--mysql", args.mysql, "--child", mode]
    if args.batch:
        command += ["--batch", str(args.batch)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"memory run ({mode}) failed:\n{done.stdout}{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mysql", default=DEFAULT_URL, help=f"MariaDB URL of a scratch database (default {DEFAULT_URL};"
                                                             " its tables are dropped)")
    parser.add_argument("--rows", type=int, default=100_000, help="due in-app reminders for the timed run (100,000)")
    parser.add_argument("--memory", default="20000,100000",
                        help="comma list of queue sizes for the memory runs (default 20000,100000; '' for none)")
    parser.add_argument("--batch", type=int, default=None, help="REMINDER_BATCH_SIZE (default: the setting, 200)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs of --rows (default 1; each re-queues)")
    parser.add_argument("--profile", action="store_true", help="cProfile the first timed run (slower) and print the top")
    parser.add_argument("--child", choices=("rss", "trace"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    sizes = [int(s) for s in args.memory.split(",") if s.strip()]

    workdir = Path(tempfile.mkdtemp(prefix="origin-bench-reminders-"))
    name = args.mysql.rstrip("/").rsplit("/", 1)[1]
    server = Database.from_url(args.mysql.rstrip("/").rsplit("/", 1)[0] + "/")
    server.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    server.close()
    db = Database.from_url(args.mysql, connect_timeout=30)
    if db.backend != "mysql":
        raise SystemExit("this benchmark is for MariaDB (--mysql mysql://...)")
    started = timer.perf_counter()
    drop_all(db)
    init_db(db, utc_now())
    schema_s = timer.perf_counter() - started
    users, invoices = build_school(db, utc_now())
    settings = settings_for(workdir, args.batch)
    batch = int(settings["REMINDER_BATCH_SIZE"])
    sql = SqlTimer()
    load_before = _load()
    serial = iter(range(10**6))

    timed: list[Run] = []
    for n in range(args.repeat):
        empty_queue(db)
        run = Run(args.rows, batch)
        run.queued_s = queue(db, args.rows, users, invoices, next(serial))
        dispatch(db, settings, run, sql, profile=args.profile and n == 0)
        check_sent(db, args.rows)
        timed.append(run)
    memory: list[tuple[int, dict, dict]] = []
    for rows in sizes:
        measured = []
        for mode in ("rss", "trace"):
            empty_queue(db)
            queue(db, rows, users, invoices, next(serial))
            measured.append(in_child(args, mode))
            check_sent(db, rows)
        memory.append((rows, *measured))

    # ------------------------------------------------------------------ report
    print(f"## MariaDB: {args.rows:,} due in-app reminders, REMINDER_BATCH_SIZE {batch}")
    print(f"Machine: {machine(db)}.")
    print(f"Schema built in {schema_s:.1f} s; {USERS:,} accounts, {INVOICES} open invoices; load average {load_before}"
          f" before, {_load()} after.\n")
    print("| run | queued in s | process_due s | reminders/s | in SQL s | other Python s | bench CPU s |"
          " mariadbd CPU s | statements | target |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for i, run in enumerate(timed, start=1):
        verdict = f"≥ {TARGET_PER_SECOND:,}/s: {'met' if run.rate >= TARGET_PER_SECOND else 'MISSED'}"
        label = f"{run.rows:,} in-app{' (cProfile on)' if args.profile and i == 1 else ''}"
        server_cpu = f"{run.server_cpu_s:.2f}" if run.server_cpu_s is not None else "n/a"
        print(f"| {label} | {run.queued_s:.1f} | {run.seconds:.2f} | {run.rate:,.0f} | {run.sql_ms / 1000:.2f} |"
              f" {run.seconds - run.sql_ms / 1000:.2f} | {run.cpu_s:.2f} | {server_cpu} | {run.statements:,} | {verdict} |")
    if memory:
        print("\nMemory, each run in a fresh process over a freshly queued table:\n")
        print("| due rows | process_due s | reminders/s | RSS before MiB | peak RSS above it MiB |"
              " tracemalloc peak MiB |")
        print("|---:|---:|---:|---:|---:|---:|")
        for rows, rss, trace in memory:
            peak = f"{(rss['rss_peak_kib'] - rss['rss_before_kib']) / 1024:.1f}" if rss["rss_peak_kib"] else "n/a"
            rate = rss["sent"] / rss["seconds"] if rss["seconds"] else 0
            print(f"| {rows:,} | {rss['seconds']:.2f} | {rate:,.0f} | {rss['rss_before_kib'] / 1024:.1f} | {peak} |"
                  f" {(trace['traced_peak_kib'] or 0) / 1024:.2f} |")
    first = timed[0] if timed else None
    if first is not None:
        print(f"\nSQL per statement kind, run 1 ({first.statements:,} statements, {first.sql_ms / 1000:.2f} s of"
              f" {first.seconds:.2f} s; driver encoding and decoding included):\n")
        print("| statement | count | total s | ms each |")
        print("|---|---:|---:|---:|")
        for label, count, ms in first.by_statement[:12]:
            print(f"| `{label}` | {count:,} | {ms / 1000:.2f} | {ms / max(1, count):.2f} |")
        if first.profile:
            print("\n### cProfile of run 1\n```")
            print(first.profile)
            print("```")
    db.close()
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
