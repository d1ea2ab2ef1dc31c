"""Account activation, e-mail change and sessions forms."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from app.core.forms import strip


class ActivateForm(FlaskForm):
    password = PasswordField("Choose a password", validators=[DataRequired("Choose a password."), Length(max=128)])
    confirm_password = PasswordField("Repeat the password", validators=[DataRequired("Repeat the password.")])


class EmailChangeForm(FlaskForm):
    """The signed-in user's new sign-in address (validity and uniqueness: services.account_security)."""

    new_email = EmailField(
        "New e-mail address",
        filters=[strip],
        validators=[DataRequired("Enter the new e-mail address."),
                    Email("Enter a valid e-mail address, like name@example.com."),
                    Length(max=160, message="An e-mail address has at most 160 characters.")],
    )


class SessionsForm(FlaskForm):
    """Empty form: the sign-out buttons of the sessions page carry a CSRF token."""
