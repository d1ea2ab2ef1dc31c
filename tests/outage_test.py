"""Database outage: every page answers the styled 503 page (JSON clients a 503 body), never a 500.

The database is made unreachable after the test has signed in by pointing ``DATABASE_URL`` at a
place that cannot be opened: ``flask_db.get_db`` builds the connection per request from
``app.config``, so the next request meets the outage. The error page itself must not try the
database again (at most one connection attempt per request) and the outage is logged once with
the request id.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import re

import pytest
from flask import Blueprint, render_template_string

from app.core import database
from app.core.auth import roles_required
from app.core.errors import DatabaseUnavailable
from tests.conftest import app_overrides, csrf_token, login

STAFF = "operations@origin.com"


def unreachable(backend: str, tmp_path) -> str:
    """A URL whose connection fails at once: nothing listens on port 1; a directory is no SQLite file."""
    return "mysql://root@127.0.0.1:1/nope" if backend == "mysql" else f"sqlite:///{tmp_path}"


@pytest.fixture
def down(seeded, backend, tmp_path):
    """Call to make the database unreachable from the next request on; returns the working URL."""
    working = seeded.config["DATABASE_URL"]
    seeded.config["DB_CONNECT_TIMEOUT"] = 1

    def go_down() -> str:
        seeded.config["DATABASE_URL"] = unreachable(backend, tmp_path)
        return working

    return go_down


@pytest.fixture
def connects(monkeypatch):
    """Counts connection attempts (both dialects)."""
    attempts = []
    for dialect in (database.SqliteDialect, database.MysqlDialect):
        original = dialect.connect

        def counting(self, _original=original):
            attempts.append(type(self).__name__)
            return _original(self)

        monkeypatch.setattr(dialect, "connect", counting)
    return attempts


def assert_outage_page(response) -> str:
    body = response.get_data(as_text=True)
    assert response.status_code == 503, body[:500]
    assert response.mimetype == "text/html"
    assert "<title>Temporarily unavailable" in body and "Error 503" in body
    assert "/static/css/app.css" in body  # the styled page, not a bare error
    request_id = response.headers["X-Request-ID"]
    assert re.search(rf'<code class="error-ref"[^>]*>{re.escape(request_id)}</code>', body)
    assert "Try again" in body
    assert 'action="/auth/logout"' not in body and "app-sidebar" not in body  # minimal shell
    assert "127.0.0.1" not in body and "sqlite" not in body.lower()  # no connection details
    return body


def log_text(app) -> str:
    with open(f"{app.config['LOG_DIR']}/application.log", encoding="utf-8") as handle:
        return handle.read()


def test_anonymous_sign_in_page_and_form_answer_503(seeded, client, down, connects):
    token = csrf_token(client)
    down()
    connects.clear()
    assert_outage_page(client.get("/auth/login"))
    assert_outage_page(client.post("/auth/login", data={"email": STAFF, "password": "Password123!",
                                                        "csrf_token": token}))
    assert_outage_page(client.get("/", follow_redirects=True))
    assert len(connects) == 3  # one attempt per request, none from the error page


def test_signed_in_pages_answer_503_with_one_connection_attempt(seeded, client, down, connects):
    login(client, STAFF)
    down()
    for path in ("/dashboard/", "/students/", "/no/such/page", "/account/password"):
        connects.clear()
        assert_outage_page(client.get(path))
        assert len(connects) == 1, (path, connects)


def test_signed_in_posts_answer_503_never_500(seeded, client, down):
    login(client, STAFF)
    token = csrf_token(client, "/students/new")
    down()
    assert_outage_page(client.post("/students/new", data={"csrf_token": token, "first_name": "Ada",
                                                          "last_name": "Lovelace"}))
    assert_outage_page(client.post("/auth/logout", data={"csrf_token": token}))
    # A form whose token is missing is refused (403) before access control; its error page needs
    # the user, meets the outage and answers 503 rather than failing inside the error handler.
    assert_outage_page(client.post("/students/new", data={}))


def test_json_clients_get_a_503_body(seeded, client, down):
    login(client, STAFF)
    down()
    response = client.get("/students/", headers={"Accept": "application/json"})
    assert response.status_code == 503 and response.mimetype == "application/json"
    assert response.json["status"] == 503
    assert response.json["request_id"] == response.headers["X-Request-ID"]
    assert "database" in response.json["error"] and "127.0.0.1" not in response.json["error"]
    assert response.headers["Retry-After"] == "30"


def test_healthz_answers_503_signed_in_or_not(seeded, client, down):
    login(client, STAFF)
    down()
    for who in (client, seeded.test_client()):
        response = who.get("/healthz")
        assert response.status_code == 503
        assert response.json == {"status": "error", "database": "unavailable"}


def test_outage_is_logged_once_with_the_request_id(seeded, client, down):
    login(client, STAFF)
    down()
    response = client.get("/students/")
    assert response.status_code == 503
    request_id = response.headers["X-Request-ID"]
    lines = [line for line in log_text(seeded).splitlines() if f"[{request_id}]" in line]
    assert len([line for line in lines if "database unavailable" in line]) == 1, lines
    assert not [line for line in lines if "unhandled error" in line], lines


def test_signed_in_user_is_still_signed_in_when_the_database_is_back(seeded, client, down):
    login(client, STAFF)
    working = down()
    assert client.get("/dashboard/").status_code == 503
    seeded.config["DATABASE_URL"] = working
    page = client.get("/dashboard/")
    assert page.status_code == 200 and 'action="/auth/logout"' in page.get_data(as_text=True)


def test_database_lost_in_a_view_or_a_template_is_the_503_page(db_url, tmp_path, connects):
    from app.bootstrap import create_app
    from app.core import clock
    from app.core.flask_db import get_db
    from app.services.seed import seed_demo

    app = create_app(app_overrides(db_url, tmp_path))
    extra = Blueprint("lost", __name__)

    def lose():
        raise DatabaseUnavailable("Lost connection to the database; try again")

    @extra.get("/lost/view")
    @roles_required("staff")
    def in_view():
        get_db().ping()
        lose()

    @extra.get("/lost/template")
    @roles_required("staff")
    def in_template():
        return render_template_string("{% extends 'base.html' %}{% block content %}{{ lose() }}{% endblock %}",
                                      lose=lose)

    app.register_blueprint(extra)
    with app.app_context():
        seed_demo(get_db(), clock.now(), clock.today())
    client = app.test_client()
    login(client, STAFF)
    for path in ("/lost/view", "/lost/template"):
        connects.clear()
        # The user was loaded before the failure, yet the outage page keeps to the minimal shell.
        assert_outage_page(client.get(path))
        # At most the request's own connection (none when it reuses the thread's idle SQLite connection,
        # app/core/flask_db.py); the error page adds none.
        assert len(connects) <= 1, (path, connects)



def test_a_sqlite_path_that_cannot_be_created_is_503_not_500(tmp_path):
    """The folder of the database file is a regular file: mkdir fails with an OSError."""
    from app.bootstrap import create_app
    from tests.conftest import app_overrides

    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    application = create_app(app_overrides(f"sqlite:///{blocker}/x.sqlite3", tmp_path))
    response = application.test_client().get("/auth/login")
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.get_data(as_text=True)
