"""The lesson outcome form (blueprints/outcomes.py): a field holder for CSRF and the typed values; the
rules are services/outcomes.py's."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField, TextAreaField

from app.services.outcomes import STATUS_LABELS


class OutcomeForm(FlaskForm):
    status = RadioField("Outcome", choices=list(STATUS_LABELS.items()), validate_choice=False)
    student_rating = RadioField("Rating", choices=[("", "No rating")] + [(str(n), str(n)) for n in range(1, 6)],
                                validate_choice=False)
    student_feedback = TextAreaField("Feedback for the student")
    notes = TextAreaField("Notes")
    correction_reason = StringField("Reason for the correction")
    seen_status = HiddenField()
    return_to = HiddenField()
