"""The anonymise confirm form (blueprints/privacy.py): the reason, required; services/privacy.py checks it
again (length, the student's own details cut out) and decides whether the student may be anonymised."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from app.core.forms import strip
from app.services.privacy import REASON_MAX


class AnonymiseForm(FlaskForm):
    reason = TextAreaField(
        "Reason", filters=[strip],
        validators=[DataRequired("Give the reason: for example when and how the student asked."),
                    Length(max=REASON_MAX, message=f"The reason can be at most {REASON_MAX} characters.")])
