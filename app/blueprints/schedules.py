"""Calendar pages (the scheduler's home): week per instructor, student or vehicle, a branch's day with one
lane per instructor, a month overview and the printable day sheet. Placeholder: being built (issue 7)."""
from __future__ import annotations

from flask import Blueprint, render_template

from app.core.auth import ANY_ROLE, roles_required
from app.core.errors import NotFound

bp = Blueprint("schedules", __name__, url_prefix="/schedules")


@bp.get("/")
@roles_required(*ANY_ROLE)
def index():
    return render_template("schedules/placeholder.html")


@bp.get("/week")
@roles_required(*ANY_ROLE)
def week():
    raise NotFound("Not found")


@bp.get("/day")
@roles_required(*ANY_ROLE)
def day():
    raise NotFound("Not found")


@bp.get("/month")
@roles_required(*ANY_ROLE)
def month():
    raise NotFound("Not found")


@bp.get("/sheet")
@roles_required(*ANY_ROLE)
def sheet():
    raise NotFound("Not found")
