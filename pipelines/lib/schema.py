"""Column sets shared by every parser: what a parsed file hands to the loader."""

from __future__ import annotations

import datetime as dt

import polars as pl

#: A polars column type as a schema gives it: a type (``pl.Int64``) or an instance
#: (``pl.Datetime("us", "UTC")``).
ColumnType = type[pl.DataType] | pl.DataType

#: Largest count accepted in one source row. A bucket with more than a quadrillion tokens is a
#: corrupt export, not usage; the cap also keeps every sum far inside BIGINT and every count
#: exactly representable when an export writes it as a float (``59200.0``).
MAX_COUNT = 10**15
#: Largest billed amount accepted in one cost row, in USD (either sign): a quadrillion dollars
#: in one bucket is a corrupt export. Larger amounts do not fit the DECIMAL(38, 10) they are
#: staged as, and would reject the whole file instead of the row.
MAX_AMOUNT_USD = 10**15
#: The days a usage time may fall on, [from, to): a time outside is no usage time (a later
#: "Unix time" is milliseconds; a date past 9999 reaches Python as text)
TIME_RANGE = (dt.date(1970, 1, 1), dt.date(2100, 1, 1))
#: the end of TIME_RANGE in Unix seconds
MAX_EPOCH_SECONDS = int(dt.datetime.combine(TIME_RANGE[1], dt.time(), dt.UTC).timestamp())

#: the reason of a row that is not model usage starts with this (a gateway call to rerank or
#: to manage files, a CSV's repeated header line): such a row is kept in
#: ``staging.rejected_rows`` like any other but is no data problem, so the quarantine check
#: and the report leave it out of their warnings
NOT_MODEL_USAGE = "not model usage: "
#: the reason of a CSV row that is the file's header again
REPEATED_HEADER = (f"{NOT_MODEL_USAGE}a repeated header line (two exports concatenated into "
                   "one file?)")

#: the reason of a CSV row with more fields than the header names (a value with an unquoted
#: separator): its values from there on would sit in the wrong columns
SURPLUS_REASON = ("more fields than the header names (a value with an unquoted separator?): "
                  "its values would be read into the wrong columns")

#: The longest bucket a source reports: the Usage and Costs APIs' are 1m, 1h or 1d wide (a
#: gateway day spans its requests, the last of which may end after midnight: twice this)
MAX_BUCKET_SECONDS = 86_400

ENDPOINTS = (
    "completions", "embeddings", "images", "audio_speeches", "audio_transcriptions",
    "moderations", "vector_stores", "code_interpreter_sessions", "file_searches", "web_searches",
)

#: The audio parts of a usage row's tokens, each inside a total: ``input_audio_tokens`` (uncached
#: audio input) in the input tokens that are not cached reads, ``cached_input_audio_tokens`` in
#: ``cached_input_tokens``, ``output_audio_tokens`` in ``output_tokens``. Audio is priced at its
#: own rate (``pipelines/lib/money.py``); 0 where the source does not split it out.
AUDIO_TOKENS = ("input_audio_tokens", "cached_input_audio_tokens", "output_audio_tokens")
#: The image parts, the same way (``input_image_tokens`` uncached, ``cached_input_image_tokens``,
#: ``output_image_tokens``): the Usage API and the dashboard split them out since 2026-07-15.
#: With the audio parts, each part's sum stays inside its total.
IMAGE_TOKENS = ("input_image_tokens", "cached_input_image_tokens", "output_image_tokens")
#: The input tokens written into the prompt cache (``input_cache_write_tokens`` since
#: 2026-07-15): a part of the input tokens beside the cached reads and the uncached input (the
#: audio and image input parts are inside the uncached input), priced at the model's cache
#: write price where it has one (newer models charge 1.25x input), else as input.
CACHE_WRITE_TOKENS = "cache_write_input_tokens"
#: The part of the cache writes written to live an hour (Anthropic's
#: ``ephemeral_1h_input_tokens``, through the gateway), priced at the model's 1-hour cache write
#: price where it has one (Anthropic's: 2x input, against 1.25x for the default 5 minutes), else
#: as the other cache writes. 0 where the source does not split it out.
CACHE_WRITE_1H_TOKENS = "cache_write_1h_input_tokens"
#: every token column a usage row carries beside the contract's three totals
TOKEN_PARTS = (*AUDIO_TOKENS, *IMAGE_TOKENS, CACHE_WRITE_TOKENS, CACHE_WRITE_1H_TOKENS)

#: The prompt sizes above which a provider prices a whole request at its long-context rates
#: (LiteLLM's ``input_cost_per_token_above_<N>k_tokens``: Anthropic's 200k, OpenAI's 272k,
#: Google's 128k and others'), in tokens. A request is priced at the rates of the largest
#: threshold its prompt (every input token, cached reads and cache writes included) exceeds.
PROMPT_BANDS = (32_000, 100_000, 128_000, 200_000, 256_000, 272_000, 512_000)
#: The column of a usage row that says which of those its requests' prompts exceed: the
#: largest of ``PROMPT_BANDS`` below the prompt, 0 for none. Only a gateway log sees single
#: requests; a bucketed source (the Usage API, the dashboard) stages 0.
PROMPT_BAND = "prompt_band"


def prompt_band(prompt_tokens: int) -> int:
    """The largest of ``PROMPT_BANDS`` that ``prompt_tokens`` exceeds; 0 for none."""
    return max((b for b in PROMPT_BANDS if prompt_tokens > b), default=0)


def prompt_band_sql(tokens: str) -> str:
    """SQL of :func:`prompt_band` of the expression ``tokens`` (0 for NULL), the usual small
    prompt answered by the first comparison."""
    whens = " ".join(f"WHEN {tokens} > {b} THEN {b}" for b in reversed(PROMPT_BANDS[1:]))
    return (f"(CASE WHEN {tokens} <= {PROMPT_BANDS[0]} THEN 0 {whens} "
            f"WHEN {tokens} > {PROMPT_BANDS[0]} THEN {PROMPT_BANDS[0]} ELSE 0 END)")

#: One parsed usage row. `dedupe_key` is the contract's bucket identity (or the gateway's
#: request id); `reason` is NULL for a good row and says why for a rejected one.
USAGE_SCHEMA: dict[str, ColumnType] = {
    "position": pl.Int64,
    "source": pl.String,
    "endpoint": pl.String,
    "route": pl.String,
    "bucket_start": pl.Datetime("us", "UTC"),
    "bucket_end": pl.Datetime("us", "UTC"),
    "project_id": pl.String,
    "user_id": pl.String,
    "api_key_id": pl.String,
    "model": pl.String,
    "is_batch": pl.Boolean,
    "service_tier": pl.String,
    "extra_dims": pl.String,
    "litellm_team_id": pl.String,
    "team_alias": pl.String,
    "request_id": pl.String,
    "requests": pl.Int64,
    "failed_requests": pl.Int64,
    "input_tokens": pl.Int64,
    "cached_input_tokens": pl.Int64,
    "output_tokens": pl.Int64,
    "input_audio_tokens": pl.Int64,
    "cached_input_audio_tokens": pl.Int64,
    "output_audio_tokens": pl.Int64,
    "input_image_tokens": pl.Int64,
    "cached_input_image_tokens": pl.Int64,
    "output_image_tokens": pl.Int64,
    "cache_write_input_tokens": pl.Int64,
    "cache_write_1h_input_tokens": pl.Int64,
    "units": pl.Int64,
    "unit": pl.String,
    "dedupe_key": pl.String,
    "reason": pl.String,
    "raw": pl.String,
}

#: One parsed billed-cost row (Costs API result or dashboard cost export row).
COST_SCHEMA: dict[str, ColumnType] = {
    "position": pl.Int64,
    "source": pl.String,
    "bucket_start": pl.Datetime("us", "UTC"),
    "bucket_end": pl.Datetime("us", "UTC"),
    "project_id": pl.String,
    "api_key_id": pl.String,
    "line_item": pl.String,
    "amount_usd": pl.String,  # exact decimal text; cast to DECIMAL in DuckDB
    "currency": pl.String,
    # how much of the line item was used, and in what (Costs API results grouped by line
    # item, since 2026-05-13 and 2026-08-21): exact decimal text, NULL where not reported
    "quantity": pl.String,
    "quantity_unit": pl.String,
    "dedupe_key": pl.String,
    "reason": pl.String,
    "raw": pl.String,
}


def usage_key(
    endpoint: str | None, start_epoch: int | None, project_id: str | None, user_id: str | None,
    api_key_id: str | None, model: str | None, is_batch: bool | None, service_tier: str | None,
    extra_dims: str | None,
) -> str:
    """Bucket identity: endpoint, bucket start, project, user, API key, model, batch flag,
    service tier (plus the endpoint's own extra group-by dimensions). Null and empty are equal."""
    batch = "" if is_batch is None else ("true" if is_batch else "false")
    parts = [endpoint, start_epoch, project_id, user_id, api_key_id, model, batch, service_tier,
             extra_dims]
    return "|".join(["" if p is None else str(p) for p in parts])
