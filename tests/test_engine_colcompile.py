"""The columnar compiler compiles in time linear in the size of an expression.

Nothing here is timed: the tests count what the compiler does (how often each node is
compiled, how many folds cel-python evaluates) and measure the size of the Polars plan
it emits, which is what Polars spends its planning time on. A plan that doubles with
every level of nesting (a sub-expression inlined twice per parent) shows as a ratio of
8 or more between depth 3 and depth 6; a linear one as about 2.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from csrules.engine import celbridge, colcompile
from csrules.engine.celvalues import to_cel
from csrules.engine.colcompile import (
    Binder,
    Compiler,
    Messages,
    Scope,
    Unsupported,
    compile_node,
    full_zeros,
)
from csrules.engine.columnar import _KernelRun, expression_values
from csrules.engine.reference import ReferenceKernel
from csrules.engine.values import ErrorKind, EvalError
from csrules.expr.ast import parse
from csrules.hooks import manager
from csrules.model.fieldtypes import parse_field
from csrules.snapshot.batch import AccountBatch, SnapshotSpec

FUNCTIONS = manager.all_functions(manager.plugin_manager())
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SPEC = SnapshotSpec(
    key="id",
    fields={
        name: parse_field(t)
        for name, t in {
            "id": "string",
            "i": "int",
            "j": "int?",
            "e": "double?",
            "b": "bool?",
            "s": "string",
            "l": "list<int>",
            "t": "timestamp",
            "u": "duration?",
        }.items()
    },
)
BATCH = AccountBatch.from_records(
    [
        {"id": "a", "i": 1, "s": "x", "l": [1, 2], "t": NOW},
        {"id": "b", "i": 2, "j": 3, "e": 2.0, "b": True, "s": "", "l": [], "t": NOW, "u": "1h"},
    ],
    SPEC,
)


def plan_size(source: str) -> int:
    """Characters of the serialized Polars plan (expanded: a shared sub-plan counts each
    time it is read, as Polars plans it)."""
    run = _KernelRun(BATCH, NOW, FUNCTIONS)
    binder = Binder("x")
    plan = compile_node(
        parse(source), Scope(run.variables), FUNCTIONS, run.messages, NOW, full_zeros(), binder
    )
    exprs = [e for step in binder.steps() for e in step] + [plan.value]
    if plan.fault is not None:
        exprs.append(plan.fault)
    return sum(len(e.meta.serialize(format="json")) for e in exprs)


def nested(template: str, leaf: str, depth: int) -> str:
    source = leaf
    for _ in range(depth):
        source = template.replace("X", f"({source})")
    return source


TEMPLATES = [
    ("X + account.j", "account.j"),
    ("account.j + X", "account.j"),
    ("X - account.i", "account.j"),
    ("X * account.j", "account.j"),
    ("X / account.j", "account.j"),
    ("account.i / X", "account.j"),
    ("X % account.j", "account.j"),
    ("-X", "account.j"),
    ("int(double(X) * account.e)", "account.j"),
    ("account.b ? X : account.j", "account.j"),
    ("account.j > 0 ? X + 1 : account.j", "account.j"),
    ("X || account.j > 1", "account.b"),
    ("account.e > 1.0 && X", "account.b"),
    ("!X", "account.b"),
    ("X == (account.e < 2.0)", "account.b"),
    ("X * account.e", "account.e"),
    ("account.e / X", "account.e"),
    ("X - 1.0", "account.e"),
    ("clamp(X, 0.0, account.e)", "account.e"),
    ("account.b ? X : account.e", "account.e"),
    ("X + days(account.j)", "account.t"),
    ("X + account.u", "account.u"),
    ("X - account.u", "account.u"),
    ("X + account.s", "account.s"),
    ("account.b ? X : account.s + 'x'", "account.s"),
    ("[X, 1][account.i - 1]", "account.j"),
]


@pytest.mark.parametrize(("template", "leaf"), TEMPLATES)
def test_the_plan_grows_linearly_with_nesting(template: str, leaf: str) -> None:
    shallow = plan_size(nested(template, leaf, 3))
    deep = plan_size(nested(template, leaf, 6))
    assert deep / shallow < 3, (template, shallow, deep)


@pytest.mark.parametrize("chain", ["X / 2", "X * 2", "X % 3", "X - 1"])
def test_a_comprehension_body_stays_small_or_falls_back(chain: str) -> None:
    """Inside exists() nothing can be bound to a column: a body whose plan would grow
    past MAX_BODY_PLAN is left to the reference backend instead."""
    sizes: list[int | None] = []
    for depth in (2, 10, 25):
        source = f"account.l.exists(v, {nested(chain, 'v', depth)} > 0)"
        try:
            sizes.append(plan_size(source))
        except Unsupported:
            sizes.append(None)
        assert expression_values(source, BATCH, NOW, FUNCTIONS) is None or sizes[-1] is not None
    assert sizes[0] is not None, "a short body must still be compiled"
    assert all(size is None or size < 8 * colcompile.MAX_BODY_PLAN for size in sizes), sizes


def test_every_node_is_compiled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: Counter[int] = Counter()
    dispatch = Compiler.dispatch

    def counting(self: Compiler, node: Any) -> Any:
        calls[id(node)] += 1
        return dispatch(self, node)

    monkeypatch.setattr(Compiler, "dispatch", counting)
    for source in (
        nested("X / account.j", "account.j", 25),
        nested("account.b ? X : account.j + 1", "account.j", 30),
        nested("X + 1", "1", 30) + " > account.i",
    ):
        calls.clear()
        plan_size(source)
        assert calls and max(calls.values()) == 1, source


CHAIN = " / ".join(["7"] * 120) + " > 0 || " + " % ".join(["9"] * 60) + " == 0"


def test_a_constant_chain_is_folded_once_per_node(monkeypatch: pytest.MonkeyPatch) -> None:
    """120 divisions: exponential before folding (each level read its operand twice);
    now each operation is one fold by cel-python and the plan is a single literal."""
    programs: list[str] = []
    program = celbridge.Program

    def recording(source: str, *args: Any) -> celbridge.Program:
        programs.append(source)
        return program(source, *args)

    monkeypatch.setattr(colcompile.celbridge, "Program", recording)
    assert plan_size(CHAIN) < 2_000
    operations = CHAIN.count("/") + CHAIN.count("%") + 3  # and the two comparisons and ||
    assert len(programs) == operations
    values = expression_values(CHAIN, BATCH, NOW, FUNCTIONS)
    assert values == [True, True]


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("9223372036854775807 + 1 > 0", ErrorKind.OVERFLOW),
        ("-(-9223372036854775807 - 1) > 0", ErrorKind.OVERFLOW),
        ("(-9223372036854775807 - 1) / -1 > 0", ErrorKind.OVERFLOW),
        ("7 / (3 - 3) > 0", ErrorKind.DIVISION_BY_ZERO),
        ("7 % 0 == 1", ErrorKind.DIVISION_BY_ZERO),
        ("int('seven') > 0", ErrorKind.INVALID_ARGUMENT),
        ("timestamp('9999-12-31T23:59:59Z') + duration('1s') > now", ErrorKind.OVERFLOW),
        ("true || int(1.0 / 0.0) > 0", ErrorKind.OVERFLOW),  # raised: escapes ||
        ("(1 / 0 > 1) || (2 / 0 > 1)", ErrorKind.NO_OVERLOAD),
        ("1 + (2 / 0) > 0", ErrorKind.NO_OVERLOAD),
        ("dyn(1) + 'a' == 'b'", ErrorKind.NO_OVERLOAD),
        ("[1, 2, 3].map(x, [1, 2, 3].map(y, x * y))[2][2] == 9", None),
        ("{'a': 1}['a'] == 1", None),
        ("(1.5 + 1.5) / (1.0 - 1.0) > 1.0", ErrorKind.DIVISION_BY_ZERO),  # plain floats
        ("1.5 / 0.0 > 1.0", None),  # a DoubleType: +inf
        ("('a' + 'b').contains('a')", ErrorKind.NO_OVERLOAD),
        ("size([]) == 0 && [1, 2] + [3] == [1, 2, 3]", None),
    ],
)
def test_folding_gives_the_reference_value_or_error(source: str, kind: ErrorKind | None) -> None:
    expected = ReferenceKernel(source, FUNCTIONS).evaluate([{"now": to_cel(NOW)}], NOW)
    folded = expression_values(source, BATCH, NOW, FUNCTIONS)
    assert folded is not None, f"not compiled: {source}"
    assert folded == expected * 2
    if kind is None:
        assert expected == [True]
    else:
        assert isinstance(expected[0], EvalError) and expected[0].kind is kind


def test_a_constant_bomb_is_folded_within_the_step_budget() -> None:
    """A comprehension over a constant list is folded by cel-python, under the step
    budget, so compiling it cannot hang either."""
    items = ", ".join(str(i) for i in range(200))
    bomb = f"[{items}].map(a, [{items}].map(b, [{items}].map(c, a + b + c))).size() > 0"
    node = parse(bomb)
    binder = Binder("x")
    compiler = Compiler(Scope({}), FUNCTIONS, Messages(), NOW, full_zeros(), binder, steps=5_000)
    col = compiler.compile(node)
    assert col.folded is not None and col.folded.fatal is not None
    assert col.folded.fatal.kind is ErrorKind.OVER_BUDGET
    assert "5,000 steps" in col.folded.fatal.message


def test_folded_values_keep_their_column_type() -> None:
    frame = pl.DataFrame({"a": [1, 2]})
    for source, value in [
        ("duration('1h') + duration('30m')", timedelta(minutes=90)),
        ("timestamp('2026-03-01T00:00:00Z') + duration('1h')", datetime(2026, 3, 1, 1, tzinfo=UTC)),
        ("[1, 2] + [3]", [1, 2, 3]),
        ("'a' + 'b'", "ab"),
        ("-0.0 * 1.0", -0.0),
    ]:
        binder = Binder("x")
        plan = compile_node(
            parse(source), Scope({}), FUNCTIONS, Messages(), NOW, full_zeros(), binder
        )
        out = frame.select(plan.value.alias("v")).get_column("v").to_list()
        assert out[0] == value, source
