"""Invoices: drafts, issue with a collision-free number, fee lines and waivers, void, credit notes,
status from payments and the due date, invoice-due reminders (issue 9, items 5 and 9).

Rules (docs/finance.md):
- Numbers ``INV-YYYY-NNNNNN`` are unique and sequential per calendar year (the issue date's year),
  taken from ``invoice_counters`` inside the issuing transaction (InvoiceDAO.next_number). A draft
  carries the placeholder ``DRAFT-<id>`` (invoice_number stays NOT NULL UNIQUE, as in the original).
- Arithmetic: app/services/money.py (half-up to the cent per line, then totals; tax added or included).
- A financial row is never deleted, nor edited once issued: an issued invoice's lines and amounts are
  frozen (``InvoiceLocked``, 409); a mistake is corrected by a credit note (a negative invoice with its
  own number, ``credit_note_for`` = the original) or by voiding (with a reason; the row stays).
- Status: draft (not issued) -> sent -> partial / paid / overdue (derived by :func:`recompute` from the
  payments, credit notes and the due date); void is final. Draft and void are never recomputed.
- Reminders: issuing queues one ``Invoice Due`` e-mail reminder per configured offset
  (INVOICE_REMINDER_DAYS_BEFORE_DUE, default "2": the original's issue + 5 days with a 7-day term);
  paid or void withdraws the pending ones.
- On paid: every line with credits > 0 adds its lessons to the package ledger (packages.purchase), once.

Every function takes ``db``, ``actor``, ``now`` (naive UTC) and, where needed, ``settings``; each write
runs in ``db.transaction()`` (a SAVEPOINT inside the caller's transaction) and is audited.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from app.core.database import Database
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.pagination import ListQuery, Page
from app.dao.invoice import InvoiceDAO
from app.dao.payment import PaymentDAO
from app.services import audit, reminders
from app.services.money import (
    ZERO, fmt, money, parse_amount, parse_tax_rate, tax_rate_from, totals,
)
from app.services.scope import Actor

STATUSES = ("draft", "sent", "partial", "paid", "overdue", "void")
STATUS_LABELS = {"draft": "Draft", "sent": "Sent", "partial": "Part paid", "paid": "Paid", "overdue": "Overdue",
                 "void": "Void"}
KINDS = ("course", "lesson", "package", "fee_late_cancel", "fee_no_show", "other")
KIND_LABELS = {"course": "Course", "lesson": "Lesson", "package": "Lesson package", "fee_late_cancel":
               "Late-cancellation fee", "fee_no_show": "No-show fee", "credit": "Credit", "other": "Other"}
FEE_KINDS = ("fee_late_cancel", "fee_no_show")
DESCRIPTION_MAX = 255
REASON_MAX = 255
NOTES_MAX = 2000
MAX_LINES = 50
MAX_QUANTITY = 1000
MAX_CREDITS = 500
DEFAULT_DUE_DAYS = 7
REMINDER_TYPE = "Invoice Due"
REMINDER_CHANNEL = "email"
REMINDER_HOUR = time(9, 0)
INVOICE_SORT_KEYS = ("issued", "number", "due", "total")
LIST_FILTERS = {"status": STATUSES, "branch": "id"}


class InvoiceLocked(Conflict):
    """The invoice is issued (or void): its lines and amounts can no longer change (409)."""


# ------------------------------------------------------------------------------------------ helpers

def _zone(settings: Mapping[str, Any] | None) -> ZoneInfo:
    try:
        return ZoneInfo(str((settings or {}).get("APP_TIMEZONE") or "Australia/Melbourne"))
    except Exception:  # noqa: BLE001 - a bad zone name never breaks invoicing
        return ZoneInfo("Australia/Melbourne")


def local_today(now: datetime, settings: Mapping[str, Any] | None) -> date:
    return now.replace(tzinfo=timezone.utc).astimezone(_zone(settings)).date()


def due_days(settings: Mapping[str, Any] | None) -> int:
    try:
        days = int((settings or {}).get("INVOICE_DUE_DAYS", DEFAULT_DUE_DAYS))
    except (TypeError, ValueError):
        days = DEFAULT_DUE_DAYS
    return min(max(days, 0), 365)


def reminder_offsets(settings: Mapping[str, Any] | None) -> list[int]:
    """Days before the due date at which an invoice-due reminder goes out ("2" = the original's rule:
    issue + 5 days on a 7-day term; "7,2,0" = three reminders; "" = none)."""
    raw = str((settings or {}).get("INVOICE_REMINDER_DAYS_BEFORE_DUE", "2"))
    offsets = set()
    for part in raw.split(","):
        part = part.strip()
        if part.lstrip("-").isascii() and part.lstrip("-").isdigit() and -60 <= int(part) <= 365:
            offsets.add(int(part))
    return sorted(offsets, reverse=True)


def format_number(year: int, n: int) -> str:
    return f"INV-{year:04d}-{n:06d}"


def draft_number(invoice_id: int) -> str:
    return f"DRAFT-{invoice_id:06d}"


def _text(value: Any, field: str, label: str, maximum: int, *, required: bool) -> str | None:
    text = " ".join(str(value or "").split())
    if not text:
        if required:
            raise ValidationFailed(f"{label} is required.", field=field)
        return None
    if len(text) > maximum:
        raise ValidationFailed(f"{label} must be at most {maximum} characters.", field=field)
    return text


def _int(value: Any, field: str, label: str, low: int, high: int, default: int | None = None) -> int:
    if value is None or str(value).strip() == "":
        if default is not None:
            return default
        raise ValidationFailed(f"{label} is required.", field=field)
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6 or not (low <= int(text) <= high):
        raise ValidationFailed(f"{label} must be a whole number from {low} to {high}.", field=field)
    return int(text)


def clean_lines(lines: Iterable[Mapping[str, Any]], *, allow_zero: bool = True) -> list[dict]:
    """Validated lines: description (required), quantity 1..1000, unit_price (>= 0, two decimals),
    kind, credits (0..500), discount (optional, not more than the line). Field names carry the line's
    index: ``lines-0-unit_price``."""
    clean = []
    for n, line in enumerate(lines):
        prefix = f"lines-{n}-"
        description = _text(line.get("description"), prefix + "description", "Description", DESCRIPTION_MAX,
                            required=True)
        quantity = _int(line.get("quantity"), prefix + "quantity", "Quantity", 1, MAX_QUANTITY, default=1)
        price = line.get("unit_price")
        unit_price = (money(price) if isinstance(price, Decimal) and price >= 0 and price.as_tuple().exponent >= -2
                      else parse_amount(price, prefix + "unit_price", label="Unit price", allow_zero=allow_zero))
        kind = str(line.get("kind") or "other")
        if kind not in KINDS:
            raise ValidationFailed("Choose one of the listed kinds.", field=prefix + "kind")
        credits = _int(line.get("credits"), prefix + "credits", "Lessons added", 0, MAX_CREDITS, default=0)
        raw_discount = line.get("discount")
        discount = (ZERO if raw_discount in (None, "", 0, ZERO)
                    else parse_amount(raw_discount, prefix + "discount", label="Line discount"))
        if discount > unit_price * quantity:
            raise ValidationFailed("The line discount cannot be more than the line.", field=prefix + "discount")
        clean.append({"description": description, "quantity": quantity, "unit_price": unit_price, "kind": kind,
                      "credits": credits, "discount": discount, "schedule_id": line.get("schedule_id")})
    if not clean:
        raise ValidationFailed("Add at least one line.", field="lines")
    if len(clean) > MAX_LINES:
        raise ValidationFailed(f"An invoice has at most {MAX_LINES} lines.", field="lines")
    return clean


def _snapshot(row: Mapping[str, Any]) -> dict:
    keys = ("invoice_number", "status", "subtotal", "discount_amount", "tax_rate", "tax_inclusive", "tax_amount",
            "total", "issue_date", "due_date", "enrollment_id", "credit_note_for", "void_reason")
    return {k: row.get(k) for k in keys if k in row}


def _recalculate_draft(dao: InvoiceDAO, invoice_id: int, now: datetime) -> dict:
    row = dao.lock(invoice_id)
    items = dao.items(invoice_id)
    lines = [{"quantity": it["quantity"], "unit_price": it["unit_price"], "discount": it["discount"],
              "waived": it["waived_at"] is not None} for it in items]
    subtotal = totals(lines, tax_rate=0).subtotal
    result = totals(lines, discount=max(ZERO, min(row["discount_amount"], subtotal)), tax_rate=row["tax_rate"],
                    tax_inclusive=row["tax_inclusive"])
    dao.update_totals(invoice_id, subtotal=result.subtotal, discount=result.discount, tax=result.tax,
                      total=result.total, now=now)
    return {"subtotal": result.subtotal, "discount": result.discount, "tax": result.tax, "total": result.total}


def _scope(actor: Actor, row: Mapping[str, Any] | None) -> dict:
    """The invoice if ``actor`` may see it (office: own branch; student: own), else 404."""
    if row is None:
        raise NotFound("Invoice not found")
    if actor.role == "student":
        if actor.student_id is None or row["student_id"] != actor.student_id or row["status"] == "draft":
            raise NotFound("Invoice not found")
        return dict(row)
    if not actor.is_office:
        raise NotFound("Invoice not found")
    allowed = actor.branch_filter()
    if allowed is not None and row.get("scope_branch_id") != allowed:
        raise NotFound("Invoice not found")
    return dict(row)


# ------------------------------------------------------------------------------------------ reads

def get(db: Database, actor: Actor, invoice_id: int) -> dict:
    """The invoice (people, branch, paid, credited, balance), its lines and credit notes, in scope."""
    dao = InvoiceDAO(db)
    row = _scope(actor, dao.find(invoice_id))
    row["items"] = dao.items(invoice_id)
    row["credit_notes"] = dao.credit_notes_of(invoice_id)
    return row


def lock_invoice(db: Database, invoice_id: int) -> dict | None:
    """The invoice row read FOR UPDATE (MariaDB; SQLite's BEGIN IMMEDIATE serialises writers)."""
    return InvoiceDAO(db).lock(invoice_id)


def balance(db: Database, invoice_id: int) -> Decimal:
    """total - payments (refunds are negative) - issued credit notes."""
    row = InvoiceDAO(db).amounts(invoice_id)
    if row is None:
        raise NotFound("Invoice not found")
    return row["total"] - row["paid"] - row["credited"]


def list_page(db: Database, actor: Actor, query: ListQuery, now: datetime | None = None) -> Page:
    """Admin: every invoice; staff: their branch's (by the invoice's branch, else the student's).
    Over InvoiceDAO's COUNT_CAP matching invoices the totals come from the maintained summary, with
    ``page.totals["as_of"]`` ("07:15 today", from ``now``), or are None (a search: the page asks for a
    narrower filter)."""
    if not actor.is_office:
        raise NotFound("Not found")
    page = InvoiceDAO(db).page(query, branch_id=actor.branch_filter())
    if page.totals and page.totals.get("refreshed_at") is not None and now is not None:
        from app.services import stats

        page.totals["as_of"] = stats.as_of(page.totals["refreshed_at"], now)
    return page


def student_page(db: Database, actor: Actor, query: ListQuery) -> Page:
    if actor.role != "student" or actor.student_id is None:
        raise NotFound("Not found")
    return InvoiceDAO(db).page(query, student_id=actor.student_id, issued_only=True)


def branch_options(db: Database, actor: Actor) -> list[dict]:
    """The branches the list may filter by (admin: all; staff: none, their list is one branch)."""
    from app.dao.branch import BranchDAO

    return BranchDAO(db).options() if actor.is_admin else []


def enrollment_for_new(db: Database, actor: Actor, enrollment_id: int) -> dict:
    """The enrolment an office user may invoice (course title and price for the first line), else 404."""
    ctx = InvoiceDAO(db).enrollment_context(enrollment_id)
    if ctx is None or not actor.is_office:
        raise NotFound("Enrolment not found")
    allowed = actor.branch_filter()
    if allowed is not None and ctx["branch_id"] != allowed:
        raise NotFound("Enrolment not found")
    return ctx


# ------------------------------------------------------------------------------------------ writes

def create_invoice(db: Database, actor: Actor, *, enrollment_id: int, lines: list[Mapping[str, Any]],
                   due_date: date | None = None, issue: bool = True, notes: str | None = None, now: datetime,
                   settings: Mapping[str, Any] | None, discount: Any = None, tax_rate: Any = None,
                   tax_inclusive: bool = False, credit_note_for: int | None = None) -> int:
    """A new invoice for ``enrollment_id`` (draft, or issued when ``issue``); returns its id.

    ``lines``: see :func:`clean_lines`. ``discount``: an amount off the subtotal (optional).
    ``tax_rate``: per cent (default GST_RATE, 10). Works inside the caller's transaction."""
    dao = InvoiceDAO(db)
    raw_id = str(enrollment_id or "").strip()
    ctx = (dao.enrollment_context(int(raw_id)) if raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= 10
           else None)
    if ctx is None:
        raise ValidationFailed("Choose an existing enrolment.", field="enrollment_id")
    if credit_note_for is None:
        clean = clean_lines(lines)
    else:
        clean = list(lines)  # built by credit_note (negative prices)
    disc = ZERO if discount in (None, "", ZERO) else parse_amount(discount, "discount", label="Discount")
    rate = tax_rate_from(settings) if tax_rate in (None, "") else parse_tax_rate(tax_rate)
    result = totals(clean, discount=disc, tax_rate=rate, tax_inclusive=tax_inclusive)
    if credit_note_for is None and disc > result.subtotal:
        raise ValidationFailed("The discount cannot be more than the subtotal.", field="discount")
    note_text = _text(notes, "notes", "Notes", NOTES_MAX, required=False)
    today = local_today(now, settings)
    if due_date is not None and due_date < today and issue:
        raise ValidationFailed("The due date cannot be in the past.", field="due_date")
    due = due_date or today + timedelta(days=due_days(settings))
    with db.transaction():
        placeholder = f"DRAFT-NEW-{uuid.uuid4().hex}"
        invoice_id = dao.insert_invoice({
            "enrollment_id": ctx["enrollment_id"], "invoice_number": placeholder[:40], "issue_date": today,
            "due_date": due, "subtotal": result.subtotal, "tax_amount": result.tax, "total": result.total,
            "status": "draft", "notes": note_text, "created_at": now, "updated_at": now,
            "discount_amount": result.discount, "tax_rate": result.tax_rate,
            "tax_inclusive": 1 if result.tax_inclusive else 0, "branch_id": ctx["branch_id"],
            "credit_note_for": credit_note_for, "created_by": actor.user_id or None})
        dao.set_number(invoice_id, draft_number(invoice_id))
        for line, line_amount in zip(clean, result.lines):
            dao.insert_item({"invoice_id": invoice_id, "description": line["description"],
                             "quantity": line["quantity"], "unit_price": line["unit_price"], "total": line_amount,
                             "kind": line.get("kind") or "other", "credits": line.get("credits") or 0,
                             "discount": line.get("discount") or ZERO, "schedule_id": line.get("schedule_id")})
        audit.record(db, actor, "invoice_created", "invoice", invoice_id, now=now,
                     after={**_snapshot({"status": "draft", "total": result.total, "enrollment_id": enrollment_id}),
                            "lines": len(clean)},
                     details=f"{len(clean)} line(s), total {fmt(result.total)}")
        if issue:
            issue_invoice(db, actor, invoice_id, now=now, settings=settings, due_date=due_date)
    return invoice_id


def issue_invoice(db: Database, actor: Actor, invoice_id: int, *, now: datetime,
                  settings: Mapping[str, Any] | None, due_date: date | None = None) -> str:
    """A draft becomes sent: its number is taken from the year's counter in this transaction, the issue
    date is today, and the invoice-due reminders are queued. Returns the number. Issuing twice: 409."""
    dao = InvoiceDAO(db)
    with db.transaction():
        row = dao.lock(invoice_id)
        if row is None:
            raise NotFound("Invoice not found")
        if row["status"] != "draft":
            raise InvoiceLocked("This invoice is already issued.", field="status")
        if row["credit_note_for"] is None and not dao.items(invoice_id):
            raise ValidationFailed("Add at least one line before issuing.", field="lines")
        today = local_today(now, settings)
        due = due_date or row["due_date"]
        if due < today:
            due = today + timedelta(days=due_days(settings))
        number = format_number(today.year, dao.next_number(today.year))
        status = "paid" if row["credit_note_for"] is not None else "sent"
        dao.mark_issued(invoice_id, number=number, issue_date=today, due_date=due, status=status, now=now)
        audit.record(db, actor, "invoice_issued", "invoice", invoice_id, now=now,
                     before={"status": "draft", "invoice_number": row["invoice_number"]},
                     after={"status": status, "invoice_number": number, "due_date": due, "total": row["total"]},
                     details=f"{number}: total {fmt(row['total'])}, due {due.isoformat()}")
        if row["credit_note_for"] is None:
            _queue_reminders(db, invoice_id, number, row["total"], due, now, settings)
            recompute(db, invoice_id, now=now, actor=actor, settings=settings)
        else:
            recompute(db, row["credit_note_for"], now=now, actor=actor, settings=settings)
    return number


issue = issue_invoice  # the name used in finance_api.md


def _queue_reminders(db: Database, invoice_id: int, number: str, total: Decimal, due: date, now: datetime,
                     settings: Mapping[str, Any] | None) -> int:
    dao = InvoiceDAO(db)
    ctx = dao.find(invoice_id)
    if ctx is None or not ctx.get("student_user_id"):
        return 0
    today = local_today(now, settings)
    zone = _zone(settings)
    queued = 0
    seen: set[date] = set()
    for offset in reminder_offsets(settings):
        send_on = max(today, due - timedelta(days=offset))
        if send_on in seen:
            continue
        seen.add(send_on)
        local = datetime.combine(send_on, REMINDER_HOUR).replace(tzinfo=zone)
        send_at = max(now, local.astimezone(timezone.utc).replace(tzinfo=None))
        message = (f"Invoice {number} for {fmt(total)} is due on {due.day} {due.strftime('%b %Y')}. "
                   "You can view and pay it under My invoices.")
        if reminders.queue(db, related_type="invoice", related_id=invoice_id,
                           recipient_user_id=ctx["student_user_id"], channel=REMINDER_CHANNEL,
                           reminder_type=REMINDER_TYPE, message=message, send_at=send_at, now=now, zone=zone,
                           key=f"invoice:{invoice_id}:invoice-due:{offset}d:{due.isoformat()}") is None:
            continue
        queued += 1
    # the original e-mailed "Invoice <number> issued" at once: a transactional message (it reaches the
    # student in-app even with e-mail turned off), queued with the reminders, sent by the dispatcher
    reminders.queue(db, related_type="invoice", related_id=invoice_id, recipient_user_id=ctx["student_user_id"],
                    channel="email", reminder_type="Invoice issued", transactional=True, send_at=now, now=now,
                    key=f"invoice:{invoice_id}:issued", zone=zone,
                    message=f"Invoice {number} for {fmt(total)} is issued, due on {due.day} {due.strftime('%b %Y')}. "
                            "You can view and pay it under My invoices.")
    return queued


def _require_draft(row: Mapping[str, Any] | None, field: str = "lines") -> None:
    if row is None:
        raise NotFound("Invoice not found")
    if row["status"] == "void":
        raise InvoiceLocked("A void invoice cannot be edited.", field=field)
    if row["status"] != "draft":
        raise InvoiceLocked("An issued invoice cannot be edited: correct it with a credit note, or void it.",
                            field=field)


def add_line(db: Database, actor: Actor, invoice_id: int, line: Mapping[str, Any], *, now: datetime) -> int:
    """Append a line to a DRAFT (an issued invoice: 409 naming the rule). Returns the item id."""
    dao = InvoiceDAO(db)
    _require_draft(dao.amounts(invoice_id))  # the rule first: an issued invoice is refused whatever was typed
    (clean,) = clean_lines([line])
    with db.transaction():
        row = dao.lock(invoice_id)
        _require_draft(row)
        item_id = dao.insert_item({"invoice_id": invoice_id, "description": clean["description"],
                                   "quantity": clean["quantity"], "unit_price": clean["unit_price"],
                                   "total": totals([clean], tax_rate=0).lines[0], "kind": clean["kind"],
                                   "credits": clean["credits"], "discount": clean["discount"],
                                   "schedule_id": clean.get("schedule_id")})
        amounts = _recalculate_draft(dao, invoice_id, now)
        audit.record(db, actor, "invoice_line_added", "invoice", invoice_id, now=now,
                     after={"item_id": item_id, "description": clean["description"], "kind": clean["kind"],
                            "total": amounts["total"]})
    return item_id


def add_fee_line(db: Database, actor: Actor, *, enrollment_id: int, kind: str, description: str, amount: Any,
                 now: datetime, settings: Mapping[str, Any] | None, schedule_id: int | None = None) -> dict:
    """A fee (late cancellation, no-show, ...) on the enrolment's open draft, or on a new draft.
    Returns {"invoice_id", "item_id"}."""
    if kind not in KINDS:
        raise ValidationFailed("Choose one of the listed kinds.", field="kind")
    value = amount if isinstance(amount, Decimal) else parse_amount(amount, "amount", label="Fee")
    line = {"description": description, "quantity": 1, "unit_price": money(value), "kind": kind,
            "schedule_id": schedule_id}
    dao = InvoiceDAO(db)
    with db.transaction():
        draft = dao.open_draft(int(enrollment_id))
        if draft is None:
            invoice_id = create_invoice(db, actor, enrollment_id=enrollment_id, lines=[line], issue=False,
                                        now=now, settings=settings)
            item_id = dao.items(invoice_id)[-1]["id"]
        else:
            invoice_id = int(draft["id"])
            item_id = add_line(db, actor, invoice_id, line, now=now)
        audit.record(db, actor, "invoice_fee_added", "invoice", invoice_id, now=now,
                     after={"item_id": item_id, "kind": kind, "amount": money(value), "schedule_id": schedule_id},
                     details=f"{KIND_LABELS.get(kind, kind)} {fmt(value)}")
    return {"invoice_id": invoice_id, "item_id": item_id}


def waive_fee(db: Database, actor: Actor, item_id: int, reason: Any, *, now: datetime) -> None:
    """Waive a line of a DRAFT (its amount becomes 0; the line stays, with who, when and why). A reason
    is required (422); an issued invoice's line: 409 (credit note instead). Audited."""
    text = _text(reason, "reason", "A reason", REASON_MAX, required=True)
    dao = InvoiceDAO(db)
    with db.transaction():
        item = dao.item(int(item_id))
        if item is None:
            raise NotFound("Invoice line not found")
        row = dao.lock(item["invoice_id"])
        _require_draft(row, field="reason")
        if item["waived_at"] is not None or not dao.waive_item(item["id"], by=actor.user_id or None,
                                                                reason=text, now=now):
            raise Conflict("This line is already waived.", field="reason")
        amounts = _recalculate_draft(dao, item["invoice_id"], now)
        audit.record(db, actor, "invoice_fee_waived", "invoice", item["invoice_id"], now=now,
                     before={"item_id": item["id"], "total": item["total"]},
                     after={"item_id": item["id"], "total": ZERO, "invoice_total": amounts["total"]},
                     details=f"{item['description'][:80]}: {text}"[:255])


def void(db: Database, actor: Actor, invoice_id: int, reason: Any, *, now: datetime) -> None:
    """Void an invoice (the row stays, with when and why; never deleted). A reason is required. An
    invoice with payments on it cannot be voided (refund first, or issue a credit note)."""
    text = _text(reason, "reason", "A reason", REASON_MAX, required=True)
    dao = InvoiceDAO(db)
    with db.transaction():
        row = dao.lock(invoice_id)
        if row is None:
            raise NotFound("Invoice not found")
        if row["status"] == "void":
            raise Conflict("This invoice is already void.", field="status")
        amounts = dao.amounts(invoice_id)
        if amounts["paid"] != 0:
            raise Conflict("An invoice with payments cannot be voided: refund them or issue a credit note.",
                           field="status")
        if amounts["credited"] != 0:
            raise Conflict("This invoice has credit notes: void them first, or credit the rest.", field="status")
        dao.mark_void(invoice_id, text, now)
        withdrawn = dao.withdraw_reminders(invoice_id, now)
        audit.record(db, actor, "invoice_voided", "invoice", invoice_id, now=now,
                     before={"status": row["status"]}, after={"status": "void", "void_reason": text},
                     details=f"{row['invoice_number']}: {text}; reminders withdrawn: {withdrawn}"[:255])
        if row["credit_note_for"] is not None:
            recompute(db, row["credit_note_for"], now=now, actor=actor)


def credit_note(db: Database, actor: Actor, invoice_id: int, *, reason: Any, amount: Any = None,
                now: datetime, settings: Mapping[str, Any] | None) -> int:
    """Issue a credit note against an issued invoice: a negative invoice with its own number that
    reduces what the original owes. ``amount`` (tax inclusive, at most what is left to credit) defaults
    to the whole remaining total. What was already paid beyond the new amount owed becomes the student's
    account credit (later invoices use it), in the same transaction. Returns the credit note's id."""
    text = _text(reason, "reason", "A reason", REASON_MAX, required=True)
    dao = InvoiceDAO(db)
    with db.transaction():
        row = dao.lock(invoice_id)
        if row is None:
            raise NotFound("Invoice not found")
        if row["status"] in ("draft", "void") or row["credit_note_for"] is not None:
            raise Conflict("Only an issued invoice can be credited.", field="amount")
        amounts = dao.amounts(invoice_id)
        remaining = amounts["total"] - amounts["credited"]
        if remaining <= 0:
            raise Conflict("This invoice is fully credited already.", field="amount")
        value = remaining if amount in (None, "") else parse_amount(amount, "amount", label="Credit amount")
        if value > remaining:
            raise ValidationFailed(f"The credit can be at most {fmt(remaining)}.", field="amount")
        rate, inclusive = row["tax_rate"], True
        line = {"description": f"Credit for {row['invoice_number']}: {text}"[:DESCRIPTION_MAX], "quantity": 1,
                "unit_price": -value, "kind": "credit", "credits": 0, "discount": ZERO}
        credit_id = create_invoice(db, actor, enrollment_id=row["enrollment_id"], lines=[line], issue=True,
                                   notes=text, now=now, settings=settings, tax_rate=rate,
                                   tax_inclusive=inclusive, credit_note_for=invoice_id)
        # What the student already paid beyond what is now owed is theirs: account credit later invoices use
        after = dao.amounts(invoice_id)
        excess = min(value, after["paid"] - (after["total"] - after["credited"]))
        if excess > 0:  # moved off the invoice (a refund row) onto the student's account credit
            student_id = dao.enrollment_context(row["enrollment_id"])["student_id"]
            pays = PaymentDAO(db)
            paid_rows = [p for p in pays.for_invoice(invoice_id) if (p.get("kind") or "payment") == "payment"]
            moved = pays.insert({
                "invoice_id": invoice_id, "amount": -excess, "payment_date": now.date(), "method": "account_credit",
                "reference": "Account credit", "notes": None, "recorded_by": actor.user_id or None, "kind": "refund",
                "refund_of": paid_rows[-1]["id"] if paid_rows else None,
                "reason": f"Credit note on {row['invoice_number']}: moved to account credit"[:255],
                "created_at": now, "updated_at": now})
            pays.add_credit({"student_id": student_id, "amount": excess, "source": "overpayment",
                             "invoice_id": invoice_id, "payment_id": moved, "created_by": actor.user_id or None,
                             "notes": f"Credit note on {row['invoice_number']} after payment"[:255],
                             "created_at": now})
        audit.record(db, actor, "invoice_credited", "invoice", invoice_id, now=now,
                     after={"credit_note_id": credit_id, "amount": value, "account_credit": excess if excess > 0 else None},
                     details=f"{fmt(value)}: {text}"[:255])
    return credit_id


def recompute(db: Database, invoice_id: int, *, now: datetime, actor: Actor | None = None,
              settings: Mapping[str, Any] | None = None) -> dict:
    """Derive the status from the money: paid = SUM(payments) (refunds negative), credited = issued
    credit notes, balance = total - paid - credited; balance <= 0 -> paid; something paid or credited ->
    partial; else sent; unpaid past the due date -> overdue. Draft and void stay. Call inside the
    transaction that changed the payments. Becoming paid withdraws pending reminders and adds the lines'
    credits to the package ledger. Returns {"total", "paid", "balance", "status"}."""
    dao = InvoiceDAO(db)
    row = dao.amounts(invoice_id)
    if row is None:
        raise NotFound("Invoice not found")
    paid, bal = row["paid"], row["total"] - row["paid"] - row["credited"]
    status = row["status"]
    if status in ("draft", "void") or row["credit_note_for"] is not None:
        return {"total": row["total"], "paid": paid, "balance": bal, "status": status}
    today = local_today(now, settings)
    if bal <= 0:
        new = "paid"
    elif row["due_date"] < today:
        new = "overdue"
    elif paid > 0 or row["credited"] > 0:
        new = "partial"
    else:
        new = "sent"
    if new != status:
        with db.transaction():
            dao.set_status(invoice_id, new, now)
            withdrawn = dao.withdraw_reminders(invoice_id, now) if new == "paid" else 0
            audit.record(db, actor, "invoice_status_changed", "invoice", invoice_id, now=now,
                         before={"status": status}, after={"status": new, "balance": bal},
                         details=f"{status} -> {new}; reminders withdrawn: {withdrawn}")
            if new == "paid":
                _on_paid(db, actor, invoice_id, now)
    return {"total": row["total"], "paid": paid, "balance": bal, "status": new}


def _on_paid(db: Database, actor: Actor | None, invoice_id: int, now: datetime) -> None:
    """Lines with credits > 0 add lessons to the enrolment's package, once per line (the ledger's
    source_id is the line; an invoice paid, refunded and paid again does not add them twice)."""
    lines = [it for it in InvoiceDAO(db).items(invoice_id) if int(it.get("credits") or 0) > 0
             and it.get("waived_at") is None]
    if not lines:
        return
    try:
        from app.services import packages  # written by the credits helper (issue 9, item 4)
    except ImportError:  # pragma: no cover - packages not installed yet
        return
    enrollment_id = InvoiceDAO(db).amounts(invoice_id)["enrollment_id"]
    done = InvoiceDAO(db).lines_with_credits_added([line["id"] for line in lines])
    for line in lines:
        if line["id"] in done:
            continue
        packages.purchase(db, actor, enrollment_id, int(line["credits"]), now=now, source="invoice_line",
                          source_id=line["id"])


def mark_overdue(db: Database, *, now: datetime, settings: Mapping[str, Any] | None, actor: Actor | None = None,
                 batch: int = 500) -> int:
    """The nightly job: every sent/partial invoice past its due date becomes overdue (each in its own
    short transaction, re-checked under the row lock). Returns how many changed."""
    dao = InvoiceDAO(db)
    today = local_today(now, settings)
    changed = 0
    seen: set[int] = set()
    while True:
        ids = [i for i in dao.overdue_candidates(today, batch) if i not in seen]
        if not ids:
            return changed
        for invoice_id in ids:
            seen.add(invoice_id)
            with db.transaction():
                if dao.lock(invoice_id) is None:
                    continue
                if recompute(db, invoice_id, now=now, actor=actor, settings=settings)["status"] == "overdue":
                    changed += 1


# ------------------------------------------------------------------------------------------ statement

def statement(db: Database, actor: Actor, student_id: int, start: date, end: date) -> dict:
    """A student's account for [start, end]: the opening balance (issued invoices and credit notes minus
    payments before ``start``), each invoice, credit note and payment in date order with the running
    balance, and the closing balance. Office (own branch) or the student themself; else 404."""
    student = InvoiceDAO(db).student_brief(student_id)
    if student is None:
        raise NotFound("Student not found")
    if actor.role == "student":
        if actor.student_id != student_id:
            raise NotFound("Student not found")
    elif not actor.is_office or (actor.branch_filter() is not None and student["branch_id"] != actor.branch_filter()):
        raise NotFound("Student not found")
    if end < start:
        start, end = end, start
    data = InvoiceDAO(db).statement_entries(student_id, start, end)
    opening = data["opening_invoiced"] - data["opening_paid"]
    running = opening
    rows = []
    invoiced = paid = credited = ZERO
    for row in data["rows"]:
        if row["entry"] == "invoice" and row["credit_note_for"] is not None:
            kind, charge, credit = "credit", ZERO, -row["amount"]
            credited += credit
        elif row["entry"] == "invoice":
            kind, charge, credit = "invoice", row["amount"], ZERO
            invoiced += charge
        else:
            kind, charge, credit = ("refund", -row["amount"], ZERO) if row["amount"] < 0 else \
                ("payment", ZERO, row["amount"])
            paid += row["amount"]
        running = running + charge - credit
        rows.append({**row, "kind": kind, "charge": charge, "credit": credit, "balance": running})
    return {"student": student, "start": start, "end": end, "opening": opening, "rows": rows,
            "closing": running, "invoiced": invoiced, "paid": paid, "credited": credited}


# ------------------------------------------------------------------------------------------ PDF

_PDF_REPLACE = {"\u2014": "-", "\u2013": "-", "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
                "\u2026": "...", "\u00a0": " "}


def _pdf_text(value: Any) -> str:
    text = "" if value is None else str(value)
    for bad, good in _PDF_REPLACE.items():
        text = text.replace(bad, good)
    return text.encode("latin-1", "replace").decode("latin-1")


def _day(value: Any) -> str:
    return f"{value.day} {value.strftime('%b %Y')}" if isinstance(value, date) else _pdf_text(value)


def _pdf_base(settings: Mapping[str, Any] | None, title: str, branch: Mapping[str, Any]):
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creator(_pdf_text((settings or {}).get("APP_NAME") or "Origin Driving School"))
    pdf.set_title(_pdf_text(title))
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 8, _pdf_text((settings or {}).get("APP_NAME") or "Origin Driving School"), new_x="LMARGIN",
             new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    abn = (settings or {}).get("SCHOOL_ABN") or "not set"
    pdf.cell(0, 5, _pdf_text(f"ABN: {abn}"), new_x="LMARGIN", new_y="NEXT")
    for line in (branch.get("branch_name"), branch.get("branch_address"),
                 " | ".join(x for x in (branch.get("branch_phone"), branch.get("branch_email")) if x)):
        if line:
            pdf.cell(0, 5, _pdf_text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _pdf_text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    return pdf


def render_invoice_pdf(invoice: Mapping[str, Any], settings: Mapping[str, Any] | None) -> bytes:
    """The invoice as a PDF (fpdf2, built-in core fonts, no network): school, ABN, branch, billing,
    lines, subtotal, discount, tax (added or included, at the rate), total, paid and balance."""
    is_credit = invoice.get("credit_note_for") is not None
    kind = "Credit note " if is_credit else ("Draft invoice " if invoice["status"] == "draft" else "Tax invoice ")
    title = kind + str(invoice["invoice_number"])
    pdf = _pdf_base(settings, title, invoice)
    status = STATUS_LABELS.get(invoice["status"], invoice["status"])
    for label, value in (("Billed to", f"{invoice['student_first_name']} {invoice['student_last_name']}"),
                         ("E-mail", invoice.get("student_email")), ("Course", invoice.get("course_title")),
                         ("Issued", _day(invoice["issue_date"])), ("Due", _day(invoice["due_date"])),
                         ("Status", status)):
        pdf.cell(30, 6, _pdf_text(label))
        pdf.cell(0, 6, _pdf_text(value), new_x="LMARGIN", new_y="NEXT")
    if is_credit and invoice.get("credit_note_for_number"):
        pdf.cell(30, 6, "Credits")
        pdf.cell(0, 6, _pdf_text(invoice["credit_note_for_number"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    widths = (95, 20, 35, 40)
    pdf.set_font("Helvetica", "B", 10)
    for width, head, align in zip(widths, ("Description", "Qty", "Unit price", "Amount"), "LRRR"):
        pdf.cell(width, 7, head, border="B", align=align)
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    for item in invoice["items"]:
        description = item["description"] + (" (waived: " + (item.get("waive_reason") or "") + ")"
                                             if item.get("waived_at") else "")
        pdf.cell(widths[0], 7, _pdf_text(description[:60]))
        pdf.cell(widths[1], 7, str(item["quantity"]), align="R")
        pdf.cell(widths[2], 7, fmt(item["unit_price"]), align="R")
        pdf.cell(widths[3], 7, fmt(item["total"]), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    rate = f"{invoice['tax_rate'].normalize():f}"
    tax_label = f"GST {rate}% included" if invoice.get("tax_inclusive") else f"GST {rate}%"
    rows = [("Subtotal", invoice["subtotal"])]
    if invoice.get("discount_amount"):
        rows.append(("Discount", -invoice["discount_amount"]))
    rows += [(tax_label, invoice["tax_amount"]), ("Total (AUD)", invoice["total"])]
    if not is_credit:
        rows += [("Paid", invoice.get("paid", ZERO))]
        if invoice.get("credited"):
            rows += [("Credited", invoice["credited"])]
        rows += [("Balance due", invoice.get("balance_due", invoice["total"]))]
    for label, value in rows:
        pdf.set_font("Helvetica", "B" if label in ("Total (AUD)", "Balance due") else "", 10)
        pdf.cell(sum(widths[:3]), 7, _pdf_text(label), align="R")
        pdf.cell(widths[3], 7, fmt(value), align="R", new_x="LMARGIN", new_y="NEXT")
    if invoice.get("notes"):
        pdf.ln(3)
        pdf.set_font("Helvetica", "", 9)
        pdf.multi_cell(0, 5, _pdf_text(invoice["notes"]))
    if invoice["status"] == "void":
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 7, _pdf_text(f"VOID: {invoice.get('void_reason') or ''}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def render_statement_pdf(data: Mapping[str, Any], settings: Mapping[str, Any] | None) -> bytes:
    student = data["student"]
    pdf = _pdf_base(settings, "Statement of account", student)
    pdf.cell(0, 6, _pdf_text(f"{student['first_name']} {student['last_name']}  ({student.get('email') or ''})"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 6, _pdf_text(f"{_day(data['start'])} to {_day(data['end'])}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    widths = (28, 62, 30, 30, 40)
    pdf.set_font("Helvetica", "B", 10)
    for width, head, align in zip(widths, ("Date", "Item", "Charge", "Credit", "Balance"), "LLRRR"):
        pdf.cell(width, 7, head, border="B", align=align)
    pdf.ln()
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(sum(widths[:4]), 7, "Opening balance")
    pdf.cell(widths[4], 7, fmt(data["opening"]), align="R", new_x="LMARGIN", new_y="NEXT")
    labels = {"invoice": "Invoice", "credit": "Credit note", "payment": "Payment", "refund": "Refund"}
    for row in data["rows"]:
        pdf.cell(widths[0], 7, _day(row["day"]))
        pdf.cell(widths[1], 7, _pdf_text(f"{labels[row['kind']]} {row['reference']}"))
        pdf.cell(widths[2], 7, fmt(row["charge"]) if row["charge"] else "", align="R")
        pdf.cell(widths[3], 7, fmt(row["credit"]) if row["credit"] else "", align="R")
        pdf.cell(widths[4], 7, fmt(row["balance"]), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(sum(widths[:4]), 7, "Closing balance", border="T")
    pdf.cell(widths[4], 7, fmt(data["closing"]), align="R", border="T", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
