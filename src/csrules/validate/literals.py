"""Names written as string literals: ``tier == 'tech_tuch'`` is always false.

CEL sees only a string, so the type-checker cannot catch a misspelt tier, band,
segment or ADKAR element. This check compares those literals with the names the
playbook directory defines, so the typo fails in review instead of silently never
matching in production.
"""

from __future__ import annotations

from dataclasses import dataclass

from csrules.expr.ast import Binary, Ident, Literal, Node, Select, walk
from csrules.expr.checker import ExprIssue
from csrules.expr.types import STRING
from csrules.load.playbook import LoadedPlaybook
from csrules.model.rules import ADKAR_ELEMENTS
from csrules.validate.references import did_you_mean


@dataclass(frozen=True)
class NameSets:
    """What each name-valued CEL variable can hold; ``None`` when the names cannot all
    be known (a rule file could not be read), and that variable is not checked."""

    tiers: frozenset[str] | None
    bands: frozenset[str] | None
    segments: frozenset[str] | None
    elements: frozenset[str]

    @classmethod
    def of(cls, loaded: LoadedPlaybook) -> NameSets:
        """The names written in the directory, those of rules that failed to model too."""
        bands = loaded.known("band")
        return cls(
            tiers=loaded.known("tier"),
            bands=None if bands is None else bands | {"unknown"},
            segments=loaded.known("segment"),
            elements=frozenset(ADKAR_ELEMENTS),
        )

    def for_node(self, node: Node) -> tuple[str, frozenset[str]] | None:
        """``(what, names)`` when ``node`` reads a name-valued variable."""
        found: tuple[str, frozenset[str] | None] | None = None
        if isinstance(node, Ident) and node.name == "tier":
            found = "tier", self.tiers
        elif isinstance(node, Ident) and node.name == "segments":
            found = "segment", self.segments
        elif isinstance(node, Select) and isinstance(node.operand, Ident):
            owner, field = node.operand.name, node.field
            if owner == "health" and field == "band":
                found = "band", self.bands
            elif owner == "adkar" and field == "barrier":
                found = "ADKAR element", self.elements | {""}
            elif owner == "adkar" and field == "unknown":
                found = "ADKAR element", self.elements
        if found is None or found[1] is None:
            return None
        return found[0], found[1]


def _string(node: Node) -> str | None:
    if isinstance(node, Literal) and node.type == STRING and isinstance(node.value, str):
        return node.value
    return None


def _issue(literal: Node, what: str, value: str, names: frozenset[str]) -> ExprIssue:
    return ExprIssue(
        message=f"no {what} is named '{value}'{did_you_mean(value, names)}, so this "
        "comparison can never hold; fix the name",
        line=literal.line,
        column=literal.column,
        start=literal.start,
        end=literal.end,
    )


def literal_name_issues(root: Node, names: NameSets) -> list[ExprIssue]:
    """Issues for ``==``/``!=``/``in`` between a name-valued variable and an unknown name."""
    found: list[ExprIssue] = []
    for node in walk(root):
        if not isinstance(node, Binary):
            continue
        pairs: tuple[tuple[Node, Node], ...]
        if node.op in ("==", "!="):
            pairs = ((node.left, node.right), (node.right, node.left))
        elif node.op == "in":
            pairs = ((node.right, node.left),)
        else:
            continue
        for variable, other in pairs:
            target = names.for_node(variable)
            value = _string(other)
            if target is None or value is None:
                continue
            what, allowed = target
            if node.op != "in" and what == "segment":
                continue  # segments == 'x' compares a list with a string: the checker's job
            if value not in allowed:
                found.append(_issue(other, what, value, allowed))
    return found
