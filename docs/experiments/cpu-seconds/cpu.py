"""Wall seconds, CPU seconds, steal and disk reads of the full refresh and the floors at the
daily grain, at each size, round after round (twenty-second session, 2026-12-04).

    RADAR_AS_OF=2026-12-03 .venv/bin/python docs/experiments/cpu-seconds/cpu.py \
        10000000,30000000 3 [--polars]

Uses the benchmark's data (``warehouse/bench/N``, made by ``benchmarks/run.py``) and its
``measure``. Each line: wall seconds, CPU seconds of the process tree (user + system), the
cores that makes on average, the machine's steal seconds and its idle share meanwhile, the
tree's peak RSS and the MB it read from disk. ``--polars`` measures the polars floor too.
(``cpu.log``, 09:10-09:20, was taken with this script's first form: the refresh and the
DuckDB floor only, without the disk column, the CPU seconds read the same way, from
``getrusage(RUSAGE_CHILDREN)`` around ``measure``, before ``measure`` returned them itself.
``disk.log`` is one round with ``--polars``.)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "benchmarks"))
import run as bench  # noqa: E402


def _stat() -> list[int]:
    with open("/proc/stat") as fh:
        return [int(x) for x in fh.readline().split()[1:]]


def go(label: str, cmd: list[str], env: dict[str, str] | None = None) -> None:
    before = _stat()
    m = bench.measure(cmd, env)
    d = [b - a for a, b in zip(before, _stat(), strict=False)]
    idle = 100 * (d[3] + d[4]) / sum(d[:8])  # idle and iowait among all the machine's ticks
    print(f"{label:22} wall {m.seconds:6.2f}  cpu {m.cpu_s:6.2f}  cores "
          f"{m.cpu_s / m.seconds:4.2f}  steal {m.steal_s:5.2f}s  idle {idle:4.1f}%  "
          f"rss {m.peak_mb:5.0f}  disk {m.disk_mb:6.1f} MB", flush=True)


def main() -> None:
    sizes = [int(x) for x in sys.argv[1].split(",")]
    for r in range(int(sys.argv[2])):
        for n in sizes:
            workdir = bench.REPO / "warehouse" / "bench" / str(n)
            landing = workdir / "landing"
            bench.warm_page_cache(landing)
            shutil.rmtree(workdir / "wh", ignore_errors=True)
            go(f"{n // 10**6}M refresh r{r + 1}", bench.REFRESH_CMD,
               bench.refresh_env(workdir, landing, bench.HISTORY_AS_OF))
            for engine in ("duckdb", "polars") if "--polars" in sys.argv else ("duckdb",):
                go(f"{n // 10**6}M floor-{engine} r{r + 1}",
                   bench.baseline_cmd(f"floor-{engine}", landing, "daily"))


if __name__ == "__main__":
    main()
