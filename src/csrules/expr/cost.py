"""The estimated cost of an expression for one account, checked by ``validate``.

A rule whose comprehensions nest over long lists (``account.events.map(a,
account.events.map(b, ...)))``) can take hours on an account with a thousand events.
``validate`` estimates, before any snapshot is read, how many operations an
expression may take for one account, in the style of Kubernetes' CEL cost estimate:

- every operation costs about one (a literal, a name, a field, an operator; a call, a
  list literal or a unary operator two);
- a comprehension (``exists``, ``all``, ``exists_one``, ``map``, ``filter``) costs its
  range, plus its body's cost (plus one) for each item of the list or key of the map it
  walks, so nested comprehensions multiply;
- looking into a list (``x in list``), comparing lists or maps, and concatenating lists
  cost one more per item;
- a ternary costs its condition and the dearer branch (only one runs).

Sizes come from the ``max_items`` hints of ``[snapshot.fields]`` (``tags = { type =
"list<string>", max_items = 50 }``), from what csrules knows (the number of segments,
the five ADKAR elements, a literal's items, a record's fields), and otherwise from
``[limits] list_size``. The unit is the reference backend's evaluation step: for data
within the hints, an expression never takes more steps than its estimate (string
lengths aside: building a long string costs steps at run time, but strings have no
hint here). An expression estimated over ``[limits] expression_cost`` is a validate
error that names the comprehension responsible.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from csrules.expr.ast import (
    Binary,
    Call,
    Comprehension,
    Conditional,
    Has,
    Ident,
    Index,
    ListLit,
    Literal,
    MapLit,
    Node,
    Select,
    Unary,
)
from csrules.expr.types import DYN, CelType, ListType, MapType, RecordType
from csrules.model.fieldtypes import FieldType


@dataclass(frozen=True)
class Size:
    """At most ``items`` items (a list) or keys (a map); ``elem`` bounds its items'
    own items (a list of lists); ``why`` says where the bound comes from."""

    items: int
    why: str
    elem: Size | None = None
    fix: str | None = None  # the max_items hint that would bound it, as written in csrules.toml


@dataclass(frozen=True)
class Sizes:
    """What bounds the lists and maps an expression may read, by dotted path
    (``account.tags``, ``segments``, ``adkar.unknown``); ``default`` is
    ``[limits] list_size``, for everything else."""

    known: Mapping[str, Size]
    default: int

    def unknown(self, what: str | None) -> Size:
        about = f" on {what}" if what else ""
        return Size(self.default, f"no max_items hint{about}, so [limits] list_size")


def field_sizes(fields: Mapping[str, FieldType], default: int) -> dict[str, Size]:
    """The sizes of the list and map fields of ``account``."""
    sizes: dict[str, Size] = {}
    for name, field in fields.items():
        if field.kind not in ("list", "map"):
            continue
        path = f"account.{name}"
        size = _field_size(field, field.max_items, path, default, name)
        sizes[path] = size
    return sizes


def _field_size(field: FieldType, hint: int | None, path: str, default: int, name: str) -> Size:
    nested = None
    if field.element is not None and field.element.kind in ("list", "map"):
        nested = _field_size(field.element, hint, path, default, name)
    if hint is None:
        spelled = str(field).replace('"', "")
        fix = f'{name} = {{ type = "{spelled}", max_items = 100 }}'
        return Size(default, f"no max_items hint on {path}, so [limits] list_size", nested, fix)
    return Size(hint, f"the max_items hint of {path}", nested)


@dataclass(frozen=True)
class Walk:
    """A comprehension and what it costs: its range's size, its body's cost per item,
    and the costliest comprehension inside its body."""

    node: Comprehension
    size: Size
    body: int
    cost: int
    inner: Walk | None


@dataclass(frozen=True)
class Estimate:
    """The cost of an expression, and its costliest outermost comprehension."""

    cost: int
    walk: Walk | None


@dataclass(frozen=True)
class _Part:
    cost: int
    size: Size | None = None
    walk: Walk | None = None


def _dearest(*walks: Walk | None) -> Walk | None:
    present = [w for w in walks if w is not None]
    return max(present, key=lambda w: w.cost) if present else None


class _Estimator:
    def __init__(self, types: Mapping[int, CelType], sizes: Sizes) -> None:
        self.types = types
        self.sizes = sizes
        self.scopes: list[dict[str, Size | None]] = []

    def type_of(self, node: Node) -> CelType:
        return self.types.get(id(node), DYN)

    def scoped(self, name: str) -> tuple[bool, Size | None]:
        for scope in reversed(self.scopes):
            if name in scope:
                return True, scope[name]
        return False, None

    def path(self, node: Node) -> str | None:
        if isinstance(node, Ident):
            return None if self.scoped(node.name)[0] else node.name
        if isinstance(node, Select):
            base = self.path(node.operand)
            return None if base is None else f"{base}.{node.field}"
        return None

    def container(self, node: Node, found: Size | None) -> Size:
        """The size of a list or map valued ``node`` (a default when unbounded)."""
        if found is not None:
            return found
        t = self.type_of(node)
        if isinstance(t, RecordType):
            count = len(t.fields)
            return Size(count, f"its {count} fields")
        return self.sizes.unknown(self.path(node))

    def size_of(self, node: Node) -> Size | None:
        """A known size for a name or field path, when it holds a list or a map."""
        t = self.type_of(node)
        if not isinstance(t, ListType | MapType | RecordType):
            return None
        path = self.path(node)
        if path is not None and path in self.sizes.known:
            return self.sizes.known[path]
        return self.container(node, None)

    def part(self, node: Node) -> _Part:
        if isinstance(node, Literal):
            return _Part(1)
        if isinstance(node, Ident):
            bound, size = self.scoped(node.name)
            return _Part(1, size if bound else self.size_of(node))
        if isinstance(node, Select):
            operand = self.part(node.operand)
            path = self.path(node)
            size = self.size_of(node) if path is not None else None
            return _Part(1 + operand.cost, size, operand.walk)
        if isinstance(node, Has):
            operand = self.part(node.select.operand)
            return _Part(2 + operand.cost, None, operand.walk)
        if isinstance(node, Index):
            operand, index = self.part(node.operand), self.part(node.index)
            size = operand.size.elem if operand.size is not None else None
            if size is None and isinstance(self.type_of(node), ListType | MapType):
                size = self.sizes.unknown(None)
            return _Part(1 + operand.cost + index.cost, size, _dearest(operand.walk, index.walk))
        if isinstance(node, Unary):  # the operator and its sign are two steps
            operand = self.part(node.operand)
            return _Part(2 + operand.cost, None, operand.walk)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Conditional):
            cond, then, else_ = (self.part(n) for n in (node.cond, node.then, node.else_))
            larger = max((then, else_), key=lambda p: p.cost)
            size = _larger(then.size, else_.size)
            return _Part(1 + cond.cost + larger.cost, size, _dearest(cond.walk, larger.walk))
        if isinstance(node, ListLit | MapLit):
            children = node.items if isinstance(node, ListLit) else node.children()
            parts = [self.part(child) for child in children]
            count = len(node.items) if isinstance(node, ListLit) else len(node.entries)
            elem = None
            for p in parts:
                elem = _larger(elem, p.size)
            size = Size(count, f"a literal of {count} items", elem)
            return _Part(2 + sum(p.cost for p in parts), size, _dearest(*(p.walk for p in parts)))
        if isinstance(node, Call):
            operands = node.args if node.target is None else (node.target, *node.args)
            parts = [self.part(child) for child in operands]
            result: Size | None = None
            if isinstance(self.type_of(node), ListType | MapType):
                passed = parts[0].size if node.function == "dyn" and parts else None
                result = passed or self.sizes.unknown(f"the result of {node.function}()")
            return _Part(2 + sum(p.cost for p in parts), result, _dearest(*(p.walk for p in parts)))
        if isinstance(node, Comprehension):
            return self.comprehension(node)
        return _Part(1)  # pragma: no cover - every node kind is handled above

    def binary(self, node: Binary) -> _Part:
        left, right = self.part(node.left), self.part(node.right)
        cost = 1 + left.cost + right.cost
        walk = _dearest(left.walk, right.walk)
        size: Size | None = None
        if node.op == "in" and isinstance(self.type_of(node.right), ListType):
            cost += self.container(node.right, right.size).items
        elif node.op in ("==", "!=") and isinstance(self.type_of(node.left), ListType | MapType):
            cost += self.container(node.left, left.size).items
        elif node.op == "+" and isinstance(self.type_of(node), ListType):
            a = self.container(node.left, left.size)
            b = self.container(node.right, right.size)
            size = Size(a.items + b.items, f"{a.why} and {b.why}", _larger(a.elem, b.elem))
            cost += size.items
        return _Part(cost, size, walk)

    def comprehension(self, node: Comprehension) -> _Part:
        source = self.part(node.range)
        size = self.container(node.range, source.size)
        elem = size.elem if isinstance(self.type_of(node.range), ListType) else None
        self.scopes.append({node.variable: elem})
        try:
            parts = [self.part(n) for n in (node.filter, node.body) if n is not None]
        finally:
            self.scopes.pop()
        body = sum(p.cost for p in parts)
        cost = 1 + source.cost + size.items * (body + 1)
        inner = _dearest(*(p.walk for p in parts))
        walk = Walk(node, size, body, cost, inner)
        result: Size | None = None
        if node.macro == "map":
            result = replace(size, elem=parts[-1].size)
        elif node.macro == "filter":
            result = size
        return _Part(cost, result, walk)  # the outermost: its cost includes its range's


def _larger(a: Size | None, b: Size | None) -> Size | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a.items >= b.items else b


def estimate(node: Node, types: Mapping[int, CelType], sizes: Sizes) -> Estimate:
    """The estimated cost of ``node`` (checked, with the types the checker found)."""
    part = _Estimator(types, sizes).part(node)
    return Estimate(part.cost, part.walk)


def over_limit_message(found: Estimate, limit: int, text: Callable[[Node], str]) -> str:
    """What validate says about an expression over ``[limits] expression_cost``."""
    head = (
        f"estimated cost {found.cost:,} is over the limit of {limit:,} ([limits] "
        "expression_cost) for one account"
    )
    walk = found.walk
    if walk is None:
        return (
            f"{head}: the expression looks into or concatenates long lists; bound them "
            "with max_items hints in [snapshot.fields], restructure the expression, or "
            "raise [limits] expression_cost in csrules.toml"
        )
    steps = []
    fixes: list[str] = []
    level: Walk | None = walk
    while level is not None:
        if level.size.fix is not None and level.size.fix not in fixes:
            fixes.append(level.size.fix)
        steps.append(
            f"'{_short(text(level.node.range))}' (up to {level.size.items:,} items: "
            f"{level.size.why})"
        )
        level = level.inner
    nesting = (
        f"{walk.node.macro}() walks " + steps[0]
        if len(steps) == 1
        else f"{walk.node.macro}() walks " + ", and for each item ".join(steps)
    )
    example = "; ".join(fixes) if fixes else 'tags = { type = "list<string>", max_items = 50 }'
    return (
        f"{head}: {nesting}, at a cost of {walk.body + 1:,} per item of the first; bound "
        f"the lists with max_items hints in [snapshot.fields] (e.g. {example}), "
        "restructure the expression, or raise [limits] expression_cost in csrules.toml"
    )


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 60 else flat[:57] + "..."
