"""Live or log delivery: which one a command runs with, and the log stand-in connector.

``[delivery] mode`` in ``csrules.toml`` says whether a run delivers through each
instance's plugin (``live``) or only writes its actions as JSON lines (``log``); the
``CSRULES_DELIVERY`` environment variable overrides it for one command, so a CI job or
a laptop runs the production playbooks without credentials and without a hand edit.

In log mode each instance is served by a :class:`LogStandIn`: it checks an action's
parameters with the real plugin's model when that plugin is installed (so a broken
action fails the same way it would in production) and then writes it with the built-in
``log`` connector. No setting of the real instance is read, so no ``${VAR}`` is needed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel

from csrules.delivery.connector import (
    AnyConnector,
    Connector,
    DeliveryResult,
    NoSettings,
    OutgoingAction,
    parse_params,
)
from csrules.errors import UsageError
from csrules.model.project import DeliveryMode, ProjectFile

#: the environment variable that overrides ``[delivery] mode``
MODE_VARIABLE = "CSRULES_DELIVERY"
MODES: tuple[DeliveryMode, ...] = ("live", "log")


def delivery_mode(project: ProjectFile, environ: Mapping[str, str] | None = None) -> DeliveryMode:
    """``$CSRULES_DELIVERY`` when set, else ``[delivery] mode``; a bad value is a usage error."""
    env = os.environ if environ is None else environ
    chosen = env.get(MODE_VARIABLE, "").strip()
    if not chosen:
        return project.delivery.mode
    for mode in MODES:
        if chosen.lower() == mode:
            return mode
    raise UsageError(
        f"{MODE_VARIABLE}={chosen!r} is not a delivery mode: set it to 'live' (deliver "
        "through the connector plugins) or 'log' (write actions as JSON lines), or unset it "
        "to use [delivery] mode of csrules.toml"
    )


def log_file(project: ProjectFile, instance: str) -> str | None:
    """The log mode file of one instance (``{instance}`` filled in), or None: stdout."""
    pattern = project.delivery.log_path
    return None if pattern is None else pattern.replace("{instance}", instance)


class LogStandIn(Connector[NoSettings]):
    """Serves an instance in log mode: the real plugin's parameter check, then the log.

    ``real`` is the instance's plugin class, or None when it is not installed (the
    parameters then go to the log unchecked; ``validate`` warns about it).
    """

    name = "log-stand-in"
    settings_model = NoSettings
    params_model = NoSettings
    #: log mode writes JSON lines carrying the action id (see the ``log`` connector)
    idempotent = True

    def __init__(
        self,
        instance: str,
        *,
        real: type[AnyConnector] | None,
        log: AnyConnector,
        base_dir: Path | None = None,
    ) -> None:
        super().__init__(instance, NoSettings(), base_dir=base_dir)
        self.real = real
        self.log = log

    def deliver(self, action: OutgoingAction) -> DeliveryResult:
        if self.real is not None:
            checked = parse_params(self.real.params_model, action)
            if isinstance(checked, DeliveryResult):
                return checked
        return self.log.deliver(action)

    def close(self) -> None:
        self.log.close()


def log_settings(log_class: type[AnyConnector], path: str | None) -> BaseModel:
    """The built-in ``log`` connector's settings for one stand-in."""
    return log_class.settings_model.model_validate({} if path is None else {"path": path})
