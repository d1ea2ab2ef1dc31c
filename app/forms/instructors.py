"""Instructor forms (field rules only; scope, uniqueness and end-after-start live in services.instructors).

The small validators at the top are also used by app.forms.fleet; they could move to app.core.forms.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, DecimalField, EmailField, IntegerField, SelectField, StringField, \
    TextAreaField, TimeField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, StopValidation, \
    ValidationError

from app.core.forms import blank_to_none

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def strip(value):
    return value.strip() if isinstance(value, str) else value


def optional_int(value):
    """SelectField coerce: '' / None -> None, otherwise an int (ValueError -> 'could not coerce')."""
    if value is None or value == "":
        return None
    return int(value)


def optional_str(value):
    if value is None or value == "":
        return None
    return str(value)


class DateRange:
    """Dates and datetimes between 1900 and 2100: catches typos like year 20226 or 0202."""

    def __init__(self, first: int = 1900, last: int = 2100):
        self.first, self.last = first, last

    def __call__(self, form, field):
        value = field.data
        if isinstance(value, (date, datetime)) and not self.first <= value.year <= self.last:
            raise ValidationError(f"Enter a date between {self.first} and {self.last}.")


class MoneyLike:
    """A finite Decimal with at most ``places`` decimals (stops NaN/Infinity before NumberRange)."""

    def __init__(self, places: int = 2, message: str | None = None):
        self.places = places
        self.message = message or f"Enter a number with at most {places} decimal places."

    def __call__(self, form, field):
        value = field.data
        if value is None:
            return
        if not isinstance(value, Decimal) or not value.is_finite() or abs(value) >= Decimal(10) ** 12:
            raise StopValidation(self.message)
        if value != value.quantize(Decimal(1).scaleb(-self.places)):
            raise StopValidation(self.message)


def branch_choices(field: SelectField, options: list[dict], blank: str = "Choose a branch") -> None:
    field.choices = [("", blank)] + [(b["id"], b["name"]) for b in options]


class InstructorForm(FlaskForm):
    first_name = StringField("First name", filters=[strip],
                             validators=[DataRequired("Enter the first name."), Length(max=80)])
    last_name = StringField("Last name", filters=[strip],
                            validators=[DataRequired("Enter the last name."), Length(max=80)])
    email = EmailField("E-mail address", filters=[strip], validators=[
        DataRequired("Enter the e-mail address."), Email("Enter a valid e-mail address."), Length(max=160)])
    phone = StringField("Phone", filters=[blank_to_none], validators=[Optional(), Length(max=32)])
    branch_id = SelectField("Branch", coerce=optional_int, validate_choice=True,
                            validators=[DataRequired("Choose a branch.")])
    certification_number = StringField("Certification number", filters=[blank_to_none],
                                       validators=[Optional(), Length(max=80)])
    accreditation_expiry = DateField("Accreditation expiry", validators=[Optional(), DateRange()])
    experience_years = IntegerField("Experience (years)", validators=[
        Optional(), NumberRange(0, 70, "Enter a number of years from 0 to 70.")])
    rating = DecimalField("Rating (0.00–5.00)", places=2, validators=[
        Optional(), MoneyLike(2, "Enter a rating from 0.00 to 5.00."),
        NumberRange(Decimal("0"), Decimal("5"), "Enter a rating from 0.00 to 5.00.")])
    availability_notes = TextAreaField("Availability notes", filters=[blank_to_none],
                                       validators=[Optional(), Length(max=2000)])
    bio = TextAreaField("Bio", filters=[blank_to_none], validators=[Optional(), Length(max=5000)])

    def values(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}


class UnavailabilityForm(FlaskForm):
    start_datetime = DateTimeLocalField("Unavailable from", format=DATETIME_FORMATS,
                                        validators=[InputRequired("Enter when it starts."), DateRange()])
    end_datetime = DateTimeLocalField("Until", format=DATETIME_FORMATS,
                                      validators=[InputRequired("Enter when it ends."), DateRange()])
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
