"""Benchmark: invoices, payments, statements, approvals and PDFs at national-chain size (issue 9, "Speed").

    .venv/bin/python bench/finance.py --mysql mysql://root@127.0.0.1:3306/origin_bench --reuse
    .venv/bin/python bench/finance.py --instructors 20 --students 500 --lessons 20000   # SQLite smoke run

Uses the chain of bench/scheduling.py (bench/datagen.py: 2,000 instructors, 200,000 students, 4,000,000
lessons; built or re-used with ``--reuse`` the same way, pending migrations applied first), then adds the
finance data when ``bench_meta`` has none (:func:`bench.datagen.build_finance`: one invoice per enrolment
with 1-3 lines, payments, credit notes, top-up invoices of the long-history students, pending enrolment
requests). Refreshes the statistics (the runbook's ``flask analyze-tables`` plus invoice_items and
enrollment_requests) and times, through the Flask test client signed in as the staff member of the branch
with the most instructors:

- ``GET /invoices/`` (the branch's invoices, newest first, with the invoiced/paid/owing sums);
- ``GET /payments/`` (the branch's payments ledger with its totals);
- ``GET /students/<id>/statement?start=&end=`` over the whole span for a student with a long history;
- ``POST /enrolment-requests/<id>/decide`` (approve): each run a different pending request;
- ``GET /invoices/<id>.pdf``: each run a different invoice (3 lines, paid in instalments);
- for information ``GET /invoices/<id>`` and ``GET /students/<id>/statement.pdf``.

Same report as bench/scheduling.py (median, p95, SQL ms, app CPU ms, statements, target); ``--explain``
prints every statement of one request of each kind with its plan.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time as timer
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.core import clock, passwords  # noqa: E402
from app.core.database import Database  # noqa: E402
from app.dao.migration import MigrationDAO  # noqa: E402
from bench.datagen import COURSES, ChainSize, build_finance, finance_built  # noqa: E402
from bench.scheduling import (CHEAP_ARGON2, PASSWORD, Row, StatementLog, _load, analyse, check, explain,  # noqa: E402
                              machine, prepare, scene, timed)

TARGETS = {"invoices": 50, "payments": 50, "statement": 50, "approve": 50, "invoice_pdf": 150}
EXTRA_ANALYZE = ("invoice_items", "enrollment_requests")


def top_up_requests(db: Database, branch_id: int, need: int, now) -> int:
    """Pending requests of the branch's students until there are ``need`` (re-runs use some up each time)."""
    have = db.fetch_value("SELECT COUNT(*) AS n FROM enrollment_requests r JOIN students s ON s.id = r.student_id"
                          " WHERE r.status = 'pending' AND s.branch_id = :b", {"b": branch_id}, cast=int)
    if have >= need:
        return 0
    rows = db.fetch_all(
        "SELECT s.id, MIN(e.course_id) AS course_id FROM students s JOIN enrollments e ON e.student_id = s.id"
        " WHERE s.branch_id = :b AND NOT EXISTS (SELECT 1 FROM enrollment_requests r WHERE r.student_id = s.id)"
        " GROUP BY s.id ORDER BY s.id LIMIT :n", {"b": branch_id, "n": need - have})
    for r in rows:
        db.insert("enrollment_requests", {"student_id": r["id"], "course_id": int(r["course_id"]) % len(COURSES) + 1,
                                          "status": "pending", "student_notes": "Applied online (bench top-up)",
                                          "created_at": now, "updated_at": now})
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mysql", default="", help="MariaDB URL of a scratch database (its tables are dropped "
                                                   "unless --reuse finds a matching build)")
    parser.add_argument("--sqlite", default="", help="SQLite file (default: a new temporary file)")
    parser.add_argument("--branches", type=int, default=None)
    parser.add_argument("--instructors", type=int, default=2000)
    parser.add_argument("--students", type=int, default=200_000)
    parser.add_argument("--lessons", type=int, default=4_000_000)
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per row (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs first (default 3)")
    parser.add_argument("--reuse", action="store_true", help="re-use the database when bench_meta says it has this size")
    parser.add_argument("--no-analyze", action="store_true", help="skip the ANALYZE")
    parser.add_argument("--explain", action="store_true", help="print the plan of every SELECT of one request per row")
    args = parser.parse_args()
    if args.warmup < 1 or args.repeat < 1:
        parser.error("--warmup and --repeat must be at least 1")

    workdir = Path(tempfile.mkdtemp(prefix="origin-bench-"))
    url = args.mysql or f"sqlite:///{args.sqlite or workdir / 'bench.sqlite3'}"
    branches = args.branches or min(50, max(2, args.instructors // 40))
    size = ChainSize(branches=branches, instructors=args.instructors, students=args.students, lessons=args.lessons)
    if args.mysql:
        name = args.mysql.rstrip("/").rsplit("/", 1)[1]
        server = Database.from_url(args.mysql.rstrip("/").rsplit("/", 1)[0] + "/")
        server.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        server.close()
    db = Database.from_url(url, connect_timeout=30)
    meta, built = prepare(db, size, args.reuse)
    fin = finance_built(db)
    fin_built = fin is None
    if fin is None:
        print("building the finance data ...", file=sys.stderr)
        build_finance(db, students=size.real.students, today=clock.today(), now=clock.now(),
                      log=lambda message: print(message, file=sys.stderr))
        fin = finance_built(db) or {}
    analysed = None
    if not args.no_analyze:
        analysed = analyse(db)
        started = timer.perf_counter()
        MigrationDAO(db).analyze([t for t in EXTRA_ANALYZE if t in set(db.tables())])
        analysed += timer.perf_counter() - started
    counts = {t: db.fetch_value(f"SELECT COUNT(*) AS n FROM {t}", cast=int)
              for t in ("schedules", "invoices", "invoice_items", "payments")}
    pending = db.fetch_value("SELECT COUNT(*) AS n FROM enrollment_requests WHERE status = 'pending'", cast=int)

    passwords.configure(CHEAP_ARGON2)
    from app.bootstrap import create_app
    from tests.conftest import csrf_token, login

    app = create_app({"DATABASE_URL": url, "LOG_DIR": str(workdir), "UPLOAD_DIR": str(workdir / "up"),
                      "LOG_LEVEL": "WARNING", "SECOND_FACTOR_ROLES": "", **CHEAP_ARGON2})  # pages, not sign-in, are timed
    where = scene(db)
    b = where.branch_id
    need = args.warmup + args.repeat + 1
    topped = top_up_requests(db, b, need, clock.now())
    requests = [r["id"] for r in db.fetch_all(
        "SELECT r.id FROM enrollment_requests r JOIN students s ON s.id = r.student_id"
        " WHERE r.status = 'pending' AND s.branch_id = :b ORDER BY r.id LIMIT :n", {"b": b, "n": need})]
    # the long-history student: most invoices in the branch (a top-up buyer); the span covers all of it
    student = db.fetch_one(
        "SELECT e.student_id, COUNT(*) AS n FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id"
        " WHERE i.branch_id = :b AND i.notes = 'Top-up package' GROUP BY e.student_id ORDER BY COUNT(*) DESC,"
        " e.student_id LIMIT 1", {"b": b}) or db.fetch_one(
        "SELECT e.student_id, COUNT(*) AS n FROM invoices i JOIN enrollments e ON e.id = i.enrollment_id"
        " WHERE i.branch_id = :b GROUP BY e.student_id ORDER BY COUNT(*) DESC, e.student_id LIMIT 1", {"b": b})
    student_id = int(student["student_id"])
    first_day = meta.get("span_from") or "2020-01-01"
    today = clock.today()
    pdf_invoices = [r["id"] for r in db.fetch_all(
        "SELECT i.id FROM invoices i WHERE i.branch_id = :b AND i.credit_note_for IS NULL AND i.status = 'paid'"
        " AND EXISTS (SELECT 1 FROM invoice_items it WHERE it.invoice_id = i.id AND it.kind = 'fee_late_cancel')"
        " ORDER BY i.id DESC LIMIT :n", {"b": b, "n": need})]
    instructor = where.instructors[0]
    load_before = _load()

    client = app.test_client()
    check(login(client, where.staff_email, PASSWORD), 302, "sign-in")
    token = csrf_token(client, "/dashboard/")
    log = StatementLog()
    rows: list[Row] = []
    plans: dict[str, list[tuple[str, dict, float]]] = {}

    def get(path: Callable[[int], str], content: str = "") -> Callable[[int], Any]:
        def action(n: int) -> Any:
            target = path(n)
            response = client.get(target)
            check(response, 200, target)
            if content and not response.mimetype == content:
                raise SystemExit(f"{target}: {response.mimetype}")
            return response
        return action

    def add(key: str, label: str, action: Callable[[int], Any]) -> None:
        plans[key] = log.capture(lambda: action(args.warmup + args.repeat))
        rows.append(timed(Row(key, label), action, args.warmup, args.repeat, log))

    add("invoices", "`GET /invoices/` (the branch's invoices with the invoiced, paid and owing sums)",
        get(lambda n: "/invoices/"))
    add("payments", "`GET /payments/` (the branch's ledger with its totals)", get(lambda n: "/payments/"))
    add("statement", f"`GET /students/<id>/statement?start={first_day}&end={today}` ({student['n']} invoices)",
        get(lambda n: f"/students/{student_id}/statement?start={first_day}&end={today}"))
    add("invoice_pdf", "`GET /invoices/<id>.pdf` (3 lines, paid; each run another invoice)",
        get(lambda n: f"/invoices/{pdf_invoices[n % len(pdf_invoices)]}.pdf", "application/pdf"))
    add("invoice_page", "`GET /invoices/<id>` (the printable page)",
        get(lambda n: f"/invoices/{pdf_invoices[n % len(pdf_invoices)]}"))
    add("statement_pdf", "`GET /students/<id>/statement.pdf` (same range)",
        get(lambda n: f"/students/{student_id}/statement.pdf?start={first_day}&end={today}", "application/pdf"))

    def approve(n: int) -> None:
        request_id = requests[n]
        response = client.post(f"/enrolment-requests/{request_id}/decide",
                               data={"csrf_token": token, "decision": "approve", "instructor_id": str(instructor)})
        check(response, 303, f"approve request {request_id}")

    # the first warm-up approval is the recorded one (every approval needs a request of its own)
    plans["approve"] = log.capture(lambda: approve(0))
    rows.append(timed(Row("approve", "`POST /enrolment-requests/<id>/decide` (approve: enrolment, package, invoice,"
                                     " reminder, notification, audit)"),
                      lambda n: approve(n + 1), args.warmup - 1, args.repeat, log))

    # ------------------------------------------------------------------ report
    backend = "MariaDB" if db.backend == "mysql" else "SQLite"
    real = size.real
    print(f"## {backend}: {real.instructors:,} instructors, {real.students:,} students, {counts['schedules']:,} lessons,"
          f" {counts['invoices']:,} invoices, {counts['invoice_items']:,} invoice lines, {counts['payments']:,} payments")
    print(f"Machine: {machine(db)}.")
    print(f"Data: chain built {'now' if built else 'earlier (re-used)'} on {meta.get('built_on')} in "
          f"{float(meta.get('build_seconds', 0)):.0f} s; finance data built {'now' if fin_built else 'earlier (re-used)'}"
          f" on {fin.get('fin_built_on')} in {float(fin.get('fin_build_seconds', 0)):.0f} s ({int(fin.get('fin_invoices', 0)):,}"
          f" invoices, {int(fin.get('fin_credit_notes', 0)):,} credit notes, {int(fin.get('fin_payments', 0)):,} payments,"
          f" {int(fin.get('fin_pending_requests', 0)):,} pending requests); {pending:,} requests pending before this run"
          f"{f' ({topped} added for this branch)' if topped else ''}; statistics "
          f"{'refreshed (ANALYZE, %.0f s)' % analysed if analysed is not None else 'not refreshed'}.")
    print(f"Signed in as {where.staff_email} (branch {b}, {where.lanes} instructors); statement of student {student_id};"
          f" {args.warmup} warm-up runs, then {args.repeat} timed runs per row; load average {load_before} before, "
          f"{_load()} after.\n")
    print("| request | median ms | p95 ms | SQL ms | app CPU ms | SQL statements | target |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for row in rows:
        target = TARGETS.get(row.key)
        verdict = "" if target is None else f"≤ {target} ms: {'met' if row.median <= target else 'MISSED'}"
        counts_text = "/".join(str(c) for c in sorted(row.statements))
        print(f"| {row.label} | {row.median:.1f} | {row.p95:.1f} | {statistics.median(row.sql_ms):.1f} |"
              f" {statistics.median(row.cpu_ms):.1f} | {counts_text} | {verdict} |")
    if args.explain:
        for key, entries in plans.items():
            print(f"\n### Statements of one `{key}` request ({len(entries)} statements)\n")
            for line in explain(db, entries):
                print(line)
    db.close()
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
