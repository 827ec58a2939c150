"""What each playbook's decisions depend on, and the hashes cases and actions record.

A case is opened, escalated or resolved, and its actions rendered, from far more than
the playbook's own table: the segments its condition names, the health measures those
segments read, the aggregates the measures compare with, the tier (which also picks
the owner and, unless the playbook names one, the escalation ladder), the ladder's
steps, the silences that may hold it. So that an auditor can tell which decisions a
rule change could have affected, every playbook gets

- ``rule_hash``: the content hash of the playbook itself
  (:meth:`~csrules.load.canonical.RuleVersion.content_hash`, the hash ``history``
  shows for each version of the rule: formatting never changes it);
- ``depends``: every rule its decisions read, transitively, by ``kind:id``, itself
  included, with the content hash of each; the snapshot fields they read are entries
  ``field:NAME`` (their declared type);
- ``depends_hash``: one sha256 over ``depends``.

What counts as read is found in the syntax trees of every expression and template
hole: ``'x' in segments`` reads segment ``x`` (any other use of ``segments`` reads
them all), ``health.measures.m`` reads measure ``m`` (the score, band, drivers,
previous or delta read ``[health]`` and every measure), ``portfolio.a`` aggregate
``a``, ``adkar`` the ADKAR table, ``tier`` every tier, ``account.f`` field ``f``.
Every playbook reads every tier (the tier names its case's owner), its escalation
policy (or every policy a tier names when it has none) and the silences that name it
(or ``*``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from csrules.expr.ast import (
    Binary,
    Comprehension,
    Ident,
    Index,
    Literal,
    Node,
    Select,
)
from csrules.expr.templates import TemplateHole, TemplateSyntaxError, split_template
from csrules.load.canonical import RuleVersion, rule_versions, syntax_tree
from csrules.load.playbook import LoadedPlaybook
from csrules.model.rules import Action

Ref = str  # "kind:id"


@dataclass(frozen=True)
class Decision:
    """What one playbook's cases and actions record about the rules behind them."""

    playbook: str
    rule_hash: str
    depends_hash: str
    depends: Mapping[Ref, str]  # kind:id -> content hash

    def to_json(self) -> dict[str, Any]:
        return {
            "rule_hash": self.rule_hash,
            "depends_hash": self.depends_hash,
            "depends": dict(self.depends),
        }


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children())


def _path(node: Node) -> list[str] | None:
    """``account.a.b`` (or ``account['a']``) as ``['account', 'a', 'b']``."""
    parts: list[str] = []
    while True:
        if isinstance(node, Select):
            parts.append(node.field)
            node = node.operand
        elif (
            isinstance(node, Index)
            and isinstance(node.index, Literal)
            and isinstance(node.index.value, str)
        ):
            parts.append(node.index.value)
            node = node.operand
        elif isinstance(node, Ident):
            parts.append(node.name)
            return parts[::-1]
        else:
            return None


class _Reads:
    """The rules one expression reads, as ``kind:id`` refs (``kind:*``: all of them)."""

    def __init__(self) -> None:
        self.refs: set[Ref] = set()

    def expression(self, source: str) -> None:
        tree = syntax_tree(source)
        if tree is not None:
            self._tree(tree)

    def template(self, text: str) -> None:
        try:
            parts = split_template(text)
        except TemplateSyntaxError:
            return
        for part in parts:
            if isinstance(part, TemplateHole):
                self.expression(part.source)

    def _tree(self, tree: Node) -> None:
        bound = {n.variable for n in _walk(tree) if isinstance(n, Comprehension)}
        claimed: set[int] = set()  # nodes read precisely by an enclosing pattern
        for node in _walk(tree):
            if id(node) in claimed:
                continue
            if (
                isinstance(node, Binary)
                and node.op == "in"
                and isinstance(node.left, Literal)
                and isinstance(node.left.value, str)
                and isinstance(node.right, Ident)
                and node.right.name == "segments"
                and "segments" not in bound
            ):
                self.refs.add(f"segment:{node.left.value}")
                claimed.add(id(node.right))
                continue
            path = _path(node) if isinstance(node, Select | Index | Ident) else None
            if path is None or path[0] in bound:
                continue
            for sub in _walk(node):
                claimed.add(id(sub))
            self._variable(path)

    def _variable(self, path: list[str]) -> None:
        root, rest = path[0], path[1:]
        if root == "account":
            self.refs.add(f"field:{rest[0]}" if rest else "field:*")
        elif root == "portfolio":
            self.refs.add(f"aggregate:{rest[0]}" if rest else "aggregate:*")
        elif root == "health":
            if len(rest) >= 2 and rest[0] == "measures":
                self.refs.add(f"measure:{rest[1]}")
            else:
                self.refs.update(("health:health", "measure:*"))
        elif root == "segments":
            self.refs.add("segment:*")
        elif root == "tier":
            self.refs.add("tier:*")
        elif root == "adkar":
            self.refs.add("adkar:adkar")


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _actions(reads: _Reads, actions: Iterable[Action]) -> None:
    for action in actions:
        for text in _strings(action.params):
            reads.template(text)


def _direct(loaded: LoadedPlaybook) -> dict[Ref, set[Ref]]:
    """What each rule reads itself (before following those rules)."""
    direct: dict[Ref, set[Ref]] = {}

    def record(ref: Ref, reads: _Reads) -> None:
        direct[ref] = reads.refs

    for agg in loaded.aggregates:
        reads = _Reads()
        for source in (agg.item.of, agg.item.where):
            if source is not None:
                reads.expression(source)
        record(f"aggregate:{agg.item.id}", reads)
    if loaded.health is not None:
        record("health:health", _Reads())
        for measure in loaded.health.item.measure:
            reads = _Reads()
            reads.expression(measure.value)
            if measure.explain is not None:
                reads.template(measure.explain)
            record(f"measure:{measure.id}", reads)
    for seg in loaded.segments:
        reads = _Reads()
        reads.expression(seg.item.when)
        record(f"segment:{seg.item.id}", reads)
    for tier in loaded.tiers:
        reads = _Reads()
        reads.expression(tier.item.when)
        record(f"tier:{tier.item.id}", reads)
    if loaded.adkar is not None:
        reads = _Reads()
        for _, source in loaded.adkar.item.elements():
            reads.expression(source)
        record("adkar:adkar", reads)
    for esc in loaded.escalations:
        reads = _Reads()
        _actions(reads, esc.item.step)
        record(f"escalation:{esc.item.id}", reads)
    for silence in loaded.silences:
        reads = _Reads()
        reads.expression(silence.item.when)
        record(f"silence:{silence.item.id}", reads)
    for pb in loaded.playbooks:
        rule = pb.item
        reads = _Reads()
        reads.expression(rule.when)
        _actions(reads, rule.action)
        reads.refs.add("tier:*")  # the tier picks the case's owner
        if rule.escalation is not None:
            reads.refs.add(f"escalation:{rule.escalation}")
        else:  # the ladder of the account's tier
            reads.refs.update(
                f"escalation:{t.item.escalation}"
                for t in loaded.tiers
                if t.item.escalation is not None
            )
        reads.refs.update(
            f"silence:{s.item.id}"
            for s in loaded.silences
            if "*" in s.item.playbooks or rule.id in s.item.playbooks
        )
        record(f"playbook:{rule.id}", reads)
    return direct


def _expand(ref: Ref, known: Iterable[Ref]) -> list[Ref]:
    """``kind:*`` as every known rule of that kind; anything else as itself."""
    kind, _, name = ref.partition(":")
    if name != "*":
        return [ref]
    return sorted(r for r in known if r.startswith(f"{kind}:"))


def _field_hashes(versions: Mapping[tuple[str, str], RuleVersion]) -> dict[Ref, str]:
    """``field:NAME`` -> a hash of its declared type (from ``[snapshot.fields]``)."""
    snapshot = versions.get(("settings", "snapshot"))
    if snapshot is None:
        return {}
    out: dict[Ref, str] = {}
    for key, fact in snapshot.facts.items():
        if key.startswith("fields."):
            name = key[len("fields.") :].split(".", 1)[0]
            out[f"field:{name}"] = hashlib.sha256(fact.canonical.encode()).hexdigest()
    return out


def decisions(loaded: LoadedPlaybook) -> dict[str, Decision]:
    """Every playbook's :class:`Decision`, by playbook id."""
    versions = rule_versions(loaded)
    hashes: dict[Ref, str] = {f"{k}:{i}": v.content_hash() for (k, i), v in versions.items()}
    hashes.update(_field_hashes(versions))
    direct = _direct(loaded)
    known = set(hashes)
    out: dict[str, Decision] = {}
    for pb in loaded.playbooks:
        start = f"playbook:{pb.item.id}"
        seen: set[Ref] = set()
        stack = [start]
        while stack:
            ref = stack.pop()
            for name in _expand(ref, known | set(direct)):
                if name in seen:
                    continue
                seen.add(name)
                stack.extend(direct.get(name, ()))
        depends = {ref: hashes[ref] for ref in sorted(seen) if ref in hashes}
        text = json.dumps(depends, sort_keys=True, separators=(",", ":"))
        out[pb.item.id] = Decision(
            playbook=pb.item.id,
            rule_hash=hashes.get(start, ""),
            depends_hash=hashlib.sha256(text.encode()).hexdigest(),
            depends=depends,
        )
    return out
