"""Glue between service errors and Flask-WTF forms (so every form shows errors inline), and the one set of
field filters, select coercions and validators every form module uses (field rules only).

Values follow app.core.params: ids are ASCII digits in 1..MAX_ID, dates lie between 1900 and 2100.
"""
from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import Regexp, StopValidation, ValidationError

from app.core.errors import AppError
from app.core.params import MAX_DATE, MIN_DATE, in_date_range, parse_id, parse_int

GENERAL = "_general"


def apply_errors(form: FlaskForm, exc: AppError) -> None:
    """Attach a service error to the named field(s); anything unnamed becomes a general form error."""
    errors = exc.errors or {GENERAL: [exc.message]}
    for name, messages in errors.items():
        field = getattr(form, name, None) if name else None
        if field is not None and hasattr(field, "errors"):
            if isinstance(field.errors, tuple):
                field.errors = list(field.errors)
            field.errors.extend(messages)
        else:
            form.form_errors.extend(messages)


def blank_to_none(value):
    """WTForms filter: empty strings become None (optional dates/numbers stay NULL, not '')."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def strip(value):
    """WTForms filter for required text: surrounding spaces removed ('' stays '', so DataRequired names it)."""
    return value.strip() if isinstance(value, str) else value


# -- select coercions (WTForms calls them on the posted value and on every choice's value) ------------------
def coerce_id(value) -> int:
    """A record id from a select: an int, or ASCII digits in 1..MAX_ID (app.core.params.parse_id).

    Anything else (``"abc"``, ``"-1"``, ``"٣"``, ``"1e3"``, an id past INT UNSIGNED) raises ValueError, so
    WTForms refuses the field (422) instead of guessing."""
    parsed = parse_id(value)
    if parsed is None:
        raise ValueError("not a record id")
    return parsed


def optional_int(value) -> int | None:
    """Select coercion for an optional id: blank (``""``/None) is no choice (None), otherwise ``coerce_id``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return coerce_id(value)


def optional_str(value) -> str | None:
    """Select coercion for optional text choices: blank is None."""
    if value is None or value == "":
        return None
    return str(value)


class WholeNumberField(IntegerField):
    """IntegerField that takes ASCII digits only (app.core.params.parse_int), as every number from outside:
    WTForms' own int() would take "٣", "1_000" or "+5". Bounds come from a NumberRange validator."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = parse_int(valuelist[0], -10**18, 10**18)
        if self.data is None:
            raise ValueError("Enter a whole number (digits 0-9).")

    def pre_validate(self, form):
        """Something typed that is not a number: that one message, not the range's too (blank is left to
        Optional / InputRequired)."""
        if self.process_errors and self.raw_data and str(self.raw_data[0]).strip():
            raise StopValidation()


def branch_choices(field, options: list[dict], blank: str = "Choose a branch…") -> None:
    """Fill a branch select (coerce=optional_int) from BranchDAO.options(): a blank first, then id/name pairs."""
    field.choices = [("", blank)] + [(b["id"], b["name"]) for b in options]


# The formats a datetime-local input may post (with or without seconds; a space for the "T" too).
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


# -- validators ---------------------------------------------------------------------------------------
PHONE = Regexp(r"^[0-9+()./ -]*$", message="Use digits, spaces and + ( ) - . / only.")
DATE_RANGE_MESSAGE = f"Enter a date between {MIN_DATE.year} and {MAX_DATE.year}."


def plausible_date(form, field) -> None:
    """Dates and datetimes between 1900-01-01 and 2100-12-31 (app.core.params): catches years like 20226."""
    if field.data is not None and not in_date_range(field.data):
        raise ValidationError(DATE_RANGE_MESSAGE)


MAX_MONEY = Decimal("99999999.99")  # DECIMAL(10,2), the money columns


class MoneyLike:
    """A finite Decimal from ``minimum`` to ``maximum`` with at most ``places`` decimals.

    Stops NaN/Infinity and out-of-range values before anything compares them. ``message`` (one wording
    for both rules) replaces the two default messages."""

    def __init__(self, minimum: Decimal = Decimal("0"), maximum: Decimal = MAX_MONEY, places: int = 2,
                 message: str | None = None):
        self.minimum, self.maximum, self.places = minimum, maximum, places
        self.range_message = message or f"Enter an amount from {minimum:,.{places}f} to {maximum:,.{places}f}."
        self.places_message = message or f"Use at most {places} decimals (cents)."

    def __call__(self, form, field) -> None:
        value = field.data
        if value is None:
            return
        if not isinstance(value, Decimal) or not value.is_finite() or not self.minimum <= value <= self.maximum:
            raise StopValidation(self.range_message)
        if value != value.quantize(Decimal(1).scaleb(-self.places)):
            raise StopValidation(self.places_message)


money_amount = MoneyLike()  # a money column: 0.00 to 99,999,999.99, cents at most
