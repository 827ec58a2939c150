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
    #: a rule or test file could not be read or modelled, so some rules are missing;
    #: checks that would report their absence stay quiet (the cause is reported)
    incomplete: bool = False

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
