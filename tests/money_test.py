"""app/services/money.py: the cent rule (half-up per line, then totals; tax added or included) as a
property test, and parse_amount refusing zero, negative, non-numeric and three-decimal amounts."""

if __name__ == "__main__":
    import sys, pytest; sys.exit(pytest.main([__file__, *sys.argv[1:]]))  # noqa: E401,E702

from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from app.core.errors import ValidationFailed
from app.services.money import CENT, line_total, money, parse_amount, parse_tax_rate, totals

PRICES = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("99999.99"), places=2, allow_nan=False,
                     allow_infinity=False)
LINES = st.lists(st.fixed_dictionaries({"quantity": st.integers(1, 1000), "unit_price": PRICES}),
                 min_size=1, max_size=8)
RATES = st.decimals(min_value=Decimal("0"), max_value=Decimal("30"), places=2)


@settings(max_examples=150, deadline=None)
@given(lines=LINES, rate=RATES, share=st.integers(0, 100), inclusive=st.booleans())
def test_lines_sum_to_the_subtotal_and_total_is_subtotal_less_discount_plus_tax(lines, rate, share, inclusive):
    subtotal_guess = sum((line_total(x["quantity"], x["unit_price"]) for x in lines), Decimal("0.00"))
    discount = money(subtotal_guess * share / 100)
    result = totals(lines, discount=discount, tax_rate=rate, tax_inclusive=inclusive)
    assert result.subtotal == sum(result.lines, Decimal("0.00"))
    for value in (*result.lines, result.subtotal, result.discount, result.tax, result.total):
        assert value == value.quantize(CENT)
    if inclusive:
        assert result.total == result.subtotal - result.discount
        assert result.tax == money((result.total) * rate / (100 + rate))
    else:
        assert result.total == result.subtotal - result.discount + result.tax
        assert result.tax == money((result.subtotal - result.discount) * rate / 100)


def test_half_up_per_line_then_the_total():
    assert line_total(3, Decimal("0.335")) == Decimal("1.01")  # 1.005 -> 1.01 (half up, not banker's)
    result = totals([{"quantity": 1, "unit_price": Decimal("880.00")}], tax_rate=Decimal("10"))
    assert (result.subtotal, result.tax, result.total) == (Decimal("880.00"), Decimal("88.00"), Decimal("968.00"))
    assert totals([{"quantity": 1, "unit_price": Decimal("0.05")}], tax_rate=10).tax == Decimal("0.01")


@pytest.mark.parametrize("raw", ["0", "0.00", "-1", "-0.01", "abc", "1.005", "12.345", "NaN", "inf", "",
                                 "100000000.00", "1e3x"])
def test_parse_amount_refuses_bad_amounts_naming_the_field(raw):
    with pytest.raises(ValidationFailed) as caught:
        parse_amount(raw, "amount")
    assert caught.value.status == 422 and caught.value.field == "amount"


@pytest.mark.parametrize("raw, expected", [("120.5", "120.50"), ("1,234.00", "1234.00"), ("$5", "5.00"),
                                           (Decimal("0.01"), "0.01"), ("99999999.99", "99999999.99")])
def test_parse_amount_accepts_two_decimals(raw, expected):
    assert parse_amount(raw, "amount") == Decimal(expected)


def test_tax_rate_bounds():
    assert parse_tax_rate("") == Decimal("10.00")
    assert parse_tax_rate("0") == Decimal("0.00")
    for raw in ("-1", "101", "x", "1.234"):
        with pytest.raises(ValidationFailed):
            parse_tax_rate(raw)


@pytest.mark.parametrize("raw", ["1e3", "٣٠", "²", "12.345", "0", "-5", "abc", "", "NaN", "Infinity"])
def test_amounts_that_are_not_plain_dollars_and_cents_are_refused_naming_the_field(raw):
    with pytest.raises(ValidationFailed) as caught:
        parse_amount(raw, "amount")
    assert caught.value.field == "amount"


def test_payments_read_amounts_with_the_same_rule():
    from app.services import payments

    assert payments.parse_amount("$1,200.5") == parse_amount("1200.50") == Decimal("1200.50")
