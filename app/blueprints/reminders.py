"""The reminder queue (admin and staff; staff the reminders of their branch's accounts). Rules live in
services/reminder_queue.py; dispatch itself in services/reminders.py (never triggered by a GET).

- ``GET /reminders/``: newest due first, 25 a page; filters status, channel (requested) and type; the count
  per status.
- ``GET /reminders/<id>``: the reminder, its message, its delivery log and the notification it wrote.
- ``POST /reminders/<id>/retry``, ``/cancel``, ``/run``: 303 back to the reminder with a flash; a status
  the action does not apply to re-renders the page with the rule and 409. CSRF like every form.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, request, url_for

from app.core import clock
from app.core.auth import STAFF_ROLES, current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.web import action_refused, see_other
from app.forms.reminders import ReminderActionForm
from app.services import reminder_queue

bp = Blueprint("reminders", __name__, url_prefix="/reminders")


@bp.app_template_global()
def reminder_subject_url(row) -> str | None:
    """The page of what a reminder is about, when the viewer may open it (link_for's rules): the lesson,
    the invoice, the broadcast, the enrolment request; None otherwise (plain text then)."""
    kind, record = row.get("related_type"), row.get("related_id")
    link_for = current_app.jinja_env.globals["link_for"]
    if kind == "schedule" and row.get("lesson_date") is not None:
        return link_for("lesson", record, branch_id=row.get("lesson_branch_id"))
    if kind == "invoice" and row.get("invoice_number"):
        return link_for("invoice", record, branch_id=row.get("recipient_branch_id"))
    if kind == "communication" or (kind == "enrollment_request" and row.get("request_status")):
        return link_for(kind, record)
    return None


def _context() -> dict:
    return {"status_labels": reminder_queue.STATUS_LABELS, "channel_labels": reminder_queue.CHANNEL_LABELS,
            "related_labels": reminder_queue.RELATED_LABELS}


@bp.get("/")
@roles_required(*STAFF_ROLES)
def index():
    query = ListQuery.from_args(request.args, reminder_queue.SORT_KEYS, reminder_queue.DEFAULT_SORT, "desc",
                                filters=reminder_queue.FILTERS, labels=reminder_queue.FILTER_LABELS)
    data = reminder_queue.queue(get_db(), current_actor(), query)
    return render_template("reminders/index.html", **data, **_context())


def _render_view(reminder_id: int, status: int = 200, **context):
    data = reminder_queue.get(get_db(), current_actor(), reminder_id)
    return render_template("reminders/view.html", **data, form=ReminderActionForm(formdata=None), **_context(),
                           **context), status


@bp.get("/<int:reminder_id>")
@roles_required(*STAFF_ROLES)
def view(reminder_id: int):
    return _render_view(reminder_id)


def _action(reminder_id: int, run, done):
    location = url_for(".view", reminder_id=reminder_id)
    reminder_queue.get(get_db(), current_actor(), reminder_id)  # scope first: 404 outside it
    try:
        result = run()
    except AppError as exc:
        context, status = action_refused(exc, location)
        return _render_view(reminder_id, status, **context)
    flash(done(result) if callable(done) else done, "success")
    return see_other(location)


@bp.post("/<int:reminder_id>/retry")
@roles_required(*STAFF_ROLES)
def retry(reminder_id: int):
    return _action(reminder_id, lambda: reminder_queue.retry(get_db(), current_actor(), reminder_id, now=clock.now(),
                                                             settings=current_app.config),
                   "The reminder is pending again and goes with the next dispatcher run.")


@bp.post("/<int:reminder_id>/cancel")
@roles_required(*STAFF_ROLES)
def cancel(reminder_id: int):
    return _action(reminder_id, lambda: reminder_queue.cancel(get_db(), current_actor(), reminder_id, now=clock.now()),
                   "The reminder was cancelled; it will not be sent.")


@bp.post("/<int:reminder_id>/run")
@roles_required(*STAFF_ROLES)
def run(reminder_id: int):
    return _action(reminder_id, lambda: reminder_queue.run_now(get_db(), current_actor(), reminder_id, now=clock.now(),
                                                               settings=current_app.config),
                   lambda outcome: reminder_queue.outcome_message(outcome["status"]))
