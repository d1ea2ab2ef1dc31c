"""Shared fixtures: every test that takes ``backend``/``db``/``app`` runs on SQLite and MariaDB.

MariaDB: TEST_DATABASE_URL (e.g. mysql://root@127.0.0.1:3306/origin_test), or a
local server at 127.0.0.1:3306 (root, no password) with database origin_test.
Without a server those cases are skipped with the reason, unless REQUIRE_MYSQL=1,
which turns the absence into a failure (CI sets it).
"""
from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from app.core import clock
from app.core.database import Database
from app.core.schema import drop_all, init_db

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_SQL = Path(os.environ.get("ORIGIN_REFERENCE_SQL") or ROOT.parent / "shared" / "reference" / "original-database.sql")
DEFAULT_MYSQL_URL = "mysql://root@127.0.0.1:3306/origin_test"
DEMO_PASSWORD = "Password123!"

# Cheap argon2 parameters keep the suite fast; production defaults are tested in passwords tests.
FAST_HASH = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1}


def mysql_url() -> str:
    """The MariaDB test database; under pytest-xdist each worker gets its own (name + "_gw0", ...)."""
    url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_MYSQL_URL
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"{url}_{worker}" if re.fullmatch(r"gw\d+", worker) else url


def server_database(url: str, name: str | None = None) -> Database:
    """A connection to the server of ``url`` with no default database (for CREATE/DROP DATABASE)."""
    base = re.sub(r"/[^/]*$", "/", url)
    return Database.from_url(base + (name or ""), connect_timeout=3)


_mysql_state: dict = {}


def mysql_status() -> tuple[bool, str]:
    """(available, reason); creates the test database when the server allows it."""
    if "ok" not in _mysql_state:
        url = mysql_url()
        try:
            name = url.rsplit("/", 1)[1]
            server = server_database(url)
            server.execute(
                f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
            server.close()
            probe = Database.from_url(url, connect_timeout=3)
            probe.ping()
            probe.close()
            _mysql_state.update(ok=True, reason="")
        except Exception as exc:  # no server, no rights, bad URL
            _mysql_state.update(ok=False, reason=f"MariaDB/MySQL not reachable at {url}: {type(exc).__name__}: {exc}")
    return _mysql_state["ok"], _mysql_state["reason"]


def require_mysql() -> None:
    ok, reason = mysql_status()
    if not ok:
        if os.environ.get("REQUIRE_MYSQL") == "1":
            pytest.fail("REQUIRE_MYSQL=1 but " + reason)
        pytest.skip(reason)


# The modules that take longest (browsers, sweeps, process tests), handed out first under pytest-xdist
# (`make test` runs --dist loadfile --no-loadscope-reorder): a two-minute module handed out last kept one
# worker busy for two minutes after the other had finished. The rest follow, largest first.
SLOW_MODULES = (
    "security/accessibility_test.py", "browser_test.py", "fuzz_forms_test.py", "dispatcher_concurrency_test.py",
    "browser_forms_test.py", "browser_schedule_test.py", "browser_finance_test.py", "browser_self_service_test.py",
    "deploy_test.py", "cli_test.py", "security/scanners_test.py", "password_reset_test.py", "page_queries_test.py",
)


def pytest_collection_modifyitems(config, items):
    """Order the modules: SLOW_MODULES first, then by number of tests; a module's tests keep their order."""
    files = [item.nodeid.split("::", 1)[0] for item in items]
    sizes = Counter(files)
    rank = {name: n for n, name in enumerate(SLOW_MODULES)}
    order = {id(item): (rank.get(path.removeprefix("tests/"), len(rank)), -sizes[path], path)
             for item, path in zip(items, files)}
    items.sort(key=lambda item: order[id(item)])


@pytest.fixture(autouse=True)
def _fast_password_hashing():
    """Every test starts with the cheap argon2 parameters (FAST_HASH), whatever an earlier test left: a
    test that hashes through the services without an app (factories, the booking worlds) would otherwise
    pay the production cost, about 0.1 s a password. Tests of the production parameters set them."""
    from app.core import passwords

    passwords.configure(FAST_HASH)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db = Database.from_url(f"sqlite:///{path}")
    init_db(db, clock.now())
    db.close()
    return path


@pytest.fixture(scope="session")
def ram_dir(tmp_path_factory):
    """A folder for the SQLite databases of module-wide sweeps (thousands of commits each): on tmpfs
    (/dev/shm) when the machine has one, so a commit costs no flush to disk (SQLite behaves the same
    otherwise); removed at the end of the session. Elsewhere a pytest temporary folder."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path_factory.mktemp("ram")
        return
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="origin-tests-", dir=shm))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def mysql_schema() -> str:
    """Create the schema once per session in the MariaDB test database."""
    require_mysql()
    url = mysql_url()
    db = Database.from_url(url)
    drop_all(db)
    init_db(db, clock.now())
    db.close()
    return url


def _empty_mysql(url: str) -> None:
    db = Database.from_url(url)
    tables = [t for t in db.tables() if t != "schema_migrations"]
    db.execute("SET FOREIGN_KEY_CHECKS = 0")
    for table in tables:
        db.execute(f"DELETE FROM `{table}`")
    db.execute("SET FOREIGN_KEY_CHECKS = 1")
    db.close()


@pytest.fixture(params=["sqlite", "mysql"])
def backend(request) -> str:
    if request.param == "mysql":
        require_mysql()
    return request.param


@pytest.fixture
def db_url(backend, request, tmp_path) -> str:
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "test.sqlite3"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    url = request.getfixturevalue("mysql_schema")
    _empty_mysql(url)
    return url


@pytest.fixture
def db(db_url):
    database = Database.from_url(db_url)
    yield database
    database.close()


def app_overrides(db_url: str, tmp_path: Path, **extra) -> dict:
    return {
        "APP_ENV": "local",
        "TESTING": True,
        "DATABASE_URL": db_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-1234",
        "LOG_DIR": str(tmp_path / "logs"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "MAIL_ENABLED": False,
        "SMS_ENABLED": False,
        # The bulk of the suite signs in with a password only; tests/security/ and the second-factor
        # tests set SECOND_FACTOR_ROLES="admin,staff" (the default) themselves.
        "SECOND_FACTOR_ROLES": "",
        # Every page counts its badges (the query-count tests compare pages); the badge cache's own test
        # (disruptions_views_test) sets the default, 60 s, itself.
        "NAV_BADGE_CACHE_SECONDS": 0,
        # Report CSVs are built on every request (tests change data with factories, outside the audit
        # trail the kept files are keyed on); export_cache_test turns the cache on itself.
        "EXPORT_CACHE_SECONDS": 0,
        "FIGURE_CACHE_SECONDS": 0,
        "EXPORT_CACHE_DIR": str(tmp_path / "exports"),
        **FAST_HASH,
        **extra,
    }


@pytest.fixture
def app(db_url, tmp_path):
    from app.core import passwords
    from app.bootstrap import create_app

    application = create_app(app_overrides(db_url, tmp_path))
    yield application
    passwords.configure({"ARGON2_TIME_COST": 3, "ARGON2_MEMORY_KIB": 65536, "ARGON2_PARALLELISM": 4})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def seeded(app):
    """The demo data set (4 demo accounts and the original's small school with its six lessons) in the
    test database. Without the lived-in fortnight (seed_demo(lived_in=False)): per-test seeding stays
    fast on MariaDB. tests/seed_test.py and the browser suite use the whole demo."""
    from app.core.flask_db import get_db
    from app.services.seed import seed_demo

    with app.app_context():
        seed_demo(get_db(), clock.now(), clock.today(), lived_in=False)
    return app


@pytest.fixture
def frozen():
    """Freeze the clock; call frozen(datetime) to move it."""
    def move(at):
        clock.set_frozen(at)
    yield move
    clock.set_frozen(None)


_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client, path: str = "/auth/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = _TOKEN.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def login(client, email: str, password: str = DEMO_PASSWORD, follow: bool = False):
    token = csrf_token(client)
    return client.post(
        "/auth/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=follow,
    )


def post_form(client, path: str, data: dict | None = None, token_from: str = "/dashboard/", **kwargs):
    payload = dict(data or {})
    payload["csrf_token"] = csrf_token(client, token_from)
    return client.post(path, data=payload, **kwargs)


def session_contents(app, client, *responses) -> str:
    """Everything the session cookie carries, decoded: Flask signs it but does not encrypt it, so whoever
    holds the cookie can read it. Covers the client's cookie and every Set-Cookie of ``responses``."""
    import json

    serializer = app.session_interface.get_signing_serializer(app)
    name = app.config["SESSION_COOKIE_NAME"]
    values = [header.split(";", 1)[0].split("=", 1)[1] for r in responses for header in r.headers.getlist("Set-Cookie")
              if header.startswith(name + "=")]
    cookie = client.get_cookie(name)
    values += [cookie.value] if cookie is not None else []
    assert values, "no session cookie to inspect"
    return json.dumps([serializer.loads(v) for v in values if v])
