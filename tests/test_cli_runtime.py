"""``--format json`` prints only JSON on stdout, also when the playbooks do not validate."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from csrules.cli.main import build_cli
from tests.conftest import run_cli
from tests.git_helpers import commit_all, edit, git

# the arguments a command needs besides --playbooks and --format
EXTRA_ARGS = {
    "explain": ["acc-0001"],
    "diff": ["--base", "HEAD"],
    "replay": ["r-1"],
    "backtest": ["--history", "data"],  # relative to the playbook directory (below)
}
# history reads committed revisions only: an error in the work tree is not its input
WORK_TREE_INDEPENDENT = {"history"}


def _json_commands() -> list[str]:
    """Every command (and sub-command) that takes ``--format json``."""
    group = build_cli()
    found: list[str] = []

    def visit(command: click.Command, path: list[str]) -> None:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                visit(sub, [*path, name])
            return
        for param in command.params:
            choice = param.type if isinstance(param.type, click.Choice) else None
            if param.name == "fmt" and choice is not None and "json" in choice.choices:
                found.append(" ".join(path))

    visit(group, [])
    return sorted(found)


def test_the_json_commands_are_found() -> None:
    assert set(_json_commands()) >= {
        "validate",
        "test",
        "check",
        "evaluate",
        "explain",
        "plan",
        "apply",
        "cases",
        "audit show",
        "diff",
    }


@pytest.fixture
def broken(reference_copy: Path) -> Path:
    """The reference playbooks in a git repository, with a type error in the work tree."""
    git(reference_copy, "init", "-q")
    commit_all(reference_copy, "reference")
    edit(reference_copy / "tiers.toml", "account.arr >= 15000.0", "account.ar >= 15000.0")
    return reference_copy


@pytest.mark.parametrize("command", [c for c in _json_commands() if c not in WORK_TREE_INDEPENDENT])
def test_errors_in_the_directory_are_json_on_stdout(broken: Path, command: str) -> None:
    args = [*command.split(), "--playbooks", str(broken), "--format", "json"]
    extra = [str(broken / a) if a == "data" else a for a in EXTRA_ARGS.get(command, [])]
    result = run_cli(*args, *extra)
    assert result.exit_code == 1, (result.output, result.stderr)
    payload = json.loads(result.output)  # one JSON document, nothing else
    assert payload["ok"] is False and payload["errors"] == 1
    (diagnostic,) = payload["diagnostics"]
    assert (diagnostic["kind"], diagnostic["id"], diagnostic["field"]) == ("tier", "pooled", "when")
    assert diagnostic["line"] == 37 and diagnostic["column"] == 8


@pytest.mark.parametrize("command", ["evaluate", "audit show"])
def test_json_lines_commands_print_the_errors_on_one_line(broken: Path, command: str) -> None:
    result = run_cli(*command.split(), "--playbooks", str(broken), "--format", "json")
    (line,) = result.output.splitlines()
    assert json.loads(line)["ok"] is False


def test_text_format_still_prints_the_diagnostics_as_text(broken: Path) -> None:
    result = run_cli("test", "--playbooks", str(broken))
    assert result.exit_code == 1
    assert "tiers.toml:37:8: tier 'pooled': when: unknown field 'account.ar'" in result.output
    assert result.output.rstrip().endswith("1 error, 0 warnings")


def test_history_reads_the_commits_not_the_broken_work_tree(broken: Path) -> None:
    result = run_cli("history", "--playbooks", str(broken), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.output)["commits_read"] == 1
