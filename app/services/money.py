"""Money: exact Decimal arithmetic, rounded half-up to the cent (docs/finance.md states the rule).

The rule, in order:
1. each line: ``line total = round(quantity x unit price - line discount)``;
2. ``subtotal = sum of the line totals`` (already in cents, so the sum is exact);
3. ``net = subtotal - invoice discount`` (the discount is in cents, never more than the subtotal);
4. tax *added* (prices exclude GST): ``tax = round(net x rate / 100)``, ``total = net + tax``;
   tax *included* (prices include GST): ``tax = round(net x rate / (100 + rate))``, ``total = net``.
``round`` is always ROUND_HALF_UP to two decimal places, so ``total = subtotal - discount + tax``
(added) holds to the cent for every input, and the tax included is stated on the invoice.

Imports nothing from Flask; raises :class:`ValidationFailed` (422, naming the field) on bad input.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from app.core.errors import ValidationFailed

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("99999999.99")
DEFAULT_TAX_RATE = Decimal("10.00")
MAX_TAX_RATE = Decimal("100.00")


def money(value: Any) -> Decimal:
    """``value`` as a Decimal rounded half-up to the cent (None is 0.00; floats go through repr)."""
    if value is None or value == "":
        return ZERO
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


_AMOUNT_TEXT = re.compile(r"[+-]?(?:[0-9]{1,12}(?:\.[0-9]+)?|\.[0-9]+)", re.ASCII)


def _decimal(raw: Any, field_name: str, label: str) -> Decimal:
    text = raw if isinstance(raw, (int, Decimal)) and not isinstance(raw, bool) else str(raw or "").strip()
    if isinstance(text, str):
        text = text.replace(",", "").removeprefix("$").strip()
        if not text:
            raise ValidationFailed(f"{label} is required.", field=field_name)
        if not _AMOUNT_TEXT.fullmatch(text):  # ASCII digits only: no "1e3", no "٣", no "²"
            raise ValidationFailed(f"{label} must be an amount in dollars and cents, e.g. 120.50.", field=field_name)
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{label} must be an amount in dollars and cents, e.g. 120.50.",
                               field=field_name) from None
    if not value.is_finite():
        raise ValidationFailed(f"{label} must be an amount in dollars and cents, e.g. 120.50.", field=field_name)
    return value


def parse_amount(raw: Any, field: str = "amount", *, label: str | None = None, allow_zero: bool = False) -> Decimal:
    """A positive amount with at most two decimals (e.g. "120.5" -> 120.50). Zero, negative,
    non-numeric, NaN/infinity, three decimals or more than 99,999,999.99 are refused (422 naming
    ``field``). ``allow_zero`` admits 0.00 (a free line)."""
    label = label or field.replace("_", " ").capitalize()
    value = _decimal(raw, field, label)
    if value.as_tuple().exponent < -2:
        raise ValidationFailed(f"{label} can have at most two decimals (cents).", field=field)
    if value < 0:
        raise ValidationFailed(f"{label} must be more than zero.", field=field)
    if value == 0 and not allow_zero:
        raise ValidationFailed(f"{label} must be more than zero.", field=field)
    if value > MAX_AMOUNT:
        raise ValidationFailed(f"{label} must be at most 99,999,999.99.", field=field)
    return value.quantize(CENT)


def parse_tax_rate(raw: Any, field: str = "tax_rate") -> Decimal:
    """A tax rate in per cent, 0 to 100, at most two decimals (blank = the default 10 %)."""
    if raw is None or str(raw).strip() == "":
        return DEFAULT_TAX_RATE
    value = _decimal(raw, field, "Tax rate")
    if value.as_tuple().exponent < -2:
        raise ValidationFailed("Tax rate can have at most two decimal places.", field=field)
    if value < 0 or value > MAX_TAX_RATE:
        raise ValidationFailed("Tax rate must be between 0 and 100 per cent.", field=field)
    return value.quantize(CENT)


def tax_rate_from(settings: Mapping[str, Any] | None) -> Decimal:
    """The configured GST_RATE (per cent), or the original's 10 %."""
    raw = (settings or {}).get("GST_RATE", DEFAULT_TAX_RATE)
    try:
        return parse_tax_rate(raw)
    except ValidationFailed:
        return DEFAULT_TAX_RATE


def line_total(quantity: int, unit_price: Decimal, discount: Decimal = ZERO) -> Decimal:
    """One line: quantity x unit price less the line's discount, rounded half-up to the cent."""
    return money(Decimal(int(quantity)) * Decimal(unit_price) - Decimal(discount or 0))


@dataclass(frozen=True)
class Totals:
    lines: tuple[Decimal, ...]
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    tax_rate: Decimal
    tax_inclusive: bool
    net: Decimal = field(default=ZERO)


def totals(lines: Iterable[Mapping[str, Any]], *, discount: Any = ZERO, tax_rate: Any = DEFAULT_TAX_RATE,
           tax_inclusive: bool = False) -> Totals:
    """The invoice arithmetic of the module docstring. ``lines``: mappings with quantity, unit_price
    and optionally discount (a waived line counts as zero: pass ``waived`` truthy)."""
    rate = Decimal(tax_rate)
    per_line = tuple(
        ZERO if line.get("waived") else line_total(line["quantity"], line["unit_price"], line.get("discount") or ZERO)
        for line in lines)
    subtotal = money(sum(per_line, ZERO))
    disc = money(discount)
    net = subtotal - disc
    if tax_inclusive:
        tax = money(net * rate / (Decimal(100) + rate))
        total = net
    else:
        tax = money(net * rate / Decimal(100))
        total = net + tax
    return Totals(lines=per_line, subtotal=subtotal, discount=disc, tax=tax, total=money(total),
                  tax_rate=money(rate), tax_inclusive=bool(tax_inclusive), net=money(net))


def fmt(value: Any) -> str:
    """"1,234.50" (no currency sign)."""
    return f"{money(value):,.2f}"
