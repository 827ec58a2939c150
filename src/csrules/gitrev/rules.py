"""Comparing two versions of a playbook directory rule by rule, by meaning.

A rule is identified by its kind and id (``tier:pooled``), never by where it is
written: moving a rule to another file, reordering rules or keys, reformatting an
expression or a template hole, adding comments, spelling a duration ``168h`` instead
of ``1w`` or writing a default value out are all *no change*. What is compared is
each rule's **facts**: every key of the modelled rule, flattened to a path
(``when``, ``action[0].text``, ``bands.red``) with a canonical value:

- a CEL expression is parsed and printed back by the AST (``to_cel``), so only the
  tree counts, not whitespace, line breaks, quotes or redundant parentheses;
- a template keeps its text as written and canonicalizes each ``{{ }}`` hole;
- durations, timestamps and numbers are compared as values (``25`` and ``25.0`` for
  a double setting are the same).

The facts themselves are computed by :mod:`csrules.load.canonical` (a compiled
playbook hashes its rules with them too). ``diff`` compares two revisions with
:func:`compare_rules`; ``history`` compares every pair of consecutive commits with
:func:`compare_versions`, on versions read file by file. A secret-looking setting or
parameter is never shown: only that it changed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from csrules.load.canonical import (
    HIDDEN,
    Fact,
    RuleVersion,
    canonical_expression,
    canonical_template,
    rule_versions,
)
from csrules.load.playbook import LoadedPlaybook

__all__ = [
    "HIDDEN",
    "KIND_ORDER",
    "Fact",
    "KeyChange",
    "RuleChange",
    "RuleComparison",
    "RuleMove",
    "RuleVersion",
    "canonical_expression",
    "canonical_template",
    "compare_rules",
    "compare_versions",
    "iter_kinds",
    "rule_versions",
]

KIND_ORDER = (
    "settings",
    "connector",
    "aggregate",
    "health",
    "measure",
    "segment",
    "tier",
    "adkar",
    "playbook",
    "escalation",
    "silence",
    "invariant",
)
"""Kinds in the order reports list them (the stage order, settings first)."""

ChangeKind = Literal["added", "removed", "changed", "renamed"]


@dataclass(frozen=True)
class KeyChange:
    """One key whose value differs; ``None`` on a side means the key is not set there."""

    key: str
    old: str | None
    new: str | None

    def to_json(self) -> dict[str, str | None]:
        return {"key": self.key, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class RuleChange:
    """A rule added, removed, changed, or renamed (same content under a new id)."""

    change: ChangeKind
    kind: str
    id: str
    base: RuleVersion | None
    head: RuleVersion | None
    keys: tuple[KeyChange, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def previous_id(self) -> str | None:
        return self.base.id if self.change == "renamed" and self.base is not None else None

    def to_json(self) -> dict[str, Any]:
        return {
            "change": self.change,
            "kind": self.kind,
            "id": self.id,
            "previous_id": self.previous_id,
            "base": _version_json(self.base),
            "head": _version_json(self.head),
            "keys": [k.to_json() for k in self.keys],
        }


def _version_json(version: RuleVersion | None) -> dict[str, Any] | None:
    if version is None:
        return None
    return {"file": version.file, "line": version.line or None}


@dataclass(frozen=True)
class RuleMove:
    """A rule whose content did not change but that is now written in another file."""

    kind: str
    id: str
    base_file: str | None
    head_file: str | None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "from": self.base_file, "to": self.head_file}


@dataclass
class RuleComparison:
    """Every rule difference between a base and a head, in report order."""

    changes: list[RuleChange] = field(default_factory=list)
    moves: list[RuleMove] = field(default_factory=list)
    unchanged: int = 0

    def of(self, change: ChangeKind) -> list[RuleChange]:
        return [c for c in self.changes if c.change == change]

    def renames(self, kind: str) -> dict[str, str]:
        """Old id -> new id of the rules of ``kind`` renamed without other change."""
        return {
            c.base.id: c.id
            for c in self.changes
            if c.change == "renamed" and c.kind == kind and c.base is not None
        }

    def counts(self) -> dict[str, int]:
        out = {k: len(self.of(k)) for k in ("added", "removed", "changed", "renamed")}
        out["unchanged"] = self.unchanged
        out["moved"] = len(self.moves)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "changes": [c.to_json() for c in self.changes],
            "moved": [m.to_json() for m in self.moves],
        }


# ---------------------------------------------------------------------- comparison


def _key_changes(base: RuleVersion, head: RuleVersion) -> tuple[KeyChange, ...]:
    keys = list(base.facts)
    keys += [k for k in head.facts if k not in base.facts]
    changes: list[KeyChange] = []
    for key in keys:
        old, new = base.facts.get(key), head.facts.get(key)
        if old is not None and new is not None and old.canonical == new.canonical:
            continue
        changes.append(
            KeyChange(key, old.shown if old is not None else None, new.shown if new else None)
        )
    return tuple(changes)


def _order(version: RuleVersion) -> tuple[int, str]:
    return (KIND_ORDER.index(version.kind) if version.kind in KIND_ORDER else 99, version.id)


def compare_rules(base: LoadedPlaybook | None, head: LoadedPlaybook | None) -> RuleComparison:
    """What changed from ``base`` to ``head``, by meaning (``None``: no directory)."""
    old = rule_versions(base) if base is not None else {}
    new = rule_versions(head) if head is not None else {}
    return compare_versions(old, new)


def compare_versions(
    old: Mapping[tuple[str, str], RuleVersion], new: Mapping[tuple[str, str], RuleVersion]
) -> RuleComparison:
    """What changed from the rule versions ``old`` to ``new`` (by ``(kind, id)``)."""
    result = RuleComparison()
    changes: list[tuple[tuple[int, str], RuleChange]] = []
    for ref, head_version in new.items():
        base_version = old.get(ref)
        if base_version is None:
            continue
        keys = _key_changes(base_version, head_version)
        if keys:
            changes.append(
                (
                    _order(head_version),
                    RuleChange("changed", ref[0], ref[1], base_version, head_version, keys),
                )
            )
        else:
            result.unchanged += 1
        if base_version.file != head_version.file:
            result.moves.append(RuleMove(ref[0], ref[1], base_version.file, head_version.file))
    removed = [v for ref, v in old.items() if ref not in new]
    added = [v for ref, v in new.items() if ref not in old]
    for version in added:
        twin = next(
            (r for r in removed if r.kind == version.kind and r.content() == version.content()),
            None,
        )
        if twin is not None:
            removed.remove(twin)
            change = RuleChange("renamed", version.kind, version.id, twin, version)
        else:
            change = RuleChange("added", version.kind, version.id, None, version)
        changes.append((_order(version), change))
    for version in removed:
        changes.append(
            (_order(version), RuleChange("removed", version.kind, version.id, version, None))
        )
    changes.sort(key=lambda item: item[0])
    result.changes = [c for _, c in changes]
    return result


def iter_kinds(comparison: RuleComparison) -> Iterator[tuple[str, list[RuleChange]]]:
    """The changes grouped by kind, in :data:`KIND_ORDER`."""
    for kind in KIND_ORDER:
        group = [c for c in comparison.changes if c.kind == kind]
        if group:
            yield kind, group
