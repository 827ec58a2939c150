"""The playbook revision a run used: the git commit when clean, and content hashes.

Auditors ask "under which rule version?": every run records the commit (only when
the directory is a clean git work tree, so the commit really is what ran) and always
a sha256 of every rule file plus one hash over all of them.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

from csrules.load.finder import PROJECT_FILE
from csrules.load.loader import discover


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_commit(root: Path) -> str | None:
    """HEAD when ``root`` is inside a git work tree with no changes below it, else None."""
    commit = _git(root, "rev-parse", "HEAD")
    if commit is None:
        return None
    dirty = _git(root, "status", "--porcelain", "--", ".")
    return commit if dirty == "" else None


def revision(root: Path) -> dict[str, Any]:
    """``{"git": commit | None, "files": {path: sha256}, "hash": sha256 of them all}``."""
    rules, tests = discover(root)
    files: dict[str, str] = {}
    for path in sorted([root / PROJECT_FILE, *rules, *tests]):
        if path.is_file():
            files[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    overall = hashlib.sha256("\n".join(f"{k} {v}" for k, v in files.items()).encode()).hexdigest()
    return {"git": git_commit(root), "files": files, "hash": overall}
