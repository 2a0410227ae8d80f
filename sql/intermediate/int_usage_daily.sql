-- intermediate.usage_daily: staged usage rolled up to one row per day and source grain
-- (usage_date x source x keys x endpoint x route x model x tier x batch x long-context band).
-- Gateway logs arrive one row per request; everything downstream works on this much smaller
-- table. Maintained incrementally: a run recomputes only the days its new files touched
-- (staging.pending_dates); $full rebuilds every day.
-- Usage that another file reports at a finer grouping (an ungrouped save next to pages
-- grouped by model: pipelines/lib/groupings.py) is in intermediate.usage_set_aside and is
-- taken back out here, so it counts once; a staged row set aside in full leaves no row.
WITH staged AS (
    SELECT
        usage_date, source, project_id, user_id, api_key_id, litellm_team_id, team_alias,
        endpoint, route, model, service_tier, is_batch, prompt_band,
        requests, failed_requests, input_tokens, cached_input_tokens, output_tokens,
        input_audio_tokens, cached_input_audio_tokens, output_audio_tokens,
        input_image_tokens, cached_input_image_tokens, output_image_tokens,
        cache_write_input_tokens, cache_write_1h_input_tokens,
        units, unit,
        bucket_start, bucket_end,
        1 AS staged_rows
    FROM staging.usage
    WHERE $full OR usage_date IN (SELECT usage_date FROM staging.pending_dates)
),

set_aside AS (
    SELECT
        usage_date, source, project_id, user_id, api_key_id, litellm_team_id, team_alias,
        -- OpenAI-reported rows only (groupings.OPENAI_SOURCES), whose band is always 0
        endpoint, route, model, service_tier, is_batch, 0,
        -requests, -failed_requests, -input_tokens, -cached_input_tokens, -output_tokens,
        -input_audio_tokens, -cached_input_audio_tokens, -output_audio_tokens,
        -input_image_tokens, -cached_input_image_tokens, -output_image_tokens,
        -cache_write_input_tokens, -cache_write_1h_input_tokens,
        -units, unit,
        NULL, NULL,
        -CAST(fully_set_aside AS INTEGER)
    FROM intermediate.usage_set_aside
    WHERE $full OR usage_date IN (SELECT usage_date FROM staging.pending_dates)
),

counted AS (
    SELECT * FROM staged
    UNION ALL
    SELECT * FROM set_aside
)

SELECT
    usage_date,
    source,
    project_id,
    user_id,
    api_key_id,
    litellm_team_id,
    team_alias,
    endpoint,
    route,
    model,
    service_tier,
    coalesce(is_batch, false)  AS is_batch,
    prompt_band,
    sum(requests)::BIGINT            AS requests,
    sum(failed_requests)::BIGINT     AS failed_requests,
    sum(input_tokens)::BIGINT        AS input_tokens,
    sum(cached_input_tokens)::BIGINT AS cached_input_tokens,
    sum(output_tokens)::BIGINT       AS output_tokens,
    sum(input_audio_tokens)::BIGINT        AS input_audio_tokens,
    sum(cached_input_audio_tokens)::BIGINT AS cached_input_audio_tokens,
    sum(output_audio_tokens)::BIGINT       AS output_audio_tokens,
    sum(input_image_tokens)::BIGINT        AS input_image_tokens,
    sum(cached_input_image_tokens)::BIGINT AS cached_input_image_tokens,
    sum(output_image_tokens)::BIGINT       AS output_image_tokens,
    sum(cache_write_input_tokens)::BIGINT  AS cache_write_input_tokens,
    sum(cache_write_1h_input_tokens)::BIGINT AS cache_write_1h_input_tokens,
    -- seconds, characters, images ... of an endpoint metered in them (NULL for tokens)
    (sum(units) FILTER (WHERE unit IS NOT NULL))::BIGINT AS units,
    unit,
    min(bucket_start)          AS first_bucket_start,
    max(bucket_end)            AS last_bucket_end
FROM counted
GROUP BY ALL
HAVING sum(staged_rows) > 0
