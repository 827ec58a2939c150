"""Running a benchmark script at a tiny size from a test: the scripts in benchmarks/ print
their figures, and a test checks that they run and that what they compare agrees."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run_benchmark(script: str, *args: str | Path) -> str:
    """Run ``benchmarks/SCRIPT`` with ``args``; assert it exits 0 and return its stdout."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
