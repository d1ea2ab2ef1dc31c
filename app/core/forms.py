"""Glue between service errors and Flask-WTF forms (so every form shows errors inline)."""
from __future__ import annotations

from flask_wtf import FlaskForm

from app.core.errors import AppError

GENERAL = "_general"


def apply_errors(form: FlaskForm, exc: AppError) -> None:
    """Attach a service error to the named field(s); anything unnamed becomes a general form error."""
    errors = exc.errors or {GENERAL: [exc.message]}
    for name, messages in errors.items():
        field = getattr(form, name, None) if name else None
        if field is not None and hasattr(field, "errors"):
            if isinstance(field.errors, tuple):
                field.errors = list(field.errors)
            field.errors.extend(messages)
        else:
            form.form_errors.extend(messages)


def blank_to_none(value):
    """WTForms filter: empty strings become None (optional dates/numbers stay NULL, not '')."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value
