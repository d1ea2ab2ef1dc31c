"""Role dashboards. Unlike the original, viewing a dashboard sends nothing (no reminder run)."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from app.core import clock
from app.core.auth import ANY_ROLE, current_actor, roles_required
from app.core.flask_db import get_db
from app.services import dashboard

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


@bp.get("/")
@roles_required(*ANY_ROLE)
def index():
    data = dashboard.for_actor(get_db(), current_actor(), clock.today(), clock.now(), current_app.config)
    return render_template("dashboard/index.html", data=data, today=clock.today())
