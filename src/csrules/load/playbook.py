"""The loaded playbook directory: every rule with the place it was written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from csrules.errors import DiagnosticList, Location
from csrules.load.tomlfile import TomlDocument
from csrules.model.project import ProjectFile
from csrules.model.rules import (
    Adkar,
    Aggregate,
    Escalation,
    Health,
    Invariant,
    Playbook,
    Segment,
    Silence,
    Tier,
)
from csrules.model.testfile import TestCase

T = TypeVar("T")

#: the kinds of names rule files define (``incomplete`` makes them all unknown)
RULE_KINDS = frozenset(
    {
        "aggregate",
        "band",
        "measure",
        "segment",
        "tier",
        "playbook",
        "escalation",
        "silence",
        "invariant",
    }
)


@dataclass(frozen=True)
class Located(Generic[T]):
    """A rule (or test) and where it was written: its document and TOML path."""

    item: T
    doc: TomlDocument
    path: tuple[str | int, ...]
    kind: str
    id: str | None

    def location(self, *fields: str | int) -> Location:
        """``file:line:col`` of the rule, or of one of its keys/values."""
        return self.doc.location((*self.path, *fields))

    def key_location(self, *fields: str | int) -> Location:
        return self.doc.key_location((*self.path, *fields))

    @property
    def header(self) -> Location:
        """The table header of the rule (where a missing key is reported)."""
        return self.doc.table_location(self.path)


@dataclass
class LoadedPlaybook:
    """Everything read from a playbook directory, plus what was wrong while reading it."""

    root: Path
    project: ProjectFile | None = None
    project_doc: TomlDocument | None = None
    aggregates: list[Located[Aggregate]] = field(default_factory=list)
    health: Located[Health] | None = None
    segments: list[Located[Segment]] = field(default_factory=list)
    tiers: list[Located[Tier]] = field(default_factory=list)
    adkar: Located[Adkar] | None = None
    playbooks: list[Located[Playbook]] = field(default_factory=list)
    escalations: list[Located[Escalation]] = field(default_factory=list)
    silences: list[Located[Silence]] = field(default_factory=list)
    invariants: list[Located[Invariant]] = field(default_factory=list)
    tests: list[Located[TestCase]] = field(default_factory=list)
    rule_documents: list[TomlDocument] = field(default_factory=list)
    test_documents: list[TomlDocument] = field(default_factory=list)
    diagnostics: DiagnosticList = field(default_factory=DiagnosticList)
    #: a rule file could not be read at all, so the names of its rules are unknown;
    #: checks that would report a missing name stay quiet (the cause is reported)
    incomplete: bool = False
    #: every name written in the files, per kind (``tier``, ``playbook``, ``band``,
    #: ``measure``, ``connector``, ``field``, ...), including those of rules that
    #: failed to model: a reference to a broken rule is not also an unknown name
    declared: dict[str, set[str]] = field(default_factory=dict)
    #: kinds with a rule whose name could not be read (``id = 3``)
    unnamed: set[str] = field(default_factory=set)

    def known(self, kind: str) -> frozenset[str] | None:
        """Every name of ``kind`` written in the directory, or ``None`` when some cannot
        be known (a file that could not be read, a rule without a readable id)."""
        if kind in self.unnamed or (self.incomplete and kind in RULE_KINDS):
            return None
        return frozenset(self.declared.get(kind, ()))

    def declare(self, kind: str, name: object) -> None:
        """Record a name written in a file (anything but a string leaves it unknown)."""
        if isinstance(name, str):
            self.declared.setdefault(kind, set()).add(name)
        else:
            self.unnamed.add(kind)

    def tiers_by_rank(self) -> list[Located[Tier]]:
        """Tiers in the order they are tried (rank, then file order)."""
        return sorted(self.tiers, key=lambda t: t.item.rank)

    def rule_count(self) -> int:
        singles = (self.health is not None) + (self.adkar is not None)
        return singles + sum(
            len(group)
            for group in (
                self.aggregates,
                self.segments,
                self.tiers,
                self.playbooks,
                self.escalations,
                self.silences,
                self.invariants,
            )
        )
