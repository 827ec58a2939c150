"""Evaluating a batch a chunk of accounts at a time, with the same results as at once.

Only the portfolio aggregates (stage 0) need every account; every later stage of an
account reads that account and the aggregates. So the aggregates are computed once,
in one columnar pass over the whole batch, and the stages run chunk by chunk with those
values (each chunk still evaluates its accounts' aggregate ``where``/``of`` for their
errors). A caller writes or prints each chunk's results before asking for the next, so
the results of the whole portfolio (several times the size of the snapshot) are never
in memory at once. The property test checks that any chunk size gives exactly the
results of one evaluation of the whole batch.

:func:`evaluate_sliced` does the same for a Parquet snapshot never read whole
(``snapshot/slices.py``): the aggregates from the columns they read, the stages slice
by slice of the file, never reading it whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.evaluate import aggregates_of, evaluate
from csrules.engine.results import Evaluation
from csrules.snapshot.batch import AccountBatch


def evaluate_chunks(
    compiled: CompiledPlaybook,
    batch: AccountBatch,
    now: datetime,
    prior: Mapping[str, float] | None = None,
    *,
    chunk_accounts: int,
    portfolio: Mapping[str, float] | None = None,
    backend: str = "columnar",
) -> Iterator[Evaluation]:
    """One :class:`Evaluation` per chunk of at most ``chunk_accounts`` accounts, in
    frame order; each carries the whole portfolio's aggregates. An empty batch gives
    one empty evaluation."""
    if chunk_accounts <= 0:
        raise ValueError("chunk_accounts must be positive")
    if len(batch) <= chunk_accounts:
        yield evaluate(compiled, batch, now, prior, portfolio=portfolio, backend=backend)
        return
    aggregates = aggregates_of(compiled, batch, now, portfolio)
    for offset in range(0, len(batch), chunk_accounts):
        yield evaluate(
            compiled,
            batch.chunk(offset, chunk_accounts),
            now,
            prior,
            portfolio=portfolio,
            aggregates=aggregates,
            backend=backend,
        )


def evaluate_sliced(
    compiled: CompiledPlaybook,
    summary: AccountBatch,
    slices: Iterable[AccountBatch],
    now: datetime,
    prior: Mapping[str, float] | None = None,
    *,
    backend: str = "columnar",
) -> Iterator[Evaluation]:
    """:func:`evaluate_chunks` for a snapshot never held whole: the aggregates from
    ``summary`` (every account, with at least the columns the aggregates read), then
    one evaluation per batch of ``slices`` (the accounts in order, every column). The
    same results as one evaluation of the whole batch."""
    aggregates = aggregates_of(compiled, summary, now)
    for batch in slices:
        yield evaluate(compiled, batch, now, prior, aggregates=aggregates, backend=backend)
