"""Which (playbook, account) pairs can move in a run, found with column operations.

A pair stays as it was when its condition and its case say nothing new: no case and
the condition false; a case cooling down; a pending case whose condition still holds
and whose ``for`` has not elapsed; an open or acknowledged case whose condition holds
and was never false, or is false and has been for less than ``resolve_after``, with
no escalation step due. Everything else is a *moving* pair: it goes through
:func:`csrules.cases.rowwise.advance_pair`, which decides exactly what happens. The
selection may hold a pair that then stays (a superset is correct, only slower), never
miss one that moves: the differential test against the pair-by-pair reconcile checks
it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from csrules.cases.model import CaseState
from csrules.engine.compiled import CompiledPlaybook

Pairs = dict[str, list[tuple[str, int | None]]]
"""playbook id -> the moving pairs' (account, row in the evaluation table or None when
the account left the snapshot), in the order the pair-by-pair reconcile visits them."""

_US = pl.Int64()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _us(value: datetime | None) -> int | None:
    """Microseconds since the epoch, exactly (timedelta arithmetic, no float)."""
    if value is None:
        return None
    return (value - _EPOCH) // timedelta(microseconds=1)


def _span(value: timedelta) -> int:
    return value // timedelta(microseconds=1)


def cases_frame(state: CaseState) -> pl.DataFrame:
    """The latest case of each pair as columns (times in epoch microseconds): from the
    store's rows when it gives them, else from the cases."""
    frame = getattr(state.cases, "frame", None)
    if callable(frame):
        stored = frame()
        if isinstance(stored, pl.DataFrame):
            return stored
    cases = list(state.cases.values())
    return pl.DataFrame(
        {
            "playbook": pl.Series([c.playbook for c in cases], dtype=pl.String),
            "account": pl.Series([c.account for c in cases], dtype=pl.String),
            "status": pl.Series([c.status for c in cases], dtype=pl.String),
            "first_true_at": pl.Series([_us(c.first_true_at) for c in cases], dtype=_US),
            "opened_at": pl.Series([_us(c.opened_at) for c in cases], dtype=_US),
            "false_since": pl.Series([_us(c.false_since) for c in cases], dtype=_US),
            "resolved_at": pl.Series([_us(c.resolved_at) for c in cases], dtype=_US),
            "escalation": pl.Series([c.escalation for c in cases], dtype=pl.String),
            "steps_fired": pl.Series([list(c.steps_fired) for c in cases], dtype=pl.List(pl.Int64)),
        }
    )


def _escalation_due(compiled: CompiledPlaybook, now_us: int) -> pl.Expr:
    """Whether an open case has an escalation step due that it has not fired."""
    due: pl.Expr = pl.lit(False)
    opened = pl.col("opened_at")
    for policy in reversed(compiled.escalations):
        if not policy.step:
            continue
        numbers = [
            pl.when(opened + _span(step.after) <= now_us).then(pl.lit(number, dtype=pl.Int64))
            for number, step in enumerate(policy.step, start=1)
        ]
        waiting = (
            pl.concat_list(numbers)
            .list.drop_nulls()
            .list.set_difference(
                pl.col("steps_fired").fill_null(pl.lit([], dtype=pl.List(pl.Int64)))
            )
            .list.len()
            > 0
        )
        due = pl.when(pl.col("escalation") == policy.id).then(waiting).otherwise(due)
    return (
        (pl.col("status") == "open")
        & pl.col("escalation").is_not_null()
        & opened.is_not_null()
        & due.fill_null(False)
    )


def _moving(
    compiled: CompiledPlaybook, now_us: int, rule_for: int, resolve: int, cool: int
) -> pl.Expr:
    holds = pl.col("holds")
    status = pl.col("status")
    active = status.is_in(["pending", "open", "acknowledged"]).fill_null(False)
    cooling = (
        (status == "resolved")
        & pl.col("resolved_at").is_not_null()
        & (now_us < pl.col("resolved_at") + cool)
    ).fill_null(False)
    new = ~active & holds & ~cooling
    pending = (status == "pending").fill_null(False) & (
        ~holds | (now_us - pl.col("first_true_at") >= rule_for)
    )
    false_since = pl.col("false_since")
    working = status.is_in(["open", "acknowledged"]).fill_null(False) & (
        (holds & false_since.is_not_null())
        | (~holds & (false_since.is_null() | (now_us - false_since >= resolve)))
        | _escalation_due(compiled, now_us)
    )
    return new | pending | working


def moving_pairs(
    table: pl.DataFrame, compiled: CompiledPlaybook, state: CaseState, now: datetime
) -> Pairs:
    """The pairs that can move at ``now``, per playbook, in visiting order.

    ``table`` is the evaluation's results table (``account`` and ``playbooks``).
    """
    now_us = _us(now)
    assert now_us is not None
    cases = cases_frame(state)
    accounts = table.select(
        pl.col("account"), pl.int_range(pl.len(), dtype=pl.Int64).alias("row"), "playbooks"
    )
    out: Pairs = {}
    for pb in compiled.playbooks:
        rule = pb.rule
        mine = cases.filter(pl.col("playbook") == rule.id).drop("playbook")
        present = accounts.select(
            "account",
            "row",
            pl.col("playbooks").list.contains(rule.id).fill_null(False).alias("holds"),
        ).join(mine, on="account", how="left", maintain_order="left")
        gone = mine.join(accounts.select("account"), on="account", how="anti").with_columns(
            pl.lit(False).alias("holds"), pl.lit(None, dtype=pl.Int64).alias("row")
        )
        moves = _moving(
            compiled, now_us, _span(rule.for_), _span(rule.resolve_after), _span(rule.cooldown)
        )
        here = present.filter(moves).select("account", "row")
        away = gone.filter(moves).select("account").to_series().sort().to_list()
        pairs: list[tuple[str, int | None]] = list(
            zip(here.get_column("account").to_list(), here.get_column("row").to_list(), strict=True)
        )
        pairs.extend((account, None) for account in away)
        out[rule.id] = pairs
    return out
