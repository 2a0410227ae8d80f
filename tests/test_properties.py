"""Property-based: mutated real-format exports never crash a run, never lose a good row,
never double count, and every rejection says why.

Each case writes one export (four formats), applies one mutation, and loads the landing folder
with the product's own loader into a fresh, empty DuckDB database. The number of cases tried
is printed at the end of the test session (see conftest.py).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import shutil
from functools import cache
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.lib.duck import prepare
from pipelines.lib.ingest import ingest_landing
from tests.exports import DASHBOARD_HEADER, LITELLM_HEADER, bucket, completion, litellm_row, page

CASES = {"tried": 0}
#: the in-memory database of the current case, attached to the process's one connection
_CURRENT: dict[str, str] = {}
_DATABASE_NUMBERS = itertools.count()
PROFILE = settings(max_examples=int(os.environ.get("RADAR_PROPERTY_EXAMPLES", "340")),
                   deadline=None, derandomize=bool(os.environ.get("CI")),
                   suppress_health_check=[HealthCheck.function_scoped_fixture,
                                          HealthCheck.too_slow])
FORMATS = ["api_page", "api_array", "api_jsonl", "dashboard", "litellm"]

rows_strategy = st.lists(
    st.fixed_dictionaries({
        "requests": st.integers(0, 10_000),
        "input": st.integers(0, 10**9),
        "cached_pct": st.integers(0, 100),
        "output": st.integers(0, 10**8),
        "model": st.sampled_from(["gpt-4o-2024-08-06", "gpt-5.6-sol", "gpt-4o-mini",
                                  "unknown-model-x"]),
        "day": st.integers(1, 28),
    }), min_size=1, max_size=6)


def render(fmt: str, rows: list[dict]) -> bytes:
    """One export holding `rows`, each with a distinct key (its index in the API key)."""
    if fmt.startswith("api"):
        buckets = [bucket(f"2026-10-{r['day']:02d}", [completion(
            input_tokens=r["input"], input_cached_tokens=r["input"] * r["cached_pct"] // 100,
            output_tokens=r["output"], num_model_requests=r["requests"], project_id="p",
            api_key_id=f"key_{i}", model=r["model"], batch=False)]) for i, r in enumerate(rows)]
        if fmt == "api_page":
            return json.dumps(page(buckets)).encode()
        pages = [page([b], has_more=True) for b in buckets]
        if fmt == "api_array":
            return json.dumps(pages).encode()
        return "\n".join(json.dumps(p) for p in pages).encode()
    out = io.StringIO()
    w = csv.writer(out)
    if fmt == "dashboard":
        w.writerow(DASHBOARD_HEADER)
        for i, r in enumerate(rows):
            day = f"2026-10-{r['day']:02d}"
            w.writerow([r["model"], f"{day}T00:00:00+00:00", f"{day}T23:59:59+00:00", "", "",
                        "p", f"{r['requests']}.0", "", f"key_{i}", "FALSE", "default",
                        f"{r['input']}.0", f"{r['output']}.0",
                        f"{r['input'] * r['cached_pct'] // 100}.0"])
    else:
        w.writerow(LITELLM_HEADER)
        for i, r in enumerate(rows):
            w.writerow(litellm_row(f"req-{i}", r["model"], r["input"] % 10**6,
                                   r["output"] % 10**6, "", "t", "success",
                                   day=f"2026-10-{r['day']:02d}"))
    return out.getvalue().encode()


def load(tmp: Path, files: dict[str, bytes]):
    landing = tmp / "landing"
    shutil.rmtree(landing, ignore_errors=True)
    landing.mkdir(parents=True)
    for i, (name, content) in enumerate(files.items()):
        path = landing / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        os.utime(path, ns=(10**18 + i, 10**18 + i))  # deterministic processing order
    con = fresh_database()
    outcomes = ingest_landing(con, landing)
    CASES["tried"] += 1
    return con, outcomes


def fresh_database() -> duckdb.DuckDBPyConnection:
    """A connection whose default database is new and empty. Attaching an in-memory database
    costs ~2 ms where a new connection costs ~45 ms (DuckDB builds its function catalog per
    database instance): at 1,020 cases, most of a minute of the suite. The case before's
    database is detached, so nothing it loaded can be seen."""
    con = _connection()
    name = f"case_{next(_DATABASE_NUMBERS)}"
    con.execute(f"ATTACH ':memory:' AS {name}")
    con.execute(f"USE {name}")
    if "database" in _CURRENT:
        con.execute(f"DETACH {_CURRENT['database']}")
    assert con.execute("SELECT current_database()").fetchall() == [(name,)]
    _CURRENT["database"] = name
    return con


@cache
def _connection() -> duckdb.DuckDBPyConnection:
    return prepare(duckdb.connect(":memory:"))


def assert_invariants(con, outcomes) -> None:
    for o in outcomes:
        assert o.status in {"loaded", "duplicate", "rejected"}
        assert o.rows_read == o.rows_loaded + o.rows_rejected + o.rows_duplicate, o
        if o.status == "rejected":
            assert o.error
    (empty_reasons,) = con.execute(
        "SELECT count(*) FROM staging.rejected_rows WHERE coalesce(reason, '') = ''").fetchall()[0]
    assert empty_reasons == 0
    (dup_keys,) = con.execute(
        "SELECT count(*) - count(DISTINCT dedupe_key) FROM staging.usage").fetchall()[0]
    assert dup_keys == 0


@PROFILE
@given(fmt=st.sampled_from(FORMATS), rows=rows_strategy,
       mutation=st.sampled_from(["none", "duplicate_file", "duplicate_pages", "reorder",
                                 "extra_column", "line_endings", "overlapping_exports",
                                 "repeated_rows"]))
def test_lossless_mutations_load_every_row_once(tmp_path, fmt, rows, mutation):
    content = render(fmt, rows)
    files = {f"export.{'csv' if fmt in ('dashboard', 'litellm') else 'json'}": content}
    if mutation == "duplicate_file":
        files["again/same_export.dat"] = content
    elif mutation == "duplicate_pages" and fmt.startswith("api"):
        files = {"export.jsonl": content + b"\n" + render("api_jsonl", rows)}
    elif mutation == "reorder" and fmt in ("dashboard", "litellm"):
        table = list(csv.reader(io.StringIO(content.decode())))
        order = list(reversed(range(len(table[0]))))
        out = io.StringIO()
        csv.writer(out).writerows([[row[i] for i in order] for row in table])
        files = {"export.csv": out.getvalue().encode()}
    elif mutation == "extra_column" and fmt in ("dashboard", "litellm"):
        lines = content.decode().splitlines()
        files = {"export.csv": "\n".join(
            [lines[0] + ",unexpected_col"] + [x + ",zzz" for x in lines[1:]]).encode()}
    elif mutation == "overlapping_exports" and fmt in ("dashboard", "litellm"):
        # two exports of overlapping periods: the rows in both count once
        header, *body = content.decode().splitlines(keepends=True)
        third = len(body) // 3
        files = {"first.csv": "".join([header, *body[:2 * third + 1]]).encode(),
                 "second.csv": "".join([header, *body[third:]]).encode()}
    elif mutation == "repeated_rows" and fmt in ("dashboard", "litellm"):
        # the same rows twice in one file (an export appended to itself, header dropped)
        header, *body = content.decode().splitlines(keepends=True)
        files = {"export.csv": "".join([header, *body, *body[: len(body) // 2 + 1]]).encode()}
    elif mutation == "line_endings":  # CSV written with LF only; JSON with CRLF
        files = {name: (c.replace(b"\r\n", b"\n") if b"\r\n" in c
                        else c.replace(b"\n", b"\r\n")) for name, c in files.items()}
    con, outcomes = load(tmp_path, files)
    assert_invariants(con, outcomes)
    # gateway requests are staged rolled up to the day; their identity is the request ledger
    grain = ("staging.gateway_requests" if fmt == "litellm" else "staging.usage")
    loaded = con.execute(
        f"SELECT (SELECT count(*) FROM {grain}), "
        "(SELECT coalesce(sum(requests), 0) FROM staging.usage)").fetchall()[0]
    expected_requests = len(rows) if fmt == "litellm" else sum(r["requests"] for r in rows)
    assert loaded == (len(rows), expected_requests), (mutation, outcomes)
    assert sum(o.rows_rejected for o in outcomes) == 0


@PROFILE
@given(fmt=st.sampled_from(FORMATS), rows=rows_strategy, data=st.data(),
       damage=st.sampled_from(["wrong_type", "negative", "huge", "cached_over_input",
                               "bad_time"]))
def test_damaged_row_is_quarantined_and_the_rest_loaded(tmp_path, fmt, rows, data, damage):
    victim = data.draw(st.integers(0, len(rows) - 1))
    content = render(fmt, rows)
    if fmt.startswith("api"):
        text = content.decode()
        docs = [json.loads(line) for line in text.splitlines()] if fmt == "api_jsonl" else \
            json.loads(text)
        pages = docs if isinstance(docs, list) else [docs]
        results = [r for p in pages for b in p["data"] for r in b["results"]]
        target = results[victim]
        if damage == "bad_time":
            b = [b for p in pages for b in p["data"] if target in b["results"]][0]
            b["start_time"] = "not-a-time"
        else:
            key = {"wrong_type": "input_tokens", "negative": "num_model_requests",
                   "huge": "output_tokens", "cached_over_input": "input_cached_tokens"}[damage]
            target[key] = {"wrong_type": "12abc", "negative": -7, "huge": 10**19,
                           "cached_over_input": target["input_tokens"] + 1}[damage]
        content = ("\n".join(json.dumps(p) for p in pages) if fmt == "api_jsonl"
                   else json.dumps(docs)).encode()
    else:
        table = list(csv.reader(io.StringIO(content.decode())))
        header, body = table[0], table[1:]
        row = body[victim]
        if fmt == "dashboard":
            col = {"wrong_type": "input_tokens", "negative": "num_model_requests",
                   "huge": "output_tokens", "cached_over_input": "input_cached_tokens",
                   "bad_time": "start_time_iso"}[damage]
            value = {"wrong_type": "12abc", "negative": "-7.0", "huge": "1e19",
                     "cached_over_input": str(float(row[header.index("input_tokens")]) + 1),
                     "bad_time": "yesterday"}[damage]
        else:
            col = {"wrong_type": "prompt_tokens", "negative": "completion_tokens",
                   "huge": "prompt_tokens", "cached_over_input": "completion_tokens",
                   "bad_time": "startTime"}[damage]
            value = {"wrong_type": "12abc", "negative": "-7", "huge": "99999999999999999999",
                     "cached_over_input": "-1", "bad_time": "yesterday"}[damage]
        row[header.index(col)] = value
        out = io.StringIO()
        csv.writer(out).writerows([header, *body])
        content = out.getvalue().encode()
    con, outcomes = load(tmp_path, {"export.dat": content})
    assert_invariants(con, outcomes)
    (o,) = outcomes
    assert (o.status, o.rows_loaded, o.rows_rejected) == ("loaded" if len(rows) > 1 else
                                                          "rejected", len(rows) - 1, 1), o
    reasons = [r for (r,) in con.execute("SELECT reason FROM staging.rejected_rows").fetchall()]
    assert len(reasons) == 1 and reasons[0]


@PROFILE
@given(fmt=st.sampled_from(FORMATS), rows=rows_strategy, cut=st.floats(0.0, 1.0),
       breakage=st.sampled_from(["truncate", "utf16", "latin1", "empty", "not_a_page",
                                 "missing_columns", "binary_garbage"]))
def test_broken_files_never_crash_and_say_why(tmp_path, fmt, rows, cut, breakage):
    content = render(fmt, rows)
    if breakage == "truncate":
        content = content[: int(len(content) * cut)]
    elif breakage == "utf16":
        content = content.decode().encode("utf-16")
    elif breakage == "latin1":
        content = content.decode().replace("p", "p\u00e9", 1).encode("latin-1")
    elif breakage == "empty":
        content = b""
    elif breakage == "not_a_page":
        content = json.dumps({"object": "list", "data": [{"id": "gpt-4o"}]}).encode()
    elif breakage == "missing_columns" and fmt in ("dashboard", "litellm"):
        table = list(csv.reader(io.StringIO(content.decode())))
        keep = [i for i, c in enumerate(table[0]) if i % 2 == 0 or c in (
            "request_id", "call_type", "startTime", "start_time_iso", "input_tokens")]
        out = io.StringIO()
        csv.writer(out).writerows([[r[i] for i in keep] for r in table])
        content = out.getvalue().encode()
    elif breakage == "binary_garbage":
        content = bytes(range(256)) * 4
    good = {"good.json": render("api_page", [dict(rows[0], day=1)])}
    con, outcomes = load(tmp_path, {**good, "broken.dat": content})
    assert_invariants(con, outcomes)
    by_name = {Path(o.path).name: o for o in outcomes}
    # the good file beside the broken one is always loaded in full
    assert by_name["good.json"].rows_loaded == 1
    broken = by_name.get("broken.dat")
    if broken is not None and broken.status == "rejected":
        assert broken.error
