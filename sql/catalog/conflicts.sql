-- catalog.conflicts: one row per model and field on which the catalog's sources disagree,
-- with the chosen value and source, the other value and source, and the precedence rule.
-- Input: `conflicts_in`, pipelines/catalog_data/catalog_conflicts.csv (written by make catalog).
SELECT model, field, chosen_value, chosen_source, other_value, other_source, rule
FROM conflicts_in
ORDER BY model, field
