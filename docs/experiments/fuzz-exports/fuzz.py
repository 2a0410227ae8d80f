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
instead (made negative, 23 digits long, text, or given a fraction): then neither the
gateway's totals nor the OpenAI sources' together may exceed the unmutated files'. One JSON
line per set.
"""

from __future__ import annotations

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
NUMBER_KINDS = ["negnum", "bignum", "text_in_num", "fraction"]


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
    """--numbers: one to three numbers of the file made negative, 23 digits long, text, or a
    whole number given a fraction."""
    kinds = []
    for _ in range(rng.randint(1, 3)):
        found = list(ANY_NUMBER.finditer(data))
        if not found:
            break
        m, kind = rng.choice(found), rng.choice(NUMBER_KINDS)
        new = {"negnum": b"-" + m.group(), "bignum": b"9" * 23, "text_in_num": b"abc",
               "fraction": m.group().split(b".")[0] + b".5"}[kind]
        data = data[: m.start()] + new + data[m.end():]
        kinds.append(kind)
    return data, kinds


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
    files = sorted(p for p in SRC.rglob("*") if p.is_file())
    env = dict(os.environ, GX_ANALYTICS_ENABLED="false",
               DAGSTER_HOME=os.environ.get("DAGSTER_HOME",
                                           str(ROOT / "warehouse" / "dagster_home")))
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


if __name__ == "__main__":
    main()
