"""`flask seed-demo --scale S|M|L`: the demo school at the size of a chain, built set-based.

The chain comes from app/dao/bulk_seed.py (the generator the benchmarks use: build_chain + build_finance,
set-based copies from a sequence table, a range of rows per statement, so memory stays flat whatever the
size), and then what a school that has run for a while also holds, in proportion:

- the package ledger: each enrolment's purchase, the credits of paid invoice lines, one draw per
  completed or no-show lesson (``bulk_seed.build_ledger``);
- sent reminders with their delivery-log rows for the lessons of the last ``HISTORY_DAYS``, the "Invoice
  issued" messages of those days, an "Invoice Due" reminder for every invoice still owing (sent, or
  pending when it is still ahead), besides the pending reminder of every coming lesson; in-app
  notifications (a welcome per enrolment, read; "Payment received" per payment, read unless recent)
  (``bulk_seed.build_history``);
- the audit trail of the last ``AUDIT_DAYS`` (the hash-chained trail "went live" then): every booking,
  cancellation, outcome, package purchase, invoice issued or credited, payment, and the office's daily
  sign-ins, in time order, each row hashed here exactly as :func:`app.services.audit.record` does, a day
  at a time, the chain head moved after each batch (``flask verify-audit`` passes at any point).

The demo logins of the normal seed (services/seed.py ``DEMO_ACCOUNTS``, password ``DEMO_PASSWORD``) are
accounts of the chain: the admin, the office of branch 1, the first instructor of branch 1 and one of
her students whose lessons run around today (past ones with outcomes, coming ones with reminders, an
invoice, a package). The command then switches the second factor on for admin and staff as the normal
seed does. The invoice counters continue after the last number of each year, so new invoices follow on.

Sizes (``SCALES``): S 1 branch, 10 instructors, 500 students, 10,000 lessons; M 10 branches, 100
instructors, 10,000 students, 200,000 lessons; L 40 branches, 2,000 instructors, 200,000 students,
4,000,000 lessons. Tests pass a small :class:`ChainSize` of their own. An empty database only
(:class:`NotEmpty` names the users it has). No Flask here.
"""
from __future__ import annotations

import importlib.util
import time as timer
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Callable, Mapping, Any

from app.core import passwords
from app.core.database import Database
from app.dao import bulk_seed
from app.dao.audit import AuditDAO
from app.dao.bulk_seed import ChainSize
from app.dao.migration import MigrationDAO
from app.dao.user import UserDAO
from app.services import audit
from app.services.seed import DEMO_ACCOUNTS, DEMO_PASSWORD

SCALES = {
    "S": ChainSize(branches=1, instructors=10, students=500, lessons=10_000),
    "M": ChainSize(branches=10, instructors=100, students=10_000, lessons=200_000),
    "L": ChainSize(branches=40, instructors=2_000, students=200_000, lessons=4_000_000),
}
AUDIT_DAYS = 14     # the audit trail covers this many days before now (it "went live" then)
HISTORY_DAYS = 60   # sent lesson reminders and "Invoice issued" messages of this many days
DOMAIN = "example.com"  # every generated account's e-mail domain (reserved: nothing is ever delivered)
AUDIT_BATCH = 5_000     # audit rows hashed and written per statement batch
# how much of the progress bar each step takes (sums to 100)
WEIGHTS = {"people": 1, "students": 8, "lessons": 34, "indexes": 8, "reminders": 3, "finance": 12,
           "ledger": 12, "history": 8, "audit": 12, "finish": 2}
DEMO_NAMES = {"admin": ("Laura", "Matthews", "(03) 8000 9000"), "staff": ("Oliver", "Grant", "(03) 8000 9001"),
              "instructor": ("Amelia", "Ward", "0400 111 222"), "student": ("Jack", "Mason", "0401 555 777")}
# filled after the chain: their secondary indexes are built once, by sorting, at the end (MariaDB)
DEFERRED = ("reminders", "package_ledger", "notifications", "message_deliveries", "audit_trail")
ANALYSED = ("schedules", "reminders", "notifications", "audit_trail", "invoices", "payments", "enrollments",
            "students", "users", "package_ledger", "message_deliveries", "invoice_items")


class NotEmpty(RuntimeError):
    """The database already has users: a scaled seed only fills an empty database."""


@dataclass
class ScaleReport:
    scale: str
    size: ChainSize
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    stats_refreshed: bool = False

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


class _Progress:
    """Turns each step's fraction (0..1) into whole units of ``advance`` (100 in all)."""

    def __init__(self, advance: Callable[[int], None] | None):
        self.advance = advance or (lambda n: None)
        self.done: dict[str, int] = {}

    def tick(self, step: str, fraction: float) -> None:
        want = int(WEIGHTS.get(step, 0) * max(0.0, min(1.0, fraction)))
        have = self.done.get(step, 0)
        if want > have:
            self.done[step] = want
            self.advance(want - have)


def size_of(scale: str | ChainSize) -> tuple[str, ChainSize]:
    if isinstance(scale, ChainSize):
        return "custom", scale
    key = str(scale).upper()
    if key not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
    return key, SCALES[key]


def check_empty(db: Database) -> None:
    users = sum(UserDAO(db).count_by_role().values())
    if users:
        raise NotEmpty(f"seed-demo --scale fills an empty database only; this one has {users:,} users"
                       " (start from an empty one: `flask init-db --reset` outside production)")


def seed_scale(db: Database, scale: str | ChainSize, *, now: datetime, today: date,
               settings: Mapping[str, Any] | None = None, advance: Callable[[int], None] | None = None,
               log: Callable[[str], None] = lambda line: None, password_hash: str | None = None) -> ScaleReport:
    """Build the chain of ``scale`` (S, M, L, or a ChainSize) in an empty, initialised database.
    ``advance(n)`` moves a progress bar of 100 units; ``log`` gets one line per step with its time.
    ``now`` is naive UTC (clock.now()), ``today`` the school's local date."""
    name, size = size_of(scale)
    check_empty(db)
    now = now.replace(microsecond=0)
    progress = _Progress(advance)
    started = timer.perf_counter()
    steps: dict[str, float] = {}

    def step(label: str, since: float) -> float:
        steps[label] = round(timer.perf_counter() - since, 1)
        log(f"  {label}: {steps[label]} s")
        return timer.perf_counter()

    hashed = password_hash or passwords.hash_password(DEMO_PASSWORD)
    bulk_seed.bulk_session(db, True)
    try:
        deferred = bulk_seed.defer_indexes(db, DEFERRED)
        report = _build(db, name, size, now=now, today=today, hashed=hashed, progress=progress, log=log,
                        started=started, steps=steps, step=step, deferred=deferred)
    finally:
        bulk_seed.bulk_session(db, False)
    return report


def _build(db: Database, name: str, size: ChainSize, *, now: datetime, today: date, hashed: str, progress: _Progress,
           log: Callable[[str], None], started: float, steps: dict[str, float],
           step: Callable[[str, float], float], deferred: list) -> ScaleReport:
    chain = bulk_seed.build_chain(db, size, today=today, now=now, password_hash=hashed, log=log, domain=DOMAIN,
                                  courses=bulk_seed.DEMO_COURSES, course_lessons=size.real.lessons_per_student,
                                  tick=progress.tick)
    steps.update(chain["steps"])
    finance = bulk_seed.build_finance(db, students=size.real.students, today=today, now=now, log=log)
    steps.update(finance["steps"])
    progress.tick("finance", 1.0)
    t = timer.perf_counter()
    _demo_logins(db, size, today)
    t = step("demo logins", t)
    bulk_seed.bulk_session(db, True)  # build_chain switched the checks back on at its end
    # each course holds the size's lessons per student, and no student has more: no draw is ever owed
    ledger = bulk_seed.build_ledger(db, today=today, now=now, covered=True, tick=lambda f: progress.tick("ledger", f))
    t = step(f"{ledger['ledger_purchases'] + ledger['ledger_consumes']:,} package ledger rows", t)
    history = bulk_seed.build_history(db, today=today, now=now, since=today - timedelta(days=HISTORY_DAYS),
                                      tick=lambda f: progress.tick("history", f))
    t = step(f"{history['sent_lesson_reminders']:,} sent lesson reminders, {history['notifications']:,}"
             " notifications", t)
    written = build_audit(db, now=now, since=now - timedelta(days=AUDIT_DAYS),
                          tick=lambda f: progress.tick("audit", f))
    t = step(f"{written:,} audit rows (hash-chained)", t)
    bulk_seed.restore_deferred(db, deferred)
    if deferred:
        t = step(f"{sum(len(ix) for _, ix in deferred)} indexes of {', '.join(DEFERRED)} rebuilt", t)
    bulk_seed.drop_bench_meta(db)
    MigrationDAO(db).analyze(list(ANALYSED))
    refreshed = refresh_stats(db, now, today)
    progress.tick("finish", 1.0)
    step("statistics" + (" and maintained aggregates" if refreshed else ""), t)
    tables = [tb for tb in db.tables() if tb != "schema_migrations"]
    counts = {tb: n for tb, n in MigrationDAO(db).row_counts(tables).items() if n}
    return ScaleReport(name, size.real, round(timer.perf_counter() - started, 1), steps, counts, refreshed)


def _demo_logins(db: Database, size: ChainSize, today: date) -> None:
    """The normal seed's four logins are accounts of the chain (bulk_seed.demo_people)."""
    people = bulk_seed.demo_people(size, today)
    where = {"admin": people["admin_user"], "staff": people["staff_user"],
             "instructor": people["instructor_user"], "student": people["student_user"]}
    for email, role in DEMO_ACCOUNTS:
        first, last, phone = DEMO_NAMES[role]
        bulk_seed.rename_user(db, where[role], email=email, first_name=first, last_name=last, phone=phone)


def refresh_stats(db: Database, now: datetime, today: date) -> bool:
    """The maintained aggregates (app/services/stats.py, when that module exists): refreshed once the data
    is in, so the pages that read them are right from the first request."""
    if importlib.util.find_spec("app.services.stats") is None:
        return False
    from app.services import stats  # type: ignore[attr-defined]

    stats.refresh(db, now, today=today)
    return True


# ------------------------------------------------------------------------------------------ the audit trail

def _logins(db: Database, since: datetime, now: datetime) -> list[tuple[datetime, int, str]]:
    """The office's working-day sign-ins (admin and staff, Monday to Saturday, in the morning)."""
    office = bulk_seed.users_by_role(db, ("admin", "staff"))
    out = []
    day = since.date()
    while day <= now.date():
        if day.weekday() < 6:
            for person in office:
                out.append((datetime.combine(day, time(7, 30)) + timedelta(minutes=(person["id"] * 7) % 50),
                            int(person["id"]), str(person["role"])))
        day += timedelta(days=1)
    return out


def _money(value: Any) -> str:
    try:
        return str(Decimal(str(value)).quantize(Decimal("0.01")))
    except (InvalidOperation, ValueError):
        return str(value)


def _content(event: Mapping[str, Any]) -> dict[str, Any]:
    """One gathered event as the audit row the app's service would have written (before hashing)."""
    action, entity = bulk_seed.AUDIT_KINDS[int(event["k"])]
    x1, x2, x3 = event["x1"], event["x2"], event["x3"]
    before = after = None
    details = None
    ip = None
    if action == "login":
        ip, details = f"10.20.{int(event['user_id']) % 250}.{int(event['user_id']) % 200 + 10}", "password + code"
    elif action == "schedule_created":
        after = {"scheduled_date": x1, "start_time": x2, "instructor_id": int(x3) if x3 is not None else None,
                 "status": "scheduled"}
        details = f"Lesson booked for {x1} at {str(x2)[:5]}"
    elif action == "schedule_cancelled":
        before, after = {"status": "scheduled"}, {"status": "cancelled", "cancel_reason": x1}
        details = x1
    elif action == "schedule_outcome_recorded":
        before = {"status": "scheduled"}
        after = {"status": x1, "student_rating": int(x2) if x2 not in (None, "") else None}
        details = f"scheduled -> {x1}"
    elif action == "package_purchased":
        after = {"credits": int(float(x1)), "source": x2, "source_id": None, "expires_on": None}
        details = f"ledger row {x3}"
    elif action == "invoice_issued":
        before = {"status": "draft", "invoice_number": None}
        after = {"status": "sent", "invoice_number": x1, "due_date": x3, "total": _money(x2)}
        details = f"{x1}: total {_money(x2)}, due {x3}"
    elif action == "invoice_credited":
        after = {"credit_note": x1, "total": _money(x2)}
        details = f"credit note {x1} for {_money(x2)}"
    else:  # payment_recorded / payment_online
        after = {"amount": _money(x1), "method": x2, "invoice_id": int(x3) if x3 is not None else None}
        details = f"{_money(x1)} by {x2} on invoice {x3}"
    return {"user_id": event["user_id"], "actor_role": event["role"], "action": action, "entity_type": entity,
            "entity_id": int(event["entity_id"]), "details": details, "created_at": event["at"],
            "ip_address": ip, "before_json": audit.snapshot(before), "after_json": audit.snapshot(after)}


def build_audit(db: Database, *, now: datetime, since: datetime,
                tick: Callable[[float], None] = lambda f: None) -> int:
    """The audit rows of the events from ``since`` to ``now``, appended to the chain in time order: each
    row's hash is :func:`audit.row_hash` of the previous row's hash and its content (as ``audit.record``),
    written ``AUDIT_BATCH`` at a time with explicit ids, the chain head moved after each batch. Memory
    holds one day of events at most. Returns how many rows."""
    dao = AuditDAO(db)
    total_events = bulk_seed.fill_audit_events(db, since=since, now=now, logins=_logins(db, since, now))
    head = dao.lock_head()
    prev = head["last_hash"]
    next_id = bulk_seed.last_audit_id(db) + 1
    written = 0
    pending: list[tuple] = []

    def flush() -> None:
        nonlocal written
        if pending:
            written += bulk_seed.insert_audit_rows(db, pending)
            dao.move_head(pending[-1][0], pending[-1][-1], now)
            pending.clear()

    day = datetime.combine(since.date(), time(0, 0))
    while day <= now:
        for event in bulk_seed.audit_events(db, day, day + timedelta(days=1)):
            row = _content(event)
            row["created_at"] = row["created_at"].replace(microsecond=0)
            digest = audit.row_hash(prev, row)
            pending.append((next_id, row["user_id"], row["action"], row["entity_type"], row["entity_id"],
                            row["details"], row["created_at"], row["actor_role"], row["ip_address"],
                            row["before_json"], row["after_json"], prev, digest))
            prev, next_id = digest, next_id + 1
            if len(pending) >= AUDIT_BATCH:
                flush()
        flush()
        day += timedelta(days=1)
        tick(written / total_events if total_events else 1.0)
    bulk_seed.drop_audit_events(db)
    tick(1.0)
    return written
