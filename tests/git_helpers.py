"""Real git repositories for the tests of ``csrules diff`` and ``csrules.gitrev``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.conftest import REFERENCE

AS_OF = "2026-11-01T09:00:00Z"

_ENV = {
    "GIT_AUTHOR_NAME": "CS Ops",
    "GIT_AUTHOR_EMAIL": "cs-ops@example.com",
    "GIT_COMMITTER_NAME": "CS Ops",
    "GIT_COMMITTER_EMAIL": "cs-ops@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **_ENV},
    )
    return done.stdout


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def reference_repo(tmp_path: Path, folder: str = "playbooks") -> tuple[Path, Path]:
    """A git repository whose first commit holds a copy of the reference playbooks
    under ``folder``; returns (repository, playbook directory)."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    root = repo / folder
    shutil.copytree(
        REFERENCE, root, ignore=shutil.ignore_patterns(".csrules", "out", "__pycache__")
    )
    commit_all(repo, "reference playbooks")
    return repo, root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
