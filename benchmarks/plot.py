"""Plot seconds against rows from the JSON lines of benchmark runs.

    .venv/bin/python benchmarks/plot.py docs/bench-*.log --out docs/benchmarks.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def last_json(path: Path) -> dict:
    for line in reversed(path.read_text().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError(f"{path}: no JSON result line")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("logs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.png"))
    args = parser.parse_args()
    runs = []
    for path in args.logs:
        result = last_json(path)
        runs.extend(result.get("sizes", [result]))  # a run of several sizes holds them all
    runs.sort(key=lambda r: r["rows"])
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9.5, 4))
    rows = [r["rows"] / 1e6 for r in runs]
    for key, label, style in (("refresh_s", "radar_refresh (full)", "o-"),
                              ("floor_s", "floor (fastest single query), daily grain", "s-"),
                              ("pandas_s", "pandas baseline, daily grain", "^-"),
                              ("incremental_s", "radar_refresh (one more day)", "d--"),
                              # measured beside them since 2026-12-04: the earlier baselines
                              ("team_model_floor_s", "floor at (day, team, model)", "s:"),
                              ("team_model_pandas_s", "pandas at (day, team, model)", "^:")):
        pts = [(x, r[key]) for x, r in zip(rows, runs, strict=True) if r.get(key) is not None]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=label)
    ax.set_xlabel("gateway request rows (millions)")
    ax.set_ylabel("seconds (2 cores)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title("Sunset Radar refresh vs floor vs pandas")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
