"""Build the shipped pricing and lifecycle catalog from its public sources.

Run ``make catalog`` (``python -m pipelines.lib.catalog_build``) to regenerate
``pipelines/catalog_data/model_prices.csv`` (with ``model_price_bands.csv``, the long-context
prices, and ``model_unit_prices.csv``, the prices of models billed by the second of audio or
the character of speech) and ``model_lifecycle.csv`` when a provider announces the next
retirement or changes a price. The product reads only those CSVs at run time; the sources
are needed only for this command.

Scope: OpenAI's models (LiteLLM providers ``openai`` and ``text-completion-openai``, the
legacy completion models), and every other provider's text models that LiteLLM prices per
token (modes chat, completion, responses, embedding), by the name LiteLLM keys them with
(``claude-sonnet-4-5-20250929``, ``gemini/gemini-2.5-pro``, ``azure/gpt-4o``), each price row
with its provider, so that the names a LiteLLM gateway logs resolve to them
(``modelnames.resolve_name``). Another provider's entry priced 0 for input and output is
LiteLLM's placeholder for a price it does not know, and is left out (its usage stays
unpriced).

Sources and precedence
* prices: the current LiteLLM catalog (1.110.2) first; entries that it deleted (shut-down
  models) come from the older 1.81.0 copy, so historical usage of them can still be priced.
* lifecycle: the official OpenAI deprecations page (as CSV) first. Models absent from the page
  but carrying a ``deprecation_date`` in the current LiteLLM catalog (which, for OpenAI entries,
  is the shutdown date; it is read as the shutdown date for every provider) are added with
  that source, its ``successor_model`` as the replacement and no announcement date; an entry
  the current catalog deleted takes the older copy's date.
* a model listed twice on the page keeps the row with the latest announcement (ties: the
  earliest shutdown). Ambiguous replacements keep the first alternative; the full text is the note.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import re
import shutil
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipelines.lib.catalog import (
    AUDIO_PRICE_COLUMNS,
    BAND_COLUMNS,
    CACHE_WRITE_PRICE_COLUMNS,
    IMAGE_PRICE_COLUMNS,
    UNIT_PRICE_COLUMNS,
    Lifecycle,
    Price,
    PriceBand,
    UnitPrice,
    read_lifecycle,
)
from pipelines.lib.modelnames import parse_replacement
from pipelines.lib.money import (
    DEFAULT_BATCH_DISCOUNT,
    per_token_to_per_million,
    per_unit_to_per_million,
)
from pipelines.lib.schema import PROMPT_BANDS
from pipelines.settings import today_utc

#: valid_from of catalog prices whose start date no source states: before any usage in scope.
OPEN_START = dt.date(2020, 1, 1)
PRICE_COLUMNS = [
    "model", "service_tier", "valid_from", "valid_to", "input_usd_per_1m",
    "cached_input_usd_per_1m", "output_usd_per_1m", *AUDIO_PRICE_COLUMNS,
    *IMAGE_PRICE_COLUMNS, *CACHE_WRITE_PRICE_COLUMNS, "batch_discount", "mode", "provider",
    "source",
]
#: LiteLLM's per-token fields for the audio and image prices, in AUDIO_PRICE_COLUMNS and
#: IMAGE_PRICE_COLUMNS order
LITELLM_AUDIO_FIELDS = ("input_cost_per_audio_token", "cache_read_input_audio_token_cost",
                        "output_cost_per_audio_token")
LITELLM_IMAGE_FIELDS = ("input_cost_per_image_token", "cache_read_input_image_token_cost",
                        "output_cost_per_image_token")
LITELLM_CACHE_WRITE_FIELDS = ("cache_creation_input_token_cost",
                              "cache_creation_input_token_cost_above_1hr")
#: An image model's output is image tokens only: LiteLLM gives gpt-image-1's and its
#: successors' output price as ``output_cost_per_image_token`` alone, which is then the
#: model's output price (OpenAI's price list has no text output for them either).
IMAGE_MODE = "image_generation"
#: service tiers with their own prices (LiteLLM's `_flex` / `_priority` fields); the
#: default tier is the row without a tier
TIERS = ("flex", "priority")
LITELLM_LABEL = "litellm 1.110.2 model_prices_and_context_window.json"
LITELLM_OLD_LABEL = "litellm 1.81.0 model_prices_and_context_window.json"
DEPRECATIONS_LABEL = ("openai deprecations page https://developers.openai.com/api/docs/deprecations"
                      " (version of 2026-09-11)")
LIFECYCLE_COLUMNS = [
    "model", "announced_date", "shutdown_date", "replacement_model", "replacement_note", "source",
]


#: one price row: the same record the pipeline reads back from the shipped CSV
PriceRow = Price


#: one lifecycle row: the same record the pipeline reads back from the shipped CSV
LifecycleRow = Lifecycle


#: OpenAI's models in the LiteLLM catalog: most are ``openai``; babbage-002, davinci-002 and
#: gpt-3.5-turbo-instruct are ``text-completion-openai``
OPENAI_PROVIDERS = frozenset({"openai", "text-completion-openai"})
#: the modes of another provider's entries that are text models priced per token
TEXT_MODES = frozenset({"chat", "completion", "responses", "embedding"})


def is_openai_entry(key: str, entry: object) -> bool:
    """An OpenAI model (by its bare name; LiteLLM's ``size/quality/model`` image keys are not)."""
    return (isinstance(entry, dict) and entry.get("litellm_provider") in OPENAI_PROVIDERS
            and "/" not in key)


def in_scope(key: str, entry: object) -> bool:
    """A catalog entry the shipped catalog takes: an OpenAI model, or another provider's text
    model. ``openai/...`` keys are left out: that prefix names the provider of a gateway
    deployment, and resolution drops it (``modelnames.catalog_name``)."""
    if key == "sample_spec" or not isinstance(entry, dict) or key.startswith("openai/"):
        return False
    if is_openai_entry(key, entry):
        return True
    return entry.get("mode") in TEXT_MODES and bool(entry.get("litellm_provider"))


def _output_price(entry: dict, suffix: str = "") -> float | int | None:
    """The per-token output price of an entry's tier (``suffix``): its text output price, or
    an image model's image output price where it has no other (``IMAGE_MODE``)."""
    out = entry.get(f"output_cost_per_token{suffix}")
    if out is None and entry.get("mode") == IMAGE_MODE:
        out = entry.get(f"output_cost_per_image_token{suffix}")
    return out


def _is_token_entry(key: str, entry: object) -> bool:
    if not (isinstance(entry, dict) and in_scope(key, entry)):
        return False
    inp, out = entry.get("input_cost_per_token"), _output_price(entry)
    if inp is None or out is None:
        return False
    # another provider's 0/0 is LiteLLM's placeholder for a price it does not know
    return is_openai_entry(key, entry) or bool(inp or out)


def _json_price(value: float | int) -> str | int:
    """A JSON number read to 15 significant digits: a tool that computed a price in binary
    floating point writes ``1.6000000000000001e-06`` for ``1.6e-06``, noise past the digits a
    float holds."""
    return format(value, ".15g") if isinstance(value, float) else value


def _per_million(value: float | int) -> Decimal:
    """USD per 1M tokens, exactly (``money.per_token_to_per_million``), from a JSON number
    (``_json_price``)."""
    return per_token_to_per_million(_json_price(value))


def _batch_discount(entry: dict, input_price: Decimal) -> Decimal:
    batch = entry.get("input_cost_per_token_batches")
    if batch is None or input_price == 0:
        return DEFAULT_BATCH_DISCOUNT
    ratio = _per_million(batch) / input_price
    return (1 - ratio).quantize(Decimal("0.0001"))


def _entry_prices(key: str, entry: dict, source: str) -> dict[tuple[str, str | None], PriceRow]:
    """One entry's default-tier row and a row per service tier with its own prices; a
    ValueError when a price is not exact to 1e-12 USD per token (the money rule's scale)."""
    rows: dict[tuple[str, str | None], PriceRow] = {}
    input_price = _per_million(entry["input_cost_per_token"])
    discount = _batch_discount(entry, input_price)
    for tier in (None, *TIERS):
        suffix = f"_{tier}" if tier else ""
        inp = entry.get(f"input_cost_per_token{suffix}")
        out = _output_price(entry, suffix)
        if inp is None or out is None:
            continue
        cached = entry.get(f"cache_read_input_token_cost{suffix}")
        # the tier's own audio and image prices only: a tier's are not priced at another's
        modal = {column: None if (v := entry.get(f"{field}{suffix}")) is None
                 else _per_million(v)
                 for column, field in zip(
                     AUDIO_PRICE_COLUMNS + IMAGE_PRICE_COLUMNS + CACHE_WRITE_PRICE_COLUMNS,
                     LITELLM_AUDIO_FIELDS + LITELLM_IMAGE_FIELDS + LITELLM_CACHE_WRITE_FIELDS,
                     strict=True)}
        rows[(key, tier)] = PriceRow(
            model=key,
            valid_from=OPEN_START,
            valid_to=None,
            input_usd_per_1m=_per_million(inp),
            cached_input_usd_per_1m=None if cached is None else _per_million(cached),
            output_usd_per_1m=_per_million(out),
            batch_discount=discount,
            mode=entry.get("mode"),
            source=source,
            service_tier=tier,
            provider=entry.get("litellm_provider"),
            **modal,
        )
    return rows


def prices_from_litellm(catalog: dict, source: str, left_out: list[str] | None = None
                        ) -> dict[tuple[str, str | None], PriceRow]:
    """Default-tier prices of every token-priced entry in scope (``in_scope``), plus a row per
    service tier (flex, priority) where the entry has that tier's prices. An entry with a
    price not exact to 1e-12 USD per token is left out (never rounded), its key and reason
    appended to ``left_out``: its usage stays unpriced, as for a model not in the catalog."""
    rows: dict[tuple[str, str | None], PriceRow] = {}
    for key, entry in catalog.items():
        if not _is_token_entry(key, entry):
            continue
        try:
            rows.update(_entry_prices(key, entry, source))
        except ValueError as exc:
            if left_out is not None:
                left_out.append(f"{key} ({source}): {exc}")
    return rows


def build_prices(
    current: dict, older: dict, current_label: str, older_label: str,
    left_out: list[str] | None = None,
) -> list[PriceRow]:
    rows = prices_from_litellm(current, current_label, left_out)
    current_models = {model for model, _ in rows}
    for key, row in prices_from_litellm(older, older_label, left_out).items():
        if key[0] not in current_models:  # only entries the current catalog deleted
            rows.setdefault(key, row)
    return sorted(rows.values(), key=lambda r: (r.model, r.service_tier or ""))


#: LiteLLM's per-unit price of a model billed in the unit the Usage API reports for its
#: endpoint (``catalog.UNIT_OF_ENDPOINT``), by that unit: (the entry's mode, its price field)
LITELLM_UNIT_FIELDS = {"seconds": ("audio_transcription", "input_cost_per_second"),
                       "characters": ("audio_speech", "input_cost_per_character")}


def unit_prices_from_litellm(catalog: dict, source: str, left_out: list[str] | None = None
                             ) -> dict[tuple[str, str], UnitPrice]:
    """The per-unit prices of OpenAI's models billed by the second of audio transcribed
    (whisper-1, gpt-transcribe) or the character of speech (tts-1): entries of that mode
    with that price and no per-token price. An entry with a per-token price is billed by the
    token (gpt-4o-transcribe, gpt-4o-mini-tts): LiteLLM's per-second figure for it is an
    estimate, and its seconds stay unpriced. A price finer than 1e-15 USD per unit is left
    out, never rounded (its key and reason appended to ``left_out``)."""
    rows: dict[tuple[str, str], UnitPrice] = {}
    for key, entry in catalog.items():
        if not (is_openai_entry(key, entry) and in_scope(key, entry)):
            continue
        assert isinstance(entry, dict)
        if entry.get("input_cost_per_token") is not None:
            continue
        for unit, (mode, field) in LITELLM_UNIT_FIELDS.items():
            value = entry.get(field)
            if entry.get("mode") != mode or value is None:
                continue
            try:
                price = per_unit_to_per_million(_json_price(value))
            except ValueError as exc:
                if left_out is not None:
                    left_out.append(f"{key} ({source}): {exc}")
                continue
            rows[(key, unit)] = UnitPrice(key, unit, OPEN_START, None, price, source)
    return rows


def build_unit_prices(current: dict, older: dict, current_label: str, older_label: str,
                      left_out: list[str] | None = None) -> list[UnitPrice]:
    """The current catalog's per-unit prices, and the older copy's of the models the current
    one deleted (as ``build_prices``)."""
    rows = unit_prices_from_litellm(current, current_label, left_out)
    for key, row in unit_prices_from_litellm(older, older_label, left_out).items():
        if key[0] not in current:  # only entries the current catalog deleted
            rows.setdefault(key, row)
    return sorted(rows.values(), key=lambda r: (r.model, r.unit))


#: LiteLLM's long-context input price of a tier (``_above_272k_tokens``, ``..._flex``), whose
#: threshold (``272k``: 272,000 tokens; a bare number: tokens) opens a band
_BAND_FIELD = re.compile(r"^input_cost_per_token_above_(\d+)(k?)_tokens(.*)$")
#: the band's other prices, by the catalog column they fill (``{t}``: the threshold as LiteLLM
#: writes it, ``{s}``: the tier's suffix)
LITELLM_BAND_FIELDS = {
    "cached_input_usd_per_1m": "cache_read_input_token_cost_above_{t}_tokens{s}",
    "output_usd_per_1m": "output_cost_per_token_above_{t}_tokens{s}",
    "cache_write_input_usd_per_1m": "cache_creation_input_token_cost_above_{t}_tokens{s}",
    "cache_write_1h_input_usd_per_1m":
        "cache_creation_input_token_cost_above_1hr_above_{t}_tokens{s}",
}


def _entry_bands(key: str, entry: dict, source: str, tiers: set[str | None],
                 left_out: list[str] | None) -> list[PriceBand]:
    """An entry's long-context prices, for each of ``tiers`` it has a price row for: the
    tier's own (``_flex``, ``_priority``) only, as for its other prices (LiteLLM would fall
    back to the default tier's band, cheaper than a priority request's own base rate). A
    threshold that is not one of ``schema.PROMPT_BANDS`` is left out, with its reason."""
    out = []
    for field, value in entry.items():
        match = _BAND_FIELD.match(field)
        if match is None or value is None:
            continue
        digits, k, suffix = match.groups()
        tier = suffix[1:] or None  # _batches, _ultrafast, ...: no price row of ours
        if tier not in tiers:
            continue
        threshold = int(digits) * (1000 if k else 1)
        if threshold not in PROMPT_BANDS:
            if left_out is not None:
                left_out.append(f"{key} ({source}): above {threshold} tokens, not one of "
                                "schema.PROMPT_BANDS")
            continue
        other: dict[str, Any] = {
            column: None if (v := entry.get(name.format(t=digits + k, s=suffix))) is None
            else _per_million(v) for column, name in LITELLM_BAND_FIELDS.items()}
        out.append(PriceBand(
            model=key, service_tier=tier, valid_from=OPEN_START, valid_to=None,
            min_prompt_tokens=threshold, input_usd_per_1m=_per_million(value),
            source=source, **other))
    return out


def build_bands(current: dict, older: dict, current_label: str, older_label: str,
                prices: list[PriceRow], left_out: list[str] | None = None
                ) -> list[PriceBand]:
    """The long-context prices of the entries ``build_prices`` took, from the catalog each
    price row came from (``source``): a band belongs to its model's price row and tier."""
    tiers: dict[str, set[str | None]] = {}
    sources: dict[str, str] = {}
    for row in prices:
        tiers.setdefault(row.model, set()).add(row.service_tier)
        sources[row.model] = row.source
    catalogs = {current_label: current, older_label: older}
    out: list[PriceBand] = []
    for model, label in sources.items():
        entry = catalogs.get(label, {}).get(model)
        if not isinstance(entry, dict):
            continue
        try:
            out.extend(_entry_bands(model, entry, label, tiers[model], left_out))
        except ValueError as exc:  # a price not exact to 1e-12 USD per token: never rounded
            if left_out is not None:
                left_out.append(f"{model} ({label}): {exc}")
    return sorted(out, key=lambda b: (b.model, b.service_tier or "", b.min_prompt_tokens))


def read_deprecations(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return list(csv.DictReader(lines))


def build_lifecycle(
    deprecations: list[dict[str, str]], deprecations_label: str, current: dict, current_label: str,
    older: dict | None = None, older_label: str = "",
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
    deleted = {k: e for k, e in (older or {}).items() if k not in current}
    for catalog, label in ((current, current_label), (deleted, older_label)):
        for key, entry in catalog.items():
            if key in out or not in_scope(key, entry):
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
                source=label,
            )
    return sorted(out.values(), key=lambda r: r.model)


CONFLICT_COLUMNS = ["model", "field", "chosen_value", "chosen_source", "other_value",
                    "other_source", "rule"]
SOURCE_COLUMNS = ["source", "kind", "as_of"]


@dataclass(frozen=True)
class Source:
    """One source the catalog was built from: its label (as in the rows' ``source``), what it
    gave (``prices``, ``lifecycle`` or both) and the day it speaks for (None: unknown), which
    tells how recent the catalog's knowledge of retirements is."""
    source: str
    kind: str
    as_of: dt.date | None


def deprecations_as_of(deprecations: list[dict[str, str]]) -> dt.date | None:
    """The day the deprecations list speaks for: its newest announcement."""
    dates = [r["announced"].strip() for r in deprecations if (r.get("announced") or "").strip()]
    return dt.date.fromisoformat(max(dates)) if dates else None


@dataclass(frozen=True)
class Conflict:
    model: str
    field: str
    chosen_value: str
    chosen_source: str
    other_value: str
    other_source: str
    rule: str


def _price_text(entry: dict) -> str:
    def one(key: str) -> str:
        value = entry.get(key)
        return "" if value is None else format(_per_million(value), "f")
    return "/".join(one(k) for k in ("input_cost_per_token", "cache_read_input_token_cost",
                                     "output_cost_per_token"))


def find_conflicts(lifecycle: list[LifecycleRow], current: dict, older: dict,
                   current_label: str, older_label: str,
                   models_api: dict[str, str | None] | None = None,
                   models_label: str = "OpenAI Models API") -> list[Conflict]:
    """Where the sources disagree, what was chosen and by which rule (never merged silently).

    Precedence: shutdown dates and replacements from the OpenAI Models API (when pulled) over
    the official deprecations page over the LiteLLM catalog; prices from the current LiteLLM
    catalog over its older copy (the older copy is used only for models since deleted).
    """
    out: list[Conflict] = []
    for row in lifecycle:
        entry = current.get(row.model)
        if row.source == current_label or not isinstance(entry, dict):
            continue
        theirs = entry.get("deprecation_date")
        if theirs and row.shutdown_date and theirs != row.shutdown_date.isoformat():
            out.append(Conflict(row.model, "shutdown_date", row.shutdown_date.isoformat(),
                                row.source, theirs, current_label,
                                "the official deprecations page wins over the LiteLLM catalog"))
        successor = entry.get("successor_model")
        if successor and row.replacement_model and successor != row.replacement_model:
            out.append(Conflict(row.model, "replacement_model", row.replacement_model, row.source,
                                successor, current_label,
                                "the official deprecations page wins over the LiteLLM catalog"))
    for key, entry in current.items():
        old = older.get(key)
        if not (_is_token_entry(key, entry) and isinstance(old, dict)
                and _is_token_entry(key, old)):
            continue
        try:
            now, before = _price_text(entry), _price_text(old)
        except ValueError:  # an entry left out of the prices (see prices_from_litellm)
            continue
        if now != before:
            out.append(Conflict(key, "price input/cached/output per 1M", now, current_label,
                                before, older_label,
                                "the current catalog wins; the older price is not applied to "
                                "any date (no source says when it changed)"))
    for row in lifecycle:
        api_date = (models_api or {}).get(row.model)
        if api_date and (row.shutdown_date is None or api_date != row.shutdown_date.isoformat()):
            out.append(Conflict(row.model, "shutdown_date", api_date, models_label,
                                "" if row.shutdown_date is None else row.shutdown_date.isoformat(),
                                row.source, "the OpenAI Models API's shutdown_date wins"))
    return sorted(out, key=lambda c: (c.model, c.field, c.other_source))


def apply_models_api(lifecycle: list[LifecycleRow], models_api: dict[str, str | None],
                     label: str) -> list[LifecycleRow]:
    """Shutdown dates from ``GET /v1/models`` take precedence; new models are added."""
    by_model = {r.model: r for r in lifecycle}
    for model, date in models_api.items():
        if not date:
            continue
        shutdown = dt.date.fromisoformat(date)
        row = by_model.get(model)
        if row is None:
            by_model[model] = LifecycleRow(model, None, shutdown, None, None, label)
        elif row.shutdown_date != shutdown:
            by_model[model] = LifecycleRow(model, row.announced_date, shutdown,
                                           row.replacement_model, row.replacement_note,
                                           f"{label} (shutdown_date); {row.source}")
    return sorted(by_model.values(), key=lambda r: r.model)


def read_models_api(path: Path) -> dict[str, str | None]:
    """A saved ``GET /v1/models`` response: model id -> shutdown_date (or None)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {m["id"]: m.get("shutdown_date") for m in doc.get("data", []) if "id" in m}


def _load_json(source: str | Path) -> dict:
    """A JSON document from a file or an http(s) URL (e.g. LiteLLM's raw GitHub file)."""
    text = str(source)
    if text.startswith(("http://", "https://")):
        import httpx

        response = httpx.get(text, timeout=60, follow_redirects=True)
        response.raise_for_status()
        return response.json()
    return json.loads(Path(text).read_text(encoding="utf-8"))


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


#: the shipped catalog: what the product reads at run time
SHIPPED_DIR = Path(__file__).resolve().parents[1] / "catalog_data"
#: the shipped long-context prices (``catalog.PriceBand``), beside the price rows
BANDS_FILE = "model_price_bands.csv"
#: the shipped per-unit prices (``catalog.UnitPrice``)
UNIT_PRICES_FILE = "model_unit_prices.csv"


def _shipped(folder: Path) -> tuple[Path, list[LifecycleRow], list[Conflict], list[Source]]:
    """The shipped catalog as it stands: its prices file (kept as it is), lifecycle rows,
    source conflicts and sources, to refresh from the Models API without the public
    sources."""
    with (folder / "catalog_conflicts.csv").open(encoding="utf-8") as fh:
        conflicts = [Conflict(**row) for row in csv.DictReader(fh)]
    with (folder / "catalog_sources.csv").open(encoding="utf-8") as fh:
        sources = [Source(r["source"], r["kind"],
                          dt.date.fromisoformat(r["as_of"]) if r["as_of"] else None)
                   for r in csv.DictReader(fh)]
    return (folder / "model_prices.csv", read_lifecycle(folder / "model_lifecycle.csv"),
            conflicts, sources)


def main(argv: list[str] | None = None) -> None:
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "data"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--litellm", default=shared / "litellm_model_prices.json",
                        help="the LiteLLM price JSON: a file, or an http(s) URL")
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
    parser.add_argument("--out", type=Path, default=SHIPPED_DIR)
    parser.add_argument("--models-json", type=Path, default=None,
                        help="a saved GET /v1/models response (its shutdown_date fields)")
    parser.add_argument("--pull-models", action="store_true",
                        help="fetch GET /v1/models with OPENAI_API_KEY (a project key: admin "
                        "keys cannot call it) / OPENAI_BASE_URL")
    parser.add_argument("--from-shipped", action="store_true",
                        help="start from the shipped catalog instead of the public sources "
                        "(the default when the deprecations list is not there, as in a "
                        "deployment): only the Models API's shutdown dates are applied")
    args = parser.parse_args(argv)
    if args.from_shipped or not args.deprecations.exists():
        if not (args.models_json or args.pull_models):
            raise SystemExit(
                f"the public sources are not here ({args.deprecations} is missing), and no "
                "Models API response to apply: set OPENAI_API_KEY (a project key) to refresh "
                "the shipped catalog's shutdown dates from GET /v1/models, or pass "
                "--models-json FILE")
        prices_file, lifecycle, conflicts, sources = _shipped(SHIPPED_DIR)
        prices: list = []
        current, older = {}, {}
        print(f"refreshing the shipped catalog ({SHIPPED_DIR}) from the Models API")
    else:
        prices_file = None
        current = _load_json(args.litellm)
        older = json.loads(args.litellm_old.read_text(encoding="utf-8"))
        left_out: list[str] = []
        prices = build_prices(current, older, args.litellm_label, args.litellm_old_label,
                              left_out)
        bands_left_out: list[str] = []
        bands = build_bands(current, older, args.litellm_label, args.litellm_old_label,
                            prices, bands_left_out)
        unit_prices = build_unit_prices(current, older, args.litellm_label,
                                        args.litellm_old_label, left_out)
        for line in left_out:
            print(f"left out, its usage stays unpriced: {line}")
        for line in bands_left_out:
            print(f"long-context prices left out, its long prompts priced at the base rate: "
                  f"{line}")
        deprecations = read_deprecations(args.deprecations)
        lifecycle = build_lifecycle(
            deprecations, args.deprecations_label, current, args.litellm_label,
            older, args.litellm_old_label,
        )
        conflicts = []
        sources = [Source(args.deprecations_label, "lifecycle",
                          deprecations_as_of(deprecations)),
                   Source(args.litellm_label, "prices and lifecycle", None),
                   Source(args.litellm_old_label, "prices and lifecycle", None)]
    models_api: dict[str, str | None] = {}
    models_label = "OpenAI Models API GET /v1/models"
    pulled: Source | None = None
    if args.models_json:
        models_api = read_models_api(args.models_json)
        models_label += f" ({args.models_json.name})"
        pulled = Source(models_label, "lifecycle", None)  # saved when: not known
    elif args.pull_models:
        import os

        from pipelines.sync.client import DEFAULT_BASE_URL, MODELS_KEY_HINT, OpenAIAdminClient
        with OpenAIAdminClient(os.environ.get("OPENAI_API_KEY", ""),
                               os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL,
                               key_variable="OPENAI_API_KEY",
                               auth_hint=MODELS_KEY_HINT) as client:
            models_api = {m["id"]: m.get("shutdown_date") for m in client.models()}
        pulled_on = today_utc()  # the UTC day, as every date here
        models_label += f" (pulled {pulled_on})"
        pulled = Source(models_label, "lifecycle", pulled_on)
    if pulled is not None and pulled not in sources:  # a second pull the same day: once
        sources.append(pulled)
    found = find_conflicts(lifecycle, current, older, args.litellm_label,
                           args.litellm_old_label, models_api, models_label)
    conflicts += [c for c in found if c not in conflicts]
    if models_api:
        lifecycle = apply_models_api(lifecycle, models_api, models_label)
    if prices_file is None:
        write_csv(args.out / "model_prices.csv", PRICE_COLUMNS, prices)
        write_csv(args.out / BANDS_FILE, BAND_COLUMNS, bands)
        write_csv(args.out / UNIT_PRICES_FILE, UNIT_PRICE_COLUMNS, unit_prices)
        price_rows = len(prices)
        print(f"wrote {len(bands)} long-context price rows to {args.out / BANDS_FILE}")
        print(f"wrote {len(unit_prices)} per-unit price rows to {args.out / UNIT_PRICES_FILE}")
    else:  # the shipped prices and long-context prices, kept as they are
        if args.out.resolve() != prices_file.parent.resolve():
            args.out.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(prices_file, args.out / prices_file.name)
            for kept in (BANDS_FILE, UNIT_PRICES_FILE):
                shutil.copyfile(prices_file.parent / kept, args.out / kept)
        price_rows = sum(1 for _ in prices_file.open(encoding="utf-8")) - 1
    write_csv(args.out / "model_lifecycle.csv", LIFECYCLE_COLUMNS, lifecycle)
    write_csv(args.out / "catalog_conflicts.csv", CONFLICT_COLUMNS, conflicts)
    write_csv(args.out / "catalog_sources.csv", SOURCE_COLUMNS, sources)
    print(f"wrote {price_rows} price rows, {len(lifecycle)} lifecycle rows and "
          f"{len(conflicts)} source conflicts to {args.out}")


if __name__ == "__main__":
    main()
