-- intermediate.billed_costs: the billed amounts counted once, one row per staged row left.
-- staging.billed_costs keeps every file's rows; a Costs API save made without grouping (its
-- default: one amount a day) beside the sync's pages grouped by project, key and line item
-- bills the same money twice. What another file bills at a finer grouping is in
-- intermediate.billed_set_aside (pipelines/lib/groupings.py, BILLED) and taken out here; a
-- row set aside in full leaves no row.
SELECT
    b.dedupe_key,
    b.file_id,
    b.source,
    b.usage_date,
    b.bucket_start,
    b.bucket_end,
    b.project_id,
    b.api_key_id,
    b.line_item,
    b.amount_usd - coalesce(s.amount_usd, 0) AS amount_usd,
    b.currency,
    b.quantity - coalesce(s.quantity, 0) AS quantity,
    b.quantity_unit,
    -- a line item our token prices cannot explain (fine-tuning, storage, tools, credits,
    -- support, taxes), which the reconciliation marts keep apart: by its name, or by its
    -- unit (gibibyte-hours are storage, whatever the line is called)
    regexp_matches(lower(coalesce(b.line_item, '')),
        'fine.?tun|training|storage|vector|file.?search|web.?search|code.?interpreter'
        || '|container|credit|refund|tool|assistant|support|tax')
        OR coalesce(b.quantity_unit = 'gibibyte_hours', false) AS is_other_line_item
FROM staging.billed_costs AS b
LEFT JOIN intermediate.billed_set_aside AS s USING (dedupe_key)
WHERE NOT coalesce(s.fully_set_aside, false)
