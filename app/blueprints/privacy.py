"""Privacy requests (issue 11, item 6; the rules are services/privacy.py's).

- ``GET /my/data`` (students): what the download holds, with "Download JSON" and "Printable copy".
- ``GET /my/data.json``: the student's own data as a JSON attachment (``application/json``); audited.
- ``GET /my/data.html``: the same data as a readable page to print or save as PDF; audited.
  Both are the signed-in student's only (the Actor's ids; nothing in the address names a student) and
  are sent with ``Cache-Control: no-store``.
- ``GET|POST /students/<id>/anonymise`` (admin, staff of the student's branch): the confirm page (what is
  removed, what is kept, the rules that refuse it) and the anonymisation with a reason. A student outside
  the actor's scope is 404 before the form is read; a refusal re-renders the page with its status (409
  naming the rule, 422 for the reason); success is a 303 to the student's profile with a flash.
"""
from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, render_template, request, url_for

from app.core import clock
from app.core.auth import current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.web import form_failure, see_other
from app.forms.privacy import AnonymiseForm
from app.services import privacy
from app.services.documents import category_label

bp = Blueprint("privacy", __name__)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@bp.app_template_global()
def privacy_anonymised_at(user_id):
    """For the student profile page: when the account was anonymised (None if it was not)."""
    return privacy.anonymised_at(get_db(), user_id) if user_id else None


@bp.get("/my/data")
@roles_required("student")
def my_data():
    counts = privacy.summary(get_db(), current_actor())
    return render_template("privacy/my_data.html", counts=counts, sections=privacy.SECTIONS,
                           not_included=privacy.NOT_INCLUDED)


@bp.get("/my/data.json")
@roles_required("student")
def my_data_json():
    now = clock.now()
    data = privacy.export(get_db(), current_actor(), kind="json", now=now, settings=current_app.config)
    name = privacy.file_name(now, "json")
    return Response(privacy.to_json(data), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', **NO_STORE})


@bp.get("/my/data.html")
@roles_required("student")
def my_data_html():
    data = privacy.export(get_db(), current_actor(), kind="html", now=clock.now(), settings=current_app.config)
    return render_template("privacy/copy.html", data=data, category_label=category_label), 200, NO_STORE


@bp.route("/students/<int:student_id>/anonymise", methods=["GET", "POST"])
@roles_required("admin", "staff")
def anonymise(student_id: int):
    db, actor, now = get_db(), current_actor(), clock.now()
    page = privacy.anonymise_page(db, actor, student_id, now)  # 404 outside the scope, before the form
    if request.method in ("GET", "HEAD"):
        return _render(page, AnonymiseForm(formdata=None))
    form = AnonymiseForm()
    if not form.validate():
        return _render(page, form, 422)
    try:
        done = privacy.anonymise(db, actor, student_id, form.reason.data, now=now,
                                 upload_dir=current_app.config["UPLOAD_DIR"])
    except AppError as exc:
        status = form_failure(form, exc)
        return _render(privacy.anonymise_page(db, actor, student_id, now), form, status)
    files = done.files_deleted
    flash("The student was anonymised: their personal details were removed"
          + (f" and {files} document file{'s' if files != 1 else ''} deleted" if files else "")
          + ". Invoices, payments, lessons and the audit trail were kept.", "success")
    return see_other(url_for("students.view", student_id=student_id))


def _render(page: dict, form: AnonymiseForm, status: int = 200):
    context = {}
    if request.method == "POST":
        context = {"page_location": url_for(".anonymise", student_id=page["student"]["id"]),
                   "page_focus_form": "anonymise-form"}
    return render_template("privacy/anonymise.html", form=form, **page, **context), status
