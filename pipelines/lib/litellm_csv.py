"""LiteLLM gateway spend logs (CSV export of ``LiteLLM_SpendLogs``): one row per request.

Parsed by DuckDB straight from the file, so tens of millions of rows stream and spill instead
of passing through Python. Only the usage columns are read: the prompt and response text a
gateway may store (``messages``, ``response``, ``proxy_server_request``) is never selected.
Team comes from ``team_id`` or the key's team in ``metadata``; the team alias is kept for rows
the team directory does not map.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb

from pipelines.lib.formats import quote_problem, read_header, strict_quote_problem
from pipelines.lib.schema import (
    CACHE_WRITE_1H_TOKENS,
    CACHE_WRITE_TOKENS,
    MAX_COUNT,
    NOT_MODEL_USAGE,
    PROMPT_BAND,
    REPEATED_HEADER,
    SURPLUS_REASON,
    TIME_RANGE,
    prompt_band_sql,
)

SOURCE = "litellm"

#: the columns we read, and nothing else (older exports lack some: they read as NULL)
USED_COLUMNS = (
    "request_id", "call_type", "api_key", "prompt_tokens", "completion_tokens", "startTime",
    "endTime", "model", "model_group", "user", "metadata", "team_id", "status", "cache_hit",
)
NEVER_READ = ("messages", "response", "proxy_server_request")
METADATA_PATHS = ("$.user_api_key_user_id", "$.user_api_key_project_id",
                  "$.user_api_key_team_id", "$.user_api_key_team_alias",
                  "$.usage_object.prompt_tokens_details.cached_tokens", "$.user_api_key_alias",
                  # the key of LiteLLM's own price catalog it priced the call at: an Azure
                  # deployment logs its own name and is priced by its base model
                  "$.model_map_information.model_map_key",
                  # the audio parts of the counts, where the provider reported them (LiteLLM
                  # prices prompt audio_tokens apart from the cached reads, as we do)
                  "$.usage_object.prompt_tokens_details.audio_tokens",
                  "$.usage_object.completion_tokens_details.audio_tokens",
                  # the prompt tokens written to the provider's cache: LiteLLM's usage object
                  # keeps Anthropic's cache_creation_input_tokens under that name (and counts
                  # them in prompt_tokens, as it does the cached reads)
                  "$.usage_object.cache_creation_input_tokens",
                  # ... and the part of them written to live an hour, which Anthropic bills
                  # higher (LiteLLM splits them out in prompt_tokens_details)
                  "$.usage_object.prompt_tokens_details.cache_creation_token_details"
                  ".ephemeral_1h_input_tokens")

#: call_type -> (usage endpoint, gateway route). Async variants share their sync row.
CALL_TYPES: dict[str, tuple[str, str]] = {
    "completion": ("completions", "/v1/chat/completions"),
    "text_completion": ("completions", "/v1/completions"),
    "responses": ("completions", "/v1/responses"),
    "_arealtime": ("completions", "/v1/realtime"),
    # the Anthropic-format chat route: clients such as Claude Code call it through the gateway
    # with any model behind it, OpenAI's included (a retired gpt-4o there is still a caller)
    "anthropic_messages": ("completions", "/v1/messages"),
    # the same for Google's GenAI format (the google-genai SDK pointed at the gateway)
    "generate_content": ("completions", "/v1beta/models/{model}:generateContent"),
    "generate_content_stream": ("completions", "/v1beta/models/{model}:streamGenerateContent"),
    # the Responses API over a WebSocket (LiteLLM's CallTypes.aresponses_websocket)
    "_aresponses_websocket": ("completions", "/v1/responses (WebSocket)"),
    "embedding": ("embeddings", "/v1/embeddings"),
    "image_generation": ("images", "/v1/images/generations"),
    "image_edit": ("images", "/v1/images/edits"),
    "transcription": ("audio_transcriptions", "/v1/audio/transcriptions"),
    "speech": ("audio_speeches", "/v1/audio/speech"),
    "moderation": ("moderations", "/v1/moderations"),
    # pass-through routes (the provider's own API, untranslated; the route is not logged).
    # LiteLLM tracks an OpenAI pass-through call's usage only on /chat/completions, and
    # relabels image generations and edits as passthrough-image-generation
    # (openai_passthrough_logging_handler.py); a pass-through row without tokens is usage
    # LiteLLM did not track, which cannot be placed (see PASS_THROUGH)
    "pass_through_endpoint": ("completions", "pass-through"),
    "llm_passthrough_route": ("completions", "pass-through"),
    "passthrough-image-generation": ("images", "pass-through"),
}

#: call types that count (as ``completions``) only when the row carries tokens
PASS_THROUGH = ("pass_through_endpoint", "llm_passthrough_route")


#: call types of services OpenAI does not offer: no OpenAI model is behind them
OTHER_SERVICES = ("rerank", "search", "ocr")

#: call types that manage things rather than run a model (LiteLLM's ``CallTypes``): set aside
#: when they carry no tokens. With tokens they are usage that cannot be placed: LiteLLM's
#: batch cost tracking logs a completed batch's usage as ``aretrieve_batch``.
MANAGEMENT = (
    "create_batch", "retrieve_batch", "cancel_batch", "list_batches",
    "create_file", "file_retrieve", "file_delete", "file_list", "file_content",
    "get_assistants", "create_assistants", "delete_assistant", "create_thread", "get_thread",
    "add_message", "a_add_message", "get_messages",
    "create_fine_tuning_job", "cancel_fine_tuning_job", "list_fine_tuning_jobs",
    "retrieve_fine_tuning_job",
    "video_retrieve", "video_content", "video_list", "video_retrieve_job", "video_delete",
    "video_get_character",
    "vector_store_create", "vector_store_file_create", "vector_store_file_list",
    "vector_store_file_retrieve", "vector_store_file_content", "vector_store_file_update",
    "vector_store_file_delete",
    "create_container", "list_containers", "retrieve_container", "delete_container",
    "list_container_files", "upload_container_file", "create_sandbox", "delete_sandbox",
    "list_input_items", "list_mcp_tools", "create_skill", "create_realtime_client_secret",
)


def _with_async(names: tuple[str, ...] | list[str]) -> list[str]:
    """Each call type and its async variant (``a`` + name; LiteLLM's underscored names
    have none)."""
    return [v for name in names
            for v in ((name,) if name.startswith("_") else (name, "a" + name))]


def _in_list(names: Iterable[str]) -> str:
    """Call type names as the items of a SQL ``IN (...)`` list."""
    return ", ".join(f"'{c}'" for c in names)


def _call_type_map() -> dict[str, tuple[str, str]]:
    return {v: pair for name, pair in CALL_TYPES.items() for v in _with_async([name])}


def _unmapped_reason(input_tokens: str, output_tokens: str) -> str:
    """The reason of a row whose ``call_type`` maps to no usage endpoint, or is a
    pass-through one (``input_tokens`` and ``output_tokens``: SQL of its counts, NULL when
    unreadable); NULL for a pass-through row with tokens, which counts. Calls that are not
    model usage say so (:data:`NOT_MODEL_USAGE`); the rest is usage that cannot be placed."""
    other = _in_list(_with_async(OTHER_SERVICES))
    managing = _in_list(_with_async(MANAGEMENT))
    passing = _in_list(_with_async(PASS_THROUGH))
    return (
        f"CASE WHEN call_type IN ({passing}) AND ({input_tokens} > 0 OR {output_tokens} > 0) "
        "THEN NULL "
        f"WHEN call_type IN ({passing}) AND {input_tokens} = 0 AND {output_tokens} = 0 "
        "THEN 'call_type ' || call_type || ' with no tokens: a pass-through call whose usage "
        "LiteLLM did not track (it does for OpenAI''s /chat/completions only), and whose "
        "route is not logged: not counted' "
        f"WHEN call_type IN ({other}) THEN '{NOT_MODEL_USAGE}call_type ' || call_type "
        "|| ' (rerank, search and OCR services: no OpenAI model is behind them)' "
        f"WHEN call_type IN ({managing}) AND {input_tokens} = 0 AND {output_tokens} = 0 "
        f"THEN '{NOT_MODEL_USAGE}call_type ' || call_type || ' with no tokens (managing "
        "files, batches, assistants, vector stores, ...)' "
        "WHEN call_type IN ('retrieve_batch', 'aretrieve_batch') THEN 'call_type ' "
        "|| call_type || ' with tokens: a completed batch''s usage (LiteLLM batch cost "
        "tracking), but the spend log does not say which endpoint the batch called' "
        # two exports concatenated: the second one's header line is a row
        "WHEN call_type = 'call_type' AND request_id = 'request_id' "
        f"THEN '{REPEATED_HEADER}' "
        "ELSE 'call_type ' || coalesce(call_type, 'NULL') || ' has no OpenAI usage endpoint "
        "(a call type this version does not map): its usage is not counted' "
        "END")


def _call_type_case(column: str, field: int) -> str:
    """CASE mapping a call type to its endpoint (field 0) or route (field 1): a constant
    expression costs less than a join on tens of millions of rows."""
    whens = " ".join(f"WHEN '{call_type}' THEN '{pair[field]}'"
                     for call_type, pair in _call_type_map().items())
    return f"CASE {column} {whens} END"


#: a request the gateway answered from its own response cache (``cache_hit`` is text:
#: ``True``/``False``/``None``): no call reached the provider, and LiteLLM logs it at $0. It
#: counts as a request of its model (the caller still names it) with no tokens, so it costs
#: nothing, now or on the replacement. (A provider's prompt caching is not this: it shows
#: as cached input tokens.) Cheap case first: most rows say ``False`` or nothing.
CACHE_HIT = ("(cache_hit IS NOT NULL AND cache_hit <> 'False' "
             "AND lower(trim(cache_hit)) = 'true')")

#: the forms a Postgres export writes (no offset: UTC), tried before the general parser
NAIVE_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S",
                      "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S")


def _timestamp_sql(column: str) -> str:
    """UTC timestamp of a text column: the strict naive formats first (cheaper than the
    general parser: about 0.2 s less per 850k requests), then any form with an offset,
    converted to UTC."""
    formats = ", ".join(f"'{f}'" for f in NAIVE_TIME_FORMATS)
    return (f"coalesce(try_strptime({column}, [{formats}]), "
            f"try_cast({column} AS TIMESTAMPTZ) AT TIME ZONE 'UTC')")


def _in_range(column: str) -> str:
    """``column`` (a parsed timestamp), or NULL outside ``schema.TIME_RANGE``: such a
    startTime is a rejected row, such an endTime counts as missing."""
    lo, hi = TIME_RANGE
    return (f"CASE WHEN {column} >= TIMESTAMP '{lo}' AND {column} < TIMESTAMP '{hi}' "
            f"THEN {column} END")


def _end(ended: str, started: str) -> str:
    """A request's end time (``ended``, parsed), or NULL (missing: it ends when it starts) when
    it is outside ``schema.TIME_RANGE``, before the request's start, or more than a day after
    it (a stream logged as hanging for days): no request runs that long, and one such time
    made the day's span longer than any bucket, which the blocking staging check refuses."""
    return (f"CASE WHEN ({_in_range(ended)}) BETWEEN {started} "
            f"AND {started} + INTERVAL 1 DAY THEN {ended} END")


def _start_reason(text: str) -> str:
    """The reason of a row whose startTime (``started_any``: parsed, before the range) is
    not a request time; ``text`` is the column's text."""
    lo, hi = TIME_RANGE
    return (f"CASE WHEN started_any IS NULL THEN 'unparseable startTime: ' "
            f"|| coalesce({text}, 'NULL') ELSE 'startTime out of range (before {lo.year} or "
            f"from {hi.year}): ' || {text} END")


#: the name :func:`read_sql` gives a field past the header's last one: a row that has such a
#: field has more fields than the header names (a value with an unquoted comma), and its
#: values from there on would sit in the wrong columns
SURPLUS = "radar_surplus_field"
#: the name :func:`read_sql` gives its flag of a row with fewer fields than the header names
#: (its last field is missing, not empty): a row cut short, as a download cut mid-line
#: leaves the file's last one, whose missing values (status, metadata: the team, the cached
#: tokens) would load as "success", unassigned and uncached, and then keep the whole copy of
#: that request in a later export out as a duplicate
SHORT = "radar_short_row"
SHORT_REASON = ("fewer fields than the header names (a row cut short?): the values it lacks "
                "would load as empty")
#: the reader's NULL string: no spend log holds it as a whole field, so an empty field reads
#: as '' and a field the row does not have (padded) as NULL, which tells an empty surplus
#: field from none
NO_NULL_STRING = "<radar: an empty field is not NULL>"


def read_sql(present: Sequence[str], parallel: bool = True) -> str:
    """The SELECT of the columns we read from the CSV (bound as ``$path``), as text: the
    columns the export lacks (``present``, the header's names in order, :func:`csv_columns`,
    has the others) read as NULL. The file is plain text whatever its name ends with (the
    ingest decompresses by content, not by suffix).

    The reader is given the header's names and one more, ``SURPLUS``: a field past the
    header's last lands there (else DuckDB drops it), and the row is quarantined. An empty
    surplus field is one too: the reader's NULL string is ``NO_NULL_STRING``, so an empty
    field reads as '' and only a field the row lacks as NULL; the header's columns then read
    '' as NULL, as DuckDB's default does. So a row whose last field is NULL is short
    (``SHORT``), and is quarantined too.

    ``parallel=False`` reads it with one thread: DuckDB's parallel reader cannot pad short
    rows in a file whose quoted values hold line breaks (:func:`needs_serial_read`)."""
    cols = ", ".join(
        (f'nullif("{c}", \'\') AS "{c}"' if c in present else f'NULL::VARCHAR AS "{c}"')
        for c in USED_COLUMNS
    )
    last = present[-1].replace('"', '""')  # the header's: any text, quoted as an identifier
    cols += f', "{SURPLUS}", "{last}" IS NULL AS {SHORT}'
    quoted = ", ".join("'" + n.replace("'", "''") + "'" for n in (*present, SURPLUS))
    names = f", names = [{quoted}]"
    serial = "" if parallel else ", parallel = false"
    return (f"SELECT {cols}\n    FROM read_csv($path, header = true, delim = ',', "
            "all_varchar = true, "
            "quote = '\"', escape = '\"', strict_mode = false, null_padding = true, "
            f"nullstr = '{NO_NULL_STRING}', compression = 'none'{serial}{names})")


#: how much of a spend log's start :func:`quote_problem_of` reads (DuckDB's sniffer reads
#: 20,480 rows: a few MiB with short prompts kept)
QUOTE_SAMPLE_BYTES = 8 << 20


def quote_problem_of(error: Exception, path: Path) -> tuple[int, str] | None:
    """Where the quotes of the spend log at ``path`` go wrong (:func:`formats.quote_problem`
    over its first ``QUOTE_SAMPLE_BYTES``, values with line breaks allowed), when ``error`` is
    DuckDB's reader failing to make out the file's dialect. A stray '"' at the start of a
    value near the file's start does that: the comma is set, so the reader cannot take the
    whole line as one value any more, each row then "cut short"."""
    if not isinstance(error, duckdb.Error) or "Error when sniffing file" not in str(error):
        return None
    with path.open("rb") as fh:
        head = fh.read(QUOTE_SAMPLE_BYTES)
        whole = not fh.read(1)
    text = head.decode("utf-8-sig", errors="replace")
    if not whole:
        text = text[: text.rfind("\n") + 1]
    return quote_problem(text, breaks_in_values=True, whole=whole and _ends_a_line(path))


def _ends_a_line(path: Path) -> bool:
    """Whether the file's last byte ends a line. One that does not was cut mid-row (a
    download that stopped): a quoted value running on to its end is that cut, whose row the
    reader quarantines as cut short (``SHORT``), not a stray quote."""
    with path.open("rb") as fh:
        if fh.seek(0, 2) == 0:
            return True
        fh.seek(-1, 2)
        return fh.read(1) in (b"\n", b"\r")


def file_quote_problem(path: Path) -> tuple[int, str] | None:
    """Where the quotes of the spend log at ``path`` go wrong, the whole file read by Python's
    strict CSV reader a row at a time (:func:`formats.strict_quote_problem`): asked only of a
    file with a row of the wrong width, as a stray '"' that DuckDB's sniffer did not trip on
    leaves. Its lenient reader (``strict_mode = false``, which pads short rows) then reads
    the rest of the file with its quoting inverted, as a row of many fields, most of them
    dropped: the requests after the quote would be lost but for one quarantined row."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
        return strict_quote_problem(fh, whole=_ends_a_line(path))


def needs_serial_read(error: Exception) -> bool:
    """Whether ``error`` is DuckDB's parallel CSV reader refusing a file with line breaks
    inside quoted values (a prompt or response kept with its new lines), which the same
    reader reads with one thread (``read_sql(..., parallel=False)``)."""
    return isinstance(error, duckdb.Error) and "quoted new lines" in str(error)


def _plain_integer_sql(text: str) -> str:
    """SQL: whether ``text`` is an integer written as digits alone (after an optional '-'),
    which DuckDB's VARCHAR to BIGINT cast reads exactly: the fast path, every count of a real
    spend log. The cast also reads other texts, not all exactly: it rounds a decimal
    ('2022.5' is 2023, '10.0000001' is 10) and a negative exponent ('15E-1' is 2), and
    reads hexadecimal ('0x10' is 16). Those take :func:`_number_sql`'s rules instead, only
    slower. (The regular expression costs what two ``strpos`` did, ~2% of a file's roll-up
    more than one: docs/experiments/count-exponents.)"""
    return f"regexp_full_match({text}, '-?[0-9]+')"


def _integer_sql(text: str) -> str:
    """SQL of ``text`` as an integer when :func:`_plain_integer_sql`, else NULL: the others
    take the rules of :func:`_count_sql`'s slow path, which refuse a fraction."""
    return f"CASE WHEN {_plain_integer_sql(text)} THEN try_cast({text} AS BIGINT) END"


def _number_sql(text: str) -> str:
    """SQL of ``text`` as a number, as the other readers read a count (a dashboard sheet's
    polars cast to Float64, a JSON page's float): a double, NULL for no number, for NaN and
    for digits grouped by '_' (DuckDB's cast reads ``1_000``, polars' does not). Exact for
    every whole number up to 2^53, past the largest count kept (10^15); so the same text is
    judged alike in every format (``10.0000001`` a fraction, ``1e3`` 1000; DECIMAL(38, 6)
    rounded the first to 10)."""
    return (f"nullif(try_cast(CASE WHEN strpos({text}, '_') = 0 THEN {text} END AS DOUBLE), "
            "'NaN'::DOUBLE)")


def _count_sql(name: str) -> tuple[str, str]:
    """(value, error) SQL for the count column ``name`` (its trimmed text ``{name}_text`` and
    integer cast ``{name}_whole`` are computed once, a level below): integers on the fast
    path, whole numbers written otherwise (``10.0``, ``1e3``) on the slow one, anything else an
    error that quotes the value. CASE evaluates a branch only for the rows that reach it."""
    text, whole = f"{name}_text", f"{name}_whole"
    num = _number_sql(text)
    value = (f"CASE WHEN {text} IS NULL THEN 0 "
             f"WHEN {whole} IS NOT NULL THEN "
             f"(CASE WHEN {whole} BETWEEN 0 AND {MAX_COUNT} THEN {whole} END) "
             f"WHEN {num} = floor({num}) AND {num} >= 0 AND {num} <= {MAX_COUNT} "
             f"THEN try_cast({num} AS BIGINT) END")
    error = (
        f"CASE WHEN {text} IS NULL THEN NULL "
        f"WHEN {whole} IS NOT NULL THEN (CASE "
        f"WHEN {whole} < 0 THEN 'negative {name}: ' || {text} "
        f"WHEN {whole} > {MAX_COUNT} THEN '{name} implausibly large (over 10^15): ' || {text} "
        f"END) "
        f"WHEN {num} IS NULL THEN '{name} is not a number: ' || {text} "
        f"WHEN {num} < 0 THEN 'negative {name}: ' || {text} "
        f"WHEN {num} <> floor({num}) THEN '{name} is not a whole number: ' || {text} "
        f"WHEN {num} > {MAX_COUNT} THEN '{name} implausibly large (over 10^15): ' || {text} END"
    )
    return value, error


def parse_sql(present: Sequence[str], parallel: bool = True) -> str:
    """The SELECT that turns the CSV (bound as ``$path``) into typed request rows, each with
    a ``reason`` when it cannot be loaded (and then its ``raw`` record).

    Every expression is computed once per row and the cheap case first: this query runs over
    every gateway request ever exported, so each per-row step shows in the benchmark."""
    prompt, prompt_err = _count_sql("prompt_tokens")
    completion, completion_err = _count_sql("completion_tokens")
    passing = _in_list(_with_async(PASS_THROUGH))
    unmapped = _unmapped_reason("input_tokens", "output_tokens")
    # the metadata JSON is parsed once, for every path we need
    paths = ", ".join(f"'{p}'" for p in METADATA_PATHS)
    meta = (f"CASE WHEN json_valid(\"metadata\") THEN "
            f"json_extract_string(\"metadata\", [{paths}]) END")
    m = {name: f"nullif(meta[{i}], '')" for i, name in enumerate(METADATA_PATHS, start=1)}
    reported = _metadata_counts("meta")
    return f"""
WITH raw_rows AS (
    -- no row_number(): numbering forces a single-threaded pass over tens of millions of rows;
    -- a gateway row is identified by its request_id (kept in the raw text of a rejected row)
    {read_sql(present, parallel)}
),
texts AS (
    SELECT *,
        {meta} AS meta,
        nullif(trim("prompt_tokens"), '') AS prompt_tokens_text,
        nullif(trim("completion_tokens"), '') AS completion_tokens_text
    FROM raw_rows
),
numbers AS (
    SELECT *,
        {_integer_sql("prompt_tokens_text")} AS prompt_tokens_whole,
        {_integer_sql("completion_tokens_text")} AS completion_tokens_whole
    FROM texts
),
typed AS (
    SELECT
        nullif(trim(request_id), '') AS request_id,
        call_type,
        {_call_type_case("call_type", 0)} AS endpoint,
        coalesce({_call_type_case("call_type", 1)}, call_type) AS route,
        {_timestamp_sql('"startTime"')} AS started,
        {_timestamp_sql('"endTime"')} AS ended,
        coalesce(nullif(trim(model), ''), nullif(trim(model_group), '')) AS model,
        nullif(trim(api_key), '') AS api_key_id,
        coalesce(nullif(trim("user"), ''), {m['$.user_api_key_user_id']}) AS user_id,
        {m['$.user_api_key_project_id']} AS project_id,
        coalesce(nullif(trim(team_id), ''), {m['$.user_api_key_team_id']}) AS litellm_team_id,
        {m['$.user_api_key_team_alias']} AS team_alias,
        {m['$.user_api_key_alias']} AS key_alias,
        {m['$.model_map_information.model_map_key']} AS model_map_key,
        lower(coalesce(nullif(trim(status), ''), 'success')) AS status,
        CASE WHEN {CACHE_HIT} THEN 0 ELSE {prompt} END AS input_tokens,
        {prompt_err} AS input_error,
        CASE WHEN {CACHE_HIT} THEN 0 ELSE {completion} END AS output_tokens,
        {completion_err} AS output_error,
        {reported["cached"]} AS cached_input_tokens,
        {reported["audio_in"]} AS audio_in_reported,
        {reported["audio_out"]} AS audio_out_reported,
        {reported["cache_write"]} AS cache_write_reported,
        {reported["cache_write_1h"]} AS cache_write_1h_reported,
        "startTime" AS start_text, prompt_tokens_text, completion_tokens_text,
        "{SURPLUS}" AS surplus, {SHORT}
    FROM numbers
),
bounded AS (
    SELECT * REPLACE ({_in_range("started")} AS started, {_end("ended", "started")} AS ended),
        started AS started_any
    FROM typed
),
checked AS (
    SELECT * EXCLUDE (started_any),
        CASE
            WHEN surplus IS NOT NULL THEN '{SURPLUS_REASON}'
            WHEN {SHORT} THEN '{SHORT_REASON}'
            WHEN request_id IS NULL THEN 'missing request_id'
            WHEN (endpoint IS NULL OR call_type IN ({passing}))
                 AND {unmapped} IS NOT NULL THEN {unmapped}
            WHEN started IS NULL THEN {_start_reason("start_text")}
            WHEN input_error IS NOT NULL THEN input_error
            WHEN output_error IS NOT NULL THEN output_error
            WHEN status NOT IN ('success', 'failure') THEN 'unknown status: ' || status
            WHEN model IS NULL THEN 'missing model'
        END AS reason
    FROM bounded
)
SELECT
    NULL::BIGINT AS position,
    '{SOURCE}' AS source,
    endpoint,
    route,
    started AS bucket_start,
    coalesce(ended, started) AS bucket_end,
    project_id, user_id, api_key_id, model,
    false AS is_batch,
    NULL::VARCHAR AS service_tier,
    NULL::VARCHAR AS extra_dims,
    litellm_team_id, team_alias, key_alias, model_map_key, request_id,
    1::BIGINT AS requests,
    CASE WHEN status = 'failure' THEN 1 ELSE 0 END::BIGINT AS failed_requests,
    input_tokens,
    {CACHED_IN.format(cached="cached_input_tokens")} AS cached_input_tokens,
    output_tokens,
    {AUDIO_IN.format(audio="audio_in_reported", cached="cached_input_tokens")}
        AS input_audio_tokens,
    0::BIGINT AS cached_input_audio_tokens,
    {AUDIO_OUT.format(audio="audio_out_reported")} AS output_audio_tokens,
    {CACHE_WRITE_IN.format(write="cache_write_reported", audio="audio_in_reported",
                           cached="cached_input_tokens")} AS {CACHE_WRITE_TOKENS},
    {CACHE_WRITE_1H_IN.format(write_1h="cache_write_1h_reported", write="cache_write_reported",
                              audio="audio_in_reported", cached="cached_input_tokens")}
        AS {CACHE_WRITE_1H_TOKENS},
    NULL::BIGINT AS units,
    NULL::VARCHAR AS unit,
    {prompt_band_sql("input_tokens")} AS {PROMPT_BAND},
    reason,
    -- the raw record is kept for rejected rows only (it is what an operator needs to see)
    CASE WHEN reason IS NOT NULL THEN CAST(to_json(struct_pack(
        request_id := request_id, call_type := call_type, "startTime" := start_text,
        model := model, api_key := api_key_id, status := status,
        prompt_tokens := prompt_tokens_text, completion_tokens := completion_tokens_text))
        AS VARCHAR) END AS raw
FROM checked
"""


#: what makes gateway requests one staged row: the day and every dimension downstream uses
GROUP_KEYS = ("source", "endpoint", "route", "project_id", "user_id", "api_key_id", "model",
              "is_batch", "service_tier", "extra_dims", "litellm_team_id", "team_alias", "unit",
              "key_alias", "model_map_key", PROMPT_BAND)


def group_sql(relation: str) -> str:
    """Roll request rows (``relation``: :func:`parse_sql` or a table of its rows) up to one
    row per day and dimensions, keeping the request keys of each group in a list (the request
    ledger is written from it). A rejected row stays a group of its own: its reason and raw
    text are part of the key (identical rejected rows share a group and count ``rows_read``)."""
    keys = ", ".join(GROUP_KEYS)
    return f"""
SELECT
    CAST(bucket_start AS DATE) AS usage_date, {keys}, reason, raw,
    count(*)                         AS rows_read,
    sum(requests)::BIGINT            AS requests,
    sum(failed_requests)::BIGINT     AS failed_requests,
    sum(input_tokens)::BIGINT        AS input_tokens,
    sum(cached_input_tokens)::BIGINT AS cached_input_tokens,
    sum(output_tokens)::BIGINT       AS output_tokens,
    sum(input_audio_tokens)::BIGINT        AS input_audio_tokens,
    sum(cached_input_audio_tokens)::BIGINT AS cached_input_audio_tokens,
    sum(output_audio_tokens)::BIGINT       AS output_audio_tokens,
    sum({CACHE_WRITE_TOKENS})::BIGINT  AS {CACHE_WRITE_TOKENS},
    sum({CACHE_WRITE_1H_TOKENS})::BIGINT AS {CACHE_WRITE_1H_TOKENS},
    sum(units)::BIGINT               AS units,
    min(bucket_start)                AS bucket_start,
    max(bucket_end)                  AS bucket_end,
    -- a 128-bit digest of each request id: stable across versions, no credential kept
    list(md5_number(request_id)) FILTER (WHERE reason IS NULL) AS request_keys
FROM {relation}
GROUP BY ALL
"""


def _present(column: str) -> str:
    """``nullif(trim(column), '') IS NOT NULL``, with the common case (no leading space,
    not empty) answered without copying the string."""
    return (f"(CASE WHEN {column} IS NULL THEN false "
            f"WHEN {column} <> '' AND NOT starts_with({column}, ' ') THEN true "
            f"ELSE trim({column}) <> '' END)")


def _trimmed(column: str) -> str:
    """``trim(column)``, copying only the values that have a space at either end."""
    return (f"(CASE WHEN starts_with({column}, ' ') OR ends_with({column}, ' ') "
            f"THEN trim({column}) ELSE {column} END)")


#: SQL of a request's cached reads and audio parts (``schema.AUDIO_TOKENS``) from the counts
#: in its metadata, each kept within what it is part of (a negative or non-numeric count is
#: none): the cached reads within the prompt; the prompt's audio tokens, as LiteLLM reads
#: them, apart from the cached reads (its cost calculation prices cached, audio and text
#: prompt tokens each once), so within the uncached prompt; the completion's within the
#: completion. A spend log does not split cached audio (0: its cached reads price at the
#: cached rate).
CACHED_IN = "greatest(0, least({cached}, input_tokens))"
AUDIO_IN = f"greatest(0, least({{audio}}, input_tokens - {CACHED_IN}))"
AUDIO_OUT = "greatest(0, least({audio}, output_tokens))"
#: SQL of a request's cache writes (``schema.CACHE_WRITE_TOKENS``): a part of the prompt beside
#: the cached reads and the uncached audio, so within what those leave of it
CACHE_WRITE_IN = f"greatest(0, least({{write}}, input_tokens - {CACHED_IN} - {AUDIO_IN}))"
#: ... and of its 1-hour cache writes (``schema.CACHE_WRITE_1H_TOKENS``), within the cache writes
CACHE_WRITE_1H_IN = f"greatest(0, least({{write_1h}}, {CACHE_WRITE_IN}))"

#: the counts read from a request's metadata, by the paths of :data:`METADATA_PATHS`
METADATA_COUNTS = {
    "cached": "$.usage_object.prompt_tokens_details.cached_tokens",
    "audio_in": "$.usage_object.prompt_tokens_details.audio_tokens",
    "audio_out": "$.usage_object.completion_tokens_details.audio_tokens",
    "cache_write": "$.usage_object.cache_creation_input_tokens",
    "cache_write_1h": "$.usage_object.prompt_tokens_details.cache_creation_token_details"
                      ".ephemeral_1h_input_tokens",
}


def _metadata_counts(meta: str) -> dict[str, str]:
    """SQL of each of :data:`METADATA_COUNTS` from ``meta`` (the list of the extracted
    :data:`METADATA_PATHS`): the whole number there, else 0 (absent, empty, not a number, a
    fraction). A negative count is kept here and counts as none in the caps."""
    out = {}
    for name, path in METADATA_COUNTS.items():
        text = f"{meta}[{METADATA_PATHS.index(path) + 1}]"
        number = _number_sql(text)
        # the fast path's test once a row (it ran twice: in _integer_sql, then negated)
        out[name] = (f"coalesce(CASE WHEN {_plain_integer_sql(text)} THEN try_cast({text} AS "
                     f"BIGINT) WHEN {number} = floor({number}) THEN try_cast({number} AS BIGINT) "
                     "END, 0)")
    return out

#: the status as parse_sql normalises it
_STATUS = "lower(coalesce(nullif(trim({c}), ''), 'success'))"


def rollup_sql(present: Sequence[str], request_keys: bool = True,
               parallel: bool = True) -> str:
    """:func:`group_sql` over :func:`parse_sql`, computed in two levels, for the first read of
    a file: the same rows, 10-14% less time (docs/benchmarks-history.md).

    ``request_keys=False`` leaves the request keys out (``request_keys`` is NULL): for
    ``benchmarks/gap.py``, which measures what they cost; the ingest always keeps them.
    ``parallel=False`` reads the file with one thread (:func:`read_sql`).

    Level 1 keeps per request only what varies per request (its day, counts, times, digest,
    and its reason when rejected, with the same checks in the same order as ``parse_sql``,
    each answered cheaply for the common value first) and groups by the raw text of the
    dimension columns. Level 2 derives the dimensions (trims, call type mapping, metadata
    fallbacks, status) once per group and groups again. ``tests/test_gateway_ingest.py``
    checks that both give the same rows."""
    counts = {}
    for name in ("prompt_tokens", "completion_tokens"):
        # the usual value casts as it is (the cast ignores surrounding spaces) and is in
        # range; only the others go through parse_sql's full rules, on the trimmed text
        ok = f"{name}_whole BETWEEN 0 AND {MAX_COUNT}"
        value, error = _count_sql(name)
        counts[name] = (f"CASE WHEN {ok} THEN {name}_whole ELSE {value} END",
                        f"(CASE WHEN {ok} THEN NULL ELSE {error} END)")
    paths = ", ".join(f"'{p}'" for p in METADATA_PATHS)
    # pass-through call types are checked with the unmapped ones: they count only with tokens
    passing = set(_with_async(PASS_THROUGH))
    known = _in_list(c for c in _call_type_map() if c not in passing)
    unmapped = _unmapped_reason("input_tokens", "output_tokens")
    status_norm = _STATUS.format(c="status")
    model_norm = "coalesce(nullif(trim(model), ''), nullif(trim(model_group), ''))"
    keys = ", ".join(GROUP_KEYS)
    reported = _metadata_counts("meta")
    keys_sql = (f"list(md5_number({_trimmed('request_id')})) FILTER (WHERE reason IS NULL)"
                if request_keys else "NULL::UHUGEINT[]")
    return f"""
WITH raw_rows AS (
    {read_sql(present, parallel)}
),
numbers AS (
    SELECT *,
        CASE WHEN json_valid(metadata) THEN json_extract_string(metadata, [{paths}]) END
            AS meta,
        {_integer_sql("prompt_tokens")} AS prompt_tokens_whole,
        {_integer_sql("completion_tokens")} AS completion_tokens_whole,
        {_timestamp_sql('"startTime"')} AS started,
        {_timestamp_sql('"endTime"')} AS ended
    FROM raw_rows
),
texts AS (
    -- the trimmed count text, which parse_sql's rules read: only for the unusual values;
    -- the times within TIME_RANGE
    SELECT * REPLACE ({_in_range("started")} AS started, {_end("ended", "started")} AS ended),
        started AS started_any,
        CASE WHEN prompt_tokens_whole BETWEEN 0 AND {MAX_COUNT} THEN NULL
             ELSE nullif(trim(prompt_tokens), '') END AS prompt_tokens_text,
        CASE WHEN completion_tokens_whole BETWEEN 0 AND {MAX_COUNT} THEN NULL
             ELSE nullif(trim(completion_tokens), '') END AS completion_tokens_text
    FROM numbers
),
counted AS (
    -- each count once, by name, for the reason and the sums below to read: written out
    -- wherever they were read, they made the query 37.5 KB, ~90-100 ms to plan for each
    -- file, however small (22.5 KB: ~50 ms; 822k requests: 1.55 -> 1.45 s)
    SELECT *,
        CASE WHEN {CACHE_HIT} THEN 0 ELSE {counts["prompt_tokens"][0]} END AS input_tokens,
        CASE WHEN {CACHE_HIT} THEN 0 ELSE {counts["completion_tokens"][0]} END
            AS output_tokens,
        {counts["prompt_tokens"][1]} AS input_error,
        {counts["completion_tokens"][1]} AS output_error,
        {reported["cached"]} AS cached_reported,
        {reported["audio_in"]} AS audio_in_reported,
        {reported["audio_out"]} AS audio_out_reported,
        {reported["cache_write"]} AS cache_write_reported,
        {reported["cache_write_1h"]} AS cache_write_1h_reported
    FROM texts
),
unmapped AS (
    -- a level of its own: in counted's SELECT the names would stand for their expressions
    SELECT *,
        CASE WHEN call_type IS NULL OR call_type NOT IN ({known}) THEN {unmapped} END
            AS unmapped_reason
    FROM counted
),
checked AS (
    SELECT *,
        CASE
            WHEN "{SURPLUS}" IS NOT NULL THEN '{SURPLUS_REASON}'
            WHEN {SHORT} THEN '{SHORT_REASON}'
            WHEN NOT {_present('request_id')} THEN 'missing request_id'
            WHEN unmapped_reason IS NOT NULL THEN unmapped_reason
            WHEN started IS NULL THEN {_start_reason('"startTime"')}
            WHEN input_error IS NOT NULL THEN input_error
            WHEN output_error IS NOT NULL THEN output_error
            WHEN NOT (status IS NULL OR status IN ('success', 'failure'))
                 AND {status_norm} NOT IN ('success', 'failure')
                THEN 'unknown status: ' || {status_norm}
            WHEN NOT ({_present('model')} OR {_present('model_group')}) THEN 'missing model'
        END AS reason
    FROM unmapped
),
per_text AS (
    SELECT
        CAST(started AS DATE) AS usage_date,
        call_type, api_key, model, model_group, "user", team_id, status,
        meta[1] AS m_user, meta[2] AS m_project, meta[3] AS m_team, meta[4] AS m_alias,
        meta[6] AS m_key_alias, meta[7] AS m_model_map_key,
        -- the request's long-context band (schema.PROMPT_BANDS): a key, as its price differs
        {prompt_band_sql("input_tokens")} AS {PROMPT_BAND},
        reason,
        CASE WHEN reason IS NOT NULL THEN CAST(to_json(struct_pack(
            request_id := nullif(trim(request_id), ''), call_type := call_type,
            "startTime" := "startTime", model := {model_norm},
            api_key := nullif(trim(api_key), ''), status := {status_norm},
            prompt_tokens := nullif(trim(prompt_tokens), ''),
            completion_tokens := nullif(trim(completion_tokens), ''))) AS VARCHAR) END AS raw,
        count(*) AS rows_read,
        sum(input_tokens) AS input_tokens,
        sum({CACHED_IN.format(cached="cached_reported")}) AS cached_input_tokens,
        sum(output_tokens) AS output_tokens,
        sum({AUDIO_IN.format(audio="audio_in_reported", cached="cached_reported")})
            AS input_audio_tokens,
        sum({AUDIO_OUT.format(audio="audio_out_reported")}) AS output_audio_tokens,
        sum({CACHE_WRITE_IN.format(write="cache_write_reported", audio="audio_in_reported",
                                   cached="cached_reported")}) AS {CACHE_WRITE_TOKENS},
        sum({CACHE_WRITE_1H_IN.format(
            write_1h="cache_write_1h_reported", write="cache_write_reported",
            audio="audio_in_reported", cached="cached_reported")}) AS {CACHE_WRITE_1H_TOKENS},
        min(started) AS bucket_start,
        max(coalesce(ended, started)) AS bucket_end,
        {keys_sql} AS request_keys
    FROM checked
    GROUP BY ALL
),
derived AS (
    SELECT
        usage_date,
        '{SOURCE}' AS source,
        {_call_type_case("call_type", 0)} AS endpoint,
        coalesce({_call_type_case("call_type", 1)}, call_type) AS route,
        nullif(m_project, '') AS project_id,
        coalesce(nullif(trim("user"), ''), nullif(m_user, '')) AS user_id,
        nullif(trim(api_key), '') AS api_key_id,
        {model_norm} AS model,
        false AS is_batch,
        NULL::VARCHAR AS service_tier,
        NULL::VARCHAR AS extra_dims,
        coalesce(nullif(trim(team_id), ''), nullif(m_team, '')) AS litellm_team_id,
        nullif(m_alias, '') AS team_alias,
        NULL::VARCHAR AS unit,
        nullif(m_key_alias, '') AS key_alias,
        nullif(m_model_map_key, '') AS model_map_key,
        {PROMPT_BAND},
        reason, raw, rows_read, input_tokens, cached_input_tokens, output_tokens,
        input_audio_tokens, output_audio_tokens, {CACHE_WRITE_TOKENS},
        {CACHE_WRITE_1H_TOKENS}, bucket_start, bucket_end, request_keys,
        {status_norm} = 'failure' AS failed
    FROM per_text
)
SELECT
    usage_date, {keys}, reason, raw,
    sum(rows_read)::BIGINT                                        AS rows_read,
    sum(rows_read)::BIGINT                                        AS requests,
    sum(CASE WHEN failed THEN rows_read ELSE 0 END)::BIGINT       AS failed_requests,
    sum(input_tokens)::BIGINT                                     AS input_tokens,
    sum(cached_input_tokens)::BIGINT                              AS cached_input_tokens,
    sum(output_tokens)::BIGINT                                    AS output_tokens,
    sum(input_audio_tokens)::BIGINT                               AS input_audio_tokens,
    0::BIGINT                                                     AS cached_input_audio_tokens,
    sum(output_audio_tokens)::BIGINT                              AS output_audio_tokens,
    sum({CACHE_WRITE_TOKENS})::BIGINT                         AS {CACHE_WRITE_TOKENS},
    sum({CACHE_WRITE_1H_TOKENS})::BIGINT                      AS {CACHE_WRITE_1H_TOKENS},
    NULL::BIGINT                                                  AS units,
    min(bucket_start)                                             AS bucket_start,
    max(bucket_end)                                               AS bucket_end,
    flatten(list(request_keys) FILTER (WHERE request_keys IS NOT NULL)) AS request_keys
FROM derived
GROUP BY ALL
"""


def csv_columns(path: Path) -> tuple[str, ...]:
    """The columns of the export in order, named as DuckDB's CSV reader names them (trimmed;
    a blank one ``column<i>``, a repeat ``<name>_<k>``), for :func:`read_sql` to pass as
    ``names``: the header line, parsed as format detection parses it, instead of a DuckDB
    sniff of the file (17 ms a file)."""
    names: list[str] = []
    taken: set[str] = set()
    for i, name in enumerate(read_header(path)):
        base = name or f"column{i}"
        unique, k = base, 0
        while unique.lower() in taken:  # DuckDB's names are case-insensitive
            k += 1
            unique = f"{base}_{k}"
        taken.add(unique.lower())
        names.append(unique)
    return tuple(names)
