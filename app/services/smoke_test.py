"""The post-deployment smoke test (runbook "post-deploy validation", docs/operations.md "Deploy checklist"):
the runbook's manual checks run against a LIVE server over HTTP, as a browser would do them.

Steps, in order (each reported as it ends, with PASS/FAIL and its duration); the first failure stops the
run, and the clean-up and the error-log check run whatever happened:

1. ``server answers /healthz``: 200 with ``{"status": "ok", "database": "ok"}``, not in maintenance mode;
2. ``admin signs in``, ``instructor signs in``, ``student signs in``: the sign-in form (CSRF token), the
   second-factor code when the server asks for one (TOTP from the account's base32 secret, or the
   caller's ``code`` source), each landing on its own dashboard (the role badge names the role);
3. ``smoke accounts found``: the student's and the instructor's ids (their own ``/students/me`` and
   ``/instructors/me``), the student's active enrolment (the student page, as the office);
4. ``test lesson booked``: a free slot of the instructor ``days_ahead`` days on (the availability API),
   booked through the scheduling API (``X-CSRFToken``); a 409 moves to the next day's first slot,
   a slot with warnings only is booked accepting them (named in the detail);
5. ``reminder queued``: the event page's Details show the reminder "Queued";
6. ``invoice issued`` (one "Other" line of $1.00, GST included) and ``payment recorded`` ($1.00 by card):
   the invoice then reads Paid;
7. ``instructor sees the lesson``, ``student sees the lesson``: the scheduling API, as each of them;
then the clean-up (``lesson cancelled`` with its reminder withdrawn, ``payment refunded``, ``invoice
voided``, all with the reason "smoke test", and ``signed out``), and ``error log clean``: no ERROR
line appended to the application log since the start (skipped when the file cannot be read, or when
the server was never reached).

A TOTP code is accepted once (replay protection): a code refused as "already used" (a run seconds
earlier) is retried once with the next 30-second step's code.

The HTTP client is urllib with a cookie jar per account: redirects are followed here, one hop at a time
and only on the server's own origin; every answer (errors included) is read and closed; a network
failure is a :class:`SmokeError` ("cannot reach https://...: connection refused"), never a traceback.
No Flask here: the command (app/commands/smoke.py) builds the :class:`SmokeConfig` and prints.
"""
from __future__ import annotations

import html
import http.client
import http.cookiejar
import json
import os
import re
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Callable

import pyotp

REASON = "smoke test"
USER_AGENT = "origin-smoke-test/1"
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
LESSON_MINUTES = 60
SEARCH_DAYS = 14            # the availability search: days_ahead .. days_ahead + SEARCH_DAYS - 1
BOOKING_ATTEMPTS = 6        # one slot per day; a 409 moves to the next day
MAX_REDIRECTS = 6
TOTP_STEP = 30
ERROR_LINE = re.compile(r"^\S+ \S+ (ERROR|CRITICAL) ")  # app/core/logging.py FORMAT: date time LEVEL ...
ROLE_LABELS = {"admin": "Administrator", "staff": "Staff", "instructor": "Instructor", "student": "Student"}


class SmokeError(Exception):
    """A step failed; the message says what was expected and what the server answered."""


# --------------------------------------------------------------------------- configuration and results

@dataclass
class Account:
    """One smoke account. ``code`` gives a second-factor code when there is no ``totp_secret`` (the
    command's local-profile fallback); both None: a server asking for a code fails the sign-in."""

    role: str                      # "admin" (admin or staff), "instructor", "student"
    email: str
    password: str
    totp_secret: str | None = None
    code: Callable[[], str | None] | None = None

    def current_code(self, wall_time: float) -> str | None:
        if self.totp_secret:
            return pyotp.TOTP(self.totp_secret, digits=6, interval=TOTP_STEP).at(int(wall_time))
        return self.code() if self.code is not None else None


@dataclass
class SmokeConfig:
    base_url: str
    admin: Account
    instructor: Account
    student: Account
    today: date                    # the school's date (APP_TIMEZONE) where the command runs
    error_log: Path | None = None
    timeout: float = 15.0
    days_ahead: int = 8            # past the longest cancellation cut-off (7 days): no late-cancel fee


@dataclass
class StepResult:
    name: str
    status: str                    # "pass", "fail", "skip"
    seconds: float
    detail: str = ""
    cleanup: bool = False


@dataclass
class SmokeReport:
    steps: list[StepResult] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)   # what the clean-up could not undo

    @property
    def first_failure(self) -> StepResult | None:
        return next((s for s in self.steps if s.status == "fail"), None)

    @property
    def ok(self) -> bool:
        return self.first_failure is None


def valid_base32(secret: str) -> bool:
    """A TOTP secret as authenticator apps take it (base32, spaces and case ignored)."""
    text = normalise_secret(secret)
    return bool(text) and re.fullmatch(r"[A-Z2-7]+=*", text) is not None


def normalise_secret(secret: str) -> str:
    return re.sub(r"\s+", "", secret or "").upper()


def normalise_base_url(raw: str) -> str:
    """``https://host[:port][/prefix]`` without a trailing slash; ValueError naming what is wrong."""
    text = (raw or "").strip()
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--base-url must be an http:// or https:// address, got {raw!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"--base-url must not carry a query or a fragment, got {raw!r}")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


# --------------------------------------------------------------------------- HTTP

@dataclass
class Response:
    status: int
    url: str
    headers: Any
    text: str
    history: list[tuple[int, str]] = field(default_factory=list)
    prefix: str = ""               # the base URL's own path (a site served under /origin, say)

    @property
    def path(self) -> str:
        """The answer's path within the site (without the base URL's prefix)."""
        path = urllib.parse.urlsplit(self.url).path
        return path[len(self.prefix):] or "/" if self.prefix and path.startswith(self.prefix + "/") else path

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError as exc:
            raise SmokeError(f"{self.path} answered {self.status} with something that is not JSON: "
                             f"{_snippet(self.text)}") from exc


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects come back as answers; HttpClient follows them itself (same origin only)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401 - urllib's hook
        return None


class HttpClient:
    """One browser-like session: a cookie jar, the CSRF token of the last page, explicit redirects."""

    def __init__(self, base_url: str, timeout: float):
        self.base_url = base_url
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()
        self.csrf: str | None = None
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())
        origin = urllib.parse.urlsplit(base_url)
        self._origin = (origin.scheme, origin.netloc.lower())
        self._prefix = origin.path.rstrip("/")

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        root = self.base_url + "/"
        return urllib.parse.urljoin(root, path.lstrip("/"))

    def get(self, path: str, *, follow: bool = True) -> Response:
        return self.request("GET", path, follow=follow)

    def post_form(self, path: str, fields: dict[str, str], *, referer: str | None = None) -> Response:
        body = urllib.parse.urlencode(fields).encode("utf-8")
        return self.request("POST", path, body=body, referer=referer,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})

    def send_json(self, method: str, path: str, payload: dict) -> Response:
        """A JSON API write: the CSRF token of the session's last page in ``X-CSRFToken``."""
        if not self.csrf:
            self.get("/dashboard/")
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "X-CSRFToken": self.csrf or ""}
        return self.request(method, path, body=json.dumps(payload).encode("utf-8"), headers=headers,
                            referer=self.url("/dashboard/"), follow=False)

    def request(self, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None,
                referer: str | None = None, follow: bool = True) -> Response:
        url, history = self.url(path), []
        for _ in range(MAX_REDIRECTS + 1):
            answer = self._once(method, url, body, headers, referer)
            location = answer.headers.get("Location") if answer.status in (301, 302, 303, 307, 308) else None
            if not follow or not location:
                answer.history, answer.prefix = history, self._prefix
                self._remember_csrf(answer)
                return answer
            target = urllib.parse.urljoin(url, location)
            parts = urllib.parse.urlsplit(target)
            if (parts.scheme, parts.netloc.lower()) != self._origin:
                raise SmokeError(f"{urllib.parse.urlsplit(url).path} redirected off the site, to {target}")
            history.append((answer.status, url))
            referer, url = url, target
            if answer.status in (301, 302, 303):  # the browser's rule: the next request is a GET
                method, body, headers = "GET", None, None
        raise SmokeError(f"more than {MAX_REDIRECTS} redirects from {path}")

    def _once(self, method: str, url: str, body: bytes | None, headers: dict | None,
              referer: str | None) -> Response:
        request = urllib.request.Request(url, data=body, method=method)
        request.add_header("User-Agent", USER_AGENT)
        request.add_header("Accept", PAGE_ACCEPT)  # a browser's; the JSON calls replace it
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        if referer:  # Flask-WTF's strict referrer check on https needs it (WTF_CSRF_SSL_STRICT)
            request.add_header("Referer", referer)
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                return Response(answer.status, answer.geturl(), answer.headers, _decode(answer.read(), answer.headers))
        except urllib.error.HTTPError as error:  # 3xx (not followed by urllib), 4xx and 5xx: answers too
            with error:
                text = _decode(error.read(), error.headers)
            return Response(error.code, url, error.headers or {}, text)
        except urllib.error.URLError as error:
            raise SmokeError(f"cannot reach {self.base_url}: {_network_reason(error.reason, self.timeout)}") from None
        except (OSError, http.client.HTTPException) as error:
            raise SmokeError(f"cannot reach {self.base_url}: {_network_reason(error, self.timeout)}") from None

    def _remember_csrf(self, answer: Response) -> None:
        token = csrf_token(answer.text) if "html" in (answer.headers.get("Content-Type") or "") else None
        if token:
            self.csrf = token


def _decode(raw: bytes, headers: Any) -> str:
    charset = headers.get_content_charset() if hasattr(headers, "get_content_charset") else None
    return raw.decode(charset or "utf-8", errors="replace")


def _network_reason(reason: Any, timeout: float) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, socket.gaierror):
        return "the host name is not known (DNS)"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"the TLS certificate is not valid ({reason.verify_message or reason})"
    if isinstance(reason, ssl.SSLError):
        return f"TLS failed ({reason})"
    if isinstance(reason, ConnectionResetError):
        return "the connection was reset"
    if isinstance(reason, http.client.RemoteDisconnected):
        return "the server closed the connection without an answer"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror[0].lower() + reason.strerror[1:]
    return str(reason) or type(reason).__name__


# --------------------------------------------------------------------------- HTML scraping

_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"|name="csrf_token"[^>]*value="([^"]+)"')
_ROLE_BADGE = re.compile(r'class="[^"]*\brole-badge\b[^"]*"[^>]*>\s*([^<]+?)\s*<')
_H1 = re.compile(r"<h1\b[^>]*>(.*?)</h1>", re.S)
_STATUS = re.compile(r'data-status="([a-z_]+)"')
_TAGS = re.compile(r"<[^>]+>")


def csrf_token(page: str) -> str | None:
    match = _CSRF.search(page or "")
    return (match.group(1) or match.group(2)) if match else None


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", fragment or "")).split())


def _snippet(text: str, limit: int = 160) -> str:
    flat = text_of(text) if "<" in (text or "") else " ".join((text or "").split())
    return flat[:limit] + ("..." if len(flat) > limit else "")


def page_problems(page: str) -> str:
    """What a refused form says: the page alert, form alerts and field messages, in page order."""
    found = []
    for match in re.finditer(r'<div class="(?:alert alert-danger|invalid-feedback)[^"]*"[^>]*>(.*?)</div>', page or "",
                             re.S):
        message = text_of(match.group(1))
        if message and message not in found:
            found.append(message)
    return " ".join(found)


def heading_status(page: str) -> str | None:
    """The status badge of the page heading (``data-status`` of templates/_macros/page.html)."""
    heading = _H1.search(page or "")
    found = _STATUS.search(heading.group(1)) if heading else None
    return found.group(1) if found else None


@dataclass
class Form:
    id: str | None
    action: str
    method: str
    fields: dict[str, str]


class _FormParser(HTMLParser):
    """Every form of a page with what a browser would submit as it stands (hidden and text inputs,
    ticked boxes, the selected option, textareas)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = Form(a.get("id"), html.unescape(a.get("action") or ""), (a.get("method") or "get").lower(), {})
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.fields[name] = a.get("value") or "on"
            elif kind not in ("submit", "button", "image", "reset", "file"):
                self._form.fields[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select, self._select_chosen = name, False
            self._form.fields[name] = ""
        elif tag == "option" and self._select is not None:
            if "selected" in a or self._select_chosen is False:  # the selected option, else the first
                self._form.fields[self._select] = a.get("value") or ""
                self._select_chosen = "selected" in a or None  # None: the first taken, a selected one may follow
        elif tag == "textarea" and name:
            self._textarea = name
            self._form.fields[name] = ""

    def handle_data(self, data):
        if self._form is not None and self._textarea is not None:
            self._form.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def find_form(page: str, *, form_id: str | None = None, action: str | None = None) -> Form | None:
    """The form with that id, or the first whose action path ends with ``action``."""
    parser = _FormParser()
    parser.feed(page or "")
    parser.close()
    for form in parser.forms:
        path = urllib.parse.urlsplit(form.action).path
        if (form_id is not None and form.id == form_id) or (action is not None and path.endswith(action)):
            return form
    return None


# --------------------------------------------------------------------------- the error log

def log_mark(path: Path | None) -> tuple[int, int] | None:
    """Where the log stands now (its inode and size), or None when it cannot be read from here (another
    host, no rights)."""
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            return os.fstat(handle.fileno()).st_ino, handle.seek(0, 2)
    except OSError:
        return None


def new_error_lines(path: Path, mark: tuple[int, int]) -> tuple[list[str], bool]:
    """ERROR/CRITICAL lines appended to ``path`` since ``mark``, and whether the log was rotated
    meanwhile (another file, or a shorter one: then the new file is read from its start)."""
    inode, offset = mark
    with open(path, "rb") as handle:
        size = handle.seek(0, 2)
        rotated = os.fstat(handle.fileno()).st_ino != inode or size < offset
        handle.seek(0 if rotated else offset)
        appended = handle.read().decode("utf-8", errors="replace")
    return [line for line in appended.splitlines() if ERROR_LINE.match(line)], rotated


# --------------------------------------------------------------------------- the run

class SmokeTest:
    """One run: ``run()`` returns the report; ``report`` is called with each step as it ends."""

    def __init__(self, config: SmokeConfig, report: Callable[[StepResult], None], *,
                 monotonic: Callable[[], float] = time.monotonic, wall_time: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        self.config = config
        self._report = report
        self._monotonic, self._wall_time, self._sleep = monotonic, wall_time, sleep
        self.result = SmokeReport()
        self.clients = {role: HttpClient(config.base_url, config.timeout)
                        for role in ("admin", "instructor", "student")}
        self.signed_in: list[str] = []
        self.student_id: int | None = None
        self.instructor_id: int | None = None
        self.enrollment_id: int | None = None
        self.lesson: dict | None = None          # id, date, start_time, end_time
        self.invoice: dict | None = None         # id, number
        self.payment: dict | None = None         # id, amount

    # ------------------------------------------------------------------ driver

    def run(self) -> SmokeReport:
        log_start = log_mark(self.config.error_log)
        main = [("server answers /healthz", self.healthz),
                ("admin signs in", lambda: self.sign_in(self.config.admin, ("admin", "staff"))),
                ("instructor signs in", lambda: self.sign_in(self.config.instructor, ("instructor",))),
                ("student signs in", lambda: self.sign_in(self.config.student, ("student",))),
                ("smoke accounts found", self.find_accounts),
                ("test lesson booked", self.book_lesson),
                ("reminder queued", self.reminder_queued),
                ("invoice issued", self.issue_invoice),
                ("payment recorded", self.record_payment),
                ("instructor sees the lesson", lambda: self.sees_lesson("instructor")),
                ("student sees the lesson", lambda: self.sees_lesson("student"))]
        try:
            for name, action in main:
                if not self._step(name, action):
                    break
        finally:
            self.clean_up()
            self._error_log_step(log_start)
        return self.result

    def _step(self, name: str, action: Callable[[], str | None], *, cleanup: bool = False) -> bool:
        started = self._monotonic()
        status, detail = "pass", ""
        try:
            detail = action() or ""
        except SmokeError as exc:
            status, detail = "fail", str(exc)
        except Exception as exc:  # noqa: BLE001 - reported as the step's failure, never a traceback
            status, detail = "fail", f"unexpected {type(exc).__name__}: {exc}"
        step = StepResult(name, status, self._monotonic() - started, detail, cleanup)
        self.result.steps.append(step)
        self._report(step)
        return status == "pass"

    # ------------------------------------------------------------------ steps

    def healthz(self) -> str:
        answer = self.clients["admin"].get("/healthz")
        body = answer.json() if "json" in (answer.headers.get("Content-Type") or "") else None
        if answer.status != 200 or not isinstance(body, dict) or body.get("status") != "ok":
            raise SmokeError(f"/healthz answered {answer.status}: {_snippet(answer.text)}")
        if body.get("maintenance"):  # only administrators get past the maintenance page
            since = f" since {body['maintenance_since']}" if body.get("maintenance_since") else ""
            raise SmokeError(f"the site is in maintenance mode{since}: instructors and students get the maintenance "
                             "page; switch it off (flask maintenance off) and run the smoke test again")
        return f"status ok, database {body.get('database', '?')}"

    def sign_in(self, account: Account, roles: tuple[str, ...]) -> str:
        client = self.clients[account.role]
        page = client.get("/auth/login")
        form = find_form(page.text, action="/auth/login")
        if page.status != 200 or form is None:
            raise SmokeError(f"the sign-in page answered {page.status} ({page.path}): {_snippet(page.text)}")
        answer = client.post_form(form.action or "/auth/login",
                                  {**form.fields, "email": account.email, "password": account.password},
                                  referer=page.url)
        if answer.status in (401, 422, 429):
            why = text_of(_first(re.search(r'id="login-error"[^>]*>(.*?)</div>', answer.text, re.S))) \
                or page_problems(answer.text) or f"answered {answer.status}"
            raise SmokeError(f"{account.email}: sign-in refused ({answer.status}): {why}")
        if not answer.path.startswith("/auth/login"):
            self.signed_in.append(account.role)  # a session exists now (maybe owing its second step)
        waited = 0.0
        if answer.path.startswith("/auth/second-factor"):
            answer, waited = self._second_factor(client, account, answer)
        elif answer.path.startswith("/account/second-factor"):
            raise SmokeError(f"{account.email} has no second factor set up yet and its role needs one: sign in "
                             "once in a browser, set it up, and keep the key (the set-up page shows it as text)")
        if answer.path.startswith("/auth/login"):
            raise SmokeError(f"{account.email}: the password was accepted but the session was not kept (back on the "
                             "sign-in page): with SESSION_COOKIE_SECURE use the https:// address")
        if answer.status != 200 or not answer.path.startswith("/dashboard"):
            raise SmokeError(f"{account.email} landed on {answer.path} ({answer.status}), not on the dashboard")
        badge = _ROLE_BADGE.search(answer.text)
        shown = html.unescape(badge.group(1)) if badge else None
        wanted = [ROLE_LABELS[r] for r in roles]
        if shown not in wanted:
            raise SmokeError(f"{account.email} signed in as {shown or 'an unknown role'}, expected "
                             f"{' or '.join(wanted)}")
        note = f" (waited {waited:.0f} s for a fresh code: the last one was used a moment ago)" if waited else ""
        return f"{account.email}: {shown} dashboard{note}"

    def _second_factor(self, client: HttpClient, account: Account, challenge: Response) -> tuple[Response, float]:
        """Answer the challenge; a code refused as already used (an earlier run, seconds ago) is retried
        once with the next 30-second step's code. Returns the answer and the seconds waited."""
        waited = 0.0
        for attempt in (1, 2):
            form = find_form(challenge.text, action="/auth/second-factor")
            if form is None:
                raise SmokeError(f"{account.email}: the second-factor page has no code form ({challenge.status})")
            code = account.current_code(self._wall_time())
            if not code:
                option = "--admin-totp-secret" if account.role == "admin" else f"--{account.role}-totp-secret"
                raise SmokeError(f"{account.email}: the server asks for a second-factor code; give {option} "
                                 f"(or SMOKE_{account.role.upper()}_TOTP_SECRET)")
            answer = client.post_form(form.action, {**form.fields, "code": code}, referer=challenge.url)
            if answer.status == 200 and not answer.path.startswith("/auth/second-factor"):
                return answer, waited
            why = page_problems(answer.text) or f"answered {answer.status}"
            if attempt == 1 and answer.status == 422 and "already used" in why:
                # this code's 30-second step was used a moment ago (an earlier run): wait for the next one
                waited = TOTP_STEP - self._wall_time() % TOTP_STEP + 1
                self._sleep(waited)
                challenge = answer
                continue
            raise SmokeError(f"{account.email}: the second-factor code was refused ({answer.status}): {why}")
        raise SmokeError(f"{account.email}: the second-factor code was refused")  # not reached

    def find_accounts(self) -> str:
        student = self.clients["student"].get("/students/me")
        match = re.fullmatch(r"/students/(\d+)", student.path)
        if student.status != 200 or not match:
            raise SmokeError(f"{self.config.student.email} has no student profile (/students/me answered "
                             f"{student.status} at {student.path})")
        self.student_id = int(match.group(1))
        instructor = self.clients["instructor"].get("/instructors/me")
        match = re.fullmatch(r"/instructors/(\d+)", instructor.path)
        if instructor.status != 200 or not match:
            raise SmokeError(f"{self.config.instructor.email} has no instructor profile (/instructors/me answered "
                             f"{instructor.status} at {instructor.path})")
        self.instructor_id = int(match.group(1))
        page = self.clients["admin"].get(f"/students/{self.student_id}")
        if page.status != 200:
            raise SmokeError(f"the office cannot open student {self.student_id} ({page.status}): is the admin account "
                             "staff of another branch?")
        for row in re.findall(r"<tr>(.*?)</tr>", page.text, re.S):
            enrolment = re.search(r'href="[^"]*/enrolments/(\d+)/invoices/new"', row)
            if enrolment and 'data-status="active"' in row:
                self.enrollment_id = int(enrolment.group(1))
                break
        if self.enrollment_id is None:
            raise SmokeError(f"student {self.student_id} ({self.config.student.email}) has no active enrolment the "
                             "office can invoice: enrol the smoke student in a course")
        return f"student {self.student_id} (enrolment {self.enrollment_id}), instructor {self.instructor_id}"

    def book_lesson(self) -> str:
        admin = self.clients["admin"]
        first = self.config.today + timedelta(days=self.config.days_ahead)
        last = first + timedelta(days=SEARCH_DAYS - 1)
        query = urllib.parse.urlencode({"instructor_id": self.instructor_id, "date_from": first.isoformat(),
                                        "date_to": last.isoformat(), "duration_minutes": LESSON_MINUTES})
        answer = admin.request("GET", f"/api/availability?{query}", headers={"Accept": "application/json"})
        if answer.status != 200:
            raise SmokeError(f"the availability API answered {answer.status}: {_api_message(answer)}")
        by_day: dict[str, dict] = {}
        for slot in answer.json().get("slots", []):
            by_day.setdefault(str(slot["start"])[:10], slot)
        if not by_day:
            raise SmokeError(f"instructor {self.instructor_id} has no free {LESSON_MINUTES}-minute slot from "
                             f"{first.isoformat()} to {last.isoformat()} (working hours set? fully booked?)")
        refused = []
        for slot in list(by_day.values())[:BOOKING_ATTEMPTS]:
            booking = {"student_id": self.student_id, "instructor_id": self.instructor_id,
                       "enrollment_id": self.enrollment_id, "event_type": "lesson",
                       "date": str(slot["start"])[:10], "start_time": str(slot["start"])[11:16],
                       "end_time": str(slot["end"])[11:16], "topic": "Smoke test",
                       "notes": f"{REASON}: booked by flask smoke-test, cancelled by it"}
            if slot.get("vehicle_id"):
                booking["vehicle_id"] = slot["vehicle_id"]
            answer = admin.send_json("POST", "/api/schedules", booking)
            accepted = ""
            if answer.status == 409 and _only_warnings(answer):
                accepted = "; accepted warnings: " + "; ".join(c.get("message", "") for c in answer.json()["conflicts"])
                answer = admin.send_json("POST", "/api/schedules", {**booking, "accept_warnings": True})
            if answer.status == 201:
                self.lesson = {"id": int(answer.json()["id"]),
                               **{k: booking[k] for k in ("date", "start_time", "end_time")}}
                return (f"lesson {self.lesson['id']} on {booking['date']} {booking['start_time']}-{booking['end_time']}"
                        f"{accepted}")
            if answer.status != 409:
                raise SmokeError(f"booking {booking['date']} {booking['start_time']} answered {answer.status}: "
                                 f"{_api_message(answer)}")
            refused.append(f"{booking['date']} {booking['start_time']}: {_api_message(answer)}")
        raise SmokeError("every slot tried was refused (409): " + " | ".join(refused))

    def reminder_queued(self) -> str:
        text, page = self._reminder_text()
        if "Queued" not in text:
            raise SmokeError(f"lesson {self.lesson['id']}: the event page shows no queued reminder "
                             f"({text or 'no Reminder line: ' + str(page.status)})")
        return text

    def _reminder_text(self) -> tuple[str, Response]:
        page = self.clients["admin"].get(f"/schedules/{self.lesson['id']}")
        block = re.search(r'<dd class="[^"]*\bevent-reminders\b[^"]*">(.*?)</dd>', page.text, re.S)
        first = re.search(r"<div[^>]*>(.*?)</div>", block.group(1), re.S) if block else None
        return text_of(first.group(1) if first else (block.group(1) if block else "")), page

    def issue_invoice(self) -> str:
        admin = self.clients["admin"]
        path = f"/enrolments/{self.enrollment_id}/invoices/new"
        page = admin.get(path)
        form = find_form(page.text, form_id="invoice-form")
        if page.status != 200 or form is None:
            raise SmokeError(f"the new-invoice page answered {page.status}: {_snippet(page.text)}")
        fields = {name: value for name, value in form.fields.items() if not name.startswith("lines-")}
        fields.update({"lines-0-description": "Smoke test", "lines-0-quantity": "1", "lines-0-unit_price": "1.00",
                       "lines-0-kind": "other", "lines-0-credits": "0", "tax_inclusive": "1", "discount": "",
                       "due_date": "", "notes": f"{REASON}: issued by flask smoke-test, voided by it", "issue": "1"})
        answer = admin.post_form(form.action or path, fields, referer=page.url)
        match = re.fullmatch(r"/invoices/(\d+)", answer.path)
        if answer.status != 200 or not match:
            raise SmokeError(f"the invoice was not created ({answer.status}): {_refusal(answer)}")
        number = re.search(r"(?:Tax invoice|Draft invoice)</dt>\s*<dd[^>]*>([^<]*)</dd>", answer.text)
        self.invoice = {"id": int(match.group(1)), "number": html.unescape(number.group(1)).strip() if number else ""}
        status = heading_status(answer.text)
        if status in (None, "draft", "void"):
            raise SmokeError(f"invoice {self.invoice['id']} reads {status or 'no status'} after issuing, not sent")
        return f"invoice {self.invoice['number'] or self.invoice['id']} ({status})"

    def record_payment(self) -> str:
        admin = self.clients["admin"]
        path = f"/invoices/{self.invoice['id']}/payments"
        page = admin.get(path)
        form = find_form(page.text, form_id="record-payment-form")
        if page.status != 200 or form is None:
            raise SmokeError(f"invoice {self.invoice['id']} offers no record-payment form ({page.status}): "
                             f"{_snippet(page_problems(page.text) or page.text)}")
        balance = re.search(r"Balance <strong>\$?([0-9,]+\.[0-9]{2})</strong>", page.text)
        amount = balance.group(1).replace(",", "") if balance else "1.00"
        answer = admin.post_form(form.action or path, {**form.fields, "amount": amount, "method": "card",
                                                        "reference": "smoke-test", "notes": REASON},
                                 referer=page.url)
        if answer.status != 200 or not re.fullmatch(r"/invoices/\d+", answer.path):
            raise SmokeError(f"the payment was not recorded ({answer.status}): {_refusal(answer)}")
        payment_ids = [int(p) for p in re.findall(r'href="[^"]*/payments/(\d+)"', answer.text)]
        if payment_ids:
            self.payment = {"id": max(payment_ids), "amount": amount}
        status = heading_status(answer.text)
        if status != "paid":
            raise SmokeError(f"after a payment of ${amount} invoice {self.invoice['number'] or self.invoice['id']} "
                             f"reads {status or 'no status'}, not paid")
        if self.payment is None:
            raise SmokeError("the invoice reads paid but lists no payment")
        return f"${amount} by card; invoice {self.invoice['number'] or self.invoice['id']} reads paid"

    def sees_lesson(self, role: str) -> str:
        day = self.lesson["date"]
        answer = self.clients[role].request("GET", f"/api/schedules?start={day}&end={day}",
                                            headers={"Accept": "application/json"})
        if answer.status != 200:
            raise SmokeError(f"the {role}'s schedule API answered {answer.status}: {_api_message(answer)}")
        ids = [event.get("id") for event in answer.json().get("events", [])]
        if self.lesson["id"] not in ids:
            raise SmokeError(f"lesson {self.lesson['id']} is not in the {role}'s schedule for {day} "
                             f"({len(ids)} other events)")
        return f"lesson {self.lesson['id']} in the {role}'s schedule for {day}"

    # ------------------------------------------------------------------ clean-up

    def clean_up(self) -> None:
        if self.lesson is not None:
            if not self._step("lesson cancelled", self.cancel_lesson, cleanup=True):
                self.result.left_behind.append(f"lesson {self.lesson['id']} ({self.config.base_url}/schedules/"
                                               f"{self.lesson['id']})")
        if self.payment is not None:
            self._step("payment refunded", self.refund_payment, cleanup=True)
        if self.invoice is not None:
            if not self._step("invoice voided", self.void_invoice, cleanup=True):
                self.result.left_behind.append(f"invoice {self.invoice['number'] or self.invoice['id']} "
                                               f"({self.config.base_url}/invoices/{self.invoice['id']})")
        if self.signed_in:
            self._step("signed out", self.sign_out, cleanup=True)

    def cancel_lesson(self) -> str:
        answer = self.clients["admin"].send_json("PATCH", f"/api/schedules/{self.lesson['id']}",
                                                 {"status": "cancelled", "cancel_reason": REASON})
        if answer.status != 200:
            raise SmokeError(f"cancelling lesson {self.lesson['id']} answered {answer.status}: {_api_message(answer)}")
        text, _ = self._reminder_text()
        if text and "Queued" in text:
            raise SmokeError(f"lesson {self.lesson['id']} is cancelled but its reminder still reads queued ({text})")
        return f"lesson {self.lesson['id']} cancelled ({REASON}); reminder: {text or 'none'}"

    def refund_payment(self) -> str:
        admin = self.clients["admin"]
        path = f"/payments/{self.payment['id']}"
        page = admin.get(path)
        form = find_form(page.text, form_id="refund-form")
        if page.status != 200 or form is None:
            raise SmokeError(f"payment {self.payment['id']} offers no refund form ({page.status})")
        answer = admin.post_form(form.action, {**form.fields, "amount": self.payment["amount"], "reason": REASON,
                                               "method": "", "reference": "smoke-test"}, referer=page.url)
        if answer.status != 200 or answer.path != path:
            raise SmokeError(f"the refund was not recorded ({answer.status}): {_refusal(answer)}")
        return f"${self.payment['amount']} of payment {self.payment['id']} refunded ({REASON})"

    def void_invoice(self) -> str:
        admin = self.clients["admin"]
        path = f"/invoices/{self.invoice['id']}"
        page = admin.get(path)
        form = find_form(page.text, action=f"{path}/void")
        if page.status != 200 or form is None:
            why = text_of(_first(re.search(r'<p class="small mb-0 invoice-action-form">(.*?)</p>', page.text, re.S)))
            raise SmokeError(f"invoice {self.invoice['id']} cannot be voided ({page.status}): "
                             f"{why or 'the page offers no Void button'}")
        answer = admin.post_form(form.action, {**form.fields, "reason": REASON}, referer=page.url)
        status = heading_status(answer.text)
        if answer.status != 200 or status != "void":
            raise SmokeError(f"voiding invoice {self.invoice['id']} answered {answer.status} "
                             f"({status or 'no status'}): {page_problems(answer.text)}")
        return f"invoice {self.invoice['number'] or self.invoice['id']} void ({REASON})"

    def sign_out(self) -> str:
        failed = []
        for role in self.signed_in:
            client = self.clients[role]
            page = client.get("/dashboard/")
            form = find_form(page.text, action="/auth/logout")
            answer = client.post_form(form.action, form.fields, referer=page.url) if form else page
            if not answer.path.startswith("/auth/login"):
                failed.append(f"{role} ({answer.status} at {answer.path})")
        if failed:
            raise SmokeError("could not sign out: " + ", ".join(failed))
        return ", ".join(self.signed_in)

    # ------------------------------------------------------------------ the error log

    def _error_log_step(self, log_start: tuple[int, int] | None) -> None:
        path = self.config.error_log
        reached = any(s.name == "server answers /healthz" and s.status == "pass" for s in self.result.steps)
        if log_start is None or not reached:
            where = str(path) if path else "no --error-log"
            note = ("the server was not reached" if not reached else
                    f"cannot read {where} from here (run on another host?): read the server's log")
            step = StepResult("error log clean", "skip", 0.0, note)
            self.result.steps.append(step)
            self._report(step)
            return

        def check() -> str:
            try:
                errors, rotated = new_error_lines(path, log_start)
            except OSError as exc:
                raise SmokeError(f"cannot read {path}: {exc.strerror or exc}") from None
            if errors:
                more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
                raise SmokeError(f"{len(errors)} new ERROR line{'s' if len(errors) != 1 else ''} in {path}: "
                                 f"{errors[0][:300]}{more}")
            return f"no new ERROR lines in {path}" + (" (it was rotated meanwhile)" if rotated else "")

        self._step("error log clean", check)


def _refusal(answer: Response) -> str:
    """Why a form was refused: its messages, else the start of the page."""
    return page_problems(answer.text) or _snippet(answer.text)


def _first(match: re.Match | None) -> str:
    return match.group(1) if match else ""


def _only_warnings(answer: Response) -> bool:
    try:
        found = answer.json().get("conflicts") or []
    except SmokeError:
        return False
    return bool(found) and all(c.get("severity") != "block" for c in found)


def _api_message(answer: Response) -> str:
    """The JSON API's message (with the fields it names, or the conflicts), else a snippet."""
    try:
        body = answer.json()
    except SmokeError:
        return _snippet(answer.text)
    if not isinstance(body, dict):
        return _snippet(answer.text)
    parts = [str(body.get("message") or body.get("error") or "")]
    for name, messages in (body.get("fields") or {}).items():
        parts.append(f"{name}: {' '.join(messages) if isinstance(messages, list) else messages}")
    for conflict in body.get("conflicts") or []:
        parts.append(f"{conflict.get('severity', '')} {conflict.get('message', '')}".strip())
    return "; ".join(p for p in parts if p) or _snippet(answer.text)


def run(config: SmokeConfig, report: Callable[[StepResult], None], **clocks: Any) -> SmokeReport:
    """Run the smoke test against ``config.base_url``; ``report`` sees each step as it ends."""
    return SmokeTest(config, report, **clocks).run()


__all__ = ("Account", "SmokeConfig", "SmokeError", "SmokeReport", "StepResult", "run",
                          "valid_base32", "normalise_secret", "normalise_base_url")
