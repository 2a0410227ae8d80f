-- marts.focus_costs: priced usage in the shape of the FinOps FOCUS specification, one row per
-- usage_cost_daily row that has a cost, so FinOps tools can load it next to cloud bills.
-- Standard columns keep FOCUS names; Sunset Radar's own columns are prefixed x_.
-- The provider and service come from the catalog entry the row priced at (LiteLLM's provider
-- id): OpenAI's own usage and models, and other providers' through a gateway.
WITH costs AS (
    SELECT
        *,
        CASE
            WHEN provider IN ('openai', 'text-completion-openai')
                 OR (provider IS NULL AND source LIKE 'openai%') THEN 'OpenAI'
            WHEN provider = 'anthropic' THEN 'Anthropic'
            WHEN starts_with(provider, 'azure') THEN 'Microsoft'
            WHEN provider = 'gemini' OR starts_with(provider, 'vertex_ai') THEN 'Google'
            WHEN starts_with(provider, 'bedrock') THEN 'AWS'
            ELSE coalesce(provider, 'unknown')
        END AS provider_name,
        CASE
            WHEN provider IN ('openai', 'text-completion-openai')
                 OR (provider IS NULL AND source LIKE 'openai%') THEN 'OpenAI API'
            WHEN provider = 'anthropic' THEN 'Anthropic API'
            WHEN provider = 'azure' THEN 'Azure OpenAI'
            WHEN starts_with(provider, 'azure') THEN 'Azure AI Foundry'
            WHEN provider = 'gemini' THEN 'Gemini API'
            WHEN starts_with(provider, 'vertex_ai') THEN 'Vertex AI'
            WHEN starts_with(provider, 'bedrock') THEN 'Amazon Bedrock'
            ELSE coalesce(provider, 'unknown') || ' API'
        END AS service_name
    FROM marts.usage_cost_daily
    WHERE priced
),

-- the account RADAR_BILLING_ACCOUNTS gives each provider (catalog.billing_accounts), one
-- row per provider name in lower case, for an equi-join on it: a LEFT JOIN on all of a
-- table's rows (DuckDB 2.0.0's wrong sum comes of one on one kind of them). Looked up by
-- scalar subqueries instead, the view took 0.45-0.5 s more to count (each refresh counts
-- it) and up to 1.4 s more to write as Parquet on a warehouse of 30M requests, where it takes
-- 0.02-0.05 s and 0.8-0.9 s this way (docs/experiments/focus-view-lookups/)
provider_accounts AS (
    SELECT lower(provider) AS provider_key,
           any_value(billing_account_id) AS provider_account_id,
           any_value(billing_account_name) AS provider_account_name
    FROM catalog.billing_accounts
    GROUP BY lower(provider)
),

-- who made each model (FOCUS PublisherName) where another sells it (Claude on Bedrock or
-- Vertex AI, GPT on Azure, Llama on Fireworks): the first family below named in the catalog
-- entry the usage priced at, after the provider's path (mistral/zai-glm-4.6 is Z.ai's
-- model); an entry no family names is its provider's
families (rank, pattern, publisher) AS (
    VALUES
        (1, '(^|[/.])(claude|anthropic)([-./:_]|$)', 'Anthropic'),
        (2, '(^|[/.])(gpt|chatgpt|o1|o3|o4|openai|whisper|dall-e|davinci|babbage'
            '|omni-moderation|codex-mini|computer-use|text-embedding-ada|text-embedding-3'
            '|tts-1)([-./:_]|$)', 'OpenAI'),
        (3, '(^|[/.])(gemini|gemma|google|palm|text-bison|chat-bison|code-bison'
            '|codechat-bison|textembedding-gecko)', 'Google'),
        (4, '(^|[/.])((code)?llama([-./:_0-9]|$)|meta[-./:_])', 'Meta'),
        (5, '(^|[/.])(open-)?(mistral|mixtral|ministral|codestral|devstral|magistral|pixtral'
            '|voxtral)', 'Mistral AI'),
        (6, '(^|[/.])(grok|xai)([-./:_0-9]|$)', 'xAI'),
        (7, '(^|[/.])deepseek', 'DeepSeek'),
        (8, '(^|[/.])(qwen|qwq)', 'Alibaba Cloud'),
        (9, '(^|[/.])(kimi|moonshot)', 'Moonshot AI'),
        (10, '(^|[/.])(glm|zai)([-./:_0-9]|$)', 'Z.ai'),
        (11, '(^|[/.])(command|cohere|c4ai)([-./:_]|$)', 'Cohere'),
        (12, '(^|[/.])(amazon|nova|titan)([-./:_]|$)', 'Amazon'),
        (13, '(^|[/.])(phi|mai-ds)([-./:_0-9]|$)', 'Microsoft'),
        (14, '(^|[/.])(jamba|ai21|j2)([-./:_]|$)', 'AI21 Labs'),
        (15, '(^|[/.])minimax', 'MiniMax'),
        (16, '(^|[/.])(nvidia|nemotron)', 'NVIDIA'),
        (17, '(^|[/.])(granite|ibm)([-./:_0-9]|$)', 'IBM')
),

-- once per catalog entry in the usage, not per row
publishers AS (
    SELECT e.sku, arg_min(f.publisher, f.rank) AS publisher_name
    -- (read from the mart, not from `costs`: a CTE read twice is materialized, every
    -- row of it held in memory while the view is written)
    FROM (SELECT DISTINCT coalesce(price_model, model) AS sku FROM marts.usage_cost_daily
          WHERE priced) AS e
    JOIN families AS f
        ON regexp_matches(regexp_replace(lower(e.sku), '^[^/]*/', ''), f.pattern)
    GROUP BY e.sku
),

-- the OpenAI organisation the landing folder's exports are of, where the dashboard's cost
-- exports name exactly one (several: not known, NULL), and how many they name
billing_account AS (
    SELECT CASE WHEN count(*) = 1 THEN any_value(account_id) END AS billing_account_id,
           CASE WHEN count(*) = 1 THEN any_value(account_name) END AS billing_account_name,
           count(*) AS organisations_named
    FROM marts.accounts
    WHERE account_type = 'organization'
)

SELECT
    -- a usage day is a UTC day (the exports' buckets are): its start and end as instants,
    -- TIMESTAMP WITH TIME ZONE so a Parquet reader sees UTC (FOCUS), made from epoch seconds
    -- so the view gives the same instants in a BI tool's session of any time zone
    to_timestamp(epoch(usage_date))                             AS "ChargePeriodStart",
    to_timestamp(epoch(usage_date) + 86400)                     AS "ChargePeriodEnd",
    to_timestamp(epoch(usage_date))                             AS "BillingPeriodStart",
    to_timestamp(epoch(usage_date) + 86400)                     AS "BillingPeriodEnd",
    'Usage'                                                     AS "ChargeCategory",
    -- not a correction of an earlier period's charge
    CAST(NULL AS VARCHAR)                                       AS "ChargeClass",
    'Usage-Based'                                               AS "ChargeFrequency",
    'Usage-Based'                                               AS "PricingCategory",
    'USD'                                                       AS "BillingCurrency",
    cost_usd                                                    AS "BilledCost",
    cost_usd                                                    AS "EffectiveCost",
    -- the same usage without the batch discount: at the catalog's list price, and at the
    -- price it is costed at (a negotiated price where RADAR_CATALOG_OVERRIDES gives one)
    list_cost_usd                                               AS "ListCost",
    contracted_cost_usd                                         AS "ContractedCost",
    -- tokens, or the seconds of audio and characters of speech a row is priced in
    CAST(CASE WHEN unit IS NOT NULL THEN units ELSE input_tokens + output_tokens END
         AS DECIMAL(38, 0))                                     AS "ConsumedQuantity",
    CASE unit WHEN 'seconds' THEN 'Seconds' WHEN 'characters' THEN 'Characters'
              WHEN 'images' THEN 'Images' ELSE 'Tokens' END     AS "ConsumedUnit",
    CAST(requests AS DECIMAL(38, 0))                            AS "PricingQuantity",
    'Requests'                                                  AS "PricingUnit",
    coalesce(price_model, model)                                AS "SkuId",
    model || ' (' || endpoint || ')'                            AS "ChargeDescription",
    provider_name                                               AS "ProviderName",
    coalesce(publisher_name, provider_name)                     AS "PublisherName",
    provider_name                                               AS "InvoiceIssuerName",
    service_name                                                AS "ServiceName",
    'AI and Machine Learning'                                   AS "ServiceCategory",
    -- OpenAI's own usage (the Usage API, the dashboard) is billed to the organisation its
    -- cost exports name (several named: not known, NULL). Where they name none, and on what a
    -- gateway logs (no provider account in it), the account RADAR_BILLING_ACCOUNTS gives the
    -- row's provider (provider_accounts)
    CASE WHEN source LIKE 'openai%' AND organisations_named > 0 THEN billing_account_id
         ELSE provider_account_id END                           AS "BillingAccountId",
    CASE WHEN source LIKE 'openai%' AND organisations_named > 0 THEN billing_account_name
         ELSE provider_account_name END                         AS "BillingAccountName",
    -- the names as scalar subqueries (one row each, whatever marts.accounts holds), not
    -- LEFT JOINs on one kind of its rows: the shape DuckDB 2.0.0 can sum wrong
    -- (pipelines/lib/duck.py, DISABLED_OPTIMIZERS), and a BI tool's DuckDB reads this view
    -- with its own settings
    api_key_id                                                  AS "ResourceId",
    (SELECT any_value(a.account_name) FROM marts.accounts AS a
     WHERE a.account_type = 'api_key' AND a.account_id = costs.api_key_id)
                                                                AS "ResourceName",
    project_id                                                  AS "SubAccountId",
    (SELECT any_value(a.account_name) FROM marts.accounts AS a
     WHERE a.account_type = 'project' AND a.account_id = costs.project_id)
                                                                AS "SubAccountName",
    -- JSON as text: DuckDB's JSON type reaches a Parquet file as a JSON-annotated column,
    -- which polars reads as bytes; a string is text to every reader
    CAST(json_object('team', team, 'endpoint', endpoint, 'model', model,
                     'lifecycle_status', lifecycle_status, 'source', source) AS VARCHAR)
                                                                AS "Tags",
    team                                                        AS x_team,
    source                                                      AS x_source,
    endpoint                                                    AS x_endpoint,
    route                                                       AS x_route,
    model                                                       AS x_model,
    service_tier                                                AS x_service_tier,
    is_batch                                                    AS x_is_batch,
    lifecycle_status                                            AS x_lifecycle_status,
    replacement_model                                           AS x_replacement_model,
    replacement_cost_usd                                        AS x_replacement_cost_usd,
    input_tokens                                                AS x_input_tokens,
    cached_input_tokens                                         AS x_cached_input_tokens,
    output_tokens                                               AS x_output_tokens,
    provider                                                    AS x_provider
FROM costs
LEFT JOIN publishers ON publishers.sku = coalesce(costs.price_model, costs.model)
LEFT JOIN provider_accounts ON provider_accounts.provider_key = lower(costs.provider_name)
CROSS JOIN billing_account
