-- catalog.model_unit_prices: the prices of models billed in other units than tokens, one row
-- per model, unit and validity window (valid_to exclusive, NULL = open): `seconds` of audio
-- transcribed (the Usage API's audio_transcriptions: whisper-1, gpt-transcribe) and
-- `characters` turned into speech (its audio_speeches: tts-1), in USD per 1M units
-- (pipelines/lib/money.py unit_cost). A model billed by the token (gpt-4o-transcribe) has
-- none: its seconds stay unpriced.
-- Input: `model_unit_prices_in`, the shipped pipelines/catalog_data/model_unit_prices.csv with
-- the unit prices of RADAR_CATALOG_OVERRIDES (text). The same model builds
-- catalog.replaced_model_unit_prices from the shipped rows those overrides replace, for the
-- dates they replace them: the list prices beside the negotiated ones.
SELECT
    model,
    unit,
    CAST(valid_from AS DATE)                  AS valid_from,
    CAST(nullif(valid_to, '') AS DATE)        AS valid_to,
    CAST(usd_per_1m_units AS DECIMAL(18, 9))  AS usd_per_1m_units,
    source
FROM model_unit_prices_in
ORDER BY model, unit, valid_from
