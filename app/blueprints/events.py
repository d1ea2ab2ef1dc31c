"""One event's pages: the booking form (prefilled from a calendar slot, live conflicts through
/api/schedules/conflicts, a server-side "Check this slot") and the event page (details, outcome, and for
the office: move and cancel with a reason). Rules live in services/scheduling.py (book, preview, move,
cancel) and the reads in services/event_pages.py; this module parses the forms and shapes the answers."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, request, url_for

from app.core import clock
from app.core.auth import ANY_ROLE, STAFF_ROLES, current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.web import form_failure, section_failed, see_other
from app.forms.schedules import BookingForm, CancelForm, MoveForm
from app.services import event_pages, scheduling
from app.services.scheduling import BookingConflict

bp = Blueprint("events", __name__, url_prefix="/schedules")

# The slot fields the student search (a GET form) carries over, so finding a student keeps the slot.
CARRIED = ("instructor_id", "student_id", "vehicle_id", "event_type", "date", "start_time", "end_time")


def _choices(field, options: list[dict], blank: str) -> None:
    field.choices = [("", blank)] + [(str(o["id"]), o["label"]) for o in options]


def _render_form(form: BookingForm, options: dict, status: int = 200, conflicts: list[dict] | None = None,
                 checked: bool = False, **context):
    branch = options["branch"]
    if branch is not None:
        form.branch_id.data = str(branch["id"])
    _choices(form.student_id, options["students"], "Choose a student…" if options["students"] else "No students to list")
    _choices(form.instructor_id, options["instructors"], "Choose an instructor…")
    _choices(form.vehicle_id, options["vehicles"], "No vehicle")
    if form.student_id.data is not None:
        form.student_id.data = str(form.student_id.data)
    if not conflicts or any(c["severity"] == "block" for c in conflicts):
        form.accept_warnings.data = False  # offered (and kept ticked) only while the slot has warnings alone
    if status == 422:
        context["page_focus_form"] = "booking-form"
    return render_template("events/form.html", form=form, options=options, conflicts=conflicts, checked=checked,
                           carried=CARRIED, **context), status


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def new():
    db, actor = get_db(), current_actor()
    if request.method in ("GET", "HEAD"):
        data = event_pages.prefill(db, actor, request.args, settings=current_app.config)
        values = {k: (str(v) if v is not None else None) for k, v in data["values"].items()}
        return _render_form(BookingForm(formdata=None, data=values), data)
    form = BookingForm()
    options = event_pages.booking_options(db, actor, branch_id=form.branch_id.data, student_id=form.student_id.data,
                                          instructor_id=form.instructor_id.data, settings=current_app.config)
    if not form.validate():  # the CSRF token only: the booking service checks every field
        return _render_form(form, options, 422)
    settings = current_app.config
    if form.check.data:
        try:
            found = scheduling.preview(db, actor, form.values(), now=clock.now(), settings=settings)
        except AppError as exc:
            return _render_form(form, options, form_failure(form, exc))
        return _render_form(form, options, conflicts=[c.to_dict() for c in found], checked=True)
    try:
        booked = scheduling.book(db, actor, form.values(), now=clock.now(), settings=settings)
    except BookingConflict as exc:
        return _render_form(form, options, 409, conflicts=exc.conflicts)
    except AppError as exc:
        return _render_form(form, options, form_failure(form, exc))
    values = form.values()
    flash(f"{event_pages.label(values['event_type'])} booked for "
          f"{event_pages.when(values['date'], values['start_time'], values['end_time'])}.{_accepted(booked.warnings)}",
          "success")
    return see_other(url_for(".view", schedule_id=booked.id))


def _accepted(warnings: list[dict]) -> str:
    if not warnings:
        return ""
    return " Accepted warnings: " + " ".join(w["message"] for w in warnings)


# ------------------------------------------------------------------------------------------ event page

def _view_url(schedule_id: int, section: str | None = None) -> str:
    return url_for(".view", schedule_id=schedule_id, _anchor=section)


def _move_defaults(event: dict) -> dict:
    return {"date": event["scheduled_date"].isoformat(), "start_time": event["start_time"].strftime("%H:%M"),
            "end_time": event["end_time"].strftime("%H:%M"), "instructor_id": str(event["instructor_id"]),
            "vehicle_id": str(event["vehicle_id"]) if event["vehicle_id"] else None, "notes": event["notes"]}


def _render_view(schedule_id: int, status: int = 200, move_form: MoveForm | None = None,
                 cancel_form: CancelForm | None = None, **context):
    data = event_pages.event_page(get_db(), current_actor(), schedule_id, now=clock.now(),
                                  settings=current_app.config)
    if data["can_change"]:
        move_form = move_form or MoveForm(formdata=None, data=_move_defaults(data["event"]))
        _choices(move_form.instructor_id, data["instructors"], "Choose an instructor…")
        _choices(move_form.vehicle_id, data["vehicles"], "No vehicle")
        cancel_form = cancel_form or CancelForm(formdata=None)
        conflicts = context.get("move_conflicts")
        if not conflicts or any(c["severity"] == "block" for c in conflicts):
            move_form.accept_warnings.data = False
    return render_template("events/view.html", **data, move_form=move_form, cancel_form=cancel_form,
                           **context), status


@bp.get("/<int:schedule_id>")
@roles_required(*ANY_ROLE)
def view(schedule_id: int):
    return _render_view(schedule_id)


@bp.post("/<int:schedule_id>/move")
@roles_required(*STAFF_ROLES)
def move(schedule_id: int):
    db, actor = get_db(), current_actor()
    current = scheduling.get_schedule(db, actor, schedule_id)  # 404 outside the actor's scope, before the form
    kind = event_pages.noun(current["event_type"])
    form = MoveForm()
    status, conflicts = 422, None
    if form.validate():
        changes = form.changes()
        try:
            moved = scheduling.move(db, actor, schedule_id, changes, now=clock.now(), settings=current_app.config)
        except BookingConflict as exc:
            status, conflicts = 409, exc.conflicts
            blocks = sum(c["severity"] == "block" for c in conflicts)
            form.form_errors.append(
                f"The new slot has {blocks} blocking problem{'s' if blocks != 1 else ''} (listed in the form)."
                if blocks else "The new slot has warnings: tick “Move anyway” to move it.")
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash(f"{kind} moved to {event_pages.when(changes['date'], changes['start_time'], changes['end_time'])}."
                  f"{_accepted(moved.warnings)}", "success")
            return see_other(_view_url(schedule_id))
    return _render_view(schedule_id, status, move_form=form, move_conflicts=conflicts,
                        **section_failed(form, f"The {kind.lower()} was not moved", _view_url(schedule_id, "move"),
                                         "move-form"))


@bp.post("/<int:schedule_id>/cancel")
@roles_required(*STAFF_ROLES)
def cancel(schedule_id: int):
    db, actor = get_db(), current_actor()
    kind = event_pages.noun(scheduling.get_schedule(db, actor, schedule_id)["event_type"])
    form = CancelForm()
    status = 422
    if form.validate():
        try:
            scheduling.cancel(db, actor, schedule_id, form.cancel_reason.data, now=clock.now())
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash(f"{kind} cancelled; any pending reminder was withdrawn.", "success")
            return see_other(_view_url(schedule_id))
    return _render_view(schedule_id, status, cancel_form=form,
                        **section_failed(form, f"The {kind.lower()} was not cancelled", _view_url(schedule_id, "cancel"),
                                         "cancel-form"))
