"""Type-checking every CEL expression and template hole of a playbook directory.

Each expression is checked in the environment of its stage (see ``stages``), its
result type against what its key needs (a ``when`` is bool, a measure ``value`` is
numeric), and its estimated cost for one account against ``[limits] expression_cost``
(``expr.cost``). Issues are located inside the expression when the file allows it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from csrules.errors import Diagnostic, Location, Severity
from csrules.expr.ast import Node
from csrules.expr.checker import CheckResult, ExprIssue, TypeEnv, check_source, expect_type
from csrules.expr.cost import Size, Sizes, estimate, field_sizes, over_limit_message
from csrules.expr.functions import FunctionSpec
from csrules.expr.templates import check_template, checked_holes, in_template
from csrules.expr.types import BOOL, DOUBLE, INT, CelType
from csrules.load.playbook import LoadedPlaybook, Located
from csrules.model.project import Limits
from csrules.model.rules import ADKAR_ELEMENTS
from csrules.validate.literals import NameSets, literal_name_issues
from csrules.validate.stages import Stage, Vocabulary, stage_env
from csrules.validate.templates import parameter_strings, template_too_long

NUMERIC: tuple[CelType, ...] = (INT, DOUBLE)


@dataclass(frozen=True)
class ExprSite:
    """One expression or template in a rule: where it is, what it may read and return."""

    located: Located[Any]
    field: tuple[str | int, ...]
    source: str
    stage: Stage
    expect: tuple[CelType, ...] | None  # None: a template (any type renders)
    what: str
    template: bool = False
    extra: Mapping[str, CelType] | None = None

    @property
    def label(self) -> str:
        return ".".join(str(p) for p in self.field)


def _params(
    located: Located[Any], base: tuple[str | int, ...], params: Mapping[str, Any], stage: Stage
) -> Iterator[ExprSite]:
    """Every string of the parameters is a template: in lists and tables too."""
    for key, value in params.items():
        for path, text in parameter_strings(value, (*base, key)):
            yield ExprSite(located, path, text, stage, None, f"parameter '{key}'", template=True)


def expression_sites(loaded: LoadedPlaybook) -> Iterator[ExprSite]:
    """Every expression and template of the directory, in a stable order."""
    for agg in loaded.aggregates:
        if agg.item.of is not None:
            yield ExprSite(agg, ("of",), agg.item.of, Stage.AGGREGATES, NUMERIC, "of")
        if agg.item.where is not None:
            yield ExprSite(agg, ("where",), agg.item.where, Stage.AGGREGATES, (BOOL,), "where")
    if loaded.health is not None:
        for index, measure in enumerate(loaded.health.item.measure):
            base: tuple[str | int, ...] = ("measure", index)
            yield ExprSite(
                loaded.health,
                (*base, "value"),
                measure.value,
                Stage.HEALTH,
                NUMERIC,
                f"measure '{measure.id}' value",
            )
            if measure.explain is not None:
                yield ExprSite(
                    loaded.health,
                    (*base, "explain"),
                    measure.explain,
                    Stage.HEALTH,
                    None,
                    f"measure '{measure.id}' explain",
                    template=True,
                    extra={"value": DOUBLE},
                )
    for seg in loaded.segments:
        yield ExprSite(seg, ("when",), seg.item.when, Stage.SEGMENTS, (BOOL,), "when")
    for tier in loaded.tiers:
        yield ExprSite(tier, ("when",), tier.item.when, Stage.TIERS, (BOOL,), "when")
    if loaded.adkar is not None:
        for name, source in loaded.adkar.item.elements():
            yield ExprSite(loaded.adkar, (name,), source, Stage.ADKAR, (INT,), name)
    for pb in loaded.playbooks:
        yield ExprSite(pb, ("when",), pb.item.when, Stage.PLAYBOOKS, (BOOL,), "when")
        for index, action in enumerate(pb.item.action):
            yield from _params(pb, ("action", index), action.params, Stage.PLAYBOOKS)
    for esc in loaded.escalations:
        for index, step in enumerate(esc.item.step):
            yield from _params(esc, ("step", index), step.params, Stage.PLAYBOOKS)
    for silence in loaded.silences:
        yield ExprSite(silence, ("when",), silence.item.when, Stage.PLAYBOOKS, (BOOL,), "when")
    for invariant in loaded.invariants:
        yield ExprSite(
            invariant, ("expect",), invariant.item.expect, Stage.PLAYBOOKS, (BOOL,), "expect"
        )


def _subject_field(site: ExprSite) -> str:
    parts: list[str] = []
    for part in site.field:
        if isinstance(part, int) and parts:
            parts[-1] = f"{parts[-1]} {part + 1}"
        else:
            parts.append(str(part))
    return ": ".join(parts)


def _diagnostic(site: ExprSite, issue: ExprIssue, *, in_template: bool = False) -> Diagnostic:
    path = (*site.located.path, *site.field)
    location: Location = site.located.doc.inner_location(path, issue.line, issue.column)
    severity = Severity.WARNING if issue.severity == "warning" else Severity.ERROR
    return Diagnostic(
        issue.message,
        location,
        severity=severity,
        kind=site.located.kind,
        rule_id=site.located.id,
        field=_subject_field(site),
        code="template" if in_template else "cel",
    )


class ExpressionChecker:
    """Checks sites against per-stage environments, built once per (stage, template)."""

    def __init__(
        self, loaded: LoadedPlaybook, vocabulary: Vocabulary, functions: Mapping[str, FunctionSpec]
    ) -> None:
        self.loaded = loaded
        self.vocabulary = vocabulary
        self.functions = functions
        self.names = NameSets.of(loaded)
        self.sizes, self.cost_limit = cost_settings(loaded, vocabulary)

    def env(self, site: ExprSite) -> TypeEnv:
        reader = (
            f"{site.located.kind} {site.what}"
            if site.located.kind in ("health", "adkar")
            else f"a {site.located.kind}'s {site.what}"
        )
        return stage_env(
            self.vocabulary,
            self.functions,
            site.stage,
            reader=reader,
            template=site.template,
            extra=site.extra,
        )

    def cost_issue(self, result: CheckResult, source: str) -> ExprIssue | None:
        """An error when the expression's estimated cost is over ``[limits] expression_cost``."""
        if not result.ok or result.node is None:
            return None
        found = estimate(result.node, result.types, self.sizes)
        if found.cost <= self.cost_limit:
            return None

        def text(node: Node) -> str:
            return node.source_text(source)

        message = over_limit_message(found, self.cost_limit, text)
        at: Node = found.walk.node if found.walk is not None else result.node
        return ExprIssue(message, at.line, at.column, at.start, at.end)

    def check(self, site: ExprSite) -> list[Diagnostic]:
        if site.template and self.loaded.project is not None:
            too_long = template_too_long(
                site.source,
                self.loaded.project.limits.template_length,
                site.located.location(*site.field),
                kind=site.located.kind,
                rule_id=site.located.id,
                field=_subject_field(site),
            )
            if too_long is not None:
                return [too_long]
        env = self.env(site)
        if site.template:
            issues = list(check_template(site.source, env))
            for hole, checked in checked_holes(site.source, env):
                costly = self.cost_issue(checked, hole.source)
                if costly is not None:
                    issues.append(in_template(site.source, hole, costly))
            return [_diagnostic(site, issue, in_template=True) for issue in issues]
        result = check_source(site.source, env)
        found = [_diagnostic(site, issue) for issue in result.issues]
        costly = self.cost_issue(result, site.source)
        if costly is not None:
            found.append(_diagnostic(site, costly))
        if result.ok and site.expect is not None:
            wrong = expect_type(result, site.expect, site.what)
            if wrong is not None and site.stage is Stage.ADKAR and result.type == DOUBLE:
                hint = "; ADKAR scores are whole numbers from 1 to 5: wrap it in int(...)"
                wrong = replace(wrong, message=wrong.message + hint)
            if wrong is not None:
                found.append(_diagnostic(site, wrong))
        if result.ok and result.node is not None:
            for issue in literal_name_issues(result.node, self.names):
                found.append(_diagnostic(site, issue))
        return found


def cost_settings(loaded: LoadedPlaybook, vocabulary: Vocabulary) -> tuple[Sizes, int]:
    """The sizes the cost estimate assumes, and ``[limits] expression_cost``."""
    limits = loaded.project.limits if loaded.project is not None else Limits()
    known = field_sizes(vocabulary.fields, limits.list_size)
    segments = len(loaded.segments)
    known["segments"] = Size(segments, f"the {segments} segments of the playbook directory")
    known["adkar.unknown"] = Size(len(ADKAR_ELEMENTS), "the five ADKAR elements")
    measures = len(vocabulary.measures)
    known["health.drivers"] = Size(measures, f"the {measures} measures of [health]")
    return Sizes(known, limits.list_size), limits.expression_cost


def check_expressions(
    loaded: LoadedPlaybook, vocabulary: Vocabulary, functions: Mapping[str, FunctionSpec]
) -> list[Diagnostic]:
    checker = ExpressionChecker(loaded, vocabulary, functions)
    found: list[Diagnostic] = []
    for site in expression_sites(loaded):
        found.extend(checker.check(site))
    return found
