"""Shared helpers of the security suite (tests/security/*_test.py; this module is not a test file).

- ``build_world(tmp, template, **settings)``: an app on a copy of the SQLite template with the two-branch
  world of tests/access_matrix_test.py (branches A and B, each with staff, instructor, student, lessons,
  invoices, documents..., every name carrying a marker such as ``ZzstudentB``), plus an administrator and
  a staff member without a branch. Returns (app, world).
- ``PRODUCTION``: the production profile as a deployment runs it (https, 32+ character key, the second
  factor required for admin and staff, TRUSTED_HOSTS); ``Browser`` is a test client that speaks https
  to that host and sends the Referer a browser sends (Flask-WTF's strict referrer check).
- ``sign_in(app, email)``: a signed-in Browser; for a role that must pass the second factor, the
  session is marked as having passed it (and as freshly re-authenticated), as the second-factor step
  itself does (tests/security/totp_attacks_test.py attacks that step).
- ``url_for_rule(rule, ids)``: a rule's URL with the world's ids; ``snapshot(app)``: every row of every
  table, to prove that a sweep wrote nothing.
"""
from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

from app.core import clock, passwords
from app.core.flask_db import get_db
from tests.conftest import DEMO_PASSWORD, app_overrides

HOST = "origin.example.com"
HTTPS = f"https://{HOST}"
PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "a-production-grade-secret-key-0123456789abcdef",
    "SECOND_FACTOR_ROLES": "admin,staff",
    "TRUSTED_HOSTS": HOST,
    "PREFERRED_URL_SCHEME": "https",
}
ROLES = ("admin", "staff", "instructor", "student", "nobranch")
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Tables whose rows a read may legitimately touch: the session registry (last seen), sign-in attempts,
# and the audit trail (and its hash chain head), which only gains the rows of audited reads and refusals (AUDITED_READS).
VOLATILE = {"user_sessions", "login_attempts", "audit_trail", "audit_chain"}


def restore_hashing() -> None:
    passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


def build_app(tmp: Path, template: Path, **settings):
    from app.bootstrap import create_app

    target = tmp / "security.sqlite3"
    shutil.copyfile(template, target)
    return create_app(app_overrides(f"sqlite:///{target}", tmp, **settings))


def build_world(tmp: Path, template: Path, **settings):
    from access_matrix_test import populate_world  # the access matrix's world, reused as it is

    app = build_app(tmp, template, **settings)
    return app, populate_world(app)


def email_of(world, role: str) -> str:
    return world["nobranch"] if role == "nobranch" else world["a"]["emails"][role]


class Browser:
    """A test client that talks to ``base`` (https in the production profile) like a browser: every
    request carries a same-origin Referer, and ``csrf()`` reads the page's token."""

    def __init__(self, app, base: str = HTTPS):
        self.app, self.base = app, base
        self.client = app.test_client()
        self.responses: list = []  # every response, for the cookie checks

    def open(self, path: str, method: str = "GET", **kwargs):
        headers = {"Referer": f"{self.base}/", **kwargs.pop("headers", {})}
        response = self.client.open(path, method=method, base_url=self.base, headers=headers, **kwargs)
        self.responses.append(response)
        return response

    def get(self, path: str, **kwargs):
        return self.open(path, "GET", **kwargs)

    def post(self, path: str, **kwargs):
        return self.open(path, "POST", **kwargs)

    def csrf(self, path: str = "/auth/login") -> str:
        html = self.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"|<meta name="csrf-token" content="([^"]+)"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1) or match.group(2)

    def cookie(self, name: str):
        return self.client.get_cookie(name, domain=HOST) or self.client.get_cookie(name)


def sign_in(app, email: str, password: str = DEMO_PASSWORD, base: str = HTTPS) -> Browser:
    browser = Browser(app, base)
    response = browser.post("/auth/login", data={"email": email, "password": password,
                                                 "csrf_token": browser.csrf("/auth/login")})
    assert response.status_code in (302, 303), (email, response.status_code)
    with app.app_context():
        db = get_db()
        now = clock.now()
        db.execute("UPDATE user_sessions SET second_factor_at = :now, reauthenticated_at = :now"
                   " WHERE user_id = (SELECT id FROM users WHERE email = :e)", {"now": now, "e": email})
    return browser


def url_for_rule(rule, ids: dict) -> str:
    """The rule's URL with ``ids`` (the access matrix's id names); a name it does not know is '1'."""
    def value(match):
        name = match.group(2)
        chosen = ids.get(name, 1)
        if isinstance(chosen, dict):
            chosen = chosen["vehicle" if "fleet" in rule.rule else "instructor"]
        return str(chosen)

    return re.sub(r"<(?:([^:>]+):)?([^>]+)>", value, rule.rule)


def declared(app, rule) -> frozenset:
    return getattr(app.view_functions[rule.endpoint], "_access_roles", None) or frozenset()


def is_public(app, rule) -> bool:
    return rule.endpoint in ("static", "bootstrap.static") or bool(
        getattr(app.view_functions[rule.endpoint], "_access_public", False))


def snapshot(app) -> dict[str, object]:
    """Every table's rows (a digest), the volatile tables left out; the audit trail as its rows' actions."""
    out: dict[str, object] = {}
    with app.app_context():
        db = get_db()
        for table in db.tables():
            if table in VOLATILE:
                continue
            rows = db.fetch_all(f"SELECT * FROM {table}")
            digest = hashlib.sha256(repr(sorted(repr(sorted(r.items())) for r in rows)).encode()).hexdigest()
            out[table] = (len(rows), digest)
        out["audit_trail"] = [r["action"] for r in db.fetch_all("SELECT action FROM audit_trail ORDER BY id")]
    return out


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(t for t in set(before) | set(after) if t != "audit_trail" and before.get(t) != after.get(t))


def new_audit_actions(before: dict, after: dict) -> list[str]:
    old = before["audit_trail"]
    new = after["audit_trail"]
    assert new[:len(old)] == old, "audit rows changed or vanished"
    return new[len(old):]
