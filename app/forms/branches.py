"""Branch form (field rules only; lengths follow the branches table)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.core.forms import PHONE, blank_to_none


def _text(label: str, max_length: int, *extra):
    return StringField(label, filters=[blank_to_none], validators=[Optional(), Length(max=max_length), *extra])


class BranchForm(FlaskForm):
    name = StringField("Branch name", filters=[blank_to_none],
                       validators=[DataRequired("Enter the branch name."), Length(max=120)])
    email = EmailField("E-mail address", filters=[blank_to_none],
                       validators=[DataRequired("Enter the branch e-mail address."),
                                   Email("Enter a valid e-mail address."), Length(max=160)])
    phone = _text("Phone", 32, PHONE)
    address = _text("Street address", 255)
    city = _text("City / suburb", 80)
    state = _text("State", 50)
    postcode = _text("Postcode", 12)
    manager_name = _text("Manager", 120)
    opening_hours = _text("Opening hours", 160)
