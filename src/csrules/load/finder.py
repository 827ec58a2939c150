"""Finding the playbook directory: ``--playbooks``, ``$CSRULES_PLAYBOOKS``, then upward search."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from csrules.errors import UsageError

PROJECT_FILE = "csrules.toml"
ENV_VAR = "CSRULES_PLAYBOOKS"


def find_playbook_dir(
    explicit: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Path:
    """The directory holding ``csrules.toml``; a :class:`UsageError` (exit 2) when none."""
    env = os.environ if environ is None else environ
    start = cwd or Path.cwd()
    if explicit is not None:
        return _require(Path(explicit), "--playbooks")
    if env.get(ENV_VAR):
        return _require(Path(env[ENV_VAR]), f"${ENV_VAR}")
    for folder in (start, *start.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    raise UsageError(
        f"no playbook directory found: no {PROJECT_FILE} in {start} or any folder above it; "
        f"pass --playbooks DIR, set ${ENV_VAR}, or create one with 'csrules init DIR'"
    )


def _require(path: Path, origin: str) -> Path:
    if path.is_file() and path.name == PROJECT_FILE:
        path = path.parent
    if not path.is_dir():
        raise UsageError(f"{origin}: '{path}' is not a directory")
    if not (path / PROJECT_FILE).is_file():
        raise UsageError(
            f"{origin}: '{path}' has no {PROJECT_FILE}; "
            f"point at the folder that holds it, or create one with 'csrules init {path}'"
        )
    return path
