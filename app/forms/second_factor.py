"""Second-factor forms (field rules only; services.second_factor judges the code)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.core.forms import strip


class CodeForm(FlaskForm):
    """The sign-in challenge: a 6-digit code or a recovery code (the service tells which)."""

    code = StringField(
        "Code",
        filters=[strip],
        validators=[DataRequired("Enter the 6-digit code from your authenticator app, or a recovery code."),
                    Length(max=32, message="A code is 6 digits; a recovery code 12 letters and digits.")],
    )
    submit = SubmitField("Verify")


class ConfirmForm(FlaskForm):
    """Enrolment: the first code from the new seed switches the factor on."""

    code = StringField(
        "Code from your app",
        filters=[strip],
        validators=[DataRequired("Enter the 6-digit code your authenticator app shows."),
                    Length(max=32, message="The code is 6 digits.")],
    )
    submit = SubmitField("Switch on")


class ActionForm(FlaskForm):
    """Empty: set up, cancel, new recovery codes, switch off (the button carries the CSRF token)."""


class ResetForm(FlaskForm):
    """An administrator resets another user's factor; ``next`` is the profile page to return to."""

    next = HiddenField(filters=[strip], validators=[Length(max=2000)])
