"""The report benchmark runs (at a tiny size; the measured sizes are in docs/performance.md)."""

from __future__ import annotations

from pathlib import Path

from tests.bench_helpers import run_benchmark


def test_the_report_benchmark_runs_every_command(tmp_path: Path) -> None:
    out = run_benchmark("bench_report.py", "--sizes", "400", "--repeat", "1", "--workdir", tmp_path)
    names = [" ".join(line.split()[1:-3]) for line in out.splitlines()[1:]]
    assert names == ["evaluate", "report json", "report html", "backtest"]
