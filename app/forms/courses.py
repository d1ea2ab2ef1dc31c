"""Course form (field rules only; allocation rules live in services.courses)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DecimalField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.core.forms import WholeNumberField, blank_to_none, coerce_id, money_amount

STATUS_CHOICES = [("active", "Active"), ("inactive", "Inactive (retired)")]


class CourseForm(FlaskForm):
    title = StringField("Title", filters=[blank_to_none],
                        validators=[DataRequired("Enter the course title."), Length(max=160)])
    category = StringField("Category", filters=[blank_to_none], validators=[Optional(), Length(max=80)])
    price = DecimalField("Price (ex. tax, AUD)", places=2,
                         validators=[InputRequired("Enter the price."), money_amount])
    lesson_count = WholeNumberField("Number of lessons", validators=[
        InputRequired("Enter the number of lessons."), NumberRange(1, 1000, "Enter a number from 1 to 1000.")])
    status = SelectField("Status", choices=STATUS_CHOICES, default="active")
    description = TextAreaField("Description", filters=[blank_to_none], validators=[Optional(), Length(max=5000)],
                                render_kw={"rows": 4})
    instructor_ids = SelectMultipleField("Allocated instructors", coerce=coerce_id, validate_choice=False, default=[])
