"""Gateway spend logs are staged rolled up to the day, with a request ledger for identity.

These tests pin what that must not change: a request counts once whichever files carry it,
every input row is accounted for, and differing copies are quarantined, not summed.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import duckdb

from pipelines.lib.duck import prepare
from pipelines.lib.ingest import ingest_landing
from tests.exports import LITELLM_HEADER, litellm_row


def write(landing: Path, name: str, rows: list[list[str]], order: int) -> None:
    path = landing / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(LITELLM_HEADER)
        w.writerows(rows)
    os.utime(path, ns=(10**18 + order, 10**18 + order))  # processing order


def staged(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int, int]:
    return con.execute(
        "SELECT (SELECT count(*) FROM staging.gateway_requests), sum(requests), "
        "sum(input_tokens), sum(output_tokens) FROM staging.usage").fetchall()[0]


def test_overlapping_exports_count_each_request_once(tmp_path):
    landing = tmp_path / "landing"
    r1, r2, r3 = (litellm_row(f"r{i}", "gpt-4o", 100 * i, 10 * i, "", "a", "success")
                  for i in (1, 2, 3))
    write(landing, "jan_1_15.csv", [r1, r2], 1)
    write(landing, "jan_1_31.csv", [r2, r3], 2)
    con = prepare(duckdb.connect(":memory:"))
    first, second = ingest_landing(con, landing)
    assert (first.rows_read, first.rows_loaded, first.rows_duplicate) == (2, 2, 0)
    assert (second.rows_read, second.rows_loaded, second.rows_duplicate) == (2, 1, 1)
    assert staged(con) == (3, 3, 600, 60)
    # a third export repeating everything adds nothing
    write(landing, "all.csv", [r3, r1, r2], 3)
    (third,) = ingest_landing(con, landing)
    assert (third.rows_read, third.rows_loaded, third.rows_duplicate) == (3, 0, 3)
    assert staged(con) == (3, 3, 600, 60)


def test_copies_within_a_file(tmp_path):
    landing = tmp_path / "landing"
    r1 = litellm_row("r1", "gpt-4o", 100, 10, "", "a", "success")
    r1_later = litellm_row("r1", "gpt-4o", 150, 20, "", "a", "success")
    r1_later[8] = "2026-11-23 10:00:09.000"  # ends later: the more complete copy
    r2 = litellm_row("r2", "gpt-4o", 7, 1, "", "a", "success")
    write(landing, "spend.csv", [r1, r2, r2, r1_later], 1)
    con = prepare(duckdb.connect(":memory:"))
    (outcome,) = ingest_landing(con, landing)
    # r2's exact copy is a duplicate; r1's differing copy is quarantined, the later one kept
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_rejected,
            outcome.rows_duplicate) == (4, 2, 1, 1)
    assert staged(con) == (2, 2, 157, 21)
    (reason, raw) = con.execute("SELECT reason, raw FROM staging.rejected_rows").fetchall()[0]
    assert "conflicts with another row of request r1" in reason
    assert '"prompt_tokens":100' in raw


def test_identical_rejected_rows_are_each_quarantined(tmp_path):
    landing = tmp_path / "landing"
    bad = litellm_row("r1", "gpt-4o", -5, 1, "", "a", "success")
    write(landing, "spend.csv", [bad, bad, litellm_row("r2", "gpt-4o", 3, 1, "", "a",
                                                       "success")], 1)
    con = prepare(duckdb.connect(":memory:"))
    (outcome,) = ingest_landing(con, landing)
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_rejected) == (3, 1, 2)
    reasons = con.execute("SELECT reason FROM staging.rejected_rows").fetchall()
    assert reasons == [("negative prompt_tokens: -5",)] * 2


def test_one_staged_row_per_day_and_dimensions(tmp_path):
    landing = tmp_path / "landing"
    rows = [litellm_row(f"r{i}", "gpt-4o" if i % 2 else "gpt-4o-mini", 10, 1, "", "a",
                        "failure" if i == 3 else "success", day=f"2026-11-2{i % 3}")
            for i in range(12)]
    write(landing, "spend.csv", rows, 1)
    con = prepare(duckdb.connect(":memory:"))
    ingest_landing(con, landing)
    grouped = con.execute(
        "SELECT usage_date, model, requests, failed_requests, input_tokens FROM staging.usage "
        "ORDER BY ALL").fetchall()
    # 3 days x 2 models; 12 requests in all, the failure on the day it happened
    assert len(grouped) == 6
    assert sum(g[2] for g in grouped) == 12
    assert [(str(g[0]), g[1]) for g in grouped if g[3]] == [("2026-11-20", "gpt-4o")]
    assert {g[4] for g in grouped} == {20}
