"""Series forms (field rules only): book a series, change or cancel occurrences with a scope. Every value
goes as typed to services/series.py, which validates it and names the field that is wrong; the forms
carry the values, keep them for a re-render and mark the required fields."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.widgets import DateInput, NumberInput, TimeInput

from app.core.forms import optional_str
from app.forms.schedules import EVENT_TYPE_CHOICES, Marked, as_text, hhmm

INTERVAL_CHOICES = [("1", "Every week"), ("2", "Every 2 weeks"), ("3", "Every 3 weeks"), ("4", "Every 4 weeks")]
ENDS_CHOICES = [("count", "After a number of lessons"), ("until", "On a date")]
SCOPE_CHOICES = [("this", "This occurrence"), ("following", "This and the following ones"),
                 ("all", "All remaining occurrences")]


def _select(label: str, *marks, **kwargs) -> SelectField:
    return SelectField(label, validators=list(marks), coerce=optional_str, validate_choice=False, **kwargs)


def _date(label: str, *marks, **kwargs) -> StringField:
    return StringField(label, validators=list(marks), filters=[as_text], widget=DateInput(), **kwargs)


def _time(label: str, *marks, **kwargs) -> StringField:
    return StringField(label, validators=list(marks), filters=[hhmm], widget=TimeInput(), **kwargs)


class SeriesForm(FlaskForm):
    student_id = _select("Student", Marked())
    instructor_id = _select("Instructor", Marked())
    vehicle_id = _select("Vehicle")
    branch_id = HiddenField(filters=[as_text])
    event_type = SelectField("Event type", choices=EVENT_TYPE_CHOICES, default="lesson", coerce=optional_str,
                             validate_choice=False)
    first_date = _date("First lesson", Marked())
    start_time = _time("Start", Marked())
    end_time = _time("End", Marked())
    interval_weeks = SelectField("Repeats", choices=INTERVAL_CHOICES, default="1", coerce=optional_str,
                                 validate_choice=False)
    ends = RadioField("Ends", choices=ENDS_CHOICES, default="count", validate_choice=False)
    count = StringField("Number of lessons", filters=[as_text], widget=NumberInput(min=1, max=52), default="10")
    until_date = _date("Last possible date")
    topic = StringField("Topic", filters=[as_text])
    pickup_location = StringField("Pick-up location", filters=[as_text])
    notes = TextAreaField("Notes", filters=[as_text])
    accept_warnings = BooleanField("Book occurrences with warnings too (I accept the warnings)")
    submit = SubmitField("Book series")

    def values(self) -> dict:
        """The series as services.series.create takes it (only the chosen end: a count or a date)."""
        data = {name: self[name].data for name in (
            "student_id", "instructor_id", "vehicle_id", "event_type", "first_date", "start_time", "end_time",
            "interval_weeks", "topic", "pickup_location", "notes")}
        data["branch_id"] = self.branch_id.data or None
        data["accept_warnings"] = bool(self.accept_warnings.data)
        if self.ends.data == "until":
            data["until_date"] = self.until_date.data
        else:
            data["count"] = self.count.data
        return data


class SeriesChangeForm(FlaskForm):
    """Ids are given (``series_*``) so a page's other forms never share one."""

    scope = RadioField("Apply to", choices=SCOPE_CHOICES, default="this", validate_choice=False, id="series_scope")
    date = _date("Date (this occurrence only)", id="series_date")
    start_time = _time("Start", Marked(), id="series_start_time")
    end_time = _time("End", Marked(), id="series_end_time")
    instructor_id = _select("Instructor", Marked(), id="series_instructor_id")
    vehicle_id = _select("Vehicle", id="series_vehicle_id")
    accept_warnings = BooleanField("Move occurrences with warnings too (I accept the warnings)",
                                   id="series_accept_warnings")

    def changes(self, current: dict) -> dict:
        """Only what differs from ``current`` (the occurrence's values, as the form shows them): what is
        changed on this occurrence is applied to the others of the scope, and nothing else."""
        data = {}
        for name in ("date", "start_time", "end_time", "instructor_id", "vehicle_id"):
            value = self[name].data or None
            if value != (current.get(name) or None):
                data[name] = value if value is not None else ""
        if data:
            data["accept_warnings"] = bool(self.accept_warnings.data)
        return data


class SeriesCancelForm(FlaskForm):
    scope = RadioField("Cancel", choices=SCOPE_CHOICES, default="this", validate_choice=False,
                       id="series_cancel_scope")
    cancel_reason = StringField("Reason", validators=[Marked()], filters=[as_text], id="series_cancel_reason")
