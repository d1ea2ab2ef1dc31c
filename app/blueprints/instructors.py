"""Instructors: list, create, view, edit, archive/restore, activation links, availability."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from app.core import clock
from app.core.auth import STAFF_ROLES, current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.web import action_refused, form_failure, hand_out_activation, section_failed, see_other, taken_handoff
from app.dao.branch import BranchDAO
from app.dao.instructor import SORTS
from app.core.forms import branch_choices
from app.forms.instructors import AvailabilityForm, InstructorForm, UnavailabilityForm
from app.services import instructors, stats
from app.blueprints.disruptions import flash_affected

bp = Blueprint("instructors", __name__, url_prefix="/instructors")

MANAGERS = ("admin", "staff", "instructor")
LIST_FILTERS = {"branch": "id", "accreditation": ("valid", "expiring", "expired", "missing"),
                "status": ("active", "archived")}
PROFILE_FORM_FIELDS = ("first_name", "last_name", "email", "phone", "branch_id", "certification_number",
                       "accreditation_expiry", "experience_years", "rating", "availability_notes", "bio")


def _branch_options():
    actor = current_actor()
    return BranchDAO(get_db()).options(actor.branch_filter())


@bp.get("/")
@roles_required(*STAFF_ROLES)
def index():
    actor = current_actor()
    query = ListQuery.from_args(request.args, list(SORTS), "name", filters=LIST_FILTERS,
                                defaults=instructors.LIST_DEFAULTS)
    page = instructors.list_page(get_db(), actor, query, clock.today())
    branches = BranchDAO(get_db()).options() if actor.is_admin else []
    counts_as_of = stats.as_of(stats.refreshed_at(get_db(), "instructor_totals"), clock.now())
    return render_template("instructors/index.html", page=page, branches=branches, counts_as_of=counts_as_of)


@bp.get("/me")
@roles_required("instructor")
def me():
    actor = current_actor()
    if actor.instructor_id is None:
        flash("Your account has no instructor profile yet. Ask the office to complete it.", "warning")
        return redirect(url_for("dashboard.index"))
    return redirect(url_for(".view", instructor_id=actor.instructor_id))


def _render_form(form: InstructorForm, instructor: dict | None = None, status: int = 200):
    return render_template("instructors/form.html", form=form, instructor=instructor), status


def _hand_out_link(created: instructors.CreatedInstructor, done: str):
    """The activation link, shown once on the profile (app/core/web.py), never flashed."""
    return hand_out_activation(token=created.account.token, expires_at=created.account.expires_at,
                               email=created.email, first_name=created.first_name, done=done,
                               endpoint=".view", instructor_id=created.instructor_id)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def new():
    actor = current_actor()
    form = InstructorForm()
    branch_choices(form.branch_id, _branch_options())
    if not form.is_submitted():
        if not actor.is_admin:
            form.branch_id.data = actor.branch_id
        return _render_form(form)
    if not form.validate():
        return _render_form(form, status=422)
    try:
        created = instructors.create(get_db(), actor, form.values(), clock.now())
    except AppError as exc:
        return _render_form(form, status=form_failure(form, exc))
    return _hand_out_link(created, f"Instructor {created.first_name} created.")


def _view_url(instructor_id: int, section: str | None = None) -> str:
    return url_for(".view", instructor_id=instructor_id, _anchor=section)


def _render_view(instructor_id: int, window_form: UnavailabilityForm | None = None, status: int = 200, **context):
    data = instructors.profile_page(get_db(), current_actor(), instructor_id, clock.today(), clock.now(),
                                    current_app.config["APP_TIMEZONE"])
    return render_template("instructors/view.html", **data, **context,
                           window_form=window_form or UnavailabilityForm(formdata=None), today=clock.today()), status


@bp.get("/<int:instructor_id>")
@roles_required(*MANAGERS)
def view(instructor_id: int):
    return _render_view(instructor_id, **taken_handoff())


@bp.route("/<int:instructor_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def edit(instructor_id: int):
    actor = current_actor()
    instructor = instructors.get_for_office(get_db(), actor, instructor_id)
    if request.method == "POST":
        form = InstructorForm()
    else:
        form = InstructorForm(data={k: instructor.get(k) for k in PROFILE_FORM_FIELDS})
    branch_choices(form.branch_id, _branch_options())
    if not form.is_submitted():
        return _render_form(form, instructor)
    if not form.validate():
        return _render_form(form, instructor, 422)
    try:
        instructors.update(get_db(), actor, instructor_id, form.values(), clock.now())
    except AppError as exc:
        return _render_form(form, instructor, form_failure(form, exc))
    flash("Instructor updated.", "success")
    flash_affected(instructor_id=instructor_id)  # an accreditation expiry may break future lessons
    return redirect(url_for(".view", instructor_id=instructor_id))


def _refused(instructor_id: int, exc: AppError):
    """A refused button action: the profile with the reason at the top and the real status (422/409)."""
    context, status = action_refused(exc, _view_url(instructor_id))
    return _render_view(instructor_id, status=status, **context)


def _button_action(instructor_id: int, action, done: str):
    """Archive/restore."""
    try:
        action(get_db(), current_actor(), instructor_id, clock.now())
    except AppError as exc:
        return _refused(instructor_id, exc)
    flash(done, "success")
    return see_other(_view_url(instructor_id))


@bp.post("/<int:instructor_id>/archive")
@roles_required(*STAFF_ROLES)
def archive(instructor_id: int):
    return _button_action(instructor_id, instructors.archive, "Instructor archived; their sessions were ended.")


@bp.post("/<int:instructor_id>/restore")
@roles_required(*STAFF_ROLES)
def restore(instructor_id: int):
    return _button_action(instructor_id, instructors.restore, "Instructor restored.")


@bp.post("/<int:instructor_id>/activation")
@roles_required(*STAFF_ROLES)
def activation(instructor_id: int):
    try:
        created = instructors.reissue_activation(get_db(), current_actor(), instructor_id, clock.now())
    except AppError as exc:
        return _refused(instructor_id, exc)
    return _hand_out_link(created, "New activation link issued; earlier links no longer work.")


@bp.post("/<int:instructor_id>/unavailability")
@roles_required(*MANAGERS)
def add_unavailability(instructor_id: int):
    form = UnavailabilityForm()
    status = 422
    if form.validate():
        try:
            instructors.add_unavailability(get_db(), current_actor(), instructor_id, form.start_datetime.data,
                                           form.end_datetime.data, form.reason.data, clock.now())
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash("Unavailability window added.", "success")
            flash_affected(instructor_id=instructor_id)
            return see_other(_view_url(instructor_id, "availability"))
    return _render_view(instructor_id, form, status,
                        **section_failed(form, "The unavailability window was not added",
                                         _view_url(instructor_id, "availability"), "availability-form"))


@bp.post("/<int:instructor_id>/unavailability/<int:window_id>/delete")
@roles_required(*MANAGERS)
def delete_unavailability(instructor_id: int, window_id: int):
    try:
        instructors.delete_unavailability(get_db(), current_actor(), instructor_id, window_id, clock.now())
    except AppError as exc:
        return _refused(instructor_id, exc)
    flash("Unavailability window removed.", "success")
    return see_other(_view_url(instructor_id, "availability"))


@bp.route("/<int:instructor_id>/hours", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def hours(instructor_id: int):
    data = instructors.hours_page(get_db(), current_actor(), instructor_id)
    if request.method == "POST":
        form = AvailabilityForm()
    else:
        initial = {"availability_notes": data["instructor"]["availability_notes"]}
        for row in data["hours"]:  # one interval per day on this form (the first, if several were stored)
            initial.setdefault(f"start_{row['weekday']}", row["start_time"])
            initial.setdefault(f"end_{row['weekday']}", row["end_time"])
        form = AvailabilityForm(data=initial)
    if not form.is_submitted():
        return render_template("instructors/hours.html", form=form, **data)
    if not form.validate():
        return render_template("instructors/hours.html", form=form, **data), 422
    try:
        instructors.save_availability(get_db(), current_actor(), instructor_id, form.availability_notes.data,
                                      form.week(), clock.now())
    except AppError as exc:
        status = form_failure(form, exc)
        return render_template("instructors/hours.html", form=form, **data), status
    flash("Availability saved.", "success")
    return redirect(url_for(".view", instructor_id=instructor_id, _anchor="hours"))
