"""app/core/flask_db.py keeps a MariaDB connection for the main thread's next request (a gunicorn sync
worker): the same server connection serves consecutive requests; a transaction left open is rolled back
(its row locks with it) before it is kept; a connection the server killed, or whose database was dropped
and created again, is replaced without the request noticing; another thread never keeps one."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

import threading

import pytest

from app.bootstrap import create_app
from app.core import flask_db
from app.core.database import Database
from tests.conftest import app_overrides, mysql_url, require_mysql

pytestmark = pytest.mark.mysql_only


@pytest.fixture
def app(mysql_schema, tmp_path):
    require_mysql()
    application = create_app(app_overrides(mysql_schema, tmp_path))
    yield application
    kept = flask_db._idle.db
    flask_db._idle.db = None
    if kept is not None:
        kept.close()


def _connection_id(app) -> int:
    with app.app_context():
        return int(flask_db.get_db().fetch_value("SELECT CONNECTION_ID()"))


def test_consecutive_requests_share_one_server_connection(app):
    first = _connection_id(app)
    assert _connection_id(app) == first
    assert flask_db._idle.db is not None and flask_db._idle.url == mysql_url()


def test_an_open_transaction_is_rolled_back_before_the_connection_is_kept(app):
    with app.app_context():
        db = flask_db.get_db()
        db.execute("DELETE FROM branches WHERE name = 'Kept'")
        db.execute("START TRANSACTION")
        db._depth = 1  # as a transaction() block left open by a view would be
        db.execute("INSERT INTO branches (name) VALUES ('Kept')")
    with app.app_context():
        assert flask_db.get_db().fetch_value("SELECT COUNT(*) FROM branches WHERE name = 'Kept'") == 0
    other = Database.from_url(mysql_url())
    try:
        other.execute("SET SESSION innodb_lock_wait_timeout = 1")
        other.execute("INSERT INTO branches (name) VALUES ('Kept')")  # no lock was left behind
        other.execute("DELETE FROM branches WHERE name = 'Kept'")
    finally:
        other.close()


def test_a_killed_connection_is_replaced(app):
    first = _connection_id(app)
    admin = Database.from_url(mysql_url())
    try:
        admin.execute(f"KILL CONNECTION {first}")
    finally:
        admin.close()
    second = _connection_id(app)
    assert second != first


def test_a_database_dropped_and_created_again_is_selected_anew(app, tmp_path):
    name = "origin_reuse_probe"
    server = Database.from_url(mysql_url().rsplit("/", 1)[0] + "/")
    url = mysql_url().rsplit("/", 1)[0] + "/" + name
    try:
        server.execute(f"CREATE DATABASE IF NOT EXISTS {name}")
        probe = create_app(app_overrides(url, tmp_path))
        with probe.app_context():
            flask_db.get_db().execute("CREATE TABLE t (n INT)")
        server.execute(f"DROP DATABASE {name}")
        server.execute(f"CREATE DATABASE {name}")
        with probe.app_context():
            db = flask_db.get_db()
            db.execute("CREATE TABLE t (n INT)")        # the kept connection works on the new database
            assert db.fetch_value("SELECT DATABASE()") == name
    finally:
        kept, flask_db._idle.db = flask_db._idle.db, None
        if kept is not None:
            kept.close()
        server.execute(f"DROP DATABASE IF EXISTS {name}")
        server.close()


def test_another_thread_does_not_keep_its_connection(app):
    seen = []

    def request():
        with app.app_context():
            flask_db.get_db().fetch_value("SELECT 1")
        seen.append(flask_db._idle.db)

    worker = threading.Thread(target=request)
    worker.start()
    worker.join()
    assert seen == [None]
