"""Calendar pages (the scheduler's home): a week per instructor, student or vehicle, a branch's day with
one lane per instructor, a month overview and the printable day sheet. Server-rendered, no JavaScript
needed; the data and the scope rules live in services/calendar.py.

``/schedules/`` opens the role's default: the office on its branch's day (admin: ``?branch_id`` or the
first branch), an instructor or a student on their own week.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for

from app.core import clock
from app.core.auth import ANY_ROLE, current_actor, roles_required
from app.core.flask_db import get_db
from app.services import calendar

bp = Blueprint("schedules", __name__, url_prefix="/schedules")

CALENDAR_ROLES = ("admin", "staff", "instructor")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@bp.get("/")
@roles_required(*ANY_ROLE)
def index():
    if calendar.default_view(current_actor()) == "day":
        return _day(is_index=True)
    return _week(is_index=True)


@bp.get("/week")
@roles_required(*ANY_ROLE)
def week():
    return _week()


@bp.get("/day")
@roles_required(*CALENDAR_ROLES)
def day():
    return _day()


@bp.get("/month")
@roles_required(*ANY_ROLE)
def month():
    page = calendar.month(get_db(), current_actor(), request.args, now=clock.now(), settings=current_app.config)
    return _render("schedules/month.html", page, weekdays=WEEKDAYS)


@bp.get("/sheet")
@roles_required(*CALENDAR_ROLES)
def sheet():
    page = calendar.sheet(get_db(), current_actor(), request.args, now=clock.now(), settings=current_app.config)
    return _render("schedules/sheet.html", page)


# ------------------------------------------------------------------------------------------ helpers

def _week(is_index: bool = False):
    page = calendar.week(get_db(), current_actor(), request.args, now=clock.now(), settings=current_app.config)
    return _render("schedules/week.html", page, is_index=is_index)


def _day(is_index: bool = False):
    page = calendar.day(get_db(), current_actor(), request.args, now=clock.now(), settings=current_app.config)
    return _render("schedules/day.html", page, is_index=is_index)


def _render(template: str, page: dict, is_index: bool = False, **context):
    return render_template(template, page=page, is_index=is_index, legend=calendar.legend(page.get("view")),
                           views=_views(page), nav=_period_nav(page), day_url=_day_url(page), **context)


def _subject_args(page: dict) -> dict[str, Any]:
    """The query arguments naming the page's subject (what every view switch keeps)."""
    kind, subject = page.get("kind"), page.get("subject")
    if not kind or not subject:
        return {"branch_id": page["branch_id"]} if page.get("branch_id") else {}
    return {f"{kind}_id": subject["id"]}


def _views(page: dict) -> list[dict]:
    """The Day / Week / Month tabs, keeping the subject and the date where the target view can show it."""
    if page.get("notice") or page.get("no_branch"):
        return []
    actor = current_actor()
    kind, subject, anchor = page["kind"], page["subject"], page["date"]
    own = _subject_args(page)
    branch_id = page.get("branch_id") if kind != "branch" else subject["id"]
    if kind in ("branch", "instructor"):
        day_args = own
    elif actor.is_office and branch_id:
        day_args = {"branch_id": branch_id}
    else:
        day_args = None
    views = []
    if day_args is not None and actor.role != "student":
        views.append({"label": "Day", "url": url_for(".day", **day_args, date=anchor.isoformat()),
                      "active": page["view"] == "day"})
    week_args = own if kind != "branch" else {"branch_id": subject["id"]}
    views.append({"label": "Week", "url": url_for(".week", **week_args, date=anchor.isoformat()),
                  "active": page["view"] == "week"})
    views.append({"label": "Month", "url": url_for(".month", **own, month=anchor.strftime("%Y-%m")),
                  "active": page["view"] == "month"})
    return views


def _period_nav(page: dict) -> dict | None:
    """Previous / Today / Next addresses of the page's own view."""
    if page.get("notice") or page.get("no_branch"):
        return None
    args = dict(_subject_args(page))
    if page["view"] == "day" and page.get("lane_page") is not None and page["lane_page"].page > 1:
        args["page"] = page["lane_page"].page
    endpoint = f".{page['view']}"
    if page["view"] == "month":
        def at(value: date) -> str:
            return url_for(endpoint, **args, month=value.strftime("%Y-%m"))
        return {"prev": at(page["prev"]), "today": url_for(endpoint, **args), "next": at(page["next"]),
                "action": url_for(endpoint), "hidden": args}
    return {"prev": url_for(endpoint, **args, date=page["prev"].isoformat()), "today": url_for(endpoint, **args),
            "next": url_for(endpoint, **args, date=page["next"].isoformat()), "action": url_for(endpoint),
            "hidden": args}


def _day_url(page: dict):
    """The address that shows one day of the page's subject (a month cell's "+N more", a day number)."""
    kind, subject = page.get("kind"), page.get("subject")
    if not kind or not subject:
        return lambda value: None
    actor = current_actor()
    if kind in ("branch", "instructor") and actor.role != "student":
        args = {"branch_id" if kind == "branch" else "instructor_id": subject["id"]}
        return lambda value: url_for(".day", **args, date=value.isoformat())
    args = {f"{kind}_id": subject["id"]}
    return lambda value: url_for(".week", **args, date=value.isoformat())
