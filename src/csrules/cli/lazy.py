"""A command group that imports each command's module only when that command runs.

Importing every command up front costs the whole library (Polars, cel-python, pydantic
models, the store) before anything happens: ``csrules --version`` used to take well
over a second. The group knows its built-in commands by name and module; plugins'
commands (``register_commands``) are loaded the first time a name is not a built-in
or the list of commands is asked for (``--help``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

import click


class LazyGroup(click.Group):
    """``click.Group`` whose built-in commands are ``"module:attribute"`` references."""

    def __init__(
        self,
        *args: Any,
        lazy_commands: Mapping[str, str] | None = None,
        load_plugins: Callable[[click.Group], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})
        self.load_plugins = load_plugins
        self._plugins_loaded = False

    def plugins(self) -> None:
        """Let plugins add their commands (once)."""
        if not self._plugins_loaded and self.load_plugins is not None:
            self._plugins_loaded = True
            self.load_plugins(self)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.plugins()
        return sorted({*self.lazy_commands, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = self.lazy_commands.get(cmd_name)
        if target is None:
            self.plugins()
            return super().get_command(ctx, cmd_name)
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):  # pragma: no cover - a wiring mistake
            raise TypeError(f"{target} is not a click command")
        self.commands[cmd_name] = command
        return command
