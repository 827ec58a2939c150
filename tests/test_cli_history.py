"""``csrules history`` on the command line: text, JSON, Markdown, and usage errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.git_helpers import commit_all, edit, reference_repo


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    top, root = reference_repo(tmp_path_factory.mktemp("cli-history"))
    edit(root / "tiers.toml", "account.arr >= 15000.0", "account.arr >= 20000.0")
    commit_all(top, "Raise the pooled threshold <script>@channel")
    edit(root / "tiers.toml", "account.arr >= 20000.0", "account.arr  >=  20000.0")
    commit_all(top, "reformat")
    return root


def test_text_shows_old_and_new_expression(root: Path) -> None:
    done = run_cli("history", "tier:pooled", "--playbooks", str(root))
    assert done.exit_code == 0, done.stderr
    lines = done.output.splitlines()
    header = next(line for line in lines if "Raise the pooled threshold" in line)
    assert "CS Ops" in header
    assert any(
        "when:" in line and "15000.0" in line and "→" in line and "20000.0" in line
        for line in lines
    )
    assert "reformat" not in done.output


def test_json_and_markdown(root: Path) -> None:
    data = run_cli("history", "pooled", "--format", "json", "--playbooks", str(root)).json()
    assert [e["message"] for e in data["entries"]][
        -1
    ] == "Raise the pooled threshold <script>@channel"
    change = data["entries"][-1]["changes"][0]
    assert change["change"] == "changed" and change["base_hash"] != change["head_hash"]
    assert data["names"] == ["tier:pooled"]
    markdown = run_cli("history", "--format", "markdown", "--playbooks", str(root)).output
    assert markdown.startswith("# Rule changelog")
    assert "`Raise the pooled threshold <script>@channel`" in markdown


def test_usage_errors(root: Path, tmp_path: Path) -> None:
    unknown = run_cli("history", "--since", "no-such-rev-or-date", "--playbooks", str(root))
    assert unknown.exit_code == 2 and "neither a revision here nor a date" in unknown.stderr
    (tmp_path / "csrules.toml").write_text((root / "csrules.toml").read_text())
    outside = run_cli("history", "--playbooks", str(tmp_path))
    assert outside.exit_code == 2 and "not inside a git repository" in outside.stderr
    nothing = run_cli("history", "segment:nope", "--playbooks", str(root))
    assert nothing.exit_code == 0 and "no commit changed rule segment:nope" in nothing.output
