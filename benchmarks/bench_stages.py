"""Where the columnar backend spends its time: each stage of ``evaluate`` timed alone.

    python benchmarks/bench_stages.py 1000000

Generates the portfolio (``portfolio.py``), reads it with csrules' Parquet reader, then
runs the stages one by one as ``evaluate`` does and prints the seconds of each, and of
building the results table. Run it on an otherwise idle machine.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLAYBOOKS = HERE.parent / "playbooks"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(HERE))
    import portfolio

    from csrules.engine.columnar import ColumnarResult, ColumnarRun
    from csrules.runtime import compile_playbook
    from csrules.snapshot.readers import read_parquet

    size = int(argv[0]) if argv else 1_000_000
    source = Path(tempfile.mkdtemp(prefix="csrules-stages-")) / "accounts.parquet"
    portfolio.frame(size, 7).write_parquet(source)
    compiled = compile_playbook(PLAYBOOKS, now=AS_OF)

    timings: list[tuple[str, float]] = []
    started = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal started
        now = time.perf_counter()
        timings.append((name, now - started))
        started = now

    batch = read_parquet(source, compiled.spec, source.name)
    lap("read Parquet (with the reader's checks)")
    run = ColumnarRun(compiled, batch, AS_OF)
    run.aggregates({})
    lap("stage 0: aggregates (percentiles)")
    run.health({})
    lap("stage 1: measures, score, band, drivers")
    run.segments()
    lap("stage 2: segments")
    run.tiers()
    lap("stage 3: tiers")
    run.adkar()
    lap("stage 4: ADKAR scores and barrier")
    run.playbooks()
    lap("stage 5: playbook conditions")
    ColumnarResult(run).frame()
    lap("results table")
    total = sum(seconds for _, seconds in timings)
    print(f"{size:,} accounts, {len(run.fallbacks)} expression(s) falling back")
    for name, seconds in timings:
        print(f"{name:<45} {seconds:>6.2f} s {100 * seconds / total:>4.0f}%")
    print(f"{'total':<45} {total:>6.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
