"""``csrules backtest``: did the health score see churn coming?

Each dated snapshot of the history is evaluated as of its date (columnar backend, the
same rules as ``evaluate``), and every (account, date) becomes an observation labelled
by the account's next known outcome after that date, within the horizon: churned is a
positive, renewed or contracted a negative; an observation with no outcome in the
horizon is left out (its end is not known yet). Then, over the observations with a
score:

- per band: observations, churned, churn rate, and lift (the band's churn rate over
  the overall churn rate);
- the ROC AUC of the score as a risk (a lower score, a higher risk) with a bootstrap
  interval (``stats.py``), and the same AUC with the outcomes shuffled across the
  observations (a control that must come out near 0.5);
- per measure: the AUC of the measure alone (its normalized value), and the drop in
  AUC when the score is computed without it (the other weights renormalized, exactly
  as the score does when a measure has no data);
- a calibration table: the churn rate per 10-point score bin, and whether it falls as
  the score rises.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import pairwise
from typing import Any

import numpy as np
import polars as pl

from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.evaluate import evaluate
from csrules.report.history import DatedSnapshot, Outcomes
from csrules.report.portfolio import band_order
from csrules.report.stats import Auc, auc, auc_with_interval
from csrules.snapshot.batch import AccountBatch
from csrules.store.base import iso_seconds

CALIBRATION_BINS = 10
ROC_POINTS = 50


@dataclass
class Backtest:
    """Everything ``csrules backtest`` reports."""

    project: str
    horizon_days: float
    snapshots: list[dict[str, Any]]
    outcomes: dict[str, Any]
    observations: int
    unlabelled: int
    unscored: int
    churned: int
    bands: list[dict[str, Any]]
    score_auc: Auc
    control_auc: Auc
    measures: list[dict[str, Any]]
    calibration: list[dict[str, Any]]
    monotone: bool | None
    roc: list[tuple[float, float]]
    warnings: list[str] = field(default_factory=list)

    @property
    def churn_rate(self) -> float | None:
        return self.churned / self.observations if self.observations else None

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "horizon_days": self.horizon_days,
            "snapshots": self.snapshots,
            "outcomes": self.outcomes,
            "observations": self.observations,
            "unlabelled": self.unlabelled,
            "unscored": self.unscored,
            "churned": self.churned,
            "churn_rate": self.churn_rate,
            "bands": self.bands,
            "score": self.score_auc.to_json(),
            "control": self.control_auc.to_json(),
            "measures": self.measures,
            "calibration": self.calibration,
            "calibration_monotone": self.monotone,
            "roc": [{"fpr": f, "tpr": t} for f, t in self.roc],
            "warnings": list(self.warnings),
        }


def _observations(
    compiled: CompiledPlaybook,
    snapshots: list[DatedSnapshot],
    read: Callable[[DatedSnapshot], AccountBatch],
) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """Per snapshot: the score, band and normalized measures of every account."""
    measure_ids = [m.rule.id for m in compiled.measures]
    frames: list[pl.DataFrame] = []
    read_info: list[dict[str, Any]] = []
    for snap in snapshots:
        batch = read(snap)
        evaluation = evaluate(compiled, batch, snap.day, backend="columnar")
        results = evaluation.frame().select(
            pl.col("account").cast(pl.String),
            "score",
            "band",
            (pl.col("errors").list.len() > 0).alias("failed"),
        )
        measures = evaluation.measures_frame(measure_ids).drop("account")
        del evaluation
        frames.append(
            pl.concat([results, measures], how="horizontal").with_columns(
                pl.lit(snap.day).alias("day")
            )
        )
        read_info.append(
            {
                "date": iso_seconds(snap.day)[:10],
                "file": snap.path.name,
                "accounts": len(batch),
                "skipped": batch.skipped,
            }
        )
    return pl.concat(frames, how="vertical_relaxed"), read_info


def label(observations: pl.DataFrame, outcomes: pl.DataFrame, horizon: timedelta) -> pl.DataFrame:
    """``observations`` (account, day, ...) with ``churned``: the next outcome after the
    day within ``horizon`` is a churn (null: no outcome in the horizon)."""
    after = outcomes.select(
        "account",
        pl.col("date").cast(pl.Datetime("us", "UTC")).alias("next_date"),
        pl.col("outcome").alias("next"),
    ).sort("next_date")
    left = observations.with_columns(
        (pl.col("day").cast(pl.Datetime("us", "UTC")) + pl.duration(microseconds=1)).alias("_after")
    ).sort("_after")
    with warnings.catch_warnings():  # both sides are sorted above; Polars cannot check per group
        warnings.simplefilter("ignore", UserWarning)
        joined = left.join_asof(
            after,
            left_on="_after",
            right_on="next_date",
            by="account",
            strategy="forward",
            check_sortedness=False,
        )
    within = pl.col("next_date").is_not_null() & (
        pl.col("next_date") <= pl.col("day") + pl.lit(horizon)
    )
    return joined.with_columns(
        pl.when(within).then(pl.col("next") == "churned").otherwise(None).alias("churned")
    ).drop("_after")


def _band_rows(
    compiled: CompiledPlaybook, scored: pl.DataFrame, overall: float | None
) -> list[dict[str, Any]]:
    grouped = {
        band: (int(n), int(c))
        for band, n, c in scored.group_by("band").agg(pl.len(), pl.col("churned").sum()).iter_rows()
    }
    rows: list[dict[str, Any]] = []
    for band in band_order(compiled):
        n, churned = grouped.get(band, (0, 0))
        if band == "unknown" and n == 0:
            continue
        rate = churned / n if n else None
        rows.append(
            {
                "band": band,
                "observations": n,
                "churned": churned,
                "churn_rate": rate,
                "lift": rate / overall if rate is not None and overall else None,
            }
        )
    return rows


def _without(compiled: CompiledPlaybook, drop: int) -> pl.Expr:
    """The score with measure ``drop`` left out: the other weights renormalized."""
    weighted: pl.Expr = pl.lit(0.0)
    total: pl.Expr = pl.lit(0.0)
    for i, m in enumerate(compiled.measures):
        if i == drop:
            continue
        n = pl.col(m.rule.id)
        w = m.rule.weight
        weighted = weighted + pl.when(n.is_not_null()).then(w * n).otherwise(0.0)
        total = total + pl.when(n.is_not_null()).then(w).otherwise(0.0)
    return pl.when(total > 0).then(100.0 * weighted / total).otherwise(None)


def _roc(risk: pl.Series, outcome: pl.Series) -> list[tuple[float, float]]:
    frame = (
        pl.DataFrame({"risk": risk, "y": outcome})
        .drop_nulls()
        .group_by("risk")
        .agg(pl.col("y").sum().alias("pos"), (~pl.col("y")).sum().alias("neg"))
        .sort("risk", descending=True)
    )
    pos = frame.get_column("pos").to_numpy().astype(np.float64)
    neg = frame.get_column("neg").to_numpy().astype(np.float64)
    if pos.sum() == 0 or neg.sum() == 0:
        return []
    tpr = np.concatenate([[0.0], np.cumsum(pos) / pos.sum()])
    fpr = np.concatenate([[0.0], np.cumsum(neg) / neg.sum()])
    keep = np.unique(
        np.linspace(0, tpr.size - 1, min(tpr.size, ROC_POINTS + 1)).round().astype(int)
    )
    return [(float(fpr[i]), float(tpr[i])) for i in keep]


def _calibration(scored: pl.DataFrame) -> tuple[list[dict[str, Any]], bool | None]:
    width = 100 / CALIBRATION_BINS
    binned = scored.with_columns(
        (pl.col("score") / width).floor().clip(0, CALIBRATION_BINS - 1).cast(pl.Int64).alias("bin")
    )
    counted = {
        int(b): (int(n), int(c))
        for b, n, c in binned.group_by("bin").agg(pl.len(), pl.col("churned").sum()).iter_rows()
    }
    rows: list[dict[str, Any]] = []
    for b in range(CALIBRATION_BINS):
        n, churned = counted.get(b, (0, 0))
        rows.append(
            {
                "from": b * width,
                "to": (b + 1) * width,
                "observations": n,
                "churned": churned,
                "churn_rate": churned / n if n else None,
            }
        )
    rates = [r["churn_rate"] for r in rows if r["observations"] >= 10]
    monotone = None if len(rates) < 2 else all(a >= b for a, b in pairwise(rates))
    return rows, monotone


def run_backtest(
    compiled: CompiledPlaybook,
    snapshots: list[DatedSnapshot],
    outcomes: Outcomes,
    read: Callable[[DatedSnapshot], AccountBatch],
    *,
    horizon: timedelta,
    replicates: int = 500,
    seed: int = 0,
) -> Backtest:
    observed, read_info = _observations(compiled, snapshots, read)
    labelled = label(observed, outcomes.frame, horizon)
    known = labelled.filter(pl.col("churned").is_not_null())
    scored = known.filter(pl.col("score").is_not_null())
    y = scored.get_column("churned")
    churned = int(y.sum())
    overall = churned / scored.height if scored.height else None
    risk = -scored.get_column("score")
    accounts = scored.get_column("account")
    score_auc = auc_with_interval(risk, y, replicates=replicates, seed=seed, clusters=accounts)
    shuffled = y.sample(fraction=1.0, shuffle=True, seed=seed + 1) if scored.height else y
    control = auc_with_interval(
        risk, shuffled, replicates=replicates, seed=seed + 2, clusters=accounts
    )
    measures: list[dict[str, Any]] = []
    for i, m in enumerate(compiled.measures):
        column = scored.get_column(m.rule.id)
        without = scored.select(_without(compiled, i).alias("s")).get_column("s")
        alone = auc(-column, y)
        reduced = auc(-without, y) if len(compiled.measures) > 1 else None
        measures.append(
            {
                "measure": m.rule.id,
                "label": m.rule.label,
                "weight": m.rule.weight,
                "observations": int(column.is_not_null().sum()),
                "auc": alone,
                "auc_without": reduced,
                "drop": None
                if reduced is None or score_auc.value is None
                else score_auc.value - reduced,
            }
        )
    calibration, monotone = _calibration(scored)
    result = Backtest(
        project=compiled.project.project.name,
        horizon_days=horizon.total_seconds() / 86400,
        snapshots=read_info,
        outcomes={
            "file": outcomes.path.name,
            "rows": outcomes.frame.height,
            "skipped": outcomes.skipped,
        },
        observations=scored.height,
        unlabelled=labelled.height - known.height,
        unscored=known.height - scored.height,
        churned=churned,
        bands=_band_rows(compiled, scored, overall),
        score_auc=score_auc,
        control_auc=control,
        measures=measures,
        calibration=calibration,
        monotone=monotone,
        roc=_roc(risk, y),
    )
    if scored.height == 0:
        result.warnings.append(
            "no observation has both a score and an outcome within the horizon: check that the "
            "outcomes' accounts are the snapshots' keys and that their dates follow the snapshots'"
        )
    elif churned == 0 or churned == scored.height:
        result.warnings.append("every observation has the same outcome: no AUC can be computed")
    if result.unscored:
        result.warnings.append(
            f"{result.unscored} labelled observation(s) have no score and are left out"
        )
    if score_auc.low is not None and score_auc.low <= 0.5 <= (score_auc.high or 0):
        result.warnings.append(
            "the score's AUC interval includes 0.5: on this history the score does not tell "
            "churners apart better than chance"
        )
    return result
