"""Connector instances for a run: ``[connectors.NAME]`` with ``${VAR}`` read from the environment.

Secrets are never written in files; ``${VAR}`` placeholders are resolved here, at run
time, and every resolved value is registered with the log redactor so it can never
appear in a log, plan, error or audit record.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from csrules.delivery.connector import Connector
from csrules.errors import UsageError
from csrules.logs import register_secret
from csrules.model.project import ProjectFile

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
BUILTIN_INSTANCE = "log"


def expand(value: Any, environ: Mapping[str, str], *, where: str) -> Any:
    """Replace ``${VAR}`` in strings (recursively); a missing variable is a usage error."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ:
                raise UsageError(
                    f"{where}: environment variable {name} is not set; export it before running"
                )
            secret = environ[name]
            register_secret(secret)
            return secret

        return PLACEHOLDER.sub(substitute, value)
    if isinstance(value, list):
        return [expand(v, environ, where=where) for v in value]
    if isinstance(value, dict):
        return {k: expand(v, environ, where=where) for k, v in value.items()}
    return value


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
