"""Lesson outcomes: the "awaiting an outcome" list, recording and correcting an outcome, reviving a
cancelled event. Placeholder: being built (issue 7)."""
from __future__ import annotations

from flask import Blueprint

from app.core.auth import roles_required
from app.core.errors import NotFound

bp = Blueprint("outcomes", __name__, url_prefix="/schedules")


@bp.get("/awaiting")
@roles_required("admin", "staff", "instructor")
def awaiting():
    raise NotFound("Not found")
