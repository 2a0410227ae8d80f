"""The same OpenAI usage saved at two groupings is counted once.

A Usage API page leaves null every dimension it was not grouped by (formats.md 1.8: ungrouped
results have every dimension null), and a dashboard export leaves those cells empty. So the
same day can arrive twice with different keys: an ungrouped notebook save (one row, 100
requests) next to the daily sync's pages grouped by project, key and model (rows that add up to
the same 100), or a page fetched before `service_tier` existed next to a re-fetch that has it.
The contract's bucket key differs, so the ingest keeps both; counting both would double the
day's requests and halve the deprecated share.

The rule, for OpenAI-reported usage (Usage API pages and dashboard exports; gateway logs are
another view of the traffic and never compared) of one day and one endpoint:

- a row *contains* a row of another file when every dimension it has a value for is equal in
  the other row, the other row has a value for more dimensions, and the other row's bucket
  lies within its bucket;
- a row's usage counts only where it exceeds what the rows it contains already count (its
  *remainder*, per measure, never below 0): the finer grouping wins, and the coarser row keeps
  only what the finer rows do not explain (traffic after a finer page was fetched, or a project
  a filtered finer save left out);
- rows of one file never contain each other: one query's groups are disjoint, and a null there
  is a value (usage without a user), not a missing grouping.

Worked from the finest rows up, so a row contained twice over (an ungrouped save, a save by
project, the sync) is not subtracted twice. What is set aside is kept in
``intermediate.usage_set_aside`` (the staged rows are never changed), and
``intermediate.usage_daily`` adds it back negated. Usage grouped two incomparable ways (one save
by project only, another by model only) cannot be told apart from two different usages; it is
counted as it comes.
"""

from __future__ import annotations

import duckdb

from pipelines.lib.duck import run

#: sources that report OpenAI's own buckets (gateway logs are excluded)
OPENAI_SOURCES = ("openai_usage_api", "openai_dashboard")
#: the dimensions a Usage API query may group by (extra_dims: the endpoint-specific ones)
DIMENSIONS = ("project_id", "user_id", "api_key_id", "model", "is_batch", "service_tier",
              "extra_dims")
MEASURES = ("requests", "failed_requests", "input_tokens", "cached_input_tokens",
            "output_tokens")
SET_ASIDE_DDL = f"""
CREATE TABLE IF NOT EXISTS intermediate.usage_set_aside (
    dedupe_key VARCHAR NOT NULL, file_id BIGINT NOT NULL, usage_date DATE NOT NULL,
    source VARCHAR, endpoint VARCHAR, route VARCHAR, project_id VARCHAR, user_id VARCHAR,
    api_key_id VARCHAR, litellm_team_id VARCHAR, team_alias VARCHAR, model VARCHAR,
    service_tier VARCHAR, is_batch BOOLEAN, bucket_start TIMESTAMP, bucket_end TIMESTAMP,
    {", ".join(f"{m} BIGINT NOT NULL" for m in MEASURES)},
    fully_set_aside BOOLEAN NOT NULL, finer_rows BIGINT NOT NULL, finer_files VARCHAR)
"""


def _days(full: bool) -> str:
    return "TRUE" if full else "usage_date IN (SELECT usage_date FROM staging.pending_dates)"


def settle_groupings(con: duckdb.DuckDBPyConnection, full: bool) -> tuple[int, int]:
    """Recompute ``intermediate.usage_set_aside`` for the days the roll-up recomputes (every
    day with ``full``, else ``staging.pending_dates``); return (rows, requests) set aside on
    them. The caller owns the transaction."""
    run(con, SET_ASIDE_DDL)
    run(con, f"DELETE FROM intermediate.usage_set_aside WHERE {_days(full)}")
    pattern = " + ".join(f"(CASE WHEN {d} IS NULL THEN 0 ELSE {1 << i} END)"
                         for i, d in enumerate(DIMENSIONS))
    level = " + ".join(f"CAST({d} IS NOT NULL AS INTEGER)" for d in DIMENSIONS)
    sources = ", ".join(f"'{s}'" for s in OPENAI_SOURCES)
    # only days and endpoints with rows from two files or more can hold two groupings
    run(con, f"""
        CREATE OR REPLACE TEMP TABLE grouping_rows AS
        WITH openai AS (
            SELECT * FROM staging.usage WHERE source IN ({sources}) AND {_days(full)}),
        shared AS (
            SELECT usage_date, endpoint FROM openai GROUP BY ALL
            HAVING count(DISTINCT file_id) > 1)
        SELECT o.*, {pattern} AS pattern, {level} AS level
        FROM openai AS o SEMI JOIN shared USING (usage_date, endpoint)""")
    patterns = run(con, "SELECT DISTINCT pattern, level FROM grouping_rows "
                        "ORDER BY level DESC, pattern")
    if not patterns:
        return 0, 0
    run(con, f"""CREATE OR REPLACE TEMP TABLE grouping_counted (
        dedupe_key VARCHAR, {", ".join(f"{m} BIGINT" for m in MEASURES)},
        finer_rows BIGINT, finer_file_ids BIGINT[])""")
    remainder = {m: f"greatest(0, c.{m} - coalesce(sum(f.{m}), 0))" for m in MEASURES}
    # cached tokens are part of the input tokens: what is left of them fits in what is left
    remainder["cached_input_tokens"] = (f"least({remainder['cached_input_tokens']}, "
                                        f"{remainder['input_tokens']})")
    for bits, _ in patterns:  # finest first: what a row contains is counted before it
        equal = "".join(f" AND f.{d} = c.{d}" for i, d in enumerate(DIMENSIONS)
                        if bits >> i & 1)
        run(con, f"""
            INSERT INTO grouping_counted
            WITH finer AS (
                SELECT r.usage_date, r.endpoint, r.file_id, r.level, r.bucket_start,
                       r.bucket_end, {", ".join(f"r.{d}" for d in DIMENSIONS)},
                       {", ".join(f"k.{m}" for m in MEASURES)}
                FROM grouping_rows AS r JOIN grouping_counted AS k USING (dedupe_key))
            SELECT c.dedupe_key, {", ".join(remainder[m] for m in MEASURES)},
                   count(f.file_id), list(DISTINCT f.file_id) FILTER (WHERE f.file_id IS NOT NULL)
            FROM grouping_rows AS c
            LEFT JOIN finer AS f
                ON f.usage_date = c.usage_date AND f.endpoint = c.endpoint
               AND f.file_id <> c.file_id AND f.level > c.level
               AND f.bucket_start >= c.bucket_start AND f.bucket_end <= c.bucket_end{equal}
            WHERE c.pattern = {int(bits)}
            GROUP BY c.dedupe_key, {", ".join(f"c.{m}" for m in MEASURES)}""")
    set_aside = ", ".join(f"r.{m} - k.{m}" for m in MEASURES)
    run(con, f"""
        INSERT INTO intermediate.usage_set_aside
        SELECT r.dedupe_key, r.file_id, r.usage_date, r.source, r.endpoint, r.route,
               r.project_id, r.user_id, r.api_key_id, r.litellm_team_id, r.team_alias, r.model,
               r.service_tier, r.is_batch, r.bucket_start, r.bucket_end, {set_aside},
               {" AND ".join(f"k.{m} = 0" for m in MEASURES)},
               k.finer_rows,
               (SELECT string_agg(path, ', ' ORDER BY path) FROM staging.ingested_files AS i
                WHERE list_contains(k.finer_file_ids, i.file_id))
        FROM grouping_rows AS r JOIN grouping_counted AS k USING (dedupe_key)
        WHERE k.finer_rows > 0 AND ({" OR ".join(f"r.{m} <> k.{m}" for m in MEASURES)})""")
    rows, requests = run(con, f"SELECT count(*), coalesce(sum(requests), 0) FROM "
                              f"intermediate.usage_set_aside WHERE {_days(full)}")[0]
    return int(rows), int(requests)
