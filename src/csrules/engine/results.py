"""The results of evaluating a playbook over a batch: one :class:`AccountResult` each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import polars as pl

from csrules.engine.values import Value


@dataclass(frozen=True)
class RuleError:
    """An evaluation error of one rule for one account (``rule`` is ``kind:id``)."""

    rule: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


@dataclass(frozen=True)
class Driver:
    """A measure that lost points: ``lost`` of 100, with its rendered explanation."""

    measure: str
    lost: float
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"measure": self.measure, "lost": self.lost, "text": self.text}


@dataclass(frozen=True)
class MeasureResult:
    """One measure for one account; ``value`` is NO_DATA or an EvalError when it has none."""

    id: str
    label: str
    value: Value
    normalized: float | None
    weight: float
    lost: float | None


@dataclass
class AccountResult:
    """Everything stages 0-5 concluded about one account."""

    key: str
    score: float | None = None
    band: str = "unknown"
    measures: list[MeasureResult] = field(default_factory=list)
    drivers: list[Driver] = field(default_factory=list)
    previous: float | None = None
    delta: float | None = None
    segments: list[str] = field(default_factory=list)
    segment_values: dict[str, Value] = field(default_factory=dict)
    tier: str | None = None
    tier_values: dict[str, Value] = field(default_factory=dict)  # ranks tried, in order
    adkar_scores: dict[str, int] = field(default_factory=dict)
    adkar_barrier: str = ""
    adkar_unknown: list[str] = field(default_factory=list)
    playbook_values: dict[str, Value] = field(default_factory=dict)
    errors: list[RuleError] = field(default_factory=list)

    @property
    def playbooks(self) -> list[str]:
        """Playbooks whose condition holds, in declaration order."""
        return [pid for pid, value in self.playbook_values.items() if value is True]

    def to_json(self) -> dict[str, Any]:
        """The ``evaluate --format json`` line (spec section 5)."""
        return {
            "account": self.key,
            "score": self.score,
            "band": self.band,
            "drivers": [d.to_json() for d in self.drivers],
            "segments": list(self.segments),
            "tier": self.tier,
            "adkar": {
                "scores": dict(self.adkar_scores),
                "barrier": self.adkar_barrier,
                "unknown": list(self.adkar_unknown),
            },
            "playbooks": self.playbooks,
            "errors": [e.to_json() for e in self.errors],
        }


class ResultSource(Protocol):
    """Where a columnar :class:`Evaluation` builds its per-account objects from, on demand."""

    def accounts(self) -> list[AccountResult]: ...

    def activations(self) -> list[dict[str, Any]]: ...

    def error_count(self) -> int: ...

    def frame(self) -> pl.DataFrame: ...


@runtime_checkable
class MeasureSource(Protocol):
    """A result source that also holds each measure's normalized value as a column."""

    def measures_frame(self) -> pl.DataFrame: ...


class Evaluation:
    """The whole batch evaluated at ``now``.

    The reference backend fills ``accounts`` (and ``activations``) directly. The
    columnar backend keeps its results as columns and builds the per-account
    :class:`AccountResult` objects and CEL activations only when they are first asked
    for, so a run that only writes the results table (:meth:`frame`) never pays for a
    million Python objects.
    """

    def __init__(
        self,
        now: datetime,
        portfolio: dict[str, float | None],
        accounts: list[AccountResult] | None = None,
        activations: list[dict[str, Any]] | None = None,
        *,
        source: ResultSource | None = None,
        backend: str = "reference",
    ) -> None:
        self.now = now
        self.portfolio = portfolio
        self.backend = backend
        self._accounts = accounts
        self._activations = activations
        self._source = source
        self._frame: pl.DataFrame | None = None

    def __repr__(self) -> str:
        return (
            f"Evaluation(now={self.now!r}, backend={self.backend!r}, portfolio={self.portfolio!r})"
        )

    @property
    def source(self) -> ResultSource | None:
        """Where the per-account objects come from (the columnar backend's results)."""
        return self._source

    @property
    def accounts(self) -> list[AccountResult]:
        if self._accounts is None:
            self._accounts = self._source.accounts() if self._source is not None else []
        return self._accounts

    @accounts.setter
    def accounts(self, value: list[AccountResult]) -> None:
        self._accounts = value
        self._frame = None

    @property
    def activations(self) -> list[dict[str, Any]]:
        """What each account's expressions read after the last stage (``explain``)."""
        if self._activations is None:
            self._activations = self._source.activations() if self._source is not None else []
        return self._activations

    @activations.setter
    def activations(self, value: list[dict[str, Any]]) -> None:
        self._activations = value

    def by_key(self) -> dict[str, AccountResult]:
        return {a.key: a for a in self.accounts}

    @property
    def error_count(self) -> int:
        if self._accounts is None and self._source is not None:
            return self._source.error_count()
        return sum(len(a.errors) for a in self.accounts)

    def frame(self) -> pl.DataFrame:
        """The results as one table, one row per account (the ``--output`` columns).

        account, score, band, tier, segments, barrier, adkar_unknown, playbooks,
        drivers (texts, largest loss first) and errors (``rule: message``).
        """
        if self._frame is None:
            if self._accounts is None and self._source is not None:
                self._frame = self._source.frame()
            else:
                self._frame = results_frame(self.accounts)
        return self._frame

    def measures_frame(self, measure_ids: list[str]) -> pl.DataFrame:
        """``account`` and one Float64 column per measure id: the measure's normalized
        value in [0, 1], null where it has no data or failed (``backtest`` weighs what
        each measure says about outcomes)."""
        source = self._source
        if self._accounts is None and isinstance(source, MeasureSource):
            return source.measures_frame()
        values: dict[str, list[float | None]] = {m: [] for m in measure_ids}
        for result in self.accounts:
            normalized = {m.id: m.normalized for m in result.measures}
            for m in measure_ids:
                values[m].append(normalized.get(m))
        return pl.DataFrame(
            {
                "account": pl.Series([r.key for r in self.accounts], dtype=pl.String),
                **{m: pl.Series(v, dtype=pl.Float64) for m, v in values.items()},
            }
        )


def results_frame(results: list[AccountResult]) -> pl.DataFrame:
    """The results table of :meth:`Evaluation.frame` built from per-account objects."""
    return pl.DataFrame(
        {
            "account": pl.Series([r.key for r in results], dtype=pl.String),
            "score": pl.Series([r.score for r in results], dtype=pl.Float64),
            "band": pl.Series([r.band for r in results], dtype=pl.String),
            "tier": pl.Series([r.tier for r in results], dtype=pl.String),
            "segments": pl.Series([r.segments for r in results], dtype=pl.List(pl.String)),
            "barrier": pl.Series([r.adkar_barrier for r in results], dtype=pl.String),
            "adkar_unknown": pl.Series(
                [r.adkar_unknown for r in results], dtype=pl.List(pl.String)
            ),
            "playbooks": pl.Series([r.playbooks for r in results], dtype=pl.List(pl.String)),
            "drivers": pl.Series(
                [[d.text for d in r.drivers] for r in results], dtype=pl.List(pl.String)
            ),
            "errors": pl.Series(
                [[f"{e.rule}: {e.message}" for e in r.errors] for r in results],
                dtype=pl.List(pl.String),
            ),
        }
    )
