"""Gateway spend logs are staged rolled up to the day, with a request ledger for identity.

These tests pin what that must not change: a request counts once whichever files carry it,
every input row is accounted for, and differing copies are quarantined, not summed.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.lib import ingest as ingest_module
from pipelines.lib.duck import memory_limit_bytes, prepare
from pipelines.lib.ingest import FileOutcome, ingest_landing
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


def read_once(landing: Path) -> tuple[duckdb.DuckDBPyConnection, FileOutcome]:
    """A new in-memory warehouse and the outcome of ingesting ``landing``'s one file."""
    con = prepare(duckdb.connect(":memory:"))
    (outcome,) = ingest_landing(con, landing)
    return con, outcome


def rejection(con: duckdb.DuckDBPyConnection, outcome: FileOutcome) -> str:
    """The error of a file rejected whole, of which nothing is staged."""
    assert outcome.status == "rejected"
    assert con.execute("SELECT count(*) FROM staging.usage").fetchall() == [(0,)]
    return outcome.error or ""


def quarantined(con: duckdb.DuckDBPyConnection, request_id: str) -> list[tuple[str, bool]]:
    """Each quarantined row's reason, and whether its raw record names ``request_id``."""
    return con.execute("SELECT reason, raw LIKE $p FROM staging.rejected_rows",
                       {"p": f"%{request_id}%"}).fetchall()


def test_ingest_checkpoints_in_batches_of_a_quarter_of_the_memory_limit(tmp_path):
    """Rows not yet checkpointed sit in the buffer pool: the ingest's checkpoint batch is
    sized from the memory limit, and the connection's own setting is restored after."""
    assert memory_limit_bytes(duckdb.connect(config={"memory_limit": "2GiB"})) == 2 << 30
    # DuckDB reports 500MB as "476.8 MiB": exact to its one decimal
    assert abs(memory_limit_bytes(duckdb.connect(config={"memory_limit": "500MB"}))
               - 500 * 10**6) < 0.1 * 2**20
    con = prepare(duckdb.connect(str(tmp_path / "w.duckdb"), config={"memory_limit": "1GiB"}))
    con.execute("SET checkpoint_threshold = '5MiB'")
    seen = []
    real = ingest_module._ingest_files

    def spy(con, *args):
        seen.append(con.execute("SELECT current_setting('checkpoint_threshold')").fetchall())
        return real(con, *args)

    ingest_module._ingest_files = spy
    try:
        write(tmp_path / "landing", "a.csv", [litellm_row("r1", "gpt-4o", 1, 1, "", "a",
                                                          "success")], 1)
        ingest_landing(con, tmp_path / "landing")
    finally:
        ingest_module._ingest_files = real
    assert seen == [[("256.0 MiB",)]]
    assert con.execute("SELECT current_setting('checkpoint_threshold')").fetchall() == [
        ("5.0 MiB",)]


def test_the_ingest_says_how_many_bytes_it_will_read_before_it_reads(tmp_path):
    landing = tmp_path / "landing"
    write(landing, "a.csv", [litellm_row("r1", "gpt-4o", 1, 1, "", "a", "success")], 1)
    write(landing, "b.csv", [litellm_row("r2", "gpt-4o", 1, 1, "", "a", "success")], 2)
    con = prepare(duckdb.connect(":memory:"))
    told: list[int] = []
    ingest_landing(con, landing, on_start=told.append)
    assert told == [sum(p.stat().st_size for p in landing.iterdir())]
    ingest_landing(con, landing, on_start=told.append)  # nothing new: nothing to say
    assert len(told) == 1


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


def test_line_breaks_inside_quoted_values_are_read_and_counted_once(tmp_path):
    """A gateway that keeps prompts and responses as text exports their line breaks inside
    quoted values. DuckDB's parallel reader refuses such a file when short rows must be
    padded, so it is read with one thread: every request loads, a short row is quarantined
    with its reason, and an overlapping export (read again at the request grain) adds only
    its new request."""
    landing = tmp_path / "landing"
    messages, response = LITELLM_HEADER.index("messages"), LITELLM_HEADER.index("response")

    def chatty(rid: str, prompt: int) -> list[str]:
        row = litellm_row(rid, "gpt-4o", prompt, 10, "", "a", "success")
        row[messages] = 'system:\nbe brief, "exact"\r\nuser:\nhi'
        row[response] = "line one\nline two, with a comma\n"
        return row

    rows = [chatty(f"r{i}", 100 * i) for i in range(1, 2001)]
    write(landing, "spend.csv", [*rows, ["r-short", "acompletion"]], 1)
    # the file is one the parallel reader refuses
    from pipelines.lib import litellm_csv
    with pytest.raises(duckdb.Error, match="quoted new lines"):
        duckdb.connect().execute(
            f"SELECT count(*) FROM ({litellm_csv.read_sql(tuple(LITELLM_HEADER))})",
            {"path": str(landing / "spend.csv")}).fetchall()
    con = prepare(duckdb.connect(":memory:"))
    (first,) = ingest_landing(con, landing)
    assert (first.status, first.rows_read, first.rows_loaded, first.rows_rejected) == (
        "loaded", 2001, 2000, 1)
    [(reason,)] = con.execute("SELECT reason FROM staging.rejected_rows").fetchall()
    assert reason == litellm_csv.SHORT_REASON
    total_in = 100 * 2000 * 2001 // 2
    assert staged(con) == (2000, 2000, total_in, 20_000)
    write(landing, "later.csv", [*rows[-5:], chatty("r-new", 7)], 2)
    (second,) = ingest_landing(con, landing)
    assert (second.rows_read, second.rows_loaded, second.rows_duplicate) == (6, 1, 5)
    assert staged(con) == (2001, 2001, total_in + 7, 20_010)


def test_a_header_that_lost_a_name_rejects_the_file_instead_of_shifting_its_columns(tmp_path):
    """A spend log whose header lost a name (here `metadata`) has every row one field longer
    than its header. The reader pads short rows, so it would have read each value after the
    gap into its neighbour's column: loaded without a rejected row, every team unassigned,
    no failure counted. The file is rejected whole, saying which line and why; once exported
    again with its whole header it loads."""
    landing = tmp_path / "landing"
    rows = [litellm_row("r1", "gpt-4o", 100, 10, "", "alpha", "failure"),
            litellm_row("r2", "gpt-4o", 200, 20, "", "alpha", "success")]
    header = [c for c in LITELLM_HEADER if c != "metadata"]
    landing.mkdir()
    with (landing / "spend.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    con, outcome = read_once(landing)
    assert rejection(con, outcome).startswith(
        f"RaggedRows: line 2 has {len(LITELLM_HEADER)} fields where the header names "
        f"{len(header)}: a header name is missing")
    write(landing, "spend.csv", rows, 2)
    (again,) = ingest_landing(con, landing)
    assert (again.status, again.rows_loaded) == ("loaded", 2)
    assert con.execute("SELECT team_alias, sum(requests), sum(failed_requests) "
                       "FROM staging.usage GROUP BY 1").fetchall() == [("alpha", 2, 1)]


@pytest.mark.parametrize("empty_last", [False, True], ids=["last-field-set", "last-field-empty"])
def test_a_lone_row_with_a_field_too_many_is_quarantined_wherever_it_is(tmp_path, empty_last):
    """A lone row with a field too many (a value with an unquoted comma), past the first
    64 KiB or among rows that are not: the file is no damaged header, and the reader takes
    one field past the header's last, so the row is quarantined with the reason instead of
    loading with its values shifted (DuckDB's reader otherwise drops the surplus), on the
    first read and on a re-read of an overlapping export alike. Also when that surplus
    field is empty (the row's last value is): an empty field is told from one the row does
    not have."""
    from pipelines.lib.formats import WIDTH_SAMPLE_BYTES
    from pipelines.lib.litellm_csv import SURPLUS_REASON
    landing = tmp_path / "landing"
    rows = [litellm_row(f"r{i}", "gpt-4o", 100, 10, "", "alpha", "success")
            for i in range(1, 401)]
    write(landing, "spend.csv", rows, 1)
    assert (landing / "spend.csv").stat().st_size > WIDTH_SAMPLE_BYTES
    shifted = litellm_row("r-comma", "gpt-4o", 500, 50, "", "alpha", "failure")
    user = LITELLM_HEADER.index("user") if "user" in LITELLM_HEADER else 11
    shifted[user:user + 1] = ["ana", " from sales"]  # "ana, from sales" without its quotes
    if empty_last:
        shifted[-1] = ""
    with (landing / "spend.csv").open("a", newline="") as fh:
        csv.writer(fh).writerow(shifted)
    con, first = read_once(landing)
    assert (first.status, first.rows_read, first.rows_loaded, first.rows_rejected) == (
        "loaded", 401, 400, 1)
    assert quarantined(con, "r-comma") == [(SURPLUS_REASON, True)]
    assert staged(con) == (400, 400, 40_000, 4_000)
    # an overlapping export, read again request by request: the same row, the same reason
    write(landing, "later.csv", [*rows[-3:], litellm_row("r-new", "gpt-4o", 7, 1, "",
                                                          "alpha", "success")], 2)
    with (landing / "later.csv").open("a", newline="") as fh:
        csv.writer(fh).writerow(shifted)
    (second,) = ingest_landing(con, landing)
    assert (second.rows_read, second.rows_loaded, second.rows_rejected,
            second.rows_duplicate) == (5, 1, 1, 3)
    assert con.execute("SELECT count(*) FROM staging.rejected_rows WHERE reason = $r",
                       {"r": SURPLUS_REASON}).fetchall() == [(2,)]
    assert staged(con) == (401, 401, 40_007, 4_001)


def test_a_row_cut_short_is_quarantined_and_its_whole_copy_in_a_later_export_loads(tmp_path):
    """A download cut mid-line leaves the file's last row short: here cut after `model`, so
    it lacks its team (the metadata and team_id), its status (a failure) and the rest. Read
    with the missing values empty, it loaded as a success of no team, and the later, whole
    export's copy of the request was then a duplicate of it, so the failure and the team
    were never counted. It is quarantined with the reason (its last field is missing, not
    empty), on the first read and on a re-read alike, and the whole copy loads."""
    from pipelines.lib.litellm_csv import SHORT_REASON
    landing = tmp_path / "landing"
    rows = [litellm_row(f"r{i}", "gpt-4o", 100, 10, "team-x", "alpha", "success")
            for i in range(1, 4)]
    whole = litellm_row("r-cut", "gpt-4o", 500, 50, "team-x", "alpha", "failure")
    write(landing, "spend.csv", rows, 1)
    with (landing / "spend.csv").open("a", newline="") as fh:
        fh.write(",".join(whole[:LITELLM_HEADER.index("model") + 1]))  # no line end: cut
    con, first = read_once(landing)
    assert (first.status, first.rows_read, first.rows_loaded, first.rows_rejected) == (
        "loaded", 4, 3, 1)
    assert quarantined(con, "r-cut") == [(SHORT_REASON, True)]
    assert staged(con) == (3, 3, 300, 30)
    # the next export, whole, overlapping the first (read again request by request)
    write(landing, "later.csv", [*rows, whole], 2)
    (second,) = ingest_landing(con, landing)
    assert (second.rows_read, second.rows_loaded, second.rows_duplicate) == (4, 1, 3)
    assert con.execute("SELECT team_alias, sum(requests), sum(failed_requests), "
                       "sum(input_tokens) FROM staging.usage GROUP BY 1").fetchall() == [
        ("alpha", 4, 1, 800)]
    # a cut short row in a re-read overlapping export: the same reason
    write(landing, "again.csv", rows[:1], 3)
    with (landing / "again.csv").open("a", newline="") as fh:
        fh.write(",".join(whole[:5]) + "\n")
    (third,) = ingest_landing(con, landing)
    assert (third.rows_read, third.rows_rejected, third.rows_duplicate) == (2, 1, 1)
    assert con.execute("SELECT count(*) FROM staging.rejected_rows WHERE reason = $r",
                       {"r": SHORT_REASON}).fetchall() == [(2,)]


def test_a_header_with_a_name_too_many_rejects_the_file_instead_of_every_row(tmp_path):
    """Every row shorter than the header (a name added to it by hand, a header of another
    export version): the file is rejected whole with the line and why, rather than each of
    its rows quarantined as cut short."""
    landing = tmp_path / "landing"
    rows = [litellm_row(f"r{i}", "gpt-4o", 100, 10, "", "alpha", "success") for i in (1, 2)]
    landing.mkdir()
    with (landing / "spend.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([[*LITELLM_HEADER, "added_by_hand"], *rows])
    assert rejection(*read_once(landing)).startswith(
        f"RaggedRows: line 2 has {len(LITELLM_HEADER)} fields where the header names "
        f"{len(LITELLM_HEADER) + 1}: the header has a name too many")


@pytest.mark.parametrize("rows, at", [(50, 3), (21_000, 20_900)],
                         ids=["near-the-start", "past-the-readers-first-rows"])
def test_a_stray_quote_in_a_spend_log_rejects_it_naming_the_line(tmp_path, rows, at):
    """A '"' typed at the start of a value. Near the file's start DuckDB's reader could not
    make out the dialect and took each line as one value: every row quarantined as cut
    short. Past the 20,480 rows it samples, it read the rest of the file with its quoting
    inverted, as one row of many fields, most dropped: the requests after the quote were
    lost but for one row quarantined as too long. Either way the file is now rejected whole,
    naming the line; with the quote removed, every request loads."""
    landing = tmp_path / "landing"
    requests = [litellm_row(f"r{i}", "gpt-4o", 100, 10, "", "alpha", "success")
                for i in range(rows)]
    write(landing, "spend.csv", requests, 1)
    path = landing / "spend.csv"
    lines = path.read_bytes().split(b"\r\n")
    clean = lines[at - 1]
    lines[at - 1] = clean.replace(b",gpt-4o,", b',"gpt-4o,', 1)
    path.write_bytes(b"\r\n".join(lines))
    con, outcome = read_once(landing)
    assert rejection(con, outcome).startswith(f"StrayQuote: line {at} has a '\"' where CSV "
                                              "allows none")
    lines[at - 1] = clean
    path.write_bytes(b"\r\n".join(lines))
    (again,) = ingest_landing(con, landing)
    assert (again.status, again.rows_loaded, again.rows_rejected) == ("loaded", rows, 0)


def test_a_spend_log_cut_inside_a_quoted_value_loads_its_whole_rows(tmp_path):
    """A download that stopped inside the last row's metadata leaves a quoted value running
    on to the end of the file. That row is quarantined as cut short and the others load, as
    a cut between values is; it is no stray quote (the file has no line end after it), which
    would reject the whole file."""
    from pipelines.lib.litellm_csv import SHORT_REASON
    landing = tmp_path / "landing"
    write(landing, "spend.csv", [litellm_row(f"r{i}", "gpt-4o", 100, 10, "", "alpha",
                                             "success") for i in range(5)], 1)
    data = (landing / "spend.csv").read_bytes()
    cut = data.rindex(b"user_api_key_team_alias")
    (landing / "spend.csv").write_bytes(data[:cut])
    con, outcome = read_once(landing)
    assert (outcome.status, outcome.rows_read, outcome.rows_loaded, outcome.rows_rejected) == (
        "loaded", 5, 4, 1)
    assert quarantined(con, "r4") == [(SHORT_REASON, True)]


def test_a_line_too_long_for_the_reader_says_a_stray_quote_may_be_why():
    """A '"' typed at the start of a value in a spend log whose values hold quotes (its
    metadata JSON) can run on for megabytes: DuckDB's serial reader then stops at its
    longest line. The reason keeps the line and says what usually makes one that long."""
    from pipelines.lib.formats import csv_error_text
    error = ("Invalid Input Error: CSV Error on Line: 30001\nOriginal Line: "
             "req-1,acompletion,\"2026-10-07 00:39:47,...\nMaximum line size of 2000000 "
             "bytes exceeded. Actual Size:4000913 bytes.\n\nPossible Solution: Change the "
             "maximum length size, e.g., max_line_size=4000915\n\n  file = spend.csv\n")
    assert csv_error_text(error) == (
        "CSV error on line 30001: Maximum line size of 2000000 bytes exceeded. Actual "
        "Size:4000913 bytes. A quoted value that does not close (a stray '\"' on that "
        "line?) takes in the lines after it.")


def test_a_last_header_name_with_quotes_is_read_as_a_name_not_as_sql(tmp_path):
    """The reader names the header's last column in its SQL (to tell a row cut short): a
    name holding double quotes, here one written to close the identifier and add SQL, is
    an identifier like any other, and the file loads."""
    landing = tmp_path / "landing"
    landing.mkdir()
    name = 'x" IS NULL AS a, 1 AS "y'
    rows = [[*litellm_row(f"r{i}", "gpt-4o", 100, 10, "", "alpha", "success"), ""]
            for i in (1, 2)]
    with (landing / "spend.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([[*LITELLM_HEADER, name], *rows])
    con = prepare(duckdb.connect(":memory:"))
    (outcome,) = ingest_landing(con, landing)
    assert (outcome.status, outcome.rows_loaded, outcome.rows_rejected) == ("loaded", 2, 0)


@pytest.mark.parametrize(("counts", "cached", "want", "first_staged", "second_staged"), [
    # with a point: the cast made '2022.5' 2023 and '-0.4' 0
    ([("whole", "10.0", "1"), ("half", "2022.5", "1"), ("neg", "-0.4", "1"),
      ("point", ".5", "1"), ("out", "7", "3.5"), ("plain", "100", "1")], 12.5,
     ["prompt_tokens is not a whole number: 2022.5", "negative prompt_tokens: -0.4",
      "prompt_tokens is not a whole number: .5", "completion_tokens is not a whole number: 3.5"],
     (3, 3, 160, 3), (4, 4, 165, 4)),
    # with a negative exponent: the cast made '15E-1' 2, '5e-1' 1 and '2043e-5' 0 (until
    # 2026-12-07); 1 + 1000 + 50 prompt tokens, 1 + 20 + 1 completion tokens
    ([("rounded-up", "15E-1", "1"), ("half", "5e-1", "1"), ("small", "2043e-5", "1"),
      ("out", "7", "25e-1"), ("whole", "10e-1", "1"), ("thousand", "1e3", "2E+1")], "15e-1",
     ["prompt_tokens is not a whole number: 15E-1", "prompt_tokens is not a whole number: 5e-1",
      "prompt_tokens is not a whole number: 2043e-5",
      "completion_tokens is not a whole number: 25e-1"],
     (3, 3, 1051, 22), (4, 4, 1056, 23)),
], ids=["point", "exponent"])
def test_a_count_with_a_fraction_is_quarantined_not_rounded(
        tmp_path, counts, cached, want, first_staged, second_staged):
    """DuckDB's text-to-integer cast rounds a decimal and a negative exponent. A token count
    with a fraction is quarantined with the reason, never rounded into the totals; a whole
    one written with a point or an exponent ('10.0', '10e-1', '1e3') counts. The same on the
    first read and on a re-read of an overlapping export; a fractional cached count in the
    metadata (a number, or a string with an exponent) counts as none, as an unreadable one
    does."""
    landing = tmp_path / "landing"
    prompt, completion = LITELLM_HEADER.index("prompt_tokens"), \
        LITELLM_HEADER.index("completion_tokens")

    def row(rid: str, p: str, c: str = "1") -> list[str]:
        r = litellm_row(rid, "gpt-4o", 0, 0, "", "alpha", "success")
        r[prompt], r[completion] = p, c
        return r

    rows = [row(*count) for count in counts]
    cached_row = litellm_row("cached", "gpt-4o", 50, 1, "", "alpha", "success")
    cached_row[LITELLM_HEADER.index("metadata")] = json.dumps({
        "user_api_key_team_alias": "alpha",
        "usage_object": {"prompt_tokens_details": {"cached_tokens": cached}}})
    write(landing, "spend.csv", [*rows, cached_row], 1)
    con = prepare(duckdb.connect(":memory:"))
    (first,) = ingest_landing(con, landing)
    assert (first.rows_loaded, first.rows_rejected) == (3, 4)
    assert sorted(r for (r,) in con.execute("SELECT reason FROM staging.rejected_rows")
                  .fetchall()) == sorted(want)
    assert staged(con) == first_staged
    assert con.execute("SELECT sum(cached_input_tokens) FROM staging.usage").fetchall() \
        == [(0,)]
    # re-read request by request (an export overlapping the first): the same verdicts
    write(landing, "later.csv", [*rows, row("new", "5")], 2)
    (second,) = ingest_landing(con, landing)
    assert (second.rows_loaded, second.rows_rejected, second.rows_duplicate) == (1, 4, 2)
    assert sorted(r for (r,) in con.execute(
        "SELECT reason FROM staging.rejected_rows WHERE source_file LIKE '%later.csv'")
        .fetchall()) == sorted(want)
    assert staged(con) == second_staged


def test_a_spend_log_the_csv_reader_refuses_says_which_line_and_why_not_what_it_holds(tmp_path):
    """A byte that is not UTF-8 deep in a spend log (past what format detection reads) makes
    DuckDB's CSV reader refuse the file. Its error quotes the whole line, prompt and response
    included, before its reason, then lists the reader's options: cut to 500 characters, the
    manifest kept the line's start and lost the reason. It now keeps the line number and the
    reason only."""
    landing = tmp_path / "landing"
    rows = [litellm_row(f"r{i}", "gpt-4o", 10, 1, "", "alpha", "success") for i in range(60)]
    write(landing, "spend.csv", rows, 1)
    path = landing / "spend.csv"
    lines = path.read_bytes().split(b"\r\n")
    assert b"TOP SECRET PROMPT TEXT" in lines[41]
    lines[41] = lines[41].replace(b"TOP SECRET", b"TOP \xff SECRET")  # request r40, line 42
    path.write_bytes(b"\r\n".join(lines))
    con = prepare(duckdb.connect(":memory:"))
    (outcome,) = ingest_landing(con, landing)
    assert outcome.status == "rejected"
    assert outcome.error == ("CSV error on line 42: Invalid unicode (byte sequence mismatch) "
                             "detected. This file is not utf-8 encoded.")
    assert con.execute("SELECT count(*) FROM staging.ingested_files "
                       "WHERE error LIKE '%SECRET%'").fetchall() == [(0,)]


def test_a_request_time_outside_1970_to_2100_is_quarantined_not_the_file(tmp_path):
    """A startTime in the year 12026 (a typo, a corrupt export) is a rejected row with the
    reason; an endTime out of range counts as missing. The file's other rows load (a date
    past 9999 reaches Python as text, and such a file was rejected whole before)."""
    landing = tmp_path / "landing"
    late_end = litellm_row("r1", "gpt-4o", 10, 1, "", "a", "success")
    late_end[LITELLM_HEADER.index("endTime")] = "12026-11-23 10:00:01"
    write(landing, "spend.csv", [
        late_end,
        litellm_row("r2", "gpt-4o", 20, 2, "", "a", "success", day="12026-11-23"),
        litellm_row("r3", "gpt-4o", 30, 3, "", "a", "success", day="2100-01-01")], 1)
    con = prepare(duckdb.connect(":memory:"))
    (outcome,) = ingest_landing(con, landing)
    assert (outcome.status, outcome.rows_loaded, outcome.rows_rejected) == ("loaded", 1, 2)
    assert sorted(r for (r,) in con.execute("SELECT reason FROM staging.rejected_rows")
                  .fetchall()) == [
        "startTime out of range (before 1970 or from 2100): 12026-11-23 10:00:00.000",
        "startTime out of range (before 1970 or from 2100): 2100-01-01 10:00:00.000"]
    assert con.execute("SELECT usage_date::VARCHAR, bucket_end::VARCHAR, input_tokens "
                       "FROM staging.usage").fetchall() == [
        ("2026-11-23", "2026-11-23 10:00:00", 10)]


def test_an_end_time_before_the_start_or_days_after_it_counts_as_missing(tmp_path):
    """A request logged as ending before it started, or as a stream hanging for four days,
    counts with its end at its start. Staged as they were, such a time made the day's span
    longer than any bucket (or negative): the blocking staging check failed and stopped
    every later step of the run."""
    landing = tmp_path / "landing"
    rows = [litellm_row(f"r{i}", "gpt-4o", 100, 10, "", "a", "success") for i in (1, 2, 3)]
    end = LITELLM_HEADER.index("endTime")
    rows[0][end] = "2026-11-23 09:00:00.000"
    rows[1][end] = "2026-11-27 10:00:00.000"
    rows[2][end] = "2026-11-24 09:59:59.000"  # within a day: kept
    write(landing, "odd_ends.csv", rows[:2], 1)
    write(landing, "long_request.csv", rows[2:], 2)
    con = prepare(duckdb.connect(":memory:"))
    ingest_landing(con, landing)
    assert con.execute(
        "SELECT requests, bucket_start, bucket_end FROM staging.usage ORDER BY file_id"
    ).fetchall() == [
        (2, dt.datetime(2026, 11, 23, 10), dt.datetime(2026, 11, 23, 10)),
        (1, dt.datetime(2026, 11, 23, 10), dt.datetime(2026, 11, 24, 9, 59, 59))]


def test_a_repeated_header_line_is_set_apart_as_not_usage(tmp_path):
    """Two exports concatenated with ``cat``: the second header line is a row, quarantined
    as not model usage (no warning), and both exports' requests load."""
    landing = tmp_path / "landing"
    write(landing, "a.csv", [litellm_row("r1", "gpt-4o", 10, 1, "", "a", "success")], 1)
    write(landing, "b.csv", [litellm_row("r2", "gpt-4o", 20, 2, "", "a", "success")], 2)
    (landing / "both.csv").write_bytes((landing / "a.csv").read_bytes()
                                       + (landing / "b.csv").read_bytes())
    (landing / "a.csv").unlink()
    (landing / "b.csv").unlink()
    con = prepare(duckdb.connect(":memory:"))
    (outcome,) = ingest_landing(con, landing)
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_rejected,
            outcome.rows_not_usage) == (3, 2, 1, 1)
    assert staged(con) == (2, 2, 30, 3)
    assert con.execute("SELECT reason FROM staging.rejected_rows").fetchall() == [
        ("not model usage: a repeated header line (two exports concatenated into one file?)",)]


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


# ------------------------------------------------------------------ the two-level roll-up
# The first read of a gateway file uses litellm_csv.rollup_sql (dimensions derived once per
# group); a re-read at the request grain uses parse_sql row by row, then group_sql. Both must
# give the same staged rows, reasons and raw text, whatever the values look like.
CELLS = {
    "request_id": ["r1", " r1 ", "r2", "req-3", "", " ", "request_id"],
    "call_type": ["acompletion", "completion", "aembedding", "rerank", "", "_arealtime",
                  "aresponses", "amoderation", "agenerate_content_stream",
                  "_aresponses_websocket", "acreate_file", "aretrieve_batch",
                  "pass_through_endpoint", "passthrough-image-generation", "call_type"],
    "api_key": ["k1", " k1", "", "sk-abcdefghijklmnopqrst", "k2"],
    "spend": ["0.0"],
    "total_tokens": ["0"],
    "prompt_tokens": ["10", " 10 ", "10.0", "-5", "abc", "", " ", "10.5", "2000000000000000",
                      "0", "272000", "272001", " 300000", "200001"],
    "completion_tokens": ["3", "", "-1", "3.0", "x", " 7"],
    "startTime": ["2026-11-20 10:00:00.000", "2026-11-20T23:30:00+02:00", "garbage", "",
                  "2026-11-20 10:00:00", "2026-11-21 00:00:01.5", "12026-11-20 10:00:00",
                  "1969-12-31 23:59:59"],
    "endTime": ["2026-11-20 10:00:01.000", "", "2026-11-22T00:00:00Z", "nope",
                "2150-01-01 00:00:00"],
    "model": ["gpt-4o", " gpt-4o ", "", "  ", "o3"],
    "model_group": ["gpt-4o", "", "grp"],
    "user": ["", "u1", " u1 "],
    "metadata": ['{"user_api_key_team_alias": "a", "user_api_key_project_id": "p"}',
                 "not json", "",
                 '{"usage_object": {"prompt_tokens_details": {"cached_tokens": 5}}}',
                 # audio parts: within, past and beside the counts, and not a number
                 '{"usage_object": {"prompt_tokens_details": {"cached_tokens": 4, '
                 '"audio_tokens": 5}, "completion_tokens_details": {"audio_tokens": 2}}}',
                 '{"usage_object": {"prompt_tokens_details": {"audio_tokens": 50}, '
                 '"completion_tokens_details": {"audio_tokens": -3}}}',
                 '{"usage_object": {"prompt_tokens_details": {"audio_tokens": "x"}}}',
                 '{"usage_object": {"prompt_tokens_details": {"cached_tokens": -5, '
                 '"audio_tokens": 3}}}',
                 # cache writes: within, past what the cached reads and the audio leave,
                 # negative and not a number
                 '{"usage_object": {"cache_creation_input_tokens": 3, '
                 '"prompt_tokens_details": {"cached_tokens": 4}}}',
                 '{"usage_object": {"cache_creation_input_tokens": 9, '
                 '"prompt_tokens_details": {"cached_tokens": 2, "audio_tokens": 5}}}',
                 '{"usage_object": {"cache_creation_input_tokens": "x"}}',
                 # 1-hour cache writes: within the writes, past them, without writes
                 '{"usage_object": {"cache_creation_input_tokens": 6, "prompt_tokens_details": '
                 '{"cache_creation_token_details": {"ephemeral_1h_input_tokens": 4}}}}',
                 '{"usage_object": {"cache_creation_input_tokens": 2, "prompt_tokens_details": '
                 '{"cache_creation_token_details": {"ephemeral_1h_input_tokens": 9}}}}',
                 '{"usage_object": {"prompt_tokens_details": {"cache_creation_token_details": '
                 '{"ephemeral_1h_input_tokens": 3}}}}',
                 '{"usage_object": {"cache_creation_input_tokens": -2}}',
                 '{"user_api_key_user_id": "mu", "user_api_key_team_id": "mt", '
                 '"user_api_key_team_alias": ""}'],
    "team_id": ["", "t1", " t1"],
    "status": ["success", "failure", "", " Failure ", "weird", "SUCCESS"],
    "cache_hit": ["False", "True", "", "None", " true "],
}
ROLLUP_COLUMNS = (
    "usage_date, source, endpoint, route, project_id, user_id, api_key_id, model, is_batch, "
    "service_tier, extra_dims, litellm_team_id, team_alias, unit, reason, raw, rows_read, "
    "requests, failed_requests, input_tokens, cached_input_tokens, output_tokens, "
    "input_audio_tokens, cached_input_audio_tokens, output_audio_tokens, "
    "cache_write_input_tokens, cache_write_1h_input_tokens, units, prompt_band, "
    "bucket_start, bucket_end, list_sort(request_keys)")


@given(st.lists(st.fixed_dictionaries({c: st.sampled_from(v) for c, v in CELLS.items()}),
                min_size=1, max_size=12))
@settings(max_examples=int(os.environ.get("RADAR_PROPERTY_EXAMPLES", "340")) // 4,
          deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_two_level_rollup_equals_the_row_by_row_parse(tmp_path, rows):
    from pipelines.lib import litellm_csv

    path = tmp_path / "spend.csv"
    header = list(CELLS)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows([r[c] for c in header] for r in rows)
    con = prepare(duckdb.connect())
    present = litellm_csv.csv_columns(path)
    p = {"path": str(path)}
    con.execute("CREATE TABLE a AS " + litellm_csv.rollup_sql(present), p)
    con.execute("CREATE TABLE b AS "
                + litellm_csv.group_sql(f"({litellm_csv.parse_sql(present)})"), p)
    for x, y in (("a", "b"), ("b", "a")):
        extra = con.execute(f"SELECT {ROLLUP_COLUMNS} FROM {x} EXCEPT ALL "
                            f"SELECT {ROLLUP_COLUMNS} FROM {y}").fetchall()
        assert not extra, f"only in {x}: {extra}"
    assert con.execute("SELECT sum(rows_read) FROM a").fetchall()[0][0] == len(rows)


def test_a_gateway_request_s_audio_and_cached_tokens_are_read_from_its_usage_object(tmp_path):
    """LiteLLM keeps the provider's usage block in the metadata: the prompt's and the
    completion's audio tokens are the audio parts of the counts (the prompt's apart from its
    cached reads, as LiteLLM prices them), each kept within what it is part of."""
    landing = tmp_path / "landing"
    rows = [litellm_row("r1", "gpt-realtime", 1_000, 100, "", "a", "success"),
            litellm_row("r2", "gpt-realtime", 1_000, 100, "", "a", "success"),
            litellm_row("r3", "gpt-4o", 500, 50, "", "a", "success")]
    meta = LITELLM_HEADER.index("metadata")
    rows[0][meta] = json.dumps({"usage_object": {
        "prompt_tokens_details": {"cached_tokens": 200, "audio_tokens": 600},
        "completion_tokens_details": {"audio_tokens": 80}}})
    # more audio than the uncached prompt, and than the completion: capped at each
    rows[1][meta] = json.dumps({"usage_object": {
        "prompt_tokens_details": {"cached_tokens": 500, "audio_tokens": 900},
        "completion_tokens_details": {"audio_tokens": 1_000}}})
    # a negative cached count is none (it was staged as -5, and the blocking staging check
    # then stopped every later step of the run)
    rows[2][meta] = json.dumps({"usage_object": {"prompt_tokens_details": {"cached_tokens": -5}}})
    write(landing, "spend.csv", rows, 1)
    con = prepare(duckdb.connect(":memory:"))
    ingest_landing(con, landing)
    assert con.execute(
        "SELECT model, sum(input_tokens), sum(cached_input_tokens), sum(input_audio_tokens), "
        "sum(cached_input_audio_tokens), sum(output_audio_tokens) FROM staging.usage "
        "GROUP BY model ORDER BY model").fetchall() == [
        ("gpt-4o", 500, 0, 0, 0, 0), ("gpt-realtime", 2_000, 700, 600 + 500, 0, 80 + 100)]


# ------------------------------------------------------------- the ledger's retention
def test_a_trimmed_ledger_quarantines_older_requests_and_counts_the_rest_once(tmp_path):
    """RADAR_REQUEST_LEDGER_DAYS: keys before the horizon are removed, the staged usage of
    those days stays; a later export reaching before the horizon has those requests
    quarantined (a repeat could not be told from a new request), the rest counted once."""
    from pipelines.lib.ingest import trim_request_ledger

    landing = tmp_path / "landing"
    days = ("2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23")
    rows = {rid: litellm_row(rid, "gpt-4o", 10 * n, n, "", "a", "success", day=day)
            for n, (rid, day) in enumerate(zip(("r1", "r2", "r3", "r4"), days, strict=True), 1)}
    write(landing, "a.csv", list(rows.values()), 1)
    con = prepare(duckdb.connect(str(tmp_path / "w.duckdb")))
    ingest_landing(con, landing)
    assert staged(con) == (4, 4, 100, 10)

    trim = trim_request_ledger(con, dt.date(2026, 11, 22))
    assert (trim.kept_from, trim.removed) == (dt.date(2026, 11, 22), 2)
    assert staged(con) == (2, 4, 100, 10)  # the keys are gone, the usage is not

    r5 = litellm_row("r5", "gpt-4o", 1000, 100, "", "a", "success", day="2026-11-21")
    r6 = litellm_row("r6", "gpt-4o", 2000, 200, "", "a", "success", day="2026-11-23")
    write(landing, "b.csv", [rows["r1"], r5, r6], 2)
    (outcome,) = ingest_landing(con, landing)
    # r1 (a repeat) and r5 (new) are both before the horizon: neither can be counted safely
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_rejected,
            outcome.rows_duplicate) == (3, 1, 2, 0)
    assert staged(con) == (3, 5, 2100, 210)
    # from the horizon on, repeats are still told apart: r3 and r6 are duplicates
    write(landing, "c.csv", [rows["r3"], r6], 3)
    (outcome,) = ingest_landing(con, landing)
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_duplicate) == (2, 0, 2)
    assert staged(con) == (3, 5, 2100, 210)
    # an old export, every request before the horizon: one rejection for the whole file
    write(landing, "d.csv", [rows["r1"], rows["r2"], r5], 4)
    (outcome,) = ingest_landing(con, landing)
    assert (outcome.status, outcome.rows_read) == ("rejected", 0)
    assert outcome.error == (
        "every request is from 2026-11-20 to 2026-11-21, before 2026-11-22: the request "
        "ledger keeps no older keys (RADAR_REQUEST_LEDGER_DAYS), so whether another export "
        "already counted them cannot be told")
    assert con.execute("SELECT count(*), any_value(raw) FROM staging.rejected_rows "
                       "WHERE source_file LIKE '%d.csv'").fetchall() == [(1, None)]
    assert staged(con) == (3, 5, 2100, 210)
    rejected = con.execute("SELECT reason, raw FROM staging.rejected_rows "
                           "WHERE source_file LIKE '%b.csv' ORDER BY raw").fetchall()
    assert [r[0] for r in rejected] == [
        f"request of {day}, before 2026-11-22: the request ledger keeps no older keys "
        "(RADAR_REQUEST_LEDGER_DAYS), so whether another export already counted it cannot "
        "be told" for day in ("2026-11-20", "2026-11-21")]
    assert ['"request_id":"r1"' in rejected[0][1], '"request_id":"r5"' in rejected[1][1]] == [
        True, True]


def test_the_ledger_horizon_never_moves_back(tmp_path):
    from pipelines.lib.ingest import ledger_horizon, trim_request_ledger

    landing = tmp_path / "landing"
    write(landing, "a.csv", [litellm_row(f"r{d}", "gpt-4o", 1, 1, "", "a", "success",
                                         day=f"2026-11-{d}") for d in (20, 21, 22, 23)], 1)
    con = prepare(duckdb.connect(":memory:"))
    ingest_landing(con, landing)
    assert trim_request_ledger(con, None).kept_from is None  # never set: nothing removed
    assert ledger_horizon(con) is None and staged(con)[0] == 4
    assert trim_request_ledger(con, dt.date(2026, 11, 22)).removed == 2
    # an earlier as-of (a backfill) or the setting removed: the keys stay gone, and so does
    # the horizon, which is what keeps older requests out
    for earlier in (dt.date(2026, 11, 21), None):
        trim = trim_request_ledger(con, earlier)
        assert (trim.kept_from, trim.removed) == (dt.date(2026, 11, 22), 0)
    assert trim_request_ledger(con, dt.date(2026, 11, 23)).removed == 1
    assert con.execute("SELECT kept_from, requests_removed FROM staging.request_ledger_trims "
                       "ORDER BY kept_from").fetchall() == [
        (dt.date(2026, 11, 22), 2), (dt.date(2026, 11, 23), 1)]


def test_a_gateway_cache_hit_is_a_request_without_tokens(tmp_path):
    """A request the gateway answered from its own response cache never reached the provider
    (LiteLLM logs it at $0): it counts as a request of its model, with no tokens, so it is
    priced at nothing; an export without the column reads every row as a provider call."""
    landing = tmp_path / "landing"
    header = [*LITELLM_HEADER, "cache_hit"]
    rows = [litellm_row(f"r{i}", "gpt-4o", 100 * i, 10 * i, "", "a", "success") for i in (1, 2, 3)]
    cache = ["False", "True", " true "]  # r2 and r3 from the cache
    metadata = '{"usage_object": {"prompt_tokens_details": {"cached_tokens": 50}}}'
    for row in rows:
        row[header.index("metadata")] = metadata
    path = landing / "spend.csv"
    path.parent.mkdir(parents=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows([*row, hit] for row, hit in zip(rows, cache, strict=True))
    con = prepare(duckdb.connect(":memory:"))
    ingest_landing(con, landing)
    assert con.execute("SELECT sum(requests), sum(input_tokens), sum(cached_input_tokens), "
                       "sum(output_tokens) FROM staging.usage").fetchall() == [(3, 100, 50, 10)]
    write(landing, "older_export.csv", [litellm_row("r9", "gpt-4o", 7, 1, "", "a", "success")], 2)
    ingest_landing(con, landing)
    assert con.execute("SELECT sum(requests), sum(input_tokens) FROM staging.usage").fetchall() == [
        (4, 107)]


def test_a_file_still_being_written_is_left_for_the_next_run(tmp_path):
    """A copy into the landing folder that is still being written when a run lists it (the
    sensor or the schedule firing mid-copy): the rows read so far may end in a cut row (a
    model name cut short would be counted, and the full file's copy of that request then
    ignored). The file's size and time are compared again before its transaction commits: if
    they moved, nothing of it is kept and the next run reads the whole file. The writer
    here appends the last rows after the listing (the ingest's start callback, called
    between the listing and the first read)."""
    landing = tmp_path / "landing"
    rows = [litellm_row(f"r{i}", "gpt-4o-2024-08-06", 10, 1, "", "a", "success")
            for i in range(1, 5)]
    write(landing, "spend.csv", rows[:2], 1)
    path = landing / "spend.csv"

    def copy_goes_on(_bytes: int) -> None:
        with path.open("a", newline="") as fh:
            csv.writer(fh).writerows(rows[2:])

    con = prepare(duckdb.connect(":memory:"))
    (first,) = ingest_landing(con, landing, on_start=copy_goes_on)
    assert first.status == "skipped" and "changed while it was read" in (first.error or "")
    assert con.execute("SELECT count(*) FROM staging.ingested_files").fetchone() == (0,)
    assert staged(con) == (0, None, None, None)
    (second,) = ingest_landing(con, landing)
    assert (second.status, second.rows_loaded) == ("loaded", 4)
    assert staged(con) == (4, 4, 40, 4)


def test_a_file_removed_after_the_listing_is_skipped_and_the_others_load(tmp_path):
    """A file that goes away between the listing and its read (moved to an archive folder,
    a sync replacing a page file): the run neither fails nor records it, the other files
    load, and a file put back later is read by the next run. The file goes in the ingest's
    start callback, called between the listing and the first read."""
    landing = tmp_path / "landing"
    write(landing, "a.csv", [litellm_row("r1", "gpt-4o-2024-08-06", 10, 1, "", "a", "success")], 1)
    write(landing, "b.csv", [litellm_row("r2", "gpt-4o-2024-08-06", 20, 2, "", "a", "success")], 2)
    moved = tmp_path / "archive" / "a.csv"
    moved.parent.mkdir()

    def archived(_bytes: int) -> None:
        (landing / "a.csv").rename(moved)

    con = prepare(duckdb.connect(":memory:"))
    outcomes = {Path(o.path).name: o for o in ingest_landing(con, landing, on_start=archived)}
    assert outcomes["a.csv"].status == "skipped"
    assert "No such file" in (outcomes["a.csv"].error or "")
    assert (outcomes["b.csv"].status, outcomes["b.csv"].rows_loaded) == ("loaded", 1)
    assert con.execute("SELECT path FROM staging.ingested_files").fetchall() == [
        (str((landing / "b.csv").resolve()),)]
    assert staged(con) == (1, 1, 20, 2)
    moved.rename(landing / "a.csv")
    (again,) = ingest_landing(con, landing)
    assert (Path(again.path).name, again.status, again.rows_loaded) == ("a.csv", "loaded", 1)
    assert staged(con) == (2, 2, 30, 3)
