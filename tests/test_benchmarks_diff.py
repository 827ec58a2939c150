"""The diff benchmark runs and checks what it measures against separate evaluations."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_diff_benchmark_runs_and_agrees_with_two_evaluations(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "bench_diff.py"),
            "--sizes",
            "3000",
            "--repeat",
            "1",
            "--workdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (summary,) = [line for line in done.stdout.splitlines() if "x one evaluate" in line]
    assert "same as the two revisions evaluated separately" in summary
    assert "tier moves 0 " not in summary  # the change does move accounts
