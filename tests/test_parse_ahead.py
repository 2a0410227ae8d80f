"""Usage API pages and dashboard CSVs are parsed ahead of their turn, in a thread, while
DuckDB rolls up the files before them. That must change nothing but the time: the same rows,
rejects and reasons as parsing each file in its turn, within the memory budget it is given."""

from __future__ import annotations

import csv
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import duckdb

from pipelines.lib import ingest
from pipelines.lib.duck import prepare
from pipelines.lib.ingest import ingest_landing
from tests.exports import (
    LITELLM_HEADER,
    RESULT_A,
    RESULT_C,
    bucket,
    litellm_row,
    page,
    write_fixture_exports,
)


def mixed_landing(landing: Path) -> None:
    """The fixture exports, gateway logs first (as a folder of monthly logs often sorts),
    and pages that fail: truncated, not UTF-8, an unknown result type."""
    write_fixture_exports(landing)
    with (landing / "gateway" / "early.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(LITELLM_HEADER)
        w.writerows(litellm_row(f"e{i}", "gpt-4o", 10 * i, i, "team-x", "g", "success",
                                day="2026-11-19") for i in range(1, 50))
    (landing / "api" / "truncated.json").write_text(
        json.dumps(page([bucket("2026-11-23", [RESULT_C])]))[:-20])
    (landing / "api" / "latin1.json").write_bytes(
        json.dumps(page([bucket("2026-11-23", [{**RESULT_A, "user_id": "é"}])]),
                   ensure_ascii=False).encode("latin-1"))
    (landing / "api" / "odd.json").write_text(json.dumps(page([bucket("2026-11-24", [
        RESULT_C, {**RESULT_C, "object": "organization.usage.teleport.result"}])])))
    order = sorted(landing.rglob("*.*"), key=lambda p: (p.parent.name != "gateway", p.name))
    for i, path in enumerate(order):
        os.utime(path, ns=(10**18 + i, 10**18 + i))


def contents(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every row the ingest wrote (the same landing folder and clock: nothing may differ)."""
    return {t: sorted(con.execute(f"SELECT * FROM staging.{t}").fetchall(), key=repr)
            for t in ("ingested_files", "usage", "billed_costs", "rejected_rows",
                      "gateway_requests", "pending_dates")}


def test_parsing_ahead_loads_exactly_what_parsing_in_turn_loads(tmp_path):
    landing = tmp_path / "landing"
    mixed_landing(landing)
    now = ingest.dt.datetime(2026, 11, 25, 12)
    runs = {}
    for budget in (ingest.PARSE_AHEAD_BYTES, 0):
        con = prepare(duckdb.connect(":memory:"))
        outcomes = ingest_landing(con, landing, now=now, parse_ahead_bytes=budget)
        runs[budget] = ([replace(o, path=Path(o.path).name) for o in outcomes], contents(con))
    ahead, in_turn = runs[ingest.PARSE_AHEAD_BYTES], runs[0]
    assert ahead == in_turn
    statuses = {o.path: o.status for o in ahead[0]}
    # the run covered what it claims to: pages loaded, rejected whole and in part, a duplicate
    assert statuses["completions.json"] == "loaded"
    assert statuses["copy_of_completions.json"] == "duplicate"
    assert statuses["truncated.json"] == statuses["latin1.json"] == "rejected"
    reasons = {r[3] for r in ahead[1]["rejected_rows"]}
    assert any("invalid JSON" in r for r in reasons)
    assert any("not UTF-8" in r for r in reasons)
    assert any("unknown result object type" in r for r in reasons)
    assert len(ahead[1]["gateway_requests"]) == 49 + 3


def write_pages(path: Path, results: int) -> int:
    path.write_text(json.dumps(page([bucket("2026-11-20", [RESULT_C] * results)])))
    return path.stat().st_size


def test_parses_ahead_stay_within_their_budget(tmp_path):
    gateway = tmp_path / "a_gateway.csv"
    with gateway.open("w", newline="") as fh:
        csv.writer(fh).writerows([LITELLM_HEADER, litellm_row("r1", "gpt-4o", 1, 1, "", "a",
                                                               "success")])
    sizes = [write_pages(tmp_path / f"p{i}.json", 40) for i in range(1, 4)]
    big = tmp_path / "p4.json"
    write_pages(big, 400)
    paths = [gateway, *(tmp_path / f"p{i}.json" for i in range(1, 4)), big]
    budget = sizes[0] + sizes[1]  # two of the small page files at a time
    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = ingest._ParseAhead(pool, paths, budget)
        ahead.start_from(0)
        assert sorted(ahead.started) == [1, 2]  # the gateway log is DuckDB's: never ahead
        assert ahead.take(0) is None
        ahead.start_from(1)
        assert sorted(ahead.started) == [1, 2]  # p3 waits: the budget is full
        first = ahead.take(1)
        assert first.fmt == ingest.OPENAI_JSON
        assert first.future.result().usage.height == 40
        ahead.start_from(2)
        assert sorted(ahead.started) == [2, 3]  # p1 taken: p3 fits now
        ahead.take(2), ahead.take(3)
        ahead.start_from(4)
        assert ahead.started == {} and ahead.take(4) is None  # over the budget: in its turn
