"""Enrolments (the office): one enrolment's page, its status, direct enrolment from the student's page and
branch transfers. Rules: services/enrollments.py.

- ``GET /enrolments/<enrollment_id>``: course, status, derived progress, lessons, the status form.
- ``POST /enrolments/<enrollment_id>/status``: a lifecycle change (422 for a change the rules refuse).
- ``GET|POST /students/<student_id>/enrol``: enrol the student in a course (303 to the new enrolment);
  linked from the student's page.
- ``GET|POST /students/<student_id>/transfer``: move the student to another branch (303 to the student;
  staff, who can no longer see them, to the student list).
Errors re-render the form with the typed values and the error in view (422); out of scope 404.
"""
from __future__ import annotations

from flask import Blueprint, flash, render_template, request, url_for

from app.core import clock
from app.core.auth import current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.web import PageAlert, form_failure, section_failed, see_other
from app.forms.enrollment_requests import EnrolForm, StatusForm, TransferForm
from app.services import enrollments as service
from app.services import students

bp = Blueprint("enrollments", __name__)


def _status_form(enrolment: dict, form: StatusForm | None = None) -> StatusForm:
    form = form or StatusForm(formdata=None)
    form.status.choices = [(s, service.STATUS_LABELS[s]) for s in enrolment["next_statuses"]] or [("", "No change possible")]
    return form


def _render(enrollment_id: int, status: int = 200, form=None, **context):
    data = service.page(get_db(), current_actor(), enrollment_id)
    return render_template("enrollment_requests/enrollment.html", **data,
                           form=_status_form(data["enrollment"], form), **context), status


@bp.get("/enrolments/<int:enrollment_id>")
@roles_required("admin", "staff")
def view(enrollment_id: int):
    return _render(enrollment_id)


@bp.post("/enrolments/<int:enrollment_id>/status")
@roles_required("admin", "staff")
def change_status(enrollment_id: int):
    db, actor = get_db(), current_actor()
    current = service.get_enrollment(db, actor, enrollment_id)
    form = _status_form(current, StatusForm())
    status = 422
    if form.validate():
        try:
            service.change_status(db, actor, enrollment_id, form.status.data, form.reason.data, now=clock.now())
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash(f"The enrolment is now {service.STATUS_LABELS[form.status.data].lower()}.", "success")
            return see_other(url_for(".view", enrollment_id=enrollment_id))
    location = url_for(".view", enrollment_id=enrollment_id) + "#status"
    return _render(enrollment_id, status, form=form,
                   **section_failed(form, "The status was not changed", location, "status-form"))


def _student_form_page(student: dict, title: str, form, action: str, status: int = 200, lead: str | None = None):
    context = {}
    if lead:
        problems = " ".join(form.form_errors + [m for f in form for m in f.errors]) or "check the form."
        context = {"page_alert": PageAlert(f"{lead}: {problems}", "#student-form"), "page_focus_form": "student-form"}
    return render_template("enrollment_requests/student_form.html", student=student, form=form, title=title,
                           action=action, **context), status


@bp.route("/students/<int:student_id>/enrol", methods=["GET", "POST"])
@roles_required("admin", "staff")
def enrol(student_id: int):
    db, actor = get_db(), current_actor()
    student = students.get_student(db, actor, student_id)
    form = EnrolForm() if request.method == "POST" else EnrolForm(formdata=None)
    form.course_id.choices = [("", "Choose a course…")] + service.course_choices(db)
    action = url_for(".enrol", student_id=student_id)
    if request.method in ("GET", "HEAD"):
        return _student_form_page(student, "Enrol in a course", form, action)
    status = 422
    if form.validate():
        try:
            enrollment_id = service.enrol(db, actor, student_id, {"course_id": form.course_id.data,
                                                                  "start_date": form.start_date.data}, now=clock.now())
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash("Enrolled: the lesson package is on the enrolment.", "success")
            return see_other(url_for(".view", enrollment_id=enrollment_id))
    return _student_form_page(student, "Enrol in a course", form, action, status, "The student was not enrolled")


@bp.route("/students/<int:student_id>/transfer", methods=["GET", "POST"])
@roles_required("admin", "staff")
def transfer(student_id: int):
    db, actor = get_db(), current_actor()
    student = students.get_student(db, actor, student_id)
    form = TransferForm() if request.method == "POST" else TransferForm(formdata=None)
    form.branch_id.choices = [("", "Choose a branch…")] + service.branch_choices(db, student["branch_id"])
    action = url_for(".transfer", student_id=student_id)
    if request.method in ("GET", "HEAD"):
        return _student_form_page(student, "Transfer to another branch", form, action)
    status = 422
    if form.validate():
        try:
            moved = service.transfer(db, actor, student_id, form.branch_id.data, form.reason.data, now=clock.now())
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash(f"Transferred to {moved['branch_name']}.", "success")
            if actor.role == "staff":  # the student has left this branch: their page is no longer ours
                return see_other(url_for("students.index"))
            return see_other(url_for("students.view", student_id=student_id))
    return _student_form_page(student, "Transfer to another branch", form, action, status,
                              "The student was not transferred")
