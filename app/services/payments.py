"""Payments: record, refund, pay from account credit, pay online; the ledger. No Flask here.

Rules (issue 9 item 6; the original accepted zero, negative and over-payments, spec §8.3.5/§8.2.8):
- an amount is more than zero with at most two decimals (422 naming ``amount``); a method is one of
  cash, card, bank_transfer, gateway; the payment date is not in the future; who recorded it is kept;
- one transaction per payment: the invoice row is locked FOR UPDATE *first* (before any plain read: on
  MariaDB a plain read first would fix a snapshot older than the previous payer's commit), then the
  invoice is checked (a void or draft invoice cannot be paid; a paid one is refused), the payment is
  inserted and the invoice's paid/balance/status recomputed in the same transaction;
- no overpayment: more than the balance is refused (422) unless ``keep_excess_as_credit`` is set (office
  only): the invoice then takes its balance and the excess goes to the student's account credit
  (account_credits, append-only; the balance is SUM(amount)), which ``apply_credit`` spends later;
- a refund is a negative row of kind ``refund`` (``refund_of`` the payment, a reason required), never an
  edit; at most what is left of the payment;
- idempotency: the same key twice records one payment (the second call returns the first payment's id);
  racing calls serialise on the invoice lock and the UNIQUE index uq_payment_idempotency backs it up.

Scope: admin any invoice; staff their branch (the invoice's own branch, else its enrolment's student's
branch, as the invoices module scopes it); instructors 403; students only their own invoices and only through ``pay_online``; anything else 404.
"""
from __future__ import annotations

import inspect
import re
import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Mapping

from app.core import clock
from app.core.database import Database
from app.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.core.pagination import ListQuery, Page
from app.core.params import MIN_DATE, parse_date
from app.dao.payment import PaymentDAO
from app.services import audit, money as money_rules
from app.services.gateway import Card, PaymentGateway
from app.services.scope import Actor

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("99999999.99")
METHODS = {"cash": "Cash", "card": "Card", "bank_transfer": "Bank transfer", "gateway": "Online (gateway)"}
CREDIT_METHOD = "account_credit"
METHOD_LABELS = {**METHODS, CREDIT_METHOD: "Account credit"}
# Legacy (PHP-era) method spellings, shown in words.
LEGACY_METHODS = {"Cash": "cash", "Card": "card", "Bank Transfer": "bank_transfer"}
UNPAYABLE = {"void": "A void invoice cannot be paid.",
             "draft": "A draft invoice is not issued yet, so it cannot be paid."}
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,64}", re.ASCII)
CURRENCY = "AUD"


# --------------------------------------------------------------------------- values

def method_label(method: str | None) -> str:
    if not method:
        return "—"
    return METHOD_LABELS.get(method) or METHOD_LABELS.get(LEGACY_METHODS.get(method, ""), method)


def parse_amount(raw: Any, field: str = "amount") -> Decimal:
    """A payment's amount: money.parse_amount's rule (more than zero, at most two decimals, at most
    99,999,999.99, "$1,200.50" accepted); anything else is a 422 naming ``field``."""
    return money_rules.parse_amount(raw, field, label="The amount")


def _dollars(value: Decimal) -> str:
    return f"${value:,.2f}"


def _local_today(now: datetime) -> date:
    return clock.to_local(now).date()


def _text(data: Mapping[str, Any], name: str, limit: int, errors: dict, label: str) -> str | None:
    value = data.get(name)
    value = " ".join(str(value).split()) if value is not None else ""
    if len(value) > limit:
        errors[name] = [f"{label} must be at most {limit} characters."]
    return value or None


def _payment_date(data: Mapping[str, Any], now: datetime, errors: dict) -> date | None:
    raw = data.get("payment_date")
    if raw is None or raw == "":
        return _local_today(now)
    value = parse_date(raw)
    if value is None:
        errors["payment_date"] = ["Enter the payment date (YYYY-MM-DD)."]
    elif value > _local_today(now):
        errors["payment_date"] = ["The payment date cannot be in the future."]
    elif value < MIN_DATE:
        errors["payment_date"] = ["Enter a plausible payment date."]
    return value


def _amount(data: Mapping[str, Any], errors: dict, field: str = "amount") -> Decimal | None:
    try:
        return parse_amount(data.get(field), field)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        return None


def _check_key(key: str | None) -> str | None:
    if key is None or key == "":
        return None
    if not KEY_PATTERN.fullmatch(str(key)):
        raise ValidationFailed("The form has expired; reload the page and try again.", field="idempotency_key")
    return str(key)


def new_idempotency_key() -> str:
    """A key for one payment form (a double submit of the same form records one payment)."""
    return secrets.token_urlsafe(24)


# --------------------------------------------------------------------------- scope

def _require_office(actor: Actor) -> None:
    if actor.role == "instructor":
        raise PermissionDenied("Instructors do not record payments.")
    if not actor.is_office:
        raise NotFound("Not found")


def _in_scope(actor: Actor, ctx: Mapping[str, Any]) -> None:
    """Office actors: admin any, staff their branch. Students: their own invoice."""
    if actor.role == "student":
        if actor.student_id is None or ctx["student_id"] != actor.student_id:
            raise NotFound("No such invoice.")
        if ctx.get("status", ctx.get("invoice_status")) == "draft":  # not issued: students do not see it
            raise NotFound("No such invoice.")
        return
    if actor.role == "instructor":
        raise PermissionDenied("Instructors do not see payments.")
    if not actor.is_office:
        raise NotFound("No such invoice.")
    allowed = actor.branch_filter()
    if allowed is not None and ctx["branch_id"] != allowed:
        raise NotFound("No such invoice.")


def _invoicing():
    """app.services.invoicing (issue 9 item 5) when present, else None (the rules here stand in)."""
    try:
        from app.services import invoicing
    except ModuleNotFoundError as exc:
        if exc.name != "app.services.invoicing":
            raise
        return None
    return invoicing


def _balance(db: Database, ctx: dict) -> None:
    """ctx["balance"] (and ctx["credit_note"]): total - paid - issued credit notes when the invoices module
    knows credit notes, else total - paid."""
    ctx["balance"], ctx["credit_note"] = ctx["total"] - ctx["paid"], False
    invoicing = _invoicing()
    if invoicing is not None and hasattr(invoicing, "balance"):
        ctx["balance"] = invoicing.balance(db, ctx["id"])
        from app.dao.invoice import InvoiceDAO

        amounts = InvoiceDAO(db).amounts(ctx["id"]) if hasattr(InvoiceDAO, "amounts") else None
        ctx["credit_note"] = bool(amounts and amounts.get("credit_note_for"))


def _locked_invoice(db: Database, actor: Actor, invoice_id: int) -> dict:
    """Lock the invoice row FIRST, then read its context (student, branch, paid) and check scope."""
    dao = PaymentDAO(db)
    if dao.lock_invoice(invoice_id) is None:
        raise NotFound("No such invoice.")
    ctx = dao.invoice_context(invoice_id)
    if ctx is None:
        raise NotFound("No such invoice.")
    _in_scope(actor, ctx)
    _balance(db, ctx)
    return ctx


def _payable(ctx: Mapping[str, Any]) -> None:
    status = ctx["status"]
    if status in UNPAYABLE:
        raise Conflict(UNPAYABLE[status], field="invoice")
    if ctx.get("credit_note"):
        raise Conflict("A credit note is not paid; record the payment on the invoice it corrects.", field="invoice")
    if status == "paid" or ctx["balance"] <= 0:
        raise Conflict("This invoice is already paid; there is nothing left to pay.", field="invoice")


def _replayed(dao: PaymentDAO, key: str | None, invoice_id: int) -> int | None:
    """The payment already recorded under ``key`` (a double submit), or None."""
    if key is None:
        return None
    existing = dao.lock_key(key)
    if existing is None:
        return None
    if existing["invoice_id"] != invoice_id:
        raise Conflict("This payment form was already used for another invoice; reload the page.",
                       field="idempotency_key")
    return int(existing["id"])


def _insert(db: Database, row: dict, key: str | None, invoice_id: int) -> tuple[int, bool]:
    """Insert a payment; a racing twin with the same key (UNIQUE) yields the first one's id instead.
    Returns (id, inserted)."""
    dao = PaymentDAO(db)
    try:
        with db.transaction():  # a savepoint: a duplicate key leaves the outer transaction usable
            return dao.insert(row), True
    except Conflict:
        if key is None:
            raise
        replay = _replayed(dao, key, invoice_id)
        if replay is None:
            raise
        return replay, False


# --------------------------------------------------------------------------- recompute

def recompute(db: Database, invoice_id: int, *, now: datetime, actor: Actor | None = None,
              settings: Mapping[str, Any] | None = None) -> dict:
    """The invoice's paid/balance/status, in the caller's transaction: invoicing.recompute when the
    invoices module provides it, otherwise the status rule here (paid when the balance is 0 or less,
    partial when something is paid, else overdue past the due date or sent; void and draft stay)."""
    invoicing = _invoicing()
    if invoicing is not None and hasattr(invoicing, "recompute"):
        accepted = inspect.signature(invoicing.recompute).parameters
        extra = {k: v for k, v in (("actor", actor), ("settings", settings)) if k in accepted}
        return invoicing.recompute(db, invoice_id, now=now, **extra)
    dao = PaymentDAO(db)
    ctx = dao.invoice_context(invoice_id)
    paid, total = ctx["paid"], ctx["total"]
    balance = total - paid
    status = ctx["status"]
    if status not in ("void", "draft"):
        if balance <= 0:
            status = "paid"
        elif paid > 0:
            status = "partial"
        else:
            due = ctx["due_date"]
            status = "overdue" if isinstance(due, date) and due < _local_today(now) else "sent"
        if status != ctx["status"]:
            dao.set_invoice_status(invoice_id, status, now)
    return {"total": total, "paid": paid, "balance": balance, "status": status}


# --------------------------------------------------------------------------- record

def record(db: Database, actor: Actor, invoice_id: int, data: Mapping[str, Any], *, now: datetime,
           settings: Mapping[str, Any] | None = None, idempotency_key: str | None = None) -> int:
    """Record a payment received by the office; returns the payment id (the first one's on a replay)."""
    _require_office(actor)
    key = _check_key(idempotency_key or data.get("idempotency_key"))
    dao = PaymentDAO(db)
    with db.transaction():
        ctx = _locked_invoice(db, actor, invoice_id)
        replay = _replayed(dao, key, invoice_id)
        if replay is not None:
            return replay
        errors: dict = {}
        amount = _amount(data, errors)
        method = data.get("method") or ""
        if method not in METHODS:
            errors["method"] = ["Choose how it was paid: cash, card, bank transfer or gateway."]
        paid_on = _payment_date(data, now, errors)
        reference = _text(data, "reference", 80, errors, "The reference")
        notes = _text(data, "notes", 2000, errors, "The notes")
        if errors:
            raise ValidationFailed("Check the payment details.", errors=errors)
        _payable(ctx)
        applied, excess = amount, Decimal("0.00")
        if amount > ctx["balance"]:
            if not data.get("keep_excess_as_credit"):
                raise ValidationFailed(
                    f"The amount is more than the balance of {_dollars(ctx['balance'])}. Record at most "
                    f"{_dollars(ctx['balance'])}, or keep the excess as account credit.", field="amount")
            applied, excess = ctx["balance"], amount - ctx["balance"]
        if excess:
            note = f"Received {_dollars(amount)}; {_dollars(excess)} kept as account credit."
            notes = f"{notes} {note}" if notes else note
        row = {"invoice_id": invoice_id, "amount": applied, "payment_date": paid_on, "method": method,
               "reference": reference, "notes": notes, "recorded_by": actor.user_id or None, "kind": "payment",
               "idempotency_key": key, "created_at": now, "updated_at": now}
        payment_id, inserted = _insert(db, row, key, invoice_id)
        if not inserted:
            return payment_id
        if excess:
            dao.add_credit({"student_id": ctx["student_id"], "amount": excess, "source": "overpayment",
                            "invoice_id": invoice_id, "payment_id": payment_id,
                            "notes": f"Overpayment of {ctx['invoice_number']}", "created_by": actor.user_id or None,
                            "created_at": now})
        result = recompute(db, invoice_id, now=now, actor=actor, settings=settings)
        audit.record(db, actor, "payment_recorded", "payment", payment_id, now=now,
                     after={**row, "excess_to_credit": excess, "invoice_status": result["status"]},
                     details=f"{ctx['invoice_number']}: {_dollars(applied)} {method_label(method)}"
                             + (f", {_dollars(excess)} to account credit" if excess else ""))
    return payment_id


# --------------------------------------------------------------------------- refund

def refund(db: Database, actor: Actor, payment_id: int, data: Mapping[str, Any], *, now: datetime) -> int:
    """A refund of (part of) a payment: a negative row of kind 'refund' with a reason; returns its id."""
    _require_office(actor)
    dao = PaymentDAO(db)
    with db.transaction():
        payment = dao.lock_payment(payment_id)  # a locking read: no snapshot is fixed yet
        if payment is None:
            raise NotFound("No such payment.")
        ctx = _locked_invoice(db, actor, payment["invoice_id"])
        if payment["kind"] == "refund":
            raise Conflict("A refund cannot be refunded.", field="payment")
        errors: dict = {}
        amount = _amount(data, errors)
        reason = _text(data, "reason", 255, errors, "The reason")
        if not reason and "reason" not in errors:
            errors["reason"] = ["Say why the payment is refunded."]
        method = data.get("method") or LEGACY_METHODS.get(payment["method"] or "", payment["method"] or "")
        if method not in METHODS and method != CREDIT_METHOD:
            errors["method"] = ["Choose how the money goes back: cash, card, bank transfer or gateway."]
        paid_on = _payment_date(data, now, errors)
        reference = _text(data, "reference", 80, errors, "The reference")
        if errors:
            raise ValidationFailed("Check the refund details.", errors=errors)
        remaining = payment["amount"] - dao.refunded_total(payment_id)
        if remaining <= 0:
            raise Conflict("This payment has been refunded in full already.", field="payment")
        if amount > remaining:
            raise ValidationFailed(f"At most {_dollars(remaining)} of this payment can be refunded.", field="amount")
        row = {"invoice_id": payment["invoice_id"], "amount": -amount, "payment_date": paid_on, "method": method,
               "reference": reference, "notes": None, "recorded_by": actor.user_id or None, "kind": "refund",
               "refund_of": payment_id, "reason": reason, "created_at": now, "updated_at": now}
        refund_id = dao.insert(row)
        result = recompute(db, payment["invoice_id"], now=now, actor=actor)
        audit.record(db, actor, "payment_refunded", "payment", refund_id, now=now,
                     after={**row, "invoice_status": result["status"]},
                     details=f"{ctx['invoice_number']}: {_dollars(amount)} of payment {payment_id} refunded: {reason}"[:255])
    return refund_id


# --------------------------------------------------------------------------- account credit

def apply_credit(db: Database, actor: Actor, invoice_id: int, data: Mapping[str, Any], *, now: datetime,
                 settings: Mapping[str, Any] | None = None) -> int:
    """Pay (part of) an invoice from the student's account credit; returns the payment id.
    ``data["amount"]`` defaults to the smaller of the credit and the balance."""
    _require_office(actor)
    dao = PaymentDAO(db)
    with db.transaction():
        ctx = _locked_invoice(db, actor, invoice_id)
        _payable(ctx)
        dao.lock_student(ctx["student_id"])  # invoice first, then the student: one lock order
        credit = dao.credit_balance(ctx["student_id"])
        if credit <= 0:
            raise Conflict("The student has no account credit.", field="amount")
        if data.get("amount") in (None, ""):
            amount = min(credit, ctx["balance"])
        else:
            amount = parse_amount(data.get("amount"))
        if amount > credit:
            raise ValidationFailed(f"The student has only {_dollars(credit)} of account credit.", field="amount")
        if amount > ctx["balance"]:
            raise ValidationFailed(f"The balance is {_dollars(ctx['balance'])}; apply at most that.", field="amount")
        row = {"invoice_id": invoice_id, "amount": amount, "payment_date": _local_today(now),
               "method": CREDIT_METHOD, "reference": "Account credit", "notes": None,
               "recorded_by": actor.user_id or None, "kind": "payment", "created_at": now, "updated_at": now}
        payment_id = dao.insert(row)
        dao.add_credit({"student_id": ctx["student_id"], "amount": -amount, "source": "applied",
                        "invoice_id": invoice_id, "payment_id": payment_id,
                        "notes": f"Applied to {ctx['invoice_number']}", "created_by": actor.user_id or None,
                        "created_at": now})
        result = recompute(db, invoice_id, now=now, actor=actor, settings=settings)
        audit.record(db, actor, "payment_credit_applied", "payment", payment_id, now=now,
                     after={**row, "invoice_status": result["status"]},
                     details=f"{ctx['invoice_number']}: {_dollars(amount)} from account credit")
    return payment_id


def credit_balance(db: Database, student_id: int) -> Decimal:
    return PaymentDAO(db).credit_balance(student_id)


RECEIPTS_SHOWN = 10


def own_account(db: Database, actor: Actor) -> dict:
    """The signed-in student's account credit and latest receipts (at most RECEIPTS_SHOWN; the statement
    lists every payment). Anyone else gets nothing of anyone's."""
    if actor.role != "student" or not actor.student_id:
        return {"credit": Decimal("0.00"), "receipts": []}
    dao = PaymentDAO(db)
    return {"credit": dao.credit_balance(actor.student_id),
            "receipts": [_decorate(r) for r in dao.for_student(actor.student_id, RECEIPTS_SHOWN)]}


# --------------------------------------------------------------------------- online (student portal)

_CARD_DIGITS = re.compile(r"[0-9]{12,19}", re.ASCII)
_EXPIRY = re.compile(r"([0-9]{1,2})/([0-9]{2}|[0-9]{4})", re.ASCII)
_CVV = re.compile(r"[0-9]{3,4}", re.ASCII)


def parse_card(data: Mapping[str, Any], now: datetime) -> Card:
    """The original's mock card rules (spec §4.5): name required; 12-19 digits (spaces allowed); expiry
    MM/YY or MM/YYYY, not past; CVV 3-4 digits. Every broken rule is named (422)."""
    errors: dict = {}
    name = " ".join(str(data.get("name_on_card") or "").split())
    if not name:
        errors["name_on_card"] = ["Enter the name on the card."]
    elif len(name) > 100:
        errors["name_on_card"] = ["The name must be at most 100 characters."]
    number = re.sub(r"[\s-]", "", str(data.get("card_number") or ""))
    if not _CARD_DIGITS.fullmatch(number):
        errors["card_number"] = ["Enter the card number: 12 to 19 digits."]
    month = year = 0
    expiry = re.sub(r"[\s-]", "", str(data.get("card_expiry") or ""))
    match = _EXPIRY.fullmatch(expiry)
    if not match:
        errors["card_expiry"] = ["Enter the expiry as MM/YY."]
    else:
        month, year = int(match.group(1)), int(match.group(2))
        year = year + 2000 if year < 100 else year
        today = _local_today(now)
        if not 1 <= month <= 12:
            errors["card_expiry"] = ["The expiry month must be 01 to 12."]
        elif (year, month) < (today.year, today.month):
            errors["card_expiry"] = ["This card has expired."]
    cvv = str(data.get("card_cvv") or "").strip()
    if not _CVV.fullmatch(cvv):
        errors["card_cvv"] = ["Enter the 3 or 4 digit security code."]
    if errors:
        raise ValidationFailed("Check the card details.", errors=errors)
    return Card(name=name, number=number, expiry_month=month, expiry_year=year, cvv=cvv)


def pay_online(db: Database, actor: Actor, invoice_id: int, data: Mapping[str, Any], *, now: datetime,
               settings: Mapping[str, Any] | None, gateway: PaymentGateway, idempotency_key: str | None) -> int:
    """A student pays their own invoice (all of the balance or a part) through the gateway; returns the
    payment id. The same key twice charges once: the second call waits on the invoice lock, finds the
    first payment and returns it without calling the gateway. A declined card writes nothing (422)."""
    if actor.role != "student" or actor.student_id is None:
        raise NotFound("No such invoice.")
    key = _check_key(idempotency_key)
    if key is None:
        raise ValidationFailed("The form has expired; reload the page and try again.", field="idempotency_key")
    dao = PaymentDAO(db)
    with db.transaction():
        ctx = _locked_invoice(db, actor, invoice_id)
        replay = _replayed(dao, key, invoice_id)
        if replay is not None:
            return replay
        _payable(ctx)
        errors: dict = {}
        amount = ctx["balance"] if data.get("amount") in (None, "") else _amount(data, errors)
        try:
            card = parse_card(data, now)
        except ValidationFailed as exc:
            errors.update(exc.errors)
            card = None
        if errors:
            raise ValidationFailed("Check the payment details.", errors=errors)
        if amount > ctx["balance"]:
            raise ValidationFailed(f"The balance is {_dollars(ctx['balance'])}; pay at most that.", field="amount")
        result = gateway.charge(amount, CURRENCY, f"Invoice {ctx['invoice_number']}", key, card=card)
        if not result.approved:
            raise ValidationFailed(result.message or "The card was declined.", field="card_number")
        row = {"invoice_id": invoice_id, "amount": amount, "payment_date": _local_today(now), "method": "gateway",
               "reference": result.reference[:80], "notes": f"Online card payment (card ending {card.last4})",
               "recorded_by": actor.user_id or None, "kind": "payment", "idempotency_key": key,
               "gateway": gateway.name[:20], "gateway_reference": result.reference[:80],
               "created_at": now, "updated_at": now}
        payment_id, inserted = _insert(db, row, key, invoice_id)
        if not inserted:
            return payment_id
        outcome = recompute(db, invoice_id, now=now, actor=actor, settings=settings)
        audit.record(db, actor, "payment_online", "payment", payment_id, now=now,
                     after={**row, "invoice_status": outcome["status"]},
                     details=f"{ctx['invoice_number']}: {_dollars(amount)} via {gateway.name} ({result.reference})"[:255])
    return payment_id


# --------------------------------------------------------------------------- reads for pages

def _decorate(row: dict) -> dict:
    row["method_label"] = method_label(row.get("method"))
    row["student_name"] = f"{row.get('student_first_name') or ''} {row.get('student_last_name') or ''}".strip()
    recorder = f"{row.get('recorder_first_name') or ''} {row.get('recorder_last_name') or ''}".strip()
    row["recorded_by_name"] = recorder or None
    if "refunded" in row and row.get("kind") != "refund":
        row["refundable"] = max(row["amount"] - row["refunded"], Decimal("0.00"))
    else:
        row["refundable"] = Decimal("0.00")
    return row


def get_payment(db: Database, actor: Actor, payment_id: int) -> dict:
    """One payment (a receipt) within the actor's scope, else NotFound."""
    row = PaymentDAO(db).find(payment_id)
    if row is None:
        raise NotFound("No such payment.")
    _in_scope(actor, row)
    return _decorate(row)


def invoice_payments(db: Database, actor: Actor, invoice_id: int) -> dict:
    """The invoice's payments and refunds, its balance and the student's account credit (three queries)."""
    dao = PaymentDAO(db)
    ctx = dao.invoice_context(invoice_id)
    if ctx is None:
        raise NotFound("No such invoice.")
    _in_scope(actor, ctx)
    rows = [_decorate(r) for r in dao.for_invoice(invoice_id)]
    _balance(db, ctx)
    return {"invoice": ctx, "payments": rows, "credit": dao.credit_balance(ctx["student_id"]),
            "payable": ctx["status"] not in UNPAYABLE and ctx["status"] != "paid" and ctx["balance"] > 0
            and not ctx["credit_note"]}


def ledger(db: Database, actor: Actor, query: ListQuery, now: datetime | None = None) -> tuple[Page, dict | None]:
    """The payments ledger page and the filtered totals (one aggregate), or None for the totals when the
    filters match more than PaymentDAO's COUNT_CAP entries (the page asks for a narrower filter)."""
    _require_office(actor)
    dao = PaymentDAO(db)
    if actor.branch_filter() is not None or query.filter_int("branch") is not None:
        # a branch narrows the ledger through the invoices' branch index: the exact totals first, and
        # their count serves the pager (one statement fewer)
        totals = dao.ledger_totals(query, actor.branch_filter())
        page = dao.ledger_page(query, actor.branch_filter(), total=totals["count"])
        page.items = [_decorate(r) for r in page.items]
        return page, totals
    page = dao.ledger_page(query, actor.branch_filter())
    page.items = [_decorate(r) for r in page.items]
    if page.capped:  # over COUNT_CAP entries (the whole chain): no sum over every payment on each view,
        totals = dao.summary_totals(query, actor.branch_filter())  # the summary's ("as of"), or none
        if totals is not None and now is not None:
            from app.services import stats

            totals["as_of"] = stats.as_of(totals["refreshed_at"], now)
        return page, totals
    return page, dao.ledger_totals(query, actor.branch_filter())


EXPORT_COLUMNS = ("id", "payment_date", "kind", "amount", "method", "reference", "invoice_number", "student",
                  "branch", "recorded_by", "refund_of", "reason", "created_at")


def export_rows(db: Database, actor: Actor, query: ListQuery, *, now: datetime) -> list[list[str]]:
    """The filtered ledger as CSV cells (spreadsheet-safe: audit.csv_safe), the export audited."""
    _require_office(actor)
    rows = PaymentDAO(db).ledger_export(query, actor.branch_filter())
    with db.transaction():
        audit.record(db, actor, "payments_exported", None, None, now=now,
                     details=f"{len(rows)} rows; filters: {dict(query.filters)} q={query.q!r}"[:255])
    out = []
    for r in rows:
        values = {**r, "method": method_label(r.get("method")),
                  "student": f"{r.get('student_first_name') or ''} {r.get('student_last_name') or ''}".strip(),
                  "branch": r.get("branch_name"),
                  "recorded_by": f"{r.get('recorder_first_name') or ''} {r.get('recorder_last_name') or ''}".strip()}
        out.append([audit.csv_safe(values.get(c)) for c in EXPORT_COLUMNS])
    return out
