"""``csrules doctor``: each configured connector instance checked live, nothing delivered.

A misconfigured connector is otherwise found by the first run that needs it, often
at night. The doctor builds every ``[connectors.NAME]`` instance exactly as ``apply``
does for live delivery (``${VAR}`` read from the environment, settings validated;
``[delivery] mode = "log"`` does not apply: the live setup is what is checked), calls its
:meth:`~csrules.delivery.connector.Connector.check` and closes it. An instance that
cannot even be built (a variable not set, a setting refused) is reported as failed
with that reason; a check that raises is a failed check, never a crash. Every detail
goes through the redactor, so a secret read for the check never shows.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from csrules.delivery.connector import AnyConnector, CheckResult
from csrules.delivery.instances import build_connectors, close_connectors
from csrules.delivery.mode import MODE_VARIABLE
from csrules.errors import UsageError
from csrules.logs import redact_text
from csrules.model.project import ProjectFile


@dataclass
class InstanceReport:
    """What the doctor found for one ``[connectors.NAME]``."""

    instance: str
    plugin: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "instance": self.instance,
            "plugin": self.plugin,
            "ok": self.ok,
            "checks": [
                {"what": c.what, "status": c.status, "detail": c.detail} for c in self.checks
            ],
        }


def check_connectors(
    project: ProjectFile,
    classes: Mapping[str, type[AnyConnector]],
    *,
    base_dir: Path,
    environ: Mapping[str, str] | None = None,
    only: Collection[str] = (),
) -> list[InstanceReport]:
    """One report per configured instance (those named in ``only``, when given)."""
    # the real instances, whatever [delivery] mode says: the doctor is for the live setup
    env = {**(os.environ if environ is None else environ), MODE_VARIABLE: "live"}
    reports: list[InstanceReport] = []
    for name, config in project.connectors.items():
        if only and name not in only:
            continue
        report = InstanceReport(name, config.plugin)
        reports.append(report)
        single = project.model_copy(update={"connectors": {name: config}})
        try:
            built = build_connectors(single, classes, base_dir=base_dir, environ=env)
        except UsageError as exc:
            report.checks.append(CheckResult("settings", "failed", redact_text(exc.message)))
            continue
        connector = built[name]
        try:
            report.checks.extend(_checked(connector))
        finally:
            close_connectors(built.values())
    return reports


def _checked(connector: AnyConnector) -> list[CheckResult]:
    try:
        found = list(connector.check())
    except Exception as exc:  # a plugin's bug is a failed check, not a crash
        found = [CheckResult("check", "failed", f"the check raised {type(exc).__name__}: {exc}")]
    if not found:
        found = [CheckResult("check", "skipped", "the connector reported nothing")]
    return [CheckResult(c.what, c.status, redact_text(c.detail)) for c in found]
