"""One revision of the playbook directory, loaded and validated like the working tree.

A revision from git is exported into a private temporary folder (see ``git.py``),
loaded and validated there by the same code as ``csrules validate``, compiled when it
is valid, and the folder is removed. Its diagnostics name the revision the way git
does (``origin/main:playbooks/tiers.toml:12:8``), never the temporary folder.

Loading never raises for bad rules: a revision whose files do not load or validate
is a :class:`PlaybookRevision` whose ``problem`` says why and whose ``diagnostics``
say what; a revision that does not exist is a :class:`RevisionError` (exit 2).
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pluggy

from csrules.engine.compiled import CompiledPlaybook, compile_loaded
from csrules.errors import Diagnostic, Location, Severity
from csrules.gitrev.git import WORKING_TREE, Repository, export, has_directory, resolve, short
from csrules.hooks import manager
from csrules.load.loader import MAX_FILES
from csrules.load.playbook import LoadedPlaybook
from csrules.validate import validate_playbook


@dataclass
class PlaybookRevision:
    """A revision of the playbook directory: loaded, validated, compiled when valid.

    ``revision`` is what the user named (``None`` for the working tree) and ``commit``
    what git resolved it to. ``problem`` is ``None`` when ``compiled`` is usable, else
    one sentence saying why not (the directory does not exist there, it does not
    validate, ...). ``loaded`` is whatever could be read, even when it did not validate.
    """

    label: str
    revision: str | None
    commit: str | None
    loaded: LoadedPlaybook | None = None
    compiled: CompiledPlaybook | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    problem: str | None = None
    #: how files of this revision are named in messages: ``REV:path/`` or a folder
    display_prefix: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None and self.compiled is not None

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    def to_json(self) -> dict[str, object]:
        return {
            "revision": self.revision,
            "commit": self.commit,
            "label": self.label,
            "loaded": self.ok,
            "problem": self.problem,
            "errors": [d.to_json() for d in self.errors],
        }


def _compile(
    revision: PlaybookRevision, root: Path, now: datetime | None, pm: pluggy.PluginManager
) -> None:
    report = validate_playbook(root, now=now, pm=pm)
    revision.loaded = report.loaded
    revision.diagnostics.extend(report.diagnostics.sorted())
    if not report.ok:
        count = len(report.diagnostics.errors)
        name = f"the {revision.label}" if revision.revision is None else revision.label
        revision.problem = f"the playbooks of {name} do not validate ({count} error(s))"
        return
    revision.compiled = compile_loaded(report.loaded, manager.all_functions(pm))


def working_tree(
    root: Path, *, now: datetime | None = None, pm: pluggy.PluginManager | None = None
) -> PlaybookRevision:
    """The directory as it is on disk, uncommitted changes included."""
    revision = PlaybookRevision(label=WORKING_TREE, revision=None, commit=None)
    _compile(revision, root, now, pm or manager.plugin_manager())
    return revision


def _relabel(diagnostic: Diagnostic, root: Path, prefix: str) -> Diagnostic:
    """The diagnostic with its path inside the temporary folder named as git names it."""
    loc = diagnostic.location
    if loc is None:
        return diagnostic
    try:
        inside = loc.path.resolve().relative_to(root.resolve())
    except ValueError:
        return diagnostic
    shown = f"{prefix}{inside.as_posix()}" if inside.parts else prefix.rstrip("/")
    return dataclasses.replace(diagnostic, location=Location(Path(shown), loc.line, loc.column))


def from_git(
    repo: Repository,
    revision: str,
    *,
    now: datetime | None = None,
    pm: pluggy.PluginManager | None = None,
) -> PlaybookRevision:
    """The playbook directory at ``revision``, read from git without a checkout."""
    commit = resolve(repo, revision)
    label = f"{revision} ({short(commit)})" if not commit.startswith(revision) else short(commit)
    prefix = f"{revision}:{repo.prefix}"
    result = PlaybookRevision(label=label, revision=revision, commit=commit, display_prefix=prefix)
    if not has_directory(repo, commit):
        where = repo.prefix.rstrip("/") or "the top of the repository"
        result.problem = f"{label} has no playbook directory at {where} (no csrules.toml there)"
        return result
    with tempfile.TemporaryDirectory(prefix="csrules-rev-") as folder:
        root = Path(folder)
        tree = export(repo, commit, root, max_files=MAX_FILES)
        if tree.listed > MAX_FILES:
            result.problem = (
                f"{label} has {tree.listed} TOML files in the playbook directory, over the "
                f"limit of {MAX_FILES}"
            )
            return result
        for link in tree.skipped:
            result.diagnostics.append(
                Diagnostic(
                    "a symbolic link or submodule in git is never followed; this file is "
                    "not read (commit the file itself)",
                    Location(Path(f"{prefix}{link}")),
                    severity=Severity.WARNING,
                    code="not-read",
                )
            )
        _compile(result, root, now, pm or manager.plugin_manager())
        result.diagnostics = [_relabel(d, root, prefix) for d in result.diagnostics]
    return result
