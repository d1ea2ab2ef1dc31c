"""Instructor forms (field rules only; scope, uniqueness and end-after-start live in services.instructors)."""
from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, DecimalField, EmailField, SelectField, StringField, \
    TextAreaField, TimeField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from app.core.forms import DATETIME_FORMATS, PHONE, MoneyLike, WholeNumberField, blank_to_none, optional_int, \
    plausible_date, strip

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class InstructorForm(FlaskForm):
    first_name = StringField("First name", filters=[strip],
                             validators=[DataRequired("Enter the first name."), Length(max=80)])
    last_name = StringField("Last name", filters=[strip],
                            validators=[DataRequired("Enter the last name."), Length(max=80)])
    email = EmailField("E-mail address", filters=[strip], validators=[
        DataRequired("Enter the e-mail address."), Email("Enter a valid e-mail address."), Length(max=160)])
    phone = StringField("Phone", filters=[blank_to_none], validators=[Optional(), Length(max=32), PHONE])
    branch_id = SelectField("Branch", coerce=optional_int, validate_choice=True,
                            validators=[DataRequired("Choose a branch.")])
    certification_number = StringField("Certification number", filters=[blank_to_none],
                                       validators=[Optional(), Length(max=80)])
    accreditation_expiry = DateField("Accreditation expiry", validators=[Optional(), plausible_date])
    experience_years = WholeNumberField("Experience (years)", validators=[
        Optional(), NumberRange(0, 70, "Enter a number of years from 0 to 70.")])
    rating = DecimalField("Rating (0.00–5.00)", places=2, validators=[
        Optional(), MoneyLike(maximum=Decimal("5"), message="Enter a rating from 0.00 to 5.00.")])
    availability_notes = TextAreaField("Availability notes", filters=[blank_to_none],
                                       validators=[Optional(), Length(max=2000)])
    bio = TextAreaField("Bio", filters=[blank_to_none], validators=[Optional(), Length(max=5000)])

    def values(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}


class UnavailabilityForm(FlaskForm):
    start_datetime = DateTimeLocalField("Unavailable from", format=DATETIME_FORMATS,
                                        validators=[InputRequired("Enter when it starts."), plausible_date])
    end_datetime = DateTimeLocalField("Until", format=DATETIME_FORMATS,
                                      validators=[InputRequired("Enter when it ends."), plausible_date])
    reason = StringField("Reason", filters=[blank_to_none], validators=[Optional(), Length(max=160)])


class AvailabilityForm(FlaskForm):
    """Availability notes plus one start/end pair per weekday (0 = Monday .. 6 = Sunday); blank = day off."""

    availability_notes = TextAreaField("Availability notes", filters=[blank_to_none],
                                       validators=[Optional(), Length(max=2000)])

    def day_fields(self):
        """(weekday number, name, start field, end field) for each day of the week."""
        return [(d, WEEKDAYS[d], self[f"start_{d}"], self[f"end_{d}"]) for d in range(7)]

    def week(self) -> dict:
        return {d: (self[f"start_{d}"].data, self[f"end_{d}"].data) for d in range(7)}


for _day, _name in enumerate(WEEKDAYS):
    setattr(AvailabilityForm, f"start_{_day}", TimeField(f"{_name} start", validators=[Optional()]))
    setattr(AvailabilityForm, f"end_{_day}", TimeField(f"{_name} end", validators=[Optional()]))
