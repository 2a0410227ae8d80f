"""The gateway roll-up (the ingest's largest query) on one spend log, with DuckDB's compressed
materialization on and off, alternating (fifty-fourth session).

    .venv/bin/python docs/experiments/compressed-materialization/rollup_ab.py \
        warehouse/bench/30000000/landing/gateway/spend_logs_2026_01.csv 4
"""
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from pipelines.lib import litellm_csv  # noqa: E402

path, reps = Path(sys.argv[1]), int(sys.argv[2])
sql = litellm_csv.rollup_sql(litellm_csv.csv_columns(path))
for i in range(reps):
    for off in (False, True) if i % 2 == 0 else (True, False):
        con = duckdb.connect(config={"memory_limit": "768MB"})
        con.execute("SET TimeZone = 'UTC'")
        if off:
            con.execute("SET disabled_optimizers = 'compressed_materialization'")
        t, c0 = time.perf_counter(), time.process_time()
        con.execute("CREATE TEMP TABLE g AS " + sql, {"path": str(path)})
        n = con.execute("SELECT count(*), sum(requests) FROM g").fetchall()
        print(f"{'off' if off else 'on '} {time.perf_counter() - t:.2f}s "
              f"{time.process_time() - c0:.2f} CPU s {n}", flush=True)
        con.close()
