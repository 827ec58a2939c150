"""The snapshot fields a report reads, by the role ``[report]`` gives them.

A report never reads a field by its name in the snapshot: ``[report]`` says which
field holds the ARR, the CSM, the revenue movements and the renewal date. This module
turns the batch into one table with fixed column names (``arr``, ``start``,
``expansion``, ``contraction``, ``churned``, ``renewal``, ``name``, ``csm``) and one
column per owner field of a dedicated tier (``owner:<field>``), so the figures never
depend on how a team named its fields. A role without a field is a column of nulls.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from csrules.engine.compiled import CompiledPlaybook
from csrules.model.project import ReportSettings
from csrules.snapshot.batch import AccountBatch

NUMBER_ROLES = {
    "arr": "arr_field",
    "start": "starting_arr_field",
    "expansion": "expansion_field",
    "contraction": "contraction_field",
}
TEXT_ROLES = {"name": "name_field", "csm": "csm_field"}


def owner_column(field: str) -> str:
    """The column of ``values`` that holds the owner field ``field``."""
    return f"owner:{field}"


def _field(report: ReportSettings, setting: str, available: set[str]) -> str | None:
    name: str | None = getattr(report, setting)
    return name if name is not None and name in available else None


def role_values(compiled: CompiledPlaybook, batch: AccountBatch, now: datetime) -> pl.DataFrame:
    """One row per account of ``batch``: its key (``account``) and every role's value.

    ``churned`` is a bool: the churned flag, or for a churn date, whether the date is
    at or before ``now``. ``start`` falls back to the ARR when no starting ARR field is
    set (the ARR is then read as the ARR at the start of the period).
    """
    report = compiled.project.report
    frame = batch.frame
    available = set(frame.columns)
    columns: list[pl.Expr] = [pl.col(compiled.spec.key).cast(pl.String).alias("account")]
    for role, setting in NUMBER_ROLES.items():
        name = _field(report, setting, available)
        if role == "start" and name is None:
            name = _field(report, "arr_field", available)
        expr = pl.col(name).cast(pl.Float64) if name else pl.lit(None, pl.Float64)
        columns.append(expr.alias(role))
    for role, setting in TEXT_ROLES.items():
        name = _field(report, setting, available)
        expr = pl.col(name).cast(pl.String) if name else pl.lit(None, pl.String)
        columns.append(expr.alias(role))
    churned = _field(report, "churned_field", available)
    if churned is None:
        columns.append(pl.lit(None, pl.Boolean).alias("churned"))
    elif frame.schema[churned] == pl.Boolean:
        columns.append(pl.col(churned).alias("churned"))
    else:  # a churn date: churned once it is passed
        when = pl.col(churned).cast(pl.Datetime("us", "UTC"))
        columns.append((when.is_not_null() & (when <= pl.lit(now))).alias("churned"))
    renewal = _field(report, "renewal_field", available)
    columns.append(
        (
            pl.col(renewal).cast(pl.Datetime("us", "UTC"))
            if renewal
            else pl.lit(None, pl.Datetime("us", "UTC"))
        ).alias("renewal")
    )
    owners = {t.rule.owner_field for t in compiled.tiers if t.rule.coverage == "dedicated"}
    for field in sorted(owners):
        expr = pl.col(field).cast(pl.String) if field in available else pl.lit(None, pl.String)
        columns.append(expr.alias(owner_column(field)))
    return frame.select(columns)
