"""The benchmark script itself, at a tiny size: it must keep running end to end (so its
figures can be reproduced) and its three baselines must compute the same result."""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location("radar_benchmark", REPO / "benchmarks" / "run.py")
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_step_durations_are_read_in_every_unit_dagster_writes():
    log = "\n".join(f'... Finished execution of step "{name}" in {text}.' for name, text in [
        ("a", "533ms"), ("b", "2.1s"), ("c", "4m52s"), ("d", "1h4m"), ("e", "1m30s")])
    assert bench.step_seconds(log) == {"a": 0.533, "b": 2.1, "c": 292.0, "d": 3840.0,
                                       "e": 90.0}


def test_peak_memory_counts_grandchildren_with_or_without_proc_children(monkeypatch):
    """The refresh's memory is mostly in children (the validation worker) of the CLI: the
    sampler must walk the whole tree, by either way of finding children."""
    hold = "x = bytearray(150_000_000); import time; time.sleep(20)"
    tree = subprocess.Popen(["bash", "-c", f"{sys.executable} -c '{hold}'; true"])
    try:
        for _ in range(100):  # until the grandchild holds its memory
            if bench._tree_rss_kb(tree.pid) > 140_000:
                break
            time.sleep(0.05)
        direct = bench._tree_rss_kb(tree.pid)
        monkeypatch.setattr(bench, "_PROC_CHILDREN", False)
        scanned = bench._tree_rss_kb(tree.pid)
    finally:
        tree.kill()
        subprocess.run(["pkill", "-f", "bytearray\\(150_000_000"], check=False)
        tree.wait()
    assert direct > 140_000 and scanned > 140_000


def test_the_benchmark_runs_end_to_end_at_a_tiny_size(tmp_path, monkeypatch):
    """Two sizes side by side, two rounds: each size's figures are its fastest round's, and
    the marginal cost between the sizes is computed from them and round by round."""
    monkeypatch.setenv("RADAR_AS_OF", "2026-11-25")
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--rows", "3000,1500",
         "--workdir", str(tmp_path / "bench"), "--repeat", "2"],
        cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    combined = json.loads(lines[-1])
    assert [r["rows"] for r in combined["sizes"]] == [1500, 3000]  # smallest first
    # the rounds alternate the sizes
    order = re.findall(r"^([0-9,]+) rows, round (\d) of 2$", done.stdout, re.M)
    assert order == [("1,500", "1"), ("3,000", "1"), ("1,500", "2"), ("3,000", "2")]
    sections = done.stdout.split("\n## ")[1:]
    assert len(sections) == 2
    for result, section in zip(combined["sizes"], sections, strict=True):
        assert section.startswith(f"{result['rows']:,} rows")
        (own,) = [line for line in section.splitlines() if line.startswith('{"rows"')]
        assert json.loads(own) == result
        assert result["repeat"] == 2
        for key in ("refresh_s", "floor_s", "pandas_s", "incremental_s", "checks_s"):
            assert result[key] > 0, key
        assert result["peak_rss_mb"] > 100  # the whole process tree was sampled
        groups, tokens = result["baseline_groups"], result["baseline_tokens"]
        assert set(groups) == set(tokens) == {"duckdb", "polars", "pandas"}
        assert len(set(groups.values())) == 1 and groups["duckdb"] > 0, groups
        # the same token totals: every baseline parsed and summed the counts
        assert len({tuple(v) for v in tokens.values()}) == 1 and min(tokens["duckdb"]) > 0
    assert "THEY DIFFER" not in done.stdout
    # each size's refresh and one more day are the fastest of the rounds printed for it
    for result in combined["sizes"]:
        chunks = re.split(r"^[0-9,]+ rows, round \d of 2$", done.stdout, flags=re.M)[1:]
        mine = [c for c, (rows, _) in zip(chunks, order, strict=True)
                if rows == f"{result['rows']:,}"]
        for label, key in (("refresh", "refresh_s"), ("one more day", "incremental_s")):
            seen = [float(re.search(rf"^{label}: ([0-9.]+)s", c, re.M).group(1)) for c in mine]
            assert len(seen) == 2 and abs(result[key] - min(seen)) <= 0.051, (key, seen)
    (marginal,) = combined["marginal"]
    small, large = combined["sizes"]
    assert (marginal["from"], marginal["to"]) == (1500, 3000)
    assert len(marginal["ratio_by_round"]) == 2
    expected = bench.marginal_ratio(small, large)
    if expected is None:
        assert marginal["ratio"] is None
    else:  # from the figures reported for the two sizes
        assert marginal["ratio"] == round(expected, 2)


def test_one_size_prints_its_result_last(tmp_path, monkeypatch):
    """The single-size form, as the README gives it: one table, its JSON line last."""
    monkeypatch.setenv("RADAR_AS_OF", "2026-11-25")
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--rows", "1500",
         "--workdir", str(tmp_path / "bench"), "--skip-pandas"],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rows"] == 1500 and result["repeat"] == 1 and "sizes" not in result
    assert result["pandas_s"] is None and result["refresh_s"] > 0
    assert set(result["baseline_groups"]) == {"duckdb", "polars"}
    assert "round" not in done.stdout and "marginal" not in done.stdout
    assert done.stdout.count("| radar_refresh (full, Dagster)") == 1


def test_several_sizes_are_read_from_one_option():
    assert bench.parse_sizes("30000000,10_000_000, 1000000") == [1_000_000, 10_000_000,
                                                                 30_000_000]
    assert bench.parse_sizes("5") == [5]
    with pytest.raises(argparse.ArgumentTypeError):
        bench.parse_sizes(",")
    assert bench.marginal_ratio({"refresh_s": 10, "floor_s": 2},
                                {"refresh_s": 40, "floor_s": 12}) == 3.0
    # the floor added nothing (tiny sizes, noise): no ratio rather than a division by zero
    assert bench.marginal_ratio({"refresh_s": 10, "floor_s": 2},
                                {"refresh_s": 11, "floor_s": 2}) is None


def test_baselines_agree_only_on_equal_groups_tokens_and_cost():
    a = (10, 1_000, 200, 12.345678)
    assert bench.same_results([a, a, (10, 1_000, 200, 12.345678 + 1e-9)])
    assert not bench.same_results([a, (11, 1_000, 200, 12.345678)])
    assert not bench.same_results([a, (10, 1_001, 200, 12.345678)])
    assert not bench.same_results([a, (10, 1_000, 200, 12.35)])
    assert bench.baseline_result("x\nfloor duckdb result: 10 groups, 1000 input tokens, "
                                 "200 output tokens, 12.345678 USD\n") == a


def test_the_duckdb_floor_computes_its_sums(tmp_path, capsys):
    """Counted through a subquery, the floor query lost its sums to the optimizer: it must
    keep its result (and so parse and add up the token counts)."""
    landing = bench.generate(tmp_path / "bench", 2000)
    bench.run_floor_duckdb(landing)
    bench.run_floor_polars(landing)
    duck, polars = (bench.baseline_result(line) for line in
                    capsys.readouterr().out.strip().splitlines()[-2:])
    assert duck == polars and duck[1] > 0 and duck[3] > 0
