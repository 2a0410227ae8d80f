-- The catalog's default-tier prices in force on a day, for the prices a replacement is costed
-- at (its default tier on $as_of: intermediate/int_usage_priced for the recommended one,
-- marts/replacement_options for each option): a catalog.model_prices row per model, its
-- long-context prices per prompt band, and its prices per 1M units per unit. Table macros,
-- temporary like sql/macros/money.sql, created with the models that call them
-- (pipelines/lib/duck.py with_macros).
CREATE OR REPLACE TEMP MACRO radar_prices_on(day) AS TABLE
    SELECT * FROM catalog.model_prices
    WHERE service_tier IS NULL AND day >= valid_from AND (valid_to IS NULL OR day < valid_to);

CREATE OR REPLACE TEMP MACRO radar_price_bands_on(day) AS TABLE
    SELECT * FROM catalog.model_price_bands
    WHERE service_tier IS NULL AND day >= valid_from AND (valid_to IS NULL OR day < valid_to);

CREATE OR REPLACE TEMP MACRO radar_unit_prices_on(day) AS TABLE
    SELECT * FROM catalog.model_unit_prices
    WHERE day >= valid_from AND (valid_to IS NULL OR day < valid_to);
