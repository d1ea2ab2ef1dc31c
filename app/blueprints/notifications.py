"""The in-app notifications inbox (pages). Rules live in services/notifications.py.

- ``GET /notifications/`` (every role): the signed-in user's own notifications, newest first, 25 a page,
  unread ones marked; ``?show=unread`` lists only those.
- ``POST /notifications/read`` (every role): with ``notification_id``, marks that one read (someone else's
  or a missing id is 404, like any page outside the user's scope); without it, marks all of them read.
  Answers 303 back to the inbox page it came from. CSRF like every form.
"""
from __future__ import annotations

from flask import Blueprint, flash, render_template, request, url_for

from app.core import clock
from app.core.auth import ANY_ROLE, current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.params import parse_int
from app.core.web import see_other
from app.forms.waitlist import ReadForm
from app.services import notifications

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@roles_required(*ANY_ROLE)
def index():
    db, actor = get_db(), current_actor()
    query = ListQuery.from_args(request.args, notifications.SORT_KEYS, notifications.DEFAULT_SORT, "desc",
                                filters=notifications.FILTERS, labels={"show": "show"})
    page = notifications.inbox(db, actor, query)
    return render_template("notifications/index.html", page=page, unread=notifications.unread_count(db, actor),
                           form=ReadForm(formdata=None))


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
