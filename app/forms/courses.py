"""Course form (field rules only; allocation rules live in services.courses)."""
from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, StopValidation

from app.core.forms import blank_to_none

MAX_PRICE = Decimal("99999999.99")  # DECIMAL(10,2)
STATUS_CHOICES = [("active", "Active"), ("inactive", "Inactive (retired)")]


def money_amount(form, field) -> None:
    """A finite amount from 0.00 to the column's maximum, with at most two decimals."""
    value = field.data
    if value is None:
        return
    if not value.is_finite() or value < 0 or value > MAX_PRICE:
        raise StopValidation("Enter an amount from 0.00 to 99,999,999.99.")
    if value != value.quantize(Decimal("0.01")):
        raise StopValidation("Use at most 2 decimals (cents).")


class CourseForm(FlaskForm):
    title = StringField("Title", filters=[blank_to_none],
                        validators=[DataRequired("Enter the course title."), Length(max=160)])
    category = StringField("Category", filters=[blank_to_none], validators=[Optional(), Length(max=80)])
    price = DecimalField("Price (ex. tax, AUD)", places=2,
                         validators=[InputRequired("Enter the price."), money_amount])
    lesson_count = IntegerField("Number of lessons",
                                validators=[InputRequired("Enter the number of lessons."),
                                            NumberRange(min=1, max=1000, message="Enter a number from 1 to 1000.")])
    status = SelectField("Status", choices=STATUS_CHOICES, default="active")
    description = TextAreaField("Description", filters=[blank_to_none], validators=[Optional(), Length(max=5000)],
                                render_kw={"rows": 4})
    instructor_ids = SelectMultipleField("Allocated instructors", coerce=int, validate_choice=False, default=[])
