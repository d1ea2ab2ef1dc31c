"""The student's own invoices (original StudentinvoicesController): ``GET /my/invoices`` (issued
invoices with balance and PDF links, paginated), ``GET /my/invoices/<id>`` and ``.pdf``. Another
student's invoice, or a draft: 404."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from app.core.auth import current_actor, roles_required
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.services import invoicing, packages, payments

bp = Blueprint("studentinvoices", __name__, url_prefix="/my/invoices")


@bp.get("")
@roles_required("student")
def index():
    query = ListQuery.from_args(request.args, invoicing.INVOICE_SORT_KEYS, "issued", "desc",
                                filters=invoicing.LIST_FILTERS)
    actor = current_actor()
    db = get_db()
    page = invoicing.student_page(db, actor, query)
    return render_template("invoices/mine.html", page=page, student_id=actor.student_id,
                           account=payments.own_account(db, actor), packages=packages.own_packages(db, actor))


@bp.get("/<int:invoice_id>")
@roles_required("student")
def view(invoice_id: int):
    invoice = invoicing.get(get_db(), current_actor(), invoice_id)
    return render_template("invoices/view.html", invoice=invoice, status_labels=invoicing.STATUS_LABELS,
                           kind_labels=invoicing.KIND_LABELS, abn=current_app.config.get("SCHOOL_ABN"),
                           student_view=True)


@bp.get("/<int:invoice_id>.pdf")
@roles_required("student")
def pdf(invoice_id: int):
    from app.blueprints.invoices import _pdf_response

    invoice = invoicing.get(get_db(), current_actor(), invoice_id)
    return _pdf_response(invoicing.render_invoice_pdf(invoice, current_app.config), f"{invoice['invoice_number']}.pdf")
