"""Money rules, stated once.

* Token counts are integers (BIGINT in DuckDB, int in Python).
* Prices are exact decimals in USD per 1M tokens, DECIMAL(18, 6) in the warehouse.
* Every token is priced at its own rate: text input (uncached, cached, written to the prompt
  cache), output, and the audio and image parts of each at the catalog's audio and image
  prices (:func:`row_cost`).
* Usage the Usage API meters in other units is priced the same way where the model is billed
  in that unit alone: seconds of audio transcribed (whisper-1) and characters turned into
  speech (tts-1). Units are integers; their prices are exact decimals in USD per 1M units,
  DECIMAL(18, 9) (LiteLLM's gpt-live-transcribe, 0.000283333333333 USD a second, is
  283.333333333 per 1M seconds) (:func:`unit_cost`).
* The cost of one usage row is computed exactly and then rounded **once**, to 10 decimal
  places of a dollar (1e-10 USD), half away from zero. That is DuckDB's DECIMAL cast rule and
  Python's ``ROUND_HALF_UP``. Sums are taken over the rounded row costs, so every total is
  exactly the sum of the rows shown in the tables; nothing is rounded again in the warehouse.
  Reports display cents, rounded half away from zero, at the very end.

:func:`row_cost` is the reference implementation of the contract's formula; the SQL
(``sql/macros/money.sql``, applied in ``sql/intermediate/int_usage_priced.sql``) must agree
with it to the last digit, on any row and price the warehouse can hold
(``tests/test_money_sql.py``, generated rows against the macros).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

COST_SCALE = Decimal("1e-10")
PRICE_SCALE = Decimal("1e-6")
UNIT_PRICE_SCALE = Decimal("1e-9")
#: the digits of a price column (DECIMAL(18, 6) per 1M tokens, DECIMAL(18, 9) per 1M units)
PRICE_DIGITS = 18
CENT = Decimal("0.01")
ONE_MILLION = Decimal(1_000_000)
DEFAULT_BATCH_DISCOUNT = Decimal("0.5")
#: the places of a batch discount (DECIMAL(5, 4) in the warehouse)
BATCH_SCALE = Decimal("1e-4")
#: the arithmetic of every cost: exact for any count and price the warehouse can hold.
#: Python's default context keeps 28 significant digits, and a row's cost can need more (a
#: price of DECIMAL(18, 6) times a count near 10^15, to 16 decimal places before the
#: rounding), where DuckDB's DECIMAL arithmetic widens: the reference must not round first
#: (or fail to round at all) where the warehouse does not.
EXACT = Context(prec=100, rounding=ROUND_HALF_UP)


def _per_million(value: float | int | str, scale: Decimal, per: str) -> Decimal:
    """A price per ``per`` written as a JSON float, times 1M, exactly at ``scale`` or not at
    all (a ValueError), as is; negative prices are refused."""
    text = value if isinstance(value, str) else repr(value)
    result = Decimal(text) * ONE_MILLION
    if result < 0:
        raise ValueError(f"negative price {value!r}")
    quantized = result.quantize(scale, rounding=ROUND_HALF_UP)
    if quantized != result:
        raise ValueError(f"price {value!r} per {per} has more precision than "
                         f"{scale / ONE_MILLION:.0e} USD")
    return quantized.normalize() if quantized == quantized.to_integral() else quantized


def per_token_to_per_million(value: float | int | str) -> Decimal:
    """Convert a per-token price written as a JSON float (``2.5e-06``) to USD per 1M, exactly.

    The float's shortest round-trip text is what the catalog author wrote, so we go through
    ``repr`` and never through binary arithmetic: ``2.5e-06`` becomes ``Decimal('2.5')``, not
    ``2.4999999999999998``.
    """
    return _per_million(value, PRICE_SCALE, "token")


def per_unit_to_per_million(value: float | int | str) -> Decimal:
    """A per-unit price (USD a second, a character) written as a JSON float to USD per 1M
    units, exactly, as :func:`per_token_to_per_million` does for tokens; a ValueError when it
    is negative or has more precision than 1e-15 USD per unit."""
    return _per_million(value, UNIT_PRICE_SCALE, "unit")


def unit_cost(units: int, usd_per_1m_units: Decimal) -> Decimal:
    """The cost of one usage row metered in other units than tokens (seconds, characters):
    ``units`` at ``usd_per_1m_units``, exact, rounded once as every row cost is. Such usage
    has no batch discount or tier."""
    if not isinstance(units, int) or isinstance(units, bool) or units < 0:
        raise ValueError(f"units must be a non-negative integer, got {units!r}")
    if usd_per_1m_units < 0:
        raise ValueError(f"negative price {usd_per_1m_units}")
    with localcontext(EXACT):
        return round_cost(units * usd_per_1m_units / ONE_MILLION)


def round_cost(value: Decimal) -> Decimal:
    return value.quantize(COST_SCALE, rounding=ROUND_HALF_UP, context=EXACT)


def to_cents(value: Decimal | int | str) -> Decimal:
    """A dollar amount as reports and previews display it: cents, half away from zero (never
    Python's default half-even), and no negative zero."""
    cents = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP, context=EXACT)
    return cents.copy_abs() if cents == 0 else cents


def row_cost(
    input_tokens: int,
    cached_input_tokens: int,
    output_tokens: int,
    input_price: Decimal,
    cached_price: Decimal | None,
    output_price: Decimal,
    is_batch: bool = False,
    batch_discount: Decimal | None = None,
    *,
    input_audio_tokens: int = 0,
    cached_input_audio_tokens: int = 0,
    output_audio_tokens: int = 0,
    input_audio_price: Decimal | None = None,
    cached_audio_price: Decimal | None = None,
    output_audio_price: Decimal | None = None,
    input_image_tokens: int = 0,
    cached_input_image_tokens: int = 0,
    output_image_tokens: int = 0,
    input_image_price: Decimal | None = None,
    cached_image_price: Decimal | None = None,
    output_image_price: Decimal | None = None,
    cache_write_input_tokens: int = 0,
    cache_write_price: Decimal | None = None,
    cache_write_1h_input_tokens: int = 0,
    cache_write_1h_price: Decimal | None = None,
) -> Decimal:
    """The contract's cost formula for one usage row, prices in USD per 1M tokens.

    ``input_tokens`` already includes ``cached_input_tokens``; the cached price falls back to
    the input price; batch usage is discounted by ``batch_discount`` (0.5 when not given).

    Audio tokens are parts of the totals (``schema.AUDIO_TOKENS``): uncached audio input of the
    uncached input, cached audio of the cached input, audio output of the output. Each is
    priced at its audio price; cached audio falls back to the cached price. Audio tokens at a
    model without an audio price cannot be priced: a ValueError, never the text price.

    Image tokens are parts of the totals the same way (``schema.IMAGE_TOKENS``), beside the
    audio parts. Image input without an image price is priced as text input (a vision model
    bills its image tokens at its text rate), cached image input as cached input; image
    output without an image output price cannot be priced (a ValueError).

    Cache writes (``schema.CACHE_WRITE_TOKENS``) are input tokens that are neither cached
    reads nor the uncached input the audio and image parts belong to; they are priced at the
    cache write price, else the input price. Those written to live an hour
    (``schema.CACHE_WRITE_1H_TOKENS``, a part of the cache writes) are priced at the 1-hour
    cache write price, else as the other cache writes.
    """
    counts = {
        "input_tokens": input_tokens, "cached_input_tokens": cached_input_tokens,
        "output_tokens": output_tokens, "input_audio_tokens": input_audio_tokens,
        "cached_input_audio_tokens": cached_input_audio_tokens,
        "output_audio_tokens": output_audio_tokens,
        "input_image_tokens": input_image_tokens,
        "cached_input_image_tokens": cached_input_image_tokens,
        "output_image_tokens": output_image_tokens,
        "cache_write_input_tokens": cache_write_input_tokens,
        "cache_write_1h_input_tokens": cache_write_1h_input_tokens,
    }
    for name, n in counts.items():
        if not isinstance(n, int) or n < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {n!r}")
    if cached_input_tokens > input_tokens:
        raise ValueError("cached_input_tokens cannot exceed input_tokens")
    if cache_write_1h_input_tokens > cache_write_input_tokens:
        raise ValueError("cache_write_1h_input_tokens cannot exceed cache_write_input_tokens")
    uncached_text = (input_tokens - cached_input_tokens - cache_write_input_tokens
                     - input_audio_tokens - input_image_tokens)
    cached_text = cached_input_tokens - cached_input_audio_tokens - cached_input_image_tokens
    output_text = output_tokens - output_audio_tokens - output_image_tokens
    if uncached_text < 0:
        raise ValueError("input_audio_tokens + input_image_tokens + cache_write_input_tokens "
                         "cannot exceed the uncached input tokens")
    if cached_text < 0:
        raise ValueError("cached_input_audio_tokens + cached_input_image_tokens cannot exceed "
                         "cached_input_tokens")
    if output_text < 0:
        raise ValueError("output_audio_tokens + output_image_tokens cannot exceed output_tokens")
    for tokens, price, name in ((input_audio_tokens, input_audio_price, "input audio"),
                                (output_audio_tokens, output_audio_price, "output audio"),
                                (output_image_tokens, output_image_price, "output image")):
        if tokens and price is None:
            raise ValueError(f"{tokens} {name} tokens and no {name} price: not priceable")
    cached = input_price if cached_price is None else cached_price
    cached_audio = cached if cached_audio_price is None else cached_audio_price
    image_in = input_price if input_image_price is None else input_image_price
    cached_image = cached if cached_image_price is None else cached_image_price
    cache_write = input_price if cache_write_price is None else cache_write_price
    cache_write_1h = cache_write if cache_write_1h_price is None else cache_write_1h_price
    with localcontext(EXACT):
        gross = (
            uncached_text * input_price
            + (cache_write_input_tokens - cache_write_1h_input_tokens) * cache_write
            + cache_write_1h_input_tokens * cache_write_1h
            + cached_text * cached
            + input_audio_tokens * (input_audio_price or 0)
            + cached_input_audio_tokens * cached_audio
            + input_image_tokens * image_in
            + cached_input_image_tokens * cached_image
            + output_text * output_price
            + output_audio_tokens * (output_audio_price or 0)
            + output_image_tokens * (output_image_price or 0)
        ) / ONE_MILLION
        if is_batch:
            discount = DEFAULT_BATCH_DISCOUNT if batch_discount is None else batch_discount
            gross = gross * (1 - discount)
        return round_cost(gross)
