"""The plugin manager: built-in plugins first, then outside plugins from entry points."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import pluggy

from csrules.hooks import hookspecs

if TYPE_CHECKING:
    from csrules.delivery.connector import AnyConnector
    from csrules.expr.functions import FunctionSpec
    from csrules.snapshot.readers import Reader

DEFAULT_PLUGINS = (
    "csrules.hooks.builtin.functions",
    "csrules.hooks.builtin.connectors",
    "csrules.hooks.builtin.sources",
)


def make_plugin_manager(*, load_entrypoints: bool = True) -> pluggy.PluginManager:
    """A fresh manager with the built-in plugins and (optionally) installed ones."""
    import importlib

    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    if load_entrypoints:
        pm.load_setuptools_entrypoints(hookspecs.PROJECT_NAME)
    return pm


@functools.lru_cache(maxsize=1)
def plugin_manager() -> pluggy.PluginManager:
    """The process-wide manager (plugins are loaded once)."""
    return make_plugin_manager()


class RegistryError(Exception):
    """Two plugins registered the same name."""


def connectors(pm: pluggy.PluginManager | None = None) -> dict[str, type[AnyConnector]]:
    """Connector classes by plugin name."""
    found: dict[str, type[AnyConnector]] = {}

    def register(cls: type[AnyConnector]) -> None:
        if cls.name in found and found[cls.name] is not cls:
            raise RegistryError(f"two plugins register a connector named '{cls.name}'")
        found[cls.name] = cls

    (pm or plugin_manager()).hook.register_connectors(register=register)
    return found


def sources(pm: pluggy.PluginManager | None = None) -> dict[str, Reader]:
    """Snapshot readers by file extension (``".csv"``) or URL scheme (``"warehouse:"``)."""
    found: dict[str, Reader] = {}

    def register(name: str, reader: Reader) -> None:
        if name in found and found[name] is not reader:
            raise RegistryError(f"two plugins register a snapshot reader for '{name}'")
        found[name] = reader

    (pm or plugin_manager()).hook.register_sources(register=register)
    return found


def functions(pm: pluggy.PluginManager | None = None) -> dict[str, FunctionSpec]:
    """Extra CEL functions by name."""
    found: dict[str, FunctionSpec] = {}

    def register(spec: FunctionSpec) -> None:
        if spec.name in found and found[spec.name] is not spec:
            raise RegistryError(f"two plugins register a CEL function named '{spec.name}'")
        found[spec.name] = spec

    (pm or plugin_manager()).hook.register_functions(register=register)
    return found


def all_functions(pm: pluggy.PluginManager | None = None) -> dict[str, FunctionSpec]:
    """The CEL standard functions plus every registered extra, for the type-checker."""
    from csrules.expr.functions import standard_functions

    merged = dict(standard_functions())
    for name, spec in functions(pm).items():
        if name in merged:
            raise RegistryError(f"a plugin registers '{name}', a standard CEL function")
        merged[name] = spec
    return merged
