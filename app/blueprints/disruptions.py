"""The conflicts panel (pages): future lessons broken by an unavailability, an expired accreditation, a
vehicle downtime, a maintenance status or a service-due date, grouped by cause; rules in
services/disruptions.py.

- ``GET /schedules/conflicts`` (admin, staff): the panel; ``?cause=`` one cause, ``?branch=`` (admin) one
  branch, ``?page=``. Each row offers the free instructors / vehicles and a cancel-and-notify form.
- ``POST /schedules/conflicts/<id>/reassign`` (``instructor_id`` and/or ``vehicle_id``, ``expected``) and
  ``POST /schedules/conflicts/<id>/cancel`` (``cancel_reason``, ``expected``): flash the result, 303 back
  to the panel as it was (``back``, a local path). Refusals (409 already changed or not free, 422) are
  flashed with every reason; a lesson outside the scope is 404, other roles 403.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, request, url_for

from app.core import auth, clock, navigation
from app.core.auth import STAFF_ROLES, current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.params import parse_id
from app.core.web import see_other
from app.dao.branch import BranchDAO
from app.services import disruptions
from app.services.scheduling import BookingConflict

bp = Blueprint("disruptions", __name__, url_prefix="/schedules/conflicts")


@bp.get("", strict_slashes=False)
@roles_required(*STAFF_ROLES)
def index():
    db, actor = get_db(), current_actor()
    query = ListQuery.from_args(request.args, disruptions.SORT_KEYS, disruptions.DEFAULT_SORT,
                                filters=disruptions.FILTERS, labels={"cause": "cause", "branch": "branch"})
    result = disruptions.panel(db, actor, query, clock.now(), current_app.config)
    if result.badge_known:
        navigation.known_badge("disruptions.index", result.badge)
    branches = BranchDAO(db).options() if actor.is_admin else []
    return render_template("disruptions/index.html", panel=result, page=result.page, branches=branches,
                           labels=disruptions.CAUSE_LABELS, causes=disruptions.CAUSES,
                           badge_days=disruptions.BADGE_DAYS, horizon_days=disruptions.HORIZON_DAYS,
                           cause_cap=disruptions.CAUSE_CAP,
                           back=request.full_path.rstrip("?"))


def _back() -> str:
    return auth.safe_next(request.form.get("back") or "") or url_for(".index")


def _posted_id(name: str):
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    parsed = parse_id(raw)
    return parsed if parsed is not None else raw  # the service names a bad value (422)


@bp.post("/<int:schedule_id>/reassign")
@roles_required(*STAFF_ROLES)
def reassign(schedule_id: int):
    try:
        booked = disruptions.reassign(get_db(), current_actor(), schedule_id,
                                      instructor_id=_posted_id("instructor_id"), vehicle_id=_posted_id("vehicle_id"),
                                      expected=request.form.get("expected") or "", now=clock.now(),
                                      settings=current_app.config)
    except BookingConflict as exc:
        reasons = "; ".join(c["message"] for c in exc.conflicts)
        flash(f"Lesson #{schedule_id} was not reassigned: {reasons}", "danger")
        return see_other(_back())
    except AppError as exc:
        if exc.status not in (409, 422):
            raise
        flash(f"Lesson #{schedule_id} was not reassigned: {exc.message}", "danger")
        return see_other(_back())
    accepted = "; ".join(w["message"] for w in booked.warnings)
    flash(f"Lesson #{schedule_id} reassigned; its reminder was re-planned."
          + (f" Warnings accepted: {accepted}" if accepted else ""), "success")
    return see_other(_back())


@bp.post("/<int:schedule_id>/cancel")
@roles_required(*STAFF_ROLES)
def cancel(schedule_id: int):
    try:
        sent = disruptions.cancel_and_notify(get_db(), current_actor(), schedule_id,
                                             request.form.get("cancel_reason") or "", clock.now(),
                                             expected=request.form.get("expected") or None)
    except AppError as exc:
        if exc.status not in (409, 422):
            raise
        flash(f"Lesson #{schedule_id} was not cancelled: {exc.message}", "danger")
        return see_other(_back())
    who = "the student and the instructor were notified" if sent == 2 else f"{sent} notification(s) sent"
    flash(f"Lesson #{schedule_id} cancelled; its reminder was withdrawn and {who}.", "success")
    return see_other(_back())


def flash_affected(*, instructor_id: int | None = None, vehicle_id: int | None = None) -> None:
    """After an unavailability, an accreditation date, a downtime or a vehicle status/service date was
    recorded (instructors and fleet pages): a notice naming how many future lessons it breaks. Never
    fails the page that recorded it."""
    try:
        n = disruptions.affected(get_db(), current_actor(), clock.now(), instructor_id=instructor_id,
                                 vehicle_id=vehicle_id, settings=current_app.config)
    except AppError:
        return
    if n:
        flash(f"{n} future lesson{'s are' if n != 1 else ' is'} affected: see Conflicts.", "warning")
