"""Invoices (admin; staff: their branch). Rules live in services/invoicing.py.

- ``GET /invoices/``: every invoice in scope, filtered by status, branch and a student/number search,
  paginated, with the totals of every matching invoice (aggregates).
- ``GET|POST /enrolments/<id>/invoices/new`` (also ``/invoices/new?enrollment_id=``): a draft (or issued) invoice with up to 8 lines; errors
  re-render the form with what was typed (422).
- ``GET /invoices/<id>``: the printable invoice (print CSS) with Issue, Void and Credit note buttons
  (POST, CSRF, 303 after success; a refusal re-renders the page with the reason, 409/422).
- ``GET /invoices/<id>.pdf``: the PDF. ``GET /students/<id>/statement`` (+ ``.pdf``): the statement.
Another branch's invoice or student: 404.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, current_app, flash, render_template, request, url_for

from app.core import clock
from app.core.auth import current_actor, roles_required
from app.core.errors import AppError, NotFound, ValidationFailed
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.params import parse_date
from app.core.web import PageAlert, action_refused, see_other
from app.services import invoicing

bp = Blueprint("invoices", __name__)
FORM_LINES = 6


@bp.get("/invoices/")
@roles_required("admin", "staff")
def index():
    query = ListQuery.from_args(request.args, invoicing.INVOICE_SORT_KEYS, "issued", "desc",
                                filters=invoicing.LIST_FILTERS)
    page = invoicing.list_page(get_db(), current_actor(), query, now=clock.now())
    return render_template("invoices/index.html", page=page, statuses=invoicing.STATUSES,
                           status_labels=invoicing.STATUS_LABELS, branches=_branches())


def _branches() -> list[dict]:
    return invoicing.branch_options(get_db(), current_actor())


def _typed_lines(form) -> list[dict]:
    lines = []
    for n in range(FORM_LINES):
        line = {key: (form.get(f"lines-{n}-{key}") or "").strip()
                for key in ("description", "quantity", "unit_price", "kind", "credits")}
        if any(line[k] for k in ("description", "unit_price")):
            lines.append(line)
    return lines


@bp.route("/enrolments/<int:enrollment_id>/invoices/new", methods=["GET", "POST"])
@bp.route("/invoices/new", methods=["GET", "POST"])
@roles_required("admin", "staff")
def new(enrollment_id: int | None = None):
    """The enrolment comes from the path or from ``?enrollment_id=``; without one (or out of scope): 404."""
    db, actor = get_db(), current_actor()
    raw_id = str(enrollment_id if enrollment_id is not None else request.values.get("enrollment_id", ""))
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 10:
        raise NotFound("Choose an enrolment from the student's page to invoice it.")
    enrollment = invoicing.enrollment_for_new(db, actor, int(raw_id))
    if request.method in ("GET", "HEAD"):
        typed = {"lines": [{"description": f"{enrollment['course_title']} Fee", "quantity": "1",
                            "unit_price": f"{enrollment['unit_price']:.2f}", "kind": "course", "credits": "0"}],
                 "tax_rate": current_app.config.get("GST_RATE", "10"), "issue": "1"}
        return render_template("invoices/new.html", enrollment=enrollment, typed=typed, errors={},
                               kinds=invoicing.KINDS, kind_labels=invoicing.KIND_LABELS, rows=FORM_LINES)
    form = request.form
    typed = {"lines": _typed_lines(form), "discount": form.get("discount", ""), "tax_rate": form.get("tax_rate", ""),
             "tax_inclusive": form.get("tax_inclusive"), "due_date": form.get("due_date", ""),
             "notes": form.get("notes", ""), "issue": form.get("issue")}
    try:
        due = None
        if typed["due_date"]:
            due = parse_date(typed["due_date"])
            if due is None:
                raise ValidationFailed("Give the due date as a date.", field="due_date")
        invoice_id = invoicing.create_invoice(
            db, actor, enrollment_id=enrollment["enrollment_id"], lines=typed["lines"], due_date=due,
            issue=bool(typed["issue"]), notes=typed["notes"], now=clock.now(), settings=current_app.config,
            discount=typed["discount"], tax_rate=typed["tax_rate"], tax_inclusive=bool(typed["tax_inclusive"]))
    except AppError as exc:
        if exc.status not in (409, 422):
            raise
        return render_template("invoices/new.html", enrollment=enrollment, typed=typed, errors=exc.errors,
                               kinds=invoicing.KINDS, kind_labels=invoicing.KIND_LABELS, rows=FORM_LINES,
                               page_alert=PageAlert(f"The invoice was not created: {exc.message}")), exc.status
    flash("Invoice issued." if typed["issue"] else "Draft invoice saved.", "success")
    return see_other(url_for("invoices.view", invoice_id=invoice_id))


def _render_view(invoice_id: int, status: int = 200, **context):
    invoice = invoicing.get(get_db(), current_actor(), invoice_id)
    return render_template("invoices/view.html", invoice=invoice, status_labels=invoicing.STATUS_LABELS,
                           kind_labels=invoicing.KIND_LABELS, kinds=invoicing.KINDS,
                           abn=current_app.config.get("SCHOOL_ABN"), **context), status


@bp.get("/invoices/<int:invoice_id>")
@roles_required("admin", "staff")
def view(invoice_id: int):
    return _render_view(invoice_id)


@bp.get("/invoices/<int:invoice_id>.pdf")
@roles_required("admin", "staff")
def pdf(invoice_id: int):
    invoice = invoicing.get(get_db(), current_actor(), invoice_id)
    return _pdf_response(invoicing.render_invoice_pdf(invoice, current_app.config), f"{invoice['invoice_number']}.pdf")


def _pdf_response(body: bytes, filename: str) -> Response:
    safe = "".join(ch for ch in filename if ch.isalnum() or ch in "-_.") or "document.pdf"
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{safe}"'})


def _action(invoice_id: int, run, done: str):
    location = url_for("invoices.view", invoice_id=invoice_id)
    invoicing.get(get_db(), current_actor(), invoice_id)  # scope first: 404 outside it
    try:
        result = run()
    except AppError as exc:
        context, status = action_refused(exc, location)
        return _render_view(invoice_id, status, **context)
    flash(done, "success")
    if isinstance(result, int) and result != invoice_id:
        return see_other(url_for("invoices.view", invoice_id=result))
    return see_other(location)


@bp.post("/invoices/<int:invoice_id>/issue")
@roles_required("admin", "staff")
def issue(invoice_id: int):
    return _action(invoice_id, lambda: invoicing.issue_invoice(get_db(), current_actor(), invoice_id,
                                                               now=clock.now(), settings=current_app.config),
                   "Invoice issued.")


@bp.post("/invoices/<int:invoice_id>/void")
@roles_required("admin", "staff")
def void(invoice_id: int):
    return _action(invoice_id, lambda: invoicing.void(get_db(), current_actor(), invoice_id,
                                                      request.form.get("reason"), now=clock.now()),
                   "Invoice voided.")


@bp.post("/invoices/<int:invoice_id>/credit-note")
@roles_required("admin", "staff")
def credit_note(invoice_id: int):
    return _action(invoice_id, lambda: invoicing.credit_note(
        get_db(), current_actor(), invoice_id, reason=request.form.get("reason"), amount=request.form.get("amount"),
        now=clock.now(), settings=current_app.config), "Credit note issued.")


@bp.post("/invoices/<int:invoice_id>/lines")
@roles_required("admin", "staff")
def add_line(invoice_id: int):
    """Add a line to a draft. An issued or void invoice: 409 naming the rule (a credit note corrects it)."""
    line = {key: (request.form.get(key) or "").strip() for key in ("description", "quantity", "unit_price", "kind",
                                                                    "credits")}
    return _action(invoice_id, lambda: invoicing.add_line(get_db(), current_actor(), invoice_id, line,
                                                          now=clock.now()) and None, "Line added.")


@bp.post("/invoices/<int:invoice_id>/waive")
@roles_required("admin", "staff")
def waive(invoice_id: int):
    raw = request.form.get("item_id", "")
    item_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else 0

    def run():
        invoice = invoicing.get(get_db(), current_actor(), invoice_id)
        if item_id not in {i["id"] for i in invoice["items"]}:
            raise NotFound("Invoice line not found")
        return invoicing.waive_fee(get_db(), current_actor(), item_id, request.form.get("reason"), now=clock.now())
    return _action(invoice_id, run, "Fee waived.")


# ------------------------------------------------------------------------------------------ statement

def _range() -> tuple[date, date]:
    today = clock.today()
    start = parse_date(request.args.get("start") or "") or today.replace(day=1) - timedelta(days=365)
    end = parse_date(request.args.get("end") or "") or today
    return start, end


@bp.get("/students/<int:student_id>/statement")
@roles_required("admin", "staff", "student")
def statement(student_id: int):
    start, end = _range()
    data = invoicing.statement(get_db(), current_actor(), student_id, start, end)
    return render_template("invoices/statement.html", data=data, abn=current_app.config.get("SCHOOL_ABN"))


@bp.get("/students/<int:student_id>/statement.pdf")
@roles_required("admin", "staff", "student")
def statement_pdf(student_id: int):
    start, end = _range()
    data = invoicing.statement(get_db(), current_actor(), student_id, start, end)
    return _pdf_response(invoicing.render_statement_pdf(data, current_app.config), f"statement-{student_id}.pdf")
