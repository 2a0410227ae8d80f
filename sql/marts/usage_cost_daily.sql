-- marts.usage_cost_daily: one row per usage_date x source x team x project x user x API key x
-- endpoint x route x model x service tier x batch flag. Read by FinOps dashboards.
-- cost_usd is NULL (and priced = false) where the model or the unit is not in the catalog.
-- Seconds of audio transcribed and characters of speech are priced where the model is billed
-- in them (whisper-1, tts-1: catalog.model_unit_prices).
WITH rolled_up AS (
    -- one row per day and key: the priced rows' prompt bands, gateway team ids and aliases
    -- summed together
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
        -- the same usage before the batch discount: at the price it is costed at (an
        -- override's, negotiated) and at the catalog's list price (FOCUS ContractedCost and
        -- ListCost; the two differ only where RADAR_CATALOG_OVERRIDES prices the row)
        CASE WHEN bool_and(priced) THEN sum(contracted_cost_usd) END AS contracted_cost_usd,
        CASE WHEN bool_and(priced) THEN sum(list_cost_usd) END AS list_cost_usd,
        -- the ways the rows' team was matched, one bit each (in the order of their names; the
        -- names replace the bits below): an integer aggregate, where a sorted list of names
        -- per group cost ~0.5 s of a 525,600-row build. The ways are int_usage_priced's
        -- team_matched_by values; one not listed here stops the build instead of dropping out
        -- of the text (tests/test_team_matching.py)
        bit_or(CASE team_matched_by
                WHEN 'api_key_id' THEN 1
                WHEN 'litellm_team_alias' THEN 2
                WHEN 'litellm_team_id' THEN 4
                WHEN 'project_id' THEN 8
                WHEN 'unassigned' THEN 16
                WHEN 'user_id' THEN 32
                ELSE error('marts.usage_cost_daily: team_matched_by ' || team_matched_by
                           || ' has no bit (sql/marts/usage_cost_daily.sql)')
            END) AS team_matched_by,
        -- who serves the priced model (LiteLLM's provider id: openai, anthropic, azure, ...)
        any_value(provider)              AS provider,
        -- why a row of a known model is not priced (marts.unpriced_usage has the rest)
        max(unpriced_reason)             AS unpriced_reason,
        -- an endpoint metered in other units than tokens: how many, and which (seconds of
        -- audio transcribed, characters of speech, images ...); NULL for tokens
        sum(units)::BIGINT               AS units,
        any_value(unit)                  AS unit
    FROM intermediate.usage_priced
    GROUP BY
        usage_date, source, team, project_id, user_id, api_key_id, endpoint, route, model,
        service_tier, is_batch
)

SELECT * REPLACE (
    -- the ways' names, sorted and comma-separated: the same rows always give the same text
    concat_ws(',',
        CASE WHEN team_matched_by & 1 <> 0 THEN 'api_key_id' END,
        CASE WHEN team_matched_by & 2 <> 0 THEN 'litellm_team_alias' END,
        CASE WHEN team_matched_by & 4 <> 0 THEN 'litellm_team_id' END,
        CASE WHEN team_matched_by & 8 <> 0 THEN 'project_id' END,
        CASE WHEN team_matched_by & 16 <> 0 THEN 'unassigned' END,
        CASE WHEN team_matched_by & 32 <> 0 THEN 'user_id' END
    ) AS team_matched_by)
FROM rolled_up
