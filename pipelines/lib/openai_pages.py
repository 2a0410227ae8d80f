"""OpenAI Usage API and Costs API responses saved as files.

A file holds one page object, a JSON array of page objects, a bare JSON array of bucket objects
(what the cookbook notebook saves), or JSON Lines with one page per line. Every token sub-field
and `service_tier` may be missing (older and newer field sets both occur). Results are
dispatched on their `object` tag; an unknown tag is rejected with a reason, never guessed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl

from pipelines.lib import openai_directory
from pipelines.lib.schema import (
    COST_SCHEMA,
    MAX_AMOUNT_USD,
    MAX_BUCKET_SECONDS,
    MAX_COUNT,
    MAX_EPOCH_SECONDS,
    USAGE_SCHEMA,
    ColumnType,
    usage_key,
)

SOURCE = "openai_usage_api"

#: result object tag -> (endpoint, request field, unit field, unit name, extra dimensions)
RESULT_TYPES: dict[str, tuple[str, str | None, str | None, str | None, tuple[str, ...]]] = {
    "organization.usage.completions.result": ("completions", "num_model_requests", None, None, ()),
    "organization.usage.embeddings.result": ("embeddings", "num_model_requests", None, None, ()),
    "organization.usage.moderations.result": ("moderations", "num_model_requests", None, None, ()),
    "organization.usage.images.result": (
        "images", "num_model_requests", "images", "images", ("size", "source")),
    "organization.usage.audio_speeches.result": (
        "audio_speeches", "num_model_requests", "characters", "characters", ()),
    "organization.usage.audio_transcriptions.result": (
        "audio_transcriptions", "num_model_requests", "seconds", "seconds", ()),
    "organization.usage.vector_stores.result": (
        "vector_stores", None, "usage_bytes", "bytes", ()),
    "organization.usage.code_interpreter_sessions.result": (
        "code_interpreter_sessions", None, "num_sessions", "sessions", ()),
    "organization.usage.file_searches.result": (
        "file_searches", "num_requests", None, None, ("vector_store_id",)),
    "organization.usage.web_searches.result": (
        "web_searches", "num_model_requests", "num_requests", "search_calls",
        ("context_level",)),
}
COSTS_TAG = "organization.costs.result"
TOKEN_ENDPOINTS = {"completions", "embeddings", "moderations"}


class NotAUsagePage(ValueError):
    """The JSON is valid but is not a Usage/Costs API page (or a list of its buckets)."""


@dataclass
class ParsedPages:
    usage: pl.DataFrame
    costs: pl.DataFrame
    rows_read: int
    kinds: set[str] = field(default_factory=set)


def _count(value: Any, name: str, required: bool) -> int:
    """A count as an int: a JSON integer, or a float that is whole (``10.0``, ``1e3``).
    Judged in the order, and so with the reasons, of the CSV readers (tests/test_count_texts):
    no number, negative, a fraction, over :data:`MAX_COUNT` (infinity among them)."""
    if value is None:
        if required:
            raise ValueError(f"missing required count {name}")
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} is not a whole number: {value!r}")
    if isinstance(value, float) and math.isnan(value):  # JSON's reader takes the literal NaN
        raise ValueError(f"{name} is not a number: {value!r}")
    if value < 0:
        raise ValueError(f"negative {name}: {value}")
    if isinstance(value, float) and not (value.is_integer() or math.isinf(value)):
        raise ValueError(f"{name} is not a whole number: {value!r}")
    if value > MAX_COUNT:
        raise ValueError(f"{name} implausibly large (over 10^15): {value}")
    return int(value)


def _dim(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} is not a string: {value!r}")
    return value


def _ts(value: Any, name: str) -> dt.datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"bucket {name} is not Unix seconds: {value!r}")
    if value > 10**15:
        raise ValueError(f"bucket {name} implausibly large (over 10^15): {value!r}")
    if not 0 <= value < MAX_EPOCH_SECONDS:
        raise ValueError(f"bucket {name} is not Unix seconds (before 1970 or after 2100; "
                         f"milliseconds?): {value!r}")
    return dt.datetime.fromtimestamp(value, dt.UTC)


def _huge_int(text: str) -> int | float:
    """A JSON integer as an int, or, past the digits Python converts (4,300 unless
    ``sys.set_int_max_str_digits`` says otherwise), as an infinity of its sign."""
    limit = sys.get_int_max_str_digits()
    if not limit or len(text.lstrip("-")) <= limit:
        return int(text)
    return -math.inf if text.startswith("-") else math.inf


_DECODER = json.JSONDecoder()
#: reads an integer too long for Python as infinity (:func:`_huge_int`): the count that has
#: it is then quarantined ("implausibly large", "negative"), the file's other rows load
_HUGE_INT_DECODER = json.JSONDecoder(parse_int=_huge_int)


def iter_pages(text: str) -> list[Any]:
    """Split a file's text into its top-level JSON documents: one, an array, JSON Lines, or
    documents one after another however they are laid out (``curl ... >> usage.json`` in a
    paging loop appends each page's pretty-printed response).

    Python refuses an integer of more than 4,300 digits, and the refusal took the whole file
    with it; such a file is read again with :data:`_HUGE_INT_DECODER` (whose hook, called on
    every integer, would cost every file: ~0.1 s of the benchmark's year of pages, 32 MB)."""
    try:
        return _iter_pages(text, _DECODER)
    except ValueError as exc:
        if "integer string conversion" not in str(exc):
            raise
        return _iter_pages(text, _HUGE_INT_DECODER)


def _iter_pages(text: str, decoder: json.JSONDecoder) -> list[Any]:
    if not text.strip():
        return []
    try:
        return _as_pages(decoder.decode(text))
    except json.JSONDecodeError as first_error:
        if first_error.msg != "Extra data":  # the first document itself is broken
            raise ValueError(f"invalid JSON: {first_error}") from first_error
        docs: list[Any] = []
        pos = 0
        while (pos := _skip_space(text, pos)) < len(text):
            try:
                doc, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                line, start = exc.lineno, text.count("\n", 0, pos) + 1
                where = "" if line == start else f" (in the document from line {start})"
                raise ValueError(f"invalid JSON on line {line}{where}: {exc.msg}") from exc
            docs.extend(_as_pages(doc))
        return docs


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n\ufeff":  # a BOM of each file cat joined
        pos += 1
    return pos


def _as_pages(doc: Any) -> list[Any]:
    """One JSON document as a list of pages: a page, an array of pages, or a bare array of
    bucket objects (what the cookbook notebook saves) wrapped in one page. An empty array is
    such a save of a period without usage (or an array of no pages): one page of no buckets,
    loaded with no rows like an API page whose ``data`` is empty, not a rejected file."""
    if isinstance(doc, list):
        if all(isinstance(d, dict) and d.get("object") == "bucket" for d in doc):
            return [{"object": "page", "data": doc}]
        return doc
    return [doc]


def _is_models_list(doc: object) -> bool:
    """A saved ``GET /v1/models`` response: ``{"object": "list", "data": [{"object":
    "model", ...}]}``."""
    return (isinstance(doc, dict) and doc.get("object") == "list"
            and isinstance(doc.get("data"), list)
            and any(isinstance(m, dict) and m.get("object") == "model" for m in doc["data"]))


def parse_pages(text: str) -> ParsedPages:
    """Parse the text of a saved Usage/Costs API response into typed rows and rejects."""
    return parse_documents(iter_pages(text))


def parse_documents(pages: list[Any]) -> ParsedPages:
    """Parse the documents of a file (:func:`iter_pages`) into typed rows and rejects."""
    if not pages:
        raise NotAUsagePage("no page objects in the file")
    usage_rows: list[tuple] = []
    cost_rows: list[tuple] = []
    kinds: set[str] = set()
    position = 0
    for page_no, page in enumerate(pages):
        if not isinstance(page, dict) or page.get("object") != "page" or not isinstance(
            page.get("data"), list
        ):
            if (kind := openai_directory.list_kind(page)) is not None:
                raise NotAUsagePage(
                    f"document {page_no + 1} is a {openai_directory.NOUNS[kind]} list, in a "
                    "file of other documents: save key, project and user lists in files of "
                    "their own, one kind a file")
            if _is_models_list(page):
                raise NotAUsagePage(
                    "a Models API list (GET /v1/models), not usage: its shutdown dates go "
                    "into the catalog (`.venv/bin/python -m pipelines.lib.catalog_build "
                    "--models-json FILE`), not the landing folder")
            raise NotAUsagePage(
                f"document {page_no + 1} is not a usage/costs page "
                "(expected an object with \"object\": \"page\" and a \"data\" list)"
            )
        for bucket in page["data"]:
            results = bucket.get("results") if isinstance(bucket, dict) else None
            if not isinstance(results, list):
                usage_rows.append(_reject(position, "bucket without a results list",
                                          json.dumps(bucket)[:2000]))
                position += 1
                continue
            # the bucket's times, checked once for all its results (a bad time rejects each
            # result); the rows keep them as Unix seconds (see _frame)
            try:
                start, end = bucket.get("start_time"), bucket.get("end_time")
                start_at = _ts(start, "start_time")
                end_at = _ts(end, "end_time")
                if end_at <= start_at:
                    raise ValueError("bucket end_time is not after start_time")
                if (seconds := int((end_at - start_at).total_seconds())) > MAX_BUCKET_SECONDS:
                    raise ValueError(f"bucket longer than a day ({seconds} s): the Usage and "
                                     "Costs APIs' buckets are 1m, 1h or 1d wide")
                bucket_error = None
            except ValueError as exc:
                bucket_error = exc
            for result in results:
                raw: str | None = None  # kept for rejected rows only (built on failure)
                try:
                    if bucket_error is not None:
                        raise bucket_error
                    if not isinstance(result, dict):
                        raise ValueError("result is not an object")
                    tag = result.get("object")
                    if tag == COSTS_TAG:
                        cost_rows.append(_cost_row(position, start, end, result, raw))
                        kinds.add("costs")
                    elif tag in RESULT_TYPES:
                        usage_rows.append(_usage_row(position, start, end, tag, result, raw))
                        kinds.add("usage")
                    else:
                        raise ValueError(f"unknown result object type {tag!r}")
                except ValueError as exc:
                    raw = json.dumps(
                        {"start_time": bucket.get("start_time"),
                         "end_time": bucket.get("end_time"), "result": result},
                        sort_keys=True, default=str)[:4000]
                    usage_rows.append(_reject(position, str(exc), raw))
                position += 1
    return ParsedPages(
        usage=_frame(usage_rows, USAGE_SCHEMA),
        costs=_frame(cost_rows, COST_SCHEMA),
        rows_read=position,
        kinds=kinds,
    )


def _frame(rows: list[tuple], schema: dict[str, ColumnType]) -> pl.DataFrame:
    """Rows (tuples in ``schema`` order) as a frame, built column by column (~4x faster
    than from row dicts: the Usage API pages of a year are 100k+ rows). Datetime columns
    arrive as Unix seconds: polars converts integers at once, while 100k datetime objects
    cost 0.15 s a column (a third of the parse)."""
    if not rows:
        return pl.DataFrame(schema=schema)
    columns = zip(*rows, strict=True)
    return pl.DataFrame([
        _seconds_to_datetime(name, values, dtype) if isinstance(dtype, pl.Datetime)
        else pl.Series(name, values, dtype=dtype, strict=True)
        for (name, dtype), values in zip(schema.items(), columns, strict=True)])


def _seconds_to_datetime(name: str, seconds: tuple, dtype: pl.Datetime) -> pl.Series:
    micros = pl.Series(name, seconds, dtype=pl.Int64, strict=True) * 1_000_000
    return micros.cast(pl.Datetime("us")).dt.replace_time_zone(dtype.time_zone).cast(dtype)


def _reject(position: int, reason: str, raw: str) -> tuple:
    row: dict[str, Any] = dict.fromkeys(USAGE_SCHEMA)
    row.update(position=position, source=SOURCE, reason=reason, raw=raw)
    return tuple(row.values())


def _usage_row(position: int, start: int, end: int, tag: str, r: dict, raw: str | None
               ) -> tuple:
    endpoint, req_field, unit_field, unit_name, extra = RESULT_TYPES[tag]
    requests = _count(r.get(req_field), req_field, required=True) if req_field else 0
    units = _count(r.get(unit_field), unit_field, required=True) if unit_field else None
    if endpoint in TOKEN_ENDPOINTS:
        input_tokens = _count(r.get("input_tokens"), "input_tokens", required=True)
        cached = _count(r.get("input_cached_tokens"), "input_cached_tokens", required=False)
        output = _count(
            r.get("output_tokens"), "output_tokens", required=endpoint == "completions"
        )
        if cached > input_tokens:
            raise ValueError(
                f"input_cached_tokens ({cached}) exceeds input_tokens ({input_tokens})"
            )
        parts = _modal_tokens(r, input_tokens, cached, output)
    else:
        input_tokens = cached = output = 0
        parts = NO_PARTS
    batch = r.get("batch")
    if batch is not None and not isinstance(batch, bool):
        raise ValueError(f"batch is not a boolean: {batch!r}")
    project, user = _dim(r.get("project_id"), "project_id"), _dim(r.get("user_id"), "user_id")
    api_key, model = _dim(r.get("api_key_id"), "api_key_id"), _dim(r.get("model"), "model")
    tier = _dim(r.get("service_tier"), "service_tier")
    extra_dims = (";".join(f"{k}={_dim(r.get(k), k) or ''}" for k in extra) or None
                  if extra else None)
    key = usage_key(endpoint, start, project, user, api_key, model, batch, tier, extra_dims)
    # in USAGE_SCHEMA order; the Usage API does not split out 1-hour cache writes
    return (position, SOURCE, endpoint, None, start, end, project, user, api_key, model, batch,
            tier, extra_dims, None, None, None, requests, 0, input_tokens, cached, output,
            *parts, 0, units, unit_name, key, None, raw)


#: the parts of a completions result's totals, in the order of ``schema.AUDIO_TOKENS``,
#: ``schema.IMAGE_TOKENS`` and ``schema.CACHE_WRITE_TOKENS``
MODAL_FIELDS = ("input_audio_tokens", "input_cached_audio_tokens", "output_audio_tokens",
                "input_image_tokens", "input_cached_image_tokens", "output_image_tokens",
                "input_cache_write_tokens")
#: each total and the parts inside it (the input that is not cached reads holds the uncached
#: audio and image input and the cache writes)
MODAL_GROUPS = ((("input_audio_tokens", "input_image_tokens", "input_cache_write_tokens"),
                 "the uncached input tokens"),
                (("input_cached_audio_tokens", "input_cached_image_tokens"),
                 "input_cached_tokens"),
                (("output_audio_tokens", "output_image_tokens"), "output_tokens"))
NO_PARTS = (0,) * len(MODAL_FIELDS)


def _modal_tokens(r: dict, input_tokens: int, cached: int, output: int) -> tuple[int, ...]:
    """The audio and image parts of a completions result and its cache writes
    (:data:`MODAL_FIELDS`), 0 where absent; the parts of each total together are checked
    against it (:data:`MODAL_GROUPS`). Most results have none (absent, or 0 from pages since
    2026-07-15): answered without the checks, which cost a third of a year's page parse."""
    for value in map(r.get, MODAL_FIELDS):
        if value is not None and (value.__class__ is not int or value):
            break
    else:
        return NO_PARTS
    totals = {"the uncached input tokens": input_tokens - cached,
              "input_cached_tokens": cached, "output_tokens": output}
    counts: dict[str, int] = {}
    for names, total_name in MODAL_GROUPS:
        parts = {f: _count(r.get(f), f, required=False) for f in names}
        if sum(parts.values()) > (total := totals[total_name]):
            named = " + ".join(f for f, n in parts.items() if n)
            raise ValueError(f"{named} ({sum(parts.values())}) exceeds {total_name} ({total})")
        counts |= parts
    return tuple(counts[f] for f in MODAL_FIELDS)


def _cost_row(position: int, start: int, end: int, r: dict, raw: str | None) -> tuple:
    amount = r.get("amount")
    if not isinstance(amount, dict) or "value" not in amount:
        raise ValueError("costs result without amount.value")
    value = amount["value"]
    dec = _decimal(value, "amount.value")
    if abs(dec) >= MAX_AMOUNT_USD:
        raise ValueError(f"amount.value implausibly large (over 10^15 USD): {value!r}")
    currency = (amount.get("currency") or "usd").lower()
    if currency != "usd":
        raise ValueError(f"currency {currency!r} is not usd")
    project = _dim(r.get("project_id"), "project_id")
    api_key = _dim(r.get("api_key_id"), "api_key_id")
    line_item = _dim(r.get("line_item"), "line_item")
    key = "|".join(["costs", str(start), project or "", api_key or "", line_item or ""])
    # in COST_SCHEMA order
    return (position, SOURCE, start, end, project, api_key, line_item, format(dec, "f"),
            currency, _quantity(r.get("quantity")), _dim(r.get("quantity_unit"), "quantity_unit"),
            key, None, raw)


def _decimal(value: Any, name: str) -> Decimal:
    """A JSON number (or a number written as a string) as the exact decimal it prints as
    (``repr`` of a float: ``0.1`` is 0.1, not its binary neighbour)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} is not a number: {value!r}")
    try:
        dec = Decimal(value if isinstance(value, str) else repr(value))
    except InvalidOperation as exc:
        raise ValueError(f"{name} is not a number: {value!r}") from exc
    if not dec.is_finite():
        raise ValueError(f"{name} is not finite: {value!r}")
    return dec


def _quantity(value: Any) -> str | None:
    """A costs result's ``quantity`` (how much of its line item was used, in its
    ``quantity_unit``) as exact decimal text; None when absent or null. A value that is no
    number, negative or over MAX_COUNT rejects the row, as a bad count does."""
    if value is None:
        return None
    dec = _decimal(value, "quantity")
    if dec < 0:
        raise ValueError(f"quantity is negative: {value!r}")
    if dec > MAX_COUNT:
        raise ValueError(f"quantity implausibly large (over 10^15): {value!r}")
    return format(dec, "f")
