"""Lesson outcomes: the "awaiting an outcome" list, recording and correcting an outcome, reviving a
cancelled event. Placeholder: being built (issue 7)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("outcomes", __name__, url_prefix="/schedules")
