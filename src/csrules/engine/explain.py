"""Why a condition has the value it has: the values of its parts, for ``explain``.

A condition that is false is broken down along its ``&&``/``||``/``!``/ternary
structure, and every comparison shows the values of its operands, so a CS ops user
sees which part failed ("account.arr >= portfolio.arr_p80: false (20000 vs 120000)").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.values import Value
from csrules.expr.ast import Binary, Conditional, Literal, Node, Unary, parse

_LOGICAL = ("&&", "||")
_COMPARISON = ("==", "!=", "<", "<=", ">", ">=", "in")


@dataclass
class Term:
    """A sub-expression, its value for the account, and the parts that explain it."""

    source: str
    value: Value
    parts: list[Term] = field(default_factory=list)


def _parts(node: Node) -> list[Node]:
    if isinstance(node, Binary) and node.op in _LOGICAL:
        left, right = node.left, node.right
        # flatten chains of the same operator: a && b && c
        out: list[Node] = []
        for side in (left, right):
            out.extend(_parts(side) if isinstance(side, Binary) and side.op == node.op else [side])
        return out
    if isinstance(node, Unary) and node.op == "!":
        return [node.operand]
    if isinstance(node, Conditional):
        return [node.cond, node.then, node.else_]
    if isinstance(node, Binary) and node.op in _COMPARISON:
        return [side for side in (node.left, node.right) if not isinstance(side, Literal)]
    return []


def explain_condition(
    compiled: CompiledPlaybook,
    source: str,
    activation: Mapping[str, Any],
    now: datetime,
    *,
    depth: int = 4,
) -> Term:
    """The value of ``source`` for one account, with its parts down to ``depth`` levels."""
    tree = parse(source)

    def build(node: Node, level: int) -> Term:
        text = node.source_text(source)
        value = compiled.kernel(text).evaluate([activation], now)[0]
        term = Term(text, value)
        if level < depth:
            term.parts = [build(part, level + 1) for part in _parts(node)]
        return term

    return build(tree, 0)
