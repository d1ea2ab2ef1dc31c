"""The in-app notifications inbox (pages). Rules live in services/notifications.py.

- ``GET /notifications/`` (every role): the signed-in user's own notifications, newest first, 25 a page,
  unread ones marked; ``?show=unread`` lists only those.
- ``POST /notifications/read`` (every role): with ``notification_id``, marks that one read (someone else's
  or a missing id is 404, like any page outside the user's scope); without it, marks all of them read.
  Answers 303 back to the inbox page it came from. CSRF like every form.

Each notification links to the record behind it (``related_type``/``related_id``) on the page the
reader's role opens: ``related_target`` below (a lesson: its event page, which every role may open for
its own lessons; an invoice: the student's own invoice page or the office's; an enrolment request: its
page for the office and the instructor; a gap offer or a proposal: the student's own list; a broadcast:
nothing beyond the message itself).
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, request, url_for

from app.core.auth import ANY_ROLE, current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.params import parse_int
from app.core.web import see_other
from app.forms.waitlist import ReadForm
from app.services import notifications

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

# related_type -> {role: (endpoint, URL argument or None)}; a role not listed gets no link.
RELATED_PAGES = {
    # students have no page per lesson: their lessons page lists it (with cancel and reschedule)
    "schedule": {**{role: ("events.view", "schedule_id") for role in ("admin", "staff", "instructor")},
                 "student": ("portal.lessons", None)},
    "invoice": {"student": ("studentinvoices.view", "invoice_id"), "admin": ("invoices.view", "invoice_id"),
                "staff": ("invoices.view", "invoice_id")},
    "enrollment_request": {role: ("enrollmentrequests.view", "request_id") for role in ("admin", "staff", "instructor")},
    "gap_offer": {"student": ("waitlist.offers", None)},
    "proposal": {"student": ("proposals.index", None)},
    "instructor": {"instructor": ("schedules.index", None)},  # the daily agenda: the calendar
}
LINK_TEXT = {"schedule": "Open the lesson", "invoice": "Open the invoice", "enrollment_request": "Open the request",
             "gap_offer": "See your offers", "proposal": "See your proposals", "instructor": "Open the calendar"}


def related_target(role: str | None, related_type: str | None, related_id) -> tuple[str, dict] | None:
    """(endpoint, URL values) of the page a notification about ``related_type``/``related_id`` opens for
    ``role``, or None (no related record, a broadcast, or no page for that role)."""
    page = RELATED_PAGES.get(related_type or "", {}).get(role or "")
    if page is None or related_id is None or related_id == "":
        return None
    endpoint, arg = page
    return endpoint, ({arg: int(related_id)} if arg else {})


def related_link(role: str | None, row) -> tuple[str, str] | None:
    """(URL, link text) for one notification row, or None; only endpoints this app registers."""
    target = related_target(role, row.get("related_type"), row.get("related_id"))
    if target is None or target[0] not in current_app.view_functions:
        return None
    return url_for(target[0], **target[1]), LINK_TEXT[row["related_type"]]


@bp.get("/")
@roles_required(*ANY_ROLE)
def index():
    db, actor = get_db(), current_actor()
    query = ListQuery.from_args(request.args, notifications.SORT_KEYS, notifications.DEFAULT_SORT, "desc",
                                filters=notifications.FILTERS, labels={"show": "show"})
    page = notifications.inbox(db, actor, query)
    links = {n["id"]: related_link(actor.role, n) for n in page.items}
    return render_template("notifications/index.html", page=page, unread=notifications.unread_count(db, actor),
                           form=ReadForm(formdata=None), links=links)


@bp.post("/read")
@roles_required(*ANY_ROLE)
def read():
    db, actor = get_db(), current_actor()
    form = ReadForm()
    if not form.validate():
        raise AppError("The form has expired; reload the page and try again.")
    wanted = form.notification_id.data
    if wanted:
        notifications.mark_read(db, actor, wanted)  # NotFound (404) for anyone else's
    else:
        count = notifications.mark_all_read(db, actor)
        flash(f"{count} notification{'s' if count != 1 else ''} marked as read." if count
              else "Nothing was unread.", "success")
    page = parse_int(form.page.data, 2, 1_000_000) if form.page.data else None
    show = request.form.get("show") == "unread" or None
    return see_other(url_for(".index", page=page, show="unread" if show else None))
