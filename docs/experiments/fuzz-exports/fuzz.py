"""Mutate the demo exports at random, run radar_refresh on each set, report what broke.

`.venv/bin/python docs/experiments/fuzz-exports/fuzz.py SEED N [--same|--numbers]` from the
repo root, after `make demo` wrote the exports: N sets of the demo's exports (the CSVs cut
to their first 200 lines), each file mutated with probability 1/2, each set refreshed into a
warehouse of its own (under $FUZZ_OUT, default /tmp/radar-fuzz). A run must end in
RUN_SUCCESS, every file recorded in staging.ingested_files, and every row of a loaded file
loaded, quarantined or counted a duplicate (rows_read = rows_loaded + rows_rejected +
rows_duplicate). With `--same` only mutations that leave the numbers as they are (a
byte-order mark, CRLF line ends, UTF-16, a CSV or JSON Lines line repeated): then the
per-source totals of marts.usage_cost_daily must equal those of the unmutated files (nothing
lost, nothing counted twice). With `--numbers` one to three numbers of a file are damaged
instead (made negative, 23 digits long, text, given a fraction, or an exponent of five
digits): then neither the gateway's totals nor the OpenAI sources' together may exceed the
unmutated files'. One JSON line per set.

With `--reshape` the files are left as they are and each, with probability 1/2, gets a
second file beside it holding the same usage reshaped: re-saved (CRLF, every CSV field
quoted, JSON pretty-printed), a part of it (a run of CSV rows; some buckets, results or
list items), shuffled (rows, buckets, results and JSON keys), reformatted (JSON array and
JSON Lines swapped), twice over (a CSV with its header repeated mid-file, a JSON document
doubled) or converted (Usage API pages written as the dashboard exports them; then the OpenAI
sources of usage_cost_daily are compared as one, since the newest file's source wins).
`--only KIND` reshapes with that kind alone. Each set is refreshed twice: all files in one
refresh, then into a fresh warehouse the unmutated files first and the added ones in a
second refresh. Both times every mart must equal the unmutated files' row for row (the same
usage is never counted twice).

With `--as-of` each set picks an as-of day between the demo's first usage day and today,
and refreshes twice with it: once on the whole files, once on the files cut at that day (CSV
rows and JSON buckets of later days removed). What is computed as of a day must not depend
on usage after it: usage_cost_daily and the reconciliations up to that day, the as-of marts
whole, and the weekly report's sections before "Data health", must be the same both times.

With `--rolling` the whole files arrive last, after one to three earlier exports of each cut
at days before (refreshed one by one, as a daily sync leaves them), some fetched while their
last day was under way (that day's requests up to an hour of it, its buckets with a share of
their counts and amounts): every mart must then equal one refresh of the whole files.

With `--commas` each CSV, with probability 1/2, gets one to three rows with a comma put
into an unquoted value without quoting it (a field too many; half of those rows with their
last value emptied first, so the surplus field is empty): a spend log or a dashboard sheet
must quarantine each such row with the reason `schema.SURPLUS_REASON` and load the others as
before (each file keeps its first 200 lines, so a few rows of many get one), and no total
may exceed the unmutated files'.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[3]
SRC = ROOT / "warehouse" / "landing"
OUT = Path(os.environ.get("FUZZ_OUT", "/tmp/radar-fuzz"))
SAME_KINDS = ["bom", "crlf", "utf16", "dupline"]
ALL_KINDS = SAME_KINDS + ["truncate", "flip", "delline", "negnum", "bignum", "text_in_num",
                          "empty", "swapcols", "dropcol", "nullbyte", "quote"]
TOTALS = ("SELECT source, sum(requests), sum(input_tokens), sum(output_tokens) "
          "FROM marts.usage_cost_daily GROUP BY 1 ORDER BY 1")
NUMBER = re.compile(rb"(?<=[,:])\d+(?=[,}\n])")
#: --numbers: any number between separators, decimals and pretty-printed JSON's too
ANY_NUMBER = re.compile(rb"(?:(?<=[,:])|(?<=: ))\d+(?:\.\d+)?(?=\s*[,}\]\r\n])")
NUMBER_KINDS = ["negnum", "bignum", "text_in_num", "fraction", "exponent"]
RESHAPE_KINDS = ["resaved", "part", "shuffled", "reformatted", "twice", "converted"]
#: --reshape: every mart, row for row (cost_reconciliation is the bill against the usage)
MARTS = ("usage_cost_daily", "deprecated_model_usage", "migration_status_weekly",
         "unpriced_usage", "cost_reconciliation")


def _inputs() -> tuple[list[Path], dict[str, str]]:
    """The demo's exports, and the environment a refresh of them runs in."""
    files = sorted(p for p in SRC.rglob("*") if p.is_file())
    env = dict(os.environ, GX_ANALYTICS_ENABLED="false",
               DAGSTER_HOME=os.environ.get("DAGSTER_HOME",
                                           str(ROOT / "warehouse" / "dagster_home")))
    return files, env


def _json_docs(data: bytes) -> tuple[list, bool]:
    """A JSON file's documents: the one it is, or its lines (JSON Lines: then True)."""
    text = data.decode()
    try:
        return [json.loads(text)], False
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()], True


def small(path: Path) -> bytes:
    data = path.read_bytes()
    return b"\n".join(data.split(b"\n")[:200]) + b"\n" if path.suffix == ".csv" else data


def mutate(data: bytes, kind: str, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    header = lines[0].split(b",")
    if kind == "truncate":
        return data[: rng.randrange(1, max(2, len(data)))]
    if kind == "flip":
        flipped = bytearray(data)
        for _ in range(rng.randint(1, 5)):
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        return bytes(flipped)
    if kind in ("delline", "dupline") and len(lines) > 2:
        i = rng.randrange(1, len(lines) - 1)  # a data line, not the header or the last one
        lines[i:i + 1] = [] if kind == "delline" else [lines[i], lines[i]]
        return b"\n".join(lines)
    if kind in ("negnum", "bignum", "text_in_num") and (found := list(NUMBER.finditer(data))):
        m = rng.choice(found)
        new = {"negnum": b"-" + m.group(), "bignum": b"9" * 23, "text_in_num": b"abc"}[kind]
        return data[: m.start()] + new + data[m.end():]
    if kind == "utf16":
        return data.decode("utf-8", "replace").encode("utf-16")
    if kind == "bom":
        return b"\xef\xbb\xbf" + data
    if kind == "empty":
        return b""
    if kind == "crlf":
        return data.replace(b"\n", b"\r\n")
    if kind in ("swapcols", "dropcol") and len(lines) > 1 and len(header) > 2:
        i, j = rng.sample(range(len(header)), 2)
        if kind == "swapcols":
            header[i], header[j] = header[j], header[i]
        else:
            del header[i]
        return b"\n".join([b",".join(header), *lines[1:]])
    if kind in ("nullbyte", "quote"):
        i = rng.randrange(len(data)) if data else 0
        return data[:i] + (b"\x00" if kind == "nullbyte" else b'"') + data[i:]
    return data


def mutate_numbers(data: bytes, rng: random.Random) -> tuple[bytes, list[str]]:
    """--numbers: one to three numbers of the file made negative, 23 digits long, text, a
    whole number given a fraction, or given an exponent past any number's (``e+99999``,
    ``e-99999``: DuckDB's cast to DECIMAL fails on one below -32768)."""
    kinds = []
    for _ in range(rng.randint(1, 3)):
        found = list(ANY_NUMBER.finditer(data))
        if not found:
            break
        m, kind = rng.choice(found), rng.choice(NUMBER_KINDS)
        new = {"negnum": b"-" + m.group(), "bignum": b"9" * 23, "text_in_num": b"abc",
               "fraction": m.group().split(b".")[0] + b".5",
               "exponent": m.group() + rng.choice([b"e+99999", b"e-99999"])}[kind]
        data = data[: m.start()] + new + data[m.end():]
        kinds.append(kind)
    return data, kinds


def _csv_reshape(data: bytes, kind: str, rng: random.Random) -> bytes:
    lines = data.rstrip(b"\n").split(b"\n")
    header, rows = lines[0], lines[1:]
    if kind == "resaved":  # CRLF, every field quoted, as a spreadsheet may save it
        out = io.StringIO()
        csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(
            csv.reader(io.StringIO(data.decode())))
        return out.getvalue().encode()
    if kind == "part":
        i = rng.randrange(len(rows))
        rows = rows[i:rng.randint(i + 1, len(rows))]
    elif kind == "shuffled":
        rows = rng.sample(rows, len(rows))
    elif kind == "twice":  # two exports concatenated: the second header is a row
        rows = rows + [header] + rows
    return b"\n".join([header, *rows]) + b"\n"


def _json_items(doc: object) -> list:
    """The lists a reshape may cut or shuffle: a page's buckets, a bucket's results, a
    list object's items, a bare array's elements."""
    found = []
    if isinstance(doc, list):
        found.append(doc)
        for item in doc:
            found += _json_items(item)
    elif isinstance(doc, dict):
        for key in ("data", "results"):
            if isinstance(doc.get(key), list):
                found += _json_items(doc[key])
    return found


def _shuffled_keys(doc: object, rng: random.Random) -> object:
    if isinstance(doc, dict):
        keys = rng.sample(list(doc), len(doc))
        return {k: _shuffled_keys(doc[k], rng) for k in keys}
    if isinstance(doc, list):
        return [_shuffled_keys(v, rng) for v in doc]
    return doc


def _json_reshape(data: bytes, kind: str, rng: random.Random) -> bytes:
    docs, lines = _json_docs(data)
    if kind == "part":
        for items in _json_items(docs):
            if items and items is not docs:
                keep = sorted(rng.sample(range(len(items)), rng.randint(1, len(items))))
                items[:] = [items[k] for k in keep]
    elif kind == "shuffled":
        for items in _json_items(docs):
            rng.shuffle(items)
        docs = [_shuffled_keys(d, rng) for d in docs]
    elif kind == "twice":
        if lines:
            docs = docs + docs
        elif isinstance(docs[0], list):
            docs = [docs[0] + docs[0]]
        else:
            docs = [[docs[0], docs[0]]]
    elif kind == "reformatted":  # JSON Lines <-> an array of pages
        if lines:
            return json.dumps(docs).encode()
        if isinstance(docs[0], list) and all(isinstance(d, dict) and d.get("object") != "bucket"
                                             for d in docs[0]):
            return "".join(json.dumps(d) + "\n" for d in docs[0]).encode()
        if isinstance(docs[0], dict):
            return json.dumps([docs[0]]).encode()
    if lines:
        return "".join(json.dumps(d) + "\n" for d in docs).encode()
    return json.dumps(docs[0], indent=2 if kind == "resaved" else None).encode()


def _as_dashboard_csv(data: bytes) -> bytes | None:
    """Usage API pages as the dashboard would export them: a row per bucket and result, the
    bucket's times in seconds and ISO, counts written as floats, booleans as TRUE/FALSE. None
    for a file that holds no usage buckets."""
    docs, _ = _json_docs(data)
    buckets = [b for items in _json_items(docs) for b in items
               if isinstance(b, dict) and b.get("object") == "bucket"]
    rows = []
    for b in buckets:
        times: dict[str, object] = {k: str(b[k]) for k in ("start_time", "end_time")}
        times |= {f"{k}_iso": dt.datetime.fromtimestamp(b[k], dt.UTC).isoformat()
                  for k in ("start_time", "end_time")}
        for r in b.get("results") or []:
            if ".usage." not in str(r.get("object")):
                return None
            rows.append(times | {"organization_id": "org-demo", "organization_name": "Demo"}
                        | {k: v for k, v in r.items() if k != "object"})
    if not rows:
        return None
    names = list(dict.fromkeys(k for r in rows for k in r))

    def cell(v: object) -> str:
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, int):
            return f"{v}.0"
        return "" if v is None else str(v)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    writer.writerows([cell(r.get(k)) for k in names] for r in rows)
    return out.getvalue().encode()


def reshape(data: bytes, suffix: str, kind: str, rng: random.Random) -> bytes:
    """The same usage in another shape (--reshape)."""
    if kind == "converted":  # Usage API pages as a dashboard export, or else re-saved
        converted = _as_dashboard_csv(data) if suffix != ".csv" else None
        if converted is not None:
            return converted
        kind = "resaved"
    if suffix == ".csv":
        return _csv_reshape(data, "resaved" if kind == "reformatted" else kind, rng)
    return _json_reshape(data, kind, rng)


#: usage_cost_daily with the OpenAI sources as one: a bucket that arrives both in an API
#: page and in a dashboard export counts once, from the newest file, whichever source it is
OPENAI_AS_ONE = """
    SELECT usage_date, if(source LIKE 'openai%', 'openai', source) AS source, team,
           project_id, user_id, api_key_id, endpoint, route, model, service_tier, is_batch,
           sum(requests), sum(failed_requests), sum(input_tokens), sum(cached_input_tokens),
           sum(output_tokens), sum(cost_usd), priced, lifecycle_status
    FROM marts.usage_cost_daily GROUP BY ALL ORDER BY ALL"""


def _field_spans(line: bytes) -> list[tuple[int, int, bool]]:
    """Each field of a CSV line as (start, end, quoted)."""
    spans, i, n = [], 0, len(line)
    while True:
        start, quoted = i, line[i:i + 1] == b'"'
        if quoted:  # to the closing quote ("" is a quote inside)
            i += 1
            while i < n and not (line[i:i + 1] == b'"' and line[i + 1:i + 2] != b'"'):
                i += 2 if line[i:i + 2] == b'""' else 1
            i += 1
        while i < n and line[i:i + 1] != b",":
            i += 1
        spans.append((start, i, quoted))
        if i >= n:
            return spans
        i += 1


def add_commas(data: bytes, rng: random.Random) -> tuple[bytes, list[str]]:
    """--commas: one to three data lines each given a comma inside an unquoted value (its
    last value emptied first in half of them); what was done to which line, for the log."""
    lines = data.split(b"\n")
    body = [i for i in range(1, len(lines)) if lines[i].strip()]
    done = []
    for i in sorted(rng.sample(body, min(len(body), rng.randint(1, 3)))):
        line, how = lines[i], "comma"
        if rng.random() < 0.5:
            line, how = line[:_field_spans(line)[-1][0]], "comma+empty-last"
        start, end, _ = rng.choice([f for f in _field_spans(line) if not f[2]])
        k = rng.randint(start, end)
        lines[i] = line[:k] + b"," + line[k:]
        done.append(f"line {i + 1}:{how}")
    return b"\n".join(lines), done


def marts(path: Path, openai_as_one: bool = False) -> dict[str, list]:
    """Every mart of ``MARTS``, its rows sorted."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {m: con.execute(OPENAI_AS_ONE if openai_as_one and m == "usage_cost_daily"
                               else f"SELECT * FROM marts.{m} ORDER BY ALL").fetchall()
                for m in MARTS}
    finally:
        con.close()


def refresh(root: Path, env: dict[str, str]) -> tuple[bool, str, list | None]:
    land = root / "landing"
    env = dict(env, RADAR_LANDING_DIR=str(land), RADAR_WAREHOUSE=str(root / "w.duckdb"),
               RADAR_PUBLISH_DIR=str(root / "pub"), RADAR_REPORTS_DIR=str(root / "rep"))
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "dagster"), "job", "execute", "-m",
                           "pipelines.definitions", "-j", "radar_refresh"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    ok = done.returncode == 0 and "RUN_SUCCESS" in done.stdout + done.stderr
    if not ok:
        (root / "log.txt").write_text(done.stdout + done.stderr)
    if not (root / "w.duckdb").exists():
        return False, "no warehouse", None
    con = duckdb.connect(str(root / "w.duckdb"), read_only=True)
    try:
        files = con.execute("SELECT status, count(*) FROM staging.ingested_files "
                            "GROUP BY 1 ORDER BY 1").fetchall()
        recorded = sum(n for _, n in files) == sum(1 for p in land.iterdir() if p.is_file())
        # every row a loaded file held is loaded, quarantined or a duplicate
        unaccounted = con.execute(
            "SELECT count(*) FROM staging.ingested_files WHERE status = 'loaded' "
            "AND rows_read <> rows_loaded + rows_rejected + rows_duplicate").fetchall()[0][0]
        return (ok and recorded and not unaccounted, str(files),
                con.execute(TOTALS).fetchall())
    finally:
        con.close()


def _at_most(totals: list | None, expected: list | None) -> bool:
    """The gateway's requests and tokens, and the OpenAI sources' together, at most the
    unmutated files': a damaged number quarantines its row, never adds. (Between the OpenAI
    sources usage may move: what a quarantined finer row held can count in a coarser save
    of another file instead.)"""
    def summed(rows: list | None, openai: bool) -> list[int]:
        return [sum(r[i] for r in rows or [] if r[0].startswith("openai") == openai)
                for i in (1, 2, 3)]
    return all(a <= b for openai in (False, True)
               for a, b in zip(summed(totals, openai), summed(expected, openai), strict=True))


def main() -> None:
    seed0, n = int(sys.argv[1]), int(sys.argv[2])
    same, numbers = "--same" in sys.argv, "--numbers" in sys.argv
    if "--reshape" in sys.argv:
        return main_reshape(seed0, n)
    if "--as-of" in sys.argv:
        return main_as_of(seed0, n)
    if "--rolling" in sys.argv:
        return main_rolling(seed0, n)
    if "--commas" in sys.argv:
        return main_commas(seed0, n)
    files, env = _inputs()
    expected = None
    for seed in [-1, *range(seed0, seed0 + n)]:  # -1: the files as they are
        rng = random.Random(seed)
        root = OUT / str(seed)
        shutil.rmtree(root, ignore_errors=True)
        (root / "landing").mkdir(parents=True)
        mutations = []
        for path in files:
            data = small(path)
            if seed >= 0 and numbers:
                if rng.random() < 0.5:
                    data, changed = mutate_numbers(data, rng)
                    mutations.append(f"{path.name}:{'+'.join(changed)}")
            elif seed >= 0 and rng.random() < 0.5:
                kinds = SAME_KINDS if same else ALL_KINDS
                if same and path.suffix == ".json":  # a line of a JSON document repeated
                    kinds = kinds[:-1]                # is not the same document
                kind = rng.choice(kinds)
                data = mutate(data, kind, rng)
                mutations.append(f"{path.name}:{kind}")
            (root / "landing" / path.name).write_bytes(data)
        ok, files_seen, totals = refresh(root, env)
        if seed == -1:
            expected = totals
        elif same and totals != expected:
            ok, files_seen = False, f"{files_seen}; totals {totals} != {expected}"
        elif numbers and not _at_most(totals, expected):
            ok, files_seen = False, f"{files_seen}; totals {totals} above {expected}"
        print(json.dumps({"seed": seed, "ok": ok, "mutations": mutations,
                          "files": files_seen}), flush=True)


def main_reshape(seed0: int, n: int) -> None:
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    files, env = _inputs()
    expected = None
    for seed in [-1, *range(seed0, seed0 + n)]:  # -1: the files as they are
        rng = random.Random(seed)
        extras, shapes = {}, []
        for path in files:
            if seed >= 0 and rng.random() < 0.5:
                kind = rng.choice(RESHAPE_KINDS if only is None else [only])
                extras[f"again_{kind}_{path.name}"] = reshape(small(path), path.suffix, kind, rng)
                shapes.append(f"{path.name}:{kind}")
        result = {"seed": seed, "reshapes": shapes}
        for mode in ("together", "later") if seed >= 0 else ("together",):
            root = OUT / f"reshape-{seed}-{mode}"
            shutil.rmtree(root, ignore_errors=True)
            (root / "landing").mkdir(parents=True)
            for path in files:
                (root / "landing" / path.name).write_bytes(small(path))
            if mode == "later":
                refresh(root, env)
            for name, data in extras.items():
                (root / "landing" / name).write_bytes(data)
            ok, files_seen, _ = refresh(root, env)
            if seed == -1:
                expected = {as_one: marts(root / "w.duckdb", as_one) for as_one in (False, True)}
            as_one = any(s.endswith(":converted") for s in shapes)
            got = marts(root / "w.duckdb", as_one)
            differ = [m for m in MARTS if expected is None or got[m] != expected[as_one][m]]
            result[mode] = {"ok": ok and not differ, "files": files_seen, "differ": differ}
        result["ok"] = all(result[m]["ok"] for m in ("together", "later") if m in result)
        print(json.dumps(result), flush=True)


def _scaled(value: object, share: float) -> object:
    """A count or an amount as an earlier fetch of a day still under way saw it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return int(value * share) if isinstance(value, int) else round(value * share, 6)


def _partial_bucket(bucket: dict, share: float) -> dict:
    results = []
    for r in bucket.get("results") or []:
        r = {k: _scaled(v, share) if k.endswith("_tokens") or k.startswith("num_") else v
             for k, v in r.items()}
        if isinstance(r.get("amount"), dict):
            r["amount"] = dict(r["amount"], value=_scaled(r["amount"].get("value"), share))
        results.append(r)
    return dict(bucket, results=results)


def _partial_row(header: list[str], row: list[str], share: float) -> list[str]:
    """A dashboard row of a day still under way: ``share`` of its counts and amount."""
    def part(name: str, value: str) -> str:
        if not value or not (name.endswith("_tokens") or name.startswith("num_")
                             or name == "amount_value"):
            return value
        return (f"{float(value) * share:.6f}" if name == "amount_value"
                else f"{int(float(value) * share)}.0")
    return [part(name, v) for name, v in zip(header, row, strict=True)]


def cut_at(data: bytes, suffix: str, day: dt.date, share: float | None = None) -> bytes:
    """The file without its usage after ``day``: CSV rows whose startTime (a spend log) or
    start_time (a dashboard export) is later, JSON buckets that start later. With ``share``
    the file is fetched while ``day`` was under way: a spend log has that day's requests
    that started in its first ``share`` of it, and the day's buckets have ``share`` of their
    counts and amounts (rounded down), as a later fetch of the day will not."""
    start = int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp())
    end = start + 86_400
    if suffix == ".csv":
        rows = list(csv.reader(io.StringIO(data.decode())))
        if "startTime" in rows[0]:
            i = rows[0].index("startTime")
            until = (dt.datetime.combine(day, dt.time()) + dt.timedelta(days=share or 1))
            keep = [r for r in rows[1:] if r[i] < until.strftime("%Y-%m-%d %H:%M:%S")]
        else:
            i = rows[0].index("start_time")
            keep = [r for r in rows[1:] if not r or int(float(r[i])) < end]
            if share is not None:
                keep = [_partial_row(rows[0], r, share) if r and int(float(r[i])) >= start
                        else r for r in keep]
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([rows[0], *keep])
        return out.getvalue().encode()
    docs, lines = _json_docs(data)
    for items in _json_items(docs):
        items[:] = [b if not (share is not None and isinstance(b, dict)
                              and b.get("object") == "bucket" and b["start_time"] >= start)
                    else _partial_bucket(b, share)
                    for b in items if not (isinstance(b, dict) and b.get("object") == "bucket"
                                           and b["start_time"] >= end)]
    if lines:
        return "".join(json.dumps(d) + "\n" for d in docs).encode()
    return json.dumps(docs[0]).encode()


#: --as-of: what a refresh as of a day computes for that day and before
AS_OF_QUERIES = {
    "usage_cost_daily": "SELECT * FROM marts.usage_cost_daily WHERE usage_date <= $d",
    "cost_reconciliation": "SELECT * FROM marts.cost_reconciliation WHERE usage_date <= $d",
    "cost_reconciliation_by_key":
        "SELECT * FROM marts.cost_reconciliation_by_key WHERE usage_date <= $d",
    "deprecated_model_usage": "SELECT * FROM marts.deprecated_model_usage",
    "deprecated_model_callers": "SELECT * FROM marts.deprecated_model_callers",
    "replacement_options": "SELECT * FROM marts.replacement_options",
    "migration_status_weekly": "SELECT * FROM marts.migration_status_weekly",
    "unpriced_usage": "SELECT * FROM marts.unpriced_usage",
}


def as_of_view(root: Path, env: dict[str, str], day: dt.date) -> dict[str, object]:
    """Refresh, write the weekly report, and return what as-of ``day`` computed."""
    ok, files_seen, _ = refresh(root, env)
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "dagster"), "job", "execute", "-m",
                           "pipelines.definitions", "-j", "weekly_migration_report"],
                          cwd=ROOT, env=dict(env, RADAR_WAREHOUSE=str(root / "w.duckdb"),
                                             RADAR_PUBLISH_DIR=str(root / "pub"),
                                             RADAR_LANDING_DIR=str(root / "landing"),
                                             RADAR_REPORTS_DIR=str(root / "rep")),
                          capture_output=True, text=True)
    reports = sorted((root / "rep").glob("*.md"))
    report = reports[0].read_text().split("## 5. Data health")[0] if reports else ""
    con = duckdb.connect(str(root / "w.duckdb"), read_only=True)
    try:
        got: dict[str, object] = {
            name: con.execute(f"{q} ORDER BY ALL", {"d": day} if "$d" in q else {}).fetchall()
            for name, q in AS_OF_QUERIES.items()}
    finally:
        con.close()
    got["report"] = report.splitlines()
    got["ok"] = ok and done.returncode == 0 and bool(reports)
    got["files"] = files_seen
    return got


def main_as_of(seed0: int, n: int) -> None:
    files = sorted(p for p in SRC.rglob("*") if p.is_file())
    first, today = dt.date(2026, 10, 6), dt.datetime.now(dt.UTC).date()
    for seed in range(seed0, seed0 + n):
        rng = random.Random(seed)
        day = first + dt.timedelta(days=rng.randint(0, (today - first).days))
        env = dict(os.environ, GX_ANALYTICS_ENABLED="false", RADAR_AS_OF=day.isoformat(),
                   DAGSTER_HOME=os.environ.get("DAGSTER_HOME",
                                               str(ROOT / "warehouse" / "dagster_home")))
        views = {}
        for mode in ("whole", "cut"):
            root = OUT / f"as-of-{seed}-{mode}"
            shutil.rmtree(root, ignore_errors=True)
            (root / "landing").mkdir(parents=True)
            for path in files:
                data = path.read_bytes()
                (root / "landing" / path.name).write_bytes(
                    cut_at(data, path.suffix, day) if mode == "cut" else data)
            views[mode] = as_of_view(root, env, day)
        differ = [k for k in views["whole"] if k not in ("ok", "files")
                  and views["whole"][k] != views["cut"][k]]
        print(json.dumps({"seed": seed, "as_of": day.isoformat(),
                          "ok": views["whole"]["ok"] and views["cut"]["ok"] and not differ,
                          "differ": differ}), flush=True)


def main_rolling(seed0: int, n: int) -> None:
    files, env = _inputs()
    first, today = dt.date(2026, 10, 6), dt.datetime.now(dt.UTC).date()
    expected = None
    for seed in [-1, *range(seed0, seed0 + n)]:  # -1: the whole files in one refresh
        rng = random.Random(seed)
        days = sorted(rng.sample(range((today - first).days), rng.randint(1, 3)))
        cuts = [] if seed < 0 else [
            (first + dt.timedelta(days=d), rng.choice([None, round(rng.uniform(0.1, 0.9), 2)]))
            for d in days]
        root = OUT / f"rolling-{seed}"
        shutil.rmtree(root, ignore_errors=True)
        (root / "landing").mkdir(parents=True)
        ok = True
        for k, (day, share) in enumerate(cuts):  # the earlier exports, each refreshed
            for path in files:
                (root / "landing" / f"until_{k}_{path.name}").write_bytes(
                    cut_at(path.read_bytes(), path.suffix, day, share))
            ok = refresh(root, env)[0] and ok
        for path in files:  # the whole files last
            (root / "landing" / path.name).write_bytes(path.read_bytes())
        ok = refresh(root, env)[0] and ok
        got = marts(root / "w.duckdb")
        expected = expected or got
        differ = [m for m in MARTS if got[m] != expected[m]]
        print(json.dumps({"seed": seed, "ok": ok and not differ, "differ": differ,
                          "cuts": [(d.isoformat(), f) for d, f in cuts]}), flush=True)


def main_commas(seed0: int, n: int) -> None:
    sys.path.insert(0, str(ROOT))
    from pipelines.lib.schema import SURPLUS_REASON
    files, env = _inputs()
    expected, clean = None, {}
    for seed in [-1, *range(seed0, seed0 + n)]:  # -1: the files as they are
        rng = random.Random(seed)
        root = OUT / f"commas-{seed}"
        shutil.rmtree(root, ignore_errors=True)
        (root / "landing").mkdir(parents=True)
        changed: dict[str, list[str]] = {}
        for path in files:
            data = small(path)
            if seed >= 0 and path.suffix == ".csv" and rng.random() < 0.5:
                data, changed[path.name] = add_commas(data, rng)
            (root / "landing" / path.name).write_bytes(data)
        ok, files_seen, totals = refresh(root, env)
        con = duckdb.connect(str(root / "w.duckdb"), read_only=True)
        try:
            seen = {Path(r[0]).name: r[1:] for r in con.execute(
                "SELECT f.path, f.status, f.error, f.rows_read, f.rows_loaded, "
                "(SELECT count(*) FROM staging.rejected_rows r WHERE r.file_id = f.file_id "
                "AND r.reason = $r) FROM staging.ingested_files f", {"r": SURPLUS_REASON}
            ).fetchall()}
        finally:
            con.close()
        if seed == -1:
            expected, clean = totals, {k: (v[2], v[3]) for k, v in seen.items()}
        wrong = []
        for name, done in changed.items():
            status, error, read, rows, surplus = seen[name]
            clean_read, clean_rows = clean[name]
            # a dashboard's empty bucket is not read: one given a comma is, and set apart
            empty_hit = read - clean_read if not name.startswith("litellm") else 0
            if (status, surplus, rows) != ("loaded", len(done),
                                           clean_rows - len(done) + empty_hit):
                wrong.append(f"{name}: {status}, {surplus} set apart, {rows} loaded "
                             f"(clean: {clean_rows})")
        if not _at_most(totals, expected):
            wrong.append(f"totals {totals} above {expected}")
        print(json.dumps({"seed": seed, "ok": ok and not wrong, "commas": changed,
                          "wrong": wrong, "files": files_seen}), flush=True)


if __name__ == "__main__":
    main()
