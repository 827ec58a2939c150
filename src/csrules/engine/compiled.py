"""A validated playbook directory, compiled: one kernel per expression and template.

Compilation happens once per run; the stages then only evaluate kernels. A directory
with any validation error is refused here, so evaluation never meets an expression
the type-checker has not accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csrules.engine.kernel import Kernel
from csrules.engine.lineage import Decision, decisions
from csrules.engine.reference import ReferenceKernel
from csrules.engine.templates import CompiledTemplate, compile_template
from csrules.expr.functions import FunctionSpec
from csrules.load.playbook import LoadedPlaybook, Located
from csrules.model.project import ProjectFile
from csrules.model.rules import Aggregate, Escalation, Measure, Playbook, Silence, Tier
from csrules.snapshot.batch import SnapshotSpec

KernelFactory = Callable[[str], Kernel]


@dataclass(frozen=True)
class CompiledAggregate:
    rule: Aggregate
    of: Kernel | None
    where: Kernel | None


@dataclass(frozen=True)
class CompiledMeasure:
    rule: Measure
    value: Kernel
    explain: CompiledTemplate | None


@dataclass(frozen=True)
class CompiledSegment:
    id: str
    description: str | None
    when: Kernel


@dataclass(frozen=True)
class CompiledTier:
    rule: Tier
    when: Kernel


@dataclass(frozen=True)
class CompiledPlaybookRule:
    rule: Playbook
    when: Kernel


@dataclass(frozen=True)
class CompiledInvariant:
    id: str
    description: str | None
    expect: Kernel


@dataclass
class CompiledPlaybook:
    """Everything ``evaluate`` needs, with kernels in stage order."""

    root: Path
    project: ProjectFile
    spec: SnapshotSpec
    functions: Mapping[str, FunctionSpec]
    aggregates: list[CompiledAggregate] = field(default_factory=list)
    bands: list[tuple[str, float]] = field(default_factory=list)  # descending lower bounds
    measures: list[CompiledMeasure] = field(default_factory=list)
    segments: list[CompiledSegment] = field(default_factory=list)
    tiers: list[CompiledTier] = field(default_factory=list)  # by rank
    adkar_threshold: int = 3
    adkar: list[tuple[str, Kernel]] = field(default_factory=list)  # ADKAR order
    playbooks: list[CompiledPlaybookRule] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    silences: list[Silence] = field(default_factory=list)
    invariants: list[CompiledInvariant] = field(default_factory=list)
    loaded: LoadedPlaybook | None = None
    _decisions: dict[str, Decision] | None = field(default=None, repr=False)

    @property
    def decisions(self) -> dict[str, Decision]:
        """Per playbook id: its content hash and what its decisions depend on
        (``lineage.py``), computed when first asked for (by reconcile): evaluating alone
        never pays for it."""
        if self._decisions is None:
            self._decisions = decisions(self.loaded) if self.loaded is not None else {}
        return self._decisions

    def kernel(self, source: str) -> Kernel:
        """A kernel for an ad-hoc expression (explain's sub-expressions, tests)."""
        return ReferenceKernel(source, self.functions, steps=self.project.limits.eval_steps)

    def template(self, text: str) -> CompiledTemplate:
        return compile_template(text, self.kernel)

    def located(self, kind: str, rule_id: str) -> Located[Any] | None:
        """Where a rule was written, for messages."""
        if self.loaded is None:
            return None
        groups: dict[str, Sequence[Located[Any]]] = {
            "aggregate": self.loaded.aggregates,
            "segment": self.loaded.segments,
            "tier": self.loaded.tiers,
            "playbook": self.loaded.playbooks,
        }
        return next((r for r in groups.get(kind, []) if r.id == rule_id), None)


def compile_loaded(
    loaded: LoadedPlaybook, functions: Mapping[str, FunctionSpec]
) -> CompiledPlaybook:
    """Compile an already validated :class:`LoadedPlaybook`."""
    assert loaded.project is not None
    steps = loaded.project.limits.eval_steps

    def kernel(source: str) -> Kernel:
        return ReferenceKernel(source, functions, steps=steps)

    compiled = CompiledPlaybook(
        root=loaded.root,
        project=loaded.project,
        spec=SnapshotSpec.from_settings(loaded.project.snapshot, loaded.project.limits),
        functions=functions,
        loaded=loaded,
    )
    for agg in loaded.aggregates:
        rule = agg.item
        compiled.aggregates.append(
            CompiledAggregate(
                rule,
                kernel(rule.of) if rule.of is not None else None,
                kernel(rule.where) if rule.where is not None else None,
            )
        )
    if loaded.health is not None:
        health = loaded.health.item
        compiled.bands = sorted(health.bands.items(), key=lambda item: item[1], reverse=True)
        for measure in health.measure:
            explain = compile_template(measure.explain, kernel) if measure.explain else None
            compiled.measures.append(CompiledMeasure(measure, kernel(measure.value), explain))
    for seg in loaded.segments:
        compiled.segments.append(
            CompiledSegment(seg.item.id, seg.item.description, kernel(seg.item.when))
        )
    for tier in loaded.tiers_by_rank():
        compiled.tiers.append(CompiledTier(tier.item, kernel(tier.item.when)))
    if loaded.adkar is not None:
        compiled.adkar_threshold = loaded.adkar.item.threshold
        compiled.adkar = [(name, kernel(source)) for name, source in loaded.adkar.item.elements()]
    for pb in loaded.playbooks:
        compiled.playbooks.append(CompiledPlaybookRule(pb.item, kernel(pb.item.when)))
    compiled.escalations = [e.item for e in loaded.escalations]
    compiled.silences = [s.item for s in loaded.silences]
    for inv in loaded.invariants:
        compiled.invariants.append(
            CompiledInvariant(inv.item.id, inv.item.description, kernel(inv.item.expect))
        )
    return compiled
