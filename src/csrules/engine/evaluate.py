"""``evaluate(compiled, batch, now, prior)``: stages 0-5 over a whole batch, purely.

No I/O and no clock: the time is an argument and the previous scores come from the
caller. Two backends compute the same :class:`Evaluation`:

- ``"columnar"`` (the default, ``columnar.py``): every stage as Polars operations over
  the whole batch; an expression outside the compiled subset falls back, alone, to the
  reference kernel;
- ``"reference"`` (this module): each stage runs every kernel over the whole batch
  (row by row through cel-python), and results are gathered per account. It defines
  the semantics the columnar backend is tested against.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from celpy import celtypes

from csrules.engine import activations as acts
from csrules.engine import evalerrors
from csrules.engine.aggregates import aggregate
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.results import AccountResult, Driver, Evaluation, MeasureResult, RuleError
from csrules.engine.values import NO_DATA, EvalError, NoData, Value, is_value
from csrules.snapshot.batch import AccountBatch

Activation = dict[str, Any]


def _error(result: AccountResult, rule: str, error: EvalError) -> None:
    result.errors.append(RuleError(rule, error.message))


def _stage_aggregates(
    compiled: CompiledPlaybook,
    activations: Sequence[Activation],
    results: Sequence[AccountResult],
    now: datetime,
    pinned: Mapping[str, float],
    known: Mapping[str, float | None] | None = None,
) -> dict[str, float | None]:
    portfolio: dict[str, float | None] = {}
    for agg in compiled.aggregates:
        rule = agg.rule
        if rule.id in pinned:
            portfolio[rule.id] = float(pinned[rule.id])
            continue
        name = f"aggregate:{rule.id}"
        keep = [True] * len(activations)
        if agg.where is not None:
            for index, value in enumerate(agg.where.evaluate(activations, now)):
                if isinstance(value, EvalError):
                    _error(results[index], name, value)
                keep[index] = value is True
        values: list[float] = []
        if agg.of is None:
            values = [1.0] * sum(keep)
        else:
            for index, value in enumerate(agg.of.evaluate(activations, now)):
                if not keep[index]:
                    continue
                if isinstance(value, EvalError):
                    _error(results[index], name, value)
                elif is_value(value) and not isinstance(value, bool):
                    values.append(float(value))
        if known is not None and rule.id in known:
            portfolio[rule.id] = known[rule.id]
        else:
            portfolio[rule.id] = aggregate(rule.fn, values, rule.q)
    cel_portfolio = acts.portfolio_variable(portfolio)
    for activation in activations:
        activation["portfolio"] = cel_portfolio
    return portfolio


def _normalize(value: float, worst: float, best: float) -> float:
    return min(max((value - worst) / (best - worst), 0.0), 1.0)


def _band(compiled: CompiledPlaybook, score: float | None) -> str:
    if score is None:
        return "unknown"
    for name, lower in compiled.bands:
        if score >= lower:
            return name
    return "unknown"


def _stage_health(
    compiled: CompiledPlaybook,
    activations: Sequence[Activation],
    results: Sequence[AccountResult],
    now: datetime,
    prior: Mapping[str, float],
) -> None:
    raw = [m.value.evaluate(activations, now) for m in compiled.measures]
    explain_needed: dict[int, list[int]] = {}
    for index, result in enumerate(results):
        normalized: dict[int, float] = {}
        failed = False
        for m_index, measure in enumerate(compiled.measures):
            value = raw[m_index][index]
            if isinstance(value, EvalError):
                _error(result, f"measure:{measure.rule.id}", value)
                failed = True
            elif is_value(value):
                if isinstance(value, bool) or not isinstance(value, int | float):
                    _error(result, f"measure:{measure.rule.id}", evalerrors.not_a_number(value))
                    failed = True
                elif not math.isfinite(value):
                    _error(result, f"measure:{measure.rule.id}", evalerrors.not_finite(value))
                    failed = True
                else:
                    normalized[m_index] = _normalize(
                        float(value), measure.rule.worst, measure.rule.best
                    )
        total = sum(compiled.measures[i].rule.weight for i in normalized)
        for m_index, measure in enumerate(compiled.measures):
            n = normalized.get(m_index)
            lost = (
                100.0 * measure.rule.weight * (1.0 - n) / total
                if n is not None and total > 0
                else None
            )
            result.measures.append(
                MeasureResult(
                    measure.rule.id,
                    measure.rule.label,
                    raw[m_index][index],
                    n,
                    measure.rule.weight,
                    lost,
                )
            )
        if not failed and normalized and total > 0:
            result.score = (
                100.0
                * sum(compiled.measures[i].rule.weight * n for i, n in normalized.items())
                / total
            )
        result.band = _band(compiled, result.score)
        previous = prior.get(result.key)
        if previous is not None:
            result.previous = previous
            if result.score is not None:
                result.delta = result.score - previous
        if result.score is not None:
            for m_index, m in enumerate(result.measures):
                if m.lost is not None and m.lost > 0.0:
                    explain_needed.setdefault(m_index, []).append(index)
    _drivers(compiled, activations, results, now, explain_needed)
    for activation, result in zip(activations, results, strict=True):
        activation["health"] = acts.health_variable(
            result.score,
            result.band,
            {m.id: m.normalized for m in result.measures},
            result.previous,
            result.delta,
        )


def _drivers(
    compiled: CompiledPlaybook,
    activations: Sequence[Activation],
    results: Sequence[AccountResult],
    now: datetime,
    needed: Mapping[int, list[int]],
) -> None:
    """Render each losing measure's ``explain`` with ``value`` bound, then order drivers."""
    texts: dict[tuple[int, int], str] = {}
    # Measure order, so an account's explain errors come in declaration order.
    for m_index, account_indexes in sorted(needed.items()):
        measure = compiled.measures[m_index]
        if measure.explain is None:
            for a in account_indexes:
                texts[(m_index, a)] = measure.rule.label
            continue
        local = []
        for a in account_indexes:
            value = results[a].measures[m_index].value
            local.append({**activations[a], "value": celtypes.DoubleType(float(value))})
        for a, text in zip(account_indexes, measure.explain.render(local, now), strict=True):
            if isinstance(text, EvalError):
                _error(results[a], f"measure:{measure.rule.id}", evalerrors.in_explain(text))
                texts[(m_index, a)] = measure.rule.label
            else:
                texts[(m_index, a)] = text
    for a, result in enumerate(results):
        if result.score is None:
            continue
        losers = [
            (m_index, m)
            for m_index, m in enumerate(result.measures)
            if m.lost is not None and m.lost > 0.0
        ]
        losers.sort(key=lambda item: (-(item[1].lost or 0.0), item[0]))  # ties: declaration order
        result.drivers = [
            Driver(m.id, m.lost or 0.0, texts.get((i, a), m.label)) for i, m in losers
        ]


def _stage_segments(
    compiled: CompiledPlaybook,
    activations: Sequence[Activation],
    results: Sequence[AccountResult],
    now: datetime,
) -> None:
    columns = [(seg, seg.when.evaluate(activations, now)) for seg in compiled.segments]
    for index, (activation, result) in enumerate(zip(activations, results, strict=True)):
        for seg, column in columns:
            value = column[index]
            result.segment_values[seg.id] = value
            if isinstance(value, EvalError):
                _error(result, f"segment:{seg.id}", value)
            elif value is True:
                result.segments.append(seg.id)
        activation["segments"] = acts.segments_variable(result.segments)


def _stage_tiers(
    compiled: CompiledPlaybook,
    activations: Sequence[Activation],
    results: Sequence[AccountResult],
    now: datetime,
) -> None:
    pending = list(range(len(activations)))
    for tier in compiled.tiers:
        if not pending:
            break
        subset = [activations[i] for i in pending]
        still: list[int] = []
        for index, value in zip(pending, tier.when.evaluate(subset, now), strict=True):
            result = results[index]
            result.tier_values[tier.rule.id] = value
            if value is True:
                result.tier = tier.rule.id
            elif isinstance(value, EvalError):
                _error(result, f"tier:{tier.rule.id}", value)  # no tier: never guess one
            else:
                still.append(index)
        pending = still
    for index in pending:
        if compiled.tiers:
            _error(results[index], "tier", evalerrors.no_tier([t.rule.id for t in compiled.tiers]))
    for activation, result in zip(activations, results, strict=True):
        if result.tier is not None:
            activation["tier"] = acts.tier_variable(result.tier)


def _stage_adkar(
    compiled: CompiledPlaybook,
    activations: Sequence[Activation],
    results: Sequence[AccountResult],
    now: datetime,
) -> None:
    columns = [(name, kernel.evaluate(activations, now)) for name, kernel in compiled.adkar]
    for index, (activation, result) in enumerate(zip(activations, results, strict=True)):
        for name, column in columns:
            value: Value = column[index]
            if isinstance(value, NoData):
                result.adkar_unknown.append(name)
                continue
            if is_value(value) and (
                isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5
            ):
                value = evalerrors.adkar_out_of_range(value)
            if isinstance(value, EvalError):
                _error(result, f"adkar:{name}", value)
                continue
            result.adkar_scores[name] = int(value)
            if not result.adkar_barrier and value <= compiled.adkar_threshold:
                result.adkar_barrier = name
        activation["adkar"] = acts.adkar_variable(
            result.adkar_scores, result.adkar_barrier, result.adkar_unknown
        )


def _stage_playbooks(
    compiled: CompiledPlaybook,
    activations: Sequence[Activation],
    results: Sequence[AccountResult],
    now: datetime,
) -> None:
    for pb in compiled.playbooks:
        for result, value in zip(results, pb.when.evaluate(activations, now), strict=True):
            result.playbook_values[pb.rule.id] = value
            if isinstance(value, EvalError):
                _error(result, f"playbook:{pb.rule.id}", value)


def base_activations(batch: AccountBatch, now: datetime) -> list[Activation]:
    """What every expression may read at stage 0: ``account`` and ``now``."""
    cel_now = acts.cel_now(now)
    return [acts.base_activation(record, cel_now) for record in batch.records()]


def portfolio_of(
    compiled: CompiledPlaybook, batch: AccountBatch, now: datetime
) -> dict[str, float | None]:
    """Stage 0 alone: the aggregates of the whole batch (to evaluate a few accounts of it)."""
    activations = base_activations(batch, now)
    results = [AccountResult(key=key) for key in batch]
    return _stage_aggregates(compiled, activations, results, now, {})


def aggregates_of(
    compiled: CompiledPlaybook,
    batch: AccountBatch,
    now: datetime,
    portfolio: Mapping[str, float] | None = None,
) -> dict[str, float | None]:
    """The portfolio aggregates of the whole batch, in one columnar pass (stage 0 alone;
    an expression outside the compiled subset falls back like in :func:`evaluate`)."""
    from csrules.engine.columnar import portfolio_columnar

    return portfolio_columnar(compiled, batch, now, portfolio or {})


BACKENDS = ("columnar", "reference", "sql")


def evaluate(
    compiled: CompiledPlaybook,
    batch: AccountBatch,
    now: datetime,
    prior: Mapping[str, float] | None = None,
    *,
    portfolio: Mapping[str, float] | None = None,
    aggregates: Mapping[str, float | None] | None = None,
    backend: str = "columnar",
) -> Evaluation:
    """Evaluate every stage for every account of ``batch`` at ``now``.

    ``prior`` holds the last applied run's scores by account key (``health.previous``);
    ``portfolio`` pins aggregates to given values (small test fixtures), which are then
    not evaluated at all. ``aggregates`` gives the values of the whole portfolio when
    ``batch`` is a part of it (a chunk, one account: see :func:`aggregates_of`): each
    account's aggregate errors are still evaluated, exactly as over the whole batch
    (not with ``"sql"``, which evaluates a whole batch in one query). ``backend`` is
    ``"columnar"`` (default), ``"reference"`` or ``"sql"`` (the playbook compiled to
    SQL and run in an in-process DuckDB, ``engine/sql/``); all give the same
    results.
    """
    if backend == "sql":
        from csrules.engine.sql.run import evaluate_sql

        if aggregates is not None:
            raise ValueError("the sql backend evaluates a whole batch; it takes no aggregates")

        return evaluate_sql(compiled, batch, now, prior or {}, portfolio or {})
    if backend == "columnar":
        from csrules.engine.columnar import evaluate_columnar

        return evaluate_columnar(compiled, batch, now, prior or {}, portfolio or {}, aggregates)
    if backend != "reference":
        raise ValueError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    activations = base_activations(batch, now)
    results = [AccountResult(key=key) for key in batch]
    values = _stage_aggregates(compiled, activations, results, now, portfolio or {}, aggregates)
    _stage_health(compiled, activations, results, now, prior or {})
    _stage_segments(compiled, activations, results, now)
    _stage_tiers(compiled, activations, results, now)
    _stage_adkar(compiled, activations, results, now)
    _stage_playbooks(compiled, activations, results, now)
    return Evaluation(now=now, portfolio=values, accounts=results, activations=activations)


__all__ = ["BACKENDS", "NO_DATA", "evaluate"]
