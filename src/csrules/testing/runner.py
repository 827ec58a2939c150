"""``csrules test``: run the ``[[test]]`` tables of ``tests/`` against the engine.

A test pins accounts (and optionally aggregates) at a moment and states what must
come out for each named account. Only the keys written are checked, so a test says
exactly what it is about. Failures name the line of the expectation that failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.evaluate import evaluate
from csrules.engine.results import AccountResult
from csrules.errors import Location
from csrules.load.playbook import Located
from csrules.model.testfile import Expectation, TestCase
from csrules.snapshot.batch import AccountBatch

Status = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class Mismatch:
    """One expectation that did not hold."""

    account: str
    field: str
    expected: Any
    actual: Any
    location: Location
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "field": self.field,
            "expected": self.expected,
            "actual": self.actual,
            "file": str(self.location.path),
            "line": self.location.line,
            "column": self.location.column,
            "message": self.message,
        }


@dataclass
class TestOutcome:
    """The verdict of one ``[[test]]``."""

    name: str
    location: Location
    status: Status
    mismatches: list[Mismatch] = field(default_factory=list)
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": str(self.location.path),
            "line": self.location.line,
            "status": self.status,
            "reason": self.reason,
            "failures": [m.to_json() for m in self.mismatches],
        }


def _fmt(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(repr(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.2f}"
    return repr(value)


def check_expectation(
    test: Located[TestCase],
    base: tuple[str | int, ...],
    account: str,
    expect: Expectation,
    actual: AccountResult | None,
) -> list[Mismatch]:
    """Compare one ``[test.expect.<account>]`` table with the evaluation."""

    def miss(key: str, expected: Any, got: Any, text: str | None = None) -> Mismatch:
        where = test.location(*base, key)
        message = text or f"expected {_fmt(expected)}, got {_fmt(got)}"
        return Mismatch(account, key, expected, got, where, message)

    if actual is None:
        return [miss("", account, None, f"account '{account}' is not among the test's accounts")]
    found: list[Mismatch] = []
    for error in actual.errors:
        found.append(
            miss("", None, error.rule, f"evaluation error in {error.rule}: {error.message}")
        )
    if expect.tier is not None and actual.tier != expect.tier:
        found.append(miss("tier", expect.tier, actual.tier))
    if expect.band is not None and actual.band != expect.band:
        extra = f" (score {actual.score:.2f})" if actual.score is not None else ""
        found.append(
            miss(
                "band",
                expect.band,
                actual.band,
                f"expected {expect.band!r}, got {actual.band!r}{extra}",
            )
        )
    if expect.score is not None:
        score = actual.score
        if score is None or not expect.score.min <= score <= expect.score.max:
            shown = "no score" if score is None else f"{score:.2f}"
            found.append(
                miss(
                    "score",
                    [expect.score.min, expect.score.max],
                    score,
                    f"expected a score within [{expect.score.min}, {expect.score.max}], got {shown}",
                )
            )
    if expect.segments is not None and set(actual.segments) != set(expect.segments):
        missing = sorted(set(expect.segments) - set(actual.segments))
        extra_segments = sorted(set(actual.segments) - set(expect.segments))
        detail = "; ".join(
            part
            for part in (
                f"missing {_fmt(missing)}" if missing else "",
                f"unexpected {_fmt(extra_segments)}" if extra_segments else "",
            )
            if part
        )
        found.append(
            miss(
                "segments",
                sorted(expect.segments),
                sorted(actual.segments),
                f"{detail}; got {_fmt(sorted(actual.segments))}",
            )
        )
    if expect.barrier is not None and actual.adkar_barrier != expect.barrier:
        found.append(miss("barrier", expect.barrier, actual.adkar_barrier))
    if expect.playbooks is not None and set(actual.playbooks) != set(expect.playbooks):
        found.append(miss("playbooks", sorted(expect.playbooks), sorted(actual.playbooks)))
    return found


def run_test(compiled: CompiledPlaybook, test: Located[TestCase]) -> TestOutcome:
    case = test.item
    where = test.location("name")
    if case.step:
        return TestOutcome(
            case.name,
            where,
            "skipped",
            reason="[[test.step]] tests need the case engine (plan/apply), not in this version",
        )
    assert case.as_of is not None
    batch = AccountBatch.from_records(case.accounts, compiled.spec, source=str(test.doc.display))
    problems = [
        Mismatch(
            r.key or "?",
            "accounts",
            None,
            None,
            test.location("accounts", r.line - 1),
            f"invalid test account: {r.message}",
        )
        for r in (*batch.rejected, *batch.duplicates)
    ]
    evaluation = evaluate(compiled, batch, case.as_of, portfolio=case.portfolio)
    results = evaluation.by_key()
    for account, expect in case.expect.items():
        problems.extend(
            check_expectation(test, ("expect", account), account, expect, results.get(account))
        )
    return TestOutcome(case.name, where, "failed" if problems else "passed", problems)


def run_tests(compiled: CompiledPlaybook, tests: Sequence[Located[TestCase]]) -> list[TestOutcome]:
    return [run_test(compiled, test) for test in tests]
