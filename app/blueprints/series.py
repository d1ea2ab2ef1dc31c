"""Recurring series (pages; admin and staff). Rules live in services/series.py; this module parses the forms
and shapes the answers.

- ``GET|POST /schedules/series/new``: the series form (student, instructor, vehicle, type, first date,
  start and end, every N weeks, a number of lessons or an end date), prefilled like the booking form
  (``?instructor_id=&student_id=&date=&start_time=...``). A bad value re-renders 422 with the typed values
  and the error at its field; when no occurrence can be booked, 409 with every occurrence's reasons; else
  303 to the series page.
- ``GET /schedules/series/<series_id>``: the occurrences with their status, the ones not booked with their
  reasons and a "Book by hand" link (the booking form, prefilled), and forms to change or cancel every
  remaining occurrence.
- ``POST /schedules/series/<series_id>/change`` and ``/cancel``: scope "all remaining".
- ``GET /schedules/<schedule_id>/series``: one occurrence's "change or cancel in the series" page with the
  scope choice (this, this and following, all); ``POST .../series/change`` and ``.../series/cancel``.

Out-of-scope series or events answer 404 before the form is read; instructors and students get 403.
The template global ``series_membership(event)`` gives the event page its "Part of a series" panel.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, request, url_for

from app.core import clock
from app.core.auth import STAFF_ROLES, current_actor, roles_required
from app.core.errors import AppError, ValidationFailed
from app.core.flask_db import get_db
from app.core.web import form_failure, section_failed, see_other
from app.forms.series import SeriesCancelForm, SeriesChangeForm, SeriesForm
from app.services import event_pages, series
from app.services.series import SeriesConflict

bp = Blueprint("series", __name__, url_prefix="/schedules")

CARRIED = ("instructor_id", "student_id", "vehicle_id", "event_type", "first_date", "start_time", "end_time",
           "interval_weeks", "ends", "count", "until_date")


@bp.app_template_global()
def series_membership(event) -> dict | None:
    """The event's series (id, position, booked) for the office, else None (no query for other roles)."""
    actor = current_actor()
    if not actor.is_office or not event:
        return None
    return series.membership(get_db(), actor, event.get("id"))


def _choices(field, options: list[dict], blank: str) -> None:
    field.choices = [("", blank)] + [(str(o["id"]), o["label"]) for o in options]


# ------------------------------------------------------------------------------------------ new series

def _render_form(form: SeriesForm, options: dict, status: int = 200, clashes: list[dict] | None = None):
    branch = options["branch"]
    if branch is not None:
        form.branch_id.data = str(branch["id"])
    _choices(form.student_id, options["students"], "Choose a student…" if options["students"] else "No students to list")
    _choices(form.instructor_id, options["instructors"], "Choose an instructor…")
    _choices(form.vehicle_id, options["vehicles"], "No vehicle")
    if form.student_id.data is not None:
        form.student_id.data = str(form.student_id.data)
    context = {"page_focus_form": "series-form"} if status == 422 else {}
    return render_template("series/form.html", form=form, options=options, clashes=clashes, carried=CARRIED,
                           **context), status


@bp.route("/series/new", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def new():
    db, actor = get_db(), current_actor()
    if request.method in ("GET", "HEAD"):
        data = event_pages.prefill(db, actor, request.args, settings=current_app.config)
        values = {k: (str(v) if v is not None else None) for k, v in data["values"].items()}
        values["first_date"] = values.pop("date", None)
        for name in ("first_date", "interval_weeks", "ends", "count", "until_date"):  # carried by the search
            raw = request.args.get(name)
            if isinstance(raw, str) and raw.strip():
                values[name] = raw.strip()[:10]
        return _render_form(SeriesForm(formdata=None, data={k: v for k, v in values.items() if v is not None}), data)
    form = SeriesForm()
    options = event_pages.booking_options(db, actor, branch_id=form.branch_id.data, student_id=form.student_id.data,
                                          instructor_id=form.instructor_id.data, settings=current_app.config)
    if not form.validate():  # the CSRF token only: the series service checks every field
        return _render_form(form, options, 422)
    try:
        created = series.create(db, actor, form.values(), now=clock.now(), settings=current_app.config)
    except SeriesConflict as exc:
        form.form_errors.append(f"{exc.message} Nothing was booked; the reasons are listed for each date.")
        return _render_form(form, options, 409, clashes=series.with_days(exc.clashes))
    except AppError as exc:
        return _render_form(form, options, form_failure(form, exc))
    booked, clashed = len(created.booked), len(created.clashes)
    message = f"Series booked: {booked} lesson{'s' if booked != 1 else ''}"
    if clashed:
        message += f"; {clashed} date{'s' if clashed != 1 else ''} clashed and {'were' if clashed != 1 else 'was'} " \
                   "not booked (listed below, with the reasons, to place by hand)"
    flash(message + ".", "success" if not clashed else "warning")
    return see_other(url_for(".view", series_id=created.series_id))


# ------------------------------------------------------------------------------------------ series page

def _template_values(row: dict) -> dict:
    return {"start_time": _hm(row["start_time"]), "end_time": _hm(row["end_time"]),
            "instructor_id": str(row["instructor_id"]) if row["instructor_id"] else None,
            "vehicle_id": str(row["vehicle_id"]) if row["vehicle_id"] else None}


def _people_options(db, branch_id, instructor_id) -> tuple[list[dict], list[dict]]:
    options = event_pages.booking_options(db, current_actor(), branch_id=branch_id, instructor_id=instructor_id)
    return options["instructors"], options["vehicles"]


def _render_view(series_id: int, status: int = 200, change_form: SeriesChangeForm | None = None,
                 cancel_form: SeriesCancelForm | None = None, **context):
    db = get_db()
    data = series.series_page(db, current_actor(), series_id, now=clock.now(), settings=current_app.config)
    s = data["series"]
    change_form = change_form or SeriesChangeForm(formdata=None, data={**_template_values(s), "scope": "all"})
    instructors, vehicles = _people_options(db, s["branch_ref"], s["instructor_id"])
    _choices(change_form.instructor_id, instructors, "Choose an instructor…")
    _choices(change_form.vehicle_id, vehicles, "No vehicle")
    cancel_form = cancel_form or SeriesCancelForm(formdata=None, data={"scope": "all"})
    return render_template("series/view.html", **data, change_form=change_form, cancel_form=cancel_form,
                           **context), status


@bp.get("/series/<int:series_id>")
@roles_required(*STAFF_ROLES)
def view(series_id: int):
    return _render_view(series_id)


def _view_url(series_id: int, section: str | None = None) -> str:
    return url_for(".view", series_id=series_id, _anchor=section)


def _clash_note(clashes: list[dict]) -> str:
    if not clashes:
        return ""
    days = ", ".join(c["date"] for c in clashes[:6]) + (" …" if len(clashes) > 6 else "")
    return (f" {len(clashes)} occurrence{'s' if len(clashes) != 1 else ''} clashed and kept "
            f"{'their' if len(clashes) != 1 else 'its'} old time ({days}).")


@bp.post("/series/<int:series_id>/change")
@roles_required(*STAFF_ROLES)
def change(series_id: int):
    db, actor = get_db(), current_actor()
    current = series.get_series(db, actor, series_id)  # 404 outside the actor's scope, before the form
    form = SeriesChangeForm()
    status, clashes = 422, None
    if form.validate():
        changes = form.changes(_template_values(current))
        try:
            if not changes:
                raise ValidationFailed("Nothing to change: edit the time, instructor or vehicle first.",
                                       field="start_time")
            done = series.change_series(db, actor, series_id, changes, now=clock.now(), settings=current_app.config)
        except SeriesConflict as exc:
            status, clashes = 409, series.with_days(exc.clashes)
            form.form_errors.append(exc.message)
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash(f"{len(done.changed)} occurrence{'s' if len(done.changed) != 1 else ''} changed."
                  f"{_clash_note(done.clashes)}", "success" if not done.clashes else "warning")
            return see_other(_view_url(series_id))
    return _render_view(series_id, status, change_form=form, change_clashes=clashes,
                        **section_failed(form, "The series was not changed", _view_url(series_id, "change"),
                                         "series-change-form"))


@bp.post("/series/<int:series_id>/cancel")
@roles_required(*STAFF_ROLES)
def cancel(series_id: int):
    db, actor = get_db(), current_actor()
    series.get_series(db, actor, series_id)
    form = SeriesCancelForm()
    status = 422
    if form.validate():
        try:
            done = series.cancel_series(db, actor, series_id, form.cancel_reason.data, now=clock.now(),
                                        settings=current_app.config)
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash(f"{len(done.cancelled)} occurrence{'s' if len(done.cancelled) != 1 else ''} cancelled; "
                  "their pending reminders were withdrawn.", "success")
            return see_other(_view_url(series_id))
    return _render_view(series_id, status, cancel_form=form,
                        **section_failed(form, "The series was not cancelled", _view_url(series_id, "cancel"),
                                         "series-cancel-form"))


# ------------------------------------------------------------------------------------------ one occurrence

def _occurrence_values(event: dict) -> dict:
    return {"date": event["scheduled_date"].isoformat(), **_template_values(event)}


def _render_occurrence(schedule_id: int, status: int = 200, change_form: SeriesChangeForm | None = None,
                       cancel_form: SeriesCancelForm | None = None, **context):
    db, actor = get_db(), current_actor()
    data = series.change_target(db, actor, schedule_id)
    s, event = data["series"], data["event"]
    zone = series.zone_of(s, current_app.config)
    counts = series.scope_counts(data["rows"], event, zone, clock.now())
    change_form = change_form or SeriesChangeForm(formdata=None, data={**_occurrence_values(event), "scope": "this"})
    branch = s["branch_id"] if s["branch_id"] is not None else s["student_branch_id"]
    instructors, vehicles = _people_options(db, branch, event["instructor_id"])
    _choices(change_form.instructor_id, instructors, "Choose an instructor…")
    _choices(change_form.vehicle_id, vehicles, "No vehicle")
    cancel_form = cancel_form or SeriesCancelForm(formdata=None, data={"scope": "this"})
    return render_template("series/occurrence.html", series=s, event=event, counts=counts, zone=zone.key,
                           change_form=change_form, cancel_form=cancel_form,
                           student_name=data["student_name"], noun=event_pages.noun(event["event_type"]),
                           **context), status


def _occurrence_url(schedule_id: int, section: str | None = None) -> str:
    return url_for(".occurrence", schedule_id=schedule_id, _anchor=section)


@bp.get("/<int:schedule_id>/series")
@roles_required(*STAFF_ROLES)
def occurrence(schedule_id: int):
    return _render_occurrence(schedule_id)


@bp.post("/<int:schedule_id>/series/change")
@roles_required(*STAFF_ROLES)
def change_occurrence(schedule_id: int):
    db, actor = get_db(), current_actor()
    data = series.change_target(db, actor, schedule_id)  # 404 outside the scope or not in a series
    form = SeriesChangeForm()
    status, clashes = 422, None
    if form.validate():
        changes = form.changes(_occurrence_values(data["event"]))
        try:
            if not changes:
                raise ValidationFailed("Nothing to change: edit the date, time, instructor or vehicle first.",
                                       field="start_time")
            done = series.change(db, actor, schedule_id, form.scope.data, changes, now=clock.now(),
                                 settings=current_app.config)
        except SeriesConflict as exc:
            status, clashes = 409, series.with_days(exc.clashes)
            form.form_errors.append(exc.message)
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash(f"{len(done.changed)} occurrence{'s' if len(done.changed) != 1 else ''} changed."
                  f"{_clash_note(done.clashes)}", "success" if not done.clashes else "warning")
            return see_other(_view_url(done.series_id))
    return _render_occurrence(schedule_id, status, change_form=form, change_clashes=clashes,
                              **section_failed(form, "Nothing was changed", _occurrence_url(schedule_id, "change"),
                                               "series-change-form"))


@bp.post("/<int:schedule_id>/series/cancel")
@roles_required(*STAFF_ROLES)
def cancel_occurrence(schedule_id: int):
    db, actor = get_db(), current_actor()
    series.change_target(db, actor, schedule_id)
    form = SeriesCancelForm()
    status = 422
    if form.validate():
        try:
            done = series.cancel(db, actor, schedule_id, form.scope.data, form.cancel_reason.data, now=clock.now(),
                                 settings=current_app.config)
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash(f"{len(done.cancelled)} occurrence{'s' if len(done.cancelled) != 1 else ''} cancelled; "
                  "their pending reminders were withdrawn.", "success")
            return see_other(_view_url(done.series_id))
    return _render_occurrence(schedule_id, status, cancel_form=form,
                              **section_failed(form, "Nothing was cancelled", _occurrence_url(schedule_id, "cancel"),
                                               "series-cancel-form"))


def _hm(value) -> str:
    return series.hm(value)
