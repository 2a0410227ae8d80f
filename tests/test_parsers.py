"""Layer 1: each input format and its quirks, without Dagster."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.lib import dashboard_csv, litellm_csv, openai_pages
from pipelines.lib.duck import column_names, prepare
from pipelines.lib.formats import (
    DASHBOARD_CSV,
    LITELLM_CSV,
    OPENAI_JSON,
    RaggedRows,
    StrayQuote,
    UnrecognisedFile,
    detect_format,
)
from pipelines.lib.ingest import ORGANISATIONS_SQL, ingest_landing
from pipelines.lib.schema import SURPLUS_REASON
from tests.exports import RESULT_A, RESULT_C, bucket, epoch, page


def good(df):
    return df.filter(df["reason"].is_null())


def bad(df):
    return df.filter(df["reason"].is_not_null())


class TestOpenAIPages:
    def test_single_page_array_and_jsonl_give_the_same_rows(self):
        p1 = page([bucket("2026-11-20", [RESULT_A])])
        p2 = page([bucket("2026-11-21", [RESULT_C])])
        as_array = openai_pages.parse_pages(json.dumps([p1, p2]))
        as_lines = openai_pages.parse_pages(json.dumps(p1) + "\n\n" + json.dumps(p2) + "\n")
        bare_buckets = openai_pages.parse_pages(json.dumps(p1["data"] + p2["data"]))
        # pages appended one after another (`curl ... >> usage.json` in a paging loop):
        # pretty-printed, or run together on one line
        appended = openai_pages.parse_pages(json.dumps(p1, indent=2) + "\n"
                                            + json.dumps(p2, indent=2) + "\n")
        run_together = openai_pages.parse_pages(json.dumps(p1) + json.dumps(p2))
        # `cat a.json b.json` of two files saved with a byte order mark each
        cat_with_boms = openai_pages.parse_pages(json.dumps(p1) + "\n\ufeff" + json.dumps(p2))
        for parsed in (as_array, as_lines, bare_buckets, appended, run_together, cat_with_boms):
            assert parsed.rows_read == 2
            assert good(parsed.usage)["requests"].to_list() == [100, 1]

    def test_appended_pages_with_a_broken_one_name_its_line(self):
        p1 = json.dumps(page([bucket("2026-11-20", [RESULT_A])]), indent=2)
        text = p1 + "\n" + p1[:-30]
        start, end = p1.count("\n") + 2, text.count("\n") + 1  # it breaks off at the end
        with pytest.raises(ValueError, match=rf"invalid JSON on line {end} "
                                             rf"\(in the document from line {start}\)"):
            openai_pages.parse_pages(text)

    def test_old_field_set_without_service_tier_or_cached(self):
        old = {"object": "organization.usage.completions.result", "input_tokens": 50,
               "output_tokens": 5, "num_model_requests": 2, "model": "gpt-4o-mini-2024-07-18"}
        df = openai_pages.parse_pages(json.dumps(page([bucket("2026-01-01", [old])]))).usage
        row = good(df).row(0, named=True)
        assert (row["cached_input_tokens"], row["service_tier"], row["is_batch"]) == (0, None, None)

    @pytest.mark.parametrize(("tag", "endpoint", "units"), [
        ("organization.usage.embeddings.result", "embeddings", None),
        ("organization.usage.moderations.result", "moderations", None),
        ("organization.usage.images.result", "images", 3),
        ("organization.usage.audio_speeches.result", "audio_speeches", 3),
        ("organization.usage.audio_transcriptions.result", "audio_transcriptions", 3),
        ("organization.usage.vector_stores.result", "vector_stores", 3),
        ("organization.usage.code_interpreter_sessions.result", "code_interpreter_sessions", 3),
        ("organization.usage.file_searches.result", "file_searches", None),
        ("organization.usage.web_searches.result", "web_searches", 3),
    ])
    def test_every_usage_endpoint(self, tag, endpoint, units):
        result = {"object": tag, "input_tokens": 7, "num_model_requests": 2, "images": 3,
                  "characters": 3, "seconds": 3, "usage_bytes": 3, "num_sessions": 3,
                  "num_requests": 3, "model": "m"}
        df = openai_pages.parse_pages(json.dumps(page([bucket("2026-01-01", [result])]))).usage
        row = good(df).row(0, named=True)
        assert row["endpoint"] == endpoint
        assert row["units"] == units

    def test_costs_page_amount_is_exact_decimal_text(self):
        cost = {"object": "organization.costs.result",
                "amount": {"value": 0.8958740000000000, "currency": "usd"},
                "line_item": None, "project_id": "proj_a"}
        parsed = openai_pages.parse_pages(json.dumps(page([bucket("2026-01-01", [cost])])))
        assert parsed.costs["amount_usd"].to_list() == ["0.895874"]

    @pytest.mark.parametrize(("mutation", "reason"), [
        ({"num_model_requests": -1}, "negative num_model_requests"),
        ({"input_cached_tokens": 2_000_000}, "exceeds input_tokens"),
        ({"input_tokens": "many"}, "not a whole number"),
        ({"input_tokens": 10**16}, "implausibly large"),
        ({"object": "orgainzation.costs.result"}, "unknown result object type"),
        ({"batch": "yes"}, "batch is not a boolean"),
        ({"num_model_requests": None}, "missing required count num_model_requests"),
        ({"output_tokens": 12.5}, "output_tokens is not a whole number: 12.5"),
        ({"input_tokens": True}, "input_tokens is not a whole number: True"),
        ({"project_id": 7}, "project_id is not a string: 7"),
        # the optional parts of the totals: zeros and absent ones are read without the
        # checks, anything else with them
        ({"input_audio_tokens": False}, "input_audio_tokens is not a whole number: False"),
        ({"input_cache_write_tokens": -1}, "negative input_cache_write_tokens: -1"),
        ({"output_image_tokens": "0"}, "output_image_tokens is not a whole number: '0'"),
        ({"input_cached_image_tokens": 0, "input_cached_audio_tokens": 10**9},
         "input_cached_audio_tokens (1000000000) exceeds input_cached_tokens"),
    ])
    def test_bad_rows_are_rejected_with_a_reason(self, mutation, reason):
        doc = page([bucket("2026-11-20", [dict(RESULT_A, **mutation), RESULT_C])])
        df = openai_pages.parse_pages(json.dumps(doc)).usage
        assert len(good(df)) == 1
        assert reason in bad(df)["reason"].item()

    def test_an_integer_too_long_for_python_loses_its_row_not_the_file(self):
        """Python refuses to convert an integer of more than 4,300 digits: the page was
        rejected whole. Now the count is read as infinity and its row quarantined."""
        doc = page([bucket("2026-11-20", [dict(RESULT_A, output_tokens="N"), RESULT_C])])
        text = json.dumps(doc).replace('"N"', "9" * 5000)
        df = openai_pages.parse_pages(text).usage
        assert good(df)["input_tokens"].to_list() == [RESULT_C["input_tokens"]]
        assert bad(df)["reason"].to_list() == [
            "output_tokens implausibly large (over 10^15): inf"]

    def test_parts_of_the_totals_given_as_zeros_are_none(self):
        zeros = dict.fromkeys(openai_pages.MODAL_FIELDS, 0)
        doc = page([bucket("2026-11-20", [dict(RESULT_A, **dict(zeros, input_audio_tokens=None)),
                                          dict(RESULT_C, input_image_tokens=0.0)])])
        df = openai_pages.parse_pages(json.dumps(doc)).usage
        assert len(good(df)) == 2
        assert good(df).select("input_audio_tokens", "input_image_tokens",
                               "cache_write_input_tokens").sum().row(0) == (0, 0, 0)

    def test_a_count_written_as_a_whole_float_is_that_count(self):
        doc = page([bucket("2026-11-20", [dict(RESULT_A, num_model_requests=100.0)])])
        df = openai_pages.parse_pages(json.dumps(doc)).usage
        assert good(df)["requests"].to_list() == [100] and df["requests"].dtype.is_integer()

    @pytest.mark.parametrize(("times", "reason"), [
        ({"end_time": epoch("2026-11-20") - 1}, "bucket end_time is not after start_time"),
        ({"start_time": 10**17}, "bucket start_time implausibly large"),
        ({"end_time": 1.5e9}, "bucket end_time is not Unix seconds"),
        # a save in milliseconds would date its usage in the year 58,730
        ({"start_time": epoch("2026-11-20") * 1000, "end_time": epoch("2026-11-21") * 1000},
         "bucket start_time is not Unix seconds (before 1970 or after 2100; milliseconds?)"),
    ])
    def test_a_bad_bucket_rejects_each_of_its_results_and_keeps_them(self, times, reason):
        """Nothing is lost: each result of the bucket is a rejected row with the bucket's
        times and the result itself in ``raw``; the next bucket loads."""
        broken = {**bucket("2026-11-20", [RESULT_A, RESULT_C]), **times}
        df = openai_pages.parse_pages(json.dumps(page([broken, bucket("2026-11-21",
                                                                      [RESULT_C])]))).usage
        assert good(df)["requests"].to_list() == [1] and df["position"].to_list() == [0, 1, 2]
        rejected = bad(df)
        assert len(rejected) == 2 and all(r.startswith(reason) for r in rejected["reason"])
        assert [json.loads(r)["result"]["project_id"] for r in rejected["raw"]] == [
            "proj_a", "proj_b"]

    def test_a_bucket_without_results_or_a_result_that_is_no_object_is_kept(self):
        doc = page([{"object": "bucket", "start_time": 1, "end_time": 2},
                    bucket("2026-11-20", ["gpt-4o", RESULT_C])])
        parsed = openai_pages.parse_pages(json.dumps(doc))
        assert parsed.rows_read == 3
        assert bad(parsed.usage)["reason"].to_list() == [
            "bucket without a results list", "result is not an object"]
        assert json.loads(bad(parsed.usage)["raw"][0])["start_time"] == 1
        assert good(parsed.usage)["requests"].to_list() == [1]

    @pytest.mark.parametrize(("amount", "reason"), [
        (None, "costs result without amount.value"),
        ({"currency": "usd"}, "costs result without amount.value"),
        ({"value": "12,50", "currency": "usd"}, "amount.value is not a number: '12,50'"),
        ({"value": [1], "currency": "usd"}, "amount.value is not a number: [1]"),
        ({"value": True, "currency": "usd"}, "amount.value is not a number: True"),
        ({"value": "NaN", "currency": "usd"}, "amount.value is not finite: 'NaN'"),
        ({"value": 3.2, "currency": "eur"}, "currency 'eur' is not usd"),
        ({"value": 1e30, "currency": "usd"},
         "amount.value implausibly large (over 10^15 USD): 1e+30"),
        ({"value": "-1000000000000000", "currency": "usd"},
         "amount.value implausibly large (over 10^15 USD): '-1000000000000000'"),
    ])
    def test_a_bad_cost_result_is_rejected_with_a_reason(self, amount, reason):
        cost = {"object": "organization.costs.result", "amount": amount, "line_item": None,
                "project_id": "proj_a"}
        fine = dict(cost, amount={"value": "0.5", "currency": "USD"})
        parsed = openai_pages.parse_pages(json.dumps(page([bucket("2026-01-01",
                                                                  [cost, fine])])))
        assert parsed.costs["amount_usd"].to_list() == ["0.5"]
        assert bad(parsed.usage)["reason"].to_list() == [reason]

    @pytest.mark.parametrize("text", ["", "  \n"])
    def test_a_file_with_no_page_at_all(self, text):
        with pytest.raises(openai_pages.NotAUsagePage, match="no page objects in the file"):
            openai_pages.parse_pages(text)

    def test_an_empty_array_is_a_save_of_no_usage_not_a_bad_file(self, tmp_path):
        """The notebook saves a period's buckets as a bare array: ``[]`` when the period had
        no usage (found by fuzz.py --rolling, whose early cuts of the notebook's save held
        none). It was rejected as 'no page objects in the file', a warning and a rejected
        file in the report for a save that is fine; it now loads with no rows, as an API
        page whose ``data`` is empty does. An empty file is still rejected: a download that
        never started."""
        parsed = openai_pages.parse_pages("[]")
        assert (parsed.rows_read, len(parsed.usage), len(parsed.costs)) == (0, 0, 0)
        landing = tmp_path / "landing"
        landing.mkdir()
        (landing / "notebook.json").write_text("[]")
        (landing / "empty.json").write_text("")
        con = prepare(duckdb.connect(":memory:"))
        got = {Path(o.path).name: (o.status, o.rows_read, o.error)
               for o in ingest_landing(con, landing)}
        assert got["notebook.json"] == ("loaded", 0, None)
        assert got["empty.json"][0] == "rejected"

    def test_json_lines_with_a_broken_line_name_it(self):
        lines = [json.dumps(page([bucket("2026-11-20", [RESULT_A])])), '{"object": "pa']
        with pytest.raises(ValueError, match="invalid JSON on line 2"):
            openai_pages.parse_pages("\n".join(lines))

    def test_unparseable_bucket_time(self):
        doc = page([{"object": "bucket", "start_time": "yesterday", "end_time": 5,
                     "results": [RESULT_A]}])
        df = openai_pages.parse_pages(json.dumps(doc)).usage
        assert "not Unix seconds" in bad(df)["reason"].item()

    @pytest.mark.parametrize("text", ['{"hello": 1}', "[1, 2]", '{"object": "page"}'])
    def test_json_that_is_not_a_usage_page(self, text):
        with pytest.raises(openai_pages.NotAUsagePage):
            openai_pages.parse_pages(text)

    def test_a_saved_models_list_says_where_it_belongs(self):
        text = json.dumps({"object": "list", "data": [
            {"id": "gpt-4o-2024-08-06", "object": "model", "created": 1722814719,
             "owned_by": "system", "shutdown_date": "2027-01-14"}]})
        with pytest.raises(openai_pages.NotAUsagePage, match="Models API list .*--models-json"):
            openai_pages.parse_pages(text)

    def test_truncated_json(self):
        with pytest.raises(ValueError, match="invalid JSON"):
            openai_pages.parse_pages(json.dumps(page([bucket("2026-11-20", [RESULT_A])]))[:-40])

    def test_bucket_key_treats_empty_and_null_alike(self):
        a = dict(RESULT_C, user_id=None)
        b = dict(RESULT_C, user_id="")
        ka = openai_pages.parse_pages(json.dumps(page([bucket("2026-11-20", [a])]))).usage
        kb = openai_pages.parse_pages(json.dumps(page([bucket("2026-11-20", [b])]))).usage
        assert ka["dedupe_key"].to_list() == kb["dedupe_key"].to_list()


class TestDashboardCsv:
    HEADER = ("start_time,end_time,start_time_iso,end_time_iso,project_id,num_model_requests,"
              "user_id,api_key_id,model,batch,service_tier,input_tokens,output_tokens,"
              "input_cached_tokens")

    def write(self, tmp_path, *rows, header=None):
        path = tmp_path / "export.csv"
        path.write_text("\n".join([header or self.HEADER, *rows]) + "\n")
        return path

    def three_days(self, tmp_path, model):
        """A sheet of three days of one key's usage, the second day's on ``model`` (the
        others on gpt-4o-2024-08-06 and gpt-4o-mini), written as given."""
        s, e = epoch("2025-10-05"), epoch("2025-10-06")
        tail = ",,,proj_1,10,,key_1,{model},FALSE,default,100,10,0"
        return self.write(tmp_path, f"{s},{e}" + tail.format(model="gpt-4o-2024-08-06"),
                          f"{e},{e + 86400}" + tail.format(model=model),
                          f"{e + 86400},{e + 2 * 86400}" + tail.format(model="gpt-4o-mini"))

    def ingest(self, tmp_path, path):
        """A new in-memory warehouse and the outcome of ingesting the sheet at ``path``
        (moved into a landing folder of its own)."""
        landing = tmp_path / "landing"
        landing.mkdir()
        path.rename(landing / "export.csv")
        con = prepare(duckdb.connect(":memory:"))
        (outcome,) = ingest_landing(con, landing)
        return con, outcome

    def test_floats_booleans_and_empty_rows(self, tmp_path):
        s, e = epoch("2025-10-05"), epoch("2025-10-06")
        path = self.write(
            tmp_path,
            f"{s},{e},2025-10-05T00:00:00+00:00,2025-10-06T00:00:00+00:00,proj_1,10.0,,key_1,"
            "gpt-4o-2024-08-06,TRUE,default,59200.0,1200.0,0.0",
            f"{s},{e},2025-10-05T00:00:00+00:00,2025-10-06T00:00:00+00:00,,,,,,,,,,")
        assert detect_format(path) == DASHBOARD_CSV
        kind, df, read, *_ = dashboard_csv.parse_dashboard_csv(path)
        assert (kind, read) == ("usage", 1)
        row = df.row(0, named=True)
        assert (row["requests"], row["input_tokens"], row["is_batch"], row["endpoint"]) == (
            10, 59200, True, "completions")

    def test_counts_written_oddly_are_read_or_quarantined_with_the_right_reason(self, tmp_path):
        """A spreadsheet's exponent is a number (``1e3``, whole: 1000); ``NaN``, Python's
        ``1_000`` and hex are not, and infinity is too large: each row says which."""
        s, e = epoch("2025-10-05"), epoch("2025-10-06")
        row = "{s},{e},,,proj_{n},{requests},,key_1,gpt-4o-2024-08-06,FALSE,default,100,10,0"
        written = ["1e3", "NaN", "nan", "1_000", "0x10", "inf"]
        path = self.write(tmp_path, *(row.format(s=s, e=e, n=n, requests=w)
                                      for n, w in enumerate(written)))
        kind, df, read, *_ = dashboard_csv.parse_dashboard_csv(path)
        assert (kind, read) == ("usage", len(written))
        assert good(df).select("project_id", "requests").rows() == [("proj_0", 1000)]
        assert bad(df).sort("position")["reason"].to_list() == [
            "num_model_requests is not a number: NaN", "num_model_requests is not a number: nan",
            "num_model_requests is not a number: 1_000",
            "num_model_requests is not a number: 0x10",
            "num_model_requests implausibly large (over 10^15): inf"]

    def test_times_in_milliseconds_are_quarantined_and_the_rest_loads(self, tmp_path):
        """Unix times past 2100 are milliseconds (or not times): each such row is rejected
        with the reason, never dated thousands of years ahead, and the file's other rows
        load (such a file was rejected whole, with a TypeError, before)."""
        s, e = epoch("2025-10-05"), epoch("2025-10-06")
        tail = ",,,proj_1,10,,key_1,gpt-4o-2024-08-06,FALSE,default,100,10,0"
        # NaN and a negative time said "after 2100" and "unparseable" (polars orders NaN above
        # every number)
        path = self.write(tmp_path, f"{s * 1000},{e * 1000}{tail}", f"{s},{e}{tail}",
                          f"NaN,{e}{tail}", f"-1,{e}{tail}")
        kind, df, read, *_ = dashboard_csv.parse_dashboard_csv(path)
        assert (kind, read) == ("usage", 4)
        assert bad(df).sort("position")["reason"].to_list() == [
            f"start_time is not Unix seconds (after 2100; milliseconds?): {s * 1000}",
            "start_time is not a number: NaN",
            "start_time is not Unix seconds (before 1970): -1"]
        assert good(df)["bucket_start"].dt.date().to_list() == [dt.date(2025, 10, 5)]
        con, outcome = self.ingest(tmp_path, path)
        assert (outcome.status, outcome.rows_loaded, outcome.rows_rejected) == ("loaded", 1, 3)

    def test_iso_times_written_several_ways_in_one_file_all_read(self, tmp_path):
        """A sheet edited by hand mixes ISO forms (offset, Z, a space, a date alone). One
        format inferred for the column rejected the rows written another way; each row is
        now read in its own form, naive times as UTC, and a time past 2100 is quarantined
        with the reason, as a Unix time is."""
        header = ("start_time_iso,end_time_iso,project_id,num_model_requests,model,"
                  "input_tokens,output_tokens")
        tail = ",proj_1,{n},gpt-4o-2024-08-06,10,1"
        rows = [("2025-10-05T00:00:00+00:00", "2025-10-06T00:00:00+00:00"),
                ("2025-10-06", "2025-10-07"),
                ("2025-10-07 00:00:00", "2025-10-08 00:00:00"),
                ("2025-10-08T02:00:00+02:00", "2025-10-09T02:00:00+02:00"),
                ("2025-10-09T00:00:00.000Z", "2025-10-10T00:00:00Z"),
                ("2150-01-01T00:00:00+00:00", "2150-01-02T00:00:00+00:00")]
        path = self.write(tmp_path, *(f"{a},{b}{tail.format(n=n)}"
                                      for n, (a, b) in enumerate(rows, start=1)),
                          header=header)
        kind, df, read, *_ = dashboard_csv.parse_dashboard_csv(path)
        assert (kind, read) == ("usage", 6)
        ok = good(df)
        assert ok["requests"].to_list() == [1, 2, 3, 4, 5]
        assert ok["bucket_start"].to_list() == [
            dt.datetime(2025, 10, d, tzinfo=dt.UTC) for d in range(5, 10)]
        assert bad(df)["reason"].to_list() == [
            "start_time_iso outside 1970-2100: 2150-01-01T00:00:00+00:00"]

    @pytest.mark.parametrize("sep", ["\t", ";"])
    def test_a_sheet_pasted_with_tabs_or_semicolons_reads_like_the_csv(self, tmp_path, sep):
        """The one real export found (S6) is tab-separated: pasted from a sheet. A sheet saved
        where decimals are written with commas separates with semicolons."""
        s, e = epoch("2025-10-05"), epoch("2025-10-06")
        row = (f"{s},{e},2025-10-05T00:00:00+00:00,2025-10-06T00:00:00+00:00,proj_1,10.0,,"
               "key_1,gpt-4o-2024-08-06,TRUE,default,59200.0,1200.0,0.0")
        comma = self.write(tmp_path, row)
        want = dashboard_csv.parse_dashboard_csv(comma)[1].drop("raw")
        pasted = tmp_path / "pasted.tsv"
        pasted.write_text(f"{self.HEADER}\n{row}\n".replace(",", sep))
        assert detect_format(pasted) == DASHBOARD_CSV
        kind, df, read, *_ = dashboard_csv.parse_dashboard_csv(pasted)
        assert (kind, read) == ("usage", 1)
        assert df.drop("raw").equals(want)
        assert want["requests"].to_list() == [10]

    def test_a_row_wider_than_the_header_names_the_line(self, tmp_path):
        """A header that lost a name (`user_id`, between two columns that are read): the
        rows are one field longer. The sheet is refused saying which line and why, not with
        the parser's advice to truncate the lines. A shorter row (a sheet's trailing empty
        cells dropped) is no such row."""
        from pipelines.lib.formats import wider_row
        s, e = epoch("2025-10-05"), epoch("2025-10-06")
        row = (f"{s},{e},2025-10-05T00:00:00+00:00,2025-10-06T00:00:00+00:00,proj_1,10.0,"
               "user_1,key_1,gpt-4o-2024-08-06,TRUE,default,59200.0,1200.0,0.0")
        short = self.HEADER.replace("user_id,", "")
        path = self.write(tmp_path, row, row, header=short)
        with pytest.raises(RaggedRows, match=r"^line 2 has 14 fields where the header names "
                                              r"13: a header name is missing"):
            dashboard_csv.parse_dashboard_csv(path)
        assert wider_row(f"{self.HEADER}\n{row}\n{s},{e}\n") is None
        # a quoted separator is inside one field; a quoted line break moves the line number
        assert wider_row('a,b\n"x,y",1\n"two\nlines",2\n3,4,5\n') == (5, 3, 2)

    def test_a_lone_row_wider_than_the_header_is_quarantined_and_the_others_load(self,
                                                                                 tmp_path):
        """A value with an unquoted comma (a model typed as `gpt-4o, mini` by hand) gives one
        row a field too many. The whole sheet was refused for that row; now that row alone
        is quarantined, its fields past the header's last kept with it, and the others load.
        Every row longer is still a header that lost a name: the sheet is refused (above)."""
        path = self.three_days(tmp_path, "gpt-4o, mini")
        kind, df, read, *_ = dashboard_csv.parse_dashboard_csv(path)
        assert (kind, read) == ("usage", 3)
        assert good(df)["model"].to_list() == ["gpt-4o-2024-08-06", "gpt-4o-mini"]
        (rejected,) = bad(df).iter_rows(named=True)
        assert rejected["reason"] == SURPLUS_REASON
        raw = json.loads(rejected["raw"])
        assert (raw["model"], raw["batch"], raw["radar_surplus_fields"]) == (
            "gpt-4o", " mini", ["0"])
        con, outcome = self.ingest(tmp_path, path)
        assert (outcome.status, outcome.rows_loaded, outcome.rows_rejected) == ("loaded", 2, 1)
        assert con.execute("SELECT reason FROM staging.rejected_rows").fetchall() == [
            (SURPLUS_REASON,)]
        # a header that lost a name, where a row saved without its last empty cell is as
        # wide as the header: most rows are longer, and the sheet is still refused
        s, e = epoch("2025-10-05"), epoch("2025-10-06")
        full = f"{s},{e},2025-10-05T00:00:00+00:00,2025-10-06T00:00:00+00:00,proj_1,10.0," \
               "user_1,key_1,gpt-4o-2024-08-06,TRUE,default,59200.0,1200.0"
        path = self.write(tmp_path, full + ",0.0", full + ",0.0", full,
                          header=self.HEADER.replace("user_id,", ""))
        with pytest.raises(RaggedRows, match=r"^line 2 has 14 fields where the header names "):
            dashboard_csv.parse_dashboard_csv(path)

    STRAY_QUOTES = pytest.mark.parametrize(("model", "what"), [
        ('gpt-4o"-2024-08-06', "a '\"' that does not pair up"),
        ('"gpt-4o-2024-08-06', "a '\"' that does not pair up"),
        ('"gpt-4o"-2024-08-06', "a '\"' where CSV allows none"),
    ], ids=["inside-a-value", "not-closed", "text-after-the-closing-quote"])

    @STRAY_QUOTES
    def test_a_stray_quote_in_a_sheet_that_quotes_values_refuses_it_naming_its_line(
            self, tmp_path, model, what):
        """A '"' typed into a sheet that quotes a value elsewhere (here the first row's user
        id): the rows after it cannot be split for sure. polars refused the sheet with "CSV
        malformed: expected 0 rows, actual 2 rows, in chunk starting at row_offset 0" or with
        the rows it could not split, quoted whole; the rejection names the line and what is
        wrong with its quotes."""
        s, e = epoch("2025-10-05"), epoch("2025-10-06")
        tail = ",,,proj_1,10,{user},key_1,{model},FALSE,default,100,10,0"
        path = self.write(
            tmp_path, f"{s},{e}" + tail.format(user='"user, 1"', model="gpt-4o-2024-08-06"),
            f"{e},{e + 86400}" + tail.format(user="", model=model),
            f"{e + 86400},{e + 2 * 86400}" + tail.format(user="", model="gpt-4o-mini"))
        with pytest.raises(StrayQuote, match=r"^line 3 has " + re.escape(what)):
            dashboard_csv.parse_dashboard_csv(path)
        con, outcome = self.ingest(tmp_path, path)
        assert outcome.status == "rejected"
        assert (outcome.error or "").startswith(f"StrayQuote: line 3 has {what}")

    @STRAY_QUOTES
    def test_a_stray_quote_in_a_sheet_that_quotes_nothing_sets_its_row_apart(
            self, tmp_path, model, what):
        """A sheet as the dashboard exports it quotes no value (ids, models, numbers): a '"'
        in it is a typo, not quoting. The whole sheet was refused for it (the forty-second
        session named the line), its usage missing from every mart until the sheet was
        mended, which reads as migration. Now the sheet is read with '"' as a character: the
        row that has one is quarantined, its text in raw, and the others load."""
        path = self.three_days(tmp_path, model)
        kind, df, read, *_ = dashboard_csv.parse_dashboard_csv(path)
        assert (kind, read) == ("usage", 3)
        assert good(df)["model"].to_list() == ["gpt-4o-2024-08-06", "gpt-4o-mini"]
        assert bad(df)["reason"].to_list() == [dashboard_csv.QUOTE_REASON]
        assert json.loads(bad(df)["raw"].item())["model"] == model
        con, outcome = self.ingest(tmp_path, path)
        assert (outcome.status, outcome.rows_loaded, outcome.rows_rejected) == ("loaded", 2, 1)

    def test_a_quote_in_a_sheet_that_quotes_nothing_is_a_character_when_counting_fields(
            self, tmp_path):
        """A typed '"' at a value's start, in a sheet that quotes nothing, whose row also has
        a comma too many: read as a character, the row is one field too long (quarantined,
        its extra field kept), not a quoted value running on over the rows after it."""
        path = self.three_days(tmp_path, '"gpt-4o,mini')
        kind, df, read, *_ = dashboard_csv.parse_dashboard_csv(path)
        assert read == 3 and len(good(df)) == 2
        assert bad(df)["reason"].to_list() == [SURPLUS_REASON]
        assert json.loads(bad(df)["raw"].item())["radar_surplus_fields"] == ["0"]

    @pytest.mark.parametrize("line_end", ["", "\n", "\r\n"])
    def test_a_last_row_cut_short_is_quarantined_unless_a_line_end_follows_it(self, tmp_path,
                                                                              line_end):
        """A download cut mid-line leaves the last row short and without a line end: its
        missing tokens loaded as 0 (the request counted, its output not). It is now
        quarantined. A short row that a line end follows is what a spreadsheet saves when
        the row's last cells are empty, and loads as before."""
        s, e = epoch("2025-10-05"), epoch("2025-10-06")
        full = f"{s},{e},,,proj_1,10,,key_1,gpt-4o-2024-08-06,FALSE,default,100,10,0"
        cut = f"{e},{e + 86400},,,proj_1,10,,key_1,gpt-4o-2024-08-06,FALSE,default,100"
        path = tmp_path / "export.csv"
        path.write_bytes(f"{self.HEADER}\n{full}\n{cut}{line_end}".encode())
        kind, df, read, *_ = dashboard_csv.parse_dashboard_csv(path)
        assert (kind, read) == ("usage", 2)
        assert good(df)["output_tokens"].to_list() == ([10, 0] if line_end else [10])
        want = [] if line_end else [dashboard_csv.CUT_REASON]
        assert bad(df)["reason"].to_list() == want
        con, outcome = self.ingest(tmp_path, path)
        assert (outcome.rows_loaded, outcome.rows_rejected) == (2 - len(want), len(want))

    COST_HEADER = ("start_time,end_time,start_time_iso,end_time_iso,amount_value,"
                   "amount_currency,line_item,project_id,organization_id,organization_name")

    @pytest.mark.parametrize("sheet", ["cost view", "every value quoted"])
    def test_a_sheet_cut_inside_a_quoted_value_loads_its_whole_rows(self, tmp_path, sheet):
        """A download cut inside a quoted value (the cost view's organisation name, or any
        value of a sheet saved with every value quoted) was refused whole as a stray quote.
        Its whole rows now load and the cut row is quarantined, what it held kept in raw."""
        s, e = epoch("2025-10-05"), epoch("2025-10-06")
        if sheet == "cost view":
            row = "{s},{e},,,0.42,usd,gpt-4o,proj_1,org_1,\"Acme, Inc\""
            header, rows = self.COST_HEADER, [row.format(s=s, e=e),
                                              row.format(s=e, e=e + 86400)[:-4]]
            kept = '"organization_name":"Acme, "'
        else:
            values = "{s},{e},,,proj_1,10,,key_1,gpt-4o-2024-08-06,FALSE,default,100,10,0"
            header = ",".join(f'"{n}"' for n in self.HEADER.split(","))
            rows = [",".join(f'"{v}"' for v in values.format(s=s, e=e + d).split(","))
                    for d in (0, 86400)]
            rows[1] = rows[1][: rows[1].index('"key_1"') + 4]
            kept = '"api_key_id":"key"'
        path = tmp_path / "export.csv"
        path.write_bytes("\r\n".join([header, *rows]).encode())
        kind, df, read, *_ = dashboard_csv.parse_dashboard_csv(path)
        assert read == 2
        assert good(df)["bucket_start"].dt.date().to_list() == [dt.date(2025, 10, 5)]
        assert bad(df)["reason"].to_list() == [dashboard_csv.CUT_QUOTE_REASON]
        assert kept in bad(df)["raw"].item()
        con, outcome = self.ingest(tmp_path, path)
        assert (outcome.status, outcome.rows_loaded, outcome.rows_rejected) == ("loaded", 1, 1)

    def test_an_unclosed_quote_on_a_last_line_that_ends_is_still_a_stray_quote(self,
                                                                               tmp_path):
        """Only a quote left open by the file's end is a cut: one on a last line that has
        its line end, in a sheet that quotes values, is a stray quote, and the sheet is
        refused naming the line."""
        s, e = epoch("2025-10-05"), epoch("2025-10-06")
        path = self.write(tmp_path, f"{s},{e},,,0.42,usd,gpt-4o,proj_1,org_1,\"Acme, Inc\"",
                          f"{e},{e + 86400},,,0.42,usd,gpt-4o,proj_1,org_1,\"Acme",
                          header=self.COST_HEADER)
        with pytest.raises(StrayQuote, match=r"^line 3 has "):
            dashboard_csv.parse_dashboard_csv(path)

    @pytest.mark.parametrize("second_header", [HEADER, ",".join(reversed(HEADER.split(",")))])
    def test_two_sheets_concatenated_set_the_second_header_apart(self, tmp_path,
                                                                 second_header):
        """Two exports joined with ``cat`` (found by fuzz.py --reshape): the second header is
        a row. It was quarantined as 'unparseable start_time' and warned of; it is now set
        apart as not model usage, saying why, as a spend log's repeated header is, whatever
        order the second sheet's columns are in. Both sheets' rows load."""
        s, e = epoch("2025-10-05"), epoch("2025-10-06")
        tail = ",,,proj_1,10,,key_1,gpt-4o-2024-08-06,FALSE,default,100,10,0"
        path = self.write(tmp_path, f"{s},{e}{tail}", second_header,
                          f"{e},{e + 86400}{tail}")
        kind, df, read, *_ = dashboard_csv.parse_dashboard_csv(path)
        assert (kind, read) == ("usage", 3)
        assert bad(df)["reason"].to_list() == [
            "not model usage: a repeated header line (two exports concatenated into one "
            "file?)"]
        assert good(df)["bucket_start"].dt.date().to_list() == [dt.date(2025, 10, 5),
                                                               dt.date(2025, 10, 6)]
        con, outcome = self.ingest(tmp_path, path)
        assert (outcome.status, outcome.rows_loaded, outcome.rows_rejected,
                outcome.rows_not_usage) == ("loaded", 2, 1, 1)
        assert outcome.error == "1 of 3 rows rejected (1 of them not model usage), see " \
                                "staging.rejected_rows"

    def test_columns_in_any_order_and_iso_only_times(self, tmp_path):
        path = self.write(tmp_path, "5.0,gpt-4o,2025-10-05T00:00:00+00:00,"
                          "2025-10-06T00:00:00+00:00,100.0",
                          header="num_model_requests,model,start_time_iso,end_time_iso,"
                          "input_tokens")
        kind, df, *_ = dashboard_csv.parse_dashboard_csv(path)
        row = good(df).row(0, named=True)
        assert (kind, row["endpoint"], row["requests"]) == ("usage", "embeddings", 5)
        assert row["bucket_start"].isoformat().startswith("2025-10-05T00:00:00")

    def test_fractional_count_rejected(self, tmp_path):
        s, e = epoch("2025-10-05"), epoch("2025-10-06")
        path = self.write(tmp_path, f"{s},{e},,,p,1.5,,,m,FALSE,default,1.0,1.0,0.0")
        df = dashboard_csv.parse_dashboard_csv(path).rows
        assert "not a whole number" in bad(df)["reason"].item()

    @pytest.mark.parametrize("view", ["costs", "usage"])
    def test_an_empty_bucket_with_its_organisation_named_is_still_empty(self, tmp_path, view):
        """Times and the organisation's id and name, nothing else: an empty bucket, neither
        a quarantined cost row ("missing amount_value") nor a usage row of zeros."""
        s, e = epoch("2025-10-05"), epoch("2025-10-06")
        times = f"{s},{e},2025-10-05T00:00:00+00:00,2025-10-06T00:00:00+00:00"
        measures = ("amount_value,amount_currency,line_item,project_id" if view == "costs"
                    else "num_model_requests,model,input_tokens,output_tokens")
        filled = "0.5,usd,,proj_1" if view == "costs" else "3,gpt-4o,100,10"
        path = self.write(
            tmp_path, f"{times},{filled},org-1,Acme", f"{times},,,,,org-1,Acme",
            header="start_time,end_time,start_time_iso,end_time_iso,"
                   f"{measures},organization_id,organization_name")
        kind, df, read, *_ = dashboard_csv.parse_dashboard_csv(path)
        assert (kind, read, len(df), len(bad(df))) == (view, 1, 1, 0)

    def test_cost_export(self, tmp_path):
        path = self.write(
            tmp_path, "1759622400,1759708800,2025-10-05T00:00:00+00:00,2025-10-06T00:00:00+00:00,"
            "0.8958740000000000,usd,,proj_1,org-1,Acme",
            header="start_time,end_time,start_time_iso,end_time_iso,amount_value,"
            "amount_currency,line_item,project_id,organization_id,organization_name")
        kind, df, *_ = dashboard_csv.parse_dashboard_csv(path)
        assert kind == "costs"
        assert df["amount_usd"].to_list() == ["0.8958740000000000"]

    def test_a_sheet_names_its_organisations_and_staging_keeps_them(self, tmp_path):
        """The cost view names the organisation on every row: the sheet says which (each
        once, a second export's header line and empty cells left out) with its name, and
        staging keeps them with the file; a sheet without the column names none."""
        header = ("start_time,end_time,start_time_iso,end_time_iso,amount_value,"
                  "amount_currency,line_item,project_id,organization_id,organization_name")
        day = "1759622400,1759708800,,,0.5,usd,,"
        path = self.write(tmp_path, f"{day},org-b,Beta", f"{day}proj_1, org-a ,Acme",
                          f"{day}proj_2,org-a,Acme", header, f"{day}proj_3,,", header=header)
        sheet = dashboard_csv.parse_dashboard_csv(path)
        assert sheet.organizations == {"org-a": "Acme", "org-b": "Beta"}
        con, outcome = self.ingest(tmp_path, path)
        assert outcome.status == "loaded"
        (key,) = con.execute("SELECT path FROM staging.ingested_files").fetchone()
        assert con.execute(ORGANISATIONS_SQL).fetchall() == [("org-a", 1, key), ("org-b", 1, key)]
        assert con.execute("SELECT organization_id, organization_name, file_id FROM "
                           "staging.openai_organizations ORDER BY 1").fetchall() == [
            ("org-a", "Acme", 1), ("org-b", "Beta", 1)]
        (tmp_path / "plain").mkdir()
        plain = self.write(tmp_path / "plain", "1759622400,1759708800,,,proj_1,3,,,gpt-4o,"
                           "FALSE,default,100,10,0")
        assert dashboard_csv.parse_dashboard_csv(plain).organizations == {}

    def test_a_manifest_that_kept_the_organisations_hands_them_to_staging(self, tmp_path):
        """For a while on 2026-12-07 the manifest kept the organisations a file names in a
        list column, and the files loaded before their names were kept have them only there:
        the next ingest moves those to staging (name not known), adds nothing for a file
        staging has already, takes none of a rejected file, and drops the column."""
        header = ("start_time,end_time,start_time_iso,end_time_iso,amount_value,"
                  "amount_currency,line_item,project_id,organization_id,organization_name")
        path = self.write(tmp_path, "1759622400,1759708800,,,0.5,usd,,proj_1,org-a,Acme",
                          header=header)
        con, outcome = self.ingest(tmp_path, path)
        assert outcome.status == "loaded"
        # the working file as that version left it
        con.execute("ALTER TABLE staging.ingested_files ADD COLUMN organization_ids VARCHAR[]")
        con.execute("UPDATE staging.ingested_files SET organization_ids = ['org-a']")
        con.execute("""
            INSERT INTO staging.ingested_files (file_id, path, sha256, format, status,
                rows_read, rows_loaded, rows_rejected, rows_duplicate, ingested_at,
                organization_ids)
            VALUES (2, 'older.csv', 'x', 'openai_dashboard_csv', 'loaded', 1, 1, 0, 0,
                    TIMESTAMP '2026-12-07 06:00', ['org-b', 'org-b']),
                   (3, 'broken.csv', 'y', NULL, 'rejected', 1, 0, 1, 0,
                    TIMESTAMP '2026-12-07 06:00', ['org-c'])""")
        assert ingest_landing(con, tmp_path / "landing") == []  # nothing new to read
        assert "organization_ids" not in column_names(con, "staging.ingested_files")
        assert con.execute("SELECT organization_id, organization_name, file_id FROM "
                           "staging.openai_organizations ORDER BY 1").fetchall() == [
            ("org-a", "Acme", 1), ("org-b", None, 2)]
        assert [org for org, *_ in con.execute(ORGANISATIONS_SQL).fetchall()] == [
            "org-a", "org-b"]
        # and a working file without the column is left as it is
        ingest_landing(con, tmp_path / "landing")
        assert con.execute("SELECT count(*) FROM staging.openai_organizations").fetchone() == (2,)


class TestLiteLLM:
    def parse(self, tmp_path, rows):
        import csv

        from tests.exports import LITELLM_HEADER
        path = tmp_path / "spend.csv"
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(LITELLM_HEADER)
            w.writerows(rows)
        assert detect_format(path) == LITELLM_CSV
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'").fetchall()
        present = litellm_csv.csv_columns(path)
        rel = con.execute(litellm_csv.parse_sql(present), {"path": str(path)})
        cols = [d[0] for d in rel.description]
        return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]

    def test_team_from_team_id_or_alias_and_failures(self, tmp_path):
        from tests.exports import litellm_row
        rows = self.parse(tmp_path, [
            litellm_row("r1", "gpt-4o", 10, 5, "team-x", "x-alias", "success"),
            litellm_row("r2", "gpt-4o", 0, 0, "", "ds", "failure"),
        ])
        assert [(r["litellm_team_id"], r["team_alias"], r["failed_requests"], r["requests"])
                for r in rows] == [("team-x", "x-alias", 0, 1), (None, "ds", 1, 1)]
        assert rows[0]["endpoint"] == "completions"
        assert rows[0]["route"] == "/v1/chat/completions"
        assert all("SECRET" not in (r["raw"] or "") for r in rows)

    def test_prompt_columns_are_never_selected(self):
        sql = litellm_csv.parse_sql(("messages", "response", "proxy_server_request",
                                     *litellm_csv.USED_COLUMNS))
        for column in litellm_csv.NEVER_READ:
            assert f'"{column}"' not in sql

    def test_call_type_without_usage_endpoint_is_quarantined(self, tmp_path):
        """Every call type with no usage endpoint is kept out of the usage with its reason;
        the calls that are not model usage at all say so (no data problem), the rest is
        usage that cannot be placed."""
        from pipelines.lib.schema import NOT_MODEL_USAGE
        from tests.exports import litellm_row
        cases = [  # call type, prompt, completion tokens, what its reason says
            ("arerank", "10", "0", NOT_MODEL_USAGE + "call_type arerank (rerank, search"),
            ("aocr", "", "", NOT_MODEL_USAGE + "call_type aocr (rerank, search"),
            ("acreate_file", "0", "0", NOT_MODEL_USAGE + "call_type acreate_file with no tokens"),
            ("aretrieve_batch", "", "", NOT_MODEL_USAGE + "call_type aretrieve_batch with no"),
            ("a_add_message", "0", "0", NOT_MODEL_USAGE + "call_type a_add_message with no"),
            # LiteLLM's batch cost tracking logs a completed batch's tokens this way
            ("aretrieve_batch", "120000", "30000",
             "call_type aretrieve_batch with tokens: a completed batch's usage"),
            ("acreate_file", "abc", "0", "call_type acreate_file has no OpenAI usage endpoint"),
            # a pass-through call whose usage LiteLLM did not track (its route is not logged)
            ("pass_through_endpoint", "0", "0",
             "call_type pass_through_endpoint with no tokens: a pass-through call"),
            ("acreate_video", "0", "0", "call_type acreate_video has no OpenAI usage endpoint"),
        ]
        rows = []
        for i, (call_type, prompt, completion, _) in enumerate(cases):
            row = litellm_row(f"r{i}", "gpt-4o", 0, 0, "", "a", "success")
            row[1], row[5], row[6] = call_type, prompt, completion
            rows.append(row)
        rows.append(litellm_row("ok", "gpt-4o", 1, 1, "", "a", "success"))
        parsed = self.parse(tmp_path, rows)
        for (call_type, *_, reason), row in zip(cases, parsed, strict=False):
            assert row["reason"].startswith(reason), (call_type, row["reason"])
        assert parsed[-1]["reason"] is None

    def test_anthropic_format_chat_calls_are_completions(self, tmp_path):
        from tests.exports import litellm_row
        rows = []
        for rid, call_type in (("r1", "anthropic_messages"), ("r2", "aanthropic_messages")):
            row = litellm_row(rid, "gpt-4o-2024-08-06", 10, 5, "", "a", "success")
            row[1] = call_type
            rows.append(row)
        parsed = self.parse(tmp_path, rows)
        assert [(r["reason"], r["endpoint"], r["route"], r["model"]) for r in parsed] == [
            (None, "completions", "/v1/messages", "gpt-4o-2024-08-06")] * 2

    def test_google_format_and_websocket_responses_calls_are_completions(self, tmp_path):
        """The google-genai SDK pointed at the gateway (LiteLLM's generate_content call types)
        reaches any model behind it, and the Responses API over a WebSocket is still a
        Responses call: a deprecated model called either way is a caller to list."""
        from tests.exports import litellm_row
        call_types = ("generate_content", "agenerate_content", "generate_content_stream",
                      "agenerate_content_stream", "_aresponses_websocket")
        rows = []
        for i, call_type in enumerate(call_types):
            row = litellm_row(f"r{i}", "gpt-4o-2024-08-06", 10, 5, "", "a", "success")
            row[1] = call_type
            rows.append(row)
        parsed = self.parse(tmp_path, rows)
        assert [(r["reason"], r["endpoint"], r["model"]) for r in parsed] == [
            (None, "completions", "gpt-4o-2024-08-06")] * len(call_types)
        assert [r["route"] for r in parsed] == [
            "/v1beta/models/{model}:generateContent"] * 2 + [
            "/v1beta/models/{model}:streamGenerateContent"] * 2 + ["/v1/responses (WebSocket)"]

    def test_pass_through_calls_with_tracked_usage_count(self, tmp_path):
        """LiteLLM tracks an OpenAI pass-through call's tokens on /chat/completions only, and
        logs image generations and edits as passthrough-image-generation: both count, the
        route saying pass-through (the exact one is not logged)."""
        from tests.exports import litellm_row
        cases = [("pass_through_endpoint", 10, 5), ("allm_passthrough_route", 0, 7),
                 ("passthrough-image-generation", 0, 0)]
        rows = []
        for i, (call_type, prompt, completion) in enumerate(cases):
            row = litellm_row(f"r{i}", "gpt-4o-2024-08-06", prompt, completion, "", "a",
                              "success")
            row[1] = call_type
            rows.append(row)
        parsed = self.parse(tmp_path, rows)
        assert [(r["reason"], r["endpoint"], r["route"], r["input_tokens"], r["output_tokens"])
                for r in parsed] == [(None, "completions", "pass-through", 10, 5),
                                     (None, "completions", "pass-through", 0, 7),
                                     (None, "images", "pass-through", 0, 0)]

    def test_metadata_that_is_not_json_is_not_fatal(self, tmp_path):
        from tests.exports import litellm_row
        row = litellm_row("r1", "gpt-4o", 10, 5, "", "a", "success")
        row[12] = "{not json"
        (parsed,) = self.parse(tmp_path, [row])
        assert parsed["reason"] is None and parsed["team_alias"] is None

    def test_negative_tokens_rejected(self, tmp_path):
        from tests.exports import litellm_row
        rows = self.parse(tmp_path, [litellm_row("r1", "gpt-4o", -5, 1, "", "a", "success")])
        assert rows[0]["reason"].startswith("negative")


@pytest.mark.parametrize(("content", "message"), [
    (b"", "empty file"),
    (b"\x00\x01binary", "binary"),
    (b"a,b,c\n1,2,3\n", "unrecognised CSV header"),
    (b"\xff\xfe\xfa not utf8 at all" * 10, "not UTF-8"),
    (b"request_id\tcall_type\tstartTime\nr1\tacompletion\t2026-11-20\n",
     "LiteLLM spend-log export that is not comma-separated"),
    # LiteLLM_DailyTeamSpend's columns (formats.md 5.6), as a proxy admin exports them
    (b"id,team_id,date,api_key,model,model_group,custom_llm_provider,mcp_namespaced_tool_name,"
     b"endpoint,prompt_tokens,completion_tokens,cache_read_input_tokens,"
     b"cache_creation_input_tokens,spend,api_requests,successful_requests,failed_requests\n"
     b"0b6f,team-x,2026-11-20,hashed0123,gpt-4o,gpt-4o,openai,,/chat/completions,1000,100,0,0,"
     b"0.0035,3,3,0\n", "daily spend roll-up .* export LiteLLM_SpendLogs"),
])
def test_unrecognised_files_say_why(tmp_path, content, message):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(UnrecognisedFile, match=message):
        detect_format(path)


def test_json_detected_by_content_not_name(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text(json.dumps(page([])))
    assert detect_format(path) == OPENAI_JSON


def test_gateway_columns_are_those_duckdb_reads(tmp_path):
    """The columns the roll-up selects by name are taken from the header line (no DuckDB
    sniff): for the names it reads, the same as DuckDB's reader gives, also with a BOM,
    padded, repeated, blank and quoted header names."""
    path = tmp_path / "spend.csv"
    path.write_bytes(b'\xef\xbb\xbfrequest_id, call_type ,startTime,model,model,,"quoted ""x"""'
                     b',metadata\nr1,completion,2026-01-01,m,m2,z,q,{}\n')
    duck = {d[0] for d in duckdb.execute(
        f"SELECT * FROM read_csv('{path}', header = true, all_varchar = true) LIMIT 0"
    ).description}
    ours = set(litellm_csv.csv_columns(path))
    used = set(litellm_csv.USED_COLUMNS)
    assert ours & used == duck & used == {"request_id", "call_type", "startTime", "model",
                                          "metadata"}


def _page_with_user(user: str) -> dict:
    from tests.exports import RESULT_A, bucket, page
    return page([bucket("2026-11-20", [dict(RESULT_A, user_id=user)])])


def test_a_character_cut_by_the_sniffed_head_is_still_utf8(tmp_path):
    """The format is told from the first 4 KiB: an accented name whose two bytes straddle
    that boundary is UTF-8 all the same, and the page loads with it whole."""
    body = json.dumps(_page_with_user("é"), ensure_ascii=False)
    at = body.encode().index("é".encode())
    padded = " " * (4095 - at) + body  # "é" takes bytes 4095 and 4096
    path = tmp_path / "page.json"
    path.write_text(padded, encoding="utf-8")
    assert path.read_bytes()[4095:4097] == "é".encode()
    assert detect_format(path) == OPENAI_JSON
    text = path.read_text(encoding="utf-8")
    assert good(openai_pages.parse_pages(text).usage)["user_id"].to_list() == ["é"]


def test_a_page_file_not_utf8_after_its_head_is_rejected_whole(tmp_path):
    """Bytes that are not UTF-8 past the sniffed head: the file is quarantined with the
    offending byte named, nothing of it staged, and the next file still loads."""
    from pipelines.lib.duck import prepare
    from pipelines.lib.ingest import ingest_landing

    landing = tmp_path / "landing"
    landing.mkdir()
    raw = json.dumps(_page_with_user("x" * 5000)).replace("x" * 5000, "x" * 4999 + "\xe9")
    (landing / "a_latin1.json").write_bytes(raw.encode("latin-1"))
    at = raw.index("\xe9")
    assert at > 4096
    (landing / "b_fine.json").write_text(json.dumps(_page_with_user("ok")))
    con = prepare(duckdb.connect(str(tmp_path / "w.duckdb")))
    outcomes = {o.path.rsplit("/", 1)[-1]: o for o in ingest_landing(con, landing)}
    bad_file, fine = outcomes["a_latin1.json"], outcomes["b_fine.json"]
    assert bad_file.status == "rejected" and fine.status == "loaded"
    assert f"not UTF-8 text (byte {at}: invalid continuation byte)" in (bad_file.error or "")
    assert con.execute("SELECT user_id FROM staging.usage").fetchall() == [("ok",)]


class TestOpenAIDirectoryLists:
    """Saved project and project API key lists (``GET /organization/projects`` and
    ``/organization/projects/{id}/api_keys``)."""

    @staticmethod
    def key_list(*keys: object, has_more: bool = False) -> dict:
        return {"object": "list", "data": list(keys), "has_more": has_more,
                "first_id": None, "last_id": None}

    def test_every_key_that_cannot_be_read_keeps_its_reason_without_its_secret(self):
        from pipelines.lib import openai_directory
        from tests.fake_openai import project_key

        good_key = project_key("key_ok", " prod ", user={"name": "", "email": "a@x.io"})
        cases = [
            ("project API key is not an object", "key_x"),
            ("not a project API key: object 'organization.admin_api_key'",
             {**project_key("key_adm", "admin"), "object": "organization.admin_api_key"}),
            ("key id is not a string: None", {**project_key("k", "n"), "id": None}),
            ("key name is not a string: 7", {**project_key("key_n", "n"), "name": 7}),
            ("owner type 'robot' is neither user nor service_account",
             {**project_key("key_o", "n"), "owner": {"type": "robot"}}),
            ("last_used_at is not Unix seconds: '2026-01-01'",
             {**project_key("key_t", "n"), "last_used_at": "2026-01-01"}),
            ("created_at implausibly large: 100000000000000000000",
             {**project_key("key_big", "n"), "created_at": 10**20}),
            ("owner is not an object: 'bob'", {**project_key("key_s", "n"), "owner": "bob"}),
            ("owner user is not an object: 'bob'",
             {**project_key("key_u", "n"), "owner": {"type": "user", "user": "bob"}}),
        ]
        listing = self.key_list(good_key, *(item for _, item in cases))
        assert openai_directory.list_kind(listing) == openai_directory.KEY_TAG
        parsed = openai_directory.parse_lists([listing], openai_directory.KEY_TAG)
        assert len(parsed) == 1 + len(cases)
        ok = good(parsed).row(0, named=True)
        assert (ok["api_key_id"], ok["key_alias"], ok["key_owner"], ok["owner_type"]) == (
            "key_ok", "prod", "a@x.io", "user")
        # an owner may be missing, or say its type without the account: the key is kept
        ownerless = openai_directory.parse_lists([self.key_list(
            {**good_key, "id": "key_none", "owner": None},
            {**good_key, "id": "key_svc", "owner": {"type": "service_account"}},
            {**good_key, "id": "key_untyped", "owner": {"service_account": {"name": "ci"}}},
        )], openai_directory.KEY_TAG)
        assert ownerless.select("api_key_id", "owner_type", "key_owner", "reason").rows() == [
            ("key_none", None, None, None), ("key_svc", "service_account", None, None),
            ("key_untyped", "service_account", "ci", None)]
        assert openai_directory.parse_lists([self.key_list()], openai_directory.KEY_TAG
                                            ).is_empty()
        assert ok["last_used_at"] is not None and ok["created_at"] is not None
        rejected = bad(parsed)
        assert rejected["reason"].to_list() == [reason for reason, _ in cases]
        assert all("sk-abc" not in raw for raw in rejected["raw"].to_list())
        assert "key_adm" in rejected["raw"][1]

    def test_projects_by_name_and_those_that_cannot_be_read_with_their_reason(self):
        from pipelines.lib import openai_directory

        def project(pid: object, name: object = "P", **more: object) -> dict:
            return {"object": "organization.project", "id": pid, "name": name,
                    "created_at": 1_711_471_533, "archived_at": None, "status": "active",
                    **more}

        cases = [
            ("project id is not a string: 5", project(5)),
            ("project name is not a string: ['x']", project("proj_l", ["x"])),
            ("project status 'deleted' is neither active nor archived",
             project("proj_d", status="deleted")),
            ("archived_at is not Unix seconds: 1.5", project("proj_t", archived_at=1.5)),
            ("not a project: object 'organization.user'",
             {"object": "organization.user", "id": "user_1"}),
        ]
        listing = self.key_list(project(" proj_ok ", " Search "),
                                project("proj_arch", "", status="archived",
                                        archived_at=1_760_000_000),
                                *(item for _, item in cases))
        assert openai_directory.list_kind(listing) == openai_directory.PROJECT_TAG
        parsed = openai_directory.parse_lists([listing], openai_directory.PROJECT_TAG)
        assert good(parsed).select("project_id", "project_name", "status").rows() == [
            ("proj_ok", "Search", "active"), ("proj_arch", None, "archived")]
        assert bad(parsed)["reason"].to_list() == [reason for reason, _ in cases]
        # an empty list, or a list of other things, is no directory list
        assert openai_directory.list_kind(self.key_list()) is None
        assert openai_directory.list_kind({"object": "list", "data": [{"object": "model"}]}) \
            is None

    def test_users_by_name_else_email(self):
        from pipelines.lib import openai_directory

        def user(uid: object, name: object = None, email: object = None) -> dict:
            return {"object": "organization.user", "id": uid, "name": name, "email": email,
                    "role": "reader", "added_at": 1_711_471_533}

        listing = self.key_list(user("user_a", "Ada", "a@x.io"), user("user_b", " ", "b@x.io"),
                                user("user_c"), user("user_d", email=["d@x.io"]), user(None))
        assert openai_directory.list_kind(listing) == openai_directory.USER_TAG
        parsed = openai_directory.parse_lists([listing], openai_directory.USER_TAG)
        assert good(parsed).select("user_id", "user_name").rows() == [
            ("user_a", "Ada"), ("user_b", "b@x.io"), ("user_c", None)]
        assert bad(parsed)["reason"].to_list() == [
            "user email is not a string: ['d@x.io']", "user id is not a string: None"]

    def test_a_saved_list_loads_and_a_list_among_usage_pages_is_refused(self, tmp_path):
        """A key list saved by hand (one per line, twice the same key) is staged, a repeat
        counted once, and so is a project list; a file mixing a key list with usage pages, or
        with a project list, is quarantined whole."""
        from pipelines.lib.duck import prepare
        from pipelines.lib.ingest import ingest_landing
        from tests.fake_openai import project_key

        landing = tmp_path / "landing"
        landing.mkdir()
        first = self.key_list(project_key("key_a", "old-name", user={"name": "Ada"}),
                              project_key("key_b", "b", service_account={"name": "svc"}))
        second = self.key_list(project_key("key_a", "new-name", user={"name": "Ada"}),
                               {"object": "organization.project.api_key", "id": ""})
        (landing / "keys.jsonl").write_text(json.dumps(first) + "\n" + json.dumps(second))
        (landing / "mixed.json").write_text(json.dumps(
            [page([bucket("2026-11-20", [RESULT_A])]), first]))
        projects = {"object": "list", "has_more": False, "data": [
            {"object": "organization.project", "id": "proj_a", "name": "Checkout",
             "created_at": 1_711_471_533, "archived_at": None, "status": "active"}]}
        (landing / "projects.json").write_text(json.dumps(projects))
        (landing / "two_kinds.json").write_text(json.dumps([first, projects]))
        con = prepare(duckdb.connect(str(tmp_path / "w.duckdb")))
        outcomes = {o.path.rsplit("/", 1)[-1]: o for o in ingest_landing(con, landing)}
        keys, mixed, both = (outcomes[f] for f in ("keys.jsonl", "mixed.json",
                                                     "two_kinds.json"))
        assert (keys.format, keys.status) == ("openai_api_keys_json", "loaded")
        assert (keys.rows_read, keys.rows_loaded, keys.rows_duplicate, keys.rows_rejected) == (
            4, 2, 1, 1)
        assert con.execute("SELECT api_key_id, key_alias, key_owner FROM staging.openai_api_keys "
                           "ORDER BY ALL").fetchall() == [("key_a", "new-name", "Ada"),
                                                          ("key_b", "b", "svc")]
        assert con.execute("SELECT reason FROM staging.rejected_rows WHERE position IS NOT NULL"
                           ).fetchall() == [("key id is not a string: ''",)]
        assert mixed.status == "rejected"
        assert "document 2 is a project API key list, in a file of other documents" \
            in (mixed.error or "")
        assert con.execute("SELECT count(*) FROM staging.usage").fetchall() == [(0,)]
        assert (outcomes["projects.json"].format, outcomes["projects.json"].rows_loaded) == (
            "openai_projects_json", 1)
        assert con.execute("SELECT project_id, project_name, status FROM staging.openai_projects"
                           ).fetchall() == [("proj_a", "Checkout", "active")]
        assert both.status == "rejected"
        assert "document 1 is a project API key list, in a file of other documents" in (
            both.error or "")


def test_a_bucket_longer_than_a_day_is_quarantined_not_the_run(tmp_path):
    """The APIs' buckets are 1m, 1h or 1d wide and the dashboard's 1h or 1d; a week-long
    bucket (a page or a sheet made by hand) passed the parsers and failed the blocking
    staging check, which stopped every later step of the run. Now it is a rejected row."""
    week = bucket("2026-11-20", [RESULT_A])
    week["end_time"] = week["start_time"] + 7 * 86_400
    day = bucket("2026-11-21", [RESULT_C])
    parsed = openai_pages.parse_pages(json.dumps(page([week, day])))
    assert bad(parsed.usage)["reason"].to_list() == [
        "bucket longer than a day (604800 s): the Usage and Costs APIs' buckets are 1m, 1h "
        "or 1d wide"]
    assert good(parsed.usage)["requests"].to_list() == [1]
    s = epoch("2026-11-20")
    path = tmp_path / "sheet.csv"
    path.write_text("start_time,end_time,model,num_model_requests,input_tokens,output_tokens\n"
                    f"{s},{s + 7 * 86_400},gpt-4o,1,10,1\n{s},{s + 86_400},gpt-4o,2,10,1\n")
    kind, df, read, *_ = dashboard_csv.parse_dashboard_csv(path)
    assert bad(df)["reason"].to_list() == [
        "bucket longer than a day: the dashboard's buckets are 1h or 1d wide"]
    assert good(df)["requests"].to_list() == [2]


def test_a_cost_too_large_for_its_column_quarantines_the_row_not_the_file(tmp_path):
    """An amount that does not fit DECIMAL(38, 10) (a corrupt export: 10^30 USD) used to
    fail the cast of the whole file's rows, so the file was rejected and its good rows lost.
    Now that row is quarantined with the reason and the rest load, from the Costs API and
    from the dashboard's cost view alike."""
    landing = tmp_path / "landing"
    landing.mkdir()
    result = {"object": "organization.costs.result", "line_item": None, "project_id": "p"}
    (landing / "costs.json").write_text(json.dumps(page([bucket("2026-11-20", [
        dict(result, amount={"value": 1e30, "currency": "usd"}, line_item="corrupt"),
        dict(result, amount={"value": 1.25, "currency": "usd"})])])))
    s, e = epoch("2026-11-21"), epoch("2026-11-22")
    (landing / "cost_view.csv").write_text(
        "start_time,end_time,amount_value,amount_currency,line_item,project_id\n"
        f"{s},{e},{'9' * 29}.5,usd,corrupt,p\n{s},{e},2.50,usd,,p\n")
    con = prepare(duckdb.connect(":memory:"))
    outcomes = {o.path.rsplit("/", 1)[-1]: o for o in ingest_landing(con, landing)}
    assert {n: (o.status, o.rows_loaded, o.rows_rejected) for n, o in outcomes.items()} == {
        "costs.json": ("loaded", 1, 1), "cost_view.csv": ("loaded", 1, 1)}
    assert con.execute("SELECT usage_date, amount_usd FROM staging.billed_costs "
                       "ORDER BY 1").fetchall() == [
        (dt.date(2026, 11, 20), Decimal("1.25")), (dt.date(2026, 11, 21), Decimal("2.5"))]
    assert sorted(r for (r,) in con.execute(
        "SELECT reason FROM staging.rejected_rows").fetchall()) == [
        "amount.value implausibly large (over 10^15 USD): 1e+30",
        f"amount_value implausibly large (over 10^15 USD): {'9' * 29}.5"]
