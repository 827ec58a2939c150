"""CEL to SQL: one expression compiled into SQLGlot value and fault columns.

The SQL twin of ``engine/colcompile.py``, with the same encoding: every compiled
sub-expression is a :class:`S` with

- ``value``: the CEL value per account (meaningful only where there is no fault);
- ``fault``: an INTEGER, NULL where the value is good, ``0`` for *no data* and a
  positive code (an index into :class:`~csrules.engine.colcompile.Messages`) for an
  error;
- ``fatal``: an error cel-python *raises* instead of returning (``int()`` of an
  infinite double), which escapes ``&&``/``||``;
- ``None`` for ``fault``/``fatal`` when the sub-expression cannot fail.

Each operator propagates faults exactly as the reference backend does (the same
rules, and the same :mod:`~csrules.engine.evalerrors` messages, as the columnar
backend; see docs/architecture.md). Timestamps and durations travel as BIGINT
microseconds since the epoch; CEL doubles as DOUBLE, ints as BIGINT (checked for
64-bit overflow in DECIMAL(38, 0)), strings compared by code point.

A warehouse has no per-row fallback, so what is outside the subset raises
:class:`SqlUnsupported` with what could not be expressed; the caller refuses the
playbook at compile time, naming the rule, its location and that construct.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from celpy import celtypes
from sqlglot import exp

from csrules.engine import evalerrors
from csrules.engine.colcompile import NO_DATA_CODE, Messages
from csrules.engine.sql.target import Target
from csrules.engine.values import EvalError
from csrules.expr.ast import (
    INT64_MAX,
    INT64_MIN,
    Binary,
    Call,
    Conditional,
    Has,
    Ident,
    Index,
    ListLit,
    Literal,
    Node,
    Select,
    Unary,
)
from csrules.expr.functions import FunctionSpec
from csrules.expr.types import (
    BOOL,
    DOUBLE,
    DURATION,
    INT,
    STRING,
    TIMESTAMP,
    CelType,
    ListType,
    MapType,
)

_BUILTIN_FUNCTIONS: Final = "csrules.hooks.builtin.functions"
_US: Final = 1_000_000
_TWO_53: Final = 2**53
_MIN_TIMESTAMP_US: Final = -62135596800 * _US  # 0001-01-01T00:00:00Z
_MAX_TIMESTAMP_US: Final = 253402300799 * _US + 999_999  # 9999-12-31T23:59:59.999999Z
_WIDE: Final = "DECIMAL(38, 0)"
_NOCONST: Final = object()


class SqlUnsupported(Exception):
    """A construct the SQL backend cannot express (the message names it)."""


Plain = bool | exp.Expression
"""Whether cel-python holds a value as a *plain* Python float/str (see colcompile.Plain):
``+ - *`` on doubles and ``+`` on strings return plain values, which divide by zero
with an error (not ``inf``) and have no ``contains``."""


@dataclass(frozen=True)
class S:
    """A compiled sub-expression (see the module docstring).

    ``fields`` makes it a record (``account``, ``health``...) that only ``.field`` and
    ``has()`` may use; ``map_prefix`` marks a ``map<string, T>`` stored as one column
    per key (``events_30d.login``); ``members`` gives, for a list of names
    (``segments``), a boolean per possible item.
    """

    type: CelType
    value: exp.Expression
    fault: exp.Expression | None = None
    fatal: exp.Expression | None = None
    const: Any = _NOCONST
    fields: Mapping[str, S] | None = None
    map_prefix: str | None = None
    members: Mapping[str, exp.Expression] | None = None
    plain: Plain = False

    @property
    def is_const(self) -> bool:
        return self.const is not _NOCONST


def _and(*parts: exp.Expression) -> exp.Expression:
    out = parts[0]
    for part in parts[1:]:
        out = exp.And(this=out, expression=part)
    return out


def _or(*parts: exp.Expression) -> exp.Expression:
    out = parts[0]
    for part in parts[1:]:
        out = exp.Or(this=out, expression=part)
    return out


def named(e: exp.Expression, name: str) -> exp.Expression:
    """``e AS "name"``."""
    return exp.Alias(this=e, alias=exp.Identifier(this=name, quoted=True))


def _not(part: exp.Expression) -> exp.Expression:
    return exp.Not(this=part)


_OPERATORS: Final = (exp.Binary, exp.Unary, exp.Between, exp.In)


def parenthesize(tree: exp.Expression) -> exp.Expression:
    """Parenthesize every operator nested in another: SQLGlot prints a tree built by
    hand as it is, so ``(a + b) * c`` must carry its parentheses."""
    for node in list(tree.walk()):
        if isinstance(node, _OPERATORS) and not isinstance(node, exp.Paren):
            for key in ("this", "expression"):
                child = node.args.get(key)
                if isinstance(child, _OPERATORS) and not isinstance(child, exp.Paren):
                    node.set(key, exp.Paren(this=child))
    return tree


def lit_int(value: int) -> exp.Expression:
    return exp.Literal.number(value)


def fault_lit(code: int) -> exp.Expression:
    return exp.Literal.number(code)


def null() -> exp.Expression:
    return exp.Null()


def is_null(e: exp.Expression | None) -> exp.Expression:
    return exp.true() if e is None else exp.Is(this=e, expression=exp.Null())


def not_null(e: exp.Expression) -> exp.Expression:
    return _not(exp.Is(this=e, expression=exp.Null()))


def when(
    cond: exp.Expression, then: exp.Expression, otherwise: exp.Expression | None = None
) -> exp.Expression:
    case = exp.Case(ifs=[exp.If(this=cond, true=then)])
    if otherwise is not None:
        case.set("default", otherwise)
    return case


def cases(
    pairs: Sequence[tuple[exp.Expression, exp.Expression]], otherwise: exp.Expression | None = None
) -> exp.Expression:
    case = exp.Case(ifs=[exp.If(this=c, true=t) for c, t in pairs])
    if otherwise is not None:
        case.set("default", otherwise)
    return case


def first(*faults: exp.Expression | None) -> exp.Expression | None:
    """The first fault in evaluation order (None when none can occur)."""
    present = [f for f in faults if f is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return exp.Coalesce(this=present[0], expressions=present[1:])


def fault_when(cond: exp.Expression, code: int) -> exp.Expression:
    return when(cond, fault_lit(code))


def _paren(e: exp.Expression) -> exp.Expression:
    return exp.Paren(this=e)


def column(name: str, table: str | None = None) -> exp.Expression:
    return exp.Column(
        this=exp.Identifier(this=name, quoted=True),
        table=exp.Identifier(this=table, quoted=True) if table else None,
    )


def leaf(t: CelType, value: exp.Expression, *, nullable: bool) -> S:
    """A variable read from a column; a NULL there is no data (an absent field)."""
    return S(t, value, fault=fault_when(is_null(value), NO_DATA_CODE) if nullable else None)


def absent(t: CelType) -> S:
    return S(t, null(), fault=fault_lit(NO_DATA_CODE))


def _plain_expr(p: Plain) -> exp.Expression:
    return (exp.true() if p else exp.false()) if isinstance(p, bool) else p


def _both(a: Plain, b: Plain) -> Plain:
    if isinstance(a, bool) and isinstance(b, bool):
        return a and b
    return _and(_plain_expr(a), _plain_expr(b))


class SqlBinder:
    """Names sub-expressions an expression reads more than once.

    The fault logic reads a value several times (a comparison and its NaN checks, a
    conversion and its range checks, both sides of ``&&``); written inline, each
    parent would copy its children and the query text would grow exponentially with
    the depth of the expression. A bound sub-expression becomes a column of an
    earlier common table expression instead (``pending``, by depth), so the text
    stays linear. Only expressions that cannot raise are bound (every guard is inside
    the bound expression), since a column is computed for every row.
    """

    def __init__(self) -> None:
        self.count = 0
        self.pending: list[tuple[int, str, exp.Expression]] = []
        self.depth: dict[str, int] = {}

    def bind(self, e: exp.Expression) -> exp.Expression:
        if isinstance(e, exp.Column | exp.Literal | exp.Null | exp.Boolean):
            return e
        names = {c.name for c in e.find_all(exp.Column)}
        if not names:
            return e  # a constant stays inline
        level = 1 + max((self.depth.get(n, 0) for n in names), default=0)
        name = f"__cs_b{self.count}"
        self.count += 1
        self.pending.append((level, name, e))
        self.depth[name] = level
        return column(name)

    def bind_opt(self, e: exp.Expression | None) -> exp.Expression | None:
        return None if e is None else self.bind(e)

    def take(self) -> list[dict[str, exp.Expression]]:
        """The pending columns by depth (one CTE each); they are then available."""
        if not self.pending:
            return []
        deepest = max(level for level, _, _ in self.pending)
        layers = [
            {name: e for level, name, e in self.pending if level == d}
            for d in range(1, deepest + 1)
        ]
        self.pending = []
        self.depth = {}
        return layers


@dataclass
class SqlCompiler:
    """Compiles one expression tree; raises :class:`SqlUnsupported` outside the subset."""

    variables: Mapping[str, S]
    functions: Mapping[str, FunctionSpec]
    messages: Messages
    now: datetime
    target: Target
    binder: SqlBinder = field(default_factory=SqlBinder)
    _cache: dict[int, S] = field(default_factory=dict)

    def bind(self, e: exp.Expression) -> exp.Expression:
        return self.binder.bind(e)

    def bind_opt(self, e: exp.Expression | None) -> exp.Expression | None:
        return self.binder.bind_opt(e)

    def code(self, error: EvalError) -> int:
        return self.messages.code(error)

    def double(self, value: float) -> exp.Expression:
        if math.isnan(value):
            return self.target.double("NaN")
        if math.isinf(value):
            return self.target.double("Infinity" if value > 0 else "-Infinity")
        return self.target.double(repr(value))

    def bigint(self, value: int) -> exp.Expression:
        return self.target.cast(lit_int(value), "BIGINT")

    def compile(self, node: Node) -> S:
        found = self._cache.get(id(node))
        if found is None:
            found = self.dispatch(node)
            self._cache[id(node)] = found
        return found

    def dispatch(self, node: Node) -> S:
        if isinstance(node, Literal):
            return self.literal(node)
        if isinstance(node, Ident):
            found = self.variables.get(node.name)
            if found is None:
                raise SqlUnsupported(f"the variable {node.name!r}")
            return found
        if isinstance(node, Select):
            return self.member(self.compile(node.operand), node.field)
        if isinstance(node, Index):
            return self.index(node)
        if isinstance(node, Has):
            selected = self.member(self.compile(node.select.operand), node.select.field)
            return S(BOOL, is_null(selected.fault), fatal=selected.fatal)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Conditional):
            return self.conditional(node)
        if isinstance(node, ListLit):
            return self.list_literal(node)
        if isinstance(node, Call):
            return self.call(node)
        raise SqlUnsupported(_describe(node))

    # -- leaves

    def literal(self, node: Literal) -> S:
        value = node.value
        if isinstance(value, bool):
            return S(BOOL, exp.true() if value else exp.false(), const=value)
        if node.type == INT and isinstance(value, int):
            return S(INT, self.bigint(value), const=value)
        if node.type == DOUBLE and isinstance(value, float):
            return S(DOUBLE, self.double(value), const=value)
        if isinstance(value, str):
            return S(STRING, exp.Literal.string(value), const=value)
        raise SqlUnsupported(f"a {node.type} literal")

    def member(self, operand: S, name: str) -> S:
        if operand.fields is not None:
            found = operand.fields.get(name)
            if found is None:
                raise SqlUnsupported(f"the field {name!r}")
            return found
        if operand.map_prefix is not None:
            assert isinstance(operand.type, MapType)
            value = column(f"{operand.map_prefix}.{name}")
            missing = fault_when(is_null(value), NO_DATA_CODE)
            return S(
                operand.type.value,
                value,
                fault=first(operand.fault, missing),
                fatal=operand.fatal,
            )
        raise SqlUnsupported(f"selecting .{name} on {operand.type}")

    def index(self, node: Index) -> S:
        operand = self.compile(node.operand)
        key = self.compile(node.index)
        if operand.fields is None and operand.map_prefix is None:
            raise SqlUnsupported(f"indexing {operand.type}")
        if not isinstance(key.const, str):
            raise SqlUnsupported("indexing by a computed key")
        if operand.fields is not None:
            return self.member(operand, key.const)
        selected = self.member(replace(operand, fault=None), key.const)
        fault = selected.fault
        if operand.fault is not None:
            bound = self.bind(operand.fault)
            # getitem on an absent map raises TypeError in cel-python: an error
            message = self.code(evalerrors.no_overload("[]", (evalerrors.NO_VALUE, "string")))
            fault = when(not_null(bound), fault_lit(message), fault)
        return replace(selected, fault=fault, fatal=operand.fatal)

    # -- operators

    def unary(self, node: Unary) -> S:
        operand = self.compile(node.operand)
        if node.op == "!" and operand.type == BOOL:
            return replace(operand, value=_not(_paren(operand.value)), const=_NOCONST)
        if node.op == "-" and operand.type == DOUBLE:
            return replace(operand, value=exp.Neg(this=_paren(operand.value)), const=_NOCONST)
        if node.op == "-" and operand.type == INT:
            v = self.bind(operand.value)
            overflow = fault_when(
                exp.EQ(this=v, expression=self.bigint(INT64_MIN)),
                self.code(evalerrors.integer_overflow()),
            )
            value = when(
                exp.NEQ(this=v, expression=self.bigint(INT64_MIN)), exp.Neg(this=_paren(v))
            )
            return S(INT, value, fault=first(operand.fault, overflow), fatal=operand.fatal)
        raise SqlUnsupported(f"unary {node.op} on {operand.type}")

    def binary(self, node: Binary) -> S:
        if node.op in ("&&", "||"):
            return self.logical(node)
        left = self.compile(node.left)
        right = self.compile(node.right)
        fatal = first(left.fatal, right.fatal)
        if node.op == "in":
            col = self.membership(left, right)
        elif node.op in ("==", "!=", "<", "<=", ">", ">="):
            col = self.comparison(node.op, left, right)
        else:
            col = self.arithmetic(node.op, left, right)
        return replace(col, fatal=first(fatal, col.fatal))

    def logical(self, node: Binary) -> S:
        left = self.compile(node.left)
        right = self.compile(node.right)
        if left.type != BOOL or right.type != BOOL:
            raise SqlUnsupported("a logical operator on non-bool operands")
        fatal = first(left.fatal, right.fatal)
        is_or = node.op == "||"
        lv, rv = _paren(left.value), _paren(right.value)
        if left.fault is None and right.fault is None:
            value = _or(lv, rv) if is_or else _and(lv, rv)
            return S(BOOL, _paren(value), fatal=fatal)
        lv, rv = self.bind(lv), self.bind(rv)
        left = replace(left, fault=self.bind_opt(left.fault))
        right = replace(right, fault=self.bind_opt(right.fault))
        lok, rok = is_null(left.fault), is_null(right.fault)
        # a faulted side's value may be NULL: only its fault is read then
        l_abs = _and(lok, lv if is_or else _not(lv))
        r_abs = _and(rok, rv if is_or else _not(rv))
        absorbed = _paren(_or(_paren(l_abs), _paren(r_abs)))
        both = self.code(evalerrors.no_overload(node.op, (evalerrors.NO_VALUE,) * 2))
        fault = cases(
            [
                (absorbed, null()),
                (lok, right.fault if right.fault is not None else null()),
                (rok, left.fault if left.fault is not None else null()),
            ],
            fault_lit(both),
        )
        value = absorbed if is_or else _not(absorbed)
        # NULL-safe: when a side is faulted the value is never read
        return S(
            BOOL, exp.Coalesce(this=value, expressions=[exp.false()]), fault=fault, fatal=fatal
        )

    def membership(self, left: S, right: S) -> S:
        fault = first(left.fault, right.fault)
        if right.members is not None:
            if not isinstance(left.const, str):
                raise SqlUnsupported("'in' on names with a computed item")
            found = right.members.get(left.const)
            return S(BOOL, found if found is not None else exp.false(), fault=fault)
        if right.map_prefix is not None:
            if not isinstance(left.const, str):
                raise SqlUnsupported("'in' a map with a computed key")
            return S(BOOL, not_null(column(f"{right.map_prefix}.{left.const}")), fault=fault)
        if isinstance(right.type, ListType):
            if right.type.elem != left.type or left.type not in (INT, STRING, BOOL):
                raise SqlUnsupported(f"{left.type} in {right.type}")
            if right.is_const and isinstance(right.const, list):
                value: exp.Expression = exp.In(
                    this=left.value,
                    expressions=[self.literal_of(left.type, v) for v in right.const],
                )
                if not right.const:
                    value = exp.false()
            else:
                value = exp.Coalesce(
                    this=self.target.list_contains(right.value, left.value),
                    expressions=[exp.false()],
                )
            return S(BOOL, value, fault=fault)
        raise SqlUnsupported(f"'in' on {right.type}")

    def literal_of(self, t: CelType, value: Any) -> exp.Expression:
        if t == INT:
            return self.bigint(value)
        if t == BOOL:
            return exp.true() if value else exp.false()
        return exp.Literal.string(value)

    def comparison(self, op: str, left: S, right: S) -> S:
        fault = first(left.fault, right.fault)
        t = left.type
        if t != right.type:
            raise SqlUnsupported(f"comparing {left.type} and {right.type}")
        a, b = left.value, right.value
        if t == DOUBLE:
            a, b = self.bind(a), self.bind(b)
            raw = _compare(op, a, b)
            nan_a, nan_b = self.target.is_nan(a), self.target.is_nan(b)
            if op == "!=":  # NaN is unequal to everything
                return S(BOOL, _paren(_or(raw, nan_a, nan_b)), fault=fault)
            value = _and(raw, _not(nan_a), _not(nan_b))
            return S(BOOL, _paren(value), fault=fault)
        if t == STRING and op not in ("==", "!="):
            a, b = self.target.ordered(a), self.target.ordered(b)
        if t in (INT, STRING, BOOL, TIMESTAMP, DURATION):
            return S(BOOL, _paren(_compare(op, a, b)), fault=fault)
        raise SqlUnsupported(f"{op} on {t}")

    def arithmetic(self, op: str, left: S, right: S) -> S:
        lt, rt = left.type, right.type
        right_fault = right.fault
        if right_fault is not None and (lt == INT or (lt == DOUBLE and op == "/")):
            # IntType (and DoubleType's division) call int()/float() on the faulted right
            # operand: cel-python reports "no matching overload" (an error, even for no
            # data); a plain float on the left leaves the fault as it is.
            message = self.code(evalerrors.no_overload(op, (str(lt), evalerrors.NO_VALUE)))
            right_fault = self.bind(right_fault)
            converted = not_null(right_fault)
            if lt == DOUBLE and left.plain is not False:
                converted = (
                    exp.false()
                    if left.plain is True
                    else _and(converted, _not(_plain_expr(left.plain)))
                )
            right_fault = first(fault_when(converted, message), right_fault)
        faults = first(left.fault, right_fault)
        a, b = _paren(left.value), _paren(right.value)
        if lt == INT and rt == INT:
            return self.int_arithmetic(op, a, b, faults)
        if lt == DOUBLE and rt == DOUBLE:
            if op == "+":
                return S(DOUBLE, exp.Add(this=a, expression=b), fault=faults, plain=True)
            if op == "-":
                return S(DOUBLE, exp.Sub(this=a, expression=b), fault=faults, plain=True)
            if op == "*":
                return S(DOUBLE, exp.Mul(this=a, expression=b), fault=faults, plain=True)
            if op == "/":
                # DoubleType: x / 0.0 is +inf whatever x is; two plain floats raise
                # ZeroDivisionError instead (an error)
                both = _both(left.plain, right.plain)
                b = self.bind(b)
                zero = exp.EQ(this=b, expression=self.double(0.0))
                quotient = when(
                    zero,
                    self.double(math.inf),
                    exp.Div(
                        this=a,
                        expression=exp.Nullif(this=b, expression=self.double(0.0)),
                        typed=False,
                        safe=False,
                    ),
                )
                error = None
                if both is not False:
                    error = fault_when(
                        _and(zero, _plain_expr(both)), self.code(evalerrors.division_by_zero())
                    )
                return S(DOUBLE, quotient, fault=first(faults, error), plain=both)
            raise SqlUnsupported(f"double {op}")
        if op == "+" and lt == STRING and rt == STRING:
            return S(STRING, self.target.concat(a, b), fault=faults, plain=True)
        return self.time_arithmetic(op, left, right, faults)

    def int_arithmetic(
        self, op: str, a: exp.Expression, b: exp.Expression, faults: exp.Expression | None
    ) -> S:
        lo, hi = self.bigint(INT64_MIN), self.bigint(INT64_MAX)
        zero = self.bigint(0)
        a, b = self.bind(a), self.bind(b)
        if op in ("/", "%"):
            divide_error = fault_when(
                exp.EQ(this=b, expression=zero), self.code(evalerrors.division_by_zero())
            )
            safe_b = exp.Nullif(this=b, expression=zero)
            minus_one = exp.EQ(this=b, expression=self.bigint(-1))
            if op == "/":
                overflow = fault_when(
                    _and(exp.EQ(this=a, expression=lo), minus_one),
                    self.code(evalerrors.integer_overflow()),
                )
                value = when(
                    minus_one,
                    when(exp.NEQ(this=a, expression=lo), exp.Neg(this=a)),
                    self.target.int_div(a, safe_b),
                )
                return S(INT, value, fault=first(faults, divide_error, overflow))
            value = when(minus_one, zero, exp.Mod(this=a, expression=safe_b))
            return S(INT, value, fault=first(faults, divide_error))
        wa, wb = self.target.cast(a, _WIDE), self.target.cast(b, _WIDE)
        if op == "+":
            wide: exp.Expression = exp.Add(this=wa, expression=wb)
        elif op == "-":
            wide = exp.Sub(this=wa, expression=wb)
        elif op == "*":
            wide = exp.Mul(this=wa, expression=wb)
        else:
            raise SqlUnsupported(f"int {op}")
        wide = self.bind(wide)
        inside = exp.Between(
            this=_paren(wide), low=self.target.cast(lo, _WIDE), high=self.target.cast(hi, _WIDE)
        )
        overflow = fault_when(_not(inside), self.code(evalerrors.integer_overflow()))
        value = when(inside, self.target.cast(_paren(wide), "BIGINT"))
        return S(INT, value, fault=first(faults, overflow))

    def time_arithmetic(self, op: str, left: S, right: S, faults: exp.Expression | None) -> S:
        lt, rt = left.type, right.type
        a, b = _paren(left.value), _paren(right.value)
        if op == "-" and lt == TIMESTAMP and rt == TIMESTAMP:
            return S(DURATION, exp.Sub(this=a, expression=b), fault=faults)
        if (op == "+" and {lt, rt} == {TIMESTAMP, DURATION}) or (
            op == "-" and lt == TIMESTAMP and rt == DURATION
        ):
            ts, du = (a, b) if lt == TIMESTAMP else (b, a)
            wide_ts, wide_du = self.target.cast(ts, _WIDE), self.target.cast(du, _WIDE)
            us = self.bind(
                exp.Add(this=wide_ts, expression=wide_du)
                if op == "+"
                else exp.Sub(this=wide_ts, expression=wide_du)
            )
            inside = exp.Between(
                this=_paren(us),
                low=self.target.cast(lit_int(_MIN_TIMESTAMP_US), _WIDE),
                high=self.target.cast(lit_int(_MAX_TIMESTAMP_US), _WIDE),
            )
            bad = fault_when(_not(inside), self.code(evalerrors.timestamp_overflow()))
            return S(
                TIMESTAMP,
                when(inside, self.target.cast(_paren(us), "BIGINT")),
                fault=first(faults, bad),
            )
        raise SqlUnsupported(f"{lt} {op} {rt}")

    def conditional(self, node: Conditional) -> S:
        cond = self.compile(node.cond)
        then = self.compile(node.then)
        else_ = self.compile(node.else_)
        if (
            cond.type != BOOL
            or then.type != else_.type
            or then.fields
            or then.map_prefix
            or then.members
        ):
            raise SqlUnsupported("a conditional of mixed or record types")
        taken = self.bind(exp.Coalesce(this=cond.value, expressions=[exp.false()]))
        cond = replace(cond, fault=self.bind_opt(cond.fault))
        value = when(taken, then.value, else_.value)
        fault: exp.Expression | None = None
        if then.fault is not None or else_.fault is not None:
            fault = when(
                taken,
                then.fault if then.fault is not None else null(),
                else_.fault if else_.fault is not None else null(),
            )
        if cond.fault is not None:
            fault = first(cond.fault, fault)
        fatal = cond.fatal
        if then.fatal is not None or else_.fatal is not None:
            # a faulted condition is truthy in cel-python: the then-branch runs
            chosen = taken if cond.fault is None else _or(not_null(cond.fault), taken)
            fatal = first(
                fatal,
                when(
                    chosen,
                    then.fatal if then.fatal is not None else null(),
                    else_.fatal if else_.fatal is not None else null(),
                ),
            )
        plain: Plain = then.plain
        if not (
            isinstance(then.plain, bool)
            and isinstance(else_.plain, bool)
            and then.plain == else_.plain
        ):
            plain = when(taken, _plain_expr(then.plain), _plain_expr(else_.plain))
        return S(then.type, value, fault=fault, fatal=fatal, plain=plain)

    def list_literal(self, node: ListLit) -> S:
        items = [self.compile(item) for item in node.items]
        if not items or not all(i.is_const for i in items):
            raise SqlUnsupported("a list literal that is empty or not constant")
        elem = items[0].type
        if any(i.type != elem for i in items) or elem not in (INT, STRING, BOOL):
            raise SqlUnsupported("a list literal of doubles, mixed or nested types")
        return S(ListType(elem), null(), const=[i.const for i in items])

    # -- calls

    def call(self, node: Call) -> S:
        name = node.function
        spec = self.functions.get(name)
        if spec is None:
            raise SqlUnsupported(f"the function {name!r}")
        ops = [self.compile(a) for a in ((node.target, *node.args) if node.target else node.args)]
        fatal = first(*(o.fatal for o in ops))
        fault = first(*(o.fault for o in ops))
        if spec.impl is not None:
            if getattr(spec.impl, "__module__", "") != _BUILTIN_FUNCTIONS:
                raise SqlUnsupported(f"the plugin function {name!r}")
            col = self.csrules_function(name, ops, fault)
        else:
            col = self.standard_function(name, ops, fault)
        return replace(col, fatal=first(fatal, col.fatal))

    def standard_function(self, name: str, ops: Sequence[S], fault: exp.Expression | None) -> S:
        types = tuple(o.type for o in ops)
        if name == "size" and len(ops) == 1:
            x = ops[0]
            if x.type == STRING:
                return S(INT, self.target.cast(exp.Length(this=x.value), "BIGINT"), fault=fault)
            if isinstance(x.type, ListType) and not x.is_const and x.members is None:
                return S(
                    INT, self.target.cast(self.target.list_size(x.value), "BIGINT"), fault=fault
                )
            raise SqlUnsupported(f"size() of {x.type}")
        if name == "int" and types == (INT,):
            return ops[0]
        if name == "int" and types == (DOUBLE,):
            return self.to_int(ops[0], fault)
        if name == "double" and types in ((INT,), (DOUBLE,)):
            return S(DOUBLE, self.target.cast(ops[0].value, "DOUBLE"), fault=fault)
        if name == "string" and types == (STRING,):
            return ops[0]
        if name == "string" and types == (INT,):
            return S(STRING, exp.Cast(this=ops[0].value, to=self.target.text_type), fault=fault)
        if name in ("timestamp", "duration") and len(ops) == 1:
            return self.time_literal(name, ops[0])
        if name in ("startsWith", "endsWith", "contains") and types == (STRING, STRING):
            text, part = ops[0].value, ops[1].value
            if name == "startsWith":
                value: exp.Expression = exp.StartsWith(this=text, expression=part)
            elif name == "endsWith":
                size = exp.Length(this=part)
                value = _or(
                    exp.EQ(this=size, expression=lit_int(0)),
                    exp.EQ(this=exp.Right(this=text, expression=size), expression=part),
                )
            else:
                value = self.target.contains(text, part)
                target = ops[0].plain
                if target is not False:
                    error = fault_when(
                        _plain_expr(target),
                        self.code(evalerrors.no_overload_call("contains", "concatenated string")),
                    )
                    fault = first(fault, error)
            return S(BOOL, _paren(value), fault=fault)
        raise SqlUnsupported(f"{name}() of {', '.join(map(str, types)) or 'nothing'}")

    def to_int(self, x: S, fault: exp.Expression | None) -> S:
        v = self.bind(x.value)
        fault = self.bind_opt(fault)
        nan = self.target.is_nan(v)
        inf = exp.EQ(this=exp.Abs(this=v), expression=self.double(math.inf))
        outside = _or(
            exp.LT(this=v, expression=self.double(-(2.0**63))),
            exp.GTE(this=v, expression=self.double(2.0**63)),
        )
        overflow = self.code(evalerrors.out_of_range("int"))
        # trunc() of NaN raises ValueError (an error); of +-inf OverflowError, which
        # cel-python does not catch: it escapes the whole expression (fatal).
        bad = fault_when(_or(nan, _and(_not(inf), outside)), overflow)
        fatal = fault_when(_and(is_null(fault), inf), self.code(evalerrors.infinity_to_integer()))
        good = _and(_not(nan), _not(inf), _not(outside))
        value = when(good, self.target.cast(self.target.truncate(v), "BIGINT"))
        return S(INT, value, fault=first(fault, bad), fatal=fatal)

    def time_literal(self, name: str, x: S) -> S:
        wanted = TIMESTAMP if name == "timestamp" else DURATION
        if x.type == wanted:
            return x
        if x.type != STRING or not isinstance(x.const, str):
            raise SqlUnsupported(f"{name}() of a computed value")
        try:
            if name == "timestamp":
                stamp = celtypes.TimestampType(x.const).astimezone(UTC)
                epoch = datetime(1970, 1, 1, tzinfo=UTC)
                us = (datetime.fromisoformat(stamp.isoformat()) - epoch) // timedelta(
                    microseconds=1
                )
                return S(TIMESTAMP, self.bigint(us), const=stamp)
            parsed = celtypes.DurationType(x.const)
        except Exception as exc:
            raise SqlUnsupported(f"{name}({x.const!r}): {exc}") from None
        us = parsed // timedelta(microseconds=1)
        return S(DURATION, self.bigint(us), const=us)

    def seconds_of_us(self, us: exp.Expression) -> exp.Expression:
        """``us / 10**6`` correctly rounded, as ``timedelta.total_seconds()``."""
        us = self.bind(us)
        million = self.double(1e6)
        small = exp.Div(
            this=self.target.cast(us, "DOUBLE"), expression=million, typed=False, safe=False
        )
        # floor division (Python's //) of microseconds by 10**6, then the remainder
        trunc = self.target.int_div(us, self.bigint(_US))
        whole = when(
            _and(
                exp.LT(this=us, expression=self.bigint(0)),
                exp.NEQ(
                    this=exp.Mod(this=us, expression=self.bigint(_US)), expression=self.bigint(0)
                ),
            ),
            exp.Sub(this=trunc, expression=self.bigint(1)),
            trunc,
        )
        rest = exp.Sub(this=us, expression=exp.Mul(this=_paren(whole), expression=self.bigint(_US)))
        large = exp.Add(
            this=self.target.cast(_paren(whole), "DOUBLE"),
            expression=exp.Div(
                this=self.target.cast(_paren(rest), "DOUBLE"),
                expression=million,
                typed=False,
                safe=False,
            ),
        )
        return when(exp.LTE(this=exp.Abs(this=us), expression=self.bigint(_TWO_53)), small, large)

    def csrules_function(self, name: str, ops: Sequence[S], fault: exp.Expression | None) -> S:
        types = tuple(o.type for o in ops)
        if name in ("days_since", "days_until") and types == (TIMESTAMP,):
            now_us = (self.now.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
                microseconds=1
            )
            ts = _paren(ops[0].value)
            diff = (
                exp.Sub(this=self.bigint(now_us), expression=ts)
                if name == "days_since"
                else exp.Sub(this=ts, expression=self.bigint(now_us))
            )
            seconds = self.seconds_of_us(_paren(diff))
            days = exp.Div(
                this=_paren(seconds), expression=self.double(86400.0), typed=False, safe=False
            )
            return S(DOUBLE, days, fault=fault)
        if name == "clamp" and len(ops) == 3 and all(t in (INT, DOUBLE) for t in types):
            x, lo, hi = (
                self.bind(self.target.cast(o.value, "DOUBLE") if o.type == INT else o.value)
                for o in ops
            )
            # min(max(x, lo), hi) as Python computes it (NaN compares false)
            low = self.bind(when(self._gt_nan_safe(lo, x), lo, x))
            return S(DOUBLE, when(self._gt_nan_safe(low, hi, flip=True), hi, low), fault=fault)
        raise SqlUnsupported(f"{name}() of {', '.join(map(str, types))}")

    def _gt_nan_safe(
        self, a: exp.Expression, b: exp.Expression, *, flip: bool = False
    ) -> exp.Expression:
        """``a > b`` (or ``b < a`` with ``flip``: the same) false whenever a NaN is involved."""
        raw = exp.LT(this=b, expression=a) if flip else exp.GT(this=a, expression=b)
        return _and(raw, _not(self.target.is_nan(a)), _not(self.target.is_nan(b)))


def _compare(op: str, a: exp.Expression, b: exp.Expression) -> exp.Expression:
    kinds: dict[str, type[exp.Binary]] = {
        "==": exp.EQ,
        "!=": exp.NEQ,
        "<": exp.LT,
        "<=": exp.LTE,
        ">": exp.GT,
        ">=": exp.GTE,
    }
    made: exp.Expression = kinds[op](this=a, expression=b)  # type: ignore[assignment]
    return made


def _describe(node: Node) -> str:
    from csrules.expr.ast import Comprehension, MapLit

    if isinstance(node, Comprehension):
        return f"the {node.macro}() macro"
    if isinstance(node, MapLit):
        return "a map literal"
    return type(node).__name__


@dataclass(frozen=True)
class CompiledSql:
    """The root of one expression: value and fault (a fatal error folded in first)."""

    type: CelType
    value: exp.Expression
    fault: exp.Expression | None


def finish(col: S) -> CompiledSql:
    if col.fields is not None or col.map_prefix is not None or col.members is not None:
        raise SqlUnsupported("a whole record, map or name list as a value")
    if col.is_const and isinstance(col.type, ListType):
        raise SqlUnsupported("a list literal as a value")
    return CompiledSql(col.type, col.value, first(col.fatal, col.fault))
