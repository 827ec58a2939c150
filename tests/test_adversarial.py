"""The adversarial cases: what an attacker, a careless export or a new user's first day
throws at csrules, each pinned by a test that fails without its fix.

Nothing lost (an oversized CSV cell, output written onto the input, a far-future
as-of, lax types in rule files), nothing leaked (secrets of every shape), nothing hung
(comprehension bombs, constant chains, template bombs, /dev/zero and FIFOs, SIGTERM
during apply). Each section below belongs to one area of the code.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

# `x as x` keeps one import per line (the sorter would merge plain ones) for easy merges
from tests.conftest import Result as Result
from tests.conftest import run_cli as run_cli
from tests.git_helpers import AS_OF as AS_OF
from tests.git_helpers import commit_all as commit_all
from tests.git_helpers import edit as edit
from tests.git_helpers import reference_repo as reference_repo

# --- snapshots and outputs: oversized CSV cell, output onto input ------------------------


# (end of snapshots and outputs)


# --- rule files and templates: lax types, template bomb, /dev/zero and FIFO --------------


# (end of rule files and templates)


# --- evaluation: comprehension bomb, constant chain ---------------------------------------


# (end of evaluation)


# --- runs: far-future as-of, SIGTERM during apply, crashed holders ------------------------


# (end of runs)


# --- secrets of every shape ---------------------------------------------------------------


# (end of secrets)


# --- pull-request diff: hostile account names, revisions and revisions' files -----------

_HOSTILE_NAMES = [
    "@acme/everyone please review",
    "<img src=x onerror=alert(1)>",
    "Pipe | Co | Ltd",
    "Tick `code` Co",
    "Line\n# Heading Inc",
    "[click](https://evil.example)",
    "<!-- end --> Co",
]


def _diff_cli(root: Path, *args: str) -> Result:
    return run_cli("diff", "--playbooks", str(root), "--as-of", AS_OF, *args)


def _outside_code_spans(markdown: str) -> str:
    return re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", markdown)


def test_hostile_account_names_stay_inert_in_the_pull_request_comment(
    tmp_path: Path,
) -> None:
    repo, root = reference_repo(tmp_path)
    snapshot = root / "data" / "accounts.jsonl"
    rows = [json.loads(line) for line in snapshot.read_text(encoding="utf-8").splitlines()]
    for index, row in enumerate(rows):
        row["name"] = _HOSTILE_NAMES[index % len(_HOSTILE_NAMES)]
    snapshot.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    commit_all(repo, "hostile names")
    edit(root / "tiers.toml", "account.arr >= 15000.0", "account.arr >= 20000.0")
    result = _diff_cli(root, "--base", "HEAD", "--format", "markdown", "--top", "100")
    assert result.exit_code == 0, result.stderr
    comment: str = result.output
    shown = [
        name for name in _HOSTILE_NAMES if " ".join(name.split()) in comment.replace("\\|", "|")
    ]
    assert len(shown) >= 5  # the names are in the comment ...
    bare = _outside_code_spans(comment)
    for marker in ("@acme", "<img", "onerror", "# Heading", "[click]", "<!-- end", "Pipe"):
        assert marker not in bare, marker  # ... but only inside code spans
    lines = comment.splitlines()
    for number, line in enumerate(lines):  # every table row keeps its number of cells
        if line.startswith("|") and number and lines[number - 1].startswith("|"):
            cells = len(re.findall(r"(?<!\\)\|", line))
            assert cells == len(re.findall(r"(?<!\\)\|", lines[number - 1])), line


def test_a_revision_written_as_an_option_is_refused(tmp_path: Path) -> None:
    _, root = reference_repo(tmp_path)
    target = tmp_path / "pwned"
    for revision in (f"--output={target}", "--all", "-c"):
        result = _diff_cli(root, f"--base={revision}")
        assert result.exit_code == 2
        assert "is not a revision" in result.stderr
    assert not target.exists()


def test_a_link_in_a_revision_never_reads_the_file_it_points_to(tmp_path: Path) -> None:
    repo, root = reference_repo(tmp_path)
    outside = tmp_path / "private.toml"
    outside.write_text('[[segment]]\nid = "leak"\nwhen = "true"\ndescription = "TOP-SECRET-PLAN"\n')
    (root / "linked.toml").symlink_to(outside)
    commit_all(repo, "a link to a file outside the repository")
    (root / "linked.toml").unlink()
    for fmt in ("text", "json", "markdown", "github"):
        result = _diff_cli(root, "--base", "HEAD", "--format", fmt)
        assert result.exit_code == 0
        assert "TOP-SECRET-PLAN" not in result.output + result.stderr
    warning = _diff_cli(root, "--base", "HEAD", "--format", "json")
    assert "leak" not in warning.output


def test_secrets_in_either_revision_never_appear_in_the_diff(tmp_path: Path) -> None:
    repo, root = reference_repo(tmp_path)
    edit(
        root / "csrules.toml",
        'path = "out/slack.jsonl"',
        'path = "out/slack.jsonl"\ntoken = "xoxb-literal-9f8e7d"',
    )
    commit_all(repo, "a secret committed by mistake")
    edit(root / "csrules.toml", 'token = "xoxb-literal-9f8e7d"', 'token = "${SLACK_TOKEN}"')
    edit(
        root / "csrules.toml",
        'url = "sqlite:///.csrules/state.db"',
        'url = "postgresql://csrules:pw-4c3b2a@127.0.0.1:9/cs"',
    )
    for fmt in ("text", "json", "markdown", "github"):
        result = _diff_cli(root, "--base", "HEAD", "--format", fmt)
        assert result.exit_code == 0, result.stderr
        everything = result.output + result.stderr
        assert "xoxb-literal-9f8e7d" not in everything and "pw-4c3b2a" not in everything
    report = json.loads(_diff_cli(root, "--base", "HEAD", "--format", "json").output)
    assert "cannot be read" in report["workload"]["cases_note"]  # the state is unreachable


def test_a_huge_file_in_a_revision_is_reported_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import csrules.gitrev.git as git_module

    repo, root = reference_repo(tmp_path)
    (root / "huge.toml").write_bytes(b"# " + b"x" * 2_000_000 + b"\n")
    commit_all(repo, "a huge file")
    (root / "huge.toml").unlink()
    monkeypatch.setattr(git_module, "MAX_BLOB_BYTES", 100_000)
    result = _diff_cli(root, "--base", "HEAD", "--format", "json")
    assert result.exit_code == 0
    base = json.loads(result.output)["base"]
    (error,) = base["errors"]
    assert error["file"] == "HEAD:playbooks/huge.toml"
    assert "2000003 bytes, over the limit" in error["message"]


# (end of pull-request diff)
