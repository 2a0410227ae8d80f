"""The Costs API's ``quantity`` and ``quantity_unit`` (formats.md 2: how much of a line item
was used, and in what; in the spec since 2026-05-13 and 2026-08-21) are kept with the amount,
through staging into ``intermediate.billed_costs``, counted once as the amount is."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.lib import openai_pages
from pipelines.lib.duck import prepare
from pipelines.lib.ingest import ingest_landing
from tests.exports import bucket, epoch, page
from tests.test_groupings import billed as groupings_billed
from tests.test_groupings import drop

D = Decimal


def cost(amount: str | float, line: str | None = "gpt-4o, input", project: str | None = "proj_a",
         **quantity) -> dict:
    return {"object": "organization.costs.result", "amount": {"value": amount, "currency": "usd"},
            "line_item": line, "project_id": project, "api_key_id": None, **quantity}


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return prepare(duckdb.connect(":memory:"))


def cost_view(landing: Path, rows: list[str]) -> None:
    """A dashboard cost export with the quantity columns, of 2026-11-21: each row from its
    amount_value on."""
    s = epoch("2026-11-21")
    (landing / "cost_view.csv").write_text(
        "start_time,end_time,amount_value,amount_currency,line_item,project_id,quantity,"
        "quantity_unit\n" + "".join(f"{s},{s + 86400},{row}\n" for row in rows))


def billed(con: duckdb.DuckDBPyConnection, landing: Path) -> list[tuple]:
    return groupings_billed(con, landing,
                            "project_id, line_item, amount_usd, quantity, quantity_unit")


def test_a_cost_result_keeps_its_quantity_and_unit():
    parsed = openai_pages.parse_pages(json.dumps(page([bucket("2026-11-20", [
        cost("1.20", quantity=12000, quantity_unit="tokens"),
        cost("0.40", "Realtime, audio", quantity=1.5, quantity_unit="duration_hours"),
        cost("0.10", "Images", quantity="3", quantity_unit="images"),
        cost("0.05", "Other", quantity=None, quantity_unit=None),
        cost("0.01", None)])])))  # an older page: neither field
    assert parsed.costs.select("quantity", "quantity_unit").rows() == [
        ("12000", "tokens"), ("1.5", "duration_hours"), ("3", "images"), (None, None),
        (None, None)]


@pytest.mark.parametrize(("fields", "reason"), [
    ({"quantity": -5}, "quantity is negative: -5"),
    ({"quantity": "12,5"}, "quantity is not a number: '12,5'"),
    ({"quantity": True}, "quantity is not a number: True"),
    ({"quantity": [3]}, "quantity is not a number: [3]"),
    ({"quantity": "NaN"}, "quantity is not finite: 'NaN'"),
    ({"quantity": 1e30}, "quantity implausibly large (over 10^15): 1e+30"),
    ({"quantity": 3, "quantity_unit": 7}, "quantity_unit is not a string: 7"),
])
def test_a_bad_quantity_rejects_its_row_with_the_reason(fields, reason):
    parsed = openai_pages.parse_pages(json.dumps(page([bucket("2026-11-20", [
        cost("9.99", "broken", **fields), cost("0.50", quantity=10, quantity_unit="tokens")])])))
    assert parsed.costs.select("amount_usd", "quantity").rows() == [("0.50", "10")]
    assert parsed.usage.filter(parsed.usage["reason"].is_not_null())["reason"].to_list() == [
        reason]


def test_quantities_reach_the_bill_from_pages_and_from_a_cost_view(tmp_path, con):
    """From a Costs API page and from a dashboard cost export that has the two columns (the
    cost view seen so far does not: formats.md 4); a bad quantity in either quarantines its
    row with the reason, and the file's other rows load."""
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "costs.json", [cost("1.20", quantity=12000, quantity_unit="tokens"),
                                 cost("0.30", "gpt-4o, output", quantity=0.25,
                                      quantity_unit="1000_tokens"),
                                 cost("5", "bad", quantity=-1, quantity_unit="tokens")], 1)
    cost_view(landing, ["2.50,usd,Images,proj_b,4.0,images", "0.75,usd,Other,proj_b,,",
                        "1.00,usd,minus,proj_b,-3,images", '1.00,usd,comma,proj_b,"3,5",images',
                        f"1.00,usd,huge,proj_b,{'9' * 16},tokens"])
    assert billed(con, landing) == [
        ("proj_a", "gpt-4o, input", D("1.2"), D("12000"), "tokens"),
        ("proj_a", "gpt-4o, output", D("0.3"), D("0.25"), "1000_tokens"),
        ("proj_b", "Images", D("2.5"), D("4"), "images"),
        ("proj_b", "Other", D("0.75"), None, None)]
    assert sorted(r for (r,) in con.execute(
        "SELECT reason FROM staging.rejected_rows").fetchall()) == [
        "quantity implausibly large (over 10^15): " + "9" * 16,
        "quantity is negative: -1", "quantity is negative: -3",
        "quantity is not a decimal number: 3,5"]


def test_amounts_and_quantities_in_scientific_notation_load_exactly(tmp_path, con):
    """A cost export saved by pandas or a spreadsheet writes a small amount as ``1.25e-05``
    and a large quantity as ``3.2E+07``: read as the exact decimals they print (the Costs
    API's pages already were), kept to the bill's 1e-10 USD, half away from zero. An
    exponent that puts an amount at 10^15 USD or more, and one of more than three digits (no
    amount or quantity has one), quarantine their row with the reason."""
    landing = tmp_path / "landing"
    landing.mkdir()
    cost_view(landing, ["1.25e-05,usd,embeddings,proj_a,3.2E+07,tokens",
                        "-2.5E-3,usd,credit,proj_a,,", "2.5e-10,usd,half,proj_a,1.5e0,images",
                        "9.5e+14,usd,large,proj_a,1e15,tokens", "1e15,usd,too large,proj_a,,",
                        "0.5,usd,too many,proj_a,1.1e15,tokens", "1e-1000,usd,tiny,proj_a,,",
                        "0.5,usd,tiny quantity,proj_a,2e+1000,tokens"])
    drop(landing, "costs.json", [cost(1.25e-05, "embeddings", quantity=3.2e7,
                                      quantity_unit="tokens")], 1, day="2026-11-20")
    assert billed(con, landing) == [
        ("proj_a", "credit", D("-0.0025"), None, None),
        ("proj_a", "embeddings", D("0.0000125"), D("32000000"), "tokens"),
        ("proj_a", "embeddings", D("0.0000125"), D("32000000"), "tokens"),
        ("proj_a", "half", D("0.0000000003"), D("1.5"), "images"),
        ("proj_a", "large", D("950000000000000"), D("1000000000000000"), "tokens")]
    assert sorted(r for (r,) in con.execute(
        "SELECT reason FROM staging.rejected_rows").fetchall()) == [
        "amount_value implausibly large (over 10^15 USD): 1e15",
        "amount_value is not a decimal number: 1e-1000",
        "quantity implausibly large (over 10^15): 1.1e15",
        "quantity is not a decimal number: 2e+1000"]


def test_a_quantity_is_counted_once_as_its_amount_is(tmp_path, con):
    """A save by line item only beside the sync's pages by project and line item: the finer
    rows' quantities are taken out of the coarser row's with their amounts; what they do not
    explain (a project the finer save left out) stays, in its unit."""
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "by-line.json", [cost("3.0", project=None, quantity=3000, quantity_unit="tokens"),
                                   cost("1.0", "Images", None, quantity=4,
                                        quantity_unit="images")], 1)
    drop(landing, "sync.json", [cost("2.0", quantity=2000, quantity_unit="tokens"),
                                cost("1.0", "Images", quantity=4, quantity_unit="images")], 2)
    assert billed(con, landing) == [
        (None, "gpt-4o, input", D("1"), D("1000"), "tokens"),
        ("proj_a", "Images", D("1"), D("4"), "images"),
        ("proj_a", "gpt-4o, input", D("2"), D("2000"), "tokens")]
    assert con.execute("SELECT line_item, quantity, quantity_unit, fully_set_aside FROM "
                       "intermediate.billed_set_aside ORDER BY 1").fetchall() == [
        ("Images", D("4"), "images", True), ("gpt-4o, input", D("2000"), "tokens", False)]


def test_a_warehouse_from_before_the_quantities_takes_them_on(tmp_path, con):
    """A warehouse whose bill has no quantity columns (every version before this one) gets
    them on its next ingest: the rows it holds keep NULL (their files are not read again),
    and a newer export of the same bucket with its quantity replaces the row."""
    landing = tmp_path / "landing"
    landing.mkdir()
    drop(landing, "old.json", [cost("1.20")], 1)
    billed(con, landing)
    for table in ("staging.billed_costs", "intermediate.billed_set_aside"):
        con.execute(f"ALTER TABLE {table} DROP COLUMN quantity")
        con.execute(f"ALTER TABLE {table} DROP COLUMN quantity_unit")
    drop(landing, "other-day.json", [cost("0.5", quantity=500, quantity_unit="tokens")], 2,
         day="2026-11-21")
    drop(landing, "by-line.json", [cost("0.7", project=None, quantity=700,
                                        quantity_unit="tokens")], 3, day="2026-11-21")
    assert billed(con, landing) == [
        (None, "gpt-4o, input", D("0.2"), D("200"), "tokens"),
        ("proj_a", "gpt-4o, input", D("0.5"), D("500"), "tokens"),
        ("proj_a", "gpt-4o, input", D("1.2"), None, None)]
    drop(landing, "again.json", [cost("1.20", quantity=1200, quantity_unit="tokens")], 4)
    (outcome,) = [o for o in ingest_landing(con, landing) if o.path.endswith("again.json")]
    assert (outcome.status, outcome.rows_loaded, outcome.rows_duplicate) == ("loaded", 1, 0)
    assert con.execute("SELECT usage_date, amount_usd, quantity FROM staging.billed_costs "
                       "ORDER BY ALL").fetchall() == [
        (dt.date(2026, 11, 20), D("1.2"), D("1200")), (dt.date(2026, 11, 21), D("0.5"), D("500")),
        (dt.date(2026, 11, 21), D("0.7"), D("700"))]
