-- marts.replacement_options: one row per row of marts.deprecated_model_usage and replacement
-- the provider names for its model, so a team can weigh them: whisper-1's "gpt-live-transcribe
-- or gpt-transcribe" is two rows, one price nearly four times the other. Each prices the
-- window's usage as deprecated_model_usage prices it on the recommended replacement: the
-- same tokens (or seconds, characters) at the option's price on $as_of. Option 1 is the
-- recommended replacement (its cost is deprecated_model_usage.replacement_cost_usd_28d); an
-- option itself deprecated or shut down as of $as_of is followed along its own chain, as the
-- recommended one is (contract, section 5), and options that lead to one model are one row.
WITH deprecated AS (
    SELECT team, endpoint, model, replacement_model, requests_28d, cost_usd_28d
    FROM marts.deprecated_model_usage
),

-- the options of each deprecated model's catalog entry, as the provider names them, and the
-- model each leads to: option 1 the recommended replacement (the chain already followed),
-- another the end of its own chain where it is itself retiring
named AS (
    SELECT
        d.team,
        d.endpoint,
        d.model,
        o.option_rank,
        o.replacement_model AS named_replacement,
        CASE
            WHEN o.option_rank = 1 THEN d.replacement_model
            WHEN ol.lifecycle_status IN ('deprecated', 'shutdown')
                THEN coalesce(ol.replacement_model, o.replacement_model)
            ELSE o.replacement_model
        END AS replacement_model
    FROM deprecated AS d
    JOIN intermediate.model_resolution AS mr ON mr.model = d.model
    JOIN catalog.model_replacement_options AS o ON o.model = mr.lifecycle_model
    LEFT JOIN intermediate.model_resolution AS onr ON onr.model = o.replacement_model
    LEFT JOIN intermediate.lifecycle_as_of AS ol ON ol.model = onr.lifecycle_model
    WHERE d.replacement_model IS NOT NULL
),

-- one row per model an option leads to, at the rank of the first option that names it
options AS (
    SELECT
        team,
        endpoint,
        model,
        replacement_model,
        arg_min(named_replacement, option_rank) AS named_replacement,
        min(option_rank) AS first_rank
    FROM named
    GROUP BY team, endpoint, model, replacement_model
),

-- the rows deprecated_model_usage sums: the window's, of a deprecated or shut-down model
window_rows AS (
    SELECT u.*, radar_token_metered(u.endpoint) AS token_metered
    FROM intermediate.usage_priced AS u
    WHERE u.usage_date BETWEEN CAST($as_of AS DATE) - INTERVAL 27 DAY AND CAST($as_of AS DATE)
      AND u.lifecycle_status IN ('deprecated', 'shutdown')
),

-- each row with each option's prices on $as_of: its default tier's, with the long-context
-- prices of the row's prompt band, and its price per unit for a row metered in units
with_prices AS (
    SELECT
        w.*,
        o.replacement_model AS option_model,
        rp AS option_listed,
        rb AS option_band,
        rup.usd_per_1m_units AS option_unit_price
    FROM window_rows AS w
    JOIN options AS o USING (team, endpoint, model)
    LEFT JOIN intermediate.model_resolution AS rr ON rr.model = o.replacement_model
    LEFT JOIN radar_prices_on(CAST($as_of AS DATE)) AS rp ON rp.model = rr.price_model
    LEFT JOIN radar_price_bands_on(CAST($as_of AS DATE)) AS rb
        ON rb.model = rr.price_model AND rb.prompt_band = w.prompt_band
    LEFT JOIN radar_unit_prices_on(CAST($as_of AS DATE)) AS rup
        ON rup.model = rr.price_model AND rup.unit = w.unit
),

-- the money formula (sql/macros/money.sql), as int_usage_priced applies it to the
-- recommended replacement
costed AS (
    SELECT
        team, endpoint, model, option_model, is_batch, token_metered, units,
        input_tokens, cached_input_tokens, output_tokens, input_audio_tokens,
        cached_input_audio_tokens, output_audio_tokens, input_image_tokens,
        cached_input_image_tokens, output_image_tokens, cache_write_input_tokens,
        cache_write_1h_input_tokens, option_unit_price,
        radar_banded(option_listed, option_band) AS prices
    FROM with_prices
),

row_costs AS (
    SELECT
        team, endpoint, model, option_model,
        radar_cost_usd(radar_unit_priceable(option_unit_price),
                       radar_unit_usd(units, option_unit_price),
                       radar_priceable(prices), radar_gross_usd(prices),
                       prices.batch_discount) AS option_cost_usd
    FROM costed
),

option_costs AS (
    SELECT
        team,
        endpoint,
        model,
        option_model AS replacement_model,
        CASE WHEN bool_and(option_cost_usd IS NOT NULL) THEN sum(option_cost_usd) END
            AS replacement_cost_usd_28d
    FROM row_costs
    GROUP BY team, endpoint, model, option_model
),

-- the lifecycle of the model each option leads to, as of $as_of (as usage_priced says it)
option_status AS (
    SELECT
        r.model,
        CASE
            WHEN l.lifecycle_status IS NOT NULL THEN l.lifecycle_status
            WHEN r.price_model IS NOT NULL THEN 'active'
            ELSE 'unknown'
        END AS lifecycle_status
    FROM intermediate.model_resolution AS r
    LEFT JOIN intermediate.lifecycle_as_of AS l ON l.model = r.lifecycle_model
),

ranked AS (
    SELECT
        o.*,
        row_number() OVER (PARTITION BY o.team, o.endpoint, o.model ORDER BY o.first_rank)
            AS option_rank,
        c.replacement_cost_usd_28d
    FROM options AS o
    LEFT JOIN option_costs AS c USING (team, endpoint, model, replacement_model)
)

SELECT
    r.team,
    r.endpoint,
    r.model,
    r.option_rank,
    -- the model priced; the provider's own name for the option where its chain led on
    r.replacement_model,
    r.named_replacement,
    coalesce(s.lifecycle_status, 'unknown') AS replacement_status,
    d.requests_28d,
    d.cost_usd_28d,
    r.replacement_cost_usd_28d,
    r.replacement_cost_usd_28d - d.cost_usd_28d AS migration_cost_delta_usd_28d,
    -- the option that costs least for this usage (ties: the earlier option); NULL where an
    -- option of the row cannot be priced
    CASE WHEN count(r.replacement_cost_usd_28d) OVER same_row = count(*) OVER same_row
         THEN row_number() OVER (PARTITION BY r.team, r.endpoint, r.model
                                 ORDER BY r.replacement_cost_usd_28d, r.option_rank) = 1
    END AS cheapest
FROM ranked AS r
JOIN deprecated AS d USING (team, endpoint, model)
LEFT JOIN option_status AS s ON s.model = r.replacement_model
WINDOW same_row AS (PARTITION BY r.team, r.endpoint, r.model)
ORDER BY r.team, r.endpoint, r.model, r.option_rank
