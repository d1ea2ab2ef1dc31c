"""Booking, move and cancel forms (field rules only). Every value goes as typed to services/scheduling.py,
which validates it (the one rule set, shared with the JSON API) and names the field that is wrong; the
forms only carry the values, keep them for a re-render and mark the required fields."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.widgets import DateInput, TimeInput

from app.core.forms import optional_str

EVENT_TYPE_CHOICES = [("lesson", "Lesson"), ("exam", "VicRoads Exam"), ("assessment", "Assessment")]
_WITH_SECONDS = re.compile(r"([0-9]{2}:[0-9]{2}):00", re.ASCII)


class Marked:
    """Marks a field as required (the label's asterisk, ``required`` on the input); the booking service
    decides and names what is missing."""

    field_flags = {"required": True}

    def __call__(self, form, field) -> None:
        return None


def as_text(value):
    """Text as typed, without surrounding spaces (the service turns blank into no value)."""
    return value.strip() if isinstance(value, str) else value


def hhmm(value):
    """A time input's value as HH:MM (some browsers post HH:MM:00)."""
    if isinstance(value, str):
        value = value.strip()
        match = _WITH_SECONDS.fullmatch(value)
        if match:
            return match.group(1)
    return value


def _select(label: str, *marks, **kwargs) -> SelectField:
    # Choices are the branch's options; a value outside them is for the service to refuse (422 naming the field).
    return SelectField(label, validators=list(marks), coerce=optional_str, validate_choice=False, **kwargs)


def _date(label: str, **kwargs) -> StringField:
    return StringField(label, validators=[Marked()], filters=[as_text], widget=DateInput(), **kwargs)


def _time(label: str, **kwargs) -> StringField:
    return StringField(label, validators=[Marked()], filters=[hhmm], widget=TimeInput(), **kwargs)


class BookingForm(FlaskForm):
    student_id = _select("Student", Marked())
    instructor_id = _select("Instructor", Marked())
    vehicle_id = _select("Vehicle")
    branch_id = HiddenField(filters=[as_text])
    event_type = SelectField("Event type", choices=EVENT_TYPE_CHOICES, default="lesson", coerce=optional_str,
                             validate_choice=False)
    date = _date("Date")
    start_time = _time("Start")
    end_time = _time("End")
    topic = StringField("Topic", filters=[as_text])
    pickup_location = StringField("Pick-up location", filters=[as_text])
    notes = TextAreaField("Notes", filters=[as_text])
    accept_warnings = BooleanField("Book anyway, I accept the warnings")
    submit = SubmitField("Book")
    check = SubmitField("Check this slot")

    def values(self) -> dict:
        """The booking as services.scheduling.book and preview take it."""
        data = {name: self[name].data for name in (
            "student_id", "instructor_id", "vehicle_id", "event_type", "date", "start_time", "end_time",
            "topic", "pickup_location", "notes")}
        data["branch_id"] = self.branch_id.data or None
        data["accept_warnings"] = bool(self.accept_warnings.data)
        return data


class MoveForm(FlaskForm):
    """Ids are given (``move_*``) so the event page's other forms never share one."""

    date = _date("Date", id="move_date")
    start_time = _time("Start", id="move_start_time")
    end_time = _time("End", id="move_end_time")
    instructor_id = _select("Instructor", Marked(), id="move_instructor_id")
    vehicle_id = _select("Vehicle", id="move_vehicle_id")
    notes = TextAreaField("Notes", filters=[as_text], id="move_notes")
    accept_warnings = BooleanField("Move anyway, I accept the warnings", id="move_accept_warnings")

    def changes(self) -> dict:
        """The move as services.scheduling.move takes it."""
        data = {name: self[name].data for name in ("date", "start_time", "end_time", "instructor_id", "vehicle_id",
                                                     "notes")}
        data["accept_warnings"] = bool(self.accept_warnings.data)
        return data


class CancelForm(FlaskForm):
    cancel_reason = StringField("Reason", validators=[Marked()], filters=[as_text])
