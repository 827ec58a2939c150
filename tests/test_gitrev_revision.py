"""A revision of the playbook directory loaded from git, like the working tree is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from csrules.gitrev import revision as revision_module
from csrules.gitrev.git import repository
from csrules.gitrev.revision import from_git, working_tree
from csrules.gitrev.rules import compare_rules
from tests.git_helpers import commit_all, edit, git, reference_repo


def test_a_committed_revision_loads_and_compiles_like_the_working_tree(tmp_path: Path) -> None:
    _, root = reference_repo(tmp_path)
    committed = from_git(repository(root), "HEAD")
    on_disk = working_tree(root)
    assert committed.ok and on_disk.ok
    assert committed.errors == [] and committed.problem is None
    assert committed.commit is not None and committed.label.startswith("HEAD (")
    assert committed.loaded is not None and on_disk.loaded is not None
    assert compare_rules(committed.loaded, on_disk.loaded).changes == []
    assert committed.compiled is not None
    assert [t.rule.id for t in committed.compiled.tiers] == ["high_touch", "pooled", "tech_touch"]


def test_the_revision_is_read_as_committed_not_as_in_the_work_tree(tmp_path: Path) -> None:
    _, root = reference_repo(tmp_path)
    edit(root / "tiers.toml", "account.arr >= 15000.0", "account.arr >= 20000.0")
    committed = from_git(repository(root), "HEAD")
    assert committed.loaded is not None and working_tree(root).loaded is not None
    (change,) = compare_rules(committed.loaded, working_tree(root).loaded).changes
    assert change.ref == "tier:pooled"


def test_a_revision_that_does_not_validate_says_so_with_git_paths(tmp_path: Path) -> None:
    repo, root = reference_repo(tmp_path)
    edit(root / "tiers.toml", "account.arr >= 15000.0", "account.ar >= 15000.0")
    (root / "broken.toml").write_text("[[segment]\n", encoding="utf-8")
    commit_all(repo, "broken")
    broken = from_git(repository(root), "HEAD")
    assert not broken.ok and broken.compiled is None
    assert broken.problem is not None and "do not validate (2 error(s))" in broken.problem
    rendered = sorted(d.render() for d in broken.errors)
    assert rendered[0].startswith("HEAD:playbooks/broken.toml:1:")
    assert rendered[1].startswith(
        "HEAD:playbooks/tiers.toml:37:8: tier 'pooled': when: unknown field"
    )
    assert "csrules-rev-" not in " ".join(rendered)  # never the temporary folder
    # what did load is still there, for the rule comparison
    assert broken.loaded is not None and len(broken.loaded.tiers) == 3


def test_a_revision_without_the_playbook_directory(tmp_path: Path) -> None:
    repo, root = reference_repo(tmp_path)
    git(repo, "checkout", "-q", "--orphan", "empty")
    git(repo, "rm", "-q", "-r", "--cached", ".")
    git(repo, "commit", "-q", "--allow-empty", "-m", "nothing yet")
    git(repo, "checkout", "-q", "-f", "main")
    missing = from_git(repository(root), "empty")
    assert missing.loaded is None and not missing.ok
    assert missing.problem is not None
    assert "has no playbook directory at playbooks (no csrules.toml there)" in missing.problem


def test_a_revision_with_too_many_files_is_not_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, root = reference_repo(tmp_path)
    monkeypatch.setattr(revision_module, "MAX_FILES", 5)
    crowded = from_git(repository(root), "HEAD")
    assert crowded.loaded is None
    assert crowded.problem is not None and "17 TOML files" in crowded.problem


def test_a_symbolic_link_is_reported_and_not_read(tmp_path: Path) -> None:
    repo, root = reference_repo(tmp_path)
    os.symlink("/etc/hostname", root / "host.toml")
    commit_all(repo, "a link")
    linked = from_git(repository(root), "HEAD")
    assert linked.ok
    (warning,) = linked.diagnostics
    assert str(warning.location) == "HEAD:playbooks/host.toml"
    assert "never followed" in warning.message
