"""Fleet: vehicles, servicing log and downtime windows (admin and staff; staff their own branch)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.core import clock
from app.core.auth import STAFF_ROLES, current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.web import action_refused, form_failure, section_failed, see_other
from app.dao.branch import BranchDAO
from app.dao.vehicle import SORTS
from app.forms.fleet import DowntimeForm, ServiceLogForm, VehicleForm
from app.core.forms import branch_choices
from app.services import fleet, stats
from app.blueprints.disruptions import flash_affected

bp = Blueprint("fleet", __name__, url_prefix="/fleet")

LIST_FILTERS = {"branch": "id", "status": ("available", "in_service", "maintenance"),
                "transmission": ("Automatic", "Manual"), "service": ("due", "overdue", "attention")}
VEHICLE_FORM_FIELDS = ("name", "type", "transmission", "plate_number", "vin", "branch_id", "status", "odometer_km",
                       "last_service_date", "next_service_due", "notes")


def _local_now():
    return clock.local_now().replace(tzinfo=None)


@bp.get("/")
@roles_required(*STAFF_ROLES)
def index():
    actor = current_actor()
    query = ListQuery.from_args(request.args, list(SORTS), "name", filters=LIST_FILTERS)
    page = fleet.list_page(get_db(), actor, query, clock.today())
    branches = BranchDAO(get_db()).options() if actor.is_admin else []
    counts_as_of = stats.as_of(stats.refreshed_at(get_db(), "vehicle_totals"), clock.now())
    return render_template("fleet/index.html", page=page, branches=branches, counts_as_of=counts_as_of)


def _vehicle_form(data: dict | None = None) -> VehicleForm:
    actor = current_actor()
    form = VehicleForm() if data is None else VehicleForm(data=data)
    blank = "No branch" if actor.is_admin else "Choose a branch"
    branch_choices(form.branch_id, BranchDAO(get_db()).options(actor.branch_filter()), blank)
    return form


def _render_form(form: VehicleForm, vehicle: dict | None = None, status: int = 200):
    return render_template("fleet/form.html", form=form, vehicle=vehicle), status


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def new():
    actor = current_actor()
    form = _vehicle_form()
    if not form.is_submitted():
        if not actor.is_admin:
            form.branch_id.data = actor.branch_id
        return _render_form(form)
    if not form.validate():
        return _render_form(form, status=422)
    try:
        vehicle_id = fleet.create(get_db(), actor, form.values(), clock.now())
    except AppError as exc:
        return _render_form(form, status=form_failure(form, exc))
    flash("Vehicle added to the fleet.", "success")
    return redirect(url_for(".view", vehicle_id=vehicle_id))


def _view_url(vehicle_id: int, section: str | None = None) -> str:
    return url_for(".view", vehicle_id=vehicle_id, _anchor=section)


def _render_view(vehicle_id: int, service_form: ServiceLogForm | None = None,
                 downtime_form: DowntimeForm | None = None, status: int = 200, **context):
    data = fleet.vehicle_page(get_db(), current_actor(), vehicle_id, clock.today(), _local_now())
    return render_template("fleet/view.html", **data, **context,
                           service_form=service_form or ServiceLogForm(formdata=None),
                           downtime_form=downtime_form or DowntimeForm(formdata=None), today=clock.today()), status


@bp.get("/<int:vehicle_id>")
@roles_required(*STAFF_ROLES)
def view(vehicle_id: int):
    return _render_view(vehicle_id)


@bp.route("/<int:vehicle_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def edit(vehicle_id: int):
    actor = current_actor()
    vehicle = fleet.get(get_db(), actor, vehicle_id)
    form = _vehicle_form() if request.method == "POST" else _vehicle_form({k: vehicle[k] for k in VEHICLE_FORM_FIELDS})
    if not form.is_submitted():
        return _render_form(form, vehicle)
    if not form.validate():
        return _render_form(form, vehicle, 422)
    try:
        fleet.update(get_db(), actor, vehicle_id, form.values(), clock.now())
    except AppError as exc:
        return _render_form(form, vehicle, form_failure(form, exc))
    flash("Vehicle updated.", "success")
    flash_affected(vehicle_id=vehicle_id)  # a maintenance status or service date may break future lessons
    return redirect(url_for(".view", vehicle_id=vehicle_id))


@bp.post("/<int:vehicle_id>/service")
@roles_required(*STAFF_ROLES)
def add_service(vehicle_id: int):
    form = ServiceLogForm()
    status = 422
    if form.validate():
        try:
            fleet.add_service(get_db(), current_actor(), vehicle_id, {
                "service_date": form.service_date.data, "odometer_km": form.odometer_km.data,
                "cost": form.cost.data, "notes": form.notes.data}, clock.today(), clock.now())
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash("Service logged.", "success")
            return see_other(_view_url(vehicle_id, "servicing"))
    return _render_view(vehicle_id, service_form=form, status=status,
                        **section_failed(form, "The service was not logged", _view_url(vehicle_id, "servicing"),
                                         "servicing-form"))


@bp.post("/<int:vehicle_id>/downtime")
@roles_required(*STAFF_ROLES)
def add_downtime(vehicle_id: int):
    form = DowntimeForm()
    status = 422
    if form.validate():
        try:
            fleet.add_downtime(get_db(), current_actor(), vehicle_id, form.start_datetime.data,
                               form.end_datetime.data, form.reason.data, clock.now())
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash("Downtime window added.", "success")
            flash_affected(vehicle_id=vehicle_id)
            return see_other(_view_url(vehicle_id, "downtime"))
    return _render_view(vehicle_id, downtime_form=form, status=status,
                        **section_failed(form, "The downtime window was not added", _view_url(vehicle_id, "downtime"),
                                         "downtime-form"))


@bp.post("/<int:vehicle_id>/downtime/<int:window_id>/delete")
@roles_required(*STAFF_ROLES)
def delete_downtime(vehicle_id: int, window_id: int):
    try:
        fleet.delete_downtime(get_db(), current_actor(), vehicle_id, window_id, clock.now())
    except AppError as exc:
        context, status = action_refused(exc, _view_url(vehicle_id, "downtime"))
        return _render_view(vehicle_id, status=status, **context)
    flash("Downtime window removed.", "success")
    return see_other(_view_url(vehicle_id, "downtime"))
