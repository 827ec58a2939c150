"""The commands of this release end to end: init, validate, schema; exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from csrules.model.jsonschema import file_schemas
from tests.conftest import REPO, run_cli


def test_init_writes_a_directory_that_validates(tmp_path: Path) -> None:
    target = tmp_path / "x"
    result = run_cli("init", str(target))
    assert result.exit_code == 0, result.output
    assert (target / "csrules.toml").is_file()
    assert (target / "tests" / "starter.toml").is_file()
    checked = run_cli("validate", "--playbooks", str(target), "--format", "json")
    assert checked.exit_code == 0, checked.output
    payload = checked.json()
    assert payload["errors"] == 0 and payload["warnings"] == 0
    assert payload["rules"] >= 8 and payload["tests"] >= 1


def test_init_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine", encoding="utf-8")
    result = run_cli("init", str(tmp_path))
    assert result.exit_code == 2
    assert "not empty" in result.stderr
    assert (tmp_path / "keep.txt").read_text(encoding="utf-8") == "mine"


def test_init_starter_files_declare_their_schema(tmp_path: Path) -> None:
    run_cli("init", str(tmp_path / "x"))
    first_line = (tmp_path / "x" / "rules.toml").read_text(encoding="utf-8").splitlines()[0]
    assert first_line == "#:schema schemas/rules.schema.json"
    assert (tmp_path / "x" / "schemas" / "rules.schema.json").is_file()


def test_schema_check_passes_on_the_committed_schemas() -> None:
    result = run_cli("schema", "--check", cwd=REPO)
    assert result.exit_code == 0, result.output


def test_schema_check_detects_drift(tmp_path: Path) -> None:
    assert run_cli("schema", "--out", str(tmp_path)).exit_code == 0
    assert run_cli("schema", "--check", "--out", str(tmp_path)).exit_code == 0
    path = tmp_path / "rules.schema.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["title"] = "edited"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = run_cli("schema", "--check", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "rules.schema.json: out of date" in result.output
    (tmp_path / "tests.schema.json").unlink()
    assert (
        "tests.schema.json: missing" in run_cli("schema", "--check", "--out", str(tmp_path)).output
    )


def test_schemas_describe_every_rule_kind() -> None:
    rules = file_schemas()["rules.schema.json"]
    assert set(rules["properties"]) == {
        "aggregate",
        "health",
        "segment",
        "tier",
        "adkar",
        "playbook",
        "escalation",
        "silence",
        "invariant",
    }
    assert rules["additionalProperties"] is False


def test_reference_files_start_with_a_schema_line() -> None:
    for path in sorted((REPO / "playbooks").rglob("*.toml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("#:schema "), path
        target = (path.parent / first.removeprefix("#:schema ").strip()).resolve()
        assert target.is_file(), f"{path}: {target} does not exist"


def test_no_playbook_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("validate", cwd=tmp_path)
    assert result.exit_code == 2
    assert "no playbook directory found" in result.stderr


def test_unknown_flag_is_a_usage_error() -> None:
    assert run_cli("validate", "--frobnicate").exit_code == 2


def test_playbooks_from_environment(tmp_path: Path, monkeypatch: object) -> None:
    run_cli("init", str(tmp_path / "x"))
    import os

    os.environ["CSRULES_PLAYBOOKS"] = str(tmp_path / "x")
    try:
        assert run_cli("validate", cwd=tmp_path).exit_code == 0
    finally:
        del os.environ["CSRULES_PLAYBOOKS"]


def test_python_dash_m_runs_the_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "csrules", "validate", "--playbooks", str(REPO / "playbooks")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 errors" in out.stdout


def test_json_output_shape(tmp_path: Path) -> None:
    run_cli("init", str(tmp_path / "x"))
    (tmp_path / "x" / "bad.toml").write_text(
        '[[segment]]\nid = "s"\nwhen = "account.ar > 1.0"\n', encoding="utf-8"
    )
    payload = run_cli("validate", "--playbooks", str(tmp_path / "x"), "--format", "json").json()
    assert payload["ok"] is False and payload["errors"] == 1
    diag = payload["diagnostics"][0]
    assert {k: diag[k] for k in ("severity", "line", "column", "kind", "id", "field")} == {
        "severity": "error",
        "line": 3,
        "column": 9,
        "kind": "segment",
        "id": "s",
        "field": "when",
    }


def _git(cwd: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def test_init_writes_a_gitignore_so_apply_keeps_the_tree_clean(tmp_path: Path) -> None:
    target = tmp_path / "x"
    assert run_cli("init", str(target)).exit_code == 0
    ignored = (target / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".csrules/" in ignored and "out/" in ignored
    _git(target, "init", "-q")
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "starter")
    for as_of in ("2026-11-01T09:00:00Z", "2026-11-09T09:00:00Z"):  # cases open after 7d
        applied = run_cli("apply", "--playbooks", str(target), "--as-of", as_of)
        assert applied.exit_code == 0, applied.output + applied.stderr
    assert (target / ".csrules").is_dir() and (target / "out" / "actions.jsonl").is_file()
    assert _git(target, "status", "--porcelain") == ""
    from csrules.revision import revision

    assert revision(target)["git"] == _git(target, "rev-parse", "HEAD").strip()


def test_init_force_completes_an_existing_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.bak", encoding="utf-8")
    assert run_cli("init", "--force", str(tmp_path)).exit_code == 0
    lines = (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "*.bak"
    assert lines.count(".csrules/") == 1 and "out/" in lines
    assert run_cli("init", "--force", str(tmp_path)).exit_code == 0
    again = (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert again == lines  # nothing added twice
