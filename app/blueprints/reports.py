"""Reports (admin and staff; staff their own branch): the reports home, one page per report with its
filters, charts and tables, and a spreadsheet-safe CSV per report (``/reports/<type>.csv``, named
``report_<type>_<from>_<to>.csv``; the types are the fixed list in services.reports.REPORTS, anything
else is a 404). The figures come from services.reports; this module builds the links and the charts.
"""
from __future__ import annotations

import csv
import io
from decimal import Decimal

from flask import Blueprint, Response, current_app, render_template, request, send_file, stream_with_context, url_for

from app.core import clock
from app.core.auth import STAFF_ROLES, current_actor, roles_required
from app.core.flask_db import get_db
from app.dao.branch import BranchDAO
from app.services import charts, reports, stats
from app.services.export_cache import ExportCache
from app.services.reports import REPORTS, ReportInputError

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _branches(actor) -> list[dict]:
    if actor.is_admin:
        return BranchDAO(get_db()).options()
    if actor.branch_id is None:
        return []
    return BranchDAO(get_db()).options(only_id=actor.branch_id)


@bp.get("/")
@roles_required(*STAFF_ROLES)
def index():
    actor = current_actor()
    data = reports.overview(get_db(), actor, clock.today())
    return render_template("reports/index.html", data=data, reports=list(REPORTS.values()),
                           fresh_text=stats.as_of(data.get("refreshed_at"), clock.now()))


def _month_label(day) -> str:
    return day.strftime("%b %Y")


def _link_args(filters, **changes) -> dict:
    args = filters.args()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return args


def _charts(name: str, data: dict, actor) -> dict:
    """The report's charts, each bar linking to the list or report it counts."""
    f = data["filters"]
    admin = actor.is_admin
    out: dict[str, charts.Chart] = {}
    half = 520      # the width of a chart that shares its row with another (the text stays readable)
    pair = admin and f.branch_id is None   # the by-branch chart is shown: it shares a row

    def branch_href(report: str, branch_id) -> str | None:
        if not admin or not branch_id:
            return None
        return url_for(f"reports.{report}", **_link_args(f, branch=str(branch_id)))

    if name == "revenue":
        rows = []
        for m in data["months"]:
            href = url_for("payments.index", date_from=m["month_start"].isoformat(), date_to=m["month_end"].isoformat(),
                           **({"branch": str(f.branch_id)} if admin and f.branch_id else {}))
            rows.append((_month_label(m["month_start"]), m["amount"], href))
        out["months"] = charts.columns("Revenue by month", rows, label_header="Month", value_header="Revenue",
                                       money=True)
        if admin and f.branch_id is None:
            out["branches"] = charts.bars("Revenue by branch", [
                (b["branch_name"] or "No branch", b["amount"], branch_href("revenue", b["branch_id"]))
                for b in data["by_branch"]], label_header="Branch", value_header="Revenue", money=True, width=half)
        out["courses"] = charts.bars("Revenue by course", [
            (c["course_title"] or "Unknown course", c["amount"],
             url_for("courses.view", course_id=c["course_id"]) if c["course_title"] else None)
            for c in data["by_course"]], label_header="Course", value_header="Revenue", money=True,
            **({"width": half} if pair else {}))
    elif name == "instructors":
        out["instructors"] = charts.bars("Completed events per instructor (this page)", [
            (r["name"], r["completed"], url_for("instructors.view", instructor_id=r["instructor_id"]))
            for r in data["page"].items], label_header="Instructor", value_header="Completed")
    elif name == "utilisation":
        if admin and f.branch_id is None:
            out["branches"] = charts.bars("Utilisation by branch", [
                (b["branch_name"] or "No branch", b["utilisation_pct"] or 0, branch_href("utilisation", b["branch_id"]))
                for b in data["by_branch"]], label_header="Branch", value_header="Utilisation", percent=True)
        out["months"] = charts.columns("Utilisation by month (%)", [
            (_month_label(m["month_start"]), m["utilisation_pct"] or 0) for m in data["by_month"]],
            label_header="Month", value_header="Utilisation (%)")
        out["instructors"] = charts.bars("Utilisation per instructor (this page)", [
            (r["name"], r["utilisation_pct"] or 0, url_for("instructors.view", instructor_id=r["instructor_id"]))
            for r in data["page"].items], label_header="Instructor", value_header="Utilisation", percent=True)
    elif name == "cancellations":
        branches = data["by_branch"]
        if admin and f.branch_id is None and branches:
            out["branches"] = charts.stacked(
                "Cancellations and no-shows by branch", [b["branch_name"] or "No branch" for b in branches],
                [("Cancelled", [b["cancelled"] for b in branches]), ("No-show", [b["no_show"] for b in branches])],
                label_header="Branch", value_header="Total",
                hrefs=[branch_href("cancellations", b["branch_id"]) for b in branches])
        months = data["by_month"]
        out["months"] = charts.stacked(
            "Cancellations and no-shows by month", [_month_label(m["month_start"]) for m in months],
            [("Cancelled", [m["cancelled"] for m in months]), ("No-show", [m["no_show"] for m in months])],
            label_header="Month", value_header="Total")
    elif name == "retention":
        out["statuses"] = charts.bars("Enrolments by status", [
            (label, data["by_status"][status]) for status, label in data["statuses"]],
            label_header="Status", value_header="Enrolments", width=half)
        out["progress"] = charts.columns("Progress of the enrolments (lessons completed of the course)", [
            (label, data["bands"][band]) for band, label in data["band_labels"]],
            label_header="Progress", value_header="Enrolments", width=half)
    elif name == "ageing":
        out["buckets"] = charts.columns("Amount owing by days overdue", [
            (b["label"], b["owing"], url_for("reports.ageing", **_link_args(f, sort="overdue", dir="desc"))
             if b["invoices"] else None) for b in data["buckets"]],
            label_header="Days overdue", value_header="Owing", money=True)
    elif name == "licence":
        out["bands"] = charts.columns("Students by lessons taken before passing", [
            (b["label"], b["students"]) for b in data["bands"]], label_header="Lessons before the pass",
            value_header="Students")
    return out


def _render(name: str, status: int = 200, **context):
    actor = current_actor()
    data = context.get("data") or {}
    return render_template(f"reports/{name}.html", kind=REPORTS[name], reports=list(REPORTS.values()),
                           branches=_branches(actor), fresh_text=stats.as_of(data.get("refreshed_at"), clock.now()),
                           **context), status


def _view(name: str):
    actor = current_actor()
    try:
        data = reports.build(get_db(), actor, name, request.args, clock.today())
    except ReportInputError as exc:
        return _render(name, 400, problem=exc, data=None, figs={}, form=dict(request.args))
    form = data["filters"].args()
    return _render(name, data=data, figs={} if data.get("no_branch") else _charts(name, data, actor), form=form,
                   problem=None)


def _export(name: str):
    """The report's CSV, streamed as it is written; the same export (same scope, arguments, day and data
    version) asked again is served from the file the first one left (services/export_cache.py)."""
    db, actor, today = get_db(), current_actor(), clock.today()
    cache = ExportCache(current_app.config["EXPORT_CACHE_DIR"], current_app.config["EXPORT_CACHE_SECONDS"])
    key, claimed = None, False
    if cache.enabled:
        key = cache.key(name, actor, request.args.items(multi=True), today, reports.export_stamp(db))
        found = cache.find(key)
        if found is None:  # build it, or wait for the asker building it now and serve their file
            claimed = cache.claim(key)
            if not claimed:
                found = cache.wait_for(key)
        if found is not None:
            response = send_file(found[0], mimetype="text/csv", conditional=False, etag=False)
            response.headers["Content-Disposition"] = f'attachment; filename="{found[1]}"'
            response.headers["Cache-Control"] = "no-store"
            return response
    try:
        filters, header, rows = reports.csv_table(db, actor, name, request.args, today)
    except ReportInputError as exc:
        if claimed:
            cache.release(key)
        return Response(f"{exc.field}: {exc.message}\n", status=400, mimetype="text/plain")
    except Exception:
        if claimed:
            cache.release(key)
        raise
    start = filters.file_part(filters.date_from)
    filename = f"report_{name}_{start}_{filters.file_part(filters.date_to)}.csv"
    lines = _csv_lines(header, rows)
    if key is not None:
        lines = cache.write_through(key, filename, lines)
    response = Response(stream_with_context(lines), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    if claimed:  # the server closes every response, even one whose body is never read (HEAD, a hang-up)
        response.call_on_close(lambda: cache.release(key))
    return response


def _csv_lines(header, rows, batch: int = 500):
    """The CSV text a few hundred rows at a time (the response streams; memory stays bounded)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for n, row in enumerate(rows, 1):
        writer.writerow(row)
        if n % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _register(name: str) -> None:
    def page():
        return _view(name)

    def export():
        return _export(name)

    page.__name__, export.__name__ = name, f"{name}_csv"
    bp.add_url_rule(f"/{name}", name, roles_required(*STAFF_ROLES)(page), methods=["GET"])
    bp.add_url_rule(f"/{name}.csv", f"{name}_csv", roles_required(*STAFF_ROLES)(export), methods=["GET"])


for _name in REPORTS:
    _register(_name)


@bp.app_template_filter("pct")
def format_pct(value) -> str:
    """12.5 % (one decimal), or — when there is nothing to divide by."""
    if value is None:
        return "—"
    return f"{Decimal(value):.1f} %"
