"""Reading a revision of the playbook directory from a real git repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from csrules.gitrev.git import (
    Repository,
    RevisionError,
    export,
    has_directory,
    repository,
    resolve,
)
from tests.git_helpers import commit_all, git, reference_repo


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_repository_names_the_top_and_the_prefix_of_the_playbook_directory(
    tmp_path: Path,
) -> None:
    repo, root = reference_repo(tmp_path, folder="ops/playbooks")
    found = repository(root)
    assert found.top == repo.resolve()
    assert found.prefix == "ops/playbooks/"
    assert repository(repo).prefix == ""


def test_a_folder_outside_any_repository_is_a_usage_error(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    with pytest.raises(RevisionError) as caught:
        repository(folder)
    assert caught.value.exit_code == 2
    assert "is not inside a git repository" in caught.value.message


def test_an_unknown_revision_says_what_to_do(tmp_path: Path) -> None:
    _, root = reference_repo(tmp_path)
    with pytest.raises(RevisionError) as caught:
        resolve(repository(root), "origin/main")
    assert "unknown revision 'origin/main'" in caught.value.message
    assert "git fetch" in caught.value.message


@pytest.mark.parametrize("revision", ["--output=/tmp/x", "-p", "", "HEAD\n--all"])
def test_a_revision_that_looks_like_an_option_is_refused(tmp_path: Path, revision: str) -> None:
    _, root = reference_repo(tmp_path)
    with pytest.raises(RevisionError) as caught:
        resolve(repository(root), revision)
    assert "is not a revision" in caught.value.message


def test_a_shallow_clone_hints_at_fetching_the_history(tmp_path: Path) -> None:
    origin, _ = reference_repo(tmp_path)
    commit_all(origin, "second")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", str(clone))
    with pytest.raises(RevisionError) as caught:
        resolve(repository(clone / "playbooks"), "HEAD~1")
    assert "shallow" in caught.value.message and "fetch-depth: 0" in caught.value.message


def test_export_writes_the_toml_files_of_the_revision_as_committed(tmp_path: Path) -> None:
    repo, root = reference_repo(tmp_path)
    committed = _tree(root)
    (root / "tiers.toml").write_text("changed in the work tree", encoding="utf-8")
    (root / "new.toml").write_text("[[segment]]\n", encoding="utf-8")
    dest = tmp_path / "out"
    dest.mkdir()
    tree = export(repository(root), "HEAD", dest)
    written = _tree(dest)
    expected = {k: v for k, v in committed.items() if k.endswith(".toml")}
    assert written == expected
    assert sorted(tree.files) == sorted(expected)
    assert tree.listed == len(expected) and not tree.oversized and not tree.skipped
    # the data file (not TOML) is not exported, the work tree keeps its edits
    assert "data/accounts.jsonl" not in written
    assert (root / "tiers.toml").read_text(encoding="utf-8") == "changed in the work tree"
    assert git(repo, "status", "--porcelain") == " M playbooks/tiers.toml\n?? playbooks/new.toml\n"


def test_export_never_touches_the_index_or_the_checked_out_branch(tmp_path: Path) -> None:
    repo, root = reference_repo(tmp_path)
    first = git(repo, "rev-parse", "HEAD").strip()
    (root / "segments.toml").write_text("# staged edit\n", encoding="utf-8")
    git(repo, "add", "playbooks/segments.toml")
    index_before = (repo / ".git" / "index").read_bytes()
    dest = tmp_path / "out"
    dest.mkdir()
    export(repository(root), first, dest)
    assert (repo / ".git" / "index").read_bytes() == index_before
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert (root / "segments.toml").read_text(encoding="utf-8") == "# staged edit\n"


def test_symbolic_links_are_never_followed(tmp_path: Path) -> None:
    repo, root = reference_repo(tmp_path)
    secret = tmp_path / "secret.toml"
    secret.write_text('token = "hunter2"\n', encoding="utf-8")
    os.symlink(secret, root / "linked.toml")
    commit_all(repo, "a link")
    dest = tmp_path / "out"
    dest.mkdir()
    tree = export(repository(root), "HEAD", dest)
    assert tree.skipped == ["linked.toml"]
    assert not (dest / "linked.toml").exists()
    assert all(b"hunter2" not in p.read_bytes() for p in dest.rglob("*.toml"))


def test_hidden_folders_and_other_files_are_left_out(tmp_path: Path) -> None:
    repo, root = reference_repo(tmp_path)
    (root / ".drafts").mkdir()
    (root / ".drafts" / "wip.toml").write_text("not loaded\n", encoding="utf-8")
    (root / "notes.md").write_text("# notes\n", encoding="utf-8")
    commit_all(repo, "drafts")
    dest = tmp_path / "out"
    dest.mkdir()
    tree = export(repository(root), "HEAD", dest)
    assert not any(f.startswith(".drafts") or f.endswith(".md") for f in tree.files)


def test_a_huge_blob_is_never_read_but_keeps_its_size(tmp_path: Path) -> None:
    repo, root = reference_repo(tmp_path)
    (root / "big.toml").write_bytes(b"# " + b"x" * 500_000 + b"\n")
    commit_all(repo, "a big file")
    dest = tmp_path / "out"
    dest.mkdir()
    tree = export(repository(root), "HEAD", dest, max_bytes=100_000)
    assert tree.oversized == {"big.toml": 500_003}
    assert (dest / "big.toml").stat().st_size == 500_003
    assert b"x" not in (dest / "big.toml").read_bytes()


def test_past_the_file_limit_nothing_is_written(tmp_path: Path) -> None:
    _, root = reference_repo(tmp_path)
    dest = tmp_path / "out"
    dest.mkdir()
    tree = export(repository(root), "HEAD", dest, max_files=3)
    assert tree.listed == 17
    assert tree.files == [] and not any(dest.iterdir())


def test_file_names_with_spaces_and_unicode_are_read(tmp_path: Path) -> None:
    repo, root = reference_repo(tmp_path)
    (root / "rules" / "équipe EU").mkdir(parents=True)
    (root / "rules" / "équipe EU" / "règles.toml").write_text("# é\n", encoding="utf-8")
    commit_all(repo, "unicode")
    dest = tmp_path / "out"
    dest.mkdir()
    tree = export(repository(root), "HEAD", dest)
    assert "rules/équipe EU/règles.toml" in tree.files
    assert (dest / "rules" / "équipe EU" / "règles.toml").read_text(encoding="utf-8") == "# é\n"


def test_has_directory_follows_the_history_of_the_playbook_directory(tmp_path: Path) -> None:
    repo, root = reference_repo(tmp_path)
    first = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "rm", "-q", "-r", "playbooks")
    commit_all(repo, "removed")
    root.mkdir()  # the folder the user points at still exists, empty
    nested = Repository(repo.resolve(), "playbooks/")
    assert has_directory(nested, first) is True
    assert has_directory(nested, "HEAD") is False
    assert has_directory(repository(repo), first) is False  # no csrules.toml at the top
