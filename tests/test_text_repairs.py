"""Exports whose text needs a repair before it is read: UTF-16 and doubled carriage returns.

A spreadsheet saved as "Unicode text" is UTF-16 with a byte order mark; a CSV written by
Python's ``csv`` module on Windows to a file opened without ``newline=''`` ends every line
in ``\\r\\r\\n``. DuckDB's CSV reader takes the first ``\\r`` for the line end and starts the
next row's first value, the request id, with the ``\\n``: the same requests exported again
with ordinary line ends would then be counted twice. Both are read from a repaired copy in the
scratch folder, like a decompressed file; a file that needs no repair is read in place.
A dashboard sheet saved as "CSV (Comma delimited)" by a spreadsheet on Windows is
Windows-1252: it is decoded as such. Each of these is said in the manifest's ``note``.
"""

from __future__ import annotations

import csv
import gzip
import io
import json

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.lib.duck import prepare
from pipelines.lib.formats import UnrecognisedFile, detect_format, repair_text, text_repairs
from pipelines.lib.ingest import ingest_landing
from tests.exports import (
    DASHBOARD_HEADER,
    LITELLM_HEADER,
    RESULT_A,
    bucket,
    epoch,
    ingest_side_by_side,
    litellm_row,
    page,
)

ROWS = [litellm_row(f"r{i}", "gpt-4o", 100 * i, 10 * i, "", "a", "success") for i in (1, 2, 3)]


def spend_log(line_end: str = "\r\n") -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator=line_end)
    w.writerow(LITELLM_HEADER)
    w.writerows(ROWS)
    return out.getvalue().encode()


def dashboard(sep: str = ",") -> str:
    s, e = epoch("2026-11-22"), epoch("2026-11-23")
    out = io.StringIO()
    w = csv.writer(out, delimiter=sep, lineterminator="\r\n")
    w.writerow(DASHBOARD_HEADER)
    w.writerow(["gpt-4o-mini-2024-07-18", "2026-11-22T00:00:00+00:00",
                "2026-11-23T00:00:00+00:00", s, e, "proj_é", "40", "", "key_a", "FALSE",
                "default", "100000", "10000", "20000"])
    return out.getvalue()


def staged(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT source, project_id, sum(requests), sum(input_tokens), sum(output_tokens) "
        "FROM staging.usage GROUP BY ALL ORDER BY ALL").fetchall()


def test_a_spend_log_with_doubled_carriage_returns_counts_once_beside_a_clean_copy(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "windows.csv").write_bytes(spend_log("\r\r\n"))
    con = prepare(duckdb.connect(str(tmp_path / "w.duckdb")))
    (first,) = ingest_landing(con, landing)
    assert (first.status, first.rows_loaded, first.rows_rejected) == ("loaded", 3, 0)
    assert first.note == "doubled carriage returns read as one line end"
    # the same requests with ordinary line ends, and a gzip of the doubled file: both repeat
    (landing / "clean.csv").write_bytes(spend_log("\r\n"))
    (landing / "windows.csv.gz").write_bytes(gzip.compress(spend_log("\r\r\n"), mtime=0))
    outcomes = ingest_landing(con, landing)
    assert sorted((o.rows_loaded, o.rows_duplicate) for o in outcomes) == [(0, 3), (0, 3)]
    assert sorted(str(o.note) for o in outcomes) == [
        "None", "decompressed (gzip); doubled carriage returns read as one line end"]
    assert staged(con) == [("litellm", None, 3, 600, 60)]
    assert con.execute("SELECT count(*) FROM staging.gateway_requests").fetchone() == (3,)
    assert not list(tmp_path.glob(".radar-decompress-*"))


@pytest.mark.parametrize("sep", [",", "\t"], ids=["comma", "tab"])
def test_a_dashboard_export_saved_as_utf16_loads_like_the_utf8_one(tmp_path, sep):
    # Excel's "Unicode text": little-endian with its byte order mark
    want, got, outcome = ingest_side_by_side(
        tmp_path, ("activity.csv", dashboard(sep).encode("utf-8")),
        ("activity.txt", dashboard(sep).encode("utf-16")))
    assert (outcome.status, outcome.format, outcome.rows_loaded) == (
        "loaded", "openai_dashboard_csv", 1)
    assert outcome.note == "decoded from UTF-16"
    assert staged(got) == staged(want) == [("openai_dashboard", "proj_é", 40, 100000, 10000)]
    assert not list(tmp_path.glob(".radar-decompress-*"))


def test_a_usage_page_saved_as_big_endian_utf16_loads(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    text = json.dumps(page([bucket("2026-11-20", [RESULT_A])]))
    (landing / "page.json").write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))
    con = prepare(duckdb.connect(str(tmp_path / "w.duckdb")))
    (outcome,) = ingest_landing(con, landing)
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 1)
    assert staged(con) == [("openai_usage_api", "proj_a", 100, 1_000_000, 100_000)]


def test_a_byte_order_mark_before_text_that_is_not_utf16_is_quarantined(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    # a lone high surrogate: no UTF-16 text has it
    (landing / "broken.csv").write_bytes(b"\xff\xfe" + "a,b\n".encode("utf-16-le")
                                         + b"\x00\xd8a\x00")
    (landing / "good.csv").write_bytes(spend_log())
    con = prepare(duckdb.connect(str(tmp_path / "w.duckdb")))
    outcomes = {o.path.rsplit("/", 1)[-1]: o for o in ingest_landing(con, landing)}
    assert outcomes["broken.csv"].status == "rejected"
    assert (outcomes["broken.csv"].error or "").startswith(
        "not UTF-16 text after its byte order mark")
    assert outcomes["good.csv"].rows_loaded == 3
    assert con.execute("SELECT count(*) FROM staging.rejected_rows WHERE reason LIKE "
                       "'not UTF-16 text%'").fetchone() == (1,)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_says_how_to_save_it(tmp_path, codec):
    path = tmp_path / "activity.csv"
    path.write_bytes(dashboard().encode(codec))
    with pytest.raises(UnrecognisedFile, match="UTF-16 text without a byte order mark"):
        detect_format(path)
    path.write_bytes(b"\x00\x01\x02binary" * 50)
    with pytest.raises(UnrecognisedFile, match="binary content"):
        detect_format(path)


def test_only_the_files_that_need_it_are_repaired():
    assert text_repairs(spend_log("\r\n")) == ()
    assert text_repairs(spend_log("\n")) == ()
    assert text_repairs(spend_log("\r\r\n")) == ("cr-cr-lf",)
    assert text_repairs(dashboard().encode("utf-16")) == ("utf-16",)
    assert text_repairs(dashboard().replace("\r\n", "\r\r\n").encode("utf-16")) == (
        "utf-16", "cr-cr-lf")
    # a doubled carriage return inside a value of the first line is not a line end
    assert text_repairs(b"request_id,note\r\nr1,\"a\r\r\nb\"\r\n") == ()


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 20])
def test_the_repair_is_the_same_whatever_the_chunk_size(tmp_path, chunk):
    """A line end split between two chunks (``\\r`` | ``\\r\\n``, ``\\r\\r`` | ``\\n``) is
    repaired like the others; a lone ``\\r\\r`` not before ``\\n`` is kept."""
    body = "a,b\r\r\nx,\"y\r\rz\"\r\r\n\r\r\n1,2\r\r"
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_bytes(body.encode("utf-16"))
    repair_text(source, target, ("utf-16", "cr-cr-lf"), chunk_bytes=chunk)
    assert target.read_bytes() == body.replace("\r\r\n", "\r\n").encode("utf-8")
    source.write_bytes(body.encode())
    repair_text(source, target, ("cr-cr-lf",), chunk_bytes=chunk)
    assert target.read_bytes() == body.replace("\r\r\n", "\r\n").encode()


def test_files_older_readers_rejected_whole_are_read_again_after_an_upgrade(tmp_path,
                                                                           monkeypatch):
    """The older version is this one with its UTF-16 repair taken out and its version number
    set back: it rejects the sheet as binary. The next ingest by the current readers reads
    that file again and loads it; a file every version rejects is rejected again; a file
    loaded before, and a rejected file no longer in the landing folder, are left as they
    are. Later ingests retry nothing."""
    from pipelines.lib import ingest as ingest_module

    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "activity.txt").write_bytes(dashboard("\t").encode("utf-16"))
    (landing / "spend.csv").write_bytes(spend_log())
    (landing / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (landing / "gone.bin").write_bytes(b"\x00\x01")
    con = prepare(duckdb.connect(str(tmp_path / "w.duckdb")))
    with monkeypatch.context() as old:
        old.setattr(ingest_module, "READER_VERSION", 1)
        old.setattr(ingest_module, "text_repairs", lambda head: ())
        before = {o.path.rsplit("/", 1)[-1]: o.status for o in ingest_landing(con, landing)}
    assert before == {"activity.txt": "rejected", "spend.csv": "loaded",
                      "picture.png": "rejected", "gone.bin": "rejected"}
    (landing / "gone.bin").unlink()

    after = {o.path.rsplit("/", 1)[-1]: (o.status, o.retried)
             for o in ingest_landing(con, landing)}
    assert after == {"activity.txt": ("loaded", True), "picture.png": ("rejected", True)}
    assert staged(con) == [("litellm", None, 3, 600, 60),
                           ("openai_dashboard", "proj_é", 40, 100000, 10000)]
    manifest = con.execute("SELECT regexp_extract(path, '[^/]+$'), status, "
                           "(SELECT count(*) FROM staging.rejected_rows r "
                           " WHERE r.file_id = f.file_id) FROM staging.ingested_files f "
                           "ORDER BY 1").fetchall()
    assert manifest == [("activity.txt", "loaded", 0), ("gone.bin", "rejected", 1),
                        ("picture.png", "rejected", 1), ("spend.csv", "loaded", 0)]
    assert ingest_landing(con, landing) == []
    assert con.execute("SELECT list(reader_version ORDER BY reader_version) "
                       "FROM staging.reader_versions").fetchone() == (
        [1, ingest_module.READER_VERSION],)


@given(text=st.text(alphabet="a,\"\r\né", max_size=60), chunk=st.integers(1, 9),
       utf16=st.booleans())
@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_repair_equals_one_replace_over_the_whole_text(tmp_path, text, chunk, utf16):
    source, target = tmp_path / "in", tmp_path / "out"
    source.write_bytes(text.encode("utf-16" if utf16 else "utf-8"))
    repairs = ("utf-16", "cr-cr-lf") if utf16 else ("cr-cr-lf",)
    repair_text(source, target, repairs, chunk_bytes=chunk)
    assert target.read_bytes() == text.replace("\r\r\n", "\r\n").encode("utf-8")


def european_sheet(rows_before: int) -> str:
    """A dashboard sheet as a French spreadsheet saves it: semicolons, the organisation's name
    accented, ``rows_before`` rows before the first accented one (past the 4 KiB the format
    is told from, at 80), and one row quarantined (a fractional count)."""
    s, e = epoch("2026-11-22"), epoch("2026-11-23")
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\r\n")
    w.writerow([*DASHBOARD_HEADER, "organization_name"])
    for i in range(rows_before + 2):
        w.writerow(["gpt-4o-mini-2024-07-18", "", "", s, e, f"proj_{i}", "40", "", "key_a",
                    "FALSE", "default", "100000", "10000", "20000",
                    "Acme" if i < rows_before else "Société Générale"])
    w.writerow(["gpt-4o-mini-2024-07-18", "", "", s, e, "proj_x", "1.5", "", "key_a",
                "FALSE", "default", "1", "1", "0", "Société Générale"])
    return out.getvalue()


@pytest.mark.parametrize("rows_before", [0, 80], ids=["in-the-head", "past-the-head"])
def test_a_dashboard_sheet_saved_as_windows_1252_loads_like_the_utf8_one(tmp_path,
                                                                         rows_before):
    """It used to be rejected whole ("not UTF-8 text"). Its numbers and ids are ASCII, the
    same in either encoding; the quarantined row's raw text keeps the name as written, and
    the manifest says how the file was read."""
    text = european_sheet(rows_before)
    assert len(text.split("Soci", 1)[0]) > 4096 if rows_before else True
    want, got, outcome = ingest_side_by_side(
        tmp_path, ("activity.csv", text.encode("utf-8")),
        ("activity_excel.csv", text.encode("cp1252")))
    assert (outcome.status, outcome.format, outcome.rows_loaded, outcome.rows_rejected) == (
        "loaded", "openai_dashboard_csv", rows_before + 2, 1)
    assert outcome.note == "decoded from Windows-1252 (not UTF-8)"
    assert staged(got) == staged(want)
    assert len(staged(got)) == rows_before + 2
    raw = "SELECT reason, raw FROM staging.rejected_rows"
    assert got.execute(raw).fetchall() == want.execute(raw).fetchall()
    assert "Société Générale" in got.execute(raw).fetchone()[1]
    notes = "SELECT note FROM staging.ingested_files"
    assert got.execute(notes).fetchall() == [("decoded from Windows-1252 (not UTF-8)",)]
    assert want.execute(notes).fetchall() == [(None,)]


def test_only_a_dashboard_sheet_is_read_as_windows_1252(tmp_path):
    """A spend log, a usage page or a sheet of no known kind that is not UTF-8 is still
    rejected as such: a spend log's team alias is a team name and JSON from the API is UTF-8.
    A sheet that is not Windows-1252 either (a byte it leaves undefined) says how to save
    it."""
    landing = tmp_path / "landing"
    landing.mkdir()
    # a spend log re-saved by a spreadsheet, a user's name in its metadata
    (landing / "spend.csv").write_bytes(
        spend_log().decode().replace("success", "success,Hélène", 1).encode("cp1252"))
    (landing / "page.json").write_bytes(
        json.dumps(page([bucket("2026-11-20", [dict(RESULT_A, user_id="é")])]),
                   ensure_ascii=False).encode("cp1252"))
    (landing / "other.csv").write_bytes("a,b\r\nSociété,1\r\n".encode("cp1252") * 3)
    (landing / "neither.csv").write_bytes(european_sheet(0).encode("cp1252")
                                          + b"\x81\r\n")
    con = prepare(duckdb.connect(str(tmp_path / "w.duckdb")))
    outcomes = {o.path.rsplit("/", 1)[-1]: o for o in ingest_landing(con, landing)}
    assert {name: o.status for name, o in outcomes.items()} == dict.fromkeys(
        ("spend.csv", "page.json", "other.csv", "neither.csv"), "rejected")
    for name in ("spend.csv", "page.json", "other.csv"):
        assert "not UTF-8 text (byte " in (outcomes[name].error or ""), name
    assert "nor Windows-1252 (byte" in (outcomes["neither.csv"].error or "")
    assert "save it as CSV UTF-8" in (outcomes["neither.csv"].error or "")
    assert con.execute("SELECT count(*) FROM staging.usage").fetchone() == (0,)


def test_a_manifest_from_before_the_note_column_takes_it_on(tmp_path):
    """Every version before this one wrote a manifest without ``note``: the next ingest
    adds the column (empty for the files already there) and notes its own files."""
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "spend.csv").write_bytes(spend_log())
    con = prepare(duckdb.connect(str(tmp_path / "w.duckdb")))
    ingest_landing(con, landing)
    con.execute("ALTER TABLE staging.ingested_files DROP COLUMN note")
    (landing / "activity.csv").write_bytes(european_sheet(0).encode("cp1252"))
    (outcome,) = ingest_landing(con, landing)
    assert outcome.status == "loaded"
    assert con.execute("SELECT regexp_extract(path, '[^/]+$'), note FROM "
                       "staging.ingested_files ORDER BY file_id").fetchall() == [
        ("spend.csv", None), ("activity.csv", "decoded from Windows-1252 (not UTF-8)")]
