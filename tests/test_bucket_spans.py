"""Usage API buckets of the same dimensions over the same time, with different starts.

The contract's bucket identity includes the start, so two saves of one day normally share it.
They do not when a page was fetched with a ``start_time`` that is not midnight (the first
bucket then runs from that time to 00:00, formats.md 1.8) or with another ``bucket_width``
(``1h`` against ``1d``). Counting both would count the covered hours twice: the bucket that
covers the other is kept, whichever file came first; a bucket that only partly overlaps one
already loaded is quarantined with the reason.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import duckdb

from pipelines.lib.duck import prepare
from pipelines.lib.ingest import ingest_landing
from tests.exports import RESULT_A

DAY = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


def ts(hours: float) -> int:
    return int((DAY + dt.timedelta(hours=hours)).timestamp())


def usage_bucket(start_h: float, end_h: float, requests: int, **dims) -> dict:
    result = dict(RESULT_A, num_model_requests=requests, input_tokens=requests * 1000,
                  input_cached_tokens=0, output_tokens=requests * 10, **dims)
    return {"object": "bucket", "start_time": ts(start_h), "end_time": ts(end_h),
            "results": [result]}


def cost_bucket(start_h: float, end_h: float, amount: str) -> dict:
    return {"object": "bucket", "start_time": ts(start_h), "end_time": ts(end_h),
            "results": [{"object": "organization.costs.result", "project_id": "proj_a",
                         "line_item": "gpt-4o, input", "amount": {"value": amount,
                                                                  "currency": "usd"}}]}


def drop(landing: Path, name: str, buckets: list[dict], order: int) -> None:
    path = landing / name
    path.write_text(json.dumps({"object": "page", "data": buckets, "has_more": False,
                                "next_page": None}))
    os.utime(path, ns=(10**18 + order, 10**18 + order))  # processing order


def staged(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT bucket_start, bucket_end, requests FROM staging.usage "
                       "ORDER BY bucket_start, bucket_end").fetchall()


def h(hours: float) -> dt.datetime:
    return (DAY + dt.timedelta(hours=hours)).replace(tzinfo=None)


def test_a_partial_first_bucket_after_the_whole_day_adds_nothing(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "november.json", [usage_bucket(0, 24, 100)], 1)
    # a later save fetched from 17:31: its first bucket is that day's evening only
    drop(landing, "rolling.json", [usage_bucket(17.5, 24, 30), usage_bucket(24, 48, 50)], 2)
    con = prepare(duckdb.connect(":memory:"))
    first, second = ingest_landing(con, landing)
    assert (second.rows_read, second.rows_loaded, second.rows_duplicate) == (2, 1, 1)
    assert staged(con) == [(h(0), h(24), 100), (h(24), h(48), 50)]


def test_the_whole_day_after_a_partial_first_bucket_replaces_it(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "rolling.json", [usage_bucket(17.5, 24, 30)], 1)
    drop(landing, "november.json", [usage_bucket(0, 24, 100)], 2)
    con = prepare(duckdb.connect(":memory:"))
    ingest_landing(con, landing)
    assert staged(con) == [(h(0), h(24), 100)]
    assert con.execute("SELECT DISTINCT usage_date FROM staging.pending_dates").fetchall() == [
        (dt.date(2026, 11, 20),)]


def test_hourly_and_daily_buckets_of_one_day_count_once_either_way(tmp_path):
    hourly = [usage_bucket(i, i + 1, 4) for i in range(24)]
    for order in ("hourly first", "daily first"):
        landing = tmp_path / order.replace(" ", "_")
        landing.mkdir()
        drop(landing, "hourly.json", hourly, 1 if order == "hourly first" else 2)
        drop(landing, "daily.json", [usage_bucket(0, 24, 96)], 2 if order == "hourly first"
             else 1)
        con = prepare(duckdb.connect(":memory:"))
        ingest_landing(con, landing)
        assert staged(con) == [(h(0), h(24), 96)], order


def test_half_a_day_of_hourly_buckets_after_the_day_does_not_replace_it(tmp_path):
    """Its first bucket has the day's start, so the contract's key is the same; but it is an
    hour of the day, not a newer version of it: the day (96) stays, nothing is lost."""
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "daily.json", [usage_bucket(0, 24, 96)], 1)
    drop(landing, "morning.json", [usage_bucket(i, i + 1, 4) for i in range(12)], 2)
    con = prepare(duckdb.connect(":memory:"))
    _, second = ingest_landing(con, landing)
    assert (second.rows_read, second.rows_loaded, second.rows_duplicate) == (12, 0, 12)
    assert staged(con) == [(h(0), h(24), 96)]


def test_other_dimensions_and_other_days_are_not_touched(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "a.json", [usage_bucket(0, 24, 100)], 1)
    drop(landing, "b.json", [usage_bucket(17.5, 24, 30, project_id="proj_other"),
                             usage_bucket(17.5, 24, 7, model="gpt-4o-mini-2024-07-18"),
                             usage_bucket(17.5, 24, 3, batch=True),
                             usage_bucket(24, 48, 50)], 2)
    con = prepare(duckdb.connect(":memory:"))
    _, second = ingest_landing(con, landing)
    assert (second.rows_loaded, second.rows_duplicate, second.rows_rejected) == (4, 0, 0)
    assert con.execute("SELECT sum(requests) FROM staging.usage").fetchall() == [(190,)]


def test_a_bucket_that_straddles_a_loaded_one_is_quarantined(tmp_path):
    """A daily bucket cut at the time of the request (00:00 to 17:31) and an hourly bucket
    across that time: neither covers the other, so either count would be a guess."""
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "today.json", [usage_bucket(0, 17.5, 70)], 1)
    drop(landing, "hourly.json", [usage_bucket(16, 17, 4), usage_bucket(17, 18, 4),
                                  usage_bucket(18, 19, 4)], 2)
    con = prepare(duckdb.connect(":memory:"))
    _, second = ingest_landing(con, landing)
    assert (second.rows_read, second.rows_loaded, second.rows_duplicate,
            second.rows_rejected) == (3, 1, 1, 1)
    assert staged(con) == [(h(0), h(17.5), 70), (h(18), h(19), 4)]
    [(reason,)] = con.execute("SELECT reason FROM staging.rejected_rows").fetchall()
    assert reason == ("overlaps the loaded bucket 2026-11-20 00:00:00 to 2026-11-20 17:30:00 "
                      "of the same key without covering it or being covered: not counted twice")


def test_billed_costs_follow_the_same_rule(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "costs_nov.json", [cost_bucket(0, 24, "12.50")], 1)
    drop(landing, "costs_rolling.json", [cost_bucket(17.5, 24, "3.10"),
                                         cost_bucket(24, 48, "9.00")], 2)
    con = prepare(duckdb.connect(":memory:"))
    ingest_landing(con, landing)
    assert con.execute("SELECT bucket_start, CAST(amount_usd AS VARCHAR) FROM "
                       "staging.billed_costs ORDER BY 1").fetchall() == [
        (h(0), "12.5000000000"), (h(24), "9.0000000000")]


def test_gateway_days_are_not_usage_api_buckets(tmp_path):
    """Gateway rows are staged rolled up to the day: never compared with API buckets."""
    import csv

    from tests.exports import LITELLM_HEADER, litellm_row

    landing = tmp_path / "landing"
    landing.mkdir()
    with (landing / "spend.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(LITELLM_HEADER)
        w.writerow(litellm_row("r1", "gpt-4o-2024-08-06", 10, 1, "", "a", "success",
                               day="2026-11-20"))
    os.utime(landing / "spend.csv", ns=(10**18, 10**18))
    drop(landing, "hourly.json", [usage_bucket(9, 10, 4, project_id=None, api_key_id=None)], 2)
    con = prepare(duckdb.connect(":memory:"))
    ingest_landing(con, landing)
    assert con.execute("SELECT source, sum(requests) FROM staging.usage GROUP BY 1 "
                       "ORDER BY 1").fetchall() == [("litellm", 1), ("openai_usage_api", 4)]



def test_two_saves_concatenated_in_one_file_count_once(tmp_path):
    """A JSON array of two pages fetched from different start times: the overlap is inside
    the file. The covering bucket is kept; buckets that straddle each other are both
    quarantined with the reason."""
    landing = tmp_path / "landing"
    landing.mkdir()
    pages = [{"object": "page", "data": data, "has_more": False, "next_page": None} for data in (
        [usage_bucket(0, 24, 100), usage_bucket(24, 48, 50)],
        [usage_bucket(17.5, 24, 30), usage_bucket(24, 48, 50),
         usage_bucket(48, 60, 8), usage_bucket(50, 62, 9)])]
    (landing / "both.json").write_text(json.dumps(pages))
    con = prepare(duckdb.connect(":memory:"))
    (outcome,) = ingest_landing(con, landing)
    # 6 read: the repeated day-2 bucket and the covered evening are duplicates; the two
    # half-day buckets of day 3 straddle each other
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_duplicate,
            outcome.rows_rejected) == (6, 2, 2, 2)
    assert staged(con) == [(h(0), h(24), 100), (h(24), h(48), 50)]
    reasons = con.execute("SELECT reason FROM staging.rejected_rows").fetchall()
    assert reasons == [("overlaps another bucket of the same key in this file without "
                        "covering it or being covered: not counted twice",)] * 2
