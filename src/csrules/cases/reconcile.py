"""``reconcile(evaluation, compiled, state, now)``: from conditions to cases and actions.

Pure: the same evaluation, state and time always give the same plan; nothing is
written and nothing is sent here. What a run does to each (playbook, account) pair is
defined pair by pair in :mod:`csrules.cases.rowwise`; at portfolio scale almost every
pair stays as it was, so this module finds, with column operations, the pairs that
can move (the evaluation table joined with the latest case of each pair,
:mod:`csrules.cases.selection`), and only those become Python objects and go through
the pair-by-pair lifecycle, in the same order. Silences and template holes are
evaluated as columns too (:mod:`csrules.cases.columnar_render`), cel-python only for
what the columnar backend does not compile.

An evaluation without columnar results (the reference backend) is reconciled pair by
pair throughout. Both give the same plan: a differential test holds them to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import polars as pl

from csrules.cases.columnar_render import ColumnarRender, columnar_silences
from csrules.cases.model import CaseState, Plan
from csrules.cases.rowwise import (
    Context,
    advance_pair,
    playbook_order,
    reconcile_rowwise,
    release_held,
)
from csrules.cases.selection import cases_frame, moving_pairs
from csrules.engine.columnar import ColumnarResult
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.results import AccountResult, Evaluation


def reconcile(
    evaluation: Evaluation, compiled: CompiledPlaybook, state: CaseState, now: datetime
) -> Plan:
    """The plan of one run: transitions, actions to deliver or hold, the new state parts."""
    source = evaluation.source
    if not isinstance(source, ColumnarResult):
        return reconcile_rowwise(evaluation, compiled, state, now)
    return _reconcile_columnar(evaluation, source, compiled, state, now)


def _reconcile_columnar(
    evaluation: Evaluation,
    source: ColumnarResult,
    compiled: CompiledPlaybook,
    state: CaseState,
    now: datetime,
) -> Plan:
    plan = Plan(now=now)
    table = evaluation.frame().select("account", "tier", "playbooks", "score")
    playbook_ids = [pb.rule.id for pb in compiled.playbooks]
    moving = moving_pairs(table, compiled, state, now)
    rows = sorted({row for pairs in moving.values() for _, row in pairs if row is not None})
    results = _light_results(table, rows, playbook_ids)
    run = source.run
    frame = run.batch.frame
    fields: dict[str, dict[str, Any]] = {}

    def record_field(key: str, name: str) -> Any:
        if name not in fields:
            column = frame.get_column(name) if name in frame.columns else None
            values = column.gather(rows).to_list() if column is not None else [None] * len(rows)
            keys = table.get_column("account").gather(rows).to_list()
            fields[name] = dict(zip(keys, values, strict=True))
        return fields[name].get(key)

    def activation(key: str) -> Mapping[str, Any]:
        raise AssertionError("the columnar renderer builds the activations it needs")

    positions = dict(zip((results[r].key for r in rows), rows, strict=True))
    ctx = Context(
        compiled=compiled,
        evaluation=evaluation,
        now=now,
        results={results[r].key: results[r] for r in rows},
        silences=columnar_silences(run, compiled, now),
        plan=plan,
        rotation=dict(state.rotation),
        activation=activation,
        record_field=record_field,
        renderer=ColumnarRender(source, positions),
    )
    ctx.cap = compiled.project.cases.max_open_per_account
    if ctx.cap is not None:
        ctx.open_count = _open_counts(state)
    for pb in playbook_order(compiled):
        rule = pb.rule
        decision = compiled.decisions.get(rule.id)
        r_hash = decision.rule_hash if decision is not None else ""
        for account, _ in moving[rule.id]:
            updated = advance_pair(ctx, rule, account, state.cases.get((rule.id, account)), r_hash)
            if updated is not None:
                plan.cases.append(updated)
    ctx.renderer.finish(ctx)
    release_held(ctx, state)
    plan.rotation = ctx.rotation
    scored = table.filter(pl.col("score").is_not_null())
    plan.scores = dict(
        zip(
            scored.get_column("account").to_list(),
            scored.get_column("score").to_list(),
            strict=True,
        )
    )
    return plan


def _open_counts(state: CaseState) -> dict[str, int]:
    """Each account's cases open when the run starts, counted on the case columns."""
    open_cases = cases_frame(state).filter(pl.col("status").is_in(["open", "acknowledged"]))
    counts = open_cases.group_by("account").len()
    return dict(
        zip(counts.get_column("account").to_list(), counts.get_column("len").to_list(), strict=True)
    )


def _light_results(
    table: pl.DataFrame, rows: list[int], playbook_ids: list[str]
) -> dict[int, AccountResult]:
    """What the lifecycle reads of the accounts at ``rows``: key, tier and which
    playbooks hold (drivers are read by the renderer, from the columnar results)."""
    part = table[rows] if rows else table.clear()
    out: dict[int, AccountResult] = {}
    for row, key, tier, holding in zip(
        rows,
        part.get_column("account").to_list(),
        part.get_column("tier").to_list(),
        part.get_column("playbooks").to_list(),
        strict=True,
    ):
        held = set(holding)
        out[row] = AccountResult(
            key=key, tier=tier, playbook_values={p: p in held for p in playbook_ids}
        )
    return out
