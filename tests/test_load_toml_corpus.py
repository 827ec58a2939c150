"""Every file of toml-test's invalid corpus, placed as a rule file, is a located error.

The corpus (../shared/corpora/toml-test) holds TOML that every TOML 1.0 parser must
reject. Each file is put into a copy of the reference playbooks; ``validate`` must exit
1 with an error located in that file, and never show a traceback.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import CORPORA, REFERENCE, run_cli

INVALID = CORPORA / "toml-test" / "tests" / "invalid"
FILES = sorted(INVALID.rglob("*.toml")) if INVALID.is_dir() else []


@pytest.fixture(scope="module")
def playbook_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("corpus") / "playbooks"
    shutil.copytree(REFERENCE, target, ignore=shutil.ignore_patterns(".csrules", "out"))
    return target


@pytest.mark.skipif(not FILES, reason=f"toml-test corpus not found at {INVALID}")
def test_corpus_is_complete() -> None:
    assert len(FILES) == 509


@pytest.mark.skipif(not FILES, reason=f"toml-test corpus not found at {INVALID}")
@pytest.mark.parametrize("source", FILES, ids=[str(p.relative_to(INVALID)) for p in FILES])
def test_invalid_toml_is_a_located_error(source: Path, playbook_copy: Path) -> None:
    target = playbook_copy / "zz_corpus_case.toml"
    target.write_bytes(source.read_bytes())
    try:
        result = run_cli("validate", "--playbooks", str(playbook_copy), "--format", "json")
    finally:
        target.unlink()
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output + result.stderr
    diagnostics = result.json()["diagnostics"]
    located = [d for d in diagnostics if d["file"] and Path(d["file"]).name == target.name]
    assert located, f"no diagnostic in {target.name}: {diagnostics}"
    for diag in located:
        assert diag["severity"] == "error"
        assert diag["line"] is not None and diag["line"] >= 1
        assert diag["column"] is not None and diag["column"] >= 1
