-- marts.cost_reconciliation: one row per usage_date x project_id present in the billed data
-- (Costs API pages or the dashboard cost export). Where the bill is not split by project,
-- project_id is NULL and the row compares the whole organisation's day.
-- Computed cost counts only OpenAI-reported usage (Usage API, dashboard export): gateway logs
-- describe the same traffic from the other side and would count it twice.
-- Tolerance: $tolerance_pct of the billed amount or $tolerance_usd, whichever is larger.
WITH billed AS (
    SELECT usage_date, project_id, sum(amount_usd) AS billed_usd
    FROM staging.billed_costs
    GROUP BY usage_date, project_id
),

computed_by_project AS (
    SELECT usage_date, project_id, coalesce(sum(cost_usd), 0) AS computed_usd
    FROM marts.usage_cost_daily
    WHERE source IN ('openai_usage_api', 'openai_dashboard')
    GROUP BY usage_date, project_id
),

computed_by_day AS (
    SELECT usage_date, sum(computed_usd) AS computed_usd
    FROM computed_by_project
    GROUP BY usage_date
),

compared AS (
    SELECT
        b.usage_date,
        b.project_id,
        b.billed_usd,
        CAST(coalesce(CASE WHEN b.project_id IS NULL THEN d.computed_usd ELSE p.computed_usd END, 0)
             AS DECIMAL(38, 10)) AS computed_usd
    FROM billed AS b
    LEFT JOIN computed_by_project AS p
        ON p.usage_date = b.usage_date AND p.project_id = b.project_id
    LEFT JOIN computed_by_day AS d
        ON d.usage_date = b.usage_date
)

SELECT
    usage_date,
    project_id,
    billed_usd,
    computed_usd,
    billed_usd - computed_usd AS difference_usd,
    abs(billed_usd - computed_usd)
        <= greatest(abs(billed_usd) * CAST($tolerance_pct AS DECIMAL(9, 6)),
                    CAST($tolerance_usd AS DECIMAL(18, 6))) AS within_tolerance
FROM compared
ORDER BY usage_date, project_id NULLS FIRST
