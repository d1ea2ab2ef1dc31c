"""One event's pages: the booking form (prefilled from a calendar slot, live conflicts) and the event page
(move, cancel with a reason). Placeholder: being built (issue 7)."""
from __future__ import annotations

from flask import Blueprint, render_template

from app.core.auth import ANY_ROLE, STAFF_ROLES, roles_required
from app.core.errors import NotFound
from app.core.flask_db import get_db
from app.core.auth import current_actor
from app.services import scheduling

bp = Blueprint("events", __name__, url_prefix="/schedules")


@bp.get("/new")
@roles_required(*STAFF_ROLES)
def new():
    raise NotFound("Not found")


@bp.get("/<int:schedule_id>")
@roles_required(*ANY_ROLE)
def view(schedule_id: int):
    event = scheduling.get_schedule(get_db(), current_actor(), schedule_id)
    return render_template("events/view.html", event=event)
