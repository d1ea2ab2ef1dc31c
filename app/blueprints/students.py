"""Students (the CRM): list, register, profile, edit, archive/restore, activation link, notes.

Every POST first resolves the student in the actor's scope (404 outside it), then validates.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.core import clock
from app.core.auth import ANY_ROLE, current_actor, roles_required
from app.core.errors import AppError, NotFound
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.web import action_refused, form_failure, hand_out_activation, section_failed, see_other, taken_handoff
from app.dao.student import PROFILE_FIELDS
from app.forms.documents import UploadForm
from app.forms.students import ActionForm, NoteForm, RegisterStudentForm, StudentForm
from app.services import notes, students
from app.services.documents import category_label, size_label

bp = Blueprint("students", __name__, url_prefix="/students")

FORM_FIELDS = ("first_name", "last_name", "phone", *PROFILE_FIELDS)


def _data(form: StudentForm) -> dict:
    data = {name: getattr(form, name).data for name in FORM_FIELDS}
    if hasattr(form, "email"):
        data["email"] = form.email.data
    return data


def _hand_out_link(registered: students.Registered, done: str):
    """The activation link, shown once on the profile (app/core/web.py), never flashed."""
    return hand_out_activation(token=registered.token, expires_at=registered.expires_at, email=registered.email,
                               first_name=registered.first_name, done=done, endpoint="students.view",
                               student_id=registered.student_id)


def section_url(student_id: int, section: str | None = None) -> str:
    """The profile's GET address (with a section anchor): where a failed section form leaves the address bar."""
    return url_for("students.view", student_id=student_id, _anchor=section)


def render_profile(student_id: int, *, note_form: NoteForm | None = None, upload_form: UploadForm | None = None,
                   status: int = 200, **context):
    """The profile page (also re-rendered with 422/409 by the note and upload forms and refused buttons;
    ``context`` carries web.section_failed / action_refused / taken_handoff)."""
    data = students.profile(get_db(), current_actor(), student_id, clock.today())
    return render_template(
        "students/view.html",
        **data,
        **context,
        note_form=note_form or NoteForm(formdata=None),
        upload_form=upload_form or UploadForm(formdata=None),
        action_form=ActionForm(formdata=None),
        today=clock.today(),
        category_label=category_label,
        size_label=size_label,
    ), status


@bp.get("/")
@roles_required("admin", "staff", "instructor")
def index():
    db, actor = get_db(), current_actor()
    query = ListQuery.from_args(request.args, students.LIST_SORTS, students.DEFAULT_SORT,
                                filters=students.LIST_FILTERS, defaults=students.LIST_DEFAULTS)
    page = students.list_students(db, actor, query)
    return render_template("students/index.html", page=page, options=students.filter_options(db, actor),
                           can_register=actor.is_office, prefix_search=students.prefix_search(actor, query))


@bp.get("/me")
@roles_required("student")
def me():
    actor = current_actor()
    if actor.student_id is None:
        raise NotFound("Your account has no student profile yet. Ask the office to complete it.")
    return redirect(url_for("students.view", student_id=actor.student_id))


@bp.route("/new", methods=["GET", "POST"])
@roles_required("admin", "staff")
def new():
    db, actor = get_db(), current_actor()
    form = RegisterStudentForm()
    form.set_branches(students.branch_choices(db, actor))
    if not form.is_submitted():
        if actor.branch_filter() is not None:  # staff: their branch is the only choice
            form.branch_id.data = actor.branch_filter()
        return render_template("students/form.html", form=form, student=None)
    if not form.validate():
        return render_template("students/form.html", form=form, student=None), 422
    try:
        registered = students.register_student(db, actor, _data(form), clock.now())
    except AppError as exc:
        status = form_failure(form, exc)
        return render_template("students/form.html", form=form, student=None), status
    return _hand_out_link(registered, f"Student {form.first_name.data} {form.last_name.data} registered.")


@bp.get("/<int:student_id>")
@roles_required(*ANY_ROLE)
def view(student_id: int):
    return render_profile(student_id, **taken_handoff())


@bp.route("/<int:student_id>/edit", methods=["GET", "POST"])
@roles_required("admin", "staff")
def edit(student_id: int):
    db, actor = get_db(), current_actor()
    student = students.get_student(db, actor, student_id)
    students.require_not_anonymised(db, student["user_id"])  # 409 page, before any form
    if request.method in ("GET", "HEAD"):
        form = StudentForm(data={name: student[name] for name in FORM_FIELDS})
    else:
        form = StudentForm()
    form.set_branches(students.branch_choices(db, actor))
    if request.method in ("GET", "HEAD"):
        return render_template("students/form.html", form=form, student=student)
    if not form.validate():
        return render_template("students/form.html", form=form, student=student), 422
    try:
        students.update_student(db, actor, student_id, _data(form), clock.now())
    except AppError as exc:
        status = form_failure(form, exc)
        return render_template("students/form.html", form=form, student=student), status
    flash("Student profile saved.", "success")
    return redirect(url_for("students.view", student_id=student_id))


def _account_action(student_id: int, action, done: str):
    db, actor = get_db(), current_actor()
    students.get_student(db, actor, student_id)  # 404 outside the scope, before anything else
    ActionForm()  # CSRF is checked globally; the form documents the intent
    try:
        result = action(db, actor, student_id, clock.now())
    except AppError as exc:
        context, status = action_refused(exc, section_url(student_id))
        return render_profile(student_id, status=status, **context)
    if isinstance(result, students.Registered):
        return _hand_out_link(result, done)
    flash(done, "success")
    return see_other(section_url(student_id))


@bp.post("/<int:student_id>/archive")
@roles_required("admin", "staff")
def archive(student_id: int):
    return _account_action(student_id, students.archive_student,
                           "Account archived. The student was signed out everywhere.")


@bp.post("/<int:student_id>/restore")
@roles_required("admin", "staff")
def restore(student_id: int):
    return _account_action(student_id, students.restore_student, "Account restored.")


@bp.post("/<int:student_id>/activation")
@roles_required("admin", "staff")
def activation(student_id: int):
    return _account_action(student_id, students.reissue_activation, "New activation link issued.")


@bp.post("/<int:student_id>/notes")
@roles_required("admin", "staff", "instructor")
def add_note(student_id: int):
    db, actor = get_db(), current_actor()
    students.get_student(db, actor, student_id)
    form = NoteForm()
    if form.validate():
        try:
            notes.add_student_note(db, actor, student_id, form.content.data, clock.now())
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash("Note added.", "success")
            return see_other(section_url(student_id, "notes"))
    else:
        status = 422
    return render_profile(student_id, note_form=form, status=status,
                          **section_failed(form, "The note was not added", section_url(student_id, "notes"),
                                           "note-form"))
