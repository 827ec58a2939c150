"""Files ``apply`` writes inside the playbook directory's git work tree.

Every run records the git commit of the playbooks, but only when the work tree is
clean, so that the commit really is what ran. A state database or a connector's
output file inside the tree and not ignored by git makes the tree dirty at the first
run, and from then on no run records a commit. :func:`unignored` finds such files
(asking ``git check-ignore``, so every .gitignore, ``info/exclude`` and global
excludes file counts) and :func:`advice` says what to add to ``.gitignore``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from csrules.delivery.mode import delivery_mode, log_file
from csrules.model.project import ProjectFile
from csrules.store import StoreError, sqlite_path

GIT_TIMEOUT = 10


@dataclass(frozen=True)
class Written:
    """A file a run writes: what it is (for the message) and where."""

    what: str
    path: Path
    pattern_suffix: str = ""  # SQLite also writes <db>-wal and <db>-shm beside the file


def written_files(project: ProjectFile, root: Path) -> list[Written]:
    """The state database (SQLite) and the files connectors append to (``path``, or in
    log mode ``[delivery] log_path``)."""
    files: list[Written] = []
    url = project.state.url
    if url.startswith("sqlite:"):
        try:
            db = sqlite_path(url, base_dir=root)
        except StoreError:  # a bad url is reported by the store itself, with its fix
            db = ":memory:"
        if db != ":memory:":
            files.append(Written("the state database", Path(db), "*"))
    logging_only = delivery_mode(project) == "log"
    for name, instance in project.connectors.items():
        target = instance.settings.get("path")
        if logging_only and instance.plugin != "log":
            target = log_file(project, name)  # [delivery] log_path, for this instance
        if isinstance(target, str) and target and "${" not in target:
            path = Path(target)
            files.append(Written(f"the output of [connectors.{name}]", root / path))
    return files


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None


def work_tree(root: Path) -> Path | None:
    """The top of the git work tree holding ``root``, or None outside one (or no git)."""
    done = _git(root, "rev-parse", "--show-toplevel")
    if done is None or done.returncode != 0 or not done.stdout.strip():
        return None
    return Path(done.stdout.strip()).resolve()


def unignored(root: Path, files: Sequence[Written]) -> tuple[Path | None, list[Written]]:
    """The work tree's top and the ``files`` inside it that git does not ignore."""
    top = work_tree(root)
    if top is None:
        return None, []
    inside = [f for f in files if f.path.resolve().is_relative_to(top)]
    if not inside:
        return top, []
    names = [str(f.path.resolve().relative_to(top)) for f in inside]
    done = _git(top, "check-ignore", "--", *names)
    if done is None or done.returncode not in (0, 1):
        return top, []  # git could not tell: say nothing rather than something wrong
    ignored = {line.strip() for line in done.stdout.splitlines()}
    return top, [f for f, name in zip(inside, names, strict=True) if name not in ignored]


def advice(top: Path, files: Sequence[Written]) -> str:
    """One warning: which files, why it matters, and the lines to add to .gitignore."""
    names = [f"{f.what} {f.path}" for f in files]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    lines = "\n".join(
        f"    /{f.path.resolve().relative_to(top).as_posix()}{f.pattern_suffix}" for f in files
    )
    return (
        f"{listed} {'is' if len(files) == 1 else 'are'} inside the git work tree {top} and "
        "not ignored: every run makes the tree dirty, so the audit log cannot record the "
        f"playbooks' git commit. Add to {top / '.gitignore'}:\n{lines}"
    )
