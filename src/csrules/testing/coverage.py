"""``csrules test --coverage``: which rules the tests exercised, in the sense that matters.

A line of CEL "ran" for every test account, so line coverage says nothing about a
playbook directory. Each kind of rule is exercised when the tests reach the
behaviour a reviewer cares about:

- a **measure** when it lost points for at least one test account (so its value was
  computed, it weighed on a score, and its ``explain`` text was rendered);
- a **segment** when at least one test account is in it and one is not;
- a **tier** when it is assigned to at least one test account;
- an **ADKAR element** when it is the barrier of at least one test account;
- a **playbook** when its condition both holds and does not hold for test accounts;
- an **escalation step** when a step test delivers it at least once;
- an **invariant** when it holds for an example-test account where it was decided
  by its last ``||`` operand (``A || B || C``: ``A`` and ``B`` false, so ``C`` had to
  hold — the test reached the case the invariant protects); an invariant that is
  not a ``||`` chain, when it holds for at least one account.

A :class:`CoverageRecorder` watches every evaluation and plan the test runner makes
(accounts with evaluation errors are left out, as the invariant check does).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from csrules.cases.model import Case, Plan
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.results import Evaluation
from csrules.errors import Location
from csrules.expr.ast import Binary, ExprSyntaxError, Node, parse

KINDS = ("measure", "segment", "tier", "adkar", "playbook", "escalation", "invariant")


@dataclass(frozen=True)
class CoverageItem:
    """One rule (or escalation step) and whether the tests exercised it."""

    kind: str
    id: str
    covered: bool
    seen: str  # what the tests did with it
    missing: str | None  # what no test did, when not covered
    location: Location | None = None

    def to_json(self) -> dict[str, Any]:
        loc = self.location
        return {
            "kind": self.kind,
            "id": self.id,
            "covered": self.covered,
            "seen": self.seen,
            "missing": self.missing,
            "file": str(loc.path) if loc else None,
            "line": loc.line if loc and loc.line else None,
        }

    @property
    def subject(self) -> str:
        return f"{self.kind} '{self.id}'"


@dataclass
class CoverageReport:
    """Every rule the coverage counts, in stage order."""

    items: list[CoverageItem]

    @property
    def covered(self) -> int:
        return sum(item.covered for item in self.items)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def percent(self) -> float:
        return 100.0 if not self.items else 100.0 * self.covered / self.total

    def by_kind(self) -> list[tuple[str, int, int]]:
        """(kind, covered, total) for each kind that has rules."""
        out = []
        for kind in KINDS:
            group = [i for i in self.items if i.kind == kind]
            if group:
                out.append((kind, sum(i.covered for i in group), len(group)))
        return out

    def missed(self) -> list[CoverageItem]:
        return [i for i in self.items if not i.covered]

    def to_json(self) -> dict[str, Any]:
        return {
            "covered": self.covered,
            "total": self.total,
            "percent": self.percent,
            "kinds": {k: {"covered": c, "total": t} for k, c, t in self.by_kind()},
            "rules": [i.to_json() for i in self.items],
        }


def _or_operands(node: Node) -> list[Node]:
    """``A || B || C`` as ``[A, B, C]`` (parentheses do not matter); else ``[node]``."""
    if isinstance(node, Binary) and node.op == "||":
        return [*_or_operands(node.left), *_or_operands(node.right)]
    return [node]


@dataclass
class _Invariant:
    premises: list[str]  # every operand but the last
    held: int = 0
    decided: int = 0  # held with every premise false


@dataclass
class CoverageRecorder:
    """Collects what the tests' evaluations and plans did with each rule."""

    compiled: CompiledPlaybook
    losers: Counter[str] = field(default_factory=Counter)
    scored: Counter[str] = field(default_factory=Counter)
    inside: Counter[str] = field(default_factory=Counter)
    outside: Counter[str] = field(default_factory=Counter)
    tiers: Counter[str] = field(default_factory=Counter)
    barriers: Counter[str] = field(default_factory=Counter)
    adkar_scored: Counter[str] = field(default_factory=Counter)
    fired: Counter[str] = field(default_factory=Counter)
    quiet: Counter[str] = field(default_factory=Counter)
    steps: Counter[tuple[str, int]] = field(default_factory=Counter)
    invariants: dict[str, _Invariant] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for inv in self.compiled.invariants:
            source = inv.expect.source
            try:
                operands = _or_operands(parse(source, max_length=max(4096, len(source))))
            except ExprSyntaxError:
                operands = []
            premises = [op.source_text(source) for op in operands[:-1]]
            self.invariants[inv.id] = _Invariant(premises)

    def saw_evaluation(self, evaluation: Evaluation, *, invariants: bool) -> None:
        """One evaluation of test accounts; ``invariants``: the test checks them."""
        results = evaluation.accounts
        clean = [i for i, r in enumerate(results) if not r.errors]
        for i in clean:
            r = results[i]
            for m in r.measures:
                if m.normalized is not None:
                    self.scored[m.id] += 1
            for d in r.drivers:
                self.losers[d.measure] += 1
            for segment, value in r.segment_values.items():
                (self.inside if value is True else self.outside)[segment] += 1
            if r.tier is not None:
                self.tiers[r.tier] += 1
            if r.adkar_barrier:
                self.barriers[r.adkar_barrier] += 1
            for element in r.adkar_scores:
                self.adkar_scored[element] += 1
            for playbook, value in r.playbook_values.items():
                (self.fired if value is True else self.quiet)[playbook] += 1
        if invariants and self.compiled.invariants and clean:
            self._invariants(evaluation, clean)

    def _invariants(self, evaluation: Evaluation, clean: list[int]) -> None:
        activations = evaluation.activations
        now = evaluation.now
        for inv in self.compiled.invariants:
            seen = self.invariants[inv.id]
            values = inv.expect.evaluate(activations, now)
            premises = [self.compiled.kernel(p).evaluate(activations, now) for p in seen.premises]
            for i in clean:
                if values[i] is not True:
                    continue
                seen.held += 1
                if all(p[i] is False for p in premises):
                    seen.decided += 1

    def saw_plan(self, plan: Plan, cases: Mapping[str, Case]) -> None:
        """One step's plan; ``cases`` by id, to find each action's escalation policy."""
        for action in plan.deliver:
            if action.step <= 0:
                continue
            case = cases.get(action.case)
            if case is not None and case.escalation is not None:
                self.steps[(case.escalation, action.step)] += 1

    # ------------------------------------------------------------------ the report

    def report(self) -> CoverageReport:
        c = self.compiled
        loaded = c.loaded
        items: list[CoverageItem] = []

        def where(kind: str, rule_id: str) -> Location | None:
            located = c.located(kind, rule_id)
            return located.header if located is not None else None

        for index, measure in enumerate(c.measures):
            mid = measure.rule.id
            lost, scored = self.losers[mid], self.scored[mid]
            loc = loaded.health.location("measure", index) if loaded and loaded.health else None
            items.append(
                CoverageItem(
                    "measure",
                    mid,
                    lost > 0,
                    f"computed {_n(scored)}, lost points {_n(lost)}",
                    None
                    if lost
                    else "no test account loses points on it (its explain text never renders)",
                    loc,
                )
            )
        for seg in c.segments:
            inside, outside = self.inside[seg.id], self.outside[seg.id]
            missing = _both(
                inside,
                outside,
                "no test account is in it",
                "every test account is in it: no test shows who is not",
            )
            items.append(
                CoverageItem(
                    "segment",
                    seg.id,
                    missing is None,
                    f"an account in it {_n(inside)}, outside it {_n(outside)}",
                    missing,
                    where("segment", seg.id),
                )
            )
        for tier in c.tiers:
            count = self.tiers[tier.rule.id]
            items.append(
                CoverageItem(
                    "tier",
                    tier.rule.id,
                    count > 0,
                    f"assigned {_n(count)}",
                    None if count else "no test account gets this tier",
                    where("tier", tier.rule.id),
                )
            )
        for element, _ in c.adkar:
            count, scored = self.barriers[element], self.adkar_scored[element]
            loc = loaded.adkar.location(element) if loaded and loaded.adkar else None
            items.append(
                CoverageItem(
                    "adkar",
                    element,
                    count > 0,
                    f"scored {_n(scored)}, the barrier {_n(count)}",
                    None if count else "no test account has it as its barrier",
                    loc,
                )
            )
        for pb in c.playbooks:
            fired, quiet = self.fired[pb.rule.id], self.quiet[pb.rule.id]
            missing = _both(
                fired,
                quiet,
                "it never fires for a test account",
                "it fires for every test account: no test shows when it must not",
            )
            items.append(
                CoverageItem(
                    "playbook",
                    pb.rule.id,
                    missing is None,
                    f"firing {_n(fired)}, not firing {_n(quiet)}",
                    missing,
                    where("playbook", pb.rule.id),
                )
            )
        located_ladders = {e.id: e for e in loaded.escalations} if loaded else {}
        for ladder in c.escalations:
            for number, _step in enumerate(ladder.step, start=1):
                count = self.steps[(ladder.id, number)]
                found = located_ladders.get(ladder.id)
                items.append(
                    CoverageItem(
                        "escalation",
                        f"{ladder.id}:{number}",
                        count > 0,
                        f"delivered by step tests {_n(count)}",
                        None if count else "no step test delivers this escalation step",
                        found.location("step", number - 1) if found is not None else None,
                    )
                )
        located_invariants = {i.id: i for i in loaded.invariants} if loaded else {}
        for inv in c.invariants:
            seen = self.invariants[inv.id]
            found_inv = located_invariants.get(inv.id)
            if seen.premises:
                covered = seen.decided > 0
                text = f"held {_n(seen.held)}, decided by its last operand {_n(seen.decided)}"
                missing = (
                    None
                    if covered
                    else "no example-test account makes every operand but the last false "
                    "(the case it protects is never tested)"
                )
            else:
                covered = seen.held > 0
                text = f"held {_n(seen.held)}"
                missing = None if covered else "no example-test account is checked against it"
            items.append(
                CoverageItem(
                    "invariant",
                    inv.id,
                    covered,
                    text,
                    missing,
                    found_inv.location("expect") if found_inv is not None else None,
                )
            )
        return CoverageReport(items)


def _n(count: int) -> str:
    """How often: each account of each test evaluation (a step test evaluates at every step)."""
    return "once" if count == 1 else f"{count} times"


def _both(yes: int, no: int, never_yes: str, never_no: str) -> str | None:
    """What is missing for a condition that must be seen both holding and not."""
    if yes and no:
        return None
    if not yes and not no:
        return "no test account evaluates it"
    return never_yes if not yes else never_no
