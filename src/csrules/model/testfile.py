"""Test files under ``tests/`` (spec section 4): example tests, step tests, invariants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator, model_validator

from csrules.model.base import RuleId, StrictModel
from csrules.model.rules import Invariant


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must be a date-time with a timezone, e.g. 2026-03-01T09:00:00Z")
    return value


class ScoreRange(StrictModel):
    """``score = { min = 50.0, max = 75.0 }``: an inclusive range for the health score."""

    min: float = 0.0
    max: float = 100.0

    @model_validator(mode="after")
    def _ordered(self) -> ScoreRange:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Expectation(StrictModel):
    """``[test.expect.<account>]``: only the keys given are checked."""

    tier: str | None = None
    band: str | None = None
    score: ScoreRange | None = None
    segments: list[str] | None = None
    barrier: str | None = None
    playbooks: list[str] | None = None


class ExpectedAction(StrictModel):
    """One action a step must emit: ``{ account, playbook, step, connector }``."""

    account: str
    playbook: str
    step: int = Field(default=0, ge=0)
    connector: str
    owner: str | None = Field(
        default=None, description="When given, the case owner the action must carry (round-robin)."
    )


class TestStep(StrictModel):
    """``[[test.step]]``: one evaluation at ``at``, against the state of earlier steps."""

    at: datetime
    accounts: list[dict[str, Any]] | None = None
    ack: list[str] = Field(default_factory=list)
    actions: list[ExpectedAction] | None = None
    expect: dict[str, Expectation] = Field(default_factory=dict)

    _aware_at = field_validator("at")(_aware)

    @field_validator("ack")
    @classmethod
    def _ack_form(cls, value: list[str]) -> list[str]:
        for item in value:
            if item.count(":") != 1 or not all(item.split(":")):
                raise ValueError(f"'{item}' must be written '<playbook>:<account>'")
        return value


class TestCase(StrictModel):
    """``[[test]]``: accounts at a moment, and what must come out for them."""

    name: str = Field(min_length=1)
    description: str | None = None
    as_of: datetime | None = None
    portfolio: dict[RuleId, float] | None = None
    accounts: list[dict[str, Any]] = Field(default_factory=list)
    expect: dict[str, Expectation] = Field(default_factory=dict)
    step: list[TestStep] = Field(default_factory=list)

    @field_validator("as_of")
    @classmethod
    def _aware_as_of(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _aware(value)

    @model_validator(mode="after")
    def _has_a_time(self) -> TestCase:
        if not self.step and self.as_of is None:
            raise ValueError("a test needs as_of (or [[test.step]] tables, each with at)")
        if self.step and self.expect:
            raise ValueError("put expect inside each [[test.step]] when the test has steps")
        return self


class TestFile(StrictModel):
    """One file under ``tests/``."""

    test: list[TestCase] = Field(default_factory=list)
    invariant: list[Invariant] = Field(default_factory=list)
