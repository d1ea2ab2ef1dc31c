"""Calendar pages (the scheduler's home): week per instructor, student or vehicle, a branch's day with one
lane per instructor, a month overview and the printable day sheet. Placeholder: being built (issue 7)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("schedules", __name__, url_prefix="/schedules")
