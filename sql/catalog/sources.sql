-- catalog.sources: one row per source the shipped catalog was built from, with what it gave
-- (prices, lifecycle or both) and the day it speaks for (NULL: unknown): how recent the
-- catalog's knowledge of retirements is.
-- Input: `sources_in`, pipelines/catalog_data/catalog_sources.csv (written by make catalog).
SELECT
    source,
    kind,
    CAST(nullif(as_of, '') AS DATE) AS as_of
FROM sources_in
ORDER BY source
