"""The availability JSON API: ``GET /api/availability?instructor_id=&date_from=&date_to=&duration_minutes=
[&vehicle_id=]`` (any signed-in role, scoped by services/availability.py) answers 200 ``{"slots": [...]}``.
``branch_id=`` instead of ``instructor_id=`` asks for the instructors of a branch at once (office only,
at most 7 days), a page of working instructors at a time (``page=``, ``per_page=`` 1-25, default 10):
``{"slots": [...], "page": {"page", "pages", "per_page", "instructors": [ids]}}``.

A missing or malformed parameter is 400 naming it (``fields``); a well-formed but unacceptable value
(a duration outside 30-180 minutes or off the branch's grid, date_to before date_from, a range over 62
days) is 422 naming it; an instructor or vehicle outside the actor's scope is 404. JSON only, like
api_schedules.py. The rules live in the service.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from app.core import clock
from app.core.auth import ANY_ROLE, current_actor, roles_required
from app.core.errors import AppError, ValidationFailed
from app.core.flask_db import get_db
from app.core.params import parse_date, parse_id, parse_int
from app.services import availability

bp = Blueprint("api_availability", __name__, url_prefix="/api/availability")


class BadParameter(AppError):
    status = 400


@bp.errorhandler(ValidationFailed)
def _validation(exc: ValidationFailed):
    fields = exc.errors or {exc.field or "query": [exc.message]}
    return jsonify(error="validation", message=exc.message, fields=fields), 422


@bp.errorhandler(BadParameter)
def _bad(exc: BadParameter):
    return jsonify(error="bad_request", message=exc.message, fields={exc.field: [exc.message]}), 400


@bp.get("")
@roles_required(*ANY_ROLE)
def slots():
    args = request.args
    branch_id = None
    if not args.get("instructor_id") and args.get("branch_id"):
        branch_id = _required(parse_id, "branch_id", "an id")
    else:
        instructor_id = _required(parse_id, "instructor_id", "an id")
    date_from = _required(parse_date, "date_from", "a date (YYYY-MM-DD)")
    date_to = _required(parse_date, "date_to", "a date (YYYY-MM-DD)")
    duration = _required(lambda raw: parse_int(raw, 0, 100000), "duration_minutes", "a whole number of minutes")
    if branch_id is not None:
        page = _optional_int("page", 1, 1_000_000, 1)
        per_page = _optional_int("per_page", 1, availability.MAX_BRANCH_PER_PAGE, availability.BRANCH_PER_PAGE)
        found, meta = availability.branch_slots_page(get_db(), current_actor(), branch_id=branch_id,
                                                     date_from=date_from, date_to=date_to, duration_minutes=duration,
                                                     now=clock.now(), settings=current_app.config, page=page,
                                                     per_page=per_page)
        return jsonify(slots=found, page=meta)
    vehicle_id = None
    if args.get("vehicle_id"):
        vehicle_id = _required(parse_id, "vehicle_id", "an id")
    found = availability.slots(get_db(), current_actor(), instructor_id=instructor_id, date_from=date_from,
                               date_to=date_to, duration_minutes=duration, vehicle_id=vehicle_id,
                               now=clock.now(), settings=current_app.config)
    return jsonify(slots=found)


def _optional_int(name: str, low: int, high: int, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = parse_int(raw, low, high)
    if value is None:
        raise BadParameter(f"{name} must be a whole number from {low} to {high}.", field=name)
    return value


def _required(parse, name: str, what: str):
    value = parse(request.args.get(name)) if isinstance(request.args.get(name), str) else None
    if value is None:
        raise BadParameter(f"{name} must be {what}.", field=name)
    return value
