-- catalog.model_replacement_options: one row per model with an announced retirement and
-- replacement the provider names for it, in the provider's order: option 1 is the
-- recommended replacement (catalog.model_lifecycle.replacement_model), the others the models
-- its own words name beside it (replacement_note: whisper-1's "gpt-live-transcribe or
-- gpt-transcribe"). Input: `model_replacement_options_in` (pipelines/lib/catalog.py
-- replacement_options, over the lifecycle rows after RADAR_LIFECYCLE_OVERRIDES).
SELECT
    model,
    CAST(option_rank AS INTEGER) AS option_rank,
    replacement_model,
    source
FROM model_replacement_options_in
ORDER BY model, option_rank
