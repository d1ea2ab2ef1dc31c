"""The course catalogue (admin and staff): list, create, view, edit/retire, allocated instructors."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.core import clock
from app.core.auth import current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.web import form_failure
from app.dao.branch import BranchDAO
from app.dao.course import FIELDS
from app.forms.courses import CourseForm
from app.blueprints import pickers
from app.services import courses, stats

bp = Blueprint("courses", __name__, url_prefix="/courses")


def _data(form: CourseForm) -> dict:
    return {**{name: getattr(form, name).data for name in FIELDS}, "instructor_ids": form.instructor_ids.data or []}


def _render_form(form: CourseForm, course: dict | None, status: int = 200, branch: int | None = None):
    """The form with its instructor picker: the ticked instructors the user may allocate, one page of
    matches (app/blueprints/pickers.py), and how many other branches' allocations stay as they are.
    ``branch`` (services.courses.allocation_branch): an administrator changing one branch's part."""
    actor = current_actor()
    selected = [i for i in (form.instructor_ids.data or []) if isinstance(i, int)]
    instructors = pickers.state("instructor_ids", "instructor", selected, id_prefix="instructor",
                                branch_id=branch if actor.is_admin else None)
    branches = BranchDAO(get_db()).options() if actor.is_admin and branch is not None else []
    return render_template("courses/form.html", form=form, course=course, instructors=instructors,
                           others=(course or {}).get("other_allocations", 0), allocation_branch=branch,
                           branches=branches), status


@bp.get("/")
@roles_required("admin", "staff")
def index():
    query = ListQuery.from_args(request.args, courses.LIST_SORTS, courses.DEFAULT_SORT,
                                filters=courses.LIST_FILTERS)
    result = courses.list_courses(get_db(), current_actor(), query)
    counts_as_of = stats.as_of(stats.refreshed_at(get_db(), "course_totals"), clock.now())
    return render_template("courses/index.html", page=result["page"], counts_as_of=counts_as_of,
                           category_options=[(c, c) for c in result["categories"]])


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin", "staff")
def new():
    form = CourseForm()
    if not form.is_submitted():
        return _render_form(form, None)
    if pickers.navigating():  # the picker's Search or page button (no JavaScript): nothing is saved
        return _render_form(form, None)
    if not form.validate():
        return _render_form(form, None, 422)
    try:
        course_id = courses.create_course(get_db(), current_actor(), _data(form), clock.now())
    except AppError as exc:
        return _render_form(form, None, form_failure(form, exc))
    flash(f"Course “{form.title.data}” created.", "success")
    return redirect(url_for("courses.view", course_id=course_id))


@bp.get("/<int:course_id>")
@roles_required("admin", "staff")
def view(course_id: int):
    actor = current_actor()
    query = ListQuery.from_args(request.args, courses.ALLOCATED_SORTS, "name", filters={"branch": "id"})
    data = courses.course_page(get_db(), actor, course_id, query)
    branches = BranchDAO(get_db()).options() if actor.is_admin else []
    return render_template("courses/view.html", **data, branches=branches)


@bp.route("/<int:course_id>/edit", methods=["GET", "POST"])
@roles_required("admin", "staff")
def edit(course_id: int):
    db, actor = get_db(), current_actor()
    source = request.form if request.method == "POST" else request.args
    branch = courses.allocation_branch(db, actor, course_id, source.get("allocation_branch"))
    course = courses.get_course(db, actor, course_id, branch)
    if request.method in ("GET", "HEAD"):
        data = {name: course[name] for name in FIELDS}
        data["instructor_ids"] = [i["id"] for i in course["instructors"]]
        return _render_form(CourseForm(data=data), course, branch=branch)
    form = CourseForm()
    if pickers.navigating():  # the picker's Search or page button (no JavaScript): nothing is saved
        return _render_form(form, course, branch=branch)
    if not form.validate():
        return _render_form(form, course, 422, branch=branch)
    try:
        courses.update_course(db, actor, course_id, {**_data(form), "allocation_branch": branch}, clock.now())
    except AppError as exc:
        return _render_form(form, course, form_failure(form, exc), branch=branch)
    flash(f"Course “{form.title.data}” saved.", "success")
    return redirect(url_for("courses.view", course_id=course_id))
