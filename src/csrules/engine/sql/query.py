"""A whole playbook as one SQL query: stages 0-5 as a chain of common table expressions.

``build_query(compiled, target, now, source)`` returns a :class:`PlaybookQuery` whose
``tree`` is one SQLGlot ``SELECT`` over the accounts table (or query) ``source``:

- ``s0``: each aggregate's ``where``/``of`` value and fault columns; ``pf``: one row with
  every aggregate (count, sum, mean, min, max, and percentile/median by the same
  linear interpolation between closest ranks as the other backends, ranks by
  ``ROW_NUMBER``);
- health: each measure's value and fault, its normalized points (clamped exactly as
  Python's ``min``/``max`` do), renormalised weights, the score in the reference's
  order of operations, the band, the lost points, the explain text of each losing
  measure and the drivers ordered by lost points (ties in declaration order);
- segments, tiers (the first rank that holds; an error stops the search), ADKAR
  (range checks, unknown elements, the barrier), playbook conditions;
- the final ``SELECT``: the results table (``account, score, band, tier, segments,
  barrier, adkar_unknown, playbooks, drivers, errors``) plus hidden columns the
  Python side needs to rebuild per-account objects (``__cs_*``).

Each stage reads the columns the previous one computed, so a kernel is written once.
Error messages are the same texts as the other backends: codes are turned into text
by a ``CASE`` over the run's message table, errors that quote a value (a score out of
1..5) are concatenated in SQL. What the SQL backend cannot express raises
:class:`~csrules.engine.sql.errors.NotExpressible`, naming the rule and its location.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlglot import exp

from csrules.engine import evalerrors
from csrules.engine.colcompile import NO_DATA_CODE, Messages
from csrules.engine.compiled import CompiledPlaybook
from csrules.engine.kernel import Kernel
from csrules.engine.sql.compiler import (
    CompiledSql,
    S,
    SqlBinder,
    SqlCompiler,
    SqlUnsupported,
    _and,
    _not,
    _or,
    absent,
    cases,
    column,
    finish,
    is_null,
    leaf,
    named,
    not_null,
    null,
    parenthesize,
    when,
)
from csrules.engine.sql.errors import NotExpressible
from csrules.engine.sql.layout import ROW, previous_column
from csrules.engine.sql.target import Target, data_type
from csrules.engine.templates import CompiledTemplate
from csrules.expr.ast import ExprSyntaxError, Node, parse
from csrules.expr.types import BOOL, DOUBLE, INT, STRING, TIMESTAMP, CelType, MapType, cel_type
from csrules.model.rules import ADKAR_ELEMENTS
from csrules.snapshot.batch import SnapshotSpec

KEY: Final = "__cs_key"
RESULT_COLUMNS: Final = (
    "account",
    "score",
    "band",
    "tier",
    "segments",
    "barrier",
    "adkar_unknown",
    "playbooks",
    "drivers",
    "errors",
)


@functools.lru_cache(maxsize=4096)
def _parsed(source: str) -> Node:
    return parse(source)


def _num(value: float) -> exp.Expression:
    return exp.Cast(this=exp.Literal.string(repr(float(value))), to=data_type("DOUBLE"))


def _text(value: str) -> exp.Expression:
    return exp.Literal.string(value)


def _ok(c: str) -> exp.Expression:
    """A kernel's fault column says 'a value'."""
    return is_null(column(f"{c}_f"))


def _true(c: str) -> exp.Expression:
    return _and(_ok(c), exp.Coalesce(this=column(f"{c}_v"), expressions=[exp.false()]))


def _error(c: str) -> exp.Expression:
    over = exp.GT(this=column(f"{c}_f"), expression=exp.Literal.number(NO_DATA_CODE))
    return exp.Coalesce(this=over, expressions=[exp.false()])


@dataclass
class _Slot:
    """One possible error entry of an account: ``rule: message`` or NULL."""

    rule: str
    code: exp.Expression | None = None  # a fault column: an error where > 0
    text: exp.Expression | None = None  # a message built in SQL (NULL when none)


@dataclass
class PlaybookQuery:
    """The compiled query, the message table it uses, and what the results hold."""

    tree: exp.Select
    messages: Messages
    measures: list[str]
    adkar: list[str]
    target: Target

    def sql(self, *, pretty: bool = True) -> str:
        return self.target.sql(self.tree, pretty=pretty)


@dataclass
class _Builder:
    compiled: CompiledPlaybook
    target: Target
    now: datetime
    source: exp.Expression
    pinned: Mapping[str, float]
    prepared: bool = False
    messages: Messages = field(default_factory=Messages)
    ctes: list[tuple[str, exp.Expression]] = field(default_factory=list)
    slots: list[_Slot] = field(default_factory=list)
    variables: dict[str, S] = field(default_factory=dict)
    binder: SqlBinder = field(default_factory=SqlBinder)

    # -- the chain of CTEs

    @property
    def last(self) -> str:
        return self.ctes[-1][0]

    def add(self, columns: Mapping[str, exp.Expression], *, joins: Sequence[str] = ()) -> None:
        """A new CTE: every column of the previous one plus ``columns`` (after the
        sub-expressions they bound, one CTE per depth)."""
        for layer in self.binder.take():
            self._add(layer)
        self._add(columns, joins=joins)

    def _add(self, columns: Mapping[str, exp.Expression], *, joins: Sequence[str] = ()) -> None:
        name = f"s{len(self.ctes)}"
        projections: list[exp.Expression] = [
            exp.Column(this=exp.Star(), table=exp.Identifier(this=self.last, quoted=True))
        ]
        for other in joins:
            projections.append(
                exp.Column(this=exp.Star(), table=exp.Identifier(this=other, quoted=True))
            )
        for alias, e in columns.items():
            projections.append(named(parenthesize(e), alias))
        select = exp.select(*projections, copy=False).from_(
            exp.Table(this=exp.Identifier(this=self.last, quoted=True)), copy=False
        )
        for other in joins:
            select = select.join(
                exp.Table(this=exp.Identifier(this=other, quoted=True)),
                join_type="CROSS",
                copy=False,
            )
        self.ctes.append((name, select))

    def _joined(self, left: str, right: str) -> exp.Expression:
        projections = [
            exp.Column(this=exp.Star(), table=exp.Identifier(this=t, quoted=True))
            for t in (left, right)
        ]
        return (
            exp.select(*projections, copy=False)
            .from_(exp.Table(this=exp.Identifier(this=left, quoted=True)), copy=False)
            .join(
                exp.Table(this=exp.Identifier(this=right, quoted=True)),
                join_type="CROSS",
                copy=False,
            )
        )

    # -- kernels

    def rule_location(self, kind: str, rule_id: str, key: str) -> str:
        """``file:line:col`` of the key holding the expression, when known."""
        loaded = self.compiled.loaded
        if loaded is None:
            return ""
        if kind == "measure" and loaded.health is not None:
            for index, m in enumerate(self.compiled.measures):
                if m.rule.id == rule_id:
                    return str(loaded.health.location("measure", index, key))
        if kind == "adkar" and loaded.adkar is not None:
            return str(loaded.adkar.location(rule_id))
        groups: dict[str, Sequence[Any]] = {
            "aggregate": loaded.aggregates,
            "segment": loaded.segments,
            "tier": loaded.tiers,
            "playbook": loaded.playbooks,
        }
        for located in groups.get(kind, []):
            if located.id == rule_id:
                return str(located.location(key))
        return ""

    def kernel(
        self,
        kernel: Kernel,
        rule: str,
        role: tuple[CelType, ...],
        extra: Mapping[str, S] | None = None,
        *,
        key: str = "when",
    ) -> CompiledSql:
        kind, _, rule_id = rule.partition(":")
        try:
            node = _parsed(kernel.source)
            compiler = SqlCompiler(
                {**self.variables, **(extra or {})},
                self.compiled.functions,
                self.messages,
                self.now,
                self.target,
                self.binder,
            )
            out = finish(compiler.compile(node))
        except (SqlUnsupported, ExprSyntaxError) as exc:
            raise NotExpressible(
                rule, kernel.source, str(exc), self.rule_location(kind, rule_id, key)
            ) from None
        if out.type not in role:
            raise NotExpressible(
                rule,
                kernel.source,
                f"a value of type {out.type}",
                self.rule_location(kind, rule_id, key),
            )
        return out

    @staticmethod
    def outputs(name: str, out: CompiledSql) -> dict[str, exp.Expression]:
        return {
            f"{name}_v": out.value,
            f"{name}_f": out.fault
            if out.fault is not None
            else exp.Cast(this=null(), to=data_type("INT")),
        }

    # -- variables

    def account(self) -> S:
        return account_variable(self.compiled.spec, self.target)

    # -- stages

    def base(self) -> None:
        projections: list[exp.Expression] = [exp.Star()]
        if not self.prepared:
            # a table as the warehouse holds it: the key, an order and no previous score
            key = column(self.compiled.spec.key)
            projections += [
                named(exp.Cast(this=key, to=self.target.text_type), KEY),
                named(
                    exp.Window(
                        this=exp.RowNumber(), order=exp.Order(expressions=[exp.Ordered(this=key)])
                    ),
                    ROW,
                ),
                named(exp.Cast(this=null(), to=data_type("DOUBLE")), previous_column()),
            ]
        self.ctes.append(
            ("src", exp.select(*projections, copy=False).from_(self.source, copy=False))
        )
        now_us = self.compiled_now_us()
        self.variables = {
            "account": self.account(),
            "now": S(TIMESTAMP, exp.Cast(this=exp.Literal.number(now_us), to=data_type("BIGINT"))),
        }

    def compiled_now_us(self) -> int:
        return (self.now.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
            microseconds=1
        )

    def aggregates(self) -> None:
        columns: dict[str, exp.Expression] = {}
        for index, agg in enumerate(self.compiled.aggregates):
            rule = f"aggregate:{agg.rule.id}"
            if agg.rule.id in self.pinned:
                continue
            if agg.where is not None:
                columns.update(
                    self.outputs(
                        f"__cs_a{index}w", self.kernel(agg.where, rule, (BOOL,), key="where")
                    )
                )
            if agg.of is not None:
                columns.update(
                    self.outputs(
                        f"__cs_a{index}o", self.kernel(agg.of, rule, (INT, DOUBLE, BOOL), key="of")
                    )
                )
        if columns:
            self.add(columns)
        stage = self.last
        portfolio: dict[str, exp.Expression] = {}
        fields: dict[str, S] = {}
        for index, agg in enumerate(self.compiled.aggregates):
            name = f"__cs_pf{index}"
            fields[agg.rule.id] = leaf(DOUBLE, column(name), nullable=True)
            if agg.rule.id in self.pinned:
                portfolio[name] = _num(self.pinned[agg.rule.id])
                continue
            keep: exp.Expression = _true(f"__cs_a{index}w") if agg.where is not None else exp.true()
            rule = f"aggregate:{agg.rule.id}"
            slot_code: exp.Expression | None = None
            if agg.where is not None:
                slot_code = when(_error(f"__cs_a{index}w"), column(f"__cs_a{index}w_f"))
            if agg.of is not None:
                of_error = when(_and(keep, _error(f"__cs_a{index}o")), column(f"__cs_a{index}o_f"))
                slot_code = (
                    of_error
                    if slot_code is None
                    else exp.Coalesce(this=slot_code, expressions=[of_error])
                )
            if slot_code is not None:
                self.slots.append(_Slot(rule, code=slot_code))
            of_type = (
                self.kernel(agg.of, rule, (INT, DOUBLE, BOOL), key="of").type
                if agg.of is not None
                else DOUBLE
            )
            if agg.of is None:
                x: exp.Expression = _num(1.0)
                valid = keep
            else:
                x = self.target.cast(column(f"__cs_a{index}o_v"), "DOUBLE")
                valid = _and(keep, _ok(f"__cs_a{index}o"))
                if of_type == BOOL:
                    valid = exp.false()
            portfolio[name] = self.aggregate(agg.rule.fn, agg.rule.q, x, valid, stage)
        self.variables["portfolio"] = S(MapType(STRING, DOUBLE), null(), fields=fields)
        if portfolio:
            projections = (named(parenthesize(e), n) for n, e in portfolio.items())
            self.ctes.append(("pf", exp.select(*projections, copy=False)))
            self.ctes.append(("s_pf", self._joined(stage, "pf")))

    def aggregate(
        self, fn: str, q: float | None, x: exp.Expression, valid: exp.Expression, stage: str
    ) -> exp.Expression:
        values = (
            exp.select(named(x, "x"), copy=False)
            .from_(exp.Table(this=exp.Identifier(this=stage, quoted=True)), copy=False)
            .where(parenthesize(valid), copy=False)
        )
        xs = column("x")

        def over(agg: exp.Expression) -> exp.Expression:
            return exp.Subquery(
                this=exp.select(agg, copy=False).from_(values.subquery("v", copy=False), copy=False)
            )

        if fn == "count":
            return self.target.cast(over(exp.Count(this=exp.Star())), "DOUBLE")
        if fn == "sum":
            return exp.Coalesce(this=over(exp.Sum(this=xs)), expressions=[_num(0.0)])
        if fn == "mean":
            return over(exp.Avg(this=xs))
        if fn == "min":
            return over(exp.Min(this=xs))
        if fn == "max":
            return over(exp.Max(this=xs))
        if fn not in ("percentile", "median"):
            raise NotExpressible(f"aggregate {fn}", "", "an unknown aggregate function", "")
        share = 0.5 if fn == "median" else float(q if q is not None else 0.5)
        ranked = exp.select(
            xs,
            named(
                exp.Sub(
                    this=exp.Window(
                        this=exp.RowNumber(),
                        order=exp.Order(
                            expressions=[exp.Ordered(this=xs), exp.Ordered(this=column(ROW))]
                        ),
                    ),
                    expression=exp.Literal.number(1),
                ),
                "i",
            ),
            named(exp.Window(this=exp.Count(this=exp.Star())), "n"),
            copy=False,
        ).from_(
            exp.select(named(x, "x"), column(ROW), copy=False)
            .from_(exp.Table(this=exp.Identifier(this=stage, quoted=True)), copy=False)
            .where(parenthesize(valid), copy=False)
            .subquery("v", copy=False),
            copy=False,
        )
        n = column("n")
        position = exp.Mul(
            this=_num(share),
            expression=self.target.cast(
                exp.Paren(this=exp.Sub(this=n, expression=exp.Literal.number(1))), "DOUBLE"
            ),
        )
        low = self.target.cast(exp.Floor(this=position), "BIGINT")
        high = exp.Least(
            this=exp.Add(this=low, expression=exp.Literal.number(1)),
            expressions=[exp.Sub(this=n, expression=exp.Literal.number(1))],
        )
        fraction = exp.Sub(this=position, expression=self.target.cast(low, "DOUBLE"))
        at_low = exp.Max(this=when(exp.EQ(this=column("i"), expression=low), xs))
        at_high = exp.Max(this=when(exp.EQ(this=column("i"), expression=high), xs))
        value = exp.Add(
            this=at_low,
            expression=exp.Mul(
                this=exp.Paren(this=exp.Sub(this=at_high, expression=at_low)),
                expression=exp.Max(this=fraction),
            ),
        )
        return exp.Subquery(
            this=exp.select(parenthesize(value), copy=False).from_(
                ranked.subquery("r", copy=False), copy=False
            )
        )

    def health(self) -> list[str]:
        measures = self.compiled.measures
        columns: dict[str, exp.Expression] = {}
        types: list[CelType] = []
        for i, m in enumerate(measures):
            out = self.kernel(m.value, f"measure:{m.rule.id}", (INT, DOUBLE), key="value")
            types.append(out.type)
            columns.update(self.outputs(f"__cs_m{i}", out))
        if columns:
            self.add(columns)
        # normalized points and each measure's error
        step: dict[str, exp.Expression] = {}
        for i, m in enumerate(measures):
            v = self.target.cast(column(f"__cs_m{i}_v"), "DOUBLE")
            finite = _and(
                _not(self.target.is_nan(v)),
                exp.NEQ(this=exp.Abs(this=v), expression=_num(float("inf"))),
            )
            span = m.rule.best - m.rule.worst
            raw = exp.Div(
                this=exp.Paren(this=exp.Sub(this=v, expression=_num(m.rule.worst))),
                expression=_num(span),
                typed=False,
                safe=False,
            )
            up = when(exp.GT(this=_num(0.0), expression=raw), _num(0.0), raw)
            clamped = when(exp.LT(this=_num(1.0), expression=up), _num(1.0), up)
            step[f"__cs_n{i}"] = when(_and(_ok(f"__cs_m{i}"), finite), clamped)
            self.slots.append(
                _Slot(
                    f"measure:{m.rule.id}",
                    code=when(_error(f"__cs_m{i}"), column(f"__cs_m{i}_f")),
                    text=when(
                        _and(_ok(f"__cs_m{i}"), _not(finite)),
                        cases(
                            [
                                (
                                    self.target.is_nan(v),
                                    _text(evalerrors.not_finite(float("nan")).message),
                                ),
                                (
                                    exp.GT(this=v, expression=_num(0.0)),
                                    _text(evalerrors.not_finite(float("inf")).message),
                                ),
                            ],
                            _text(evalerrors.not_finite(float("-inf")).message),
                        ),
                    ),
                )
            )
            step[f"__cs_e{i}"] = _or(_error(f"__cs_m{i}"), _and(_ok(f"__cs_m{i}"), _not(finite)))
        if not measures:
            step["__cs_nothing"] = exp.false()
        self.add(step)
        total: exp.Expression = _num(0.0)
        weighted: exp.Expression = _num(0.0)
        for i, m in enumerate(measures):
            n = column(f"__cs_n{i}")
            total = exp.Add(
                this=total, expression=when(not_null(n), _num(m.rule.weight), _num(0.0))
            )
            weighted = exp.Add(
                this=weighted,
                expression=when(
                    not_null(n), exp.Mul(this=_num(m.rule.weight), expression=n), _num(0.0)
                ),
            )
        failed: exp.Expression = exp.false()
        for i in range(len(measures)):
            failed = _or(failed, column(f"__cs_e{i}"))
        self.add({"__cs_total": total, "__cs_weighted": weighted, "__cs_failed": failed})
        any_normalized: exp.Expression = exp.false()
        for i in range(len(measures)):
            any_normalized = _or(any_normalized, not_null(column(f"__cs_n{i}")))
        t = column("__cs_total")
        score = when(
            _and(_not(column("__cs_failed")), any_normalized, exp.GT(this=t, expression=_num(0.0))),
            exp.Div(
                this=exp.Mul(this=_num(100.0), expression=column("__cs_weighted")),
                expression=t,
                typed=False,
                safe=False,
            ),
        )
        step = {"__cs_score": score}
        for i, m in enumerate(measures):
            n = column(f"__cs_n{i}")
            lost = exp.Div(
                this=exp.Mul(
                    this=_num(100.0 * m.rule.weight),
                    expression=exp.Paren(this=exp.Sub(this=_num(1.0), expression=n)),
                ),
                expression=t,
                typed=False,
                safe=False,
            )
            step[f"__cs_lost{i}"] = when(
                _and(not_null(n), exp.GT(this=t, expression=_num(0.0))), lost
            )
        self.add(step)
        sc = column("__cs_score")
        bands = [
            (exp.GTE(this=sc, expression=_num(lower)), _text(name))
            for name, lower in self.compiled.bands
        ]
        step = {
            "__cs_band": cases(bands, _text("unknown")) if bands else _text("unknown"),
            "__cs_delta": exp.Sub(this=sc, expression=column(previous_column())),
        }
        for i in range(len(measures)):
            step[f"__cs_loser{i}"] = _and(
                not_null(sc), exp.GT(this=column(f"__cs_lost{i}"), expression=_num(0.0))
            )
        self.add(step)
        self.drivers(types)
        self.variables["health"] = S(
            MapType(STRING, STRING),
            null(),
            fields={
                "score": leaf(DOUBLE, sc, nullable=True),
                "band": S(STRING, column("__cs_band")),
                "previous": leaf(DOUBLE, column("__cs_previous"), nullable=True),
                "delta": leaf(DOUBLE, column("__cs_delta"), nullable=True),
                "measures": S(
                    MapType(STRING, DOUBLE),
                    null(),
                    fields={
                        m.rule.id: leaf(DOUBLE, column(f"__cs_n{i}"), nullable=True)
                        for i, m in enumerate(measures)
                    },
                ),
            },
        )
        return [m.rule.id for m in measures]

    def drivers(self, types: Sequence[CelType]) -> None:
        measures = self.compiled.measures
        holes: dict[str, exp.Expression] = {}
        renders: list[tuple[exp.Expression | None, exp.Expression]] = []  # (error code, text)
        for i, m in enumerate(measures):
            if m.explain is None:
                renders.append((None, _text(m.rule.label)))
                continue
            value = S(DOUBLE, self.target.cast(column(f"__cs_m{i}_v"), "DOUBLE"))
            pieces, error, outputs = self.template(
                m.explain, f"measure:{m.rule.id}", f"__cs_x{i}", {"value": value}
            )
            holes.update(outputs)
            renders.append((error, pieces))
        if holes:
            self.add(holes)
        step: dict[str, exp.Expression] = {}
        for i, (m, (error, pieces)) in enumerate(zip(measures, renders, strict=True)):
            loser = column(f"__cs_loser{i}")
            if error is None:
                step[f"__cs_text{i}"] = when(loser, pieces)
                continue
            step[f"__cs_text{i}"] = when(loser, when(is_null(error), pieces, _text(m.rule.label)))
            self.slots_explain.append(_Slot(f"measure:{m.rule.id}", code=when(loser, error)))
        for i in range(len(measures)):
            lost_i = column(f"__cs_lost{i}")
            ahead: exp.Expression = exp.Literal.number(0)
            for j in range(len(measures)):
                if j == i:
                    continue
                lost_j = column(f"__cs_lost{j}")
                before: exp.Expression = exp.GT(this=lost_j, expression=lost_i)
                if j < i:
                    before = _or(before, exp.EQ(this=lost_j, expression=lost_i))
                ahead = exp.Add(
                    this=ahead,
                    expression=when(
                        _and(column(f"__cs_loser{j}"), before),
                        exp.Literal.number(1),
                        exp.Literal.number(0),
                    ),
                )
            step[f"__cs_rank{i}"] = ahead
        if step:
            self.add(step)
        ordered = []
        for k in range(len(measures)):
            ordered.append(
                cases(
                    [
                        (
                            _and(
                                column(f"__cs_loser{i}"),
                                exp.EQ(
                                    this=column(f"__cs_rank{i}"), expression=exp.Literal.number(k)
                                ),
                            ),
                            column(f"__cs_text{i}"),
                        )
                        for i in range(len(measures))
                    ]
                )
            )
        self.drivers_list = self.target.compact(ordered)

    def template(
        self, template: CompiledTemplate, rule: str, prefix: str, extra: Mapping[str, S]
    ) -> tuple[exp.Expression, exp.Expression | None, dict[str, exp.Expression]]:
        """A template's text (holes written as the other backends write them) and its
        first hole error (a code), over hole columns ``prefix<k>``."""
        outputs: dict[str, exp.Expression] = {}
        parts: list[exp.Expression] = []
        errors: list[exp.Expression] = []
        for k, part in enumerate(template.parts):
            if isinstance(part, str):
                parts.append(_text(part))
                continue
            out = self.kernel(part, rule, (INT, STRING, BOOL), extra, key="explain")
            name = f"{prefix}_{k}"
            outputs.update(self.outputs(name, out))
            v = column(f"{name}_v")
            if out.type == INT:
                shown: exp.Expression = exp.Cast(this=v, to=self.target.text_type)
            elif out.type == BOOL:
                shown = when(v, _text("true"), _text("false"))
            else:
                shown = v
            parts.append(when(_ok(name), shown, _text("")))
            errors.append(when(_error(name), column(f"{name}_f")))
        text: exp.Expression = parts[0] if parts else _text("")
        for piece in parts[1:]:
            text = self.target.concat(text, piece)
        error = None
        if errors:
            error = (
                errors[0]
                if len(errors) == 1
                else exp.Coalesce(this=errors[0], expressions=errors[1:])
            )
        return text, error, outputs

    def segments(self) -> None:
        columns: dict[str, exp.Expression] = {}
        for i, seg in enumerate(self.compiled.segments):
            out = self.kernel(seg.when, f"segment:{seg.id}", (BOOL,))
            columns.update(self.outputs(f"__cs_g{i}", out))
            self.slots.append(
                _Slot(f"segment:{seg.id}", code=when(_error(f"__cs_g{i}"), column(f"__cs_g{i}_f")))
            )
        if columns:
            self.add(columns)
        members = {seg.id: _true(f"__cs_g{i}") for i, seg in enumerate(self.compiled.segments)}
        self.segments_list = self.target.compact(
            [
                when(_true(f"__cs_g{i}"), _text(seg.id))
                for i, seg in enumerate(self.compiled.segments)
            ]
        )
        from csrules.expr.types import ListType

        self.variables["segments"] = S(ListType(STRING), null(), members=members)

    def tiers(self) -> None:
        columns: dict[str, exp.Expression] = {}
        tiers = self.compiled.tiers
        for i, tier in enumerate(tiers):
            columns.update(
                self.outputs(f"__cs_t{i}", self.kernel(tier.when, f"tier:{tier.rule.id}", (BOOL,)))
            )
        if columns:
            self.add(columns)
        pairs: list[tuple[exp.Expression, exp.Expression]] = []
        reached: exp.Expression = exp.true()  # every higher rank was false or no data
        for i, tier in enumerate(tiers):
            c = f"__cs_t{i}"
            pairs.append((_true(c), _text(tier.rule.id)))
            pairs.append((_error(c), null()))
            # an error stops the search: the tier is not guessed (one entry at most)
            self.slots.append(
                _Slot(f"tier:{tier.rule.id}", code=when(_and(reached, _error(c)), column(f"{c}_f")))
            )
            reached = _and(reached, _not(_true(c)), _not(_error(c)))
        if tiers:
            self.add({"__cs_tier": cases(pairs)})
            no_tier = evalerrors.no_tier([t.rule.id for t in tiers]).message
            self.slots.append(_Slot("tier", text=when(reached, _text(no_tier))))
        else:
            self.add({"__cs_tier": exp.Cast(this=null(), to=self.target.text_type)})
        self.variables["tier"] = leaf(STRING, column("__cs_tier"), nullable=True)

    def adkar(self) -> None:
        columns: dict[str, exp.Expression] = {}
        names = [name for name, _ in self.compiled.adkar]
        for name, kernel in self.compiled.adkar:
            columns.update(
                self.outputs(
                    f"__cs_k_{name}", self.kernel(kernel, f"adkar:{name}", (INT,), key=name)
                )
            )
        if columns:
            self.add(columns)
        step: dict[str, exp.Expression] = {}
        barrier: list[tuple[exp.Expression, exp.Expression]] = []
        scores: dict[str, S] = {}
        unknown: list[exp.Expression] = []
        for name in names:
            c = f"__cs_k_{name}"
            v = column(f"{c}_v")
            inside = exp.Between(this=v, low=exp.Literal.number(1), high=exp.Literal.number(5))
            valid = _and(_ok(c), inside)
            step[f"__cs_score_{name}"] = when(valid, v)
            message = self.target.concat(
                self.target.concat(_text("score "), exp.Cast(this=v, to=self.target.text_type)),
                _text(" is outside 1..5"),
            )
            self.slots.append(
                _Slot(
                    f"adkar:{name}",
                    code=when(_error(c), column(f"{c}_f")),
                    text=when(_and(_ok(c), _not(inside)), message),
                )
            )
            barrier.append(
                (
                    _and(
                        valid,
                        exp.LTE(
                            this=v, expression=exp.Literal.number(self.compiled.adkar_threshold)
                        ),
                    ),
                    _text(name),
                )
            )
            unknown.append(
                when(
                    exp.EQ(this=column(f"{c}_f"), expression=exp.Literal.number(NO_DATA_CODE)),
                    _text(name),
                )
            )
            scores[name] = leaf(INT, column(f"__cs_score_{name}"), nullable=True)
        for name in ADKAR_ELEMENTS:
            scores.setdefault(name, absent(INT))
        step["__cs_barrier"] = cases(barrier, _text("")) if barrier else _text("")
        self.add(step)
        self.unknown_list = self.target.compact(unknown)
        self.variables["adkar"] = S(
            MapType(STRING, STRING),
            null(),
            fields={
                "barrier": S(STRING, column("__cs_barrier")),
                "scores": S(MapType(STRING, INT), null(), fields=scores),
            },
        )
        self.adkar_names = names

    def playbooks(self) -> None:
        columns: dict[str, exp.Expression] = {}
        for i, pb in enumerate(self.compiled.playbooks):
            columns.update(
                self.outputs(f"__cs_p{i}", self.kernel(pb.when, f"playbook:{pb.rule.id}", (BOOL,)))
            )
            self.slots.append(
                _Slot(
                    f"playbook:{pb.rule.id}",
                    code=when(_error(f"__cs_p{i}"), column(f"__cs_p{i}_f")),
                )
            )
        if columns:
            self.add(columns)
        self.playbooks_list = self.target.compact(
            [
                when(_true(f"__cs_p{i}"), _text(pb.rule.id))
                for i, pb in enumerate(self.compiled.playbooks)
            ]
        )

    # -- messages

    def errors_list(self) -> exp.Expression:
        entries: list[exp.Expression] = []
        ordered = self.slots_before_explain + self.slots_explain + self.slots_after_explain
        for slot in ordered:
            options: list[exp.Expression] = []
            if slot.code is not None:
                options.append(self.render(slot.rule, slot.code))
            if slot.text is not None:
                text = slot.text
                if slot.rule:
                    text = self.target.concat(_text(f"{slot.rule}: "), text)
                options.append(text)
            if options:
                entries.append(
                    options[0]
                    if len(options) == 1
                    else exp.Coalesce(this=options[0], expressions=options[1:])
                )
        return self.target.compact(entries)

    def render(self, rule: str, code: exp.Expression) -> exp.Expression:
        texts = [
            exp.If(this=exp.Literal.number(k), true=_text(f"{rule}: {message}"))
            for k, message in enumerate(self.messages.texts)
            if k > 0
        ]
        if not texts:
            return exp.Cast(this=null(), to=self.target.text_type)
        return exp.Case(this=code, ifs=texts)

    slots_explain: list[_Slot] = field(default_factory=list)
    slots_before_explain: list[_Slot] = field(default_factory=list)
    slots_after_explain: list[_Slot] = field(default_factory=list)
    drivers_list: exp.Expression = field(default_factory=exp.Null)
    segments_list: exp.Expression = field(default_factory=exp.Null)
    unknown_list: exp.Expression = field(default_factory=exp.Null)
    playbooks_list: exp.Expression = field(default_factory=exp.Null)
    adkar_names: list[str] = field(default_factory=list)


def account_variable(spec: SnapshotSpec, target: Target) -> S:
    """``account``: one leaf per declared field of the table layout (``layout.py``)."""
    fields: dict[str, S] = {}
    for name, ft in spec.fields.items():
        t = cel_type(ft)
        col = column(name)
        if isinstance(t, MapType):
            presence = leaf(BOOL, col, nullable=True).fault if ft.optional else None
            fields[name] = S(t, null(), map_prefix=name, fault=presence)
        elif t == TIMESTAMP:
            fields[name] = leaf(t, target.epoch_us(col), nullable=ft.optional)
        else:
            fields[name] = leaf(t, col, nullable=ft.optional)
    return S(MapType(STRING, STRING), null(), fields=fields)


def build_query(
    compiled: CompiledPlaybook,
    target: Target,
    now: datetime,
    source: exp.Expression,
    *,
    pinned: Mapping[str, float] | None = None,
    prepared: bool = False,
) -> PlaybookQuery:
    """The playbook as one SQL query over ``source`` (a table or a subquery) at ``now``.

    ``prepared``: ``source`` has the ``__cs_key``/``__cs_row``/``__cs_previous``
    columns of ``layout.py`` (a batch loaded by csrules); otherwise they are derived
    (the key as text, rows ordered by key, no previous scores). Raises
    :class:`NotExpressible` for the first expression the SQL backend cannot express.
    """
    b = _Builder(compiled, target, now, source, dict(pinned or {}), prepared)
    b.base()
    b.aggregates()
    measures = b.health()
    b.slots_before_explain, b.slots = b.slots, []
    b.segments()
    b.tiers()
    b.adkar()
    b.playbooks()
    b.slots_after_explain = b.slots
    final: list[exp.Expression] = [
        named(column(KEY), "account"),
        named(column("__cs_score"), "score"),
        named(column("__cs_band"), "band"),
        named(column("__cs_tier"), "tier"),
        named(parenthesize(b.segments_list), "segments"),
        named(column("__cs_barrier"), "barrier"),
        named(parenthesize(b.unknown_list), "adkar_unknown"),
        named(parenthesize(b.playbooks_list), "playbooks"),
        named(parenthesize(b.drivers_list), "drivers"),
        named(parenthesize(b.errors_list()), "errors"),
    ]
    for i in range(len(measures)):
        final.append(named(column(f"__cs_lost{i}"), f"__cs_lost{i}"))
    for name in b.adkar_names:
        final.append(named(column(f"__cs_score_{name}"), f"__cs_score_{name}"))
    for i in range(len(compiled.aggregates)):
        final.append(named(column(f"__cs_pf{i}"), f"__cs_pf{i}"))
    final.append(named(column("__cs_previous"), "__cs_previous"))
    final.append(named(column("__cs_delta"), "__cs_delta"))
    tree = exp.select(*final, copy=False).from_(
        exp.Table(this=exp.Identifier(this=b.last, quoted=True)), copy=False
    )
    tree = tree.order_by(exp.Ordered(this=column(ROW)), copy=False)
    # PostgreSQL inlines a CTE read once, which copies each column's definition into
    # every reader: over a chain of stages the plan grows exponentially. Materialized,
    # each stage is computed once (DuckDB does not inline this way).
    materialized = target.dialect == "postgres"
    for name, cte in b.ctes:
        tree = tree.with_(
            exp.Identifier(this=name, quoted=True),
            as_=cte,
            copy=False,
            materialized=materialized or None,
        )
    return PlaybookQuery(tree, b.messages, measures, b.adkar_names, target)
