"""A '"' put at a random byte of the demo's spend log, one set a seed, each ingested into a new
in-memory warehouse (``ingest_landing``, the refresh's ingest): the file must either load with
every row accounted for (read, and loaded or quarantined) or be rejected whole naming the line
the quote is on. Needs ``make demo``'s ``warehouse/landing``.

With ``--cuts`` the log is cut at a random byte of its second half instead (a download that
stopped, no line end after it): it must load every whole row before the cut, the cut row
quarantined or, when only its last value lost its end, loaded.

With ``--sheet-cuts`` the demo's dashboard sheet is cut so, every other set saved with every
value quoted and CRLF line ends first (as a spreadsheet may save it): the cut file must load
what the same file cut at the line end before the cut loads, plus the cut row, quarantined
or loaded. With ``--sheet`` the quote is put into the demo's dashboard sheet instead.

    .venv/bin/python docs/experiments/fuzz-exports/stray_quotes.py 60
    .venv/bin/python docs/experiments/fuzz-exports/stray_quotes.py 40 --cuts
    .venv/bin/python docs/experiments/fuzz-exports/stray_quotes.py 40 --sheet-cuts
    .venv/bin/python docs/experiments/fuzz-exports/stray_quotes.py 60 --sheet
"""

from __future__ import annotations

import collections
import csv
import io
import random
import re
import sys
import tempfile
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from pipelines.lib.duck import prepare  # noqa: E402
from pipelines.lib.ingest import ingest_landing  # noqa: E402

SPEND_LOG = ROOT / "warehouse" / "landing" / "gateway" / "litellm_spend_logs.csv"
SHEET = ROOT / "warehouse" / "landing" / "dashboard" / "activity_export.csv"


def main(sets: int, path: Path = SPEND_LOG) -> None:
    src = path.read_bytes()
    # the demo's files have no line breaks inside values; a sheet's empty buckets are not
    # read as rows
    rows = _ingest(src, path.name).rows_read if path == SHEET else src.count(b"\n") - 1
    seen: collections.Counter[str] = collections.Counter()
    wrong = []
    for seed in range(sets):
        at = random.Random(seed).randrange(len(src))
        line = src[:at].count(b"\n") + 1
        with tempfile.TemporaryDirectory() as tmp:
            landing = Path(tmp) / "landing"
            landing.mkdir()
            (landing / path.name).write_bytes(src[:at] + b'"' + src[at:])
            (o,) = ingest_landing(prepare(duckdb.connect()), landing)
        if o.status == "rejected":
            named = re.search(r"line (\d+)", o.error or "")
            kind = re.sub(r"line \d+", "line N", (o.error or "").split(":")[0])
            seen[f"rejected ({kind})"] += 1
            if named is None or int(named.group(1)) != line:
                wrong.append(f"seed {seed}: quote on line {line}, rejected with {o.error!r}")
        elif o.rows_read == rows + _empty_bucket(src, line, path) \
                and o.rows_loaded + o.rows_rejected == o.rows_read \
                and o.rows_loaded >= rows - 1:
            # (a quote typed into an empty bucket's row makes a row to set apart)
            seen["loaded, every row accounted for"
                 + (f" ({o.rows_rejected} quarantined)" if o.rows_rejected else "")] += 1
        else:
            wrong.append(f"seed {seed}: quote on line {line}: {o.rows_read} of {rows} rows read, "
                         f"{o.rows_loaded} loaded, {o.rows_rejected} quarantined")
    print(f"{sets} sets over a {rows:,}-row {'sheet' if path == SHEET else 'spend log'}: "
          f"{dict(seen)}")
    print("wrong:", wrong or "none")


def main_cuts(sets: int) -> None:
    src = SPEND_LOG.read_bytes()
    seen: collections.Counter[str] = collections.Counter()
    wrong = []
    for seed in range(sets):
        at = random.Random(seed).randrange(len(src) // 2, len(src))
        whole = src[:at].count(b"\n") - 1  # the rows before the cut line
        with tempfile.TemporaryDirectory() as tmp:
            landing = Path(tmp) / "landing"
            landing.mkdir()
            (landing / "spend.csv").write_bytes(src[:at])
            (o,) = ingest_landing(prepare(duckdb.connect()), landing)
        if o.status == "loaded" and o.rows_loaded >= whole and o.rows_read <= whole + 1 \
                and o.rows_loaded + o.rows_rejected == o.rows_read:
            seen["loaded every whole row, the cut one "
                 + ("quarantined" if o.rows_rejected else "loaded")] += 1
        else:
            wrong.append(f"seed {seed}: cut on line {whole + 2}: {o.status}, {o.rows_read} read, "
                         f"{o.rows_loaded} loaded of {whole} whole rows: {o.error}")
    print(f"{sets} cuts of a spend log: {dict(seen)}")
    print("wrong:", wrong or "none")


def _empty_bucket(src: bytes, line: int, path: Path) -> int:
    """1 when ``line`` of the sheet ``src`` is an empty bucket's (nothing past its four
    times), which the reader skips; else 0."""
    if path != SHEET:
        return 0
    return int(not any(src.split(b"\n")[line - 1].strip().split(b",")[4:]))


def _ingest(data: bytes, name: str):  # -> ingest.FileOutcome
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        landing.mkdir()
        (landing / name).write_bytes(data)
        (o,) = ingest_landing(prepare(duckdb.connect()), landing)
    return o


def main_sheet_cuts(sets: int) -> None:
    plain = SHEET.read_bytes()
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(
        csv.reader(io.StringIO(plain.decode())))
    quoted = out.getvalue().encode()
    seen: collections.Counter[str] = collections.Counter()
    wrong = []
    for seed in range(sets):
        src, how = (quoted, "every value quoted") if seed % 2 else (plain, "as exported")
        at = random.Random(seed).randrange(len(src) // 2, len(src))
        cut = src[:at]
        whole = _ingest(cut[: cut.rfind(b"\n") + 1], "export.csv")  # its whole rows only
        o = _ingest(cut, "export.csv")
        if o.status == "loaded" and o.rows_loaded >= whole.rows_loaded \
                and o.rows_read <= whole.rows_read + 1 \
                and o.rows_loaded + o.rows_rejected == o.rows_read:
            seen[f"{how}: loaded every whole row, the cut one "
                 + ("quarantined" if o.rows_rejected > whole.rows_rejected else "loaded")] += 1
        else:
            wrong.append(f"seed {seed} ({how}): cut at byte {at}: {o.status}, {o.rows_read} "
                         f"read, {o.rows_loaded} loaded of {whole.rows_loaded} whole rows: "
                         f"{o.error}")
    print(f"{sets} cuts of a dashboard sheet: {dict(seen)}")
    print("wrong:", wrong or "none")


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    if "--sheet-cuts" in sys.argv:
        main_sheet_cuts(count)
    elif "--sheet" in sys.argv:
        main(count, SHEET)
    else:
        main_cuts(count) if "--cuts" in sys.argv else main(count)
