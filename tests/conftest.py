"""Shared fixtures: a fresh copy of the reference playbooks, and running the CLI."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import settings

from csrules.cli.main import build_cli

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "playbooks"
CORPORA = REPO.parent / "shared" / "corpora"

settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@dataclass
class Result:
    exit_code: int
    output: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.output)


def run_cli(*args: str, cwd: Path | None = None) -> Result:
    runner = CliRunner()
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = runner.invoke(build_cli(), list(args), catch_exceptions=False)
    finally:
        os.chdir(old)
    return Result(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def reference_copy(tmp_path: Path) -> Iterator[Path]:
    """A private copy of playbooks/ that a test may break."""
    target = tmp_path / "playbooks"
    shutil.copytree(
        REFERENCE, target, ignore=shutil.ignore_patterns(".csrules", "out", "__pycache__")
    )
    yield target
