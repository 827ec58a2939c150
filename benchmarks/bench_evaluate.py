"""Accounts per second of ``evaluate`` on the reference playbooks.

Generates N accounts with the reference sample's generator (same proportions of
strategic, mid-market and long-tail accounts), then times the whole evaluation
(all stages, every expression and driver template) in one process.

    python benchmarks/bench_evaluate.py                       # 1,000 and 10,000 accounts
    python benchmarks/bench_evaluate.py 2000                  # one size
    python benchmarks/bench_evaluate.py --backend reference 10000
"""

from __future__ import annotations

import importlib.util
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from csrules.engine.evaluate import evaluate
from csrules.runtime import compile_playbook
from csrules.snapshot.batch import AccountBatch

ROOT = Path(__file__).resolve().parents[1] / "playbooks"
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def _generator() -> object:
    spec = importlib.util.spec_from_file_location("generate", ROOT / "data" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(count: int, backend: str = "columnar") -> dict[str, float]:
    records = _generator().generate(count=count, seed=7)  # type: ignore[attr-defined]
    compiled = compile_playbook(ROOT, now=AS_OF)
    started = time.perf_counter()
    batch = AccountBatch.from_records(records, compiled.spec, source="generated")
    loaded = time.perf_counter()
    evaluation = evaluate(compiled, batch, AS_OF, backend=backend)
    done = time.perf_counter()
    assert len(evaluation.accounts) == count
    return {
        "accounts": count,
        "load_s": loaded - started,
        "evaluate_s": done - loaded,
        "accounts_per_s": count / (done - loaded),
        "errors": evaluation.error_count,
    }


def main(argv: list[str]) -> None:
    backend = "columnar"
    if argv[:1] == ["--backend"]:
        backend, argv = argv[1], argv[2:]
    sizes = [int(a) for a in argv] or [1_000, 10_000]
    print(f"backend: {backend}")
    print(f"{'accounts':>10} {'load s':>8} {'evaluate s':>11} {'accounts/s':>11} {'errors':>7}")
    for size in sizes:
        row = measure(size, backend)
        print(
            f"{row['accounts']:>10.0f} {row['load_s']:>8.2f} {row['evaluate_s']:>11.2f} "
            f"{row['accounts_per_s']:>11.1f} {row['errors']:>7.0f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
