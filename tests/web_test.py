"""Cross-cutting web behaviour: deny by default, error pages, headers, health, maintenance."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re

import pytest
from flask import Blueprint

from app.core.auth import is_public, roles_required
from tests.conftest import app_overrides, login

ADMIN = "admin@origin.com"
STUDENT = "jack.mason@student.com"


def test_every_endpoint_declares_who_may_use_it(app):
    with app.test_request_context():
        for endpoint, view in app.view_functions.items():
            declared = is_public(endpoint) or getattr(view, "_access_roles", None)
            assert declared, f"{endpoint} has neither @public nor @roles_required"


# The anonymous sweep (every rule x method, the public allowlist) and the CSRF sweep (every unsafe rule,
# every role, nothing written) live in tests/security/route_sweeps_test.py (production profile).


def test_undeclared_endpoint_is_denied_to_everyone(db_url, tmp_path):
    from app.bootstrap import create_app
    from app.services.seed import seed_demo
    from app.core import clock
    from app.core.flask_db import get_db

    app = create_app(app_overrides(db_url, tmp_path))
    extra = Blueprint("extra", __name__)

    @extra.get("/extra/undeclared")
    def undeclared():
        return "should never be seen"

    @extra.get("/extra/admin-only")
    @roles_required("admin")
    def admin_only():
        return "admins only"

    app.register_blueprint(extra)
    with app.app_context():
        seed_demo(get_db(), clock.now(), clock.today())
    admin = app.test_client()
    login(admin, ADMIN)
    assert admin.get("/extra/undeclared").status_code == 403
    assert admin.get("/extra/admin-only").status_code == 200
    student = app.test_client()
    login(student, STUDENT)
    denied = student.get("/extra/admin-only")
    assert denied.status_code == 403 and "You do not have access" in denied.get_data(as_text=True)


def test_unknown_route_is_a_friendly_404(seeded, client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "We could not find that page" in response.get_data(as_text=True)
    login(client, ADMIN)
    assert client.get("/no/such/page").status_code == 404


def test_json_clients_get_json_errors(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json["status"] == 404 and response.json["request_id"]


def test_oversized_body_is_413_and_writes_nothing(seeded, client):
    login(client, ADMIN)
    limit = seeded.config["MAX_CONTENT_LENGTH"]
    response = client.post("/auth/login", data={"email": "x@origin.com", "password": "p" * (limit + 1)})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_unexpected_error_is_a_500_page_without_internals(db_url, tmp_path):
    from app.bootstrap import create_app

    app = create_app(app_overrides(db_url, tmp_path, APP_ENV="staging"))
    boom = Blueprint("boom", __name__)

    @boom.get("/boom")
    @roles_required("admin", "staff", "instructor", "student")
    def explode():
        raise RuntimeError("SELECT secret FROM internals")

    app.register_blueprint(boom)
    app.view_functions["boom.explode"]._access_public = True  # reach it anonymously
    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in body and "SELECT" not in body and "RuntimeError" not in body
    request_id = response.headers["X-Request-ID"]
    assert request_id in body
    log_text = (tmp_path / "logs" / "application.log").read_text()
    assert request_id in log_text and "RuntimeError" in log_text


def test_security_headers_on_every_page(seeded, client):
    for path in ("/auth/login", "/healthz", "/no/such/page"):
        headers = client.get(path).headers
        assert "object-src 'none'" in headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Request-ID"]
    login(client, ADMIN)
    assert client.get("/dashboard/").headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(seeded, client):
    response = login(client, ADMIN)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_bootstrap_and_app_assets_are_served_locally(seeded, client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert "cdn.jsdelivr" not in html and "https://" not in html
    for asset in re.findall(r'(?:href|src)="(/[^"]+\.(?:css|js))"', html):
        response = client.get(asset)
        assert response.status_code == 200, asset
        response.close()


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_503_when_database_is_down(tmp_path):
    from app.bootstrap import create_app

    app = create_app(app_overrides("mysql://nobody@127.0.0.1:1/none", tmp_path, DB_CONNECT_TIMEOUT=1))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unavailable"}


def test_maintenance_mode_serves_503_but_keeps_health(db_url, tmp_path):
    from app.bootstrap import create_app

    app = create_app(app_overrides(db_url, tmp_path, MAINTENANCE_MODE=True))
    client = app.test_client()
    response = client.get("/dashboard/")
    assert response.status_code == 503 and "maintenance" in response.get_data(as_text=True)
    assert client.get("/auth/login").status_code == 200  # an administrator can still sign in
    assert client.get("/healthz").status_code == 200


def test_role_navigation_shows_only_what_the_role_may_open(seeded, client):
    login(client, STUDENT)
    html = client.get("/dashboard/").get_data(as_text=True)
    for href in re.findall(r'class="nav-link[^"]*"[^>]*href="([^"]+)"', html):
        assert client.get(href, follow_redirects=True).status_code == 200, href


@pytest.mark.parametrize("path", ["/dashboard/", "/account/password", "/account/", "/reminders/", "/my/data.json"])
def test_pages_require_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/auth/login?next=" in response.headers["Location"]
