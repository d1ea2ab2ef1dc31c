"""Admin audit viewer: filter, inspect a row, export CSV, check the hash chain."""
from __future__ import annotations

import csv
import io
from datetime import date

from flask import Blueprint, Response, render_template, request, stream_with_context

from app.core import clock
from app.core.auth import current_actor, roles_required
from app.core.errors import NotFound
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.dao.audit import SORTS, AuditDAO
from app.services import audit

bp = Blueprint("audit", __name__, url_prefix="/audit")

FILTERS = ("user_id", "entity_type", "entity_id", "action", "date_from", "date_to")


def _parse_day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _query() -> tuple[ListQuery, list[str]]:
    base = ListQuery.from_args(request.args, list(SORTS), "created_at", "desc", filters=FILTERS)
    problems = []
    day_from, day_to = _parse_day(base.filter("date_from")), _parse_day(base.filter("date_to"))
    if base.filter("date_from") and day_from is None:
        problems.append("The 'from' date is not a valid date (YYYY-MM-DD); it was ignored.")
    if base.filter("date_to") and day_to is None:
        problems.append("The 'to' date is not a valid date (YYYY-MM-DD); it was ignored.")
    filters = {k: v for k, v in base.filters.items() if k not in ("date_from", "date_to")}
    filters.update(audit.utc_range(day_from, day_to))
    query = ListQuery(sort=base.sort, direction=base.direction, page=base.page, per_page=base.per_page,
                      q=base.q, filters={**base.filters, **filters})
    return query, problems


@bp.get("/")
@roles_required("admin")
def index():
    query, problems = _query()
    dao = AuditDAO(get_db())
    page = dao.list_page(query)
    return render_template("audit/index.html", page=page, problems=problems,
                           actions=dao.distinct_actions(), entity_types=dao.distinct_entity_types())


@bp.get("/<int:audit_id>")
@roles_required("admin")
def view(audit_id: int):
    row = AuditDAO(get_db()).find(audit_id)
    if row is None:
        raise NotFound("No such audit entry.")
    return render_template("audit/view.html", row=row,
                           before=audit.pretty(row["before_json"]), after=audit.pretty(row["after_json"]))


@bp.get("/export.csv")
@roles_required("admin")
def export():
    query, _ = _query()
    db = get_db()
    with db.transaction():
        audit.record(db, current_actor(), "audit_exported", None, None, now=clock.now(),
                     details=f"filters: {dict(query.filters)} q={query.q!r}"[:255])
    rows = AuditDAO(db).export(query)

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(audit.CSV_COLUMNS)
        for row in rows:
            writer.writerow([audit.csv_safe(row.get(c)) for c in audit.CSV_COLUMNS])
            if buffer.tell() > 65536:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    filename = f"audit_{clock.today().strftime('%Y%m%d')}.csv"
    return Response(stream_with_context(generate()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/verify")
@roles_required("admin")
def verify():
    result = audit.verify(get_db())
    return render_template("audit/verify.html", result=result)
