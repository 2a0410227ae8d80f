"""A token count's text is judged alike in every format: a Usage API page (Python's JSON
floats), a dashboard sheet (polars' Float64 cast) and a gateway spend log (DuckDB SQL, with
a fast path for plain digits). Until 2026-12-07 the spend log's slow path cast to
DECIMAL(38, 6), which rounded '10.0000001' to a whole 10, and its fast path took '0x10' as
16 and '15E-1' as 2: loaded where the other formats quarantined them."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

import duckdb
import pytest

from pipelines.lib import dashboard_csv, openai_pages
from pipelines.lib.duck import prepare
from pipelines.lib.ingest import ingest_landing
from tests.exports import LITELLM_HEADER, bucket, completion, litellm_row, page

#: whole, fractional, negative, huge, and written every way a number can be
TEXTS = ["10", "10.0", "10.5", "10.0000001", "10.000000000000002", "0.0000001", "1e3",
         "1E+3", "15E-1", "10e-1", "1.0e15", "-3", "-0.0", "-5e-1", "999999999999999",
         "1000000000000000", "1000000000000001", "1e16", "9999999999999999999999", "nan",
         "NaN", "inf", "-inf", "Infinity", "-Infinity", ".5", "5.", "+5", "007", "0x10",
         "0b11", "1_000", "abc", "1,5", "9" * 400,
         # more digits than Python converts to an int: the page was rejected whole
         "9" * 5000, "-" + "9" * 5000]
#: what the JSON grammar allows as a number (the page's text is JSON), and the names Python's
#: JSON reader takes for the floats JSON has none for
JSON_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|NaN|-?Infinity")
KINDS = ("not a whole number", "negative", "not a number", "implausibly large")
FIRST_DAY = dt.date(2026, 10, 1)

Verdict = tuple[int | None, str | None]


def kind_of(reason: str) -> str:
    (kind,) = [k for k in KINDS if k in reason]
    return kind


def verdict(value: int | None, reason: str | None) -> Verdict:
    return (value, None) if reason is None else (None, kind_of(reason))


def page_verdict(text: str) -> Verdict:
    doc = page([bucket("2026-11-20", [completion(input_tokens=5, output_tokens="N",
                                                 num_model_requests=1, model="gpt-4o")])])
    try:
        usage = openai_pages.parse_pages(json.dumps(doc).replace('"N"', text)).usage
    except ValueError:
        return (None, "the whole file rejected")
    (row,) = usage.select("output_tokens", "reason").rows()
    return verdict(*row)


def sheet_verdict(folder: Path, text: str) -> Verdict:
    path = folder / "sheet.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([
            ["start_time", "end_time", "num_model_requests", "model", "input_tokens",
             "output_tokens"],
            [1763596800, 1763683200, 1, "gpt-4o", 5, text]])
    (row,) = dashboard_csv.parse_dashboard_csv(path).rows.select(
        "output_tokens", "reason").rows()
    return verdict(*row)


def gateway_verdicts(folder: Path) -> dict[str, Verdict]:
    """Every text as one request's completion tokens, each on a day of its own, in one spend
    log read by the real ingest."""
    landing = folder / "landing"
    landing.mkdir()
    column = LITELLM_HEADER.index("completion_tokens")
    rows = []
    for i, text in enumerate(TEXTS):
        row = litellm_row(f"r{i}", "gpt-4o", 5, 0, "", "alpha", "success",
                          day=(FIRST_DAY + dt.timedelta(days=i)).isoformat())
        row[column] = text
        rows.append(row)
    with (landing / "spend.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([LITELLM_HEADER, *rows])
    con = prepare(duckdb.connect(":memory:"))
    (outcome,) = ingest_landing(con, landing)
    assert outcome.rows_loaded + outcome.rows_rejected == len(TEXTS)
    loaded = dict(con.execute("SELECT CAST(bucket_start AS DATE), sum(output_tokens)::BIGINT "
                              "FROM staging.usage GROUP BY 1").fetchall())
    day_of = {FIRST_DAY + dt.timedelta(days=i): text for i, text in enumerate(TEXTS)}
    verdicts: dict[str, Verdict] = {day_of[day]: (tokens, None) for day, tokens in loaded.items()}
    for (reason,) in con.execute("SELECT reason FROM staging.rejected_rows").fetchall():
        verdicts[reason.rsplit(": ", 1)[1]] = verdict(None, reason)
    return verdicts


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Verdict]]:
    folder = tmp_path_factory.mktemp("counts")
    gateway = gateway_verdicts(folder)
    return {text: {"gateway": gateway[text], "sheet": sheet_verdict(folder, text),
                   **({"page": page_verdict(text)} if JSON_NUMBER.fullmatch(text) else {})}
            for text in TEXTS}


@pytest.mark.parametrize("text", TEXTS)
def test_a_count_text_gets_the_same_verdict_in_every_format(verdicts, text):
    by_format = verdicts[text]
    assert len(set(by_format.values())) == 1, by_format


@pytest.mark.parametrize(("text", "expected"), [
    ("10.0", (10, None)), ("1e3", (1000, None)), ("10e-1", (1, None)),
    ("1000000000000000", (10**15, None)),
    ("10.0000001", (None, "not a whole number")), ("15E-1", (None, "not a whole number")),
    ("-5e-1", (None, "negative")), ("1000000000000001", (None, "implausibly large")),
    ("inf", (None, "implausibly large")), ("Infinity", (None, "implausibly large")),
    ("NaN", (None, "not a number")), ("-Infinity", (None, "negative")),
    ("0x10", (None, "not a number")), ("1_000", (None, "not a number")),
    ("9" * 5000, (None, "implausibly large")), ("-" + "9" * 5000, (None, "negative")),
])
def test_what_the_formats_agree_on(verdicts, text, expected):
    assert verdicts[text]["gateway"] == expected
