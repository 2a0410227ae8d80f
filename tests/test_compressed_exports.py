"""Compressed exports (gzip, bz2, xz) are read as the export they hold.

A month of gateway spend logs is large, and people compress it before they move it. The
content is what counts: a compressed copy of a file already loaded adds nothing, a corrupt
stream is quarantined with a reason, and the scratch copy never outlives the ingest.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import lzma
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.duck import prepare
from pipelines.lib.formats import UnrecognisedFile, compression_of, detect_format
from pipelines.lib.ingest import ingest_landing
from tests.conftest import unique_dict
from tests.exports import (
    LITELLM_HEADER,
    RESULT_A,
    bucket,
    ingest_side_by_side,
    litellm_row,
    page,
)

PACKERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}


def spend_log(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(LITELLM_HEADER)
    w.writerows(rows)
    return out.getvalue().encode()


ROWS = [litellm_row(f"r{i}", "gpt-4o", 100 * i, 10 * i, "", "a", "success") for i in (1, 2, 3)]


def totals(con: duckdb.DuckDBPyConnection) -> tuple:
    return con.execute(
        "SELECT (SELECT count(*) FROM staging.gateway_requests), sum(requests), "
        "sum(input_tokens), sum(output_tokens) FROM staging.usage").fetchall()[0]


@pytest.mark.parametrize("kind", sorted(PACKERS))
def test_a_compressed_spend_log_loads_like_the_plain_one(tmp_path, kind):
    # named without a telling suffix: the content says it is compressed, not the name
    want, got, outcome = ingest_side_by_side(
        tmp_path, ("spend.csv", spend_log(ROWS)), ("spend.export", PACKERS[kind](spend_log(ROWS))))
    assert (outcome.status, outcome.format, outcome.rows_loaded) == (
        "loaded", "litellm_spend_logs_csv", 3)
    assert totals(got) == totals(want) == (3, 3, 600, 60)
    # the manifest keeps the compressed file, and the scratch copy is gone
    (path,) = got.execute("SELECT path FROM staging.ingested_files").fetchone()
    assert path == str((tmp_path / "got" / "spend.export").resolve())
    assert not list(tmp_path.glob(".radar-decompress-*"))


def test_a_killed_run_s_scratch_copy_is_removed_by_the_next_ingest(tmp_path):
    """Only this warehouse's: another warehouse in the same folder may be mid-ingest."""
    (tmp_path / "landing").mkdir()
    mine = tmp_path / ".radar-decompress-w.duckdb-k1l2"
    theirs = tmp_path / ".radar-decompress-other.duckdb-x9y8"
    for folder in (mine, theirs):
        folder.mkdir()
        (folder / "spend.csv").write_bytes(b"request_id\n" * 1000)
    con = prepare(duckdb.connect(str(tmp_path / "w.duckdb")))
    ingest_landing(con, tmp_path / "landing")
    assert not mine.exists() and (theirs / "spend.csv").exists()


def test_usage_pages_and_plain_copies_count_once(tmp_path):
    """A gzip of a page already loaded is a different file with the same buckets: the bucket
    identity makes it add nothing; the same for a spend log's requests."""
    landing = tmp_path / "landing"
    landing.mkdir()
    pages = json.dumps(page([bucket("2026-11-20", [RESULT_A])])).encode()
    (landing / "a.json").write_bytes(pages)
    (landing / "a.csv").write_bytes(spend_log(ROWS))
    con = prepare(duckdb.connect(str(tmp_path / "w.duckdb")))
    ingest_landing(con, landing)
    before = con.execute("SELECT sum(requests), sum(input_tokens) FROM staging.usage").fetchall()
    (landing / "later.json.gz").write_bytes(gzip.compress(pages))
    (landing / "later.csv.xz").write_bytes(lzma.compress(spend_log(ROWS)))
    outcomes = ingest_landing(con, landing)
    assert sorted((o.status, o.rows_loaded, o.rows_duplicate) for o in outcomes) == [
        ("loaded", 0, 1), ("loaded", 0, 3)]
    assert con.execute("SELECT sum(requests), sum(input_tokens) FROM staging.usage"
                       ).fetchall() == before == [(103, 1_000_600)]


def test_a_truncated_stream_is_quarantined_and_the_rest_loads(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    whole = gzip.compress(spend_log(ROWS))
    (landing / "cut.csv.gz").write_bytes(whole[: len(whole) // 2])
    (landing / "bad.csv.bz2").write_bytes(b"BZh9" + b"not a bzip2 stream" * 20)
    (landing / "good.csv.gz").write_bytes(whole)
    con = prepare(duckdb.connect(str(tmp_path / "w.duckdb")))
    outcomes = {Path(o.path).name: o for o in ingest_landing(con, landing)}
    assert outcomes["good.csv.gz"].status == "loaded"
    for name in ("cut.csv.gz", "bad.csv.bz2"):
        assert outcomes[name].status == "rejected"
        assert (outcomes[name].error or "").startswith("cannot decompress: ")
    assert "end-of-stream" in (outcomes["cut.csv.gz"].error or "")
    reasons = unique_dict(con.execute(
        "SELECT source_file, reason FROM staging.rejected_rows").fetchall())
    assert reasons.keys() == {str((landing / n).resolve()) for n in ("cut.csv.gz",
                                                                      "bad.csv.bz2")}
    assert totals(con) == (3, 3, 600, 60)
    assert not list(tmp_path.glob(".radar-decompress-*"))


def test_a_plain_file_with_a_compressed_name_is_read_as_plain(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "spend.csv.gz").write_bytes(spend_log(ROWS))
    con = prepare(duckdb.connect(":memory:"))
    (outcome,) = ingest_landing(con, landing)
    assert (outcome.status, outcome.rows_loaded) == ("loaded", 3)


def test_compressed_content_that_is_not_an_export_says_so(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "notes.txt.gz").write_bytes(gzip.compress(b"just some notes,\nnothing else\n"))
    con = prepare(duckdb.connect(":memory:"))
    (outcome,) = ingest_landing(con, landing)
    assert outcome.status == "rejected"
    assert "unrecognised CSV header" in (outcome.error or "")


# fixed bytes and ids: test ids must be the same in every xdist worker (a gzip header
# carries the time it was made)
@pytest.mark.parametrize(("head", "message"), [
    (b"PK\x03\x04\x14\x00\x00\x00", "zip archive: extract its files"),
    (b"\x28\xb5\x2f\xfd\x00\x00", "zstd-compressed"),
    (gzip.compress(b"x", mtime=0), "gzip-compressed: decompress it first"),
], ids=["zip", "zstd", "gzip-read-raw"])
def test_archives_that_are_not_read_say_what_to_do(tmp_path, head, message):
    path = tmp_path / "export"
    path.write_bytes(head + b"\x00" * 64)
    with pytest.raises(UnrecognisedFile, match=message):
        detect_format(path)


def test_compression_is_known_by_magic_bytes_only():
    assert [compression_of(f(b"a,b\n")) for f in PACKERS.values()] == ["gzip", "bz2", "xz"]
    assert compression_of(b"request_id,call_type") is None
    assert compression_of(b"\x1f") is None


def test_a_full_disk_while_decompressing_is_tried_again_not_quarantined(tmp_path, monkeypatch):
    """Running out of scratch space is the machine's doing, not the file's: the file is not
    recorded (a rejection would stick, as its size and time do not change), and the next run
    loads it. The disk filling up is simulated at the copy: it is outside the code."""
    import errno

    from pipelines.lib import ingest as ingest_module

    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "spend.csv.gz").write_bytes(gzip.compress(spend_log(ROWS)))
    con = prepare(duckdb.connect(str(tmp_path / "w.duckdb")))

    def disk_full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(ingest_module.shutil, "copyfileobj", disk_full)
        (outcome,) = ingest_landing(con, landing)
    assert outcome.status == "skipped"
    error = outcome.error or ""
    assert "No space left on device" in error and "tried again" in error
    assert con.execute("SELECT count(*) FROM staging.ingested_files").fetchone() == (0,)
    (again,) = ingest_landing(con, landing)
    assert (again.status, again.rows_loaded) == ("loaded", 3)
    assert not list(tmp_path.glob(".radar-decompress-*"))


def test_the_listing_skips_what_is_not_an_export_yet_or_at_all(tmp_path):
    """Partial downloads, hidden files and folders (an rsync temporary, .DS_Store), an open
    spreadsheet's lock file and a folder's thumbnails and settings are never read, so they
    never show as rejected; the rest is listed oldest first."""
    import os

    from pipelines.lib.ingest import discover

    names = ["b/new.csv", "a/old.json", "z.csv.part", "page.json.tmp", "x.crdownload",
             ".DS_Store", ".sync/inner.csv", "a/.big.csv.Xy12", "~$activity.csv",
             "Thumbs.db", "desktop.ini", ".notes.swp"]
    for i, name in enumerate(names):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
        os.utime(path, ns=(10**18 - i, 10**18 - i))  # later in the list: older
    assert [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path)] == [
        "a/old.json", "b/new.csv"]
