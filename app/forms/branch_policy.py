"""The branch booking-policy form (blueprints/branch_policy.py). The page speaks hours and weeks, the
policy (services/policy.py) stores minutes and days: this module converts both ways, checks each value in
the page's units (a 422 names the page's field) and passes on only the fields whose typed text changed, so
a stored value that is not a whole number of the page's unit survives an unrelated edit. policy.update
validates everything again and audits the change."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import has_request_context, request
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField

from app.core.errors import ValidationFailed
from app.services.policy import GRIDS, Policy

# page field -> (policy field, factor to the stored unit, lowest, highest, whole numbers only, message)
FIELDS = {
    "min_notice_hours": ("min_notice_minutes", 60, 0, 168, False,
                         "Minimum notice must be 0 to 168 hours (7 days), in steps of a minute."),
    "horizon_weeks": ("horizon_days", 7, 1, 52, True, "The booking horizon must be 1 to 52 whole weeks."),
    "max_lessons_per_week": ("max_lessons_per_week", 1, 1, 21, True,
                             "The weekly limit must be 1 to 21 lessons."),
    "cancel_cutoff_hours": ("cancel_cutoff_minutes", 60, 0, 168, False,
                            "The cancellation cut-off must be 0 to 168 hours (7 days), in steps of a minute."),
    "buffer_minutes": ("buffer_minutes", 1, 0, 120, True, "The buffer must be 0 to 120 minutes."),
}
BY_POLICY_FIELD = {spec[0]: name for name, spec in FIELDS.items()}
FEE_FIELDS = ("late_cancel_fee", "no_show_fee")  # money, blank = no fee (policy.validate checks them)
NO_SHOW_CHOICES = [("1", "uses a lesson credit"), ("0", "does not use a lesson credit")]
_MONEY = {"type": "number", "step": "0.01", "min": "0", "inputmode": "decimal"}
_MAX_TEXT = 12


def _text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class BranchPolicyForm(FlaskForm):
    min_notice_hours = StringField("Minimum notice (hours)", filters=[_text])
    horizon_weeks = StringField("Booking horizon (weeks)", filters=[_text])
    max_lessons_per_week = StringField("Lessons per student per week (at most)", filters=[_text])
    cancel_cutoff_hours = StringField("Cancellation cut-off (hours before the lesson)", filters=[_text])
    students_any_instructor = BooleanField("Students may book any instructor of the branch")
    slot_grid_minutes = SelectField("Slot grid", choices=[(str(g), f"{g} minutes") for g in GRIDS],
                                    validate_choice=False)
    buffer_minutes = StringField("Buffer between lessons (minutes)", filters=[_text])
    late_cancel_fee = StringField("Late-cancellation fee ($)", filters=[_text], render_kw=_MONEY)
    no_show_fee = StringField("No-show fee ($)", filters=[_text], render_kw=_MONEY)
    no_show_consumes = SelectField("A no-show", choices=NO_SHOW_CHOICES, validate_choice=False)

    def changes(self, current: Policy) -> dict[str, Any]:
        """The policy fields whose typed text differs from what the page showed, converted to the stored
        units; ValidationFailed (422) naming every page field that is not a number in its range."""
        shown = displayed(current)
        errors: dict[str, list[str]] = {}
        out: dict[str, Any] = {}
        for name, (target, factor, low, high, whole, message) in FIELDS.items():
            raw = self[name].data
            if raw == shown[name]:
                continue
            value = _number(raw)
            if value is None or not low <= value <= high or (whole and value != value.to_integral_value()):
                errors[name] = [message]
                continue
            stored = value * factor
            if stored != stored.to_integral_value():
                errors[name] = [message]
                continue
            out[target] = int(stored)
        grid = self.slot_grid_minutes.data
        if grid != shown["slot_grid_minutes"]:
            if grid not in {str(g) for g in GRIDS}:
                errors["slot_grid_minutes"] = ["Choose 5, 10, 15, 30 or 60 minutes."]
            else:
                out["slot_grid_minutes"] = int(grid)
        flag = bool(self.students_any_instructor.data)
        if flag != current.students_any_instructor:
            out["students_any_instructor"] = flag
        posted = request.form if has_request_context() else {}
        for name in FEE_FIELDS:  # a fee left out of the post (an older page) keeps its value
            raw = self[name].data
            if name not in posted or (raw or "") == shown[name]:
                continue
            if raw and (not isinstance(raw, str) or len(raw) > _MAX_TEXT):
                errors[name] = ["A fee must be an amount from 0.01 to 10,000.00 with at most two decimals,"
                                " or blank for none."]
                continue
            out[name] = raw or None
        consumes = self.no_show_consumes.data
        if "no_show_consumes" in posted and consumes != shown["no_show_consumes"]:
            if consumes not in ("0", "1"):
                errors["no_show_consumes"] = ["Choose whether a no-show uses a lesson credit."]
            else:
                out["no_show_consumes"] = consumes == "1"
        if errors:
            field, messages = next(iter(errors.items()))
            failure = ValidationFailed(messages[0], errors=errors)
            failure.field = field
            raise failure
        return out


def displayed(policy: Policy) -> dict[str, Any]:
    """The form's values for a stored policy, in the page's units (non-whole values with up to 2 decimals)."""
    out: dict[str, Any] = {}
    for name, (target, factor, *_rest) in FIELDS.items():
        out[name] = _plain(Decimal(getattr(policy, target)) / factor)
    out["slot_grid_minutes"] = str(policy.slot_grid_minutes)
    out["students_any_instructor"] = policy.students_any_instructor
    for name in FEE_FIELDS:
        fee = getattr(policy, name)
        out[name] = "" if fee is None else f"{fee:.2f}"
    out["no_show_consumes"] = "1" if policy.no_show_consumes else "0"
    return out


def service_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """A policy.update error keyed by stored fields, re-keyed by the page's fields (the page's wording)."""
    out: dict[str, list[str]] = {}
    for name, messages in errors.items():
        page_name = BY_POLICY_FIELD.get(name, name)
        out[page_name] = [FIELDS[page_name][5]] if page_name in FIELDS else messages
    return out


def _number(raw: Any) -> Decimal | None:
    if not isinstance(raw, str) or not raw or len(raw) > _MAX_TEXT or not raw.isascii():
        return None
    if not all(ch.isdigit() or ch == "." for ch in raw) or raw.count(".") > 1 or raw in (".",):
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def _plain(value: Decimal) -> str:
    if value == value.to_integral_value():
        return str(int(value))
    return f"{value.quantize(Decimal('0.01')):f}".rstrip("0").rstrip(".")
