"""Payments (admin and staff; staff their own branch): the ledger with filters and a spreadsheet-safe CSV,
an invoice's payments with the record-payment form, a payment's page with its refund form, and account
credit applied to an invoice. The rules live in services.payments.

The invoice page (invoices blueprint) includes ``invoices/_payments.html``; its data comes from the
template global ``invoice_payments_panel(invoice_id)`` defined here (no SQL in templates).
"""
from __future__ import annotations

import csv
import io
from dataclasses import replace

from flask import Blueprint, Response, current_app, flash, render_template, request, url_for

from app.core import clock
from app.core.auth import STAFF_ROLES, current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.pagination import ListQuery
from app.core.web import form_failure, section_failed, see_other
from app.dao.branch import BranchDAO
from app.dao.payment import SORTS
from app.forms.payments import METHOD_CHOICES, CreditForm, PaymentForm, RefundForm
from app.services import payments

bp = Blueprint("payments", __name__)

FILTERS = {"date_from": "date", "date_to": "date", "method": tuple(payments.METHOD_LABELS),
           "branch": "id", "kind": ("payment", "refund")}
FILTER_LABELS = {"date_from": "from date", "date_to": "to date"}


def _query() -> ListQuery:
    query = ListQuery.from_args(request.args, list(SORTS), "date", "desc", filters=FILTERS, labels=FILTER_LABELS)
    day_from, day_to = query.filter_date("date_from"), query.filter_date("date_to")
    if day_from and day_to and day_from > day_to:
        return replace(query, ignored=query.ignored + ("The from date is after the to date, so no payment can match.",))
    return query


@bp.get("/payments/")
@roles_required(*STAFF_ROLES)
def index():
    actor = current_actor()
    query = _query()
    page, totals = payments.ledger(get_db(), actor, query, now=clock.now())
    branches = BranchDAO(get_db()).options() if actor.is_admin else []
    return render_template("payments/index.html", page=page, totals=totals, branches=branches,
                           methods=list(payments.METHOD_LABELS.items()))


@bp.get("/payments/export.csv")
@roles_required(*STAFF_ROLES)
def export():
    rows = payments.export_rows(get_db(), current_actor(), _query(), now=clock.now())
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(payments.EXPORT_COLUMNS)
    writer.writerows(rows)
    filename = f"payments_{clock.today().strftime('%Y%m%d')}.csv"
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --------------------------------------------------------------------------- an invoice's payments

def new_payment_form() -> PaymentForm:
    form = PaymentForm(formdata=None)
    form.payment_date.data = clock.today().isoformat()
    form.idempotency_key.data = payments.new_idempotency_key()
    return form


def _invoice_url(invoice_id: int) -> str:
    """The invoice page's payments section when the invoices module has a page, else ours."""
    if "invoices.view" in current_app.view_functions:
        return url_for("invoices.view", invoice_id=invoice_id, _anchor="payments")
    return url_for("payments.invoice", invoice_id=invoice_id)


@bp.app_template_global()
def invoice_payments_panel(invoice_id, form=None, credit_form=None) -> dict:
    """What templates/invoices/_payments.html shows for one invoice: its payments and refunds, the
    balance, the student's account credit and the forms (a failed form keeps what was typed)."""
    data = payments.invoice_payments(get_db(), current_actor(), int(invoice_id))
    data["form"] = form or new_payment_form()
    data["credit_form"] = credit_form or CreditForm(formdata=None)
    data["may_record"] = current_actor().is_office
    return data


def _render_invoice(invoice_id: int, form=None, credit_form=None, status: int = 200, **context):
    panel = invoice_payments_panel(invoice_id, form, credit_form)
    return render_template("payments/invoice.html", panel=panel, invoice=panel["invoice"], **context), status


@bp.route("/invoices/<int:invoice_id>/payments", methods=["GET", "POST"])
@roles_required(*STAFF_ROLES)
def invoice(invoice_id: int):
    """GET: the invoice's payments with the record-payment form; POST: record a payment (one rule for
    both, so an id past INT UNSIGNED is a 404 for either method, never a 405)."""
    if request.method in ("GET", "HEAD"):
        return _render_invoice(invoice_id)
    form = PaymentForm()
    location = url_for(".invoice", invoice_id=invoice_id, _anchor="record-payment")
    status = 422
    if form.validate():
        try:
            payments.record(get_db(), current_actor(), invoice_id, {
                "amount": form.amount.data, "method": form.method.data, "payment_date": form.payment_date.data,
                "reference": form.reference.data, "notes": form.notes.data,
                "keep_excess_as_credit": form.keep_excess_as_credit.data},
                now=clock.now(), settings=current_app.config, idempotency_key=form.idempotency_key.data or None)
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash("Payment recorded.", "success")
            return see_other(_invoice_url(invoice_id))
    return _render_invoice(invoice_id, form=form, status=status,
                           **section_failed(form, "The payment was not recorded", location, "record-payment-form"))


@bp.post("/invoices/<int:invoice_id>/payments/credit")
@roles_required(*STAFF_ROLES)
def apply_credit(invoice_id: int):
    form = CreditForm()
    location = url_for(".invoice", invoice_id=invoice_id, _anchor="apply-credit")
    status = 422
    if form.validate():
        try:
            payments.apply_credit(get_db(), current_actor(), invoice_id, {"amount": form.amount.data},
                                  now=clock.now(), settings=current_app.config)
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash("Account credit applied.", "success")
            return see_other(_invoice_url(invoice_id))
    return _render_invoice(invoice_id, credit_form=form, status=status,
                           **section_failed(form, "The credit was not applied", location, "apply-credit-form"))


# --------------------------------------------------------------------------- one payment, refunds

def _render_payment(payment_id: int, form: RefundForm | None = None, status: int = 200, **context):
    payment = payments.get_payment(get_db(), current_actor(), payment_id)
    return render_template("payments/view.html", payment=payment, form=form or RefundForm(formdata=None),
                           methods=dict(METHOD_CHOICES), **context), status


@bp.get("/payments/<int:payment_id>")
@roles_required(*STAFF_ROLES)
def view(payment_id: int):
    return _render_payment(payment_id)


@bp.post("/payments/<int:payment_id>/refund")
@roles_required(*STAFF_ROLES)
def refund(payment_id: int):
    form = RefundForm()
    location = url_for(".view", payment_id=payment_id, _anchor="refund")
    status = 422
    if form.validate():
        try:
            payments.refund(get_db(), current_actor(), payment_id, {
                "amount": form.amount.data, "reason": form.reason.data, "method": form.method.data or None,
                "reference": form.reference.data}, now=clock.now())
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash("Refund recorded.", "success")
            return see_other(url_for(".view", payment_id=payment_id))
    return _render_payment(payment_id, form=form, status=status,
                           **section_failed(form, "The refund was not recorded", location, "refund-form"))
