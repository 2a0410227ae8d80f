-- Staging tables: created once, then maintained file by file by the ingest step.
-- Every file's rows, its manifest row and its rejected rows are written in one transaction.
CREATE SCHEMA IF NOT EXISTS staging;

CREATE TABLE IF NOT EXISTS staging.ingested_files (
    file_id        BIGINT,
    path           VARCHAR NOT NULL,
    sha256         VARCHAR NOT NULL,
    format         VARCHAR,
    status         VARCHAR NOT NULL,      -- loaded | duplicate | rejected
    rows_read      BIGINT NOT NULL,
    rows_loaded    BIGINT NOT NULL,
    rows_rejected  BIGINT NOT NULL,
    rows_duplicate BIGINT NOT NULL,       -- exact duplicates of usage already loaded
    error          VARCHAR,
    size_bytes     BIGINT,
    modified_at    TIMESTAMP,
    ingested_at    TIMESTAMP NOT NULL,
    duplicate_of   VARCHAR,              -- for status duplicate: the path first loaded
    run_id         VARCHAR,              -- the Dagster run that looked at the file
    note           VARCHAR               -- how the text was read when not plain UTF-8; a file
                                          -- read again after an upgrade of the readers
);
-- added 2026-12-05: working files from before take the column on
ALTER TABLE staging.ingested_files ADD COLUMN IF NOT EXISTS note VARCHAR;
-- (a working file written for a while on 2026-12-07 has a column organization_ids here too:
-- ingest.ensure_tables moves it to staging.openai_organizations)

-- Usage at the source's own grain, one row per dedupe_key: an OpenAI bucket x group (the
-- newest file's version of that bucket), or a gateway file's requests of one day and one set
-- of dimensions (request-level identity in staging.gateway_requests).
CREATE TABLE IF NOT EXISTS staging.usage (
    dedupe_key          VARCHAR NOT NULL,
    file_id             BIGINT NOT NULL,
    position            BIGINT,
    source              VARCHAR NOT NULL,
    endpoint            VARCHAR NOT NULL,
    route               VARCHAR,
    bucket_start        TIMESTAMP NOT NULL,
    bucket_end          TIMESTAMP NOT NULL,
    usage_date          DATE NOT NULL,
    project_id          VARCHAR,
    user_id             VARCHAR,
    api_key_id          VARCHAR,
    model               VARCHAR,
    is_batch            BOOLEAN,
    service_tier        VARCHAR,
    extra_dims          VARCHAR,
    litellm_team_id     VARCHAR,
    team_alias          VARCHAR,
    requests            BIGINT NOT NULL,
    failed_requests     BIGINT NOT NULL,
    input_tokens        BIGINT NOT NULL,
    cached_input_tokens BIGINT NOT NULL,
    output_tokens       BIGINT NOT NULL,
    -- the audio parts of the three token counts (0 where the source does not split it out)
    input_audio_tokens        BIGINT NOT NULL DEFAULT 0,
    cached_input_audio_tokens BIGINT NOT NULL DEFAULT 0,
    output_audio_tokens       BIGINT NOT NULL DEFAULT 0,
    -- the image parts, the same way
    input_image_tokens        BIGINT NOT NULL DEFAULT 0,
    cached_input_image_tokens BIGINT NOT NULL DEFAULT 0,
    output_image_tokens       BIGINT NOT NULL DEFAULT 0,
    -- input tokens written into the prompt cache (a part of input_tokens, not of the cached)
    cache_write_input_tokens  BIGINT NOT NULL DEFAULT 0,
    -- the part of those written to live an hour (Anthropic's, through the gateway)
    cache_write_1h_input_tokens BIGINT NOT NULL DEFAULT 0,
    units               BIGINT,
    unit                VARCHAR,
    -- the long-context price band of the requests' prompts (pipelines/lib/schema.py
    -- PROMPT_BANDS: the largest threshold they exceed, 0 for none); a gateway log's only
    prompt_band         INTEGER NOT NULL DEFAULT 0
);
-- a warehouse from before the audio columns: its rows had no audio split (all text)
ALTER TABLE staging.usage ADD COLUMN IF NOT EXISTS input_audio_tokens BIGINT DEFAULT 0;
ALTER TABLE staging.usage ADD COLUMN IF NOT EXISTS cached_input_audio_tokens BIGINT DEFAULT 0;
ALTER TABLE staging.usage ADD COLUMN IF NOT EXISTS output_audio_tokens BIGINT DEFAULT 0;
-- ... or before the image columns (added 2026-12-05)
ALTER TABLE staging.usage ADD COLUMN IF NOT EXISTS input_image_tokens BIGINT DEFAULT 0;
ALTER TABLE staging.usage ADD COLUMN IF NOT EXISTS cached_input_image_tokens BIGINT DEFAULT 0;
ALTER TABLE staging.usage ADD COLUMN IF NOT EXISTS output_image_tokens BIGINT DEFAULT 0;
ALTER TABLE staging.usage ADD COLUMN IF NOT EXISTS cache_write_input_tokens BIGINT DEFAULT 0;
ALTER TABLE staging.usage ADD COLUMN IF NOT EXISTS cache_write_1h_input_tokens BIGINT DEFAULT 0;
-- ... or before the long-context band (added 2026-12-05: files loaded before read as 0)
ALTER TABLE staging.usage ADD COLUMN IF NOT EXISTS prompt_band INTEGER DEFAULT 0;

-- The gateway request ledger: one row per LiteLLM request loaded, so that a request exported
-- twice (overlapping exports, two files from the same gateway) is counted once. Gateway rows
-- are staged in staging.usage already rolled up to the day (one row per file x day x
-- dimensions); this table keeps their identity. request_key = md5_number(request_id): a
-- 128-bit digest, stable across DuckDB versions, that never stores a pasted credential.
CREATE TABLE IF NOT EXISTS staging.gateway_requests (
    request_key UHUGEINT NOT NULL,
    usage_date  DATE NOT NULL,
    file_id     BIGINT NOT NULL
);

-- The names gateway keys go by: LiteLLM logs a key's alias (user_api_key_alias in metadata)
-- beside its hashed token (api_key). One row per file x key x alias seen in it, so the
-- deprecated-model callers can name a gateway key as people know it; the newest wins.
CREATE TABLE IF NOT EXISTS staging.gateway_key_aliases (
    api_key_id VARCHAR NOT NULL,
    key_alias  VARCHAR NOT NULL,
    last_seen  DATE NOT NULL,
    file_id    BIGINT NOT NULL
);

-- The catalog entry LiteLLM priced each gateway model at: its metadata's
-- model_map_information.model_map_key. An Azure deployment logs its own name
-- (azure/my-prod-gpt4o), which no catalog knows, and LiteLLM prices it by the base model it
-- was configured with (azure/gpt-4o-2024-08-06). One row per file x model x key; the newest
-- wins, and is used only where the model's own name does not resolve.
CREATE TABLE IF NOT EXISTS staging.gateway_model_keys (
    model         VARCHAR NOT NULL,
    model_map_key VARCHAR NOT NULL,
    last_seen     DATE NOT NULL,
    file_id       BIGINT NOT NULL
);

-- The names OpenAI keys go by and who owns them: saved project API key lists (the Admin
-- API's GET /organization/projects/{project_id}/api_keys, pulled by the sync). One row per
-- file x key; the newest file wins. The key's redacted value is never kept.
CREATE TABLE IF NOT EXISTS staging.openai_api_keys (
    api_key_id   VARCHAR NOT NULL,
    key_alias    VARCHAR,
    key_owner    VARCHAR,
    owner_type   VARCHAR,              -- user | service_account
    created_at   TIMESTAMP,
    last_used_at TIMESTAMP,
    file_id      BIGINT NOT NULL
);

-- The names OpenAI projects go by: saved project lists (the Admin API's GET
-- /organization/projects, pulled by the sync). One row per file x project; the newest wins.
CREATE TABLE IF NOT EXISTS staging.openai_projects (
    project_id   VARCHAR NOT NULL,
    project_name VARCHAR,
    status       VARCHAR,              -- active | archived
    archived_at  TIMESTAMP,
    file_id      BIGINT NOT NULL
);

-- The names OpenAI organisations go by: the dashboard's cost exports name theirs on every row
-- (organization_id, organization_name). One row per loaded file x organisation; the newest
-- file's name wins (marts.accounts).
CREATE TABLE IF NOT EXISTS staging.openai_organizations (
    organization_id   VARCHAR NOT NULL,
    organization_name VARCHAR,
    file_id           BIGINT NOT NULL
);

-- The names OpenAI users go by: saved user lists (the Admin API's GET /organization/users,
-- pulled by the sync): a user's name, else e-mail. One row per file x user; the newest wins.
CREATE TABLE IF NOT EXISTS staging.openai_users (
    user_id   VARCHAR NOT NULL,
    user_name VARCHAR,
    file_id   BIGINT NOT NULL
);

-- Each time the request ledger was trimmed to RADAR_REQUEST_LEDGER_DAYS: keys of requests
-- before kept_from are gone, so a gateway request from before max(kept_from) arriving later
-- cannot be told apart from one already counted: it is quarantined, never counted blind.
CREATE TABLE IF NOT EXISTS staging.request_ledger_trims (
    kept_from        DATE NOT NULL,
    requests_removed BIGINT NOT NULL,
    trimmed_at       TIMESTAMP NOT NULL
);

-- Billed amounts (Costs API results and dashboard cost exports), one row per dedupe_key.
CREATE TABLE IF NOT EXISTS staging.billed_costs (
    dedupe_key   VARCHAR NOT NULL,
    file_id      BIGINT NOT NULL,
    position     BIGINT,
    source       VARCHAR NOT NULL,
    bucket_start TIMESTAMP NOT NULL,
    bucket_end   TIMESTAMP NOT NULL,
    usage_date   DATE NOT NULL,
    project_id   VARCHAR,
    api_key_id   VARCHAR,
    line_item    VARCHAR,
    amount_usd   DECIMAL(38, 10) NOT NULL,
    currency     VARCHAR NOT NULL,
    -- how much of the line item was used, in quantity_unit (tokens, images, ...): the Costs
    -- API's, where a file has it (results grouped by line item); NULL where not reported
    quantity      DECIMAL(38, 10),
    quantity_unit VARCHAR
);
-- a warehouse from before 2026-12-07: its rows keep NULL (their files are not read again)
ALTER TABLE staging.billed_costs ADD COLUMN IF NOT EXISTS quantity DECIMAL(38, 10);
ALTER TABLE staging.billed_costs ADD COLUMN IF NOT EXISTS quantity_unit VARCHAR;

-- Everything that could not be loaded, with the reason; a whole unreadable file has position NULL.
CREATE TABLE IF NOT EXISTS staging.rejected_rows (
    file_id     BIGINT,
    source_file VARCHAR NOT NULL,
    position    BIGINT,
    reason      VARCHAR NOT NULL,
    raw         VARCHAR,
    rejected_at TIMESTAMP NOT NULL
);

-- Days whose usage changed since intermediate.usage_daily last rolled them up. Written by
-- the ingest in the same transaction as the rows; emptied by the roll-up in its own.
CREATE TABLE IF NOT EXISTS staging.pending_dates (
    usage_date DATE NOT NULL
);

-- Each version of the readers (pipelines.lib.ingest.READER_VERSION) that ingested into this
-- warehouse, from its first run. When a newer one runs, the files an older one rejected whole
-- that are still in the landing folder are read again: a reader that learned to read them
-- loads them without a rebuild.
CREATE TABLE IF NOT EXISTS staging.reader_versions (
    reader_version INTEGER NOT NULL,
    first_run_at   TIMESTAMP NOT NULL
);
