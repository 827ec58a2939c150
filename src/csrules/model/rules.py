"""Every rule kind of a rule file (spec section 2), one model per TOML table."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from csrules.model.base import Expr, RuleId, StrictModel, Template
from csrules.model.durations import Duration

ADKAR_ELEMENTS = ("awareness", "desire", "knowledge", "ability", "reinforcement")
AdkarElement = Literal["awareness", "desire", "knowledge", "ability", "reinforcement"]
Severity = Literal["low", "medium", "high", "critical"]
Coverage = Literal["dedicated", "pooled", "digital"]
DEFAULT_OWNER_FIELD = "csm"
"""The field a dedicated tier takes its cases' owner from when ``owner_field`` is not set."""
AggregateFn = Literal["percentile", "mean", "median", "sum", "count", "min", "max"]


class Aggregate(StrictModel):
    """``[[aggregate]]`` (stage 0): one portfolio-wide number, read as ``portfolio.<id>``."""

    id: RuleId
    fn: AggregateFn
    of: Expr | None = Field(default=None, description="Per-account value (not needed for count).")
    q: float | None = Field(default=None, ge=0.0, le=1.0, description="Percentile rank 0..1.")
    where: Expr | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _fn_arguments(self) -> Aggregate:
        if self.fn == "percentile" and self.q is None:
            raise ValueError("fn = 'percentile' needs q, the rank between 0 and 1 (e.g. q = 0.8)")
        if self.fn != "percentile" and self.q is not None:
            raise ValueError(f"q applies only to fn = 'percentile', not '{self.fn}'; remove it")
        if self.fn != "count" and self.of is None:
            raise ValueError(f"fn = '{self.fn}' needs of, the per-account value to aggregate")
        return self


class Measure(StrictModel):
    """``[[health.measure]]``: one weighted behaviour, normalized between worst and best."""

    id: RuleId
    label: str = Field(min_length=1)
    value: Expr
    worst: float
    best: float
    weight: float = Field(gt=0.0)
    explain: Template | None = None
    description: str | None = None


class Health(StrictModel):
    """``[health]``: bands (lower bounds, inclusive) and the weighted measures."""

    bands: dict[RuleId, float] = Field(min_length=1)
    measure: list[Measure] = Field(min_length=1)
    description: str | None = None


class Segment(StrictModel):
    """``[[segment]]`` (stage 2): a dynamic group of accounts."""

    id: RuleId
    description: str | None = None
    when: Expr


class Tier(StrictModel):
    """``[[tier]]`` (stage 3): coverage tiers tried by rank; the first match wins."""

    id: RuleId
    rank: int
    when: Expr
    coverage: Coverage
    accounts_per_csm: int | None = Field(default=None, gt=0)
    pool: list[str] | None = None
    owner_field: str = Field(
        default=DEFAULT_OWNER_FIELD,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="coverage = 'dedicated': the [snapshot.fields] field (a string, optional "
        "or not) that names the owner of these accounts' cases.",
    )
    escalation: RuleId | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _pool_matches_coverage(self) -> Tier:
        if self.coverage == "pooled" and not self.pool:
            raise ValueError(
                "coverage = 'pooled' needs pool, the CSMs who share these accounts "
                '(e.g. pool = ["ana@example.com", "bo@example.com"])'
            )
        if self.coverage != "pooled" and self.pool:
            raise ValueError(f"pool applies only to coverage = 'pooled', not '{self.coverage}'")
        if self.coverage != "dedicated" and "owner_field" in self.model_fields_set:
            raise ValueError(
                f"owner_field applies only to coverage = 'dedicated', not '{self.coverage}' "
                "(pooled cases go round-robin through pool, digital ones have no owner)"
            )
        return self


class Adkar(StrictModel):
    """``[adkar]`` (stage 4): the five element scores and the barrier threshold."""

    threshold: int = Field(default=3, ge=1, le=5)
    awareness: Expr
    desire: Expr
    knowledge: Expr
    ability: Expr
    reinforcement: Expr
    description: str | None = None

    def elements(self) -> list[tuple[str, str]]:
        """The elements in ADKAR order, with their expressions."""
        return [(name, getattr(self, name)) for name in ADKAR_ELEMENTS]


class Action(BaseModel):
    """``[[playbook.action]]``: a connector instance and that connector's parameters.

    The parameters are checked by the connector plugin's own params model at
    validate time, so this model accepts any further keys.
    """

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    connector: RuleId

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class EscalationStep(Action):
    """``[[escalation.step]]``: fires once, ``after`` the case opened unacknowledged."""

    after: Duration


class Playbook(StrictModel):
    """``[[playbook]]`` (stage 5): a condition that opens cases and emits actions."""

    id: RuleId
    description: str | None = None
    when: Expr
    for_: Duration = Field(default=timedelta(0), alias="for")
    resolve_after: Duration = timedelta(0)
    cooldown: Duration = timedelta(0)
    severity: Severity = "medium"
    adkar: AdkarElement | None = None
    escalation: RuleId | None = None
    action: list[Action] = Field(default_factory=list)


class Escalation(StrictModel):
    """``[[escalation]]``: a ladder of steps with strictly increasing ``after``."""

    id: RuleId
    description: str | None = None
    step: list[EscalationStep] = Field(min_length=1)


class Silence(StrictModel):
    """``[[silence]]``: holds delivery for matching cases until ``until``."""

    id: RuleId
    playbooks: list[str] = Field(min_length=1)
    when: Expr = "true"
    until: datetime
    reason: str = Field(min_length=1)
    owner: str = Field(min_length=1)

    @field_validator("until")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must be a date-time with a timezone, e.g. 2026-04-30T00:00:00Z")
        return value


class Invariant(StrictModel):
    """``[[invariant]]``: a property every account must satisfy (checked by ``check``)."""

    id: RuleId
    expect: Expr
    description: str | None = None


class RuleFile(StrictModel):
    """One rule file: any mix of rule kinds."""

    aggregate: list[Aggregate] = Field(default_factory=list)
    health: Health | None = None
    segment: list[Segment] = Field(default_factory=list)
    tier: list[Tier] = Field(default_factory=list)
    adkar: Adkar | None = None
    playbook: list[Playbook] = Field(default_factory=list)
    escalation: list[Escalation] = Field(default_factory=list)
    silence: list[Silence] = Field(default_factory=list)
    invariant: list[Invariant] = Field(default_factory=list)
