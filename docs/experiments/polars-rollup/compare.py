"""Would polars roll up a gateway file, checked, faster than DuckDB does? (fourteenth session)

    .venv/bin/python docs/experiments/polars-rollup/compare.py FILE [ROUNDS]

Alternates, each in a process of its own (the file read once beforehand, so it comes from
the page cache), round after round:

- ``floor-duckdb``, ``floor-polars`` and ``rollup-no-keys``: ``benchmarks/gap.py``'s stages
  (the two floors, and the ingest's checked roll-up without request keys);
- ``polars-rollup``: a *simplified* polars version of the ingest's level-1 roll-up: the
  metadata decoded once per row into the five fields the ingest reads, both times parsed
  (one naive format only: no offsets), both counts cast, a reason for a missing request id,
  an unparseable start time, a count out of range and an unknown status, grouped by day,
  reason and the raw dimension text. It checks less than the ingest does (no offset
  forms, no call-type or model check, no quoted values in the reasons), so if it is not
  faster than DuckDB's roll-up, a faithful one would not be either.

Prints each stage's seconds per round, then the fastest of each and the token totals (which
must agree). Not part of the product or the suite; kept so the comparison can be rerun.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
import run as bench  # noqa: E402

from pipelines.lib.schema import MAX_COUNT  # noqa: E402  (the ingest's limit on a count)

STAGES = ("floor-duckdb", "floor-polars", "rollup-no-keys", "polars-rollup")


def polars_rollup(path: Path) -> dict:
    import polars as pl

    t = time.perf_counter()
    lf = pl.scan_csv(path, infer_schema=False)
    meta = pl.col("metadata").str.json_decode(pl.Struct({
        "user_api_key_user_id": pl.String, "user_api_key_project_id": pl.String,
        "user_api_key_team_id": pl.String, "user_api_key_team_alias": pl.String,
        "usage_object": pl.Struct({"prompt_tokens_details": pl.Struct(
            {"cached_tokens": pl.Int64})})}))
    naive = "%Y-%m-%d %H:%M:%S%.f"
    rows = lf.select(
        "request_id", "call_type", "api_key", "model", "model_group", "user", "team_id",
        "status",
        pl.col("startTime").str.strptime(pl.Datetime("us"), naive, strict=False)
        .alias("started"),
        pl.col("endTime").str.strptime(pl.Datetime("us"), naive, strict=False)
        .alias("ended"),
        pl.col("prompt_tokens").cast(pl.Int64, strict=False).alias("input_tokens"),
        pl.col("completion_tokens").cast(pl.Int64, strict=False).alias("output_tokens"),
        meta.struct.field("user_api_key_user_id").alias("m_user"),
        meta.struct.field("user_api_key_project_id").alias("m_project"),
        meta.struct.field("user_api_key_team_id").alias("m_team"),
        meta.struct.field("user_api_key_team_alias").alias("m_alias"),
        meta.struct.field("usage_object").struct.field("prompt_tokens_details")
        .struct.field("cached_tokens").alias("cached"),
    ).with_columns(
        pl.when(pl.col("request_id").is_null()).then(pl.lit("missing request_id"))
        .when(pl.col("started").is_null()).then(pl.lit("unparseable startTime"))
        .when(~pl.col("input_tokens").is_between(0, MAX_COUNT))
        .then(pl.lit("bad prompt_tokens"))
        .when(~pl.col("output_tokens").is_between(0, MAX_COUNT))
        .then(pl.lit("bad completion_tokens"))
        .when(~pl.col("status").is_in(["success", "failure"])).then(pl.lit("unknown status"))
        .alias("reason"),
        pl.col("started").dt.date().alias("usage_date"))
    out = (rows.group_by("usage_date", "reason", "call_type", "api_key", "model",
                         "model_group", "user", "team_id", "status", "m_user", "m_project",
                         "m_team", "m_alias")
           .agg(pl.len().alias("rows_read"), pl.col("input_tokens").sum(),
                pl.col("output_tokens").sum(),
                pl.min_horizontal("cached", "input_tokens").fill_null(0).sum()
                .alias("cached_input_tokens"),
                pl.col("started").min().alias("bucket_start"),
                pl.col("ended").max().alias("bucket_end"))
           .collect(engine="streaming"))
    seconds = time.perf_counter() - t
    return {"stage": "polars-rollup", "seconds": seconds, "groups": out.height,
            "input_tokens": int(out["input_tokens"].sum()),
            "output_tokens": int(out["output_tokens"].sum())}


def run(path: Path, stage: str) -> dict:
    if stage == "polars-rollup":
        cmd = [sys.executable, __file__, str(path), "--stage", stage]
    else:
        cmd = [sys.executable, str(REPO / "benchmarks" / "gap.py"), "--file", str(path),
               "--stage", stage]
    os.sync()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    path = Path(sys.argv[1])
    if "--stage" in sys.argv:
        print(json.dumps(polars_rollup(path)))
        return
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    bench.warm_page_cache(path)
    best: dict[str, float] = {}
    totals = set()
    for number in range(1, rounds + 1):
        for stage in STAGES:
            result = run(path, stage)
            best[stage] = min(best.get(stage, 9e9), result["seconds"])
            totals.add((result["input_tokens"], result["output_tokens"]))
            print(f"round {number}: {stage} {result['seconds']:.2f} s", flush=True)
    floor = min(best["floor-duckdb"], best["floor-polars"])
    print(f"\n{path}, fastest of {rounds} round(s):")
    for stage in STAGES:
        print(f"  {stage:15} {best[stage]:.2f} s  ({best[stage] / floor:.2f}x the floor)")
    print(f"polars roll-up / DuckDB roll-up: "
          f"{best['polars-rollup'] / best['rollup-no-keys']:.2f}")
    print("token totals agree" if len(totals) == 1 else f"** TOTALS DIFFER **: {totals}")


if __name__ == "__main__":
    main()
