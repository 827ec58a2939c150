"""Connector instances for a run: ``[connectors.NAME]`` with ``${VAR}`` read from the environment.

Secrets are never written in files; ``${VAR}`` placeholders are resolved here, at run
time, and every resolved value is registered with the log redactor so it can never
appear in a log, plan, error or audit record. In log mode (``[delivery] mode``,
``$CSRULES_DELIVERY``) no instance settings are read at all: each instance is a
:class:`csrules.delivery.mode.LogStandIn`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import ValidationError

from csrules.delivery.connector import AnyConnector
from csrules.delivery.mode import LogStandIn, delivery_mode, log_file, log_settings
from csrules.errors import UsageError
from csrules.logs import get_logger
from csrules.model.project import ProjectFile
from csrules.placeholders import expand

BUILTIN_INSTANCE = "log"

log = get_logger("csrules.delivery")


def build_connectors(
    project: ProjectFile,
    classes: Mapping[str, type[AnyConnector]],
    *,
    base_dir: Path,
    environ: Mapping[str, str] | None = None,
) -> dict[str, AnyConnector]:
    """One connector object per configured instance (plus the built-in ``log``)."""
    env = os.environ if environ is None else environ
    instances: dict[str, AnyConnector] = {}
    if BUILTIN_INSTANCE in classes:
        log = classes[BUILTIN_INSTANCE]
        instances[BUILTIN_INSTANCE] = log(BUILTIN_INSTANCE, log.settings_model(), base_dir=base_dir)
    if delivery_mode(project, env) == "log":
        return instances | _stand_ins(project, classes, base_dir=base_dir)
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


def _stand_ins(
    project: ProjectFile, classes: Mapping[str, type[AnyConnector]], *, base_dir: Path
) -> dict[str, AnyConnector]:
    """Log mode: every instance written by the ``log`` connector, its settings unread.

    An instance that is itself ``plugin = "log"`` keeps its own settings (its path)."""
    log = classes.get(BUILTIN_INSTANCE)
    if log is None:
        raise UsageError("log delivery needs the built-in 'log' connector, which is not loaded")
    instances: dict[str, AnyConnector] = {}
    for name, config in project.connectors.items():
        if config.plugin == BUILTIN_INSTANCE:
            settings = log.settings_model.model_validate(config.settings)
        else:
            settings = log_settings(log, log_file(project, name))
        writer = log(name, settings, base_dir=base_dir)
        real = None if config.plugin == BUILTIN_INSTANCE else classes.get(config.plugin)
        instances[name] = LogStandIn(name, real=real, log=writer, base_dir=base_dir)
    return instances


def close_connectors(instances: Iterable[AnyConnector]) -> None:
    """Close every instance (the end of a run); one that fails to close is logged and
    never stops the others from closing, nor hides the run's own outcome."""
    for connector in instances:
        try:
            connector.close()
        except Exception as exc:  # a plugin's bug at close must not change the run's outcome
            log.warning(
                "connector.close_failed",
                connector=connector.instance,
                error=f"{type(exc).__name__}: {exc}",
            )
