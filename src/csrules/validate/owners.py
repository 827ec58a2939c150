"""``{{ case.owner }}`` where a case can have no owner: a warning with the guard to write.

A case has no owner on a digital tier, and on a dedicated tier whose owner field is
optional and missing for the account; ``case.owner`` is then "no data", which a
template renders as empty text: "Owner: " reaches Slack and nobody notices. So every
read of ``case.owner`` in an action or escalation-step template that is not guarded
by ``has(case.owner)`` is a warning, but only where an owner can really be missing:

- an action of a playbook that can fire on such a tier (read from the conjuncts of
  its ``when`` that compare ``tier``: ``tier != 'tech_touch'``, ``tier == 'x'``,
  ``tier in [...]``; any other condition may fire on any tier);
- a step of an escalation policy that cases on such a tier can follow (through a
  playbook's ``escalation``, or a tier's for the playbooks that do not override it).

Guarded means the read is only evaluated when the owner is present:
``has(case.owner) ? case.owner : '...'``, ``has(case.owner) && case.owner != ''``,
``!has(case.owner) || ...``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from csrules.errors import Diagnostic, Severity
from csrules.expr.ast import (
    Binary,
    Conditional,
    ExprSyntaxError,
    Has,
    Ident,
    ListLit,
    Literal,
    Node,
    Select,
    Unary,
    parse,
    position,
)
from csrules.expr.templates import TemplateHole, TemplateSyntaxError, split_template
from csrules.load.playbook import LoadedPlaybook, Located
from csrules.model.rules import Playbook, Tier
from csrules.validate.templates import parameter_strings

GUARDED_EXAMPLE = "{{ has(case.owner) ? case.owner : 'the CS team' }}"


def _is_owner(node: Node) -> bool:
    return (
        isinstance(node, Select)
        and node.field == "owner"
        and isinstance(node.operand, Ident)
        and node.operand.name == "case"
    )


def _present_if_true(node: Node) -> bool:
    """``node`` being true implies the owner is present."""
    if isinstance(node, Has):
        return _is_owner(node.select)
    if isinstance(node, Unary) and node.op == "!":
        return _present_if_false(node.operand)
    if isinstance(node, Binary) and node.op == "&&":
        return _present_if_true(node.left) or _present_if_true(node.right)
    if isinstance(node, Binary) and node.op == "||":
        return _present_if_true(node.left) and _present_if_true(node.right)
    return False


def _present_if_false(node: Node) -> bool:
    """``node`` being false implies the owner is present."""
    if isinstance(node, Unary) and node.op == "!":
        return _present_if_true(node.operand)
    if isinstance(node, Binary) and node.op == "||":
        return _present_if_false(node.left) or _present_if_false(node.right)
    if isinstance(node, Binary) and node.op == "&&":
        return _present_if_false(node.left) and _present_if_false(node.right)
    return False


def unguarded_owner_reads(node: Node, guarded: bool = False) -> list[Node]:
    """The ``case.owner`` reads of ``node`` that can run when there is no owner."""
    if _is_owner(node):
        return [] if guarded else [node]
    if isinstance(node, Has):
        return []
    if isinstance(node, Conditional):
        return [
            *unguarded_owner_reads(node.cond, guarded),
            *unguarded_owner_reads(node.then, guarded or _present_if_true(node.cond)),
            *unguarded_owner_reads(node.else_, guarded or _present_if_false(node.cond)),
        ]
    if isinstance(node, Binary) and node.op in ("&&", "||"):
        right_guard = (
            _present_if_true(node.left) if node.op == "&&" else _present_if_false(node.left)
        )
        return [
            *unguarded_owner_reads(node.left, guarded),
            *unguarded_owner_reads(node.right, guarded or right_guard),
        ]
    return [read for child in node.children() for read in unguarded_owner_reads(child, guarded)]


# --- which tiers a case can be on ------------------------------------------------------


def _conjuncts(node: Node) -> Iterator[Node]:
    if isinstance(node, Binary) and node.op == "&&":
        yield from _conjuncts(node.left)
        yield from _conjuncts(node.right)
    else:
        yield node


def _names(node: Node) -> set[str] | None:
    if isinstance(node, Literal) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ListLit):
        found: set[str] = set()
        for item in node.items:
            names = _names(item)
            if names is None:
                return None
            found |= names
        return found
    return None


def _is_tier(node: Node) -> bool:
    return isinstance(node, Ident) and node.name == "tier"


def _constraint(node: Node, every: frozenset[str]) -> frozenset[str]:
    """The tiers a conjunct allows (every tier when it does not compare ``tier``)."""
    negated = isinstance(node, Unary) and node.op == "!"
    inner = node.operand if isinstance(node, Unary) and negated else node
    if not isinstance(inner, Binary):
        return every
    names: set[str] | None = None
    if inner.op in ("==", "!=") and _is_tier(inner.left):
        names = _names(inner.right)
    elif inner.op in ("==", "!=") and _is_tier(inner.right):
        names = _names(inner.left)
    elif inner.op == "in" and _is_tier(inner.left):
        names = _names(inner.right)
    if names is None:
        return every
    if (inner.op == "!=") != negated:
        return every - names
    return every & names


def possible_tiers(when: str, every: frozenset[str]) -> frozenset[str]:
    """The tiers a playbook whose condition is ``when`` can fire on."""
    try:
        root = parse(when)
    except ExprSyntaxError:
        return every
    allowed = every
    for conjunct in _conjuncts(root):
        allowed &= _constraint(conjunct, every)
    return allowed


# --- which tiers can leave a case without an owner --------------------------------------


@dataclass(frozen=True)
class Ownership:
    """Why cases on each tier may have no owner (tiers that always have one are absent)."""

    reasons: dict[str, str]  # tier id -> reason

    @classmethod
    def of(cls, loaded: LoadedPlaybook) -> Ownership:
        fields = loaded.project.snapshot.fields if loaded.project else {}
        reasons: dict[str, str] = {}
        for tier in loaded.tiers:
            reason = _no_owner_reason(tier.item, fields)
            if reason is not None:
                reasons[tier.item.id] = reason
        return cls(reasons)

    def missing_on(self, tiers: frozenset[str] | None) -> str | None:
        """Why an owner can be missing for cases on ``tiers`` (``None``: any tier)."""
        if tiers is None:
            return next(iter(self.reasons.values()), None)
        return next((self.reasons[t] for t in sorted(tiers) if t in self.reasons), None)


def _no_owner_reason(tier: Tier, fields: Any) -> str | None:
    if tier.coverage == "digital":
        return f"tier '{tier.id}' is digital: its cases have no owner"
    if tier.coverage == "dedicated":
        field = fields.get(tier.owner_field)
        if field is None or field.optional:
            return (
                f"tier '{tier.id}' takes the owner from account.{tier.owner_field}, "
                "which may be missing"
            )
    return None


def _reachable(loaded: LoadedPlaybook) -> dict[str, frozenset[str] | None]:
    """playbook id -> the tiers it can fire on (``None``: cannot tell, any tier)."""
    every = loaded.known("tier")
    return {
        pb.item.id: None if every is None else possible_tiers(pb.item.when, every)
        for pb in loaded.playbooks
    }


def _policy_tiers(
    loaded: LoadedPlaybook, reachable: dict[str, frozenset[str] | None], policy: str
) -> frozenset[str] | None:
    """The tiers of the cases that can follow escalation ``policy``."""
    tiers: set[str] = set()
    for pb in loaded.playbooks:
        fired = reachable[pb.item.id]
        if pb.item.escalation == policy:
            if fired is None:
                return None
            tiers |= fired
        elif pb.item.escalation is None:
            for tier in loaded.tiers:
                if tier.item.escalation == policy and (fired is None or tier.item.id in fired):
                    tiers.add(tier.item.id)
    return frozenset(tiers)  # no case follows an unused policy: nothing to warn about


# --- the templates ---------------------------------------------------------------------


def _reads(text: str) -> Iterator[tuple[TemplateHole, Node]]:
    try:
        parts = split_template(text)
    except TemplateSyntaxError:
        return  # reported by the template checks
    for part in parts:
        if isinstance(part, TemplateHole) and "owner" in part.source:
            try:
                root = parse(part.source)
            except ExprSyntaxError:
                continue
            for read in unguarded_owner_reads(root):
                yield part, read


def _warnings(
    located: Located[Any], base: tuple[str | int, ...], params: dict[str, Any], reason: str
) -> Iterator[Diagnostic]:
    for path, text in parameter_strings(params, base):
        for hole, read in _reads(text):
            line, column = position(text, hole.start + read.start)
            fix = (
                f"write {GUARDED_EXAMPLE}"
                if hole.source == "case.owner"
                else f"guard it with has(case.owner), e.g. {GUARDED_EXAMPLE}"
            )
            yield Diagnostic(
                f"case.owner is missing when the case has no owner ({reason}), and then "
                f"renders as empty text; {fix}",
                located.doc.inner_location((*located.path, *path), line, column),
                severity=Severity.WARNING,
                kind=located.kind,
                rule_id=located.id,
                field=_field_label(path),
                code="owner",
            )


def _field_label(path: tuple[str | int, ...]) -> str:
    """``action 1: text``, as the other template checks name it."""
    parts: list[str] = []
    for part in path:
        if isinstance(part, int) and parts:
            parts[-1] = f"{parts[-1]} {part + 1}"
        else:
            parts.append(str(part))
    return ": ".join(parts)


def unguarded_owners(loaded: LoadedPlaybook) -> list[Diagnostic]:
    """Warnings for the unguarded ``case.owner`` reads where an owner can be missing."""
    ownership = Ownership.of(loaded)
    reachable = _reachable(loaded)
    found: list[Diagnostic] = []
    for pb in loaded.playbooks:
        reason = ownership.missing_on(reachable[pb.item.id])
        if reason is None:
            continue
        for index, action in enumerate(_actions(pb.item)):
            found.extend(_warnings(pb, ("action", index), action, reason))
    for esc in loaded.escalations:
        reason = ownership.missing_on(_policy_tiers(loaded, reachable, esc.item.id))
        if reason is None:
            continue
        for index, step in enumerate(esc.item.step):
            found.extend(_warnings(esc, ("step", index), step.params, reason))
    return found


def _actions(playbook: Playbook) -> list[dict[str, Any]]:
    return [action.params for action in playbook.action]
