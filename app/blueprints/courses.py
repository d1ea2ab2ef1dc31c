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


def _render_form(form: CourseForm, course: dict | None, status: int = 200):
    """The form with its instructor picker: the ticked instructors the user may allocate, one page of
    matches (app/blueprints/pickers.py), and the other branches' allocations shown read-only."""
    actor = current_actor()
    selected = [i for i in (form.instructor_ids.data or []) if isinstance(i, int)]
    instructors = pickers.state("instructor_ids", "instructor", selected, id_prefix="instructor")
    allowed_branch = actor.branch_filter()
    fixed = [i for i in (course or {}).get("instructors", [])
             if allowed_branch is not None and i.get("branch_id") != allowed_branch]
    return render_template("courses/form.html", form=form, course=course, instructors=instructors,
                           fixed=fixed), status


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
    course = courses.get_course(get_db(), current_actor(), course_id)
    if request.method in ("GET", "HEAD"):
        data = {name: course[name] for name in FIELDS}
        data["instructor_ids"] = [i["id"] for i in course["instructors"]]
        return _render_form(CourseForm(data=data), course)
    form = CourseForm()
    if pickers.navigating():  # the picker's Search or page button (no JavaScript): nothing is saved
        return _render_form(form, course)
    if not form.validate():
        return _render_form(form, course, 422)
    try:
        courses.update_course(get_db(), current_actor(), course_id, _data(form), clock.now())
    except AppError as exc:
        return _render_form(form, course, form_failure(form, exc))
    flash(f"Course “{form.title.data}” saved.", "success")
    return redirect(url_for("courses.view", course_id=course_id))
