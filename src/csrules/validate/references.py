"""Cross-references between rules: escalation ids, connector instances and their params.

A reference that points nowhere would only fail at 3 a.m. in the scheduled run; here
it fails in the pull request, with the place and the closest existing name.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from csrules.delivery.connector import AnyConnector
from csrules.delivery.mode import MODE_VARIABLE, delivery_mode
from csrules.errors import Diagnostic, Location, Severity
from csrules.load.playbook import LoadedPlaybook, Located
from csrules.load.pydantic_errors import expected_text, toml_type_name
from csrules.logs import redact_text
from csrules.placeholders import expand

BUILTIN_INSTANCE = "log"
_PLACEHOLDER = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")
# settings types a ${VAR} (always text, strictly checked) can never fill
_NOT_TEXT = {
    "int_type": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
}


def did_you_mean(name: str, known: list[str] | tuple[str, ...] | Any) -> str:
    """`` (did you mean 'x'?)`` or the list of known names, for messages."""
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'?)"
    if not names:
        return " (none is defined)"
    shown = ", ".join(f"'{n}'" for n in names[:8])
    more = ", ..." if len(names) > 8 else ""
    return f" (defined: {shown}{more})"


def _escalations(loaded: LoadedPlaybook) -> list[Diagnostic]:
    known = loaded.known("escalation")
    if known is None:
        return []  # a rule file could not be read: its policies are unknown
    found: list[Diagnostic] = []
    referrers: list[Located[Any]] = [*loaded.tiers, *loaded.playbooks]
    for located in referrers:
        ref = located.item.escalation
        if ref is not None and ref not in known:
            found.append(
                Diagnostic(
                    f"unknown escalation policy '{ref}'{did_you_mean(ref, known)}; "
                    "define it with [[escalation]] or fix the name",
                    located.location("escalation"),
                    kind=located.kind,
                    rule_id=located.id,
                    field="escalation",
                    code="reference",
                )
            )
    return found


def _silences(loaded: LoadedPlaybook) -> list[Diagnostic]:
    known = loaded.known("playbook")
    if known is None:
        return []
    found: list[Diagnostic] = []
    for silence in loaded.silences:
        for index, name in enumerate(silence.item.playbooks):
            if name != "*" and name not in known:
                found.append(
                    Diagnostic(
                        f"unknown playbook '{name}'{did_you_mean(name, known)}; "
                        'name a [[playbook]] id, or "*" for all',
                        silence.location("playbooks", index),
                        kind="silence",
                        rule_id=silence.id,
                        field="playbooks",
                        code="reference",
                    )
                )
    return found


def _error_text(error: Any, noun: str = "parameter") -> tuple[str, str]:
    """``(key, message)`` for one pydantic error of a connector's params or settings model."""
    key = ".".join(str(p) for p in error["loc"])
    if error["type"] == "missing":
        return key, f"missing required {noun} '{key}'"
    if error["type"] == "extra_forbidden":
        return key, f"unknown {noun} '{key}'"
    if error["type"] == "value_error":
        return key, str(error.get("ctx", {}).get("error", error["msg"]))
    expected = expected_text(error)
    if expected is not None:
        return key, f"{noun} '{key}' {expected}"
    msg = error["msg"]
    value = error.get("input")
    return key, f"{noun} '{key}': {msg[0].lower()}{msg[1:]} (got {toml_type_name(value)})"


def _not_installed(
    name: str,
    plugin: str,
    classes: Mapping[str, type[AnyConnector]],
    where: Location | None,
    logging_only: bool,
) -> Diagnostic:
    """A ``[connectors.NAME]`` whose plugin is not installed: an error in live mode; in log
    mode a warning (its actions only go to the log), saying its parameters go unchecked."""
    if logging_only:
        return Diagnostic(
            f"connector plugin '{plugin}' is not installed{did_you_mean(plugin, classes)}: "
            "delivery is in log mode, so its actions only go to the log, but their parameters "
            f"are not checked; install its package (e.g. pip install csrules-{plugin}) to check "
            f"them (live delivery, [delivery] mode = 'live' or {MODE_VARIABLE}=live, needs it)",
            where,
            severity=Severity.WARNING,
            kind="connector",
            rule_id=name,
            field="plugin",
            code="reference",
        )
    return Diagnostic(
        f"connector plugin '{plugin}' is not installed"
        f"{did_you_mean(plugin, classes)}; install its package "
        "(e.g. pip install csrules-<name>) or fix the name",
        where,
        kind="connector",
        rule_id=name,
        field="plugin",
        code="reference",
    )


def _resolved_from_environment(settings: dict[str, Any]) -> dict[str, Any] | None:
    """``settings`` with each ``${VAR}`` replaced from this process's environment, when
    it has placeholders and every one of them is set; else ``None`` (nothing to judge).
    The values read are registered with the redactor, like a run's."""
    names = set(_PLACEHOLDER.findall(repr(settings)))
    if not names:
        return None
    wanted = {n[2:-1] for n in names}
    if not wanted <= set(os.environ):
        return None
    return dict(expand(settings, os.environ, where="settings"))


class ConnectorCatalog:
    """The configured connector instances, resolved to installed connector classes."""

    def __init__(self, loaded: LoadedPlaybook, classes: Mapping[str, type[AnyConnector]]) -> None:
        self.loaded = loaded
        self.classes = classes
        self.instances: dict[str, type[AnyConnector]] = {}
        self.diagnostics: list[Diagnostic] = []
        if BUILTIN_INSTANCE in classes:
            self.instances[BUILTIN_INSTANCE] = classes[BUILTIN_INSTANCE]
        project, doc = loaded.project, loaded.project_doc
        # Without a valid csrules.toml the instances are unknown: report that file's
        # errors only, not one "unknown connector" per action.
        self.known = project is not None and doc is not None
        if project is None or doc is None:
            return
        logging_only = delivery_mode(project) == "log"
        for name, instance in project.connectors.items():
            path: tuple[str | int, ...] = ("connectors", name)
            cls = classes.get(instance.plugin)
            if cls is None:
                where = doc.location((*path, "plugin"))
                self.diagnostics.append(
                    _not_installed(name, instance.plugin, classes, where, logging_only)
                )
                continue
            self.instances[name] = cls
            self._check_settings(name, cls, instance.settings, doc.location(path), path)
        for name, digest in project.delivery.digest.items():
            if digest.connector != BUILTIN_INSTANCE and digest.connector not in project.connectors:
                self.diagnostics.append(
                    Diagnostic(
                        f"connector: unknown connector '{digest.connector}'"
                        f"{did_you_mean(digest.connector, project.connectors)}; a digest groups "
                        "the actions of a [connectors.NAME] instance",
                        doc.location(("delivery", "digest", name, "connector")),
                        kind="digest",
                        rule_id=name,
                        code="reference",
                    )
                )

    def broken(self, name: str) -> bool:
        """A ``[connectors.NAME]`` that is written but unusable (its error is reported)."""
        declared = self.loaded.known("connector")
        return declared is None or name in declared

    def _check_settings(
        self,
        name: str,
        cls: type[AnyConnector],
        settings: dict[str, Any],
        where: Location,
        path: tuple[str | int, ...],
    ) -> None:
        doc = self.loaded.project_doc
        assert doc is not None
        try:
            cls.settings_model.model_validate(settings)
        except ValidationError as exc:
            self._report_settings(name, cls, exc, where, path)
            return
        resolved = _resolved_from_environment(settings)
        if resolved is None:
            return
        try:
            cls.settings_model.model_validate(resolved)
        except ValidationError as exc:
            self._report_settings(name, cls, exc, where, path, resolved=True)

    def _report_settings(
        self,
        name: str,
        cls: type[AnyConnector],
        exc: ValidationError,
        where: Location,
        path: tuple[str | int, ...],
        *,
        resolved: bool = False,
    ) -> None:
        doc = self.loaded.project_doc
        assert doc is not None
        for error in exc.errors(include_url=False):
            value = error.get("input")
            key, text = _error_text(error, noun="setting")
            if resolved:
                # the value came from the environment: never shown, only judged
                key = ".".join(str(p) for p in error["loc"])
                raw = error.get("ctx", {}).get("error")
                text = str(raw) if raw is not None else error["msg"]
                text = redact_text(f"with the values of its ${{VAR}} variables now set: {text}")
            elif isinstance(value, str) and _PLACEHOLDER.search(value):
                if error["type"] not in _NOT_TEXT:
                    continue  # resolved from the environment at run time
                text = (
                    f"setting '{key}' {_NOT_TEXT[error['type']]}, but '{value}' is replaced "
                    "by text from the environment; ${VAR} only fills text settings: write "
                    "the value itself in the file"
                )
            loc = doc.location((*path, key.split(".")[0])) if key else where
            self.diagnostics.append(
                Diagnostic(
                    f"{text}; see the settings of the '{cls.name}' connector",
                    loc,
                    kind="connector",
                    rule_id=name,
                    field=key or None,
                    code="connector",
                )
            )

    def check_action(
        self,
        located: Located[Any],
        base: tuple[str | int, ...],
        connector: str,
        params: dict[str, Any],
    ) -> list[Diagnostic]:
        field = f"{base[0]} {int(base[1]) + 1}"
        cls = self.instances.get(connector)
        if cls is None and (not self.known or self.broken(connector)):
            return []  # the instance's own problem is reported in csrules.toml
        if cls is None:
            return [
                Diagnostic(
                    f"unknown connector '{connector}'{did_you_mean(connector, self.instances)}; "
                    f"configure it as [connectors.{connector}] in csrules.toml",
                    located.location(*base, "connector"),
                    kind=located.kind,
                    rule_id=located.id,
                    field=f"{field}: connector",
                    code="reference",
                )
            ]
        try:
            cls.params_model.model_validate(params)
        except ValidationError as exc:
            found: list[Diagnostic] = []
            for error in exc.errors(include_url=False):
                key, text = _error_text(error)
                top = key.split(".")[0]
                where = (
                    located.key_location(*base, top) if top in params else located.location(*base)
                )
                found.append(
                    Diagnostic(
                        f"{text} for connector '{connector}' (plugin '{cls.name}')",
                        where,
                        kind=located.kind,
                        rule_id=located.id,
                        field=field,
                        code="connector",
                    )
                )
            return found
        return []


def _actions(loaded: LoadedPlaybook, catalog: ConnectorCatalog) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for pb in loaded.playbooks:
        for index, action in enumerate(pb.item.action):
            found.extend(
                catalog.check_action(pb, ("action", index), action.connector, action.params)
            )
    for esc in loaded.escalations:
        for index, step in enumerate(esc.item.step):
            found.extend(catalog.check_action(esc, ("step", index), step.connector, step.params))
    return found


def check_references(
    loaded: LoadedPlaybook, connectors: Mapping[str, type[AnyConnector]]
) -> list[Diagnostic]:
    catalog = ConnectorCatalog(loaded, connectors)
    return [
        *catalog.diagnostics,
        *_escalations(loaded),
        *_silences(loaded),
        *_actions(loaded, catalog),
    ]
