"""The shipped catalog, overrides and the team directory (layer 1, no Dagster)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import os
import re
from decimal import Decimal

import pytest

from pipelines.lib import catalog as cat
from pipelines.lib.catalog_build import (
    DEPRECATIONS_LABEL,
    LITELLM_LABEL,
    LITELLM_OLD_LABEL,
)
from pipelines.lib.catalog_build import main as build_catalog
from pipelines.settings import CATALOG_DATA_DIR
from tests.conftest import SHARED_DATA

D = Decimal
PRICES = {p.model: p for p in cat.read_prices(CATALOG_DATA_DIR / "model_prices.csv")
          if p.service_tier is None}
LIFECYCLE = {r.model: r for r in cat.read_lifecycle(CATALOG_DATA_DIR / "model_lifecycle.csv")}


@pytest.mark.parametrize(("model", "inp", "cached", "out"), [
    ("gpt-4o", "2.50", "1.25", "10.00"),
    ("gpt-5.1", "1.25", "0.125", "10.00"),
    ("gpt-5.1-chat-latest", "1.25", "0.125", "10.00"),
    ("gpt-5-mini", "0.25", "0.025", "2.00"),
    ("gpt-5-nano", "0.05", "0.005", "0.40"),
    ("gpt-4.1", "2.00", "0.50", "8.00"),
    ("gpt-4o-mini", "0.15", "0.075", "0.60"),
])
def test_seed_article_prices_hold_exactly(model, inp, cached, out):
    p = PRICES[model]
    assert (p.input_usd_per_1m, p.cached_input_usd_per_1m, p.output_usd_per_1m) == (
        D(inp), D(cached), D(out))


def test_dated_snapshot_keeps_its_own_price():
    assert (PRICES["gpt-4o-2024-05-13"].input_usd_per_1m,
            PRICES["gpt-4o-2024-05-13"].output_usd_per_1m) == (D("5"), D("15"))


def test_every_row_has_a_source():
    assert all(p.source for p in PRICES.values())
    assert all(r.source for r in LIFECYCLE.values())


def test_chatgpt_4o_latest_dates_and_replacement():
    r = LIFECYCLE["chatgpt-4o-latest"]
    assert (r.announced_date, r.shutdown_date, r.replacement_model) == (
        dt.date(2025, 11, 18), dt.date(2026, 2, 17), "gpt-5.1-chat-latest")


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data not present")
def test_every_model_on_the_deprecations_list_is_in_the_lifecycle():
    with (SHARED_DATA / "openai_deprecations.csv").open() as fh:
        lines = [line for line in fh if not line.startswith("#")]
    models = {r["model"] for r in csv.DictReader(lines)}
    assert len(models) == 142
    assert models <= set(LIFECYCLE)
    # listed twice: the later announcement is kept
    assert LIFECYCLE["gpt-4-1106-preview"].shutdown_date == dt.date(2026, 10, 23)
    # ambiguous replacement: first alternative, full text as note
    assert LIFECYCLE["gpt-4-0314"].replacement_model == "gpt-5"
    assert LIFECYCLE["gpt-4-0314"].replacement_note == "gpt-5 or gpt-4.1"


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data not present")
def test_catalog_build_regenerates_the_shipped_files(tmp_path):
    build_catalog(["--out", str(tmp_path)])
    for name in ("model_prices.csv", "model_price_bands.csv", "model_unit_prices.csv",
                 "model_lifecycle.csv", "catalog_conflicts.csv", "catalog_sources.csv"):
        assert (tmp_path / name).read_text() == (CATALOG_DATA_DIR / name).read_text(), name


def price(model, start, end, inp="1", source="builtin"):
    return cat.Price(model, dt.date.fromisoformat(start),
                     dt.date.fromisoformat(end) if end else None, D(inp), None, D("2"),
                     D("0.5"), source)


def test_override_cuts_builtin_window():
    builtin = [price("m", "2020-01-01", None), price("other", "2020-01-01", None)]
    over = [price("m", "2026-03-01", "2026-04-01", inp="0.8", source="override")]
    merged = cat.apply_overrides(builtin, over)
    m_rows = [(p.valid_from.isoformat(), p.valid_to and p.valid_to.isoformat(),
               p.input_usd_per_1m) for p in merged if p.model == "m"]
    assert m_rows == [("2020-01-01", "2026-03-01", D("1")), ("2026-03-01", "2026-04-01", D("0.8")),
                      ("2026-04-01", None, D("1"))]
    assert [p.model for p in merged].count("other") == 1


def test_an_override_keeps_the_builtin_models_provider():
    from dataclasses import replace

    builtin = [replace(price("claude-x", "2020-01-01", None), provider="anthropic")]
    merged = cat.apply_overrides(builtin, [price("claude-x", "2026-03-01", None, inp="2"),
                                           price("new-model", "2026-03-01", None)])
    assert [(p.model, p.valid_from.year, p.provider) for p in merged] == [
        ("claude-x", 2020, "anthropic"), ("claude-x", 2026, "anthropic"),
        ("new-model", 2026, None)]


def test_open_override_replaces_from_its_start():
    merged = cat.apply_overrides([price("m", "2020-01-01", None)],
                                 [price("m", "2026-01-01", None, inp="3")])
    assert [(p.valid_from.year, p.input_usd_per_1m) for p in merged] == [
        (2020, D("1")), (2026, D("3"))]
    for day, expected in [("2025-12-31", D("1")), ("2026-01-01", D("3"))]:
        day_prices = [p.input_usd_per_1m for p in merged if p.covers(dt.date.fromisoformat(day))]
        assert day_prices == [expected]


def test_overlapping_overrides_are_an_error():
    with pytest.raises(cat.CatalogError, match="overlap"):
        cat.apply_overrides([], [price("m", "2026-01-01", "2026-03-01"),
                                 price("m", "2026-02-01", None)])


def test_the_list_prices_an_override_replaces_are_kept_beside_it():
    """What ``apply_overrides`` cuts out of the shipped rows is kept (the list prices of the
    negotiated dates, for FOCUS ListCost): the two together are the shipped windows again,
    a list price change inside an override's window shows as two pieces, flex rows (which
    overrides leave as they are) and a model new to the catalog have none."""
    from dataclasses import replace

    builtin = [price("m", "2020-01-01", "2026-03-15"), price("m", "2026-03-15", None, inp="1.2"),
               replace(price("m", "2020-01-01", None, inp="0.5"), service_tier="flex"),
               price("other", "2020-01-01", None)]
    over = [price("m", "2026-03-01", "2026-04-01", inp="0.8", source="override"),
            price("new-model", "2026-01-01", None, inp="3", source="override")]
    replaced = cat.replaced_by_overrides(builtin, over)
    assert [(p.model, p.valid_from.isoformat(), p.valid_to.isoformat(), p.input_usd_per_1m,
             p.source, p.service_tier) for p in replaced] == [
        ("m", "2026-03-01", "2026-03-15", D("1"), "builtin", None),
        ("m", "2026-03-15", "2026-04-01", D("1.2"), "builtin", None)]
    kept = [p for p in cat.apply_overrides(builtin, over)
            if p.model == "m" and p.source == "builtin" and p.service_tier is None]
    for day in (dt.date(2020, 1, 1) + dt.timedelta(days=n) for n in range(0, 2400, 3)):
        (shipped,) = [p for p in builtin[:2] if p.covers(day)]
        (piece,) = [p for p in kept + replaced if p.covers(day)]
        assert piece.input_usd_per_1m == shipped.input_usd_per_1m, day
    # an open override and an open list row: open from the override's start
    assert [(p.valid_from.isoformat(), p.valid_to) for p in cat.replaced_by_overrides(
        [price("m", "2020-01-01", None)], [price("m", "2026-05-01", None, source="o")])] == [
        ("2026-05-01", None)]
    # unit prices are replaced per model and unit
    whisper = cat.UnitPrice("whisper-1", "seconds", dt.date(2023, 3, 1), None, D("100"), "litellm")
    tts = cat.UnitPrice("tts-1", "characters", dt.date(2023, 11, 6), None, D("15"), "litellm")
    negotiated = cat.UnitPrice("whisper-1", "seconds", dt.date(2026, 12, 1), None, D("80"), "o")
    assert cat.replaced_by_overrides([whisper, tts], [negotiated]) == [
        replace(whisper, valid_from=dt.date(2026, 12, 1))]


def test_override_file_errors_name_the_line(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("model,valid_from,valid_to,input_usd_per_1m,cached_input_usd_per_1m,"
                    "output_usd_per_1m\ngpt-4o,2026-01-01,,2.0,,8\ngpt-4o,2026-02-01,,-1,,8\n")
    with pytest.raises(cat.CatalogError, match="line 3"):
        cat.read_overrides(path)


@pytest.mark.parametrize(("row", "message"), [
    (",2026-01-01,,2.0,,8", "line 2: model is empty"),
    ("gpt-4o,,,2.0,,8", "line 2: valid_from is required"),
    ("gpt-4o,2026-03-01,2026-03-01,2.0,,8",
     "line 2: valid_to 2026-03-01 is not after valid_from 2026-03-01"),
    ("gpt-4o,2026-01-01,,,,8", "input_usd_per_1m is required"),
    ("gpt-4o,2026-01-01,,2.0,,eight", "output_usd_per_1m: 'eight' is not a decimal number"),
    ("gpt-4o,2026-01-01,,2.0,,NaN", "output_usd_per_1m"),
])
def test_each_override_mistake_is_named_with_its_line(tmp_path, row, message):
    """A price override is money: a row that cannot be read stops the catalog build with the
    row's line and what is wrong, rather than pricing with a guess."""
    path = tmp_path / "o.csv"
    path.write_text("model,valid_from,valid_to,input_usd_per_1m,cached_input_usd_per_1m,"
                    f"output_usd_per_1m\n{row}\n")
    with pytest.raises(cat.CatalogError, match=re.escape(message)):
        cat.read_overrides(path)


@pytest.mark.parametrize(("value", "message"), [
    # DuckDB's cast to the warehouse's DECIMAL(18, 6) rounded these: 0.0000004 to a price of 0
    ("0.0000004", "'0.0000004' has more decimal places than the 6 a price per 1M tokens "
     "keeps (1e-12 USD a token)"),
    ("1.2345678", "'1.2345678' has more decimal places than the 6"),
    # ... and stopped the run on this with a conversion error that named no file or line
    ("1000000000000", "'1000000000000' is more than a price per 1M tokens holds (under "
     "1000000000000)"),
])
def test_a_price_the_warehouse_would_round_or_could_not_hold_is_refused(tmp_path, value,
                                                                       message):
    """A price is written to the warehouse as DECIMAL(18, 6) per 1M tokens: a finer price was
    rounded there, silently (a negotiated 0.0000004 priced every token at zero). The row is
    refused with its line; trailing zeros are not precision and read as the number."""
    path = tmp_path / "o.csv"
    header = ",".join(cat.OVERRIDE_HEADER)
    path.write_text(f"{header}\ngpt-4o,2026-01-01,,2.500000000,,8\n")
    assert cat.read_overrides(path)[0].input_usd_per_1m == D("2.5")
    path.write_text(f"{header}\ngpt-4o,2026-01-01,,2.5,,8\ngpt-4o,2026-02-01,,{value},,8\n")
    with pytest.raises(cat.CatalogError, match=re.escape(
            f"o.csv line 3 input_usd_per_1m: {message}")):
        cat.read_overrides(path)
    shipped = tmp_path / "model_prices.csv"
    shipped.write_text(f"{header},batch_discount,source\ngpt-4o,,,{value},,8,,x\n")
    with pytest.raises(cat.CatalogError, match=re.escape(
            f"model_prices.csv line 2 input_usd_per_1m: {message}")):
        cat.read_prices(shipped)


@pytest.mark.parametrize("discount", ["0.55555", "1.5", "-0.1", "half"])
def test_a_batch_discount_the_warehouse_would_round_or_that_is_no_share_is_refused(
        tmp_path, discount):
    """DECIMAL(5, 4) in the warehouse: 0.55555 was rounded there to 0.5556, and a discount
    of 1.5 made batch usage cost less than nothing. Empty is the default half; 0.5333
    (LiteLLM's, to 4 places) and 0 read as written."""
    path = tmp_path / "model_prices.csv"
    header = ",".join(cat.OVERRIDE_HEADER) + ",batch_discount,source"
    path.write_text(f"{header}\na,,,1,,2,,x\nb,,,1,,2,0.5333,x\nc,,,1,,2,0,x\n")
    assert [p.batch_discount for p in cat.read_prices(path)] == [D("0.5"), D("0.5333"), D("0")]
    path.write_text(f"{header}\na,,,1,,2,{discount},x\n")
    with pytest.raises(cat.CatalogError, match=re.escape(
            f"model_prices.csv line 2 batch_discount: {discount!r} is not")):
        cat.read_prices(path)


def test_a_sheet_saved_with_semicolons_reads_like_the_csv_but_decimal_commas_stop(tmp_path):
    """A spreadsheet in a locale that writes decimal commas saves semicolon-separated, with a
    byte order mark, sometimes with spaces after the separators: the columns are found all
    the same. Its prices then say 2,50, which is never guessed to mean 2.50."""
    header = ("model,valid_from,valid_to,input_usd_per_1m,cached_input_usd_per_1m,"
              "output_usd_per_1m")
    comma = tmp_path / "comma.csv"
    comma.write_text(f"{header}\ngpt-4o,2026-03-01,,2.5,1.25,10\n")
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("\ufeff" + header.replace(",", "; ") + "\r\n"
                     "gpt-4o; 2026-03-01; ; 2.5; 1.25; 10\r\n", encoding="utf-8")
    (got,), (want,) = cat.read_overrides(sheet), cat.read_overrides(comma)
    assert (got.source, want.source) == ("override sheet.csv line 2",
                                         "override comma.csv line 2")
    assert dataclasses.replace(got, source=want.source) == want
    sheet.write_text(header.replace(",", ";") + "\ngpt-4o;2026-03-01;;2,50;1,25;10\n")
    with pytest.raises(cat.CatalogError, match=re.escape(
            "line 2 input_usd_per_1m: '2,50' is not a decimal number (write the decimals "
            "after a point")):
        cat.read_overrides(sheet)
    teams = tmp_path / "teams.csv"
    teams.write_text("key_type;key_value;team;owner\nproject_id;proj_a;alpha;#alpha\n")
    keys, problems = cat.read_team_directory(teams)
    assert [(k.key_type, k.key_value, k.team, k.owner) for k in keys] == [
        ("project_id", "proj_a", "alpha", "#alpha")] and not problems
    teams.write_text("team|key\nalpha|proj_a\n")
    with pytest.raises(cat.CatalogError, match=re.escape(
            "missing columns ['key_type', 'key_value', 'team']; expected the header "
            "key_type,key_value,team, got ['team|key']")):
        cat.read_team_directory(teams)


@pytest.mark.parametrize(("reader", "header", "split", "quoted", "read_back", "expected"), [
    # decimal commas in a comma-separated file: read as 2, 50 and 1 before
    ("read_overrides", ",".join(cat.OVERRIDE_HEADER),
     "gpt-4o,2026-03-01,,2,50,1,25,10,00", 'gpt-4o,2026-03-01,,"2.50","1.25","10.00"',
     lambda p: (p.input_usd_per_1m, p.cached_input_usd_per_1m, p.output_usd_per_1m),
     (D("2.50"), D("1.25"), D("10.00"))),
    # a note with a comma: its second half was dropped
    ("read_lifecycle_overrides",
     "model,announced_date,shutdown_date,replacement_model,replacement_note",
     "gpt-4o,,2027-01-14,gpt-6-luna,use gpt-6-luna, or gpt-6-sol",
     'gpt-4o,,2027-01-14,gpt-6-luna,"use gpt-6-luna, or gpt-6-sol"',
     lambda p: p.replacement_note, "use gpt-6-luna, or gpt-6-sol"),
], ids=["price-with-decimal-commas", "lifecycle-note-with-a-comma"])
def test_an_override_row_with_a_field_too_many_stops_the_read_naming_the_line(
        tmp_path, reader, header, split, quoted, read_back, expected):
    """A row of a hand-edited override with more fields than the header names (a decimal
    comma in a comma-separated file, a note with an unquoted comma) would be read with its
    values from the split on in the wrong columns: `2,50,1,25,10,00` priced input at 2,
    cached input at 50 and output at 1. The read stops, naming the line and the likely
    cause; with the value quoted the row reads whole."""
    path = tmp_path / "overrides.csv"
    path.write_text(f"{header}\n# negotiated\n{split}\n")
    fields = len(split.split(","))
    with pytest.raises(cat.CatalogError, match=re.escape(
            f"overrides.csv line 3 has {fields} fields where the header names "
            f"{len(header.split(','))} (a value with an unquoted ',', or a decimal comma?)")):
        getattr(cat, reader)(path)
    path.write_text(f"{header}\n# negotiated\n{quoted}\n")
    (row,) = getattr(cat, reader)(path)
    assert read_back(row) == expected


def test_a_team_line_with_a_field_too_many_is_a_problem_not_a_truncated_name(tmp_path):
    """An owner written "Nair, Priya" or a team "Search, Ranking" without quotes was read as
    owner "Nair", or team "Search" owned by "Ranking". Such a line is left out and said, like
    the directory's other problems (its usage falls to the next key, or unassigned); the
    other lines map; quoted, the names read whole."""
    path = tmp_path / "teams.csv"
    path.write_text("key_type,key_value,team,owner\napi_key_id,key_1,search,Nair, Priya\n"
                    "project_id,proj_a,Search, Ranking,ines@example.com\n"
                    "project_id,proj_b,growth,#growth\n")
    keys, problems = cat.read_team_directory(path)
    assert [(k.key_value, k.team, k.owner) for k in keys] == [("proj_b", "growth", "#growth")]
    assert problems == [f"teams.csv line {n} has 5 fields where the header names 4 (a value "
                        "with an unquoted ',', or a decimal comma?): quote the value, or "
                        "write decimals with a point" for n in (2, 3)]
    path.write_text('key_type,key_value,team,owner\napi_key_id,key_1,search,"Nair, Priya"\n'
                    'project_id,proj_a,"Search, Ranking",ines@example.com\n')
    keys, problems = cat.read_team_directory(path)
    assert [(k.team, k.owner) for k in keys] == [("search", "Nair, Priya"),
                                                 ("Search, Ranking", "ines@example.com")]
    assert not problems


def test_a_stray_quote_in_the_team_directory_loses_only_its_line(tmp_path):
    """An owner typed `"Ines` opened a quoted value that Python's lenient reader ran on to
    the next quote, four lines further: the mappings between were read into one owner and
    gone, unsaid. Read strictly as a whole, nothing after the quote could be split (the
    forty-second session's reader stopped there, the teams after it unassigned). Each line
    is now read on its own: the line with the quote is said and left out, every other line
    maps."""
    path = tmp_path / "teams.csv"
    path.write_text('key_type,key_value,team,owner\n# owners\napi_key_id,key_0,chat,#chat\n\n'
                    'api_key_id,key_1,search,"Ines\nproject_id,proj_a,search,ines@x\n'
                    'project_id,proj_b,growth,#growth\nproject_id,proj_c,voice,"Nair, Priya"\n'
                    'project_id,proj_d,voice,"Nair" P.\n  \nuser_id,user_1,voice,\n')
    keys, problems = cat.read_team_directory(path)
    assert [(k.key_value, k.owner) for k in keys] == [
        ("key_0", "#chat"), ("proj_a", "ines@x"), ("proj_b", "#growth"),
        ("proj_c", "Nair, Priya"), ("user_1", None)]
    assert problems == [
        "teams.csv line 5 has a quoted value that does not close on it (a stray '\"' at its "
        "start?), so it is not read: remove the quote, or quote the whole value and double "
        "each quote inside it",
        "teams.csv line 9 has a '\"' where CSV allows none (',' expected after '\"'), so it "
        "is not read: remove the quote, or quote the whole value and double each quote "
        "inside it"]
    # a value run over two lines by a quote at each end: the first is said; the second is
    # read as the row it is, its stray quote kept in the owner's name
    path.write_text('key_type,key_value,team,owner\napi_key_id,key_1,search,"Ines\n'
                    'project_id,proj_a,search,ines@x"\nproject_id,proj_b,growth,#growth\n')
    keys, problems = cat.read_team_directory(path)
    assert [(k.key_value, k.owner) for k in keys] == [("proj_a", 'ines@x"'),
                                                     ("proj_b", "#growth")]
    assert [p.split(" has ")[0] for p in problems] == ["teams.csv line 2"]
    # the problems are said in the file's order, whatever kind each is
    path.write_text('key_type,key_value,team\nproject,proj_a,search\napi_key_id,"key_1,search\n'
                    'project_id,proj_b,\n')
    keys, problems = cat.read_team_directory(path)
    assert not keys
    assert [p.split(" has ")[0].split(":")[0] for p in problems] == [
        "teams.csv line 2", "teams.csv line 3", "teams.csv line 4"]
    # a header that cannot be read says why, not that its columns are missing
    path.write_text('key_type,key_value,"team\nproject_id,proj_b,growth\n')
    with pytest.raises(cat.CatalogError, match=r"teams\.csv line 1 has a quoted value that "
                                                "does not close on it"):
        cat.read_team_directory(path)
    # blank lines between entries, and at the end, are no rows
    path.write_text("key_type,key_value,team,owner\r\napi_key_id,key_1,search,Ines\r\n\r\n"
                    "\nproject_id,proj_b,growth,#growth\n\n")
    keys, problems = cat.read_team_directory(path)
    assert ([k.key_value for k in keys], problems) == (["key_1", "proj_b"], [])


def test_a_stray_quote_in_an_override_stops_the_read_naming_the_line(tmp_path):
    """A price override whose note opens a quote that never closes ran every line after it
    into that note: their prices were gone, unsaid. The read stops, naming the line."""
    path = tmp_path / "overrides.csv"
    header = ",".join(cat.OVERRIDE_HEADER)
    path.write_text(f"{header}\ngpt-4o,2026-03-01,,\"2.50,1.25,10.00\n"
                    "gpt-4o-mini,2026-03-01,,0.15,0.075,0.60\n")
    with pytest.raises(cat.CatalogError, match=re.escape(
            "overrides.csv line 2 has a quoted value that does not close on it (a stray '\"' "
            "at its start?), so it is not read")):
        cat.read_overrides(path)


def test_a_team_directory_or_override_saved_as_windows_1252_reads_with_its_names(tmp_path):
    """Excel on Windows saves "CSV (Comma delimited)" in Windows-1252: an owner's accented
    name, or a comment explaining a negotiated price, used to stop the run with a bare
    UnicodeDecodeError that named no file. It reads as the UTF-8 file would; a file that is
    neither says which file and how to save it."""
    text = ("key_type;key_value;team;owner\r\n# l'équipe de recherche\r\n"
            "project_id;proj_a;données;Hélène Dupré\r\n")
    (tmp_path / "utf8.csv").write_text(text, encoding="utf-8")
    (tmp_path / "excel.csv").write_bytes(text.encode("cp1252"))
    read = [cat.read_team_directory(tmp_path / n) for n in ("utf8.csv", "excel.csv")]
    assert read[0] == read[1]
    assert [(k.team, k.owner) for k in read[1][0]] == [("données", "Hélène Dupré")]
    overrides = tmp_path / "overrides.csv"
    overrides.write_bytes("# prix négocié\nmodel,valid_from,valid_to,input_usd_per_1m,"
                          "cached_input_usd_per_1m,output_usd_per_1m\n"
                          "gpt-4o,2026-03-01,,2,1,8\n".encode("cp1252"))
    (price,) = cat.read_overrides(overrides)
    assert (price.model, price.output_usd_per_1m, price.source) == (
        "gpt-4o", Decimal("8"), "override overrides.csv line 3")
    # Excel's "Unicode text": UTF-16 with its byte order mark, tab-separated
    (tmp_path / "unicode.txt").write_bytes(text.replace(";", "\t").encode("utf-16"))
    assert cat.read_team_directory(tmp_path / "unicode.txt") == read[0]
    (tmp_path / "neither.csv").write_bytes(text.encode("cp1252") + b"\x81")
    with pytest.raises(cat.CatalogError, match=re.escape(
            "neither.csv: neither UTF-8 text (byte ")) as raised:
        cat.read_team_directory(tmp_path / "neither.csv")
    assert "save it as CSV UTF-8" in str(raised.value)


LIFECYCLE_HEADER = "model,announced_date,shutdown_date,replacement_model\n"


def test_lifecycle_overrides_replace_add_and_withdraw(tmp_path):
    path = tmp_path / "lifecycle.csv"
    path.write_text(LIFECYCLE_HEADER + "# announced after the catalog was built\n"
                    "gpt-5.6-sol,2026-11-30,2027-02-01,gpt-6-luna\n"
                    "gpt-4o-2024-08-06,,,\n"
                    "acme-llm-7b-instruct,2026-12-01,2026-12-31,gpt-6-luna\n")
    overrides = cat.read_lifecycle_overrides(path)
    builtin = cat.read_lifecycle(CATALOG_DATA_DIR / "model_lifecycle.csv")
    merged = {row.model: row for row in cat.apply_lifecycle_overrides(builtin, overrides)}
    assert len(merged) == len({r.model for r in builtin} | {"gpt-5.6-sol",
                                                              "acme-llm-7b-instruct"})
    sol = merged["gpt-5.6-sol"]
    assert (sol.announced_date, sol.shutdown_date, sol.replacement_model, sol.source) == (
        dt.date(2026, 11, 30), dt.date(2027, 2, 1), "gpt-6-luna",
        "override lifecycle.csv line 3")  # the comment line is not counted as a data line
    # withdrawn: no dates, no replacement, where the catalog had 2027-01-14 -> gpt-6-luna
    withdrawn = merged["gpt-4o-2024-08-06"]
    assert (withdrawn.shutdown_date, withdrawn.replacement_model) == (None, None)
    # exact name only: the base model and the other snapshots keep the catalog's row
    assert merged["gpt-4o"].shutdown_date == dt.date(2027, 1, 14)
    assert merged["gpt-4o-2024-11-20"].source.startswith("litellm")


def test_lifecycle_override_effects_say_what_each_row_changes():
    builtin = cat.read_lifecycle(CATALOG_DATA_DIR / "model_lifecycle.csv")
    overrides = [
        cat.Lifecycle("gpt-4o-2024-08-06", None, None, None, None, "o"),
        cat.Lifecycle("gpt-4o", None, dt.date(2027, 1, 14), "gpt-6-luna", None, "o"),
        cat.Lifecycle("acme-7b", dt.date(2026, 12, 1), None, None, None, "o"),
    ]
    assert cat.lifecycle_override_effects(builtin, overrides) == [
        ("gpt-4o-2024-08-06", "? -> 2027-01-14, gpt-6-luna", "not retiring"),
        ("gpt-4o", "? -> 2027-01-14, gpt-6-luna", "same as the catalog"),
        ("acme-7b", "not in the catalog", "2026-12-01 -> no date, no replacement"),
    ]


@pytest.mark.parametrize(("rows", "message"), [
    ("gpt-4o,2026-12-01,2026-11-01,gpt-6-luna\n", "line 2: shutdown_date 2026-11-01 is before"),
    ("gpt-4o,,2027-13-01,\n", "line 2 shutdown_date: '2027-13-01' is not an ISO date"),
    ("gpt-4o,,2027-01-01,\ngpt-4o,,2027-02-01,\n", "line 3: gpt-4o is already overridden on "
                                                   "line 2"),
    (",,2027-01-01,gpt-4o\n", "line 2: model is empty"),
    ("gpt-4o,,2027-01-01,gpt-4o\n", "gpt-4o cannot be its own replacement"),
])
def test_lifecycle_override_errors_name_the_line(tmp_path, rows, message):
    path = tmp_path / "lifecycle.csv"
    path.write_text(LIFECYCLE_HEADER + rows)
    with pytest.raises(cat.CatalogError, match=message.replace("(", r"\(")):
        cat.read_lifecycle_overrides(path)


def test_a_lifecycle_override_file_without_the_header_says_which(tmp_path):
    path = tmp_path / "lifecycle.csv"
    path.write_text("model,shutdown\ngpt-4o,2027-01-01\n")
    with pytest.raises(cat.CatalogError, match=r"missing columns \['announced_date', "
                                               r"'shutdown_date', 'replacement_model'\]"):
        cat.read_lifecycle_overrides(path)


@pytest.mark.parametrize(("text", "message"), [
    ("provider,billing_account_id\nOpenAI,\n", "line 2: provider and billing_account_id "
                                                "are required"),
    ("provider,billing_account_id\n,org-a\n", "line 2: provider and billing_account_id "
                                               "are required"),
    ("# ours\nprovider,billing_account_id\nOpenAI,org-a\nAnthropic,ws-1\nopenai,org-b\n",
     "line 5: openai already has an account, on line 3"),
    ("provider,account\nOpenAI,org-a\n", r"missing columns \['billing_account_id'\]"),
    ('provider,billing_account_id\nOpenAI,"org-a\n', "line 2 has a quoted value that does "
                                                      "not close on it"),
])
def test_a_billing_accounts_mistake_stops_the_read_naming_the_line(tmp_path, text, message):
    """An account set wrongly would put a provider's whole bill on it: no line is guessed."""
    path = tmp_path / "billing_accounts.csv"
    path.write_text(text)
    with pytest.raises(cat.CatalogError, match=message):
        cat.read_billing_accounts(path)


def test_billing_accounts_read_with_their_names_and_lines(tmp_path):
    path = tmp_path / "billing_accounts.csv"
    path.write_text("provider,billing_account_id,billing_account_name\n"
                    " OpenAI , org-a ,Acme\n\nAnthropic,ws-1\n")
    assert cat.read_billing_accounts(path) == [
        cat.BillingAccount("OpenAI", "org-a", "Acme", "billing_accounts.csv line 2"),
        cat.BillingAccount("Anthropic", "ws-1", None, "billing_accounts.csv line 4")]


def test_team_directory_problems_are_reported_not_guessed(tmp_path):
    path = tmp_path / "teams.csv"
    path.write_text("key_type,key_value,team\nproject_id,p1,a\nproject_id,p1,b\n"
                    "org_id,o1,c\nproject_id,p1,a\nuser_id,,d\napi_key_id,k1,\n")
    keys, problems = cat.read_team_directory(path)
    assert [(k.key_value, k.team) for k in keys] == [("p1", "a")]
    assert len(problems) == 4
    assert [p for p in problems if "key_value and team are required" in p] == [
        "teams.csv line 6: key_value and team are required",
        "teams.csv line 7: key_value and team are required"]


def test_conflicts_are_listed_with_the_rule_applied():
    from pipelines.lib.catalog_build import LifecycleRow, apply_models_api, find_conflicts

    page = "deprecations page"
    lifecycle = [LifecycleRow("m1", dt.date(2026, 1, 1), dt.date(2026, 6, 1), "r1", None, page),
                 LifecycleRow("m2", None, dt.date(2026, 7, 1), None, None, "litellm")]
    current = {
        "m1": {"litellm_provider": "openai", "deprecation_date": "2026-06-15",
               "successor_model": "r2", "input_cost_per_token": 2e-06,
               "output_cost_per_token": 8e-06},
        "m3": {"litellm_provider": "openai", "input_cost_per_token": 1e-06,
               "output_cost_per_token": 4e-06},
    }
    older = {"m3": {"litellm_provider": "openai", "input_cost_per_token": 2e-06,
                    "output_cost_per_token": 4e-06}}
    found = find_conflicts(lifecycle, current, older, "litellm", "litellm-old",
                           {"m2": "2026-08-01"}, "models api")
    assert [(c.model, c.field, c.chosen_value, c.other_value) for c in found] == [
        ("m1", "replacement_model", "r1", "r2"),
        ("m1", "shutdown_date", "2026-06-01", "2026-06-15"),
        ("m2", "shutdown_date", "2026-08-01", "2026-07-01"),
        ("m3", "price input/cached/output per 1M", "1//4", "2//4"),
    ]
    applied = {r.model: r for r in apply_models_api(lifecycle, {"m2": "2026-08-01"}, "api")}
    assert applied["m2"].shutdown_date == dt.date(2026, 8, 1)
    assert applied["m1"].shutdown_date == dt.date(2026, 6, 1)


def test_catalog_build_takes_models_api_shutdown_dates(tmp_path):
    import json

    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data not present")
    models = tmp_path / "models.json"
    models.write_text(json.dumps({"object": "list", "data": [
        {"id": "gpt-4o", "object": "model", "created": 1, "owned_by": "system",
         "shutdown_date": "2027-02-01"},
        {"id": "gpt-6-luna", "object": "model", "created": 1, "owned_by": "system",
         "shutdown_date": None}]}))
    build_catalog(["--out", str(tmp_path), "--models-json", str(models)])
    lifecycle = {r.model: r for r in cat.read_lifecycle(tmp_path / "model_lifecycle.csv")}
    assert lifecycle["gpt-4o"].shutdown_date == dt.date(2027, 2, 1)
    assert "OpenAI Models API" in lifecycle["gpt-4o"].source
    conflicts = (tmp_path / "catalog_conflicts.csv").read_text()
    assert "gpt-4o,shutdown_date,2027-02-01" in conflicts
    # a saved response does not say when it was fetched: its day is left unknown
    assert ("OpenAI Models API GET /v1/models (models.json),lifecycle,\n"
            in (tmp_path / "catalog_sources.csv").read_text())


def test_catalog_build_records_the_day_each_source_speaks_for(tmp_path, httpserver, monkeypatch):
    """catalog_sources.csv: the deprecations list speaks for its newest announcement, a pull
    of GET /v1/models (a real local server, the admin key sent) for the day of the pull."""
    import csv
    import json

    from pipelines.lib.catalog_build import deprecations_as_of, read_deprecations
    from pipelines.sync.client import AdminApiError
    from tests.fake_openai import ADMIN_KEY

    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data not present")
    project_key = "sk-proj-test-models-0123456789"
    httpserver.expect_request(
        "/v1/models", headers={"Authorization": f"Bearer {project_key}"}).respond_with_data(
        json.dumps({"object": "list", "data": [
            {"id": "gpt-4o", "object": "model", "created": 1, "owned_by": "system",
             "shutdown_date": "2027-02-01"}]}), content_type="application/json")
    monkeypatch.setenv("OPENAI_BASE_URL", httpserver.url_for("/v1"))
    # admin keys serve the administration endpoints only: GET /v1/models takes a project key
    monkeypatch.setenv("OPENAI_ADMIN_KEY", ADMIN_KEY)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(AdminApiError, match="OPENAI_API_KEY is not set. GET /v1/models needs"):
        build_catalog(["--out", str(tmp_path), "--pull-models"])
    monkeypatch.setenv("OPENAI_API_KEY", project_key)
    build_catalog(["--out", str(tmp_path), "--pull-models"])
    with (tmp_path / "catalog_sources.csv").open() as fh:
        sources = {r["source"]: (r["kind"], r["as_of"]) for r in csv.DictReader(fh)}
    deprecations = read_deprecations(SHARED_DATA / "openai_deprecations.csv")
    newest = max(r["announced"] for r in deprecations if r["announced"])
    assert deprecations_as_of(deprecations) == dt.date.fromisoformat(newest)
    today = dt.datetime.now(dt.UTC).date()
    assert sources == {
        DEPRECATIONS_LABEL: ("lifecycle", newest),
        LITELLM_LABEL: ("prices and lifecycle", ""),
        LITELLM_OLD_LABEL: ("prices and lifecycle", ""),
        f"OpenAI Models API GET /v1/models (pulled {today})": ("lifecycle", str(today)),
    }
    lifecycle = {r.model: r for r in cat.read_lifecycle(tmp_path / "model_lifecycle.csv")}
    assert lifecycle["gpt-4o"].shutdown_date == dt.date(2027, 2, 1)
    assert deprecations_as_of([{"announced": ""}]) is None


def test_a_models_pull_refused_says_which_key_it_needs(httpserver):
    """The real API answers an admin key on GET /v1/models with 401: the message names the
    key the endpoint needs, not the Admin API's."""
    from pipelines.sync.client import MODELS_KEY_HINT, AdminApiError, OpenAIAdminClient

    httpserver.expect_request("/v1/models").respond_with_json(
        {"error": {"message": "Incorrect API key provided"}}, status=401)
    with OpenAIAdminClient("sk-admin-not-for-models-123", httpserver.url_for("/v1"),
                           key_variable="OPENAI_API_KEY", auth_hint=MODELS_KEY_HINT) as client, \
            pytest.raises(AdminApiError, match="HTTP 401. GET /v1/models needs an OpenAI API "
                                               "key \\(a project key\\) in OPENAI_API_KEY"):
        client.models()


def test_the_shipped_catalog_refreshes_from_the_models_api_without_the_sources(
        tmp_path, httpserver, monkeypatch):
    """In a deployment the public sources are not there: `make catalog` with a project key
    starts from the shipped catalog, applies the Models API's shutdown dates (a changed one,
    a new model) and records the pull's day as a source; prices and the rest stay as they
    are."""
    import csv
    import json

    from pipelines.settings import CATALOG_DATA_DIR

    shipped = {r.model: r for r in cat.read_lifecycle(CATALOG_DATA_DIR / "model_lifecycle.csv")}
    moved = next(m for m, r in sorted(shipped.items()) if r.shutdown_date and r.announced_date)
    old_date = shipped[moved].shutdown_date
    assert old_date is not None
    new_date = old_date + dt.timedelta(days=30)
    project_key = "sk-proj-refresh-0123456789"
    httpserver.expect_request(
        "/v1/models", headers={"Authorization": f"Bearer {project_key}"}).respond_with_data(
        json.dumps({"object": "list", "data": [
            {"id": moved, "object": "model", "created": 1, "owned_by": "system",
             "shutdown_date": new_date.isoformat()},
            {"id": "gpt-brand-new-2026", "object": "model", "created": 1, "owned_by": "system",
             "shutdown_date": "2027-03-01"},
            {"id": "gpt-6-luna", "object": "model", "created": 1, "owned_by": "system",
             "shutdown_date": None}]}), content_type="application/json")
    monkeypatch.setenv("OPENAI_BASE_URL", httpserver.url_for("/v1"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    missing = tmp_path / "no-such" / "openai_deprecations.csv"
    with pytest.raises(SystemExit, match="the public sources are not here .* set "
                                         "OPENAI_API_KEY"):
        build_catalog(["--out", str(tmp_path / "out"), "--deprecations", str(missing)])
    monkeypatch.setenv("OPENAI_API_KEY", project_key)
    out = tmp_path / "out"
    build_catalog(["--out", str(out), "--deprecations", str(missing), "--pull-models"])

    for kept in ("model_prices.csv", "model_price_bands.csv", "model_unit_prices.csv"):
        assert (out / kept).read_text() == (CATALOG_DATA_DIR / kept).read_text(), kept
    refreshed = {r.model: r for r in cat.read_lifecycle(out / "model_lifecycle.csv")}
    assert set(refreshed) == set(shipped) | {"gpt-brand-new-2026"}
    assert refreshed[moved].shutdown_date == new_date
    assert refreshed[moved].announced_date == shipped[moved].announced_date
    assert refreshed[moved].replacement_model == shipped[moved].replacement_model
    assert refreshed["gpt-brand-new-2026"].shutdown_date == dt.date(2027, 3, 1)
    unchanged = set(shipped) - {moved}
    assert all(refreshed[m] == shipped[m] for m in unchanged)
    conflicts = (out / "catalog_conflicts.csv").read_text()
    assert conflicts.startswith((CATALOG_DATA_DIR / "catalog_conflicts.csv").read_text())
    assert f"{moved},shutdown_date,{new_date}" in conflicts
    with (out / "catalog_sources.csv").open() as fh:
        sources = list(csv.DictReader(fh))
    with (CATALOG_DATA_DIR / "catalog_sources.csv").open() as fh:
        assert sources[:-1] == list(csv.DictReader(fh))
    today = dt.datetime.now(dt.UTC).date()
    assert sources[-1] == {"source": f"OpenAI Models API GET /v1/models (pulled {today})",
                           "kind": "lifecycle", "as_of": str(today)}
    # run again on the refreshed catalog (as make catalog does, in place): the same files
    before = {f.name: f.read_text() for f in out.iterdir()}
    monkeypatch.setattr("pipelines.lib.catalog_build.SHIPPED_DIR", out)
    build_catalog(["--out", str(out), "--deprecations", str(missing), "--pull-models"])
    assert {f.name: f.read_text() for f in out.iterdir()} == before


def test_the_build_takes_other_providers_text_models_and_leaves_placeholders_out():
    from pipelines.lib.catalog_build import build_lifecycle, build_prices

    current = {
        "sample_spec": {"mode": "chat", "input_cost_per_token": "description"},
        # OpenAI's legacy completions are filed under another provider name
        "babbage-002": {"litellm_provider": "text-completion-openai", "mode": "completion",
                        "input_cost_per_token": 4e-07, "output_cost_per_token": 4e-07},
        "claude-x-1": {"litellm_provider": "anthropic", "mode": "chat",
                       "input_cost_per_token": 3e-06, "cache_read_input_token_cost": 3e-07,
                       "output_cost_per_token": 1.5e-05, "deprecation_date": "2026-11-30",
                       "successor_model": "claude-x-2"},
        "claude-x-2": {"litellm_provider": "anthropic", "mode": "chat",
                       "input_cost_per_token": 2e-06, "output_cost_per_token": 1e-05},
        # a price computed in binary floating point: read to 15 digits, it is 1.6 / 3.2
        "novita/m": {"litellm_provider": "novita", "mode": "chat",
                     "input_cost_per_token": 1.6000000000000001e-06,
                     "output_cost_per_token": 3.2000000000000003e-06},
        # 0 / 0 is LiteLLM's placeholder: no price (its usage stays unpriced), but its date counts
        "gemini/free": {"litellm_provider": "gemini", "mode": "chat", "input_cost_per_token": 0,
                        "output_cost_per_token": 0, "deprecation_date": "2027-01-01"},
        # finer than the money rule's 1e-12 USD per token: left out, never rounded
        "morph/m": {"litellm_provider": "morph", "mode": "chat",
                    "input_cost_per_token": 1.41953125e-07, "output_cost_per_token": 1e-06},
        # not text models, and a gateway's provider prefix that resolution drops
        "vertex_ai/imagen": {"litellm_provider": "vertex_ai", "mode": "image_generation",
                             "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06},
        "openai/sora-2": {"litellm_provider": "openai", "mode": "chat",
                          "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06},
    }
    older = {
        # deleted from the current catalog: its price and date come from the older copy
        "claude-x-0": {"litellm_provider": "anthropic", "mode": "chat",
                       "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
                       "deprecation_date": "2025-06-01"},
        "claude-x-1": {"litellm_provider": "anthropic", "mode": "chat",
                       "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06,
                       "deprecation_date": "2025-01-01"},
    }
    left_out: list[str] = []
    prices = {p.model: p for p in build_prices(current, older, "new", "old", left_out)}
    assert {m: (p.input_usd_per_1m, p.cached_input_usd_per_1m, p.output_usd_per_1m, p.source)
            for m, p in prices.items()} == {
        "babbage-002": (D("0.4"), None, D("0.4"), "new"),
        "claude-x-0": (D("3"), None, D("15"), "old"),
        "claude-x-1": (D("3"), D("0.3"), D("15"), "new"),
        "claude-x-2": (D("2"), None, D("10"), "new"),
        "novita/m": (D("1.6"), None, D("3.2"), "new"),
    }
    assert len(left_out) == 1 and left_out[0].startswith("morph/m (new): price")
    lifecycle = {r.model: (r.announced_date, r.shutdown_date, r.replacement_model, r.source)
                 for r in build_lifecycle([], "page", current, "new", older, "old")}
    assert lifecycle == {
        "claude-x-0": (None, dt.date(2025, 6, 1), None, "old"),
        "claude-x-1": (None, dt.date(2026, 11, 30), "claude-x-2", "new"),
        "gemini/free": (None, dt.date(2027, 1, 1), None, "new"),
    }


def test_the_shipped_catalog_covers_other_providers_and_openai_legacy_completions():
    assert (PRICES["babbage-002"].input_usd_per_1m, PRICES["babbage-002"].output_usd_per_1m) == (
        D("0.4"), D("0.4"))
    claude = LIFECYCLE["claude-sonnet-4-5-20250929"]
    assert (claude.shutdown_date, claude.replacement_model, claude.source) == (
        dt.date(2026, 11, 30), "claude-sonnet-5-5", LITELLM_LABEL)
    assert LIFECYCLE["claude-3-5-sonnet-20240620"].source == LITELLM_OLD_LABEL
    assert {"claude-sonnet-5-5", "gemini/gemini-2.5-pro", "azure/gpt-4o"} <= set(PRICES)
    assert "gemini/gemini-exp-1206" not in PRICES  # LiteLLM's 0 / 0 placeholder
    # OpenAI's own rows keep their source: the deprecations page
    assert LIFECYCLE["babbage-002"].source == DEPRECATIONS_LABEL


@pytest.mark.parametrize(("announced", "shutdown", "as_of", "expected"), [
    (None, "2028-03-11", "2026-12-05", False),   # LiteLLM's date two years out: not yet
    (None, "2028-03-11", "2027-03-11", False),   # 366 days before
    (None, "2028-03-11", "2027-03-12", True),    # 365 days before: counts as announced
    (None, "2026-11-30", "2026-12-05", True),
    ("2026-01-10", "2028-03-11", "2026-12-05", True),   # an announcement date says so itself
    ("2026-12-06", "2027-01-01", "2026-12-05", False),
    (None, None, "2026-12-05", False),
])
def test_a_row_without_an_announcement_counts_as_announced_a_year_ahead(
        announced, shutdown, as_of, expected):
    def day(text):
        return dt.date.fromisoformat(text) if text else None
    row = cat.Lifecycle("m", day(announced), day(shutdown), None, None, "litellm")
    assert cat.UNANNOUNCED_LEAD_DAYS == 365
    assert cat.counts_as_announced(row, day(as_of)) is expected


def test_the_example_override_files_read_and_apply_to_the_shipped_catalog():
    """The README points users at these files to start their own from: they read as a run
    reads them, and the overrides apply to the shipped catalog."""
    sample = CATALOG_DATA_DIR.parent / "sample"
    overrides = cat.read_price_overrides(sample / "catalog_overrides.example.csv")
    assert [(p.model, p.output_usd_per_1m) for p in overrides.prices] == [
        ("gpt-4o", D("8.00")), ("acme-llm-7b-instruct", D("0.60"))]
    assert [(u.model, u.unit, u.usd_per_1m_units) for u in overrides.unit_prices] == [
        ("whisper-1", "seconds", D("80"))]
    merged = cat.apply_overrides(cat.read_prices(CATALOG_DATA_DIR / "model_prices.csv"),
                                 overrides.prices)
    (gpt_4o,) = [p for p in merged if p.model == "gpt-4o" and p.service_tier is None
                 and p.covers(dt.date(2026, 6, 1))]
    assert (gpt_4o.input_usd_per_1m, gpt_4o.source) == (
        D("2.00"), "override catalog_overrides.example.csv line 9")
    units = cat.apply_unit_overrides(
        cat.read_unit_prices(CATALOG_DATA_DIR / "model_unit_prices.csv"), overrides.unit_prices)
    assert [u.usd_per_1m_units for u in units if u.model == "whisper-1"] == [D("100"), D("80")]
    lifecycle = cat.read_lifecycle_overrides(sample / "lifecycle_overrides.example.csv")
    assert [(r.model, r.shutdown_date, r.replacement_model) for r in lifecycle] == [
        ("gpt-5.6-sol", dt.date(2027, 2, 15), "gpt-6-luna"),
        ("gpt-4o-2024-08-06", dt.date(2027, 3, 31), "gpt-6-luna")]
    assert lifecycle[1].replacement_note == "postponed to 2027-03-31, per the provider's notice"
    accounts = cat.read_billing_accounts(sample / "billing_accounts.example.csv")
    assert [(a.provider, a.billing_account_name) for a in accounts] == [
        ("OpenAI", "Example Co"), ("Anthropic", "Example Co (Claude)")]


def test_the_shipped_catalog_is_parsed_once_per_content(tmp_path):
    """A long-lived process (`dagster dev`, the suite) keeps the parsed shipped prices while
    the file holds the same bytes, and reads it anew as soon as they change, even to the same
    size within the same modification time; each caller gets a list of its own."""
    path = tmp_path / "model_prices.csv"
    lines = (CATALOG_DATA_DIR / "model_prices.csv").read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1]]) + "\n")
    first = cat.read_prices(path)
    again = cat.read_prices(path)
    assert first == again and first is not again
    again.clear()  # a caller's list is its own
    assert cat.read_prices(path) == first
    stat = path.stat()
    # one digit of the input price changed: the same size, the same modification time
    changed = lines[1].replace(",2020-01-01,,1,0.1,", ",2020-01-01,,2,0.1,")
    assert changed != lines[1] and len(changed) == len(lines[1])
    path.write_text("\n".join([lines[0], changed]) + "\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    (price,) = cat.read_prices(path)
    assert (first[0].input_usd_per_1m, price.input_usd_per_1m) == (D("1"), D("2"))
