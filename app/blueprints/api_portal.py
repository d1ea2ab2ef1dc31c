"""The student self-service JSON API (issue 8, item 3), students only (any other role: 403):

- ``GET /api/my/slots?duration_minutes=&instructor_id=``: 200 ``{"slots": [...]}``, the next free slots
  (two weeks, at most 200) of the student's instructors in their branch (services/portal.next_slots over
  self_service.next_slots; ``duration_minutes`` defaults to 60). A
  malformed parameter is 400 naming it; a duration outside the range or off the branch grid is 422; an
  instructor the student may not book is 404.
- ``POST /api/my/bookings`` (JSON object: ``instructor_id``, ``date``, ``start_time``,
  ``duration_minutes``, optional ``vehicle_id``, ``pickup_location``): 201 ``{"id"}``.
- ``POST /api/my/bookings/<id>/cancel`` (optional ``{"reason"}``): 200 ``{"id", "status": "cancelled"}``.
- ``POST /api/my/bookings/<id>/reschedule`` (like a booking; ``instructor_id`` optional = the same):
  200 ``{"id"}``.

Refusals: 409 ``{"error": "refused", "message", "reasons": [{"kind", "message"}, ...]}`` listing every
reason in words (a conflict also carries ``conflicts`` with their severity, like /api/schedules); 422
``{"error": "validation", "message", "fields"}`` naming each field; 400 naming ``body`` for another
content type, malformed JSON or a non-object; another student's lesson 404. JSON only, session sign-in,
writes send ``X-CSRFToken`` (like api_schedules.py). Rules live in services/self_service.py.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from app.core import clock
from app.core.auth import current_actor, roles_required
from app.core.errors import AppError, ValidationFailed
from app.core.flask_db import get_db
from app.core.params import parse_id, parse_int
from app.services import portal, self_service
from app.services.scheduling import BookingConflict

bp = Blueprint("api_portal", __name__, url_prefix="/api/my")

STUDENT = ("student",)
DEFAULT_DURATION = 60


def _failure(status: int, message: str, field: str | None = None) -> AppError:
    error = AppError(message, field=field)
    error.status = status
    return error


def _body(optional: bool = False) -> dict:
    """The request's JSON object (400 naming ``body`` otherwise); ``optional``: an empty body is {}."""
    if optional and not request.get_data(cache=True):
        return {}
    if request.mimetype != "application/json":
        raise _failure(400, "Send the body as JSON (Content-Type: application/json).", "body")
    data = request.get_json(silent=True)
    if data is None:
        raise _failure(400, "The body is not valid JSON.", "body")
    if not isinstance(data, dict):
        raise _failure(400, "The body must be a JSON object.", "body")
    return data


@bp.errorhandler(ValidationFailed)
def _validation(exc: ValidationFailed):
    fields = exc.errors or {exc.field or "body": [exc.message]}
    return jsonify(error="validation", message=exc.message, fields=fields), 422


@bp.errorhandler(BookingConflict)
def _conflict(exc: BookingConflict):
    reasons = [{"kind": c.get("kind"), "message": c.get("message")} for c in exc.conflicts]
    return jsonify(error="refused", message=exc.message, reasons=reasons, conflicts=exc.conflicts), 409


@bp.errorhandler(self_service.Refused)
def _refused(exc):
    reasons = list(getattr(exc, "reasons", None) or []) or [{"kind": "refused", "message": exc.message}]
    return jsonify(error="refused", message=exc.message, reasons=reasons), 409


@bp.get("/slots")
@roles_required(*STUDENT)
def slots():
    duration = DEFAULT_DURATION
    raw = request.args.get("duration_minutes")
    if raw not in (None, ""):
        duration = parse_int(raw, 0, 100_000)
        if duration is None:
            raise _failure(400, "duration_minutes must be a whole number of minutes.", "duration_minutes")
    instructor_id = None
    raw = request.args.get("instructor_id")
    if raw not in (None, ""):
        instructor_id = parse_id(raw)
        if instructor_id is None:
            raise _failure(400, "instructor_id must be an id.", "instructor_id")
    found = portal.next_slots(get_db(), current_actor(), duration_minutes=duration, now=clock.now(),
                              settings=current_app.config, instructor_id=instructor_id)
    return jsonify(slots=[_slot(s) for s in found])


def _booking() -> dict:
    """The body, its ``duration_minutes`` as the service can read it (portal.duration_value: text that
    is not ASCII digits is refused by name instead of failing inside the service)."""
    data = dict(_body())
    if isinstance(data.get("duration_minutes"), str):
        data["duration_minutes"] = portal.duration_value(data["duration_minutes"])
    return data


@bp.post("/bookings")
@roles_required(*STUDENT)
def create():
    booked = self_service.book(get_db(), current_actor(), _booking(), now=clock.now(), settings=current_app.config)
    return jsonify(id=booked.id), 201


@bp.post("/bookings/<int:schedule_id>/cancel")
@roles_required(*STUDENT)
def cancel(schedule_id: int):
    _own(schedule_id)  # another student's lesson: 404, before the body is read
    data = _body(optional=True)
    extra = sorted(set(data) - {"reason"})
    if extra:
        raise ValidationFailed("Only a reason may be sent with a cancellation.", field=extra[0])
    self_service.cancel(get_db(), current_actor(), schedule_id, data.get("reason"), now=clock.now(),
                        settings=current_app.config)
    return jsonify(id=schedule_id, status="cancelled")


@bp.post("/bookings/<int:schedule_id>/reschedule")
@roles_required(*STUDENT)
def reschedule(schedule_id: int):
    _own(schedule_id)
    moved = self_service.reschedule(get_db(), current_actor(), schedule_id, _booking(), now=clock.now(),
                                    settings=current_app.config)
    return jsonify(id=moved.id)


def _own(schedule_id: int) -> dict:
    return portal.own_lesson(get_db(), current_actor(), schedule_id, now=clock.now(), settings=current_app.config)


def _slot(slot: dict) -> dict:
    """A slot as JSON (dates and times as text)."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in slot.items()}
