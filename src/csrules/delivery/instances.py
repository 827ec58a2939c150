"""Connector instances for a run: ``[connectors.NAME]`` with ``${VAR}`` read from the environment.

Secrets are never written in files; ``${VAR}`` placeholders are resolved here, at run
time, and every resolved value is registered with the log redactor so it can never
appear in a log, plan, error or audit record.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from csrules.delivery.connector import Connector
from csrules.errors import UsageError
from csrules.model.project import ProjectFile
from csrules.placeholders import expand

BUILTIN_INSTANCE = "log"


def build_connectors(
    project: ProjectFile,
    classes: Mapping[str, type[Connector]],
    *,
    base_dir: Path,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Connector]:
    """One connector object per configured instance (plus the built-in ``log``)."""
    env = os.environ if environ is None else environ
    instances: dict[str, Connector] = {}
    if BUILTIN_INSTANCE in classes:
        log = classes[BUILTIN_INSTANCE]
        instances[BUILTIN_INSTANCE] = log(BUILTIN_INSTANCE, log.settings_model(), base_dir=base_dir)
    for name, config in project.connectors.items():
        cls = classes.get(config.plugin)
        if cls is None:
            raise UsageError(
                f"[connectors.{name}]: connector plugin '{config.plugin}' is not installed"
            )
        settings = expand(config.settings, env, where=f"[connectors.{name}]")
        try:
            model = cls.settings_model.model_validate(settings)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            field = ".".join(str(p) for p in first["loc"])
            raise UsageError(f"[connectors.{name}]: {field}: {first['msg']}") from None
        instances[name] = cls(name, model, base_dir=base_dir)
    return instances
