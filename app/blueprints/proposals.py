"""Reschedule proposals (pages). Rules live in services/proposals.py; this module parses forms and shapes
answers.

- ``GET|POST /schedules/<id>/propose`` (admin, staff, the lesson's instructor): the full-page form (the event
  page carries the same small form, posting here). An error re-renders it with what was typed and every
  reason (422, 409); success flashes and answers 303 to the event page.
- ``GET /my/proposals`` (students): pending proposals with the old and the new time and Accept / Decline,
  then the answered ones (paginated).
- ``POST /proposals/<id>/accept`` and ``/decline`` (the lesson's student; anyone else, whatever the role,
  gets 404): success
  flashes and answers 303 back (the event page or the list); a refusal (expired, answered, the slot taken
  meanwhile) re-renders the list with the reason and the real status (409).
- ``POST /proposals/<id>/withdraw`` (the proposer, the office in scope): 303 to the event page; a refusal
  re-renders the proposal form page with the reason (409).

The template global ``proposal_panel(event, instructors, vehicles)`` gives the event page its panel
(templates/proposals/_event_panel.html): the pending proposal, and the buttons and form the viewer may use.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, request, url_for

from app.core import clock
from app.core.auth import current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.web import PageAlert, action_refused, form_failure, form_problems, see_other
from app.forms.proposals import ProposeForm
from app.services import event_pages, proposals
from app.services.scheduling import BookingConflict

bp = Blueprint("proposals", __name__)

PROPOSERS = ("admin", "staff", "instructor")
FORM_ID = "propose-form"


def _hm(value) -> str:
    return value.strftime("%H:%M") if hasattr(value, "strftime") else ""


def _choices(form: ProposeForm, instructors: list[dict], vehicles: list[dict], event: dict) -> None:
    keep_instructor = f"Keep {event.get('instructor_name') or 'the same instructor'}"
    keep_vehicle = f"Keep {event.get('vehicle_label') or 'no vehicle'}"
    form.instructor_id.choices = [("", keep_instructor)] + [
        (str(o["id"]), o["label"]) for o in instructors if o["id"] != event.get("instructor_id")]
    form.vehicle_id.choices = [("", keep_vehicle)] + [
        (str(o["id"]), o["label"]) for o in vehicles if o["id"] != event.get("vehicle_id")]


def _defaults(event: dict) -> dict:
    return {"date": event["scheduled_date"].isoformat(), "start_time": _hm(event["start_time"]),
            "end_time": _hm(event["end_time"])}


@bp.app_template_global()
def proposal_panel(event, instructors=(), vehicles=()) -> dict:
    """The event page's proposal panel: services.proposals.event_panel plus the small form."""
    data = proposals.event_panel(get_db(), current_actor(), event, now=clock.now(), settings=current_app.config)
    if data["can_propose"]:
        form = ProposeForm(formdata=None, data=_defaults(event))
        _choices(form, list(instructors or ()), list(vehicles or ()), event)
        data["form"] = form
    data["office"] = current_actor().is_office
    return data


def _render_form(schedule_id: int, form: ProposeForm | None = None, status: int = 200, **context):
    db, actor = get_db(), current_actor()
    page = event_pages.event_page(db, actor, schedule_id, now=clock.now(), settings=current_app.config)
    event = page["event"]
    panel = proposals.event_panel(db, actor, event, now=clock.now(), settings=current_app.config)
    form = form or ProposeForm(formdata=None, data=_defaults(event))
    instructors, vehicles = page["instructors"], page["vehicles"]
    _choices(form, instructors, vehicles, event)
    if status in (409, 422):
        context.setdefault("page_focus_form", FORM_ID)
    return render_template("proposals/form.html", event=event, form=form, panel=panel, office=actor.is_office,
                           **context), status


@bp.route("/schedules/<int:schedule_id>/propose", methods=["GET", "POST"])
@roles_required(*PROPOSERS)
def propose(schedule_id: int):
    db, actor = get_db(), current_actor()
    proposals.proposable_lesson(db, actor, schedule_id)  # 404 outside the actor's scope, before the form
    if request.method in ("GET", "HEAD"):
        return _render_form(schedule_id)
    form = ProposeForm()
    status, conflicts, lead = 422, None, None
    if form.validate():
        try:
            made = proposals.propose(db, actor, schedule_id, form.values(actor.is_office), now=clock.now(),
                                     settings=current_app.config)
        except BookingConflict as exc:  # every reason is listed in the form (no second copy of the message)
            status, conflicts, lead = 409, exc.conflicts, exc.message + " The reasons are listed in the form."
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            replaced = " It replaces the earlier proposal." if made.withdrawn else ""
            flash(f"New time proposed to the student.{replaced} It stays open until "
                  f"{_until(made.expires_at)} unless they answer first.", "success")
            return see_other(url_for("events.view", schedule_id=schedule_id, _anchor="proposal"))
    return _render_form(schedule_id, form, status, conflicts=conflicts,
                        page_alert=PageAlert("The new time was not proposed: " + (
                            lead or " ".join(form_problems(form)) or "check the highlighted fields."), f"#{FORM_ID}"))


def _until(moment) -> str:
    local = clock.to_local(moment)
    return f"{local.strftime('%a')} {local.day} {local.strftime('%b %Y')}, {local.strftime('%H:%M')}"


def _student_query() -> ListQuery:
    return ListQuery.from_args(request.args, proposals.ANSWERED_SORT_KEYS, "answered", "desc")


def _render_mine(status: int = 200, **context):
    data = proposals.for_student(get_db(), current_actor(), _student_query(), now=clock.now(),
                                 settings=current_app.config)
    return render_template("proposals/mine.html", **data, **context), status


@bp.get("/my/proposals")
@roles_required("student")
def index():
    return _render_mine()


def _back(proposal: dict) -> str:
    if request.form.get("return_to") == "event":
        return url_for("events.view", schedule_id=proposal["schedule_id"])
    return url_for(".index")


def _answer(proposal_id: int, decision: str):
    db, actor = get_db(), current_actor()
    try:
        proposal = proposals.answer(db, actor, proposal_id, decision, now=clock.now(), settings=current_app.config)
    except BookingConflict as exc:
        context, status = action_refused(exc, url_for(".index"))
        return _render_mine(status, conflicts=exc.conflicts, **context)
    except AppError as exc:
        context, status = action_refused(exc, url_for(".index"))
        return _render_mine(status, **context)
    when = event_pages.when(proposal["proposed_date"].isoformat(), proposal["start_time"], proposal["end_time"])
    if decision == "accept":
        flash(f"Accepted: your lesson is now on {when}.", "success")
    else:
        flash(f"Declined: your lesson stays on "
              f"{event_pages.when(proposal['lesson_date'].isoformat(), proposal['lesson_start'], proposal['lesson_end'])}.",
              "success")
    return see_other(_back(proposal))


@bp.post("/proposals/<int:proposal_id>/accept")
@roles_required("student")  # and the service answers 404 to anyone but the lesson's student
def accept(proposal_id: int):
    return _answer(proposal_id, "accept")


@bp.post("/proposals/<int:proposal_id>/decline")
@roles_required("student")  # and the service answers 404 to anyone but the lesson's student
def decline(proposal_id: int):
    return _answer(proposal_id, "decline")


@bp.post("/proposals/<int:proposal_id>/withdraw")
@roles_required(*PROPOSERS)
def withdraw(proposal_id: int):
    db, actor = get_db(), current_actor()
    try:
        proposal = proposals.withdraw(db, actor, proposal_id, now=clock.now())
    except AppError as exc:
        if exc.status not in (409, 422):
            raise
        schedule_id = proposals.lesson_of(db, proposal_id)  # withdraw checked the scope before refusing
        context, status = action_refused(exc, url_for(".propose", schedule_id=schedule_id))
        return _render_form(schedule_id, status=status, **context)
    flash("Proposal withdrawn; the lesson stays where it was.", "success")
    return see_other(url_for("events.view", schedule_id=proposal["schedule_id"]))
