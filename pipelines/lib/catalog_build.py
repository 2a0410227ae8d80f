"""Build the shipped pricing and lifecycle catalog from its public sources.

Run ``make catalog`` (``python -m pipelines.lib.catalog_build``) to regenerate
``pipelines/catalog_data/model_prices.csv`` and ``model_lifecycle.csv`` when a provider
announces the next retirement or changes a price. The product reads only those two CSVs at
run time; the sources are needed only for this command.

Sources and precedence
* prices: the current LiteLLM catalog (1.110.2) first; OpenAI entries that it deleted (shut-down
  models) come from the older 1.81.0 copy, so historical usage of them can still be priced.
* lifecycle: the official OpenAI deprecations page (as CSV) first. Models absent from the page
  but carrying a ``deprecation_date`` in the current LiteLLM catalog (which, for OpenAI entries,
  is the shutdown date) are added with that source and no announcement date.
* a model listed twice on the page keeps the row with the latest announcement (ties: the
  earliest shutdown). Ambiguous replacements keep the first alternative; the full text is the note.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

from pipelines.lib.modelnames import parse_replacement
from pipelines.lib.money import DEFAULT_BATCH_DISCOUNT, per_token_to_per_million

#: valid_from of catalog prices whose start date no source states: before any usage in scope.
OPEN_START = dt.date(2020, 1, 1)
PRICE_COLUMNS = [
    "model", "valid_from", "valid_to", "input_usd_per_1m", "cached_input_usd_per_1m",
    "output_usd_per_1m", "batch_discount", "mode", "source",
]
LITELLM_LABEL = "litellm 1.110.2 model_prices_and_context_window.json"
LITELLM_OLD_LABEL = "litellm 1.81.0 model_prices_and_context_window.json"
DEPRECATIONS_LABEL = ("openai deprecations page https://developers.openai.com/api/docs/deprecations"
                      " (version of 2026-09-11)")
LIFECYCLE_COLUMNS = [
    "model", "announced_date", "shutdown_date", "replacement_model", "replacement_note", "source",
]


@dataclass(frozen=True)
class PriceRow:
    model: str
    valid_from: dt.date
    valid_to: dt.date | None
    input_usd_per_1m: Decimal
    cached_input_usd_per_1m: Decimal | None
    output_usd_per_1m: Decimal
    batch_discount: Decimal
    mode: str | None
    source: str


@dataclass(frozen=True)
class LifecycleRow:
    model: str
    announced_date: dt.date | None
    shutdown_date: dt.date | None
    replacement_model: str | None
    replacement_note: str | None
    source: str


def _is_openai_token_entry(key: str, entry: dict) -> bool:
    return (
        isinstance(entry, dict)
        and entry.get("litellm_provider") == "openai"
        and "/" not in key
        and "input_cost_per_token" in entry
        and "output_cost_per_token" in entry
    )


def _batch_discount(entry: dict, input_price: Decimal) -> Decimal:
    batch = entry.get("input_cost_per_token_batches")
    if batch is None or input_price == 0:
        return DEFAULT_BATCH_DISCOUNT
    ratio = per_token_to_per_million(batch) / input_price
    return (1 - ratio).quantize(Decimal("0.0001"))


def prices_from_litellm(catalog: dict, source: str) -> dict[str, PriceRow]:
    rows: dict[str, PriceRow] = {}
    for key, entry in catalog.items():
        if key == "sample_spec" or not _is_openai_token_entry(key, entry):
            continue
        input_price = per_token_to_per_million(entry["input_cost_per_token"])
        cached = entry.get("cache_read_input_token_cost")
        rows[key] = PriceRow(
            model=key,
            valid_from=OPEN_START,
            valid_to=None,
            input_usd_per_1m=input_price,
            cached_input_usd_per_1m=None if cached is None else per_token_to_per_million(cached),
            output_usd_per_1m=per_token_to_per_million(entry["output_cost_per_token"]),
            batch_discount=_batch_discount(entry, input_price),
            mode=entry.get("mode"),
            source=source,
        )
    return rows


def build_prices(
    current: dict, older: dict, current_label: str, older_label: str
) -> list[PriceRow]:
    rows = prices_from_litellm(current, current_label)
    for key, row in prices_from_litellm(older, older_label).items():
        rows.setdefault(key, row)  # only entries the current catalog deleted
    return sorted(rows.values(), key=lambda r: r.model)


def read_deprecations(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return list(csv.DictReader(lines))


def build_lifecycle(
    deprecations: list[dict[str, str]], deprecations_label: str, current: dict, current_label: str
) -> list[LifecycleRow]:
    chosen: dict[str, dict[str, str]] = {}
    for row in deprecations:
        model = row["model"].strip()
        prev = chosen.get(model)
        if prev is None or (row["announced"], prev["shutdown_date"]) > (
            prev["announced"], row["shutdown_date"]
        ):
            chosen[model] = row
    out: dict[str, LifecycleRow] = {}
    for model, row in chosen.items():
        replacement, note = parse_replacement(row.get("replacement"))
        out[model] = LifecycleRow(
            model=model,
            announced_date=dt.date.fromisoformat(row["announced"]) if row["announced"] else None,
            shutdown_date=(
                dt.date.fromisoformat(row["shutdown_date"]) if row["shutdown_date"] else None
            ),
            replacement_model=replacement,
            replacement_note=note,
            source=deprecations_label,
        )
    for key, entry in current.items():
        if key in out or key == "sample_spec" or not isinstance(entry, dict):
            continue
        if entry.get("litellm_provider") != "openai" or "/" in key:
            continue
        date = entry.get("deprecation_date")
        if not date:
            continue
        out[key] = LifecycleRow(
            model=key,
            announced_date=None,
            shutdown_date=dt.date.fromisoformat(date),
            replacement_model=entry.get("successor_model") or None,
            replacement_note=None,
            source=current_label,
        )
    return sorted(out.values(), key=lambda r: r.model)


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return str(value)


def write_csv(path: Path, columns: list[str], rows: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            d = asdict(row)
            writer.writerow([_fmt(d[c]) for c in columns])


def main(argv: list[str] | None = None) -> None:
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--litellm", type=Path, default=shared / "litellm_model_prices.json")
    parser.add_argument("--litellm-label", default=LITELLM_LABEL)
    parser.add_argument(
        "--litellm-old", type=Path, default=shared / "litellm_model_prices_v1.81.0.json"
    )
    parser.add_argument("--litellm-old-label", default=LITELLM_OLD_LABEL)
    parser.add_argument("--deprecations", type=Path, default=shared / "openai_deprecations.csv")
    parser.add_argument(
        "--deprecations-label",
        default=DEPRECATIONS_LABEL,
    )
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[1] / "catalog_data"
    )
    args = parser.parse_args(argv)
    current = json.loads(args.litellm.read_text(encoding="utf-8"))
    older = json.loads(args.litellm_old.read_text(encoding="utf-8"))
    prices = build_prices(current, older, args.litellm_label, args.litellm_old_label)
    lifecycle = build_lifecycle(
        read_deprecations(args.deprecations), args.deprecations_label, current, args.litellm_label
    )
    write_csv(args.out / "model_prices.csv", PRICE_COLUMNS, prices)
    write_csv(args.out / "model_lifecycle.csv", LIFECYCLE_COLUMNS, lifecycle)
    print(f"wrote {len(prices)} price rows and {len(lifecycle)} lifecycle rows to {args.out}")


if __name__ == "__main__":
    main()
