-- intermediate.lifecycle_as_of: one row per catalog lifecycle entry, its status as of $as_of
-- and the replacement to recommend: the provider's replacement, followed along the chain while
-- that replacement is itself deprecated or shut down as of $as_of (contract, section 5).
-- A lifecycle row without an announcement date (taken from the LiteLLM catalog) counts as
-- announced $unannounced_lead_days days before its shutdown (365: pipelines/lib/catalog.py,
-- UNANNOUNCED_LEAD_DAYS, says why): a retirement two years out is not one to migrate off yet.
WITH RECURSIVE status_as_of AS (
    SELECT
        model,
        announced_date,
        shutdown_date,
        replacement_model,
        -- the day the retirement begins to count: its announcement, else the lead before its
        -- shutdown (NULL: neither date known)
        coalesce(announced_date,
                 shutdown_date - CAST($unannounced_lead_days AS INTEGER)) AS deprecated_since,
        CASE
            WHEN shutdown_date IS NOT NULL AND shutdown_date <= $as_of THEN 'shutdown'
            WHEN deprecated_since <= $as_of THEN 'deprecated'
            ELSE 'active'
        END AS lifecycle_status
    FROM catalog.model_lifecycle
),

resolved_status AS (
    -- a replacement name resolves to a lifecycle row by exact name or snapshot base
    SELECT r.model AS name, s.lifecycle_status, s.replacement_model
    FROM intermediate.model_resolution AS r
    JOIN status_as_of AS s ON s.model = r.lifecycle_model
),

replacement_chain (start_model, hop_model, depth, visited) AS (
    SELECT model, replacement_model, 1, [model]
    FROM status_as_of
    WHERE replacement_model IS NOT NULL
    UNION ALL
    SELECT c.start_model, nxt.replacement_model, c.depth + 1, list_append(c.visited, c.hop_model)
    FROM replacement_chain AS c
    JOIN resolved_status AS nxt ON nxt.name = c.hop_model
    WHERE nxt.lifecycle_status IN ('deprecated', 'shutdown')
      AND nxt.replacement_model IS NOT NULL
      AND NOT list_contains(c.visited, nxt.replacement_model)
      AND c.depth < 20
),

effective_replacement AS (
    SELECT start_model, arg_max(hop_model, depth) AS replacement_model, max(depth) AS chain_length
    FROM replacement_chain
    GROUP BY start_model
)

SELECT
    s.model,
    s.announced_date,
    s.deprecated_since,
    s.shutdown_date,
    s.lifecycle_status,
    s.replacement_model AS provider_replacement_model,
    e.replacement_model,
    coalesce(e.chain_length, 0) AS replacement_chain_length
FROM status_as_of AS s
LEFT JOIN effective_replacement AS e ON e.start_model = s.model
