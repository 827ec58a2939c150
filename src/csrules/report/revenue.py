"""NRR, GRR and CLV from the revenue fields ``[report]`` names.

The cohort is the accounts that were customers at the start of the period: those with
a starting ARR above zero (``starting_arr_field``, else the ARR field). Over it:

- ``S``: the starting ARR of the cohort;
- ``E``: the expansion of the accounts that stayed; ``C``: their contraction;
- ``L``: the starting ARR of the accounts that churned (a churned account loses its
  whole starting ARR; its expansion and contraction are not counted again);
- ``NRR = (S + E - C - L) / S``, ``GRR = (S - C - L) / S``;
- ``CLV = (S / n) * margin / (churned / n)``: the average starting ARR per account
  times the gross margin, over the share of the cohort's accounts that churned (the
  expected lifetime is its inverse, in periods of the revenue fields: a year when they
  cover twelve months). No churn in the period: no CLV (the lifetime is unbounded).

A missing movement reads as zero (an account with no expansion recorded had none); a
missing churned flag reads as "did not churn".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from csrules.model.project import ReportSettings
from csrules.validate.report_fields import NEEDS


@dataclass(frozen=True)
class Revenue:
    """The cohort's revenue movements and what follows from them (None: not computable)."""

    cohort_accounts: int
    starting_arr: float
    expansion: float | None
    contraction: float | None
    churned_arr: float | None
    churned_accounts: int | None
    nrr: float | None
    grr: float | None
    clv: float | None
    gross_margin: float
    margin_given: bool
    missing: dict[str, list[str]]  # figure -> the settings it lacks

    def to_json(self) -> dict[str, Any]:
        return {
            "cohort_accounts": self.cohort_accounts,
            "starting_arr": self.starting_arr,
            "expansion": self.expansion,
            "contraction": self.contraction,
            "churned_arr": self.churned_arr,
            "churned_accounts": self.churned_accounts,
            "nrr": self.nrr,
            "grr": self.grr,
            "clv": self.clv,
            "gross_margin": self.gross_margin if self.margin_given else None,
            "missing": {k: list(v) for k, v in self.missing.items() if v},
        }


def _ratio(top: float, bottom: float) -> float | None:
    return top / bottom if bottom > 0 else None


def revenue_figures(report: ReportSettings, table: pl.DataFrame) -> Revenue | None:
    """NRR, GRR and CLV of ``table`` (role values), or None when no revenue field is set."""
    has_start = report.starting_arr_field is not None or report.arr_field is not None
    settings = ("starting_arr_field", "expansion_field", "contraction_field", "churned_field")
    if not has_start or not any(getattr(report, s) is not None for s in settings):
        return None
    missing = {
        figure: [s for s in needs if getattr(report, s) is None] for figure, needs in NEEDS.items()
    }
    missing["CLV"] = [] if report.churned_field is not None else ["churned_field"]
    cohort = table.filter(pl.col("start").is_not_null() & (pl.col("start") > 0))
    churned = pl.col("churned").fill_null(False)
    stayed = ~churned
    sums = cohort.select(
        pl.col("start").sum().alias("S"),
        pl.col("expansion").fill_null(0.0).filter(stayed).sum().alias("E"),
        pl.col("contraction").fill_null(0.0).filter(stayed).sum().alias("C"),
        pl.col("start").filter(churned).sum().alias("L"),
        churned.sum().alias("lost"),
    ).row(0, named=True)
    n = cohort.height
    start = float(sums["S"] or 0.0)
    expansion = float(sums["E"] or 0.0) if report.expansion_field else None
    contraction = float(sums["C"] or 0.0) if report.contraction_field else None
    lost = float(sums["L"] or 0.0) if report.churned_field else None
    lost_accounts = int(sums["lost"] or 0) if report.churned_field else None
    nrr = grr = clv = None
    if contraction is not None and lost is not None:
        grr = _ratio(start - contraction - lost, start)
        if expansion is not None:
            nrr = _ratio(start + expansion - contraction - lost, start)
    margin = report.gross_margin if report.gross_margin is not None else 1.0
    if lost_accounts and n:
        clv = (start / n) * margin / (lost_accounts / n)
    return Revenue(
        cohort_accounts=n,
        starting_arr=start,
        expansion=expansion,
        contraction=contraction,
        churned_arr=lost,
        churned_accounts=lost_accounts,
        nrr=nrr,
        grr=grr,
        clv=clv,
        gross_margin=margin,
        margin_given=report.gross_margin is not None,
        missing=missing,
    )
