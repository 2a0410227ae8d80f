"""The money rule is written twice: ``money.row_cost`` / ``unit_cost`` (the reference, Python)
and ``sql/macros/money.sql`` (what prices the warehouse). They must agree to the last digit
of 1e-10 USD on any usage row a staged file can hold, with the catalog's own column types
(prices DECIMAL(18, 6) per 1M tokens, DECIMAL(18, 9) per 1M units, the batch discount
DECIMAL(5, 4), counts BIGINT), and agree on which rows cannot be priced (Python refuses,
SQL gives NULL)."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

import duckdb
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipelines.lib.duck import macro_scripts, macros_called, run_script, sql_text
from pipelines.lib.money import row_cost, unit_cost

D = Decimal

#: the price columns the macros read from a catalog.model_prices row (``r``), with their
#: row_cost keyword (None: a positional argument)
PRICE_COLUMNS = {
    "input_usd_per_1m": None, "cached_input_usd_per_1m": None, "output_usd_per_1m": None,
    "input_audio_usd_per_1m": "input_audio_price",
    "cached_input_audio_usd_per_1m": "cached_audio_price",
    "output_audio_usd_per_1m": "output_audio_price",
    "input_image_usd_per_1m": "input_image_price",
    "cached_input_image_usd_per_1m": "cached_image_price",
    "output_image_usd_per_1m": "output_image_price",
    "cache_write_input_usd_per_1m": "cache_write_price",
    "cache_write_1h_input_usd_per_1m": "cache_write_1h_price",
}
COUNTS = ("input_tokens", "cached_input_tokens", "output_tokens", "input_audio_tokens",
          "cached_input_audio_tokens", "output_audio_tokens", "input_image_tokens",
          "cached_input_image_tokens", "output_image_tokens", "cache_write_input_tokens",
          "cache_write_1h_input_tokens")

SQL = f"""
WITH r AS (
    SELECT {", ".join(f"CAST(${c} AS DECIMAL(18, 6)) AS {c}" for c in PRICE_COLUMNS)},
           CAST($batch_discount AS DECIMAL(5, 4)) AS batch_discount
),
usage AS (
    SELECT {", ".join(f"CAST(${c} AS BIGINT) AS {c}" for c in COUNTS)},
           CAST($is_batch AS BOOLEAN) AS is_batch, TRUE AS token_metered,
           CAST(NULL AS BIGINT) AS units, (SELECT r FROM r) AS prices
)
SELECT radar_cost_usd(FALSE, NULL, radar_priceable(prices), radar_gross_usd(prices),
                      prices.batch_discount)
FROM usage
"""

UNIT_SQL = """
WITH usage AS (
    SELECT CAST($units AS BIGINT) AS units, CAST($price AS DECIMAL(18, 9)) AS price,
           FALSE AS token_metered, CAST(0 AS BIGINT) AS input_tokens,
           CAST(0 AS BIGINT) AS output_tokens, FALSE AS is_batch
)
SELECT radar_cost_usd(radar_unit_priceable(price), radar_unit_usd(units, price), FALSE,
                      NULL, NULL)
FROM usage
"""


@cache
def _connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    run_script(con, "macros/money")  # the macros every pricing model runs
    return con


def _sql_cost(sql: str, params: dict) -> Decimal | None:
    [(cost,)] = _connection().execute(sql, params).fetchall()
    return cost


def _decimal(places: int, top: int) -> st.SearchStrategy[Decimal]:
    """A price as the catalog holds it: at most ``places`` decimals, below ``top``; small
    ones often, where a row's cost lands on the rounding's half; now and then one as large
    as its column holds (18 digits: a mistyped override)."""
    quantum = D(1).scaleb(-places)
    return st.one_of(
        st.integers(0, 100).map(lambda n: n * quantum),
        st.integers(0, top * 10**places).map(lambda n: n * quantum),
        st.integers(0, 10**18 - 1).map(lambda n: n * quantum))


PRICE = _decimal(6, 10**5)
#: a batch discount, 0 to 1 in the catalog's four places
DISCOUNT = st.integers(0, 10**4).map(lambda n: n * D("1e-4"))
COUNT = st.one_of(st.integers(0, 20), st.integers(0, 10**15 - 1))


@st.composite
def usage_rows(draw) -> dict[str, int]:
    """The counts of one row as the daily roll-up holds them: each part inside the total it
    belongs to (audio, image and cache writes in the uncached input, their cached parts in
    the cached input, 1-hour cache writes in the cache writes); each part below the 10^15
    staging admits for a count, a total their sum (a day's sum may pass 10^15)."""
    parts = {name: draw(COUNT) for name in (
        "uncached_text", "input_audio_tokens", "input_image_tokens", "cache_write_5m",
        "cache_write_1h_input_tokens", "cached_text", "cached_input_audio_tokens",
        "cached_input_image_tokens", "output_text", "output_audio_tokens",
        "output_image_tokens")}
    row = {k: v for k, v in parts.items() if k.endswith("_tokens")}
    row["cache_write_input_tokens"] = parts["cache_write_5m"] + row["cache_write_1h_input_tokens"]
    row["cached_input_tokens"] = (parts["cached_text"] + row["cached_input_audio_tokens"]
                                  + row["cached_input_image_tokens"])
    row["input_tokens"] = (parts["uncached_text"] + row["input_audio_tokens"]
                           + row["input_image_tokens"] + row["cache_write_input_tokens"]
                           + row["cached_input_tokens"])
    row["output_tokens"] = (parts["output_text"] + row["output_audio_tokens"]
                            + row["output_image_tokens"])
    return row


@st.composite
def price_rows(draw) -> dict[str, Decimal | None]:
    """A catalog price row: input and output prices always (the catalog check demands them),
    every other price present or not."""
    prices: dict[str, Decimal | None] = {
        c: draw(PRICE) if c in ("input_usd_per_1m", "output_usd_per_1m")
        else draw(st.none() | PRICE) for c in PRICE_COLUMNS}
    return prices


def _python_cost(row: dict[str, int], prices: dict[str, Decimal | None], is_batch: bool,
                 discount: Decimal) -> Decimal | None:
    # the parts' counts and their prices, by row_cost's keywords
    keywords: dict[str, Any] = {c: row[c] for c in COUNTS[3:]}
    keywords |= {kw: prices[c] for c, kw in PRICE_COLUMNS.items() if kw}
    input_price, output_price = prices["input_usd_per_1m"], prices["output_usd_per_1m"]
    assert input_price is not None and output_price is not None
    try:
        return row_cost(row["input_tokens"], row["cached_input_tokens"], row["output_tokens"],
                        input_price, prices["cached_input_usd_per_1m"], output_price,
                        is_batch, discount, **keywords)
    except ValueError as refused:  # a part with no price of its own: not priceable
        assert "not priceable" in str(refused), refused
        return None


@settings(max_examples=400, deadline=None)
@given(usage_rows(), price_rows(), st.booleans(), DISCOUNT)
# one token at 0.00005 USD per 1M is 5e-11 USD: half of the last place, rounded up; at
# 0.00004, down; a batch row at a 0.3333 discount lands beyond the 10th place
@example({c: 0 for c in COUNTS} | {"input_tokens": 1},
         {c: None for c in PRICE_COLUMNS} | {"input_usd_per_1m": D("0.00005"),
                                             "output_usd_per_1m": D(0)}, False, D("0.5"))
@example({c: 0 for c in COUNTS} | {"input_tokens": 1},
         {c: None for c in PRICE_COLUMNS} | {"input_usd_per_1m": D("0.00004"),
                                             "output_usd_per_1m": D(0)}, False, D("0.5"))
@example({c: 0 for c in COUNTS} | {"input_tokens": 3, "output_tokens": 7},
         {c: None for c in PRICE_COLUMNS} | {"input_usd_per_1m": D("0.000017"),
                                             "output_usd_per_1m": D("0.000029")},
         True, D("0.3333"))
# the largest price a column holds, on a count near the largest staging admits: 22 digits
# before the point, 10 after (Python's default context keeps 28)
@example({c: 0 for c in COUNTS} | {"input_tokens": 10**15 - 1, "output_tokens": 10**15 - 1},
         {c: None for c in PRICE_COLUMNS} | {"input_usd_per_1m": D("999999999999.999999"),
                                             "output_usd_per_1m": D("999999999999.999999")},
         True, D("0.3333"))
def test_the_sql_cost_of_a_row_is_row_cost_to_the_last_digit(row, prices, is_batch, discount):
    expected = _python_cost(row, prices, is_batch, discount)
    got = _sql_cost(SQL, {**row, **prices, "is_batch": is_batch, "batch_discount": discount})
    assert got == expected, (got, expected)
    if expected is not None:
        assert expected.as_tuple().exponent == -10 and expected >= 0  # 1e-10 USD


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.integers(0, 50), st.integers(0, 10**15 - 1)), _decimal(9, 10**4))
@example(1, D("0.00005"))  # 5e-11 USD: rounded up to 1e-10
@example(7, D("283.333333333"))  # gpt-live-transcribe's price a second, times 1M
@example(10**15 - 1, D("999999999.999999999"))  # the largest price its column holds
def test_the_sql_cost_of_a_row_in_units_is_unit_cost_to_the_last_digit(units, price):
    assert _sql_cost(UNIT_SQL, {"units": units, "price": price}) == unit_cost(units, price)


def test_the_pricing_models_create_the_macros_they_call():
    """The two pricing models call both macro scripts (the money formula and the prices in
    force on a day); a model that prices nothing creates neither; a change to either script
    changes the pricing models' fingerprints (``macros_called``)."""
    both = ["macros/money", "macros/prices"]
    for model in ("intermediate/int_usage_priced", "marts/replacement_options"):
        assert macro_scripts(sql_text(model)) == both
        assert all(sql_text(s) in macros_called(sql_text(model)) for s in both)
    assert macro_scripts(sql_text("marts/usage_cost_daily")) == []


def test_the_prices_in_force_on_a_day():
    """A price row is in force from its valid_from to the day before its valid_to; the
    lookups a replacement is priced by take the default tier's only (a flex price row is
    not a replacement's price), the long-context bands by prompt band, unit prices by unit."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA catalog")
    con.execute("CREATE TABLE catalog.model_prices AS SELECT * FROM (VALUES "
                "('m', NULL, DATE '2026-01-01', DATE '2026-12-01', 2.0), "
                "('m', NULL, DATE '2026-12-01', NULL, 1.0), "
                "('m', 'flex', DATE '2026-01-01', NULL, 0.5)) "
                "AS t(model, service_tier, valid_from, valid_to, input_usd_per_1m)")
    con.execute("CREATE TABLE catalog.model_price_bands AS SELECT * FROM (VALUES "
                "('m', NULL, '128k', DATE '2026-01-01', NULL, 4.0), "
                "('m', 'flex', '128k', DATE '2026-01-01', NULL, 1.0)) "
                "AS t(model, service_tier, prompt_band, valid_from, valid_to, input_usd_per_1m)")
    con.execute("CREATE TABLE catalog.model_unit_prices AS SELECT * FROM (VALUES "
                "('w', 'seconds', DATE '2026-01-01', DATE '2026-12-01', 100.0), "
                "('w', 'seconds', DATE '2026-12-01', NULL, 150.0)) "
                "AS t(model, unit, valid_from, valid_to, usd_per_1m_units)")
    run_script(con, "macros/prices")

    def on(macro: str, column: str, day: str) -> list:
        return [v for (v,) in con.execute(
            f"SELECT {column} FROM {macro}(CAST($day AS DATE)) ORDER BY ALL", {"day": day})
            .fetchall()]

    assert on("radar_prices_on", "input_usd_per_1m", "2025-12-31") == []
    assert on("radar_prices_on", "input_usd_per_1m", "2026-11-30") == [D("2.0")]
    assert on("radar_prices_on", "input_usd_per_1m", "2026-12-01") == [D("1.0")]
    assert on("radar_price_bands_on", "input_usd_per_1m", "2026-12-07") == [D("4.0")]
    assert on("radar_unit_prices_on", "usd_per_1m_units", "2026-11-30") == [D("100.0")]
    assert on("radar_unit_prices_on", "usd_per_1m_units", "2026-12-01") == [D("150.0")]
