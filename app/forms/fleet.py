"""Fleet forms (field rules only; plate uniqueness, branch scope and end-after-start live in services.fleet)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.core.forms import DATETIME_FORMATS, WholeNumberField, blank_to_none, money_amount, optional_int, \
    optional_str, plausible_date, strip

STATUS_CHOICES = [("available", "Available"), ("in_service", "In service"), ("maintenance", "Maintenance (retired)")]
TRANSMISSION_CHOICES = [("", "Not recorded"), ("Automatic", "Automatic"), ("Manual", "Manual")]
MAX_ODOMETER = 2_000_000


def upper_plate(value):
    return value.strip().upper() if isinstance(value, str) else value


class VehicleForm(FlaskForm):
    name = StringField("Name", filters=[strip], validators=[DataRequired("Enter the vehicle's name."), Length(max=120)])
    type = StringField("Type", filters=[blank_to_none], validators=[Optional(), Length(max=80)])
    transmission = SelectField("Transmission", choices=TRANSMISSION_CHOICES, coerce=optional_str)
    plate_number = StringField("Plate number", filters=[upper_plate],
                               validators=[DataRequired("Enter the plate number."), Length(max=20)])
    vin = StringField("VIN", filters=[blank_to_none], validators=[Optional(), Length(max=50)])
    branch_id = SelectField("Branch", coerce=optional_int)
    status = SelectField("Status", choices=STATUS_CHOICES, default="available",
                         validators=[DataRequired("Choose a status.")])
    odometer_km = WholeNumberField("Odometer (km)", validators=[
        Optional(), NumberRange(0, MAX_ODOMETER, f"Enter a distance from 0 to {MAX_ODOMETER:,} km.")])
    last_service_date = DateField("Last service", validators=[Optional(), plausible_date])
    next_service_due = DateField("Next service due", validators=[Optional(), plausible_date])
    notes = TextAreaField("Notes", filters=[blank_to_none], validators=[Optional(), Length(max=5000)])

    def values(self) -> dict:
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}


class ServiceLogForm(FlaskForm):
    service_date = DateField("Service date", validators=[InputRequired("Enter the service date."), plausible_date])
    odometer_km = WholeNumberField("Odometer (km)", validators=[
        Optional(), NumberRange(0, MAX_ODOMETER, f"Enter a distance from 0 to {MAX_ODOMETER:,} km.")])
    cost = DecimalField("Cost ($)", places=2, validators=[Optional(), money_amount])
    notes = TextAreaField("Work done", filters=[blank_to_none], validators=[Optional(), Length(max=2000)])


class DowntimeForm(FlaskForm):
    start_datetime = DateTimeLocalField("Off the road from", format=DATETIME_FORMATS,
                                        validators=[InputRequired("Enter when it starts."), plausible_date])
    end_datetime = DateTimeLocalField("Until", format=DATETIME_FORMATS,
                                      validators=[InputRequired("Enter when it ends."), plausible_date])
    reason = StringField("Reason", filters=[blank_to_none], validators=[Optional(), Length(max=160)])
