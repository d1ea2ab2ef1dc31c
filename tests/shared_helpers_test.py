"""The shared helpers every module copies: form filters, select coercions and validators (app/core/forms.py),
the sort-order builder and LIKE escaping (app/dao/base.py).

Form rules are checked through real WTForms fields; the LIKE escaping runs real queries on both databases.
"""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from datetime import date, datetime
from decimal import Decimal

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import DateField, DateTimeLocalField, DecimalField, SelectField, StringField

from app.core import forms as shared
from app.core.pagination import ListQuery
from app.core.params import MAX_ID
from app.dao.base import BaseDAO, escape_like, like_pattern
from app.dao.branch import BranchDAO
from app.dao.staff import SORTS as STAFF_SORTS
from app.dao.student import SORTS as STUDENT_SORTS
from app.forms.branches import BranchForm
from app.forms.courses import CourseForm
from app.forms.fleet import ServiceLogForm, VehicleForm
from app.forms.instructors import InstructorForm, UnavailabilityForm
from app.forms.staff import StaffForm
from app.forms.students import StudentForm
from tests import factories as f

NOT_ASCII_IDS = ["١", "٣", "²", "１", "1e3", "-1", "0", "+5", "1_000", "3.0", "abc", str(MAX_ID + 1), "\u202e7"]


@pytest.fixture
def form_app():
    app = Flask(__name__)
    app.config.update(SECRET_KEY="x" * 40, WTF_CSRF_ENABLED=False)
    with app.test_request_context(method="POST"):
        yield app


def _post(form_class, **data):
    """A form bound to posted data (lists post several values), validated."""
    formdata = MultiDict()
    for name, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            formdata.add(name, item)
    form = form_class(formdata=formdata)
    if hasattr(form, "branch_id"):
        shared.branch_choices(form.branch_id, [{"id": 1, "name": "CBD"}])
    form.validate()
    return form


# -- select coercions: ASCII digits only -------------------------------------------------------------
@pytest.mark.parametrize("raw", NOT_ASCII_IDS)
def test_id_coercions_refuse_anything_but_ascii_digit_ids(raw):
    with pytest.raises(ValueError):
        shared.coerce_id(raw)
    with pytest.raises(ValueError):
        shared.optional_int(raw)


def test_id_coercions_accept_ids_and_blank():
    assert shared.optional_int("") is None and shared.optional_int(None) is None and shared.optional_int("  ") is None
    assert shared.optional_int("12") == 12 and shared.optional_int(" 7 ") == 7 and shared.optional_int(5) == 5
    assert shared.coerce_id(str(MAX_ID)) == MAX_ID
    for bad in (True, 0, MAX_ID + 1):
        with pytest.raises(ValueError):
            shared.coerce_id(bad)


@pytest.mark.parametrize("raw", ["١", "٣", "²"])
def test_branch_selects_refuse_unicode_digits(form_app, raw):
    """str.isdigit() and int() take "١" for 1: every branch select must refuse it, not pick branch 1."""
    branches = [{"id": 1, "name": "CBD"}, {"id": 3, "name": "North"}, {"id": 2, "name": "Bayside"}]
    for form_class in (StudentForm, StaffForm, InstructorForm, VehicleForm):
        form = form_class(formdata=MultiDict({"branch_id": raw}))
        shared.branch_choices(form.branch_id, branches)
        form.validate()
        assert form.branch_id.data is None and form.branch_id.errors, (form_class.__name__, form.branch_id.data)


def test_branch_select_takes_a_listed_id(form_app):
    form = StudentForm(formdata=MultiDict({"branch_id": "3"}))
    shared.branch_choices(form.branch_id, [{"id": 3, "name": "North"}])
    form.validate()
    assert form.branch_id.data == 3 and not form.branch_id.errors
    assert form.branch_id.choices[0] == ("", "Choose a branch…")


def test_course_instructor_checkboxes_refuse_unicode_digits(form_app):
    form = _post(CourseForm, title="Intro", price="10.00", lesson_count="5", status="active", instructor_ids=["٣"])
    assert form.instructor_ids.errors and not form.instructor_ids.data
    form = _post(CourseForm, title="Intro", price="10.00", lesson_count="5", status="active",
                 instructor_ids=["3", "12"])
    assert form.instructor_ids.data == [3, 12] and not form.instructor_ids.errors


def test_optional_text_select_blank_is_none(form_app):
    class Form(FlaskForm):
        choice = SelectField(choices=[("", "None"), ("Manual", "Manual")], coerce=shared.optional_str)

    assert _post(Form, choice="").choice.data is None
    assert _post(Form, choice="Manual").choice.data == "Manual"


@pytest.mark.parametrize("raw", ["٣", "１２", "1_000", "+5", "5.0", "1e3", "x"])
def test_whole_number_fields_take_ascii_digits_only(form_app, raw):
    """Lesson count, experience and odometer: int() would take "٣" or "1_000"; the shared field refuses them."""
    fields = [_post(CourseForm, lesson_count=raw).lesson_count,
              _post(InstructorForm, experience_years=raw).experience_years,
              _post(VehicleForm, odometer_km=raw).odometer_km, _post(ServiceLogForm, odometer_km=raw).odometer_km]
    for field in fields:
        assert field.data is None and field.errors == ["Enter a whole number (digits 0-9)."], (field.name, field.data)


def test_whole_number_fields_accept_digits_and_keep_their_ranges(form_app):
    assert _post(CourseForm, lesson_count=" 12 ").lesson_count.data == 12
    assert _post(CourseForm, lesson_count="0").lesson_count.errors == ["Enter a number from 1 to 1000."]
    assert _post(InstructorForm, experience_years="").experience_years.errors == []  # optional: blank is fine
    years = _post(InstructorForm, experience_years="-1").experience_years
    assert years.errors == ["Enter a number of years from 0 to 70."]


# -- filters -----------------------------------------------------------------------------------------
def test_strip_and_blank_to_none(form_app):
    class Form(FlaskForm):
        required = StringField(filters=[shared.strip])
        optional = StringField(filters=[shared.blank_to_none])

    form = _post(Form, required="  Ada  ", optional="   ")
    assert form.required.data == "Ada" and form.optional.data is None
    assert _post(Form, required="   ").required.data == ""


# -- dates: 1900-01-01 .. 2100-12-31 -------------------------------------------------------------------
@pytest.mark.parametrize("value, ok", [
    ("1899-12-31", False), ("1900-01-01", True), ("2100-12-31", True), ("2101-01-01", False), ("0202-05-01", False),
])
def test_plausible_date_bounds_on_date_fields(form_app, value, ok):
    class Form(FlaskForm):
        day = DateField(validators=[shared.plausible_date])

    form = _post(Form, day=value)
    assert (form.day.errors == []) is ok
    if not ok:
        assert form.day.errors == ["Enter a date between 1900 and 2100."]


@pytest.mark.parametrize("value, ok", [
    ("1899-12-31T23:59", False), ("1900-01-01T00:00", True), ("2100-12-31T23:59", True), ("2101-01-01T00:00", False),
])
def test_plausible_date_bounds_on_datetime_fields(form_app, value, ok):
    class Form(FlaskForm):
        at = DateTimeLocalField(format=shared.DATETIME_FORMATS, validators=[shared.plausible_date])

    form = _post(Form, at=value)
    assert isinstance(form.at.data, datetime)
    assert (form.at.errors == []) is ok


def test_every_date_field_uses_the_same_rule_and_message(form_app):
    """Student licence expiry, staff start date, instructor accreditation and unavailability, fleet service
    date: one rule, one message."""
    message = "Enter a date between 1900 and 2100."
    assert _post(StudentForm, license_expiry="2101-01-01").license_expiry.errors == [message]
    assert _post(StaffForm, start_date="1899-12-31").start_date.errors == [message]
    assert _post(InstructorForm, accreditation_expiry="2101-01-01").accreditation_expiry.errors == [message]
    assert _post(UnavailabilityForm, start_datetime="2101-01-01T09:00").start_datetime.errors == [message]
    assert _post(ServiceLogForm, service_date="1899-12-31").service_date.errors == [message]
    assert shared.DATE_RANGE_MESSAGE == message
    assert shared.plausible_date(None, type("F", (), {"data": date(2024, 2, 29)})()) is None


# -- money and other decimals --------------------------------------------------------------------------
@pytest.mark.parametrize("raw, error", [
    ("0", None), ("0.00", None), ("99999999.99", None), ("12.5", None),
    ("-0.01", "Enter an amount from 0.00 to 99,999,999.99."),
    ("100000000.00", "Enter an amount from 0.00 to 99,999,999.99."),
    ("NaN", "Enter an amount from 0.00 to 99,999,999.99."),
    ("Infinity", "Enter an amount from 0.00 to 99,999,999.99."),
    ("1e309", "Enter an amount from 0.00 to 99,999,999.99."),
    ("0.001", "Use at most 2 decimals (cents)."),
])
def test_money_amount_is_the_same_rule_for_course_price_and_service_cost(form_app, raw, error):
    price = _post(CourseForm, title="Intro", price=raw, lesson_count="5", status="active").price
    cost = _post(ServiceLogForm, service_date="2026-01-05", cost=raw).cost
    expected = [] if error is None else [error]
    assert price.errors == expected and cost.errors == expected
    if error is None:
        assert price.data == Decimal(raw) and cost.data == Decimal(raw)


@pytest.mark.parametrize("raw, ok", [("0", True), ("4.75", True), ("5.00", True), ("5.01", False), ("-1", False),
                                     ("4.755", False), ("NaN", False)])
def test_instructor_rating_uses_money_like_with_its_own_range(form_app, raw, ok):
    rating = _post(InstructorForm, rating=raw).rating
    assert (rating.errors == []) is ok
    if not ok:
        assert rating.errors == ["Enter a rating from 0.00 to 5.00."]


def test_money_like_refuses_non_decimals(form_app):
    class Form(FlaskForm):
        amount = DecimalField(validators=[shared.MoneyLike(maximum=Decimal("10"), places=1)])

    assert _post(Form, amount="9.9").amount.errors == []
    assert _post(Form, amount="9.95").amount.errors == ["Use at most 1 decimals (cents)."]
    assert _post(Form, amount="10.1").amount.errors == ["Enter an amount from 0.0 to 10.0."]


# -- phone numbers -----------------------------------------------------------------------------------
@pytest.mark.parametrize("raw, ok", [("(03) 8000 9000", True), ("+61 400-000/111", True), ("0400.000.111", True),
                                     ("0400 abc", False), ("1<script>", False)])
def test_phone_rule_is_the_same_on_every_form(form_app, raw, ok):
    fields = [_post(StudentForm, phone=raw).phone, _post(StaffForm, phone=raw).phone,
              _post(StudentForm, emergency_contact_phone=raw).emergency_contact_phone,
              _post(InstructorForm, phone=raw).phone, _post(BranchForm, phone=raw).phone]
    for field in fields:
        assert (field.errors == []) is ok, (field.name, field.errors)
        if not ok:
            assert field.errors == ["Use digits, spaces and + ( ) - . / only."]


# -- ORDER BY ------------------------------------------------------------------------------------------
def _order(sorts, sort, direction="asc", tiebreak="x.id"):
    return BaseDAO.order_clause(sorts, ListQuery(sort=sort, direction=direction), tiebreak)


def test_order_clause_gives_every_expression_the_direction_and_breaks_ties():
    sorts = {"title": "c.title", "name": ("u.last_name", "u.first_name")}
    assert _order(sorts, "title") == "c.title ASC, x.id ASC"
    assert _order(sorts, "name", "desc") == "u.last_name DESC, u.first_name DESC, x.id DESC"
    assert _order(sorts, "unknown") == "c.title ASC, x.id ASC"  # the first entry is the fallback


def test_order_clause_keeps_the_index_orders_the_benchmarks_tuned():
    """Students by name end on u.id (idx_users_name to the end, no s.id); staff by name add first names."""
    assert _order(STUDENT_SORTS, "name", "desc", "s.id") == "u.last_name DESC, u.first_name DESC, u.id DESC"
    assert _order(STUDENT_SORTS, "branch", "asc", "s.id") == "b.name ASC, s.id ASC"
    assert _order(STAFF_SORTS, "name", "asc", "s.id") == "u.last_name ASC, u.first_name ASC, s.id ASC"
    assert _order(STAFF_SORTS, "email", "desc", "s.id") == "u.email DESC, s.id DESC"


# -- LIKE escaping, on both databases ----------------------------------------------------------------
def test_escape_like_makes_wildcards_and_the_escape_character_literal():
    assert escape_like("100%_!") == "100!%!_!!"
    assert like_pattern("a_b") == "%a!_b%"


def test_like_escaping_matches_literal_percent_and_underscore(db):
    names = ["Pass 100% North", "Pass 100 North", "Pass 1000 North", "Bay_side", "Bayxside", "Hi!Vis", "Hi Vis"]
    for name in names:
        f.make_branch(db, name=name)

    def matching(pattern):
        rows = db.fetch_all("SELECT name FROM branches WHERE name LIKE :p ESCAPE '!' ORDER BY name", {"p": pattern})
        return [r["name"] for r in rows]

    assert matching(like_pattern("100%")) == ["Pass 100% North"]
    assert matching(like_pattern("y_s")) == ["Bay_side"]
    assert matching(like_pattern("!")) == ["Hi!Vis"]
    assert matching(escape_like("Bay_") + "%") == ["Bay_side"]  # a prefix pattern built on escape_like
    assert matching("%" + escape_like("0% North")) == ["Pass 100% North"]  # a suffix pattern
    assert matching(like_pattern("%")) == ["Pass 100% North"] and matching(like_pattern("_")) == ["Bay_side"]
    # the DAO search uses the same escaping
    found = BranchDAO(db).list_page(ListQuery.from_args({"q": "100%"}, ["name"], "name")).items
    assert [b["name"] for b in found] == ["Pass 100% North"]
