"""Reading a playbook directory: ``csrules.toml``, rule files at any depth, ``tests/``.

Loading never stops at the first problem: every file is read and every problem is
collected as a located diagnostic, so one ``validate`` run shows everything to fix.
"""

from __future__ import annotations

import os
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from csrules.errors import Diagnostic, Location, Severity
from csrules.load.finder import PROJECT_FILE
from csrules.load.playbook import LoadedPlaybook, Located
from csrules.load.pydantic_errors import diagnostics_from_errors, diagnostics_from_validation
from csrules.load.salvage import salvage
from csrules.load.tomlfile import DEFAULT_FILE_SIZE, TomlDocument, is_inside, read_toml
from csrules.model.project import ProjectFile
from csrules.model.rules import Invariant, RuleFile
from csrules.model.testfile import TestCase, TestFile

TESTS_DIR = "tests"
MAX_FILES = 2000

M = TypeVar("M", bound=BaseModel)

_SINGLE_KINDS = ("health", "adkar")

# rule-file table -> the LoadedPlaybook attribute that holds its rules
_LIST_KINDS = {
    "aggregate": "aggregates",
    "segment": "segments",
    "tier": "tiers",
    "playbook": "playbooks",
    "escalation": "escalations",
    "silence": "silences",
    "invariant": "invariants",
}


def _display_root(root: Path) -> Path:
    """Show paths relative to the working directory when they are below it."""
    try:
        return root.resolve().relative_to(Path.cwd().resolve()) if root.is_absolute() else root
    except ValueError:
        return root


@dataclass
class Discovery:
    """The TOML files below a playbook directory, and the folder links not followed."""

    rules: list[Path] = field(default_factory=list)
    tests: list[Path] = field(default_factory=list)
    #: symbolic links to folders outside the directory (never read)
    outside: list[Path] = field(default_factory=list)


def discover_files(root: Path) -> Discovery:
    """Rule files and test files below ``root``; hidden folders are skipped.

    Symbolic links to folders are never followed, so a link loop cannot make the walk
    endless: a link to a folder inside the directory loses nothing (the folder is read
    where it is), a link to a folder outside is listed in ``outside``. Links to files
    are listed like files; reading them checks where they lead.
    """
    found = Discovery()
    for folder, dirnames, filenames in os.walk(root):
        base = Path(folder)
        for name in sorted(d for d in dirnames if not d.startswith(".")):
            if (base / name).is_symlink() and not is_inside(base / name, root):
                found.outside.append(base / name)
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and not (base / d).is_symlink()
        )
        for name in sorted(filenames):
            if not name.endswith(".toml"):
                continue
            path = base / name
            relative = path.relative_to(root)
            if relative == Path(PROJECT_FILE):
                continue
            (found.tests if relative.parts[0] == TESTS_DIR else found.rules).append(path)
    return found


def discover(root: Path) -> tuple[list[Path], list[Path]]:
    """Rule files and test files below ``root`` (see :func:`discover_files`)."""
    found = discover_files(root)
    return found.rules, found.tests


def _model_table(
    doc: TomlDocument,
    root: type[BaseModel],
    model: type[M],
    data: Any,
    prefix: tuple[str | int, ...],
    out: LoadedPlaybook,
) -> M | None:
    """One table modelled on its own: its errors are reported, the rest is kept."""
    item, errors = salvage(model, data)
    out.diagnostics.extend(diagnostics_from_errors(doc, root, errors, prefix))
    return item


def _item_model(root: type[BaseModel], table: str) -> type[BaseModel]:
    """``Tier`` for ``tier``: the model of one item of a top-level table."""
    for member in typing.get_args(root.model_fields[table].annotation) or (
        root.model_fields[table].annotation,
    ):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    raise LookupError(table)


def _top_level_errors(
    doc: TomlDocument, root: type[BaseModel], key: str, out: LoadedPlaybook
) -> None:
    """The errors of a top-level key that is not a list of rules (unknown, or not an array
    of tables), exactly as the whole file's model reports them."""
    try:
        root.model_validate({key: doc.data[key]})
    except ValidationError as exc:
        out.diagnostics.extend(diagnostics_from_validation(doc, root, exc))


def _model_rules(doc: TomlDocument, out: LoadedPlaybook) -> None:
    """Every rule of a rule file, each modelled on its own (one bad rule costs itself)."""
    for key, value in doc.data.items():
        if key in _LIST_KINDS and isinstance(value, list):
            model = _item_model(RuleFile, key)
            for index, raw in enumerate(value):
                out.declare(key, raw.get("id") if isinstance(raw, dict) else None)
                rule: Any = _model_table(doc, RuleFile, model, raw, (key, index), out)
                if rule is not None:
                    target: list[Located[Any]] = getattr(out, _LIST_KINDS[key])
                    target.append(Located(rule, doc, (key, index), key, rule.id))
        elif key in _SINGLE_KINDS and isinstance(value, dict):
            if key == "health":
                _declare_health(value, out)
            item = _model_table(doc, RuleFile, _item_model(RuleFile, key), value, (key,), out)
            if item is not None:
                _collect_single(doc, key, item, out)
        else:
            if key in _LIST_KINDS or key in _SINGLE_KINDS:
                out.unnamed.add("band" if key == "health" else key)
                if key == "health":
                    out.unnamed.add("measure")
            _top_level_errors(doc, RuleFile, key, out)


def _declare_health(health: dict[str, Any], out: LoadedPlaybook) -> None:
    bands = health.get("bands")
    if isinstance(bands, dict):
        for name in bands:
            out.declare("band", name)
    else:
        out.unnamed.add("band")
    measures = health.get("measure")
    for measure in measures if isinstance(measures, list) else [None]:
        out.declare("measure", measure.get("id") if isinstance(measure, dict) else None)


def _model_tests(doc: TomlDocument, out: LoadedPlaybook) -> None:
    """Every test and invariant of a test file, each modelled on its own."""
    for key, value in doc.data.items():
        if key in ("test", "invariant") and isinstance(value, list):
            model = _item_model(TestFile, key)
            for index, raw in enumerate(value):
                name_key = "name" if key == "test" else "id"
                out.declare(key, raw.get(name_key) if isinstance(raw, dict) else None)
                item = _model_table(doc, TestFile, model, raw, (key, index), out)
                if isinstance(item, TestCase):
                    out.tests.append(Located(item, doc, (key, index), "test", item.name))
                elif isinstance(item, Invariant):
                    out.invariants.append(Located(item, doc, (key, index), key, item.id))
        else:
            if key in ("test", "invariant"):
                out.unnamed.add(key)
            _top_level_errors(doc, TestFile, key, out)


def _model_project(doc: TomlDocument, out: LoadedPlaybook) -> None:
    snapshot = doc.data.get("snapshot")
    fields = snapshot.get("fields") if isinstance(snapshot, dict) else None
    if isinstance(fields, dict):
        for name in fields:
            out.declare("field", name)
    else:
        out.unnamed.add("field")
    connectors = doc.data.get("connectors", {})
    if isinstance(connectors, dict):
        for name in connectors:
            out.declare("connector", name)
    else:
        out.unnamed.add("connector")
    out.project = _model_table(doc, ProjectFile, ProjectFile, doc.data, (), out)


def load_playbook(root: Path) -> LoadedPlaybook:
    """Read and model every file of the directory; problems go to ``diagnostics``."""
    display_root = _display_root(root)
    out = LoadedPlaybook(root=root)
    project_path = root / PROJECT_FILE
    parsed = read_toml(project_path, display_root / PROJECT_FILE, root=root)
    if isinstance(parsed, Diagnostic):
        out.diagnostics.add(parsed)
        out.unnamed.update({"field", "connector"})
    else:
        out.project_doc = parsed
        _model_project(parsed, out)

    found = discover_files(root)
    rule_paths, test_paths = found.rules, found.tests
    for link in found.outside:
        out.diagnostics.add(
            Diagnostic(
                f"is a symbolic link to the folder {os.path.realpath(link)}, outside the "
                "playbook directory; csrules does not follow it, so no rule or test file "
                "in it is read: move the files into the directory if they are rules",
                Location(display_root / link.relative_to(root)),
                severity=Severity.WARNING,
                code="outside",
            )
        )
    if len(rule_paths) + len(test_paths) > MAX_FILES:
        out.diagnostics.add(
            Diagnostic(
                f"{len(rule_paths) + len(test_paths)} TOML files found, over the limit of "
                f"{MAX_FILES}; keep only playbook files in this directory",
                Location(display_root),
                code="too-many-files",
            )
        )
        out.incomplete = True
        return out

    limit = out.project.limits.file_size if out.project is not None else DEFAULT_FILE_SIZE
    for path in rule_paths:
        doc = read_toml(path, display_root / path.relative_to(root), limit=limit, root=root)
        if isinstance(doc, Diagnostic):
            out.diagnostics.add(doc)
            out.incomplete = True
            continue
        out.rule_documents.append(doc)
        _model_rules(doc, out)

    for path in test_paths:
        doc = read_toml(path, display_root / path.relative_to(root), limit=limit, root=root)
        if isinstance(doc, Diagnostic):
            out.diagnostics.add(doc)
            out.unnamed.update({"test", "invariant"})
            continue
        out.test_documents.append(doc)
        _model_tests(doc, out)

    _check_duplicates(out)
    return out


def _collect_single(doc: TomlDocument, single: str, item: Any, out: LoadedPlaybook) -> None:
    located = Located(item, doc, (single,), single, None)
    existing: Located[Any] | None = getattr(out, single)
    if existing is not None:
        out.diagnostics.add(
            Diagnostic(
                f"[{single}] is already defined at {existing.header}; a playbook "
                f"directory has one [{single}] table: merge the two",
                located.header,
                kind=single,
                code="duplicate",
            )
        )
        return
    setattr(out, single, located)


def _check_duplicates(out: LoadedPlaybook) -> None:
    """Ids are unique per kind across the directory; the later one is the error."""
    groups: list[list[Located[Any]]] = [getattr(out, attr) for attr in _LIST_KINDS.values()]
    groups.append(list(out.tests))
    for group in groups:
        seen: dict[str, Located[Any]] = {}
        for located in group:
            if located.id is None:
                continue
            first = seen.get(located.id)
            if first is None:
                seen[located.id] = located
                continue
            what = "name" if located.kind == "test" else "id"
            out.diagnostics.add(
                Diagnostic(
                    f"duplicate {located.kind} {what} '{located.id}', first defined at "
                    f"{first.location('id' if what == 'id' else 'name')}; "
                    f"{what}s are unique per kind across the directory: rename one",
                    located.location("id" if what == "id" else "name"),
                    kind=located.kind,
                    rule_id=located.id,
                    code="duplicate",
                )
            )
