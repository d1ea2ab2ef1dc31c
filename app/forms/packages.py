"""The lesson-package forms (blueprints/packages.py): field holders for CSRF and the typed values; the
rules (credits a non-zero whole number, a reason required) are services/packages.py's."""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField


def _text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class AdjustForm(FlaskForm):
    enrollment_id = HiddenField()
    credits = StringField("Lessons (+ to add, − to take away)", filters=[_text],
                          render_kw={"type": "number", "step": "1", "inputmode": "numeric"})
    reason = StringField("Reason", filters=[_text], render_kw={"maxlength": "255"})
