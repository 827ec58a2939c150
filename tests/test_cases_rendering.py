"""Action parameters render within [limits] rendered_length, cut with a visible marker."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from csrules.cases.model import CaseState
from csrules.cases.reconcile import reconcile
from csrules.cases.rendering import ParameterBudget, cut_marker, render_bounded, render_parameter
from csrules.engine.compiled import compile_loaded
from csrules.engine.reference import ReferenceKernel
from csrules.engine.templates import compile_template
from csrules.engine.values import EvalError
from csrules.hooks.manager import all_functions
from csrules.load.loader import load_playbook
from tests.engine_helpers import NOW, account, make_playbook, run

FUNCTIONS = all_functions()
AT = datetime(2026, 3, 1, tzinfo=UTC)


def render(text: str, limit: int, **activation: Any) -> tuple[str | EvalError, ParameterBudget]:
    from csrules.engine.celvalues import to_cel

    template = compile_template(text, lambda source: ReferenceKernel(source, FUNCTIONS))
    budget = ParameterBudget(limit)
    cel = {k: to_cel(v) for k, v in activation.items()}
    return render_bounded(template, cel, AT, budget), budget


def test_a_rendering_within_the_limit_is_untouched() -> None:
    text, budget = render("Hello {{ name }}!", 100, name="Ada")
    assert text == "Hello Ada!" and not budget.cut and budget.kept == 10


def test_a_long_rendering_is_cut_with_a_marker_that_says_how_much() -> None:
    text, budget = render("{{ name }}{{ name }}", 100, name="x" * 1000)
    assert isinstance(text, str) and budget.cut and budget.full == 2000
    marker = cut_marker(2000 - text.index("…"))
    assert text.endswith(marker) and text == "x" * (len(text) - len(marker)) + marker
    assert len(text) <= 100 + 1  # the marker fits in the limit (give or take a digit)


def test_an_error_in_a_hole_after_the_cut_is_still_an_error() -> None:
    text, _ = render("{{ name }}{{ 1 / 0 }}", 10, name="x" * 100)
    assert isinstance(text, EvalError)


def test_the_strings_of_one_parameter_share_its_budget() -> None:
    def one(source: str, budget: ParameterBudget) -> str:
        template = compile_template(source, lambda s: ReferenceKernel(s, FUNCTIONS))
        out = render_bounded(template, {}, AT, budget)
        assert isinstance(out, str)
        return out

    budget = ParameterBudget(100)
    value = render_parameter(["a" * 60, "b" * 60, {"c": "c" * 60}, 3], one, budget)
    assert value[0] == "a" * 60
    assert value[1].startswith("b") and value[1].endswith(cut_marker(60 - value[1].index("…")))
    assert value[2]["c"] == cut_marker(60) and value[3] == 3
    assert budget.full == 180 and budget.cut


RULES = """
[[playbook]]
id = "loud"
when = "true"
[[playbook.action]]
connector = "log"
text = "{hundred}"
short = "ok {{{{ account.id }}}}"
"""


def test_reconcile_cuts_a_template_bomb_and_warns(tmp_path: Path) -> None:
    hundred = " ".join(["{{ account.id }}"] * 100)
    rules = RULES.format(hundred=hundred)
    make_playbook(tmp_path, rules)
    root = tmp_path / "pb"
    with (root / "csrules.toml").open("a", encoding="utf-8") as out:
        out.write("[limits]\nrendered_length = 5000\n")
    compiled = compile_loaded(load_playbook(root), FUNCTIONS)
    plan = reconcile(run(compiled, [account("x" * 2000)]), compiled, CaseState(), NOW)
    params = plan.deliver[0].params
    assert params["short"] == "ok " + "x" * 2000  # another parameter, its own budget
    assert len(params["text"]) <= 5001 and "… [cut: " in params["text"]
    assert len(plan.warnings) == 1
    warning = plan.warnings[0]
    assert "parameter 'text' renders to 200099 characters" in warning
    assert "over [limits] rendered_length (5000)" in warning
    assert "'short'" not in warning
