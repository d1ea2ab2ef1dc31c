"""The scheduling JSON API (the calendar uses it): list events, book, preview conflicts, move or cancel.

JSON only: every answer, errors included, is JSON with a message (app.core.auth.wants_json() treats
/api/ as JSON, so the app's error handlers answer JSON too). Session sign-in; writes carry the CSRF
token in the ``X-CSRFToken`` header (Flask-WTF checks it; pages carry it in ``<meta name="csrf-token">``).
Rules live in services/scheduling.py; this module only parses the request and shapes the answer.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from app.core import clock
from app.core.auth import ANY_ROLE, STAFF_ROLES, current_actor, roles_required
from app.core.errors import AppError, ValidationFailed
from app.core.flask_db import get_db
from app.services import scheduling
from app.services.scheduling import BookingConflict

bp = Blueprint("api_schedules", __name__, url_prefix="/api/schedules")

OUTCOME_STATUSES = ("completed", "not_completed", "no_show")
OUTCOME_FIELDS = ("student_rating", "student_feedback")


def _failure(status: int, message: str, field: str | None = None) -> AppError:
    error = AppError(message, field=field)
    error.status = status
    return error


def _body() -> dict:
    """The request's JSON object: 415 for another content type, 400 for malformed JSON or a non-object."""
    if request.mimetype != "application/json":
        raise _failure(415, "Send the body as JSON (Content-Type: application/json).", "body")
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
    return jsonify(error="conflict", message=exc.message, conflicts=exc.conflicts), 409


@bp.get("")
@roles_required(*ANY_ROLE)
def events():
    return jsonify(scheduling.list_events(get_db(), current_actor(), request.args, settings=current_app.config))


@bp.post("")
@roles_required(*STAFF_ROLES)
def create():
    booked = scheduling.book(get_db(), current_actor(), _body(), now=clock.now(), settings=current_app.config)
    return jsonify(id=booked.id, warnings=booked.warnings), 201


@bp.get("/conflicts")
@roles_required(*STAFF_ROLES)
def conflicts():
    found = scheduling.preview(get_db(), current_actor(), request.args.to_dict(), now=clock.now(),
                               settings=current_app.config)
    return jsonify(conflicts=[c.to_dict() for c in found])


@bp.patch("/<int:schedule_id>")
@roles_required(*STAFF_ROLES)
def update(schedule_id: int):
    db, actor = get_db(), current_actor()
    scheduling.get_schedule(db, actor, schedule_id)  # 404 outside the actor's scope, before the body is read
    data = _body()
    status = data.get("status")
    if status is not None:
        if status == "cancelled":
            extra = sorted(set(data) - {"status", "cancel_reason"})
            if extra:
                raise ValidationFailed("Cancel on its own, without other changes.", field=extra[0])
            scheduling.cancel(db, actor, schedule_id, data.get("cancel_reason"), now=clock.now())
            return jsonify(id=schedule_id, status="cancelled")
        if status in OUTCOME_STATUSES:
            raise ValidationFailed("Recording outcomes is not available yet.", field="status")
        raise ValidationFailed("Not a status this can change to (cancelled).", field="status")
    for name in OUTCOME_FIELDS:
        if name in data:
            raise ValidationFailed("Recording outcomes is not available yet.", field=name)
    if "cancel_reason" in data:
        raise ValidationFailed("Send status \"cancelled\" with the reason.", field="status")
    moved = scheduling.move(db, actor, schedule_id, data, now=clock.now(), settings=current_app.config)
    return jsonify(id=moved.id, warnings=moved.warnings)
