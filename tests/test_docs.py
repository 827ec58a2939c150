"""The docs keep up with the code: every hook, command and rule kind is documented."""

from __future__ import annotations

import inspect

from csrules.cli.docgen import render_cli_docs
from csrules.hooks import hookspecs
from tests.conftest import REPO

DOCS = REPO / "docs"


def _hook_names() -> list[str]:
    return [
        name
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(fn, "csrules_spec")
    ]


def test_there_are_hooks() -> None:
    assert set(_hook_names()) >= {
        "register_connectors",
        "register_sources",
        "register_functions",
        "register_commands",
    }


def test_every_hook_is_documented() -> None:
    text = (DOCS / "hooks.md").read_text(encoding="utf-8")
    for name in _hook_names():
        assert f"## {name}(" in text, f"hook {name} is not documented in docs/hooks.md"
        assert inspect.getdoc(getattr(hookspecs, name)), f"hook {name} has no docstring"


def test_cli_reference_is_current() -> None:
    current = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert current == render_cli_docs(), (
        "docs/cli.md is stale: python -m csrules.cli.docgen > docs/cli.md"
    )


def test_every_rule_kind_is_documented() -> None:
    text = (DOCS / "playbook-format.md").read_text(encoding="utf-8")
    for table in (
        "[[aggregate]]",
        "[health]",
        "[[health.measure]]",
        "[[segment]]",
        "[[tier]]",
        "[adkar]",
        "[[playbook]]",
        "[[playbook.action]]",
        "[[escalation]]",
        "[[escalation.step]]",
        "[[silence]]",
        "[[invariant]]",
        "[[test]]",
        "[[test.step]]",
    ):
        assert f"`{table}`" in text, f"{table} is not documented in docs/playbook-format.md"


def test_every_command_is_in_the_user_docs() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for command in ("init", "validate", "schema"):
        assert f"## csrules {command}" in text
