"""The enrolment request queue and the decision (admin, staff, instructors). Rules: services/enrollment_requests.py.

- ``GET /enrolment-requests/``: filter by status (pending by default), branch and course, search, sort,
  paginated; per-status counts from one aggregate. Admin all, staff their branch, an instructor the
  requests assigned to them.
- ``GET /enrolment-requests/<request_id>``: the request, the applicant, a duplicates hint, the decision
  form (pending only) and, for the office, assignment.
- ``POST /enrolment-requests/<request_id>/decide``: approve (needs an instructor) or decline (needs a
  reason); 303 back to the request. A decided request answers 409, bad input 422 (the page re-renders
  with the form's values and the errors in view); out of scope 404.
- ``POST /enrolment-requests/<request_id>/assign`` (office): the instructor who may decide it.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, request, url_for

from app.core import clock
from app.core.auth import current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.web import form_failure, section_failed, see_other
from app.forms.enrollment_requests import AssignForm, DecisionForm
from app.blueprints import pickers
from app.services import enrollment_requests as service

bp = Blueprint("enrollmentrequests", __name__, url_prefix="/enrolment-requests")

LABELS = {"status": "status", "branch": "branch", "course": "course"}


@bp.get("/")
@roles_required("admin", "staff", "instructor")
def index():
    db, actor = get_db(), current_actor()
    query = ListQuery.from_args(request.args, service.LIST_SORTS, service.DEFAULT_SORT, "desc",
                                filters=service.LIST_FILTERS, labels=LABELS, defaults=service.LIST_DEFAULTS)
    page, counts = service.list_requests(db, actor, query)
    return render_template("enrollment_requests/index.html", page=page, counts=counts,
                           options=service.filter_options(db, actor), is_office=actor.is_office)


def _forms(data: dict, decision: DecisionForm | None = None, assign: AssignForm | None = None):
    r = data["request"]
    instructors = [("", "Choose an instructor…")] + [
        (i["id"], f"{i['first_name']} {i['last_name']}") for i in data["instructors"]]
    courses = [(c["id"], c["title"]) for c in data["courses"]]
    if decision is None:
        decision = DecisionForm(formdata=None, data={"instructor_id": r["instructor_id"], "course_id": r["course_id"]})
    decision.instructor_id.choices = instructors
    decision.course_id.choices = courses
    if assign is None:
        assign = AssignForm(formdata=None, data={"instructor_id": r["instructor_id"]})
    assign.instructor_id.choices = [("", "Nobody (unassigned)")] + instructors[1:]
    return decision, assign


def _render(request_id: int, status: int = 200, decision=None, assign=None, **context):
    db, actor = get_db(), current_actor()
    data = service.detail(db, actor, request_id)
    decision, assign = _forms(data, decision, assign)
    if actor.is_office and not actor.lacks_branch:  # the office chooses among the branch's instructors: pickers
        branch = data["request"].get("branch_id")  # staff: their own anyway; admin: the applicant's branch
        context["decision_picker"] = pickers.state("instructor_id", "instructor", [decision.instructor_id.data],
                                                   branch_id=branch, key="instructor_id",
                                                   id_prefix="decision-instructor")
        context["assign_picker"] = pickers.state("instructor_id", "instructor", [assign.instructor_id.data],
                                                 branch_id=branch, key="assign_instructor_id",
                                                 id_prefix="assign-instructor")
    return render_template("enrollment_requests/view.html", **data, form=decision, assign_form=assign,
                           is_office=actor.is_office, is_instructor=actor.role == "instructor",
                           **context), status


@bp.get("/<int:request_id>")
@roles_required("admin", "staff", "instructor")
def view(request_id: int):
    return _render(request_id)


@bp.post("/<int:request_id>/decide")
@roles_required("admin", "staff", "instructor")
def decide(request_id: int):
    db, actor = get_db(), current_actor()
    service.get_request(db, actor, request_id)  # 404 before anything else when out of scope
    form = DecisionForm()
    if pickers.navigating():  # the instructor picker's Search or page button (no JavaScript): nothing is saved
        return _render(request_id, decision=form, page_location=url_for(".view", request_id=request_id) + "#decision")
    status = 422
    if form.validate():
        try:
            done = service.decide(db, actor, request_id, form.values(), now=clock.now(), settings=current_app.config)
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            if done["status"] == "approved":
                flash("Approved: the enrolment, its lesson package"
                      + (" and the invoice are" if done.get("invoice_id") else " are") + " created; the student is told.",
                      "success")
            else:
                flash("Declined: the applicant sees the reason.", "success")
            return see_other(url_for(".view", request_id=request_id))
    location = url_for(".view", request_id=request_id) + "#decision"
    return _render(request_id, status, decision=form,
                   **section_failed(form, "The decision was not recorded", location, "decision-form"))


@bp.post("/<int:request_id>/assign")
@roles_required("admin", "staff")
def assign(request_id: int):
    db, actor = get_db(), current_actor()
    service.get_request(db, actor, request_id)
    form = AssignForm()
    if pickers.navigating():
        return _render(request_id, assign=form, page_location=url_for(".view", request_id=request_id) + "#assign")
    status = 422
    if form.validate():
        try:
            service.assign(db, actor, request_id, form.instructor_id.data, now=clock.now())
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash("Assignment saved.", "success")
            return see_other(url_for(".view", request_id=request_id))
    location = url_for(".view", request_id=request_id) + "#assign"
    return _render(request_id, status, assign=form,
                   **section_failed(form, "The assignment was not saved", location, "assign-form"))
