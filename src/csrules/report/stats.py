"""ROC AUC by ranks, and its bootstrap confidence interval, for ``backtest``.

The AUC of a risk value for an outcome is the probability that a random account with
the outcome has a higher risk than a random account without it, ties counting half:
the Mann-Whitney statistic ``(R1 - n1 (n1 + 1) / 2) / (n1 n0)``, with ``R1`` the sum of
the average ranks of the positives. One sort, no loop over accounts.

The interval is a percentile bootstrap that resamples *accounts*, not observations: a
backtest sees the same account on every snapshot date, and its observations rise and
fall together, so resampling them one by one would give an interval far too narrow.
Each replicate draws as many accounts as there are, with replacement; an account drawn
k times weighs k in all its observations, and the weighted AUC is a cumulative sum
over the distinct risk values, so a replicate costs one pass over the observations. Risks are rounded to
``BOOTSTRAP_DECIMALS`` for the replicates only; the point estimate is exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

BOOTSTRAP_DECIMALS = 2


@dataclass(frozen=True)
class Auc:
    """An AUC with its bootstrap interval (None: one class is empty)."""

    value: float | None
    low: float | None
    high: float | None
    positives: int
    negatives: int
    replicates: int

    def to_json(self) -> dict[str, Any]:
        return {
            "auc": self.value,
            "ci_low": self.low,
            "ci_high": self.high,
            "positives": self.positives,
            "negatives": self.negatives,
            "bootstrap_replicates": self.replicates,
        }


def auc(risk: pl.Series, outcome: pl.Series) -> float | None:
    """The rank AUC of ``risk`` for ``outcome`` (bool); rows with a null risk are left out."""
    frame = pl.DataFrame(
        {"risk": risk.cast(pl.Float64), "y": outcome.cast(pl.Boolean)}
    ).drop_nulls()
    positives = int(frame.get_column("y").sum())
    negatives = frame.height - positives
    if positives == 0 or negatives == 0:
        return None
    ranks = frame.get_column("risk").rank("average")
    r1 = float(ranks.filter(frame.get_column("y")).sum())
    return (r1 - positives * (positives + 1) / 2) / (positives * negatives)


def _auc_of_levels(pos: np.ndarray[Any, Any], neg: np.ndarray[Any, Any]) -> float:
    """The AUC from weighted counts per distinct risk value (ascending risk)."""
    below = np.cumsum(neg) - neg  # negatives with a lower risk
    total = pos.sum() * neg.sum()
    if total <= 0:
        return math.nan
    return float((pos * (below + 0.5 * neg)).sum() / total)


def auc_with_interval(
    risk: pl.Series,
    outcome: pl.Series,
    *,
    replicates: int,
    seed: int,
    clusters: pl.Series | None = None,
    level: float = 0.95,
) -> Auc:
    """The AUC and its ``level`` percentile bootstrap interval over ``replicates``,
    resampling ``clusters`` (the account of each observation; None: each observation
    is its own)."""
    frame = pl.DataFrame(
        {
            "risk": risk.cast(pl.Float64),
            "y": outcome.cast(pl.Boolean),
            "cluster": clusters
            if clusters is not None
            else pl.int_range(0, risk.len(), eager=True),
        }
    ).drop_nulls(["risk", "y"])
    value = auc(frame.get_column("risk"), frame.get_column("y"))
    positives = int(frame.get_column("y").sum())
    negatives = frame.height - positives
    if value is None or replicates <= 0:
        return Auc(value, None, None, positives, negatives, 0)
    level_of = (
        frame.get_column("risk").round(BOOTSTRAP_DECIMALS).rank("dense").cast(pl.Int64).to_numpy()
        - 1
    )
    cluster_of = frame.get_column("cluster").rank("dense").cast(pl.Int64).to_numpy() - 1
    levels = int(level_of.max()) + 1
    clusters_n = int(cluster_of.max()) + 1
    cell = level_of * 2 + frame.get_column("y").cast(pl.Int64).to_numpy()  # (level, outcome)
    rng = np.random.default_rng(seed)
    samples = np.empty(replicates)
    for i in range(replicates):
        drawn = np.bincount(rng.integers(0, clusters_n, clusters_n), minlength=clusters_n)
        weight = drawn.astype(np.float64)[cluster_of]
        counts = np.bincount(cell, weights=weight, minlength=2 * levels).reshape(levels, 2)
        samples[i] = _auc_of_levels(counts[:, 1], counts[:, 0])
    samples = samples[~np.isnan(samples)]
    if samples.size == 0:
        return Auc(value, None, None, positives, negatives, replicates)
    tail = (1 - level) / 2
    low, high = np.quantile(samples, [tail, 1 - tail])
    return Auc(value, float(low), float(high), positives, negatives, replicates)
