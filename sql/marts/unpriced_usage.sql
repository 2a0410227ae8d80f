-- marts.unpriced_usage: one row per model x endpoint that has usage the catalog cannot price
-- (unknown model, a unit the catalog has no price in for the model, no price on the usage date, audio
-- tokens of a model without an audio price, or image output of a model without an image
-- output price), up to $as_of as the other marts (a report for an earlier day counts no later
-- usage). Never priced at zero: add the model to the catalog or an override, and the next
-- refresh prices it.
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
        -- tokens without a model: pages or an export not grouped by model
        WHEN model IS NULL AND sum(input_tokens) + sum(output_tokens) > 0
            THEN 'no model: token usage from an export not grouped by model'
        WHEN model IS NULL THEN 'no model: endpoint metered in non-token units'
        -- a known model: no price on the usage date, audio or image output unpriced, no
        -- price in the units its endpoint reports
        WHEN max(unpriced_reason) IS NOT NULL THEN max(unpriced_reason)
        -- a model the catalog knows, on an endpoint metered in other units (dall-e-3's
        -- images): a token price would not price them either
        WHEN any_value(lifecycle_status) <> 'unknown' AND any_value(unit) IS NOT NULL
             AND endpoint NOT IN ('completions', 'embeddings', 'moderations')
            THEN 'metered in ' || any_value(unit) || ', and the catalog has no price in '
                || any_value(unit) || ' for the model'
        -- a lifecycle row but no price: LiteLLM lists the model without a usable price
        WHEN any_value(price_model) IS NULL
             AND any_value(lifecycle_status) <> 'unknown' THEN 'model has no price in catalog'
        WHEN any_value(price_model) IS NULL THEN 'model not in catalog'
        ELSE 'endpoint metered in non-token units'
    END                              AS reason,
    string_agg(DISTINCT source, ',') AS sources,
    -- an endpoint metered in other units than tokens: how many, and which (NULL for tokens)
    sum(units)::BIGINT               AS units,
    any_value(unit)                  AS unit
FROM marts.usage_cost_daily
WHERE NOT priced AND usage_date <= $as_of
GROUP BY model, endpoint
ORDER BY requests DESC, model
