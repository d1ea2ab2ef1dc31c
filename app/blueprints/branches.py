"""Branches: list and view (admin, staff: own branch only); create and edit (admin)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.core import clock
from app.core.auth import current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.web import form_failure
from app.dao.branch import FIELDS
from app.forms.branches import BranchForm
from app.services import branches

bp = Blueprint("branches", __name__, url_prefix="/branches")


def _data(form: BranchForm) -> dict:
    return {name: getattr(form, name).data for name in FIELDS}


@bp.get("/")
@roles_required("admin", "staff")
def index():
    query = ListQuery.from_args(request.args, branches.LIST_SORTS, branches.DEFAULT_SORT)
    page = branches.list_branches(get_db(), current_actor(), query)
    return render_template("branches/index.html", page=page)


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin")
def new():
    form = BranchForm()
    if not form.is_submitted():
        return render_template("branches/form.html", form=form, branch=None)
    if not form.validate():
        return render_template("branches/form.html", form=form, branch=None), 422
    try:
        branch_id = branches.create_branch(get_db(), current_actor(), _data(form), clock.now())
    except AppError as exc:
        status = form_failure(form, exc)
        return render_template("branches/form.html", form=form, branch=None), status
    flash(f"Branch “{form.name.data}” created.", "success")
    return redirect(url_for("branches.view", branch_id=branch_id))


@bp.get("/<int:branch_id>")
@roles_required("admin", "staff")
def view(branch_id: int):
    detail = branches.branch_detail(get_db(), current_actor(), branch_id, clock.today())
    return render_template("branches/view.html", **detail)


@bp.route("/<int:branch_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit(branch_id: int):
    branch = branches.get_branch(get_db(), current_actor(), branch_id)
    if request.method in ("GET", "HEAD"):
        form = BranchForm(data={name: branch[name] for name in FIELDS})
        return render_template("branches/form.html", form=form, branch=branch)
    form = BranchForm()
    if not form.validate():
        return render_template("branches/form.html", form=form, branch=branch), 422
    try:
        branches.update_branch(get_db(), current_actor(), branch_id, _data(form), clock.now())
    except AppError as exc:
        status = form_failure(form, exc)
        return render_template("branches/form.html", form=form, branch=branch), status
    flash(f"Branch “{form.name.data}” saved.", "success")
    return redirect(url_for("branches.view", branch_id=branch_id))
