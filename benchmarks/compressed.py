"""What a compressed landing file costs the ingest: one spend log loaded plain and as gzip.

    .venv/bin/python benchmarks/compressed.py \
        warehouse/bench/10000000/landing/gateway/spend_logs_2026_01.csv

Each variant is ingested into a fresh warehouse (same settings as a refresh: memory limit,
threads) and timed; the staged totals must be identical. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipelines.lib.duck import prepare  # noqa: E402
from pipelines.lib.ingest import ingest_landing  # noqa: E402
from pipelines.resources import WarehouseResource, default_resources  # noqa: E402
from pipelines.settings import RadarSettings  # noqa: E402


def ingest_seconds(landing: Path, warehouse: Path) -> tuple[float, tuple]:
    warehouse_resource = default_resources(RadarSettings.from_env())["warehouse"]
    assert isinstance(warehouse_resource, WarehouseResource)
    config = dict(warehouse_resource.connection_config)
    con = prepare(duckdb.connect(str(warehouse), config=config))
    start = time.perf_counter()
    (outcome,) = ingest_landing(con, landing)
    seconds = time.perf_counter() - start
    assert outcome.status == "loaded", outcome.error
    totals = con.execute("SELECT count(*), sum(requests), sum(input_tokens), "
                         "sum(output_tokens) FROM staging.usage").fetchall()[0]
    con.close()
    return seconds, totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, help="a LiteLLM spend-log export")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.csv.resolve().parent.parent) as tmp:
        root = Path(tmp)
        plain, packed = root / "plain", root / "packed"
        plain.mkdir()
        packed.mkdir()
        shutil.copy(args.csv, plain / args.csv.name)
        start = time.perf_counter()
        with args.csv.open("rb") as src, gzip.open(packed / f"{args.csv.name}.gz", "wb",
                                                    compresslevel=6) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        gzip_s = time.perf_counter() - start
        plain_s, plain_totals = ingest_seconds(plain, root / "plain.duckdb")
        packed_s, packed_totals = ingest_seconds(packed, root / "packed.duckdb")
        assert plain_totals == packed_totals, (plain_totals, packed_totals)
        size = args.csv.stat().st_size
        gz_size = (packed / f"{args.csv.name}.gz").stat().st_size
    mb = size / 1e6
    print(f"file                {args.csv.name}: {mb:,.1f} MB, {plain_totals[1]:,} requests")
    print(f"gzip -6 (once)      {gzip_s:6.2f} s, {gz_size / 1e6:,.1f} MB ({size / gz_size:.1f}x)")
    print(f"ingest plain        {plain_s:6.2f} s  ({mb / plain_s:,.0f} MB/s)")
    print(f"ingest gzip         {packed_s:6.2f} s  ({packed_s / plain_s:.2f}x plain, "
          f"+{packed_s - plain_s:.2f} s)")
    print(json.dumps({"file_mb": round(mb, 1), "requests": plain_totals[1],
                      "plain_s": round(plain_s, 2), "gzip_s": round(packed_s, 2),
                      "ratio": round(packed_s / plain_s, 2),
                      "compression": round(size / gz_size, 1)}))


if __name__ == "__main__":
    main()
