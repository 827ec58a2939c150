"""The benchmarks keep measuring what they claim: the hand-written Polars version of the
reference playbooks computes the same table as csrules, and the benchmark runs."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from csrules.engine.evaluate import evaluate
from csrules.runtime import compile_playbook
from csrules.snapshot.readers import read_parquet
from tests.bench_helpers import BENCHMARKS, run_benchmark
from tests.conftest import REFERENCE

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def bench_modules() -> tuple[object, object]:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import handwritten
        import portfolio
    finally:
        sys.path.remove(str(BENCHMARKS))
    return handwritten, portfolio


def test_hand_written_version_computes_the_same_table(
    tmp_path: Path, bench_modules: tuple[object, object]
) -> None:
    handwritten, portfolio = bench_modules
    source = tmp_path / "accounts.parquet"
    portfolio.frame(3000, 11).write_parquet(source)  # type: ignore[attr-defined]
    compiled = compile_playbook(REFERENCE, now=AS_OF)
    batch = read_parquet(source, compiled.spec, source.name)
    assert not batch.rejected
    ours = evaluate(compiled, batch, AS_OF).frame()
    theirs = handwritten.evaluate(batch.frame, AS_OF)  # type: ignore[attr-defined]
    assert_frame_equal(ours, theirs)
    # the portfolio exercises every result: all bands, tiers and some playbooks
    assert set(ours.get_column("band")) >= {"green", "yellow", "red"}
    assert ours.get_column("tier").n_unique() == 3
    assert ours.get_column("playbooks").list.len().sum() > 0


def test_benchmark_runs_and_finds_the_backends_equal(tmp_path: Path) -> None:
    out = run_benchmark(
        "bench_columnar.py",
        "--sizes",
        "2000",
        "--reference-sample",
        "40",
        "--repeat",
        "1",
        "--workdir",
        tmp_path,
    )
    differing = [line for line in out.splitlines() if "rows differing" in line]
    assert len(differing) == 2, out
    for line in differing:
        counts = line.split("{", 1)[1]
        assert all(part.strip().endswith(": 0") for part in counts.rstrip("}").split(",")), line
    assert "same table" in out
    assert pl.read_parquet(tmp_path / "results-cli-2000.parquet").height == 2000


def test_budget_benchmark_runs() -> None:
    out = run_benchmark("bench_budget.py", "10", "1")
    assert "budget counted:" in out and "overhead:" in out


def test_scale_benchmark_runs() -> None:
    out = run_benchmark("bench_scale.py", "explain", "300")
    assert "explain beyond the read" in out
    out = run_benchmark("bench_scale.py", "evaluate", "300", "--chunk", "120")
    assert "peak RSS" in out and '"done": "evaluate"' in out


def test_apply_benchmark_runs_and_its_plans_are_the_row_wise_ones() -> None:
    out = run_benchmark("bench_apply.py", "--sizes", "300", "--check")
    assert "first apply" in out and "steady apply" in out, out
    assert "plan identical to the row-wise reconcile: True" in out, out
    assert "plan identical to the row-wise reconcile: False" not in out, out
