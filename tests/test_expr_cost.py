"""The cost estimate of expressions, and the validate error over [limits] expression_cost."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from csrules.engine import celbridge
from csrules.engine.evaluate import base_activations
from csrules.expr.checker import check_source
from csrules.expr.cost import Sizes, estimate, field_sizes
from csrules.model.fieldtypes import parse_field
from csrules.validate.run import validate_playbook
from csrules.validate.stages import Stage, Vocabulary, stage_env
from tests import test_engine_columnar as differential
from tests.engine_helpers import NOW

FIELDS = {
    "id": parse_field("string"),
    "tags": parse_field("list<string>"),
    "scores": parse_field({"type": "list<int>", "max_items": 10}),
    "nested": parse_field({"type": "list<list<int>>", "max_items": 4}),
    "events": parse_field({"type": "map<string, int>", "max_items": 3}),
}


ENV = stage_env(
    Vocabulary(fields=FIELDS, aggregates=(), measures=()),
    differential.FUNCTIONS,
    Stage.AGGREGATES,
    reader="a test",
)


def cost(source: str, default: int = 1000) -> int:
    checked = check_source(source, ENV)
    assert checked.ok and checked.node is not None, [i.message for i in checked.issues]
    sizes = Sizes(field_sizes(FIELDS, default), default)
    return estimate(checked.node, checked.types, sizes).cost


def test_a_comprehension_multiplies_its_body_by_the_size_it_walks() -> None:
    one = cost("account.tags.exists(t, t == 'x')")
    assert 3000 < one < 5000  # 1,000 items (no hint) of a 3-operation body
    two = cost("account.tags.exists(a, account.tags.exists(b, a == b))")
    assert two > 1000 * one // 2
    assert cost("account.tags.exists(t, t == 'x')", default=10) < 60


def test_max_items_hints_bound_the_estimate() -> None:
    assert cost("account.scores.exists(a, account.scores.exists(b, a == b))") < 500
    assert cost("account.nested.exists(l, l.exists(v, v > 1))") < 100
    assert cost("account.events.exists(k, account.events[k] > 1)") < 50


def test_looking_into_and_building_lists_costs_per_item() -> None:
    base = cost("'x' == 'y'")
    assert cost("'x' in account.tags") >= base + 1000
    assert cost("account.tags + account.tags == account.tags") >= 2000 + 1000
    assert cost("size(account.tags) > 1") < 10


def test_a_ternary_costs_the_dearer_branch() -> None:
    dear = cost("account.tags.exists(t, t == 'x')")
    both = cost("size(account.scores) > 1 ? account.tags.exists(t, t == 'x') : false")
    assert dear < both < 2 * dear


# ---------------------------------------------- the estimate bounds the run-time steps

NAMES = ["l", "n"]


def comprehensions(depth: int) -> st.SearchStrategy[str]:
    """Nested comprehensions over the test schema's lists, reading outer variables."""

    def body(variables: list[str], level: int) -> st.SearchStrategy[str]:
        leaves = [f"{v} == {v}" for v in variables] or ["true"]
        simple = st.sampled_from([*leaves, "account.i > 1", "'a' in account.l"])
        if level == 0:
            return simple
        name = f"v{level}"
        inner = st.sampled_from(NAMES).flatmap(
            lambda field: st.tuples(
                st.sampled_from(["exists", "all", "exists_one"]),
                body([*variables, name], level - 1),
            ).map(lambda pair: f"account.{field}.{pair[0]}({name}, {pair[1]})")
        )
        mapped = st.sampled_from(NAMES).flatmap(
            lambda field: body([*variables, name], level - 1).map(
                lambda b: f"account.{field}.map({name}, {b}).exists(z, z)"
            )
        )
        return st.one_of(simple, inner, mapped)

    return body([], depth)


@settings(
    max_examples=150,  # the CI budget: 300 took 12 s of a 2-core run
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    source=st.one_of(differential.EXPRESSIONS, comprehensions(3)),
    rows=differential.ACCOUNTS,
)
@example(source="account.l.exists(a, account.n.exists(b, a == a))", rows=[{"l": ["a"] * 3}])
def test_the_estimate_is_never_below_the_steps_taken(
    source: str, rows: list[dict[str, Any]]
) -> None:
    """For accounts whose lists fit the sizes assumed, no expression takes more steps
    than estimated (strings here are short: building a long string costs more)."""
    checked = check_source(source, differential.ENV)
    assert checked.ok and checked.node is not None, source
    records = [differential._defaults(row) for row in rows]
    longest = max([len(v) for r in records for v in r.values() if isinstance(v, list | dict)] + [1])
    sizes = Sizes(field_sizes(differential.SPEC.fields, longest), longest)
    estimated = estimate(checked.node, checked.types, sizes).cost
    batch = differential._batch(records)
    program = celbridge.Program(source, differential.FUNCTIONS, NOW)
    for activation in base_activations(batch, NOW):
        program.evaluate(activation, 10**9)
        assert program.steps_used <= estimated, (source, program.steps_used, estimated)


# ------------------------------------------------------------------- validate

PROJECT = """
[project]
name = "bounded"
[snapshot]
key = "id"
[snapshot.fields]
id = "string"
events = "list<int>"
tags = { type = "list<string>", max_items = 20 }
"""


def _validate(tmp_path: Path, when: str, limits: str = "") -> list[Any]:
    root = tmp_path / "pb"
    root.mkdir(parents=True)
    (root / "csrules.toml").write_text(PROJECT + limits, encoding="utf-8")
    (root / "rules.toml").write_text(
        f'[[segment]]\nid = "s"\nwhen = "{when}"\n\n'
        '[[tier]]\nid = "all"\nrank = 1\nwhen = "true"\ncoverage = "digital"\n',
        encoding="utf-8",
    )
    return validate_playbook(root).diagnostics.errors


def test_validate_rejects_an_expression_over_the_cost_limit(tmp_path: Path) -> None:
    (error,) = _validate(
        tmp_path,
        "size(account.tags) > 0 && account.events.exists(a, account.events.exists(b, a == b + 1))",
    )
    assert error.location.line == 3
    assert error.location.column == 9 + len("size(account.tags) > 0 && ")  # at the comprehension
    message = error.message
    assert re.search(r"estimated cost 6,00\d,\d{3} is over the limit of 50,000", message)
    assert "[limits] expression_cost" in message
    assert "exists() walks 'account.events'" in message
    assert "no max_items hint on account.events, so [limits] list_size" in message
    assert 'events = { type = "list<int>", max_items = 100 }' in message


def test_hints_and_limits_make_it_valid(tmp_path: Path) -> None:
    when = "account.tags.exists(a, account.tags.exists(b, a == b + 'x'))"
    assert _validate(tmp_path / "a", when) == []
    bomb = "account.events.exists(a, account.events.exists(b, a == b + 1))"
    assert _validate(tmp_path / "b", bomb, "[limits]\nexpression_cost = 10000000\n") == []
    assert _validate(tmp_path / "c", bomb, "[limits]\nlist_size = 50\n") == []


def test_a_template_hole_over_the_limit_is_reported_in_the_template(tmp_path: Path) -> None:
    root = tmp_path / "pb"
    root.mkdir()
    (root / "csrules.toml").write_text(PROJECT, encoding="utf-8")
    (root / "rules.toml").write_text(
        """
[[playbook]]
id = "p"
when = "true"
[[playbook.action]]
connector = "log"
text = "Pairs: {{ account.events.map(a, account.events.map(b, a * b)) }}"
""",
        encoding="utf-8",
    )
    (error,) = validate_playbook(root).diagnostics.errors
    assert "map() walks 'account.events'" in error.message
    assert error.location.column == 9 + len("Pairs: {{ ")
