-- marts.migration_status_weekly: one row per ISO week (week_start, a Monday) x team, for the
-- weeks up to the one containing $as_of. "Deprecated" means deprecated or shut down as of
-- $as_of, so every week is measured against today's list: the burn-down of today's problem.
WITH daily AS (
    SELECT *, lifecycle_status IN ('deprecated', 'shutdown') AS on_deprecated
    FROM marts.usage_cost_daily
    WHERE usage_date <= $as_of
)

SELECT
    CAST(date_trunc('week', usage_date) AS DATE)                   AS week_start,
    team,
    sum(requests)::BIGINT                                          AS requests,
    sum(CASE WHEN on_deprecated THEN requests ELSE 0 END)::BIGINT  AS deprecated_requests,
    CASE WHEN sum(requests) > 0 THEN
        round(sum(CASE WHEN on_deprecated THEN requests ELSE 0 END) / sum(requests), 6)
    END                                                            AS deprecated_share,
    coalesce(sum(cost_usd), 0)                                     AS cost_usd,
    coalesce(sum(CASE WHEN on_deprecated THEN cost_usd END), 0)    AS deprecated_cost_usd,
    count(DISTINCT CASE WHEN on_deprecated AND requests > 0
                        THEN endpoint || ' ' || model END)::BIGINT AS open_pairs,
    sum(failed_requests)::BIGINT                                   AS failed_requests,
    count(*) FILTER (WHERE NOT priced)::BIGINT                     AS unpriced_rows
FROM daily
GROUP BY ALL
ORDER BY week_start, team
