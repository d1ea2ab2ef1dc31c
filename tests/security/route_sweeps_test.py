"""Route sweeps in the production profile, generated from app.url_map (ASVS 4.0.3 V4.1, V4.2, V3.4,
V14.4; figures 1, 2, 3 and 5 of shared/docs/security-reliability.md §7).

One app for the module: SQLite, APP_ENV=production over https (see security_support.PRODUCTION), the
access matrix's two-branch world. Every GET rule is crawled as every role (admin, staff, instructor,
student, a staff member without a branch) and anonymously, with side A's ids, plus error pages. From
that one crawl:

- headers: every HTML response carries a CSP without 'unsafe-inline'/'unsafe-eval' and with object-src
  'none', base-uri 'none', frame-ancestors 'none'; every response HSTS (max-age >= 31536000,
  includeSubDomains), nosniff, a Referrer-Policy that keeps Flask-WTF's referrer check working and a
  Permissions-Policy; every response to a signed-in user is no-store;
- cookies: every Set-Cookie of the crawl and of sign-in/sign-out is __Host-, Secure, HttpOnly,
  SameSite=Lax, Path=/, without Domain;
- safe methods: the crawl as every role changes 0 rows (the audit trail gains only the rows of audited
  reads and refusals);
- leaks: no page a role can open shows a marker of side B or links to one of B's objects (list pages
  hold 0 foreign rows and 0 foreign ids; a few pages show B's branch or instructor names by design,
  SHARED_BY_DESIGN). tests/access_matrix_test.py adds the per-object matrix (foreign ids -> 404/403).

And the anonymous sweep (every rule x method: 0 unexpected 2xx outside the public allowlist), the CSRF
sweep (every POST/PUT/PATCH/DELETE rule, as every role on its own objects and anonymously, without a
token: 403 and 0 rows written; no exemptions), TRACE 405 and a bogus Host 400.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re

import pytest

import security_support as sec
from security_support import HTTPS, ROLES, UNSAFE

# The public allowlist (deny by default, ASVS V4.1.3): endpoints an anonymous visitor may use, each
# with why. A new public endpoint must be added here on purpose.
PUBLIC = {
    "static": "the app's CSS, JS and images",
    "bootstrap.static": "Bootstrap's files, served locally",
    "main.home": "the landing page (redirects)",
    "main.healthz": "the load balancer's health check",
    "auth.login": "the sign-in form",
    "activation.activate": "first password from an e-mailed single-use link (the token is the credential)",
    "feeds.feed": "a calendar feed: the secret token in its URL is the credential",
    "apply.form": "the public enrolment application (CSRF, rate-limited)",
    "apply.thanks": "its thank-you page",
    # issue 11: password reset by an e-mailed single-use token (the token is the credential)
    "password_reset.forgot": "asks for a reset link (same answer whether or not the account exists)",
    "password_reset.reset": "sets a new password with the e-mailed single-use token",
    "password_reset.sent": "the same 'if the account exists, a link is on its way' page for everybody",
}
# Reads that are audited on purpose (a download or an export of personal data is a security event),
# and refusals (ASVS V7.2.2): the only rows a GET may write.
AUDITED_READS = {"access_denied", "access_refused", "document_downloaded", "audit_exported", "payments_exported",
                 "personal_data_exported"}
# Pages that show some of another branch's names by design: endpoint -> (marker prefixes allowed, why).
SHARED_BY_DESIGN = {
    "courses.index": (("Zzinstructor",), "the school-wide course catalogue lists the instructors allocated"),
    "courses.view": (("Zzinstructor",), "ditto, one course"),
    "apply.form": (("Zzbranch",), "the public application form offers every branch"),
    "enrollments.transfer": (("Zzbranch",), "a transfer moves a student to another branch: the branches are the choice"),
}
EXTRA_PATHS = ("/no/such/page", "/.git/config", "/auth/logout")  # 404, 404, 405


@pytest.fixture(scope="module")
def site(sqlite_template, tmp_path_factory):
    app, world = sec.build_world(tmp_path_factory.mktemp("sweeps"), sqlite_template, **sec.PRODUCTION)
    yield app, world
    sec.restore_hashing()


def _get_rules(app):
    return [r for r in app.url_map.iter_rules() if "GET" in r.methods and r.endpoint not in ("static", "bootstrap.static")]


@pytest.fixture(scope="module")
def crawl(site):
    """[(role or None, endpoint, url, response, body or None)] for every GET rule x (roles + anonymous)."""
    app, world = site
    browsers = {role: sec.sign_in(app, sec.email_of(world, role)) for role in ROLES}
    browsers[None] = sec.Browser(app)
    before = sec.snapshot(app)
    seen = []
    for role, browser in browsers.items():
        for rule in _get_rules(app):
            url = sec.url_for_rule(rule, world["a"])
            response = browser.get(url)
            body = response.get_data(as_text=True) if response.mimetype == "text/html" else None
            response.close()
            seen.append((role, rule.endpoint, url, response, body))
        for path in EXTRA_PATHS:
            response = browser.get(path)
            seen.append((role, None, path, response, response.get_data(as_text=True)))
    after = sec.snapshot(app)
    for role in ROLES:  # sign out too: the cookie that ends the session is checked with the others
        browser = browsers[role]
        assert browser.post("/auth/logout", data={"csrf_token": browser.csrf("/dashboard/")}).status_code in (302, 303)
    logins = [r for b in browsers.values() for r in b.responses if r.request.path in ("/auth/login", "/auth/logout")]
    return {"seen": seen, "before": before, "after": after, "browsers": browsers, "logins": logins}


def _csp(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def test_every_response_of_the_crawl_carries_the_security_headers(crawl):
    problems, html = [], 0
    for role, endpoint, url, response, body in crawl["seen"]:
        h = response.headers
        where = (role, url, response.status_code)
        if response.mimetype == "text/html":
            html += 1
            csp = _csp(h.get("Content-Security-Policy", ""))
            if any("'unsafe-inline'" in v or "'unsafe-eval'" in v for v in csp.values()):
                problems.append(("CSP allows inline or eval", where))
            for directive in ("object-src", "base-uri", "frame-ancestors"):
                if csp.get(directive) != ["'none'"]:
                    problems.append((f"CSP {directive} is not 'none'", where, csp.get(directive)))
            if "script-src" not in csp and "default-src" not in csp:
                problems.append(("CSP without script-src/default-src", where))
        hsts = h.get("Strict-Transport-Security", "")
        age = re.search(r"max-age=(\d+)", hsts)
        if not age or int(age.group(1)) < 31536000 or "includesubdomains" not in hsts.lower():
            problems.append(("HSTS", where, hsts))
        if h.get("X-Content-Type-Options") != "nosniff":
            problems.append(("nosniff", where))
        if h.get("Referrer-Policy") not in ("strict-origin-when-cross-origin", "same-origin", "strict-origin"):
            problems.append(("Referrer-Policy", where, h.get("Referrer-Policy")))
        if not h.get("Permissions-Policy") or "camera=()" not in h["Permissions-Policy"]:
            problems.append(("Permissions-Policy", where))
        if role is not None and "no-store" not in h.get("Cache-Control", ""):
            problems.append(("authenticated response may be cached", where, h.get("Cache-Control")))
    print(f"header crawl: {len(crawl['seen'])} responses, {html} HTML, {len(problems)} problems")
    assert html > 300
    assert not problems, problems[:30]


def test_every_cookie_is_host_prefixed_secure_httponly_lax(crawl):
    responses = [r for _, _, _, r, _ in crawl["seen"]] + [r for b in crawl["browsers"].values() for r in b.responses]
    cookies = [c for r in responses for c in r.headers.getlist("Set-Cookie")]
    problems = []
    for cookie in cookies:
        name = cookie.split("=", 1)[0]
        attributes = [a.strip().lower() for a in cookie.split(";")[1:]]
        if not name.startswith("__Host-"):
            problems.append(("name without __Host-", cookie))
        for needed in ("secure", "httponly", "samesite=lax", "path=/"):
            if needed not in attributes:
                problems.append((f"missing {needed}", cookie))
        if any(a.startswith("domain=") for a in attributes):
            problems.append(("Domain set", cookie))
    print(f"cookies: {len(cookies)} Set-Cookie headers, {len(problems)} problems")
    signed = [c for r in crawl["logins"] if r.request.method == "POST" for c in r.headers.getlist("Set-Cookie")]
    assert len(signed) >= 2 * len(ROLES)  # at least each sign-in's and each sign-out's cookie
    assert not problems, problems[:20]


def test_no_remember_me_cookie_is_ever_set(crawl):
    responses = [r for _, _, _, r, _ in crawl["seen"]] + [r for b in crawl["browsers"].values() for r in b.responses]
    assert not [c for r in responses for c in r.headers.getlist("Set-Cookie") if "remember" in c.lower()]


def test_the_get_crawl_as_every_role_changes_no_rows(crawl):
    before, after = crawl["before"], crawl["after"]
    assert sec.changed_tables(before, after) == []
    unexpected = [a for a in sec.new_audit_actions(before, after) if a not in AUDITED_READS]
    assert unexpected == [], unexpected
    gets = sum(1 for role, *_ in crawl["seen"] if role is not None)
    print(f"GET crawl: {gets} signed-in GETs as {len(ROLES)} roles, 0 rows changed")
    assert gets > 400


def test_no_page_a_role_can_open_shows_a_foreign_row(site, crawl):
    app, world = site
    foreign_b = world["b"]["markers"]
    # links to side B's objects: every object route with B's ids (the shared course catalogue aside)
    foreign_links = sorted({sec.url_for_rule(r, world["b"]) for r in app.url_map.iter_rules()
                            if r.arguments and "GET" in r.methods and not set(r.arguments) <= {"course_id", "audit_id"}
                            and not {"token", "filename"} & set(r.arguments)})
    link = re.compile(r'(?:href|action|data-[a-z-]+)="(' + "|".join(map(re.escape, foreign_links)) + r')(?:[?#"])')
    leaks, pages, lists = [], 0, 0
    # control: the administrator's pages do link to B's objects, so the pattern finds real links
    assert sum(1 for role, _, _, r, body in crawl["seen"] if role == "admin" and body and link.search(body)) > 5
    for role, endpoint, url, response, body in crawl["seen"]:
        if role in (None, "admin") or response.status_code != 200 or body is None:
            continue
        markers = foreign_b + (world["a"]["markers"] if role == "nobranch" else [])
        allowed = SHARED_BY_DESIGN.get(endpoint, ((),))[0]
        markers = [m for m in markers if not m.startswith(allowed)] if allowed else markers
        pages += 1
        lists += "<" not in url and not re.search(r"/\d+", url)
        found = [m for m in markers if m in body]
        found += [f"link {m}" for m in link.findall(body)]
        if found:
            leaks.append((role, url, found))
    print(f"leak crawl: {pages} pages open to non-admin roles ({lists} without an id), {len(foreign_links)} foreign"
          f" object URLs looked for, {len(leaks)} leaks")
    assert pages > 100 and len(foreign_links) > 30
    assert not leaks, leaks


def test_anonymous_sweep_every_rule_and_method_outside_the_allowlist_is_refused(site):
    app, world = site
    visitor = sec.Browser(app)
    unexpected, requests = [], 0
    registered_public = {r.endpoint for r in app.url_map.iter_rules() if sec.is_public(app, r)}
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = visitor.open(sec.url_for_rule(rule, world["a"]), method)
            response.close()
            requests += 1
            if rule.endpoint in PUBLIC:
                continue
            status = response.status_code
            if method in UNSAFE:
                ok = status in (302, 401, 403)
            else:
                ok = status == 401 or (status == 302 and "/auth/login" in response.headers["Location"])
            if not ok:
                unexpected.append((method, rule.rule, status))
    print(f"anonymous sweep: {requests} requests, {len(unexpected)} unexpected answers")
    assert not unexpected, unexpected
    assert registered_public <= set(PUBLIC), sorted(registered_public - set(PUBLIC))


def test_csrf_sweep_every_unsafe_rule_refuses_a_tokenless_request_and_writes_nothing(site):
    app, world = site
    csrf = app.extensions["csrf"]
    assert not csrf._exempt_views and not csrf._exempt_blueprints, "undocumented CSRF exemptions"
    assert app.config.get("WTF_CSRF_ENABLED", True) and app.config.get("WTF_CSRF_CHECK_DEFAULT", True)
    unsafe_rules = [(r, m) for r in app.url_map.iter_rules() for m in sorted(r.methods & UNSAFE)]
    browsers = {role: sec.sign_in(app, sec.email_of(world, role)) for role in ROLES}
    browsers[None] = sec.Browser(app)
    before = sec.snapshot(app)
    refused, wrong = 0, []
    for role, browser in browsers.items():
        for rule, method in unsafe_rules:
            url = sec.url_for_rule(rule, world["a"])
            for kind, kwargs in (("form", {"data": {"note": "x"}}),
                                 ("json", {"json": {"status": "cancelled"}})):
                response = browser.open(url, method, **kwargs)
                # the CSRF refusal itself (not a role or scope refusal): its message names the token
                if response.status_code in (400, 403) and "security token" in response.get_data(as_text=True):
                    refused += 1
                else:
                    wrong.append((role, method, url, kind, response.status_code))
        assert browser.get("/dashboard/" if role else "/auth/login").status_code == 200  # still signed in
    after = sec.snapshot(app)
    print(f"CSRF sweep: {len(unsafe_rules)} unsafe rules x {len(ROLES) + 1} sessions x 2 bodies, {refused} refused")
    assert not wrong, wrong[:20]
    assert sec.changed_tables(before, after) == []
    assert [a for a in sec.new_audit_actions(before, after) if a not in AUDITED_READS] == []
    assert len(unsafe_rules) > 50


def test_trace_is_405_and_a_bogus_host_is_400(site):
    app, _ = site
    client = app.test_client()
    for path in ("/auth/login", "/dashboard/", "/healthz"):
        assert client.open(path, method="TRACE", base_url=HTTPS).status_code == 405, path
    bogus = client.get("/auth/login", base_url="https://evil.example")
    assert bogus.status_code == 400
    assert client.get("/auth/login", base_url=HTTPS).status_code == 200
    assert client.get("/healthz", base_url=HTTPS).status_code == 200
