-- catalog.model_price_bands: long-context prices, one row per model, service tier (NULL: the
-- default tier), validity window and staged prompt band (pipelines/lib/schema.py
-- PROMPT_BANDS) they apply to. A usage row whose prompt_band has a row here is priced at it
-- instead of its price row (intermediate/int_usage_priced); min_prompt_tokens is the
-- threshold whose prices these are, and an empty price is the price row's.
-- Input: `model_price_bands_in`, the shipped bands cut around RADAR_CATALOG_OVERRIDES (text).
-- The same model builds catalog.replaced_model_price_bands from the shipped rows those overrides
-- replace, for the dates they replace them: the list prices beside the negotiated ones.
SELECT
    model,
    nullif(service_tier, '')                                    AS service_tier,
    CAST(valid_from AS DATE)                                    AS valid_from,
    CAST(nullif(valid_to, '') AS DATE)                          AS valid_to,
    CAST(prompt_band AS INTEGER)                                AS prompt_band,
    CAST(min_prompt_tokens AS INTEGER)                          AS min_prompt_tokens,
    CAST(input_usd_per_1m AS DECIMAL(18, 6))                    AS input_usd_per_1m,
    CAST(nullif(cached_input_usd_per_1m, '') AS DECIMAL(18, 6)) AS cached_input_usd_per_1m,
    CAST(nullif(output_usd_per_1m, '') AS DECIMAL(18, 6))       AS output_usd_per_1m,
    CAST(nullif(cache_write_input_usd_per_1m, '') AS DECIMAL(18, 6))
                                                                AS cache_write_input_usd_per_1m,
    CAST(nullif(cache_write_1h_input_usd_per_1m, '') AS DECIMAL(18, 6))
                                                                AS cache_write_1h_input_usd_per_1m,
    source
FROM model_price_bands_in
ORDER BY model, service_tier NULLS FIRST, valid_from, prompt_band
