"""Lesson outcomes (pages): the "lessons awaiting an outcome" list, the outcome form (record or correct),
and reviving a cancelled event. Rules live in services/outcomes.py and services/scheduling.py.

- ``GET /schedules/awaiting`` (admin, staff, instructor): past events still scheduled, in scope, with a
  "Record outcome" link and one-click "Completed" / "No-show" buttons per row.
- ``GET|POST /schedules/<id>/outcome`` (admin, staff, instructor): the full-page form, usable on a phone.
  An error re-renders it with what was typed and the errors (422, 409 when someone else recorded it
  meanwhile); success flashes and answers 303 to the event page (the one-click buttons: to the list).
  Only the fields that were posted are passed on, so a one-click "Completed" keeps the lesson's notes.
  The rating radio posts a digit string; it is turned into an int here (the service accepts ints only).
- ``POST /schedules/<id>/revive`` (admin, staff): conflicts are flashed with every reason, then 303 to
  the event page; success flashes and answers 303.

The template global ``may_revive(event)`` lets the outcome panel (templates/outcomes/_panel.html, used by
the event page) offer "Revive" only to the office in scope.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, request, url_for

from app.core import clock
from app.core.auth import STAFF_ROLES, current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.params import parse_int
from app.core.web import form_failure, section_failed, see_other
from app.dao.branch import BranchDAO
from app.dao.outcome import AWAITING_COUNT_CAP
from app.forms.outcomes import OutcomeForm
from app.services import outcomes, scheduling
from app.services.scheduling import BookingConflict

bp = Blueprint("outcomes", __name__, url_prefix="/schedules")

RECORDERS = outcomes.RECORDERS
RETURN_TO_LIST = "awaiting"
FORM_ID = "outcome-form"


@bp.app_template_global()
def may_revive(event) -> bool:
    """Whether the signed-in user may revive this (cancelled) event: the office, in scope."""
    return outcomes.can_revive(current_actor(), event)


@bp.get("/awaiting")
@roles_required(*RECORDERS)
def awaiting():
    db, actor = get_db(), current_actor()
    query = ListQuery.from_args(request.args, outcomes.AWAITING_SORT_KEYS, outcomes.AWAITING_DEFAULT_SORT,
                                outcomes.AWAITING_DEFAULT_DIRECTION, filters=outcomes.AWAITING_FILTERS)
    page = outcomes.awaiting(db, actor, query, clock.now())
    instructors = outcomes.instructor_options(db, actor, query.filter("branch"))
    branches = BranchDAO(db).options() if actor.is_admin else []
    return render_template("outcomes/awaiting.html", page=page, instructors=instructors, branches=branches,
                           awaiting_cap=AWAITING_COUNT_CAP)


def _form_url(schedule_id: int) -> str:
    return url_for(".form", schedule_id=schedule_id)


def _event_url(schedule_id: int) -> str:
    return url_for("events.view", schedule_id=schedule_id)


def _render_form(event: dict, form: OutcomeForm, status: int = 200, **context):
    now = clock.now()
    return render_template("outcomes/form.html", event=event, form=form,
                           can_record=outcomes.can_record(current_actor(), event, now),
                           has_outcome=outcomes.has_outcome(event), started=outcomes.started(event, now),
                           **context), status


def _posted() -> dict:
    """The outcome fields that were posted (absent ones stay as stored). The rating's digit string
    becomes an int; anything else is passed on as typed, for the service to refuse by name."""
    data: dict = {}
    posted = request.form
    if posted.get("status"):
        data["status"] = posted["status"]
    if "student_rating" in posted:
        raw = posted["student_rating"].strip()
        number = parse_int(raw, -10**6, 10**6)  # ASCII digits only
        data["student_rating"] = None if raw == "" else (number if number is not None else raw)
    for name in ("student_feedback", "notes", "correction_reason"):
        if name in posted:
            data[name] = posted[name]
    return data


@bp.route("/<int:schedule_id>/outcome", methods=["GET", "POST"])
@roles_required(*RECORDERS)
def form(schedule_id: int):
    db, actor = get_db(), current_actor()
    event = outcomes.get_event(db, actor, schedule_id)  # 404 outside the scope, before anything is read
    if request.method in ("GET", "HEAD"):
        rating = event.get("student_rating")
        form = OutcomeForm(formdata=None, data={
            "status": event["status"] if outcomes.has_outcome(event) else None,
            "student_rating": str(rating) if rating else "", "student_feedback": event.get("student_feedback"),
            "notes": event.get("notes"), "seen_status": event["status"],
            "return_to": RETURN_TO_LIST if request.args.get("from") == RETURN_TO_LIST else ""})
        return _render_form(event, form)
    form = OutcomeForm()
    if not form.validate():
        return _render_form(event, form, 422, **section_failed(form, "The outcome was not saved",
                                                              _form_url(schedule_id), FORM_ID))
    seen = request.form.get("seen_status") or None
    try:
        outcome = outcomes.record(db, actor, schedule_id, _posted(), now=clock.now(), seen_status=seen)
    except AppError as exc:
        status = form_failure(form, exc)
        if exc.status == 409:  # someone else recorded it: show the page as it is now
            event = outcomes.get_event(db, actor, schedule_id)
            form.seen_status.data = event["status"]
        return _render_form(event, form, status, **section_failed(form, "The outcome was not saved",
                                                                  _form_url(schedule_id), FORM_ID))
    label = outcomes.STATUS_LABELS[outcome.status]
    flash(f"Outcome corrected: {label}." if outcome.corrected else f"Outcome recorded: {label}.", "success")
    if request.form.get("return_to") == RETURN_TO_LIST:
        return see_other(url_for(".awaiting"))
    return see_other(_event_url(schedule_id))


@bp.post("/<int:schedule_id>/revive")
@roles_required(*STAFF_ROLES)
def revive(schedule_id: int):
    accept = request.form.get("accept_warnings") == "1"
    try:
        revived = scheduling.revive(get_db(), current_actor(), schedule_id, now=clock.now(),
                                    settings=current_app.config, accept_warnings=accept)
    except BookingConflict as exc:
        reasons = "; ".join(c["message"] for c in exc.conflicts)
        hint = ""
        if all(c["severity"] == "warn" for c in exc.conflicts):
            hint = " Only warnings: revive it again with “accept warnings” ticked to go ahead."
        flash(f"The event was not revived: {reasons}.{hint}", "danger")
        return see_other(_event_url(schedule_id))
    except AppError as exc:
        if exc.status not in (409, 422):
            raise
        flash(f"The event was not revived: {exc.message}", "danger")
        return see_other(_event_url(schedule_id))
    accepted = "; ".join(w["message"] for w in revived.warnings)
    flash("Event revived; it is back on the calendar." + (f" Warnings accepted: {accepted}." if accepted else ""),
          "success")
    return see_other(_event_url(schedule_id))
