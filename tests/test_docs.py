"""The docs keep up with the code: every hook, command and rule kind is documented."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

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


def test_every_connector_method_a_plugin_may_override_is_documented() -> None:
    from csrules.delivery.connector import Connector

    hooks = (DOCS / "hooks.md").read_text(encoding="utf-8")
    guide = (DOCS / "connectors.md").read_text(encoding="utf-8")
    methods = [
        name
        for name, fn in inspect.getmembers(Connector, inspect.isfunction)
        if not name.startswith("_")
    ]
    assert "acknowledgements" in methods
    for name in methods:
        assert f"`{name}(" in hooks, f"Connector.{name} is not documented in docs/hooks.md"
        assert f"{name}(" in guide, f"Connector.{name} is not in docs/connectors.md"
        assert inspect.getdoc(getattr(Connector, name)), f"Connector.{name} has no docstring"


def test_every_connector_declaration_and_delivery_setting_is_documented() -> None:
    from csrules.delivery.connector import Connector
    from csrules.model.project import DeliverySettings

    hooks = (DOCS / "hooks.md").read_text(encoding="utf-8")
    guide = (DOCS / "connectors.md").read_text(encoding="utf-8")
    declared = [n for n in Connector.__annotations__ if not n.startswith("_")]
    assert "idempotent" in declared
    for name in declared:
        assert f"`{name}" in hooks, f"Connector.{name} is not documented in docs/hooks.md"
        assert f"{name}:" in guide, f"Connector.{name} is not in docs/connectors.md"
    formats = (DOCS / "playbook-format.md").read_text(encoding="utf-8")
    missing = [n for n in DeliverySettings.model_fields if f"| `{n}" not in formats]
    assert missing == []


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


def _slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    found: set[str] = set()
    in_code = False
    for line in path.read_text().splitlines():
        found.update(re.findall(r'<a id="([^"]+)"', line))
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            base = _slug(line.lstrip("#"))
            anchor, n = base, 0
            while anchor in found:
                n += 1
                anchor = f"{base}-{n}"
            found.add(anchor)
    return found


def test_every_link_between_the_docs_lands_on_a_heading() -> None:
    link = re.compile(r"\]\(([^)\s]+)\)")
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target in link.findall(page.read_text()):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            name, _, anchor = target.partition("#")
            file = (page.parent / name).resolve() if name else page
            if not file.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []


def test_every_limit_and_guard_setting_is_in_the_limits_page() -> None:
    from csrules.model.project import ApplySettings, Limits, StateSettings

    page = (REPO / "docs" / "limits.md").read_text()
    missing = [
        f"{model.__name__}.{name}"
        for model in (Limits, ApplySettings, StateSettings)
        for name in model.model_fields
        if name != "url" and f"`{name}`" not in page
    ]
    assert missing == []
    for name, field in Limits.model_fields.items():
        assert f"{name} = {field.default}" in page, name  # the defaults, as written
