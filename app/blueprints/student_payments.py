"""The student pays their own invoice online (issue 9 item 8): the pay page with the card form (through the
configured gateway, the mock by default) and their receipt. A fresh idempotency key is put into every
form, so a double submit charges once (services.payments.pay_online)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, render_template, request, url_for

from app.core import clock
from app.core.auth import current_actor, roles_required
from app.core.errors import AppError
from app.core.flask_db import get_db
from app.core.web import form_failure, section_failed, see_other
from app.forms.payments import StudentPayForm
from app.services import payments
from app.services.gateway import gateway_from_settings

bp = Blueprint("student_payments", __name__, url_prefix="/my")


def _invoices_url() -> str | None:
    if "studentinvoices.index" in current_app.view_functions:
        return url_for("studentinvoices.index")
    return None


def _render_pay(invoice_id: int, form: StudentPayForm | None = None, status: int = 200, **context):
    panel = payments.invoice_payments(get_db(), current_actor(), invoice_id)
    if form is None:
        form = StudentPayForm(formdata=None)
        form.amount.data = f"{panel['invoice']['balance']:.2f}" if panel["payable"] else None
    form.idempotency_key.data = form.idempotency_key.data or payments.new_idempotency_key()
    form.card_number.data = None  # card details are never echoed back
    form.card_cvv.data = None
    return render_template("payments/pay.html", panel=panel, invoice=panel["invoice"], form=form,
                           invoices_url=_invoices_url(), **context), status


@bp.route("/invoices/<int:invoice_id>/pay", methods=["GET", "POST"])
@roles_required("student")
def pay(invoice_id: int):
    """GET: the pay page; POST: pay (one rule for both: an impossible id is a 404, never a 405)."""
    if request.method in ("GET", "HEAD"):
        return _render_pay(invoice_id)
    form = StudentPayForm()
    status = 422
    if form.validate():
        try:
            payment_id = payments.pay_online(
                get_db(), current_actor(), invoice_id, {
                    "amount": form.amount.data, "name_on_card": form.name_on_card.data,
                    "card_number": form.card_number.data, "card_expiry": form.card_expiry.data,
                    "card_cvv": form.card_cvv.data},
                now=clock.now(), settings=current_app.config, gateway=gateway_from_settings(current_app.config),
                idempotency_key=form.idempotency_key.data or None)
        except AppError as exc:
            status = form_failure(form, exc)
        else:
            flash("Thank you: your payment was received.", "success")
            return see_other(url_for(".receipt", payment_id=payment_id))
    # Nothing was charged or written: the next attempt (another card, say) gets a key of its own.
    form.idempotency_key.data = payments.new_idempotency_key()
    return _render_pay(invoice_id, form=form, status=status,
                       **section_failed(form, "Your payment was not made", url_for(".pay", invoice_id=invoice_id),
                                        "pay-form"))


@bp.get("/payments/<int:payment_id>")
@roles_required("student")
def receipt(payment_id: int):
    payment = payments.get_payment(get_db(), current_actor(), payment_id)
    return render_template("payments/receipt.html", payment=payment, invoices_url=_invoices_url())
