"""Chunked evaluation: any chunk size gives exactly the results of one evaluation."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csrules.engine.chunked import evaluate_chunks
from csrules.engine.evaluate import evaluate
from csrules.engine.results import Evaluation
from csrules.runtime import compile_playbook
from csrules.snapshot import AccountBatch, read_snapshot
from tests.conftest import REFERENCE
from tests.engine_helpers import NOW, account, make_playbook

COMPILED = compile_playbook(REFERENCE, now=NOW)
SAMPLE = read_snapshot(REFERENCE / "data" / "accounts.jsonl", COMPILED.spec)
WHOLE = evaluate(COMPILED, SAMPLE, NOW)
PRIOR = {key: float(i % 97) for i, key in enumerate(SAMPLE.keys()) if i % 3 == 0}


def _joined(chunks: list[Evaluation]) -> pl.DataFrame:
    return pl.concat([c.frame() for c in chunks])


def _json(evaluations: list[Evaluation]) -> list[dict[str, object]]:
    return [a.to_json() for e in evaluations for a in e.accounts]


@st.composite
def _cuts(draw: st.DrawFn) -> tuple[list[str], int]:
    """Some accounts of the sample (any order) and a chunk size giving at most 5 chunks
    (each chunk costs a compile of the rules)."""
    keys = draw(st.lists(st.sampled_from(SAMPLE.keys()), min_size=1, max_size=60, unique=True))
    size = draw(st.integers(min_value=-(-len(keys) // 5), max_value=len(keys) + 2))
    return keys, size


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=_cuts())
def test_any_chunk_size_gives_the_whole_evaluation(cut: tuple[list[str], int]) -> None:
    keys, size = cut
    batch = SAMPLE.subset(keys)
    whole = evaluate(COMPILED, batch, NOW)
    chunks = list(evaluate_chunks(COMPILED, batch, NOW, chunk_accounts=size))
    assert len(chunks) == -(-len(batch) // size)
    assert _joined(chunks).equals(whole.frame())
    assert all(c.portfolio == whole.portfolio for c in chunks)


def test_the_sample_in_chunks_is_the_sample_at_once() -> None:
    chunks = list(evaluate_chunks(COMPILED, SAMPLE, NOW, chunk_accounts=150))
    assert _joined(chunks).equals(WHOLE.frame())
    assert all(c.portfolio == WHOLE.portfolio for c in chunks)


def test_chunks_carry_prior_scores_and_every_account_field() -> None:
    whole = evaluate(COMPILED, SAMPLE, NOW, PRIOR)
    chunks = list(evaluate_chunks(COMPILED, SAMPLE, NOW, PRIOR, chunk_accounts=170))
    assert _json(chunks) == _json([whole])


@pytest.fixture(scope="module")
def failing_aggregate(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, AccountBatch]:
    compiled = make_playbook(
        tmp_path_factory.mktemp("agg"),
        """
[[aggregate]]
id = "per_login"
fn = "median"
of = "double(account.seats / account.logins)"
where = "account.seats > 2"

[health]
bands = { red = 0.0, yellow = 50.0, green = 75.0 }

[[health.measure]]
id = "arr_vs_book"
label = "ARR against the book"
value = "double(account.seats) / portfolio.per_login"
worst = 0.0
best = 2.0
weight = 1.0
""",
    )
    records = [
        account(f"a{i}", arr=1000.0 + 37 * i, seats=i % 7, logins=None if i % 5 == 0 else i % 4)
        for i in range(60)
    ]
    return compiled, AccountBatch.from_records(records, compiled.spec)


@pytest.mark.parametrize("backend", ["columnar", "reference"])
def test_aggregate_errors_of_each_account_survive_chunking(
    failing_aggregate: tuple[object, AccountBatch], backend: str
) -> None:
    compiled, batch = failing_aggregate
    whole = evaluate(compiled, batch, NOW, backend=backend)  # type: ignore[arg-type]
    errors = [
        a.key for a in whole.accounts if any(e.rule.startswith("aggregate:") for e in a.errors)
    ]
    assert errors  # the fixture has accounts whose `of` fails
    chunks = list(evaluate_chunks(compiled, batch, NOW, chunk_accounts=25, backend=backend))  # type: ignore[arg-type]
    assert _json(chunks) == _json([whole])


def test_one_account_of_a_batch_sees_the_whole_portfolio(tmp_path: Path) -> None:
    key = SAMPLE.keys()[5]
    from csrules.engine.evaluate import aggregates_of

    one = evaluate(
        COMPILED, SAMPLE.subset([key]), NOW, aggregates=aggregates_of(COMPILED, SAMPLE, NOW)
    )
    assert one.portfolio == WHOLE.portfolio
    assert _json([one]) == [WHOLE.by_key()[key].to_json()]
