"""The only Flask-aware database code: one Database per app context, closed at teardown."""
from __future__ import annotations

from flask import Flask, current_app, g

from app.config import database_url
from app.core.database import Database


def get_db() -> Database:
    if "db" not in g:
        g.db = Database.from_url(database_url(current_app.config), current_app.config["DB_CONNECT_TIMEOUT"])
    return g.db


def close_db(exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
