"""The student portal's forms (blueprints/portal.py): field holders for CSRF and the typed values; the
rules are services/self_service.py's (it names every field that is wrong).

Each free time on the "find a slot" and reschedule pages is its own small form posting instructor_id,
date, start_time, duration_minutes, vehicle_id and pickup_location (hidden; the pick-up point is typed
in the GET "Find a time" form). A ``slot`` value ``instructor_id|date|start_time|vehicle_id``
(services/portal.slot_fields) is accepted too and wins over the separate fields.
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField

from app.forms.schedules import as_text, hhmm
from app.services import portal

SLOT_FIELDS = ("instructor_id", "date", "start_time", "vehicle_id")


class SlotForm(FlaskForm):
    slot = HiddenField(filters=[as_text])
    instructor_id = HiddenField(filters=[as_text])
    date = HiddenField(filters=[as_text])
    start_time = HiddenField(filters=[hhmm])
    vehicle_id = HiddenField(filters=[as_text])
    duration_minutes = HiddenField(filters=[as_text])
    pickup_location = HiddenField(filters=[as_text])

    def values(self) -> dict:
        """The booking as services.self_service.book / reschedule take it (the duration as
        portal.duration_value makes it)."""
        data = {name: self[name].data or None for name in SLOT_FIELDS}
        data.update(portal.slot_fields(self.slot.data))
        data["duration_minutes"] = portal.duration_value(self.duration_minutes.data)
        data["pickup_location"] = self.pickup_location.data or None
        return data


class CancelLessonForm(FlaskForm):
    reason = TextAreaField("Reason (optional)", filters=[as_text])
