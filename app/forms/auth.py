"""Sign-in and password forms (field rules only; business rules live in services)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.core.forms import strip


class LoginForm(FlaskForm):
    email = EmailField(
        "E-mail address",
        filters=[strip],
        validators=[DataRequired("Enter your e-mail address."), Email("Enter a valid e-mail address."), Length(max=160)],
    )
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=128)])
    submit = SubmitField("Sign in")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])
    new_password = PasswordField(
        "New password", validators=[DataRequired("Choose a new password."), Length(max=128)]
    )
    confirm_password = PasswordField(
        "Repeat new password",
        validators=[DataRequired("Repeat the new password."), EqualTo("new_password", "The passwords do not match.")],
    )
    submit = SubmitField("Change password")


class ConfirmForm(FlaskForm):
    """Re-authentication (/auth/confirm): the password, plus a code when a second factor is enrolled."""

    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=128)])
    code = StringField("Code from your authenticator app", filters=[strip],
                       validators=[Length(max=64,
                                          message="That is not a code: enter the 6 digits or a recovery code.")])


class LogoutForm(FlaskForm):
    """Empty form: exists so the sign-out button carries a CSRF token."""
