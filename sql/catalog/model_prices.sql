-- catalog.model_prices: one row per model, service tier and validity window (valid_to
-- exclusive, NULL = open; service_tier NULL = the default tier, else flex or priority;
-- provider: who serves the model, as LiteLLM names it, e.g. openai, anthropic, azure).
-- Input: `model_prices_in`, the shipped catalog merged with RADAR_CATALOG_OVERRIDES (text decimals).
-- The same model builds catalog.replaced_model_prices from the shipped rows those overrides
-- replace, for the dates they replace them: the list prices beside the negotiated ones.
SELECT
    model,
    nullif(service_tier, '')                          AS service_tier,
    CAST(valid_from AS DATE)                          AS valid_from,
    CAST(nullif(valid_to, '') AS DATE)                AS valid_to,
    CAST(input_usd_per_1m AS DECIMAL(18, 6))          AS input_usd_per_1m,
    CAST(nullif(cached_input_usd_per_1m, '') AS DECIMAL(18, 6)) AS cached_input_usd_per_1m,
    CAST(output_usd_per_1m AS DECIMAL(18, 6))         AS output_usd_per_1m,
    -- audio tokens' own prices; NULL: no audio price (cached audio: the cached price)
    CAST(nullif(input_audio_usd_per_1m, '') AS DECIMAL(18, 6))  AS input_audio_usd_per_1m,
    CAST(nullif(cached_input_audio_usd_per_1m, '') AS DECIMAL(18, 6))
                                                      AS cached_input_audio_usd_per_1m,
    CAST(nullif(output_audio_usd_per_1m, '') AS DECIMAL(18, 6)) AS output_audio_usd_per_1m,
    -- image tokens' own prices; NULL: image input priced as text input (cached: as cached
    -- input), image output unpriced
    CAST(nullif(input_image_usd_per_1m, '') AS DECIMAL(18, 6))  AS input_image_usd_per_1m,
    CAST(nullif(cached_input_image_usd_per_1m, '') AS DECIMAL(18, 6))
                                                      AS cached_input_image_usd_per_1m,
    CAST(nullif(output_image_usd_per_1m, '') AS DECIMAL(18, 6)) AS output_image_usd_per_1m,
    -- input written into the prompt cache; NULL: the input price
    CAST(nullif(cache_write_input_usd_per_1m, '') AS DECIMAL(18, 6))
                                                      AS cache_write_input_usd_per_1m,
    -- ... written to live an hour; NULL: the cache write price
    CAST(nullif(cache_write_1h_input_usd_per_1m, '') AS DECIMAL(18, 6))
                                                      AS cache_write_1h_input_usd_per_1m,
    CAST(batch_discount AS DECIMAL(5, 4))             AS batch_discount,
    source,
    mode,
    provider
FROM model_prices_in
ORDER BY model, service_tier NULLS FIRST, valid_from
