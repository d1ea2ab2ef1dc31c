"""Public odds and ends: the landing redirect and the health probe."""
from __future__ import annotations

import logging

from flask import Blueprint, jsonify, redirect, url_for
from flask_login import current_user

from app.core.auth import public
from app.core.errors import DatabaseUnavailable
from app.core.flask_db import get_db

bp = Blueprint("main", __name__)
log = logging.getLogger(__name__)


@bp.get("/")
@public
def home():
    return redirect(url_for("dashboard.index" if current_user.is_authenticated else "auth.login"))


@bp.get("/healthz")
@public
def healthz():
    try:
        ok = get_db().ping()
    except (DatabaseUnavailable, Exception):  # any driver failure means "not healthy"
        log.warning("health check: database unavailable", exc_info=True)
        ok = False
    if ok:
        return jsonify(status="ok", database="ok")
    return jsonify(status="error", database="unavailable"), 503
