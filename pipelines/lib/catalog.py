"""The catalog at run time: the shipped CSVs, the user's price and lifecycle overrides, the
team directory.

Pure functions (no Dagster, no DuckDB) so the precedence rules are testable on their own.
Prices stay ``Decimal`` from file to warehouse: they are read as text and never pass
through a float.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

from pipelines.lib.formats import decode_sheet, separator_of
from pipelines.lib.modelnames import named_models
from pipelines.lib.money import (
    BATCH_SCALE,
    DEFAULT_BATCH_DISCOUNT,
    PRICE_DIGITS,
    PRICE_SCALE,
    UNIT_PRICE_SCALE,
)
from pipelines.lib.schema import PROMPT_BANDS

OVERRIDE_HEADER = ["model", "valid_from", "valid_to", "input_usd_per_1m",
                   "cached_input_usd_per_1m", "output_usd_per_1m"]
LIFECYCLE_OVERRIDE_HEADER = ["model", "announced_date", "shutdown_date", "replacement_model"]
TEAM_HEADER = ["key_type", "key_value", "team"]
#: ``RADAR_BILLING_ACCOUNTS``: the account each provider bills (an optional third column,
#: ``billing_account_name``)
BILLING_ACCOUNT_HEADER = ["provider", "billing_account_id"]
#: what ``lifecycle_override_effects`` says of an override the shipped catalog has caught up with
SAME_AS_CATALOG = "same as the catalog"

#: optional price columns of the shipped catalog and of an override file: audio and image
#: tokens' own prices, each group in (uncached input, cached input, output) order, and the
#: cache-write price
AUDIO_PRICE_COLUMNS = ("input_audio_usd_per_1m", "cached_input_audio_usd_per_1m",
                       "output_audio_usd_per_1m")
IMAGE_PRICE_COLUMNS = ("input_image_usd_per_1m", "cached_input_image_usd_per_1m",
                       "output_image_usd_per_1m")
#: the price of input written into the prompt cache (NULL: the input price), and of that
#: written to live an hour (NULL: the cache write price)
CACHE_WRITE_PRICE_COLUMNS = ("cache_write_input_usd_per_1m", "cache_write_1h_input_usd_per_1m")
#: groups an override without them takes from the built-in row: audio and image are priced
#: apart from text; a cache write is input, priced after the override's input price
INHERITED_PRICE_COLUMNS = (AUDIO_PRICE_COLUMNS, IMAGE_PRICE_COLUMNS)
MODAL_PRICE_COLUMNS = (*INHERITED_PRICE_COLUMNS, CACHE_WRITE_PRICE_COLUMNS)
#: The newest day the catalog knows retirements for: the date of its lifecycle sources (the
#: deprecations list's newest announcement, a Models API pull's day) or its newest
#: announcement (an override's included), whichever is later; NULL when neither is known.
KNOWN_THROUGH_SQL = """SELECT greatest(
    (SELECT max(as_of) FROM catalog.sources WHERE kind LIKE '%lifecycle%'),
    (SELECT max(announced_date) FROM catalog.model_lifecycle))"""
#: A lifecycle row without an announcement date (LiteLLM's rows: a shutdown date only) counts
#: as announced this many days before its shutdown. Providers publish some retirement dates
#: long ahead (Azure's and Google's at a model's release, two years out), and a model that
#: retires in 2028 is not one to migrate off today. OpenAI's own list gave 3 to 458 days
#: between announcement and shutdown, a median of 182 and 90% within 234 (144 rows), so a
#: year covers nearly every real announcement.
UNANNOUNCED_LEAD_DAYS = 365


#: most specific first: the order in which a usage row's keys are matched
TEAM_KEY_TYPES = ("api_key_id", "user_id", "project_id", "litellm_team_id")


class CatalogError(ValueError):
    """A catalog or team file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Price:
    model: str
    valid_from: dt.date
    valid_to: dt.date | None  # exclusive; None = open
    input_usd_per_1m: Decimal
    cached_input_usd_per_1m: Decimal | None
    output_usd_per_1m: Decimal
    batch_discount: Decimal
    source: str
    mode: str | None = None
    service_tier: str | None = None  # None: the default tier; else flex, priority, ...
    provider: str | None = None  # who serves the model, as LiteLLM names it (openai, anthropic)
    # audio tokens' own prices (audio-capable models); NULL: the model has no audio price, and
    # a row with audio tokens stays unpriced. Cached audio falls back to the cached price.
    input_audio_usd_per_1m: Decimal | None = None
    cached_input_audio_usd_per_1m: Decimal | None = None
    output_audio_usd_per_1m: Decimal | None = None
    # image tokens' own prices; NULL: image input is priced as text input (a vision model's
    # image tokens are billed at its text rate), cached image as cached input, and a row with
    # image output stays unpriced
    input_image_usd_per_1m: Decimal | None = None
    cached_input_image_usd_per_1m: Decimal | None = None
    output_image_usd_per_1m: Decimal | None = None
    # input written into the prompt cache; NULL: priced as input
    cache_write_input_usd_per_1m: Decimal | None = None
    # input written to live an hour in the prompt cache (Anthropic's 1-hour cache); NULL:
    # priced as the other cache writes
    cache_write_1h_input_usd_per_1m: Decimal | None = None

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class PriceBand:
    """A model's long-context prices: what a request whose prompt exceeds
    ``min_prompt_tokens`` (one of ``schema.PROMPT_BANDS``) pays, for every token of it, instead
    of the price row of the same model, service tier and dates. A price left empty is the
    price row's (LiteLLM's rule: the band's cached-read price is the base cached-read price
    when the list gives none)."""
    model: str
    service_tier: str | None
    valid_from: dt.date
    valid_to: dt.date | None  # exclusive; None = open
    min_prompt_tokens: int
    input_usd_per_1m: Decimal
    cached_input_usd_per_1m: Decimal | None
    output_usd_per_1m: Decimal | None
    cache_write_input_usd_per_1m: Decimal | None
    cache_write_1h_input_usd_per_1m: Decimal | None
    source: str
    # set by ``bands_by_prompt_band``: the staged band (``schema.PROMPT_BAND``) it prices
    prompt_band: int | None = None


#: a band's prices besides its input price: empty means the price row's
BAND_OPTIONAL_PRICES = ("cached_input_usd_per_1m", "output_usd_per_1m",
                        *CACHE_WRITE_PRICE_COLUMNS)
#: the shipped band file's columns
BAND_COLUMNS = ["model", "service_tier", "valid_from", "valid_to", "min_prompt_tokens",
                "input_usd_per_1m", *BAND_OPTIONAL_PRICES, "source"]


#: The units the Usage API meters a non-token endpoint in that the catalog has prices for, by
#: endpoint: seconds of audio transcribed and characters turned into speech. Images (by size
#: and quality), storage and tool calls stay unpriced.
UNIT_OF_ENDPOINT = {"audio_transcriptions": "seconds", "audio_speeches": "characters"}


@dataclass(frozen=True)
class UnitPrice:
    """The price of a model billed in other units than tokens (whisper-1 by the second of
    audio, tts-1 by the character), in USD per 1M units (``money.unit_cost``), for the usage
    of the endpoint that reports that unit (``UNIT_OF_ENDPOINT``)."""
    model: str
    unit: str
    valid_from: dt.date
    valid_to: dt.date | None  # exclusive; None = open
    usd_per_1m_units: Decimal
    source: str


#: the shipped unit price file's columns
UNIT_PRICE_COLUMNS = ["model", "unit", "valid_from", "valid_to", "usd_per_1m_units", "source"]
#: an override file's optional columns of a price per 1M units, by the unit they price
UNIT_OVERRIDE_COLUMNS = {f"{unit}_usd_per_1m": unit for unit in UNIT_OF_ENDPOINT.values()}


@dataclass(frozen=True)
class Overrides:
    """The rows of ``RADAR_CATALOG_OVERRIDES``: token prices, and prices per 1M units (an
    override row may give either or both)."""
    prices: list[Price]
    unit_prices: list[UnitPrice]


#: a price row, a band or a unit price: what ``_subtract`` cuts
_Windowed = TypeVar("_Windowed", Price, PriceBand, UnitPrice)
#: an override row: a token price or a unit price
_Override = TypeVar("_Override", Price, UnitPrice)


@dataclass(frozen=True)
class Lifecycle:
    model: str
    announced_date: dt.date | None
    shutdown_date: dt.date | None
    replacement_model: str | None
    replacement_note: str | None
    source: str


def counts_as_announced(row: Lifecycle, as_of: dt.date) -> bool:
    """Whether the retirement is announced as of ``as_of`` (see ``UNANNOUNCED_LEAD_DAYS``);
    the same rule as ``sql/intermediate/int_lifecycle_as_of.sql``."""
    if row.announced_date is not None:
        return row.announced_date <= as_of
    return (row.shutdown_date is not None
            and row.shutdown_date - dt.timedelta(days=UNANNOUNCED_LEAD_DAYS) <= as_of)


@dataclass(frozen=True)
class TeamKey:
    key_type: str
    key_value: str
    team: str
    owner: str | None = None  # optional fourth column: who to contact about the team


def _date(text: str | None, what: str) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CatalogError(f"{what}: {text!r} is not an ISO date") from exc


@overload
def _price(text: str | None, what: str, required: Literal[True] = True,
           per: str = "token") -> Decimal: ...
@overload
def _price(text: str | None, what: str, required: bool, per: str = "token"
           ) -> Decimal | None: ...
def _price(text: str | None, what: str, required: bool = True, per: str = "token"
           ) -> Decimal | None:
    """A price per 1M ``per``s (a token, or a unit: ``UNIT_PRICE_SCALE``) as written, or an
    error naming ``what``: not a number, negative, finer than the warehouse keeps (its cast
    would round it, a tiny price to zero) or larger than it holds."""
    text = (text or "").strip()
    if not text:
        if required:
            raise CatalogError(f"{what} is required")
        return None
    value = _decimal(text, what)
    if not value.is_finite() or value < 0:
        raise CatalogError(f"{what}: {text!r} must be a non-negative number")
    scale = UNIT_PRICE_SCALE if per == "unit" else PRICE_SCALE
    places = -int(scale.as_tuple().exponent)
    limit = Decimal(10) ** (PRICE_DIGITS - places)
    if value >= limit:
        raise CatalogError(f"{what}: {text!r} is more than a price per 1M {per}s holds "
                           f"(under {limit})")
    if value != value.quantize(scale):
        raise CatalogError(f"{what}: {text!r} has more decimal places than the {places} a "
                           f"price per 1M {per}s keeps ({scale / 1_000_000:.0e} USD a {per}); "
                           "it is never rounded: write the price meant to that many places")
    return value


def _decimal(text: str, what: str) -> Decimal:
    """``text`` (stripped, not empty) as a Decimal, or an error naming ``what``; a decimal
    comma is never read as a point."""
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        point = (" (write the decimals after a point: a comma is never read as one, so a "
                 "price is never guessed)" if "," in text else "")
        raise CatalogError(f"{what}: {text!r} is not a decimal number{point}") from exc


def _discount(text: str | None, what: str) -> Decimal:
    """A batch discount as written (empty: ``DEFAULT_BATCH_DISCOUNT``): a share from 0 to 1
    with at most the 4 decimal places the warehouse keeps (DECIMAL(5, 4)), never rounded."""
    text = (text or "").strip()
    if not text:
        return DEFAULT_BATCH_DISCOUNT
    value = _decimal(text, what)
    if not value.is_finite() or not 0 <= value <= 1 or value != value.quantize(BATCH_SCALE):
        raise CatalogError(f"{what}: {text!r} is not a share from 0 to 1 with at most 4 "
                           "decimal places")
    return value


def configured_file(variable: str, path: Path) -> Path:
    """``path``, the file the setting ``variable`` names, or an error that says which setting
    to fix (a missing team directory must not quietly make every team ``unassigned``)."""
    if not path.is_file():
        what = "is not a file" if path.exists() else "does not exist"
        raise CatalogError(f"{variable} names {path}, which {what}; point {variable} at the "
                           "CSV file")
    return path


def _rows(path: Path, header: list[str], problems: list[tuple[int, str]] | None = None
          ) -> list[tuple[int, dict[str, str]]]:
    """The data rows of a CSV whose ``#`` lines are comments, each with its line number in the
    file as an editor shows it (comment lines counted), for error messages.

    Each line is read on its own, by Python's strict CSV reader: no value of these files
    holds a line break, and a file edited by hand is where a stray '"' gets typed. The
    lenient reader ran every line after one (``"Ines``) into a single value up to the next
    quote, their teams or prices gone unsaid; read as a whole, a strict reader cannot split
    anything after it. A line with a quoted value that does not close on it, or a '"' CSV
    allows nowhere, is not read; nor is a row with more fields than the header names (a
    value with an unquoted separator, a decimal comma in a comma-separated file: ``2,50``
    would read as 2 and 50 in two columns): its values from the split on sit in the wrong
    columns. Each stops the read (``CatalogError``), or, given ``problems``, is said there
    (with its line number), that line left out and the lines after it read."""
    try:
        # a file edited in a spreadsheet on Windows is Windows-1252 (an owner's accented name)
        text, _ = decode_sheet(path.read_bytes())
    except ValueError as exc:
        raise CatalogError(f"{path}: {exc}") from exc
    # (blank lines between rows are no rows)
    lines = [(number, line) for number, line in
             enumerate(io.StringIO(text, newline=""), start=1)
             if not line.startswith("#") and line.strip()]
    # a sheet saved in a locale that writes decimal commas separates with semicolons
    sep = separator_of(lines[0][1] if lines else "")

    def problem(number: int, why: str, fatal: bool = False) -> None:
        if problems is None or fatal:
            raise CatalogError(f"{path} line {number} {why}")
        problems.append((number, f"{path.name} line {number} {why}"))

    def fields(number: int, line: str, fatal: bool = False) -> list[str] | None:
        try:
            return next(csv.reader([line], delimiter=sep, strict=True), [])
        except csv.Error as exc:
            why = ("a quoted value that does not close on it (a stray '\"' at its start?)"
                   if "unexpected end of data" in str(exc)
                   else f"a '\"' where CSV allows none ({exc})")
            problem(number, f"has {why}, so it is not read: remove the quote, or quote the "
                    "whole value and double each quote inside it", fatal)
            return None

    # (a header that cannot be read stops the read: no line after it could be)
    names = [name.strip() for name in (fields(*lines[0], fatal=True) or [])] if lines else []
    missing = [c for c in header if c not in names]
    if missing:
        raise CatalogError(f"{path}: missing columns {missing}; expected the header "
                           f"{','.join(header)}, got {names}")
    rows = []
    for number, line in lines[1:]:
        values = fields(number, line)
        if values is None:
            continue
        if len(values) > len(names):
            problem(number, f"has {len(values)} fields where the header names {len(names)} "
                    f"(a value with an unquoted {sep!r}, or a decimal comma?): quote the "
                    "value, or write decimals with a point")
            continue
        # a row with fewer fields: the missing ones are None, as the csv module's DictReader
        # gives them
        rows.append((number, dict(itertools.zip_longest(names, values))))
    return rows


_T = TypeVar("_T")
_READS: dict[tuple[str, str], tuple[bytes, tuple]] = {}


def _cached_by_file(read: Callable[[Path], list[_T]]) -> Callable[[Path], list[_T]]:
    """``read``, remembered for as long as the file holds the same bytes: a long-lived process
    (``dagster dev``, the test suite) parses the shipped catalog once, not on every run (its
    4,769 price rows: ~0.2 s of a small refresh's ~4 s; hashing the file: ~1 ms). By content,
    not modification time, which moves in steps of milliseconds. Each call gets a list of its
    own; the rows are frozen dataclasses."""

    @functools.wraps(read)
    def cached(path: Path) -> list[_T]:
        key = (read.__name__, str(path))
        digest = hashlib.blake2b(path.read_bytes()).digest()
        if _READS.get(key, (None,))[0] != digest:
            _READS[key] = (digest, tuple(read(path)))  # the file's last content only
        return list(_READS[key][1])

    return cached


@_cached_by_file
def read_prices(path: Path) -> list[Price]:
    out = []
    for line, r in _rows(path, OVERRIDE_HEADER + ["batch_discount", "source"]):
        where = f"{path.name} line {line}"
        out.append(Price(
            model=r["model"].strip(),
            valid_from=_date(r["valid_from"], where) or dt.date(2020, 1, 1),
            valid_to=_date(r["valid_to"], where),
            input_usd_per_1m=_price(r["input_usd_per_1m"], f"{where} input_usd_per_1m"),
            cached_input_usd_per_1m=_price(r["cached_input_usd_per_1m"],
                                           f"{where} cached_input_usd_per_1m", required=False),
            output_usd_per_1m=_price(r["output_usd_per_1m"], f"{where} output_usd_per_1m"),
            batch_discount=_discount(r["batch_discount"], f"{where} batch_discount"),
            source=r["source"].strip(),
            mode=(r.get("mode") or "").strip() or None,
            service_tier=(r.get("service_tier") or "").strip() or None,
            provider=(r.get("provider") or "").strip() or None,
            **_modal_prices(r, where),
        ))
    return out


def _optional_prices(r: dict[str, str], where: str, columns: Iterable[str]) -> dict[str, Any]:
    """Optional price columns of a row by name (empty or absent: None), for a dataclass's
    keywords."""
    return {c: _price(r.get(c), f"{where} {c}", required=False) for c in columns}


def _modal_prices(r: dict[str, str], where: str) -> dict[str, Any]:
    """The optional audio, image and cache-write price columns of a price or override row
    (empty or absent: none)."""
    return _optional_prices(r, where, itertools.chain.from_iterable(MODAL_PRICE_COLUMNS))


def read_bands(path: Path, prices: list[Price]) -> list[PriceBand]:
    """The shipped long-context prices (``model_price_bands.csv``) of the shipped ``prices``;
    errors name the line: a negative price, two rows for one band, a threshold that is not one
    of ``schema.PROMPT_BANDS`` (the ingest stages only those, so its requests could never be
    told apart), or a band of a model and tier without a price row (it replaces a price row's
    prices: alone it would price nothing)."""
    priced = {(p.model, p.service_tier) for p in prices}
    out: list[PriceBand] = []
    seen: dict[tuple, int] = {}
    for line, r in _rows(path, BAND_COLUMNS):
        where = f"{path.name} line {line}"
        text = (r["min_prompt_tokens"] or "").strip()
        if not text.isdigit() or int(text) not in PROMPT_BANDS:
            raise CatalogError(f"{where}: min_prompt_tokens {text!r} is not one of "
                               f"{list(PROMPT_BANDS)} (pipelines/lib/schema.py PROMPT_BANDS)")
        band = PriceBand(
            model=r["model"].strip(),
            service_tier=(r["service_tier"] or "").strip() or None,
            valid_from=_date(r["valid_from"], where) or dt.date(2020, 1, 1),
            valid_to=_date(r["valid_to"], where),
            min_prompt_tokens=int(text),
            input_usd_per_1m=_price(r["input_usd_per_1m"], f"{where} input_usd_per_1m"),
            **_optional_prices(r, where, BAND_OPTIONAL_PRICES),
            source=r["source"].strip(),
        )
        if (band.model, band.service_tier) not in priced:
            raise CatalogError(f"{where}: {band.model} has no price row for the "
                               f"{band.service_tier or 'default'} tier, whose prices a "
                               "long-context price replaces")
        key = (band.model, band.service_tier, band.valid_from, band.min_prompt_tokens)
        if key in seen:
            raise CatalogError(f"{where}: the same band as line {seen[key]}")
        seen[key] = line
        out.append(band)
    return out


@_cached_by_file
def read_unit_prices(path: Path) -> list[UnitPrice]:
    """The shipped per-unit prices (``model_unit_prices.csv``); errors name the line: a unit
    the Usage API does not report (``UNIT_OF_ENDPOINT``), a negative price, or two rows for
    one model and unit starting on the same day."""
    out: list[UnitPrice] = []
    seen: dict[tuple, int] = {}
    for line, r in _rows(path, UNIT_PRICE_COLUMNS):
        where = f"{path.name} line {line}"
        unit = (r["unit"] or "").strip()
        if unit not in UNIT_OF_ENDPOINT.values():
            raise CatalogError(f"{where}: unit {unit!r} is not one of "
                               f"{sorted(UNIT_OF_ENDPOINT.values())}")
        price = UnitPrice(
            model=r["model"].strip(),
            unit=unit,
            valid_from=_date(r["valid_from"], where) or dt.date(2020, 1, 1),
            valid_to=_date(r["valid_to"], where),
            usd_per_1m_units=_price(r["usd_per_1m_units"], f"{where} usd_per_1m_units",
                                    per="unit"),
            source=r["source"].strip(),
        )
        key = (price.model, price.unit, price.valid_from)
        if key in seen:
            raise CatalogError(f"{where}: the same model, unit and start as line {seen[key]}")
        seen[key] = line
        out.append(price)
    return out


def apply_band_overrides(bands: list[PriceBand], overrides: list[Price]) -> list[PriceBand]:
    """The list's default-tier long-context prices of a model, cut around the windows of its
    price overrides, as its price rows are (``apply_overrides``): a negotiated price is the
    price of every request on those dates, the list's long-context rates would be neither."""
    windows: dict[str, list[Price]] = {}
    for o in overrides:
        windows.setdefault(o.model, []).append(o)
    return _cut_around(bands, windows)


def bands_by_prompt_band(bands: list[PriceBand]) -> list[PriceBand]:
    """One row per model, service tier, window and staged band (``schema.PROMPT_BANDS``) that
    a long-context price applies to, ``prompt_band`` set: the band of the largest threshold
    at or below it (a model priced above 200k prices a request staged in the 272k band at its
    200k rates). The warehouse then finds a request's prices by equality."""
    groups: dict[tuple, list[PriceBand]] = {}
    for band in bands:
        groups.setdefault((band.model, band.service_tier, band.valid_from, band.valid_to),
                          []).append(band)
    out = []
    for rows in groups.values():
        for staged in PROMPT_BANDS:
            below = [b for b in rows if b.min_prompt_tokens <= staged]
            if below:
                out.append(replace(max(below, key=lambda b: b.min_prompt_tokens),
                                   prompt_band=staged))
    return sorted(out, key=lambda b: (b.model, b.service_tier or "", b.valid_from,
                                      b.prompt_band or 0))


def with_band(price: Price, band: PriceBand | None) -> Price:
    """The prices a request pays: ``price``, with ``band``'s in place of its own where the
    request's prompt exceeds the band's threshold (``band`` given); a price the band leaves
    empty is the row's. The same rule as ``sql/macros/money.sql`` ``radar_banded``."""
    if band is None:
        return price
    return replace(price, input_usd_per_1m=band.input_usd_per_1m, **{
        c: getattr(price, c) if getattr(band, c) is None else getattr(band, c)
        for c in BAND_OPTIONAL_PRICES})


@_cached_by_file
def read_lifecycle(path: Path) -> list[Lifecycle]:
    out = []
    header = ["model", "announced_date", "shutdown_date", "replacement_model", "source"]
    for line, r in _rows(path, header):
        where = f"{path.name} line {line}"
        out.append(Lifecycle(
            model=r["model"].strip(),
            announced_date=_date(r["announced_date"], where),
            shutdown_date=_date(r["shutdown_date"], where),
            replacement_model=(r["replacement_model"] or "").strip() or None,
            replacement_note=(r.get("replacement_note") or "").strip() or None,
            source=r["source"].strip(),
        ))
    return out


def read_price_overrides(path: Path) -> Overrides:
    """Rows of ``RADAR_CATALOG_OVERRIDES`` (contract, section 4); errors name the line.

    A row gives token prices (input and output, then the optional cached, audio, image and
    cache-write ones), a price per 1M units (``UNIT_OVERRIDE_COLUMNS``: a model billed by
    the second or the character), or both: a negotiated whisper-1 needs no token price."""
    prices: list[Price] = []
    unit_prices: list[UnitPrice] = []
    for line, r in _rows(path, OVERRIDE_HEADER):
        where = f"{path} line {line}"
        model = (r["model"] or "").strip()
        if not model:
            raise CatalogError(f"{where}: model is empty")
        start = _date(r["valid_from"], where)
        if start is None:
            raise CatalogError(f"{where}: valid_from is required")
        end = _date(r["valid_to"], where)
        if end is not None and end <= start:
            raise CatalogError(f"{where}: valid_to {end} is not after valid_from {start}")
        source = f"override {path.name} line {line}"
        units = [UnitPrice(model, unit, start, end, price, source)
                 for column, unit in UNIT_OVERRIDE_COLUMNS.items()
                 if (price := _price(r.get(column), f"{where} {column}", required=False,
                                     per="unit")) is not None]
        unit_prices.extend(units)
        given = [c for c in ("input_usd_per_1m", "output_usd_per_1m", "cached_input_usd_per_1m",
                             *itertools.chain.from_iterable(MODAL_PRICE_COLUMNS))
                 if (r.get(c) or "").strip()]
        if units and not {"input_usd_per_1m", "output_usd_per_1m"} & set(given):
            if given:  # half a token price: which input or output price was meant?
                raise CatalogError(f"{where}: {given[0]} is a token price: give "
                                   "input_usd_per_1m and output_usd_per_1m with it")
            continue  # a price per unit alone
        if not given:
            raise CatalogError(
                f"{where}: no price: give input_usd_per_1m and output_usd_per_1m, or a price "
                f"per 1M units ({', '.join(UNIT_OVERRIDE_COLUMNS)})")
        prices.append(Price(
            model=model, valid_from=start, valid_to=end,
            input_usd_per_1m=_price(r["input_usd_per_1m"], f"{where} input_usd_per_1m"),
            cached_input_usd_per_1m=_price(r["cached_input_usd_per_1m"],
                                           f"{where} cached_input_usd_per_1m", required=False),
            output_usd_per_1m=_price(r["output_usd_per_1m"], f"{where} output_usd_per_1m"),
            batch_discount=DEFAULT_BATCH_DISCOUNT,
            source=source,
            **_modal_prices(r, where),
        ))
    return Overrides(prices, unit_prices)


def read_overrides(path: Path) -> list[Price]:
    """The token price rows of ``RADAR_CATALOG_OVERRIDES`` (``read_price_overrides``)."""
    return read_price_overrides(path).prices


def read_unit_overrides(path: Path) -> list[UnitPrice]:
    """The prices per 1M units of ``RADAR_CATALOG_OVERRIDES`` (``read_price_overrides``)."""
    return read_price_overrides(path).unit_prices


def read_lifecycle_overrides(path: Path) -> list[Lifecycle]:
    """Rows of ``RADAR_LIFECYCLE_OVERRIDES``: a retirement announced after the shipped catalog
    was built, a postponed date, another replacement, or (both dates empty) a retirement
    withdrawn. Header ``model,announced_date,shutdown_date,replacement_model`` (an optional
    ``replacement_note``); errors name the line."""
    out: list[Lifecycle] = []
    lines: dict[str, int] = {}
    for line, r in _rows(path, LIFECYCLE_OVERRIDE_HEADER):
        where = f"{path} line {line}"
        model = (r["model"] or "").strip()
        if not model:
            raise CatalogError(f"{where}: model is empty")
        if model in lines:
            raise CatalogError(f"{where}: {model} is already overridden on line {lines[model]}")
        lines[model] = line
        announced = _date(r["announced_date"], f"{where} announced_date")
        shutdown = _date(r["shutdown_date"], f"{where} shutdown_date")
        if announced and shutdown and shutdown < announced:
            raise CatalogError(f"{where}: shutdown_date {shutdown} is before announced_date "
                               f"{announced}")
        replacement = (r["replacement_model"] or "").strip() or None
        if replacement == model:
            raise CatalogError(f"{where}: {model} cannot be its own replacement")
        out.append(Lifecycle(
            model=model, announced_date=announced, shutdown_date=shutdown,
            replacement_model=replacement,
            replacement_note=(r.get("replacement_note") or "").strip() or None,
            source=f"override {path.name} line {line}",
        ))
    return out


def lifecycle_override_effects(builtin: list[Lifecycle],
                               overrides: list[Lifecycle]) -> list[tuple[str, str, str]]:
    """For each override row: (model, what the shipped catalog says, what the override says),
    each as ``announced -> shutdown, replacement``; an override the catalog has caught up with
    reads ``same as the catalog`` and can be deleted."""
    def said(row: Lifecycle | None) -> str:
        if row is None:
            return "not in the catalog"
        if row.shutdown_date is None and row.announced_date is None:
            return "not retiring"
        return (f"{row.announced_date or '?'} -> {row.shutdown_date or 'no date'}, "
                f"{row.replacement_model or 'no replacement'}")
    shipped = {row.model: row for row in builtin}
    out = []
    for o in overrides:
        before, after = said(shipped.get(o.model)), said(o)
        out.append((o.model, before, SAME_AS_CATALOG if before == after else after))
    return out


def apply_lifecycle_overrides(builtin: list[Lifecycle],
                              overrides: list[Lifecycle]) -> list[Lifecycle]:
    """An override row replaces the built-in row of that exact model, or adds one.

    Exact name only, as for prices: an override of ``gpt-4o`` reaches a dated snapshot that
    has no row of its own through the usual resolution, and leaves alone one that has."""
    replaced = {o.model for o in overrides}
    kept = [row for row in builtin if row.model not in replaced]
    return sorted(kept + overrides, key=lambda row: row.model)


@dataclass(frozen=True)
class ReplacementOption:
    """One replacement the provider names for a retiring model: ``option_rank`` 1 is the
    recommended one (the lifecycle row's ``replacement_model``), the others follow in the
    order the provider's words name them."""

    model: str
    option_rank: int
    replacement_model: str
    source: str


def replacement_options(rows: Iterable[Lifecycle]) -> list[ReplacementOption]:
    """Every replacement named for each model: its ``replacement_model`` first, then the other
    models its ``replacement_note`` names (whisper-1's "gpt-live-transcribe or
    gpt-transcribe" gives both; dall-e-3's "gpt-image-2, gpt-image-1, or gpt-image-1-mini"
    three). Each name once; a model never replaces itself; no replacement, no options."""
    out: list[ReplacementOption] = []
    for row in rows:
        if row.replacement_model is None:
            continue
        names = dict.fromkeys([row.replacement_model, *named_models(row.replacement_note)])
        names.pop(row.model, None)
        out.extend(ReplacementOption(row.model, rank, name, row.source)
                   for rank, name in enumerate(names, start=1))
    return out


def _priced_thing(row: Price | PriceBand | UnitPrice) -> str:
    """What an override of ``row``'s price replaces: a model's token prices, or its price in
    one unit (``whisper-1 seconds``)."""
    return f"{row.model} {row.unit}" if isinstance(row, UnitPrice) else row.model


def _by_priced_thing(overrides: Iterable[_Windowed]) -> dict[str, list[_Windowed]]:
    """Override rows by what they price (``_priced_thing``), each list by start; two rows of
    one thing that overlap are an error: which one applies would be a guess."""
    by_thing: dict[str, list[_Windowed]] = {}
    for o in sorted(overrides, key=lambda p: (_priced_thing(p), p.valid_from)):
        prev = by_thing.setdefault(_priced_thing(o), [])
        if prev and (prev[-1].valid_to is None or prev[-1].valid_to > o.valid_from):
            raise CatalogError(f"overrides for {_priced_thing(o)} overlap: {prev[-1].source} "
                               f"and {o.source}")
        prev.append(o)
    return by_thing


def _cut_around(rows: list[_Windowed], overrides: Mapping[str, Sequence[Price | UnitPrice]]
                ) -> list[_Windowed]:
    """``rows`` with each default-tier row's validity cut around the windows of the
    ``overrides`` of what it prices (``_priced_thing``); flex and priority rows are left as
    they are."""
    out: list[_Windowed] = []
    for row in rows:
        pieces = [row]
        for o in (overrides.get(_priced_thing(row), [])
                  if getattr(row, "service_tier", None) is None else []):
            pieces = [q for p in pieces for q in _subtract(p, o.valid_from, o.valid_to)]
        out.extend(pieces)
    return out


def replaced_by_overrides(rows: list[_Windowed], overrides: Sequence[_Override]
                         ) -> list[_Windowed]:
    """The parts of the shipped ``rows`` (price rows, long-context prices or unit prices) that
    the ``overrides`` replace: each default-tier row cut to the windows of the overrides of
    what it prices, its own source kept. The complement of what ``apply_overrides`` keeps:
    the list price of the dates a negotiated price covers, for FOCUS's ``ListCost`` beside
    the ``ContractedCost`` at the negotiated price. A model the catalog does not know has
    none: its override is its list price too."""
    by_thing = _by_priced_thing(overrides)
    out: list[_Windowed] = []
    for row in rows:
        if getattr(row, "service_tier", None) is not None:
            continue
        for o in by_thing.get(_priced_thing(row), []):
            start = max(row.valid_from, o.valid_from)
            ends = [d for d in (row.valid_to, o.valid_to) if d is not None]
            end = min(ends) if ends else None
            if end is None or start < end:
                out.append(replace(row, valid_from=start, valid_to=end))
    return out


def _subtract(row: _Windowed, cut_from: dt.date, cut_to: dt.date | None) -> list[_Windowed]:
    """The parts of ``row``'s validity outside [cut_from, cut_to)."""
    pieces = []
    if row.valid_from < cut_from:
        end = cut_from if row.valid_to is None else min(row.valid_to, cut_from)
        pieces.append(replace(row, valid_to=end))
    if cut_to is not None and (row.valid_to is None or row.valid_to > cut_to):
        start = max(row.valid_from, cut_to)
        pieces.append(replace(row, valid_from=start))
    return [p for p in pieces if p.valid_to is None or p.valid_from < p.valid_to]


def _inherited_modal(override: Price, base: Price | None) -> dict[str, Any]:
    """An override's audio prices and its image prices: for each group its own if it gives
    any, else the built-in row's. Its cache-write price is its own only (none: its input
    price): a negotiated input price with the list price for cache writes would be neither."""
    out: dict[str, Any] = {}
    for group in INHERITED_PRICE_COLUMNS:
        own = {c: getattr(override, c) for c in group}
        keep = base is None or any(v is not None for v in own.values())
        out |= own if keep else {c: getattr(base, c) for c in group}
    return out


def apply_overrides(builtin: list[Price], overrides: list[Price]) -> list[Price]:
    """Override rows replace the built-in price of that exact model for the dates they cover.

    Built-in rows are cut around each override's window; an override keeps the batch
    discount, mode and provider of the built-in row it replaces (a discount of 0.5 and no
    mode or provider where the model is new), and its audio or image prices where the
    override gives none (an override of an audio model's text prices leaves its audio at list
    price).
    Overrides of the same model that overlap each other are an error: which one applies
    would be a guess. Overrides set the default tier's price; flex and priority rows are
    left as they are.
    """
    by_model = _by_priced_thing(overrides)
    result = _cut_around(builtin, by_model)
    for model, rows in by_model.items():
        base = next((p for p in builtin if p.model == model and p.service_tier is None), None)
        discount = base.batch_discount if base else DEFAULT_BATCH_DISCOUNT
        result.extend(replace(o, batch_discount=discount, mode=base.mode if base else None,
                              provider=base.provider if base else None,
                              **_inherited_modal(o, base))
                      for o in rows)
    return sorted(result, key=lambda p: (p.model, p.valid_from))


def apply_unit_overrides(builtin: list[UnitPrice], overrides: list[UnitPrice]
                         ) -> list[UnitPrice]:
    """Override rows replace the built-in price of that exact model in that unit for the dates
    they cover, as ``apply_overrides`` does for token prices (overlapping overrides of one
    model and unit are an error)."""
    by_thing = _by_priced_thing(overrides)
    kept = _cut_around(builtin, by_thing)
    return sorted(kept + [o for rows in by_thing.values() for o in rows],
                  key=lambda u: (u.model, u.unit, u.valid_from))


def read_team_directory(path: Path) -> tuple[list[TeamKey], list[str]]:
    """Valid team mappings and a list of problems (lines that cannot be read, bad key types,
    conflicting duplicates), in the file's order.

    Besides the contract's ``key_type,key_value,team``, an optional ``owner`` column names
    who to contact about the team; the weekly report shows it.

    A problem row is skipped, never guessed: the usage it would have matched falls through to
    the next key in precedence order (or ``unassigned``), and the problem is reported.
    """
    keys: dict[tuple[str, str], TeamKey] = {}
    problems: list[tuple[int, str]] = []
    for line, r in _rows(path, TEAM_HEADER, problems):
        kt, kv, team = ((r[c] or "").strip() for c in TEAM_HEADER)
        where = f"{path.name} line {line}"
        if kt not in TEAM_KEY_TYPES:
            problems.append((line, f"{where}: key_type {kt!r} is not one of "
                                   f"{list(TEAM_KEY_TYPES)}"))
            continue
        if not kv or not team:
            problems.append((line, f"{where}: key_value and team are required"))
            continue
        prev = keys.get((kt, kv))
        if prev and prev.team != team:
            problems.append((line, f"{where}: {kt} {kv} already maps to {prev.team!r}; "
                                   f"kept that, ignored {team!r}"))
            continue
        keys[(kt, kv)] = TeamKey(kt, kv, team, (r.get("owner") or "").strip() or None)
    return list(keys.values()), [text for _, text in sorted(problems, key=lambda p: p[0])]


@dataclass(frozen=True)
class BillingAccount:
    """The account a provider bills this company's usage to, as ``RADAR_BILLING_ACCOUNTS``
    names it: FOCUS's ``BillingAccountId`` and ``-Name`` of the usage whose exports name none
    (a gateway's spend log; OpenAI's API pages without a cost export naming the
    organisation)."""
    provider: str  # FOCUS ProviderName as marts.focus_costs gives it (OpenAI, Anthropic, ...)
    billing_account_id: str
    billing_account_name: str | None
    source: str


def read_billing_accounts(path: Path) -> list[BillingAccount]:
    """Rows of ``RADAR_BILLING_ACCOUNTS``: header ``provider,billing_account_id`` and an
    optional ``billing_account_name``; one row per provider (named as FOCUS's ProviderName,
    in any case). A mistake stops the read, naming the line: an account set wrongly would
    put a provider's whole bill on it."""
    out: dict[str, BillingAccount] = {}
    lines: dict[str, int] = {}
    for line, r in _rows(path, BILLING_ACCOUNT_HEADER):
        where = f"{path} line {line}"
        provider = (r["provider"] or "").strip()
        account = (r["billing_account_id"] or "").strip()
        if not provider or not account:
            raise CatalogError(f"{where}: provider and billing_account_id are required")
        if (first := lines.get(provider.casefold())) is not None:
            raise CatalogError(f"{where}: {provider} already has an account, on line {first}; "
                               "a provider bills one account here")
        lines[provider.casefold()] = line
        out[provider.casefold()] = BillingAccount(
            provider, account, (r.get("billing_account_name") or "").strip() or None,
            f"{path.name} line {line}")
    return list(out.values())
