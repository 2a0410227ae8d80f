"""OpenAI dashboard exports (CSV): the API fields flattened to one row per bucket x group.

Columns are found by header name, in any order. Counts may be written as floats (``10.0``;
a fractional part is rejected), booleans as ``TRUE``/``FALSE``, and a row whose every
non-time column is empty stands for an empty bucket (skipped: it is not usage), also with
the organisation's id and name filled. The audio
columns (``input_audio_tokens``, ``input_cached_audio_tokens``, ``output_audio_tokens``) are
read as parts of the totals, as in the API (``schema.AUDIO_TOKENS``), and so are the image
columns (``schema.IMAGE_TOKENS``). A file with
output or cached-token columns holds completions usage; one with only input tokens and
request counts holds embeddings usage; one with ``amount_value`` is the cost view.
A sheet that is not UTF-8 is read as Windows-1252, what a spreadsheet on Windows saves
"CSV (Comma delimited)" in (``formats.SHEET_ENCODING``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import NamedTuple

import polars as pl

from pipelines.lib.formats import (
    RaggedRows,
    StrayQuote,
    decode_sheet,
    field_counts,
    first_line,
    quote_problem,
    separator_of,
    wider_row,
)
from pipelines.lib.schema import (
    COST_SCHEMA,
    MAX_AMOUNT_USD,
    MAX_BUCKET_SECONDS,
    MAX_COUNT,
    MAX_EPOCH_SECONDS,
    REPEATED_HEADER,
    SURPLUS_REASON,
    TIME_RANGE,
    USAGE_SCHEMA,
)

SOURCE = "openai_dashboard"
TIME_COLUMNS = ("start_time", "end_time", "start_time_iso", "end_time_iso")
#: the organisation the whole export is of (the cost view has them): a row with nothing
#: else but its times is still an empty bucket
ORGANISATION_COLUMNS = ("organization_id", "organization_name")
DIMENSIONS = ("project_id", "user_id", "api_key_id", "model", "service_tier")


def _str(col: str, present: set[str]) -> pl.Expr:
    if col not in present:
        return pl.lit(None, dtype=pl.String)
    stripped = pl.col(col).str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped)


def _count(col: str, present: set[str]) -> tuple[pl.Expr, pl.Expr]:
    """(value, error) for a count column: whole numbers written as int or float text
    (``10``, ``10.0``, a spreadsheet's ``1e3``); ``NaN`` is not a number (polars orders it
    above every number: it read as "implausibly large")."""
    text = _str(col, present)
    as_float = text.cast(pl.Float64, strict=False)
    as_float = pl.when(as_float.is_nan()).then(None).otherwise(as_float)
    whole = as_float.floor() == as_float
    value = (
        pl.when(text.is_null()).then(0)
        .when(as_float.is_not_null() & whole & (as_float >= 0) & (as_float <= float(MAX_COUNT)))
        .then(as_float.cast(pl.Int64, strict=False))
        .otherwise(None)
    )
    error = (
        pl.when(text.is_null()).then(None)
        .when(as_float.is_null()).then(pl.lit(f"{col} is not a number: ") + text)
        .when(as_float < 0).then(pl.lit(f"negative {col}: ") + text)
        .when(~whole).then(pl.lit(f"{col} is not a whole number: ") + text)
        .when(as_float > float(MAX_COUNT))
        .then(pl.lit(f"{col} implausibly large (over 10^15): ") + text)
        .otherwise(None)
    )
    return value, error


#: the ISO forms a bucket time is written in, tried row by row (a sheet edited by hand mixes
#: them: one inferred format for the column rejected every row written another way)
ISO_WITH_OFFSET = ("%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%:z",
                   "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z")
ISO_NAIVE_UTC = ("%Y-%m-%dT%H:%M:%S%.fZ", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f",
                 "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def _iso(text: pl.Expr) -> pl.Expr:
    """An ISO bucket time in any of the forms above (naive times are UTC), as UTC."""
    with_offset = [text.str.to_datetime(f, strict=False, time_unit="us")
                   .dt.convert_time_zone("UTC") for f in ISO_WITH_OFFSET]
    naive = [text.str.to_datetime(f, strict=False, time_unit="us").dt.replace_time_zone("UTC")
             for f in ISO_NAIVE_UTC]
    return pl.coalesce(*with_offset, *naive)


#: helper columns: each time column's ISO text parsed once (unbounded), then each bucket time
_ISO = {"start_time": "_start_iso", "end_time": "_end_iso"}
_TIMES = {"start_time": "_start", "end_time": "_end"}


def _timestamp(present: set[str], col: str) -> pl.Expr:
    """A bucket time: its Unix seconds, else its ISO text (the ``_ISO`` helper column), within
    ``schema.TIME_RANGE``; NULL when neither is a time there."""
    epoch = _str(col, present).cast(pl.Float64, strict=False)
    from_epoch = (pl.when((epoch >= 0) & (epoch < MAX_EPOCH_SECONDS)).then(epoch * 1_000_000)
                  .cast(pl.Int64, strict=False).cast(pl.Datetime("us", "UTC")))
    iso = pl.col(_ISO[col])
    low, high = (dt.datetime.combine(d, dt.time(), dt.UTC) for d in TIME_RANGE)
    return pl.coalesce(from_epoch, pl.when((iso >= low) & (iso < high)).then(iso))


class DashboardSheet(NamedTuple):
    kind: str  # usage or costs
    rows: pl.DataFrame  # each with its `reason` (NULL: good)
    rows_read: int
    encoding: str  # utf-8, or SHEET_ENCODING for a sheet that is not UTF-8
    #: the OpenAI organisations the sheet's rows name (its ``organization_id`` values, sorted):
    #: one for an export, none where the sheet has no such column; each with the name it goes
    #: by (``organization_name``; the last row's that gives one), None where no row names it
    organizations: dict[str, str | None]


def organizations_of(df: pl.DataFrame) -> dict[str, str | None]:
    """The ``organization_id`` values of a sheet read as text, sorted, each once: what it
    names as its organisation (a second export's header line and empty cells left out),
    each with the ``organization_name`` that the last row giving one has for it (None: no
    row does, or the sheet has no such column)."""
    if "organization_id" not in df.columns:
        return {}
    name = (pl.col("organization_name").str.strip_chars() if "organization_name" in df.columns
            else pl.lit(None, pl.String))
    rows = df.select(pl.col("organization_id").str.strip_chars().alias("org"), name.alias("name"))
    named = (rows.filter((pl.col("org") != "")
                         & ~pl.col("org").str.to_lowercase().is_in(ORGANISATION_COLUMNS))
             .group_by("org").agg(pl.col("name").filter(pl.col("name") != "").last())
             .sort("org"))
    return dict(zip(named["org"].to_list(), named["name"].to_list(), strict=True))


#: the reason of a sheet's last row when it has fewer fields than the header names and no
#: line end follows it: a download cut mid-line. (A shorter row elsewhere is what a
#: spreadsheet saves when a row's last cells are empty, read as empty.)
CUT_REASON = ("fewer fields than the header names, and no line end after it: the file's "
              "last row, cut short (a download that stopped?); its values would load as "
              "empty")
#: the reason of a sheet's last row when a quoted value in it is still open at the file's end:
#: a download cut inside that value (the cost view's organisation name, or any value of a
#: sheet saved with every value quoted). Read with the value closed there, so that what it
#: held is kept in raw; a quote left open on a line that ends is a stray one (StrayQuote)
CUT_QUOTE_REASON = ("a quoted value still open at the file's end, and no line end after it: "
                    "the file's last row, cut inside that value (a download that stopped?)")
#: the reason of a row with a '"' in a value, in a sheet that quotes no value: a typo (an
#: export quotes only a value that holds the separator, and then the whole value). The sheet
#: is read with '"' as a character like any other, so the other rows load
QUOTE_REASON = ("a '\"' inside a value, in a sheet that quotes no value (a typo?): the row is "
                "set apart, its text kept in raw")
#: the helper columns of a row's width problem and of the fields past the header's last
_RAGGED, _SURPLUS = "_ragged", "_surplus_fields"


def _readable(path: Path) -> tuple[Path | bytes, str, str]:
    """The sheet as polars reads it (UTF-8: the file itself; else its text as Windows-1252,
    re-encoded as UTF-8), its text and the encoding it was read in
    (:func:`formats.decode_sheet`)."""
    text, encoding = decode_sheet(path.read_bytes())
    return (path if encoding == "utf-8" else text.encode("utf-8")), text, encoding


def _cut_in_quote(text: str) -> bool:
    """Whether CSV ``text`` ends inside a quoted value: no line end after its last line, the
    first line whose quotes do not pair up (:func:`formats.quote_problem`), and not its
    header."""
    if text.endswith(("\n", "\r")):
        return False
    found = quote_problem(text)
    last = text.count("\n") + 1
    return found is not None and found[0] == last > 1


def _quotes_nothing(text: str, separator: str) -> bool:
    """Whether CSV ``text`` has a '"' but no quoted value (a '"' at a value's start that
    closes at its end, ``""`` inside), nor a '"' in its header line: every '"' in it is then
    a character typed into a value, not quoting."""
    if '"' not in text or '"' in text.split("\n", 1)[0]:
        return False
    sep = re.escape(separator)
    return re.search(rf'(?:^|{sep})"(?:[^"\n]|"")*"(?={sep}|\r?$)', text, re.M) is None


def _ragged(df: pl.DataFrame, text: str, quotes: bool = True) -> pl.DataFrame:
    """``df`` (read with its rows longer than the header cut to the header's width) with
    ``_RAGGED``, the reason of a row whose width is wrong (``SURPLUS_REASON``; ``CUT_REASON``
    for a last row cut short), and ``_SURPLUS``, the fields a longer row had past the header's
    last (JSON text), so a quarantined row keeps all it held. :class:`RaggedRows` when every
    row is longer, or most are (the header lost a name, and the rows that are not longer are
    rows a spreadsheet saved without their last empty cells, which would be read shifted),
    or when the rows' widths cannot be told one by one and a row is longer. ``quotes=False``:
    ``text`` is read with '"' as a character like any other (:data:`QUOTE_REASON`)."""
    counted = field_counts(text, quotes)
    if counted is None or len(counted[1]) != df.height:
        if (found := wider_row(text, quotes)) is not None:
            raise RaggedRows(*found)
        return df.with_columns(pl.lit(None, dtype=pl.String).alias(_RAGGED),
                               pl.lit(None, dtype=pl.String).alias(_SURPLUS))
    names, widths = counted
    filled = [w for w in widths if w]
    if 2 * sum(w > names for w in filled) > len(filled):
        found = wider_row(text, quotes)
        raise RaggedRows(*(found or (2, filled[0], names)))
    cut = (len(widths) - 1 if widths and 0 < widths[-1] < names
           and not text.endswith(("\n", "\r")) else None)
    reasons = [SURPLUS_REASON if w > names else CUT_REASON if i == cut else None
               for i, w in enumerate(widths)]
    surplus: list[str | None] = [None] * len(widths)
    if any(w > names for w in widths):
        rows = csv.reader(io.StringIO(text), delimiter=separator_of(text.split("\n", 1)[0]),
                          quoting=csv.QUOTE_MINIMAL if quotes else csv.QUOTE_NONE)
        next(rows, None)
        surplus = [json.dumps(row[names:], separators=(",", ":")) if len(row) > names else None
                   for row in rows]
    return df.with_columns(pl.Series(_RAGGED, reasons, dtype=pl.String),
                           pl.Series(_SURPLUS, surplus, dtype=pl.String))


def parse_dashboard_csv(path: Path) -> DashboardSheet:
    """The sheet's rows as typed usage or costs rows, each with its reason (NULL: good). A
    row with more fields than the header names is quarantined (``SURPLUS_REASON``), and so is
    a last row cut short (``CUT_REASON``) or cut inside a quoted value (``CUT_QUOTE_REASON``),
    and a row with a '"' in a value of a sheet that quotes no value (``QUOTE_REASON``); a
    sheet whose rows are mostly longer is refused (:class:`RaggedRows`), and so is one that
    quotes values and has a stray quote (:class:`formats.StrayQuote`)."""
    source, text, encoding = _readable(path)
    separator = separator_of(first_line(path))
    # a '"' typed into a sheet that quotes nothing is a character, and its row set apart
    literal = _quotes_nothing(text, separator)
    cut_in_quote = not literal and _cut_in_quote(text)
    if cut_in_quote:  # read with the open value closed where the file ends
        text += '"'
        source = text.encode("utf-8")
    try:
        df = pl.read_csv(source, infer_schema=False, encoding="utf8",
                         empty_string_is_null=False, separator=separator,
                         truncate_ragged_lines=True, quote_char=None if literal else '"')
    except pl.exceptions.ComputeError as exc:
        # polars says "CSV malformed: expected 0 rows, actual 185 rows" or quotes what it
        # could not parse, rows and all: say which line, and why
        if (found := wider_row(text)) is not None:
            raise RaggedRows(*found) from exc
        if (quote := quote_problem(text)) is not None:
            raise StrayQuote(*quote) from exc
        raise
    df = df.rename({c: c.strip().lstrip("\ufeff") for c in df.columns})
    header = df.columns
    present = set(header)
    organizations = organizations_of(df)
    measure_cols = [c for c in header if c not in (*TIME_COLUMNS, *ORGANISATION_COLUMNS)]
    df = _ragged(df, text, quotes=not literal)
    if cut_in_quote:
        last = pl.int_range(pl.len()) == pl.len() - 1
        df = df.with_columns(pl.when(last).then(pl.lit(CUT_QUOTE_REASON))
                             .otherwise(pl.col(_RAGGED)).alias(_RAGGED))
    df = df.with_row_index("position").with_columns(pl.col("position").cast(pl.Int64))
    non_empty = pl.any_horizontal(
        [pl.col(c).is_not_null() & (pl.col(c).str.strip_chars() != "") for c in measure_cols]
    ) if measure_cols else pl.lit(False)
    if literal:  # (an empty bucket with a '"' in its times is still an empty bucket)
        quoted = pl.any_horizontal([pl.col(c).str.contains('"', literal=True).fill_null(False)
                                    for c in header])
        df = df.with_columns(pl.when(pl.col(_RAGGED).is_null() & quoted & non_empty)
                             .then(pl.lit(QUOTE_REASON)).otherwise(pl.col(_RAGGED))
                             .alias(_RAGGED))
    df = df.filter(non_empty | pl.col(_RAGGED).is_not_null())
    fields = pl.struct([pl.col(c) for c in header]).struct.json_encode()
    # a longer row's fields past the header's last are kept with it, under a name no export
    # has
    raw = (pl.when(pl.col(_SURPLUS).is_null()).then(fields)
           .otherwise(fields.str.strip_suffix("}") + pl.lit(',"radar_surplus_fields":')
                      + pl.col(_SURPLUS) + pl.lit("}")))
    # each time parsed once, into helper columns the rows below read (and leave out)
    df = df.with_columns(_iso(_str(f"{c}_iso", present)).alias(h) for c, h in _ISO.items())
    df = df.with_columns(_timestamp(present, c).alias(h) for c, h in _TIMES.items())
    start, end = pl.col("_start"), pl.col("_end")
    # two sheets concatenated: the second one's header line is a row (its columns perhaps
    # in another order): a time column holding one of the header's names
    names = [c.lower() for c in header]
    repeated_header = pl.any_horizontal(
        [_str(c, present).str.to_lowercase().is_in(names) for c in TIME_COLUMNS if c in present]
    ).fill_null(False)
    time_error = (
        pl.when(pl.col(_RAGGED).is_not_null()).then(pl.col(_RAGGED))
        .when(repeated_header).then(pl.lit(REPEATED_HEADER))
        .when(start.is_null()).then(_unparseable("start_time", present))
        .when(end.is_null()).then(_unparseable("end_time", present))
        .when(end <= start).then(pl.lit("end_time is not after start_time"))
        .when((end - start).dt.total_seconds() > MAX_BUCKET_SECONDS)
        .then(pl.lit("bucket longer than a day: the dashboard's buckets are 1h or 1d wide"))
        .otherwise(None)
    )
    if "amount_value" in present:
        return DashboardSheet("costs", _costs(df, present, start, end, time_error, raw),
                              len(df), encoding, organizations)
    return DashboardSheet("usage", _usage(df, present, start, end, time_error, raw), len(df),
                          encoding, organizations)


def _unparseable(col: str, present: set[str]) -> pl.Expr:
    """The reason for a bucket time that did not parse: a number past 2100 as Unix seconds
    says so (an export in milliseconds would otherwise date its usage thousands of years
    ahead), and so do a negative one, NaN (which polars orders above every number) and an
    ISO time outside 1970-2100."""
    text = _str(col, present)
    epoch = text.cast(pl.Float64, strict=False)
    iso_text = _str(f"{col}_iso", present)
    return (pl.when(epoch.is_nan()).then(pl.lit(f"{col} is not a number: ") + text)
            .when(epoch >= MAX_EPOCH_SECONDS)
            .then(pl.lit(f"{col} is not Unix seconds (after 2100; milliseconds?): ") + text)
            .when(epoch < 0).then(pl.lit(f"{col} is not Unix seconds (before 1970): ") + text)
            .when(pl.col(_ISO[col]).is_not_null())
            .then(pl.lit(f"{col}_iso outside 1970-2100: ") + iso_text)
            .otherwise(pl.lit(f"unparseable {col}")))


#: a decimal as a cost export writes it: plain (``0.8958740000000000``) or, saved by pandas or
#: a spreadsheet, in scientific notation (``1.25e-05``), read as the exact decimal it prints.
#: An exponent has at most three digits: no amount needs more, and DuckDB's cast to DECIMAL
#: fails on one below -32768 (DuckDB 2.0.0: the whole file's insert, not the row).
DECIMAL_TEXT = r"\d+(\.\d+)?([eE][+-]?\d{1,3})?"


def _costs(df, present, start, end, time_error, raw) -> pl.DataFrame:
    amount = _str("amount_value", present)
    amount_ok = amount.str.contains(rf"^-?{DECIMAL_TEXT}$")
    # at least MAX_AMOUNT_USD (a power of ten): plain, a non-zero digit and as many more
    # before the point as it has zeros; with an exponent, its value as a float (exact to
    # 0.125 USD near 10^15: an amount closer than that may be taken for either side)
    zeros = len(str(MAX_AMOUNT_USD)) - 1
    too_large = (
        pl.when(amount.str.contains("[eE]"))
        .then(amount.cast(pl.Float64, strict=False).abs() >= float(MAX_AMOUNT_USD))
        .otherwise(amount.str.contains(rf"^-?0*[1-9]\d{{{zeros},}}"))
    )
    currency = _str("amount_currency", present).str.to_lowercase().fill_null("usd")
    # the Costs API's quantity of a line item, in an export that has the column (the cost
    # view seen so far does not): a non-negative decimal, written as amount_value may be
    quantity, unit = _str("quantity", present), _str("quantity_unit", present)
    reason = pl.coalesce(
        time_error,
        pl.when(amount.is_null()).then(pl.lit("missing amount_value"))
        .when(~amount_ok).then(pl.lit("amount_value is not a decimal number: ") + amount)
        .when(too_large)
        .then(pl.lit("amount_value implausibly large (over 10^15 USD): ") + amount)
        .when(currency != "usd").then(pl.lit("currency is not usd: ") + currency)
        .when(quantity.str.starts_with("-")).then(pl.lit("quantity is negative: ") + quantity)
        .when(~quantity.str.contains(rf"^{DECIMAL_TEXT}$"))
        .then(pl.lit("quantity is not a decimal number: ") + quantity)
        .when(quantity.cast(pl.Float64, strict=False) > float(MAX_COUNT))
        .then(pl.lit("quantity implausibly large (over 10^15): ") + quantity)
        .otherwise(None),
    )
    project, api_key, line_item = (_str(c, present) for c in ("project_id", "api_key_id",
                                                              "line_item"))
    key = pl.concat_str(
        [pl.lit("costs"), start.dt.epoch("s").cast(pl.String), project.fill_null(""),
         api_key.fill_null(""), line_item.fill_null("")], separator="|")
    return df.select(
        pl.col("position"), pl.lit(SOURCE).alias("source"), start.alias("bucket_start"),
        end.alias("bucket_end"), project.alias("project_id"), api_key.alias("api_key_id"),
        line_item.alias("line_item"), amount.alias("amount_usd"), currency.alias("currency"),
        quantity.alias("quantity"), unit.alias("quantity_unit"),
        key.alias("dedupe_key"), reason.alias("reason"), raw.alias("raw"),
    ).cast(COST_SCHEMA)


def _parts(parts: dict[str, pl.Expr], total_name: str) -> pl.Expr:
    """The reason for parts (audio, image, cache writes) that together exceed their total,
    naming the parts that are not 0."""
    named = pl.concat_str([pl.when(expr != 0).then(pl.lit(name)) for name, expr in
                           parts.items()], separator=" + ", ignore_nulls=True)
    return named + pl.lit(f" exceeds {total_name}")


def _usage(df, present, start, end, time_error, raw) -> pl.DataFrame:
    is_completions = bool({"output_tokens", "input_cached_tokens"} & present)
    endpoint = "completions" if is_completions else "embeddings"
    requests, requests_err = _count("num_model_requests", present)
    input_tokens, input_err = _count("input_tokens", present)
    cached, cached_err = _count("input_cached_tokens", present)
    output, output_err = _count("output_tokens", present)
    audio_in, audio_in_err = _count("input_audio_tokens", present)
    cached_audio, cached_audio_err = _count("input_cached_audio_tokens", present)
    audio_out, audio_out_err = _count("output_audio_tokens", present)
    image_in, image_in_err = _count("input_image_tokens", present)
    cached_image, cached_image_err = _count("input_cached_image_tokens", present)
    image_out, image_out_err = _count("output_image_tokens", present)
    cache_write, cache_write_err = _count("input_cache_write_tokens", present)
    batch_text = _str("batch", present).str.to_uppercase()
    batch = (
        pl.when(batch_text.is_in(["TRUE", "1"])).then(True)
        .when(batch_text.is_in(["FALSE", "0"])).then(False)
        .otherwise(None)
    )
    batch_err = (
        pl.when(batch_text.is_not_null() & batch.is_null())
        .then(pl.lit("batch is not TRUE/FALSE: ") + batch_text)
        .otherwise(None)
    )
    dims = {d: _str(d, present) for d in DIMENSIONS}
    reason = pl.coalesce(
        time_error, requests_err, input_err, cached_err, output_err, audio_in_err,
        cached_audio_err, audio_out_err, image_in_err, cached_image_err, image_out_err,
        cache_write_err, batch_err,
        pl.when(cached > input_tokens)
        .then(pl.lit("input_cached_tokens exceeds input_tokens"))
        .when(audio_in + image_in + cache_write > input_tokens - cached)
        .then(_parts({"input_audio_tokens": audio_in, "input_image_tokens": image_in,
                      "input_cache_write_tokens": cache_write}, "the uncached input tokens"))
        .when(cached_audio + cached_image > cached)
        .then(_parts({"input_cached_audio_tokens": cached_audio,
                      "input_cached_image_tokens": cached_image}, "input_cached_tokens"))
        .when(audio_out + image_out > output)
        .then(_parts({"output_audio_tokens": audio_out, "output_image_tokens": image_out},
                     "output_tokens"))
        .otherwise(None),
    )
    batch_key = pl.when(batch.is_null()).then(pl.lit("")).when(batch).then(
        pl.lit("true")).otherwise(pl.lit("false"))
    key = pl.concat_str(
        [pl.lit(endpoint), start.dt.epoch("s").cast(pl.String),
         dims["project_id"].fill_null(""), dims["user_id"].fill_null(""),
         dims["api_key_id"].fill_null(""), dims["model"].fill_null(""), batch_key,
         dims["service_tier"].fill_null(""), pl.lit("")],
        separator="|",
    )
    out = df.select(
        pl.col("position"),
        pl.lit(SOURCE).alias("source"),
        pl.lit(endpoint).alias("endpoint"),
        pl.lit(None, dtype=pl.String).alias("route"),
        start.alias("bucket_start"),
        end.alias("bucket_end"),
        *[expr.alias(name) for name, expr in dims.items()],
        batch.alias("is_batch"),
        pl.lit(None, dtype=pl.String).alias("extra_dims"),
        pl.lit(None, dtype=pl.String).alias("litellm_team_id"),
        pl.lit(None, dtype=pl.String).alias("team_alias"),
        pl.lit(None, dtype=pl.String).alias("request_id"),
        requests.alias("requests"),
        pl.lit(0, dtype=pl.Int64).alias("failed_requests"),
        input_tokens.alias("input_tokens"),
        cached.alias("cached_input_tokens"),
        output.alias("output_tokens"),
        audio_in.alias("input_audio_tokens"),
        cached_audio.alias("cached_input_audio_tokens"),
        audio_out.alias("output_audio_tokens"),
        image_in.alias("input_image_tokens"),
        cached_image.alias("cached_input_image_tokens"),
        image_out.alias("output_image_tokens"),
        cache_write.alias("cache_write_input_tokens"),
        # the export does not split out 1-hour cache writes
        pl.lit(0, dtype=pl.Int64).alias("cache_write_1h_input_tokens"),
        pl.lit(None, dtype=pl.Int64).alias("units"),
        pl.lit(None, dtype=pl.String).alias("unit"),
        key.alias("dedupe_key"),
        reason.alias("reason"),
        raw.alias("raw"),
    )
    return out.select([pl.col(c).cast(t) for c, t in USAGE_SCHEMA.items()])
