-- intermediate.usage_priced: one row per intermediate.usage_daily row, attributed to a team,
-- priced at the catalog price in effect on the usage date, with its lifecycle as of $as_of
-- and the cost of the same tokens on the recommended replacement at the price on $as_of.
--
-- Money rule (stated once, in pipelines/lib/money.py): the formula is applied to the row's
-- integer token sums with exact DECIMAL arithmetic and rounded once, to 1e-10 USD, half away
-- from zero; every total above this grain is an exact sum of these rows.
WITH team_keys AS (
    SELECT key_type, key_value, team FROM catalog.team_directory
),

attributed AS (
    SELECT
        u.*,
        coalesce(by_key.team, by_user.team, by_project.team, by_gateway_team.team,
                 u.team_alias, 'unassigned') AS team,
        CASE
            WHEN by_key.team IS NOT NULL THEN 'api_key_id'
            WHEN by_user.team IS NOT NULL THEN 'user_id'
            WHEN by_project.team IS NOT NULL THEN 'project_id'
            WHEN by_gateway_team.team IS NOT NULL THEN 'litellm_team_id'
            WHEN u.team_alias IS NOT NULL THEN 'litellm_team_alias'
            ELSE 'unassigned'
        END AS team_matched_by
    FROM intermediate.usage_daily AS u
    LEFT JOIN team_keys AS by_key
        ON by_key.key_type = 'api_key_id' AND by_key.key_value = u.api_key_id
    LEFT JOIN team_keys AS by_user
        ON by_user.key_type = 'user_id' AND by_user.key_value = u.user_id
    LEFT JOIN team_keys AS by_project
        ON by_project.key_type = 'project_id' AND by_project.key_value = u.project_id
    LEFT JOIN team_keys AS by_gateway_team
        ON by_gateway_team.key_type = 'litellm_team_id'
       AND by_gateway_team.key_value = u.litellm_team_id
),

resolved AS (
    SELECT
        a.*,
        r.price_model,
        r.lifecycle_model,
        lc.lifecycle_status AS catalog_lifecycle_status,
        lc.shutdown_date,
        lc.replacement_model
    FROM attributed AS a
    LEFT JOIN intermediate.model_resolution AS r ON r.model = a.model
    LEFT JOIN intermediate.lifecycle_as_of AS lc ON lc.model = r.lifecycle_model
),

with_prices AS (
    SELECT
        x.*,
        -- only token-metered endpoints are priced from the token catalog
        radar_token_metered(x.endpoint) AS token_metered,
        CASE WHEN pt.model IS NOT NULL THEN x.service_tier END AS price_tier,
        -- who serves the model, as the catalog names it (LiteLLM's provider id)
        p.provider,
        rr.price_model AS replacement_price_model,
        -- the price rows in effect, whole: the model's on the usage date (its tier's own where
        -- the catalog has one: flex, priority; else the default tier's), and the
        -- replacement's default tier on $as_of; each with the long-context prices of the same
        -- model, tier and dates for the row's prompt band, where the catalog has them
        CASE WHEN pt.model IS NOT NULL THEN pt ELSE p END AS listed_prices,
        CASE WHEN pt.model IS NOT NULL THEN bt ELSE b END AS band_prices,
        rp AS replacement_listed,
        rb AS replacement_band,
        -- a model billed in the unit its endpoint reports (whisper-1's seconds, tts-1's
        -- characters): its price per 1M units on the usage date, the replacement's on $as_of
        up.usd_per_1m_units AS unit_price,
        rup.usd_per_1m_units AS replacement_unit_price,
        -- where a RADAR_CATALOG_OVERRIDES row prices the row (a default-tier price): the
        -- catalog's list prices it replaces on the usage date (catalog.replaced_*, empty
        -- without overrides), for the list cost beside the negotiated one
        CASE WHEN pt.model IS NULL AND lp.model IS NOT NULL THEN lp END AS replaced_listed,
        CASE WHEN pt.model IS NULL AND lp.model IS NOT NULL THEN lb END AS replaced_band,
        lup.usd_per_1m_units AS replaced_unit_price
    FROM resolved AS x
    LEFT JOIN catalog.model_prices AS p
        ON p.model = x.price_model
       AND p.service_tier IS NULL
       AND x.usage_date >= p.valid_from
       AND (p.valid_to IS NULL OR x.usage_date < p.valid_to)
    LEFT JOIN catalog.model_prices AS pt
        ON pt.model = x.price_model
       AND pt.service_tier = x.service_tier
       AND x.usage_date >= pt.valid_from
       AND (pt.valid_to IS NULL OR x.usage_date < pt.valid_to)
    LEFT JOIN catalog.model_price_bands AS b
        ON b.model = x.price_model
       AND b.service_tier IS NULL
       AND b.prompt_band = x.prompt_band
       AND x.usage_date >= b.valid_from
       AND (b.valid_to IS NULL OR x.usage_date < b.valid_to)
    LEFT JOIN catalog.model_price_bands AS bt
        ON bt.model = x.price_model
       AND bt.service_tier = x.service_tier
       AND bt.prompt_band = x.prompt_band
       AND x.usage_date >= bt.valid_from
       AND (bt.valid_to IS NULL OR x.usage_date < bt.valid_to)
    LEFT JOIN intermediate.model_resolution AS rr ON rr.model = x.replacement_model
    LEFT JOIN radar_prices_on(CAST($as_of AS DATE)) AS rp ON rp.model = rr.price_model
    LEFT JOIN radar_price_bands_on(CAST($as_of AS DATE)) AS rb
        ON rb.model = rr.price_model AND rb.prompt_band = x.prompt_band
    LEFT JOIN catalog.model_unit_prices AS up
        ON up.model = x.price_model
       AND up.unit = x.unit
       AND x.usage_date >= up.valid_from
       AND (up.valid_to IS NULL OR x.usage_date < up.valid_to)
    LEFT JOIN radar_unit_prices_on(CAST($as_of AS DATE)) AS rup
        ON rup.model = rr.price_model AND rup.unit = x.unit
    LEFT JOIN catalog.replaced_model_prices AS lp
        ON lp.model = x.price_model
       AND x.usage_date >= lp.valid_from
       AND (lp.valid_to IS NULL OR x.usage_date < lp.valid_to)
    LEFT JOIN catalog.replaced_model_price_bands AS lb
        ON lb.model = x.price_model
       AND lb.prompt_band = x.prompt_band
       AND x.usage_date >= lb.valid_from
       AND (lb.valid_to IS NULL OR x.usage_date < lb.valid_to)
    LEFT JOIN catalog.replaced_model_unit_prices AS lup
        ON lup.model = x.price_model
       AND lup.unit = x.unit
       AND x.usage_date >= lup.valid_from
       AND (lup.valid_to IS NULL OR x.usage_date < lup.valid_to)
),

-- the prices each row pays: a price row, with its long-context prices where the row's
-- requests exceed their threshold (sql/macros/money.sql radar_banded)
banded AS (
    SELECT
        * EXCLUDE (listed_prices, band_prices, replacement_listed, replacement_band,
                   replaced_listed, replaced_band),
        CASE WHEN listed_prices.input_usd_per_1m IS NOT NULL
             THEN band_prices.min_prompt_tokens END AS long_context_threshold,
        CASE WHEN replacement_listed.input_usd_per_1m IS NOT NULL
             THEN replacement_band.min_prompt_tokens END AS replacement_long_context_threshold,
        radar_banded(listed_prices, band_prices) AS model_prices,
        radar_banded(replacement_listed, replacement_band) AS replacement_prices,
        radar_banded(replaced_listed, replaced_band) AS replaced_prices
    FROM with_prices
),

-- the money formula (sql/macros/money.sql), applied to both price rows: the model's on the
-- usage date, the replacement's on $as_of; a row metered in units at the unit prices
costed AS (
    SELECT
        * EXCLUDE (model_prices, replacement_prices, replaced_prices),
        model_prices.batch_discount AS batch_discount,
        replacement_prices.batch_discount AS r_batch_discount,
        model_prices.input_usd_per_1m IS NOT NULL AS has_price,
        (input_audio_tokens = 0 OR model_prices.input_audio_usd_per_1m IS NOT NULL)
            AND (output_audio_tokens = 0 OR model_prices.output_audio_usd_per_1m IS NOT NULL)
            AS audio_priced,
        radar_priceable(model_prices) AS token_priced,
        radar_gross_usd(model_prices) AS gross_usd,
        radar_priceable(replacement_prices) AS replacement_token_priced,
        radar_gross_usd(replacement_prices) AS replacement_gross_usd,
        -- apart from the token costs, so each is rounded once from its own exact value
        radar_unit_priceable(unit_price) AS unit_priced,
        radar_unit_usd(units, unit_price) AS unit_usd,
        radar_unit_priceable(replacement_unit_price) AS replacement_unit_priced,
        radar_unit_usd(units, replacement_unit_price) AS replacement_unit_usd,
        -- the same usage at the list prices an override replaces (NULL: no override covers
        -- it, or the list cannot price all of it)
        CASE WHEN radar_priceable(replaced_prices)
             THEN radar_gross_usd(replaced_prices) END AS replaced_gross_usd,
        CASE WHEN radar_unit_priceable(replaced_unit_price)
             THEN radar_unit_usd(units, replaced_unit_price) END AS replaced_unit_usd
    FROM banded
),

-- a row is priced in tokens or in its units, never both (a unit-priced row has no tokens)
settled AS (
    SELECT
        *,
        token_priced OR unit_priced AS priced,
        replacement_token_priced OR replacement_unit_priced AS replacement_priced,
        -- the usage at the price it is costed at, before the batch discount
        CAST(CASE WHEN unit_priced THEN unit_usd WHEN token_priced THEN gross_usd END
             AS DECIMAL(38, 10)) AS contracted_cost_usd
    FROM costed
)

SELECT
    usage_date, source, team, team_matched_by, project_id, user_id, api_key_id,
    litellm_team_id, team_alias, endpoint, route, model, service_tier, is_batch,
    requests, failed_requests, input_tokens, cached_input_tokens, output_tokens,
    input_audio_tokens, cached_input_audio_tokens, output_audio_tokens,
    input_image_tokens, cached_input_image_tokens, output_image_tokens,
    cache_write_input_tokens, cache_write_1h_input_tokens,
    -- seconds of audio, characters of speech, images ... of an endpoint metered in them
    units,
    unit,
    -- the long-context band of the requests' prompts (0: none), and the threshold whose
    -- prices the row is costed at (NULL: the price row's base rates), on the model and on
    -- the replacement
    prompt_band,
    long_context_threshold,
    replacement_long_context_threshold,
    price_model,
    price_tier,
    priced,
    radar_cost_usd(unit_priced, unit_usd, token_priced, gross_usd, batch_discount) AS cost_usd,
    -- the same usage at the price it is costed at, without the batch discount (FOCUS
    -- ContractedCost): a negotiated price where RADAR_CATALOG_OVERRIDES gives one
    contracted_cost_usd,
    -- ... at the catalog's list price (FOCUS ListCost): where an override covers the usage
    -- date, the shipped price it replaces; a model only an override prices (or whose list
    -- price cannot price all of the row) at the override's
    CASE
        WHEN unit_priced AND replaced_unit_usd IS NOT NULL
            THEN CAST(replaced_unit_usd AS DECIMAL(38, 10))
        WHEN token_priced AND replaced_gross_usd IS NOT NULL
            THEN CAST(replaced_gross_usd AS DECIMAL(38, 10))
        ELSE contracted_cost_usd
    END AS list_cost_usd,
    CASE
        WHEN catalog_lifecycle_status IS NOT NULL THEN catalog_lifecycle_status
        WHEN price_model IS NOT NULL THEN 'active'
        ELSE 'unknown'
    END AS lifecycle_status,
    shutdown_date,
    replacement_model,
    radar_cost_usd(replacement_unit_priced, replacement_unit_usd, replacement_token_priced,
                   replacement_gross_usd, r_batch_discount) AS replacement_cost_usd,
    first_bucket_start,
    last_bucket_end,
    provider,
    -- why a row of a model the catalog knows is not priced (the model-level reasons are
    -- marts.unpriced_usage's)
    CASE
        WHEN priced OR price_model IS NULL THEN NULL
        WHEN NOT token_metered AND unit IS NULL THEN NULL
        WHEN NOT token_metered AND unit_price IS NULL
            THEN 'metered in ' || unit || ', and the catalog has no price in ' || unit
                || ' for the model on the usage date'
        WHEN NOT token_metered
            THEN 'metered in ' || unit || ' and reporting tokens too: not priced in either'
        WHEN NOT has_price THEN 'no catalog price in effect on the usage date'
        WHEN NOT audio_priced THEN 'audio tokens, and the catalog has no audio price for the model'
        ELSE 'image output tokens, and the catalog has no image output price for the model'
    END AS unpriced_reason
FROM settled
