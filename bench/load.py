"""The load driver (issue 13, Build item 5): signs in over real HTTP as each role and walks every page and
API the role can reach, against gunicorn, reporting per route and role the requests, median, p95, max,
page size and HTTP status.

    # the demo seed in a SQLite file (flask init-db; flask seed-demo), gunicorn started here
    .venv/bin/python bench/load.py --sqlite /tmp/demo.sqlite3 --clients 1 --rounds 5
    # MariaDB, the bench accounts of bench/datagen.py (or seed-demo --scale L: the demo accounts)
    .venv/bin/python bench/load.py --database-url mysql://root@127.0.0.1:3306/origin_bench_l \
        --accounts bench --clients 8 --duration 120 --json out.json --markdown out.md
    # a server that is already running (the database URL is optional: row counts, TOTP secrets)
    .venv/bin/python bench/load.py --base-url http://127.0.0.1:8000 --database-url ...

Only the standard library's http.client and threads (plus the app itself, imported for its route list
and, locally, the second-factor secrets); see bench/README.md "Load driver" for the method.

1. **Server.** Unless ``--base-url`` is given, gunicorn is started with the production settings file
   (deploy/gunicorn.conf.py: sync workers, 2 x cores + 1 = 5 on this machine, max_requests recycling) on
   a free local port, its logs in a temporary directory; it is stopped at the end.
2. **Routes.** Every GET rule of ``app.url_map``; a role walks the endpoints whose view declares it
   (``roles_required``, the same declaration the access check enforces, so the walk never provokes a 403,
   which would write an audit row); the public pages are walked by an ``anonymous`` client.
3. **Sign-in** per client and role through the sign-in form (CSRF token), the second factor when the
   server asks for it: TOTP from ``--totp-secret EMAIL=BASE32`` or, locally, from the database (the
   stored seed decrypted with SECRET_KEY, as ``flask demo-code`` does). A code is accepted once per
   30-second step (replay protection), so at most ``--totp-sessions`` sessions are signed in per TOTP
   account without waiting (the steps before, of and after now); further clients of that account share
   those sessions (the report says so; the session touch is throttled to once a minute, so sharing adds
   no write).
4. **Discovery** (not timed), per role with one session: the dashboard and every list page, then the
   links they carry (``href`` and ``data-*-url``), breadth first, matched against the url_map; up to
   ``--samples`` URLs per endpoint (other ids, other sorts and pages of a list). The JSON APIs get
   realistic query strings: this week's calendar feed (whole scope, per instructor, per branch), the
   booking form's live conflict check for a real lesson, availability for the next 7 days, the student's
   next slots. Every endpoint of the role ends up measured or listed as not reached, with why.
5. **Timing.** ``--clients`` threads, each with its own sessions (one per role), walk every sampled
   endpoint of every role once per round in their own shuffled order (another sample each round); a
   warm-up round first (not counted). ``--rounds`` or ``--duration``. The time of a request is from
   sending it to the last byte of the answer (a new TCP connection each time: sync workers close it).
6. **Driver overhead**: the same clients on ``/healthz`` (one ``SELECT 1``) and a static file, and the
   driver's own CPU per request during the run (process CPU time / requests), with gunicorn's,
   the database server's and the whole machine's CPU over the run (/proc).

GET endpoints that write (the audited exports: audit, payments, the student's data) are left out unless
``--exports``. The database is otherwise only read (the sign-ins add their session and audit rows).
"""
from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ROLES = ("admin", "staff", "instructor", "student")
ANONYMOUS = "anonymous"
USER_AGENT = "origin-load/1"
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
JSON_ACCEPT = "application/json"
PAGE_LIMIT = 250_000          # bytes (250 KB, SI): the ceiling for an HTML page
TOTP_STEP = 30
DEMO_PASSWORD = "Password123!"  # app/services/seed.py DEMO_PASSWORD, bench/scheduling.py PASSWORD
PRESETS = {
    # flask seed-demo (app/services/seed.py DEMO_ACCOUNTS; admin and the staff have TOTP)
    "demo": {"admin": ["admin@origin.com"], "staff": ["operations@origin.com"],
             "instructor": ["amelia.ward@origin.com"], "student": ["jack.mason@student.com"]},
    # bench/datagen.py: one admin, staff<b> per branch, instructors i<n>, students s<n> (no TOTP)
    "bench": {"admin": ["admin@bench-origin.com"], "staff": ["staff1@bench-origin.com"],
              "instructor": ["i0@bench-origin.com"], "student": ["s80@bench-origin.com"]},  # s80: lessons to come
}
# GET endpoints that write on every request (an audit row per export): left out unless --exports
WRITES_ON_GET = {"audit.export": "audit_exported", "payments.export": "payments_exported",
                 "privacy.my_data_json": "personal_data_exported", "privacy.my_data_html": "personal_data_exported"}
# endpoints not walked, and why (a token only an e-mail or a feed subscription carries; the assets)
NOT_WALKED = {"static": "static files (nginx serves them in production; used for the overhead check)",
              "bootstrap.static": "static files of Bootstrap-Flask (nginx in production)",
              "activation.activate": "needs the one-time token of an activation e-mail",
              "password_reset.reset": "needs the one-time token of a password-reset e-mail",
              "auth.logout": "ends the session"}
# Ids the crawl may not meet within its budget (a series lesson among thousands, an archived student, a
# stored document): one read-only query each, in the role's branch for staff (:branch; NULL = any).
FALLBACK = {
    "series.view": ("/schedules/series/{id}", "SELECT id FROM schedule_series WHERE (:branch IS NULL OR branch_id = :branch)"
                    " ORDER BY id DESC LIMIT :n"),
    "series.occurrence": ("/schedules/{id}/series", "SELECT id FROM schedules WHERE series_id IS NOT NULL AND status ="
                          " 'scheduled' AND (:branch IS NULL OR branch_id = :branch) ORDER BY id DESC LIMIT :n"),
    "privacy.anonymise": ("/students/{id}/anonymise", "SELECT s.id FROM students s JOIN users u ON u.id = s.user_id"
                          " WHERE u.status = 'archived' AND (:branch IS NULL OR s.branch_id = :branch)"
                          " ORDER BY s.id DESC LIMIT :n"),
    "documents.download": ("/documents/{id}/download", "SELECT d.id FROM documents d JOIN users u ON u.id = d.user_id"
                           " WHERE (:branch IS NULL OR u.branch_id = :branch) ORDER BY d.id DESC LIMIT :n"),
}
MAIN_TABLES = ("branches", "users", "instructors", "students", "vehicles", "courses", "enrollments", "schedules",
               "invoices", "invoice_items", "payments", "reminders", "notifications", "audit_trail",
               "enrollment_requests", "documents", "communications", "user_sessions")
_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"|name="csrf_token"[^>]*value="([^"]+)"')
_LINK = re.compile(r'(?:href|action|data-[a-z-]*url)="([^"]*)"')


# --------------------------------------------------------------------------- HTTP

@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    ms: float
    path: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    @property
    def location(self) -> str | None:
        return self.headers.get("location")


class Session:
    """One browser-like session over http.client: its cookies, a kept-alive connection when the server
    keeps it (gthread), else a new one per request (sync workers close it)."""

    def __init__(self, host: str, port: int, prefix: str = "", timeout: float = 60.0):
        self.host, self.port, self.prefix, self.timeout = host, port, prefix, timeout
        self.cookies: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None

    def clone(self) -> "Session":
        other = Session(self.host, self.port, self.prefix, self.timeout)
        other.cookies = dict(self.cookies)
        return other

    def request(self, method: str, path: str, *, body: bytes | None = None, accept: str = HTML_ACCEPT,
                headers: dict[str, str] | None = None) -> Answer:
        send = {"User-Agent": USER_AGENT, "Accept": accept, "Host": f"{self.host}:{self.port}"}
        if self.cookies:
            send["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        send.update(headers or {})
        for attempt in (1, 2):
            reused = self._conn is not None
            conn = self._conn or http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            started = time.perf_counter()
            try:
                conn.request(method, self.prefix + path, body=body, headers=send)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                self._conn = None
                if reused and attempt == 1:
                    continue  # a kept-alive connection the server had closed: once more on a new one
                raise
            ms = (time.perf_counter() - started) * 1000
            head = {k.lower(): v for k, v in response.getheaders()}
            self._cookies(response.msg.get_all("Set-Cookie") or [])
            if response.will_close:
                conn.close()
                self._conn = None
            else:
                self._conn = conn
            return Answer(response.status, head, data, ms, path)
        raise RuntimeError("not reached")

    def _cookies(self, lines: list[str]) -> None:
        for line in lines:
            pair, _, attrs = line.partition(";")
            name, _, value = pair.strip().partition("=")
            low = attrs.lower()
            if not value or "max-age=0" in low or "expires=thu, 01 jan 1970" in low:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def get(self, path: str, accept: str = HTML_ACCEPT) -> Answer:
        return self.request("GET", path, accept=accept)

    def try_get(self, path: str, accept: str = HTML_ACCEPT) -> Answer:
        """A GET that never raises: no answer (timeout, connection refused or reset) is status 0."""
        started = time.perf_counter()
        try:
            return self.request("GET", path, accept=accept)
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            return Answer(0, {"x-error": f"{type(exc).__name__}: {exc}"}, b"", (time.perf_counter() - started) * 1000,
                          path)

    def post_form(self, path: str, fields: dict[str, str]) -> Answer:
        return self.request("POST", path, body=urllib.parse.urlencode(fields).encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded",
                                     "Referer": f"http://{self.host}:{self.port}{self.prefix}{path}"})

    def follow(self, answer: Answer, limit: int = 6) -> Answer:
        for _ in range(limit):
            if answer.status not in (301, 302, 303, 307, 308) or not answer.location:
                return answer
            parts = urllib.parse.urlsplit(answer.location)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if self.prefix and path.startswith(self.prefix):
                path = path[len(self.prefix):]
            answer = self.get(path)
        return answer

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def csrf_of(text: str) -> str | None:
    match = _CSRF.search(text or "")
    return (match.group(1) or match.group(2)) if match else None


def problems_of(text: str) -> str:
    found = [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", m)).split())
             for m in re.findall(r'<div class="(?:alert alert-danger|invalid-feedback)[^"]*"[^>]*>(.*?)</div>', text, re.S)]
    return "; ".join(f for f in found if f)[:200]


# --------------------------------------------------------------------------- second factor

class Totp:
    """Codes per account, each 30-second step used once and in increasing order (the server's replay rule)."""

    def __init__(self, secrets: dict[str, str], db_url: str | None, settings: dict[str, Any] | None):
        self.secrets = {k.lower(): v for k, v in secrets.items()}
        self.db_url, self.settings = db_url, settings
        self.next_step: dict[str, int] = {}
        self.lock = threading.Lock()

    def secret(self, email: str) -> str | None:
        email = email.lower()
        if email not in self.secrets and self.db_url and self.settings is not None:
            from app.core.database import Database
            from app.services import second_factor

            db = Database.from_url(self.db_url)
            try:
                user = db.fetch_one("SELECT id FROM users WHERE email = :e", {"e": email})
                row = db.fetch_one("SELECT secret FROM user_second_factors WHERE user_id = :u",
                                   {"u": user["id"]}) if user else None
                if row:
                    self.secrets[email] = second_factor.decrypt_secret(row["secret"], user["id"], self.settings)
            finally:
                db.close()
        return self.secrets.get(email)

    def available_now(self, email: str) -> int:
        """How many more codes of this account the server accepts right now (steps now-1 .. now+1)."""
        now = int(time.time()) // TOTP_STEP
        return max(0, now + 2 - max(self.next_step.get(email.lower(), now - 1), now - 1))

    def code(self, email: str, *, skip: bool = False) -> str | None:
        import pyotp

        secret = self.secret(email)
        if not secret:
            return None
        email = email.lower()
        with self.lock:
            now = int(time.time()) // TOTP_STEP
            step = max(self.next_step.get(email, now - 1), now - 1) + (1 if skip else 0)
            while step > now + 1:  # every code of the window is used: wait for the next step
                time.sleep(TOTP_STEP - time.time() % TOTP_STEP + 0.2)
                now = int(time.time()) // TOTP_STEP
            self.next_step[email] = step + 1
            return pyotp.TOTP(secret, digits=6, interval=TOTP_STEP).generate_otp(step)


class SignInError(RuntimeError):
    pass


def sign_in(session: Session, email: str, password: str, totp: Totp) -> str:
    """Sign in through the form (and the second factor); returns the role the account page names. The
    dashboard the sign-in redirects to is not opened here (the walk times it; at scale it may be slow):
    /account/ is, which also shows whether the second step is owed."""
    page = session.get("/auth/login")
    token = csrf_of(page.text)
    if page.status != 200 or not token:
        raise SignInError(f"{email}: the sign-in page answered {page.status} without a form")
    answer = session.post_form("/auth/login", {"csrf_token": token, "email": email, "password": password})
    if answer.status != 302:
        raise SignInError(f"{email}: sign-in refused ({answer.status}): {problems_of(answer.text) or 'no reason'}")
    account = session.get("/account/")
    for attempt in range(3):
        target = urllib.parse.urlsplit(account.location or "").path
        if account.status == 200 or not target.startswith("/auth/second-factor"):
            break
        challenge = session.follow(account)
        code = totp.code(email, skip=attempt > 0)
        if code is None:
            raise SignInError(f"{email}: the server asks for a second-factor code: give --totp-secret {email}=BASE32 "
                              "or --database-url of a local database (the seed is read with this SECRET_KEY)")
        answer = session.post_form(challenge.path, {"csrf_token": csrf_of(challenge.text) or token, "code": code})
        if answer.status == 200 and "already used" not in problems_of(answer.text):
            raise SignInError(f"{email}: second-factor code refused: {problems_of(answer.text)}")
        account = session.get("/account/")
    target = urllib.parse.urlsplit(account.location or "").path
    if target.startswith("/account/second-factor"):
        raise SignInError(f"{email}: the role needs a second factor and the account has none (bench data): start "
                          "the server with SECOND_FACTOR_ROLES= (the default of --accounts bench when the driver "
                          "starts it)")
    if account.status != 200:
        raise SignInError(f"{email}: signed in, but /account/ answered {account.status} {target}")
    badge = re.search(r'class="[^"]*\brole-badge\b[^"]*"[^>]*>\s*([^<]+?)\s*<', account.text)
    return html.unescape(badge.group(1)) if badge else "?"


# --------------------------------------------------------------------------- routes

@dataclass
class Route:
    endpoint: str
    rule: str
    args: tuple[str, ...]
    roles: frozenset[str]
    public: bool

    @property
    def kind(self) -> str:
        r, e = self.rule, self.endpoint
        if r.startswith("/api/"):
            return "api"
        for ext in (".pdf", ".csv", ".ics", ".json"):
            if r.endswith(ext):
                return ext[1:]
        if e.startswith("dashboard."):
            return "dashboard"
        if e.startswith("reports.") or "/reports" in r:
            return "report"
        if e in ("schedules.day", "schedules.week", "schedules.month", "schedules.sheet", "schedules.index"):
            return "calendar"
        if r.endswith(("/new", "/edit")) or any(r.endswith(s) for s in ("/enrol", "/transfer", "/anonymise",
                                                                        "/outcome", "/propose", "/hours", "/policy",
                                                                        "/cancel", "/reschedule", "/pay", "/book")):
            return "form"
        if self.args:
            return "detail"
        return "list" if r.endswith("/") and r != "/" else "page"


def load_routes(app) -> list[Route]:
    from app.core.auth import _LIBRARY_PUBLIC

    routes = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        view = app.view_functions.get(rule.endpoint)
        roles = frozenset(getattr(view, "_access_roles", None) or ())
        public = bool(getattr(view, "_access_public", False)) or rule.endpoint in _LIBRARY_PUBLIC
        routes.append(Route(rule.endpoint, rule.rule, tuple(sorted(rule.arguments)), roles, public))
    return sorted(routes, key=lambda r: r.rule)


def role_routes(routes: list[Route], role: str) -> list[Route]:
    if role == ANONYMOUS:
        return [r for r in routes if r.public and not r.args]
    return [r for r in routes if role in r.roles]


@dataclass
class Plan:
    """What one role walks: sampled URLs per endpoint, and the endpoints not reached with why."""
    role: str
    samples: dict[str, list[str]] = field(default_factory=dict)
    unreached: dict[str, str] = field(default_factory=dict)
    fetched: int = 0
    pools: dict[str, list[int]] = field(default_factory=dict)


class Discovery:
    def __init__(self, app, routes: list[Route], samples: int, page_budget: int, exports: bool, today: date,
                 extra_pages: int = 60, db_url: str | None = None):
        self.adapter = app.url_map.bind("localhost")
        self.db_url = db_url
        self.extra_pages = extra_pages
        self.by_endpoint = {r.endpoint: r for r in routes}
        self.samples, self.page_budget, self.exports, self.today = samples, page_budget, exports, today

    def match(self, url: str) -> tuple[str, dict] | None:
        from werkzeug.exceptions import HTTPException
        from werkzeug.routing import RequestRedirect

        parts = urllib.parse.urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            return None
        try:
            endpoint, args = self.adapter.match(parts.path, method="GET")
        except (HTTPException, RequestRedirect):
            return None
        return endpoint, args

    def links(self, text: str) -> Iterable[str]:
        for raw in _LINK.findall(text):
            url = html.unescape(raw).split("#", 1)[0]
            if url.startswith("/") and not url.startswith("//"):
                yield url

    def fallback(self, role: str, email: str, endpoints: list[str]) -> tuple[list[str], list[str]]:
        """Ids by one read-only query per endpoint (FALLBACK), for the office roles (staff: their branch)."""
        from app.core.database import Database

        wanted = [e for e in endpoints if e in FALLBACK]
        if not wanted:
            return [], []
        db = Database.from_url(self.db_url)
        try:
            branch = None
            if role == "staff":
                branch = db.fetch_value("SELECT branch_id FROM users WHERE email = :e", {"e": email.lower()}) or -1
            urls, empty = [], []
            for endpoint in wanted:
                pattern, sql = FALLBACK[endpoint]
                try:
                    rows = db.fetch_all(sql, {"branch": branch, "n": self.samples})
                except Exception:  # noqa: BLE001 - a table of another schema version: that endpoint stays unreached
                    continue
                urls += [pattern.format(id=r["id"]) for r in rows]
                if not rows:
                    empty.append(endpoint)
            return urls, empty
        finally:
            db.close()

    def walk(self, session: Session, role: str, email: str, routes: list[Route], log) -> Plan:
        plan = Plan(role)
        wanted = {r.endpoint for r in routes}
        budget = self.page_budget or max(100, 2 * self.samples * len(routes))
        skipped: dict[str, str] = {}
        for r in routes:
            if r.endpoint in NOT_WALKED:
                skipped[r.endpoint] = NOT_WALKED[r.endpoint]
            elif r.endpoint in WRITES_ON_GET and not self.exports:
                skipped[r.endpoint] = f"writes an audit row ({WRITES_ON_GET[r.endpoint]}) on every GET: --exports"
        notes: dict[str, list[str]] = defaultdict(list)
        pools: dict[str, set[int]] = defaultdict(set)
        samples: dict[str, list[str]] = defaultdict(list)
        seen: set[str] = set()
        queue: deque[str] = deque()

        def offer(url: str, front: bool = False) -> None:
            if url not in seen:
                seen.add(url)
                (queue.appendleft if front else queue.append)(url)

        overflow: deque[str] = deque()  # links of endpoints already sampled: read later for more links
        timeouts: list[str] = []

        def fetch(url: str, *, extra: bool = False) -> Answer | None:
            found = self.match(url)
            if found is None:
                return None
            endpoint, args = found
            for name, value in args.items():
                if isinstance(value, int):
                    pools[name].add(value)
            if endpoint not in wanted or endpoint in skipped:
                return None
            if len(samples[endpoint]) >= self.samples and not extra:
                overflow.append(url)
                return None
            if plan.fetched >= budget:
                notes[endpoint].append("page budget spent")
                return None
            accept = JSON_ACCEPT if url.startswith("/api/") else HTML_ACCEPT
            answer = session.try_get(url, accept)
            plan.fetched += 1
            if extra:
                return answer
            if answer.status == 0:
                notes[endpoint].append(f"{url}: no answer within {session.timeout:.0f} s "
                                       f"({answer.headers.get('x-error', '')}); left out of the timed run, where "
                                       "it would hold a worker for the whole timeout on every visit")
                timeouts.append(url)
            elif answer.status < 400 or answer.status >= 500:
                samples[endpoint].append(url)  # 5xx kept: the timed run reports them
            else:
                notes[endpoint].append(f"{url} answered {answer.status}")
            return answer

        def missing() -> bool:
            return any(not samples.get(r.endpoint) and r.endpoint not in skipped for r in routes)

        def drain() -> None:
            while queue:
                answer = fetch(queue.popleft())
                if answer is not None and "html" in answer.content_type:
                    for link in self.links(answer.text):
                        offer(link)

        dashboard = "/dashboard/" if "dashboard.index" in wanted else None
        for url in ([dashboard] if dashboard else []) + [r.rule for r in routes if not r.args and r.rule != dashboard
                                                         and not r.rule.startswith("/api/")]:
            offer(url)
        drain()
        # the query strings that need ids seen on the pages (the APIs, the calendar pages)
        for url in self.api_seeds(session, role, wanted, {k: sorted(v) for k, v in pools.items()}):
            offer(url)
        drain()
        # endpoints still without a sample: read more pages of the kinds already sampled (another lesson,
        # another student) for links to them; those reads are not samples
        extra = 0
        while overflow and missing() and extra < self.extra_pages and plan.fetched < budget:
            answer = fetch(overflow.popleft(), extra=True)
            extra += 1
            if answer is not None and "html" in answer.content_type:
                for link in self.links(answer.text):
                    offer(link)
            drain()
        if self.db_url and role in ("admin", "staff") and missing():
            urls, empty = self.fallback(role, email, [r.endpoint for r in routes if not samples.get(r.endpoint)
                                                      and r.endpoint not in skipped])
            for endpoint in empty:
                notes[endpoint].append(f"not linked from the {plan.fetched} pages read, and the database has no row "
                                       "for it (bench/load.py FALLBACK)")
            for url in urls:
                offer(url)
            drain()
        for r in routes:
            if r.endpoint in skipped:
                plan.unreached[r.endpoint] = skipped[r.endpoint]
            elif samples.get(r.endpoint):
                plan.samples[r.endpoint] = samples[r.endpoint]
            elif notes.get(r.endpoint):
                plan.unreached[r.endpoint] = "; ".join(dict.fromkeys(notes[r.endpoint]))[:300]
            else:
                plan.unreached[r.endpoint] = (f"no link to it on the {plan.fetched} pages the role reached"
                                              + (" (needs " + ", ".join(r.args) + ")" if r.args else ""))
        plan.pools = {k: sorted(v)[:20] for k, v in pools.items()}
        log(f"  {role}: {len(plan.samples)} endpoints sampled ({sum(map(len, plan.samples.values()))} URLs), "
            f"{len(plan.unreached)} not reached, {plan.fetched} pages fetched")
        return plan

    def api_seeds(self, session: Session, role: str, wanted: set[str], pools: dict[str, list[int]]) -> list[str]:
        """Realistic query strings: this week, the next 7 days, real ids the role has seen."""
        monday = self.today - timedelta(days=self.today.weekday())
        week = f"start={monday}&end={monday + timedelta(days=6)}"
        tomorrow = self.today + timedelta(days=1)
        rng = random.Random(13)

        def pick(name: str) -> int | None:
            values = pools.get(name) or []
            return rng.choice(values) if values else None

        seeds: list[str] = []
        events: list[dict] = []
        if "api_schedules.events" in wanted:
            seeds.append(f"/api/schedules?{week}")
            answer = session.try_get(f"/api/schedules?{week}", JSON_ACCEPT)
            if answer.status == 200 and "json" in answer.content_type:
                events = [e for e in json.loads(answer.body).get("events", []) if isinstance(e, dict)]
            if role in ("admin", "staff"):
                for name in ("instructor_id", "branch_id", "student_id", "vehicle_id"):
                    value = pick(name)
                    if value is not None:
                        seeds.append(f"/api/schedules?{week}&{name}={value}")
        if "api_schedules.events" in wanted and not any(str(e.get("start", ""))[:10] >= str(self.today) for e in events):
            ahead = f"start={self.today}&end={self.today + timedelta(days=61)}"  # a quiet week: the next 62 days
            answer = session.try_get(f"/api/schedules?{ahead}", JSON_ACCEPT)
            if answer.status == 200 and "json" in answer.content_type:
                events += [e for e in json.loads(answer.body).get("events", []) if isinstance(e, dict)]
        # a lesson still to come (the conflict check refuses a date in the past)
        lesson = next((e for e in events if _ids(e).get("student_id") and _ids(e).get("instructor_id")
                       and e.get("status", "scheduled") == "scheduled"
                       and str(e.get("start", ""))[:10] >= str(self.today)), None)
        instructor = pick("instructor_id") or (_ids(lesson).get("instructor_id") if lesson else None)
        if role == "student":  # the student's own instructor, from their feed (their events may not name them)
            instructor = next((_ids(e)["instructor_id"] for e in events if _ids(e).get("instructor_id")), instructor)
        if "api_schedules.conflicts" in wanted and lesson:
            ids = _ids(lesson)
            start, end = str(lesson.get("start", "")), str(lesson.get("end", ""))
            query = {"student_id": ids["student_id"], "instructor_id": ids["instructor_id"],
                     "date": start[:10], "start_time": start[11:16], "end_time": end[11:16], "event_type": "lesson"}
            if ids.get("vehicle_id"):
                query["vehicle_id"] = ids["vehicle_id"]
            if ids.get("enrollment_id"):
                query["enrollment_id"] = ids["enrollment_id"]
            seeds.append("/api/schedules/conflicts?" + urllib.parse.urlencode(query))
        if "api_availability.slots" in wanted and instructor:
            seeds.append(f"/api/availability?instructor_id={instructor}&date_from={tomorrow}"
                         f"&date_to={tomorrow + timedelta(days=6)}&duration_minutes=60")
            branch = pick("branch_id")
            if role in ("admin", "staff") and branch:
                seeds.append(f"/api/availability?branch_id={branch}&date_from={tomorrow}"
                             f"&date_to={tomorrow + timedelta(days=6)}&duration_minutes=60")
        if "pickers.search" in wanted:  # the searchable pickers (the booking and course forms): typed text, a page
            seeds += ["/api/pickers?kind=instructor&q=", "/api/pickers?kind=student&q=sm&page=2",
                      "/api/pickers?kind=vehicle&q=a"]
        if "api_portal.slots" in wanted:
            seeds.append("/api/my/slots?duration_minutes=60")
        if "schedules.week" in wanted and instructor:
            seeds.append(f"/schedules/week?instructor_id={instructor}&date={self.today}")
        if "schedules.day" in wanted and pick("branch_id"):
            seeds.append(f"/schedules/day?branch_id={pick('branch_id')}&date={self.today}")
        return seeds


def _ids(event: dict | None) -> dict[str, int]:
    """The ids of a calendar-feed event (at the top level or under extendedProps)."""
    if not event:
        return {}
    found = {}
    for source in (event, event.get("extendedProps") or {}):
        for key, value in source.items():
            if key.endswith("_id") and isinstance(value, int):
                found.setdefault(key, value)
    return found


# --------------------------------------------------------------------------- timing

@dataclass
class Sample:
    role: str
    endpoint: str
    url: str
    status: int
    ms: float
    size: int
    content_type: str


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


class Client(threading.Thread):
    def __init__(self, index: int, sessions: dict[str, Session], plans: dict[str, Plan], *, rounds: int,
                 duration: float, warmup: int, barrier: threading.Barrier):
        super().__init__(name=f"client-{index}", daemon=True)
        self.index, self.sessions, self.plans = index, sessions, plans
        self.rounds, self.duration, self.warmup, self.barrier = rounds, duration, warmup, barrier
        self.deadline: float | None = None
        self.samples: list[Sample] = []
        self.error: str | None = None
        self.rounds_done = 0

    def run(self) -> None:
        rng = random.Random(1000 + self.index)
        work = [(role, ep, urls) for role, plan in self.plans.items() if role in self.sessions
                for ep, urls in plan.samples.items()]
        try:
            for n in range(self.warmup):
                self._round(work, rng, n, record=False)
            self.barrier.wait()
            if self.duration:
                self.deadline = time.perf_counter() + self.duration
            n = 0
            while True:
                if self.deadline is None and n >= self.rounds:
                    break
                if self.deadline is not None and time.perf_counter() >= self.deadline:
                    break
                self._round(work, rng, n, record=True)
                n += 1
                self.rounds_done = n
        except threading.BrokenBarrierError:
            pass
        except Exception as exc:  # noqa: BLE001 - reported in the output, never hides the others' results
            self.error = f"{type(exc).__name__}: {exc}"
            try:
                self.barrier.abort()
            except Exception:  # noqa: BLE001
                pass

    def _round(self, work, rng: random.Random, n: int, *, record: bool) -> None:
        order = list(work)
        rng.shuffle(order)
        for role, endpoint, urls in order:
            if record and self.deadline is not None and time.perf_counter() >= self.deadline:
                return
            url = urls[(n + self.index) % len(urls)]
            answer = self.sessions[role].try_get(url, JSON_ACCEPT if url.startswith("/api/") else HTML_ACCEPT)
            if record:
                self.samples.append(Sample(role, endpoint, url, answer.status, answer.ms, len(answer.body),
                                           answer.content_type))


def null_overhead(sessions: list[Session], seconds: float) -> dict:
    """The clients on /healthz and on a static file: latency, throughput and the driver's CPU per request."""
    out = {}
    for label, url in (("/healthz", "/healthz"), ("static file", "/static/css/app.css")):
        results: list[list[float]] = [[] for _ in sessions]
        stop = time.perf_counter() + seconds

        def loop(i: int) -> None:
            while time.perf_counter() < stop:
                results[i].append(sessions[i].get(url).ms)

        cpu0, wall0 = time.process_time(), time.perf_counter()
        threads = [threading.Thread(target=loop, args=(i,)) for i in range(len(sessions))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        times = [ms for r in results for ms in r]
        out[label] = {"requests": len(times), "median_ms": round(statistics.median(times), 2),
                      "p95_ms": round(percentile(times, 95), 2), "per_second": round(len(times) / wall, 1),
                      "driver_cpu_ms_per_request": round(cpu * 1000 / max(1, len(times)), 3),
                      "driver_cpu_share": round(cpu / wall / (os.cpu_count() or 1), 3)}
    return out


# --------------------------------------------------------------------------- machine, data, CPU

def _proc_cpu(pid: int) -> float:
    """utime + stime (+ reaped children) of a process, in seconds; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _pids_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values) - idle) / ticks, sum(values) / ticks


class CpuMeter:
    def __init__(self, server_pid: int | None):
        self.server_pid = server_pid
        self.db_pids = _pids_named("mariadbd") or _pids_named("mysqld")

    def read(self) -> dict[str, float]:
        server = 0.0
        if self.server_pid:
            server = _proc_cpu(self.server_pid) + sum(_proc_cpu(c) for c in _children(self.server_pid))
        busy, total = _machine_busy()
        return {"driver": time.process_time(), "server": server, "database": sum(_proc_cpu(p) for p in self.db_pids),
                "machine_busy": busy, "wall": time.perf_counter()}

    @staticmethod
    def delta(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
        d = {k: b[k] - a[k] for k in a}
        d["other"] = d["machine_busy"] - d["driver"] - d["server"] - d["database"]
        return {k: round(v, 2) for k, v in d.items()}


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    mem_kib = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                    if line.startswith("MemTotal")), 0)
    return {"host": platform.node(), "kernel": platform.release(), "cpu": cpu, "cores": os.cpu_count(),
            "ram_gib": round(mem_kib / 1024 / 1024, 1), "load_average": [round(x, 2) for x in os.getloadavg()],
            "python_loop_ms": python_loop_ms()}


def python_loop_ms(steps: int = 2_000_000) -> float:
    """The best of three timings of a plain Python loop: one core's speed as this interpreter sees it, so
    runs on machines of the same name (a shared host's cores vary by several times) can be compared."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for n in range(steps):
            total += n
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def versions(db_url: str | None) -> dict:
    from importlib.metadata import version
    import sqlite3

    out = {"python": platform.python_version(), "flask": version("Flask"), "werkzeug": version("Werkzeug"),
           "gunicorn": version("gunicorn"), "jinja2": version("Jinja2"), "pymysql": version("PyMySQL"),
           "sqlite": sqlite3.sqlite_version}
    try:
        out["commit"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                       text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=20).stdout.strip()
        out["worktree"] = f"{len(dirty.splitlines())} modified files" if dirty else "clean"
    except (OSError, subprocess.SubprocessError):
        pass
    if db_url and db_url.startswith("mysql"):
        from app.core.database import Database

        db = Database.from_url(db_url)
        try:
            out["mariadb"] = db.fetch_value("SELECT VERSION() AS v")
            out["innodb_buffer_pool_mib"] = int(db.fetch_value("SELECT @@innodb_buffer_pool_size AS v")) // 2 ** 20
        finally:
            db.close()
    return out


def data_size(db_url: str | None) -> dict:
    if not db_url:
        return {}
    from app.core.database import Database

    db = Database.from_url(db_url)
    try:
        tables = set(db.tables())
        counts = {t: db.fetch_value(f"SELECT COUNT(*) AS n FROM {t}", cast=int)  # nosec B608 # fixed table names
                  for t in MAIN_TABLES if t in tables}
        if "bench_meta" in tables:
            counts["bench_meta"] = {r["name"]: r["value"] for r in db.fetch_all("SELECT name, value FROM bench_meta")}
        return counts
    finally:
        db.close()


# --------------------------------------------------------------------------- the server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn with deploy/gunicorn.conf.py (the production settings), on a free port."""

    def __init__(self, db_url: str, workdir: Path, *, workers: int, worker_class: str, threads: int,
                 env: dict[str, str], log):
        self.port = free_port()
        self.workdir = workdir
        (workdir / "logs").mkdir(parents=True, exist_ok=True)
        environment = {**os.environ, **env, "DATABASE_URL": db_url, "ORIGIN_LOG_DIR": str(workdir / "logs"),
                       "LOG_DIR": str(workdir / "logs"),
                       "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_WORKERS": str(workers)}
        command = [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "deploy" / "gunicorn.conf.py")]
        if worker_class != "sync":
            command += ["--worker-class", worker_class, "--threads", str(threads)]
        self.describe = (f"gunicorn {workers} {worker_class} workers" + (f" x {threads} threads" if worker_class != "sync"
                                                                          else "") + " (deploy/gunicorn.conf.py)")
        log(f"starting {self.describe} on 127.0.0.1:{self.port}")
        self.stderr = open(workdir / "gunicorn.stderr", "wb")
        self.process = subprocess.Popen(command, cwd=str(ROOT), env=environment, stdout=self.stderr,
                                        stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}): "
                                   + (workdir / "gunicorn.stderr").read_text()[-2000:])
            try:
                if Session("127.0.0.1", self.port, timeout=5).get("/healthz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz within 60 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=35)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr.close()

    def error_lines(self) -> list[str]:
        path = self.workdir / "logs" / "application.log"
        if not path.exists():
            return []
        return [line for line in path.read_text(errors="replace").splitlines()
                if re.match(r"^\S+ \S+ (ERROR|CRITICAL) ", line)][:50]


# --------------------------------------------------------------------------- report

def summarise(samples: list[Sample], plans: dict[str, Plan], routes: dict[str, Route]) -> tuple[list[dict], dict]:
    groups: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for s in samples:
        groups[(s.role, s.endpoint)].append(s)
    rows = []
    for (role, endpoint), items in groups.items():
        times = [s.ms for s in items]
        sizes = [s.size for s in items]
        slowest = max(items, key=lambda s: s.ms)
        biggest = max(items, key=lambda s: s.size)
        statuses = Counter(s.status for s in items)
        kind = routes[endpoint].kind if endpoint in routes else "?"
        flags = []
        if any(s.status >= 500 for s in items):
            flags.append("5xx")
        if any(s.status == 0 for s in items):
            flags.append("no answer (timeout)")
        if "html" in biggest.content_type and biggest.size > PAGE_LIMIT:
            flags.append("over 250 KB")
        rows.append({"role": role, "endpoint": endpoint, "rule": routes[endpoint].rule if endpoint in routes else "?",
                     "kind": kind, "requests": len(items), "median_ms": round(statistics.median(times), 1),
                     "p95_ms": round(percentile(times, 95), 1), "max_ms": round(max(times), 1),
                     "median_bytes": int(statistics.median(sizes)), "max_bytes": biggest.size,
                     "biggest_url": biggest.url, "slowest_url": slowest.url, "content_type": biggest.content_type,
                     "statuses": {str(k): v for k, v in sorted(statuses.items())}, "flags": flags,
                     "urls": len(plans[role].samples.get(endpoint, []))})
    rows.sort(key=lambda r: (-r["p95_ms"], r["role"], r["endpoint"]))
    per_role = {}
    for role in plans:
        times = [s.ms for s in samples if s.role == role]
        if times:
            dash = [s.ms for s in samples if s.role == role and s.endpoint.startswith("dashboard.")]
            per_role[role] = {"requests": len(times), "median_ms": round(statistics.median(times), 1),
                              "p95_ms": round(percentile(times, 95), 1), "max_ms": round(max(times), 1),
                              "endpoints": len(plans[role].samples), "unreached": len(plans[role].unreached),
                              "dashboard_p95_ms": round(percentile(dash, 95), 1) if dash else None}
    everyone = [s.ms for s in samples if s.role != ANONYMOUS]
    if everyone:
        per_role["all signed-in roles"] = {"requests": len(everyone), "median_ms": round(statistics.median(everyone), 1),
                                           "p95_ms": round(percentile(everyone, 95), 1),
                                           "max_ms": round(max(everyone), 1)}
    return rows, per_role


def markdown(result: dict, top: int | None = None) -> str:
    m, v, run = result["machine"], result["versions"], result["run"]
    lines = [f"### {run['label']}: {run['clients']} client(s), {run['date']}", ""]
    lines.append(f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, `{m['kernel']}`"
                 + (f" (a 2,000,000-step Python loop: {m['python_loop_ms']} ms)" if m.get("python_loop_ms") else "")
                 + "; load average "
                 f"{' / '.join(map(str, run.get('load_average_start') or m['load_average']))} at the start, "
                 f"{' / '.join(map(str, run.get('load_average_end', [])))} at the end. "
                 f"Python {v['python']}, Flask {v['flask']}, gunicorn {v['gunicorn']}"
                 + (f", MariaDB {v['mariadb']} (buffer pool {v.get('innodb_buffer_pool_mib')} MiB)" if v.get("mariadb")
                    else f", SQLite {v['sqlite']}") + (f"; commit {v.get('commit')} ({v.get('worktree')})"
                                                       if v.get("commit") else "") + ".")
    size = result.get("data", {})
    if size:
        shown = ", ".join(f"{k} {n:,}" for k, n in size.items() if isinstance(n, int))
        lines.append(f"Data: {shown}.")
    lines.append(f"Server: {run['server']}; {run['database']}. {run['rounds']} timed round(s) after "
                 f"{run['warmup']} warm-up, {run['seconds']:.0f} s, {run['requests']:,} requests "
                 f"({run['requests'] / max(run['seconds'], 0.001):.1f}/s).")
    cpu = run.get("cpu", {})
    if cpu:
        wall = max(cpu.get("wall", 0), 0.001)
        lines.append(f"CPU over the run (s, of {wall * (m['cores'] or 1):.0f} available): driver {cpu['driver']}, "
                     f"gunicorn {cpu['server']}, database server {cpu['database']}, everything else {cpu['other']} "
                     f"(driver {run['driver_cpu_ms_per_request']} ms CPU per request).")
    for label, o in result.get("overhead", {}).items():
        lines.append(f"Driver check, {label}: median {o['median_ms']} ms, p95 {o['p95_ms']} ms, {o['per_second']}/s, "
                     f"driver CPU {o['driver_cpu_ms_per_request']} ms per request "
                     f"({o['driver_cpu_share'] * 100:.0f} % of the machine).")
    if result.get("shared_sessions"):
        lines.append("Shared sessions: " + "; ".join(result["shared_sessions"]) + ".")
    lines += ["", "| role | requests | median ms | p95 ms | max ms | dashboard p95 ms | endpoints | not reached |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for role, s in result["roles"].items():
        lines.append(f"| {role} | {s['requests']:,} | {s['median_ms']} | {s['p95_ms']} | {s['max_ms']} | "
                     f"{s.get('dashboard_p95_ms') or ''} | {s.get('endpoints', '')} | {s.get('unreached', '')} |")
    rows = result["routes"][:top] if top else result["routes"]
    lines += ["", ("The slowest %d routes by p95:" % top) if top else "Every route, slowest p95 first:", "",
              "| role | route | kind | requests | median ms | p95 ms | max ms | KB (max) | status | flags |",
              "|---|---|---|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        status = ", ".join(f"{k}×{n}" if len(r["statuses"]) > 1 else k for k, n in r["statuses"].items())
        lines.append(f"| {r['role']} | `{r['rule']}` | {r['kind']} | {r['requests']} | {r['median_ms']} | {r['p95_ms']} "
                     f"| {r['max_ms']} | {r['max_bytes'] / 1000:.0f} | {status} | {' '.join(r['flags'])} |")
    flagged = [r for r in result["routes"] if r["flags"]]
    if flagged:
        lines += ["", "Flagged: " + "; ".join(f"{r['role']} `{r['biggest_url'] if 'over 250 KB' in r['flags'] else r['slowest_url']}` "
                                              f"({', '.join(r['flags'])}, {r['max_bytes'] / 1000:.0f} KB)" for r in flagged)]
    unreached = [(role, ep, why) for role, plan in result["plans"].items() for ep, why in plan["unreached"].items()]
    if unreached:
        lines += ["", "Not walked:", ""]
        lines += [f"- {role} `{ep}`: {why}" for role, ep, why in unreached]
    if result.get("errors"):
        lines += ["", "Errors:", ""] + [f"- {e}" for e in result["errors"]]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main

def accounts_from(args) -> dict[str, list[str]]:
    preset = PRESETS[args.accounts]
    chosen = {}
    for role in ROLES:
        given = getattr(args, role)
        chosen[role] = [e.strip() for e in given.split(",") if e.strip()] if given else list(preset[role])
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    target = parser.add_argument_group("target")
    target.add_argument("--database-url", default="", help="the database gunicorn serves (mysql://... or sqlite:///...)")
    target.add_argument("--sqlite", default="", help="a SQLite file (same as --database-url sqlite:///FILE)")
    target.add_argument("--base-url", default="", help="a running server instead (http://host:port)")
    target.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2 + 1,
                        help="gunicorn workers (default 2 x cores + 1, as deploy/gunicorn.conf.py)")
    target.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    target.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    target.add_argument("--second-factor-roles", default=None,
                        help="SECOND_FACTOR_ROLES for the server started here (default: the app's, "
                             "empty for --accounts bench, whose accounts have no factor)")
    who = parser.add_argument_group("accounts")
    who.add_argument("--accounts", choices=sorted(PRESETS), default="demo",
                     help="demo: flask seed-demo's logins; bench: bench/datagen.py's (admin@bench-origin.com, "
                          "staff<b>@, i<n>@, s<n>@bench-origin.com)")
    for role in ROLES:
        who.add_argument(f"--{role}", default="", help=f"{role} e-mail(s), comma separated: client i takes the i-th (each account is "
                                                      "discovered on its own; default: the preset's one account)")
    who.add_argument("--password", default=DEMO_PASSWORD)
    who.add_argument("--totp-secret", action="append", default=[], metavar="EMAIL=BASE32")
    who.add_argument("--totp-sessions", type=int, default=3,
                     help="sessions signed in per TOTP account without waiting for a new code (then shared)")
    who.add_argument("--roles", default=",".join(ROLES + (ANONYMOUS,)), help="roles to walk (comma list)")
    load = parser.add_argument_group("load")
    load.add_argument("--clients", default="1",
                      help="concurrent clients; a list (1,8) runs each in turn after one discovery")
    load.add_argument("--rounds", type=int, default=3, help="timed rounds per client (each walks every route once)")
    load.add_argument("--duration", type=float, default=0, help="seconds to run instead of --rounds")
    load.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    load.add_argument("--samples", type=int, default=3, help="URLs (ids, variants) per endpoint")
    load.add_argument("--page-budget", type=int, default=0,
                      help="pages fetched per role while discovering (default: 2 per endpoint and sample, at least 100)")
    load.add_argument("--extra-pages", type=int, default=60,
                      help="pages read per role only for their links, while some endpoint has no sample")
    load.add_argument("--exports", action="store_true", help="also the GET exports that write an audit row")
    load.add_argument("--skip-kinds", default="", metavar="KINDS",
                      help="route kinds to leave out of the timed walk, comma separated (e.g. csv,pdf)")
    load.add_argument("--overhead-seconds", type=float, default=3.0, help="per null endpoint (0: skip the check)")
    out = parser.add_argument_group("output")
    out.add_argument("--json", default="", help="write the result as JSON here")
    out.add_argument("--markdown", default="", help="write the markdown tables here")
    out.add_argument("--label", default="", help="a title for the markdown (e.g. 'MariaDB, scale L')")
    out.add_argument("--top", type=int, default=0, help="markdown: only the N slowest routes")
    out.add_argument("--keep-logs", action="store_true",
                     help="keep the temporary directory with gunicorn's and the app's logs (kept anyway on errors)")
    out.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        if not args.quiet:
            print(f"{datetime.now(timezone.utc):%H:%M:%S} {message}", file=sys.stderr, flush=True)

    db_url = args.database_url or (f"sqlite:///{Path(args.sqlite).resolve()}" if args.sqlite else "")
    if not db_url and not args.base_url:
        parser.error("give --database-url, --sqlite or --base-url")
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    try:
        client_counts = [int(n) for n in str(args.clients).split(",") if n.strip()]
    except ValueError:
        parser.error("--clients takes a whole number or a comma list (1,8)")
    if not client_counts or min(client_counts) < 1:
        parser.error("--clients must be at least 1")
    accounts = accounts_from(args)
    workdir = Path(tempfile.mkdtemp(prefix="origin-load-"))

    from app.bootstrap import create_app
    from app.core import clock

    overrides = {"LOG_DIR": str(workdir / "driver-logs"), "LOG_LEVEL": "WARNING"}
    if db_url:
        overrides["DATABASE_URL"] = db_url
    app = create_app(overrides)  # the route list, SECRET_KEY for the local TOTP seeds; no request is served
    routes = load_routes(app)
    by_endpoint = {r.endpoint: r for r in routes}
    today = clock.today()
    meta_machine = machine()
    totp = Totp(dict(s.split("=", 1) for s in args.totp_secret if "=" in s), db_url or None, dict(app.config))

    server = None
    errors: list[str] = []

    def stop_on_term(signum, frame):  # SIGTERM ends the run like Ctrl+C: the finally below stops gunicorn
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_on_term)
    results: list[dict] = []
    try:
        if args.base_url:
            parts = urllib.parse.urlsplit(args.base_url)
            host, port, prefix = parts.hostname or "127.0.0.1", parts.port or 80, parts.path.rstrip("/")
            server_label = f"running server {args.base_url}"
        else:
            env = {"SECRET_KEY": str(app.config["SECRET_KEY"])}
            factor_roles = args.second_factor_roles
            if factor_roles is None and args.accounts == "bench":
                factor_roles = ""
            if factor_roles is not None:
                env["SECOND_FACTOR_ROLES"] = factor_roles
            server = Server(db_url, workdir, workers=args.workers, worker_class=args.worker_class,
                            threads=args.threads, env=env, log=log)
            host, port, prefix, server_label = "127.0.0.1", server.port, "", server.describe
            if factor_roles is not None:
                server_label += f", SECOND_FACTOR_ROLES={factor_roles!r}"

        def new_session() -> Session:
            return Session(host, port, prefix)

        # ---- sign in: one session per client and role (TOTP accounts: see --totp-sessions)
        most = max(client_counts)
        log(f"signing in {most} client(s) as {', '.join(roles)}")
        sessions: list[dict[str, Session]] = [dict() for _ in range(most)]
        owner: list[dict[str, str]] = [dict() for _ in range(most)]   # client -> role -> account
        shared: list[str] = []
        for role in roles:
            if role == ANONYMOUS:
                for c in range(most):
                    sessions[c][role], owner[c][role] = new_session(), ""
                continue
            emails = accounts[role]
            if not emails:
                errors.append(f"{role}: no account given")
                continue
            per_account: dict[str, list[Session]] = defaultdict(list)
            for c in range(most):
                email = emails[c % len(emails)]
                mine = per_account[email]
                limit = args.totp_sessions if totp.secret(email) else None
                if limit is not None and mine and (len(mine) >= limit or totp.available_now(email) == 0):
                    sessions[c][role], owner[c][role] = mine[c % len(mine)].clone(), email
                    continue
                session = new_session()
                try:
                    shown = sign_in(session, email, args.password, totp)
                except (SignInError, OSError) as exc:
                    errors.append(str(exc))
                    log(f"  {exc}")
                    break
                mine.append(session)
                sessions[c][role], owner[c][role] = session, email
                log(f"  client {c + 1}: {email} ({shown})")
            for email, mine in per_account.items():
                users = sum(1 for c in range(most) if owner[c].get(role) == email)
                if mine and users > len(mine):
                    shared.append(f"{role} {email}: {users} clients on {len(mine)} sessions (TOTP steps)")
        walk_roles = [r for r in roles if all(r in s for s in sessions)]
        if not walk_roles:
            raise SystemExit("no role could sign in: " + "; ".join(errors))

        # ---- discover what each account can reach (untimed), with the first session of that account
        log("discovering the routes (untimed)")
        finder = Discovery(app, routes, args.samples, args.page_budget, args.exports, today, args.extra_pages,
                           db_url or None)
        by_account: dict[tuple[str, str], Plan] = {}
        for c in range(most):
            for role in walk_roles:
                key = (role, owner[c][role])
                if key not in by_account:
                    by_account[key] = finder.walk(sessions[c][role], role, key[1], role_routes(routes, role), log)
        skip = {k.strip() for k in (args.skip_kinds or "").split(",") if k.strip()}
        if skip:  # e.g. the bulk downloads (csv, pdf) left out of a concurrency run, measured on their own
            kinds = {r.endpoint: r.kind for r in routes}
            for plan in by_account.values():
                for endpoint in [ep for ep in plan.samples if kinds.get(ep) in skip]:
                    plan.samples.pop(endpoint)
                    plan.unreached[endpoint] = f"left out by --skip-kinds ({kinds[endpoint]})"
        plans = {role: by_account[(role, owner[0][role])] for role in walk_roles}  # the report's (first account's)
        meta = {"machine": meta_machine, "versions": versions(db_url), "data": data_size(db_url)}

        for n_clients in client_counts:
            # ---- the driver's overhead on null endpoints
            overhead = {}
            if args.overhead_seconds > 0:
                log(f"driver overhead with {n_clients} client(s): /healthz and a static file")
                overhead = null_overhead([new_session() for _ in range(n_clients)], args.overhead_seconds)

            # ---- the timed run
            load_start = [round(x, 2) for x in os.getloadavg()]
            run_started = datetime.now(timezone.utc)
            meter = CpuMeter(server.process.pid if server else None)
            barrier = threading.Barrier(n_clients + 1)
            clients = [Client(c, {r: sessions[c][r] for r in walk_roles},
                              {r: by_account[(r, owner[c][r])] for r in walk_roles}, rounds=args.rounds,
                              duration=args.duration, warmup=args.warmup, barrier=barrier) for c in range(n_clients)]
            log(f"warm-up ({args.warmup} round(s)), then "
                + (f"{args.duration:.0f} s" if args.duration else f"{args.rounds} round(s)")
                + f" with {n_clients} client(s), {sum(len(p.samples) for p in plans.values())} endpoints each")
            for c in clients:
                c.start()
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass
            before = meter.read()
            for c in clients:
                c.join()
            cpu = CpuMeter.delta(before, meter.read())
            samples = [s for c in clients for s in c.samples]
            run_errors = list(errors) + [f"client {c.index + 1}: {c.error}" for c in clients if c.error]
            rows, per_role = summarise(samples, plans, by_endpoint)
            result = {
                "run": {"label": args.label or ("MariaDB" if db_url.startswith("mysql") else "SQLite" if db_url
                                                else "server"),
                        "date": run_started.strftime("%Y-%m-%d %H:%M UTC"), "clients": n_clients,
                        "rounds": min((c.rounds_done for c in clients), default=0), "warmup": args.warmup,
                        "seconds": round(cpu["wall"], 1), "requests": len(samples), "server": server_label,
                        "database": _describe_url(db_url),
                        "accounts": {r: sorted({owner[c][r] for c in range(n_clients)}) for r in walk_roles},
                        "samples_per_endpoint": args.samples, "exports": args.exports, "cpu": cpu,
                        "driver_cpu_ms_per_request": round(cpu["driver"] * 1000 / max(1, len(samples)), 3),
                        "load_average_start": load_start,
                        "load_average_end": [round(x, 2) for x in os.getloadavg()], "today": str(today)},
                **meta, "overhead": overhead, "shared_sessions": shared, "roles": per_role, "routes": rows,
                "plans": {role: {"samples": p.samples, "unreached": p.unreached, "fetched": p.fetched}
                          for role, p in plans.items()},
                "route_kinds": {role: sorted({by_endpoint[ep].kind for ep in p.samples}) for role, p in plans.items()},
                "errors": run_errors,
            }
            if server:
                result["server_errors"] = server.error_lines()
                if result["server_errors"]:
                    run_errors.append(f"{len(result['server_errors'])} ERROR line(s) in the server's application.log "
                                      f"(first: {result['server_errors'][0][:200]})")
            results.append(result)
    finally:
        if server:
            server.stop()
        failed = not results or any(r["errors"] for r in results)
        if args.keep_logs or failed:
            log(f"server and driver logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if not results:
        return 1
    text = "\n".join(markdown(r, args.top or None) for r in results)
    if args.json:
        payload = results[0] if len(results) == 1 else {"runs": results}
        Path(args.json).write_text(json.dumps(payload, indent=1, default=str) + "\n")
    if args.markdown:
        Path(args.markdown).write_text(text)
    if not args.quiet:
        print(text)
    bad = any(set(row["flags"]) & {"5xx", "no answer (timeout)"} for r in results for row in r["routes"])
    return 1 if bad or any(r["errors"] for r in results) else 0


def _describe_url(url: str) -> str:
    if not url:
        return "database not given"
    if url.startswith("mysql"):
        parts = urllib.parse.urlsplit(url)
        return f"MariaDB {parts.hostname}:{parts.port or 3306}{parts.path}"
    return f"SQLite {url[len('sqlite:///'):]}"


if __name__ == "__main__":
    sys.exit(main())
