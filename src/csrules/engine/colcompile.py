"""CEL to Polars: the code generator of the columnar backend.

One expression is compiled, against the columns of a stage, into Polars expressions
evaluated over the whole batch at once. Every compiled sub-expression is a :class:`Col`:

- ``value``: the CEL value per account (meaningful only where there is no fault);
- ``fault``: an ``Int32`` column, null where the value is good, ``0`` for *no data*
  and a positive code (an index into :class:`Messages`) for an error;
- ``fatal``: an error that cel-python *raises* instead of returning (``int()`` of an
  infinite double): it escapes every ``&&``/``||``, as it does in the reference;
- ``None`` for ``fault``/``fatal`` when the sub-expression statically cannot fail,
  which keeps the generated plan as small as a hand-written one.

Each operator propagates faults exactly as the reference backend (cel-python 0.5 plus
the two corrections in ``celbridge.py``) does, including its asymmetries, all found
by the differential property tests: the first fault in evaluation order wins;
``true || x`` is true and ``false && x`` false whatever ``x`` is, but two faults under
``||``/``&&`` make a new error; an ``int`` arithmetic operator whose right operand
faulted turns that fault into an error (cel-python's ``IntType`` raises ``TypeError``);
``x[i]`` on a faulted operand is an error, not no data; ``exists``/``all`` fold with
``||``/``&&`` and two faulted elements make an error. Each error is the same
:class:`~csrules.engine.values.EvalError` (kind and message, from
:mod:`csrules.engine.evalerrors`) the reference backend gives.

A sub-expression whose operands are all constant is folded by cel-python at compile
time (:meth:`Compiler.fold`), and every node is compiled once, so compiling is linear
in the size of the expression.

What is not in the subset raises :class:`Unsupported`, and the caller falls back to
the reference kernel for that one expression.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import polars as pl
from celpy import celtypes

from csrules.engine import celbridge, evalerrors
from csrules.engine.celvalues import from_cel, to_cel
from csrules.engine.reference import DEFAULT_STEPS
from csrules.engine.values import EvalError, NoData
from csrules.expr.ast import (
    INT64_MAX,
    INT64_MIN,
    Binary,
    Call,
    Comprehension,
    Conditional,
    Has,
    Ident,
    Index,
    ListLit,
    Literal,
    LiteralValue,
    MapLit,
    Node,
    Select,
    Unary,
    free_names,
)
from csrules.expr.ast import to_cel as node_text
from csrules.expr.functions import FunctionSpec
from csrules.expr.types import (
    BOOL,
    DOUBLE,
    DURATION,
    DYN,
    INT,
    STRING,
    TIMESTAMP,
    UINT,
    CelType,
    ListType,
    MapType,
)

FAULT: Final = pl.Int32()
NO_DATA_CODE: Final = 0
TIMESTAMP_DTYPE: Final = pl.Datetime("us", "UTC")
DURATION_DTYPE: Final = pl.Duration("us")

MAX_BODY_PLAN: Final = 100_000
"""The largest plan (in characters of serialized Polars expression) of one
sub-expression of an ``exists()``/``all()`` body.

Inside ``list.eval`` nothing can be bound to a temporary column, so a sub-expression
read twice is planned twice by Polars, and a chain of them (``v / 2 / 2 / ...``)
doubles the plan at each level. Past a few reused sub-expressions each one is
measured, and a body whose plan grows past this falls back to the reference backend,
which keeps compiling linear in the size of the expression."""
_SMALL_PLAN: Final = 600  # characters of serialized plan a reused fault may have inline
_FREE_REUSE: Final = 8  # reused sub-expressions of a body that are not measured

_FOLD: Final = "__csrules_fold_"  # names of folded operands in a fold's CEL text

# Microseconds: the resolution of timestamps and durations in an AccountBatch.
_US = 1_000_000
_MIN_TIMESTAMP_US = -62135596800 * _US  # 0001-01-01T00:00:00Z
_MAX_TIMESTAMP_US = 253402300799 * _US + 999_999  # 9999-12-31T23:59:59.999999Z
_MAX_DURATION_S = 315576000000  # cel-python's DurationType range, in seconds
_TWO_53 = 2**53
_BUILTIN_FUNCTIONS = "csrules.hooks.builtin.functions"

# RE2 (cel-python's `matches`) and Polars' Rust regex engine agree on plain syntax;
# they differ on the Unicode meaning of \d \w \s \b, on \p classes, on case folding
# and on RE2-only escapes. Patterns using any of these fall back to the reference.
_REGEX_DIVERGENT = re.compile(r"\\[dDwWsSbBpPCQEzAZ]|\(\?[a-zA-Z-]*[iU]")


class Unsupported(Exception):
    """An expression (or part) outside the columnar subset: evaluate it with the reference."""


class Messages:
    """Errors by code; code 0 is *no data*. Shared by every kernel of one run."""

    def __init__(self) -> None:
        self.errors: list[EvalError] = [EvalError("no data")]
        self._codes: dict[EvalError, int] = {}

    def code(self, error: EvalError) -> int:
        found = self._codes.get(error)
        if found is None:
            found = len(self.errors)
            self.errors.append(error)
            self._codes[error] = found
        return found

    def error(self, code: int) -> EvalError:
        return self.errors[code]

    def text(self, code: int) -> str:
        return self.errors[code].message

    @property
    def texts(self) -> list[str]:
        return [e.message for e in self.errors]


_NOCONST: Final = object()


@dataclass(frozen=True)
class Folded:
    """A sub-expression with the same outcome for every account, computed once.

    ``raw`` is what cel-python gives for it (a celtypes value, a plain Python value, or
    an error value for no data and errors), so that a parent can be folded by
    cel-python in turn; ``fatal`` is set instead when cel-python raises.
    """

    raw: Any
    fatal: EvalError | None = None


@dataclass(frozen=True)
class Col:
    """A compiled sub-expression (see the module docstring).

    ``fields`` makes it a record variable (``account``, ``health``...) that only
    ``.field`` and ``has()`` may use; ``keys`` marks a ``map<string, T>`` stored as a
    struct with those fields; ``members`` gives, for a list of strings, a boolean
    column per possible item (``'at_risk' in segments`` reads one column).
    """

    type: CelType
    value: pl.Expr
    fault: pl.Expr | None = None
    fatal: pl.Expr | None = None
    const: Any = _NOCONST
    keys: tuple[str, ...] | None = None
    fields: Mapping[str, Col] | None = None
    members: Mapping[str, pl.Expr] | None = None
    plain: Plain = False
    folded: Folded | None = None
    raw_only: bool = False  # a folded value no column type holds (a map, a uint...)

    @property
    def is_const(self) -> bool:
        return self.const is not _NOCONST


Plain = bool | pl.Expr
"""Whether a value is a *plain* Python ``float``/``str``/``timedelta`` in cel-python
rather than its celtypes wrapper (statically, or per row after a ``? :``).

cel-python's ``+``, ``-`` and ``*`` on doubles, ``+`` on strings and ``-`` on durations
return plain Python values, and plain values behave differently: a plain ``str`` has no
``contains`` method (an error), plain ``float / float`` by zero raises (an error,
where a ``DoubleType`` gives ``inf``), plain ``timedelta + timedelta`` skips CEL's
range check."""


def _both(a: Plain, b: Plain) -> Plain:
    if isinstance(a, bool) and isinstance(b, bool):
        return a and b
    return _plain_expr(a) & _plain_expr(b)


def _either(a: Plain, b: Plain) -> Plain:
    if isinstance(a, bool) and isinstance(b, bool):
        return a or b
    return _plain_expr(a) | _plain_expr(b)


def _plain_expr(p: Plain) -> pl.Expr:
    return pl.lit(p) if isinstance(p, bool) else p


def dtype_of(t: CelType) -> pl.DataType:
    """The Polars dtype holding CEL type ``t`` (raises Unsupported for the others)."""
    simple: dict[CelType, pl.DataType] = {
        INT: pl.Int64(),
        DOUBLE: pl.Float64(),
        STRING: pl.String(),
        BOOL: pl.Boolean(),
        TIMESTAMP: TIMESTAMP_DTYPE,
        DURATION: DURATION_DTYPE,
    }
    if t in simple:
        return simple[t]
    if isinstance(t, ListType):
        return pl.List(dtype_of(t.elem))
    raise Unsupported(f"no column type for {t}")


def fault_lit(code: int) -> pl.Expr:
    return pl.lit(code, dtype=FAULT)


def first(*faults: pl.Expr | None) -> pl.Expr | None:
    """The first fault in evaluation order (None when none can occur)."""
    present = [f for f in faults if f is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return pl.coalesce(present)


def fault_when(condition: pl.Expr, code: int) -> pl.Expr:
    return pl.when(condition).then(fault_lit(code))


def is_null(fault: pl.Expr | None) -> pl.Expr:
    return pl.lit(True) if fault is None else fault.is_null()


def absent_leaf(t: CelType, *, keys: tuple[str, ...] | None = None) -> Col:
    """A variable with no data for every account (an aggregate with no value...)."""
    dtype = pl.Struct([]) if keys is not None else dtype_of(t)
    folded = Folded(celbridge.absent_value()) if keys is None else None
    return Col(
        t, pl.lit(None, dtype=dtype), fault=fault_lit(NO_DATA_CODE), keys=keys, folded=folded
    )


def column_leaf(
    t: CelType, column: str, *, nullable: bool, keys: tuple[str, ...] | None = None
) -> Col:
    """A variable read from a column; a null there is no data (an absent field)."""
    value = pl.col(column)
    fault = fault_when(value.is_null(), NO_DATA_CODE) if nullable else None
    return Col(t, value, fault=fault, keys=keys)


def const_leaf(t: CelType, value: Any) -> Col:
    """A variable with the same value for every account (``now``, ``portfolio.x``)."""
    if value is None:
        return absent_leaf(t)
    return Col(t, pl.lit(value, dtype=dtype_of(t)), const=value, folded=Folded(to_cel(value)))


def _nan_safe(op: str, a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """Python's float comparison: every comparison with NaN is false (but ``!=``)."""
    raw = _compare(op, a, b)
    if op == "!=":
        return raw | a.is_nan() | b.is_nan()
    return raw & a.is_not_nan() & b.is_not_nan()


def _compare(op: str, a: pl.Expr, b: pl.Expr) -> pl.Expr:
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def _epoch_us(e: pl.Expr) -> pl.Expr:
    return e.dt.epoch("us")


def full_zeros() -> pl.Expr:
    """A Float64 column of zeros, materialized at full length (see :func:`divide`)."""
    return pl.int_range(pl.len(), dtype=pl.Int64).cast(pl.Float64) * 0.0


def divide(a: pl.Expr, b: pl.Expr, zero: pl.Expr) -> pl.Expr:
    """``a / b`` for doubles, correctly rounded as in Python.

    Polars divides a column by a *scalar* by multiplying with its reciprocal, which is
    off by one ulp for about a third of the values, and a computed column can be a
    scalar inside Polars (a ``when`` whose condition holds everywhere). Adding
    :func:`full_zeros` makes the divisor a real column, and the division an IEEE one.
    (The sign of a zero divisor is lost, which CEL never sees: ``x / 0.0`` is handled
    before.)
    """
    return a / (b + zero)


def seconds_of_us(us: pl.Expr, zero: pl.Expr) -> pl.Expr:
    """``us / 10**6`` correctly rounded, as Python's ``timedelta.total_seconds()``.

    Exact (a single IEEE division) up to 2**53 microseconds; beyond, whole seconds
    and the remainder are added, which rounds the same way (see docs/architecture.md).
    """
    million = pl.lit(1e6)
    small = divide(us.cast(pl.Float64), million, zero)
    whole = us // _US
    large = whole.cast(pl.Float64) + divide((us - whole * _US).cast(pl.Float64), million, zero)
    return pl.when(us.abs() <= _TWO_53).then(small).otherwise(large)


class Binder:
    """Names sub-expressions an expression reads more than once.

    The fault logic reads a value several times (a comparison and its NaN check, a
    conversion and its range checks, both sides of ``&&``); left inline, Polars would
    plan and compute each copy. A bound sub-expression becomes a temporary column,
    computed once in an earlier step of the same query (``steps``), in order of
    dependency.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.columns: list[tuple[int, pl.Expr]] = []  # (depth, aliased expression)
        self.depth: dict[str, int] = {}

    def bind(self, expr: pl.Expr) -> pl.Expr:
        meta = expr.meta
        if meta.is_column() or meta.is_literal() or not meta.root_names():
            # a constant stays inline: bound, it would be a one-row column that the
            # in-memory engine refuses to broadcast beside the frame's columns
            return expr
        name = f"{self.prefix}~{len(self.columns)}"
        level = 1 + max((self.depth.get(root, 0) for root in meta.root_names()), default=0)
        self.columns.append((level, expr.alias(name)))
        self.depth[name] = level
        return pl.col(name)

    @property
    def names(self) -> list[str]:
        return list(self.depth)

    def steps(self) -> list[list[pl.Expr]]:
        """The temporary columns, grouped by depth: one ``with_columns`` step each."""
        if not self.columns:
            return []
        deepest = max(level for level, _ in self.columns)
        return [[e for level, e in self.columns if level == d] for d in range(1, deepest + 1)]


class _NoBinder(Binder):
    """Inside ``exists()``/``all()`` (a ``list.eval``) there are no columns to add: a
    reused sub-expression stays inline, and the plan is measured (see ``MAX_BODY_PLAN``)."""

    def __init__(self) -> None:
        super().__init__("")
        self.reused = 0

    def bind(self, expr: pl.Expr) -> pl.Expr:
        self.reused += 1
        if self.reused > _FREE_REUSE:
            check_body_plan(expr)
        return expr


def check_body_plan(expr: pl.Expr) -> None:
    """Raise Unsupported when one expression of a comprehension body plans too large."""
    if len(expr.meta.serialize(format="json")) > MAX_BODY_PLAN:
        raise Unsupported("a comprehension body too large to plan without bound columns")


@dataclass
class Scope:
    """The variables an expression may read, as compiled columns."""

    variables: dict[str, Col]
    element_only: bool = False  # inside exists()/all(): only the macro variable and constants

    def with_variable(self, name: str, col: Col) -> Scope:
        return Scope({**self.variables, name: col}, element_only=True)


@dataclass
class Compiler:
    """Compiles one expression tree; raise :class:`Unsupported` outside the subset."""

    scope: Scope
    functions: Mapping[str, FunctionSpec]
    messages: Messages
    now: datetime
    zero: pl.Expr  # a full-length Float64 column of zeros (see `divide`)
    binder: Binder
    _locals: list[str] = field(default_factory=list)
    steps: int = DEFAULT_STEPS  # the step budget of a fold (``[limits] eval_steps``)
    _cache: dict[int, Col] = field(default_factory=dict)
    _typing: bool = False

    def bind(self, expr: pl.Expr) -> pl.Expr:
        return self.binder.bind(expr)

    def bind_opt(self, expr: pl.Expr | None) -> pl.Expr | None:
        """A fault read more than once: bound unless it is a small expression (a fault
        column per reuse would cost memory for nothing; a small one cannot grow the
        plan, since anything larger built from it is bound in turn)."""
        if expr is None or len(expr.meta.serialize(format="json")) <= _SMALL_PLAN:
            return expr
        return self.binder.bind(expr)

    def bind_plain(self, plain: Plain) -> Plain:
        if isinstance(plain, bool):
            return plain
        bound = self.bind_opt(plain)
        assert bound is not None
        return bound

    def code(self, error: EvalError) -> int:
        return self.messages.code(error)

    def opaque(self, expr: pl.Expr) -> pl.Expr:
        """``expr``, which Polars can no longer see as a constant.

        Polars simplifies ``when(c).then(a).otherwise(b)`` to ``a`` when ``a`` and ``b``
        are equal constants, holding ``-0.0`` equal to ``0.0``, and the simplified
        result can lose its broadcasting (a length-1 column in a longer frame). A
        ``when`` on a column keeps every value (signed zeros, NaN) as it is.
        """
        return pl.when(self.zero == 0.0).then(expr)

    # -- dispatch

    def compile(self, node: Node) -> Col:
        """The compiled sub-expression; each node is compiled once (parents that read
        a child twice get the same :class:`Col`), and a node whose operands are all
        constant is folded into its value (see :meth:`fold`)."""
        col = self._cache.get(id(node))
        if col is None:
            col = self._build(node)
            self._cache[id(node)] = col
        if col.raw_only and not self._typing:
            raise Unsupported("a constant no column type holds")
        return col

    def _build(self, node: Node) -> Col:
        operands = _fold_operands(node, self.functions)
        if operands is not None:
            cols = [self._any(operand) for operand in operands]
            if all(c.folded is not None for c in cols):
                return self.fold(node, operands, cols)
        return self.dispatch(node)

    def _any(self, node: Node) -> Col:
        """``compile``, also for a constant no column holds (a fold's operand)."""
        previous, self._typing = self._typing, True
        try:
            return self.compile(node)
        finally:
            self._typing = previous

    def fold(self, node: Node, operands: Sequence[Node], cols: Sequence[Col]) -> Col:
        """The value of ``node`` for every account, computed once by cel-python.

        cel-python evaluates the node itself with its operands' own cel-python values
        bound to names, so the fold gives exactly the value, no data or error the
        reference backend gives (plain Python floats and strings included), and every
        node is evaluated once whatever the depth. A constant sub-expression therefore
        never grows the Polars plan: constant chains (``1 + 1 + ... + 1``) compile in
        linear time. The type comes from compiling the node with its folded operands
        (cheap: they are literals), or from the value when the columnar backend has no
        code for the node (``int('12')``, ``{'a': 1}['a']``).
        """
        chosen = list(range(len(cols)))
        if isinstance(node, Conditional):
            cond = cols[0].folded
            assert cond is not None
            taken = 1 if cond.fatal is not None or bool(cond.raw) else 2
            chosen = [0, taken]
        fatal = next(
            (f.fatal for i in chosen if (f := cols[i].folded) is not None and f.fatal is not None),
            None,
        )
        typed = self._typed(node)
        if typed is None and _is_bool_operator(node):
            typed = Col(BOOL, pl.lit(None, dtype=pl.Boolean()))
        if fatal is not None:
            return self._constant(typed, None, fatal=fatal)
        names = {id(operand): f"{_FOLD}{i}" for i, operand in enumerate(operands)}
        text = node_text(node, lambda n: names.get(id(n)))
        bound = {
            f"{_FOLD}{i}": (f.raw if i in chosen else None)
            for i, col in enumerate(cols)
            if (f := col.folded) is not None
        }
        program = celbridge.Program(text, self.functions, self.now)
        try:
            raw = program.raw(bound, self.steps)
        except celbridge.Fatal as error:
            return self._constant(typed, None, fatal=error.error)
        return self._constant(typed, raw)

    def _typed(self, node: Node) -> Col | None:
        previous, self._typing = self._typing, True
        try:
            typed = self.dispatch(node)
        except Unsupported:
            return None
        finally:
            self._typing = previous
        if typed.fields is not None or typed.keys is not None or typed.members is not None:
            return None
        return typed

    def _constant(self, typed: Col | None, raw: Any, *, fatal: EvalError | None = None) -> Col:
        """The Col of a folded node: its value as a literal, or its fault or fatal code."""
        if fatal is not None or celbridge.is_error_value(raw):
            if typed is None:  # only a fold can use it
                return Col(DYN, pl.lit(None), folded=Folded(raw, fatal), raw_only=True)
            t = typed.type
            try:
                null = pl.lit(None, dtype=dtype_of(t))
            except Unsupported:
                return Col(t, pl.lit(None), folded=Folded(raw, fatal), raw_only=True)
            if fatal is not None:
                return Col(t, null, fatal=fault_lit(self.code(fatal)), folded=Folded(raw, fatal))
            outcome = celbridge.classify(raw)
            code = NO_DATA_CODE if isinstance(outcome, NoData) else self.code(outcome)
            return Col(t, null, fault=fault_lit(code), folded=Folded(raw))
        found = typed.type if typed is not None else _value_type(raw)
        plain = type(raw) in (float, str, timedelta)
        value = _column_value(raw, found)
        if value is None or found is None:
            return Col(found or DYN, pl.lit(None), folded=Folded(raw), raw_only=True)
        return Col(found, value[0], const=value[1], plain=plain, folded=Folded(raw))

    def dispatch(self, node: Node) -> Col:
        if isinstance(node, Literal):
            return self.literal(node)
        if isinstance(node, Ident):
            return self.ident(node)
        if isinstance(node, Select):
            return self.select(node)
        if isinstance(node, Index):
            return self.index(node)
        if isinstance(node, Has):
            return self.has(node)
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
        if isinstance(node, Comprehension):
            return self.comprehension(node)
        raise Unsupported(type(node).__name__)

    # -- leaves

    def literal(self, node: Literal) -> Col:
        value = node.value
        folded = Folded(_literal_raw(value, node.type))
        if isinstance(value, bool):
            return Col(BOOL, pl.lit(value), const=value, folded=folded)
        if node.type == INT and isinstance(value, int):
            return Col(INT, pl.lit(value, dtype=pl.Int64), const=value, folded=folded)
        if node.type == DOUBLE and isinstance(value, float):
            return Col(DOUBLE, pl.lit(value, dtype=pl.Float64), const=value, folded=folded)
        if isinstance(value, str):
            return Col(STRING, pl.lit(value, dtype=pl.String), const=value, folded=folded)
        # uint, bytes, null: only a fold can use them
        return Col(node.type, pl.lit(None), folded=folded, raw_only=True)

    def ident(self, node: Ident) -> Col:
        found = self.scope.variables.get(node.name)
        if found is None:
            raise Unsupported(f"variable {node.name!r}")
        if self.scope.element_only and node.name not in self._locals and not found.is_const:
            raise Unsupported("a macro body reading more than its variable")
        return found

    def select(self, node: Select) -> Col:
        operand = self.compile(node.operand)
        return self.member(operand, node.field)

    def member(self, operand: Col, name: str) -> Col:
        if operand.fields is not None:
            found = operand.fields.get(name)
            if found is None:
                raise Unsupported(f"field {name!r}")
            return found
        if operand.keys is not None and isinstance(operand.type, MapType):
            if name in operand.keys:
                value = self.bind(operand.value.struct.field(name))
                missing = fault_when(value.is_null(), NO_DATA_CODE)
            else:
                value = pl.lit(None, dtype=dtype_of(operand.type.value))
                missing = fault_lit(NO_DATA_CODE)
            return Col(
                operand.type.value, value, fault=first(operand.fault, missing), fatal=operand.fatal
            )
        raise Unsupported(f"selecting .{name} on {operand.type}")

    def has(self, node: Has) -> Col:
        selected = self.select(node.select)
        folded = selected.folded
        if folded is not None and folded.fatal is None:
            # a constant field (portfolio.<id>): present, or absent (no data)
            raw = folded.raw
            absent = celbridge.is_error_value(raw)
            if not absent or isinstance(celbridge.classify(raw), NoData):
                present = not absent
                return Col(
                    BOOL, pl.lit(present), const=present, folded=Folded(celtypes.BoolType(present))
                )
        return Col(BOOL, is_null(selected.fault))

    def index(self, node: Index) -> Col:
        operand = self.compile(node.operand)
        key = self.compile(node.index)
        fatal = first(operand.fatal, key.fatal)
        if operand.fields is not None:
            if not isinstance(key.const, str):
                raise Unsupported("record index by a computed key")
            return self.member(operand, key.const)
        operand_fault, key_fault = self.bind_opt(operand.fault), self.bind_opt(key.fault)
        either = (operand_fault is not None) or (key_fault is not None)
        failed = ~(is_null(operand_fault) & is_null(key_fault)) if either else None
        if isinstance(operand.type, ListType) and key.type == INT:
            value = self.bind(operand.value.list.get(key.value, null_on_oob=True))
            kinds = ("list", "int")
        elif isinstance(operand.type, MapType) and operand.keys is not None:
            if not isinstance(key.const, str):
                raise Unsupported("map index by a computed key")
            if key.const in operand.keys:
                value = self.bind(operand.value.struct.field(key.const))
            else:
                value = pl.lit(None, dtype=dtype_of(operand.type.value))
            kinds = ("map", "string")
        else:
            raise Unsupported(f"indexing {operand.type}")
        fault = fault_when(value.is_null(), NO_DATA_CODE)
        if failed is not None:
            # getitem on an error value (or with one) raises TypeError: an error that
            # names which side had no value.
            no_value = evalerrors.NO_VALUE

            def overload(left: str, right: str) -> pl.Expr:
                return fault_lit(self.code(evalerrors.no_overload("[]", (left, right))))

            message = overload(kinds[0], no_value)
            if operand_fault is not None:
                left_failed = operand_fault.is_not_null()
                message = pl.when(left_failed).then(overload(no_value, kinds[1])).otherwise(message)
                if key_fault is not None:
                    message = (
                        pl.when(left_failed & key_fault.is_not_null())
                        .then(overload(no_value, no_value))
                        .otherwise(message)
                    )
            fault = pl.when(failed).then(message).otherwise(fault)
        elem = operand.type.elem if isinstance(operand.type, ListType) else operand.type.value
        return Col(elem, value, fault=fault, fatal=fatal)

    # -- operators

    def unary(self, node: Unary) -> Col:
        operand = self.compile(node.operand)
        if node.op == "!" and operand.type == BOOL:
            return Col(BOOL, ~operand.value, fault=operand.fault, fatal=operand.fatal)
        if node.op == "-" and operand.type == DOUBLE:
            return Col(
                DOUBLE,
                -operand.value,
                fault=operand.fault,
                fatal=operand.fatal,
                plain=operand.plain,
            )
        if node.op == "-" and operand.type == INT:
            v = self.bind(operand.value)
            overflow = fault_when(v == INT64_MIN, self.code(evalerrors.integer_overflow()))
            return Col(
                INT,
                -v,
                fault=first(operand.fault, overflow),
                fatal=operand.fatal,
            )
        raise Unsupported(f"unary {node.op} on {operand.type}")

    def binary(self, node: Binary) -> Col:
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

    def logical(self, node: Binary) -> Col:
        left = self.compile(node.left)
        right = self.compile(node.right)
        if left.type != BOOL or right.type != BOOL:
            raise Unsupported("non-bool operand of a logical operator")
        fatal = first(left.fatal, right.fatal)
        is_or = node.op == "||"
        lv, rv = left.value, right.value
        if left.fault is None and right.fault is None:
            return Col(BOOL, (lv | rv) if is_or else (lv & rv), fatal=fatal)
        lv, rv = self.bind(lv), self.bind(rv)
        left_f = self.bind(left.fault) if left.fault is not None else None
        right_f = self.bind(right.fault) if right.fault is not None else None
        lok, rok = is_null(left_f), is_null(right_f)
        # The absorbing value: true for ||, false for &&.
        l_abs = (lok & lv) if is_or else (lok & ~lv)
        r_abs = (rok & rv) if is_or else (rok & ~rv)
        absorbed = l_abs | r_abs
        both = self.code(evalerrors.no_overload(node.op, (evalerrors.NO_VALUE,) * 2))
        left_fault = left_f if left_f is not None else pl.lit(None, dtype=FAULT)
        right_fault = right_f if right_f is not None else pl.lit(None, dtype=FAULT)
        fault = (
            pl.when(absorbed)
            .then(pl.lit(None, dtype=FAULT))
            .when(lok)
            .then(right_fault)
            .when(rok)
            .then(left_fault)
            .otherwise(fault_lit(both))
        )
        value = absorbed if is_or else ~absorbed
        return Col(BOOL, value, fault=fault, fatal=fatal)

    def membership(self, left: Col, right: Col) -> Col:
        fault = first(left.fault, right.fault)
        if right.members is not None and isinstance(left.const, str):
            found = right.members.get(left.const)
            return Col(BOOL, found if found is not None else pl.lit(False), fault=fault)
        if isinstance(right.type, ListType):
            if right.type.elem != left.type or left.type not in (INT, DOUBLE, STRING, BOOL):
                raise Unsupported(f"{left.type} in {right.type}")
            if left.type == DOUBLE:
                left = replace(left, value=self.bind(left.value))
            if right.is_const and isinstance(right.const, list):
                value = left.value.is_in(pl.lit(right.const, dtype=dtype_of(right.type)))
            else:
                value = right.value.list.contains(left.value)
            if left.type == DOUBLE:
                value = value & left.value.is_not_nan()  # NaN is never == anything
            return Col(BOOL, value, fault=fault)
        if isinstance(right.type, MapType) and right.keys is not None:
            if not isinstance(left.const, str):
                raise Unsupported("'in' a map with a computed key")
            if left.const not in right.keys:
                return Col(BOOL, pl.lit(False), fault=fault)
            return Col(BOOL, right.value.struct.field(left.const).is_not_null(), fault=fault)
        raise Unsupported(f"'in' on {right.type}")

    def comparison(self, op: str, left: Col, right: Col) -> Col:
        fault = first(left.fault, right.fault)
        t = left.type
        if t != right.type:
            raise Unsupported(f"comparing {left.type} and {right.type}")
        if t == DOUBLE:
            a, b = self.bind(left.value), self.bind(right.value)
            return Col(BOOL, _nan_safe(op, a, b), fault=fault)
        if t in (INT, STRING, BOOL, TIMESTAMP, DURATION):
            return Col(BOOL, _compare(op, left.value, right.value), fault=fault)
        if (
            op in ("==", "!=")
            and isinstance(t, ListType)
            and t.elem in (INT, STRING, BOOL, TIMESTAMP, DURATION)
        ):
            return Col(BOOL, _compare(op, left.value, right.value), fault=fault)
        raise Unsupported(f"{op} on {t}")

    def arithmetic(self, op: str, left: Col, right: Col) -> Col:
        lt, rt = left.type, right.type
        right_fault = right.fault
        left = replace(left, plain=self.bind_plain(left.plain))
        if right_fault is not None and (lt == INT or (lt == DOUBLE and op == "/")):
            # IntType (and DoubleType's division) call int()/float() on the faulted right
            # operand and raise TypeError: cel-python reports "no matching overload".
            # A plain float on the left leaves the fault to CELEvalError.__rtruediv__.
            right_fault = self.bind(right_fault)
            message = evalerrors.no_overload(op, (str(lt), evalerrors.NO_VALUE))
            converted = right_fault.is_not_null()
            if lt == DOUBLE:
                if left.plain is True:
                    converted = pl.lit(False)
                elif left.plain is not False:
                    converted = converted & ~_plain_expr(left.plain)
            right_fault = pl.coalesce([fault_when(converted, self.code(message)), right_fault])
        faults = first(left.fault, right_fault)
        a, b = left.value, right.value
        if lt == INT and rt == INT:
            return self.int_arithmetic(op, a, b, faults)
        if lt == DOUBLE and rt == DOUBLE:
            # float.__add__ & co. return plain floats, even on two DoubleTypes
            if op == "+":
                return Col(DOUBLE, a + b, fault=faults, plain=True)
            if op == "-":
                return Col(DOUBLE, a - b, fault=faults, plain=True)
            if op == "*":
                return Col(DOUBLE, a * b, fault=faults, plain=True)
            if op == "/":
                # DoubleType: x / 0.0 is +inf whatever x is (even 0.0 or negative); two
                # plain floats raise ZeroDivisionError instead (an error).
                both = self.bind_plain(_both(left.plain, right.plain))
                b = self.bind(b)
                quotient = (
                    pl.when(b == 0.0).then(pl.lit(math.inf)).otherwise(divide(a, b, self.zero))
                )
                zero = None
                if both is not False:
                    zero = fault_when(
                        (b == 0.0) & _plain_expr(both), self.code(evalerrors.division_by_zero())
                    )
                return Col(DOUBLE, quotient, fault=first(faults, zero), plain=both)
            raise Unsupported(f"double {op}")
        if op == "+" and lt == STRING and rt == STRING:
            return Col(STRING, a + b, fault=faults, plain=True)
        if op == "+" and isinstance(lt, ListType) and lt == rt:
            return Col(lt, a.list.concat(b), fault=faults)
        return self.time_arithmetic(op, left, right, faults)

    def int_arithmetic(self, op: str, a: pl.Expr, b: pl.Expr, faults: pl.Expr | None) -> Col:
        a, b = self.bind(a), self.bind(b)
        wide_a, wide_b = a.cast(pl.Int128), b.cast(pl.Int128)
        divide_error: pl.Expr | None = None
        if op == "+":
            wide = wide_a + wide_b
        elif op == "-":
            wide = wide_a - wide_b
        elif op == "*":
            wide = wide_a * wide_b
        elif op == "/":
            # cel-python truncates toward zero: sign * (|a| // |b|).
            wide = (wide_a.abs() // wide_b.abs()) * (wide_a.sign() * wide_b.sign())
            divide_error = fault_when(b == 0, self.code(evalerrors.division_by_zero()))
        else:
            # the remainder takes the sign of the dividend
            wide = (wide_a.abs() % wide_b.abs()) * pl.when(wide_a < 0).then(-1).otherwise(1)
            divide_error = fault_when(b == 0, self.code(evalerrors.division_by_zero()))
        wide = self.bind(wide)
        overflow = fault_when(
            (wide < INT64_MIN) | (wide > INT64_MAX), self.code(evalerrors.integer_overflow())
        )
        value = wide.clip(INT64_MIN, INT64_MAX).cast(pl.Int64)
        return Col(INT, value, fault=first(faults, divide_error, overflow))

    def time_arithmetic(self, op: str, left: Col, right: Col, faults: pl.Expr | None) -> Col:
        lt, rt = left.type, right.type
        if op == "-" and lt == TIMESTAMP and rt == TIMESTAMP:
            us = _epoch_us(left.value) - _epoch_us(right.value)
            return Col(DURATION, us.cast(DURATION_DTYPE), fault=faults)
        if (op == "+" and {lt, rt} == {TIMESTAMP, DURATION}) or (
            op == "-" and lt == TIMESTAMP and rt == DURATION
        ):
            ts, du = (left, right) if lt == TIMESTAMP else (right, left)
            shift = du.value.dt.total_microseconds()
            us = _epoch_us(ts.value).cast(pl.Int128)
            us = self.bind(us + shift if op == "+" else us - shift)
            bad = fault_when(
                (us < _MIN_TIMESTAMP_US) | (us > _MAX_TIMESTAMP_US),
                self.code(evalerrors.timestamp_overflow()),
            )
            value = (
                us.clip(_MIN_TIMESTAMP_US, _MAX_TIMESTAMP_US).cast(pl.Int64).cast(TIMESTAMP_DTYPE)
            )
            return Col(TIMESTAMP, value, fault=first(faults, bad))
        if op in ("+", "-") and lt == DURATION and rt == DURATION:
            a = left.value.dt.total_microseconds().cast(pl.Int128)
            b = right.value.dt.total_microseconds().cast(pl.Int128)
            us = self.bind(a + b if op == "+" else a - b)
            # beyond 64-bit microseconds (292,000 years) a column cannot hold it
            outside = (us < INT64_MIN) | (us > INT64_MAX)
            plain: Plain = True
            if op == "+":
                # DurationType.__add__/__radd__ check CEL's range on total_seconds() (a
                # float) when either side is a DurationType; timedelta's own + and -
                # (two plain timedeltas, or any subtraction) do not.
                plain = self.bind_plain(_both(left.plain, right.plain))
                seconds = divide(us.cast(pl.Float64), pl.lit(1e6), self.zero)
                checked = (seconds < -_MAX_DURATION_S) | (seconds > _MAX_DURATION_S)
                if plain is False:
                    outside = checked
                elif plain is not True:
                    outside = outside | (checked & ~_plain_expr(plain))
            bad = fault_when(outside, self.code(evalerrors.duration_overflow()))
            value = us.clip(INT64_MIN, INT64_MAX).cast(pl.Int64).cast(DURATION_DTYPE)
            return Col(DURATION, value, fault=first(faults, bad), plain=plain)
        raise Unsupported(f"{lt} {op} {rt}")

    def conditional(self, node: Conditional) -> Col:
        cond = self.compile(node.cond)
        then = self.compile(node.then)
        else_ = self.compile(node.else_)
        if cond.type != BOOL or then.type != else_.type or then.fields or then.keys:
            raise Unsupported("conditional of mixed or record types")
        cond = replace(
            cond,
            value=self.bind(cond.value),
            fault=self.bind(cond.fault) if cond.fault is not None else None,
        )
        a, b = then.value, else_.value
        if not a.meta.root_names() and not b.meta.root_names():
            a, b = self.opaque(a), self.opaque(b)
        value = pl.when(cond.value).then(a).otherwise(b)
        fault: pl.Expr | None = None
        if then.fault is not None or else_.fault is not None:
            branch = pl.when(cond.value).then(
                then.fault if then.fault is not None else pl.lit(None, dtype=FAULT)
            )
            fault = branch.otherwise(
                else_.fault if else_.fault is not None else pl.lit(None, dtype=FAULT)
            )
        if cond.fault is not None:
            # the reference yields the condition's own fault (no data stays no data)
            fault = pl.coalesce([cond.fault, fault]) if fault is not None else cond.fault
        fatal = cond.fatal
        if then.fatal is not None or else_.fatal is not None:
            # A faulted condition is truthy in cel-python: the then-branch is evaluated.
            taken = cond.value if cond.fault is None else (cond.fault.is_not_null() | cond.value)
            chosen = pl.when(taken).then(
                then.fatal if then.fatal is not None else pl.lit(None, dtype=FAULT)
            )
            chosen_fatal = chosen.otherwise(
                else_.fatal if else_.fatal is not None else pl.lit(None, dtype=FAULT)
            )
            fatal = first(fatal, chosen_fatal)
        plain: Plain = then.plain
        same = isinstance(then.plain, bool) and isinstance(else_.plain, bool)
        if not (same and then.plain == else_.plain):
            plain = (
                pl.when(cond.value)
                .then(_plain_expr(then.plain))
                .otherwise(_plain_expr(else_.plain))
            )
        return Col(then.type, value, fault=fault, fatal=fatal, plain=plain)

    def list_literal(self, node: ListLit) -> Col:
        if not node.items:
            raise Unsupported("empty list literal")
        items = [self.compile(item) for item in node.items]
        elem = items[0].type
        if any(i.type != elem for i in items) or elem not in (INT, DOUBLE, STRING, BOOL):
            raise Unsupported("list literal of mixed or nested types")
        if any(i.plain is not False for i in items):
            raise Unsupported("list literal of computed doubles or strings")
        t = ListType(elem)
        if all(i.is_const for i in items):
            constant = [i.const for i in items]
            return Col(
                t, pl.lit(pl.Series(constant, dtype=dtype_of(elem))).implode(), const=constant
            )
        return Col(
            t,
            pl.concat_list([i.value for i in items]),
            fault=first(*(i.fault for i in items)),
            fatal=first(*(i.fatal for i in items)),
        )

    # -- calls

    def call(self, node: Call) -> Col:
        name = node.function
        spec = self.functions.get(name)
        if spec is None:
            raise Unsupported(f"function {name!r}")
        operands = [
            self.compile(a) for a in ((node.target, *node.args) if node.target else node.args)
        ]
        fatal = first(*(o.fatal for o in operands))
        fault = first(*(o.fault for o in operands))
        if spec.impl is not None:
            if getattr(spec.impl, "__module__", "") != _BUILTIN_FUNCTIONS:
                raise Unsupported(f"plugin function {name!r}")
            col = self.csrules_function(name, operands, fault)
        else:
            col = self.standard_function(name, node, operands, fault)
        return replace(col, fatal=first(fatal, col.fatal))

    def standard_function(
        self, name: str, node: Call, ops: Sequence[Col], fault: pl.Expr | None
    ) -> Col:
        types = tuple(o.type for o in ops)
        if name == "size" and len(ops) == 1:
            (x,) = ops
            if x.type == STRING:
                return Col(INT, x.value.str.len_chars().cast(pl.Int64), fault=fault)
            if isinstance(x.type, ListType):
                return Col(INT, x.value.list.len().cast(pl.Int64), fault=fault)
            if x.keys is not None:
                if not x.keys:
                    return Col(INT, pl.lit(0, dtype=pl.Int64), fault=fault)
                present = [x.value.struct.field(k).is_not_null().cast(pl.Int64) for k in x.keys]
                return Col(INT, pl.sum_horizontal(present), fault=fault)
            raise Unsupported(f"size of {x.type}")
        if name == "int" and len(ops) == 1:
            return self.to_int(ops[0], fault)
        if name == "double" and types in ((INT,), (DOUBLE,)):
            return Col(DOUBLE, ops[0].value.cast(pl.Float64), fault=fault)
        if name == "string" and types == (STRING,):
            return ops[0]
        if name == "string" and types == (INT,):
            return Col(STRING, ops[0].value.cast(pl.String), fault=fault)
        if name in ("timestamp", "duration") and len(ops) == 1:
            return self.time_literal(name, ops[0])
        if name in ("startsWith", "endsWith", "contains") and types == (STRING, STRING):
            text, part = ops[0].value, ops[1].value
            if name == "startsWith":
                value = text.str.starts_with(part)
            elif name == "endsWith":
                value = text.str.ends_with(part)
            else:
                value = text.str.contains(part, literal=True)
                target = ops[0].plain
                if target is not False:
                    # a plain str has no .contains(): AttributeError, "no such overload"
                    error = fault_when(
                        _plain_expr(target),
                        self.code(evalerrors.no_overload_call("contains", "concatenated string")),
                    )
                    fault = first(fault, error)
            return Col(BOOL, value, fault=fault)
        if name == "matches" and types == (STRING, STRING):
            pattern = ops[1].const
            if not isinstance(pattern, str) or not regex_is_portable(pattern):
                raise Unsupported("matches() with a computed or engine-specific pattern")
            return Col(BOOL, ops[0].value.str.contains(pattern), fault=fault)
        raise Unsupported(f"{name}{types}")

    def to_int(self, x: Col, fault: pl.Expr | None) -> Col:
        if x.type == INT:
            return x
        if x.type != DOUBLE:
            raise Unsupported(f"int({x.type})")
        v = self.bind(x.value)
        fault = self.bind_opt(fault)
        overflow = self.code(evalerrors.out_of_range("int"))
        # trunc() of NaN raises ValueError (an error); of +-inf OverflowError, which
        # cel-python does not catch: it escapes the whole expression (fatal).
        bad = fault_when(
            v.is_nan() | (v.is_finite() & ((v < -(2.0**63)) | (v >= 2.0**63))), overflow
        )
        fatal = fault_when(
            is_null(fault) & v.is_infinite(), self.code(evalerrors.infinity_to_integer())
        )
        return Col(INT, v.cast(pl.Int64, strict=False), fault=first(fault, bad), fatal=fatal)

    def time_literal(self, name: str, x: Col) -> Col:
        wanted = TIMESTAMP if name == "timestamp" else DURATION
        if x.type == wanted:
            return x
        if x.type != STRING or not isinstance(x.const, str):
            raise Unsupported(f"{name}() of a computed value")
        try:
            if name == "timestamp":
                stamp = celtypes.TimestampType(x.const).astimezone(UTC)
                return Col(TIMESTAMP, pl.lit(stamp, dtype=TIMESTAMP_DTYPE), const=stamp)
            parsed = celtypes.DurationType(x.const)
        except Exception as exc:  # the reference reports it per account: fall back
            raise Unsupported(f"{name}({x.const!r}): {exc}") from None
        delta = timedelta(
            days=parsed.days, seconds=parsed.seconds, microseconds=parsed.microseconds
        )
        return Col(DURATION, pl.lit(delta, dtype=DURATION_DTYPE), const=delta)

    def csrules_function(self, name: str, ops: Sequence[Col], fault: pl.Expr | None) -> Col:
        types = tuple(o.type for o in ops)
        if name in ("days_since", "days_until") and types == (TIMESTAMP,):
            now_us = int(
                (self.now.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC))
                // timedelta(microseconds=1)
            )
            ts_us = _epoch_us(ops[0].value)
            diff = (
                (pl.lit(now_us, dtype=pl.Int64) - ts_us)
                if name == "days_since"
                else (ts_us - now_us)
            )
            seconds = seconds_of_us(self.bind(diff), self.zero)
            days = divide(seconds, pl.lit(86400.0), self.zero)
            return Col(DOUBLE, days, fault=fault)
        if name == "clamp" and len(ops) == 3 and all(t in (INT, DOUBLE) for t in types):
            x, lo, hi = (
                self.bind(self.opaque(o.value.cast(pl.Float64) if o.type == INT else o.value))
                for o in ops
            )
            # min(max(x, lo), hi) as Python computes it (NaN compares false)
            low = self.bind(pl.when(_nan_safe(">", lo, x)).then(lo).otherwise(x))
            return Col(
                DOUBLE, pl.when(_nan_safe("<", hi, low)).then(hi).otherwise(low), fault=fault
            )
        if name == "days" and types in ((INT,), (DOUBLE,)):
            return self.days(ops[0], fault)
        raise Unsupported(f"{name}{types}")

    def days(self, n: Col, fault: pl.Expr | None) -> Col:
        total = self.bind(n.value.cast(pl.Float64) * 86400.0)
        whole = self.bind(total.floor())
        nanos = ((total - whole) * 1e9).round(0, mode="half_to_even")
        # a NaN or infinite total (int() of NaN) or one out of CEL's range: an error
        bad = self.bind(
            fault_when(
                ~total.is_finite() | (whole.abs() > float(_MAX_DURATION_S)),
                self.code(evalerrors.out_of_range("days")),
            )
        )
        safe = pl.when(bad.is_null()).then(whole).otherwise(0.0)
        us = safe.cast(pl.Int64) * _US + nanos.fill_nan(0.0).cast(pl.Int64, strict=False) // 1000
        return Col(DURATION, us.cast(DURATION_DTYPE), fault=first(fault, bad))

    # -- macros

    def comprehension(self, node: Comprehension) -> Col:
        if node.macro not in ("exists", "all") or node.filter is not None:
            raise Unsupported(f"{node.macro}() macro")
        source = self.compile(node.range)
        if not isinstance(source.type, ListType) or source.fields or source.keys:
            raise Unsupported(f"{node.macro}() over {source.type}")
        element = Col(source.type.elem, pl.element())
        inner = Compiler(
            self.scope.with_variable(node.variable, element),
            self.functions,
            self.messages,
            self.now,
            full_zeros(),
            _NoBinder(),
            [node.variable],
            steps=self.steps,
        )
        body = inner.compile(node.body)
        for part in (body.value, body.fault, body.fatal):
            if part is not None:
                check_body_plan(part)
        if body.type != BOOL:
            raise Unsupported("non-bool macro body")
        for expr in (body.value, body.fault, body.fatal):
            if expr is not None and expr.meta.root_names():
                raise Unsupported("a macro body reading more than its variable")
        source = replace(
            source,
            value=self.bind(source.value) if body.fatal is not None else source.value,
            fault=self.bind_opt(source.fault) if body.fatal is not None else source.fault,
        )
        # Per element: -1 true, -2 false, or the fault code (>= 0).
        if body.fault is None:
            states = source.value.list.eval(
                pl.when(body.value).then(pl.lit(-1, FAULT)).otherwise(pl.lit(-2, FAULT))
            )
        else:
            states = source.value.list.eval(
                pl.when(body.fault.is_not_null())
                .then(body.fault)
                .when(body.value)
                .then(pl.lit(-1, FAULT))
                .otherwise(pl.lit(-2, FAULT))
            )
        states = self.bind(states)
        is_exists = node.macro == "exists"
        absorbing = states.list.contains(pl.lit(-1 if is_exists else -2, FAULT))
        value = absorbing if is_exists else ~absorbing
        fault: pl.Expr | None = None
        if body.fault is not None:
            faulted = states.list.eval(pl.element() >= 0)
            count = faulted.list.sum()
            first_fault = states.list.eval(pl.element().filter(pl.element() >= 0)).list.first()
            fault = (
                pl.when(absorbing | (count == 0))
                .then(pl.lit(None, dtype=FAULT))
                .when(count == 1)
                .then(first_fault.cast(FAULT))
                .otherwise(fault_lit(self.code(evalerrors.macro_without_values(node.macro))))
            )
        fatal = source.fatal
        if body.fatal is not None:
            raised = source.value.list.eval(body.fatal).list.drop_nulls().list.first().cast(FAULT)
            fatal = first(fatal, pl.when(is_null(source.fault)).then(raised))
        return Col(BOOL, value, fault=first(source.fault, fault), fatal=fatal)


_BOOL_OPERATORS: Final = frozenset({"==", "!=", "<", "<=", ">", ">=", "in", "&&", "||"})


def _is_bool_operator(node: Node) -> bool:
    """Operators whose result is a bool whatever their operands' types."""
    if isinstance(node, Binary):
        return node.op in _BOOL_OPERATORS
    return isinstance(node, Unary) and node.op == "!"


def _is_plugin(spec: FunctionSpec | None) -> bool:
    return (
        spec is not None
        and spec.impl is not None
        and (getattr(spec.impl, "__module__", "") != _BUILTIN_FUNCTIONS)
    )


def _fold_operands(node: Node, functions: Mapping[str, FunctionSpec]) -> Sequence[Node] | None:
    """The operands of ``node`` when it can be folded once they are all constant.

    Plugin functions are never folded (they run for every account, as the reference
    runs them); a comprehension is folded when its body reads nothing but its own
    variables and its range is constant.
    """
    if isinstance(node, Index):
        return (node.operand, node.index)
    if isinstance(node, Call):
        if _is_plugin(functions.get(node.function)):
            return None
        return (node.target, *node.args) if node.target is not None else node.args
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Conditional):
        return (node.cond, node.then, node.else_)
    if isinstance(node, ListLit):
        return node.items
    if isinstance(node, MapLit):
        return tuple(part for entry in node.entries for part in entry)
    if isinstance(node, Select):
        return (node.operand,)
    closed = isinstance(node, Comprehension) and not free_names(node.body) - {node.variable}
    if isinstance(node, Comprehension) and closed and node.filter is None:
        return (node.range,)
    return None


def _literal_raw(value: LiteralValue, t: CelType) -> Any:
    """A literal as cel-python's evaluation of it gives it."""
    if isinstance(value, bytes):
        return celtypes.BytesType(value)
    if t == UINT and isinstance(value, int) and not isinstance(value, bool):
        return celtypes.UintType(value)
    return to_cel(value)


def _value_type(raw: Any) -> CelType | None:
    """The CEL type of a folded value the columnar backend can hold, else None."""
    if isinstance(raw, celtypes.BoolType | bool):
        return BOOL
    if isinstance(raw, celtypes.UintType):
        return None
    if isinstance(raw, int):
        return INT
    if isinstance(raw, float):
        return DOUBLE
    if isinstance(raw, str):
        return STRING
    if isinstance(raw, datetime):
        return TIMESTAMP
    if isinstance(raw, timedelta):
        return DURATION
    if isinstance(raw, list) and raw:
        types = {_value_type(item) for item in raw}
        if len(types) == 1:
            (elem,) = types
            if elem in (INT, DOUBLE, STRING, BOOL):
                return ListType(elem)
    return None


def _column_value(raw: Any, t: CelType | None) -> tuple[pl.Expr, Any] | None:
    """A folded value as a Polars literal of type ``t`` and as the Python value."""
    empty_list = isinstance(t, ListType) and isinstance(raw, list) and not raw
    if t is None or (_value_type(raw) != t and not empty_list):
        return None
    if t == TIMESTAMP:
        stamp = from_cel(raw)
        return pl.lit(stamp, dtype=TIMESTAMP_DTYPE), stamp
    if t == DURATION:
        delta = timedelta(days=raw.days, seconds=raw.seconds, microseconds=raw.microseconds)
        return pl.lit(delta, dtype=DURATION_DTYPE), delta
    if t in (INT, DOUBLE, STRING, BOOL):
        value = from_cel(raw)
        return pl.lit(value, dtype=dtype_of(t)), value
    if isinstance(t, ListType) and t.elem in (INT, DOUBLE, STRING, BOOL):
        values = [from_cel(item) for item in raw]
        return pl.lit(pl.Series(values, dtype=dtype_of(t.elem))).implode(), values
    return None


def regex_is_portable(pattern: str) -> bool:
    """Whether RE2 and Polars' regex engine give the same answers for ``pattern``."""
    if _REGEX_DIVERGENT.search(pattern):
        return False
    try:
        import re2  # type: ignore[import-untyped]

        re2.compile(pattern)
        pl.Series([""], dtype=pl.String).str.contains(pattern)
    except Exception:
        return False
    return True


@dataclass(frozen=True)
class CompiledExpr:
    """The output columns of one compiled expression: value, and fault (with fatal folded in)."""

    type: CelType
    value: pl.Expr
    fault: pl.Expr | None


def finish(col: Col) -> CompiledExpr:
    """The root of an expression: a fatal error overrides everything else."""
    if col.fields is not None:
        raise Unsupported("a whole record as a value")
    if col.keys is not None:
        raise Unsupported("a whole map as a value")
    return CompiledExpr(col.type, col.value, first(col.fatal, col.fault))


def compile_node(
    node: Node,
    scope: Scope,
    functions: Mapping[str, FunctionSpec],
    messages: Messages,
    now: datetime,
    zero: pl.Expr,
    binder: Binder,
    *,
    steps: int = DEFAULT_STEPS,
) -> CompiledExpr:
    """Compile ``node`` against ``scope``; raises :class:`Unsupported` outside the subset.

    ``zero`` is a full-length column of zeros of the frame (see :func:`divide`); the
    temporary columns the result reads are in ``binder`` (compute its ``steps`` first).
    ``steps`` is the step budget of a constant sub-expression folded by cel-python.
    """
    compiler = Compiler(scope, functions, messages, now, zero, binder, steps=steps)
    return finish(compiler.compile(node))


Factory = Callable[[str], Col]
