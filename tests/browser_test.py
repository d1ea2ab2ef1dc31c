"""End-to-end journeys in headless Chromium (Playwright) against a live server.

The app runs on SQLite only (with the demo data) in a werkzeug server thread on
127.0.0.1; one browser serves the whole module. Without /usr/bin/chromium or the
playwright package the module is skipped with the reason, unless REQUIRE_BROWSER=1
(CI), which turns the absence into a failure. Screenshots land in test-artifacts/browser/.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import DEMO_PASSWORD, ROOT, app_overrides

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Without the background-networking flags Chromium phones home (blocked here, and noise anyway).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 5_000


def _unavailable() -> str | None:
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"playwright is not importable ({exc}); pip install -r requirements-dev.txt"
    return None


_REASON = _unavailable()
_REQUIRED = os.environ.get("REQUIRE_BROWSER") == "1"
if _REASON and not _REQUIRED:
    pytest.skip(f"browser tests skipped: {_REASON}", allow_module_level=True)

if not _REASON:
    from playwright.sync_api import expect


# (e-mail, first name, role label, KPI labels in order, invoices panel heading or None)
OFFICE_KPIS = ["Active students", "Today's lessons", "Lessons this week", "Awaiting an outcome", "Overdue invoices",
               "Fleet available", "Instructor utilisation", "Revenue this month"]
ACCOUNTS = [
    pytest.param("admin@origin.com", "Laura", "Administrator", OFFICE_KPIS, None, id="admin"),
    pytest.param("operations@origin.com", "Oliver", "Staff", OFFICE_KPIS, None, id="staff"),
    pytest.param("amelia.ward@origin.com", "Amelia", "Instructor",
                 ["Today's lessons", "Lessons this week", "My students", "Awaiting an outcome"], None, id="instructor"),
    pytest.param("jack.mason@student.com", "Jack", "Student",
                 ["Next lesson", "Owing", "Lessons remaining", "Unread notifications"], None, id="student"),
]


# --------------------------------------------------------------------------- fixtures

def _closing(app):
    """Run the app and close its response before the server sees it.

    werkzeug's development server can skip the response's close() when the browser drops
    the connection (its clean-up read of the socket raises first; Chromium aborts in-flight
    requests when it navigates away), which leaks send_file's open file and surfaces later
    as a ResourceWarning (an error here).
    Buffering the body (small static files and pages) closes it deterministically.
    """
    def wsgi(environ, start_response):
        iterable = app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()

    return wsgi


@pytest.fixture(scope="module")
def live_server(sqlite_template, tmp_path_factory):
    """The seeded app on SQLite, served on 127.0.0.1:<free port> from a daemon thread."""
    from werkzeug.serving import make_server

    from app.core import clock, passwords
    from app.core.flask_db import get_db
    from app.services.seed import seed_demo
    from app.bootstrap import create_app

    tmp_path = tmp_path_factory.mktemp("browser")
    target = tmp_path / "browser.sqlite3"
    shutil.copyfile(sqlite_template, target)
    application = create_app(app_overrides(f"sqlite:///{target}", tmp_path))
    with application.app_context():
        seed_demo(get_db(), clock.now(), clock.today())

    server = make_server("127.0.0.1", 0, _closing(application), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


@pytest.fixture(scope="module")
def browser():
    if _REASON:
        pytest.fail(f"REQUIRE_BROWSER=1 but {_REASON}", pytrace=False)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Session:
    """A fresh browser context + page that records every request and console error."""

    def __init__(self, browser, base_url: str, viewport: dict):
        self.base_url = base_url
        self.context = browser.new_context(viewport=viewport, base_url=base_url)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.documents: set[str] = set()
        self.page.on("request", lambda req: self.requests.append(req.url))
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda exc: self.console_errors.append(f"page error: {exc}"))
        self.page.on("response", self._on_response)

    def _on_console(self, msg) -> None:
        """CSP violations, script errors and failed loads, except a deliberate error page's own status."""
        if msg.type != "error":
            return
        url = (msg.location.get("url") or "").split("#", 1)[0]  # an anchored form action reports its #section
        if msg.text.startswith("Failed to load resource") and url in self.documents:
            return
        self.console_errors.append(f"{msg.text} ({msg.location.get('url')})")

    def _on_response(self, response) -> None:
        if response.request.resource_type == "document":
            self.documents.add(response.url.split("#", 1)[0])
        elif response.status >= 400:
            self.console_errors.append(f"{response.status} for {response.request.resource_type} {response.url}")

    def shot(self, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        self.page.mouse.move(0, 0)  # no hover highlight in the picture
        self.page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    def external_requests(self) -> list[str]:
        return [url for url in self.requests if urlsplit(url).hostname != "127.0.0.1"]

    def login(self, email: str, password: str = DEMO_PASSWORD) -> None:
        page = self.page
        page.goto("/")
        expect(page).to_have_url(re.compile(r"/auth/login"))
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in", exact=True).click()

    def horizontal_overflow(self) -> int:
        """How many CSS pixels the page is wider than the viewport (0 = nothing overflows). Waits for the
        page's load event first: right after a click's navigation the URL is already the new one while
        its stylesheets may still be loading (an unstyled page is wider than the phone)."""
        self.page.wait_for_load_state("load")
        return self.page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )

    def check_clean(self) -> None:
        """Every request went to the local server; no CSP violation or script error."""
        assert self.requests, "no request was recorded"
        assert self.external_requests() == [], "requests left 127.0.0.1"
        assert self.console_errors == [], "console errors, CSP violations or failed sub-resources"


@pytest.fixture
def session(browser, live_server):
    sessions: list[Session] = []

    def open_session(viewport: dict = DESKTOP) -> Session:
        s = Session(browser, live_server, viewport)
        sessions.append(s)
        return s

    yield open_session
    for s in sessions:
        s.context.close()


# --------------------------------------------------------------------------- journeys

@pytest.mark.parametrize("email, first_name, role_label, kpis, invoices_title", ACCOUNTS)
def test_sign_in_see_dashboard_and_sign_out(session, email, first_name, role_label, kpis, invoices_title):
    s = session()
    page = s.page
    role = role_label.lower()

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()

    expect(page).to_have_url(s.base_url + "/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Good to see you, {first_name}")
    expect(page.get_by_role("alert").filter(has_text=f"Welcome back, {first_name}.")).to_be_visible()
    user_menu = page.locator("#userMenu")
    expect(user_menu.locator(".role-badge")).to_have_text(role_label)
    expect(page.get_by_test_id("kpis").locator(".kpi-label")).to_have_text(kpis)
    lessons = re.compile(r"^(Coming up|Today's run sheet|My next lessons)$")  # the role's lessons panel
    expect(page.get_by_role("region", name=lessons).get_by_role("table")).to_be_visible()
    invoices = page.get_by_role("region", name=re.compile("invoices$"))
    if invoices_title:
        expect(invoices.get_by_role("heading")).to_have_text(invoices_title)
    else:
        expect(invoices).to_have_count(0)
    assert s.horizontal_overflow() == 0
    s.shot(f"dashboard-desktop-{role}")

    user_menu.click()
    sign_out = page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_visible()
    sign_out.click()
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    expect(page.get_by_role("alert").filter(has_text="You have been signed out.")).to_be_visible()
    expect(page.get_by_label("E-mail address")).to_be_visible()
    if role == "student":
        s.shot("login-desktop-signed-out")

    page.goto("/dashboard/")  # the session is really gone
    expect(page).to_have_url(re.compile(r"/auth/login\?next="))
    s.check_clean()
    assert any(re.search(r"/bootstrap/.*bootstrap\.min\.css", url) for url in s.requests), "Bootstrap CSS not local"


def test_wrong_password_shows_generic_error(session):
    s = session()
    page = s.page
    s.login("jack.mason@student.com", "not-the-password")
    expect(page).to_have_url(re.compile(r"/auth/login$"))
    expect(page.locator("#login-error")).to_have_text("The e-mail address or password is incorrect.")
    expect(page.get_by_label("E-mail address")).to_have_value("jack.mason@student.com")
    expect(page.get_by_label("Password")).to_have_value("")
    expect(page.locator("#userMenu")).to_have_count(0)
    s.shot("login-desktop-wrong-password")
    s.check_clean()


def test_phone_instructor_dashboard(session):
    s = session(PHONE)
    page = s.page
    s.login("amelia.ward@origin.com")
    expect(page).to_have_url(s.base_url + "/dashboard/")
    toggler = page.get_by_role("button", name="Toggle navigation")
    expect(toggler).to_be_visible()
    expect(page.locator("#mainNav")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_have_text("Good to see you, Amelia")
    table = page.get_by_role("region", name="Today's run sheet").get_by_role("table")
    expect(table).to_be_visible()
    expect(table.get_by_role("row")).not_to_have_count(1)  # at least one lesson besides the header
    assert s.horizontal_overflow() == 0
    s.shot("dashboard-phone-instructor")

    expect(page.locator("#userMenu")).to_be_visible()
    toggler.click()  # Bootstrap's JS works under the CSP
    expect(page.locator("#mainNav")).to_have_class(re.compile(r"(^|\s)show(\s|$)"))  # opened, animation over
    expect(page.locator("#mainNav").get_by_role("link", name="Dashboard")).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    s.shot("dashboard-phone-instructor-menu")
    s.check_clean()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_page_gallery(session, viewport):
    """Every page, signed out and in, at the given size: nothing overflows, inputs are labelled."""
    s = session(viewport)
    page = s.page
    size = "phone" if viewport is PHONE else "desktop"

    page.goto("/auth/login")
    assert s.horizontal_overflow() == 0
    s.shot(f"login-{size}")
    page.get_by_role("button", name="Sign in", exact=True).click()  # empty form: inline errors
    expect(page.get_by_label("E-mail address")).to_have_attribute("aria-invalid", "true")
    s.shot(f"login-{size}-errors")

    accounts = [("admin@origin.com", "administrator"), ("operations@origin.com", "staff"),
                ("jack.mason@student.com", "student"), ("amelia.ward@origin.com", "instructor")]
    if viewport is DESKTOP:  # the desktop dashboards are pictured by the sign-in journeys
        accounts = accounts[-1:]
    for email, role in accounts:
        s.context.clear_cookies()
        s.login(email)
        expect(page).to_have_url(s.base_url + "/dashboard/")
        assert s.horizontal_overflow() == 0, f"{role} dashboard overflows"
        s.shot(f"dashboard-{size}-{role}")

    page.goto("/account/password")
    expect(page.get_by_role("heading", level=1)).to_have_text("Change password")
    for label in ("Current password", "New password", "Repeat new password"):
        expect(page.get_by_label(re.compile(f"^{label}"))).to_be_editable()
    assert s.horizontal_overflow() == 0
    s.shot(f"password-{size}")
    page.get_by_role("button", name="Change password").click()  # empty: inline errors, 422
    expect(page.get_by_label("Current password")).to_have_attribute("aria-invalid", "true")
    s.shot(f"password-{size}-errors")

    response = page.goto("/nope")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_role("link", name="Back to the dashboard")).to_be_visible()
    assert s.horizontal_overflow() == 0
    s.shot(f"error-404-{size}")

    page.goto("/dashboard/")  # a stale security token on sign-out: 403
    page.locator("form[action$='/auth/logout'] input[name=csrf_token]").evaluate("el => el.value = 'stale'")
    page.locator("#userMenu").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Access denied")
    assert s.horizontal_overflow() == 0
    s.shot(f"error-403-{size}")
    s.check_clean()


def test_staff_registers_student_uploads_licence_adds_note_and_finds_them(session, tmp_path):
    """Issue 3 journey: register a student, upload a licence scan, add a note, find them by search."""
    s = session()
    page = s.page
    s.login("operations@origin.com")
    expect(page).to_have_url(re.compile(r"/dashboard/"))

    page.goto("/students/new")
    page.get_by_label("First name").fill("Harper")
    page.get_by_label("Last name").fill("Quinlan")
    page.get_by_label("E-mail address").fill("harper.quinlan@student.com")
    page.get_by_role("textbox", name="Phone", exact=True).fill("0401 999 000")
    page.get_by_label("Licence number").fill("L5550001")
    page.get_by_label("Emergency contact name").fill("Dana Quinlan")
    page.get_by_role("button", name=re.compile("Register|Save|Create")).click()
    expect(page).to_have_url(re.compile(r"/students/\d+$"))
    expect(page.get_by_role("heading", name=re.compile("Harper Quinlan"))).to_be_visible()
    expect(page.get_by_text(re.compile("activate", re.I)).first).to_be_visible()  # the one-time link shown

    scan = tmp_path / "licence-scan.pdf"
    scan.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    page.get_by_label(re.compile("^File")).set_input_files(str(scan))
    page.get_by_label("Category").select_option("licence")
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("link", name="licence-scan.pdf")).to_be_visible()

    page.get_by_role("textbox", name="Note", exact=True).fill("Nervous on roundabouts; start in quiet streets.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#notes").get_by_text("Nervous on roundabouts; start in quiet streets.")).to_be_visible()
    s.shot("journey-student-profile")

    page.goto("/students/")
    page.get_by_role("searchbox").fill("Quinlan")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("link", name=re.compile("Harper Quinlan"))).to_be_visible()
    s.shot("journey-student-search")
    s.check_clean()


# --------------------------------------------------------------------------- issue 6: every page's pattern

SHOTS = ARTIFACTS.parent  # test-artifacts/ui-*.png


def _demo_ids(base_url: str, s: "Session") -> dict:
    """Ids of demo records, read from the admin's lists (the first row of each)."""
    page, ids = s.page, {}
    for key, path, pattern in (("student", "/students/?q=Mason", r"/students/(\d+)$"),
                               ("instructor", "/instructors/?q=Patel", r"/instructors/(\d+)$"),
                               ("vehicle", "/fleet/", r"/fleet/(\d+)$"),
                               ("branch", "/branches/", r"/branches/(\d+)$"),
                               ("course", "/courses/", r"/courses/(\d+)$"),
                               ("staff", "/staff/", r"/staff/(\d+)$")):
        page.goto(path)
        href = page.locator("main table tbody a").first.get_attribute("href") or ""
        match = re.search(pattern, href)
        assert match, f"no record link on {path} ({href!r})"
        ids[key] = match.group(1)
    page.goto("/schedules/awaiting")  # a past lesson still awaiting its outcome (the demo leaves a few)
    href = page.locator('main a[href$="/outcome"], main a[href*="/outcome?"]').first.get_attribute("href") or ""
    match = re.search(r"/schedules/(\d+)/outcome", href)
    assert match, f"no lesson awaiting an outcome ({href!r})"
    ids["lesson"] = match.group(1)
    return ids


# (role e-mail, picture name, path template): the pages issue 6 asks to look at, plus the list pages the
# instructor sees and the audit list (every list page gets the layout check).
def _walk(ids: dict) -> list[tuple[str, str, str]]:
    return [
        ("admin@origin.com", "dashboard-admin", "/dashboard/"),
        ("admin@origin.com", "students-list", "/students/"),
        ("admin@origin.com", "student-profile", f"/students/{ids['student']}"),
        ("admin@origin.com", "student-edit", f"/students/{ids['student']}/edit"),
        ("admin@origin.com", "instructors-list", "/instructors/"),
        ("admin@origin.com", "instructor-profile", f"/instructors/{ids['instructor']}"),
        ("admin@origin.com", "fleet-list", "/fleet/"),
        ("admin@origin.com", "vehicle", f"/fleet/{ids['vehicle']}"),
        ("admin@origin.com", "branches-list", "/branches/"),
        ("admin@origin.com", "branch", f"/branches/{ids['branch']}"),
        ("admin@origin.com", "courses-list", "/courses/"),
        ("admin@origin.com", "course", f"/courses/{ids['course']}"),
        ("admin@origin.com", "staff-list", "/staff/"),
        ("admin@origin.com", "staff-member", f"/staff/{ids['staff']}"),
        ("admin@origin.com", "audit-list", "/audit/"),
        ("admin@origin.com", "calendar-admin", "/schedules/"),
        ("admin@origin.com", "lesson", f"/schedules/{ids['lesson']}"),
        ("admin@origin.com", "booking-form", f"/schedules/new?instructor_id={ids['instructor']}"),
        ("operations@origin.com", "dashboard-staff", "/dashboard/"),
        ("operations@origin.com", "calendar-day-staff", "/schedules/"),
        ("operations@origin.com", "calendar-week-staff", f"/schedules/week?instructor_id={ids['instructor']}"),
        ("operations@origin.com", "calendar-month-staff", "/schedules/month"),
        ("operations@origin.com", "day-sheet", f"/schedules/sheet?instructor_id={ids['instructor']}"),
        ("operations@origin.com", "awaiting-outcome", "/schedules/awaiting"),
        ("operations@origin.com", "students-list-staff", "/students/"),
        ("amelia.ward@origin.com", "dashboard-instructor", "/dashboard/"),
        ("amelia.ward@origin.com", "students-list-instructor", "/students/"),
        ("amelia.ward@origin.com", "calendar-week-instructor", "/schedules/"),
        ("jack.mason@student.com", "calendar-week-student", "/schedules/"),
        ("jack.mason@student.com", "dashboard-student", "/dashboard/"),
    ]


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
def test_pages_fit_the_screen(session, viewport):
    """Issue 6: every list page, each role's dashboard, profiles and a form at 1366 and 390 px: no
    horizontal scroll (scrollWidth <= innerWidth), no table scrolling sideways.
    The pictures land in test-artifacts/ui-<page>-<width>.png. (axe-core runs on every page, as each
    role, at both sizes in tests/security/accessibility_test.py.)"""
    s = session(viewport)
    page = s.page
    width = viewport["width"]
    s.login("admin@origin.com")
    expect(page).to_have_url(re.compile(r"/dashboard/"))
    ids = _demo_ids(s.base_url, s)
    signed_in, problems = None, []
    for email, name, path in _walk(ids):
        if email != signed_in:
            s.context.clear_cookies()
            s.login(email)
            expect(page).to_have_url(re.compile(r"/dashboard/"))
            signed_in = email
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        expect(page.locator(".page-header .breadcrumb")).to_be_visible()
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            problems.append(f"{path} as {email} at {width}px scrolls sideways by {overflow}px")
        wide = page.evaluate("() => [...document.querySelectorAll('main .table-responsive')]"
                             ".filter(e => e.scrollWidth > e.clientWidth).map(e => e.closest('section')?.id"
                             " || e.closest('section')?.getAttribute('aria-labelledby') || 'table')")
        if wide:
            problems.append(f"{path} as {email} at {width}px: tables scroll sideways: {wide}")
        page.mouse.move(0, 0)
        page.screenshot(path=str(SHOTS / f"ui-{name}-{width}.png"), full_page=True, animations="disabled")
    assert problems == [], "\n".join(problems)
    s.check_clean()


@pytest.mark.parametrize("width", [1366, 768, 390])
def test_list_toolbar_one_row_at_1366_and_collapses_cleanly(session, width):
    """The search box, its filters and Apply share one row at 1366 px (the busiest list: students, as
    admin); at 768 and 390 the search takes a row and the filters sit in tidy rows, inside the screen."""
    s = session({"width": width, "height": 900})
    s.login("admin@origin.com")
    expect(s.page).to_have_url(re.compile(r"/dashboard/"))
    s.page.goto("/students/")
    boxes = s.page.locator("form.list-toolbar > div").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect();"
        " return [Math.round(r.left), Math.round(r.right), Math.round(r.bottom)]; })")
    assert len(boxes) == 6, boxes  # search, branch, licence, course, account, buttons
    bottoms = [b[2] for b in boxes]
    if width == 1366:
        assert len(set(bottoms)) == 1, boxes
    else:
        assert bottoms[0] < min(bottoms[1:]), boxes              # the search box has its own row
        assert all(right <= width for _, right, _ in boxes), boxes
        assert len(set(bottoms[1:5])) == (1 if width == 768 else 2), boxes  # four filters: one row, or two of two
    s.page.mouse.move(0, 0)
    s.page.screenshot(path=str(SHOTS / f"ui-students-toolbar-{width}.png"), animations="disabled")
    assert s.page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert s.page.evaluate("() => [...document.querySelectorAll('main .table-responsive')]"
                           ".filter(e => e.scrollWidth > e.clientWidth).length") == 0, "the student table scrolls"
    s.check_clean()


def test_archiving_asks_for_confirmation_first(session):
    s = session()
    page = s.page
    s.login("admin@origin.com")
    expect(page).to_have_url(re.compile(r"/dashboard/"))
    page.goto("/students/")
    page.get_by_role("link", name=re.compile("Noah Williams")).click()
    expect(page).to_have_url(re.compile(r"/students/\d+$"))
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_role("button", name="Archive")).to_be_visible()  # cancelled: nothing happened
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_role("button", name="Restore")).to_be_visible()
    s.check_clean()
