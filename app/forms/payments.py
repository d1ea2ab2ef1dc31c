"""Payment forms (field shapes only: amounts, dates, scope and every money rule live in services.payments,
so a bad amount comes back as a 422 naming ``amount`` with the typed text kept)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.core.forms import blank_to_none

METHOD_CHOICES = [("cash", "Cash"), ("card", "Card"), ("bank_transfer", "Bank transfer"), ("gateway", "Online (gateway)")]


class PaymentForm(FlaskForm):
    amount = StringField("Amount ($)", filters=[blank_to_none], validators=[Length(max=20)])
    method = SelectField("Method", choices=METHOD_CHOICES, default="card")
    payment_date = StringField("Payment date", filters=[blank_to_none], validators=[Optional(), Length(max=10)],
                               render_kw={"type": "date"})
    reference = StringField("Reference", filters=[blank_to_none], validators=[Optional(), Length(max=80)])
    notes = TextAreaField("Notes", filters=[blank_to_none], validators=[Optional(), Length(max=2000)],
                          render_kw={"rows": 2})
    keep_excess_as_credit = BooleanField("Keep any excess as account credit")
    idempotency_key = HiddenField(validators=[Optional(), Length(max=64)])


class RefundForm(FlaskForm):
    amount = StringField("Refund amount ($)", filters=[blank_to_none], validators=[Length(max=20)])
    reason = StringField("Reason", filters=[blank_to_none], validators=[Optional(), Length(max=255)])
    method = SelectField("Paid back by", choices=[("", "Same as the payment")] + METHOD_CHOICES, default="")
    reference = StringField("Reference", filters=[blank_to_none], validators=[Optional(), Length(max=80)])


class CreditForm(FlaskForm):
    amount = StringField("Amount from credit ($)", filters=[blank_to_none], validators=[Length(max=20)])


class StudentPayForm(FlaskForm):
    amount = StringField("Amount ($)", filters=[blank_to_none], validators=[Length(max=20)])
    name_on_card = StringField("Name on card", filters=[blank_to_none], validators=[Optional(), Length(max=100)],
                               render_kw={"autocomplete": "cc-name"})
    card_number = StringField("Card number", filters=[blank_to_none], validators=[Optional(), Length(max=30)],
                              render_kw={"autocomplete": "cc-number", "inputmode": "numeric"})
    card_expiry = StringField("Expiry (MM/YY)", filters=[blank_to_none], validators=[Optional(), Length(max=10)],
                              render_kw={"autocomplete": "cc-exp", "placeholder": "MM/YY"})
    card_cvv = StringField("Security code", filters=[blank_to_none], validators=[Optional(), Length(max=4)],
                           render_kw={"autocomplete": "cc-csc", "inputmode": "numeric"})
    idempotency_key = HiddenField(validators=[Optional(), Length(max=64)])
