"""Broadcasts ("Communications", admin and staff; staff their own branch): the history, the composer with
its audience preview (a GET: the count and the first few names), the send (a POST that only records and
queues: the cron dispatcher delivers) and one broadcast's page with every recipient's delivery status.
The rules live in services.communications."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, request, url_for

from app.core import clock
from app.core.auth import STAFF_ROLES, current_actor, roles_required
from app.core.errors import AppError, ValidationFailed
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.web import form_failure, see_other
from app.dao.communication import RECIPIENT_SORTS, SORTS
from app.forms.communications import CommunicationForm
from app.services import communications

bp = Blueprint("communications", __name__, url_prefix="/communications")



@bp.get("/")
@roles_required(*STAFF_ROLES)
def index():
    query = ListQuery.from_args(request.args, list(SORTS), "date", "desc")
    page = communications.history(get_db(), current_actor(), query)
    return render_template("communications/index.html", page=page)


def _chosen() -> tuple[str, str, str]:
    """(segment, segment_value, channel) of the preview GET: ``audience=role:student`` (the composer's
    select) or ``segment=role&segment_value=student``; everyone by in-app when nothing is asked."""
    args = request.args
    if args.get("audience") is not None:
        segment, value = communications.split_audience(args.get("audience"))
    else:
        segment, value = args.get("segment", "everyone"), args.get("segment_value", "")
    return segment, value, args.get("channel", "in-app")


def _render_new(form: CommunicationForm, segment: str, value: str, channel: str, status: int = 200,
                counted: bool = True):
    """The composer; ``counted=False`` (the bare form, no audience asked yet) leaves the audience
    uncounted: counting everyone reads every account of the chain (200,000 at scale L)."""
    db, actor = get_db(), current_actor()
    preview, problem, problem_field = None, None, None
    try:
        preview = communications.preview(db, actor, segment, value, channel) if counted else None
    except ValidationFailed as exc:
        problem, problem_field = exc.message, ("channel" if "channel" in exc.errors else "audience")
        status = 422 if status == 200 else status
    if preview is not None and not form.is_submitted():
        form.segment.data, form.segment_value.data = preview["audience"].segment, preview["audience"].value or ""
        form.channel.data = preview["channel"]
    chosen = f"{segment}:{value if segment != 'everyone' else ''}"
    return render_template(
        "communications/new.html", form=form, preview=preview, problem=problem, problem_field=problem_field, chosen=chosen, channel=channel,
        audience_groups=communications.audience_options(db, actor), channels=list(communications.CHANNELS.items()),
        default_subject=communications.default_subject(current_app.config),
        message_min=communications.MESSAGE_MIN, message_max=communications.MESSAGE_MAX), status


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def new():
    if request.method in ("GET", "HEAD"):
        asked = any(request.args.get(k) is not None for k in ("audience", "segment"))
        return _render_new(CommunicationForm(formdata=None), *_chosen(), counted=asked)
    form = CommunicationForm()
    status = 422
    if form.validate():
        try:
            communication_id = communications.send(get_db(), current_actor(), {
                "segment": form.segment.data, "segment_value": form.segment_value.data, "channel": form.channel.data,
                "subject": form.subject.data, "message": form.message.data,
            }, now=clock.now(), settings=current_app.config)
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash("Message queued: the dispatcher delivers it within the next few minutes.", "success")
            return see_other(url_for(".view", communication_id=communication_id))
    return _render_new(form, form.segment.data or "", form.segment_value.data or "", form.channel.data or "",
                       status)


@bp.get("/<int:communication_id>")
@roles_required(*STAFF_ROLES)
def view(communication_id: int):
    query = ListQuery.from_args(request.args, list(RECIPIENT_SORTS), "name", "asc",
                                filters={"status": tuple(communications.DELIVERY_LABELS)},
                                labels={"status": "delivery status"})
    communication, page = communications.recipients(get_db(), current_actor(), communication_id, query)
    return render_template("communications/view.html", c=communication, page=page,
                           delivery_labels=communications.DELIVERY_LABELS, channel_labels=communications.CHANNELS,
                           status_options=list(communications.DELIVERY_LABELS.items()))
