"""Accessibility (issue 11): axe-core on every page, as each role, at 1366 and 390 px; and the keyboard.

The pages come from app.url_map through tests/security/page_inventory.py. Each role gets the GET
endpoints whose declared roles include it, and the anonymous visitor gets the public ones. URL
parameters are filled with the role's own demo objects, so a new page is checked without anyone
adding it here. Each page is opened once per role. axe-core (node_modules/axe-core, installed by
`make install-dev`) runs at both 1366 and 390 px on the same page, the viewport resized between the
two runs (the pages have no width-dependent script, so only CSS changes); a page starts at the width the
previous one ended at. A serious or critical
violation fails the test.

Rules of the walk:
- a GET endpoint whose parameter cannot be filled fails;
- so does one that answers anything but 200 or a redirect (303, or 302 for the site root). The
  first candidate that answers 200 is kept, and a redirect is accepted when no candidate answers
  200: its target is then checked as a page if it has not been checked already;
- responses that are not HTML (CSV, PDF, ICS, JSON, file downloads) are skipped, judged by their
  Content-Type, and they must answer below 500;
- the "not found" error page is checked for every audience as well.

The page counts per audience are printed and written to test-artifacts/accessibility/pages-<who>.txt.
The keyboard tests drive the booking form (/schedules/new as staff) and the calendar (/schedules/)
with key presses only.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import io
import re
import secrets
import shutil
import threading
import time
from datetime import timedelta

import pytest

from browser_test import DESKTOP, PHONE, TIMEOUT_MS, _REQUIRED, _closing, browser  # noqa: F401  (fixture)
from conftest import DEMO_PASSWORD, ROOT, app_overrides
import page_inventory as inventory

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # npm devDependency (package.json), make install-dev

REPORT_DIR = ROOT / "test-artifacts" / "accessibility"
NOT_FOUND_PATH = "/no-such-page-a11y"
HTML = "text/html"
REDIRECT = (302, 303)  # see_other, and flask.redirect (the site root)
# axe-core in the page, started without waiting (AXE_START) and collected later (AXE_RESULT). Rules
# whose impact is fixed at minor or moderate are switched off: axe gives every violation of a rule the
# rule's impact, so they could never report a serious or critical one. Each violation is one line:
# impact, rule, the first three elements, the first one's markup and axe's reason.
AXE_START = """() => {
  const quiet = Object.fromEntries(axe._audit.rules.filter(r => r.impact === 'minor' || r.impact === 'moderate')
    .map(r => [r.id, {enabled: false}]));
  // after this call returns: axe.run does most of its work before its first await
  window.__a11yRun = new Promise(resolve => setTimeout(resolve, 0))
    .then(() => axe.run(document, {resultTypes: ['violations'], rules: quiet}));
}"""
AXE_RESULT = """async () => (await window.__a11yRun).violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => v.impact + ' ' + v.id + ': ' + v.help
    + ' -- ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')
    + ' -- ' + v.nodes[0].html.slice(0, 160)
    + ' -- ' + (v.nodes[0].failureSummary || '').replace(/\\s+/g, ' ').slice(0, 240))"""


def _require_axe():
    if not AXE.exists():
        reason = f"{AXE} is missing: run `make install-dev` (npm ci installs axe-core from package.json)"
        if _REQUIRED:
            pytest.fail("REQUIRE_BROWSER=1 but " + reason)
        pytest.skip(reason)


# --------------------------------------------------------------------------- fixtures

def _add_fixture_objects(db, upload_dir, now):
    """What the demo data lacks for the walk: files behind the documents, a document in the staff
    member's branch, and live secrets for the pages reached by a token."""
    from app.dao.account_token import AccountTokenDAO
    from app.services import documents, feeds
    from app.services.auth import hash_token
    from app.services.scope import SYSTEM

    upload_dir.mkdir(parents=True, exist_ok=True)
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    for row in db.fetch_all("SELECT file_path FROM documents"):
        (upload_dir / row["file_path"]).write_bytes(pdf)
    staff = inventory.owner_of(db, "staff")
    student = db.fetch_value("SELECT MIN(id) FROM students WHERE branch_id = :b", {"b": staff.branch_id})
    if student and not db.fetch_value("SELECT COUNT(*) FROM documents d JOIN students s ON s.user_id = d.user_id"
                                      " WHERE s.branch_id = :b", {"b": staff.branch_id}):
        documents.upload(db, SYSTEM, student, "licence.pdf", io.BytesIO(pdf), {"category": "licence"}, now,
                         upload_dir=upload_dir, max_bytes=1 << 20)

    tokens = {}
    user = db.fetch_value("SELECT id FROM users WHERE email = :e", {"e": inventory.DEMO_EMAILS["student"]})
    for endpoint, purpose in (("activation.activate", "activation"), ("password_reset.reset", "reset")):
        secret = secrets.token_urlsafe(32)
        AccountTokenDAO(db).create(user, purpose, hash_token(secret), now + timedelta(minutes=20), None, now)
        tokens[endpoint] = secret
    instructor = db.fetch_value("SELECT MIN(id) FROM instructors")
    tokens["feeds.feed"] = feeds.issue(db, SYSTEM, "instructor", instructor, now)
    return tokens


def _fresh_code(app, email: str) -> str | None:
    """The authenticator's code for the next sign-in: the current step's, or a later one within the
    window when this step was used already (a replayed code is refused)."""
    from app.core import clock
    from app.core.flask_db import get_db
    from app.services import second_factor

    with app.app_context():
        db = get_db()
        row = db.fetch_one("SELECT f.user_id, f.last_used_step FROM user_second_factors f JOIN users u"
                           " ON u.id = f.user_id WHERE u.email = :e AND f.enabled_at IS NOT NULL", {"e": email})
        if row is None:
            return None
        now = clock.now()
        ahead = max(0, int(row["last_used_step"] or 0) + 1 - second_factor.step_at(now))
        return second_factor.current_code(db, row["user_id"], now + timedelta(seconds=30 * ahead), app.config)


@pytest.fixture(scope="module")
def site(sqlite_template, tmp_path_factory):
    """The seeded app on SQLite served from a thread (as tests/browser_test.py), with its inventory."""
    from werkzeug.serving import make_server

    from app.bootstrap import create_app
    from app.core import clock, passwords
    from app.core.flask_db import get_db
    from app.services.seed import enrol_demo_second_factors, seed_demo

    tmp_path = tmp_path_factory.mktemp("a11y")
    target = tmp_path / "a11y.sqlite3"
    shutil.copyfile(sqlite_template, target)
    # As `flask seed-demo` leaves it: admin and staff sign in with a second factor.
    application = create_app(app_overrides(f"sqlite:///{target}", tmp_path, SECOND_FACTOR_ROLES="admin,staff"))
    # Let the browser keep the style sheets and scripts between pages (by default every page view
    # revalidates each of them): the walk opens some two hundred pages.
    application.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    inventories = {}
    with application.app_context():
        db = get_db()
        seed_demo(db, clock.now(), clock.today())
        enrol_demo_second_factors(db, clock.now(), application.config)
        tokens = _add_fixture_objects(db, tmp_path / "uploads", clock.now())
        for who in inventory.AUDIENCES:
            owner = inventory.owner_of(db, who)
            owner.tokens = tokens
            inventories[who] = inventory.pages(application, db, owner)

    server = make_server("127.0.0.1", 0, _closing(application), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="a11y-test-server", daemon=True)
    thread.start()
    try:
        yield {"base_url": f"http://127.0.0.1:{server.server_port}", "inventories": inventories,
               "code": lambda email: _fresh_code(application, email)}
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


class Walker:
    """One browser context for one audience; axe is injected into every document it opens."""

    def __init__(self, browser, base_url: str, **options):
        self.base_url = base_url
        self.context = browser.new_context(viewport=DESKTOP, base_url=base_url, **options)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.add_init_script(script=AXE.read_text())  # through DevTools: the page's CSP stays on
        self.page = self.context.new_page()
        self.width = "1366"  # the viewport's width now (check() leaves it at either)
        self.documents: list = []  # document responses (redirect hops and downloads included)
        self.page.on("response", self._on_response)

    def _on_response(self, response):
        if response.request.resource_type == "document":
            self.documents.append(response)

    def login(self, email: str, code: str | None):
        """Password, then the second factor's code when asked for. A generator: it yields while axe
        runs on the code page (a page no URL reaches: it shows only between the two steps), and
        returns that page's problems."""
        page, problems = self.page, []
        page.goto("/auth/login")
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in", exact=True).click()
        if "/auth/second-factor" in page.url:
            assert code, f"{email} is asked for a second factor it does not have"
            problems += yield from self.check(page.url.replace(self.base_url, ""))
            page.get_by_label(re.compile("code", re.I)).first.fill(code)
            with page.expect_navigation():
                page.get_by_role("button", name=re.compile("Verify|Continue|Sign in")).click()
        assert "/dashboard/" in page.url, f"could not sign in as {email} ({page.url})"
        page.mouse.move(0, 0)  # off the buttons: no hover state (or mid-transition colours) on later pages
        return problems

    def sign_in(self, email: str, code: str | None) -> None:
        """login() without the yields (the keyboard tests)."""
        for _ in self.login(email, code):
            pass

    def open(self, url: str) -> tuple[int, str, str]:
        """(first status, content type of the final answer, final path); downloads do not raise."""
        self.documents.clear()
        try:
            last = self.page.goto(url)
        except Exception as exc:  # a download ("Download is starting") aborts the navigation
            if not self.documents or "Download is starting" not in str(exc) and "ERR_ABORTED" not in str(exc):
                raise
            last = self.documents[-1]
        first = self.documents[0]
        path = re.sub(r"^https?://[^/]+", "", last.url)
        return first.status, last.headers.get("content-type", ""), path

    def check(self, url: str):
        """axe at both widths on the same document: first at the width the page was opened at, then at
        the other one, where the next page is opened (one resize a page: each costs a layout). A
        generator: it yields while axe runs in the page, so other walkers can load their next page
        meanwhile (the server and the browser then work at the same time)."""
        problems = []
        sizes = ((DESKTOP, "1366"), (PHONE, "390"))
        for size, label in (sizes if self.width == "1366" else sizes[::-1]):
            if label != self.width:
                self.page.set_viewport_size(size)
                self.width = label
            self.page.evaluate(AXE_START)
            yield
            problems += [f"{url} at {label}px: {violation}" for violation in self.page.evaluate(AXE_RESULT)]
        return problems


def _walk(walker: Walker, site, who: str, pages, result: dict):
    """Open every page of the audience and check it (a generator, see Walker.check); fills ``result``."""
    checked, skipped, problems, redirects, seen = (result[k] for k in ("checked", "skipped", "problems",
                                                                        "redirects", "seen"))
    if who != inventory.ANONYMOUS:
        email = inventory.DEMO_EMAILS[who]
        code = site["code"](email)
        problems += yield from walker.login(email, code)
        if code:
            checked.append("/auth/second-factor (the code step of signing in)")
    targets = [(p.endpoint, p.urls) for p in pages] + [("(not found page)", (NOT_FOUND_PATH,))]
    for endpoint, urls in targets:
        answers, chosen = [], None
        for url in urls:
            status, kind, final = walker.open(url)
            answers.append(f"{url} -> {status}")
            if not kind.startswith(HTML):
                chosen = ("skip", url, status, kind)
                break
            if status == 200 or (endpoint == "(not found page)" and status == 404):
                chosen = ("page", url, status, final)
                break
            if status in REDIRECT and chosen is None:
                chosen = ("redirect", url, status, final)
        if chosen is None:
            problems.append(f"{endpoint}: no candidate answered 200/302/303 ({'; '.join(answers)})")
            continue
        how, url, status, detail = chosen
        if how == "skip":
            skipped.append(f"{url} ({status}, {detail})")
            if status >= 500:
                problems.append(f"{endpoint}: {url} answered {status}")
        elif how == "redirect":
            redirects.append((url, status, detail))  # after the pages: its target may be one of them
        else:
            seen.add(url.split("?", 1)[0])
            problems += yield from walker.check(url)
            checked.append(url)
    for url, status, target in redirects:
        if target.split("?", 1)[0] in seen:
            skipped.append(f"{url} ({status} to {target}, checked there)")
            continue
        walker.open(url)
        seen.add(target.split("?", 1)[0])
        problems += yield from walker.check(url)
        checked.append(f"{url} ({status} to {target})")


LANES = 1  # one walk at a time: make test already keeps both cores busy with two pytest-xdist workers


@pytest.fixture(scope="module")
def walks(browser, site):
    """Every audience's walk, LANES at a time: each walker loads its next page while another's axe
    runs (round robin over generators; one thread, the sync Playwright API). One browser context per
    audience; the biggest walks start first."""
    _require_axe()
    started = time.perf_counter()
    results = {who: {"checked": [], "skipped": [], "problems": [], "redirects": [], "seen": set()}
               for who in inventory.AUDIENCES}
    waiting = sorted(inventory.AUDIENCES, key=lambda who: -len(site["inventories"][who][0]))
    running: list = []
    try:
        while waiting or running:
            while waiting and len(running) < LANES:
                who = waiting.pop(0)
                walker = Walker(browser, site["base_url"])
                running.append((who, walker, _walk(walker, site, who, site["inventories"][who][0], results[who])))
            for entry in list(running):
                who, walker, steps = entry
                try:
                    next(steps)
                except StopIteration:
                    running.remove(entry)
                    walker.context.close()
                except Exception as exc:  # this audience's walk broke: report it, let the others finish
                    results[who]["problems"].append(f"the walk stopped: {type(exc).__name__}: {exc}")
                    running.remove(entry)
                    walker.context.close()
    finally:
        for _, walker, _ in running:
            walker.context.close()
    seconds = time.perf_counter() - started
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    for who, result in results.items():
        (REPORT_DIR / f"pages-{who}.txt").write_text(
            f"{len(result['checked'])} pages checked with axe at 1366 and 390 px as {who}\n"
            + "".join(f"  {line}\n" for line in result["checked"])
            + f"{len(result['skipped'])} skipped (not HTML, or a redirect to a page checked already)\n"
            + "".join(f"  {line}\n" for line in result["skipped"]))
    print("\naccessibility: pages checked with axe at 1366 and 390 px: "
          + ", ".join(f"{who} {len(r['checked'])}" for who, r in results.items())
          + f" ({seconds:.1f} s; lists in {REPORT_DIR.relative_to(ROOT)}/)")
    return results


# --------------------------------------------------------------------------- axe on every page

@pytest.mark.parametrize("who", inventory.AUDIENCES)
def test_every_page_passes_axe_at_1366_and_390(site, walks, who, record_property):
    """Every GET page the audience may open (from app.url_map), filled with its own demo objects:
    0 serious or critical axe-core violations at 1366 px and at 390 px."""
    unfilled = site["inventories"][who][1]
    result = walks[who]
    record_property("pages_checked", len(result["checked"]))  # in the JUnit XML; the lists: REPORT_DIR
    assert unfilled == [], "GET endpoints the inventory could not fill:\n" + "\n".join(unfilled)
    assert result["problems"] == [], f"{who}:\n" + "\n".join(result["problems"])
    assert len(result["checked"]) >= (3 if who == inventory.ANONYMOUS else 10)  # the walk really ran


# --------------------------------------------------------------------------- the keyboard alone

# Helpers evaluated in the page: what may take focus, how focus shows, what has it now.
_FOCUS_HELPERS = r"""
const FOCUSABLE = 'a[href], area[href], button, input, select, textarea, summary, iframe, [tabindex],'
  + ' [contenteditable=""], [contenteditable="true"]';
const describe = (el) => {
  const text = (el.innerText || el.value || el.getAttribute('aria-label') || '').replace(/\s+/g, ' ').trim();
  return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[' + el.name + ']' : '')
    + ' "' + text.slice(0, 40) + '"';
};
const alpha = (colour) => {
  const m = /rgba?\(([^)]*)\)/.exec(colour || '');
  if (!m) return colour && colour !== 'transparent' ? 1 : 0;
  const parts = m[1].split(/[ ,/]+/).filter(Boolean);
  return parts.length > 3 ? parseFloat(parts[3]) : 1;
};
const shows = (s) => {  // an outline, or a box-shadow ring (blur or spread), that is not (nearly) transparent
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 1 && alpha(s.outlineColor) > 0.2;
  const shadows = s.boxShadow === 'none' ? [] : s.boxShadow.split(/,(?![^(]*\))/);
  const shadow = shadows.some(sh => {
    const lengths = (sh.replace(/rgba?\([^)]*\)/, '').match(/-?[\d.]+px/g) || []).map(parseFloat);
    return alpha(sh) > 0.2 && lengths.length >= 3 && (lengths[2] > 0 || (lengths[3] || 0) > 0);
  });
  return outline || shadow;
};
// the ring may be drawn by the element or by its ::before / ::after (the calendar's lesson links)
const styles = (el) => [null, '::before', '::after'].map(p => getComputedStyle(el, p));
const ring = (el) => styles(el).map(s => [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow].join(' '))
  .join(' | ');
"""

INDEX_JS = "() => {" + _FOCUS_HELPERS + r"""
  return [...document.querySelectorAll(FOCUSABLE)].map((el, i) => {
    el.dataset.a11yIndex = String(i);
    const s = getComputedStyle(el);
    const focusable = el.getClientRects().length > 0 && s.visibility !== 'hidden' && !el.disabled && el.tabIndex >= 0
      && !(el.tagName === 'INPUT' && el.type === 'hidden') && !el.closest('[inert], [aria-hidden="true"]');
    return {i, focusable, label: describe(el), ring: ring(el)};
  });
}"""

STOP_JS = "() => {" + _FOCUS_HELPERS + r"""
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const r = el.getBoundingClientRect();
  return {i: el.dataset.a11yIndex === undefined ? null : Number(el.dataset.a11yIndex), label: describe(el),
          name: el.name || null, ring: ring(el), shows: styles(el).some(shows),
          onScreen: r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth,
          inMain: !!el.closest('main')};
}"""


@pytest.fixture(scope="module")
def staff_keys(browser, site):
    """The scheduler (staff), signed in once for the keyboard tests. No animations, so a focus ring is
    read in its final state, not halfway through a transition; US dates in the date fields (mm/dd/yyyy)."""
    _require_axe()
    walker = Walker(browser, site["base_url"], reduced_motion="reduce", locale="en-US")
    email = inventory.DEMO_EMAILS["staff"]
    walker.sign_in(email, site["code"](email))
    yield walker
    walker.context.close()


def _tab_through(page, limit: int = 400) -> tuple[list, list[dict]]:
    """Tab from the top of the freshly loaded page until focus leaves the document (or comes back to
    the first stop). Returns (the page's focusable elements, the stops)."""
    elements = page.evaluate(INDEX_JS)
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(STOP_JS)
        if stop is None and stops:
            break  # past the last element: focus went to the browser
        if stop is None:
            continue
        if stops and stop["i"] is not None and stop["i"] == stops[0]["i"]:
            break  # round again
        stops.append(stop)
    else:
        pytest.fail(f"keyboard trap: {limit} presses of Tab never left the page (last stops "
                    f"{[s['label'] for s in stops[-5:]]})")
    return elements, stops


def _assert_keyboard_walk(page, path: str) -> list[dict]:
    """Every focusable element reached by Tab, in document order, each with a visible focus ring on
    screen; Shift+Tab walks back. Returns the stops (each element once)."""
    elements, stops = _tab_through(page)
    problems = []
    reached = {s["i"] for s in stops}
    missed = [e["label"] for e in elements if e["focusable"] and e["i"] not in reached]
    if missed:
        problems.append(f"not reachable by Tab: {missed}")
    distinct = [s for n, s in enumerate(stops) if n == 0 or s["i"] != stops[n - 1]["i"]]  # date fields: several stops
    order = [s["i"] for s in distinct if s["i"] is not None]
    if order != sorted(set(order)):
        problems.append(f"Tab order is not the document order: {[s['label'] for s in distinct]}")
    at_rest = {e["i"]: e["ring"] for e in elements}
    for stop in stops:
        if not stop["shows"] or at_rest.get(stop["i"]) == stop["ring"]:
            problems.append(f"focus not visible on {stop['label']} ({stop['ring']}; at rest {at_rest.get(stop['i'])})")
        if not stop["onScreen"]:
            problems.append(f"focused element off screen: {stop['label']}")
    for back, expected in zip(range(3), reversed(order)):  # from past the end, Shift+Tab walks back
        page.keyboard.press("Shift+Tab")
        now = page.evaluate(STOP_JS)
        if not now or now["i"] != expected:
            problems.append(f"Shift+Tab step {back + 1} reached {now and now['label']}, expected element {expected}")
            break
    assert problems == [], f"{path}:\n" + "\n".join(problems)
    return distinct


def _press_tab_until(page, test: str, limit: int = 120) -> dict:
    """Tab until the focused element passes ``test`` (a JS predicate on the element)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!el && ({test})(el); }}"):
            return page.evaluate(STOP_JS)
    pytest.fail(f"Tab never reached an element passing {test}")


def _choose_with_arrows(page, value: str, limit: int = 60) -> None:
    """On the focused (closed) select, ArrowDown until the wanted option is chosen."""
    for _ in range(limit):
        if page.evaluate("() => document.activeElement.value") == value:
            return
        page.keyboard.press("ArrowDown")
    pytest.fail(f"ArrowDown never chose option {value}")


def _free_slot(page) -> dict:
    """A free hour of the scheduler's day (the calendar's own "Book ..." slot links) and a student of
    the branch with no lesson that day. Today's day view first, then the days after it: late in the
    school's day (the suite runs at any hour) today has no free hour left."""
    from app.core import clock

    for ahead in range(8):
        page.goto("/schedules/" if ahead == 0 else f"/schedules/day?date={clock.today() + timedelta(days=ahead)}")
        slot = _first_free_hour(page)
        if slot:
            break
    assert slot, "the scheduler's next week has no free hour to book"
    busy = page.evaluate("() => [...document.querySelectorAll('main a[href^=\"/students/\"]')]"
                         ".map(a => a.getAttribute('href').split('/').pop())")
    return {**slot, "busy": busy}


def _first_free_hour(page) -> dict | None:
    return page.evaluate("""() => {
      const hm = (t) => { const [h, m] = t.split(':').map(Number); return h * 60 + m; };
      for (const a of document.querySelectorAll('a.cal-slot')) {
        const q = new URL(a.href).searchParams;
        if (hm(q.get('end_time')) - hm(q.get('start_time')) >= 60) {
          return {instructor: q.get('instructor_id'), date: q.get('date'), start: q.get('start_time')};
        }
      }
      return null; }""")


def test_booking_form_by_keyboard_alone(staff_keys):
    """/schedules/new as staff: every control reachable by Tab in order, focus visible, no trap; the
    booking is then filled in and sent with the keyboard only (arrows, typing, Tab, Enter)."""
    page = staff_keys.page
    slot = _free_slot(page)
    page.goto("/schedules/new")
    stops = _assert_keyboard_walk(page, "/schedules/new")
    fields = [s["name"] for s in stops if s["inMain"] and s["name"]]
    expected = ["student_q", "student_id", "instructor_id", "vehicle_id", "event_type", "date", "start_time",
                "end_time", "topic", "pickup_location", "notes", "submit", "check"]
    assert [f for f in fields if f in expected] == expected, fields

    page.goto("/schedules/new")
    _press_tab_until(page, "el => el.name === 'student_id'")
    student = page.evaluate("(busy) => [...document.activeElement.options].map(o => o.value)"
                            ".find(v => v && !busy.includes(v))", slot["busy"])
    assert student, "every student of the branch has a lesson that day"
    _choose_with_arrows(page, student)
    _press_tab_until(page, "el => el.name === 'instructor_id'")
    _choose_with_arrows(page, slot["instructor"])
    _press_tab_until(page, "el => el.name === 'date'")
    year, month, day = slot["date"].split("-")
    page.keyboard.type(f"{month}{day}{year}")
    hour, minute = (int(x) for x in slot["start"].split(":"))
    _press_tab_until(page, "el => el.name === 'start_time'")
    page.keyboard.type(f"{(hour - 1) % 12 + 1:02d}{minute:02d}{'PM' if hour >= 12 else 'AM'}")
    _press_tab_until(page, "el => el.name === 'topic'")
    page.keyboard.type("Booked with the keyboard")
    values = page.evaluate("() => Object.fromEntries(['student_id', 'instructor_id', 'date', 'start_time', 'end_time']"
                           ".map(n => [n, document.getElementById(n).value]))")
    end = f"{hour + 1:02d}:{minute:02d}"
    assert values == {"student_id": student, "instructor_id": slot["instructor"], "date": slot["date"],
                      "start_time": slot["start"], "end_time": end}, values  # the end follows the start
    _press_tab_until(page, "el => el.name === 'submit'")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    if page.locator("#accept-warnings-wrap").is_visible():  # warnings only (outside working hours, say)
        focused = page.evaluate(STOP_JS)  # the page puts focus on its list of warnings first
        assert focused and "conflict" in focused["label"].lower() + page.evaluate(
            "() => document.activeElement.className"), focused
        _press_tab_until(page, "el => el.name === 'accept_warnings'")
        page.keyboard.press("Space")
        _press_tab_until(page, "el => el.name === 'submit'")
        with page.expect_navigation():
            page.keyboard.press("Enter")
    assert re.search(r"/schedules/\d+$", page.url), (page.url, page.locator(
        "main .alert, main .conflict-panel, main .invalid-feedback").all_inner_texts())
    assert "Booked with the keyboard" in page.locator("main").inner_text()


def test_calendar_by_keyboard_alone(staff_keys):
    """The scheduler's home (/schedules/): every link and control reachable by Tab in order, focus
    visible, no trap; Previous, Next, Today and a lesson open with Enter."""
    page = staff_keys.page
    page.goto("/schedules/")
    _assert_keyboard_walk(page, "/schedules/")
    period = page.locator("#cal-period").inner_text()

    for name in ("Next", "Previous", "Today"):
        page.goto("/schedules/") if name == "Next" else None
        _press_tab_until(page, f"el => el.matches('a.btn') && el.innerText.replace(/[‹›]/g, '').trim()"
                               f".startsWith('{name}')")
        before = page.url
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url != before or name == "Today", (name, page.url)
        shown = page.locator("#cal-period").inner_text()
        if name == "Next":
            assert shown != period, "Next kept the same period"
        else:
            assert shown == period, (name, shown, period)  # back to where we started (today's)

    lesson = _press_tab_until(page, "el => el.matches('a.cal-ev-link')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"/schedules/\d+$", page.url), (lesson["label"], page.url)
    assert page.get_by_role("heading", level=1).is_visible()
