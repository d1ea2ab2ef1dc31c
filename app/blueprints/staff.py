"""Staff accounts (admin only): list, create (activation link, no password), view, edit, archive/restore,
re-issue the activation link, change the role between staff and administrator (after re-authentication)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.core import clock
from app.core.auth import current_actor, role_label, roles_required
from app.core.errors import AppError, ValidationFailed
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.reauth import kept_values, reauth_required
from app.core.web import action_refused, form_failure, hand_out_activation, see_other, taken_handoff
from app.forms.staff import StaffCreateForm, StaffForm, StaffRoleForm
from app.services import staff as staff_service
from app.services.staff import CreatedStaff

bp = Blueprint("staff", __name__, url_prefix="/staff")

_FORM_FIELDS = ("first_name", "last_name", "phone", "branch_id", "position_title", "employment_type", "start_date",
                "notes")


def _data(form: StaffForm) -> dict:
    data = {name: getattr(form, name).data for name in _FORM_FIELDS}
    if isinstance(form, StaffCreateForm):
        data["email"] = form.email.data
    return data


def _render_form(form: StaffForm, staff: dict | None, status: int = 200):
    form.set_branches(staff_service.branch_options(get_db(), current_actor()))
    return render_template("staff/form.html", form=form, staff=staff), status


def _hand_out_link(created: CreatedStaff, done: str):
    """The activation link, shown once on the profile (app/core/web.py), never flashed."""
    return hand_out_activation(token=created.token, expires_at=created.expires_at, email=created.email,
                               first_name=created.first_name, done=done, endpoint="staff.view",
                               staff_id=created.staff_id)


def _render_view(staff_id: int, status: int = 200, role_form: StaffRoleForm | None = None, **context):
    staff = staff_service.get_staff(get_db(), current_actor(), staff_id, clock.now())
    if role_form is None:  # the role a re-authentication handed back (app.core.reauth), else the current one
        role_form = StaffRoleForm(formdata=None, data={"role": kept_values("role").get("role") or staff["role"]})
    return render_template("staff/view.html", staff=staff, role_form=role_form, **context), status


def _refused(staff_id: int, exc: AppError, role_form: StaffRoleForm | None = None):
    context, status = action_refused(exc, url_for("staff.view", staff_id=staff_id))
    return _render_view(staff_id, status, role_form=role_form, **context)


@bp.get("/")
@roles_required("admin")
def index():
    query = ListQuery.from_args(request.args, staff_service.LIST_SORTS, staff_service.DEFAULT_SORT,
                                filters=staff_service.LIST_FILTERS, defaults=staff_service.LIST_DEFAULTS)
    actor = current_actor()
    page = staff_service.list_staff(get_db(), actor, query, clock.now())
    branch_options = [(b["id"], b["name"]) for b in staff_service.branch_options(get_db(), actor)]
    return render_template("staff/index.html", page=page, branch_options=branch_options)


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin")
def new():
    form = StaffCreateForm()
    if not form.is_submitted():
        form.start_date.data = clock.today()
        return _render_form(form, None)
    if not form.validate():
        return _render_form(form, None, 422)
    try:
        created = staff_service.create_staff(get_db(), current_actor(), _data(form), clock.now(), clock.today())
    except AppError as exc:
        return _render_form(form, None, form_failure(form, exc))
    return _hand_out_link(created, f"Staff account created for {created.email}.")


@bp.get("/<int:staff_id>")
@roles_required("admin")
def view(staff_id: int):
    return _render_view(staff_id, **taken_handoff())


@bp.route("/<int:staff_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit(staff_id: int):
    staff = staff_service.get_staff(get_db(), current_actor(), staff_id)
    if request.method in ("GET", "HEAD"):
        return _render_form(StaffForm(data={name: staff[name] for name in _FORM_FIELDS}), staff)
    form = StaffForm()
    if not form.validate():
        return _render_form(form, staff, 422)
    try:
        staff_service.update_staff(get_db(), current_actor(), staff_id, _data(form), clock.now(), clock.today())
    except AppError as exc:
        return _render_form(form, staff, form_failure(form, exc))
    flash(f"{form.first_name.data} {form.last_name.data} saved.", "success")
    return redirect(url_for("staff.view", staff_id=staff_id))


@bp.post("/<int:staff_id>/archive")
@roles_required("admin")
def archive(staff_id: int):
    try:
        staff = staff_service.archive_staff(get_db(), current_actor(), staff_id, clock.now())
    except AppError as exc:
        return _refused(staff_id, exc)
    flash(f"{staff['first_name']} {staff['last_name']} was archived and signed out everywhere.", "success")
    return see_other(url_for("staff.view", staff_id=staff_id))


@bp.post("/<int:staff_id>/restore")
@roles_required("admin")
def restore(staff_id: int):
    try:
        staff = staff_service.restore_staff(get_db(), current_actor(), staff_id, clock.now())
    except AppError as exc:
        return _refused(staff_id, exc)
    flash(f"{staff['first_name']} {staff['last_name']} was restored and can sign in again.", "success")
    return see_other(url_for("staff.view", staff_id=staff_id))


@bp.post("/<int:staff_id>/role")
@roles_required("admin")
@reauth_required(form_page=lambda staff_id: url_for("staff.view", staff_id=staff_id), keep=("role",))
def role(staff_id: int):
    form = StaffRoleForm()
    try:
        if not form.validate():
            raise ValidationFailed("Choose Staff or Administrator.", field="role")
        staff = staff_service.change_role(get_db(), current_actor(), staff_id, form.role.data, clock.now())
    except AppError as exc:
        return _refused(staff_id, exc, role_form=form)
    flash(f"{staff['first_name']} {staff['last_name']} now has the {role_label(staff['role'])} role. Their sessions "
          "ended, so it applies from their next sign-in.", "success")
    return see_other(url_for("staff.view", staff_id=staff_id))


@bp.post("/<int:staff_id>/activation")
@roles_required("admin")
def activation(staff_id: int):
    try:
        created = staff_service.reissue_activation(get_db(), current_actor(), staff_id, clock.now())
    except AppError as exc:
        return _refused(staff_id, exc)
    return _hand_out_link(created, "A new activation link was issued; earlier links no longer work.")
