"""Small export files in the four real formats, with numbers that can be checked by hand.

Used by the end-to-end tests; every expected figure in those tests is derived in a comment
from the values written here and the catalog prices.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

AS_OF = "2026-11-25"


def epoch(day: str) -> int:
    return int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp())


def completion(**kw) -> dict:
    base = {"object": "organization.usage.completions.result", "input_tokens": 0,
            "output_tokens": 0, "num_model_requests": 0, "project_id": None, "user_id": None,
            "api_key_id": None, "model": None, "batch": None}
    base.update(kw)
    return base


def bucket(day: str, results: list[Any]) -> dict:
    start = epoch(day)
    return {"object": "bucket", "start_time": start, "end_time": start + 86_400,
            "results": results}


def page(buckets: list[dict], has_more: bool = False) -> dict:
    return {"object": "page", "data": buckets, "has_more": has_more,
            "next_page": "next" if has_more else None}


# alpha (project proj_a): 100 requests on gpt-4o-2024-08-06, 1,000,000 input tokens of which
# 200,000 cached, 100,000 output. cost = (800,000 x 2.50 + 200,000 x 1.25 + 100,000 x 10) / 1e6
# = 2.00 + 0.25 + 1.00 = 3.25 USD. On gpt-6-luna (0.10 / 0.01 / 0.50): 0.08 + 0.002 + 0.05
# = 0.132 USD.
RESULT_A = completion(input_tokens=1_000_000, input_cached_tokens=200_000, output_tokens=100_000,
                      num_model_requests=100, project_id="proj_a", api_key_id="key_a",
                      model="gpt-4o-2024-08-06", batch=False, service_tier="default")
# batch-team (api key key_batch, which wins over project proj_a): batch usage, 2,000,000 input
# tokens, no output. cost = 2,000,000 x 2.50 / 1e6 x 0.5 = 2.50 USD; on gpt-6-luna 0.10 USD.
RESULT_B = completion(input_tokens=2_000_000, output_tokens=0, num_model_requests=10,
                      project_id="proj_a", api_key_id="key_batch", model="gpt-4o-2024-08-06",
                      batch=True, service_tier="default")
# unassigned (project proj_b, no mapping): 1 request on the active gpt-5.6-sol (4 / 0.4 / 20):
# (1,000 x 4 + 1,000 x 20) / 1e6 = 0.024 USD. Old field set: no service_tier key at all.
RESULT_C = completion(input_tokens=1_000, output_tokens=1_000, num_model_requests=1,
                      project_id="proj_b", api_key_id="key_b", model="gpt-5.6-sol", batch=False)

TEAMS = """key_type,key_value,team
project_id,proj_a,alpha
api_key_id,key_batch,batch-team
litellm_team_id,team-x,growth
"""

DASHBOARD_HEADER = ["model", "start_time_iso", "end_time_iso", "start_time", "end_time",
                    "project_id", "num_model_requests", "user_id", "api_key_id", "batch",
                    "service_tier", "input_tokens", "output_tokens", "input_cached_tokens"]

LITELLM_HEADER = ["request_id", "call_type", "api_key", "spend", "total_tokens",
                  "prompt_tokens", "completion_tokens", "startTime", "endTime", "model",
                  "model_group", "user", "metadata", "team_id", "status", "messages",
                  "response", "proxy_server_request"]


def litellm_row(rid, model, prompt, completion, team_id, alias, status, day="2026-11-23"):
    meta = {"user_api_key_team_alias": alias, "user_api_key_team_id": team_id or None}
    return [rid, "acompletion", "hashed0123", "0.0", str(prompt + completion), str(prompt),
            str(completion), f"{day} 10:00:00.000", f"{day} 10:00:01.500", model, model, "",
            json.dumps(meta), team_id, status,
            json.dumps([{"role": "user", "content": "TOP SECRET PROMPT TEXT"}]),
            json.dumps({"choices": [{"message": {"content": "SECRET RESPONSE TEXT"}}]}),
            json.dumps({"headers": {"Authorization": "Bearer sk-live-abcdefghijklmnop"}})]


def write_fixture_exports(landing: Path) -> None:
    """The standard fixture landing folder (see the expected numbers above)."""
    (landing / "api").mkdir(parents=True, exist_ok=True)
    (landing / "dashboard").mkdir(exist_ok=True)
    (landing / "gateway").mkdir(exist_ok=True)
    # 1. one page file with three results over two days
    (landing / "api" / "completions.json").write_text(json.dumps(page([
        bucket("2026-11-20", [RESULT_A, RESULT_B]),
        bucket("2026-11-21", [RESULT_C]),
    ])))
    # 2. JSON Lines re-sending bucket A unchanged (an exact duplicate) and an empty day
    (landing / "api" / "completions_resent.jsonl").write_text(
        json.dumps(page([bucket("2026-11-20", [RESULT_A])], has_more=True)) + "\n"
        + json.dumps(page([bucket("2026-11-22", [])])) + "\n")
    # 3. the same bytes as file 1 at another path: a duplicate file
    (landing / "api" / "copy_of_completions.json").write_bytes(
        (landing / "api" / "completions.json").read_bytes())
    # 4. dashboard export, columns shuffled, float counts, TRUE/FALSE, one empty row, one bad row.
    # alpha on gpt-4o-mini-2024-07-18 (0.15 / 0.075 / 0.60): 40 requests, 100,000 input of
    # which 20,000 cached, 10,000 output: (80,000 x 0.15 + 20,000 x 0.075 + 10,000 x 0.6) / 1e6
    # = 0.012 + 0.0015 + 0.006 = 0.0195 USD. On gpt-6-luna: 0.008 + 0.0002 + 0.005 = 0.0132.
    s, e = epoch("2026-11-22"), epoch("2026-11-23")
    iso = ["2026-11-22T00:00:00+00:00", "2026-11-23T00:00:00+00:00"]
    with (landing / "dashboard" / "activity.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(DASHBOARD_HEADER)
        w.writerow(["gpt-4o-mini-2024-07-18", *iso, s, e, "proj_a", "40.0", "", "key_a", "FALSE",
                    "default", "100000.0", "10000.0", "20000.0"])
        w.writerow(["", *iso, s, e, "", "", "", "", "", "", "", "", ""])
        w.writerow(["gpt-4o-mini-2024-07-18", *iso, s, e, "proj_a", "-3.0", "", "key_z", "FALSE",
                    "default", "10.0", "1.0", "0.0"])
    # 5. gateway log: growth (team-x) calls the shut-down gpt-4.1-nano-2025-04-14 and fails;
    # "ds" (alias only) calls an unknown model: 1,000 in / 500 out, unpriced.
    with (landing / "gateway" / "spend.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(LITELLM_HEADER)
        w.writerow(litellm_row("r1", "gpt-4.1-nano-2025-04-14", 0, 0, "team-x", "growth-alias",
                               "failure"))
        w.writerow(litellm_row("r2", "gpt-4.1-nano-2025-04-14", 0, 0, "team-x", "growth-alias",
                               "failure", day="2026-11-24"))
        w.writerow(litellm_row("r3", "mystery-model-9", 1000, 500, "", "ds", "success"))
    # 6. a JSON file that is not a usage page
    (landing / "api" / "not_usage.json").write_text(json.dumps({"hello": "world"}))


def ingest_side_by_side(tmp_path: Path, want: tuple[str, bytes], got: tuple[str, bytes]):
    """The same export written two ways (name, bytes), each ingested into a warehouse of its
    own: ``want`` in memory, ``got`` in a file, so that a scratch copy it needs goes beside
    it. Returns the two connections and the outcome of ``got``'s one file."""
    import duckdb

    from pipelines.lib.duck import prepare
    from pipelines.lib.ingest import ingest_landing

    cons = []
    outcomes = []
    for folder, (name, content), target in (("want", want, ":memory:"),
                                            ("got", got, str(tmp_path / "w.duckdb"))):
        landing = tmp_path / folder
        landing.mkdir()
        (landing / name).write_bytes(content)
        cons.append(prepare(duckdb.connect(target)))
        outcomes.append(ingest_landing(cons[-1], landing))
    (outcome,) = outcomes[1]
    return cons[0], cons[1], outcome
