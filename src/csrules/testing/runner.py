"""``csrules test``: run the ``[[test]]`` tables of ``tests/`` against the engine.

A test pins accounts (and optionally aggregates) at a moment and states what must
come out for each named account. Only the keys written are checked, so a test says
exactly what it is about. Failures name the line of the expectation that failed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from csrules.engine.compiled import CompiledInvariant, CompiledPlaybook
from csrules.engine.evaluate import evaluate
from csrules.engine.results import AccountResult, Evaluation
from csrules.engine.values import EvalError, NoData, Value
from csrules.errors import Location
from csrules.load.playbook import Located
from csrules.model.testfile import Expectation, TestCase
from csrules.snapshot.batch import AccountBatch

if TYPE_CHECKING:
    from csrules.testing.coverage import CoverageRecorder

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


def run_test(
    compiled: CompiledPlaybook,
    test: Located[TestCase],
    recorder: CoverageRecorder | None = None,
) -> TestOutcome:
    """Run one test; ``recorder`` (``--coverage``) sees its evaluations and plans."""
    case = test.item
    where = test.location("name")
    if case.step:
        from csrules.testing.steps import run_step_test  # steps builds on this module

        return run_step_test(compiled, test, recorder)
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
    if recorder is not None:
        recorder.saw_evaluation(evaluation, invariants=True)
    results = evaluation.by_key()
    for account, expect in case.expect.items():
        problems.extend(
            check_expectation(test, ("expect", account), account, expect, results.get(account))
        )
    problems.extend(check_invariants(compiled, test, evaluation))
    return TestOutcome(case.name, where, "failed" if problems else "passed", problems)


def invariant_verdicts(
    compiled: CompiledPlaybook, evaluation: Evaluation
) -> list[tuple[CompiledInvariant, list[Value]]]:
    """Each ``[[invariant]]`` evaluated for every account, after the last stage.

    An invariant may read what any stage produced (``tier``, ``segments``, ``health``,
    ``adkar``), so it runs on the activations ``evaluate`` leaves behind.
    """
    activations = evaluation.activations
    return [(inv, inv.expect.evaluate(activations, evaluation.now)) for inv in compiled.invariants]


def invariant_failure(value: Value) -> str | None:
    """Why an invariant's value for one account breaks it, or ``None`` when it holds.

    Only ``true`` holds. Spec 2.9: an invariant whose result is no data counts as false,
    like every ``when``; an invariant that may meet an absent field says so with
    ``has()`` (``!has(account.csm) || ...``). An evaluation error breaks it too.
    """
    if value is True:
        return None
    if isinstance(value, NoData):
        return "has no data (it reads an absent field or key; guard it with has())"
    if isinstance(value, EvalError):
        return f"raises an error: {value.message}"
    if value is False:
        return "is false"
    return f"gives {value!r}, not true"


def check_invariants(
    compiled: CompiledPlaybook, test: Located[TestCase], evaluation: Evaluation
) -> list[Mismatch]:
    """Every ``[[invariant]]`` on every account of the test.

    An account with evaluation errors is left out: it already fails the test, and its
    results (a missing tier, a missing score) would only add noise.
    """
    if not compiled.invariants:
        return []
    written = {
        inv.id: inv.location("expect")
        for inv in (compiled.loaded.invariants if compiled.loaded is not None else [])
    }
    found: list[Mismatch] = []
    for inv, values in invariant_verdicts(compiled, evaluation):
        for result, value in zip(evaluation.accounts, values, strict=True):
            why = invariant_failure(value)
            if why is None or result.errors:
                continue
            place = f" ({written[inv.id]})" if inv.id in written else ""
            found.append(
                Mismatch(
                    result.key,
                    "invariant",
                    inv.id,
                    None if isinstance(value, EvalError) else value,
                    _account_location(test, compiled.spec.key, result.key),
                    f"'{inv.id}' {why}: {inv.expect.source.strip()}{place}",
                )
            )
    return found


def _account_location(test: Located[TestCase], key_field: str, key: str) -> Location:
    """Where the test writes the account ``key`` (its entry in ``accounts``)."""
    for position, record in enumerate(test.item.accounts):
        if str(record.get(key_field)) == key:
            return test.location("accounts", position)
    return test.location("accounts")


def run_tests(
    compiled: CompiledPlaybook,
    tests: Sequence[Located[TestCase]],
    recorder: CoverageRecorder | None = None,
    done: Callable[[int], None] | None = None,
) -> list[TestOutcome]:
    """Every test in order; ``done`` is told how many have run after each (a progress bar)."""
    outcomes = []
    for test in tests:
        outcomes.append(run_test(compiled, test, recorder))
        if done is not None:
            done(len(outcomes))
    return outcomes
