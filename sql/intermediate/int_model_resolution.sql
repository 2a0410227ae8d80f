-- intermediate.model_resolution: one row per model name seen in usage or named as a
-- replacement, with the catalog entries its price and its lifecycle resolve to.
-- Rule (contract, section 5): exact name first, then (fine-tuned models) the catalog's
-- fine-tuning entry of the base, then the dated snapshot's base name; never a loose prefix.
-- The name is taken without a leading `openai/` (see catalog_names).
WITH names AS (
    SELECT DISTINCT model FROM staging.usage WHERE model IS NOT NULL
    UNION
    SELECT DISTINCT replacement_model FROM catalog.model_lifecycle
    WHERE replacement_model IS NOT NULL
),

-- a gateway deployment configured as `openai/<model>` may log that prefix: it names the
-- provider, so the rest of the name is what resolves (other providers' prefixes are kept:
-- their retirement dates are their own)
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
             THEN 'ft:' || split_part(catalog_name, ':', 2) END AS fine_tune_base
    FROM catalog_names
),

priced_models AS (SELECT DISTINCT model FROM catalog.model_prices),

lifecycle_models AS (SELECT model FROM catalog.model_lifecycle)

SELECT
    n.model,
    n.snapshot_base,
    n.fine_tune_base,
    coalesce(p_exact.model, p_ft.model,
             CASE WHEN n.fine_tune_base IS NULL THEN p_base.model END) AS price_model,
    coalesce(l_exact.model,
             CASE WHEN n.fine_tune_base IS NULL THEN l_base.model END) AS lifecycle_model
FROM name_parts AS n
LEFT JOIN priced_models AS p_exact ON p_exact.model = n.catalog_name
LEFT JOIN priced_models AS p_ft ON p_ft.model = n.fine_tune_base
LEFT JOIN priced_models AS p_base ON p_base.model = n.snapshot_base
LEFT JOIN lifecycle_models AS l_exact ON l_exact.model = n.catalog_name
LEFT JOIN lifecycle_models AS l_base ON l_base.model = n.snapshot_base
