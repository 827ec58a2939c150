"""The whole of ``csrules validate`` as one library call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pluggy

from csrules.errors import Diagnostic, DiagnosticList
from csrules.hooks import manager
from csrules.load.loader import load_playbook
from csrules.load.playbook import LoadedPlaybook
from csrules.validate.expressions import check_expressions
from csrules.validate.lints import run_lints
from csrules.validate.references import check_references
from csrules.validate.report_fields import check_report_fields
from csrules.validate.stages import Vocabulary
from csrules.validate.testrefs import check_test_references


@dataclass
class ValidationReport:
    """What ``validate`` found; ``ok`` is true when there is no error (warnings allowed)."""

    loaded: LoadedPlaybook
    diagnostics: DiagnosticList

    @property
    def ok(self) -> bool:
        return not self.diagnostics.errors


def _with_declared(modelled: list[str], loaded: LoadedPlaybook, kind: str) -> tuple[str, ...]:
    """The modelled names, then those of rules that failed to model (so an expression
    reading ``portfolio.<broken aggregate>`` is not also an unknown name)."""
    extra = sorted(loaded.declared.get(kind, set()) - set(modelled))
    return (*modelled, *extra)


def vocabulary_of(loaded: LoadedPlaybook) -> Vocabulary | None:
    """The names that shape CEL variables; ``None`` when ``csrules.toml`` is unusable."""
    if loaded.project is None:
        return None
    measures = [m.id for m in loaded.health.item.measure] if loaded.health else []
    fields = loaded.project.snapshot.fields
    return Vocabulary(
        fields=fields,
        aggregates=_with_declared([a.item.id for a in loaded.aggregates], loaded, "aggregate"),
        measures=_with_declared(measures, loaded, "measure"),
        broken_fields=tuple(sorted(loaded.declared.get("field", set()) - set(fields))),
    )


def validate_playbook(
    root: Path,
    *,
    now: datetime | None = None,
    pm: pluggy.PluginManager | None = None,
) -> ValidationReport:
    """Load ``root`` and run every check; never raises for bad input."""
    clock = now or datetime.now(UTC)
    loaded = load_playbook(root)
    diagnostics = DiagnosticList(list(loaded.diagnostics.items))
    plugins = pm or manager.plugin_manager()
    found: list[Diagnostic] = []
    vocabulary = vocabulary_of(loaded)
    if vocabulary is not None:
        found.extend(check_expressions(loaded, vocabulary, manager.all_functions(plugins)))
    found.extend(check_references(loaded, manager.connectors(plugins)))
    found.extend(check_report_fields(loaded))
    found.extend(run_lints(loaded, clock))
    found.extend(check_test_references(loaded))
    diagnostics.extend(found)
    return ValidationReport(loaded=loaded, diagnostics=diagnostics)
