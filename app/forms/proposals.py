"""The "propose a new time" form (blueprints/proposals.py): field holders for CSRF and the typed values.
Every value goes as typed to services/proposals.py, which validates it with the booking service's rules
and names the field that is wrong."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField

from app.forms.schedules import _date, _select, _time, as_text


class ProposeForm(FlaskForm):
    """Ids are given (``propose_*``) so they never clash with the event page's move form."""

    date = _date("New date", id="propose_date")
    start_time = _time("Start", id="propose_start_time")
    end_time = _time("End", id="propose_end_time")
    instructor_id = _select("Instructor", id="propose_instructor_id")
    vehicle_id = _select("Vehicle", id="propose_vehicle_id")
    message = TextAreaField("Message to the student", filters=[as_text], id="propose_message")

    def values(self, office: bool) -> dict:
        """The proposal as services.proposals.propose takes it (instructor and vehicle: the office only)."""
        data = {name: self[name].data for name in ("date", "start_time", "end_time", "message")}
        if office:
            data["instructor_id"] = self.instructor_id.data or None
            data["vehicle_id"] = self.vehicle_id.data or None
        return data
