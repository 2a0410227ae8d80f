-- marts.usage_cost_daily: one row per usage_date x source x team x project x user x API key x
-- endpoint x route x model x service tier x batch flag. Read by FinOps dashboards.
-- cost_usd is NULL (and priced = false) where the model or the unit is not in the catalog.
SELECT
    usage_date,
    source,
    team,
    project_id,
    user_id,
    api_key_id,
    endpoint,
    route,
    model,
    service_tier,
    is_batch,
    sum(requests)::BIGINT            AS requests,
    sum(failed_requests)::BIGINT     AS failed_requests,
    sum(input_tokens)::BIGINT        AS input_tokens,
    sum(cached_input_tokens)::BIGINT AS cached_input_tokens,
    sum(output_tokens)::BIGINT       AS output_tokens,
    CASE WHEN bool_and(priced) THEN sum(cost_usd) END AS cost_usd,
    bool_and(priced)                 AS priced,
    any_value(lifecycle_status)      AS lifecycle_status,
    any_value(shutdown_date)         AS shutdown_date,
    any_value(replacement_model)     AS replacement_model,
    CASE WHEN bool_and(replacement_cost_usd IS NOT NULL) THEN sum(replacement_cost_usd) END
                                     AS replacement_cost_usd,
    any_value(price_model)           AS price_model,
    CASE WHEN bool_and(priced) THEN sum(list_cost_usd) END AS list_cost_usd,
    -- sorted, so the same rows always give the same text (and no DISTINCT aggregate)
    array_to_string(list_sort(list_distinct(list(team_matched_by))), ',') AS team_matched_by,
    -- who serves the priced model (LiteLLM's provider id: openai, anthropic, azure, ...)
    any_value(provider)              AS provider,
    -- why a row of a known model is not priced (marts.unpriced_usage has the rest)
    max(unpriced_reason)             AS unpriced_reason
FROM intermediate.usage_priced
GROUP BY
    usage_date, source, team, project_id, user_id, api_key_id, endpoint, route, model,
    service_tier, is_batch
