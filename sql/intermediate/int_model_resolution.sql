-- intermediate.model_resolution: one row per model name seen in usage or named as a
-- replacement (any of those the provider names), with the catalog entries its price and
-- its lifecycle resolve to.
-- Rule (contract, section 5): exact name first, then (fine-tuned models) the catalog's
-- fine-tuning entry of the base, then the name without a gateway's provider prefix where the
-- catalog's entry for it is that provider's, then the dated snapshot's base name, then (a
-- gateway model) the catalog key LiteLLM priced it at; never a loose prefix. The name is
-- taken without a leading `openai/` (see catalog_names). Kept in step with
-- pipelines/lib/modelnames.py (resolve_name, same_provider; the gateway's key is SQL only).
WITH names AS (
    SELECT DISTINCT model FROM staging.usage WHERE model IS NOT NULL
    UNION
    -- every replacement the provider names (the recommended one is option 1), so each can
    -- be priced in marts.replacement_options
    SELECT DISTINCT replacement_model FROM catalog.model_replacement_options
),

-- a gateway deployment configured as `openai/<model>` may log that prefix: it names the
-- provider, so the rest of the name is what resolves (other providers' prefixes come off
-- only where the catalog's entry is that provider's: see unprefixed)
catalog_names AS (
    SELECT
        model,
        CASE WHEN starts_with(model, 'openai/') THEN substr(model, 8) ELSE model END
            AS catalog_name
    FROM names
),

name_parts AS (
    SELECT
        model,
        catalog_name,
        CASE WHEN regexp_matches(catalog_name, '-(\d{4}-\d{2}-\d{2}|\d{4})$')
             THEN regexp_replace(catalog_name, '-(\d{4}-\d{2}-\d{2}|\d{4})$', '')
             END AS snapshot_base,
        CASE WHEN catalog_name LIKE 'ft:%:%'
             THEN 'ft:' || split_part(catalog_name, ':', 2) END AS fine_tune_base,
        CASE WHEN contains(catalog_name, '/')
             THEN split_part(catalog_name, '/', 1) END AS provider_prefix,
        CASE WHEN contains(catalog_name, '/')
             THEN substr(catalog_name, strpos(catalog_name, '/') + 1) END AS unprefixed_name
    FROM catalog_names
),

-- a model is priced by its token prices or, billed by the second or the character
-- (whisper-1, tts-1), by its unit prices
priced_models AS (
    SELECT model FROM catalog.model_prices
    UNION
    SELECT model FROM catalog.model_unit_prices
),

-- the catalog entry LiteLLM priced a gateway model at (its metadata's model_map_key), newest
-- first: an Azure deployment logged by its own name (azure/my-prod-gpt4o) resolves by it,
-- but only where the name itself does not
gateway_model_keys AS (
    SELECT model, model_map_key
    FROM staging.gateway_model_keys
    QUALIFY row_number() OVER (PARTITION BY model
                               ORDER BY last_seen DESC, file_id DESC, model_map_key) = 1
),

-- LiteLLM logs a deployment's model with its provider prefix (`anthropic/claude-...`,
-- `bedrock/anthropic.claude-...`) where the catalog keys it without: the prefix comes off
-- when the catalog's entry for the rest is that provider's (or a variant of it:
-- bedrock_converse, vertex_ai-language-models, text-completion-openai), never another's
price_providers AS (
    SELECT model, any_value(provider) AS provider FROM catalog.model_prices GROUP BY model
),

unprefixed AS (
    SELECT n.model, n.unprefixed_name
    FROM name_parts AS n
    JOIN price_providers AS pp ON pp.model = n.unprefixed_name
    WHERE pp.provider = n.provider_prefix
       OR starts_with(pp.provider, n.provider_prefix || '_')
       OR starts_with(pp.provider, n.provider_prefix || '-')
       OR ends_with(pp.provider, '-' || n.provider_prefix)
),

lifecycle_models AS (SELECT model FROM catalog.model_lifecycle)

SELECT
    n.model,
    n.snapshot_base,
    n.fine_tune_base,
    coalesce(p_exact.model, p_ft.model, u.unprefixed_name,
             CASE WHEN n.fine_tune_base IS NULL THEN p_base.model END,
             p_mapped.model) AS price_model,
    coalesce(l_exact.model, l_unprefixed.model,
             CASE WHEN n.fine_tune_base IS NULL THEN l_base.model END,
             l_mapped.model) AS lifecycle_model
FROM name_parts AS n
LEFT JOIN priced_models AS p_exact ON p_exact.model = n.catalog_name
LEFT JOIN priced_models AS p_ft ON p_ft.model = n.fine_tune_base
LEFT JOIN unprefixed AS u ON u.model = n.model
LEFT JOIN priced_models AS p_base ON p_base.model = n.snapshot_base
LEFT JOIN lifecycle_models AS l_exact ON l_exact.model = n.catalog_name
LEFT JOIN lifecycle_models AS l_unprefixed ON l_unprefixed.model = u.unprefixed_name
LEFT JOIN lifecycle_models AS l_base ON l_base.model = n.snapshot_base
LEFT JOIN gateway_model_keys AS g ON g.model = n.model
LEFT JOIN priced_models AS p_mapped ON p_mapped.model = g.model_map_key
LEFT JOIN lifecycle_models AS l_mapped ON l_mapped.model = g.model_map_key
