"""The public application form (field rules only; services/applications.py checks everything again)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from app.core.forms import PHONE, blank_to_none, optional_int, plausible_date, strip


class ApplyForm(FlaskForm):
    first_name = StringField("First name", filters=[strip],
                             validators=[DataRequired("Enter your first name."), Length(max=80)])
    last_name = StringField("Last name", filters=[strip],
                            validators=[DataRequired("Enter your last name."), Length(max=80)])
    email = EmailField("E-mail address", filters=[strip],
                       validators=[DataRequired("Enter your e-mail address."), Email("Enter a valid e-mail address."),
                                   Length(max=160)])
    phone = StringField("Phone", filters=[strip],
                        validators=[DataRequired("Enter a phone number."), Length(max=32), PHONE])
    date_of_birth = DateField("Date of birth", validators=[DataRequired("Enter your date of birth."), plausible_date])
    license_number = StringField("Licence number (if you have one)", filters=[blank_to_none],
                                 validators=[Optional(), Length(max=45)])
    branch_id = SelectField("Branch", coerce=optional_int, validate_choice=False,
                            validators=[DataRequired("Choose a branch.")])
    course_id = SelectField("Course", coerce=optional_int, validate_choice=False,
                            validators=[DataRequired("Choose a course.")])
    preferred_date = DateField("Preferred start date", validators=[Optional(), plausible_date])
    preferred_time = TimeField("Preferred time", validators=[Optional()])
    notes = TextAreaField("Anything we should know?", filters=[blank_to_none],
                          validators=[Optional(), Length(max=2000)])

    def set_choices(self, branches: list[dict], courses: list[dict]) -> None:
        self.branch_id.choices = [("", "Choose a branch…")] + [(b["id"], b["name"]) for b in branches]
        self.course_id.choices = [("", "Choose a course…")] + [
            (c["id"], f"{c['title']} ({c['lesson_count']} lessons, ${c['course_price']:,.2f})") for c in courses]

    def _in_choices(self, field, message):
        if field.data not in {value for value, _ in (field.choices or []) if value != ""}:
            raise ValidationError(message)

    def validate_branch_id(self, field):
        self._in_choices(field, "Choose a branch from the list.")

    def validate_course_id(self, field):
        self._in_choices(field, "Choose a course from the list.")

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in (
            "first_name", "last_name", "email", "phone", "date_of_birth", "license_number", "branch_id", "course_id",
            "preferred_date", "preferred_time", "notes")}
