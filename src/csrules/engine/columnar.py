"""The columnar backend: stages 0-5 as whole-batch Polars operations.

Every kernel of a stage is compiled (``colcompile``) into a value column and a fault
column (null = a value, 0 = no data, > 0 = an error code), and all kernels of a stage
are evaluated by one Polars query, so Polars runs them in parallel and shares common
sub-expressions. Stage logic (percentiles, normalization and weights, bands, drivers,
tier ranking, the ADKAR barrier, error lists) is written as column expressions too:
no Python loop runs over the accounts in the hot path.

An expression outside the compiled subset falls back, alone, to its reference kernel:
the reference activations are built for that stage (only then), its values are turned
into the same two columns, and the rest of the stage stays columnar.

Per-account objects (:class:`AccountResult`, activations for ``explain``) are built
from the result columns only when asked for (:class:`ColumnarResult`).
"""

from __future__ import annotations

import atexit
import functools
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import numpy as np
import polars as pl
from celpy import celtypes
from polars.lazyframe.in_process import InProcessQuery

from csrules.engine import activations as acts
from csrules.engine import evalerrors
from csrules.engine.colcompile import (
    DURATION_DTYPE,
    FAULT,
    NO_DATA_CODE,
    TIMESTAMP_DTYPE,
    Binder,
    Col,
    CompiledExpr,
    Messages,
    Scope,
    Unsupported,
    absent_leaf,
    column_leaf,
    compile_node,
    const_leaf,
    divide,
    dtype_of,
    full_zeros,
)
from csrules.engine.colformat import text_of
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.kernel import Kernel
from csrules.engine.reference import ReferenceKernel
from csrules.engine.results import (
    AccountResult,
    Driver,
    Evaluation,
    MeasureResult,
    RuleError,
)
from csrules.engine.templates import CompiledTemplate, format_value
from csrules.engine.values import NO_DATA, ErrorKind, EvalError, NoData, Value, is_value
from csrules.expr.ast import ExprSyntaxError, Ident, Index, Literal, Node, Select, parse, walk
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
    cel_type,
)
from csrules.model.rules import ADKAR_ELEMENTS
from csrules.snapshot.batch import AccountBatch, frame_records

_OPTIMIZE_FROM: Final = 4096
# Polars' default (streaming) engine splits every column of its result into chunks; a
# frame with differently chunked columns is copied whole by later selects, so stages
# run on the in-memory engine, which keeps one chunk per column.
ENGINE: Final = "in-memory"
P: Final = "§"  # prefix of every internal column (account fields keep their names)
KEY: Final = f"{P}key"

STAGES: Final = ("aggregates", "health", "segments", "tiers", "adkar", "playbooks")
"""Stage names by number, as the stage budget's message names them."""

clock: Callable[[], float] = time.monotonic
"""The clock of the stage budget (a module attribute so that tests can replace it)."""

_FIRST_POLL: Final = 0.0002  # seconds between the first polls of a background query
_LAST_POLL: Final = 0.05

_ROLE_TYPES: dict[str, tuple[CelType, ...]] = {
    "when": (BOOL,),
    "aggregate": (INT, DOUBLE, BOOL),
    "measure": (INT, DOUBLE),
    "adkar": (INT,),
    "hole": (INT, STRING, BOOL, DOUBLE, TIMESTAMP, DURATION),
}


@functools.lru_cache(maxsize=4096)
def _parsed(source: str) -> Node | None:
    try:
        return parse(source)
    except ExprSyntaxError:
        return None


def _null(dtype: pl.DataType) -> pl.Expr:
    return pl.lit(None, dtype=dtype)


def _empty_lists() -> pl.Expr:
    return pl.lit([], dtype=pl.List(pl.String))


def _kernels(compiled: CompiledPlaybook) -> list[Kernel]:
    """Every kernel ``evaluate`` may run (templates' holes included)."""
    out: list[Kernel] = []
    for agg in compiled.aggregates:
        out.extend(k for k in (agg.of, agg.where) if k is not None)
    for measure in compiled.measures:
        out.append(measure.value)
        if measure.explain is not None:
            out.extend(p for p in measure.explain.parts if not isinstance(p, str))
    out.extend(s.when for s in compiled.segments)
    out.extend(t.when for t in compiled.tiers)
    out.extend(k for _, k in compiled.adkar)
    out.extend(p.when for p in compiled.playbooks)
    return out


def fields_read(sources: Iterable[str]) -> set[str] | None:
    """The account fields the expressions ``sources`` read (``account.arr`` reads
    ``arr``), or ``None`` when unsure: one that does not parse, or reads ``account``
    whole. What a reader must load for them, and no more."""
    wanted: set[str] = set()
    for source in sources:
        node = _parsed(source)
        if node is None:
            return None
        for part in walk(node):
            if isinstance(part, Ident) and part.name == "account":
                parent = _parent_select(node, part)
                if parent is None:
                    return None  # `account` used whole
                wanted.add(parent)
    return wanted


def aggregate_fields(compiled: CompiledPlaybook) -> set[str] | None:
    """The account fields the portfolio aggregates read (``None``: all of them)."""
    return fields_read(
        k.source for agg in compiled.aggregates for k in (agg.of, agg.where) if k is not None
    )


def _parent_select(root: Node, ident: Ident) -> str | None:
    """The field selected on ``ident`` (``account.arr`` -> ``arr``), or None."""
    for node in walk(root):
        if isinstance(node, Select) and node.operand is ident:
            return node.field
        if isinstance(node, Index) and node.operand is ident and isinstance(node.index, Literal):
            return str(node.index.value)
    return None


def python_value(value: Any, t: CelType | None) -> Value:
    """A Polars value of CEL type ``t`` as the reference backend returns it
    (through ``celvalues.from_cel``: timestamps in UTC, durations via float seconds)."""
    if value is None:
        return None
    if t == TIMESTAMP and isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC)
    if t == DURATION and isinstance(value, timedelta):
        return timedelta(seconds=value.total_seconds())
    if isinstance(t, ListType) and isinstance(value, list):
        return [python_value(v, t.elem) for v in value]
    return value


@dataclass
class _Evaluated:
    """One kernel evaluated into ``{name}.v`` / ``{name}.f``."""

    name: str
    type: CelType | None  # the compiled type; None for a fallback
    raw: list[Value] | None = None  # a fallback's own values (kept for the results)

    def to_python(self, value: Any, code: int | None, messages: Messages) -> Value:
        if code is not None:
            return NO_DATA if code == NO_DATA_CODE else messages.error(code)
        return python_value(value, self.type)


@dataclass(frozen=True)
class _Plan:
    """A compiled kernel's outputs and the temporary columns they read."""

    binder: Binder
    outputs: list[pl.Expr]


def _merge(plans: Sequence[_Plan]) -> tuple[list[list[pl.Expr]], list[str]]:
    """The column steps of several plans (temporaries by depth, then outputs), and the
    temporary columns to drop."""
    steps: list[list[pl.Expr]] = []
    for plan in plans:
        for depth, step in enumerate(plan.binder.steps()):
            if depth == len(steps):
                steps.append([])
            steps[depth].extend(step)
    steps.append([e for plan in plans for e in plan.outputs])
    return steps, [name for plan in plans for name in plan.binder.names]


def _query(
    frame: pl.DataFrame, steps: Sequence[Sequence[pl.Expr]], drop: Sequence[str] = ()
) -> pl.LazyFrame:
    query = frame.lazy()
    for step in steps:
        if step:
            query = query.with_columns(step)
    return query.drop(drop) if drop else query


_abandoned: list[InProcessQuery] = []


def _abandon(handle: InProcessQuery) -> None:
    """Give up on a background query.

    Polars stops a cancelled query only at its next operation: one already inside an
    operation runs to its end in the background. Its handle must outlive it (Polars
    aborts the whole process when a background query ends after its handle was
    dropped), so abandoned handles are kept until their query is over, and the
    interpreter waits for the last ones when it exits.
    """
    handle.cancel()
    _abandoned.append(handle)
    _settle(block=False)


def _settle(block: bool) -> None:
    """Drop the abandoned handles whose query is over (all of them with ``block``)."""
    running: list[InProcessQuery] = []
    for handle in _abandoned:
        try:
            over = (handle.fetch_blocking() if block else handle.fetch()) is not None
        except Exception:  # a cancelled or failed query: over too
            over = True
        if not over:
            running.append(handle)
    _abandoned[:] = running


atexit.register(_settle, True)


def _wait(
    handles: Sequence[InProcessQuery], deadline: float
) -> list[pl.DataFrame | Exception | None]:
    """The frames of background queries finished by ``deadline`` (None for the others,
    which are cancelled; an exception for a query Polars refused)."""
    results: list[pl.DataFrame | Exception | None] = [None] * len(handles)
    pending = set(range(len(handles)))
    pause = _FIRST_POLL
    while pending:
        for i in sorted(pending):
            try:
                frame = handles[i].fetch()
            except pl.exceptions.PolarsError as error:
                results[i] = error
                pending.discard(i)
                continue
            if frame is not None:
                results[i] = frame
                pending.discard(i)
        if not pending:
            break
        now = clock()
        if now >= deadline:
            for i in pending:
                _abandon(handles[i])
            break
        time.sleep(min(pause, deadline - now))
        pause = min(pause * 2, _LAST_POLL)
    return results


@dataclass(frozen=True)
class _Local:
    """Stage-local variables of a kernel (``value`` in explain), and for a fallback,
    their reference values per row and the rows to evaluate."""

    variables: Mapping[str, Col]
    values: Callable[[int], Mapping[str, Any]]
    rows: pl.Series


def _value_of(xs: pl.Series) -> Callable[[int], Mapping[str, Any]]:
    def values(i: int) -> Mapping[str, Any]:
        return {"value": celtypes.DoubleType(float(xs[i]))}

    return values


@dataclass
class _ErrorSlot:
    """A rule that may report an error for an account, in the reference's order."""

    rule: str
    column: str  # Int32 message code, null = no error
    prefix: str = ""
    value_column: str | None = None  # for messages that quote the value ("score 7 ...")


class ColumnarRun:
    """One columnar evaluation: the working frame, stage by stage."""

    def __init__(
        self,
        compiled: CompiledPlaybook,
        batch: AccountBatch,
        now: datetime,
        *,
        messages: Messages | None = None,
    ) -> None:
        self.compiled = compiled
        self.batch = batch
        self.now = now
        self.messages = messages or Messages()
        self.functions: Mapping[str, FunctionSpec] = compiled.functions
        key = batch.frame.get_column(batch.spec.key)
        frame = batch.frame.select(self._read_fields(compiled, batch))
        if any(s.n_chunks() > 1 for s in frame.get_columns()):
            # One chunk per column: a frame whose columns are chunked differently (a
            # Parquet file's row groups next to computed columns) is copied whole by
            # every later select; copying the columns read once is far cheaper.
            frame = frame.rechunk()
        self._frame = frame.with_columns(
            (key if key.dtype == pl.String else key.cast(pl.String)).rechunk().alias(KEY)
        )
        # Column steps not computed yet: one Polars query per stage instead of one per
        # step (a query's fixed cost dominates small batches).
        self._pending: list[list[pl.Expr]] = []
        self.variables: dict[str, Col] = {
            "account": self._account_record(),
            "now": const_leaf(TIMESTAMP, now.astimezone(UTC)),
        }
        self.zero = full_zeros()  # see colcompile.divide
        self.temporaries: list[str] = []
        self.evaluated: dict[str, _Evaluated] = {}
        self.fallbacks: list[str] = []  # sources evaluated by the reference backend
        self.slots: list[_ErrorSlot] = []
        self.portfolio: dict[str, float | None] = {}
        self.stage = -1
        self._activations: list[acts.Activation] | None = None
        self._activation_stage = -1

    # -- variables

    @staticmethod
    def _read_fields(compiled: CompiledPlaybook, batch: AccountBatch) -> list[str]:
        """The account fields some expression reads (all of them when unsure)."""
        every = list(batch.frame.columns)
        wanted = fields_read(k.source for k in _kernels(compiled))
        if wanted is None:
            return every
        return [c for c in every if c in wanted or c == batch.spec.key]

    def _account_record(self, frame: pl.DataFrame | None = None) -> Col:
        fields: dict[str, Col] = {}
        df = self.df if frame is None else frame
        schema = df.schema
        for name, ft in self.batch.spec.fields.items():
            t = cel_type(ft)
            dtype = schema.get(name)
            if dtype is None:
                continue  # read by no expression
            nullable = df.get_column(name).null_count() > 0
            keys = tuple(f.name for f in dtype.fields) if isinstance(dtype, pl.Struct) else None
            if isinstance(t, MapType) and keys is None:
                continue  # a map not stored as a struct: reference only
            fields[name] = column_leaf(t, name, nullable=nullable, keys=keys)
        return Col(MapType(STRING, STRING), pl.lit(None), fields=fields)

    def rows_with_fields(self, rows: Sequence[int]) -> tuple[pl.DataFrame, Col]:
        """The working frame at ``rows`` with every account field (a template reads
        fields no rule reads), and the ``account`` variable over it."""
        frame = self.df[list(rows)]
        missing = [c for c in self.batch.frame.columns if c not in frame.columns]
        if missing:
            frame = frame.with_columns(self.batch.frame.select(missing)[list(rows)].get_columns())
        return frame, self._account_record(frame)

    def _leaf(self, t: CelType, column: str) -> Col:
        nullable = self.df.get_column(column).null_count() > 0
        return column_leaf(t, column, nullable=nullable)

    # -- kernels

    def compile(
        self, kernel: Kernel, binder: Binder, extra: Mapping[str, Col] | None = None
    ) -> CompiledExpr:
        node = _parsed(kernel.source)
        if node is None:
            raise Unsupported("syntax")
        variables = {**self.variables, **(extra or {})}
        return compile_node(
            node,
            Scope(variables),
            self.functions,
            self.messages,
            self.now,
            self.zero,
            binder,
            steps=self.compiled.project.limits.eval_steps,
        )

    def evaluate(
        self,
        specs: Sequence[tuple[str, Kernel, str]],
        *,
        local: Mapping[str, _Local] | None = None,
    ) -> None:
        """Add ``{name}.v`` and ``{name}.f`` for each (name, kernel, role) of one stage.

        ``local`` gives, by name, stage-local variables (``value`` in a measure's
        explain), their reference values per row and the rows a fallback is needed on.
        """
        compiled: list[tuple[str, Kernel, str, _Plan]] = []
        fallback: list[tuple[str, Kernel, str]] = []
        types: dict[str, CelType] = {}
        for name, kernel, role in specs:
            extra = local[name].variables if local and name in local else None
            binder = Binder(name)
            try:
                plan = self.compile(kernel, binder, extra)
                outputs = self._outputs(name, plan, role)
            except Unsupported:
                fallback.append((name, kernel, role))
                continue
            compiled.append((name, kernel, role, _Plan(binder, outputs)))
            types[name] = plan.type
        self._flush()  # the stage logic so far: only the expressions are under the budget
        over: list[str] = []
        try:
            compiled, over, refused = self._within_budget(compiled, types)
            fallback.extend(refused)
        except pl.exceptions.PolarsError:
            # A plan Polars refuses (a type it cannot handle, a column it will not
            # broadcast...): find it on two rows, and let the reference evaluate it.
            self._flush()
            probe = self._frame.head(2)
            valid = []
            for item in compiled:
                try:
                    _query(probe, *_merge([item[3]])).collect(engine=ENGINE)
                    valid.append(item)
                except pl.exceptions.PolarsError:
                    fallback.append(item[:3])
            try:
                compiled, over, refused = self._within_budget(valid, types)
                fallback.extend(refused)
            except pl.exceptions.PolarsError:
                # refused only on some rows: the reference evaluates the whole stage
                fallback.extend(item[:3] for item in valid)
                compiled = []
        for name, *_ in compiled:
            self.evaluated[name] = _Evaluated(name, types[name])
        for name in over:
            self.evaluated[name] = _Evaluated(name, types[name])
        for name, kernel, role in fallback:
            self._fallback(name, kernel, role, local.get(name) if local else None)

    def columns_over(
        self,
        frame: pl.DataFrame,
        specs: Sequence[tuple[str, Kernel, str]],
        extra: Mapping[str, Col] | None = None,
    ) -> tuple[pl.DataFrame, set[str]]:
        """Expressions read after the last stage (silences, template holes) as columns
        ``{name}.v`` and ``{name}.f`` over ``frame``: rows of this run's frame, with the
        columns that ``extra`` variables read. Returns the frame and the names that were
        compiled; the others are left to the reference kernel (the caller's)."""
        plans: list[tuple[str, _Plan]] = []
        for name, kernel, role in specs:
            binder = Binder(name)
            try:
                plan = self.compile(kernel, binder, extra)
                plans.append((name, _Plan(binder, self._outputs(name, plan, role))))
            except Unsupported:
                continue
        probe = frame.head(2)  # two rows: a one-row column that will not broadcast fails too

        def runs(items: Sequence[tuple[str, _Plan]]) -> bool:
            try:
                _query(probe, *_merge([plan for _, plan in items])).collect(engine=ENGINE)
            except pl.exceptions.PolarsError:
                return False
            return True

        if plans and not runs(plans):
            plans = [item for item in plans if runs([item])]
        if not plans:
            return frame, set()
        try:
            done = _query(frame, *_merge([plan for _, plan in plans])).collect(engine=ENGINE)
        except pl.exceptions.PolarsError:
            return frame, set()
        return done, {name for name, _ in plans}

    # -- the stage budget

    @property
    def stage_seconds(self) -> float:
        return self.compiled.project.limits.stage_seconds

    @property
    def stage_name(self) -> str:
        return STAGES[max(0, min(self.stage, len(STAGES) - 1))]

    def _within_budget(
        self, items: list[tuple[str, Kernel, str, _Plan]], types: Mapping[str, CelType]
    ) -> tuple[list[tuple[str, Kernel, str, _Plan]], list[str], list[tuple[str, Kernel, str]]]:
        """Run the compiled expressions of a stage under ``[limits] stage_seconds``.

        All of them run as one query in the background. If it is not done within the
        budget, it is cancelled and each expression runs again alone, all at once,
        with a fresh budget: those that finish keep their values; an expression over
        the budget alone is an error for every account of the batch. Returns the
        expressions evaluated, those over the budget, and those Polars refused alone
        (for the reference backend).
        """
        if not items:
            return items, [], []
        steps, drop = _merge([item[3] for item in items])
        query = _query(self._frame, steps, drop)
        handle = query.collect(background=True, engine=ENGINE, optimizations=pl.QueryOptFlags())
        (frame,) = _wait([handle], clock() + self.stage_seconds)
        if isinstance(frame, Exception):
            raise frame
        if frame is not None:
            self._frame = frame
            return items, [], []
        names = [[f"{item[0]}.v", f"{item[0]}.f"] for item in items]
        handles = [
            _query(self._frame, *_merge([item[3]]))
            .select(columns)
            .collect(background=True, engine=ENGINE, optimizations=pl.QueryOptFlags())
            for item, columns in zip(items, names, strict=True)
        ]
        results = _wait(handles, clock() + self.stage_seconds)
        done: list[tuple[str, Kernel, str, _Plan]] = []
        over: list[str] = []
        refused: list[tuple[str, Kernel, str]] = []
        columns: list[pl.Series | pl.Expr] = []
        code = self.messages.code(evalerrors.over_stage_budget(self.stage_name, self.stage_seconds))
        for item, result in zip(items, results, strict=True):
            name, _, role, _ = item
            if isinstance(result, pl.DataFrame):
                done.append(item)
                columns.extend(result.get_columns())
            elif isinstance(result, Exception):
                refused.append(item[:3])
            else:
                over.append(name)
                dtype = pl.String() if role == "hole" else dtype_of(types[name])
                columns.append(_null(dtype).alias(f"{name}.v"))
                columns.append(fault_lit(code).alias(f"{name}.f"))
        if columns:
            self._frame = self._frame.with_columns(columns)
        return done, over, refused

    def _outputs(self, name: str, plan: CompiledExpr, role: str) -> list[pl.Expr]:
        accepted = _ROLE_TYPES.get(role)
        if accepted is not None and plan.type not in accepted:
            raise Unsupported(f"{plan.type} for a {role}")
        fault = plan.fault if plan.fault is not None else _null(FAULT)
        # int measures stay int, as in the results
        value = self._text(plan) if role == "hole" else plan.value.cast(dtype_of(plan.type))
        return [value.alias(f"{name}.v"), fault.cast(FAULT).alias(f"{name}.f")]

    def _text(self, plan: CompiledExpr) -> pl.Expr:
        """A template hole's text, as :func:`format_value` writes it."""
        v = plan.value
        if plan.type == STRING:
            text = v
        elif plan.type == INT:
            text = v.cast(pl.String)
        elif plan.type == BOOL:
            text = pl.when(v).then(pl.lit("true")).otherwise(pl.lit("false"))
        else:
            text = text_of(v, str(plan.type))
        if plan.fault is None:
            return text
        return pl.when(plan.fault == NO_DATA_CODE).then(pl.lit("")).otherwise(text)

    def _fallback(self, name: str, kernel: Kernel, role: str, local: _Local | None) -> None:
        self.fallbacks.append(kernel.source)
        base = self.activations()
        if local is not None:
            indexes = local.rows.to_list()
            part = self._reference(kernel, [{**base[i], **local.values(i)} for i in indexes])
            raw: list[Value] = [NO_DATA] * self.df.height
            for i, value in zip(indexes, part, strict=True):
                raw[i] = value
        else:
            raw = self._reference(kernel, base)
        values, faults = self._from_python(raw, role)
        self.df = self.df.with_columns(values.alias(f"{name}.v"), faults.alias(f"{name}.f"))
        self.evaluated[name] = _Evaluated(name, None, raw)

    def _reference(self, kernel: Kernel, activations: Sequence[Mapping[str, Any]]) -> list[Value]:
        """A fallback's values, account by account, within ``[limits] stage_seconds``
        for the whole batch (each account also within its step budget): the accounts
        not reached in time get the stage budget's error."""
        if not isinstance(kernel, ReferenceKernel):
            return kernel.evaluate(activations, self.now)
        program = kernel.program(self.now)
        deadline = clock() + self.stage_seconds
        out: list[Value] = []
        for activation in activations:
            if clock() >= deadline:
                late = evalerrors.over_stage_budget(self.stage_name, self.stage_seconds)
                out.extend([late] * (len(activations) - len(out)))
                break
            out.append(program.evaluate(activation, kernel.steps))
        return out

    def _from_python(self, raw: Sequence[Value], role: str) -> tuple[pl.Series, pl.Series]:
        codes: list[int | None] = []
        values: list[Any] = []
        code = self.messages.code
        for x in raw:
            if isinstance(x, NoData):
                codes.append(NO_DATA_CODE)
                values.append("" if role == "hole" else None)
                continue
            if isinstance(x, EvalError):
                codes.append(code(x))
                values.append(None)
                continue
            number = isinstance(x, int | float) and not isinstance(x, bool)
            if role == "when":
                codes.append(None)
                values.append(x is True)
            elif role == "hole":
                codes.append(None)
                values.append(format_value(x))
            elif role == "adkar":
                ok = isinstance(x, int) and not isinstance(x, bool)
                codes.append(None if ok else code(evalerrors.adkar_out_of_range(x)))
                values.append(x if ok else None)
            elif role == "measure" and not number:
                codes.append(code(evalerrors.not_a_number(x)))
                values.append(None)
            else:
                codes.append(None)
                values.append(float(x) if number else None)
        dtype: pl.DataType = {
            "when": pl.Boolean(),
            "hole": pl.String(),
            "adkar": pl.Int64(),
        }.get(role, pl.Float64())
        return pl.Series(values, dtype=dtype), pl.Series(codes, dtype=FAULT)

    # -- activations (fallbacks and explain)

    def activations(self) -> list[acts.Activation]:
        """Reference activations up to the current stage (built once, extended per stage)."""
        if self._activations is None:
            now = acts.cel_now(self.now)
            self._activations = [acts.base_activation(r, now) for r in self.batch.records()]
            self._activation_stage = 0
        rows = self._activations
        while self._activation_stage < self.stage:
            self._activation_stage += 1
            self._extend(rows, self._activation_stage)
        return rows

    def activations_of(self, rows: Sequence[int]) -> list[acts.Activation]:
        """The activations after every stage of the accounts at ``rows`` only (what a
        template falling back to the reference reads), without building the others."""
        if self._activations is not None:
            return [self._activations[i] for i in rows]
        now = acts.cel_now(self.now)
        batch = self.batch.frame[list(rows)] if rows else self.batch.frame.clear()
        out = [acts.base_activation(r, now) for r in frame_records(batch, self.batch.spec)]
        for stage in range(1, self.stage + 1):
            self._extend(out, stage, rows)
        return out

    def _extend(
        self, rows: list[acts.Activation], stage: int, at: Sequence[int] | None = None
    ) -> None:
        df = self.df if at is None else self.df[list(at)]
        if stage == 1:
            portfolio = acts.portfolio_variable(self.portfolio)
            for row in rows:
                row["portfolio"] = portfolio
        elif stage == 2:
            ids = [m.rule.id for m in self.compiled.measures]
            cols = [f"{P}score", f"{P}band", f"{P}previous", f"{P}delta"]
            cols += [f"{P}m{i}.n" for i in range(len(ids))]
            for row, values in zip(rows, df.select(cols).iter_rows(), strict=True):
                score, band, previous, delta, *normalized = values
                row["health"] = acts.health_variable(
                    score, band, dict(zip(ids, normalized, strict=True)), previous, delta
                )
        elif stage == 3:
            for row, segments in zip(rows, df.get_column(f"{P}segments").to_list(), strict=True):
                row["segments"] = acts.segments_variable(segments)
        elif stage == 4:
            for row, tier in zip(rows, df.get_column(f"{P}tier").to_list(), strict=True):
                if tier is not None:
                    row["tier"] = acts.tier_variable(tier)
        elif stage == 5:
            names = [name for name, _ in self.compiled.adkar]
            cols = [f"{P}a{i}.score" for i in range(len(names))]
            cols += [f"{P}barrier", f"{P}adkar_unknown"]
            for row, values in zip(rows, df.select(cols).iter_rows(), strict=True):
                *scores, barrier, unknown = values
                row["adkar"] = acts.adkar_variable(
                    {n: s for n, s in zip(names, scores, strict=True) if s is not None},
                    barrier,
                    unknown,
                )

    # -- helpers for stage logic

    def id_lists(self, pairs: Sequence[tuple[pl.Expr, str]], alias: str) -> None:
        """Add a list column of the ids whose condition holds, in order.

        Each account's set is a bit mask; the few distinct masks are turned into lists
        once and joined back (``concat_list(...).list.drop_nulls()`` is 20x slower).
        """
        if not pairs:
            self.with_columns(_empty_lists().alias(alias))
            return
        if len(pairs) > 62 or self._frame.height < _OPTIMIZE_FROM:
            # few accounts: one more column step beats a lookup table and a join
            items = [pl.when(c.fill_null(False)).then(pl.lit(name)) for c, name in pairs]
            self.with_columns(pl.concat_list(items).list.drop_nulls().alias(alias))
            return
        mask = f"{alias}.mask"
        bits = [
            cond.fill_null(False).cast(pl.Int64) * (1 << i) for i, (cond, _) in enumerate(pairs)
        ]
        self.with_columns(pl.sum_horizontal(bits).alias(mask))
        masks = self.df.get_column(mask).unique()
        names = [name for _, name in pairs]
        ids = [[n for i, n in enumerate(names) if (m >> i) & 1] for m in masks.to_list()]
        table = pl.DataFrame([masks.alias(mask), pl.Series(alias, ids, dtype=pl.List(pl.String))])
        # joined on the mask column alone, then attached: joining the wide frame copies it
        lists = (
            self.df.select(mask)
            .join(table, on=mask, how="left", maintain_order="left")
            .get_column(alias)
        )
        self.df = self.df.drop(mask).with_columns(lists)

    @property
    def df(self) -> pl.DataFrame:
        """The working frame, with every pending column step computed."""
        if self._pending:
            self._flush()
        return self._frame

    @df.setter
    def df(self, frame: pl.DataFrame) -> None:
        assert not self._pending, "replacing the frame would drop pending steps"
        self._frame = frame

    def with_columns(self, *exprs: pl.Expr | Sequence[pl.Expr]) -> None:
        """Add columns (lazily: computed with the next step that needs the frame)."""
        flat: list[pl.Expr] = []
        for e in exprs:
            if isinstance(e, pl.Expr):
                flat.append(e)
            else:
                flat.extend(e)
        if flat:
            self._pending.append(flat)

    def _flush(self, steps: Sequence[Sequence[pl.Expr]] = (), drop: Sequence[str] = ()) -> None:
        """Compute the pending steps, then ``steps``, in one Polars query; ``drop``
        the temporary columns afterwards."""
        query = _query(self._frame, [*self._pending, *steps], drop)
        self._frame = query.collect(engine=ENGINE, optimizations=pl.QueryOptFlags())
        self._pending = []

    @property
    def optimizations(self) -> pl.QueryOptFlags:
        return pl.QueryOptFlags() if self.df.height >= _OPTIMIZE_FROM else pl.QueryOptFlags.none()

    def error_code(self, name: str) -> pl.Expr:
        """The error code of kernel ``name`` (null when it has a value or no data)."""
        f = pl.col(f"{name}.f")
        return pl.when(f > NO_DATA_CODE).then(f)

    def holds(self, name: str) -> pl.Expr:
        """``when`` semantics: only a real true holds."""
        return pl.col(f"{name}.v").fill_null(False) & pl.col(f"{name}.f").is_null()

    # -- stage 0

    def aggregates(
        self,
        pinned: Mapping[str, float],
        known: Mapping[str, float | None] | None = None,
    ) -> dict[str, float | None]:
        """Stage 0. ``pinned`` aggregates are taken as given and not evaluated (test
        fixtures); ``known`` ones are evaluated for their per-account errors only, their
        value coming from the whole portfolio (a chunk, or one account, of a batch)."""
        self.stage = 0
        specs: list[tuple[str, Kernel, str]] = []
        for i, agg in enumerate(self.compiled.aggregates):
            if agg.rule.id in pinned:
                continue
            if agg.where is not None:
                specs.append((f"{P}g{i}.w", agg.where, "when"))
            if agg.of is not None:
                specs.append((f"{P}g{i}.o", agg.of, "aggregate"))
        self.evaluate(specs)
        portfolio: dict[str, float | None] = {}
        slot_exprs: list[pl.Expr] = []
        for i, agg in enumerate(self.compiled.aggregates):
            rule = agg.rule
            if rule.id in pinned:
                portfolio[rule.id] = float(pinned[rule.id])
                continue
            rule_name = f"aggregate:{rule.id}"
            keep = self.holds(f"{P}g{i}.w") if agg.where is not None else pl.lit(True)
            if agg.where is not None:
                slot_exprs.append(self.error_code(f"{P}g{i}.w").alias(f"{P}g{i}.werr"))
                self.slots.append(_ErrorSlot(rule_name, f"{P}g{i}.werr"))
            if agg.of is not None:
                slot_exprs.append(
                    pl.when(keep).then(self.error_code(f"{P}g{i}.o")).alias(f"{P}g{i}.oerr")
                )
                self.slots.append(_ErrorSlot(rule_name, f"{P}g{i}.oerr"))
            if known is not None and rule.id in known:
                portfolio[rule.id] = known[rule.id]
            else:
                portfolio[rule.id] = self._aggregate(i, keep, agg.of is not None, rule.fn, rule.q)
        if slot_exprs:
            self.with_columns(slot_exprs)
        self.portfolio = portfolio
        self.variables["portfolio"] = Col(
            MapType(STRING, DOUBLE),
            pl.lit(None),
            fields={k: const_leaf(DOUBLE, v) for k, v in portfolio.items()},
        )
        return portfolio

    def _aggregate(
        self, i: int, keep: pl.Expr, has_of: bool, fn: str, q: float | None
    ) -> float | None:
        if not has_of:
            count = (
                int(self.df.select(keep.sum()).item())
                if self.df.height and self.compiled.aggregates[i].where is not None
                else self.df.height
            )
            ones = np.ones(count)
            return _aggregate_array(fn, ones, q)
        evaluated = self.evaluated[f"{P}g{i}.o"]
        if evaluated.type == BOOL:
            return _aggregate_array(fn, np.empty(0), q)
        v = pl.col(f"{P}g{i}.o.v")
        values = (
            self.df.lazy()
            .select(
                v.cast(pl.Float64).filter(keep & pl.col(f"{P}g{i}.o.f").is_null() & v.is_not_null())
            )
            .collect(engine=ENGINE)
            .to_series()
            .to_numpy()
        )
        return _aggregate_array(fn, values, q)

    # -- stage 1

    def health(self, prior: Mapping[str, float]) -> None:
        self.stage = 1
        measures = self.compiled.measures
        self.evaluate([(f"{P}m{i}", m.value, "measure") for i, m in enumerate(measures)])
        code = self.messages.code
        exprs: list[pl.Expr] = []
        normalized: list[pl.Expr] = []
        for i, measure in enumerate(measures):
            name = f"{P}m{i}"
            v, f = pl.col(f"{name}.v"), pl.col(f"{name}.f")
            x = v.cast(pl.Float64)
            bad_value = (
                pl.when(x.is_nan())
                .then(fault_lit(code(evalerrors.not_finite(math.nan))))
                .when(x == math.inf)
                .then(fault_lit(code(evalerrors.not_finite(math.inf))))
                .when(x == -math.inf)
                .then(fault_lit(code(evalerrors.not_finite(-math.inf))))
            )
            err = pl.coalesce(
                pl.when(f > NO_DATA_CODE).then(f),
                pl.when(f.is_null()).then(bad_value),
            )
            exprs.append(err.alias(f"{name}.err"))
            exprs.append(x.alias(f"{name}.x"))
            rule = measure.rule
            r = divide(x - rule.worst, pl.lit(rule.best - rule.worst), self.zero)
            low = pl.when(pl.lit(0.0) > r).then(pl.lit(0.0)).otherwise(r)
            n = pl.when(pl.lit(1.0) < low).then(pl.lit(1.0)).otherwise(low)
            ok = f.is_null() & x.is_finite()
            normalized.append(pl.when(ok).then(n).otherwise(_null(pl.Float64())).alias(f"{name}.n"))
        self.with_columns(exprs + normalized)
        self.slots.extend(
            _ErrorSlot(f"measure:{m.rule.id}", f"{P}m{i}.err") for i, m in enumerate(measures)
        )
        total: pl.Expr = pl.lit(0.0)
        weighted: pl.Expr = pl.lit(0.0)
        for i, measure in enumerate(measures):
            n = pl.col(f"{P}m{i}.n")
            w = measure.rule.weight
            total = total + pl.when(n.is_not_null()).then(pl.lit(w)).otherwise(pl.lit(0.0))
            weighted = weighted + pl.when(n.is_not_null()).then(w * n).otherwise(pl.lit(0.0))
        failed = (
            pl.any_horizontal([pl.col(f"{P}m{i}.err").is_not_null() for i in range(len(measures))])
            if measures
            else pl.lit(False)
        )
        any_data = (
            pl.any_horizontal([pl.col(f"{P}m{i}.n").is_not_null() for i in range(len(measures))])
            if measures
            else pl.lit(False)
        )
        self.with_columns(total.alias(f"{P}total"))
        t = pl.col(f"{P}total")
        score = pl.when(~failed & any_data & (t > 0)).then(divide(100.0 * weighted, t, self.zero))
        lost = [
            pl.when(pl.col(f"{P}m{i}.n").is_not_null() & (t > 0))
            .then(divide((100.0 * m.rule.weight) * (1.0 - pl.col(f"{P}m{i}.n")), t, self.zero))
            .alias(f"{P}m{i}.lost")
            for i, m in enumerate(measures)
        ]
        self.with_columns([score.cast(pl.Float64).alias(f"{P}score"), *lost])
        s = pl.col(f"{P}score")
        band: pl.Expr = pl.lit("unknown")
        for band_name, lower in reversed(self.compiled.bands):
            band = pl.when(s >= lower).then(pl.lit(band_name)).otherwise(band)
        previous = self._prior(prior)
        self.with_columns(
            band.fill_null("unknown").alias(f"{P}band"), previous.alias(f"{P}previous")
        )
        self.with_columns((s - pl.col(f"{P}previous")).alias(f"{P}delta"))
        self._drivers()
        measures_record = {
            m.rule.id: self._leaf(DOUBLE, f"{P}m{i}.n") for i, m in enumerate(measures)
        }
        self.variables["health"] = Col(
            MapType(STRING, DOUBLE),
            pl.lit(None),
            fields={
                "score": self._leaf(DOUBLE, f"{P}score"),
                "band": self._leaf(STRING, f"{P}band"),
                "measures": Col(MapType(STRING, DOUBLE), pl.lit(None), fields=measures_record),
                "previous": self._leaf(DOUBLE, f"{P}previous"),
                "delta": self._leaf(DOUBLE, f"{P}delta"),
            },
        )

    def _prior(self, prior: Mapping[str, float]) -> pl.Expr:
        if not prior:
            return _null(pl.Float64())
        keys = pl.Series(list(prior.keys()), dtype=pl.String)
        values = pl.Series([float(v) for v in prior.values()], dtype=pl.Float64)
        return pl.col(KEY).replace_strict(keys, values, default=None, return_dtype=pl.Float64)

    def _drivers(self) -> None:
        """Drivers: each losing measure's explain rendered with ``value`` bound.

        An explain's holes are compiled like any kernel; their errors are columns of
        the batch (``§m{i}.xerr``), but the texts are rendered only in the long format
        of :meth:`_drivers_list`, one row per losing measure of an account.
        """
        measures = self.compiled.measures
        self.with_columns(
            [
                (pl.col(f"{P}score").is_not_null() & (pl.col(f"{P}m{i}.lost") > 0.0)).alias(
                    f"{P}m{i}.loser"
                )
                for i in range(len(measures))
            ]
        )
        texts: list[pl.Expr] = []
        errors: list[pl.Expr] = []
        for i, measure in enumerate(measures):
            label = pl.lit(measure.rule.label)
            if measure.explain is None:
                texts.append(label)
                errors.append(_null(FAULT).alias(f"{P}m{i}.xerr"))
                continue
            pieces, faults = self._template(measure.explain, i)
            error = (
                pl.coalesce([pl.when(f > NO_DATA_CODE).then(f) for f in faults])
                if faults
                else _null(FAULT)
            )
            errors.append(pl.when(pl.col(f"{P}m{i}.loser")).then(error).alias(f"{P}m{i}.xerr"))
            text = pl.concat_str(pieces) if pieces else pl.lit("")
            texts.append(pl.when(pl.col(f"{P}m{i}.xerr").is_null()).then(text).otherwise(label))
        self.with_columns(errors)
        self.slots.extend(
            _ErrorSlot(f"measure:{m.rule.id}", f"{P}m{i}.xerr", prefix="explain: ")
            for i, m in enumerate(measures)
        )
        self._drivers_list(texts)
        if self.temporaries:
            self.df = self.df.drop(self.temporaries)
            self.temporaries = []

    def _template(self, template: CompiledTemplate, i: int) -> tuple[list[pl.Expr], list[pl.Expr]]:
        """The text pieces and hole faults of measure ``i``'s explain, as expressions.

        The temporary columns the holes read are added to the frame (and listed in
        ``self.temporaries``, dropped once the drivers are built)."""
        variables = {"value": Col(DOUBLE, pl.col(f"{P}m{i}.x"))}
        compiled: dict[int, tuple[_Plan, pl.Expr, pl.Expr]] = {}
        for k, part in enumerate(template.parts):
            if isinstance(part, str):
                continue
            binder = Binder(f"{P}m{i}.h{k}")
            try:
                plan = self.compile(part, binder, variables)
            except Unsupported:
                continue
            if plan.type in _ROLE_TYPES["hole"]:
                fault = plan.fault if plan.fault is not None else _null(FAULT)
                text = self._text(plan)
                outputs = [text.alias(f"{P}check.{k}.t"), fault.alias(f"{P}check.{k}.f")]
                compiled[k] = (_Plan(binder, outputs), text, fault)
        probe = self.df.head(2)  # two rows: a one-row column that will not broadcast fails too

        def valid(items: dict[int, tuple[_Plan, pl.Expr, pl.Expr]]) -> bool:
            try:
                _query(probe, _merge([plan for plan, _, _ in items.values()])[0]).collect(
                    engine=ENGINE
                )
            except pl.exceptions.PolarsError:
                return False
            return True

        if compiled and not valid(compiled):
            compiled = {k: pair for k, pair in compiled.items() if valid({k: pair})}
        pieces: list[pl.Expr] = []
        faults: list[pl.Expr] = []
        for k, part in enumerate(template.parts):
            if isinstance(part, str):
                pieces.append(pl.lit(part))
                continue
            if k in compiled:
                hole_plan, text, fault = compiled[k]
                for step in hole_plan.binder.steps():
                    self.with_columns(step)
                self.temporaries.extend(hole_plan.binder.names)
            else:
                hole = f"{P}m{i}.h{k}"
                xs = self.df.get_column(f"{P}m{i}.x")
                rows = self.df.get_column(f"{P}m{i}.loser").arg_true()
                self._fallback(hole, part, "hole", _Local(variables, _value_of(xs), rows))
                text, fault = pl.col(f"{hole}.v"), pl.col(f"{hole}.f")
            pieces.append(text.fill_null(""))
            faults.append(fault)
        return pieces, faults

    def _drivers_list(self, texts: Sequence[pl.Expr]) -> None:
        """``§drivers``: the losing measures' texts, most points lost first, ties in
        declaration order. Each loser's rank within its account comes from column
        comparisons; texts are rendered for losers only, keyed by (account, rank),
        sorted once and grouped back into one list per account."""
        m = len(self.compiled.measures)
        if m == 0 or self._frame.height == 0:
            self.with_columns(_empty_lists().alias(f"{P}drivers"))
            return
        row, key = f"{P}row", f"{P}rank_key"
        width = 1 << max(1, (m - 1).bit_length())
        lost = [pl.col(f"{P}m{i}.lost") for i in range(m)]
        loser = [pl.col(f"{P}m{i}.loser") for i in range(m)]
        ranks = []
        for i in range(m):
            # j comes first if it lost more, or as much and is declared earlier
            ahead = [
                (loser[j] & ((lost[j] >= lost[i]) if j < i else (lost[j] > lost[i]))).cast(
                    pl.UInt64
                )
                for j in range(m)
                if j != i
            ]
            ranks.append(pl.sum_horizontal(ahead) if ahead else pl.lit(0, dtype=pl.UInt64))
        if self._frame.height < _OPTIMIZE_FROM:
            # few accounts: the text at each position, in one column step
            positions = [
                pl.coalesce([pl.when(loser[i] & (ranks[i] == p)).then(texts[i]) for i in range(m)])
                for p in range(m)
            ]
            self.with_columns(pl.concat_list(positions).list.drop_nulls().alias(f"{P}drivers"))
            return
        base = (
            self.df.lazy()
            .with_columns(
                [pl.int_range(pl.len(), dtype=pl.UInt64).alias(row)]
                + [rank.alias(f"{P}m{i}.rank") for i, rank in enumerate(ranks)]
            )
            .collect(engine=ENGINE, optimizations=self.optimizations)
        )
        parts = [
            base.lazy()
            .filter(pl.col(f"{P}m{i}.loser"))
            .select(
                (pl.col(row) * width + pl.col(f"{P}m{i}.rank")).alias(key),
                text.alias("text"),
            )
            for i, text in enumerate(texts)
        ]
        ordered = (
            pl.concat(parts).sort(key).collect(engine=ENGINE, optimizations=self.optimizations)
        )
        grouped = (
            ordered.lazy()
            .with_columns((pl.col(key) // width).set_sorted().alias(row))
            .group_by(row, maintain_order=True)
            .agg(pl.col("text").alias(f"{P}drivers"))
        )
        drivers = (
            base.lazy()
            .select(row)
            .join(grouped, on=row, how="left", maintain_order="left")
            .select(pl.col(f"{P}drivers").fill_null(_empty_lists()))
            .collect(engine=ENGINE, optimizations=self.optimizations)
            .to_series()
        )
        self.df = self.df.with_columns(drivers)

    # -- stages 2-5

    def segments(self) -> None:
        self.stage = 2
        segments = self.compiled.segments
        self.evaluate([(f"{P}s{i}", s.when, "when") for i, s in enumerate(segments)])
        self.with_columns(
            [self.holds(f"{P}s{i}").alias(f"{P}s{i}.in") for i in range(len(segments))]
            + [self.error_code(f"{P}s{i}").alias(f"{P}s{i}.err") for i in range(len(segments))]
        )
        self.id_lists(
            [(pl.col(f"{P}s{i}.in"), s.id) for i, s in enumerate(segments)], f"{P}segments"
        )
        self.slots.extend(
            _ErrorSlot(f"segment:{s.id}", f"{P}s{i}.err") for i, s in enumerate(segments)
        )
        self.variables["segments"] = Col(
            ListType(STRING),
            pl.col(f"{P}segments"),
            members={s.id: pl.col(f"{P}s{i}.in") for i, s in enumerate(segments)},
        )

    def tiers(self) -> None:
        self.stage = 3
        tiers = self.compiled.tiers
        self.evaluate([(f"{P}t{i}", t.when, "when") for i, t in enumerate(tiers)])
        pending: pl.Expr = pl.lit(True)
        exprs: list[pl.Expr] = []
        tier: pl.Expr = _null(pl.String())
        for i, t in reversed(list(enumerate(tiers))):
            tier = pl.when(pl.col(f"{P}t{i}.match")).then(pl.lit(t.rule.id)).otherwise(tier)
        for i, _ in enumerate(tiers):
            match = pending & self.holds(f"{P}t{i}")
            error = pending & pl.col(f"{P}t{i}.f").fill_null(NO_DATA_CODE).gt(NO_DATA_CODE)
            exprs.append(pending.alias(f"{P}t{i}.tried"))
            exprs.append(match.alias(f"{P}t{i}.match"))
            exprs.append(pl.when(error).then(pl.col(f"{P}t{i}.f")).alias(f"{P}t{i}.err"))
            pending = pending & ~match & ~error
        no_tier = self.messages.code(evalerrors.no_tier([t.rule.id for t in tiers]))
        exprs.append(
            (pl.when(pending).then(fault_lit(no_tier)) if tiers else _null(FAULT)).alias(
                f"{P}notier"
            )
        )
        self.with_columns(exprs)
        self.with_columns(tier.alias(f"{P}tier"))
        self.slots.extend(
            _ErrorSlot(f"tier:{t.rule.id}", f"{P}t{i}.err") for i, t in enumerate(tiers)
        )
        self.slots.append(_ErrorSlot("tier", f"{P}notier"))
        self.variables["tier"] = self._leaf(STRING, f"{P}tier")

    def adkar(self) -> None:
        self.stage = 4
        elements = self.compiled.adkar
        self.evaluate([(f"{P}a{i}", kernel, "adkar") for i, (_, kernel) in enumerate(elements)])
        range_code = self.messages.code(EvalError(evalerrors.ADKAR_RANGE, ErrorKind.INVALID_VALUE))
        exprs: list[pl.Expr] = []
        for i, _ in enumerate(elements):
            v, f = pl.col(f"{P}a{i}.v"), pl.col(f"{P}a{i}.f")
            out_of_range = f.is_null() & ((v < 1) | (v > 5))
            exprs.append((f == NO_DATA_CODE).fill_null(False).alias(f"{P}a{i}.unknown"))
            exprs.append(
                pl.when(f > NO_DATA_CODE)
                .then(f)
                .when(out_of_range)
                .then(fault_lit(range_code))
                .alias(f"{P}a{i}.err")
            )
            exprs.append(pl.when(f.is_null() & ~out_of_range).then(v).alias(f"{P}a{i}.score"))
        self.with_columns(exprs)
        barrier: pl.Expr = pl.lit("")
        threshold = self.compiled.adkar_threshold
        for i, (name, _) in reversed(list(enumerate(elements))):
            score = pl.col(f"{P}a{i}.score")
            barrier = (
                pl.when(score.is_not_null() & (score <= threshold))
                .then(pl.lit(name))
                .otherwise(barrier)
            )
        self.with_columns(barrier.alias(f"{P}barrier"))
        self.id_lists(
            [(pl.col(f"{P}a{i}.unknown"), name) for i, (name, _) in enumerate(elements)],
            f"{P}adkar_unknown",
        )
        self.slots.extend(
            _ErrorSlot(f"adkar:{name}", f"{P}a{i}.err", value_column=f"{P}a{i}.v")
            for i, (name, _) in enumerate(elements)
        )
        scores = {
            name: self._leaf(INT, f"{P}a{i}.score")
            for i, (name, _) in enumerate(elements)
            if name in ADKAR_ELEMENTS
        }
        for name in ADKAR_ELEMENTS:
            scores.setdefault(name, absent_leaf(INT))
        self.variables["adkar"] = Col(
            MapType(STRING, INT),
            pl.lit(None),
            fields={
                "scores": Col(MapType(STRING, INT), pl.lit(None), fields=scores),
                "barrier": self._leaf(STRING, f"{P}barrier"),
                "unknown": self._leaf(ListType(STRING), f"{P}adkar_unknown"),
            },
        )

    def playbooks(self) -> None:
        self.stage = 5
        playbooks = self.compiled.playbooks
        self.evaluate([(f"{P}p{i}", pb.when, "when") for i, pb in enumerate(playbooks)])
        self.with_columns(
            [self.error_code(f"{P}p{i}").alias(f"{P}p{i}.err") for i in range(len(playbooks))]
        )
        self.slots.extend(
            _ErrorSlot(f"playbook:{pb.rule.id}", f"{P}p{i}.err") for i, pb in enumerate(playbooks)
        )
        self.id_lists(
            [(self.holds(f"{P}p{i}"), pb.rule.id) for i, pb in enumerate(playbooks)],
            f"{P}playbooks",
        )
        self.stage = 6


def fault_lit(code: int) -> pl.Expr:
    return pl.lit(code, dtype=FAULT)


def _aggregate_array(fn: str, values: np.ndarray[Any, Any], q: float | None) -> float | None:
    """:func:`csrules.engine.aggregates.aggregate` over a NumPy array, same arithmetic."""
    from csrules.engine.aggregates import aggregate

    n = len(values)
    if fn == "count":
        return float(n)
    if n and np.isnan(values).any():
        # Python's sorted/min/max are order-dependent with NaN: do exactly what it does.
        return aggregate(fn, values.tolist(), q)
    if fn == "sum":
        return float(math.fsum(values.tolist())) if n else 0.0
    if n == 0:
        return None
    if fn == "mean":
        return math.fsum(values.tolist()) / n
    if fn == "min":
        return float(values.min())
    if fn == "max":
        return float(values.max())
    if fn in ("median", "percentile"):
        quantile = 0.5 if fn == "median" else q
        assert quantile is not None
        ordered = np.sort(values, kind="stable")
        position = quantile * (n - 1)
        low = math.floor(position)
        high = min(low + 1, n - 1)
        fraction = position - low
        a, b = float(ordered[low]), float(ordered[high])
        return a + (b - a) * fraction
    return aggregate(fn, values.tolist(), q)


# --------------------------------------------------------------------- results


class ColumnarResult:
    """The results of a columnar run, per account only when asked (see Evaluation)."""

    def __init__(self, run: ColumnarRun) -> None:
        self.run = run
        compiled = run.compiled
        keep = [c for c in run.df.columns if c.startswith(P)]
        self.df = run.df.select(keep)
        self.messages = run.messages
        self.measures = compiled.measures
        self.segments = compiled.segments
        self.tiers = compiled.tiers
        self.adkar = compiled.adkar
        self.playbooks = compiled.playbooks
        self.evaluated = run.evaluated
        self.slots = run.slots

    # -- whole-table views

    def error_count(self) -> int:
        if not self.slots or self.df.height == 0:
            return 0
        counts = self.df.select(
            pl.sum_horizontal(
                [pl.col(s.column).is_not_null().cast(pl.Int64) for s in self.slots]
            ).sum()
        )
        return int(counts.item())

    def _errors_list(self) -> pl.Expr:
        pieces: list[pl.Expr] = []
        mapping = dict(enumerate(self.messages.texts))
        for slot in self.slots:
            code = pl.col(slot.column)
            message = code.replace_strict(mapping, default=None, return_dtype=pl.String)
            if slot.value_column is not None:
                quoted = pl.col(slot.value_column).cast(pl.String)
                message = message.str.replace("{value}", quoted, literal=True)
            pieces.append(
                pl.when(code.is_not_null()).then(pl.lit(f"{slot.rule}: {slot.prefix}") + message)
            )
        return pl.concat_list(pieces).list.drop_nulls()

    def frame(self) -> pl.DataFrame:
        columns = {
            "account": KEY,
            "score": f"{P}score",
            "band": f"{P}band",
            "tier": f"{P}tier",
            "segments": f"{P}segments",
            "barrier": f"{P}barrier",
            "adkar_unknown": f"{P}adkar_unknown",
            "playbooks": f"{P}playbooks",
            "drivers": f"{P}drivers",
        }
        frame = self.df.select([pl.col(c).alias(name) for name, c in columns.items()])
        row = f"{P}row"
        empty = _empty_lists().alias("errors")
        if not self.slots or self.df.height == 0:
            return frame.with_columns(empty)
        any_error = pl.any_horizontal([pl.col(s.column).is_not_null() for s in self.slots])
        failing = (
            self.df.lazy()
            .with_row_index(row)
            .filter(any_error)
            .select(pl.col(row), self._errors_list().alias("errors"))
            .collect(engine=ENGINE)
        )
        if failing.height == 0:
            return frame.with_columns(empty)
        return (
            frame.lazy()
            .with_row_index(row)
            .join(failing.lazy(), on=row, how="left", maintain_order="left")
            .with_columns(pl.col("errors").fill_null(_empty_lists()))
            .drop(row)
            .collect(engine=ENGINE)
        )

    def measures_frame(self) -> pl.DataFrame:
        """The account key and each measure's normalized value, by measure id."""
        return self.df.select(
            pl.col(KEY).cast(pl.String).alias("account"),
            *(pl.col(f"{P}m{i}.n").alias(m.rule.id) for i, m in enumerate(self.measures)),
        )

    # -- per account

    def activations(self) -> list[acts.Activation]:
        return self.run.activations()

    def accounts(self) -> list[AccountResult]:
        return self.accounts_of(None)

    def drivers_of(self, at: Sequence[int]) -> list[list[Driver]]:
        """The drivers of the accounts at rows ``at`` (most points lost first)."""
        m = len(self.measures)
        cols = [f"{P}drivers"]
        cols += [f"{P}m{i}.lost" for i in range(m)] + [f"{P}m{i}.loser" for i in range(m)]
        out: list[list[Driver]] = []
        for row in self.df.select(cols)[list(at)].iter_rows():
            texts, lost, loser = row[0], row[1 : m + 1], row[m + 1 :]
            losers = [(i, lost[i] or 0.0) for i in range(m) if loser[i]]
            losers.sort(key=lambda item: (-item[1], item[0]))
            out.append(
                [
                    Driver(self.measures[i].rule.id, points, text)
                    for (i, points), text in zip(losers, texts, strict=True)
                ]
            )
        return out

    def accounts_of(self, at: Sequence[int] | None) -> list[AccountResult]:
        """The per-account results of the rows ``at`` (every row when None)."""
        run = self.run
        messages = self.messages
        columns = self.df.columns
        index = {name: i for i, name in enumerate(columns)}
        results: list[AccountResult] = []
        raw_values = {name: e.raw for name, e in self.evaluated.items() if e.raw is not None}

        def raw(name: str, row: Sequence[Any], r: int) -> Value:
            fallback = raw_values.get(name)
            if fallback is not None:
                return fallback[r]
            evaluated = self.evaluated.get(name)
            if evaluated is None:
                return NO_DATA
            return evaluated.to_python(row[index[f"{name}.v"]], row[index[f"{name}.f"]], messages)

        def message(slot: _ErrorSlot, row: Sequence[Any]) -> str | None:
            code = row[index[slot.column]]
            if code is None:
                return None
            text = messages.text(code)
            if slot.value_column is not None and "{value}" in text:
                text = text.replace("{value}", str(row[index[slot.value_column]]))
            return slot.prefix + text

        rows = range(self.df.height) if at is None else at
        frame = self.df if at is None else self.df[list(at)]
        for r, row in zip(rows, frame.iter_rows(), strict=True):
            result = AccountResult(key=row[index[KEY]])
            result.score = row[index[f"{P}score"]]
            result.band = row[index[f"{P}band"]]
            result.previous = row[index[f"{P}previous"]]
            result.delta = row[index[f"{P}delta"]]
            losers: list[tuple[int, MeasureResult]] = []
            for i, measure in enumerate(self.measures):
                m = MeasureResult(
                    measure.rule.id,
                    measure.rule.label,
                    raw(f"{P}m{i}", row, r),
                    row[index[f"{P}m{i}.n"]],
                    measure.rule.weight,
                    row[index[f"{P}m{i}.lost"]],
                )
                result.measures.append(m)
                if row[index[f"{P}m{i}.loser"]]:
                    losers.append((i, m))
            losers.sort(key=lambda item: (-(item[1].lost or 0.0), item[0]))
            texts = row[index[f"{P}drivers"]]
            result.drivers = [
                Driver(m.id, m.lost or 0.0, text)
                for (_, m), text in zip(losers, texts, strict=True)
            ]
            for i, seg in enumerate(self.segments):
                result.segment_values[seg.id] = raw(f"{P}s{i}", row, r)
                if row[index[f"{P}s{i}.in"]]:
                    result.segments.append(seg.id)
            for i, tier in enumerate(self.tiers):
                if row[index[f"{P}t{i}.tried"]]:
                    result.tier_values[tier.rule.id] = raw(f"{P}t{i}", row, r)
            result.tier = row[index[f"{P}tier"]]
            for i, (name, _) in enumerate(self.adkar):
                if row[index[f"{P}a{i}.unknown"]]:
                    result.adkar_unknown.append(name)
                score = row[index[f"{P}a{i}.score"]]
                if score is not None:
                    result.adkar_scores[name] = int(score)
            result.adkar_barrier = row[index[f"{P}barrier"]]
            for i, pb in enumerate(self.playbooks):
                result.playbook_values[pb.rule.id] = raw(f"{P}p{i}", row, r)
            for slot in self.slots:
                text = message(slot, row)
                if text is not None:
                    result.errors.append(RuleError(slot.rule, text))
            results.append(result)
        del run
        return results


def evaluate_columnar(
    compiled: CompiledPlaybook,
    batch: AccountBatch,
    now: datetime,
    prior: Mapping[str, float],
    pinned: Mapping[str, float],
    known: Mapping[str, float | None] | None = None,
) -> Evaluation:
    """Stages 0-5 over the whole batch as Polars operations (see the module docstring).

    ``known`` holds the portfolio aggregates when ``batch`` is part of a larger one
    (see :func:`portfolio_columnar`)."""
    run = ColumnarRun(compiled, batch, now)
    portfolio = run.aggregates(pinned, known)
    run.health(prior)
    run.segments()
    run.tiers()
    run.adkar()
    run.playbooks()
    return Evaluation(now=now, portfolio=portfolio, source=ColumnarResult(run), backend="columnar")


def portfolio_columnar(
    compiled: CompiledPlaybook,
    batch: AccountBatch,
    now: datetime,
    pinned: Mapping[str, float],
) -> dict[str, float | None]:
    """Stage 0 alone, in one columnar pass: the aggregates of the whole batch."""
    if not compiled.aggregates:
        return {}
    return ColumnarRun(compiled, batch, now).aggregates(pinned)


# ------------------------------------------------------- one expression, for tests


def expression_values(
    source: str,
    batch: AccountBatch,
    now: datetime,
    functions: Mapping[str, FunctionSpec],
) -> list[Value] | None:
    """The values of one stage-0 expression (``account``, ``now``) on every account,
    as the reference backend would return them; ``None`` when it is not compiled."""
    node = _parsed(source)
    if node is None:
        return None
    run = _KernelRun(batch, now, functions)
    try:
        binder = Binder(f"{P}x")
        plan = compile_node(
            node, Scope(run.variables), functions, run.messages, now, full_zeros(), binder
        )
        fault = plan.fault if plan.fault is not None else _null(FAULT)
        outputs = [plan.value.alias(f"{P}v"), fault.cast(FAULT).alias(f"{P}f")]
        steps, _ = _merge([_Plan(binder, outputs)])
        frame = _query(run.df, steps).select(f"{P}v", f"{P}f").collect(engine=ENGINE)
    except (Unsupported, pl.exceptions.PolarsError):
        return None
    values = frame.get_column(f"{P}v").to_list()
    faults = frame.get_column(f"{P}f").to_list()
    evaluated = _Evaluated("v", plan.type)
    return [evaluated.to_python(v, f, run.messages) for v, f in zip(values, faults, strict=True)]


class _KernelRun:
    """The stage-0 variables of a batch, for :func:`expression_values`."""

    def __init__(
        self, batch: AccountBatch, now: datetime, functions: Mapping[str, FunctionSpec]
    ) -> None:
        self.messages = Messages()
        self.df = batch.frame
        fields: dict[str, Col] = {}
        for name, ft in batch.spec.fields.items():
            dtype = batch.frame.schema.get(name)
            if dtype is None:
                continue
            keys = tuple(f.name for f in dtype.fields) if isinstance(dtype, pl.Struct) else None
            nullable = batch.frame.get_column(name).null_count() > 0
            fields[name] = column_leaf(cel_type(ft), name, nullable=nullable, keys=keys)
        self.variables: dict[str, Col] = {
            "account": Col(MapType(STRING, STRING), pl.lit(None), fields=fields),
            "now": const_leaf(TIMESTAMP, now.astimezone(UTC)),
        }


__all__ = [
    "DURATION_DTYPE",
    "TIMESTAMP_DTYPE",
    "ColumnarResult",
    "ColumnarRun",
    "evaluate_columnar",
    "expression_values",
    "is_value",
]
