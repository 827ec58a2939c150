"""Reading a playbook directory: ``csrules.toml``, rule files at any depth, ``tests/``.

Loading never stops at the first problem: every file is read and every problem is
collected as a located diagnostic, so one ``validate`` run shows everything to fix.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from csrules.errors import Diagnostic, Location
from csrules.load.finder import PROJECT_FILE
from csrules.load.playbook import LoadedPlaybook, Located
from csrules.load.pydantic_errors import diagnostics_from_validation
from csrules.load.tomlfile import TomlDocument, read_toml
from csrules.model.project import ProjectFile
from csrules.model.rules import RuleFile
from csrules.model.testfile import TestFile

TESTS_DIR = "tests"
MAX_FILES = 2000

M = TypeVar("M", bound=BaseModel)

# rule-file table -> (LoadedPlaybook attribute, kind name used in messages)
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


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(".toml"):
                yield Path(folder) / name


def discover(root: Path) -> tuple[list[Path], list[Path]]:
    """Rule files and test files below ``root`` (hidden folders are skipped)."""
    rules: list[Path] = []
    tests: list[Path] = []
    for path in _walk(root):
        relative = path.relative_to(root)
        if relative == Path(PROJECT_FILE):
            continue
        if relative.parts[0] == TESTS_DIR:
            tests.append(path)
        else:
            rules.append(path)
    return rules, tests


def _validate(doc: TomlDocument, model: type[M], out: LoadedPlaybook) -> M | None:
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        out.diagnostics.extend(diagnostics_from_validation(doc, model, exc))
        return None


def load_playbook(root: Path) -> LoadedPlaybook:
    """Read and model every file of the directory; problems go to ``diagnostics``."""
    display_root = _display_root(root)
    out = LoadedPlaybook(root=root)
    project_path = root / PROJECT_FILE
    parsed = read_toml(project_path, display_root / PROJECT_FILE)
    if isinstance(parsed, Diagnostic):
        out.diagnostics.add(parsed)
    else:
        out.project_doc = parsed
        out.project = _validate(parsed, ProjectFile, out)

    rule_paths, test_paths = discover(root)
    if len(rule_paths) + len(test_paths) > MAX_FILES:
        out.diagnostics.add(
            Diagnostic(
                f"{len(rule_paths) + len(test_paths)} TOML files found, over the limit of "
                f"{MAX_FILES}; keep only playbook files in this directory",
                Location(display_root),
                code="too-many-files",
            )
        )
        return out

    for path in rule_paths:
        doc = read_toml(path, display_root / path.relative_to(root))
        if isinstance(doc, Diagnostic):
            out.diagnostics.add(doc)
            out.incomplete = True
            continue
        out.rule_documents.append(doc)
        rules = _validate(doc, RuleFile, out)
        if rules is None:
            out.incomplete = True
        else:
            _collect_rules(doc, rules, out)

    for path in test_paths:
        doc = read_toml(path, display_root / path.relative_to(root))
        if isinstance(doc, Diagnostic):
            out.diagnostics.add(doc)
            continue
        out.test_documents.append(doc)
        tests = _validate(doc, TestFile, out)
        if tests is not None:
            _collect_tests(doc, tests, out)

    _check_duplicates(out)
    return out


def _collect_rules(doc: TomlDocument, rules: RuleFile, out: LoadedPlaybook) -> None:
    for table, attribute in _LIST_KINDS.items():
        items: list[Any] = getattr(rules, table)
        target: list[Located[Any]] = getattr(out, attribute)
        for index, item in enumerate(items):
            target.append(Located(item, doc, (table, index), table, item.id))
    for single in ("health", "adkar"):
        item = getattr(rules, single)
        if item is None:
            continue
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
            continue
        setattr(out, single, located)


def _collect_tests(doc: TomlDocument, tests: TestFile, out: LoadedPlaybook) -> None:
    for index, test in enumerate(tests.test):
        out.tests.append(Located(test, doc, ("test", index), "test", test.name))
    for index, invariant in enumerate(tests.invariant):
        out.invariants.append(
            Located(invariant, doc, ("invariant", index), "invariant", invariant.id)
        )


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
