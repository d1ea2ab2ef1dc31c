"""Admin audit viewer: filter, inspect a row, export CSV, check the hash chain."""
from __future__ import annotations

import csv
import io
from dataclasses import replace

from flask import Blueprint, Response, render_template, request, stream_with_context, url_for

from app.core import clock
from app.core.auth import current_actor, roles_required
from app.core.errors import NotFound
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.reauth import reauth_required
from app.core.params import valid_id
from app.dao.audit import SORTS, AuditDAO
from app.services import audit

bp = Blueprint("audit", __name__, url_prefix="/audit")

# One parser for every filter (app.core.params via ListQuery.from_args): a bad value is dropped and named.
FILTERS = {"user_id": "id", "entity_type": "text", "entity_id": "id", "action": "text",
           "date_from": "date", "date_to": "date"}
FILTER_LABELS = {"user_id": "person", "entity_type": "record type", "entity_id": "record number",
                 "date_from": "from date", "date_to": "to date"}
# Record kinds with a page: endpoint and its URL argument.
RECORD_PAGES = {"student": ("students.view", "student_id"), "instructor": ("instructors.view", "instructor_id"),
                "vehicle": ("fleet.view", "vehicle_id"), "branch": ("branches.view", "branch_id"),
                "course": ("courses.view", "course_id"), "staff": ("staff.view", "staff_id"),
                "invoice": ("invoices.view", "invoice_id"), "payment": ("payments.view", "payment_id")}


def _query() -> ListQuery:
    """The list query; the local from/to days become UTC bounds (from_at/to_at) for the DAO."""
    query = ListQuery.from_args(request.args, list(SORTS), "created_at", "desc", filters=FILTERS,
                                labels=FILTER_LABELS)
    day_from, day_to = query.filter_date("date_from"), query.filter_date("date_to")
    ignored = list(query.ignored)
    if day_from and day_to and day_from > day_to:
        ignored.append("The from date is after the to date, so no entry can match.")
    return replace(query, filters={**query.filters, **audit.utc_range(day_from, day_to)}, ignored=tuple(ignored))


def _with_links(refs: dict):
    """Fill ``url`` of each RecordRef / ActorName whose ``kind`` has a page (``target_id`` names it)."""
    for ref in refs.values():
        if ref.kind in RECORD_PAGES and ref.target_id:
            endpoint, arg = RECORD_PAGES[ref.kind]
            ref.url = url_for(endpoint, **{arg: ref.target_id})
    return refs


@bp.get("/")
@roles_required("admin")
def index():
    query = _query()
    db = get_db()
    dao = AuditDAO(db)
    page = dao.list_page(query)
    actions = sorted(((code, audit.action_label(code)) for code in dao.distinct_actions()), key=lambda a: a[1])
    entity_types = sorted(((code, audit.entity_label(code)) for code in dao.distinct_entity_types()),
                          key=lambda e: e[1])
    return render_template("audit/index.html", page=page, actions=actions, entity_types=entity_types,
                           records=_with_links(audit.describe_records(db, page.items)),
                           actors=_with_links(audit.describe_actors(db, page.items)),
                           action_label=audit.action_label, entity_label=audit.entity_label)


@bp.get("/<int:audit_id>")
@roles_required("admin")
def view(audit_id: int):
    db = get_db()
    row = AuditDAO(db).find(audit_id) if valid_id(audit_id) else None
    if row is None:
        raise NotFound("No such audit entry.")
    changes = audit.diff(row["before_json"], row["after_json"])
    return render_template("audit/view.html", row=row, actor=_with_links(audit.describe_actors(db, [row]))[row["id"]],
                           record=_with_links(audit.describe_records(db, [row]))[row["id"]],
                           action=audit.action_label(row["action"]),
                           changes=[c for c in changes if c.status != "same"],
                           unchanged=[c for c in changes if c.status == "same"],
                           before=audit.pretty(row["before_json"]), after=audit.pretty(row["after_json"]))


def _list_page() -> str:
    return url_for(".index")


@bp.get("/export.csv")
@roles_required("admin")
@reauth_required(form_page=_list_page)
def export():
    query = _query()
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
    """The bounded check (audit.verify_recent: the entries since the last full nightly check); reads only."""
    check = audit.verify_recent(get_db())
    return render_template("audit/verify.html", check=check, result=check.result,
                           limit=audit.PAGE_LIMIT)
