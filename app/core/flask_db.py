"""The only Flask-aware database code: one Database per app context, closed at teardown.

The connection is built per request from ``current_app.config`` (so a changed DATABASE_URL takes
effect at the next request). Once the database has proved unreachable in a request
(``mark_unavailable``), ``get_db()`` raises at once instead of trying again: the error page and any
audit of the failure never open a second connection to a database that is down.
"""
from __future__ import annotations

from flask import Flask, current_app, g

from app.config import database_url
from app.core.database import Database
from app.core.errors import DatabaseUnavailable


def get_db() -> Database:
    down = g.get("database_unavailable")
    if down is not None:
        raise DatabaseUnavailable(down.message)
    if "db" not in g:
        g.db = Database.from_url(database_url(current_app.config), current_app.config["DB_CONNECT_TIMEOUT"])
    return g.db


def mark_unavailable(exc: DatabaseUnavailable) -> bool:
    """Remember for the rest of this request that the database is unreachable and drop the broken
    connection. True the first time (so the caller logs the outage once)."""
    first = g.get("database_unavailable") is None
    if first:
        g.database_unavailable = exc
    close_db()
    return first


def database_unavailable() -> DatabaseUnavailable | None:
    """The DatabaseUnavailable seen earlier in this request, if any."""
    return g.get("database_unavailable")


def close_db(exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
