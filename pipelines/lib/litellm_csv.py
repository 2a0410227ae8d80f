"""LiteLLM gateway spend logs (CSV export of ``LiteLLM_SpendLogs``): one row per request.

Parsed by DuckDB straight from the file, so tens of millions of rows stream and spill instead
of passing through Python. Only the usage columns are read: the prompt and response text a
gateway may store (``messages``, ``response``, ``proxy_server_request``) is never selected.
Team comes from ``team_id`` or the key's team in ``metadata``; the team alias is kept for rows
the team directory does not map.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.lib.schema import MAX_COUNT

SOURCE = "litellm"

#: the columns we read, and nothing else (older exports lack some: they read as NULL)
USED_COLUMNS = (
    "request_id", "call_type", "api_key", "prompt_tokens", "completion_tokens", "startTime",
    "endTime", "model", "model_group", "user", "metadata", "team_id", "status",
)
NEVER_READ = ("messages", "response", "proxy_server_request")
METADATA_PATHS = ("$.user_api_key_user_id", "$.user_api_key_project_id",
                  "$.user_api_key_team_id", "$.user_api_key_team_alias",
                  "$.usage_object.prompt_tokens_details.cached_tokens")

#: call_type -> (usage endpoint, gateway route). Async variants share their sync row.
CALL_TYPES: dict[str, tuple[str, str]] = {
    "completion": ("completions", "/v1/chat/completions"),
    "text_completion": ("completions", "/v1/completions"),
    "responses": ("completions", "/v1/responses"),
    "_arealtime": ("completions", "/v1/realtime"),
    "embedding": ("embeddings", "/v1/embeddings"),
    "image_generation": ("images", "/v1/images/generations"),
    "image_edit": ("images", "/v1/images/edits"),
    "transcription": ("audio_transcriptions", "/v1/audio/transcriptions"),
    "speech": ("audio_speeches", "/v1/audio/speech"),
    "moderation": ("moderations", "/v1/moderations"),
}


def _call_type_rows() -> list[tuple[str, str, str]]:
    rows = []
    for call_type, (endpoint, route) in CALL_TYPES.items():
        rows.append((call_type, endpoint, route))
        if not call_type.startswith("_"):
            rows.append(("a" + call_type, endpoint, route))
    return rows


def _count_sql(col: str) -> tuple[str, str]:
    """(value, error) SQL for a count column: integers on the fast path, whole numbers written
    as decimals (``10.0``) on the slow one, everything else an error with the value."""
    text = f"nullif(trim({col}), '')"
    whole = f"try_cast({text} AS BIGINT)"
    num = f"try_cast({text} AS DECIMAL(38, 6))"
    value = (f"CASE WHEN {text} IS NULL THEN 0 "
             f"WHEN {whole} IS NOT NULL THEN "
             f"(CASE WHEN {whole} BETWEEN 0 AND {MAX_COUNT} THEN {whole} END) "
             f"WHEN {num} = floor({num}) AND {num} >= 0 AND {num} <= {MAX_COUNT} "
             f"THEN try_cast({num} AS BIGINT) END")
    error = (
        f"CASE WHEN {text} IS NULL THEN NULL "
        f"WHEN {whole} IS NOT NULL THEN (CASE "
        f"WHEN {whole} < 0 THEN 'negative {col}: ' || {text} "
        f"WHEN {whole} > {MAX_COUNT} THEN '{col} implausibly large (over 10^15): ' || {text} "
        f"END) "
        f"WHEN {num} IS NULL THEN '{col} is not a number: ' || {text} "
        f"WHEN {num} < 0 THEN 'negative {col}: ' || {text} "
        f"WHEN {num} <> floor({num}) THEN '{col} is not a whole number: ' || {text} "
        f"WHEN {num} > {MAX_COUNT} THEN '{col} implausibly large (over 10^15): ' || {text} END"
    )
    return value, error


def parse_sql(present: set[str]) -> str:
    """The SELECT that turns the CSV (bound as ``$path``) into typed usage rows with reasons."""
    cols = ", ".join(
        (f'"{c}"' if c in present else f'NULL::VARCHAR AS "{c}"') for c in USED_COLUMNS
    )
    prompt, prompt_err = _count_sql('"prompt_tokens"')
    completion, completion_err = _count_sql('"completion_tokens"')
    values = ", ".join(f"('{a}', '{b}', '{c}')" for a, b, c in _call_type_rows())
    # the metadata JSON is parsed once, for every path we need
    paths = ", ".join(f"'{p}'" for p in METADATA_PATHS)
    meta = (f"CASE WHEN json_valid(src.\"metadata\") THEN "
            f"json_extract_string(src.\"metadata\", [{paths}]) END")
    m = {name: f"nullif(src.meta[{i}], '')" for i, name in enumerate(METADATA_PATHS, start=1)}
    cached = (f"coalesce(try_cast({m['$.usage_object.prompt_tokens_details.cached_tokens']} "
              "AS BIGINT), 0)")
    return f"""
WITH raw_rows AS (
    -- no row_number(): numbering forces a single-threaded pass over tens of millions of rows;
    -- a gateway row is identified by its request_id (kept in the raw text of a rejected row)
    SELECT {cols}, NULL::BIGINT AS position
    FROM read_csv($path, header = true, all_varchar = true, quote = '"', escape = '"',
                  strict_mode = false, null_padding = true)
),
src AS (
    SELECT src.*, {meta} AS meta FROM raw_rows AS src
),
call_types(call_type, endpoint, route) AS (VALUES {values}),
typed AS (
    SELECT
        src.position,
        nullif(trim(src.request_id), '') AS request_id,
        src.call_type,
        ct.endpoint,
        coalesce(ct.route, src.call_type) AS route,
        try_cast(src."startTime" AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS started,
        try_cast(src."endTime" AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS ended,
        coalesce(nullif(trim(src.model), ''), nullif(trim(src.model_group), '')) AS model,
        nullif(trim(src.api_key), '') AS api_key_id,
        coalesce(nullif(trim(src."user"), ''), {m['$.user_api_key_user_id']}) AS user_id,
        {m['$.user_api_key_project_id']} AS project_id,
        coalesce(nullif(trim(src.team_id), ''), {m['$.user_api_key_team_id']})
            AS litellm_team_id,
        {m['$.user_api_key_team_alias']} AS team_alias,
        lower(coalesce(nullif(trim(src.status), ''), 'success')) AS status,
        {prompt} AS input_tokens, {prompt_err} AS input_error,
        {completion} AS output_tokens, {completion_err} AS output_error,
        {cached} AS cached_input_tokens,
        src."startTime" AS start_text,
        src.prompt_tokens AS prompt_text,
        src.completion_tokens AS completion_text
    FROM src LEFT JOIN call_types ct ON ct.call_type = src.call_type
)
SELECT * EXCLUDE (raw_text) REPLACE (
    -- the raw record is kept for rejected rows only (it is what an operator needs to see)
    CASE WHEN reason IS NOT NULL THEN CAST(to_json(raw_text) AS VARCHAR) END AS raw)
FROM (
SELECT
    position,
    '{SOURCE}' AS source,
    endpoint,
    route,
    started AS bucket_start,
    coalesce(ended, started) AS bucket_end,
    project_id, user_id, api_key_id, model,
    false AS is_batch,
    NULL::VARCHAR AS service_tier,
    NULL::VARCHAR AS extra_dims,
    litellm_team_id, team_alias, request_id,
    1::BIGINT AS requests,
    CASE WHEN status = 'failure' THEN 1 ELSE 0 END::BIGINT AS failed_requests,
    input_tokens,
    least(cached_input_tokens, input_tokens) AS cached_input_tokens,
    output_tokens,
    NULL::BIGINT AS units,
    NULL::VARCHAR AS unit,
    'litellm|' || request_id AS dedupe_key,
    CASE
        WHEN request_id IS NULL THEN 'missing request_id'
        WHEN endpoint IS NULL THEN 'call_type ' || coalesce(call_type, 'NULL')
            || ' has no OpenAI usage endpoint (rerank, batch management, pass-through, ...)'
        WHEN started IS NULL THEN 'unparseable startTime: ' || coalesce(start_text, 'NULL')
        WHEN input_error IS NOT NULL THEN input_error
        WHEN output_error IS NOT NULL THEN output_error
        WHEN status NOT IN ('success', 'failure') THEN 'unknown status: ' || status
        WHEN model IS NULL THEN 'missing model'
    END AS reason,
    NULL::VARCHAR AS raw,
    struct_pack(request_id := request_id, call_type := call_type,
                "startTime" := start_text, model := model, api_key := api_key_id,
                status := status, prompt_tokens := prompt_text,
                completion_tokens := completion_text) AS raw_text
FROM typed
)
"""


def csv_columns(con: duckdb.DuckDBPyConnection, path: Path) -> set[str]:
    rel = con.execute(
        "SELECT * FROM read_csv($path, header = true, all_varchar = true) LIMIT 0",
        {"path": str(path)},
    )
    columns = {d[0] for d in rel.description}
    rel.fetchall()
    return columns
