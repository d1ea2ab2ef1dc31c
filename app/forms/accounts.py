"""Account activation form."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length


class ActivateForm(FlaskForm):
    password = PasswordField("Choose a password", validators=[DataRequired("Choose a password."), Length(max=128)])
    confirm_password = PasswordField("Repeat the password", validators=[DataRequired("Repeat the password.")])
