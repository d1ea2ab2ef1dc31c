"""The scheduling JSON API (the calendar uses it): list events, book, preview conflicts, move, cancel,
revive, and record or correct outcomes.

``PATCH /api/schedules/<id>`` decides by the body: ``status`` cancelled (with ``cancel_reason``) cancels;
``status`` scheduled (optionally ``accept_warnings``) revives a cancelled event, re-checked like a booking
(409 with every conflict); ``status`` completed / not_completed / no_show, with ``notes``,
``student_rating``, ``student_feedback`` and ``correction_reason``, records the outcome
(services/outcomes.py); ``student_rating``/``student_feedback``/``correction_reason`` without a status
(or only ``notes`` on an event that already has an outcome) correct it; anything else is a move. An
instructor may PATCH only their own lessons (another instructor's: 404, before the body is read) and only
outcome fields (anything else: 403). An outcome answers 200 ``{"id", "status", "student_rating",
"student_feedback", "notes", "completion_marked_by", "completion_marked_at", "corrected"}``; a revival
``{"id", "status", "warnings"}``; someone else recording first, 409 ``{"error": "changed", "fields"}``.

JSON only: every answer, errors included, is JSON with a message (app.core.auth.wants_json() treats
/api/ as JSON, so the app's error handlers answer JSON too). Session sign-in; writes carry the CSRF
token in the ``X-CSRFToken`` header (Flask-WTF checks it; pages carry it in ``<meta name="csrf-token">``).
Rules live in services/scheduling.py; this module only parses the request and shapes the answer.
"""
from __future__ import annotations

from datetime import timezone

from flask import Blueprint, current_app, jsonify, request

from app.core import clock
from app.core.auth import ANY_ROLE, STAFF_ROLES, current_actor, roles_required
from app.core.errors import AppError, ValidationFailed
from app.core.flask_db import get_db
from app.services import outcomes, scheduling
from app.services.scheduling import BookingConflict

bp = Blueprint("api_schedules", __name__, url_prefix="/api/schedules")

OUTCOME_STATUSES = outcomes.OUTCOME_STATUSES
OUTCOME_FIELDS = ("student_rating", "student_feedback", "correction_reason")  # an outcome even without status
RECORDER_ROLES = ("admin", "staff", "instructor")


def _failure(status: int, message: str, field: str | None = None) -> AppError:
    error = AppError(message, field=field)
    error.status = status
    return error


def _body() -> dict:
    """The request's JSON object: 400 naming `body` for another content type, malformed JSON or a non-object
    (bad input is 400 or 422 here, never another code)."""
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
    return jsonify(error="conflict", message=exc.message, conflicts=exc.conflicts), 409


@bp.errorhandler(outcomes.OutcomeChanged)
def _changed(exc: outcomes.OutcomeChanged):
    return jsonify(error="changed", message=exc.message, fields=exc.errors), 409


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
@roles_required(*RECORDER_ROLES)
def update(schedule_id: int):
    """Move, cancel, revive, or record/correct an outcome, by the body's fields (module docstring)."""
    db, actor = get_db(), current_actor()
    if actor.role == "instructor":  # only their own lessons (404 otherwise, before the body), outcome fields only
        outcomes.get_event(db, actor, schedule_id)
        data = _body()
        if not _outcome_only(data):
            raise _failure(403, "Instructors may only record outcomes: status completed, not_completed or "
                                "no_show, notes, student_rating, student_feedback and correction_reason.")
        return _recorded(outcomes.record(db, actor, schedule_id, data, now=clock.now()))
    current = scheduling.get_schedule(db, actor, schedule_id)  # 404 outside the scope, before the body is read
    data = _body()
    status = data.get("status")
    if status == "cancelled":
        extra = sorted(set(data) - {"status", "cancel_reason"})
        if extra:
            raise ValidationFailed("Cancel on its own, without other changes.", field=extra[0])
        scheduling.cancel(db, actor, schedule_id, data.get("cancel_reason"), now=clock.now())
        return jsonify(id=schedule_id, status="cancelled")
    if status == "scheduled":
        extra = sorted(set(data) - {"status", "accept_warnings"})
        if extra:
            raise ValidationFailed("Revive on its own, without other changes.", field=extra[0])
        accept = data.get("accept_warnings", False)
        revived = scheduling.revive(db, actor, schedule_id, now=clock.now(), settings=current_app.config,
                                    accept_warnings=False if accept is None else accept)
        return jsonify(id=revived.id, status="scheduled", warnings=revived.warnings)
    if status is not None and status not in OUTCOME_STATUSES:
        raise ValidationFailed("Not a status this can change to (completed, not_completed, no_show, cancelled, "
                               "scheduled).", field="status")
    if _outcome_only(data) and (status is not None or any(k in data for k in OUTCOME_FIELDS)
                                or current["status"] in OUTCOME_STATUSES):
        return _recorded(outcomes.record(db, actor, schedule_id, data, now=clock.now()))
    if status is not None or any(k in data for k in OUTCOME_FIELDS):
        extra = sorted(set(data) - set(outcomes.FIELDS))
        raise ValidationFailed("Record an outcome on its own, without other changes.", field=extra[0])
    if "cancel_reason" in data:
        raise ValidationFailed("Send status \"cancelled\" with the reason.", field="status")
    moved = scheduling.move(db, actor, schedule_id, data, now=clock.now(), settings=current_app.config)
    return jsonify(id=moved.id, warnings=moved.warnings)


def _outcome_only(data: dict) -> bool:
    """Only outcome fields, and a status (if any) that is an outcome."""
    return set(data) <= set(outcomes.FIELDS) and data.get("status", "completed") in OUTCOME_STATUSES


def _recorded(outcome: outcomes.Outcome):
    marked_at = outcome.completion_marked_at.replace(tzinfo=timezone.utc).isoformat()
    return jsonify(id=outcome.schedule_id, status=outcome.status, student_rating=outcome.student_rating,
                   student_feedback=outcome.student_feedback, notes=outcome.notes,
                   completion_marked_by=outcome.completion_marked_by, completion_marked_at=marked_at,
                   corrected=outcome.corrected)
