"""Public odds and ends: the landing redirect and the health probe (it reports maintenance mode)."""
from __future__ import annotations

import logging

from flask import Blueprint, g, jsonify, redirect, url_for
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
    maintenance = g.get("maintenance")  # set by bootstrap.maintenance_gate while maintenance mode is on
    if maintenance is not None and maintenance.on:
        # 200 even when the database is down: a load balancer must keep a host in maintenance (it
        # serves the maintenance page); monitors read "maintenance" and "database" from the body.
        return jsonify(status="ok" if ok else "error", database="ok" if ok else "unavailable", maintenance=True,
                       maintenance_since=maintenance.since_text)
    if ok:
        return jsonify(status="ok", database="ok")
    return jsonify(status="error", database="unavailable"), 503
