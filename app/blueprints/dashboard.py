"""Role dashboards. Unlike the original, viewing a dashboard sends nothing (no reminder run).

- ``GET /dashboard/``: the signed-in role's dashboard (services/dashboard.py). Every figure links to
  the list it counts, with that list's filters; the links and the charts are built here.
- ``GET /dashboard/lessons`` (admin, staff, instructor): the lessons a lesson figure counts (dates,
  status, branch, instructor), paginated, in scope.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from flask import Blueprint, current_app, render_template, request, url_for

from app.core import clock
from app.core.auth import ANY_ROLE, current_actor, roles_required
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.dao.branch import BranchDAO
from app.services import charts, dashboard

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _lessons_url(start: date, end: date | None = None, **args) -> str:
    end = end or start
    if end != start:
        args["date_to"] = end.isoformat()
    return url_for(".lessons", date_from=start.isoformat(), **args)


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _office_links(data: dict) -> dict:
    today, start, end = data["today"], data["week_start"], data["week_end"]
    return {
        "students": url_for("students.index", status="active"),
        "today": _lessons_url(today),
        "week": _lessons_url(start, end),
        "awaiting": url_for("outcomes.awaiting"),
        "overdue": url_for("invoices.index", status="overdue"),
        "fleet": url_for("fleet.index", status="available"),
        "fleet_all": url_for("fleet.index"),
        "utilisation": url_for("reports.utilisation", date_from=f"{data['month_start']:%Y-%m}",
                               date_to=f"{data['month_start']:%Y-%m}"),
        "pending": url_for("enrollmentrequests.index", status="pending"),
        "approved": url_for("enrollmentrequests.index", status="approved"),
        "learning": url_for("students.index", enrolment="active"),
        "completed": url_for("students.index", enrolment="completed"),
        "payments": url_for("payments.index"),
    }


def _office_charts(data: dict) -> dict:
    week = charts.columns(
        "Lessons this week", [(d["label"], d["lessons"], _lessons_url(d["date"])) for d in data["days"]],
        label_header="Day", value_header="Lessons", height=220)
    revenue = charts.columns(
        "Revenue, last 12 months",
        [(f"{MONTHS[r['month'].month - 1]} {r['month']:%y}", r["amount"],
          url_for("payments.index", date_from=r["month"].isoformat(), date_to=_month_end(r["month"]).isoformat()))
         for r in data["revenue"]],
        label_header="Month", value_header="Revenue", money=True)
    return {"week": week, "revenue": revenue}


def _instructor_links(data: dict) -> dict:
    today, start, end = data["today"], data["week_start"], data["week_end"]
    return {
        "today": _lessons_url(today),
        "week": _lessons_url(start, end),
        "sheet": url_for("schedules.sheet", date=today.isoformat()),
        "calendar": url_for("schedules.week", date=today.isoformat()),
        "students": url_for("students.index"),
        "awaiting": url_for("outcomes.awaiting"),
    }


@bp.get("/")
@roles_required(*ANY_ROLE)
def index():
    today = clock.today()
    data = dashboard.for_actor(get_db(), current_actor(), today, clock.now(), current_app.config)
    links, figures = {}, {}
    if data["kind"] == "office" and not data.get("no_branch"):
        links, figures = _office_links(data), _office_charts(data)
    elif data["kind"] == "instructor" and not data.get("missing_profile"):
        links = _instructor_links(data)
        figures = {"week": charts.columns(
            "My lessons this week", [(d["label"], d["lessons"], _lessons_url(d["date"])) for d in data["days"]],
            label_header="Day", value_header="Lessons", height=200)}
    elif data["kind"] == "student" and not data.get("missing_profile"):
        links = {"lessons": url_for("portal.lessons"), "invoices": url_for("studentinvoices.index"),
                 "notifications": url_for("notifications.index"), "book": url_for("portal.book")}
    return render_template("dashboard/index.html", data=data, links=links, figures=figures, today=today)


@bp.get("/lessons")
@roles_required(*dashboard.LESSON_ROLES)
def lessons():
    actor = current_actor()
    query = ListQuery.from_args(request.args, ["date"], "date", "asc", filters=dashboard.LESSON_FILTERS,
                                labels=dashboard.LESSON_FILTER_LABELS)
    if actor.role != "admin" and query.filter("branch"):
        query = replace(query, filters={k: v for k, v in query.filters.items() if k != "branch"})
    view = dashboard.lessons(get_db(), actor, query, clock.today())
    branches = BranchDAO(get_db()).options() if actor.is_admin else []
    return render_template("dashboard/lessons.html", view=view, page=view["page"], branches=branches)
