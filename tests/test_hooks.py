"""Plugins: built-ins go through the hooks, and an outside plugin is honoured by validate."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pluggy
from pydantic import BaseModel, ConfigDict

from csrules.delivery.connector import Connector, DeliveryResult, OutgoingAction
from csrules.expr.functions import FunctionSpec, Overload
from csrules.expr.types import DOUBLE
from csrules.hooks import manager
from csrules.hooks.hookspecs import hookimpl
from csrules.validate import validate_playbook
from tests.conftest import run_cli


def test_builtins_are_registered_through_hooks() -> None:
    pm = manager.make_plugin_manager(load_entrypoints=False)
    assert set(manager.functions(pm)) == {"days", "days_since", "days_until", "clamp"}
    assert set(manager.connectors(pm)) == {"log"}
    names = {pm.get_name(p) for p in pm.get_plugins()}
    assert set(manager.DEFAULT_PLUGINS) <= names


class TeamsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    webhook: str


class TeamsConnector(Connector):
    name = "teams"
    params_model = TeamsParams

    def deliver(self, action: OutgoingAction) -> DeliveryResult:
        return DeliveryResult(status="sent")


class OutsidePlugin:
    @hookimpl
    def register_functions(self, register: Callable[[FunctionSpec], None]) -> None:
        register(
            FunctionSpec(
                "pct", (Overload((DOUBLE, DOUBLE), DOUBLE),), impl=lambda a, b: 100.0 * a / b
            )
        )

    @hookimpl
    def register_connectors(self, register: Callable[[type[Connector]], None]) -> None:
        register(TeamsConnector)


def _with_outside_plugin() -> pluggy.PluginManager:
    pm = manager.make_plugin_manager(load_entrypoints=False)
    pm.register(OutsidePlugin(), name="outside")
    return pm


def test_outside_function_and_connector_are_checked(tmp_path: Path) -> None:
    run_cli("init", str(tmp_path / "x"))
    root = tmp_path / "x"
    (root / "csrules.toml").write_text(
        (root / "csrules.toml").read_text() + '\n[connectors.msteams]\nplugin = "teams"\n',
        encoding="utf-8",
    )
    (root / "more.toml").write_text(
        '[[segment]]\nid = "busy"\nwhen = "pct(double(account.active_users_30d), double(account.seats)) > 50.0"\n'
        '[[playbook]]\nid = "hello"\nwhen = "false"\n[[playbook.action]]\nconnector = "msteams"\ntext = "hi"\nwebhok = "x"\n',
        encoding="utf-8",
    )
    without = validate_playbook(root, pm=manager.make_plugin_manager(load_entrypoints=False))
    assert any("pct" in d.message for d in without.diagnostics.errors)
    report = validate_playbook(root, pm=_with_outside_plugin())
    messages = [d.render() for d in report.diagnostics.errors]
    assert not any("pct" in m for m in messages), messages
    assert any("unknown parameter 'webhok'" in m for m in messages), messages
    assert any("missing required parameter 'webhook'" in m for m in messages), messages


def test_register_commands_adds_a_command() -> None:
    import click

    from csrules.cli import main as cli_main

    class CommandPlugin:
        @hookimpl
        def register_commands(self, cli: click.Group) -> None:
            @cli.command("hello")
            def hello() -> None:
                click.echo("hello from a plugin")

    pm = manager.plugin_manager()
    plugin = CommandPlugin()
    pm.register(plugin, name="command-plugin")
    try:
        group = cli_main.build_cli()
        from click.testing import CliRunner

        assert CliRunner().invoke(group, ["hello"]).output == "hello from a plugin\n"
    finally:
        pm.unregister(plugin)
        cli_main.cli.commands.pop("hello", None)


def test_builtin_functions_compute_days() -> None:
    from datetime import UTC, datetime

    from csrules.hooks.builtin import functions as f

    now = datetime(2026, 3, 1, tzinfo=UTC)
    assert f.days_since(now, datetime(2026, 2, 27, 12, tzinfo=UTC)) == 1.5
    assert f.days_until(now, datetime(2026, 3, 11, tzinfo=UTC)) == 10.0
    assert f.clamp(5, 0, 3) == 3.0 and isinstance(f.clamp(5, 0, 3), float)
    assert f.days(2).total_seconds() == 172800.0
    assert f.days(0.5).total_seconds() == 43200.0
