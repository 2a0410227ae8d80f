-- catalog.model_lifecycle: one row per model with an announced retirement.
-- Input: `model_lifecycle_in`, the shipped lifecycle CSV.
SELECT
    model,
    CAST(nullif(announced_date, '') AS DATE) AS announced_date,
    CAST(nullif(shutdown_date, '') AS DATE)  AS shutdown_date,
    nullif(replacement_model, '')            AS replacement_model,
    nullif(replacement_note, '')             AS replacement_note,
    source
FROM model_lifecycle_in
ORDER BY model
