from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.lib.money import per_token_to_per_million, round_cost, row_cost

D = Decimal


def test_formula_cached_tokens_are_inside_input_tokens():
    # 800,000 uncached x 2.50 + 200,000 cached x 1.25 + 100,000 output x 10 = 3.25 USD
    assert row_cost(1_000_000, 200_000, 100_000, D("2.5"), D("1.25"), D("10")) == D("3.25")


def test_cached_price_falls_back_to_input_price():
    assert row_cost(1_000_000, 500_000, 0, D("5"), None, D("15")) == D("5")


def test_batch_discount_default_and_catalog_specific():
    assert row_cost(2_000_000, 0, 0, D("2.5"), None, D("10"), is_batch=True) == D("2.5")
    assert row_cost(1_000_000, 0, 0, D("1"), None, D("2"), is_batch=True,
                    batch_discount=D("0")) == D("1")


def test_rounding_rule_is_half_away_from_zero_at_1e_minus_10():
    # 1 token at 0.00005 USD/1M = 5e-11 USD -> rounds up to 1e-10
    assert row_cost(1, 0, 0, D("0.00005"), None, D("0")) == D("1E-10")
    # 1 token at 0.00004 USD/1M = 4e-11 USD -> rounds down to 0
    assert row_cost(1, 0, 0, D("0.00004"), None, D("0")) == D("0")
    assert round_cost(D("-0.00000000005")) == D("-1E-10")


def test_prices_from_json_floats_are_exact():
    assert per_token_to_per_million(2.5e-06) == D("2.5")
    assert per_token_to_per_million(1.25e-07) == D("0.125")
    assert per_token_to_per_million(5e-09) == D("0.005")
    assert per_token_to_per_million(0) == D("0")
    with pytest.raises(ValueError, match="negative price"):
        per_token_to_per_million(-1e-06)
    # the catalog keeps prices to 1e-6 USD per 1M tokens: a finer one is refused, not rounded
    assert per_token_to_per_million("1.234567e-06") == D("1.234567")
    with pytest.raises(ValueError, match="more precision than 1e-12 USD"):
        per_token_to_per_million("1.2345678e-06")


@pytest.mark.parametrize("bad", [(-1, 0, 0), (10, 11, 0), (1.5, 0, 0)])
def test_invalid_counts_are_refused(bad):
    with pytest.raises(ValueError):
        input_tokens, cached, output = bad
        row_cost(input_tokens, cached, output, D("1"), None, D("1"))


@given(st.integers(0, 10**12), st.integers(0, 10**12), st.integers(0, 10**12))
def test_cost_is_linear_in_tokens_before_rounding(a, b, out):
    cached = min(a, b)
    one = row_cost(a, cached, out, D("2.5"), D("1.25"), D("10"))
    assert one >= 0
    assert one == round_cost((D(a - cached) * D("2.5") + D(cached) * D("1.25")
                              + D(out) * D("10")) / D(1_000_000))


def test_displayed_cents_round_half_away_from_zero_and_show_no_negative_zero():
    """The one rounding after the warehouse's: reports and previews show cents, half away from
    zero as the rule says (Python's default would give 0.12 and 2.67 below)."""
    from pipelines.lib.markdown import fmt
    from pipelines.lib.money import to_cents
    from pipelines.reports.report import money

    assert to_cents(D("0.125")) == D("0.13") and to_cents(D("-0.125")) == D("-0.13")
    assert to_cents(D("2.665")) == D("2.67") and to_cents(D("0.1249999999")) == D("0.12")
    assert str(to_cents(D("-0.004"))) == "0.00"
    assert [money(D(v)) for v in ("0.125", "-0.125", "1234.565", "-0.004")] == [
        "$0.13", "-$0.13", "$1,234.57", "$0.00"]
    assert fmt(D("0.125")) == "0.13"
