"""The cost of the reference backend's step budget on the reference playbooks.

Evaluates N generated accounts with ``--backend reference`` several times, alternately
with the step budget counted (as csrules runs) and with the counting switched off
(cel-python's own interpreter loop), and reports the CPU time of each (process time:
on a shared machine wall time mostly measures the neighbours).

    python benchmarks/bench_budget.py            # 300 accounts, 5 rounds
    python benchmarks/bench_budget.py 1000 3
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from celpy.evaluation import Evaluator

from csrules.engine import celbridge
from csrules.engine.evaluate import evaluate
from csrules.runtime import compile_playbook
from csrules.snapshot.batch import AccountBatch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_evaluate import ROOT, _generator

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


@contextlib.contextmanager
def uncounted() -> Iterator[None]:
    """cel-python's interpreter without csrules' step counting."""
    visit = celbridge._MeteredEvaluator._visit_tree
    operators = celbridge._metered_operators
    celbridge._MeteredEvaluator._visit_tree = Evaluator._visit_tree  # type: ignore[method-assign]
    celbridge._metered_operators = lambda meter: {}  # type: ignore[assignment]
    try:
        yield
    finally:
        celbridge._MeteredEvaluator._visit_tree = visit  # type: ignore[method-assign]
        celbridge._metered_operators = operators


def cpu_seconds(count: int, counted: bool) -> float:
    records = _generator().generate(count=count, seed=7)  # type: ignore[attr-defined]
    compiled = compile_playbook(ROOT, now=AS_OF)
    batch = AccountBatch.from_records(records, compiled.spec, source="generated")
    context = contextlib.nullcontext() if counted else uncounted()
    with context:
        started = time.process_time()
        evaluation = evaluate(compiled, batch, AS_OF, backend="reference")
        spent = time.process_time() - started
    assert len(evaluation.accounts) == count
    return spent


def main(argv: list[str]) -> None:
    count = int(argv[0]) if argv else 300
    rounds = int(argv[1]) if len(argv) > 1 else 5
    on: list[float] = []
    off: list[float] = []
    cpu_seconds(20, True)  # warm up: imports, parsers
    for _ in range(rounds):
        off.append(cpu_seconds(count, False))
        on.append(cpu_seconds(count, True))
    best_on, best_off = min(on), min(off)
    print(f"accounts: {count}, rounds: {rounds} (CPU seconds, best and median)")
    print(f"  budget counted: {best_on:.2f} s (median {statistics.median(on):.2f} s)")
    print(f"  not counted:    {best_off:.2f} s (median {statistics.median(off):.2f} s)")
    print(f"  overhead:       {100 * (best_on / best_off - 1):+.1f}% (best of each)")


if __name__ == "__main__":
    main(sys.argv[1:])
