"""From a playbook directory to a compiled playbook: validate, then compile.

This sits above ``engine`` on purpose: validation needs the plugin manager and the
connector catalogue, which the pure engine must never import (the import layers of
docs/architecture.md). Commands and tests call :func:`compile_playbook`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pluggy

from csrules.engine.compiled import CompiledPlaybook, compile_loaded
from csrules.errors import PlaybookError
from csrules.hooks import manager
from csrules.validate import validate_playbook


def compile_playbook(
    root: Path, *, now: datetime | None = None, pm: pluggy.PluginManager | None = None
) -> CompiledPlaybook:
    """Validate and compile ``root``; a :class:`PlaybookError` lists what to fix first."""
    plugins = pm or manager.plugin_manager()
    report = validate_playbook(root, now=now, pm=plugins)
    if not report.ok:
        errors = report.diagnostics.errors
        raise PlaybookError(
            f"the playbook directory has {len(errors)} error(s); "
            "run 'csrules validate' and fix them first",
            errors,
        )
    return compile_loaded(report.loaded, manager.all_functions(plugins))
