"""The report benchmark runs (at a tiny size; the measured sizes are in docs/performance.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_the_report_benchmark_runs_every_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "bench_report.py"),
            "--sizes",
            "400",
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
    names = [" ".join(line.split()[1:-3]) for line in done.stdout.splitlines()[1:]]
    assert names == ["evaluate", "report json", "report html", "backtest"]
