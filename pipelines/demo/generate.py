"""Write realistic, deterministic demo exports for the 60 days before as-of.

``python -m pipelines.demo.generate [--landing DIR] [--as-of YYYY-MM-DD]``

What it writes, in the four real formats (see ``../shared/reference/formats.md``):

* ``usage_api/completions.json`` - Usage API pages (a JSON array of pages, 7 daily buckets
  each, the newer field set): team *search* mid-migration from a deprecated model to an
  active one (an evaluation job on a second key lags behind), a batch key, cached tokens,
  an unmapped project (``proj_sandbox``), team *voice* on a realtime model whose tokens
  are mostly audio (priced at the audio rates), where the catalog has one retiring, and team
  *design* on an image model retiring or retired in the window (its image tokens priced at
  the image rates; no usage after its shutdown: the Usage API bills no failed call).
* ``usage_api/embeddings.jsonl`` - embeddings pages as JSON Lines, the older field set.
* ``usage_api/audio_transcriptions.json`` - Usage API pages of team *voice*'s call
  transcripts, in seconds of audio, on a transcription model billed by the second that is
  retiring (whisper-1, where it is), whose replacement is billed by the second too.
* ``dashboard/activity_export.csv`` - a dashboard export for team *support* (float counts,
  TRUE/FALSE, empty rows), which also repeats three days of *search* buckets already in the
  API pages: they must count once.
* ``gateway/litellm_spend_logs.csv`` - one row per gateway request: team *growth* on a model
  that was shut down (its calls now fail), team *data-science* known only by its alias, one
  model no catalog knows, and team *assistant* on another provider's model (Anthropic's)
  that is retiring or has retired. The prompt/response columns are filled and must never be
  loaded.
* ``costs/costs_api.json`` - the Costs API's daily billed amounts per project: the list
  price of each project's OpenAI-reported usage that day (``billed_usd``), as OpenAI bills it,
  so the reconciliation with the computed cost matches (to the bill's 6 decimal places).
* ``costs/cost_view_export.csv`` - the bill's last week, downloaded from the dashboard's
  cost view instead: it names the organisation (``org-demo``, FOCUS's billing account).

Models are chosen from the shipped catalog by their lifecycle status **as of the as-of date**,
so the demo shows an active model, a deprecated one with its shutdown ahead and a shut-down
one, whatever day it runs: once the catalog names no OpenAI chat model still deprecated on
that day (its knowledge of retirements has run out: ``make catalog`` brings newer ones), the
teams the demo puts on one call the active model instead, and the demo says so. Values for
a given day depend only on the seed and that day, so regenerating tomorrow repeats today's
buckets exactly (exact duplicates, not new usage).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pipelines.lib.catalog import (
    Lifecycle,
    Price,
    UnitPrice,
    counts_as_announced,
    read_lifecycle,
    read_prices,
    read_unit_prices,
)
from pipelines.lib.modelnames import resolve_name
from pipelines.lib.money import row_cost, unit_cost
from pipelines.settings import CATALOG_DATA_DIR, WINDOW_DAYS, RadarSettings

DAYS = 60
SEED = 20260217
UNKNOWN_MODEL = "acme-llm-7b-instruct"
_NOT_TEXT_CHAT = re.compile(r"audio|realtime|search|computer-use")


@dataclass(frozen=True)
class DemoModels:
    active: str
    active_cheap: str
    # deprecated, shutdown ahead: the nearest, and one further ahead (the migration in
    # progress); None once the catalog names none on as-of (`deprecated_or_active`)
    deprecated: str | None
    deprecated_later: str | None
    shutdown: str            # shut down recently: gateway calls now fail
    shutdown_long_ago: str   # shut down long ago, still called through the gateway
    embedding: str
    other_provider: str | None = None  # Anthropic's, retiring or retired (through the gateway)
    voice: str | None = None  # an OpenAI audio model, retiring, with a replacement priced for audio
    image: str | None = None  # an OpenAI image model, retiring or retired in the window
    # an OpenAI transcription model billed by the second, retiring, with a replacement that is
    transcription: str | None = None

    @property
    def deprecated_or_active(self) -> str:
        """What the teams on the nearest deprecated model call: it, or, once the catalog names
        none on as-of, the active model (they have migrated)."""
        return self.deprecated or self.active

    @property
    def deprecated_later_or_active(self) -> str:
        """What the teams mid-migration call on their old model: it, or the active model."""
        return self.deprecated_later or self.active


def _status(row: Lifecycle | None, as_of: dt.date) -> str:
    if row is None:
        return "active"
    if row.shutdown_date and row.shutdown_date <= as_of:
        return "shutdown"
    return "deprecated" if counts_as_announced(row, as_of) else "active"


def pick_models(as_of: dt.date) -> DemoModels:
    lifecycle = {r.model: r for r in read_lifecycle(CATALOG_DATA_DIR / "model_lifecycle.csv")}
    priced = {p.model: p for p in read_prices(CATALOG_DATA_DIR / "model_prices.csv")}
    # OpenAI's text chat models: the demo's teams send text, so no fine-tune and none of the
    # audio, realtime, search or computer-use models LiteLLM files as chat too
    chat = sorted(m for m, p in priced.items()
                  if p.mode == "chat" and p.provider == "openai" and not m.startswith("ft:")
                  and not _NOT_TEXT_CHAT.search(m))

    def status(m: str) -> str:
        return _status(lifecycle.get(m), as_of)

    def pick(preferred: list[str], want: str, key=None) -> str | None:
        for m in preferred:
            if m in priced and status(m) == want:
                return m
        pool = [m for m in chat if status(m) == want]
        return (sorted(pool, key=key)[0] if key else pool[0]) if pool else None

    def first(preferred: list[str], want: str, key=None) -> str:
        model = pick(preferred, want, key)
        if model is None:
            raise RuntimeError(f"the catalog has no priced chat model that is {want} on {as_of}")
        return model

    def shutdown_of(m: str) -> dt.date:
        row = lifecycle.get(m)
        return row.shutdown_date if row and row.shutdown_date else dt.date.max

    ahead = sorted((m for m in chat if status(m) == "deprecated"), key=shutdown_of)
    # None once the catalog's knowledge of retirements has run out by as-of
    deprecated = pick(["gpt-5-mini-2025-08-07", "gpt-4o-mini-2024-07-18"], "deprecated",
                      key=shutdown_of)
    later = [m for m in ["gpt-4o-2024-08-06", *ahead]
             if m in priced and status(m) == "deprecated" and m != deprecated]
    return DemoModels(
        active=first(["gpt-5.6-sol", "gpt-6.1-sol"], "active"),
        active_cheap=first(["gpt-6-luna", "gpt-5.6-luna"], "active"),
        deprecated=deprecated,
        deprecated_later=later[0] if later else deprecated,
        shutdown=first(["gpt-4.1-nano-2025-04-14", "o4-mini-2025-04-16", "o3-mini"],
                       "shutdown", key=lambda m: -shutdown_of(m).toordinal()),
        shutdown_long_ago=first(["chatgpt-4o-latest", "gpt-4.5-preview"], "shutdown"),
        embedding=first(["text-embedding-3-small"], "active") if "text-embedding-3-small"
        in priced else "text-embedding-3-small",
        other_provider=_other_provider(as_of, lifecycle, priced),
        voice=_voice(as_of, lifecycle, priced),
        image=_image(as_of, lifecycle, priced),
        transcription=_transcription(as_of, lifecycle),
    )


def _transcription(as_of: dt.date, lifecycle: dict[str, Lifecycle]) -> str | None:
    """An OpenAI transcription model priced by the second, deprecated on as-of, whose
    replacement is priced by the second too: whisper-1 where it qualifies, else the one
    retiring next."""
    per_second = {u.model for u in read_unit_prices(CATALOG_DATA_DIR / "model_unit_prices.csv")
                  if u.unit == "seconds"}

    def candidate(m: str) -> bool:
        row = lifecycle.get(m)
        return (row is not None and _status(row, as_of) == "deprecated"
                and (row.replacement_model or "") in per_second)
    pool = sorted((m for m in per_second if candidate(m)),
                  key=lambda m: (m != "whisper-1", lifecycle[m].shutdown_date or dt.date.max))
    return pool[0] if pool else None


def _voice(as_of: dt.date, lifecycle: dict[str, Lifecycle], priced: dict) -> str | None:
    """An OpenAI realtime model with audio prices, deprecated on as-of, whose replacement has
    audio prices too: gpt-realtime where it qualifies, else the one retiring next."""
    def candidate(m: str) -> bool:
        row, p = lifecycle.get(m), priced[m]
        replacement = priced.get((row.replacement_model or "") if row else "")
        return (p.provider == "openai" and "realtime" in m and p.input_audio_usd_per_1m
                is not None and _status(row, as_of) == "deprecated" and replacement is not None
                and replacement.input_audio_usd_per_1m is not None)
    pool = sorted((m for m in priced if candidate(m)),
                  key=lambda m: (m != "gpt-realtime", lifecycle[m].shutdown_date or dt.date.max))
    return pool[0] if pool else None


def _image(as_of: dt.date, lifecycle: dict[str, Lifecycle], priced: dict) -> str | None:
    """An OpenAI image model with an image output price, deprecated on as-of or shut down
    within the window, whose replacement has an image output price: gpt-image-1.5 where it
    qualifies, else the one whose shutdown is latest."""
    def candidate(m: str) -> bool:
        row, p = lifecycle.get(m), priced[m]
        replacement = priced.get((row.replacement_model or "") if row else "")
        status = _status(row, as_of)
        recent = (status == "shutdown" and row is not None and row.shutdown_date is not None
                  and row.shutdown_date > as_of - dt.timedelta(days=WINDOW_DAYS - 7))
        return (p.provider == "openai" and p.mode == "image_generation"
                and p.output_image_usd_per_1m is not None
                and (status == "deprecated" or recent) and replacement is not None
                and replacement.output_image_usd_per_1m is not None)
    pool = sorted((m for m in priced if candidate(m)),
                  key=lambda m: (m != "gpt-image-1.5",
                                 -(lifecycle[m].shutdown_date or dt.date.max).toordinal()))
    return pool[0] if pool else None


def _other_provider(as_of: dt.date, lifecycle: dict[str, Lifecycle], priced: dict) -> str | None:
    """An Anthropic chat model (dated snapshot) with a priced replacement: the one retiring
    next after as-of, else the one retired most recently (None if the catalog has none)."""
    def candidate(m: str) -> bool:
        row = lifecycle.get(m)
        return (priced[m].provider == "anthropic" and priced[m].mode == "chat"
                and m[-8:].isdigit() and row is not None and row.shutdown_date is not None
                and (row.replacement_model or "") in priced)
    rows = [lifecycle[m] for m in sorted(priced) if candidate(m)]
    dated = sorted(((r.shutdown_date, r) for r in rows if r.shutdown_date is not None),
                   key=lambda p: p[0])
    ahead = [r for day, r in dated if day > as_of]
    past = [r for day, r in dated if day <= as_of]
    pick = ahead[0] if ahead else past[-1] if past else None
    return pick.model if pick else None


def _rng(stream: str, day: dt.date) -> random.Random:
    return random.Random(f"{SEED}:{stream}:{day.isoformat()}")


def _epoch(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _days(as_of: dt.date) -> list[dt.date]:
    return [as_of - dt.timedelta(days=DAYS - i) for i in range(DAYS)]


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _migration_share(day: dt.date, as_of: dt.date) -> float:
    """Share of the search team's traffic still on the old model: 100% -> ~25% over 60 days."""
    progress = (DAYS - (as_of - day).days) / DAYS
    return max(0.25, 1.0 - 0.9 * progress)


def _completion(rng, model, project, key, batch, requests, tier="default", user=None):
    inp = requests * rng.randint(800, 2400)
    cached = inp * rng.randint(10, 45) // 100
    out = requests * rng.randint(150, 600)
    return {
        "object": "organization.usage.completions.result", "input_tokens": inp,
        "output_tokens": out, "input_cached_tokens": cached, "input_uncached_tokens": inp - cached,
        "input_text_tokens": inp - cached, "output_text_tokens": out,
        "input_cached_text_tokens": cached, "input_audio_tokens": 0, "output_audio_tokens": 0,
        "num_model_requests": requests, "project_id": project, "user_id": user,
        "api_key_id": key, "model": model, "batch": batch, "service_tier": tier,
    }


def search_buckets(day: dt.date, as_of: dt.date, m: DemoModels) -> list[dict]:
    rng = _rng("search", day)
    total = rng.randint(900, 1300)
    old = round(total * _migration_share(day, as_of))
    evals = old // 6  # a nightly evaluation job, on its own key, still on the old model
    # a bucket has one result per key and model: once the old model is the active one (the
    # catalog names none still deprecated), the production key's two shares are one result
    calls: dict[tuple[str, str], int] = {}
    for model, key, requests in ((m.deprecated_later_or_active, "key_search_prod", old - evals),
                                 (m.deprecated_later_or_active, "key_search_eval", evals),
                                 (m.active, "key_search_prod", total - old)):
        calls[model, key] = calls.get((model, key), 0) + requests
    results = [
        *(_completion(rng, model, "proj_search", key, False, requests)
          for (model, key), requests in calls.items()),
        # the batch indexer moved to the active model at the start of the as-of week
        _completion(rng, m.deprecated_later_or_active if day < _week_start(as_of) else m.active,
                    "proj_search", "key_search_batch", True, rng.randint(150, 260)),
        _completion(rng, m.deprecated_or_active, "proj_sandbox", "key_sandbox", False,
                    rng.randint(20, 60)),
    ]
    if day.weekday() == 6:  # quiet Sundays: the sandbox is idle
        results.pop()
    return results


def voice_results(day: dt.date, m: DemoModels) -> list[dict]:
    """Team voice's phone agent on a realtime model: most of its tokens are audio, which costs
    8x the text rate and more (the fields of the Usage API's newer field set)."""
    if m.voice is None:
        return []
    rng = _rng("voice", day)
    requests = rng.randint(40, 90)
    audio_in, text_in = requests * rng.randint(1500, 2500), requests * rng.randint(300, 700)
    cached_audio, cached_text = audio_in // 5, text_in // 2
    audio_out, text_out = requests * rng.randint(400, 800), requests * rng.randint(50, 150)
    uncached = audio_in - cached_audio + text_in - cached_text
    return [{
        "object": "organization.usage.completions.result",
        "input_tokens": audio_in + text_in, "output_tokens": audio_out + text_out,
        "input_cached_tokens": cached_audio + cached_text, "input_uncached_tokens": uncached,
        "input_text_tokens": text_in - cached_text, "output_text_tokens": text_out,
        "input_cached_text_tokens": cached_text, "input_audio_tokens": audio_in - cached_audio,
        "input_cached_audio_tokens": cached_audio, "output_audio_tokens": audio_out,
        "num_model_requests": requests, "project_id": "proj_voice", "user_id": None,
        "api_key_id": "key_voice_agent", "model": m.voice, "batch": False,
        "service_tier": "default"}]


def image_results(day: dt.date, m: DemoModels, shutdown: dt.date | None) -> list[dict]:
    """Team design's brand studio on an image model: a short text prompt, a reference image
    now and then, and image output (about 1,000 to 4,000 tokens an image), none of it from
    the model's shutdown on (its calls fail, and the Usage API bills no failed call)."""
    if m.image is None or (shutdown is not None and day >= shutdown):
        return []
    rng = _rng("image", day)
    requests = rng.randint(20, 60)
    text_in, image_in = requests * rng.randint(60, 160), requests * rng.randint(200, 600)
    cached_text = text_in // 4
    image_out = requests * rng.randint(1000, 4200)
    return [{
        "object": "organization.usage.completions.result",
        "input_tokens": text_in + image_in, "output_tokens": image_out,
        "input_cached_tokens": cached_text, "input_uncached_tokens": text_in + image_in
        - cached_text, "input_text_tokens": text_in - cached_text, "output_text_tokens": 0,
        "input_cached_text_tokens": cached_text, "input_audio_tokens": 0,
        "input_cached_audio_tokens": 0, "output_audio_tokens": 0,
        "input_image_tokens": image_in, "input_cached_image_tokens": 0,
        "output_image_tokens": image_out,
        "num_model_requests": requests, "project_id": "proj_design", "user_id": None,
        "api_key_id": "key_design_studio", "model": m.image, "batch": False,
        "service_tier": "default"}]


def transcription_results(day: dt.date, m: DemoModels) -> list[dict]:
    """Team voice's call transcripts: four to nine hours of recorded calls a day, in seconds
    (the Usage API reports transcriptions in seconds of audio, no tokens)."""
    if m.transcription is None:
        return []
    rng = _rng("transcription", day)
    requests = rng.randint(150, 400)
    return [{
        "object": "organization.usage.audio_transcriptions.result",
        "seconds": requests * rng.randint(60, 90), "num_model_requests": requests,
        "project_id": "proj_voice", "user_id": None, "api_key_id": "key_voice_transcripts",
        "model": m.transcription}]


def write_transcriptions(path: Path, as_of: dt.date, m: DemoModels) -> None:
    """The audio_transcriptions endpoint's pages, 7 daily buckets each (as the sync saves
    each endpoint's pages apart)."""
    days = _days(as_of)
    pages = []
    for i in range(0, len(days), 7):
        buckets = [{"object": "bucket", "start_time": _epoch(d),
                    "end_time": _epoch(d + dt.timedelta(days=1)),
                    "results": transcription_results(d, m)} for d in days[i:i + 7]]
        more = i + 7 < len(days)
        pages.append({"object": "page", "data": buckets, "has_more": more,
                      "next_page": f"page_{i // 7 + 1:04d}" if more else None})
    path.write_text(json.dumps(pages, indent=1), encoding="utf-8")


def _image_shutdown(m: DemoModels) -> dt.date | None:
    if m.image is None:
        return None
    rows = {r.model: r for r in read_lifecycle(CATALOG_DATA_DIR / "model_lifecycle.csv")}
    return rows[m.image].shutdown_date if m.image in rows else None


def write_completions(path: Path, as_of: dt.date, m: DemoModels) -> None:
    days = _days(as_of)
    pages = []
    shutdown = _image_shutdown(m)
    for i in range(0, len(days), 7):
        chunk = days[i:i + 7]
        buckets = [{"object": "bucket", "start_time": _epoch(d),
                    "end_time": _epoch(d + dt.timedelta(days=1)),
                    "results": search_buckets(d, as_of, m) + voice_results(d, m)
                    + image_results(d, m, shutdown)}
                   for d in chunk]
        more = i + 7 < len(days)
        pages.append({"object": "page", "data": buckets, "has_more": more,
                      "next_page": f"page_{i // 7 + 1:04d}" if more else None})
    path.write_text(json.dumps(pages, indent=1), encoding="utf-8")


def embedding_results(day: dt.date, m: DemoModels) -> list[dict]:
    rng = _rng("embeddings", day)
    req = rng.randint(300, 500)
    return [{"object": "organization.usage.embeddings.result",
             "input_tokens": req * rng.randint(200, 400), "num_model_requests": req,
             "project_id": "proj_search", "user_id": None, "api_key_id": "key_search_prod",
             "model": m.embedding}]


def write_embeddings(path: Path, as_of: dt.date, m: DemoModels) -> None:
    days = _days(as_of)
    lines = []
    for i in range(0, len(days), 7):
        buckets = []
        for d in days[i:i + 7]:
            buckets.append({"object": "bucket", "start_time": _epoch(d),
                            "end_time": _epoch(d + dt.timedelta(days=1)),
                            "results": embedding_results(d, m)})
        more = i + 7 < len(days)
        lines.append(json.dumps({"object": "page", "data": buckets, "has_more": more,
                                 "next_page": f"emb_{i // 7 + 1:04d}" if more else None}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


DASHBOARD_COLUMNS = [
    "start_time", "end_time", "start_time_iso", "end_time_iso", "project_id",
    "num_model_requests", "user_id", "api_key_id", "model", "batch", "service_tier",
    "input_tokens", "output_tokens", "input_cached_tokens", "input_uncached_tokens",
    "input_text_tokens", "output_text_tokens", "input_cached_text_tokens", "input_audio_tokens",
    "input_cached_audio_tokens", "output_audio_tokens", "input_image_tokens",
    "input_cached_image_tokens", "output_image_tokens",
]


def _dash_row(day: dt.date, r: dict | None) -> list[str]:
    start, end = _epoch(day), _epoch(day + dt.timedelta(days=1))
    iso = [dt.datetime.fromtimestamp(t, dt.UTC).isoformat() for t in (start, end)]
    row = [str(start), str(end), *iso]
    if r is None:  # an empty bucket: time columns only
        return row + [""] * (len(DASHBOARD_COLUMNS) - 4)
    for col in DASHBOARD_COLUMNS[4:]:
        v = r.get(col, 0 if col.endswith("tokens") else None)
        if isinstance(v, bool):
            row.append("TRUE" if v else "FALSE")
        elif isinstance(v, int):
            row.append(f"{v}.0")
        else:
            row.append("" if v is None else str(v))
    return row


def support_results(day: dt.date, m: DemoModels) -> list[dict]:
    """The support team's completions of one day (its dashboard export); none on half of the
    Saturdays (an empty bucket)."""
    rng = _rng("support", day)
    if day.weekday() == 5 and rng.random() < 0.5:
        return []
    return [
        _completion(rng, m.deprecated_or_active, "proj_support", "key_support_bot", False,
                    rng.randint(400, 700)),
        _completion(rng, m.deprecated_or_active, "proj_support", "key_support_bot", True,
                    rng.randint(80, 160)),
        _completion(rng, m.active_cheap, "proj_support", "key_support_agent", False,
                    rng.randint(50, 90), tier="flex", user="user_ana"),
    ]


def write_dashboard(path: Path, as_of: dt.date, m: DemoModels) -> None:
    rows: list[list[str]] = []
    for d in _days(as_of):
        results: list[dict | None] = list(support_results(d, m))
        rows.extend(_dash_row(d, r) for r in results or [None])
    # the same buckets the API pages hold for the last three days: must count once
    for d in _days(as_of)[-3:]:
        rows.extend(_dash_row(d, r) for r in search_buckets(d, as_of, m))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(DASHBOARD_COLUMNS)
        writer.writerows(rows)


LITELLM_COLUMNS = [
    "request_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens",
    "completion_tokens", "startTime", "endTime", "completionStartTime", "model", "model_id",
    "model_group", "custom_llm_provider", "api_base", "user", "metadata", "cache_hit",
    "cache_key", "request_tags", "team_id", "organization_id", "end_user", "messages",
    "response", "session_id", "status", "proxy_server_request",
]


#: the gateway's custom_llm_provider and api_base for the demo's models
PROVIDERS = {"openai": ("openai", "https://api.openai.com/v1"),
             "anthropic": ("anthropic", "https://api.anthropic.com/v1")}


def provider(model: str) -> str:
    return "anthropic" if model.startswith("claude-") else "openai"


def logged_name(model: str) -> str:
    """The model as the gateway logs it: newer LiteLLM logs a deployment's model as configured,
    with its provider prefix (``anthropic/claude-...``); the demo's OpenAI deployments are
    configured without one."""
    return f"anthropic/{model}" if provider(model) == "anthropic" else model


def write_litellm(path: Path, as_of: dt.date, m: DemoModels,
                  shutdown_days: dict[str, dt.date]) -> None:
    """Gateway requests; a call to a model on or after its shutdown day fails."""
    teams = [
        # (team_id, team_alias, api_key hash, model calls per day: [(model, n)])
        ("team-7f3a-growth", "growth", "88c1f0e5a9b2",
         lambda d: [(m.shutdown, 40), (m.active_cheap, 25)]),
        ("", "data-science", "4b9d27aa01fe",
         lambda d: [(m.shutdown_long_ago, 6), (UNKNOWN_MODEL, 12), (m.active, 10)]),
        ("team-91c2-platform", "platform", "d2e7c3b14a60",
         # a regression: platform starts calling a deprecated model two days before as-of
         lambda d: [(m.embedding, 30), (m.active_cheap, 15)]
         + ([(m.deprecated, 16)] if m.deprecated and (as_of - d).days <= 2 else [])),
        # another provider's model through the same gateway (Anthropic's)
        ("team-5d0e-assistant", "assistant", "e81a6c0f29d3",
         lambda d: [(m.other_provider, 20)] if m.other_provider else []),
    ]
    rows = []
    for d in _days(as_of):
        rng = _rng("gateway", d)
        # the platform team's regression sends whole repositories: one call in eight has a
        # prompt past OpenAI's 272k long-context threshold (drawn apart, so the other
        # teams' requests stay as they were)
        long_rng = _rng("long-context", d)
        for team_id, alias, key_hash, calls in teams:
            for model, n in calls(d):
                call_type = "aembedding" if model == m.embedding else "acompletion"
                for i in range(rng.randint(n // 2, n)):
                    start = dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC) + dt.timedelta(
                        seconds=rng.randint(0, 86_399))
                    end = start + dt.timedelta(milliseconds=rng.randint(200, 9000))
                    failed = model == m.shutdown_long_ago or (
                        model in shutdown_days and d >= shutdown_days[model])
                    prompt = 0 if failed else rng.randint(200, 3000)
                    if alias == "platform" and model == m.deprecated and i % 8 == 0:
                        prompt = long_rng.randint(280_000, 400_000)
                    completion = 0 if failed or call_type == "aembedding" else rng.randint(50, 800)
                    meta: dict[str, object] = {
                        "user_api_key": key_hash, "user_api_key_alias": f"{alias}-service",
                        "user_api_key_team_id": team_id or None,
                        "user_api_key_team_alias": alias,
                        "status": "failure" if failed else "success"}
                    if provider(model) == "anthropic" and not failed:
                        # a coding assistant resends its long context: LiteLLM logs
                        # Anthropic's cache reads and writes (both counted in prompt_tokens),
                        # three quarters of the writes to live an hour
                        writes = prompt // 5
                        meta["usage_object"] = {
                            "prompt_tokens": prompt, "completion_tokens": completion,
                            "cache_read_input_tokens": prompt * 3 // 5,
                            "cache_creation_input_tokens": writes,
                            "prompt_tokens_details": {
                                "cached_tokens": prompt * 3 // 5,
                                "cache_creation_tokens": writes,
                                "cache_creation_token_details": {
                                    "ephemeral_5m_input_tokens": writes - writes * 3 // 4,
                                    "ephemeral_1h_input_tokens": writes * 3 // 4}}}
                    if failed:
                        meta["error_information"] = {
                            "error_code": "404",
                            "error_message": f"The model `{model}` has been deprecated"}
                    rows.append([
                        f"req-{d.isoformat()}-{alias}-{model}-{i:05d}", call_type, key_hash,
                        "0.0", str(prompt + completion), str(prompt), str(completion),
                        start.strftime("%Y-%m-%d %H:%M:%S.%f"),
                        end.strftime("%Y-%m-%d %H:%M:%S.%f"), "", logged_name(model),
                        "dep-1", model, *PROVIDERS[provider(model)], "",
                        json.dumps(meta), "False", "", "[]", team_id, "", "",
                        json.dumps([{"role": "user", "content": "Summarise our Q3 churn memo"}]),
                        json.dumps({"choices": [{"message": {"content": "CONFIDENTIAL draft"}}]}),
                        "", "failure" if failed else "success",
                        json.dumps({"headers": {"authorization": "Bearer <redacted-in-demo>"}}),
                    ])
    rows.sort(key=lambda r: r[7])
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(LITELLM_COLUMNS)
        writer.writerows(rows)


@dataclass(frozen=True)
class ListPrices:
    """The shipped catalog's list prices, to bill the demo's usage as OpenAI would: a model's
    price row by exact name or snapshot base, its tier's own where the catalog has one (else
    the default tier's), on the usage day (the rule of ``int_usage_priced.sql``)."""
    prices: dict[str, list[Price]]  # by model
    unit_prices: dict[str, list[UnitPrice]]  # by model
    known: frozenset[str]  # every model with a price of either kind

    @classmethod
    def shipped(cls) -> ListPrices:
        prices: dict[str, list[Price]] = {}
        for p in read_prices(CATALOG_DATA_DIR / "model_prices.csv"):
            prices.setdefault(p.model, []).append(p)
        units: dict[str, list[UnitPrice]] = {}
        for u in read_unit_prices(CATALOG_DATA_DIR / "model_unit_prices.csv"):
            units.setdefault(u.model, []).append(u)
        return cls(prices, units, frozenset(prices) | frozenset(units))

    def cost(self, r: dict, day: dt.date) -> Decimal:
        """One Usage API result's cost (``money.row_cost``, ``money.unit_cost``)."""
        name = resolve_name(r["model"], self.known) or r["model"]
        if "seconds" in r:
            (unit,) = (u for u in self.unit_prices.get(name, []) if u.unit == "seconds"
                       and u.valid_from <= day and (u.valid_to is None or day < u.valid_to))
            return unit_cost(r["seconds"], unit.usd_per_1m_units)
        rows = {p.service_tier: p for p in self.prices.get(name, []) if p.covers(day)}
        p = rows.get(r.get("service_tier")) or rows[None]
        return row_cost(
            r["input_tokens"], r.get("input_cached_tokens", 0), r.get("output_tokens", 0),
            p.input_usd_per_1m, p.cached_input_usd_per_1m, p.output_usd_per_1m,
            bool(r.get("batch")), p.batch_discount,
            input_audio_tokens=r.get("input_audio_tokens", 0),
            cached_input_audio_tokens=r.get("input_cached_audio_tokens", 0),
            output_audio_tokens=r.get("output_audio_tokens", 0),
            input_audio_price=p.input_audio_usd_per_1m,
            cached_audio_price=p.cached_input_audio_usd_per_1m,
            output_audio_price=p.output_audio_usd_per_1m,
            input_image_tokens=r.get("input_image_tokens", 0),
            cached_input_image_tokens=r.get("input_cached_image_tokens", 0),
            output_image_tokens=r.get("output_image_tokens", 0),
            input_image_price=p.input_image_usd_per_1m,
            cached_image_price=p.cached_input_image_usd_per_1m,
            output_image_price=p.output_image_usd_per_1m)


def billed_usd(day: dt.date, as_of: dt.date, m: DemoModels, prices: ListPrices,
               image_shutdown: dt.date | None) -> dict[str, Decimal]:
    """What OpenAI bills each project for one day: the list price of all its usage the Usage
    API and the dashboard report (each bucket once: the notebook's save and the dashboard's
    repeat of the search buckets are the same usage), 6 decimal places as a bill shows."""
    results = (search_buckets(day, as_of, m) + voice_results(day, m)
               + image_results(day, m, image_shutdown) + embedding_results(day, m)
               + transcription_results(day, m) + support_results(day, m))
    bill: dict[str, Decimal] = {}
    for r in results:
        bill[r["project_id"]] = bill.get(r["project_id"], Decimal(0)) + prices.cost(r, day)
    return {project: usd.quantize(Decimal("1e-6")) for project, usd in sorted(bill.items())}


#: the last days of the bill, downloaded from the dashboard's cost view rather than pulled
#: from the Costs API; the export names the organisation (FOCUS's billing account)
COST_VIEW_DAYS = 7
DEMO_ORGANIZATION = ("org-demo", "Demo Co")
COST_VIEW_HEADER = ("start_time", "end_time", "start_time_iso", "end_time_iso", "amount_value",
                    "amount_currency", "line_item", "project_id", "organization_id",
                    "organization_name")


def bills(as_of: dt.date, m: DemoModels) -> list[tuple[dt.date, dict[str, Decimal]]]:
    """Each day of the demo with its bill per project (``billed_usd``), at the shipped list
    prices: what :func:`write_costs` and :func:`write_cost_view` split between them."""
    prices, shutdown = ListPrices.shipped(), _image_shutdown(m)
    return [(d, billed_usd(d, as_of, m, prices, shutdown)) for d in _days(as_of)]


def write_costs(path: Path, bill: list[tuple[dt.date, dict[str, Decimal]]]) -> None:
    """The Costs API's daily amounts per project for the days of ``bill``."""
    buckets = []
    for d, by_project in bill:
        buckets.append({"object": "bucket", "start_time": _epoch(d),
                        "end_time": _epoch(d + dt.timedelta(days=1)), "results": [
                            {"object": "organization.costs.result",
                             "amount": {"value": float(usd), "currency": "usd"},
                             "line_item": None, "project_id": project, "api_key_id": None,
                             "quantity": None, "quantity_unit": None}
                            for project, usd in by_project.items()]})
    path.write_text(json.dumps({"object": "page", "data": buckets, "has_more": False,
                                "next_page": None}), encoding="utf-8")


def write_cost_view(path: Path, bill: list[tuple[dt.date, dict[str, Decimal]]]) -> None:
    """The days of ``bill`` as the dashboard's cost view exports them: one row per day and
    project, the amount printed with 16 decimals, the organisation named on every row
    (formats.md 4)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COST_VIEW_HEADER)
        for d, by_project in bill:
            end = d + dt.timedelta(days=1)
            for project, usd in by_project.items():
                w.writerow([_epoch(d), _epoch(end), f"{d}T00:00:00+00:00",
                            f"{end}T00:00:00+00:00", f"{usd:.16f}", "usd", "", project,
                            *DEMO_ORGANIZATION])


NOTEBOOK_DAYS = 14
UNGROUPED_SUMS = ("num_model_requests", "input_tokens", "output_tokens", "input_cached_tokens")


def write_notebook_save(path: Path, as_of: dt.date, m: DemoModels) -> None:
    """Someone's notebook saved the organisation's completions of the last two weeks without
    grouping (the Usage API's default: one result a day, every dimension null), as notebooks
    save them: the buckets of every page concatenated, no envelope (formats.md 1.8). The same
    usage as the API pages and the dashboard export, so it adds nothing."""
    buckets = []
    shutdown = _image_shutdown(m)
    for d in _days(as_of)[-NOTEBOOK_DAYS:]:
        results = (search_buckets(d, as_of, m) + support_results(d, m) + voice_results(d, m)
                   + image_results(d, m, shutdown))
        total = {k: sum(r[k] for r in results) for k in UNGROUPED_SUMS}
        buckets.append({"object": "bucket", "start_time": _epoch(d),
                        "end_time": _epoch(d + dt.timedelta(days=1)), "results": [{
                            "object": "organization.usage.completions.result", **total,
                            "project_id": None, "user_id": None, "api_key_id": None,
                            "model": None, "batch": None, "service_tier": None}]})
    path.write_text(json.dumps(buckets), encoding="utf-8")


#: the demo's OpenAI keys, as their projects' key lists name them: (project, key, name,
#: owner type, owner). The sync pulls these lists with the usage; here they are saved files.
DEMO_KEYS = (
    ("proj_search", "key_search_prod", "search-api", "service_account", "search-backend"),
    ("proj_search", "key_search_eval", "offline-evals", "user", "Priya Nair"),
    ("proj_search", "key_search_batch", "search-reindex", "service_account", "reindex-batch"),
    ("proj_sandbox", "key_sandbox", "", "user", "intern@example.com"),
    ("proj_support", "key_support_bot", "support-bot", "service_account", "helpdesk-automation"),
    ("proj_support", "key_support_agent", "agent-assist", "service_account", "agent-assist"),
    ("proj_voice", "key_voice_agent", "phone-agent", "service_account", "voice-gateway"),
    ("proj_voice", "key_voice_transcripts", "call-transcripts", "service_account",
     "voice-gateway"),
    ("proj_design", "key_design_studio", "brand-studio", "service_account", "creative-tools"),
)


DEMO_PROJECTS = {"proj_search": "Search", "proj_sandbox": "Sandbox",
                 "proj_support": "Customer support", "proj_voice": "Voice",
                 "proj_design": "Design"}
DEMO_USERS = {"user_ana": ("Ana Souza", "ana@example.com"),
              "user_priya": ("Priya Nair", "priya@example.com")}


def _list_object(items: list[dict]) -> dict:
    """One page of an Admin API list, holding every item."""
    return {"object": "list", "data": items, "first_id": items[0]["id"],
            "last_id": items[-1]["id"], "has_more": False}


def write_user_list(path: Path, as_of: dt.date) -> None:
    """The organisation's users as ``GET /organization/users`` answers them."""
    added = _epoch(as_of - dt.timedelta(days=300))
    users = [{"object": "organization.user", "id": uid, "name": name, "email": email,
              "role": "reader", "added_at": added} for uid, (name, email) in DEMO_USERS.items()]
    path.write_text(json.dumps(_list_object(users)), encoding="utf-8")


def write_project_list(path: Path, as_of: dt.date) -> None:
    """The organisation's projects as ``GET /organization/projects`` answers them."""
    created = _epoch(as_of - dt.timedelta(days=500))
    projects = [{"object": "organization.project", "id": pid, "name": name,
                 "created_at": created, "archived_at": None, "status": "active"}
                for pid, name in DEMO_PROJECTS.items()]
    path.write_text(json.dumps(_list_object(projects)), encoding="utf-8")


def write_key_lists(path: Path, as_of: dt.date) -> None:
    """Each project's API keys as ``GET /organization/projects/{id}/api_keys`` answers them,
    one list a line (JSON Lines)."""
    created, used = _epoch(as_of - dt.timedelta(days=400)), _epoch(as_of)
    lines = []
    for project in dict.fromkeys(p for p, *_ in DEMO_KEYS):
        keys = []
        for _, key, name, kind, owner in (k for k in DEMO_KEYS if k[0] == project):
            who = ({"name": owner} if kind == "service_account" or "@" not in owner
                   else {"name": "", "email": owner})
            keys.append({"object": "organization.project.api_key", "id": key, "name": name,
                         "redacted_value": "sk-...demo", "created_at": created,
                         "last_used_at": used, "owner": {"type": kind, kind: who}})
        lines.append(json.dumps(_list_object(keys)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def generate(landing: Path, as_of: dt.date) -> DemoModels:
    m = pick_models(as_of)
    lifecycle = {r.model: r for r in read_lifecycle(CATALOG_DATA_DIR / "model_lifecycle.csv")}
    shutdown_days = {model: row.shutdown_date for model in (m.shutdown, m.other_provider)
                     if model and (row := lifecycle.get(model)) and row.shutdown_date}
    for sub in ("usage_api", "dashboard", "gateway", "costs"):
        (landing / sub).mkdir(parents=True, exist_ok=True)
    write_completions(landing / "usage_api" / "completions.json", as_of, m)
    write_embeddings(landing / "usage_api" / "embeddings.jsonl", as_of, m)
    write_transcriptions(landing / "usage_api" / "audio_transcriptions.json", as_of, m)
    write_dashboard(landing / "dashboard" / "activity_export.csv", as_of, m)
    write_litellm(landing / "gateway" / "litellm_spend_logs.csv", as_of, m, shutdown_days)
    # the bill: Costs API pages, but for its last days, saved from the dashboard's cost view
    bill = bills(as_of, m)
    write_costs(landing / "costs" / "costs_api.json", bill[:-COST_VIEW_DAYS])
    write_cost_view(landing / "costs" / "cost_view_export.csv", bill[-COST_VIEW_DAYS:])
    write_key_lists(landing / "usage_api" / "api_keys.jsonl", as_of)
    write_project_list(landing / "usage_api" / "projects.json", as_of)
    write_user_list(landing / "usage_api" / "users.json", as_of)
    (landing / "notebooks").mkdir(parents=True, exist_ok=True)
    write_notebook_save(landing / "notebooks" / "completions_last_2_weeks.json", as_of, m)
    return m


def main(argv: list[str] | None = None) -> None:
    settings = RadarSettings.from_env()
    parser = argparse.ArgumentParser(description="Write demo exports into the landing folder.")
    parser.add_argument("--landing", type=Path, default=settings.landing_dir)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=settings.as_of)
    args = parser.parse_args(argv)
    m = generate(args.landing, args.as_of)
    print(f"demo exports for {DAYS} days before {args.as_of} written to {args.landing}")
    for role, model in vars(m).items():
        print(f"  {role:18} {model or '(none in the catalog on this day)'}")
    if m.deprecated is None:
        print(f"The catalog names no OpenAI chat model still deprecated on {args.as_of}: its\n"
              "knowledge of retirements has run out by then (`make catalog` brings newer ones).\n"
              f"The demo's teams on such a model call {m.active} instead.")


if __name__ == "__main__":
    main()
