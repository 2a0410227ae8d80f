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

The bill has the same trap: the Costs API's default is no grouping at all (one amount a day),
and the sync groups by project, key and line item. ``BILLED`` applies the same rule to
``staging.billed_costs`` (one day is one partition; an amount may be negative, a credit, so a
remainder keeps its row's sign and never crosses 0), kept in ``intermediate.billed_set_aside``
and taken out by ``intermediate.billed_costs``, which the reconciliation marts read.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from pipelines.lib.duck import run
from pipelines.lib.schema import TOKEN_PARTS


@dataclass(frozen=True)
class Grouped:
    """Where one kind of OpenAI-reported row is staged, and what its groupings are made of."""
    staged: str                     # the staged table (one row per dedupe_key)
    set_aside: str                  # where what finer rows count is kept
    where: str                      # which staged rows take part (code constant)
    partition: tuple[str, ...]      # rows are compared within one value of these
    dimensions: tuple[str, ...]     # null where a save was not grouped by it
    measures: tuple[str, ...]
    carried: tuple[str, ...]        # staged columns copied into the set-aside table
    # (measure, the measures whose remainders cap it: the first's less the others')
    capped: tuple[tuple[str, tuple[str, ...]], ...] = ()


#: sources that report OpenAI's own usage buckets (gateway logs are excluded)
OPENAI_SOURCES = ("openai_usage_api", "openai_dashboard")

USAGE = Grouped(
    staged="staging.usage", set_aside="intermediate.usage_set_aside",
    where=f"source IN ({', '.join(repr(s) for s in OPENAI_SOURCES)})",
    partition=("usage_date", "endpoint"),
    # extra_dims: the endpoint-specific ones (image size, source, ...), as one
    dimensions=("project_id", "user_id", "api_key_id", "model", "is_batch", "service_tier",
                "extra_dims"),
    # units: seconds, characters, images ... of an endpoint metered in them (NULL, read as 0,
    # for tokens)
    measures=("requests", "failed_requests", "input_tokens", "cached_input_tokens",
              "output_tokens", *TOKEN_PARTS, "units"),
    carried=("dedupe_key", "file_id", "usage_date", "source", "endpoint", "route",
             "project_id", "user_id", "api_key_id", "litellm_team_id", "team_alias", "model",
             "service_tier", "is_batch", "unit", "bucket_start", "bucket_end"),
    # cached tokens are part of the input tokens, audio and image tokens parts of their
    # totals: what is left of a part fits in what is left of its whole (less the other part)
    capped=(("cached_input_tokens", ("input_tokens",)),
            ("input_audio_tokens", ("input_tokens", "cached_input_tokens")),
            ("cached_input_audio_tokens", ("cached_input_tokens",)),
            ("output_audio_tokens", ("output_tokens",)),
            ("input_image_tokens", ("input_tokens", "cached_input_tokens",
                                    "input_audio_tokens")),
            ("cached_input_image_tokens", ("cached_input_tokens", "cached_input_audio_tokens")),
            ("output_image_tokens", ("output_tokens", "output_audio_tokens")),
            # cache writes: in the input that is not cached reads, beside audio and image
            ("cache_write_input_tokens", ("input_tokens", "cached_input_tokens",
                                          "input_audio_tokens", "input_image_tokens")),
            # the 1-hour cache writes: in the cache writes
            ("cache_write_1h_input_tokens", ("cache_write_input_tokens",))),
)

BILLED = Grouped(
    staged="staging.billed_costs", set_aside="intermediate.billed_set_aside", where="TRUE",
    partition=("usage_date",), dimensions=("project_id", "api_key_id", "line_item"),
    # quantity: of a line item, so only rows grouped by it have one, and a row contains only
    # rows of its own line item (one unit); NULL, read as 0, elsewhere
    measures=("amount_usd", "quantity"),
    carried=("dedupe_key", "file_id", "usage_date", "source", "project_id", "api_key_id",
             "line_item", "currency", "quantity_unit", "bucket_start", "bucket_end"),
)


def _pattern(dims: tuple[str, ...]) -> str:
    """SQL: a row's grouping, one bit per dimension it has a value for."""
    return " + ".join(f"(CASE WHEN {d} IS NULL THEN 0 ELSE {1 << i} END)"
                      for i, d in enumerate(dims))


def _days(full: bool) -> str:
    return "TRUE" if full else "usage_date IN (SELECT usage_date FROM staging.pending_dates)"


def settle_groupings(con: duckdb.DuckDBPyConnection, full: bool,
                     spec: Grouped = USAGE) -> tuple[int, int]:
    """Recompute ``spec.set_aside`` for every day (``full``) or for the days in
    ``staging.pending_dates``; return the rows set aside on them and the sum of their first
    measure (requests; dollars for the bill). The caller owns the transaction."""
    dims, measures = spec.dimensions, spec.measures
    run(con, "CREATE SCHEMA IF NOT EXISTS intermediate")
    if full:  # every row is recomputed: made anew, with the columns of this version
        run(con, f"DROP TABLE IF EXISTS {spec.set_aside}")
    run(con, f"CREATE TABLE IF NOT EXISTS {spec.set_aside} AS SELECT "
             f"{', '.join(spec.carried)}, {', '.join(measures)}, "
             f"FALSE AS fully_set_aside, 0::BIGINT AS finer_rows, "
             f"NULL::VARCHAR AS finer_files FROM {spec.staged} LIMIT 0")
    if not full:
        run(con, f"DELETE FROM {spec.set_aside} WHERE {_days(full)}")
    pattern = _pattern(dims)
    level = " + ".join(f"CAST({d} IS NOT NULL AS INTEGER)" for d in dims)
    part = ", ".join(spec.partition)
    # a measure an endpoint does not report (units of a token endpoint) is 0 here
    measured = ", ".join(f"coalesce({m}, 0) AS {m}" for m in measures)
    # only partitions with rows from two files or more can hold two groupings
    run(con, f"""
        CREATE OR REPLACE TEMP TABLE grouping_rows AS
        WITH rows_ AS (SELECT * REPLACE ({measured}) FROM {spec.staged}
                       WHERE ({spec.where}) AND {_days(full)}),
        shared AS (
            SELECT {part} FROM rows_ GROUP BY ALL HAVING count(DISTINCT file_id) > 1)
        SELECT r.*, {pattern} AS pattern, {level} AS level
        FROM rows_ AS r SEMI JOIN shared USING ({part})""")
    patterns = run(con, "SELECT DISTINCT pattern, level FROM grouping_rows "
                        "ORDER BY level DESC, pattern")
    if not patterns:
        run(con, "DROP TABLE grouping_rows")
        return 0, 0
    run(con, f"CREATE OR REPLACE TEMP TABLE grouping_counted AS SELECT dedupe_key, "
             f"{', '.join(measures)}, 0::BIGINT AS finer_rows, "
             f"[]::BIGINT[] AS finer_file_ids FROM grouping_rows LIMIT 0")
    # what the finer rows do not explain, never past 0 (a credit stays a credit)
    remainder = {m: f"(CASE WHEN c.{m} >= 0 THEN greatest(0, c.{m} - coalesce(sum(f.{m}), 0)) "
                    f"ELSE least(0, c.{m} - coalesce(sum(f.{m}), 0)) END)" for m in measures}
    for measure, (whole, *parts) in spec.capped:
        cap = " - ".join(remainder[m] for m in (whole, *parts))
        remainder[measure] = f"least({remainder[measure]}, {cap})"
    same_partition = " AND ".join(f"f.{c} = c.{c}" for c in spec.partition)
    for bits, _ in patterns:  # finest first: what a row contains is counted before it
        equal = "".join(f" AND f.{d} = c.{d}" for i, d in enumerate(dims) if bits >> i & 1)
        run(con, f"""
            INSERT INTO grouping_counted
            WITH finer AS (
                SELECT r.file_id, r.level, r.bucket_start, r.bucket_end,
                       {", ".join(f"r.{c}" for c in (*spec.partition, *dims))},
                       {", ".join(f"k.{m}" for m in measures)}
                FROM grouping_rows AS r JOIN grouping_counted AS k USING (dedupe_key))
            SELECT c.dedupe_key, {", ".join(remainder[m] for m in measures)},
                   count(f.file_id), list(DISTINCT f.file_id) FILTER (WHERE f.file_id IS NOT NULL)
            FROM grouping_rows AS c
            LEFT JOIN finer AS f
                ON {same_partition} AND f.file_id <> c.file_id AND f.level > c.level
               AND f.bucket_start >= c.bucket_start AND f.bucket_end <= c.bucket_end{equal}
            WHERE c.pattern = {int(bits)}
            GROUP BY c.dedupe_key, {", ".join(f"c.{m}" for m in measures)}""")
    run(con, f"""
        INSERT INTO {spec.set_aside}
        SELECT {", ".join(f"r.{c}" for c in spec.carried)},
               {", ".join(f"r.{m} - k.{m}" for m in measures)},
               {" AND ".join(f"k.{m} = 0" for m in measures)},
               k.finer_rows,
               (SELECT string_agg(path, ', ' ORDER BY path) FROM staging.ingested_files AS i
                WHERE list_contains(k.finer_file_ids, i.file_id))
        FROM grouping_rows AS r JOIN grouping_counted AS k USING (dedupe_key)
        WHERE k.finer_rows > 0 AND ({" OR ".join(f"r.{m} <> k.{m}" for m in measures)})""")
    run(con, "DROP TABLE grouping_rows")
    run(con, "DROP TABLE grouping_counted")
    rows, first = run(con, f"SELECT count(*), coalesce(sum({measures[0]}), 0) FROM "
                           f"{spec.set_aside} WHERE {_days(full)}")[0]
    return int(rows), first


def _grouped_by(dims: tuple[str, ...], pattern: str) -> str:
    """SQL: the names of the dimensions a pattern has values for, comma-separated."""
    names = " || ".join(f"(CASE WHEN {pattern} & {1 << i} <> 0 THEN '{d},' ELSE '' END)"
                        for i, d in enumerate(dims))
    return f"rtrim({names}, ',')"


def unnested_groupings_sql(spec: Grouped = USAGE) -> str:
    """Pairs of files that report one partition (day and endpoint) at groupings that do not
    nest, over overlapping hours: each has a row with a dimension the other's row leaves null
    (one save by project only, another by model only). Neither row contains the other, so
    neither is set aside; if both describe the same usage it counts twice, which cannot be
    told from the data. One row per partition, pair of files and pair of groupings, from the
    rows that still count (not set aside in full). A SELECT over the warehouse."""
    dims = spec.dimensions
    pattern = _pattern(dims)
    part = ", ".join(spec.partition)
    return f"""
        WITH counted AS (
            SELECT r.*, {pattern} AS pattern FROM {spec.staged} AS r
            WHERE ({spec.where}) AND dedupe_key NOT IN (
                SELECT dedupe_key FROM {spec.set_aside} WHERE fully_set_aside)),
        shared AS (
            SELECT {part} FROM counted GROUP BY ALL HAVING count(DISTINCT file_id) > 1),
        groupings AS (
            SELECT DISTINCT {part}, file_id, pattern, bucket_start, bucket_end
            FROM counted SEMI JOIN shared USING ({part})),
        pairs AS (
            SELECT DISTINCT {", ".join(f"a.{c}" for c in spec.partition)},
                   a.file_id AS file_a, b.file_id AS file_b,
                   a.pattern AS pattern_a, b.pattern AS pattern_b
            FROM groupings AS a JOIN groupings AS b USING ({part})
            WHERE a.file_id < b.file_id
              AND a.bucket_start < b.bucket_end AND b.bucket_start < a.bucket_end
              AND (a.pattern & ~b.pattern) <> 0 AND (b.pattern & ~a.pattern) <> 0)
        SELECT {", ".join(f"p.{c}" for c in spec.partition)},
               fa.path AS file_a, {_grouped_by(dims, "p.pattern_a")} AS grouped_by_a,
               fb.path AS file_b, {_grouped_by(dims, "p.pattern_b")} AS grouped_by_b
        FROM pairs AS p
        JOIN staging.ingested_files AS fa ON fa.file_id = p.file_a
        JOIN staging.ingested_files AS fb ON fb.file_id = p.file_b
        ORDER BY ALL"""
