-- The money formula (pipelines/lib/money.py row_cost), written once for the prices a usage
-- row is costed at (the model's, the replacement's, each replacement option's: `r` is a
-- catalog.model_prices row, as a struct) and applied by intermediate/int_usage_priced and
-- marts/replacement_options. Temporary macros, created with the models that call them
-- (pipelines/lib/duck.py with_macros): nothing is stored in the warehouse.
--
-- The macros read the calling row's token columns by name (input_tokens, ...: the columns of
-- intermediate.usage_daily); a macro's body sees the columns of the query that calls it.

-- Whether the row's endpoint is priced from the token catalog: images, audio, storage and
-- tool calls are metered in other units (priced, where the catalog can, by its unit prices).
CREATE OR REPLACE TEMP MACRO radar_token_metered(endpoint) AS
    endpoint IN ('completions', 'embeddings', 'moderations');

-- Whether `r` prices every token of the row: a price in effect, the row token-metered, and an
-- audio price for its audio and an image output price for its image output (never as text).
CREATE OR REPLACE TEMP MACRO radar_priceable(r) AS
    token_metered AND r.input_usd_per_1m IS NOT NULL
    AND (input_audio_tokens = 0 OR r.input_audio_usd_per_1m IS NOT NULL)
    AND (output_audio_tokens = 0 OR r.output_audio_usd_per_1m IS NOT NULL)
    AND (output_image_tokens = 0 OR r.output_image_usd_per_1m IS NOT NULL);

-- The row's cost at `r` before any discount and rounding: every token at its own rate, text,
-- audio and image, uncached, cached, written to the cache and output. Cached input falls back
-- to the input price; cached audio and cached image to the cached price; image input and cache
-- writes to the input price (a vision model bills image tokens as text); 1-hour cache writes
-- to the cache write price.
CREATE OR REPLACE TEMP MACRO radar_gross_usd(r) AS
    ((input_tokens - cached_input_tokens - input_audio_tokens - input_image_tokens
      - cache_write_input_tokens) * r.input_usd_per_1m
     + (cache_write_input_tokens - cache_write_1h_input_tokens)
         * coalesce(r.cache_write_input_usd_per_1m, r.input_usd_per_1m)
     + cache_write_1h_input_tokens
         * coalesce(r.cache_write_1h_input_usd_per_1m, r.cache_write_input_usd_per_1m,
                    r.input_usd_per_1m)
     + (cached_input_tokens - cached_input_audio_tokens - cached_input_image_tokens)
         * coalesce(r.cached_input_usd_per_1m, r.input_usd_per_1m)
     + input_audio_tokens * coalesce(r.input_audio_usd_per_1m, 0)
     + cached_input_audio_tokens
         * coalesce(r.cached_input_audio_usd_per_1m, r.cached_input_usd_per_1m,
                    r.input_usd_per_1m)
     + input_image_tokens * coalesce(r.input_image_usd_per_1m, r.input_usd_per_1m)
     + cached_input_image_tokens
         * coalesce(r.cached_input_image_usd_per_1m, r.cached_input_usd_per_1m,
                    r.input_usd_per_1m)
     + (output_tokens - output_audio_tokens - output_image_tokens) * r.output_usd_per_1m
     + output_audio_tokens * coalesce(r.output_audio_usd_per_1m, 0)
     + output_image_tokens * coalesce(r.output_image_usd_per_1m, 0))
    * CAST(0.000001 AS DECIMAL(7, 6));

-- The price row `r` with the long-context prices `b` (a catalog.model_price_bands row, NULL
-- where the row's requests exceed no threshold of the model) in place of its own: every
-- token of such a request is priced at them, and a price the band leaves empty is the row's.
CREATE OR REPLACE TEMP MACRO radar_banded(r, b) AS
    CASE WHEN b.input_usd_per_1m IS NULL OR r.input_usd_per_1m IS NULL THEN r
    ELSE struct_update(r,
        input_usd_per_1m := b.input_usd_per_1m,
        cached_input_usd_per_1m := coalesce(b.cached_input_usd_per_1m,
                                            r.cached_input_usd_per_1m),
        output_usd_per_1m := coalesce(b.output_usd_per_1m, r.output_usd_per_1m),
        cache_write_input_usd_per_1m := coalesce(b.cache_write_input_usd_per_1m,
                                                 r.cache_write_input_usd_per_1m),
        cache_write_1h_input_usd_per_1m := coalesce(b.cache_write_1h_input_usd_per_1m,
                                                    r.cache_write_1h_input_usd_per_1m))
    END;

-- Usage metered in other units than tokens (pipelines/lib/money.py unit_cost): whether the
-- row is priced at `price` (USD per 1M of the row's units: seconds of audio transcribed,
-- characters of speech), and the cost of `n` units (the row's `units`) before rounding. Only an endpoint that is not
-- token-metered, with its units reported and no tokens.
CREATE OR REPLACE TEMP MACRO radar_unit_priceable(price) AS
    NOT token_metered AND price IS NOT NULL AND units IS NOT NULL
    AND input_tokens = 0 AND output_tokens = 0;

CREATE OR REPLACE TEMP MACRO radar_unit_usd(n, price) AS
    n * price * CAST(0.000001 AS DECIMAL(7, 6));

-- The row's cost from the parts above, rounded once to 1e-10 USD (the money rule): its units
-- at the unit price where it is metered in them, else its tokens' cost less the batch
-- discount on a batch row; NULL where neither prices it.
CREATE OR REPLACE TEMP MACRO radar_cost_usd(unit_priced, unit_usd, token_priced, gross_usd,
                                            batch_discount) AS
    CASE
        WHEN unit_priced THEN CAST(unit_usd AS DECIMAL(38, 10))
        WHEN token_priced THEN CAST(
            gross_usd
            * CASE WHEN is_batch THEN 1 - batch_discount ELSE CAST(1 AS DECIMAL(5, 4)) END
        AS DECIMAL(38, 10))
    END;
