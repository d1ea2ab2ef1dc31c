"""A branch's booking policy page (issue 8, item 2): ``GET|POST /branches/<id>/policy``, admin only (staff
see the policy read-only on the branch page). The rules are services/policy.py's (``update`` validates and
audits); the form converts the page's hours and weeks (forms/branch_policy.py). An error re-renders the
form with what was typed and the field named (422); success flashes and answers 303 to the branch page.

The template global ``booking_policy(branch_id)`` gives the branch page its "Booking policy" panel
(templates/branch_policy/_summary.html): the policy in words, one query.
"""
from __future__ import annotations

from flask import Blueprint, flash, render_template, request, url_for

from app.core import clock
from app.core.auth import roles_required
from app.core.auth import current_actor
from app.core.errors import AppError, ValidationFailed
from app.core.flask_db import get_db
from app.core.web import form_failure, see_other
from app.forms.branch_policy import BranchPolicyForm, displayed, service_errors
from app.services import branches, policy
from app.services.policy import Policy

bp = Blueprint("branch_policy", __name__, url_prefix="/branches")


def _hours(minutes: int) -> str:
    if minutes == 0:
        return "none"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"


def _weeks(days: int) -> str:
    if days % 7 == 0:
        weeks = days // 7
        return f"{weeks} week{'s' if weeks != 1 else ''}"
    return f"{days} days"


def describe(p: Policy) -> list[tuple[str, str]]:
    """The policy in words, one (label, text) per field."""
    return [
        ("Minimum notice", f"{_hours(p.min_notice_minutes)} before the lesson" if p.min_notice_minutes else "none"),
        ("Booking horizon", f"{_weeks(p.horizon_days)} ahead"),
        ("Weekly limit", f"{p.max_lessons_per_week} lesson{'s' if p.max_lessons_per_week != 1 else ''} per student"),
        ("Cancellation cut-off", f"{_hours(p.cancel_cutoff_minutes)} before the lesson"
         if p.cancel_cutoff_minutes else "none (up to the start)"),
        ("Students may book", "any instructor of the branch" if p.students_any_instructor
         else "their assigned instructors only"),
        ("Slot grid", f"{p.slot_grid_minutes} minutes"),
        ("Buffer between lessons", f"{p.buffer_minutes} minutes" if p.buffer_minutes else "none"),
        ("Late-cancellation fee", f"${p.late_cancel_fee:,.2f}" if p.late_cancel_fee else "none"),
        ("No-show fee", f"${p.no_show_fee:,.2f}" if p.no_show_fee else "none"),
        ("A no-show", "uses a lesson credit" if p.no_show_consumes else "does not use a lesson credit"),
    ]


@bp.app_template_global()
def booking_policy(branch_id) -> dict:
    """The branch page's policy panel: ``policy`` (defaults when never edited) and ``rows`` in words."""
    found = policy.for_branch(get_db(), branch_id)
    return {"policy": found, "rows": describe(found)}


def _render(branch: dict, current: Policy, form: BranchPolicyForm, status: int = 200):
    context = {"page_focus_form": "policy-form"} if status == 422 else {}
    return render_template("branch_policy/edit.html", branch=branch, current=current, rows=describe(current),
                           form=form, **context), status


@bp.route("/<int:branch_id>/policy", methods=["GET", "POST"])
@roles_required("admin")
def edit(branch_id: int):
    db, actor = get_db(), current_actor()
    branch = branches.get_branch(db, actor, branch_id)  # 404 for an unknown branch
    current = policy.for_branch(db, branch_id)
    if request.method in ("GET", "HEAD"):
        return _render(branch, current, BranchPolicyForm(formdata=None, data=displayed(current)))
    form = BranchPolicyForm()
    if not form.validate():  # the CSRF token only: the values are checked below and by the policy service
        return _render(branch, current, form, 422)
    try:
        changes = form.changes(current)
        if not changes:
            flash(f"Nothing changed in the booking policy of {branch['name']}.", "info")
            return see_other(url_for("branches.view", branch_id=branch_id, _anchor="booking-policy"))
        try:
            policy.update(db, actor, branch_id, changes, now=clock.now())
        except ValidationFailed as exc:
            errors = service_errors(exc.errors)
            field = next(iter(errors))
            raise ValidationFailed(errors[field][0], errors=errors, field=field) from exc
    except AppError as exc:
        return _render(branch, current, form, form_failure(form, exc))
    flash(f"Booking policy of {branch['name']} saved.", "success")
    return see_other(url_for("branches.view", branch_id=branch_id, _anchor="booking-policy"))
