"""benchmarks/bench_sql.py runs at a tiny size and its engines' results tables agree."""

from __future__ import annotations

from tests.bench_helpers import run_benchmark


def test_bench_sql_runs_and_the_engines_agree() -> None:
    out = run_benchmark("bench_sql.py", "--sizes", "300", "--engines", "polars", "duckdb-inside")
    assert "duckdb-inside: results table equals polars" in out
    assert "accounts/s" in out
