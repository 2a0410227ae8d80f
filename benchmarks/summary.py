"""One table of many benchmark runs: the issue-size targets of each run, from its JSON line.

    .venv/bin/python benchmarks/summary.py docs/bench-daily-grain*.log

Each run is a log of ``benchmarks/run.py`` at 10M and 30M rows (its last line is the JSON
result, with the verdicts against both baselines: ``targets`` at the daily grain,
``targets_team_model`` at (day, team, model)). A row per log, in the order given, then a
row that counts, per target, the runs that met it. The figures are the runs' own (the
fastest of each size's rounds; a marginal cost also round by round), nothing recomputed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import NamedTuple

# (key in a run's targets, rows, heading, how a value is written)
COLUMNS: list[tuple[str, tuple[int, ...], str, str]] = [
    ("time", (10_000_000,), "10M time vs pandas (<= 0.5)", "{:.2f}"),
    ("memory", (10_000_000,), "10M memory vs pandas (<= 0.25)", "{:.4f}"),
    ("rss", (30_000_000,), "30M peak MB (< 1,536)", "{:,.0f}"),
    ("one_more_day", (30_000_000,), "one more day at 30M (< 15%)", "{:.1%}"),
    ("import", (), "import s (< 3)", "{:.2f}"),
    ("marginal", (10_000_000, 30_000_000), "marginal 10M->30M (<= 1.5x)", "{:.2f}x"),
]
TEAM_MODEL = ("time", "memory", "marginal")


class Verdict(NamedTuple):
    value: float
    met: bool
    by_round: tuple[float, ...] = ()


def last_json(path: Path) -> dict:
    for line in reversed(path.read_text().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError(f"{path}: no JSON result line")


def verdicts(result: dict, key: str = "targets") -> dict[tuple[str, tuple[int, ...]], Verdict]:
    """The run's verdicts by (target, rows); a run without that list (older logs) has none."""
    return {(t["target"], tuple(t["rows"])): Verdict(t["value"], t["met"],
                                                     tuple(t.get("by_round", ())))
            for t in result.get(key, [])}


def _cell(v: Verdict | None, fmt: str, rounds: bool = False) -> str:
    if v is None:
        return "n/a"
    text = fmt.format(v.value)
    if rounds and len(v.by_round) > 1:
        text += " (" + ", ".join(fmt.format(r) for r in v.by_round) + ")"
    return text + ("" if v.met else " **missed**")


def table(runs: list[tuple[str, dict]]) -> str:
    """A Markdown table: a row per run, then one counting the runs that met each target."""
    heads = ([h for _, _, h, _ in COLUMNS]
             + [f"(day, team, model) {name}" for name in TEAM_MODEL])
    lines = ["| run | " + " | ".join(heads) + " |", "|---|" + "---:|" * len(heads)]
    met = [0] * len(heads)
    seen = [0] * len(heads)
    for label, result in runs:
        daily, coarse = verdicts(result), verdicts(result, "targets_team_model")
        found = [(key, daily.get((key, rows)), fmt) for key, rows, _, fmt in COLUMNS]
        found += [(key, coarse.get((key, rows)), fmt) for key, rows, _, fmt in COLUMNS
                  if key in TEAM_MODEL]
        cells = []
        for i, (key, v, fmt) in enumerate(found):
            # the marginal cost at the daily grain round by round too, as the doc quotes it
            cells.append(_cell(v, fmt, rounds=key == "marginal" and i < len(COLUMNS)))
            if v is not None:
                seen[i] += 1
                met[i] += v.met
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("| met in | " + " | ".join(f"{m} of {s}" for m, s in zip(met, seen, strict=True))
                 + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+", type=Path)
    args = parser.parse_args()
    print(table([(path.stem, last_json(path)) for path in args.logs]))


if __name__ == "__main__":
    main()
