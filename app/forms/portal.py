"""The student portal's forms (blueprints/portal.py): field holders for CSRF and the typed values; the
rules are services/self_service.py's (it names every field that is wrong).

Each day on the "find a slot" and reschedule pages is one small form (CSRF, duration_minutes and
pickup_location hidden; the pick-up point is typed in the GET "Find a time" form), and each free time
one of its submit buttons, posting ``slot`` = ``instructor_id|date|start_time|vehicle_id``
(services/portal.slot_fields). The separate fields instructor_id, date, start_time and vehicle_id are
accepted too (a page opened before the change posts them); ``slot`` wins over them.
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
