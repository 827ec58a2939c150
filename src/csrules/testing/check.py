"""``csrules check``: property tests of a playbook against generated accounts.

Hypothesis generates portfolios of accounts from the snapshot schema
(:mod:`csrules.testing.strategies`), each portfolio is evaluated as a snapshot would
be (its aggregates computed from its own accounts; an aggregate over no account is no
data) and every account must satisfy the properties of spec section 4:

- ``one_tier``: it gets exactly one tier (no "no tier matched", no error in a tier);
- ``score_range``: its health score is within [0, 100] or missing;
- ``no_error``: no expression raises (any evaluation error; no data is not an error);
- ``invariant``: every ``[[invariant]]`` holds. An invariant with no data (it reads an
  absent optional field or map key) holds: like a ``when``, no data says nothing about
  the account, and ``has()`` guards would otherwise be needed in every invariant. An
  invariant that raises an error breaks it.

On a failure Hypothesis shrinks the portfolio, within a budget of evaluations (each
try evaluates a whole portfolio, the slow part). The shrunk portfolio is then reduced
to the one failing account when that account alone still fails the same way (checked
by evaluating it again, first with its own aggregates, then with the portfolio's
pinned), else kept whole with every aggregate pinned, and the failing account's fields
are simplified one group at a time, each change kept only if the failure stays. The
counterexample comes out as a ``[[test]]`` table that makes ``csrules test`` fail for the
same reason once pasted into ``tests/``; :func:`run_check` confirms that by running the
pasted text through the test runner before reporting it.
"""

from __future__ import annotations

import math
import random
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import hypothesis
import tomli_w
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis.reporting import with_reporter

from csrules.engine import reference
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.evaluate import evaluate
from csrules.engine.results import AccountResult, Evaluation
from csrules.load.playbook import Located
from csrules.load.positions import build_position_map
from csrules.load.tomlfile import TomlDocument
from csrules.model.durations import format_duration
from csrules.model.fieldtypes import FieldType
from csrules.model.testfile import TestCase
from csrules.snapshot.batch import AccountBatch
from csrules.testing.runner import TestOutcome, invariant_failure, invariant_verdicts, run_test
from csrules.testing.strategies import map_keys_from_playbook, portfolio_strategy, utc_seconds

PROPERTIES: dict[str, str] = {
    "one_tier": "every account gets exactly one tier",
    "score_range": "the health score is within [0, 100] or missing",
    "no_error": "no expression raises an error for a schema-valid account",
    "invariant": "every [[invariant]] holds",
    "crash": "evaluation never crashes",
}

DEFAULT_EXAMPLES = 200
DEFAULT_MAX_ACCOUNTS = 5
#: Evaluations allowed to shrinking after the first failure (then it winds down).
DEFAULT_SHRINK_BUDGET = 25


@dataclass(frozen=True)
class Violation:
    """One property broken by one account.

    ``rule`` names what broke it: ``tier`` (no tier matched), the ``kind:id`` of the
    rule that raised (``measure:seat_ratio``), the invariant id, ``health.score``.
    """

    kind: str  # a key of PROPERTIES
    account: str
    rule: str
    message: str

    @property
    def signature(self) -> tuple[str, str]:
        """What must stay the same when the counterexample is reduced."""
        return (self.kind, self.rule)

    @property
    def title(self) -> str:
        return PROPERTIES[self.kind]

    def to_json(self) -> dict[str, str]:
        return {
            "property": self.kind,
            "title": self.title,
            "account": self.account,
            "rule": self.rule,
            "message": self.message,
        }


@dataclass
class Counterexample:
    """The smallest failing input found, as a ready-to-paste ``[[test]]``.

    ``accounts`` are the records of the test (one when ``reduced``); ``portfolio`` the
    aggregates pinned in it; ``shrunk_size`` how many accounts Hypothesis' shrunk
    portfolio had; ``confirmed`` whether running ``test_toml`` through the test
    runner fails for the same reason (it should always be true).
    """

    violation: Violation
    accounts: list[dict[str, Any]]
    portfolio: dict[str, float]
    reduced: bool
    shrunk_size: int
    test_toml: str
    confirmed: bool
    test_output: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.violation.to_json(),
            "accounts": len(self.accounts),
            "reduced": self.reduced,
            "shrunk_size": self.shrunk_size,
            "portfolio": self.portfolio,
            "confirmed": self.confirmed,
            "test_output": self.test_output,
            "test_toml": self.test_toml,
        }


@dataclass
class CheckReport:
    """What ``csrules check`` found: ``counterexample`` is ``None`` when all held."""

    examples: int
    seed: int
    now: datetime
    properties: list[str]
    invariants: list[str]
    evaluated: int = 0
    accounts: int = 0
    counterexample: Counterexample | None = None

    @property
    def ok(self) -> bool:
        return self.counterexample is None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "examples": self.examples,
            "seed": self.seed,
            "as_of": toml_datetime(self.now),
            "evaluated": self.evaluated,
            "accounts": self.accounts,
            "properties": [{"property": p, "title": PROPERTIES[p]} for p in self.properties],
            "invariants": self.invariants,
            "counterexample": None
            if self.counterexample is None
            else self.counterexample.to_json(),
        }


# ------------------------------------------------------------------------ properties


def _is_tier_error(rule: str) -> bool:
    return rule == "tier" or rule.startswith("tier:")


def account_violations(compiled: CompiledPlaybook, evaluation: Evaluation) -> list[list[Violation]]:
    """For each account, the properties it breaks, in the order of :data:`PROPERTIES`."""
    invariants = invariant_verdicts(compiled, evaluation)
    out: list[list[Violation]] = []
    for index, result in enumerate(evaluation.accounts):
        found: list[Violation] = []
        if compiled.tiers:
            found.extend(
                Violation("one_tier", result.key, e.rule, e.message)
                for e in result.errors
                if _is_tier_error(e.rule)
            )
            if result.tier is None and not found:
                found.append(Violation("one_tier", result.key, "tier", "no tier was assigned"))
        score = result.score
        if score is not None and not 0.0 <= score <= 100.0:
            found.append(
                Violation("score_range", result.key, "health.score", f"score is {score!r}")
            )
        found.extend(
            Violation("no_error", result.key, e.rule, e.message)
            for e in result.errors
            if not _is_tier_error(e.rule)
        )
        for inv, values in invariants:
            why = invariant_failure(values[index])
            if why is not None:
                message = f"invariant '{inv.id}' {why}: {inv.expect.source.strip()}"
                found.append(Violation("invariant", result.key, inv.id, message))
        out.append(found)
    return out


def first_violation(compiled: CompiledPlaybook, evaluation: Evaluation) -> Violation | None:
    """The first property broken, by the first account that breaks one."""
    for found in account_violations(compiled, evaluation):
        if found:
            return found[0]
    return None


def _matching(
    compiled: CompiledPlaybook, evaluation: Evaluation, wanted: Violation
) -> Violation | None:
    """``wanted`` again (same account, property and rule) in ``evaluation``, if there."""
    for found in account_violations(compiled, evaluation):
        for violation in found:
            if violation.account == wanted.account and violation.signature == wanted.signature:
                return violation
    return None


# ------------------------------------------------------------------------ evaluation


def evaluate_records(
    compiled: CompiledPlaybook,
    records: Sequence[Mapping[str, Any]],
    now: datetime,
    pinned: Mapping[str, float] | None = None,
) -> Evaluation:
    """Evaluate ``records`` as a ``[[test]]`` would (``pinned`` = its ``portfolio``)."""
    batch = AccountBatch.from_records(records, compiled.spec, source="<generated>")
    problems = [r.render() for r in (*batch.rejected, *batch.duplicates)]
    if problems:
        raise ValueError("generated records were rejected: " + "; ".join(problems))
    return evaluate(compiled, batch, now, portfolio=pinned or None)


def pinnable(evaluation: Evaluation) -> dict[str, float]:
    """The aggregates a test can pin: those with a value and no error.

    An aggregate whose ``of``/``where`` raised for some account is left to be computed
    from the test's accounts, so the error shows there too (pinned, it would not run).
    """
    erroring = {
        e.rule.removeprefix("aggregate:")
        for account in evaluation.accounts
        for e in account.errors
        if e.rule.startswith("aggregate:")
    }
    return {
        name: value
        for name, value in evaluation.portfolio.items()
        if value is not None and name not in erroring
    }


def _shows(
    compiled: CompiledPlaybook,
    accounts: list[dict[str, Any]],
    pins: Mapping[str, float],
    violation: Violation,
    now: datetime,
) -> bool:
    """Whether evaluating ``accounts`` with ``pins`` breaks the property the same way."""
    try:
        evaluation = evaluate_records(compiled, accounts, now, pins)
    except Exception as exc:
        return violation.kind == "crash" and type(exc).__name__ == violation.rule
    return _matching(compiled, evaluation, violation) is not None


def _own_pins(
    compiled: CompiledPlaybook, accounts: list[dict[str, Any]], now: datetime
) -> dict[str, float]:
    try:
        return pinnable(evaluate_records(compiled, accounts, now))
    except Exception:
        return {}


def _reduce(
    compiled: CompiledPlaybook,
    records: list[dict[str, Any]],
    violation: Violation,
    now: datetime,
) -> tuple[list[dict[str, Any]], dict[str, float], bool]:
    """The smallest records and pinned aggregates that still show ``violation``.

    Tried in order: the failing account alone with its own aggregates, alone with the
    portfolio's aggregates pinned, the whole portfolio with its aggregates pinned, the
    whole portfolio unpinned (what Hypothesis saw). Each candidate is evaluated again,
    with its pins, before it is taken. The flag says whether it is the account alone.
    """
    key_field = compiled.spec.key
    alone = [r for r in records if str(r[key_field]) == violation.account]
    whole = _own_pins(compiled, records, now)
    candidates: list[tuple[list[dict[str, Any]], dict[str, float], bool]] = []
    if alone and len(records) > 1:
        candidates.append((alone, _own_pins(compiled, alone, now), True))
        candidates.append((alone, whole, True))
    candidates.append((records, whole, len(records) == 1))
    for accounts, pins, single in candidates:
        if _shows(compiled, accounts, pins, violation, now):
            return accounts, pins, single
    return records, {}, len(records) == 1


def _plain_number(value: float, field: FieldType) -> list[float]:
    """Simpler numbers than ``value`` within the hints: 0 (or the bound nearest it), then
    ``value`` rounded to one and two significant digits and to a whole number."""
    lo = field.minimum if field.minimum is not None else -math.inf
    hi = field.maximum if field.maximum is not None else math.inf
    out = [min(max(0.0, lo), hi)]
    out += [float(f"{value:.{digits}g}") for digits in (1, 2)]
    out.append(float(round(value)))
    return [v for v in out if lo <= v <= hi]


def _simpler(value: Any, field: FieldType, now: datetime) -> list[Any]:
    """Candidate replacements for ``value``, simplest first (never ``value`` itself)."""
    kind = field.kind
    out: list[Any]
    if kind == "string":
        out = [field.values[0] if field.values else ""]
    elif kind == "bool":
        out = [False]
    elif kind == "int":
        out = [int(v) for v in _plain_number(float(value), field)]
    elif kind == "double":
        out = _plain_number(float(value), field)
    elif kind == "timestamp":
        base = utc_seconds(now)
        out = [
            base,
            value.replace(hour=0, minute=0, second=0),
            value.replace(minute=0, second=0),
        ]
    elif kind == "duration":
        out = [timedelta(0), timedelta(days=round(value / timedelta(days=1)))]
    elif kind == "list":
        out = [[], *([*value[:i], *value[i + 1 :]] for i in range(len(value)))]
    elif kind == "map":
        out = [{}, *({k: v for k, v in value.items() if k != name} for name in value)]
    else:
        out = []
    unique: list[Any] = []
    for candidate in out:
        if candidate != value and candidate not in unique:
            unique.append(candidate)
    return unique


def _simplify(
    compiled: CompiledPlaybook,
    records: list[dict[str, Any]],
    pins: dict[str, float],
    violation: Violation,
    now: datetime,
) -> list[dict[str, Any]]:
    """Make the failing account's fields as plain as the failure allows.

    Hypothesis' shrinking is cut short (each try is a full evaluation), so this pass
    finishes the job, keeping each change only if the account still fails the same
    way. First every field at its simplest (an optional field left out, a string
    emptied, a number to 0, a timestamp to ``now``, a list or map emptied), by halves
    when not all at once can be (a bisection: a few evaluations for the few fields the
    failure depends on); then each of those fields as plain as it can be (rounded, at
    midnight, one item shorter).
    """
    fields = compiled.spec.fields
    key_field = compiled.spec.key
    index = next((i for i, r in enumerate(records) if str(r[key_field]) == violation.account), None)
    if index is None:
        return records

    def attempt(record: dict[str, Any]) -> bool:
        trial = [*records[:index], record, *records[index + 1 :]]
        return _shows(compiled, trial, pins, violation, now)

    def plainest(record: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
        out = dict(record)
        for name in names:
            if fields[name].optional:
                out.pop(name, None)
            elif options := _simpler(out[name], fields[name], now):
                out[name] = options[0]
        return out

    current = dict(records[index])
    stubborn: list[str] = []

    def bisect(names: Sequence[str]) -> None:
        nonlocal current
        candidate = plainest(current, names)
        if candidate == current:
            return
        if attempt(candidate):
            current = candidate
        elif len(names) == 1:
            stubborn.append(names[0])
        else:
            bisect(names[: len(names) // 2])
            bisect(names[len(names) // 2 :])

    bisect([name for name in current if name != key_field])
    for name in stubborn:
        changed = True
        while changed and name in current:  # until no simpler value keeps the failure
            changed = False
            options = [{**current, name: v} for v in _simpler(current[name], fields[name], now)]
            for option in options:
                if attempt(option):
                    current, changed = option, True
                    break
    return [*records[:index], current, *records[index + 1 :]]


# --------------------------------------------------------------------- TOML output


def toml_datetime(value: datetime) -> str:
    """A TOML offset date-time in UTC: ``2026-03-01T09:00:00Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _scalar(value: str | int | float | bool) -> str:
    text = tomli_w.dumps({"v": value})
    return text[len("v = ") :].rstrip("\n")


def _key(name: str) -> str:
    text = tomli_w.dumps({name: 0})
    return text[: -len(" = 0\n")]


def toml_value(value: Any) -> str:
    """``value`` as one line of TOML (inline tables and arrays stay on one line)."""
    if isinstance(value, datetime):
        return toml_datetime(value)
    if isinstance(value, timedelta):
        return _scalar(format_duration(value))
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, str | int | float | bool):
        return _scalar(value)
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _comment(text: str) -> str:
    """``text`` as one TOML comment line (control characters escaped)."""
    safe = "".join(
        c if c == "\t" or (c >= " " and c != "\x7f") else f"\\x{ord(c):02x}" for c in text
    )
    return f"# {safe}".rstrip()


def _expectations(
    compiled: CompiledPlaybook, violation: Violation, result: AccountResult
) -> tuple[dict[str, Any], list[str]]:
    """The ``[test.expect.<account>]`` table and the comment lines above it."""
    observed: dict[str, Any] = {}
    if result.tier is not None:
        observed["tier"] = result.tier
    observed["band"] = result.band
    observed["segments"] = list(result.segments)
    observed["playbooks"] = result.playbooks
    if violation.kind == "one_tier":
        target = compiled.tiers[-1].rule.id if compiled.tiers else ""
        return {"tier": target}, [
            f"Expected: one tier. This account gets none ({violation.message}).",
            f"'{target}' (the last tier tried) is a placeholder: set it to the tier this",
            "account should get, then fix the tiers' `when` so it does.",
        ]
    if violation.kind == "score_range":
        return {"score": {"min": 0.0, "max": 100.0}}, [
            f"Expected: a score within [0, 100] or none; {violation.message}.",
        ]
    if violation.kind == "no_error":
        return observed, [
            f"Expected: no evaluation error; {violation.rule} raises: {violation.message}",
            "The values below are what the rules give today (the test fails on the error).",
        ]
    if violation.kind == "invariant":
        return observed, [
            f"Expected: every invariant holds; {violation.message}",
            "The values below are what the rules give today (the test fails on the invariant).",
        ]
    return {}, [f"Expected: evaluation does not crash; {violation.message}"]


def render_test(
    compiled: CompiledPlaybook,
    violation: Violation,
    records: Sequence[Mapping[str, Any]],
    portfolio: Mapping[str, float],
    now: datetime,
    result: AccountResult,
    *,
    seed_used: int,
) -> str:
    """The ``[[test]]`` table for a counterexample, with comments saying what failed."""
    name = f"csrules check: {violation.title} (account '{violation.account}', {violation.rule})"
    head: dict[str, Any] = {"name": name, "as_of": now}
    if portfolio:
        head["portfolio"] = dict(portfolio)
    lines = [
        _comment(f"Found by `csrules check --seed {seed_used} --as-of {toml_datetime(now)}`."),
        _comment(f"Property: {violation.title}."),
        "[[test]]",
        *(f"{_key(k)} = {toml_value(v)}" for k, v in head.items()),
    ]
    for record in records:
        lines += ["", "[[test.accounts]]"]
        lines += [f"{_key(k)} = {toml_value(v)}" for k, v in record.items()]
    expect, notes = _expectations(compiled, violation, result)
    lines += ["", *(_comment(n) for n in notes), f"[test.expect.{_key(violation.account)}]"]
    lines += [f"{_key(k)} = {toml_value(v)}" for k, v in expect.items()]
    return "\n".join(lines) + "\n"


def replay_test(compiled: CompiledPlaybook, text: str) -> TestOutcome:
    """Run a rendered ``[[test]]`` exactly as ``csrules test`` runs a file of tests/."""
    data = tomllib.loads(text)
    display = Path("tests/counterexample.toml")
    doc = TomlDocument(
        path=display, display=display, text=text, data=data, positions=build_position_map(text)
    )
    case = TestCase.model_validate(data["test"][0])
    return run_test(compiled, Located(case, doc, ("test", 0), "test", case.name))


def _reproduces(outcome: TestOutcome, violation: Violation) -> bool:
    """Whether a replayed test fails for the reason ``violation`` gives."""
    if outcome.status != "failed":
        return False
    for m in outcome.mismatches:
        if m.account != violation.account:
            continue
        if violation.kind in ("one_tier", "no_error"):
            same = m.message.startswith(f"evaluation error in {violation.rule}:")
        elif violation.kind == "score_range":
            same = m.field == "score"
        else:
            same = m.field == "invariant" and m.expected == violation.rule
        if same:
            return True
    return False


# ----------------------------------------------------------------------- the search


class _Found(AssertionError):
    """Raised inside the Hypothesis test when a portfolio breaks a property."""


class _OutOfBudget(BaseException):
    """Ends the Hypothesis run once shrinking has used its budget of evaluations."""


@dataclass
class _Search:
    calls: int = 0
    accounts: int = 0
    first_failure_at: int = 0
    accounts_at_failure: int = 0
    last: tuple[list[dict[str, Any]], Violation] | None = None
    size: tuple[int, int] = (0, 0)


def run_check(
    compiled: CompiledPlaybook,
    *,
    examples: int = DEFAULT_EXAMPLES,
    seed: int | None = None,
    now: datetime,
    min_accounts: int = 1,
    max_accounts: int = DEFAULT_MAX_ACCOUNTS,
    shrink_budget: int = DEFAULT_SHRINK_BUDGET,
    evaluated: Callable[[int], None] | None = None,
) -> CheckReport:
    """Generate ``examples`` portfolios of ``min_accounts``..``max_accounts`` accounts.

    ``seed`` makes the run repeatable; without one a seed is drawn and reported, so a
    failure can always be replayed with ``--seed``. No example database is written.
    ``evaluated`` is told how many portfolios were evaluated after each (a progress
    bar; shrinking a counterexample evaluates more than ``examples``).
    """
    if examples < 1:
        raise ValueError("examples must be at least 1")
    seed_used = seed if seed is not None else random.SystemRandom().randrange(2**32)
    properties = [p for p in PROPERTIES if p != "crash"]
    if not compiled.tiers:
        properties.remove("one_tier")
    if not compiled.invariants:
        properties.remove("invariant")
    report = CheckReport(
        examples=examples,
        seed=seed_used,
        now=now,
        properties=properties,
        invariants=[inv.id for inv in compiled.invariants],
    )
    search = _Search()
    strategy = portfolio_strategy(
        compiled.spec,
        now=now,
        min_size=min_accounts,
        max_size=max_accounts,
        map_keys=map_keys_from_playbook(compiled),
    )

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
        suppress_health_check=[
            HealthCheck.too_slow,  # evaluation is the slow part, by design
            HealthCheck.data_too_large,  # accounts have dozens of fields
            HealthCheck.large_base_example,
        ],
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    @given(portfolio=strategy)
    def check_portfolio(portfolio: list[dict[str, Any]]) -> None:
        if search.last is not None and search.calls - search.first_failure_at >= shrink_budget:
            raise _OutOfBudget  # a BaseException: Hypothesis lets it through, run ends
        search.calls += 1
        search.accounts += len(portfolio)
        if evaluated is not None:
            evaluated(search.calls)
        try:
            violation = first_violation(compiled, evaluate_records(compiled, portfolio, now))
        except Exception as exc:
            key = str(portfolio[0][compiled.spec.key]) if portfolio else ""
            violation = Violation("crash", key, type(exc).__name__, str(exc))
        if violation is not None:
            if search.last is None:
                search.first_failure_at = search.calls
                search.accounts_at_failure = search.accounts
            size = (len(portfolio), len(repr(portfolio)))
            if search.last is None or size <= search.size:
                search.last, search.size = (portfolio, violation), size
            raise _Found(violation.message)

    seeded = hypothesis.seed(seed_used)(check_portfolio)
    reference.prepare()
    try:
        with with_reporter(lambda _text: None):
            seeded()
    except (Exception, _OutOfBudget):
        if search.last is None:
            raise
    report.evaluated = search.first_failure_at or search.calls
    report.accounts = search.accounts_at_failure or search.accounts
    if search.last is not None:
        report.counterexample = _counterexample(compiled, *search.last, now, seed_used)
    return report


def _counterexample(
    compiled: CompiledPlaybook,
    shrunk: list[dict[str, Any]],
    violation: Violation,
    now: datetime,
    seed_used: int,
) -> Counterexample:
    records, pins, reduced = _reduce(compiled, shrunk, violation, now)
    records = _simplify(compiled, records, pins, violation, now)
    try:
        evaluation = evaluate_records(compiled, records, now, pins)
        result = evaluation.by_key().get(violation.account) or AccountResult(violation.account)
    except Exception:
        result = AccountResult(violation.account)
    text = render_test(compiled, violation, records, pins, now, result, seed_used=seed_used)
    try:
        outcome = replay_test(compiled, text)
        confirmed = _reproduces(outcome, violation)
        output = [f"{m.account}: {m.field}: {m.message}" for m in outcome.mismatches]
    except Exception as exc:
        confirmed = violation.kind == "crash" and type(exc).__name__ == violation.rule
        output = [f"{type(exc).__name__}: {exc}"]
    return Counterexample(
        violation=violation,
        accounts=records,
        portfolio=pins,
        reduced=reduced,
        shrunk_size=len(shrunk),
        test_toml=text,
        confirmed=confirmed,
        test_output=output,
    )


__all__ = [
    "PROPERTIES",
    "CheckReport",
    "Counterexample",
    "Violation",
    "run_check",
]
