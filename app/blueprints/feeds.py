"""iCalendar feeds: the public secret feed URL and the (re)generate buttons on the profile pages.

``GET /feeds/<token>.ics`` is public: an unknown, malformed or revoked token answers the same 404 as any
missing page. ``POST /feeds/instructor/<id>`` and ``/feeds/student/<id>`` issue a new secret (the old one
stops working) and redirect to the profile, which shows the full URL once through a server-side hand-off
(services.handoffs; never a flash or the session cookie). The profile panel's state comes from the
context processor below (templates/feeds/_panel.html).
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, flash, request, url_for

from app.core import clock
from app.core.auth import current_actor, public, roles_required
from app.core.errors import NotFound
from app.core.flask_db import get_db
from app.core.web import see_other
from app.services import feeds, handoffs

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

HANDOFF_KIND = "calendar_feed"
HANDOFF_ARG = "feed"
PROFILES = {"instructor": ("instructors.view", "instructor_id"), "student": ("students.view", "student_id")}
PANEL_ENDPOINTS = {endpoint: (owner_type, arg) for owner_type, (endpoint, arg) in PROFILES.items()}


@bp.get("/<token>.ics")
@public
def feed(token: str):
    try:
        body = feeds.render(get_db(), token, clock.now(), clock.today(), current_app.config["APP_TIMEZONE"])
    except NotFound:
        abort(404)
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["Content-Disposition"] = 'inline; filename="origin.ics"'
    return response


def _issue(owner_type: str, owner_id: int):
    actor = current_actor()
    secret = feeds.issue(get_db(), actor, owner_type, owner_id, clock.now())
    link = url_for(".feed", token=secret, _external=True)
    webcal = "webcal://" + link.split("://", 1)[1]
    key = handoffs.create(get_db(), actor.user_id, HANDOFF_KIND, {"link": link, "webcal": webcal}, clock.now())
    flash("A new calendar feed link was created; any older link no longer works.", "success")
    endpoint, arg = PROFILES[owner_type]
    return see_other(url_for(endpoint, **{arg: owner_id, HANDOFF_ARG: key}, _anchor="calendar-feed"))


@bp.post("/instructor/<int:instructor_id>")
@roles_required("admin", "staff", "instructor")
def issue_instructor(instructor_id: int):
    return _issue("instructor", instructor_id)


@bp.post("/student/<int:student_id>")
@roles_required("admin", "staff", "student")
def issue_student(student_id: int):
    return _issue("student", student_id)


@bp.app_context_processor
def feed_panel_context() -> dict:
    """``calendar_feed`` for the profile pages' panel (templates/feeds/_panel.html): the owner, whether the
    viewer may (re)generate, the live feed's start, and the one-time URL after a (re)generation."""
    found = PANEL_ENDPOINTS.get(request.endpoint or "")
    if found is None or not request.view_args or not current_actor():
        return {}
    owner_type, arg = found
    owner_id = request.view_args.get(arg)
    db, actor = get_db(), current_actor()
    state = feeds.panel(db, actor, owner_type, owner_id) if owner_id else None
    if state is None:
        return {}
    panel = {**state, "owner_type": owner_type, "action": url_for(f"feeds.issue_{owner_type}", **{arg: owner_id})}
    context = {"calendar_feed": panel}
    key = request.args.get(HANDOFF_ARG)
    if key is not None:
        payload = handoffs.take(db, key, actor.user_id, HANDOFF_KIND, clock.now())
        panel["shown"] = payload if payload else {"missing": True}
        rest = [(name, value) for name, value in request.args.items(multi=True) if name != HANDOFF_ARG]
        context["page_location"] = request.path + (f"?{urlencode(rest)}" if rest else "") + "#calendar-feed"
    return context
