"""Hook specifications: every extension point of csrules.

Hooks follow the ``register_*(register)`` style: csrules calls the hook with a
``register`` callable and the plugin calls it once per thing it provides. Built-in
features are registered through these same hooks (see ``csrules.hooks.builtin``),
exactly like outside plugins, so the hooks are exercised by the core itself.

Outside plugins are found through the ``csrules`` entry point group::

    [project.entry-points.csrules]
    myplugin = "csrules_myplugin"
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from csrules.delivery.connector import AnyConnector
    from csrules.expr.functions import FunctionSpec

PROJECT_NAME = "csrules"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_connectors(register: Callable[[type[AnyConnector]], None]) -> None:
    """Register connector classes.

    Call ``register(ConnectorClass)`` for each :class:`csrules.delivery.connector.Connector`
    subclass the plugin provides. ``ConnectorClass.name`` is what a
    ``[connectors.NAME]`` table of ``csrules.toml`` selects with ``plugin = "..."``;
    its ``settings_model`` and ``params_model`` are checked by ``csrules validate``.
    """


@hookspec
def register_sources(register: Callable[[str, Any], None]) -> None:
    """Register snapshot readers.

    Call ``register(name, reader)`` where ``name`` is a file extension such as
    ``".jsonl"`` or a URL scheme such as ``"warehouse:"``, and ``reader`` reads a
    snapshot into an account batch (see ``csrules.snapshot``).
    """


@hookspec
def register_functions(register: Callable[[FunctionSpec], None]) -> None:
    """Register extra CEL functions.

    Call ``register(FunctionSpec(...))`` with the function's overloads (argument and
    result types, used by the type-checker of ``csrules validate``) and its
    implementation. ``days``, ``days_since``, ``days_until`` and ``clamp`` are
    registered this way by the built-in plugin.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``csrules`` command line.

    Call ``cli.add_command(command)`` or decorate functions with ``@cli.command()``.
    """
