-- marts.deprecated_model_usage: one row per team x endpoint x model whose model is deprecated
-- or shut down as of $as_of and that has any request in the window ($as_of - 27 .. $as_of).
-- The table the platform team works from: who to call, how urgent, what it costs to move.
WITH daily AS (
    SELECT * FROM marts.usage_cost_daily WHERE usage_date <= $as_of
),

history AS (
    SELECT team, endpoint, model,
           min(usage_date) AS first_seen,
           max(usage_date) AS last_seen
    FROM daily
    GROUP BY team, endpoint, model
),

window_usage AS (
    SELECT
        team,
        endpoint,
        model,
        any_value(lifecycle_status)      AS lifecycle_status,
        any_value(shutdown_date)         AS shutdown_date,
        any_value(replacement_model)     AS replacement_model,
        sum(requests)::BIGINT            AS requests_28d,
        sum(failed_requests)::BIGINT     AS failed_requests_28d,
        sum(input_tokens)::BIGINT        AS input_tokens_28d,
        sum(cached_input_tokens)::BIGINT AS cached_input_tokens_28d,
        sum(output_tokens)::BIGINT       AS output_tokens_28d,
        CASE WHEN bool_and(priced) THEN sum(cost_usd) END AS cost_usd_28d,
        CASE WHEN bool_and(replacement_cost_usd IS NOT NULL)
             THEN sum(replacement_cost_usd) END AS replacement_cost_usd_28d,
        sum(units)::BIGINT               AS units_28d,
        any_value(unit)                  AS unit
    FROM daily
    WHERE usage_date >= CAST($as_of AS DATE) - INTERVAL 27 DAY
      AND lifecycle_status IN ('deprecated', 'shutdown')
    GROUP BY team, endpoint, model
    HAVING sum(requests) > 0
)

SELECT
    w.team,
    w.endpoint,
    w.model,
    w.lifecycle_status,
    w.shutdown_date,
    datediff('day', CAST($as_of AS DATE), w.shutdown_date) AS days_to_shutdown,
    w.replacement_model,
    h.first_seen,
    h.last_seen,
    w.requests_28d,
    w.failed_requests_28d,
    w.input_tokens_28d,
    w.cached_input_tokens_28d,
    w.output_tokens_28d,
    w.cost_usd_28d,
    w.replacement_cost_usd_28d,
    w.replacement_cost_usd_28d - w.cost_usd_28d AS migration_cost_delta_usd_28d,
    -- an endpoint metered in other units than tokens: how many (seconds of audio
    -- transcribed, characters of speech, images), and which; NULL for tokens
    w.units_28d,
    w.unit
FROM window_usage AS w
JOIN history AS h USING (team, endpoint, model)
ORDER BY
    w.lifecycle_status = 'shutdown' DESC,
    days_to_shutdown NULLS LAST,
    w.requests_28d DESC,
    w.team, w.endpoint, w.model
