-- marts.cost_reconciliation: one row per usage_date x project_id present in the billed data
-- (Costs API pages or the dashboard cost export, counted once: intermediate.billed_costs). Where the bill is not split by project,
-- project_id is NULL and the row compares the whole organisation's day.
-- billed_usd counts the line items our token prices can explain; line items for tools,
-- storage, fine-tuning and credits are kept apart in billed_other_usd
-- (intermediate.billed_costs.is_other_line_item).
-- Computed cost counts only OpenAI-reported usage (Usage API, dashboard export): gateway logs
-- describe the same traffic from the other side and would count it twice.
-- Tolerance: $tolerance_share of the billed amount or $tolerance_usd, whichever is larger.
-- Usage and cost data do not always cut days at the same instant, so each day is also
-- compared over a rolling 7-day window and classified: matched, offset (the difference is
-- balanced by a neighbouring day: money shifted, not missing) or unexplained.
WITH billed AS (
    SELECT usage_date, project_id,
           coalesce(sum(amount_usd) FILTER (WHERE NOT is_other_line_item), 0) AS billed_usd,
           coalesce(sum(amount_usd) FILTER (WHERE is_other_line_item), 0)     AS billed_other_usd
    FROM intermediate.billed_costs
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
        b.billed_other_usd,
        CAST(coalesce(CASE WHEN b.project_id IS NULL THEN d.computed_usd ELSE p.computed_usd END, 0)
             AS DECIMAL(38, 10)) AS computed_usd
    FROM billed AS b
    LEFT JOIN computed_by_project AS p
        ON p.usage_date = b.usage_date AND p.project_id = b.project_id
    LEFT JOIN computed_by_day AS d
        ON d.usage_date = b.usage_date
),

with_windows AS (
    SELECT
        *,
        billed_usd - computed_usd AS difference_usd,
        greatest(abs(billed_usd) * CAST($tolerance_share AS DECIMAL(9, 6)),
                 CAST($tolerance_usd AS DECIMAL(18, 6))) AS tolerance_usd,
        sum(billed_usd) OVER w7 AS billed_7d_usd,
        sum(computed_usd) OVER w7 AS computed_7d_usd,
        lag(billed_usd - computed_usd) OVER by_day AS previous_difference_usd,
        lead(billed_usd - computed_usd) OVER by_day AS next_difference_usd,
        lag(usage_date) OVER by_day AS previous_date,
        lead(usage_date) OVER by_day AS next_date
    FROM compared
    WINDOW
        w7 AS (PARTITION BY project_id ORDER BY usage_date
               RANGE BETWEEN INTERVAL 6 DAY PRECEDING AND CURRENT ROW),
        by_day AS (PARTITION BY project_id ORDER BY usage_date)
)

SELECT
    usage_date,
    project_id,
    billed_usd,
    computed_usd,
    difference_usd,
    abs(difference_usd) <= tolerance_usd AS within_tolerance,
    billed_other_usd,
    billed_7d_usd,
    computed_7d_usd,
    billed_7d_usd - computed_7d_usd AS difference_7d_usd,
    abs(billed_7d_usd - computed_7d_usd)
        <= greatest(abs(billed_7d_usd) * CAST($tolerance_share AS DECIMAL(9, 6)),
                    CAST($tolerance_usd AS DECIMAL(18, 6))) AS within_tolerance_7d,
    CASE
        WHEN abs(difference_usd) <= tolerance_usd THEN 'matched'
        WHEN previous_date = usage_date - INTERVAL 1 DAY
             AND abs(difference_usd + previous_difference_usd) <= 2 * tolerance_usd
            THEN 'offset'
        WHEN next_date = usage_date + INTERVAL 1 DAY
             AND abs(difference_usd + next_difference_usd) <= 2 * tolerance_usd
            THEN 'offset'
        ELSE 'unexplained'
    END AS classification
FROM with_windows
ORDER BY usage_date, project_id NULLS FIRST
