"""The diff benchmark runs and checks what it measures against separate evaluations."""

from __future__ import annotations

from pathlib import Path

from tests.bench_helpers import run_benchmark


def test_diff_benchmark_runs_and_agrees_with_two_evaluations(tmp_path: Path) -> None:
    out = run_benchmark("bench_diff.py", "--sizes", "3000", "--repeat", "1", "--workdir", tmp_path)
    (summary,) = [line for line in out.splitlines() if "x one evaluate" in line]
    assert "same as the two revisions evaluated separately" in summary
    assert "tier moves 0 " not in summary  # the change does move accounts
