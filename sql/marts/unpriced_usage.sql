-- marts.unpriced_usage: one row per model x endpoint that has usage the catalog cannot price
-- (unknown model, or a unit the token catalog does not meter). Never priced at zero: add the
-- model to the catalog or an override, and the next refresh prices it.
SELECT
    model,
    endpoint,
    min(usage_date)                  AS first_seen,
    max(usage_date)                  AS last_seen,
    sum(requests)::BIGINT            AS requests,
    sum(input_tokens)::BIGINT        AS input_tokens,
    sum(output_tokens)::BIGINT       AS output_tokens,
    any_value(lifecycle_status)      AS lifecycle_status,
    CASE
        -- a lifecycle row but no price: LiteLLM lists the model without a usable price
        WHEN any_value(price_model) IS NULL AND model IS NOT NULL
             AND any_value(lifecycle_status) <> 'unknown' THEN 'model has no price in catalog'
        WHEN any_value(price_model) IS NULL AND model IS NOT NULL THEN 'model not in catalog'
        -- tokens without a model: pages or an export not grouped by model
        WHEN model IS NULL AND sum(input_tokens) + sum(output_tokens) > 0
            THEN 'no model: token usage from an export not grouped by model'
        WHEN model IS NULL THEN 'no model: endpoint metered in non-token units'
        ELSE 'endpoint metered in non-token units'
    END                              AS reason,
    string_agg(DISTINCT source, ',') AS sources
FROM marts.usage_cost_daily
WHERE NOT priced
GROUP BY model, endpoint
ORDER BY requests DESC, model
