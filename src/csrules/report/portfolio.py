"""The portfolio figures of one evaluation: tiers, bands, segments, capacity, barriers.

Every figure is a Polars group-by over one table: the results table of the evaluation
(:meth:`Evaluation.frame`) beside the role values of the snapshot (``values.py``).
Nothing here loops over accounts in Python, so a million accounts take the time of a
few group-bys. Every list comes back in the order the playbook declares (tiers by
rank, bands from the lowest, ADKAR elements in their order), with the ids that no
account has included at zero: a report that leaves out an empty row hides the news.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from csrules.engine.compiled import CompiledPlaybook
from csrules.report.values import owner_column

ADKAR_ORDER = ("awareness", "desire", "knowledge", "ability", "reinforcement")
NO_BARRIER = "none"
NO_TIER = "(no tier)"
UNKNOWN_BAND = "unknown"
SCORE_BINS = 10  # the score histogram: [0, 10), [10, 20), ... [90, 100]


@dataclass(frozen=True)
class Count:
    """Accounts and their ARR (None when no ARR field is set)."""

    accounts: int
    arr: float | None

    def to_json(self) -> dict[str, Any]:
        return {"accounts": self.accounts, "arr": self.arr}


@dataclass(frozen=True)
class TierCapacity:
    """One tier's accounts against its coverage model.

    ``needed`` is ``ceil(accounts / accounts_per_csm)``; ``present`` the CSMs the data
    shows: the distinct owners of a dedicated tier's accounts, the pool of a pooled
    tier, none for a digital one. ``unowned`` counts a dedicated tier's accounts whose
    owner field is missing or blank (their cases have no owner), ``busiest`` the most
    accounts one owner has there, ``over`` how many owners have more than
    ``accounts_per_csm``.
    """

    tier: str
    coverage: str
    accounts: int
    arr: float | None
    accounts_per_csm: int | None
    needed: int | None
    present: int | None
    unowned: int | None
    owner_field: str | None
    busiest: int | None
    over: int | None

    @property
    def gap(self) -> int | None:
        """CSMs missing against the model (negative: more than needed)."""
        if self.needed is None or self.present is None:
            return None
        return self.needed - self.present

    def to_json(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "coverage": self.coverage,
            "accounts": self.accounts,
            "arr": self.arr,
            "accounts_per_csm": self.accounts_per_csm,
            "csms_needed": self.needed,
            "csms_present": self.present,
            "csms_gap": self.gap,
            "owner_field": self.owner_field,
            "unowned_accounts": self.unowned,
            "busiest_csm_accounts": self.busiest,
            "csms_over_capacity": self.over,
        }


@dataclass(frozen=True)
class Histogram:
    """Scores in ``SCORE_BINS`` bins of equal width (100 falls in the last), plus the
    accounts without a score, the mean and the median."""

    bins: list[int]
    unknown: int
    mean: float | None
    median: float | None

    def to_json(self) -> dict[str, Any]:
        width = 100 // SCORE_BINS
        return {
            "bins": [
                {"from": i * width, "to": (i + 1) * width, "accounts": n}
                for i, n in enumerate(self.bins)
            ],
            "unknown": self.unknown,
            "mean": self.mean,
            "median": self.median,
        }


@dataclass
class Portfolio:
    """What one evaluation says about the whole book."""

    accounts: int
    arr: float | None
    tiers: list[str]
    bands: list[str]
    by_tier: dict[str, Count]
    by_band: dict[str, Count]
    matrix: dict[tuple[str, str], Count]  # (tier, band)
    segments: dict[str, Count]
    capacity: list[TierCapacity]
    barriers: dict[str, Count]
    barriers_by_tier: dict[tuple[str, str], int]  # (tier, barrier) -> accounts
    scores: Histogram
    renewals: dict[str, Count] | None  # band -> renewing within the window
    renewal_window_days: float
    errors: int  # accounts with at least one evaluation error

    @property
    def barrier_ids(self) -> list[str]:
        return [*ADKAR_ORDER, NO_BARRIER]

    def to_json(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "arr": self.arr,
            "accounts_with_errors": self.errors,
            "tiers": [
                {"tier": t, **self.by_tier[t].to_json(), "bands": self._bands_of(t)}
                for t in self.tiers
            ],
            "bands": [{"band": b, **self.by_band[b].to_json()} for b in self.bands],
            "segments": [{"segment": s, **c.to_json()} for s, c in self.segments.items()],
            "capacity": [c.to_json() for c in self.capacity],
            "barriers": [{"barrier": b, **self.barriers[b].to_json()} for b in self.barrier_ids],
            "barriers_by_tier": [
                {
                    "tier": t,
                    **{b: self.barriers_by_tier.get((t, b), 0) for b in self.barrier_ids},
                }
                for t in self.tiers
            ],
            "scores": self.scores.to_json(),
            "renewals": None
            if self.renewals is None
            else {
                "window_days": self.renewal_window_days,
                "bands": [{"band": b, **c.to_json()} for b, c in self.renewals.items()],
            },
        }

    def _bands_of(self, tier: str) -> list[dict[str, Any]]:
        return [
            {"band": b, **self.matrix.get((tier, b), Count(0, self._zero)).to_json()}
            for b in self.bands
        ]

    @property
    def _zero(self) -> float | None:
        return None if self.arr is None else 0.0


def _counts(frame: pl.DataFrame, by: list[str], money: bool) -> dict[tuple[Any, ...], Count]:
    grouped = frame.group_by(by).agg(pl.len().alias("n"), pl.col("arr").sum().alias("arr"))
    found: dict[tuple[Any, ...], Count] = {}
    for row in grouped.iter_rows():
        *keys, n, arr = row
        found[tuple(keys)] = Count(int(n), float(arr) if money else None)
    return found


def band_order(compiled: CompiledPlaybook) -> list[str]:
    """Bands from the lowest lower bound up, then ``unknown`` (no score)."""
    return [name for name, _ in reversed(compiled.bands)] + [UNKNOWN_BAND]


def joined(results: pl.DataFrame, values: pl.DataFrame) -> pl.DataFrame:
    """The results table beside the role values, one row per evaluated account.

    Both come from the same batch, in the same order, so they are put side by side
    without a join when the keys agree (the usual case); otherwise joined on the key.
    """
    results = results.with_columns(pl.col("account").cast(pl.String))
    if results.get_column("account").equals(values.get_column("account")):
        both = pl.concat([results, values.drop("account")], how="horizontal")
    else:
        both = results.join(values, on="account", how="left", maintain_order="left")
    return both.with_columns(
        pl.col("tier").fill_null(NO_TIER),
        pl.col("barrier").replace("", NO_BARRIER).fill_null(NO_BARRIER),
    )


def portfolio_figures(compiled: CompiledPlaybook, table: pl.DataFrame, now: datetime) -> Portfolio:
    """Every portfolio figure of ``table`` (see :func:`joined`) as of ``now``."""
    report = compiled.project.report
    money = report.arr_field is not None
    arr_total = float(table.get_column("arr").sum()) if money else None
    zero = 0.0 if money else None
    tiers = [t.rule.id for t in compiled.tiers]
    if (table.get_column("tier") == NO_TIER).any():
        tiers.append(NO_TIER)
    bands = band_order(compiled)

    by_tier = {k[0]: c for k, c in _counts(table, ["tier"], money).items()}
    by_band = {k[0]: c for k, c in _counts(table, ["band"], money).items()}
    matrix = {(k[0], k[1]): c for k, c in _counts(table, ["tier", "band"], money).items()}

    segment_ids = [s.id for s in compiled.segments]
    exploded = table.select("segments", "arr").explode("segments").drop_nulls("segments")
    seg = {k[0]: c for k, c in _counts(exploded, ["segments"], money).items()}

    barriers = {k[0]: c for k, c in _counts(table, ["barrier"], money).items()}
    by_tier_barrier = {
        (k[0], k[1]): c.accounts for k, c in _counts(table, ["tier", "barrier"], money).items()
    }
    renewals: dict[str, Count] | None = None
    window = report.renewal_window
    if report.renewal_field is not None:
        due = table.filter(
            (pl.col("renewal") >= pl.lit(now)) & (pl.col("renewal") <= pl.lit(now + window))
        )
        counted = {k[0]: c for k, c in _counts(due, ["band"], money).items()}
        renewals = {b: counted.get(b, Count(0, zero)) for b in bands}

    errors = int(table.select((pl.col("errors").list.len() > 0).sum()).item() or 0)
    return Portfolio(
        accounts=table.height,
        arr=arr_total,
        tiers=tiers,
        bands=bands,
        by_tier={t: by_tier.get(t, Count(0, zero)) for t in tiers},
        by_band={b: by_band.get(b, Count(0, zero)) for b in bands},
        matrix=matrix,
        segments={s: seg.get(s, Count(0, zero)) for s in segment_ids},
        capacity=_capacity(compiled, table, money),
        barriers={b: barriers.get(b, Count(0, zero)) for b in [*ADKAR_ORDER, NO_BARRIER]},
        barriers_by_tier=by_tier_barrier,
        scores=_histogram(table),
        renewals=renewals,
        renewal_window_days=window.total_seconds() / 86400,
        errors=errors,
    )


def _histogram(table: pl.DataFrame) -> Histogram:
    scores = table.get_column("score")
    scored = scores.drop_nulls()
    width = 100 / SCORE_BINS
    index = (scored / width).floor().clip(0, SCORE_BINS - 1).cast(pl.Int64)
    counted = dict(index.value_counts().iter_rows())
    return Histogram(
        bins=[int(counted.get(i, 0)) for i in range(SCORE_BINS)],
        unknown=scores.null_count(),
        mean=None if scored.is_empty() else float(scored.mean()),  # type: ignore[arg-type]
        median=None if scored.is_empty() else float(scored.median()),  # type: ignore[arg-type]
    )


def _capacity(compiled: CompiledPlaybook, table: pl.DataFrame, money: bool) -> list[TierCapacity]:
    rows: list[TierCapacity] = []
    for compiled_tier in compiled.tiers:
        tier = compiled_tier.rule
        mine = table.filter(pl.col("tier") == tier.id)
        accounts = mine.height
        per = tier.accounts_per_csm
        needed = math.ceil(accounts / per) if per else None
        present: int | None = None
        unowned: int | None = None
        busiest: int | None = None
        over: int | None = None
        field: str | None = None
        if tier.coverage == "dedicated":
            field = tier.owner_field
            owner = pl.col(owner_column(field)).str.strip_chars()
            owned = mine.select(owner.alias("owner")).filter(
                pl.col("owner").is_not_null() & (pl.col("owner") != "")
            )
            unowned = accounts - owned.height
            loads = owned.group_by("owner").len()
            present = loads.height
            busiest = int(loads.get_column("len").max() or 0) if present else 0  # type: ignore[arg-type]
            over = int((loads.get_column("len") > per).sum()) if per else None
        elif tier.coverage == "pooled":
            present = len(tier.pool or [])
        rows.append(
            TierCapacity(
                tier=tier.id,
                coverage=tier.coverage,
                accounts=accounts,
                arr=float(mine.get_column("arr").sum()) if money else None,
                accounts_per_csm=per,
                needed=needed,
                present=present,
                unowned=unowned,
                owner_field=field,
                busiest=busiest,
                over=over,
            )
        )
    return rows
