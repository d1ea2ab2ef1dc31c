"""Forgot-password and reset forms (field rules only; the password policy lives in services.password_policy)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length

from app.core.forms import strip


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "E-mail address",
        filters=[strip],
        validators=[DataRequired("Enter your e-mail address."), Email("Enter a valid e-mail address."), Length(max=160)],
    )


class ResetPasswordForm(FlaskForm):
    # No Length here: the policy's own message ("at most 128 characters") names the rule.
    password = PasswordField("New password", validators=[DataRequired("Choose a new password.")],
                             render_kw={"data-password-strength": ""})
    confirm_password = PasswordField("Repeat the new password", validators=[DataRequired("Repeat the new password.")])
