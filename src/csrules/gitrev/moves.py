"""Which accounts a rule change moves: two results tables compared column by column.

``diff`` evaluates the base and the head revision on the same snapshot and as-of;
this module compares the two results tables (:meth:`Evaluation.frame`) with Polars
operations only, so a million accounts never become Python objects: one join on the
account key, then group-bys for the transition matrices and list set-differences for
segments and playbooks. Only the top N accounts of each kind of change are turned
into rows for the report.

Rules renamed without any other change (see ``rules.py``) are followed: a segment
renamed from ``at_risk`` to ``red_health`` moves nobody.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

RESULT_COLUMNS = ("account", "score", "band", "tier", "segments", "barrier", "playbooks", "errors")
"""The columns of the results table this comparison reads."""

QUANTILES = (0.05, 0.5, 0.95)


@dataclass(frozen=True)
class Renames:
    """Old id -> new id of the segments, tiers and playbooks renamed between revisions."""

    segments: Mapping[str, str] = field(default_factory=dict)
    tiers: Mapping[str, str] = field(default_factory=dict)
    playbooks: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    """One cell of a change-impact matrix: accounts going ``source`` -> ``target``."""

    source: str | None
    target: str | None
    accounts: int
    arr: float | None

    def to_json(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "accounts": self.accounts, "arr": self.arr}


@dataclass(frozen=True)
class ListChange:
    """A segment entered/left or a playbook started/stopped firing, with its counts."""

    id: str
    gained: int
    lost: int
    arr_gained: float | None
    arr_lost: float | None


@dataclass(frozen=True)
class ScoreShift:
    """The distribution of the score's change over the accounts whose score changed."""

    compared: int  # accounts with a score under both revisions
    changed: int
    mean: float | None
    p5: float | None
    p50: float | None
    p95: float | None
    gained_score: int  # no score under base, a score under head
    lost_score: int

    def to_json(self) -> dict[str, Any]:
        return {
            "compared": self.compared,
            "changed": self.changed,
            "mean": self.mean,
            "p5": self.p5,
            "p50": self.p50,
            "p95": self.p95,
            "gained_score": self.gained_score,
            "lost_score": self.lost_score,
        }


@dataclass
class AccountMoves:
    """Everything that changed for the accounts both revisions evaluated.

    ``top`` holds, per kind of change (``tier``, ``band``, ``segments``,
    ``playbooks``, ``barrier``, ``score``), the first N accounts as small frames:
    the largest ARR first (by key without an ARR field), the largest score change
    first for ``score``. ``changed`` counts all accounts of each kind.
    """

    compared: int
    only_base: int
    only_head: int
    affected: int
    tiers: list[Transition]
    bands: list[Transition]
    barriers: list[Transition]
    segments: list[ListChange]
    playbooks: list[ListChange]
    scores: ScoreShift
    errors: tuple[int, int]  # accounts with evaluation errors under base, under head
    changed: dict[str, int]
    top: dict[str, pl.DataFrame]
    arr_moved: float | None  # ARR of the accounts whose tier changed
    tier_counts: tuple[dict[str | None, int], dict[str | None, int]]

    def to_json(self) -> dict[str, Any]:
        return {
            "compared": self.compared,
            "only_base": self.only_base,
            "only_head": self.only_head,
            "affected": self.affected,
            "changed": dict(self.changed),
            "arr_moved": self.arr_moved,
            "tiers": [t.to_json() for t in self.tiers],
            "bands": [t.to_json() for t in self.bands],
            "barriers": [t.to_json() for t in self.barriers],
            "segments": [_list_json(c, "entered", "left") for c in self.segments],
            "playbooks": [_list_json(c, "started", "stopped") for c in self.playbooks],
            "scores": self.scores.to_json(),
            "errors": {"base": self.errors[0], "head": self.errors[1]},
            "top": {kind: frame.to_dicts() for kind, frame in self.top.items()},
        }


def _list_json(change: ListChange, gained: str, lost: str) -> dict[str, Any]:
    return {
        "id": change.id,
        gained: change.gained,
        lost: change.lost,
        f"arr_{gained}": change.arr_gained,
        f"arr_{lost}": change.arr_lost,
    }


def _side(frame: pl.DataFrame, suffix: str) -> pl.LazyFrame:
    return frame.lazy().select(
        pl.col("account"),
        *(pl.col(c).alias(f"{c}{suffix}") for c in RESULT_COLUMNS[1:-1]),
        pl.col("errors").list.len().alias(f"errors{suffix}"),
        pl.lit(True).alias(f"in{suffix}"),
    )


def _renamed(column: str, mapping: Mapping[str, str], *, is_list: bool) -> pl.Expr:
    if not mapping:
        return pl.col(column)
    lookup = dict(mapping)
    if is_list:
        return pl.col(column).list.eval(pl.element().replace(lookup))
    return pl.col(column).replace(lookup)


def _matrix(both: pl.DataFrame, column: str, money: bool) -> list[Transition]:
    grouped = (
        both.group_by(f"{column}_b", f"{column}_h")
        .agg(
            pl.len().alias("n"),
            (pl.col("arr").sum() if money else pl.lit(None, pl.Float64)).alias("arr"),
        )
        .sort(f"{column}_b", f"{column}_h", nulls_last=True)
    )
    return [
        Transition(src, dst, int(n), float(arr) if money and arr is not None else None)
        for src, dst, n, arr in grouped.iter_rows()
    ]


def _list_changes(rows: pl.DataFrame, gained: str, lost: str, money: bool) -> list[ListChange]:
    """Per id, how many of ``rows`` gained or lost it (``gained``/``lost``: list columns)."""
    counts: dict[str, list[Any]] = {}
    for which, index in ((gained, 0), (lost, 1)):
        exploded = (
            rows.select("arr", which)
            .explode(which)
            .drop_nulls(which)
            .group_by(which)
            .agg(pl.len().alias("n"), pl.col("arr").sum().alias("arr"))
        )
        for rule_id, n, arr in exploded.iter_rows():
            entry = counts.setdefault(str(rule_id), [0, 0, None, None])
            entry[index] = int(n)
            entry[index + 2] = float(arr) if money else None
    return [ListChange(k, v[0], v[1], v[2], v[3]) for k, v in sorted(counts.items())]


def _order(frame: pl.DataFrame, money: bool) -> pl.DataFrame:
    if money:
        return frame.sort(["arr", "account"], descending=[True, False], nulls_last=True)
    return frame.sort("account")


def _pair(b: pl.DataFrame, h: pl.DataFrame, extra: pl.DataFrame) -> tuple[pl.DataFrame, int, int]:
    """The rows of accounts both sides evaluated, side by side, and the counts of the
    accounts only one side has.

    Both sides usually evaluated the very same batch, so their rows are already in the
    same order: then the tables are put side by side without a join.
    """
    keys = b.get_column("account")
    if keys.equals(h.get_column("account")) and keys.equals(extra.get_column("account")):
        both = pl.concat(
            [b.drop("in_b"), h.drop("account", "in_h"), extra.drop("account")], how="horizontal"
        )
        return both, 0, 0
    joined = b.join(h, on="account", how="full", coalesce=True, maintain_order="left").join(
        extra, on="account", how="left", maintain_order="left"
    )
    in_b, in_h = pl.col("in_b").fill_null(False), pl.col("in_h").fill_null(False)
    only_base = joined.filter(in_b & ~in_h).height
    only_head = joined.filter(in_h & ~in_b).height
    return joined.filter(in_b & in_h).drop("in_b", "in_h"), only_base, only_head


def compare_accounts(
    base: pl.DataFrame,
    head: pl.DataFrame,
    values: pl.DataFrame,
    *,
    renames: Renames | None = None,
    top: int = 10,
) -> AccountMoves:
    """Compare two results tables of the same snapshot.

    ``values`` has an ``account`` column and, when the playbook names them, ``arr``
    (the ARR field) and ``name`` (the account name field); accounts missing from it
    have no ARR. Base ids renamed in ``renames`` are read as their new ids.
    """
    renames = renames or Renames()
    money = "arr" in values.columns
    named = "name" in values.columns
    b = _side(base, "_b").with_columns(
        _renamed("tier_b", renames.tiers, is_list=False),
        _renamed("segments_b", renames.segments, is_list=True),
        _renamed("playbooks_b", renames.playbooks, is_list=True),
    )
    h = _side(head, "_h")
    extra = values.lazy().select(
        pl.col("account"),
        pl.col("arr").cast(pl.Float64) if money else pl.lit(None, pl.Float64).alias("arr"),
        pl.col("name").cast(pl.String) if named else pl.lit(None, pl.String).alias("name"),
    )
    both, only_base, only_head = _pair(b.collect(), h.collect(), extra.collect())

    # Cheap tests first: a row whose values and lists are all equal did not move.
    # Lists hold ids in declaration order, so equal sets are equal lists unless rules
    # were reordered; the set differences, computed on the candidate rows only, decide.
    candidate = pl.any_horizontal(
        pl.col("tier_b").ne_missing(pl.col("tier_h")),
        pl.col("band_b").ne_missing(pl.col("band_h")),
        pl.col("barrier_b").ne_missing(pl.col("barrier_h")),
        pl.col("score_b").ne_missing(pl.col("score_h")),
        pl.col("segments_b").ne_missing(pl.col("segments_h")),
        pl.col("playbooks_b").ne_missing(pl.col("playbooks_h")),
    )
    entered = pl.col("segments_h").list.set_difference(pl.col("segments_b"))
    left = pl.col("segments_b").list.set_difference(pl.col("segments_h"))
    started = pl.col("playbooks_h").list.set_difference(pl.col("playbooks_b"))
    stopped = pl.col("playbooks_b").list.set_difference(pl.col("playbooks_h"))
    flags = (
        both.lazy()
        .filter(candidate)
        .with_columns(
            entered.alias("entered"),
            left.alias("left"),
            started.alias("started"),
            stopped.alias("stopped"),
            (pl.col("score_h") - pl.col("score_b")).alias("delta"),
        )
        .with_columns(
            pl.col("tier_b").ne_missing(pl.col("tier_h")).alias("_tier"),
            pl.col("band_b").ne_missing(pl.col("band_h")).alias("_band"),
            pl.col("barrier_b").ne_missing(pl.col("barrier_h")).alias("_barrier"),
            pl.col("score_b").ne_missing(pl.col("score_h")).alias("_score"),
            ((pl.col("entered").list.len() > 0) | (pl.col("left").list.len() > 0)).alias(
                "_segments"
            ),
            ((pl.col("started").list.len() > 0) | (pl.col("stopped").list.len() > 0)).alias(
                "_playbooks"
            ),
        )
        .collect()
    )
    segments = _list_changes(flags, "entered", "left", money)
    playbooks = _list_changes(flags, "started", "stopped", money)
    kinds = ("tier", "band", "segments", "playbooks", "barrier", "score")
    counted = flags.select(
        *(pl.col(f"_{k}").sum().alias(k) for k in kinds),
        pl.any_horizontal(*(pl.col(f"_{k}") for k in kinds)).sum().alias("affected"),
        pl.col("arr").filter(pl.col("_tier")).sum().alias("arr_moved"),
    ).row(0, named=True)
    errors = both.select(
        (pl.col("errors_b") > 0).sum().alias("errors_b"),
        (pl.col("errors_h") > 0).sum().alias("errors_h"),
    ).row(0, named=True)
    changed = {k: int(counted[k] or 0) for k in kinds}

    shifted = flags.filter(pl.col("delta").is_not_null() & (pl.col("delta") != 0.0))
    stats = shifted.select(
        pl.col("delta").mean().alias("mean"),
        *(pl.col("delta").quantile(q, interpolation="linear").alias(f"q{q}") for q in QUANTILES),
    ).row(0)
    scored = both.select(
        (pl.col("score_b").is_not_null() & pl.col("score_h").is_not_null()).sum().alias("both"),
        (pl.col("score_b").is_null() & pl.col("score_h").is_not_null()).sum().alias("gained"),
        (pl.col("score_b").is_not_null() & pl.col("score_h").is_null()).sum().alias("lost"),
    ).row(0)
    scores = ScoreShift(
        compared=int(scored[0]),
        changed=shifted.height,
        mean=stats[0],
        p5=stats[1],
        p50=stats[2],
        p95=stats[3],
        gained_score=int(scored[1]),
        lost_score=int(scored[2]),
    )

    def pick(flag: str, *columns: pl.Expr | str) -> pl.DataFrame:
        rows = flags.filter(pl.col(flag)).select("account", "name", "arr", *columns)
        return _order(rows, money).head(top)

    tops = {
        "tier": pick("_tier", pl.col("tier_b").alias("from"), pl.col("tier_h").alias("to")),
        "band": pick(
            "_band",
            pl.col("band_b").alias("from"),
            pl.col("band_h").alias("to"),
            pl.col("score_b").alias("score_from"),
            pl.col("score_h").alias("score_to"),
        ),
        "segments": pick("_segments", pl.col("entered").list.sort(), pl.col("left").list.sort()),
        "playbooks": pick(
            "_playbooks", pl.col("started").list.sort(), pl.col("stopped").list.sort()
        ),
        "barrier": pick(
            "_barrier", pl.col("barrier_b").alias("from"), pl.col("barrier_h").alias("to")
        ),
        "score": flags.filter(pl.col("_score"))
        .select(
            "account",
            "name",
            "arr",
            pl.col("score_b").alias("from"),
            pl.col("score_h").alias("to"),
            "delta",
        )
        .sort(
            [pl.col("delta").abs(), pl.col("account")],
            descending=[True, False],
            nulls_last=True,
        )
        .head(top),
    }
    tier_counts = (
        _counts(base, "tier", renames.tiers),
        _counts(head, "tier", {}),
    )
    return AccountMoves(
        compared=both.height,
        only_base=only_base,
        only_head=only_head,
        affected=int(counted["affected"] or 0),
        tiers=_matrix(both, "tier", money),
        bands=_matrix(both, "band", money),
        barriers=[t for t in _matrix(both, "barrier", money) if t.source != t.target],
        segments=segments,
        playbooks=playbooks,
        scores=scores,
        errors=(int(errors["errors_b"] or 0), int(errors["errors_h"] or 0)),
        changed=changed,
        top=tops,
        arr_moved=float(counted["arr_moved"]) if money else None,
        tier_counts=tier_counts,
    )


def _counts(frame: pl.DataFrame, column: str, renames: Mapping[str, str]) -> dict[str | None, int]:
    """Accounts per value of ``column`` (every account the revision evaluated)."""
    series = frame.get_column(column)
    if renames:
        series = series.replace(dict(renames))
    counted = series.value_counts()
    return {value: int(n) for value, n in counted.iter_rows()}
