-- marts.deprecated_model_callers: one row per caller of a deprecated or shut-down model with a
-- request in the window ($as_of - 27 .. $as_of): team x endpoint x model x source x project x
-- API key x user x route. The rows of marts.deprecated_model_usage taken apart by who sends
-- the calls, so a team knows which key, project or service to change; the sums of a team,
-- endpoint and model's callers are its row there. key_alias: the name the key goes by;
-- key_owner: the user or service account that owns an OpenAI key; project_name and
-- user_name: the names an OpenAI project and user go by (all from marts.accounts).
WITH key_names AS (
    -- the names, as marts.accounts has them (a gateway key by its alias, an OpenAI key as
    -- the newest saved key list names it, with its owner)
    SELECT account_id AS api_key_id, account_name AS key_alias, key_owner
    FROM marts.accounts WHERE account_type = 'api_key'
),

project_names AS (
    SELECT account_id AS project_id, account_name AS project_name
    FROM marts.accounts WHERE account_type = 'project'
),

user_names AS (
    SELECT account_id AS user_id, account_name AS user_name
    FROM marts.accounts WHERE account_type = 'user'
),

deprecated_daily AS (
    -- the status is the model's as of $as_of on every day of its history
    SELECT *, usage_date >= CAST($as_of AS DATE) - INTERVAL 27 DAY AS in_window
    FROM marts.usage_cost_daily
    WHERE usage_date <= $as_of
      AND lifecycle_status IN ('deprecated', 'shutdown')
),

callers AS (
    SELECT
        team,
        endpoint,
        model,
        source,
        project_id,
        project_name,
        api_key_id,
        key_alias,
        key_owner,
        user_id,
        user_name,
        route,
        any_value(lifecycle_status)  AS lifecycle_status,
        any_value(shutdown_date)     AS shutdown_date,
        datediff('day', CAST($as_of AS DATE), any_value(shutdown_date)) AS days_to_shutdown,
        any_value(replacement_model) AS replacement_model,
        min(usage_date)              AS first_seen,
        max(usage_date)              AS last_seen,
        sum(requests) FILTER (WHERE in_window)::BIGINT            AS requests_28d,
        sum(failed_requests) FILTER (WHERE in_window)::BIGINT     AS failed_requests_28d,
        sum(input_tokens) FILTER (WHERE in_window)::BIGINT        AS input_tokens_28d,
        sum(cached_input_tokens) FILTER (WHERE in_window)::BIGINT AS cached_input_tokens_28d,
        sum(output_tokens) FILTER (WHERE in_window)::BIGINT       AS output_tokens_28d,
        CASE WHEN bool_and(priced) FILTER (WHERE in_window)
             THEN sum(cost_usd) FILTER (WHERE in_window) END      AS cost_usd_28d,
        CASE WHEN bool_and(replacement_cost_usd IS NOT NULL) FILTER (WHERE in_window)
             THEN sum(replacement_cost_usd) FILTER (WHERE in_window) END
                                                                  AS replacement_cost_usd_28d,
        -- seconds, characters, images ... of an endpoint metered in them (NULL for tokens)
        sum(units) FILTER (WHERE in_window)::BIGINT               AS units_28d,
        any_value(unit)                                           AS unit
    FROM deprecated_daily
    LEFT JOIN key_names USING (api_key_id)
    LEFT JOIN project_names USING (project_id)
    LEFT JOIN user_names USING (user_id)
    GROUP BY team, endpoint, model, source, project_id, project_name, api_key_id, key_alias,
             key_owner, user_id, user_name, route
    HAVING bool_or(in_window)
),

pairs_in_use AS (
    -- the callers of a row of marts.deprecated_model_usage: a team, endpoint and model with a
    -- request in the window (a caller of its own may have sent tokens only)
    SELECT *, sum(requests_28d) OVER (PARTITION BY team, endpoint, model) AS pair_requests_28d
    FROM callers
)

SELECT * EXCLUDE (pair_requests_28d)
FROM pairs_in_use
WHERE pair_requests_28d > 0
ORDER BY team, endpoint, model, requests_28d DESC, source, project_id, api_key_id, user_id, route
