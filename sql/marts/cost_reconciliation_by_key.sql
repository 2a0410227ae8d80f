-- marts.cost_reconciliation_by_key: one row per usage_date x project_id x api_key_id where the
-- Costs API groups the bill by API key: billed next to the cost computed from
-- OpenAI-reported usage of that key (same tolerance and line-item rules as
-- marts.cost_reconciliation, whose grain stays day x project).
WITH billed AS (
    SELECT usage_date, project_id, api_key_id, sum(amount_usd) AS billed_usd
    FROM intermediate.billed_costs
    WHERE api_key_id IS NOT NULL AND NOT is_other_line_item
    GROUP BY ALL
),

computed AS (
    SELECT usage_date, project_id, api_key_id, coalesce(sum(cost_usd), 0) AS computed_usd
    FROM marts.usage_cost_daily
    WHERE source IN ('openai_usage_api', 'openai_dashboard')
    GROUP BY ALL
)

SELECT
    b.usage_date,
    b.project_id,
    b.api_key_id,
    b.billed_usd,
    CAST(coalesce(c.computed_usd, 0) AS DECIMAL(38, 10)) AS computed_usd,
    b.billed_usd - coalesce(c.computed_usd, 0) AS difference_usd,
    abs(b.billed_usd - coalesce(c.computed_usd, 0))
        <= greatest(abs(b.billed_usd) * CAST($tolerance_share AS DECIMAL(9, 6)),
                    CAST($tolerance_usd AS DECIMAL(18, 6))) AS within_tolerance
FROM billed AS b
LEFT JOIN computed AS c
    ON c.usage_date = b.usage_date
   AND c.project_id IS NOT DISTINCT FROM b.project_id
   AND c.api_key_id = b.api_key_id
ORDER BY b.usage_date, b.project_id, b.api_key_id
