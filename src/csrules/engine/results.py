"""The results of evaluating a playbook over a batch: one :class:`AccountResult` each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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


@dataclass
class Evaluation:
    """The whole batch evaluated at ``now``."""

    now: datetime
    portfolio: dict[str, float | None]
    accounts: list[AccountResult]
    activations: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def by_key(self) -> dict[str, AccountResult]:
        return {a.key: a for a in self.accounts}

    @property
    def error_count(self) -> int:
        return sum(len(a.errors) for a in self.accounts)
