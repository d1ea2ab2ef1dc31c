"""Lesson packages (issue 9, item 4): the "Lesson package" panel of the student page, an enrolment's
ledger page with the office's "Adjust" form, and waiving a fee line with a reason (item 7). The rules
are services/packages.py's; this module only reads forms and renders.

- ``GET /students/<id>/package?enrollment=<id>&page=<n>``: the package of one of the student's
  enrolments (the newest by default): purchased / used / remaining / booked ahead and the ledger,
  paginated; office only (admin, staff of the student's branch: anyone else's student is 404).
- ``POST /students/<id>/package/adjust``: credits (+/-) with a reason (422 re-renders with the typed
  values and the field named); audited by the service; 303 back to the package page.
- Fee lines (late cancellation, no-show) are listed in the panel, each linking to its invoice, where
  the invoices blueprint's "Waive" action (invoicing.waive_fee, a reason required) is.

The template global ``package_panel(student_id)`` gives templates/students/view.html its panel
(templates/packages/_panel.html): one statement for the enrolments and their totals, one for the fees.
The same figures are ``packages.summary(db, enrollment_id)`` for any other page (the enrolment page).
"""
from __future__ import annotations

from flask import Blueprint, flash, render_template, request, url_for

from app.core import clock
from app.core.auth import current_actor, roles_required
from app.core.errors import AppError, NotFound
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.params import parse_id
from app.core.web import form_failure, see_other
from app.forms.packages import AdjustForm
from app.services import packages, students

bp = Blueprint("packages", __name__, url_prefix="/students")

ENTRY_LABELS = packages.ENTRY_LABELS


@bp.app_template_global()
def package_panel(student_id) -> dict:
    """The student page's "Lesson package" panel: ``enrolments`` (each with its ``summary``) and
    ``fees`` (latest fee lines); empty for anyone but the office."""
    db, actor = get_db(), current_actor()
    if actor is None or not actor.is_office:
        return {"enrolments": [], "fees": [], "show": False}
    rows = packages.student_packages(db, actor, student_id, today=clock.today())
    return {"enrolments": rows, "fees": packages.student_fees(db, actor, student_id), "show": True,
            "labels": ENTRY_LABELS}


@bp.app_template_global()
def enrolment_package(enrollment_id):
    """One enrolment's package figures for the enrolment page (templates/packages/_enrolment_panel.html):
    a ``Summary`` (two statements), or None for anyone but the office."""
    actor = current_actor()
    if actor is None or not actor.is_office or parse_id(enrollment_id) is None:
        return None
    return packages.summary(get_db(), parse_id(enrollment_id), today=clock.today())


def _render(student_id: int, enrollment_id: int | None = None, form: AdjustForm | None = None,
            status: int = 200):
    db, actor = get_db(), current_actor()
    student = students.get_student(db, actor, student_id)  # 404 outside the scope
    rows = packages.student_packages(db, actor, student_id, today=clock.today())
    chosen = None
    wanted = enrollment_id or parse_id(request.args.get("enrollment"))
    if wanted is not None:
        chosen = next((r for r in rows if r["id"] == wanted), None)
        if chosen is None:
            raise NotFound("Not found")
    elif rows:
        chosen = next((r for r in rows if r["summary"].on_package), rows[0])
    page = None
    if chosen is not None:
        query = ListQuery.from_args(request.args, packages.LEDGER_SORTS, "id", "desc")
        page = packages.ledger(db, chosen["id"], query)
    form = form or AdjustForm(formdata=None, data={"enrollment_id": chosen["id"] if chosen else ""})
    context = {"page_focus_form": "adjust-form"} if status == 422 else {}
    return render_template("packages/view.html", student=student, enrolments=rows, chosen=chosen, page=page,
                           form=form, labels=ENTRY_LABELS, sources=packages.SOURCE_LABELS, **context), status


@bp.get("/<int:student_id>/package")
@roles_required("admin", "staff")
def view(student_id: int):
    return _render(student_id)


@bp.post("/<int:student_id>/package/adjust")
@roles_required("admin", "staff")
def adjust(student_id: int):
    db, actor = get_db(), current_actor()
    students.get_student(db, actor, student_id)  # 404 outside the scope, before anything else
    form = AdjustForm()
    enrollment_id = parse_id(form.enrollment_id.data)
    if enrollment_id is None:
        raise NotFound("Not found")
    packages.student_enrollment(db, actor, student_id, enrollment_id)  # this student's, in scope: else 404
    if not form.validate():  # the CSRF token only; the values are the service's to check
        return _render(student_id, enrollment_id, form, 422)
    try:
        packages.adjust(db, actor, enrollment_id, form.credits.data, form.reason.data, now=clock.now())
    except AppError as exc:
        return _render(student_id, enrollment_id, form, form_failure(form, exc))
    flash("Lesson package adjusted.", "success")
    return see_other(url_for("packages.view", student_id=student_id, enrollment=enrollment_id))
