"""Staff account forms (field rules only; uniqueness and branch existence are checked by services.staff)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from app.core.forms import PHONE, blank_to_none, branch_choices, optional_int, plausible_date

EMPLOYMENT_CHOICES = [("Full-time", "Full-time"), ("Part-time", "Part-time"), ("Casual", "Casual")]


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
        branch_choices(self.branch_id, branches)


class StaffCreateForm(StaffForm):
    email = EmailField("E-mail address", filters=[blank_to_none],
                       validators=[DataRequired("Enter the e-mail address."), Email("Enter a valid e-mail address."),
                                   Length(max=160)])


ROLE_CHOICES = [("staff", "Staff"), ("admin", "Administrator")]


class StaffRoleForm(FlaskForm):
    """Move an office account between staff and administrator (services.staff.change_role decides)."""

    role = SelectField("Role", choices=ROLE_CHOICES, validate_choice=True)
