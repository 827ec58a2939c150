"""The reference backend's step budget: deterministic, per account, never a hang."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from csrules.engine import celbridge
from csrules.engine.celvalues import to_cel
from csrules.engine.evaluate import evaluate
from csrules.engine.reference import ReferenceKernel
from csrules.engine.values import ErrorKind, EvalError
from csrules.hooks import manager
from csrules.runtime import compile_playbook
from csrules.snapshot.batch import AccountBatch
from tests.engine_helpers import CATCH_ALL_TIER, PROJECT, account

FUNCTIONS = manager.all_functions(manager.plugin_manager())
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def activation(**fields: object) -> dict[str, object]:
    return {"account": to_cel(fields), "now": to_cel(NOW)}


def steps_of(source: str, **fields: object) -> int:
    program = celbridge.Program(source, FUNCTIONS, NOW)
    value = program.evaluate(activation(**fields), 10**9)
    assert not isinstance(value, EvalError), value
    return program.steps_used


def test_about_one_step_per_operation() -> None:
    # the field read, the literal, the comparison (a bare name costs nothing)
    assert steps_of("account.seats > 10", seats=3) == 3
    # a comprehension runs its body once per item: v > 1 is two steps per item
    three = steps_of("account.tags.exists(v, v > 1)", tags=[1, 2, 3])
    hundred = steps_of("account.tags.exists(v, v > 1)", tags=list(range(100)))
    assert hundred - three == 97 * 2


def test_building_and_walking_lists_costs_per_item() -> None:
    small = steps_of("account.tags + account.tags == account.tags", tags=[1])
    large = steps_of("account.tags + account.tags == account.tags", tags=list(range(1000)))
    assert large - small == (2000 - 2) + (2000 - 2)  # the concatenation, then the ==
    assert steps_of("5 in account.tags", tags=list(range(1000))) == 3 + 1000


def test_the_same_expression_and_account_give_the_same_count() -> None:
    source = "account.tags.map(a, account.tags.map(b, a * b)).size() > 0"
    counts = {steps_of(source, tags=list(range(30))) for _ in range(3)}
    assert len(counts) == 1


def test_over_the_budget_is_an_error_for_that_account_only() -> None:
    kernel = ReferenceKernel(
        "account.tags.exists(a, account.tags.exists(b, a == b + 1))", FUNCTIONS, steps=10_000
    )
    values = kernel.evaluate(
        [activation(tags=[1, 2]), activation(tags=list(range(1000))), activation(tags=[5])], NOW
    )
    assert values[0] is True and values[2] is False
    error = values[1]
    assert isinstance(error, EvalError) and error.kind is ErrorKind.OVER_BUDGET
    assert "over the evaluation budget of 10,000 steps" in error.message
    assert "[limits] eval_steps" in error.message


def test_the_budget_escapes_or_and_error_handlers() -> None:
    """Running out of steps is not an error value ||, exists() or a plugin could absorb."""
    kernel = ReferenceKernel(
        "true || account.tags.map(a, account.tags.map(b, a + b)).size() > 0",
        FUNCTIONS,
        steps=5_000,
    )
    (value,) = kernel.evaluate([activation(tags=list(range(200)))], NOW)
    assert isinstance(value, EvalError) and value.kind is ErrorKind.OVER_BUDGET


def test_building_an_enormous_value_runs_out_of_steps() -> None:
    """Few operations that each double a string or a list: the budget counts what
    they build, so memory stays bounded."""
    doubling = "[account.name]" + ".map(s, s + s)" * 60 + ".size() > 0"
    lists = "[account.tags]" + ".map(s, s + s)" * 60 + ".size() > 0"
    for source in (doubling, lists):
        kernel = ReferenceKernel(source, FUNCTIONS, steps=200_000)
        (value,) = kernel.evaluate([activation(name="ab" * 50, tags=[1, 2, 3])], NOW)
        assert isinstance(value, EvalError) and value.kind is ErrorKind.OVER_BUDGET, source


def test_eval_steps_comes_from_csrules_toml(tmp_path: Path) -> None:
    rules = """
[[segment]]
id = "many_tags"
when = "account.tags.exists(a, account.tags.exists(b, a == b + 'x'))"
"""
    (tmp_path / "pb").mkdir()
    (tmp_path / "pb" / "rules.toml").write_text(rules + CATCH_ALL_TIER, encoding="utf-8")
    (tmp_path / "pb" / "csrules.toml").write_text(
        PROJECT + "\n[limits]\neval_steps = 2000\nexpression_cost = 100000000\n", encoding="utf-8"
    )
    compiled = compile_playbook(tmp_path / "pb", now=NOW)
    assert compiled.project.limits.eval_steps == 2000
    records = [account("a", tags=["1", "1x"]), account("b", tags=[str(i) for i in range(100)])]
    for backend in ("reference", "columnar"):
        batch = AccountBatch.from_records(records, compiled.spec)
        a, b = evaluate(compiled, batch, NOW, backend=backend).accounts
        assert a.segments == ["many_tags"], backend
        assert b.segments == [], backend
        assert [e.rule for e in b.errors] == ["segment:many_tags"], backend
        assert "2,000 steps" in b.errors[0].message, backend
