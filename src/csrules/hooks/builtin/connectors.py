"""The built-in ``log`` connector: every action as one JSON line, no credentials needed.

It lets a new playbook directory run end to end before any real connector is
configured, and gives tests and dry runs a faithful record of what would be sent.
It takes ``text`` (required) and any further string parameters, all templates.
"""

from __future__ import annotations

import errno
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import BaseModel, ConfigDict, Field

from csrules.delivery.connector import AnyConnector, Connector, DeliveryResult, OutgoingAction
from csrules.hooks.hookspecs import hookimpl


class LogSettings(BaseModel):
    """``[connectors.NAME] plugin = "log"``: ``path`` appends to a file, else stdout."""

    model_config = ConfigDict(extra="forbid", strict=True)

    path: str | None = Field(
        default=None, description="JSON Lines file to append to (relative to the playbooks)."
    )


class LogParams(BaseModel):
    """Action parameters: ``text`` and any further string parameters."""

    model_config = ConfigDict(extra="allow", strict=True)

    # Further parameters are free, but each must be a string (a template).
    __pydantic_extra__: dict[str, str] = Field(init=False)

    text: str = Field(description="The message (a template).")


class LogConnector(Connector[LogSettings]):
    """Writes one JSON line per delivered action (the ``plan`` action shape)."""

    name = "log"
    settings_model = LogSettings
    params_model = LogParams
    description = "Writes each action as a JSON line to stdout or a file."
    #: every line carries the action id: a reader keeps the first line of each id
    idempotent = True

    _out: BinaryIO | None = None  # the file, opened at the first delivery of a run

    def deliver(self, action: OutgoingAction) -> DeliveryResult:
        line = json.dumps(action.to_json(), sort_keys=True, default=str) + "\n"
        path_setting: Any = getattr(self.settings, "path", None)
        try:
            if path_setting:
                self._append(path_setting, line.encode("utf-8"))
            else:
                sys.stdout.write(line)
                sys.stdout.flush()
        except OSError as exc:
            self.close()  # opened again by the next delivery
            return DeliveryResult(status="retry", detail=f"could not write: {exc.strerror}")
        return DeliveryResult(status="sent")

    def _append(self, path_setting: str, data: bytes) -> None:
        """Write ``data`` to the end of the file, unbuffered: the line is in the file
        before the delivery is recorded. The file stays open for the run's next line."""
        if self._out is None:
            path = Path(path_setting)
            if not path.is_absolute():
                path = self.base_dir / path
            path.parent.mkdir(parents=True, exist_ok=True)
            self._out = path.open("ab", buffering=0)
        view = memoryview(data)
        while view:
            written = self._out.write(view)
            if not written:
                raise OSError(errno.EIO, "the file took none of the line")
            view = view[written:]

    def close(self) -> None:
        if self._out is not None:
            out, self._out = self._out, None
            out.close()


@hookimpl
def register_connectors(register: Callable[[type[AnyConnector]], None]) -> None:
    register(LogConnector)
