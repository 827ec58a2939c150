"""Canonical content of every rule of a loaded playbook directory, by meaning.

A rule is identified by its kind and id (``tier:pooled``), never by where it is
written. Its **facts** are every key of the modelled rule, flattened to a path
(``when``, ``action[0].text``, ``bands.red``) with a canonical value:

- a CEL expression is parsed and printed back by the AST (``to_cel``), so only the
  tree counts, not whitespace, line breaks, quotes or redundant parentheses;
- a template keeps its text as written and canonicalizes each ``{{ }}`` hole;
- durations, timestamps and numbers are compared as values (``25`` and ``25.0`` for
  a double setting are the same).

Moving a rule to another file, reordering, reformatting, comments and written-out
defaults therefore leave its facts, and :meth:`RuleVersion.content_hash`, unchanged.
This sits below ``engine`` because a compiled playbook hashes its rules with it (the
hashes every case and action records); ``gitrev.rules`` compares two sets of versions
(``diff``, ``history``). A secret-looking setting or parameter is kept only as a hash.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from csrules.expr.ast import ExprSyntaxError, Node, parse, to_cel
from csrules.expr.templates import TemplateHole, TemplateSyntaxError, split_template
from csrules.load.playbook import LoadedPlaybook
from csrules.model.durations import format_duration
from csrules.model.fieldtypes import FieldType
from csrules.model.rules import Action

ExprKind = Literal["cel", "template"]
SECRET_KEY = re.compile(
    r"(token|secret|password|passwd|api_key|apikey|webhook_url|signing_key|private_key)", re.I
)
"""Setting and parameter names whose value is a secret (``validate`` requires a
``${VAR}`` placeholder for them; the canonical facts keep only a hash)."""
_PLACEHOLDER = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/:@\s]*:)[^@\s/]*(?=@)")
HIDDEN = "(a secret: not shown)"


@dataclass(frozen=True)
class Fact:
    """One key of a rule: ``canonical`` is compared, ``shown`` is what reports print."""

    canonical: str
    shown: str


@dataclass(frozen=True)
class RuleVersion:
    """One rule as one revision has it: where it is written, and its facts."""

    kind: str
    id: str
    file: str | None  # relative to the playbook directory (POSIX)
    line: int
    facts: Mapping[str, Fact]

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.id}"

    def content(self) -> dict[str, str]:
        """The canonical facts alone: equal for two versions that mean the same."""
        return {key: fact.canonical for key, fact in self.facts.items()}

    def content_hash(self) -> str:
        """sha256 of the canonical facts (the same for every formatting of the rule)."""
        text = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def where(self, prefix: str = "") -> str:
        if self.file is None:
            return prefix.rstrip("/:") or "?"
        return f"{prefix}{self.file}:{self.line}" if self.line else f"{prefix}{self.file}"


# ------------------------------------------------------------------ canonical facts


def _expr_kind(info: FieldInfo) -> ExprKind | None:
    """``cel`` or ``template`` when the field holds one (through ``| None`` too)."""

    def marker(extra: object) -> ExprKind | None:
        if isinstance(extra, dict):
            value = extra.get("x-csrules")
            if value in ("cel", "template"):
                return typing.cast(ExprKind, value)
        return None

    found = marker(info.json_schema_extra)
    stack: list[Any] = [info.annotation]
    while found is None and stack:
        annotation = stack.pop()
        for meta in getattr(annotation, "__metadata__", ()):
            if isinstance(meta, FieldInfo):
                found = found or marker(meta.json_schema_extra)
        if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) in (
            typing.Union,
            typing.Annotated,
        ):
            stack.extend(typing.get_args(annotation))
    return found


@functools.lru_cache(maxsize=8192)
def syntax_tree(source: str) -> Node | None:
    """The expression's syntax tree, or None when it does not parse. Cached: ``history``
    meets the same expressions in every version of a file, and the lineage of a compiled
    playbook reads the trees its content hashes were made from."""
    try:
        return parse(source, max_length=max(4096, len(source)))
    except ExprSyntaxError:
        return None


@functools.lru_cache(maxsize=8192)
def canonical_expression(source: str) -> str:
    """The expression as its syntax tree prints it; the collapsed text if it does not parse."""
    tree = syntax_tree(source)
    return " ".join(source.split()) if tree is None else to_cel(tree)


def canonical_template(text: str) -> str:
    """The template's text as written, each ``{{ }}`` hole canonical."""
    try:
        parts = split_template(text)
    except TemplateSyntaxError:
        return text
    return "".join(
        "{{ " + canonical_expression(p.source) + " }}" if isinstance(p, TemplateHole) else p.text
        for p in parts
    )


def _hide_passwords(text: str) -> str:
    return _URL_PASSWORD.sub(lambda m: m.group("head") + "***", text)


def _secret(value: object) -> Fact:
    digest = hashlib.sha256(json.dumps(value, default=str).encode()).hexdigest()
    return Fact(f"secret:{digest}", HIDDEN)


def _scalar(value: object, expr: ExprKind | None) -> Fact:
    if isinstance(value, str):
        if expr == "cel":
            return Fact(canonical_expression(value), _hide_passwords(" ".join(value.split())))
        if expr == "template":
            return Fact(
                canonical_template(value), _hide_passwords(json.dumps(value, ensure_ascii=False))
            )
        text = json.dumps(value, ensure_ascii=False)
        return Fact(text, _hide_passwords(text))
    if isinstance(value, timedelta):
        text = format_duration(value)
        return Fact(json.dumps(text), text)
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value
        text = moment.isoformat().replace("+00:00", "Z")
        return Fact(json.dumps(text), text)
    if isinstance(value, FieldType):
        shown = str(value)
        hints = [
            f"{name} = {json.dumps(hint)}"
            for name, hint in (
                ("min", value.minimum),
                ("max", value.maximum),
                ("values", list(value.values) if value.values is not None else None),
                ("description", value.description),
            )
            if hint is not None
        ]
        if hints:
            shown = f"{shown} ({', '.join(hints)})"
        return Fact(json.dumps(repr(value)), shown)
    text = json.dumps(value, default=str, ensure_ascii=False)
    return Fact(text, text)


def _flatten(value: object, key: str, expr: ExprKind | None, out: dict[str, Fact]) -> None:
    """Every leaf of ``value`` under ``key``; ``None`` (not set) leaves no fact."""
    if value is None:
        return
    if isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            child = info.alias or name
            _flatten(getattr(value, name), _join(key, child), _expr_kind(info), out)
        extra = value.model_extra or {}
        for name, item in extra.items():
            path = _join(key, name)
            if SECRET_KEY.search(name) and not (isinstance(item, str) and _PLACEHOLDER.match(item)):
                out[path] = _secret(item)
            else:
                # an action's parameters are templates for every connector
                _flatten(item, path, "template" if isinstance(value, Action) else None, out)
        return
    if isinstance(value, Mapping):
        for name in value:
            _flatten(value[name], _join(key, str(name)), expr, out)
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _flatten(item, f"{key}[{index}]", expr, out)
        return
    out[key] = _scalar(value, expr)


def _join(key: str, child: str) -> str:
    return f"{key}.{child}" if key else child


def _facts(model: BaseModel, *, drop: tuple[str, ...] = ("id",)) -> dict[str, Fact]:
    out: dict[str, Fact] = {}
    _flatten(model, "", None, out)
    return {k: v for k, v in out.items() if k not in drop}


def _relative(loaded: LoadedPlaybook, path: Path) -> str:
    try:
        return path.resolve().relative_to(loaded.root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def rule_versions(loaded: LoadedPlaybook) -> dict[tuple[str, str], RuleVersion]:
    """Every rule of a loaded directory by (kind, id), with its canonical facts.

    Settings tables of ``csrules.toml`` are rules of kind ``settings`` (id: the
    table) and each ``[connectors.NAME]`` one of kind ``connector``; the measures of
    ``[health]`` are rules of their own (kind ``measure``), the bands stay in
    ``health``.
    """
    out: dict[tuple[str, str], RuleVersion] = {}

    def add(kind: str, rule_id: str, file: Path | None, line: int, facts: dict[str, Fact]) -> None:
        relative = _relative(loaded, file) if file is not None else None
        out.setdefault((kind, rule_id), RuleVersion(kind, rule_id, relative, line, facts))

    project, doc = loaded.project, loaded.project_doc
    if project is not None:
        path = doc.path if doc is not None else None

        def header(*table: str) -> int:
            position = doc.positions.table(table) if doc is not None else None
            return position.line if position is not None else 0

        for name, info in type(project).model_fields.items():
            value = getattr(project, name)
            line = header(name)
            if name == "connectors":
                for connector, instance in value.items():
                    add(
                        "connector",
                        connector,
                        path,
                        header(name, connector),
                        _facts(instance, drop=()),
                    )
            elif isinstance(value, BaseModel):
                add("settings", info.alias or name, path, line, _facts(value, drop=()))
    for kind, group in (
        ("aggregate", loaded.aggregates),
        ("segment", loaded.segments),
        ("tier", loaded.tiers),
        ("playbook", loaded.playbooks),
        ("escalation", loaded.escalations),
        ("silence", loaded.silences),
        ("invariant", loaded.invariants),
    ):
        for located in group:
            item = typing.cast(BaseModel, located.item)
            add(kind, str(located.id), located.doc.path, located.header.line, _facts(item))
    if loaded.health is not None:
        health = loaded.health
        add("health", "health", health.doc.path, health.header.line, _facts(health.item, drop=()))
        out[("health", "health")] = _without_measures(out[("health", "health")])
        for index, measure in enumerate(health.item.measure):
            line = health.doc.table_location((*health.path, "measure", index)).line
            add("measure", measure.id, health.doc.path, line, _facts(measure))
    if loaded.adkar is not None:
        adkar = loaded.adkar
        add("adkar", "adkar", adkar.doc.path, adkar.header.line, _facts(adkar.item, drop=()))
    return out


def _without_measures(version: RuleVersion) -> RuleVersion:
    facts = {k: v for k, v in version.facts.items() if not k.startswith("measure[")}
    return RuleVersion(version.kind, version.id, version.file, version.line, facts)
