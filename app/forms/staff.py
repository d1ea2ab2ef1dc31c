"""Staff account forms (field rules only; uniqueness and branch existence are checked by services.staff)."""
from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from app.core.forms import blank_to_none

EMPLOYMENT_CHOICES = [("Full-time", "Full-time"), ("Part-time", "Part-time"), ("Casual", "Casual")]
PHONE = Regexp(r"^[0-9+()./ -]*$", message="Use digits, spaces and + ( ) - . / only.")


def optional_int(value):
    """Select coercion: blank means no choice (None); anything else must be a whole number."""
    if value is None or value == "":
        return None
    return int(value)


def plausible_date(form, field) -> None:
    if field.data is not None and not date(1900, 1, 1) <= field.data <= date(2100, 12, 31):
        raise ValidationError("Enter a date between 1900 and 2100.")


class StaffForm(FlaskForm):
    """Fields an administrator may edit on an existing staff member."""

    first_name = StringField("First name", filters=[blank_to_none],
                             validators=[DataRequired("Enter the first name."), Length(max=80)])
    last_name = StringField("Last name", filters=[blank_to_none],
                            validators=[DataRequired("Enter the last name."), Length(max=80)])
    phone = StringField("Phone", filters=[blank_to_none], validators=[Optional(), Length(max=32), PHONE])
    branch_id = SelectField("Branch", coerce=optional_int, validate_choice=False,
                            validators=[DataRequired("Choose a branch.")])
    position_title = StringField("Position title", filters=[blank_to_none], validators=[Optional(), Length(max=100)])
    employment_type = SelectField("Employment type", choices=EMPLOYMENT_CHOICES, default="Full-time")
    start_date = DateField("Start date", validators=[Optional(), plausible_date])
    notes = TextAreaField("Notes", filters=[blank_to_none], validators=[Optional(), Length(max=5000)],
                          render_kw={"rows": 3})

    def set_branches(self, branches: list[dict]) -> None:
        self.branch_id.choices = [("", "Choose a branch…")] + [(b["id"], b["name"]) for b in branches]


class StaffCreateForm(StaffForm):
    email = EmailField("E-mail address", filters=[blank_to_none],
                       validators=[DataRequired("Enter the e-mail address."), Email("Enter a valid e-mail address."),
                                   Length(max=160)])
