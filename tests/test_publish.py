"""The BI copy: complete, atomically replaced, readable while refreshes run."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import duckdb
import pytest

from pipelines.lib.duck import file_format, prepare
from pipelines.publish.assets import (
    DUCKDB_HEADERS_BYTES,
    MARTS,
    PARQUET_ORDER,
    publish,
    write_parquet_files,
)
from tests.conftest import REPO
from tests.exports import AS_OF, RESULT_C, bucket, page

#: DuckDB 1.5's shell, from the dev dependencies: a DuckDB older than the one that writes the
#: copy, as the one inside a BI tool's driver often is
OLD_DUCKDB = REPO / ".venv" / "bin" / "duckdb"


def old_duckdb(path, sql: str) -> subprocess.CompletedProcess:
    """``sql`` run by DuckDB 1.5's shell on the file at ``path``, opened read-only."""
    return subprocess.run([str(OLD_DUCKDB), "-readonly", "-json", str(path), "-c", sql],
                          capture_output=True, text=True, timeout=60)


def counts_in_old_duckdb(path) -> dict[str, int]:
    """The row count of every table and view of the file at ``path``, as DuckDB 1.5 reads it."""
    version = subprocess.run([str(OLD_DUCKDB), "--version"], capture_output=True, text=True,
                             check=True).stdout
    assert version.startswith("v1."), version
    listing = old_duckdb(path, "SELECT table_schema, table_name FROM information_schema.tables")
    assert listing.returncode == 0, listing.stdout + listing.stderr
    count = old_duckdb(path, " UNION ALL ".join(
        f"SELECT '{o['table_schema']}.{o['table_name']}' AS name, count(*) AS n "
        f"FROM {o['table_schema']}.\"{o['table_name']}\"" for o in json.loads(listing.stdout)))
    assert count.returncode == 0, count.stdout + count.stderr
    return {r["name"]: r["n"] for r in json.loads(count.stdout)}


def published_counts(path) -> dict[str, int]:
    """The row counts the publish recorded in the copy (read by this project's DuckDB)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {"main.publish_info": 1,
                **dict(con.execute("SELECT row_counts FROM publish_info").fetchall()[0][0])}
    finally:
        con.close()


def test_published_copy_matches_the_working_file(fixture_refresh):
    fixture_exports, _ = fixture_refresh
    pub = fixture_exports.publish / "radar.duckdb"
    con = duckdb.connect(str(pub), read_only=True)
    schemas = {r[0] for r in con.execute(
        "SELECT DISTINCT table_schema FROM information_schema.tables").fetchall()}
    assert {"catalog", "marts", "quality"} <= schemas
    assert "staging" not in schemas
    # of the intermediate layer, only what the weekly report sends readers to, and the bill
    # counted once (its line items and quantities)
    assert sorted(con.execute("SELECT table_name FROM information_schema.tables WHERE "
                              "table_schema = 'intermediate'").fetchall()) == [
        ("billed_costs",), ("billed_set_aside",), ("usage_set_aside",)]
    published = sorted(con.execute("SELECT * FROM marts.deprecated_model_usage").fetchall())
    con.close()
    assert published == sorted(fixture_exports.query(
        "SELECT * FROM marts.deprecated_model_usage"))
    parquet = fixture_exports.publish / "parquet"
    assert sorted(p.name for p in parquet.iterdir()) == [
        "accounts.parquet", "cost_reconciliation.parquet", "deprecated_model_callers.parquet",
        "deprecated_model_usage.parquet", "focus_costs.parquet",
        "migration_status_weekly.parquet", "replacement_options.parquet",
        "unpriced_usage.parquet", "usage_cost_daily.parquet"]
    for mart in MARTS:  # written two at a time: each file holds its own mart
        path = parquet / f"{mart}.parquet"
        assert (duckdb.execute(f"SELECT count(*) FROM '{path}'").fetchall()
                == fixture_exports.query(f"SELECT count(*) FROM marts.{mart}")), mart
    assert fixture_exports.query("SELECT count(*) FROM marts.usage_cost_daily")[0][0] > 0
    assert not list(fixture_exports.publish.glob(".*tmp*"))


def test_parquet_writes_cover_every_mart_and_report_a_failed_one(tmp_path):
    assert sorted(PARQUET_ORDER) == sorted(MARTS)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA marts")
    for i, mart in enumerate(MARTS):
        if mart != "unpriced_usage":  # missing: its write fails
            con.execute(f"CREATE TABLE marts.{mart} AS SELECT range AS n FROM range({i + 1})")
    with pytest.raises(duckdb.CatalogException, match="unpriced_usage"):
        write_parquet_files(con, tmp_path, "r1")
    written = {p.name: duckdb.execute(f"SELECT count(*) FROM '{p}'").fetchall()[0][0]
               for p in tmp_path.glob("*.parquet")}
    assert written == {f"{m}.parquet": i + 1 for i, m in enumerate(MARTS)
                       if m != "unpriced_usage"}
    assert [p.name for p in tmp_path.glob(".*tmp")] == []  # a failed write renames nothing


def test_reader_process_sees_only_complete_publishes(fixture_exports, refresh):
    """A real second process queries the published copy in a loop while refreshes run: it
    connects and reads each publish whole, without error. (Its connects are counted apart:
    one that straddled a rename failed once in ~150 suites before the publish kept the
    previous copy's blocks; see the next test and docs/experiments/bi-copy-swap/.)"""
    refresh()
    stop = fixture_exports.root / "stop"
    reader = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "bi_reader.py"),
         str(fixture_exports.publish / "radar.duckdb"), str(stop), "120"],
        cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        for day in range(3):  # three more refreshes, each adding usage so publishes differ
            more = dict(RESULT_C, num_model_requests=10 + day)
            (fixture_exports.landing / "api" / f"more_{day}.json").write_text(
                json.dumps(page([bucket(f"2026-11-1{day}", [more])])))
            refresh()
    finally:
        stop.touch()
        out, _ = reader.communicate(timeout=60)
    stats = json.loads(out)
    print(f"reader: {stats['queries']} queries, {stats['errors']} errors, "
          f"{stats['connect_errors']} failed connects, {stats['partial']} partial, "
          f"{len(stats['publishes_seen'])} publishes seen", stats["connect_messages"])
    assert stats["errors"] == 0, stats["messages"]
    assert stats["partial"] == 0
    assert stats["connect_errors"] == 0, stats["connect_messages"]
    assert stats["queries"] > 20
    assert len(stats["publishes_seen"]) >= 2


def test_a_reader_with_the_previous_headers_reads_the_previous_publish_whole(
        tmp_path, monkeypatch):
    """DuckDB reads a file's headers and its blocks through separate opens of the path, so a
    reader connecting as a publish renames the new copy over the old can read the old copy's
    headers and the new copy's blocks (docs/experiments/bi-copy-swap/, where strace delays
    the opens for real). Simulated here byte for byte: the old headers over the new file.
    Each publish rewrites the marts into free blocks, and every second one frees the end of
    the file, where the headers before it point, and its checkpoint truncates it: such a
    reader failed ("Could not read enough bytes"). The publish puts those bytes back
    (`_keep_previous_blocks`), so the reader sees the previous publish, whole."""
    from pipelines.publish import assets as publish_assets

    kept: list[int] = []  # what each publish put back (the real function, watched)
    real = publish_assets._keep_previous_blocks

    def watched(previous, new) -> int:
        kept.append(real(previous, new))
        return kept[-1]

    monkeypatch.setattr(publish_assets, "_keep_previous_blocks", watched)
    con = prepare(duckdb.connect(str(tmp_path / "wh.duckdb")))
    con.execute("CREATE SCHEMA marts")
    for mart in PARQUET_ORDER:  # values that do not compress, so each mart takes blocks
        con.execute(f"CREATE TABLE marts.{mart} AS SELECT hash(range) AS h, "
                    "hash(range + 1) AS g FROM range(100000)")
    pub = tmp_path / "pub"
    try:
        publish(con, pub, "r0", dt.date.fromisoformat(AS_OF))
        for i in range(1, 5):
            old = (pub / "radar.duckdb").read_bytes()
            publish(con, pub, f"r{i}", dt.date.fromisoformat(AS_OF))
            new = (pub / "radar.duckdb").read_bytes()
            straddled = tmp_path / f"straddled_{i}.duckdb"
            straddled.write_bytes(old[:DUCKDB_HEADERS_BYTES] + new[DUCKDB_HEADERS_BYTES:])
            with duckdb.connect(str(straddled), read_only=True) as reader:
                assert reader.execute("SELECT run_id FROM publish_info").fetchall() == [
                    (f"r{i - 1}",)]
                for mart in PARQUET_ORDER:
                    assert reader.execute(
                        f"SELECT count(*), sum(h) FROM marts.{mart}").fetchall() == \
                        con.execute(f"SELECT count(*), sum(h) FROM marts.{mart}").fetchall()
    finally:
        con.close()
    assert sum(1 for k in kept if k) == 2, kept  # the second and the fourth publish


def test_an_unreadable_previous_copy_is_replaced_not_fatal(fixture_exports, refresh):
    """The publish starts from the previous copy; a damaged one must not stop it."""
    refresh()
    pub = fixture_exports.publish / "radar.duckdb"
    pub.write_bytes(b"not a duckdb file" * 100)
    refresh()
    con = duckdb.connect(str(pub), read_only=True)
    try:
        published = con.execute("SELECT sum(requests) FROM marts.usage_cost_daily").fetchall()
    finally:
        con.close()
    assert published == fixture_exports.query(
        "SELECT sum(requests) FROM marts.usage_cost_daily")


def test_focus_costs_is_a_view_in_both_files_and_replaces_an_older_table(fixture_exports,
                                                                         refresh):
    """`marts.focus_costs` is a projection of `marts.usage_cost_daily`: a view, in the working
    file and in the BI copy, where it reads the copy's own table (the copy opens alone). A
    warehouse and a copy written when it was a table are converted by the next refresh."""
    refresh()
    files = (fixture_exports.warehouse, fixture_exports.publish / "radar.duckdb")
    for path in files:  # as an older version left them
        con = duckdb.connect(str(path))
        con.execute("DROP VIEW marts.focus_costs")
        con.execute("CREATE TABLE marts.focus_costs AS SELECT 1 AS stale")
        con.close()
    refresh()
    for path in files:
        con = duckdb.connect(str(path), read_only=True)
        try:
            assert con.execute(
                "SELECT table_type FROM information_schema.tables WHERE table_schema = 'marts' "
                "AND table_name = 'focus_costs'").fetchall() == [("VIEW",)]
            (focus,) = con.execute('SELECT sum("BilledCost"), count(*) FROM marts.focus_costs'
                                   ).fetchall()
            (daily,) = con.execute("SELECT sum(cost_usd), count(*) FROM marts.usage_cost_daily "
                                   "WHERE priced").fetchall()
            assert focus == daily and focus[1] > 0
        finally:
            con.close()
    counts = duckdb.connect(str(files[1]), read_only=True).execute(
        "SELECT row_counts['marts.focus_costs'] FROM publish_info").fetchall()
    assert counts == [(daily[1],)]


def test_the_bi_copy_opens_in_an_older_duckdb(fixture_refresh):
    """BI tools embed their own DuckDB, often a 1.x one, which cannot open a file in DuckDB
    2.0's format: the copy is written in the format every DuckDB from 1.0 reads, and DuckDB
    1.5's shell reads every table and view of it, with the rows the publish recorded."""
    fixture_exports, result = fixture_refresh
    pub = fixture_exports.publish / "radar.duckdb"
    with duckdb.connect() as con:
        assert file_format(con, pub) == "v1.0.0+"
    (told,) = [e.materialization.metadata["duckdb_storage_format"].value
               for e in result.get_asset_materialization_events()
               if e.asset_key.path == ["publish", "bi_copy"]]
    assert told == "v1.0.0+"  # the Dagster UI says which DuckDB releases open the copy
    counts = counts_in_old_duckdb(pub)
    assert counts == published_counts(pub)
    assert counts["marts.usage_cost_daily"] > 0 and "marts.focus_costs" in counts  # a view


def test_a_copy_in_another_format_is_written_anew_in_the_one_asked_for(
        fixture_exports, refresh, monkeypatch):
    """RADAR_PUBLISH_STORAGE_VERSION=latest writes DuckDB 2.0's format, which DuckDB 1.5
    cannot open; back on the default, the next publish does not build on that copy (a file's
    format cannot be lowered) but writes a new one that DuckDB 1.5 reads."""
    pub = fixture_exports.publish / "radar.duckdb"
    monkeypatch.setenv("RADAR_PUBLISH_STORAGE_VERSION", "latest")
    refresh()
    with duckdb.connect() as con:
        assert file_format(con, pub) == "v2.0.0+"
    refused = old_duckdb(pub, "SELECT count(*) FROM marts.usage_cost_daily")
    assert refused.returncode != 0
    assert "created with a newer version of DuckDB" in refused.stdout + refused.stderr
    monkeypatch.delenv("RADAR_PUBLISH_STORAGE_VERSION")
    refresh()
    with duckdb.connect() as con:
        assert file_format(con, pub) == "v1.0.0+"
    assert counts_in_old_duckdb(pub) == published_counts(pub)
    assert not list(fixture_exports.publish.glob(".*tmp*"))
