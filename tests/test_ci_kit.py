"""The CI kit for real: the pre-commit hook in a temporary repository, and the documented
GitHub and GitLab workflows run locally, step by step, on a pull request's branch."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from csrules.cli.precommit import main as precommit_main
from csrules.cli.precommit import playbook_dirs
from tests.conftest import REPO
from tests.git_helpers import commit_all, edit, git, reference_repo

HOOKS = REPO / ".pre-commit-hooks.yaml"
CI_DOC = REPO / "docs" / "ci.md"
BIN = Path(sys.executable).parent  # csrules and csrules-pre-commit of this environment


def _yaml_blocks() -> list[Any]:
    text = CI_DOC.read_text(encoding="utf-8")
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def _block(key: str) -> dict[str, Any]:
    return next(b for b in _yaml_blocks() if isinstance(b, dict) and key in b)


# ---------------------------------------------------------------- the hook manifest


def test_the_hooks_run_the_installed_command() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load(HOOKS.read_text(encoding="utf-8"))}
    assert set(hooks) == {"csrules", "csrules-validate"}
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]
    for hook in hooks.values():
        assert hook["language"] == "python" and hook["files"] == r"\.toml$"
        assert hook["entry"].split()[0] in scripts
    documented = _block("repos")["repos"][0]["hooks"][0]["id"]
    assert documented in hooks


def test_changed_files_map_to_their_playbook_directories(tmp_path: Path) -> None:
    _, root = reference_repo(tmp_path)
    other = tmp_path / "repo" / "team-b"
    other.mkdir()
    (other / "csrules.toml").write_text("", encoding="utf-8")
    files = [
        str(root / "tiers.toml"),
        str(root / "tests" / "tiers.toml"),
        str(root / "rules" / "playbooks" / "risk.toml"),
        str(other / "csrules.toml"),
        str(tmp_path / "repo" / "pyproject.toml"),  # outside any playbook directory
    ]
    assert playbook_dirs(files) == [root.absolute(), other.absolute()]


def test_the_command_validates_then_tests_each_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, root = reference_repo(tmp_path)
    monkeypatch.chdir(repo)
    assert precommit_main(["playbooks/tiers.toml", "README.md"]) == 0
    out = capsys.readouterr().out
    assert "csrules validate --playbooks playbooks\n" in out
    assert "csrules test --playbooks playbooks\n" in out and "40 passed, 0 failed" in out
    edit(root / "tiers.toml", "account.arr >= 15000.0", "account.ar >= 15000.0")
    assert precommit_main(["playbooks/tiers.toml"]) == 1
    out = capsys.readouterr().out
    assert "tiers.toml:37:8: tier 'pooled': when: unknown field 'account.ar'" in out
    assert "csrules test" not in out  # a directory that does not validate is not tested
    assert precommit_main(["--validate-only", "notes.toml"]) == 0  # no playbook directory


# ------------------------------------------------------- pre-commit, for real


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """A git repository holding this csrules (source, pyproject, hook manifest), as a
    team's pre-commit config points at it; plus a pre-commit cache shared by the tests."""
    source = tmp_path_factory.mktemp("csrules-hook")
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__"))
    git(source, "init", "-q", "-b", "main")
    rev = commit_all(source, "csrules")
    return source, rev, tmp_path_factory.mktemp("pre-commit-home")


def _pre_commit(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(home),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }
    env.update({k: v for k, v in _git_env().items()})
    return subprocess.run(
        [str(BIN / "pre-commit"), *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=900,  # the first run installs the hook's environment
        env=env,
        check=False,
    )


def _git_env() -> dict[str, str]:
    return {
        "GIT_AUTHOR_NAME": "CS Ops",
        "GIT_AUTHOR_EMAIL": "cs-ops@example.com",
        "GIT_COMMITTER_NAME": "CS Ops",
        "GIT_COMMITTER_EMAIL": "cs-ops@example.com",
    }


def test_the_pre_commit_hook_blocks_a_commit_that_breaks_the_playbooks(
    tmp_path: Path, hook_repo: tuple[Path, str, Path]
) -> None:
    source, rev, home = hook_repo
    repo, root = reference_repo(tmp_path)
    config = _block("repos")
    config["repos"][0].update(repo=str(source), rev=rev)
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    commit_all(repo, "pre-commit config")
    installed = _pre_commit(repo, home, "install")
    assert installed.returncode == 0, installed.stdout + installed.stderr

    # a broken rule: the commit is refused, with the located error
    edit(root / "tiers.toml", "account.arr >= 15000.0", "account.ar >= 15000.0")
    git(repo, "add", "-A")
    head = git(repo, "rev-parse", "HEAD")
    refused = subprocess.run(
        ["git", "commit", "-m", "typo"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, **_git_env(), "PRE_COMMIT_HOME": str(home)},
        check=False,
    )
    assert refused.returncode != 0
    output = refused.stdout + refused.stderr
    assert "csrules validate + test" in output and "Failed" in output
    assert "tiers.toml:37:8: tier 'pooled': when: unknown field 'account.ar'" in output
    assert git(repo, "rev-parse", "HEAD") == head

    # a rule change that breaks a test: refused too, naming the test
    edit(root / "tiers.toml", "account.ar >= 15000.0", "account.arr >= 95000.0")
    git(repo, "add", "-A")
    failing = _pre_commit(repo, home, "run", "--files", "playbooks/tiers.toml")
    assert failing.returncode == 1
    assert "FAIL" in failing.stdout and "A mid-market account is pooled" in failing.stdout

    # fixed: the commit goes through; a TOML file outside the playbooks is not checked
    edit(root / "tiers.toml", "account.arr >= 95000.0", "account.arr >= 15000.0")
    (repo / "other.toml").write_text("not = 'playbooks'\n", encoding="utf-8")
    git(repo, "add", "-A")
    passing = _pre_commit(repo, home, "run", "--files", "playbooks/tiers.toml", "other.toml")
    assert passing.returncode == 0, passing.stdout
    assert "csrules validate + test" in passing.stdout and "Passed" in passing.stdout


# ------------------------------------------------ the documented workflows, locally


def _fake(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/usr/bin/env bash\n" + script, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def pull_request(tmp_path: Path) -> Path:
    """A clone with an ``origin/main`` and a branch that raises the pooled threshold."""
    (tmp_path / "origin").mkdir()
    origin, _ = reference_repo(tmp_path / "origin")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    git(clone, "checkout", "-q", "-b", "pooled-20k")
    edit(clone / "playbooks" / "tiers.toml", "account.arr >= 15000.0", "account.arr >= 20000.0")
    commit_all(clone, "pooled from 20K")
    return clone


CHECK_EXAMPLES = "20"
"""The workflows' `check` step runs as written, on fewer portfolios than its default 200
(as the documented CSRULES_CHECK_EXAMPLES lets a pipeline do): these tests are about the
steps and what they post, test_check.py is about what check finds."""


def _run(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_the_github_workflow_runs_and_comments_the_diff(pull_request: Path, tmp_path: Path) -> None:
    workflow = _block("jobs")
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as true
    assert triggers["pull_request"]["paths"] == ["playbooks/**"]
    assert workflow["permissions"]["pull-requests"] == "write"
    steps = workflow["jobs"]["csrules"]["steps"]
    assert steps[0]["with"]["fetch-depth"] == 0
    fakes = tmp_path / "bin"
    fakes.mkdir()
    calls = tmp_path / "gh-calls.txt"
    # gh: no earlier comment to edit (the fallback creates one); records what it posts
    _fake(
        fakes,
        "gh",
        f'echo "$*" >> {calls}\n'
        'if [[ " $* " == *" --edit-last "* ]]; then exit 1; fi\n'
        f'while [[ $# -gt 0 ]]; do if [[ $1 == --body-file ]]; then cp "$2" {tmp_path}/posted.md; fi; shift; done\n',
    )
    summary = tmp_path / "summary.md"
    env = {
        **os.environ,
        **{k: str(v) for k, v in workflow["env"].items()},
        "PATH": f"{fakes}{os.pathsep}{BIN}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_BASE_REF": "main",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_RUN_ID": "12345",
        "CSRULES_CHECK_EXAMPLES": CHECK_EXAMPLES,
    }
    outputs: dict[str, str] = {}
    for step in steps:
        if "run" not in step or step["name"] == "Install csrules":
            continue
        step_env = {
            k: re.sub(r"\$\{\{.*?\}\}", "42", str(v)) for k, v in step.get("env", {}).items()
        }
        done = _run(step["run"], pull_request, {**env, **step_env})
        assert done.returncode == 0, (step["name"], done.stdout, done.stderr)
        outputs[step["name"]] = done.stdout
    assert "40 passed, 0 failed" in outputs["Test"]
    assert "csrules test --coverage: 45 of 45 rules exercised (100.0%)" in outputs["Test"]
    assert (
        "::notice file=playbooks/tiers.toml,line=32,title=csrules diff::tier 'pooled' changed: when"
        in outputs["Diff"]
    )
    comment = (pull_request / "csrules-diff.md").read_text(encoding="utf-8")
    assert "| Tier changes | 8 accounts · ARR 141,400 |" in comment
    assert summary.read_text(encoding="utf-8") == comment
    assert (tmp_path / "posted.md").read_text(encoding="utf-8") == comment
    assert calls.read_text(encoding="utf-8").splitlines() == [
        "pr comment 42 --body-file csrules-diff.md --edit-last",
        "pr comment 42 --body-file csrules-diff.md",
    ]


def test_the_gitlab_job_runs_and_posts_the_diff(pull_request: Path, tmp_path: Path) -> None:
    job = _block("csrules")["csrules"]
    assert job["variables"]["GIT_DEPTH"] == "0"
    fakes = tmp_path / "bin"
    fakes.mkdir()
    calls = tmp_path / "curl-calls.txt"
    _fake(
        fakes,
        "curl",
        f'echo "$*" >> {calls}\n'
        f'for a in "$@"; do if [[ $a == body@* ]]; then cp "${{a#body@}}" {tmp_path}/posted.md; fi; done\n',
    )
    env = {
        **os.environ,
        **{k: str(v) for k, v in job["variables"].items()},
        "PATH": f"{fakes}{os.pathsep}{BIN}{os.pathsep}{os.environ['PATH']}",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_PIPELINE_ID": "7",
        "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
        "CI_PROJECT_ID": "3",
        "CI_MERGE_REQUEST_IID": "9",
        "CSRULES_BOT_TOKEN": "glpat-test",
        "CSRULES_CHECK_EXAMPLES": CHECK_EXAMPLES,
    }
    for line in job["script"]:
        if "pip install" in line:
            continue
        done = _run(line, pull_request, env)
        assert done.returncode == 0, (line, done.stdout, done.stderr)
    (call,) = calls.read_text(encoding="utf-8").splitlines()
    assert "https://gitlab.example.com/api/v4/projects/3/merge_requests/9/notes" in call
    assert "PRIVATE-TOKEN: glpat-test" in call
    comment = (pull_request / "csrules-diff.md").read_text(encoding="utf-8")
    assert "| Tier changes | 8 accounts · ARR 141,400 |" in comment
    assert (tmp_path / "posted.md").read_text(encoding="utf-8") == comment
